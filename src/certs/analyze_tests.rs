use rcgen::{BasicConstraints, ExtendedKeyUsagePurpose, IsCa, KeyUsagePurpose};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::*;
use crate::certs::load;
use crate::certs::testutil::*;
use crate::explain::{finding_sentence, inspect_text};

fn kinds(a: &Analysis) -> Vec<&FindingKind> {
    a.findings.iter().map(|f| &f.kind).collect()
}

fn find(a: &Analysis, pred: impl Fn(&FindingKind) -> bool) -> &CertFinding {
    a.findings
        .iter()
        .find(|f| pred(&f.kind))
        .unwrap_or_else(|| panic!("finding not present in {:#?}", a.findings))
}

fn opts<'a>(anchors: &'a [CertificateDer<'a>]) -> AnalyzeOptions<'a> {
    AnalyzeOptions {
        anchors,
        ..AnalyzeOptions::new(NOW)
    }
}

#[test]
fn healthy_chain_has_only_good_news() {
    let c = chain();
    let anchors = [c.root.der.clone()];
    let key = c.leaf.key_der();
    let o = AnalyzeOptions {
        host: Some("MQTT.Example.com."),
        key: Some(&key),
        ..opts(&anchors)
    };
    let a = analyze(&[c.leaf.der.clone(), c.inter.der.clone()], &o).unwrap();
    assert_eq!(a.order, vec![0, 1]);
    assert!(a.in_order);
    assert_eq!(
        kinds(&a),
        vec![
            &FindingKind::KeyMatches,
            &FindingKind::Trusted {
                anchor: "CN=Lab Root".into(),
                issued_by_anchor: true
            }
        ]
    );
    assert_eq!(a.findings[1].cert, Some(1));
    assert_eq!(a.worst(), Some(Severity::Info));
    // The root may also be sent.
    let a = analyze(
        &[c.leaf.der.clone(), c.inter.der.clone(), c.root.der.clone()],
        &o,
    )
    .unwrap();
    assert_eq!(a.order, vec![0, 1, 2]);
    assert_eq!(a.worst(), Some(Severity::Info));
}

#[test]
fn chain_sent_in_reverse_order_is_reordered() {
    let c = chain();
    let anchors = [c.root.der.clone()];
    let a = analyze(
        &[c.root.der.clone(), c.inter.der.clone(), c.leaf.der.clone()],
        &opts(&anchors),
    )
    .unwrap();
    assert_eq!(a.order, vec![2, 1, 0]);
    assert!(!a.in_order);
    let f = find(&a, |k| matches!(k, FindingKind::OutOfOrder { .. }));
    assert_eq!(
        f.kind,
        FindingKind::OutOfOrder {
            presented: vec![0, 1, 2],
            expected: vec![2, 1, 0]
        }
    );
    assert_eq!(f.severity, Severity::Warning);
    let s = finding_sentence(f, &a.certs);
    assert!(
        s.contains("#3 \"CN=mqtt.example.com\" → #2 \"CN=Lab Intermediate\" → #1 \"CN=Lab Root\""),
        "{s}"
    );
    // Leaf first but root before intermediate.
    let a = analyze(
        &[c.leaf.der.clone(), c.root.der.clone(), c.inter.der.clone()],
        &opts(&anchors),
    )
    .unwrap();
    assert_eq!(a.order, vec![0, 2, 1]);
    assert!(!a.in_order);
}

#[test]
fn expired_intermediate_is_reported_with_how_long_ago() {
    let root = make(Spec::ca("Lab Root"), None);
    let inter = make(
        Spec {
            not_after: NOW - 3 * DAY,
            ..Spec::ca("Lab Intermediate")
        },
        Some(&root),
    );
    let leaf = make(
        Spec::leaf("mqtt.example.com", &["mqtt.example.com"]),
        Some(&inter),
    );
    let anchors = [root.der.clone()];
    let a = analyze(&[leaf.der.clone(), inter.der.clone()], &opts(&anchors)).unwrap();
    let f = find(&a, |k| matches!(k, FindingKind::Expired { .. }));
    assert_eq!(f.cert, Some(1));
    assert_eq!(f.severity, Severity::Error);
    assert_eq!(
        f.kind,
        FindingKind::Expired {
            not_after: NOW - 3 * DAY,
            by_secs: 3 * DAY
        }
    );
    assert_eq!(
        finding_sentence(f, &a.certs),
        "The intermediate certificate \"CN=Lab Intermediate\" expired 3 days ago (on 2026-11-25 10:00 UTC)."
    );
}

#[test]
fn not_yet_valid_and_expiring_soon() {
    let c = chain();
    let early = make(
        Spec {
            not_before: NOW + 2 * 3600,
            ..Spec::leaf("early", &["early.example.com"])
        },
        Some(&c.inter),
    );
    let soon = make(
        Spec {
            not_after: NOW + 45 * 60,
            ..Spec::leaf("soon", &["soon.example.com"])
        },
        Some(&c.inter),
    );
    let anchors = [c.root.der.clone()];
    let a = analyze(&[early.der.clone(), c.inter.der.clone()], &opts(&anchors)).unwrap();
    let f = find(&a, |k| matches!(k, FindingKind::NotYetValid { .. }));
    assert_eq!(
        f.kind,
        FindingKind::NotYetValid {
            not_before: NOW + 7200,
            in_secs: 7200
        }
    );
    assert!(finding_sentence(f, &a.certs).contains("becomes valid in 2 hours"));

    let a = analyze(&[soon.der.clone(), c.inter.der.clone()], &opts(&anchors)).unwrap();
    let f = find(&a, |k| matches!(k, FindingKind::ExpiresSoon { .. }));
    assert_eq!(f.severity, Severity::Warning);
    assert!(finding_sentence(f, &a.certs).contains("expires in 45 minutes"));
    // Outside the warning window: nothing.
    let o = AnalyzeOptions {
        expiry_warning_days: 0,
        ..opts(&anchors)
    };
    let a = analyze(&[c.leaf.der.clone(), c.inter.der.clone()], &o).unwrap();
    assert!(
        !kinds(&a)
            .iter()
            .any(|k| matches!(k, FindingKind::ExpiresSoon { .. }))
    );
}

#[test]
fn hostname_and_ip_matching() {
    let c = chain();
    let anchors = [c.root.der.clone()];
    let run = |host: &str| {
        let o = AnalyzeOptions {
            host: Some(host),
            ..opts(&anchors)
        };
        analyze(&[c.leaf.der.clone(), c.inter.der.clone()], &o).unwrap()
    };
    assert_eq!(run("10.0.0.7").worst(), Some(Severity::Info));
    assert_eq!(run("mqtt.example.com").worst(), Some(Severity::Info));
    let a = run("broker.example.com");
    let f = find(&a, |k| matches!(k, FindingKind::HostnameMismatch { .. }));
    assert_eq!(
        f.kind,
        FindingKind::HostnameMismatch {
            host: "broker.example.com".into(),
            names: vec!["mqtt.example.com".into(), "10.0.0.7".into()]
        }
    );
    assert_eq!(
        finding_sentence(f, &a.certs),
        "The certificate \"CN=mqtt.example.com\" is not valid for \"broker.example.com\": it is only valid for \"mqtt.example.com\", \"10.0.0.7\"."
    );
    assert!(
        kinds(&run("10.0.0.8"))
            .iter()
            .any(|k| matches!(k, FindingKind::HostnameMismatch { .. }))
    );
    // Client certificates are not checked against the server's host name.
    let o = AnalyzeOptions {
        host: Some("elsewhere"),
        purpose: Purpose::Client,
        ..opts(&anchors)
    };
    let a = analyze(&[c.leaf.der.clone(), c.inter.der.clone()], &o).unwrap();
    assert_eq!(a.worst(), Some(Severity::Info));
}

#[test]
fn wildcard_rules_are_strict_rfc6125() {
    assert!(name_matches("*.example.com", "a.example.com"));
    assert!(name_matches("*.EXAMPLE.com", "A.example.COM"));
    assert!(!name_matches("*.example.com", "a.b.example.com"));
    assert!(!name_matches("*.example.com", "example.com"));
    assert!(!name_matches("*.example.com", ".example.com"));
    assert!(!name_matches("f*.example.com", "foo.example.com"));
    assert!(!name_matches("*oo.example.com", "foo.example.com"));
    assert!(!name_matches("a.*.example.com", "a.b.example.com"));
    assert!(!name_matches("*.com", "example.com"));
    assert!(!name_matches("*", "localhost"));
    assert!(name_matches("localhost", "LOCALHOST"));
    assert!(name_matches("broker.lan.", "broker.lan"));
    assert!(
        !name_matches("10.0.0.7", "10.0.0.7"),
        "IP hosts match IP SANs only"
    );
    assert!(!name_matches("example.com", "example.org"));

    let c = chain();
    let wild = make(Spec::leaf("wild", &["*.example.com"]), Some(&c.inter));
    let anchors = [c.root.der.clone()];
    for (host, ok) in [
        ("a.example.com", true),
        ("a.b.example.com", false),
        ("example.com", false),
    ] {
        let o = AnalyzeOptions {
            host: Some(host),
            ..opts(&anchors)
        };
        let a = analyze(&[wild.der.clone(), c.inter.der.clone()], &o).unwrap();
        let mismatch = kinds(&a)
            .iter()
            .any(|k| matches!(k, FindingKind::HostnameMismatch { .. }));
        assert_eq!(mismatch, !ok, "{host}");
    }
    assert_eq!(
        hosts_in(&crate::certs::parse_cert(&wild.der).unwrap()),
        vec!["*.example.com"]
    );
}

#[test]
fn cn_only_certificate_says_whether_cn_would_match() {
    let c = chain();
    let cn_only = make(Spec::leaf("mqtt.example.com", &[]), Some(&c.inter));
    let anchors = [c.root.der.clone()];
    let run = |host: Option<&str>| {
        let o = AnalyzeOptions {
            host,
            ..opts(&anchors)
        };
        analyze(&[cn_only.der.clone(), c.inter.der.clone()], &o).unwrap()
    };
    let a = run(Some("mqtt.example.com"));
    let f = find(&a, |k| matches!(k, FindingKind::CnOnly { .. }));
    assert_eq!(
        f.kind,
        FindingKind::CnOnly {
            cn: "mqtt.example.com".into(),
            host: Some("mqtt.example.com".into()),
            host_matches_cn: Some(true)
        }
    );
    assert_eq!(f.severity, Severity::Error);
    assert!(finding_sentence(f, &a.certs).contains("mosquitto_sub"));
    let a = run(Some("other.example.com"));
    let f = find(&a, |k| matches!(k, FindingKind::CnOnly { .. }));
    assert!(matches!(
        f.kind,
        FindingKind::CnOnly {
            host_matches_cn: Some(false),
            ..
        }
    ));
    let a = run(None);
    let f = find(&a, |k| matches!(k, FindingKind::CnOnly { .. }));
    assert!(matches!(
        f.kind,
        FindingKind::CnOnly {
            host_matches_cn: None,
            ..
        }
    ));
    assert_eq!(f.severity, Severity::Warning);
}

#[test]
fn missing_intermediate_names_issuer_and_key_id() {
    let root = make(Spec::ca("Lab Root"), None);
    let i1 = make(Spec::ca("Lab Intermediate 1"), Some(&root));
    let i2 = make(Spec::ca("Lab Intermediate 2"), Some(&i1));
    let leaf = make(
        Spec::leaf("mqtt.example.com", &["mqtt.example.com"]),
        Some(&i2),
    );
    let anchors = [root.der.clone()];
    let a = analyze(&[leaf.der.clone(), i2.der.clone()], &opts(&anchors)).unwrap();
    let f = find(&a, |k| matches!(k, FindingKind::MissingIntermediate { .. }));
    let i1_info = crate::certs::parse_cert(&i1.der).unwrap();
    assert_eq!(
        f.kind,
        FindingKind::MissingIntermediate {
            issuer: "CN=Lab Intermediate 1".into(),
            authority_key_id: i1_info.subject_key_id.clone(),
        }
    );
    assert_eq!(f.cert, Some(1));
    assert_eq!(f.severity, Severity::Error);
    let s = finding_sentence(f, &a.certs);
    assert!(s.contains("\"CN=Lab Intermediate 1\" (key id "), "{s}");
    // Without anchors nothing can be said to be missing: a chain ending at a CA certificate
    // is what brokers send (the root stays out), so it is only information.
    let a = analyze(
        &[leaf.der.clone(), i2.der.clone()],
        &AnalyzeOptions::new(NOW),
    )
    .unwrap();
    let f = find(&a, |k| matches!(k, FindingKind::EndsBelowRoot { .. }));
    assert_eq!(f.severity, Severity::Info);
    assert!(
        a.worst()
            .is_none_or(|w| w != Severity::Error && w != Severity::Warning),
        "{a:?}"
    );
}

/// `cert inspect good-chain.pem` without --ca: leaf + intermediate, the root absent, is a
/// good chain and must not be called one with a missing intermediate.
#[test]
fn a_good_chain_without_its_root_and_without_anchors_has_no_warning() {
    let c = chain();
    let a = analyze(
        &[c.leaf.der.clone(), c.inter.der.clone()],
        &AnalyzeOptions::new(NOW),
    )
    .unwrap();
    let text = crate::explain::inspect_text("good-chain.pem", &a);
    assert!(!text.contains("missing"), "{text}");
    assert!(
        !text.contains("[warning]") && !text.contains("[error]"),
        "{text}"
    );
    assert!(text.contains("brokers need not send their root"), "{text}");
}

#[test]
fn leaf_only_is_an_incomplete_chain() {
    let c = chain();
    let anchors = [c.root.der.clone()];
    let a = analyze(std::slice::from_ref(&c.leaf.der), &opts(&anchors)).unwrap();
    let f = find(&a, |k| matches!(k, FindingKind::IncompleteChain { .. }));
    assert!(
        matches!(&f.kind, FindingKind::IncompleteChain { issuer, .. } if issuer == "CN=Lab Intermediate")
    );
    assert!(
        finding_sentence(f, &a.certs)
            .starts_with("Only the certificate \"CN=mqtt.example.com\" was sent")
    );
    // Leaf directly issued by an anchor: fine.
    let anchors = [c.inter.der.clone()];
    let a = analyze(std::slice::from_ref(&c.leaf.der), &opts(&anchors)).unwrap();
    assert_eq!(a.worst(), Some(Severity::Info));
}

#[test]
fn anchor_in_the_middle_of_the_chain_ends_it() {
    let c = chain();
    let anchors = [c.inter.der.clone()];
    let a = analyze(
        &[c.leaf.der.clone(), c.inter.der.clone(), c.root.der.clone()],
        &opts(&anchors),
    )
    .unwrap();
    let f = find(&a, |k| matches!(k, FindingKind::Trusted { .. }));
    assert_eq!(f.cert, Some(0));
    assert_eq!(
        finding_sentence(f, &a.certs),
        "The certificate \"CN=mqtt.example.com\" is issued by the trusted CA \"CN=Lab Intermediate\"."
    );
    assert_eq!(a.worst(), Some(Severity::Info));
}

#[test]
fn untrusted_root() {
    let c = chain();
    let other = make(Spec::ca("Other Root"), None);
    let anchors = [other.der.clone()];
    let a = analyze(
        &[c.leaf.der.clone(), c.inter.der.clone(), c.root.der.clone()],
        &opts(&anchors),
    )
    .unwrap();
    let f = find(&a, |k| matches!(k, FindingKind::UntrustedRoot { .. }));
    assert_eq!(
        f.kind,
        FindingKind::UntrustedRoot {
            issuer_or_root: "CN=Lab Root".into()
        }
    );
    assert_eq!(f.cert, Some(2));
    assert!(finding_sentence(f, &a.certs).contains("not among the trusted CA certificates"));
}

#[test]
fn same_name_different_key_is_not_an_issuer() {
    let c = chain();
    // A root with the same name but another key: signature and key ids disagree.
    let impostor = make(Spec::ca("Lab Root"), None);
    let anchors = [impostor.der.clone()];
    let a = analyze(&[c.leaf.der.clone(), c.inter.der.clone()], &opts(&anchors)).unwrap();
    assert!(
        kinds(&a)
            .iter()
            .any(|k| matches!(k, FindingKind::MissingIntermediate { .. }))
    );
}

#[test]
fn self_signed_leaf() {
    let c = chain();
    let ss = make(
        Spec {
            not_before: NOW - DAY,
            ..Spec::leaf("broker.lan", &["broker.lan"])
        },
        None,
    );
    let anchors = [c.root.der.clone()];
    let a = analyze(std::slice::from_ref(&ss.der), &opts(&anchors)).unwrap();
    let f = find(&a, |k| matches!(k, FindingKind::SelfSignedLeaf { .. }));
    assert_eq!(
        (&f.kind, f.severity),
        (
            &FindingKind::SelfSignedLeaf { trusted: false },
            Severity::Error
        )
    );
    assert!(a.certs[0].self_signed);
    let anchors = [ss.der.clone()];
    let a = analyze(std::slice::from_ref(&ss.der), &opts(&anchors)).unwrap();
    let f = find(&a, |k| matches!(k, FindingKind::SelfSignedLeaf { .. }));
    assert_eq!(
        (&f.kind, f.severity),
        (
            &FindingKind::SelfSignedLeaf { trusted: true },
            Severity::Info
        )
    );
}

#[test]
fn client_auth_only_certificate_used_as_server() {
    let c = chain();
    let client = make(
        Spec {
            eku: vec![ExtendedKeyUsagePurpose::ClientAuth],
            ..Spec::leaf("device-1", &["device-1"])
        },
        Some(&c.inter),
    );
    let anchors = [c.root.der.clone()];
    let chain = [client.der.clone(), c.inter.der.clone()];
    let a = analyze(&chain, &opts(&anchors)).unwrap();
    let f = find(&a, |k| matches!(k, FindingKind::BadEku { .. }));
    assert_eq!(
        f.kind,
        FindingKind::BadEku {
            purpose: Purpose::Server,
            present: vec!["clientAuth".into()]
        }
    );
    assert_eq!(
        finding_sentence(f, &a.certs),
        "The certificate \"CN=device-1\" may not be used for TLS server authentication: its extended key usage allows only clientAuth, not serverAuth."
    );
    let o = AnalyzeOptions {
        purpose: Purpose::Client,
        ..opts(&anchors)
    };
    assert_eq!(analyze(&chain, &o).unwrap().worst(), Some(Severity::Info));
    // No EKU extension means any usage.
    let any = make(
        Spec {
            eku: vec![],
            ..Spec::leaf("any", &["any"])
        },
        Some(&c.inter),
    );
    let a = analyze(&[any.der.clone(), c.inter.der.clone()], &opts(&anchors)).unwrap();
    assert!(a.certs[0].eku.is_empty());
    assert_eq!(a.worst(), Some(Severity::Info));
}

#[test]
fn ca_without_basic_constraints_or_key_cert_sign() {
    let root = make(Spec::ca("Lab Root"), None);
    let no_bc = make(
        Spec {
            ca: IsCa::NoCa,
            ..Spec::ca("No BC")
        },
        Some(&root),
    );
    let leaf = make(Spec::leaf("a", &["a.example.com"]), Some(&no_bc));
    let anchors = [root.der.clone()];
    let a = analyze(&[leaf.der.clone(), no_bc.der.clone()], &opts(&anchors)).unwrap();
    let f = find(&a, |k| *k == FindingKind::CaMissingBasicConstraints);
    assert_eq!(f.cert, Some(1));
    assert!(finding_sentence(f, &a.certs).contains("basicConstraints cA=TRUE is missing"));

    let no_kcs = make(
        Spec {
            key_usages: vec![KeyUsagePurpose::DigitalSignature],
            ..Spec::ca("No KCS")
        },
        Some(&root),
    );
    let leaf = make(Spec::leaf("b", &["b.example.com"]), Some(&no_kcs));
    let a = analyze(&[leaf.der.clone(), no_kcs.der.clone()], &opts(&anchors)).unwrap();
    let f = find(&a, |k| {
        matches!(k, FindingKind::CaMissingKeyCertSign { .. })
    });
    assert_eq!(
        f.kind,
        FindingKind::CaMissingKeyCertSign {
            key_usage: vec!["digitalSignature".into()]
        }
    );
    assert_eq!(f.cert, Some(1));
}

#[test]
fn ca_certificate_used_as_leaf() {
    let c = chain();
    let ca_leaf = make(
        Spec {
            ca: IsCa::Ca(BasicConstraints::Constrained(0)),
            ..Spec::leaf("x", &["x.example.com"])
        },
        Some(&c.inter),
    );
    let anchors = [c.root.der.clone()];
    let a = analyze(&[ca_leaf.der.clone(), c.inter.der.clone()], &opts(&anchors)).unwrap();
    let f = find(&a, |k| *k == FindingKind::LeafIsCa);
    assert_eq!((f.cert, f.severity), (Some(0), Severity::Error));
    assert_eq!(a.certs[0].path_len, Some(0));
}

#[test]
fn key_that_belongs_to_another_certificate() {
    let c = chain();
    let anchors = [c.root.der.clone()];
    let inter_key = c.inter.key_der();
    let o = AnalyzeOptions {
        key: Some(&inter_key),
        ..opts(&anchors)
    };
    let a = analyze(&[c.leaf.der.clone(), c.inter.der.clone()], &o).unwrap();
    let f = find(&a, |k| matches!(k, FindingKind::KeyMismatch { .. }));
    assert_eq!(
        f.kind,
        FindingKind::KeyMismatch {
            matches_cert: Some(1)
        }
    );
    assert_eq!(
        finding_sentence(f, &a.certs),
        "The private key does not belong to the certificate \"CN=mqtt.example.com\"; it belongs to \"CN=Lab Intermediate\" instead."
    );
    let stranger = make(Spec::leaf("stranger", &["s"]), None).key_der();
    let o = AnalyzeOptions {
        key: Some(&stranger),
        ..opts(&anchors)
    };
    let a = analyze(&[c.leaf.der.clone(), c.inter.der.clone()], &o).unwrap();
    assert_eq!(
        find(&a, |k| matches!(k, FindingKind::KeyMismatch { .. })).kind,
        FindingKind::KeyMismatch { matches_cert: None }
    );
}

#[test]
fn ed25519_and_p384_keys_match_their_certificates() {
    for alg in [&rcgen::PKCS_ED25519, &rcgen::PKCS_ECDSA_P384_SHA384] {
        let root = make(
            Spec {
                alg,
                ..Spec::ca("Lab Root")
            },
            None,
        );
        let leaf = make(
            Spec {
                alg,
                ..Spec::leaf("l", &["l.example.com"])
            },
            Some(&root),
        );
        let anchors = [root.der.clone()];
        let key = leaf.key_der();
        let o = AnalyzeOptions {
            key: Some(&key),
            ..opts(&anchors)
        };
        let a = analyze(std::slice::from_ref(&leaf.der), &o).unwrap();
        assert!(
            kinds(&a).contains(&&FindingKind::KeyMatches),
            "{alg:?}: {:?}",
            a.findings
        );
        assert!(
            kinds(&a)
                .iter()
                .any(|k| matches!(k, FindingKind::Trusted { .. })),
            "signature checked"
        );
    }
}

#[test]
fn sec1_keys_match_and_keys_without_public_point_say_why_not() {
    let c = chain();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("leaf.key"), c.leaf.key.serialize_pem()).unwrap();
    openssl(dir.path(), &["ec", "-in", "leaf.key", "-out", "sec1.key"]);
    openssl(
        dir.path(),
        &[
            "ec",
            "-in",
            "leaf.key",
            "-no_public",
            "-out",
            "sec1_nopub.key",
        ],
    );
    for name in ["sec1.key", "sec1_nopub.key"] {
        let loaded = load(name, &std::fs::read(dir.path().join(name)).unwrap(), None).unwrap();
        let key = loaded.key.unwrap();
        assert!(matches!(key, PrivateKeyDer::Sec1(_)));
        let o = AnalyzeOptions {
            key: Some(&key),
            ..AnalyzeOptions::new(NOW)
        };
        let a = analyze(std::slice::from_ref(&c.leaf.der), &o).unwrap();
        if name == "sec1.key" {
            assert!(
                kinds(&a).contains(&&FindingKind::KeyMatches),
                "{name}: {:?}",
                a.findings
            );
        } else {
            let f = find(&a, |k| matches!(k, FindingKind::KeyNotCompared { .. }));
            assert_eq!(f.severity, Severity::Info);
            assert!(finding_sentence(f, &a.certs).contains("saved without its public key"));
        }
    }
}

