use super::codes::{all_connack_causes, all_suback_causes};
use super::*;
use std::collections::HashSet;

fn samples() -> Vec<Problem> {
    use Problem::*;
    let h = || "broker.example.com".to_string();
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
            error: "x".into(),
        },
        TcpRefused {
            addr: "127.0.0.1:1".into(),
        },
        TcpTimeout {
            addrs: "127.0.0.1:1".into(),
            secs: 5,
        },
        TcpUnreachable {
            addr: "a".into(),
            error: "e".into(),
        },
        TcpReset {
            addr: "a".into(),
            how: "reset".into(),
        },
        TcpFailed {
            addr: "a".into(),
            error: "e".into(),
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
            not_after: "d".into(),
            ago: "3 days".into(),
        },
        TlsCertNotYetValid {
            role: CertRole::Leaf,
            subject: "CN=x".into(),
            not_before: "d".into(),
            in_: "2 days".into(),
            local_clock: "now".into(),
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
        TlsProtocolVersion { detail: "d".into() },
        TlsClientCertRequired {
            ca_names: vec!["CN=ca".into()],
        },
        TlsClientCertRejected {
            alert: "a".into(),
            ours: "CN=c".into(),
        },
        TlsHandshakeFailure { error: "e".into() },
        MqttTlsRequired { port: 8883 },
        MqttNotMqtt {
            speaks: PeerSpeaks::Http,
            first_bytes: "HTTP/1.1".into(),
        },
        MqttClosedWithoutConnack {
            how: "closed".into(),
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
            not_after: "d".into(),
            in_: "3 days".into(),
        },
        TlsChainOutOfOrder {
            presented: "1, 0".into(),
            expected: "0, 1".into(),
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
        SubDisconnected { reason: None },
        SubTimeout {
            waiting_for: "SUBACK".into(),
            secs: 5,
        },
        SubNoRoundTrip {
            topic: "t".into(),
            secs: 5,
            puback: None,
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
