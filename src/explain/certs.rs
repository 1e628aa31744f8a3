//! Words for certificate findings (`cert inspect`, the tls stage's chain findings): the one
//! place they are written. Plain strings; everything taken from a certificate is sanitised.

use std::fmt::Write as _;

use crate::certs::{Analysis, CertFinding, CertInfo, FindingKind, Purpose, Severity, human_utc};
use crate::text::sanitize;

/// The caution for a chain saved as PEM from what a broker presented (`cert fetch --pem`, the
/// app's Chain tab): it arrived over an unverified connection.
pub const SAVED_CHAIN_CAUTION: &str = "These certificates are what the broker presented, unverified: before passing the file as --ca, check the root's SHA-256 fingerprint with the broker's operator, or anyone in the path could be trusted.";

/// "3 days", "2 hours", "45 minutes", "1 second": the largest sensible unit, rounded down.
pub fn human_duration(secs: i64) -> String {
    // Rounded to the nearest unit, so a certificate made to last 5 days still reads "5 days"
    // a few seconds later; each unit is used from two of it on ("90 minutes", "36 hours").
    const DAY: u64 = 86_400;
    const YEAR: u64 = 365 * DAY;
    let secs = secs.unsigned_abs();
    let round = |unit: u64| (secs + unit / 2) / unit;
    let (value, unit) = if secs < 120 {
        (secs, "second")
    } else if secs < 2 * 3600 - 30 {
        (round(60), "minute")
    } else if secs < 2 * DAY - 1800 {
        (round(3600), "hour")
    } else if secs < 2 * YEAR - DAY / 2 {
        (round(DAY), "day")
    } else {
        (round(YEAR), "year")
    };
    if value == 1 {
        format!("1 {unit}")
    } else {
        format!("{value} {unit}s")
    }
}

/// "expires in 3 days" / "expired 2 days ago" / "not valid for another 4 hours".
pub fn validity_phrase(cert: &CertInfo, now: i64) -> String {
    if now > cert.not_after {
        format!("expired {} ago", human_duration(now - cert.not_after))
    } else if now < cert.not_before {
        format!(
            "not valid for another {}",
            human_duration(cert.not_before - now)
        )
    } else {
        format!("expires in {}", human_duration(cert.not_after - now))
    }
}

/// "root certificate", "intermediate certificate" or "certificate".
fn role(cert: &CertInfo) -> &'static str {
    match (cert.is_ca, cert.self_signed) {
        (true, true) => "root certificate",
        (true, false) => "intermediate certificate",
        _ => "certificate",
    }
}

fn quoted(s: &str) -> String {
    format!("\"{}\"", sanitize(s))
}

fn list(items: &[String]) -> String {
    items
        .iter()
        .map(|s| quoted(s))
        .collect::<Vec<_>>()
        .join(", ")
}

fn purpose_words(p: Purpose) -> (&'static str, &'static str) {
    match p {
        Purpose::Server => ("TLS server", "serverAuth"),
        Purpose::Client => ("TLS client", "clientAuth"),
        // A CA file's usages are not checked: no finding names this purpose.
        Purpose::Trust => ("trust anchor", "any"),
    }
}

