//! Sharing results: the canary test (unique secret values in every place a secret can go,
//! then every output searched — text, JSON, markdown, the unpacked bundle, a trace log),
//! the bundle checked against its README schema, and the shell integration (bash completion
//! loads, the man page renders with `man -l`). Runs against a real Mosquitto and microsocks.

mod common;

use common::*;
use mqtt_doctor::lab::pki::LabPki;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_mqtt-doctor");

/// The password is an Azure-style SAS token; every other secret has its own unique value.
const PASSWORD: &str = "SharedAccessSignature sr=hub.azure-devices.net%2Fdevices%2Fdev1&sig=CanarySig7Qw3&se=1999999999";
const PASSPHRASE: &str = "canary-passphrase-5b1d";
const PROXY_PASSWORD: &str = "canary-proxy-pw-93ac";
const HEADER_VALUE: &str = "Bearer canary-header-token-71fe";
const QUERY_SIGNATURE: &str = "canaryquerysig0c4d";
const QUERY_TOKEN: &str = "canarysecuritytoken2e88";
const QUERY_CREDENTIAL: &str = "AKIACANARYCRED55";
/// The Azure user name: not secret, and kept (hub and device).
const USERNAME: &str = "hub.azure-devices.net/dev1/?api-version=2021-04-12";

struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn microsocks(dir: &Path, port: u16) -> Daemon {
    let log = std::fs::File::create(dir.join("microsocks.log")).unwrap();
    let child = Command::new("microsocks")
        .args(["-i", "127.0.0.1", "-p", &port.to_string()])
        .args(["-u", "bob", "-P", PROXY_PASSWORD])
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("microsocks must be installed (scripts/test installs it)");
    let d = Daemon(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "microsocks did not open {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    d
}

struct Canary {
    _m: Mosquitto,
    _socks: Daemon,
    dir: tempfile::TempDir,
    args: Vec<String>,
    key_body: String,
}

/// Mosquitto on wss with a password file, microsocks with a password in front of it, an
/// encrypted client key: a check with every kind of secret that passes.
fn canary() -> Canary {
    let mdir = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pki = LabPki::generate(time::OffsetDateTime::now_utc()).unwrap();
    let d = mdir.path().to_path_buf();
    let ca = write(&d, "ca.pem", &pki.root.issued.cert_pem());
    let chain = write(
        &d,
        "chain.pem",
        &format!(
            "{}{}",
            pki.good.cert_pem(),
            pki.intermediate.issued.cert_pem()
        ),
    );
    let key = write(&d, "server.key", &pki.good.key_pem());
    let client_cert = write(dir.path(), "client.pem", &pki.client.cert_pem());
    let plain_key = write(dir.path(), "client-plain.key", &pki.client.key_pem());
    let client_key = dir.path().join("client.key");
    let st = Command::new("openssl")
        .args(["pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in"])
        .arg(&plain_key)
        .arg("-out")
        .arg(&client_key)
        .args(["-passout", &format!("pass:{PASSPHRASE}")])
        .status()
        .expect("openssl must be installed");
    assert!(st.success());
    std::fs::remove_file(&plain_key).unwrap();
    let key_body: String = pki
        .client
        .key_pem()
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let pwfile = d.join("passwords");
    let st = Command::new("mosquitto_passwd")
        .args(["-c", "-b"])
        .arg(&pwfile)
        .args([USERNAME, PASSWORD])
        .status()
        .expect("mosquitto_passwd must be installed");
    assert!(st.success());
    let (plain, wss, socks) = (free_port(), free_port(), free_port());
    // Mosquitto 2.0 starts no WebSocket listener without a plain one beside it.
    let config = format!(
        "listener {plain} 127.0.0.1\nallow_anonymous false\n\nlistener {wss} 127.0.0.1\nprotocol websockets\nallow_anonymous false\npassword_file {}\ncertfile {}\nkeyfile {}\n",
        pwfile.display(),
        chain.display(),
        key.display()
    );
    let m = Mosquitto::start(mdir, &config, &[plain, wss]);
    let s = microsocks(dir.path(), socks);
    let url = format!(
        "wss://127.0.0.1:{wss}/mqtt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={QUERY_CREDENTIAL}&X-Amz-Signature={QUERY_SIGNATURE}&X-Amz-Security-Token={QUERY_TOKEN}"
    );
    let args: Vec<String> = [
        url.as_str(),
        "--ca",
        ca.to_str().unwrap(),
        "--cert",
        client_cert.to_str().unwrap(),
        "--key",
        client_key.to_str().unwrap(),
        "--passphrase-env",
        "CANARY_PASSPHRASE",
        "-u",
        USERNAME,
        "--password-env",
        "CANARY_PASSWORD",
        "--proxy",
        &format!("socks5://bob@127.0.0.1:{socks}"),
        "--proxy-password-env",
        "CANARY_PROXY_PASSWORD",
        "-H",
        &format!("X-Api-Key: {HEADER_VALUE}"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    Canary {
        _m: m,
        _socks: s,
        dir,
        args,
        key_body,
    }
}

fn env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("CANARY_PASSWORD", PASSWORD),
        ("CANARY_PASSPHRASE", PASSPHRASE),
        ("CANARY_PROXY_PASSWORD", PROXY_PASSWORD),
    ]
}

fn run_in(dir: &Path, args: &[String]) -> (i32, String, String) {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir).args(args);
    for (k, v) in env() {
        cmd.env(k, v);
    }
    cmd.env_remove("RUST_LOG").env("NO_COLOR", "1");
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The files of a .tar.gz, with their modes.
fn unpack(path: &Path) -> Vec<(String, u32, u64, String)> {
    let f = std::fs::File::open(path).unwrap();
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(f));
    let mut out = Vec::new();
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().display().to_string();
        let mode = e.header().mode().unwrap();
        let mtime = e.header().mtime().unwrap();
        let mut text = String::new();
        e.read_to_string(&mut text).unwrap();
        out.push((name, mode, mtime, text));
    }
    out
}

