//! Issue 16 item 8: a fleet check under a low open-file limit (`ulimit -n 64`) sizes its
//! concurrency to the descriptors it has, and running out is the tool's own limit
//! (`tcp.local_fd_limit`), never a broker's `tcp.failed`.

use mqtt_doctor::lab::{Behavior, Script, listen};
use std::fmt::Write as _;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_mqtt-doctor");

/// Runs the binary under `ulimit -n LIMIT` (soft and hard) through sh.
fn under_limit(limit: u32, args: &str, config: &std::path::Path) -> std::process::Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -n {limit} && exec \"$BIN\" {args}"))
        .env("BIN", BIN)
        .env("MQTT_DOCTOR_CONFIG", config)
        .output()
        .expect("sh runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_of_100_under_ulimit_64_runs_every_check() {
    let (addr, _task) = listen(Behavior::Mqtt(Script::default()))
        .await
        .expect("a lab broker");
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("profiles.toml");
    let mut toml = String::from("version = 1\n");
    for i in 0..100 {
        let _ = write!(
            toml,
            "\n[profiles.p{i:03}]\nurl = \"mqtt://127.0.0.1:{}\"\n",
            addr.port()
        );
    }
    std::fs::write(&config, toml).expect("written");
    let config2 = config.clone();
    let out = tokio::task::spawn_blocking(move || {
        under_limit(64, "check --all --json --concurrency 100", &config2)
    })
    .await
    .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    let rows = json.as_array().expect("an array");
    assert_eq!(rows.len(), 100);
    let bad: Vec<String> = rows
        .iter()
        .filter(|r| r["report"]["verdict"]["ok"] != true)
        .map(|r| format!("{}: {}", r["profile"], r["report"]["verdict"]["cause"]))
        .collect();
    assert!(bad.is_empty(), "{} not ok: {bad:?}\n{stderr}", bad.len());
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("checks at a time, not 100") && stderr.contains("ulimit -n"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_descriptor_for_the_socket_is_the_tools_own_limit() {
    let (addr, _task) = listen(Behavior::Mqtt(Script::default()))
        .await
        .expect("a lab broker");
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("none.toml");
    // Find the lowest limit at which the binary starts: there, its socket gets EMFILE.
    let url = format!("mqtt://127.0.0.1:{}", addr.port());
    let mut seen = Vec::new();
    for limit in 4..40 {
        let (url, config) = (url.clone(), config.clone());
        let out = tokio::task::spawn_blocking(move || {
            under_limit(limit, &format!("check {url} --json"), &config)
        })
        .await
        .expect("runs");
        let Ok(json) = serde_json::from_slice::<serde_json::Value>(&out.stdout) else {
            continue;
        };
        let cause = json["verdict"]["cause"].clone();
        seen.push((limit, cause.clone()));
        if cause == "tcp.local_fd_limit" {
            assert_eq!(out.status.code(), Some(11));
            let summary = json["verdict"]["summary"].as_str().expect("summary");
            assert!(
                summary.contains(&format!("limit of {limit} open files")),
                "{summary}"
            );
            return;
        }
        assert_ne!(
            cause, "tcp.failed",
            "EMFILE reported as the broker's: {json}"
        );
        if json["verdict"]["ok"] == true {
            break;
        }
    }
    panic!("no limit gave tcp.local_fd_limit: {seen:?}");
}