/// One plain English sentence for a finding.
pub fn finding_sentence(f: &CertFinding, certs: &[CertInfo]) -> String {
    let cert = f.cert.and_then(|i| certs.get(i));
    let subj = cert.map_or_else(|| "\"(unknown)\"".to_string(), |c| quoted(&c.subject));
    let the = cert.map_or("certificate", role);
    match &f.kind {
        FindingKind::Expired { not_after, by_secs } => format!(
            "The {the} {subj} expired {} ago (on {}).",
            human_duration(*by_secs),
            human_utc(*not_after)
        ),
        FindingKind::NotYetValid {
            not_before,
            in_secs,
        } => format!(
            "The {the} {subj} is not valid yet: it becomes valid in {} (on {}); check the clocks of this machine and of the issuer.",
            human_duration(*in_secs),
            human_utc(*not_before)
        ),
        FindingKind::ExpiresSoon { not_after, in_secs } => format!(
            "The {the} {subj} expires in {} (on {}).",
            human_duration(*in_secs),
            human_utc(*not_after)
        ),
        FindingKind::HostnameMismatch { host, names } => {
            if names.is_empty() {
                format!(
                    "The {the} {subj} is not valid for {}: it names no host at all.",
                    quoted(host)
                )
            } else {
                format!(
                    "The {the} {subj} is not valid for {}: it is only valid for {}.",
                    quoted(host),
                    list(names)
                )
            }
        }
        FindingKind::CnOnly {
            cn,
            host,
            host_matches_cn,
        } => match (host, host_matches_cn) {
            (Some(h), Some(true)) => format!(
                "The {the} {subj} has no subjectAltName, only the common name {}: rustls and other modern clients ignore the common name and reject it, although OpenSSL-based tools such as mosquitto_sub accept it because the common name matches {}.",
                quoted(cn),
                quoted(h)
            ),
            (Some(h), _) => format!(
                "The {the} {subj} has no subjectAltName, only the common name {}, which modern clients ignore and which does not match {} either.",
                quoted(cn),
                quoted(h)
            ),
            _ => format!(
                "The {the} {subj} has no subjectAltName, only the common name {}, which rustls and other modern clients ignore; reissue it with a subjectAltName.",
                quoted(cn)
            ),
        },
        FindingKind::OutOfOrder { expected, .. } => {
            let seq: Vec<String> = expected
                .iter()
                .map(|i| match certs.get(*i) {
                    Some(c) => format!("#{} {}", i + 1, quoted(&c.subject)),
                    None => format!("#{}", i + 1),
                })
                .collect();
            format!(
                "The certificates are not in issuance order (leaf first, each followed by its issuer); the correct order is {}.",
                seq.join(" → ")
            )
        }
        FindingKind::MissingIntermediate {
            issuer,
            authority_key_id,
        } => format!(
            "The chain stops at {subj}, whose issuer {}{} is neither in the chain nor a trusted CA: if it is a root, it must be trusted (--ca FILE); if it is an intermediate, the broker must send it too.",
            quoted(issuer),
            key_id_words(authority_key_id)
        ),
        FindingKind::EndsBelowRoot { issuer } => format!(
            "The chain ends at {subj}, issued by {}, which is not included; brokers need not send their root. Whether {} is trusted was not checked: pass --ca FILE to check it.",
            quoted(issuer),
            quoted(issuer)
        ),
        FindingKind::UntrustedRoot { issuer_or_root } => format!(
            "The chain ends at the root {}, which is not among the trusted CA certificates.",
            quoted(issuer_or_root)
        ),
        FindingKind::SelfSignedLeaf { trusted: true } => {
            format!(
                "The {the} {subj} is self-signed; it is trusted only because it is itself in the CA list."
            )
        }
        FindingKind::SelfSignedLeaf { trusted: false } => format!(
            "The {the} {subj} is self-signed and not among the trusted CA certificates; trust it explicitly or use a certificate issued by a CA."
        ),
        FindingKind::IncompleteChain {
            issuer,
            authority_key_id,
        } => format!(
            "Only the certificate {subj} was sent and its issuer {}{} is not a trusted CA; the intermediate certificate(s) must be sent too.",
            quoted(issuer),
            key_id_words(authority_key_id)
        ),
        FindingKind::BadEku { purpose, present } => {
            let (what, needed) = purpose_words(*purpose);
            format!(
                "The {the} {subj} may not be used for {what} authentication: its extended key usage allows only {}, not {needed}.",
                present
                    .iter()
                    .map(|s| sanitize(s))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
        FindingKind::CaMissingBasicConstraints => format!(
            "The certificate {subj} issues another certificate but is not marked as a CA (basicConstraints cA=TRUE is missing)."
        ),
        FindingKind::CaMissingKeyCertSign { key_usage } => format!(
            "The {the} {subj} has a keyUsage without keyCertSign (only {}), so it may not sign certificates.",
            key_usage
                .iter()
                .map(|s| sanitize(s))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        FindingKind::LeafIsCa => format!(
            "The certificate {subj} is a CA certificate (basicConstraints cA=TRUE) but is used as the end-entity certificate, which rustls and other strict clients reject."
        ),
        FindingKind::WeakSignature { algorithm } => format!(
            "The {the} {subj} is signed with {}, a broken algorithm that modern TLS clients reject.",
            sanitize(algorithm)
        ),
        FindingKind::WeakKey { key_type, bits } => format!(
            "The {the} {subj} has a {bits}-bit {} key, which is too weak; at least 2048 bits are required.",
            sanitize(key_type)
        ),
        FindingKind::KeyMismatch { matches_cert } => {
            match matches_cert.and_then(|i| certs.get(i)) {
                Some(other) => format!(
                    "The private key does not belong to the certificate {subj}; it belongs to {} instead.",
                    quoted(&other.subject)
                ),
                None => format!(
                    "The private key does not belong to the certificate {subj}: their public keys differ."
                ),
            }
        }
        FindingKind::KeyMatches => format!("The private key belongs to the certificate {subj}."),
        FindingKind::KeyNotCompared { reason } => format!(
            "The private key could not be compared with the certificate {subj}: {}.",
            sanitize(reason)
        ),
        FindingKind::UnusedCertificate => format!(
            "The {the} {subj} is included but is not part of the leaf certificate's chain; it can be removed."
        ),
        FindingKind::Trusted {
            anchor,
            issued_by_anchor: true,
        } => {
            format!(
                "The {the} {subj} is issued by the trusted CA {}.",
                quoted(anchor)
            )
        }
        FindingKind::Trusted {
            issued_by_anchor: false,
            ..
        } => {
            format!("The {the} {subj} is itself one of the trusted CA certificates.")
        }
    }
}

/// The sentences of a chain's warnings and errors, for the report's `tls.chain_findings`.
pub fn chain_findings(analysis: &Analysis) -> Vec<String> {
    analysis
        .findings
        .iter()
        .filter(|f| f.severity != Severity::Info)
        .map(|f| finding_sentence(f, &analysis.certs))
        .collect()
}

/// `cert fetch`: the server asked for a client certificate (its CertificateRequest).
pub fn client_request_sentence(ca_names: &[String]) -> String {
    if ca_names.is_empty() {
        "The server asks for a client certificate (mutual TLS) and names no CA; pass --cert FILE --key FILE to `check`.".to_string()
    } else {
        format!(
            "The server asks for a client certificate (mutual TLS) issued by: {}; pass --cert FILE --key FILE to `check`.",
            ca_names
                .iter()
                .map(|n| sanitize(n))
                .collect::<Vec<_>>()
                .join("; ")
        )
    }
}

fn key_id_words(akid: &Option<String>) -> String {
    match akid {
        Some(k) => format!(" (key id {})", sanitize(k)),
        None => String::new(),
    }
}

fn severity_tag(s: Severity) -> &'static str {
    match s {
        Severity::Error => "[error]",
        Severity::Warning => "[warning]",
        Severity::Info => "[info]",
    }
}

fn or_none(items: &[String], none: &str) -> String {
    if items.is_empty() {
        none.to_string()
    } else {
        items
            .iter()
            .map(|s| sanitize(s))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn write_cert(out: &mut String, analysis: &Analysis, i: usize, indent: &str, heading: &str) {
    let Some(c) = analysis.certs.get(i) else {
        return;
    };
    let _ = writeln!(out, "{heading}#{} {}", i + 1, sanitize(&c.subject));
    let body = format!("{indent}│  ");
    let mut line = |k: &str, v: String| {
        let _ = writeln!(out, "{body}{k:<11}{v}");
    };
    line("Issuer:", sanitize(&c.issuer));
    line(
        "Valid:",
        format!(
            "{} to {} ({})",
            human_utc(c.not_before),
            human_utc(c.not_after),
            validity_phrase(c, analysis.now)
        ),
    );
    let mut names = c.dns_names.clone();
    names.extend(c.ip_addresses.iter().cloned());
    let none = match &c.common_name {
        Some(cn) if !c.has_san => format!("none (no subjectAltName; CN={})", sanitize(cn)),
        _ => "none".into(),
    };
    line("Names:", or_none(&names, &none));
    let ca = if c.is_ca {
        match c.path_len {
            Some(p) => format!("CA (path length {p})"),
            None => "CA".into(),
        }
    } else if c.has_basic_constraints {
        "not a CA".into()
    } else {
        "not a CA (no basicConstraints)".into()
    };
    line(
        "Type:",
        if c.self_signed {
            format!("{ca}, self-signed")
        } else {
            ca
        },
    );
    line(
        "Key usage:",
        or_none(&c.key_usage, "any (no keyUsage extension)"),
    );
    line(
        "EKU:",
        or_none(&c.eku, "any (no extendedKeyUsage extension)"),
    );
    let bits = if c.key_bits > 0 && !c.key_type.starts_with("EC") && c.key_type != "Ed25519" {
        format!(" {} bits", c.key_bits)
    } else {
        String::new()
    };
    line("Key:", format!("{}{bits}", sanitize(&c.key_type)));
    line("Signature:", sanitize(&c.signature_algorithm));
    line("Serial:", sanitize(&c.serial));
    line("SHA-256:", c.sha256_fingerprint.clone());
    line("SPKI pin:", format!("sha256/{}", c.spki_sha256_pin));
    for f in analysis.findings_for(Some(i)) {
        let _ = writeln!(
            out,
            "{body}{} {}",
            severity_tag(f.severity),
            finding_sentence(f, &analysis.certs)
        );
    }
}

/// The chain as a tree, leaf at the top, each certificate followed by its findings.
pub fn inspect_text(label: &str, analysis: &Analysis) -> String {
    let mut out = String::new();
    let n = analysis.certs.len();
    if analysis.purpose == Purpose::Trust {
        // A CA file: each certificate is an anchor of its own, no chain to draw.
        let _ = writeln!(
            out,
            "{}: {n} CA certificate{} to trust (a CA file for --ca)",
            sanitize(label),
            if n == 1 { "" } else { "s" }
        );
        for i in 0..n {
            write_cert(&mut out, analysis, i, "", "");
        }
        return out;
    }
    let order_words = if analysis.in_order {
        "in issuance order".to_string()
    } else {
        let seq: Vec<String> = analysis
            .order
            .iter()
            .map(|i| format!("#{}", i + 1))
            .collect();
        format!("not in issuance order; the chain is {}", seq.join(" → "))
    };
    let plural = if n == 1 { "" } else { "s" };
    let _ = writeln!(
        out,
        "{}: {n} certificate{plural}, {order_words}",
        sanitize(label)
    );
    for f in analysis.findings_for(None) {
        let _ = writeln!(
            out,
            "{} {}",
            severity_tag(f.severity),
            finding_sentence(f, &analysis.certs)
        );
    }
    let mut indent = String::new();
    for (pos, &i) in analysis.order.iter().enumerate() {
        let heading = if pos == 0 {
            String::new()
        } else {
            format!("{indent}└─ issued by ")
        };
        if pos > 0 {
            indent.push_str("   ");
        }
        write_cert(&mut out, analysis, i, &indent, &heading);
    }
    let unused: Vec<usize> = (0..n).filter(|i| !analysis.order.contains(i)).collect();
    if !unused.is_empty() {
        let _ = writeln!(out, "Not part of the chain:");
        for i in unused {
            write_cert(&mut out, analysis, i, "", "");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(45 * 60), "45 minutes");
        assert_eq!(human_duration(2 * 3600 + 10), "2 hours");
        assert_eq!(human_duration(3 * 86_400 + 5), "3 days");
        assert_eq!(human_duration(86_400), "24 hours");
        assert_eq!(human_duration(1), "1 second");
        assert_eq!(human_duration(-120), "2 minutes");
        assert_eq!(human_duration(3 * 365 * 86_400), "3 years");
        assert_eq!(human_duration(-(5 * 3600)), "5 hours");
        assert_eq!(human_duration(61), "61 seconds");
    }

    /// Rounded, not truncated: a validity made "now + 2 days" still reads 2 days a moment later.
    #[test]
    fn durations_round_to_the_nearest_unit() {
        assert_eq!(human_duration(2 * 86_400 - 5), "2 days");
        assert_eq!(human_duration(5 * 86_400 - 2), "5 days");
    }
}
