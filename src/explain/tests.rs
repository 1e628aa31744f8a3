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
        TcpLocalFdLimit {
            addr: a(),
            system_wide: false,
            limit: Some(64),
        },
        TcpLocalFdLimit {
            addr: a(),
            system_wide: true,
            limit: None,
        },
        Ws(WsProblem::BadFrame {
            error: "Space limit exceeded".into(),
        }),
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
            fetch: Some(Box::new(IssuerFetch::Failed {
                url: "http://ca.example/i.crt".into(),
                reason: "HTTP 404 Not Found".into(),
            })),
        },
        TlsSniRejected {
            sent: None,
            host: "10.0.0.7".into(),
            alert: rustls::AlertDescription::UnrecognisedName,
        },
        TlsClientChainIncomplete {
            gap: Box::new(ClientChainGap {
                cert: "CN=dev".into(),
                missing: "CN=Device CA".into(),
                authority_key_id: None,
                source: "dev.pem".into(),
                accepted: Some(vec!["CN=Root".into()]),
                refusal: Some(Refusal::Alert(rustls::AlertDescription::UnknownCA)),
            }),
        },
        MqttPolicyRefused {
            how: Ended::Closed,
            client_id: "thing-1".into(),
            cert: "CN=thing".into(),
            aws: true,
        },
        MqttTlsNotUsed {
            options: vec!["--ca"],
            scheme: "mqtt",
        },
        MqttAzureMismatch {
            host: "hub.azure-devices.net".into(),
            check: AzureCheck::Mqtt5,
        },
        Proxy(ProxyProblem::Unreachable {
            proxy: "http://p:3128".into(),
            source: "HTTPS_PROXY".into(),
            failure: Box::new(TcpRefused {
                addr: "127.0.0.1:3128".parse().unwrap(),
            }),
        }),
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

/// "your SAS token expired 2 hours ago": the se= expiry against the clock it was read with.
#[test]
fn an_expired_sas_token_says_how_long_ago() {
    use Problem::*;
    let f = explain(&MqttAzureMismatch {
        host: "hub.azure-devices.net".into(),
        check: AzureCheck::SasExpired {
            expiry: 1_700_000_000,
            now: 1_700_000_000 + 2 * 3600,
        },
    });
    assert_eq!(f.cause, "mqtt.azure_mismatch");
    assert!(
        f.summary.starts_with("Your SAS token expired 2 hours ago"),
        "{}",
        f.summary
    );
}