/// RSA material made with the openssl CLI (ring cannot generate RSA keys).
struct RsaFiles {
    dir: tempfile::TempDir,
}

impl RsaFiles {
    fn new() -> RsaFiles {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-subj",
                "/CN=RSA Root",
                "-days",
                "3650",
                "-sha256",
            ],
        );
        openssl(d, &["genrsa", "-traditional", "-out", "weak.key", "1024"]);
        openssl(
            d,
            &[
                "req",
                "-new",
                "-key",
                "weak.key",
                "-subj",
                "/CN=weak.example.com",
                "-out",
                "weak.csr",
            ],
        );
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "weak.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-sha1",
                "-days",
                "30",
                "-set_serial",
                "4660",
                "-out",
                "weak.pem",
            ],
        );
        RsaFiles { dir }
    }

    fn load(&self, name: &str) -> crate::certs::Loaded {
        crate::certs::load_file(&self.dir.path().join(name), None).unwrap()
    }
}

#[test]
fn sha1_signature_and_1024_bit_rsa_key_are_weak() {
    let f = RsaFiles::new();
    let ca = f.load("ca.pem").certs;
    let weak = f.load("weak.pem").certs;
    let key = f.load("weak.key").key.unwrap();
    assert!(matches!(key, PrivateKeyDer::Pkcs1(_)));
    let info = crate::certs::parse_cert(&weak[0]).unwrap();
    assert_eq!(info.signature_algorithm, "sha1WithRSAEncryption");
    assert_eq!((info.key_type.as_str(), info.key_bits), ("RSA", 1024));
    assert_eq!(info.serial, "12:34");
    let o = AnalyzeOptions {
        now: info.not_before + DAY,
        anchors: &ca,
        key: Some(&key),
        ..AnalyzeOptions::new(NOW)
    };
    let a = analyze(&weak, &o).unwrap();
    let ks = kinds(&a);
    assert!(
        ks.contains(&&FindingKind::WeakSignature {
            algorithm: "sha1WithRSAEncryption".into()
        }),
        "{ks:?}"
    );
    assert!(
        ks.contains(&&FindingKind::WeakKey {
            key_type: "RSA".into(),
            bits: 1024
        }),
        "{ks:?}"
    );
    assert!(
        ks.contains(&&FindingKind::KeyMatches),
        "PKCS#1 key compared: {ks:?}"
    );
    assert!(
        ks.iter().any(|k| matches!(k, FindingKind::Trusted { .. })),
        "SHA-1 signature verified: {ks:?}"
    );
    let ca_info = crate::certs::parse_cert(&ca[0]).unwrap();
    assert_eq!((ca_info.key_bits, ca_info.self_signed), (2048, true));
    assert_eq!(ca_info.signature_algorithm, "sha256WithRSAEncryption");
}

