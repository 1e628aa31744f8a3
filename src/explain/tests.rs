use super::codes::{all_connack_causes, all_suback_causes};
use super::*;
use std::collections::HashSet;
use std::io;

fn samples() -> Vec<Problem> {
    use Problem::*;
    let h = || "broker.example.com".to_string();
    let a = || "127.0.0.1:1".parse::<std::net::SocketAddr>().unwrap();
    vec![
        DnsNxDomain { host: h() },
        DnsNoRecords { host: h() },
        DnsTimeout { host: h(), secs: 5 },
        DnsServFail { host: h() },
        DnsInvalidHost {
            host: h(),
            reason: "x".into(),
        },
        DnsFailed {
            host: h(),
            resolver_error: "x".into(),
        },
        TcpRefused { addr: a() },
        TcpTimeout {
            addrs: vec![a()],
            secs: 5,
        },
        TcpUnreachable {
            addr: a(),
            kind: io::ErrorKind::NetworkUnreachable,
        },
        TcpReset {
            addr: a(),
            how: Ended::Reset,
        },
        TcpFailed {
            addr: Some(a()),
            kind: io::ErrorKind::Other,
            os_error: "e".into(),
        },
        TcpFailed {
            addr: None,
            kind: io::ErrorKind::NotFound,
            os_error: String::new(),
        },
        TlsNotTls {
            speaks: PeerSpeaks::PlainMqtt,
            port: 1883,
        },
        TlsNotTls {
            speaks: PeerSpeaks::Http,
            port: 80,
        },
        TlsNotTls {
            speaks: PeerSpeaks::Nothing,
            port: 1,
        },
        TlsTimeout { secs: 5 },
        TlsCertExpired {
            role: CertRole::Intermediate,
            subject: "CN=x".into(),
            not_after: 1_700_000_000,
            now: 1_700_259_200,
        },
        TlsCertNotYetValid {
            role: CertRole::Leaf,
            subject: "CN=x".into(),
            not_before: 1_700_172_800,
            now: 1_700_000_000,
        },
        TlsHostnameMismatch {
            expected: h(),
            names: vec!["other".into()],
        },
        TlsUntrustedRoot {
            issuer: "CN=x".into(),
            trust: "system".into(),
        },
        TlsBadEku {
            subject: "CN=x".into(),
            present: vec!["clientAuth".into()],
        },
        TlsProtocolVersion {
            seen: VersionEvidence::Alert(rustls::AlertDescription::ProtocolVersion),
        },
        TlsClientCertRequired {
            ca_names: vec!["CN=ca".into()],
        },
        TlsClientCertRejected {
            refusal: Refusal::Alert(rustls::AlertDescription::UnknownCA),
            ours: "CN=c".into(),
        },
        TlsClientCertRejected {
            refusal: Refusal::Closed {
                during_handshake: false,
            },
            ours: String::new(),
        },
        TlsHandshakeFailure {
            error: HandshakeError::Alert(rustls::AlertDescription::HandshakeFailure),
        },
        TlsHandshakeFailure {
            error: HandshakeError::Setup {
                config_error: "e".into(),
            },
        },
        MqttTlsRequired { port: 8883 },
        MqttNotMqtt {
            speaks: PeerSpeaks::Http,
            seen: NotMqttEvidence::Bytes(b"HTTP/1.1".to_vec()),
        },
        MqttClosedWithoutConnack { how: Ended::Closed },
        MqttClosedWithoutConnack {
            how: Ended::NotSent {
                encode_error: "e".into(),
            },
        },
        MqttConnackTimeout { secs: 5 },
        MqttRefused {
            version: MqttVersion::V5,
            code: 0x9D,
            reason_string: None,
            server_reference: Some("other:1883".into()),
        },
        MqttRefused {
            version: MqttVersion::V311,
            code: 5,
            reason_string: None,
            server_reference: None,
        },
        TlsCnOnly {
            cn: "x".into(),
            expected: "h".into(),
            cn_matches: true,
        },
        TlsSelfSigned {
            subject: "CN=x".into(),
            trust: "t".into(),
        },
        TlsIncompleteChain {
            leaf: "CN=l".into(),
            missing: "CN=i".into(),
            authority_key_id: Some("ab".into()),
        },
        TlsAlpnRejected {
            offered: vec!["mqtt".into()],
            port: 443,
        },
        TlsClientKeyMismatch {
            cert: "CN=c".into(),
            source: "c.pem".into(),
        },
        TlsExpiresSoon {
            role: CertRole::Leaf,
            subject: "CN=x".into(),
            not_after: 1_700_259_200,
            now: 1_700_000_000,
        },
        TlsChainOutOfOrder {
            presented: vec![1, 0],
            expected: vec![0, 1],
        },
        TlsWeakSignature {
            subject: "CN=x".into(),
            algorithm: "sha1WithRSAEncryption".into(),
        },
        TlsWeakKey {
            subject: "CN=x".into(),
            key_type: "RSA".into(),
            bits: 1024,
        },
        SubRefused {
            version: MqttVersion::V5,
            filter: "a/#".into(),
            code: 0x87,
        },
        SubDisconnected {
            after: Sent::Subscribe,
            how: Ended::Closed,
        },
        SubDisconnected {
            after: Sent::Publish,
            how: Ended::Disconnect {
                code: Some(0x87),
                reason: None,
            },
        },
        SubTimeout {
            waiting_for: Awaited::Suback,
            secs: 5,
        },
        SubNoRoundTrip {
            topic: "t".into(),
            secs: 5,
            puback: Some(0x87),
        },
    ]
}