fn assert_no_secret(what: &str, text: &str, extra: &[&str]) {
    let sig = "CanarySig7Qw3";
    for secret in [
        PASSWORD,
        sig,
        PASSPHRASE,
        PROXY_PASSWORD,
        HEADER_VALUE,
        "canary-header-token-71fe",
        QUERY_SIGNATURE,
        QUERY_TOKEN,
        QUERY_CREDENTIAL,
    ]
    .iter()
    .chain(extra)
    {
        assert!(
            !text.contains(secret),
            "{what} contains the secret {secret:?}:\n{text}"
        );
    }
}

#[test]
fn no_secret_reaches_any_output() {
    let c = canary();
    let log = c.dir.path().join("trace.log");
    let mut outputs: Vec<(String, String)> = Vec::new();
    for format in ["text", "json", "markdown"] {
        let mut args = vec!["check".to_string()];
        args.extend(c.args.iter().cloned());
        args.extend([
            "--format".into(),
            format.into(),
            "-v".into(),
            "--log-file".into(),
            log.display().to_string(),
            "--log-level".into(),
            "trace".into(),
        ]);
        let (code, out, err) = run_in(c.dir.path(), &args);
        assert_eq!(
            code, 0,
            "the canary check must pass ({format}):\n{out}\n{err}"
        );
        outputs.push((format!("check --format {format}"), out));
        outputs.push((format!("check --format {format} (stderr)"), err));
    }
    let bundle = c.dir.path().join("case.tar.gz");
    let mut args = vec!["bundle".to_string()];
    args.extend(c.args.iter().cloned());
    args.extend(["-o".into(), bundle.display().to_string()]);
    args.extend([
        "--log-file".into(),
        log.display().to_string(),
        "--log-level".into(),
        "trace".into(),
    ]);
    let (code, out, err) = run_in(c.dir.path(), &args);
    assert_eq!(code, 0, "{out}\n{err}");
    outputs.push(("bundle".into(), out.clone()));
    let files = unpack(&bundle);
    for (name, _, _, text) in &files {
        outputs.push((format!("bundle {name}"), text.clone()));
    }
    let trace = std::fs::read_to_string(&log).unwrap();
    // The trace log must really be at trace level: packets and byte counts of the stages.
    assert!(
        trace.contains("mqtt packet sent") && trace.contains("CONNECT"),
        "{trace}"
    );
    assert!(
        trace.contains("mqtt packet received") && trace.contains("SUBACK"),
        "{trace}"
    );
    assert!(trace.contains("bytes="), "{trace}");
    outputs.push(("trace log".into(), trace));
    for (what, text) in &outputs {
        assert_no_secret(what, text, &[c.key_body.as_str()]);
    }
    // What is not secret stays: the Azure user name's hub and device, query names.
    let profile = &files.iter().find(|f| f.0 == "profile.toml").unwrap().3;
    assert!(profile.contains("hub.azure-devices.net/dev1/"), "{profile}");
    assert!(profile.contains("X-Amz-Signature=[redacted]"), "{profile}");
    assert!(profile.contains("X-Api-Key"), "{profile}");
    let reproduce = &files.iter().find(|f| f.0 == "reproduce.sh").unwrap().3;
    assert!(reproduce.contains("$CANARY_PASSWORD"), "{reproduce}");
}