#[test]
fn cert_info_fields_agree_with_openssl() {
    let c = chain();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("leaf.pem"), pem(&c.leaf.der, "CERTIFICATE")).unwrap();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(
            "openssl x509 -in leaf.pem -noout -fingerprint -sha256; \
              openssl x509 -in leaf.pem -pubkey -noout | openssl pkey -pubin -outform der \
              | openssl dgst -sha256 -binary | openssl base64 -A",
        )
        .current_dir(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let info = crate::certs::parse_cert(&c.leaf.der).unwrap();
    let mut lines = text.lines();
    let fp = lines.next().unwrap();
    assert!(
        fp.ends_with(&format!("={}", info.sha256_fingerprint)),
        "{fp} vs {}",
        info.sha256_fingerprint
    );
    assert_eq!(lines.next().unwrap().trim(), info.spki_sha256_pin);

    assert_eq!(info.subject, "CN=mqtt.example.com");
    assert_eq!(info.issuer, "CN=Lab Intermediate");
    assert_eq!(info.common_name.as_deref(), Some("mqtt.example.com"));
    assert_eq!(info.dns_names, vec!["mqtt.example.com"]);
    assert_eq!(info.ip_addresses, vec!["10.0.0.7"]);
    assert_eq!(info.eku, vec!["serverAuth", "clientAuth"]);
    assert_eq!(info.key_usage, vec!["digitalSignature"]);
    assert_eq!((info.key_type.as_str(), info.key_bits), ("EC P-256", 256));
    assert_eq!(info.signature_algorithm, "ecdsa-with-SHA256");
    assert_eq!(info.not_after, NOW + 200 * DAY);
    assert_eq!(info.not_after_rfc3339, "2027-06-16T10:00:00Z");
    assert!(!info.is_ca && !info.self_signed);
    let inter = crate::certs::parse_cert(&c.inter.der).unwrap();
    assert!(inter.is_ca && !inter.self_signed);
    assert_eq!(info.authority_key_id, inter.subject_key_id);
    assert!(crate::certs::parse_cert(&c.root.der).unwrap().self_signed);
    let json = serde_json::to_value(&info).unwrap();
    assert_eq!(json["spki_sha256_pin"], info.spki_sha256_pin.as_str());
}

