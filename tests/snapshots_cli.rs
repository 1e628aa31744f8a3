//! Snapshots a reviewer reads: the text and markdown reports of a failing and a passing check
//! (fixed reports, so timings, ports and dates are stable), `--help`, the completion scripts
//! and the man page. A changed flag or report line shows up in review as a snapshot diff.

mod common;

use mqtt_doctor::diagnose::{
    CertSummary, Facts, Finding, Report, Stage, StageReport, Status, TargetInfo, TlsInfo, Verdict,
};
use mqtt_doctor::report;

fn stage(
    stage: Stage,
    status: Status,
    ms: u64,
    facts: &[(&str, serde_json::Value)],
) -> StageReport {
    let mut r = StageReport::new(stage);
    r.status = status;
    r.duration_ms = ms;
    let mut f = Facts::default();
    for (k, v) in facts {
        f.push(*k, v.clone());
    }
    r.facts = f;
    r
}

fn skipped(s: Stage, why: &str) -> StageReport {
    let mut r = stage(s, Status::Skipped, 0, &[]);
    r.summary = Some(why.into());
    r
}

fn target() -> TargetInfo {
    TargetInfo {
        url: "mqtts://broker.example.com:8883".into(),
        host: "broker.example.com".into(),
        port: 8883,
        transport: "mqtts".into(),
    }
}

fn chain() -> TlsInfo {
    TlsInfo {
        sni: Some("broker.example.com".into()),
        version: Some("TLS 1.3".into()),
        verified: false,
        trust: "CA file ca.pem (1 certificates)".into(),
        chain: vec![CertSummary {
            subject: "CN=broker.example.com".into(),
            issuer: "O=Example | Corp, CN=Example Intermediate".into(),
            serial: "01".into(),
            not_before: "2026-01-01T00:00:00Z".into(),
            not_after: "2026-11-01T00:00:00Z".into(),
            dns_names: vec!["broker.example.com".into()],
            ip_addresses: vec![],
            is_ca: false,
            self_signed: false,
            sha256: "AA:BB:CC".into(),
        }],
        chain_findings: vec!["certificate 0 (CN=broker.example.com) expired 30 days ago".into()],
        ..TlsInfo::default()
    }
}

/// A tls failure: the broker's certificate expired.
fn failing() -> Report {
    let mut tls = stage(
        Stage::Tls,
        Status::Failed,
        14,
        &[
            ("version", "TLS 1.3".into()),
            ("alert", "certificate_expired".into()),
        ],
    );
    tls.cause = Some("tls.cert_expired");
    tls.summary =
        Some("The broker's certificate CN=broker.example.com expired 30 days ago.".into());
    tls.remedy = Some("Renew the certificate on the broker.".into());
    Report {
        version: "0.1.0".into(),
        target: target(),
        verdict: Verdict {
            ok: false,
            stage: Some(Stage::Tls),
            cause: Some("tls.cert_expired"),
            summary: "The broker's certificate CN=broker.example.com expired 30 days ago.".into(),
            remedy: Some("Renew the certificate on the broker.".into()),
        },
        stages: vec![
            stage(
                Stage::Dns,
                Status::Ok,
                2,
                &[("addresses", serde_json::json!(["192.0.2.10"]))],
            ),
            stage(
                Stage::Tcp,
                Status::Ok,
                3,
                &[("peer", "192.0.2.10:8883".into())],
            ),
            tls,
            skipped(
                Stage::Ws,
                "not used: mqtts is MQTT directly over the connection",
            ),
            skipped(Stage::Mqtt, "skipped: the TLS stage failed"),
            skipped(Stage::Sub, "skipped: the TLS stage failed"),
        ],
        tls: Some(chain()),
    }
}

/// Every stage passed, with a warning.
fn passing() -> Report {
    let mut tls = stage(
        Stage::Tls,
        Status::Ok,
        11,
        &[("version", "TLS 1.3".into()), ("alpn", "none".into())],
    );
    tls.warnings = vec![Finding {
        cause: "tls.expires_soon",
        summary: "The broker's certificate expires in 12 days.".into(),
        remedy: "Renew it before then.".into(),
    }];
    let mut tls_info = chain();
    tls_info.verified = true;
    tls_info.chain_findings.clear();
    Report {
        version: "0.1.0".into(),
        target: target(),
        verdict: Verdict {
            ok: true,
            stage: None,
            cause: None,
            summary: "every stage passed; a message went round trip in 4 ms".into(),
            remedy: None,
        },
        stages: vec![
            stage(
                Stage::Dns,
                Status::Ok,
                2,
                &[("addresses", serde_json::json!(["192.0.2.10"]))],
            ),
            stage(
                Stage::Tcp,
                Status::Ok,
                3,
                &[("peer", "192.0.2.10:8883".into())],
            ),
            tls,
            skipped(
                Stage::Ws,
                "not used: mqtts is MQTT directly over the connection",
            ),
            stage(
                Stage::Mqtt,
                Status::Ok,
                5,
                &[("connack", "Success".into()), ("protocol", "MQTT 5".into())],
            ),
            stage(
                Stage::Sub,
                Status::Ok,
                6,
                &[("round_trip_ms", 4.into()), ("granted", "QoS 1".into())],
            ),
        ],
        tls: Some(tls_info),
    }
}

#[test]
fn text_report_of_a_failing_check() {
    insta::assert_snapshot!(report::text(&failing(), true, false));
}

#[test]
fn text_report_of_a_passing_check() {
    insta::assert_snapshot!(report::text(&passing(), true, false));
}

#[test]
fn markdown_report_of_a_failing_check() {
    insta::assert_snapshot!(report::markdown(&failing()));
}

#[test]
fn markdown_report_of_a_passing_check() {
    insta::assert_snapshot!(report::markdown(&passing()));
}

#[test]
fn help() {
    let (code, out, _) = common::run(&["--help"], &[]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(out);
}

#[test]
fn check_help() {
    let (code, out, _) = common::run(&["check", "--help"], &[]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(out);
}

#[test]
fn bundle_help() {
    let (code, out, _) = common::run(&["bundle", "--help"], &[]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(out);
}

#[test]
fn bash_completion() {
    let (code, out, _) = common::run(&["completions", "bash"], &[]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(out);
}

#[test]
fn zsh_completion() {
    let (code, out, _) = common::run(&["completions", "zsh"], &[]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(out);
}

#[test]
fn fish_completion() {
    let (code, out, _) = common::run(&["completions", "fish"], &[]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(out);
}

#[test]
fn powershell_and_elvish_completions_are_made() {
    for shell in ["powershell", "elvish"] {
        let (code, out, err) = common::run(&["completions", shell], &[]);
        assert_eq!(code, 0, "{err}");
        assert!(
            out.contains("mqtt-doctor") && out.contains("bundle"),
            "{shell}: {out}"
        );
    }
}

#[test]
fn man_page() {
    let (code, out, _) = common::run(&["man"], &[]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(out);
}

#[test]
fn fleet_markdown() {
    let results = vec![
        ("office".to_string(), Ok(passing())),
        ("plant|2".to_string(), Ok(failing())),
        (
            "broken".to_string(),
            Err("profile \"broken\": tls.ca: the file cannot be read".to_string()),
        ),
    ];
    insta::assert_snapshot!(report::fleet_markdown(&results, 31));
}