/// Reaching the proxy failed: the proxy's cause, naming where its address came from.
#[test]
fn an_unreachable_proxy_names_its_source() {
    use Problem::*;
    let p = Proxy(ProxyProblem::Unreachable {
        proxy: "socks5://proxy.corp:1080".into(),
        source: "ALL_PROXY".into(),
        failure: Box::new(DnsNxDomain {
            host: "proxy.corp".into(),
        }),
    });
    let f = explain(&p);
    assert_eq!(f.cause, "proxy.dns");
    assert_eq!(p.stage(), Stage::Proxy);
    assert!(f.summary.contains("(from ALL_PROXY)"), "{}", f.summary);
    assert!(f.remedy.contains("ALL_PROXY"), "{}", f.remedy);
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

/// MQTT 5.0 §3.2.2.2 Connect Reason Code: every refusal a CONNACK may carry, its OASIS name
/// and the cause id the catalog gives it.
const CONNACK_V5_REFUSALS: &[(u8, &str, &str)] = &[
    (0x80, "Unspecified error", "mqtt.unspecified_error"),
    (0x81, "Malformed Packet", "mqtt.malformed_packet"),
    (0x82, "Protocol Error", "mqtt.protocol_error"),
    (
        0x83,
        "Implementation specific error",
        "mqtt.implementation_specific_error",
    ),
    (
        0x84,
        "Unsupported Protocol Version",
        "mqtt.unsupported_protocol_version",
    ),
    (
        0x85,
        "Client Identifier not valid",
        "mqtt.client_id_not_valid",
    ),
    (
        0x86,
        "Bad User Name or Password",
        "mqtt.bad_username_or_password",
    ),
    (0x87, "Not authorized", "mqtt.not_authorized"),
    (0x88, "Server unavailable", "mqtt.server_unavailable"),
    (0x89, "Server busy", "mqtt.server_busy"),
    (0x8A, "Banned", "mqtt.banned"),
    (
        0x8C,
        "Bad authentication method",
        "mqtt.bad_authentication_method",
    ),
    (0x90, "Topic Name invalid", "mqtt.topic_name_invalid"),
    (0x95, "Packet too large", "mqtt.packet_too_large"),
    (0x97, "Quota exceeded", "mqtt.quota_exceeded"),
    (
        0x99,
        "Payload format invalid",
        "mqtt.payload_format_invalid",
    ),
    (0x9A, "Retain not supported", "mqtt.retain_not_supported"),
    (0x9B, "QoS not supported", "mqtt.qos_not_supported"),
    (0x9C, "Use another server", "mqtt.use_another_server"),
    (0x9D, "Server moved", "mqtt.server_moved"),
    (
        0x9F,
        "Connection rate exceeded",
        "mqtt.connection_rate_exceeded",
    ),
];

/// MQTT 3.1.1 §3.2.2.3 Table 3.1 Connect Return code values: the refusals share the cause of
/// their MQTT 5 equivalent.
const CONNACK_V311_REFUSALS: &[(u8, &str, &str)] = &[
    (
        1,
        "Connection Refused, unacceptable protocol version",
        "mqtt.unsupported_protocol_version",
    ),
    (
        2,
        "Connection Refused, identifier rejected",
        "mqtt.client_id_not_valid",
    ),
    (
        3,
        "Connection Refused, Server unavailable",
        "mqtt.server_unavailable",
    ),
    (
        4,
        "Connection Refused, bad user name or password",
        "mqtt.bad_username_or_password",
    ),
    (
        5,
        "Connection Refused, not authorized",
        "mqtt.not_authorized",
    ),
];

/// MQTT 5.0 §3.9.3 Subscribe Reason Codes: the failures, their OASIS names and cause ids.
const SUBACK_V5_FAILURES: &[(u8, &str, &str)] = &[
    (0x80, "Unspecified error", "sub.unspecified_error"),
    (
        0x83,
        "Implementation specific error",
        "sub.implementation_specific_error",
    ),
    (0x87, "Not authorized", "sub.not_authorized"),
    (0x8F, "Topic Filter invalid", "sub.topic_filter_invalid"),
    (0x91, "Packet Identifier in use", "sub.packet_id_in_use"),
    (0x97, "Quota exceeded", "sub.quota_exceeded"),
    (
        0x9E,
        "Shared Subscriptions not supported",
        "sub.shared_subscriptions_not_supported",
    ),
    (
        0xA1,
        "Subscription Identifiers not supported",
        "sub.subscription_ids_not_supported",
    ),
    (
        0xA2,
        "Wildcard Subscriptions not supported",
        "sub.wildcards_not_supported",
    ),
];

#[test]
fn every_mqtt5_connack_refusal_has_its_oasis_name_and_cause() {
    for &(code, name, cause) in CONNACK_V5_REFUSALS {
        assert_eq!(connack_name(MqttVersion::V5, code), name, "0x{code:02X}");
        assert_eq!(connack_cause(MqttVersion::V5, code), cause, "0x{code:02X}");
    }
    assert_eq!(connack_name(MqttVersion::V5, 0x00), "Success");
}

#[test]
fn every_mqtt311_connack_return_code_has_its_oasis_name_and_cause() {
    for &(code, name, cause) in CONNACK_V311_REFUSALS {
        assert_eq!(connack_name(MqttVersion::V311, code), name, "{code}");
        assert_eq!(connack_cause(MqttVersion::V311, code), cause, "{code}");
    }
    assert_eq!(connack_name(MqttVersion::V311, 0), "Connection Accepted");
    // 6–255 are reserved in 3.1.1.
    assert_eq!(
        connack_cause(MqttVersion::V311, 6),
        "mqtt.refused_unknown_code"
    );
}

#[test]
fn codes_outside_the_connack_tables_are_unknown_refusals() {
    // 0x8B (Server shutting down) and 0x8D–0x8E are DISCONNECT-only reason codes.
    for code in [0x42, 0x8B, 0x8D, 0x8E, 0xA0] {
        assert_eq!(
            connack_cause(MqttVersion::V5, code),
            "mqtt.refused_unknown_code",
            "0x{code:02X}"
        );
    }
}

#[test]
fn every_suback_code_has_its_oasis_name_and_cause() {
    for &(code, name, cause) in SUBACK_V5_FAILURES {
        assert_eq!(suback_name(MqttVersion::V5, code), name, "0x{code:02X}");
        assert_eq!(suback_cause(MqttVersion::V5, code), cause, "0x{code:02X}");
    }
    // MQTT 5.0 §3.9.3 and 3.1.1 §3.9.3: 0x00–0x02 grant a maximum QoS and are no failure.
    for version in [MqttVersion::V5, MqttVersion::V311] {
        assert_eq!(suback_name(version, 0x00), "Granted QoS 0");
        assert_eq!(suback_name(version, 0x01), "Granted QoS 1");
        assert_eq!(suback_name(version, 0x02), "Granted QoS 2");
    }
    // 3.1.1 has a single failure code, 0x80 "Failure".
    assert_eq!(suback_name(MqttVersion::V311, 0x80), "Failure");
    assert_eq!(suback_cause(MqttVersion::V311, 0x80), "sub.refused");
    assert_eq!(
        suback_cause(MqttVersion::V311, 0x87),
        "sub.refused_unknown_code"
    );
    assert_eq!(
        suback_cause(MqttVersion::V5, 0x42),
        "sub.refused_unknown_code"
    );
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

#[test]
fn an_unrecorded_trust_store_is_not_shown_as_empty_parentheses() {
    let f = explain(&Problem::TlsUntrustedRoot {
        issuer: "CN=Lab Root".into(),
        trust: String::new(),
    });
    assert_eq!(
        f.summary,
        "The broker's certificate chains to CN=Lab Root, which is not in the trust store used."
    );
    let f = explain(&Problem::TlsSelfSigned {
        subject: "CN=b".into(),
        trust: "system trust store (140 certificates)".into(),
    });
    assert_eq!(
        f.summary,
        "The broker presents a self-signed certificate (CN=b) that is not in the trust store used (system trust store (140 certificates))."
    );
}

#[test]
fn every_stage_has_a_timeout_cause_of_its_own_stage_in_the_catalog() {
    for stage in Stage::ALL {
        let id = timeout_cause(stage);
        let info = cause_info(id).unwrap_or_else(|| panic!("{id} is not in the catalog"));
        assert_eq!(info.stage, stage, "{id}");
    }
}
