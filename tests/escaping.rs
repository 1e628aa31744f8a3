//! Hostile text from a peer, through the real binary: a CONNACK reason string carrying CSI
//! (U+009B), a bidi override and ESC never reaches stdout raw, in JSON or in plain text.

use mqtt_doctor::lab::{self, Behavior, Script};
use serde_json::Value;
use std::time::Duration;

const HOSTILE: &str = "bad\u{9b}31m user\u{202e}txet\u{1b}[2J\u{1b}]0;pwned\u{7}";

async fn run(args: &[&str]) -> (i32, Vec<u8>) {
    let out = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::process::Command::new(env!("CARGO_BIN_EXE_mqtt-doctor"))
            .args(args)
            .output(),
    )
    .await
    .expect("the binary finishes")
    .expect("the binary runs");
    (out.status.code().unwrap_or(-1), out.stdout)
}

/// The characters a terminal obeys or reorders by: C0 (but newline), DEL, C1, bidi controls.
fn dangerous(c: char) -> bool {
    (c.is_control() && c != '\n')
        || matches!(
            c,
            '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

async fn hostile_broker() -> std::net::SocketAddr {
    let (addr, _task) = lab::listen(Behavior::Mqtt(Script {
        reason_string: Some(HOSTILE.into()),
        ..Script::refuse(0x87, 5)
    }))
    .await
    .expect("listens");
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_output_escapes_c1_bidi_and_esc_and_keeps_the_reason_string() {
    let addr = hostile_broker().await;
    let url = format!("mqtt://127.0.0.1:{}", addr.port());
    let (code, stdout) = run(&["check", &url, "--json"]).await;
    assert_eq!(code, 14, "{}", String::from_utf8_lossy(&stdout));
    assert!(!stdout.contains(&0x1b), "ESC in the JSON");
    let text = String::from_utf8(stdout).expect("UTF-8");
    let bad: Vec<char> = text.chars().filter(|c| dangerous(*c)).collect();
    assert!(bad.is_empty(), "raw {bad:?} in:\n{text}");
    assert!(
        text.contains("\\u009b") && text.contains("\\u202e"),
        "{text}"
    );
    let json: Value = serde_json::from_str(&text).expect("still JSON");
    assert_eq!(json["verdict"]["cause"], "mqtt.not_authorized");
    let mqtt = json["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .find(|s| s["stage"] == "mqtt")
        .expect("an mqtt stage");
    assert_eq!(mqtt["facts"]["reason_string"], HOSTILE);
    let summary = json["verdict"]["summary"].as_str().expect("a summary");
    assert!(summary.contains(HOSTILE), "{summary}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_text_output_shows_the_reason_string_escaped() {
    let addr = hostile_broker().await;
    let url = format!("mqtt://127.0.0.1:{}", addr.port());
    let (code, stdout) = run(&["check", &url, "-v"]).await;
    assert_eq!(code, 14);
    let text = String::from_utf8(stdout).expect("UTF-8");
    let bad: Vec<char> = text.chars().filter(|c| dangerous(*c)).collect();
    assert!(bad.is_empty(), "raw {bad:?} in:\n{text}");
    assert!(
        text.contains("bad\\u{9b}31m user\\u{202e}txet\\u{1b}[2J"),
        "{text}"
    );
}
