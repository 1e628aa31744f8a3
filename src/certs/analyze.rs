//! Chain analysis: order, completeness, trust, validity, names, usages, algorithms and the key.
//! Pure: the caller passes the current time and the trust anchors.

use std::net::IpAddr;

use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::Serialize;

use super::error::CertError;
use super::info::{CertInfo, Raw, Verify, is_weak_signature, parse_full, verify_signed_by};
use super::keymatch::{KeyCompare, compare};

/// Which side of the TLS connection the chain is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Purpose {
    Server,
    Client,
    /// Trust anchors: a CA file for `--ca` / `tls.ca`, not a chain anyone presents. Only what
    /// matters for an anchor is checked (validity, key size): no order, no host, no "CA used
    /// as the end-entity", no "not among the trusted" (it is what is to be trusted).
    Trust,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Severity {
    Error,
    Warning,
    Info,
}

pub struct AnalyzeOptions<'a> {
    /// The host name or IP the client connects to (Server purpose only).
    pub host: Option<&'a str>,
    /// Unix seconds; certs never reads the clock.
    pub now: i64,
    /// Trusted CA certificates. Empty means "trust not checked": chain-shape findings are then
    /// warnings and an unknown root is not reported.
    pub anchors: &'a [CertificateDer<'a>],
    pub purpose: Purpose,
    /// The private key that is supposed to belong to the leaf.
    pub key: Option<&'a PrivateKeyDer<'a>>,
    /// Warn when a certificate expires within this many days (usually 30).
    pub expiry_warning_days: i64,
}

impl<'a> AnalyzeOptions<'a> {
    /// Server purpose, no host, no anchors, no key, 30 days of expiry warning.
    pub fn new(now: i64) -> Self {
        AnalyzeOptions {
            host: None,
            now,
            anchors: &[],
            purpose: Purpose::Server,
            key: None,
            expiry_warning_days: 30,
        }
    }
}