#[test]
fn catalog_ids_are_unique_and_prefixed_by_their_stage() {
    let mut seen = HashSet::new();
    for c in CATALOG {
        assert!(seen.insert(c.id), "duplicate cause id {}", c.id);
        assert_eq!(c.id.split('.').next(), Some(c.stage.id()), "{}", c.id);
        assert!(!c.title.is_empty() && !c.remedy.is_empty(), "{}", c.id);
    }
}

/// Each cause id is listed once, under the stage its prefix names, and every id the code can
/// produce (problems, CONNACK and SUBACK codes) is in the catalog with that same stage.
#[test]
fn every_cause_belongs_to_exactly_one_stage() {
    let mut count = std::collections::HashMap::new();
    for c in CATALOG {
        *count.entry(c.id).or_insert(0) += 1;
    }
    assert!(count.values().all(|&n| n == 1), "{count:?}");
    let stage_ids = ["dns", "tcp", "proxy", "tls", "ws", "mqtt", "sub"];
    for c in CATALOG {
        let prefix = c.id.split('.').next().unwrap();
        assert!(stage_ids.contains(&prefix), "{}", c.id);
        assert_eq!(prefix, c.stage.id(), "{}", c.id);
    }
    for p in samples() {
        let info = cause_info(p.cause()).unwrap();
        assert_eq!(p.stage(), info.stage, "{}", p.cause());
    }
    for id in all_connack_causes() {
        assert_eq!(cause_info(id).map(|c| c.stage), Some(Stage::Mqtt), "{id}");
    }
    for id in all_suback_causes() {
        assert_eq!(cause_info(id).map(|c| c.stage), Some(Stage::Sub), "{id}");
    }
}

/// The words come from typed evidence: durations, dates, alert names, reason codes.
#[test]
fn typed_evidence_is_worded_in_explain() {
    let f = explain(&Problem::TlsCertExpired {
        role: CertRole::Leaf,
        subject: "CN=b".into(),
        not_after: 1_700_000_000,
        now: 1_700_000_000 + 3 * 86_400 + 60,
    });
    assert_eq!(
        f.summary,
        "The server certificate CN=b expired 3 days ago (valid until 2023-11-14T22:13:20Z)."
    );
    let f = explain(&Problem::TlsClientCertRejected {
        refusal: Refusal::Alert(rustls::AlertDescription::UnknownCA),
        ours: "CN=dev".into(),
    });
    assert_eq!(
        f.summary,
        "The broker rejected our client certificate CN=dev (TLS alert unknown_ca (48))."
    );
    assert!(
        f.remedy.starts_with("The broker does not trust the CA"),
        "{}",
        f.remedy
    );
    let f = explain(&Problem::TcpReset {
        addr: "127.0.0.1:1883".parse().unwrap(),
        how: Ended::Closed,
    });
    assert!(
        f.summary
            .starts_with("127.0.0.1:1883 accepted the TCP connection and closed it"),
        "{}",
        f.summary
    );
    let f = explain(&Problem::SubNoRoundTrip {
        topic: "t".into(),
        secs: 5,
        puback: Some(0x87),
    });
    assert!(
        f.summary.ends_with("with PUBACK 0x87 (Not authorized)."),
        "{}",
        f.summary
    );
    let f = explain(&Problem::MqttClosedWithoutConnack {
        how: Ended::Disconnect {
            code: Some(0x9C),
            reason: None,
        },
    });
    assert_eq!(
        f.summary,
        "The broker sent DISCONNECT 0x9C (Use another server) after our CONNECT without sending a CONNACK."
    );
}

#[test]
fn every_problem_and_code_has_a_catalog_entry_and_words() {
    for p in samples() {
        let f = explain(&p);
        assert!(
            cause_info(f.cause).is_some(),
            "{} missing from catalog",
            f.cause
        );
        assert!(f.summary.ends_with('.'), "{}: {}", f.cause, f.summary);
        assert!(!f.remedy.is_empty(), "{}", f.cause);
        assert_eq!(p.stage().id(), f.cause.split('.').next().unwrap());
    }
    for id in all_connack_causes().chain(all_suback_causes()) {
        assert!(cause_info(id).is_some(), "{id} missing from catalog");
    }
}

#[test]
fn v311_and_v5_codes_share_causes() {
    assert_eq!(connack_cause(MqttVersion::V311, 5), "mqtt.not_authorized");
    assert_eq!(connack_cause(MqttVersion::V5, 0x87), "mqtt.not_authorized");
    assert_eq!(
        connack_cause(MqttVersion::V311, 4),
        "mqtt.bad_username_or_password"
    );
    assert_eq!(
        connack_cause(MqttVersion::V311, 1),
        "mqtt.unsupported_protocol_version"
    );
    assert_eq!(
        connack_cause(MqttVersion::V5, 0x42),
        "mqtt.refused_unknown_code"
    );
    assert_eq!(suback_cause(MqttVersion::V311, 0x80), "sub.refused");
    assert_eq!(
        suback_cause(MqttVersion::V5, 0xA2),
        "sub.wildcards_not_supported"
    );
}

#[test]
fn server_moved_shows_the_reference() {
    let f = explain(&Problem::MqttRefused {
        version: MqttVersion::V5,
        code: 0x9D,
        reason_string: Some("maintenance".into()),
        server_reference: Some("mqtt2.example.com:8883".into()),
    });
    assert_eq!(f.cause, "mqtt.server_moved");
    assert!(f.summary.contains("0x9D (Server moved)"), "{}", f.summary);
    assert!(
        f.summary.contains("mqtt2.example.com:8883"),
        "{}",
        f.summary
    );
    assert!(f.summary.contains("maintenance"), "{}", f.summary);
}
