//! The client chain a run sends is part of its report (for the app's Chain tab), not of its
//! JSON: a real Mosquitto with `require_certificate true` refuses a client leaf from another
//! CA, and the report carries that chain and its analysis naming the other CA.

mod common;

use common::*;
use mqtt_doctor::certs::FindingKind;
use mqtt_doctor::diagnose::{self, CaBundle, ClientIdentity, Plan, Report, Stage};
use mqtt_doctor::lab::pki::{Issued, LabPki};
use std::time::Duration;

const ROGUE_CA: &str = "O=mqtt-doctor lab, CN=Unknown Rogue CA";
const ROGUE_LEAF: &str = "O=mqtt-doctor lab, CN=rogue-device";

struct Broker {
    _m: Mosquitto,
    port: u16,
    pki: LabPki,
}

fn broker() -> Broker {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = LabPki::generate(time::OffsetDateTime::now_utc()).expect("pki");
    let d = dir.path();
    let chain = write(
        d,
        "server-chain.pem",
        &(pki.good.cert_pem() + &pki.intermediate.issued.cert_pem()),
    );
    let key = write(d, "server.key", &pki.good.key_pem());
    let client_ca = write(d, "client-ca.pem", &pki.client_ca.issued.cert_pem());
    let port = free_port();
    let config = format!(
        "listener {port} 127.0.0.1\nallow_anonymous true\ncertfile {}\nkeyfile {}\ncafile {}\nrequire_certificate true\n",
        chain.display(),
        key.display(),
        client_ca.display(),
    );
    let m = Mosquitto::start(dir, &config, &[port]);
    Broker { _m: m, port, pki }
}

async fn diagnose_with(b: &Broker, client: &Issued, extra: &[&Issued]) -> Report {
    let parsed: diagnose::ParsedUrl = format!("mqtts://localhost:{}", b.port)
        .parse()
        .expect("a URL");
    let mut plan = Plan::new(parsed.target);
    plan.timeout = Duration::from_secs(5);
    plan.tls.ca = Some(CaBundle {
        path: "ca.pem".into(),
        certs: vec![b.pki.root.issued.cert.clone()],
    });
    let mut certs = vec![client.cert.clone()];
    certs.extend(extra.iter().map(|i| i.cert.clone()));
    plan.tls.client = Some(ClientIdentity {
        source: "rogue.pem + rogue.key".into(),
        certs,
        key: client.key_der(),
    });
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    drop(rx);
    tokio::time::timeout(Duration::from_secs(20), diagnose::run(plan, tx))
        .await
        .expect("the run ends")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_leaf_from_another_ca_is_in_the_report_with_its_analysis() {
    let b = broker();

    // The rogue leaf sent with its own root: the broker's unknown_ca refuses it.
    let report = diagnose_with(&b, &b.pki.rogue_client, &[&b.pki.rogue_root.issued]).await;
    assert_eq!(
        (report.verdict.stage, report.verdict.cause),
        (Some(Stage::Tls), Some("tls.client_cert_rejected")),
        "{report:#?}"
    );
    let tls = report.tls.as_ref().expect("tls info");
    assert_eq!(
        tls.client_chain_der,
        vec![
            b.pki.rogue_client.cert.clone(),
            b.pki.rogue_root.issued.cert.clone()
        ]
    );
    let a = tls.client_analysis.as_ref().expect("a client analysis");
    assert_eq!(a.certs[0].subject, ROGUE_LEAF);
    assert!(
        a.findings.iter().any(|f| f.kind
            == FindingKind::UntrustedRoot {
                issuer_or_root: ROGUE_CA.into()
            }),
        "{:#?}",
        a.findings
    );
    assert!(
        a.findings.iter().any(|f| f.kind == FindingKind::KeyMatches),
        "the key was compared with the leaf: {:#?}",
        a.findings
    );
    // The server's chain is still there beside it.
    assert_eq!(tls.chain_der.len(), 2);
    // Neither the client chain nor its analysis reaches the JSON.
    let json = mqtt_doctor::report::json(&report);
    let value: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let keys: Vec<&str> = value["tls"]
        .as_object()
        .expect("a tls object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "alpn",
            "chain",
            "cipher_suite",
            "sni",
            "trust",
            "verified",
            "version"
        ],
        "{json}"
    );

    // The rogue leaf alone: its issuer is neither sent nor trusted, drawn as the missing link.
    let report = diagnose_with(&b, &b.pki.rogue_client, &[]).await;
    assert_eq!(
        report.verdict.cause,
        Some("tls.client_chain_incomplete"),
        "{report:#?}"
    );
    let tls = report.tls.as_ref().expect("tls info");
    assert_eq!(tls.client_chain_der, vec![b.pki.rogue_client.cert.clone()]);
    let a = tls.client_analysis.as_ref().expect("a client analysis");
    assert!(
        a.findings.iter().any(|f| matches!(
            &f.kind,
            FindingKind::IncompleteChain { issuer, .. } if issuer == ROGUE_CA
        )),
        "{:#?}",
        a.findings
    );
}
