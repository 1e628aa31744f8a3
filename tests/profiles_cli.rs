//! Profiles through the real binary: secrets go to the real OS keyring (Secret Service under
//! scripts/test, kernel keyutils otherwise) and never into the TOML file, its backup, the
//! JSON or the screen; fleet checks; mosquitto_sub import and export.

mod common;

use common::*;
use mqtt_doctor::lab::{Behavior, Lab, Script, listen};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CANARY: &str = "canary-pw-7f3a9c1e";

fn with_stdin(args: &[&str], config: &str, stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mqtt-doctor"))
        .args(args)
        .env("MQTT_DOCTOR_CONFIG", config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn cmd(args: &[&str], config: &str) -> (i32, String, String) {
    let mut all = vec!["--config", config];
    all.extend_from_slice(args);
    run(&all, &[])
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}-{}", std::process::id(), rand_suffix())
}

fn rand_suffix() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_stay_in_the_keyring_and_checks_use_them() {
    let lab = Lab::start().await.expect("lab");
    let (addr, _task) = listen(Behavior::Mqtt(Script {
        login: Some(("alice".into(), CANARY.into())),
        ..Script::default()
    }))
    .await
    .expect("broker");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("profiles.toml").display().to_string();
    let name = unique("canary");
    let url = format!("mqtt://127.0.0.1:{}", addr.port());
    let (code, out, err) = with_stdin(
        &[
            "profile",
            "add",
            &name,
            &url,
            "-u",
            "alice",
            "--password-stdin",
            "--topic",
            "sensors/#",
        ],
        &config,
        &format!("{CANARY}\n"),
    );
    assert_eq!(code, 0, "{out}{err}");
    // A second profile with the client key imported into the keyring.
    let mtls = lab.scenario("ok.mtls").unwrap();
    let key_pem = std::fs::read_to_string(lab.dir().join("client.key")).unwrap();
    let key_marker: String = key_pem.lines().nth(1).unwrap().to_string();
    let tls_name = unique("mtls");
    let (code, out, err) = cmd(
        &[
            "profile",
            "add",
            &tls_name,
            &mtls.url,
            "--ca",
            &mtls.args[1],
            "--cert",
            &mtls.args[3],
            "--key",
            &mtls.args[5],
            "--key-to-keyring",
        ],
        &config,
    );
    assert_eq!(code, 0, "{out}{err}");
    // Edit once more so a .bak exists.
    let (code, _, err) = cmd(
        &["profile", "edit", &name, "--notes", "site gateway"],
        &config,
    );
    assert_eq!(code, 0, "{err}");

    let toml = std::fs::read_to_string(&config).unwrap();
    let bak = std::fs::read_to_string(format!("{config}.bak")).unwrap();
    for text in [&toml, &bak] {
        assert!(
            !text.contains(CANARY),
            "password leaked into the file:\n{text}"
        );
        assert!(
            !text.contains(&key_marker),
            "key leaked into the file:\n{text}"
        );
    }
    assert!(toml.contains("keyring = true"), "{toml}");

    let (code, json, err) = {
        let (c, o, e) = cmd(&["check", "--profile", &name, "--json"], &config);
        (c, o, e)
    };
    assert_eq!(code, 0, "{json}{err}");
    assert!(
        !json.contains(CANARY) && !err.contains(CANARY),
        "password in the output"
    );
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(cause(&report), "ok", "{report:#}");
    let (code, text, err) = cmd(&["check", "--profile", &name, "-v"], &config);
    assert_eq!(code, 0, "{text}{err}");
    assert!(!text.contains(CANARY) && !err.contains(CANARY));
    let (code, shown, _) = cmd(&["profile", "show", &name], &config);
    assert_eq!(code, 0);
    assert!(
        !shown.contains(CANARY) && shown.contains("keyring"),
        "{shown}"
    );

    // A command-line flag overrides the profile for one run: a wrong password from the env.
    let (code, out, _) = run(
        &[
            "--config",
            &config,
            "check",
            "--profile",
            &name,
            "--password-env",
            "OTHER_PW",
            "--json",
        ],
        &[("OTHER_PW", "not-it")],
    );
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(cause(&r), "mqtt.bad_username_or_password", "{r:#}");
    assert_eq!(code, 14);

    let (code, out, err) = cmd(&["check", "--profile", &tls_name, "--json"], &config);
    let r: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
    assert_eq!(cause(&r), "ok", "{out}{err}");
    assert_eq!(code, 0);

    // Rename moves the secrets; remove deletes them.
    let renamed = format!("{name}-renamed");
    let (code, _, err) = cmd(&["profile", "rename", &name, &renamed], &config);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = cmd(&["check", "--profile", &renamed, "--json"], &config);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, _) = cmd(&["profile", "remove", &renamed], &config);
    assert_eq!(code, 0);
    assert!(out.contains("keyring entries"), "{out}");
    let store = mqtt_doctor::secrets::SecretStore::open();
    if let Ok(store) = store {
        let left = store
            .get(&renamed, mqtt_doctor::secrets::Kind::Password)
            .unwrap();
        assert!(left.is_none(), "the password survived remove");
    }
    let (code, out, _) = cmd(&["profile", "remove", &tls_name, "--keep-secrets"], &config);
    assert_eq!(code, 0, "{out}");
    if let Ok(store) = mqtt_doctor::secrets::SecretStore::open() {
        assert!(
            store
                .get(&tls_name, mqtt_doctor::secrets::Kind::PrivateKey)
                .unwrap()
                .is_some()
        );
        store.delete_profile(&tls_name).unwrap();
    }
}