/// What is wrong (or notably right) with a chain, with the evidence to explain it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type")]
pub enum FindingKind {
    Expired {
        not_after: i64,
        by_secs: i64,
    },
    NotYetValid {
        not_before: i64,
        in_secs: i64,
    },
    ExpiresSoon {
        not_after: i64,
        in_secs: i64,
    },
    /// The leaf's subjectAltNames do not cover the host.
    HostnameMismatch {
        host: String,
        names: Vec<String>,
    },
    /// No subjectAltName: modern clients (rustls, browsers) ignore the CN; OpenSSL-based tools
    /// such as mosquitto_sub still fall back to it. `host_matches_cn` is `None` without a host.
    CnOnly {
        cn: String,
        host: Option<String>,
        host_matches_cn: Option<bool>,
    },
    /// The certificates were not sent leaf first; `expected` is the issuance order.
    OutOfOrder {
        presented: Vec<usize>,
        expected: Vec<usize>,
    },
    /// The chain stops at a certificate whose issuer is neither in the chain nor trusted.
    MissingIntermediate {
        issuer: String,
        authority_key_id: Option<String>,
    },
    /// Trust not checked: the chain ends at a CA certificate issued by `issuer`, which is not
    /// included (as roots usually are not).
    EndsBelowRoot {
        issuer: String,
    },
    /// The chain ends in a self-signed root that is not among the trust anchors.
    UntrustedRoot {
        issuer_or_root: String,
    },
    /// The leaf is self-signed; `trusted` when it is itself one of the anchors.
    SelfSignedLeaf {
        trusted: bool,
    },
    /// Only the leaf was sent and its issuer is not a trust anchor.
    IncompleteChain {
        issuer: String,
        authority_key_id: Option<String>,
    },
    BadEku {
        purpose: Purpose,
        present: Vec<String>,
    },
    /// A certificate that issues another one lacks basicConstraints cA=TRUE.
    CaMissingBasicConstraints,
    /// A CA certificate has a keyUsage extension without keyCertSign.
    CaMissingKeyCertSign {
        key_usage: Vec<String>,
    },
    /// The end-entity certificate is a CA certificate; rustls/webpki refuse that.
    LeafIsCa,
    WeakSignature {
        algorithm: String,
    },
    WeakKey {
        key_type: String,
        bits: u32,
    },
    /// `matches_cert` is another presented certificate the key does belong to, if any.
    KeyMismatch {
        matches_cert: Option<usize>,
    },
    KeyMatches,
    KeyNotCompared {
        reason: String,
    },
    /// A presented certificate that is not part of the leaf's chain.
    UnusedCertificate,
    /// The chain reaches a trust anchor: the certificate is one (`issued_by_anchor` false) or is
    /// issued by one.
    Trusted {
        anchor: String,
        issued_by_anchor: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertFinding {
    pub kind: FindingKind,
    /// Index into `Analysis::certs`, when the finding is about one certificate.
    pub cert: Option<usize>,
    pub severity: Severity,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Analysis {
    /// As presented.
    pub certs: Vec<CertInfo>,
    /// Reconstructed issuance order, leaf first; only certificates on the leaf's path.
    pub order: Vec<usize>,
    /// Whether the presented order already was leaf first, each issued by the next.
    pub in_order: bool,
    pub findings: Vec<CertFinding>,
    /// The `now` the analysis was made for, so text can say "expires in 3 days".
    pub now: i64,
    /// What the certificates were checked as (a CA file names no leaf).
    #[serde(skip)]
    pub purpose: Purpose,
}

impl Analysis {
    /// The worst severity among the findings, if any.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).min()
    }

    pub fn findings_for(&self, cert: Option<usize>) -> impl Iterator<Item = &CertFinding> {
        self.findings.iter().filter(move |f| f.cert == cert)
    }
}

struct Parsed {
    info: CertInfo,
    raw: Raw,
}

fn parse_all(chain: &[CertificateDer<'_>], what: &str) -> Result<Vec<Parsed>, CertError> {
    chain
        .iter()
        .enumerate()
        .map(|(i, c)| {
            parse_full(c.as_ref())
                .map(|(info, raw)| Parsed { info, raw })
                .map_err(|detail| CertError::BadCertificate {
                    label: format!("{what} certificate {}", i + 1),
                    block: None,
                    detail,
                })
        })
        .collect()
}

/// Whether `child` names `parent` as issuer and nothing contradicts it (key ids, signature).
fn issued_by(child: &Parsed, parent: &Parsed) -> bool {
    if child.raw.issuer != parent.raw.subject && child.info.issuer != parent.info.subject {
        return false;
    }
    if let (Some(a), Some(s)) = (&child.info.authority_key_id, &parent.info.subject_key_id)
        && a != s
    {
        return false;
    }
    verify_signed_by(&child.raw, &parent.raw) != Verify::Bad
}

/// Whether `certs` look like a CA file (every certificate a CA, so none is a leaf): what to
/// check them as when no key comes with them and no host is asked about ([`Purpose::Trust`]).
pub fn is_ca_file(certs: &[CertificateDer<'_>]) -> bool {
    !certs.is_empty()
        && certs
            .iter()
            .all(|c| parse_full(c.as_ref()).is_ok_and(|(info, _)| info.is_ca))
}

pub fn analyze(
    chain: &[CertificateDer<'_>],
    opts: &AnalyzeOptions<'_>,
) -> Result<Analysis, CertError> {
    if chain.is_empty() {
        return Err(CertError::Empty {
            label: "certificate chain".into(),
        });
    }
    let certs = parse_all(chain, "presented")?;
    if opts.purpose == Purpose::Trust {
        return Ok(analyze_anchors(certs, opts));
    }
    // Anchors that do not parse cannot anchor anything; they are the caller's to report.
    let anchors: Vec<Parsed> = opts
        .anchors
        .iter()
        .filter_map(|a| {
            parse_full(a.as_ref())
                .ok()
                .map(|(info, raw)| Parsed { info, raw })
        })
        .collect();
    let n = certs.len();
    let mut findings = Vec::new();
    let mut push = |kind, cert: Option<usize>, severity| {
        findings.push(CertFinding {
            kind,
            cert,
            severity,
        })
    };

    // --- Order -------------------------------------------------------------------------------
    // link[i][j]: certificate i is issued by certificate j. Computed once: each entry may
    // verify a signature.
    let link: Vec<Vec<bool>> = (0..n)
        .map(|i| {
            (0..n)
                .map(|j| i != j && issued_by(&certs[i], &certs[j]))
                .collect()
        })
        .collect();
    let issues = |j: usize| (0..n).any(|i| link[i][j]);
    let candidates: Vec<usize> = (0..n).filter(|&j| !issues(j)).collect();
    let leaf = if candidates.contains(&0) {
        0
    } else {
        candidates
            .iter()
            .copied()
            .find(|&j| !certs[j].info.is_ca)
            .or_else(|| candidates.first().copied())
            .unwrap_or(0)
    };
    let mut order = vec![leaf];
    let mut current = leaf;
    while !certs[current].info.self_signed {
        let next = (0..n)
            .filter(|j| !order.contains(j))
            .find(|&j| link[current][j]);
        match next {
            Some(j) => {
                order.push(j);
                current = j;
            }
            None => break,
        }
    }
    let in_order = order.iter().enumerate().all(|(pos, &i)| pos == i);
    if !in_order {
        push(
            FindingKind::OutOfOrder {
                presented: (0..n).collect(),
                expected: order.clone(),
            },
            None,
            Severity::Warning,
        );
    }
    for i in (0..n).filter(|i| !order.contains(i)) {
        push(FindingKind::UnusedCertificate, Some(i), Severity::Warning);
    }

    // --- Trust -------------------------------------------------------------------------------
    let trust_checked = !anchors.is_empty();
    let shape_severity = if trust_checked {
        Severity::Error
    } else {
        Severity::Warning
    };
    let top = *order.last().unwrap_or(&leaf);
    let top_cert = &certs[top];
    // Like webpki: the first certificate on the path that is, or is issued by, an anchor ends it.
    let anchored = order.iter().find_map(|&i| {
        let c = &certs[i];
        let same = anchors.iter().find(|a| {
            a.raw.der == c.raw.der || (a.raw.subject == c.raw.subject && a.raw.spki == c.raw.spki)
        });
        match same {
            Some(a) => Some((i, a, false)),
            None => anchors
                .iter()
                .find(|a| issued_by(c, a))
                .map(|a| (i, a, true)),
        }
    });
    let leaf_alone = order.len() == 1;
    match anchored {
        Some((at, a, issued_by_anchor)) => {
            if leaf_alone && top_cert.info.self_signed {
                push(
                    FindingKind::SelfSignedLeaf { trusted: true },
                    Some(leaf),
                    Severity::Info,
                );
            }
            push(
                FindingKind::Trusted {
                    anchor: a.info.subject.clone(),
                    issued_by_anchor,
                },
                Some(at),
                Severity::Info,
            );
        }
        None if leaf_alone && top_cert.info.self_signed => {
            push(
                FindingKind::SelfSignedLeaf { trusted: false },
                Some(leaf),
                shape_severity,
            );
        }
        None if top_cert.info.self_signed => {
            if trust_checked {
                push(
                    FindingKind::UntrustedRoot {
                        issuer_or_root: top_cert.info.subject.clone(),
                    },
                    Some(top),
                    Severity::Error,
                );
            }
        }
        None if leaf_alone => push(
            FindingKind::IncompleteChain {
                issuer: top_cert.info.issuer.clone(),
                authority_key_id: top_cert.info.authority_key_id.clone(),
            },
            Some(top),
            shape_severity,
        ),
        // Without trust anchors, a chain that ends at a CA certificate is what brokers send
        // (the root stays out): nothing is missing as far as can be told.
        None if !trust_checked && top_cert.info.is_ca => push(
            FindingKind::EndsBelowRoot {
                issuer: top_cert.info.issuer.clone(),
            },
            Some(top),
            Severity::Info,
        ),
        None => push(
            FindingKind::MissingIntermediate {
                issuer: top_cert.info.issuer.clone(),
                authority_key_id: top_cert.info.authority_key_id.clone(),
            },
            Some(top),
            shape_severity,
        ),
    }

    // --- Validity of every certificate -------------------------------------------------------
    for (i, kind, severity) in validity(&certs, opts) {
        push(kind, Some(i), severity);
    }

    // --- Leaf: CA flag, names --------------------------------------------------------------------
    let leaf_info = &certs[leaf].info;
    if leaf_info.is_ca {
        push(FindingKind::LeafIsCa, Some(leaf), Severity::Error);
    }
    if opts.purpose == Purpose::Server
        && let Some(kind) = check_host(leaf_info, opts.host)
    {
        let severity = match &kind {
            FindingKind::CnOnly {
                host_matches_cn: None,
                ..
            } => Severity::Warning,
            _ => Severity::Error,
        };
        push(kind, Some(leaf), severity);
    }

    // --- Usages along the path -------------------------------------------------------------------
    let (needed, purpose_name) = match opts.purpose {
        Purpose::Client => ("clientAuth", Purpose::Client),
        // Trust returned above.
        Purpose::Server | Purpose::Trust => ("serverAuth", Purpose::Server),
    };
    for (pos, &i) in order.iter().enumerate() {
        let c = &certs[i].info;
        let is_root = pos + 1 == order.len() && c.self_signed && pos > 0;
        if !is_root
            && !c.eku.is_empty()
            && !c
                .eku
                .iter()
                .any(|e| e == needed || e == "anyExtendedKeyUsage")
        {
            push(
                FindingKind::BadEku {
                    purpose: purpose_name,
                    present: c.eku.clone(),
                },
                Some(i),
                Severity::Error,
            );
        }
        if pos > 0 {
            if !c.has_basic_constraints || !c.is_ca {
                push(
                    FindingKind::CaMissingBasicConstraints,
                    Some(i),
                    Severity::Error,
                );
            }
            if !c.key_usage.is_empty() && !c.key_usage.iter().any(|k| k == "keyCertSign") {
                push(
                    FindingKind::CaMissingKeyCertSign {
                        key_usage: c.key_usage.clone(),
                    },
                    Some(i),
                    Severity::Error,
                );
            }
        }
    }

    // --- Algorithms --------------------------------------------------------------------------------
    for (i, c) in certs.iter().enumerate() {
        // A root's self-signature is never checked by clients, so its hash does not matter.
        if is_weak_signature(&c.info.signature_algorithm) && !c.info.self_signed {
            push(
                FindingKind::WeakSignature {
                    algorithm: c.info.signature_algorithm.clone(),
                },
                Some(i),
                Severity::Error,
            );
        }
        if let Some(kind) = weak_key(&c.info) {
            push(kind, Some(i), Severity::Error);
        }
    }

    // --- Private key -------------------------------------------------------------------------------
    if let Some(key) = opts.key {
        match compare(key, &certs[leaf].raw) {
            KeyCompare::Matches => push(FindingKind::KeyMatches, Some(leaf), Severity::Info),
            KeyCompare::Differs => {
                let matches_cert = (0..n)
                    .filter(|&i| i != leaf)
                    .find(|&i| compare(key, &certs[i].raw) == KeyCompare::Matches);
                push(
                    FindingKind::KeyMismatch { matches_cert },
                    Some(leaf),
                    Severity::Error,
                );
            }
            KeyCompare::Unknown(reason) => {
                push(
                    FindingKind::KeyNotCompared { reason },
                    Some(leaf),
                    Severity::Info,
                );
            }
        }
    }

    findings.sort_by_key(|f| (f.cert.map_or(0, |c| c + 1), f.severity));
    Ok(Analysis {
        certs: certs.into_iter().map(|p| p.info).collect(),
        order,
        in_order,
        findings,
        now: opts.now,
        purpose: opts.purpose,
    })
}

/// The validity findings of every certificate: expired, not yet valid, expiring soon.
fn validity(certs: &[Parsed], opts: &AnalyzeOptions<'_>) -> Vec<(usize, FindingKind, Severity)> {
    let warn_secs = opts.expiry_warning_days.saturating_mul(86_400);
    let mut out = Vec::new();
    for (i, c) in certs.iter().enumerate() {
        let (nb, na) = (c.info.not_before, c.info.not_after);
        if opts.now > na {
            let by_secs = opts.now.saturating_sub(na);
            let kind = FindingKind::Expired {
                not_after: na,
                by_secs,
            };
            out.push((i, kind, Severity::Error));
        } else if opts.now < nb {
            let in_secs = nb.saturating_sub(opts.now);
            let kind = FindingKind::NotYetValid {
                not_before: nb,
                in_secs,
            };
            out.push((i, kind, Severity::Error));
        } else if na.saturating_sub(opts.now) <= warn_secs {
            let in_secs = na.saturating_sub(opts.now);
            let kind = FindingKind::ExpiresSoon {
                not_after: na,
                in_secs,
            };
            out.push((i, kind, Severity::Warning));
        }
    }
    out
}

/// RSA keys under 2048 bits, which rustls (ring) refuses to verify with.
fn weak_key(c: &CertInfo) -> Option<FindingKind> {
    (c.key_type.starts_with("RSA") && c.key_bits > 0 && c.key_bits < 2048).then(|| {
        FindingKind::WeakKey {
            key_type: c.key_type.clone(),
            bits: c.key_bits,
        }
    })
}

/// [`Purpose::Trust`]: each certificate is an anchor of its own, in file order; only what
/// makes an anchor unusable is reported (validity, a weak key). A client never checks an
/// anchor's own signature, issuer, names or usages.
fn analyze_anchors(certs: Vec<Parsed>, opts: &AnalyzeOptions<'_>) -> Analysis {
    let mut findings: Vec<CertFinding> = validity(&certs, opts)
        .into_iter()
        .map(|(i, kind, severity)| CertFinding {
            kind,
            cert: Some(i),
            severity,
        })
        .collect();
    for (i, c) in certs.iter().enumerate() {
        if let Some(kind) = weak_key(&c.info) {
            findings.push(CertFinding {
                kind,
                cert: Some(i),
                severity: Severity::Error,
            });
        }
    }
    findings.sort_by_key(|f| (f.cert.map_or(0, |c| c + 1), f.severity));
    Analysis {
        order: (0..certs.len()).collect(),
        in_order: true,
        certs: certs.into_iter().map(|p| p.info).collect(),
        findings,
        now: opts.now,
        purpose: Purpose::Trust,
    }
}

fn normalize_host(host: &str) -> String {
    let h = host.trim();
    let h = h
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(h);
    h.trim_end_matches('.').to_ascii_lowercase()
}

fn check_host(leaf: &CertInfo, host: Option<&str>) -> Option<FindingKind> {
    let names = hosts_in(leaf);
    if names.is_empty() {
        let cn = leaf.common_name.clone()?;
        let (host, host_matches_cn) = match host {
            Some(h) => (Some(h.to_string()), Some(host_matches_name(&cn, h))),
            None => (None, None),
        };
        return Some(FindingKind::CnOnly {
            cn,
            host,
            host_matches_cn,
        });
    }
    let host = host?;
    let ok = match normalize_host(host).parse::<IpAddr>() {
        Ok(ip) => leaf
            .ip_addresses
            .iter()
            .any(|a| a.parse::<IpAddr>().is_ok_and(|a| a == ip)),
        Err(_) => leaf.dns_names.iter().any(|p| name_matches(p, host)),
    };
    if ok {
        None
    } else {
        Some(FindingKind::HostnameMismatch {
            host: host.to_string(),
            names,
        })
    }
}

/// The CN fallback as OpenSSL would do it: a DNS pattern or a literal IP.
fn host_matches_name(name: &str, host: &str) -> bool {
    match normalize_host(host).parse::<IpAddr>() {
        Ok(ip) => name.trim().parse::<IpAddr>().is_ok_and(|n| n == ip),
        Err(_) => name_matches(name, host),
    }
}

/// RFC 6125 DNS-ID matching, strict: case-insensitive; a wildcard is allowed only as the whole
/// left-most label (`*.example.com`), matches exactly one non-empty label, and needs at least
/// two labels after it. Partial wildcards (`f*.example.com`) and IP-address hosts never match.
pub fn name_matches(pattern: &str, host: &str) -> bool {
    let host = normalize_host(host);
    let pattern = pattern.trim().trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() || pattern.is_empty() || host.parse::<IpAddr>().is_ok() {
        return false;
    }
    let valid_labels = |s: &str| s.split('.').all(|l| !l.is_empty() && !l.contains('*'));
    if !valid_labels(&host) {
        return false;
    }
    match pattern.strip_prefix("*.") {
        Some(rest) => {
            if !valid_labels(rest) || !rest.contains('.') {
                return false;
            }
            match host.split_once('.') {
                Some((first, host_rest)) => !first.is_empty() && host_rest == rest,
                None => false,
            }
        }
        None => valid_labels(&pattern) && pattern == host,
    }
}

/// The names a certificate is valid for as far as modern clients are concerned: its DNS and IP
/// subjectAltNames. The CN is not included (see [`FindingKind::CnOnly`]).
pub fn hosts_in(cert: &CertInfo) -> Vec<String> {
    cert.dns_names
        .iter()
        .chain(cert.ip_addresses.iter())
        .cloned()
        .collect()
}

#[cfg(test)]
#[path = "analyze_tests.rs"]
mod tests;