#[test]
fn unrelated_extra_certificate_is_flagged() {
    let c = chain();
    let other = make(Spec::ca("Other Root"), None);
    let anchors = [c.root.der.clone()];
    let a = analyze(
        &[c.leaf.der.clone(), c.inter.der.clone(), other.der.clone()],
        &opts(&anchors),
    )
    .unwrap();
    assert_eq!(a.order, vec![0, 1]);
    assert!(a.in_order);
    let f = find(&a, |k| *k == FindingKind::UnusedCertificate);
    assert_eq!(f.cert, Some(2));
}

#[test]
fn garbage_in_chain_is_an_error_not_a_panic() {
    let e = analyze(
        &[CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x00])],
        &AnalyzeOptions::new(NOW),
    )
    .unwrap_err();
    assert!(e.to_string().contains("presented certificate 1"), "{e}");
    assert!(analyze(&[], &AnalyzeOptions::new(NOW)).is_err());
}

#[test]
fn inspect_text_shows_the_tree_and_findings_and_sanitizes() {
    let root = make(Spec::ca("Lab Root"), None);
    let inter = make(
        Spec {
            not_after: NOW + 3 * DAY + 60,
            ..Spec::ca("Lab Intermediate")
        },
        Some(&root),
    );
    let leaf = make(
        Spec::leaf("evil\u{1b}[2J\u{202e}name", &["mqtt.example.com"]),
        Some(&inter),
    );
    let anchors = [root.der.clone()];
    let o = AnalyzeOptions {
        host: Some("mqtt.example.com"),
        ..opts(&anchors)
    };
    let a = analyze(&[leaf.der.clone(), inter.der.clone()], &o).unwrap();
    let text = inspect_text("server.pem", &a);
    assert!(
        text.starts_with("server.pem: 2 certificates, in issuance order\n"),
        "{text}"
    );
    assert!(
        text.contains("└─ issued by #2 CN=Lab Intermediate"),
        "{text}"
    );
    assert!(text.contains("(expires in 3 days)"), "{text}");
    assert!(text.contains(&a.certs[0].sha256_fingerprint), "{text}");
    assert!(
        text.contains(&format!("sha256/{}", a.certs[1].spki_sha256_pin)),
        "{text}"
    );
    assert!(
        text.contains(
            "[warning] The intermediate certificate \"CN=Lab Intermediate\" expires in 3 days"
        ),
        "{text}"
    );
    assert!(text.contains("evil\\u{1b}[2J\\u{202e}name"), "{text}");
    assert!(
        !text
            .chars()
            .any(|ch| (ch.is_control() && ch != '\n') || ch == '\u{202e}'),
        "{text}"
    );
    for f in &a.findings {
        let s = finding_sentence(f, &a.certs);
        assert!(!s.chars().any(|ch| ch.is_control()), "{s}");
    }
}