#[test]
fn broken_toml_is_named_and_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("profiles.toml");
    std::fs::write(
        &config,
        "[profiles.a]\nurl = \"mqtt://h\"\nusernme = \"x\"\n",
    )
    .unwrap();
    let c = config.display().to_string();
    let (code, _, err) = cmd(&["profile", "add", "b", "mqtt://h2"], &c);
    assert_eq!(code, 2);
    assert!(err.contains("usernme") && err.contains("username"), "{err}");
    std::fs::write(&config, "[profiles.a\nurl = 1\n").unwrap();
    let (code, _, err) = cmd(&["profile", "add", "b", "mqtt://h2"], &c);
    assert_eq!(code, 2);
    assert!(
        err.contains("profiles.toml:1:"),
        "file, line and column: {err}"
    );
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        "[profiles.a\nurl = 1\n"
    );
    std::fs::write(
        &config,
        "[profiles.a]\nurl = \"mqtt://h\"\npassword = \"hunter2\"\n",
    )
    .unwrap();
    let (code, _, err) = cmd(&["check", "--profile", "a"], &c);
    assert_eq!(code, 2);
    assert!(
        !err.contains("hunter2") && err.contains("password"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_check_of_50_lab_profiles_takes_about_the_slowest_not_the_sum() {
    let lab = Lab::start().await.expect("lab");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("profiles.toml");
    // Scenarios a profile can express (URL, CA, user, topic, version, timeout).
    let usable: Vec<_> = lab
        .scenarios()
        .iter()
        .filter(|s| {
            s.env.is_empty()
                && s.args.iter().all(|a| {
                    !a.starts_with("--")
                        || ["--ca", "--timeout", "--topic", "--mqtt-version"].contains(&a.as_str())
                })
        })
        .cloned()
        .collect();
    let slow: Vec<_> = usable
        .iter()
        .filter(|s| s.args.iter().any(|a| a == "--timeout"))
        .cloned()
        .collect();
    assert!(slow.len() >= 4, "{}", slow.len());
    let mut toml = String::from("version = 1\n");
    let mut expected = Vec::new();
    for i in 0..50 {
        // Every tenth profile is one of the slow (1 s timeout) scenarios.
        let s = if i % 5 == 0 {
            &slow[(i / 5) % slow.len()]
        } else {
            &usable[i % usable.len()]
        };
        let name = format!("p{i:02}-{}", s.id.replace('.', "-"));
        toml.push_str(&format!("\n[profiles.{name}]\nurl = \"{}\"\n", s.url));
        let mut args = s.args.iter();
        let mut tls = String::new();
        while let Some(a) = args.next() {
            match a.as_str() {
                "--ca" => {
                    tls.push_str(&format!("ca = {{ file = \"{}\" }}\n", args.next().unwrap()))
                }
                "--timeout" => toml.push_str(&format!("timeout_secs = {}\n", args.next().unwrap())),
                "--topic" => toml.push_str(&format!("topic = \"{}\"\n", args.next().unwrap())),
                "--mqtt-version" => {
                    toml.push_str(&format!("mqtt_version = {}\n", args.next().unwrap()))
                }
                other => panic!("unexpected {other}"),
            }
        }
        if !tls.is_empty() {
            toml.push_str(&format!("\n[profiles.{name}.tls]\n{tls}"));
        }
        expected.push((name, s.expect.clone()));
    }
    std::fs::write(&config, toml).unwrap();
    let started = Instant::now();
    let (code, out, err) = cmd(&["check", "--all", "--json"], &config.display().to_string());
    let took = started.elapsed();
    let list: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    let list = list.as_array().expect("array");
    assert_eq!(list.len(), 50);
    let mut sum = Duration::ZERO;
    for (item, (name, expect)) in list.iter().zip(&expected) {
        assert_eq!(item["profile"], name.as_str());
        let got = cause(&item["report"]);
        assert_eq!(&got, expect, "{name}: {item:#}");
        let ms: u64 = item["report"]["stages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["duration_ms"].as_u64().unwrap())
            .sum();
        sum += Duration::from_millis(ms);
    }
    assert_ne!(code, 0, "some profiles fail on purpose");
    // Concurrency, not a benchmark: the sum of the checks is far above the wall time.
    assert!(sum > Duration::from_secs(8), "sum {sum:?}");
    assert!(
        took < sum / 2,
        "took {took:?} for checks summing to {sum:?}"
    );
    let (_, table, _) = cmd(&["check", "--all"], &config.display().to_string());
    assert!(table.contains("50 profiles"), "{table}");
}

#[test]
fn mosquitto_sub_import_and_export() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("profiles.toml").display().to_string();
    let name = unique("imported");
    let (code, out, err) = cmd(
        &[
            "profile",
            "import",
            "--name",
            &name,
            "--",
            "mosquitto_sub",
            "-h",
            "broker.example.com",
            "-p",
            "8883",
            "--cafile",
            "/etc/ssl/ca.pem",
            "-u",
            "alice",
            "-P",
            CANARY,
            "-t",
            "sensors/#",
            "-V",
            "mqttv5",
            "--tls-alpn",
            "mqtt",
            "-i",
            "gw-01",
            "--will-topic",
            "x/y",
            "-q",
            "1",
        ],
        &config,
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains("--will-topic"),
        "unknown flags are reported: {err}"
    );
    let toml = std::fs::read_to_string(&config).unwrap();
    assert!(!toml.contains(CANARY), "{toml}");
    assert!(
        toml.contains("mqtts://broker.example.com:8883") && toml.contains("gw-01"),
        "{toml}"
    );
    assert!(toml.contains("--will-topic"), "kept in the notes: {toml}");
    let (code, cmdline, _) = cmd(
        &["profile", "export", &name, "--as", "mosquitto_sub"],
        &config,
    );
    assert_eq!(code, 0);
    assert!(!cmdline.contains(CANARY), "{cmdline}");
    assert!(
        cmdline.contains("-P \"$") && cmdline.contains("--cafile /etc/ssl/ca.pem"),
        "{cmdline}"
    );
    assert!(
        cmdline.contains("-t 'sensors/#'") && cmdline.contains("-V mqttv5"),
        "{cmdline}"
    );
    let (code, ossl, _) = cmd(&["profile", "export", &name, "--as", "openssl"], &config);
    assert_eq!(code, 0);
    assert!(ossl.contains("openssl s_client -connect broker.example.com:8883 -servername broker.example.com -CAfile /etc/ssl/ca.pem -alpn mqtt"), "{ossl}");
    let (code, _, _) = cmd(&["profile", "remove", &name], &config);
    assert_eq!(code, 0);
}

#[test]
fn config_example_parses() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.toml");
    let store =
        mqtt_doctor::profile::ProfileStore::load(example).expect("config.example.toml parses");
    assert!(store.list().len() >= 2);
}

#[test]
fn secrets_status_names_the_backend() {
    let (code, out, err) = run(&["secrets", "status", "--json"], &[]);
    let status: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    assert_eq!(code, 0, "a keyring backend works here: {status:#}");
    assert!(
        status["persistence"].as_str().unwrap_or("").len() > 10,
        "{status:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_header_values_go_to_the_keyring() {
    let lab = Lab::start().await.expect("lab");
    let sc = lab.scenario("ok.ws_header").expect("scenario").clone();
    let header = sc.args[1].clone();
    let token = header.split_once(": ").unwrap().1.to_string();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("profiles.toml").display().to_string();
    let name = unique("wsheader");
    let (code, out, err) = cmd(
        &["profile", "add", &name, &sc.url, "--header", &header],
        &config,
    );
    assert_eq!(code, 0, "{out}{err}");
    let toml = std::fs::read_to_string(&config).unwrap();
    assert!(!toml.contains(&token), "{toml}");
    let (code, out, err) = cmd(&["check", "--profile", &name, "--json"], &config);
    assert!(
        !out.contains(&token) && !err.contains(&token),
        "token leaked"
    );
    let r: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
    assert_eq!(cause(&r), "ok", "{out}{err}");
    assert_eq!(code, 0);
    let (code, _, _) = cmd(&["profile", "remove", &name], &config);
    assert_eq!(code, 0);
}
