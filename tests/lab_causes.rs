//! Every lab scenario, run through the real binary: `check URL … --json` must name the
//! expected cause (or ok) in the stage the cause belongs to, carry the expected warnings and exit
//! with the stage's code.

mod common;

use common::check_json_async as check;
use mqtt_doctor::lab::Lab;
use serde_json::Value;
use std::time::{Duration, Instant};

fn exit_code_for(stage: &str) -> i32 {
    match stage {
        "dns" => 10,
        "tcp" => 11,
        "tls" => 12,
        "ws" => 13,
        "mqtt" => 14,
        "sub" => 15,
        "proxy" => 16,
        other => panic!("unknown stage {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_lab_scenario_produces_its_cause() {
    let lab = Lab::start().await.expect("lab starts");
    let scenarios = lab.scenarios().to_vec();
    assert_eq!(scenarios.len(), 138);
    let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(8));
    let mut set = tokio::task::JoinSet::new();
    for s in scenarios {
        let sem = sem.clone();
        set.spawn(async move {
            let _permit = sem.acquire().await;
            let mut args = vec![s.url.clone()];
            args.extend(s.args.iter().cloned());
            let (code, json, raw) = check(&args, &s.env).await;
            (s, code, json, raw)
        });
    }
    let mut failures = Vec::new();
    while let Some(joined) = set.join_next().await {
        let (s, code, json, raw) = joined.expect("task");
        let verdict = &json["verdict"];
        let got = if verdict["ok"] == Value::Bool(true) {
            "ok".to_string()
        } else {
            verdict["cause"].as_str().unwrap_or("?").to_string()
        };
        if got != s.expect {
            failures.push(format!("{}: expected {}, got {got}\n{raw}", s.id, s.expect));
            continue;
        }
        // A cause id names its stage: `tls.x` is a verdict of the tls stage.
        if let Some((stage, _)) = s.expect.split_once('.') {
            let reported = verdict["stage"].as_str().unwrap_or("?");
            if reported != stage {
                failures.push(format!(
                    "{}: cause {} reported in stage {reported}, not {stage}",
                    s.id, s.expect
                ));
            }
        }
        let mut warned: Vec<String> = json["stages"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|st| st["warnings"].as_array().into_iter().flatten())
            .map(|w| w["cause"].as_str().unwrap_or("?").to_string())
            .collect();
        warned.sort();
        let mut want_warns = s.warns.clone();
        want_warns.sort();
        if warned != want_warns {
            failures.push(format!(
                "{}: warnings {warned:?}, expected {want_warns:?}",
                s.id
            ));
        }
        if let Some(words) = &s.says {
            let summary = verdict["summary"].as_str().unwrap_or("");
            if !summary.contains(words.as_str()) {
                failures.push(format!("{}: the summary lacks {words:?}: {summary}", s.id));
            }
        }
        let want_code = if s.expect == "ok" {
            0
        } else {
            exit_code_for(verdict["stage"].as_str().unwrap_or("?"))
        };
        if code != want_code {
            failures.push(format!("{}: exit code {code}, expected {want_code}", s.id));
        }
        // Exactly one stage failed (none when ok), the verdict's own.
        let failed: Vec<&Value> = json["stages"]
            .as_array()
            .map(|v| v.iter().filter(|st| st["status"] == "failed").collect())
            .unwrap_or_default();
        let want_failed = usize::from(s.expect != "ok");
        if failed.len() != want_failed
            || failed
                .first()
                .is_some_and(|f| f["stage"] != verdict["stage"])
        {
            failures.push(format!(
                "{}: failed stages {failed:?} for verdict {verdict}",
                s.id
            ));
        }
        // The stage that failed carries the cause; every later stage is skipped.
        if let Some(stages) = json["stages"].as_array() {
            let mut after_failure = false;
            for st in stages {
                if after_failure && st["status"] != "skipped" {
                    failures.push(format!(
                        "{}: stage {} ran after the failure",
                        s.id, st["stage"]
                    ));
                }
                if st["status"] == "failed" {
                    after_failure = true;
                    if st["cause"].as_str() != Some(s.expect.as_str()) {
                        failures.push(format!("{}: failed stage lacks the cause", s.id));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// Text output of a hostile peer's words: no control character reaches the terminal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_bytes_never_reach_the_terminal_raw() {
    let lab = Lab::start().await.expect("lab starts");
    for id in [
        "mqtt.not_authorized.escapes",
        "mqtt.not_mqtt.binary",
        "mqtt.not_mqtt.huge",
    ] {
        let s = lab.scenario(id).expect("scenario").clone();
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_mqtt-doctor"))
            .args(["check", &s.url, "-v"])
            .output()
            .await
            .expect("runs");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(!text.is_empty());
        assert!(
            !text
                .chars()
                .any(|c| (c.is_control() && c != '\n') || c == '\u{202e}'),
            "{id}: raw control characters in:\n{text:?}"
        );
        if id.ends_with("escapes") {
            assert!(
                text.contains("\"\\u{1b}[2J") && !text.contains("\\\\u{1b}"),
                "the escape is shown escaped, once: {text}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_timeout_arrives_within_the_deadline() {
    let lab = Lab::start().await.expect("lab starts");
    let s = lab.scenario("tcp.timeout").expect("scenario").clone();
    let started = Instant::now();
    let (code, json, _) = check(&[s.url.clone(), "--timeout".into(), "2".into()], &[]).await;
    let took = started.elapsed();
    assert_eq!(json["verdict"]["cause"], "tcp.timeout");
    assert_eq!(code, 11);
    assert!(took >= Duration::from_secs(2), "gave up early: {took:?}");
    assert!(
        took < Duration::from_millis(3500),
        "deadline overrun: {took:?}"
    );
}
