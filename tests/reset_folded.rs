//! The tcp stage no longer waits after connect for a reset: the next stage reads it. A peer that
//! resets every connection is still `tcp.reset` on the tcp stage, over every transport.

mod common;

use common::check_json_async as check;
use mqtt_doctor::lab::{Behavior, listen};
use serde_json::Value;

fn stage<'a>(json: &'a Value, id: &str) -> &'a Value {
    json["stages"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["stage"] == id))
        .unwrap_or(&Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resetting_peer_is_tcp_reset_whichever_stage_reads_it() {
    let (addr, _server) = listen(Behavior::Reset).await.expect("reset peer");
    let port = addr.port();
    // (URL, extra arguments, the first stage that sends and reads after tcp)
    let cases: Vec<(String, Vec<String>, &str)> = vec![
        (format!("mqtt://127.0.0.1:{port}"), vec![], "mqtt"),
        (
            format!("mqtts://127.0.0.1:{port}"),
            vec!["--insecure".into()],
            "tls",
        ),
        (format!("ws://127.0.0.1:{port}/mqtt"), vec![], "ws"),
        (
            format!("wss://127.0.0.1:{port}/mqtt"),
            vec!["--insecure".into()],
            "tls",
        ),
    ];
    // Three rounds at once: the rule must not depend on how fast the peer's reset comes.
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..3 {
        for (url, extra, next) in cases.clone() {
            set.spawn(async move {
                let mut args = vec![url.clone()];
                args.extend(extra);
                let (code, json, raw) = check(&args, &[]).await;
                (url, next, code, json, raw)
            });
        }
    }
    let mut failures = Vec::new();
    while let Some(joined) = set.join_next().await {
        let (url, next, code, json, raw) = joined.expect("task");
        let verdict = &json["verdict"];
        if verdict["cause"] != "tcp.reset" || verdict["stage"] != "tcp" || code != 11 {
            failures.push(format!("{url}: expected tcp.reset on tcp, exit 11\n{raw}"));
            continue;
        }
        let tcp = stage(&json, "tcp");
        // Under load the reset can beat the connect itself; then the tcp stage saw it alone.
        let in_connect = tcp["facts"]["failed_attempts"]
            .to_string()
            .contains("reset");
        if tcp["status"] != "failed" || !(in_connect || tcp["facts"]["bytes_from_peer"] == 0) {
            failures.push(format!(
                "{url}: tcp stage not failed with bytes_from_peer 0\n{raw}"
            ));
        }
        let reader = stage(&json, next);
        if reader["status"] != "skipped" {
            failures.push(format!("{url}: the {next} stage should be skipped\n{raw}"));
        }
        let failed: Vec<&Value> = json["stages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|s| s["status"] == "failed")
            .collect();
        if failed.len() != 1 {
            failures.push(format!("{url}: {} stages failed\n{raw}", failed.len()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_hangs_up_on_our_bytes_is_not_a_reset() {
    // Reads what we send, then closes without a word: that is the stage's cause, not tcp's.
    let (addr, _server) = listen(Behavior::HangUp).await.expect("hang-up peer");
    let port = addr.port();
    for (url, want) in [
        (
            format!("mqtt://127.0.0.1:{port}"),
            "mqtt.closed_without_connack",
        ),
        (format!("ws://127.0.0.1:{port}/mqtt"), "ws.closed"),
    ] {
        let (_, json, raw) = check(std::slice::from_ref(&url), &[]).await;
        assert_eq!(json["verdict"]["cause"], want, "{url}\n{raw}");
        assert_eq!(stage(&json, "tcp")["status"], "ok", "{url}\n{raw}");
    }
}
