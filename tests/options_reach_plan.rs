//! Every connection option of the command line reaches the Plan (parsed by the real clap
//! definitions, through the same core path as a profile), connection options written before
//! the subcommand apply or are refused, and `profile add` stores the options it accepts.

mod common;

use common::run;
use mqtt_doctor::cli::{Cli, Command, build_plan};
use mqtt_doctor::diagnose::{MqttVersion, Plan, ProxyKind};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;

/// `check URL ARGS…` → plan, with `env` as the environment.
fn plan_env(url: &str, args: &[&str], env: &[(&str, &str)]) -> Plan {
    let mut argv = vec!["mqtt-doctor", "check", url];
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_from(argv).expect("arguments parse");
    let Some(Command::Check(c)) = cli.command else {
        panic!("not a check command")
    };
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let lookup = move |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    build_plan(url, &c.conn, &lookup).unwrap_or_else(|e| panic!("{args:?}: {}", e.0))
}

fn plan(url: &str, args: &[&str]) -> Plan {
    plan_env(url, args, &[])
}

/// A self-signed certificate and its key in a temp dir.
struct Files {
    dir: tempfile::TempDir,
    cert_der: Vec<u8>,
}

impl Files {
    fn new() -> Files {
        let made = rcgen::generate_simple_self_signed(vec!["broker.test".to_string()]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cert.pem"), made.cert.pem()).unwrap();
        std::fs::write(dir.path().join("key.pem"), made.signing_key.serialize_pem()).unwrap();
        let out = std::process::Command::new("openssl")
            .args([
                "pkcs12",
                "-export",
                "-in",
                "cert.pem",
                "-inkey",
                "key.pem",
                "-out",
                "id.p12",
                "-passout",
                "pass:s3cret",
            ])
            .current_dir(dir.path())
            .output()
            .expect("openssl is needed for these tests");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Files {
            dir,
            cert_der: made.cert.der().to_vec(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn arg(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }
}

const TLS: &str = "mqtts://broker.test:8883";
const WS: &str = "ws://broker.test:8080/mqtt";

#[test]
fn defaults_without_options() {
    let p = plan(TLS, &[]);
    assert_eq!(p.timeout, Duration::from_secs(5));
    assert_eq!(p.mqtt.keep_alive, 30);
    assert_eq!(
        (p.mqtt.version, p.mqtt.fallback_to_311),
        (MqttVersion::V5, true)
    );
    assert!(p.sub.publish && p.sub.topics.is_empty());
    assert!(p.tls.ca.is_none() && p.tls.client.is_none() && !p.tls.insecure);
    assert_eq!(p.dns_server, None);
}

#[test]
fn ca_reaches_the_plan() {
    let f = Files::new();
    let p = plan(TLS, &["--ca", &f.arg("cert.pem")]);
    let ca = p.tls.ca.unwrap();
    assert_eq!(ca.path, f.path("cert.pem"));
    assert_eq!(ca.certs[0].as_ref(), f.cert_der.as_slice());
}

#[test]
fn cert_and_key_reach_the_plan() {
    let f = Files::new();
    let p = plan(
        TLS,
        &["--cert", &f.arg("cert.pem"), "--key", &f.arg("key.pem")],
    );
    assert_eq!(
        p.tls.client.unwrap().certs[0].as_ref(),
        f.cert_der.as_slice()
    );
}

#[test]
fn p12_and_passphrase_env_reach_the_plan() {
    let f = Files::new();
    let p = plan_env(
        TLS,
        &["--p12", &f.arg("id.p12"), "--passphrase-env", "P12PW"],
        &[("P12PW", "s3cret")],
    );
    assert_eq!(
        p.tls.client.unwrap().certs[0].as_ref(),
        f.cert_der.as_slice()
    );
}

#[test]
fn sni_reaches_the_plan() {
    assert_eq!(
        plan(TLS, &["--sni", "other.test"]).server_name(),
        "other.test"
    );
}

#[test]
fn alpn_reaches_the_plan() {
    let p = plan(TLS, &["--alpn", "mqtt", "--alpn", "x-amzn-mqtt-ca"]);
    assert_eq!(p.tls.alpn, ["mqtt", "x-amzn-mqtt-ca"]);
}

#[test]
fn insecure_reaches_the_plan() {
    assert!(plan(TLS, &["--insecure"]).tls.insecure);
}

#[test]
fn min_tls_reaches_the_plan() {
    assert!(plan(TLS, &["--min-tls", "1.3"]).tls.tls13_only);
    assert!(!plan(TLS, &["--min-tls", "1.2"]).tls.tls13_only);
}

#[test]
fn username_reaches_the_plan() {
    assert_eq!(
        plan(TLS, &["-u", "alice"]).mqtt.username.as_deref(),
        Some("alice")
    );
}

#[test]
fn password_env_reaches_the_plan() {
    let p = plan_env(TLS, &["--password-env", "PW"], &[("PW", "hunter2")]);
    assert_eq!(p.mqtt.password.unwrap().expose(), "hunter2");
}

#[test]
fn client_id_reaches_the_plan() {
    assert_eq!(plan(TLS, &["-i", "gw-7"]).mqtt.client_id, "gw-7");
}

#[test]
fn keep_alive_reaches_the_plan() {
    assert_eq!(plan(TLS, &["--keep-alive", "9"]).mqtt.keep_alive, 9);
}

#[test]
fn mqtt_version_reaches_the_plan() {
    let p = plan(TLS, &["--mqtt-version", "3"]);
    assert_eq!(
        (p.mqtt.version, p.mqtt.fallback_to_311),
        (MqttVersion::V311, false)
    );
    let p = plan(TLS, &["--mqtt-version", "5"]);
    assert_eq!(
        (p.mqtt.version, p.mqtt.fallback_to_311),
        (MqttVersion::V5, false)
    );
}

#[test]
fn every_topic_reaches_the_plan() {
    let p = plan(TLS, &["-t", "a/#", "--topic", "b/+"]);
    assert_eq!(p.sub.topics, ["a/#", "b/+"]);
}

#[test]
fn no_publish_reaches_the_plan() {
    assert!(!plan(TLS, &["--no-publish"]).sub.publish);
}

#[test]
fn timeout_reaches_the_plan() {
    assert_eq!(
        plan(TLS, &["--timeout", "17"]).timeout,
        Duration::from_secs(17)
    );
}

#[test]
fn dns_server_reaches_the_plan() {
    assert_eq!(
        plan(TLS, &["--dns-server", "192.0.2.53:5353"]).dns_server,
        Some("192.0.2.53:5353".parse().unwrap())
    );
}

#[test]
fn ws_path_reaches_the_plan() {
    assert_eq!(plan(WS, &["--ws-path", "/ws"]).target.path, "/ws");
}

#[test]
fn header_reaches_the_plan() {
    let p = plan(WS, &["-H", "Authorization: Bearer t0k"]);
    assert_eq!(p.route.ws.headers[0].0, "Authorization");
    assert_eq!(p.route.ws.headers[0].1.expose(), "Bearer t0k");
}

#[test]
fn proxy_and_proxy_password_env_reach_the_plan() {
    let p = plan_env(
        WS,
        &[
            "--proxy",
            "socks5://alice@proxy.test:1081",
            "--proxy-password-env",
            "PPW",
        ],
        &[("PPW", "pr0xy")],
    );
    let proxy = p.route.proxy.unwrap();
    assert_eq!(proxy.kind, ProxyKind::Socks5);
    assert_eq!(proxy.url(), "socks5://alice@proxy.test:1081");
    assert_eq!(proxy.password.unwrap().expose(), "pr0xy");
}

// --- options before the subcommand ------------------------------------------------------------

fn assert_refused(args: &[&str], must_name: &[&str]) {
    let (code, _, err) = run(args, &[]);
    assert_eq!(code, 2, "{args:?}: {err}");
    for word in must_name {
        assert!(err.contains(word), "{args:?} must name {word:?}: {err}");
    }
}

#[test]
fn a_ca_before_check_is_used_not_dropped() {
    assert_refused(
        &["--ca", "/nonexistent.pem", "check", "mqtt://127.0.0.1:1883"],
        &["--ca", "/nonexistent.pem", "cannot be read"],
    );
}

#[test]
fn an_option_before_and_after_check_is_refused() {
    assert_refused(
        &[
            "--timeout",
            "3",
            "check",
            "mqtt://127.0.0.1:1883",
            "--timeout",
            "4",
        ],
        &["--timeout", "both before and after", "check"],
    );
}

#[test]
fn connection_options_before_other_commands_are_refused() {
    assert_refused(&["--ca", "x.pem", "causes"], &["--ca", "causes"]);
    assert_refused(
        &["-u", "alice", "profile", "list"],
        &["--username", "profile list"],
    );
    assert_refused(
        &[
            "--username",
            "alice",
            "cert",
            "fetch",
            "mqtts://127.0.0.1:1",
        ],
        &["--username", "cert fetch"],
    );
}

#[test]
fn a_ca_before_cert_fetch_is_used() {
    assert_refused(
        &[
            "--ca",
            "/nonexistent.pem",
            "cert",
            "fetch",
            "mqtts://127.0.0.1:1",
        ],
        &["--ca", "/nonexistent.pem"],
    );
}

// --- profile add stores what it accepts -------------------------------------------------------

fn profile_cmd(config: &Path, args: &[&str]) -> (i32, String, String) {
    let c = config.display().to_string();
    let mut all = vec!["--config", c.as_str()];
    all.extend_from_slice(args);
    run(&all, &[])
}

#[test]
fn profile_add_stores_dns_server_no_publish_proxy_password_env_and_every_topic() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("profiles.toml");
    let (code, out, err) = profile_cmd(
        &config,
        &[
            "profile",
            "add",
            "corp",
            "ws://broker.test:8080/mqtt",
            "--dns-server",
            "192.0.2.53:53",
            "--no-publish",
            "--proxy",
            "socks5://alice@proxy.test:1080",
            "--proxy-password-env",
            "CORP_PROXY_PW",
            "-t",
            "a/#",
            "-t",
            "b",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let toml = std::fs::read_to_string(&config).unwrap();
    for line in [
        "dns_server = \"192.0.2.53:53\"",
        "publish = false",
        "proxy_password = { env = \"CORP_PROXY_PW\" }",
        "topics = [\"a/#\", \"b\"]",
    ] {
        assert!(toml.contains(line), "missing {line:?} in:\n{toml}");
    }
    // edit changes one field and keeps the rest.
    let (code, out, err) = profile_cmd(&config, &["profile", "edit", "corp", "-t", "c"]);
    assert_eq!(code, 0, "{out}{err}");
    let toml = std::fs::read_to_string(&config).unwrap();
    assert!(toml.contains("topics = [\"c\"]"), "{toml}");
    assert!(toml.contains("publish = false"), "{toml}");
}

#[test]
fn options_before_profile_add_are_stored_too() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("profiles.toml");
    let c = config.display().to_string();
    let (code, out, err) = run(
        &[
            "--config",
            &c,
            "--client-id",
            "gw-9",
            "profile",
            "add",
            "p",
            "mqtt://broker.test",
        ],
        &[],
    );
    assert_eq!(code, 0, "{out}{err}");
    let toml = std::fs::read_to_string(&config).unwrap();
    assert!(toml.contains("client_id = \"gw-9\""), "{toml}");
}
