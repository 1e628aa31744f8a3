//! Bad input: exit 2 with one clear sentence naming the argument, never a panic.

mod common;

use common::run;

fn assert_input_error(args: &[&str], must_name: &[&str]) {
    let (code, stdout, stderr) = run(args, &[]);
    assert_eq!(
        code, 2,
        "{args:?}: exit {code}\nstdout: {stdout}\nstderr: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    for word in must_name {
        assert!(
            stderr.contains(word),
            "{args:?}: {word:?} not named in: {stderr}"
        );
    }
}

#[test]
fn malformed_urls_name_the_problem() {
    assert_input_error(
        &["check", "broker.example.com:1883"],
        &["URL", "no scheme", "mqtt://"],
    );
    assert_input_error(
        &["check", "http://broker.example.com"],
        &["unknown scheme", "\"http\""],
    );
    assert_input_error(&["check", "mqtt://broker.example.com:0"], &["port 0"]);
    assert_input_error(
        &["check", "mqtt://broker.example.com:99999"],
        &["port 99999"],
    );
    assert_input_error(&["check", "mqtt://"], &["no host"]);
    assert_input_error(&["check", "mqtt://alice:secret@broker"], &["password"]);
    let (_, _, stderr) = run(&["check", "mqtt://alice:secret@broker"], &[]);
    assert!(
        !stderr.contains("secret"),
        "the password was echoed: {stderr}"
    );
}

#[test]
fn unreadable_files_name_the_argument_and_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing-ca.pem");
    assert_input_error(
        &[
            "check",
            "mqtts://localhost:8883",
            "--ca",
            missing.to_str().unwrap(),
        ],
        &["--ca", "missing-ca.pem", "cannot be read"],
    );
    let garbage = dir.path().join("notes.txt");
    std::fs::write(&garbage, "these are not certificates\n").unwrap();
    assert_input_error(
        &[
            "check",
            "mqtts://localhost:8883",
            "--ca",
            garbage.to_str().unwrap(),
        ],
        &["--ca", "notes.txt"],
    );
    let truncated = dir.path().join("truncated.pem");
    std::fs::write(&truncated, "-----BEGIN CERTIFICATE-----\nMIIB\n").unwrap();
    assert_input_error(
        &[
            "check",
            "mqtts://localhost:8883",
            "--ca",
            truncated.to_str().unwrap(),
        ],
        &["--ca", "truncated.pem"],
    );
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    assert_input_error(
        &[
            "check",
            "mqtts://localhost:8883",
            "--ca",
            empty.to_str().unwrap(),
        ],
        &["--ca", "empty.pem", "empty"],
    );
}

#[test]
fn usage_errors_exit_2() {
    assert_input_error(&["check"], &["URL"]);
    assert_input_error(&["check", "mqtt://h", "--timeout", "0"], &["--timeout"]);
    assert_input_error(
        &["check", "mqtt://h", "--mqtt-version", "4.2"],
        &["--mqtt-version"],
    );
    assert_input_error(
        &[
            "check",
            "mqtt://h",
            "--password-env",
            "MQTT_DOCTOR_UNSET_VAR",
        ],
        &["--password-env", "MQTT_DOCTOR_UNSET_VAR", "not set"],
    );
    assert_input_error(&["check", "mqtt://h", "--cert", "c.pem"], &["--key"]);
}

#[test]
fn causes_lists_every_catalog_id() {
    let (code, stdout, _) = run(&["causes", "--json"], &[]);
    assert_eq!(code, 0);
    let list: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    for id in [
        "dns.nxdomain",
        "tcp.timeout",
        "tls.cert_expired",
        "mqtt.not_authorized",
        "sub.no_round_trip",
    ] {
        assert!(ids.contains(&id), "{id} missing");
    }
    assert_eq!(ids.len(), mqtt_doctor::explain::CATALOG.len());
}