/// The README's bundle table, file by file.
#[test]
fn the_bundle_matches_its_readme_schema() {
    let c = canary();
    let bundle = c.dir.path().join("b.tar.gz");
    let mut args = vec!["bundle".to_string()];
    args.extend(c.args.iter().cloned());
    args.extend(["-o".into(), bundle.display().to_string()]);
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let (code, out, err) = run_in(c.dir.path(), &args);
    assert_eq!(code, 0, "{out}\n{err}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&bundle).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the bundle file itself is 0600");
    let files = unpack(&bundle);
    let names: Vec<&str> = files.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "README.txt",
            "report.json",
            "report.md",
            "chain.pem",
            "profile.toml",
            "environment.json",
            "reproduce.sh"
        ]
    );
    for (name, mode, mtime, _) in &files {
        assert_eq!(*mode, 0o600, "{name}");
        assert!(
            *mtime >= before && *mtime <= before + 60,
            "{name}: mtime {mtime}"
        );
        // The CLI prints the list of files.
        assert!(out.contains(name.as_str()), "{name} not listed:\n{out}");
    }
    let file = |n: &str| files.iter().find(|f| f.0 == n).unwrap().3.clone();
    for name in &names[1..] {
        assert!(
            file("README.txt").contains(name),
            "README.txt does not describe {name}"
        );
    }
    let report: serde_json::Value = serde_json::from_str(&file("report.json")).unwrap();
    assert_eq!(report["verdict"]["ok"], true);
    assert_eq!(report["target"]["transport"], "wss");
    assert!(file("report.md").starts_with("# mqtt-doctor report: "));
    assert!(file("report.md").contains("| ✔ | tls |"));
    let pem = file("chain.pem");
    assert_eq!(
        pem.matches("-----BEGIN CERTIFICATE-----").count(),
        2,
        "{pem}"
    );
    let profile: toml::Table = toml::from_str(&file("profile.toml")).unwrap();
    assert_eq!(profile["version"].as_integer(), Some(1));
    let checked = &profile["profiles"]["checked"];
    assert_eq!(checked["password"]["env"].as_str(), Some("CANARY_PASSWORD"));
    assert_eq!(
        checked["ws_headers"]["X-Api-Key"].as_str(),
        Some("[redacted]")
    );
    let env: serde_json::Value = serde_json::from_str(&file("environment.json")).unwrap();
    for key in [
        "version",
        "git_commit",
        "build_date",
        "rustls",
        "crypto_provider",
        "os",
        "arch",
    ] {
        assert!(env["tool"][key].is_string(), "tool.{key}: {env}");
    }
    assert_eq!(env["tool"]["crypto_provider"], "ring");
    assert_eq!(env["tool"]["os"], std::env::consts::OS);
    assert!(env["resolver"]["nameservers"].is_array(), "{env}");
    assert_eq!(env["resolver"]["source"], "/etc/resolv.conf");
    assert!(env["clock"]["local_unix"].as_i64().unwrap() >= before as i64);
    // Mosquitto's WebSocket upgrade answer carries no Date header: the broker clock is
    // unknown and said to be.
    assert!(env["clock"].get("broker").is_some(), "{env}");
    let stages = env["timings"]["stages"].as_array().unwrap();
    assert_eq!(stages.len(), report["stages"].as_array().unwrap().len());
    assert!(env["timings"]["total_ms"].is_u64());
    let reproduce = file("reproduce.sh");
    assert!(reproduce.starts_with("#!/bin/sh\n"), "{reproduce}");
    assert!(
        reproduce.contains("mosquitto_sub -h 127.0.0.1"),
        "{reproduce}"
    );
    assert!(reproduce.contains("openssl s_client"), "{reproduce}");
}