#[test]
fn a_ca_file_is_checked_as_anchors_not_as_a_chain_with_a_ca_for_a_leaf() {
    // Two unrelated roots, the second one expired: what a CA bundle for --ca can hold.
    let a = make(Spec::ca("Bundle Root A"), None);
    let mut old = Spec::ca("Bundle Root B");
    old.not_before = NOW - 400 * DAY;
    old.not_after = NOW - 2 * DAY;
    let b = make(old, None);
    let certs = [a.der.clone(), b.der.clone()];
    assert!(is_ca_file(&certs));
    let analysis = analyze(
        &certs,
        &AnalyzeOptions {
            purpose: Purpose::Trust,
            ..AnalyzeOptions::new(NOW)
        },
    )
    .unwrap();
    assert_eq!(analysis.order, vec![0, 1]);
    assert!(analysis.in_order);
    assert_eq!(analysis.purpose, Purpose::Trust);
    // Only the expired anchor is wrong: no "CA used as the end-entity", no "not part of the
    // chain" for the second root, no "no subjectAltName" (a CA needs none), no untrusted root.
    assert_eq!(
        kinds(&analysis),
        vec![&FindingKind::Expired {
            not_after: NOW - 2 * DAY,
            by_secs: 2 * DAY,
        }]
    );
    assert_eq!(analysis.findings[0].cert, Some(1));
    let text = inspect_text("ca.pem", &analysis);
    assert!(
        text.starts_with("ca.pem: 2 CA certificates to trust (a CA file for --ca)\n"),
        "{text}"
    );
    assert!(!text.contains("issued by"), "{text}");

    // The same root presented by a server as its only certificate still is the fatal
    // "CA used as the end-entity": the server purpose is unchanged.
    let served = analyze(&certs[..1], &AnalyzeOptions::new(NOW)).unwrap();
    assert!(kinds(&served).contains(&&FindingKind::LeafIsCa));
    // A leaf among CA certificates is not a CA file.
    let c = chain();
    assert!(!is_ca_file(&[c.root.der.clone(), c.leaf.der.clone()]));
    assert!(!is_ca_file(&[]));
}