#[test]
fn redact_hosts_gives_one_placeholder_per_name_in_every_file() {
    let c = canary();
    let bundle = c.dir.path().join("h.tar.gz");
    let mut args = vec!["bundle".to_string()];
    args.extend(c.args.iter().cloned());
    args.extend([
        "-o".into(),
        bundle.display().to_string(),
        "--redact-hosts".into(),
    ]);
    let (code, out, err) = run_in(c.dir.path(), &args);
    assert_eq!(code, 0, "{out}\n{err}");
    let files = unpack(&bundle);
    assert!(
        !files.iter().any(|f| f.0 == "chain.pem"),
        "certificates name hosts: no chain with --redact-hosts"
    );
    for (name, _, _, text) in &files {
        assert!(!text.contains("127.0.0.1"), "{name}:\n{text}");
        assert!(
            !text.contains("mqtt-doctor lab"),
            "{name} keeps a subject:\n{text}"
        );
    }
    let report = &files.iter().find(|f| f.0 == "report.json").unwrap().3;
    let json: serde_json::Value = serde_json::from_str(report).unwrap();
    let peer = json["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == "tcp")
        .unwrap()["facts"]["peer"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(peer.starts_with("ip-"), "{peer}");
    let ip = peer.split(':').next().unwrap();
    let md = &files.iter().find(|f| f.0 == "report.md").unwrap().3;
    assert!(md.contains(ip), "the same placeholder in report.md:\n{md}");
}

#[test]
fn bash_loads_the_completion_script() {
    let out = Command::new("bash")
        .args([
            "-c",
            &format!("source <({BIN} completions bash) && complete -p mqtt-doctor"),
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("mqtt-doctor"), "{stdout}");
}

fn man_renders(args: &[&str], expect: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let (code, page, err) = run(args, &[]);
    assert_eq!(code, 0, "{err}");
    let file: PathBuf = dir.path().join("page.1");
    std::fs::write(&file, page).unwrap();
    let out = Command::new("man")
        .arg("-l")
        .arg(&file)
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .env("MANWIDTH", "100")
        .output()
        .expect("man must be installed (scripts/test installs man-db)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for e in expect {
        assert!(text.contains(e), "{e:?} not in the rendered page:\n{text}");
    }
}

#[test]
fn the_man_pages_render_with_man() {
    man_renders(&["man"], &["mqtt-doctor", "SYNOPSIS", "bundle", "--color"]);
    man_renders(
        &["man", "check"],
        &["mqtt-doctor-check", "--format", "--ca"],
    );
    man_renders(
        &["man", "profile", "add"],
        &["mqtt-doctor-profile-add", "--key-to-keyring"],
    );
    let (code, _, err) = run(&["man", "chek"], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("no subcommand \"chek\""), "{err}");
}

#[test]
fn a_misspelt_command_gets_did_you_mean() {
    let (code, _, err) = run(&["chek", "mqtt://127.0.0.1:1"], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("did you mean `mqtt-doctor check`"), "{err}");
    let (code, _, err) = run(&["--ca", "ca.pem", "chek", "mqtt://127.0.0.1:1"], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("did you mean `mqtt-doctor check`"), "{err}");
    let (code, _, err) = run(&["chek"], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("did you mean `mqtt-doctor check`"), "{err}");
    let (code, _, err) = run(&["explain", "tls.cert_expird"], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("did you mean tls.cert_expired"), "{err}");
    assert!(!err.contains("--help"), "no generic hint: {err}");
}

#[test]
fn explain_prints_a_cause_in_full() {
    let (code, out, _) = run(&["explain", "tls.incomplete_chain"], &[]);
    assert_eq!(code, 0);
    for words in [
        "tls.incomplete_chain",
        "What triggers it",
        "neighbours",
        "caIssuers",
        "Mosquitto:",
        "EMQX:",
        "HiveMQ:",
    ] {
        assert!(out.contains(words), "{words:?}:\n{out}");
    }
    // 0x8A is Banned in the OASIS MQTT 5 CONNACK table.
    let (_, out, _) = run(&["explain", "mqtt.banned"], &[]);
    assert!(out.contains("0x8A"), "{out}");
}

#[test]
fn causes_in_markdown_is_a_table_with_stage_summary_and_remedy() {
    let (code, out, _) = run(&["causes", "--format", "markdown"], &[]);
    assert_eq!(code, 0);
    assert!(
        out.contains("| Cause | Stage | Summary | Remedy |"),
        "{out}"
    );
    assert!(out.contains("| `tls.cert_expired` | tls | "), "{out}");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("| `")).count(),
        mqtt_doctor::explain::CATALOG.len()
    );
}

#[test]
fn version_names_commit_date_rustls_and_provider() {
    let (code, out, _) = run(&["--version"], &[]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with(&format!("mqtt-doctor {}\n", env!("CARGO_PKG_VERSION"))),
        "{out}"
    );
    for words in [
        "commit:",
        "built:",
        "rustls:          0.23.",
        "crypto provider: ring",
    ] {
        assert!(out.contains(words), "{words:?}:\n{out}");
    }
}

#[test]
fn colour_follows_color_and_no_color() {
    // A refused port: the verdict is a failure either way; only the escapes differ.
    let port = free_port().to_string();
    let url = format!("mqtt://127.0.0.1:{port}");
    let (_, plain, _) = run(&["check", &url, "--color", "never"], &[]);
    assert!(!plain.contains('\u{1b}'), "{plain}");
    let (_, coloured, _) = run(&["check", &url, "--color", "always"], &[]);
    assert!(
        coloured.contains("\u{1b}[31m✘ TCP stage failed:\u{1b}[0m"),
        "{coloured}"
    );
    // auto: stdout is a pipe here, so no colour.
    let (_, auto, _) = run(&["check", &url], &[]);
    assert!(!auto.contains('\u{1b}'), "{auto}");
    // The words and symbols are the same without colour.
    let strip = coloured
        .replace("\u{1b}[31m", "")
        .replace("\u{1b}[32m", "")
        .replace("\u{1b}[2m", "")
        .replace("\u{1b}[33m", "")
        .replace("\u{1b}[0m", "");
    assert_eq!(strip.lines().count(), plain.lines().count());
    // The text report on a pipe has the stage table.
    assert!(plain.contains("✘ tcp "), "{plain}");
    assert!(plain.contains("– tls "), "{plain}");
}

/// The lab's WebSocket broker answers the upgrade with a Date header, as RFC 9110 servers do:
/// the bundle records the broker's clock next to the local one.
#[tokio::test]
async fn the_bundle_has_the_broker_clock_from_a_websocket_upgrade() {
    let lab = mqtt_doctor::lab::Lab::start().await.unwrap();
    let s = lab
        .scenarios()
        .iter()
        .find(|s| s.id == "ok.ws")
        .expect("the lab has ok.ws");
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("ws.tar.gz");
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.arg("bundle")
        .arg(&s.url)
        .args(&s.args)
        .arg("-o")
        .arg(&bundle);
    let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files = unpack(&bundle);
    let env = &files.iter().find(|f| f.0 == "environment.json").unwrap().3;
    let env: serde_json::Value = serde_json::from_str(env).unwrap();
    let broker = env["clock"]["broker"].as_str().expect("the broker's Date");
    assert!(broker.ends_with(" GMT"), "{broker}");
    let skew = env["clock"]["broker_minus_local_secs"].as_i64().unwrap();
    assert!(skew.abs() <= 5, "same machine, same clock: {skew} s");
    let report = &files.iter().find(|f| f.0 == "report.json").unwrap().3;
    let report: serde_json::Value = serde_json::from_str(report).unwrap();
    let ws = report["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == "ws")
        .unwrap();
    assert_eq!(ws["facts"]["server_date"].as_str(), Some(broker));
}
