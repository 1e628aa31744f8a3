//! Parsing one certificate into the facts the rest of the tool talks about.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use base64::Engine as _;
use serde::Serialize;
use sha2::{Digest, Sha256};
use x509_parser::prelude::*;

use super::der;
use super::error::CertError;

/// Everything mqtt-doctor shows or reasons about for one certificate. Strings come straight
/// from the certificate: sanitize them before printing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    pub common_name: Option<String>,
    /// Colon-separated upper-case hex, without the DER sign byte.
    pub serial: String,
    /// Unix seconds.
    pub not_before: i64,
    pub not_after: i64,
    pub not_before_rfc3339: String,
    pub not_after_rfc3339: String,
    /// Whether a subjectAltName extension is present at all.
    pub has_san: bool,
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<String>,
    /// basicConstraints cA flag.
    pub is_ca: bool,
    /// Whether a basicConstraints extension is present.
    pub has_basic_constraints: bool,
    pub path_len: Option<u32>,
    /// keyUsage bits by name; empty when there is no keyUsage extension.
    pub key_usage: Vec<String>,
    /// Extended key usages by name (serverAuth, clientAuth, …); empty = no EKU extension.
    pub eku: Vec<String>,
    pub self_signed: bool,
    pub subject_key_id: Option<String>,
    pub authority_key_id: Option<String>,
    /// "RSA", "EC P-256", "Ed25519", …
    pub key_type: String,
    pub key_bits: u32,
    /// "sha256WithRSAEncryption", "ecdsa-with-SHA256", …
    pub signature_algorithm: String,
    pub sha256_fingerprint: String,
    /// base64(SHA-256(SubjectPublicKeyInfo DER)), as used for HPKP-style pinning.
    pub spki_sha256_pin: String,
}

/// The bytes needed to link certificates and check signatures; not part of the report.
#[derive(Debug, Clone)]
pub(crate) struct Raw {
    pub der: Vec<u8>,
    pub subject: Vec<u8>,
    pub issuer: Vec<u8>,
    pub tbs: Vec<u8>,
    pub signature: Vec<u8>,
    pub signature_oid: String,
    pub spki: Vec<u8>,
    /// The BIT STRING contents of the public key.
    pub spki_key: Vec<u8>,
    pub spki_alg_oid: String,
    pub spki_curve_oid: Option<String>,
}

/// Parses a DER certificate.
pub fn parse_cert(der: &[u8]) -> Result<CertInfo, CertError> {
    parse_full(der)
        .map(|(info, _)| info)
        .map_err(|detail| CertError::BadCertificate {
            label: "certificate".into(),
            block: None,
            detail,
        })
}

pub(crate) fn parse_full(der_bytes: &[u8]) -> Result<(CertInfo, Raw), String> {
    let (rest, cert) = X509Certificate::from_der(der_bytes).map_err(|e| match e {
        x509_parser::nom::Err::Incomplete(_) => "the data ends too early".to_string(),
        other => format!("{other}"),
    })?;
    let used = der_bytes.len() - rest.len();
    let der_used = der_bytes.get(..used).unwrap_or(der_bytes);
    let tbs = &cert.tbs_certificate;
    let spki = tbs.subject_pki.clone();
    let spki_alg_oid = spki.algorithm.algorithm.to_id_string();
    let spki_curve_oid = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .map(|o| o.to_id_string());
    let spki_key = spki.subject_public_key.data.to_vec();

    let (mut has_san, mut dns_names, mut ip_addresses) = (false, Vec::new(), Vec::new());
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        has_san = true;
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(d) => dns_names.push((*d).to_string()),
                GeneralName::IPAddress(bytes) => {
                    if let Some(ip) = ip_from_bytes(bytes) {
                        ip_addresses.push(ip.to_string());
                    }
                }
                _ => {}
            }
        }
    }
    let (has_basic_constraints, is_ca, path_len) = match cert.basic_constraints() {
        Ok(Some(bc)) => (true, bc.value.ca, bc.value.path_len_constraint),
        _ => (false, false, None),
    };
    let key_usage = match cert.key_usage() {
        Ok(Some(ku)) => key_usage_names(ku.value.flags),
        _ => Vec::new(),
    };
    let eku = match cert.extended_key_usage() {
        Ok(Some(e)) => eku_names(e.value),
        _ => Vec::new(),
    };
    let mut subject_key_id = None;
    let mut authority_key_id = None;
    for ext in cert.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(k) => subject_key_id = Some(hex_colon(k.0)),
            ParsedExtension::AuthorityKeyIdentifier(a) => {
                authority_key_id = a.key_identifier.as_ref().map(|k| hex_colon(k.0));
            }
            _ => {}
        }
    }
    let (key_type, key_bits) = key_type(&spki_alg_oid, spki_curve_oid.as_deref(), &spki_key);
    let signature_oid = cert.signature_algorithm.algorithm.to_id_string();
    let not_before = tbs.validity.not_before.timestamp();
    let not_after = tbs.validity.not_after.timestamp();

    let raw = Raw {
        der: der_used.to_vec(),
        subject: tbs.subject.as_raw().to_vec(),
        issuer: tbs.issuer.as_raw().to_vec(),
        tbs: tbs.as_ref().to_vec(),
        signature: cert.signature_value.data.to_vec(),
        signature_oid: signature_oid.clone(),
        spki: spki.raw.to_vec(),
        spki_key,
        spki_alg_oid,
        spki_curve_oid,
    };
    let self_signed = raw.subject == raw.issuer
        && match verify_signed_by(&raw, &raw) {
            Verify::Good => true,
            Verify::Bad => false,
            Verify::Unknown => match (&subject_key_id, &authority_key_id) {
                (Some(s), Some(a)) => s == a,
                _ => true,
            },
        };
    let info = CertInfo {
        subject: tbs.subject.to_string(),
        issuer: tbs.issuer.to_string(),
        common_name: tbs
            .subject
            .iter_common_name()
            .next()
            .and_then(|a| a.as_str().ok())
            .map(str::to_string),
        serial: serial_hex(tbs.raw_serial()),
        not_before,
        not_after,
        not_before_rfc3339: rfc3339(not_before),
        not_after_rfc3339: rfc3339(not_after),
        has_san,
        dns_names,
        ip_addresses,
        is_ca,
        has_basic_constraints,
        path_len,
        key_usage,
        eku,
        self_signed,
        subject_key_id,
        authority_key_id,
        key_type,
        key_bits,
        signature_algorithm: signature_name(&signature_oid),
        sha256_fingerprint: hex_colon(&Sha256::digest(der_used)),
        spki_sha256_pin: base64::engine::general_purpose::STANDARD
            .encode(Sha256::digest(&raw.spki)),
    };
    Ok((info, raw))
}

fn ip_from_bytes(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes)
            .ok()
            .map(|b| IpAddr::V4(Ipv4Addr::from(b))),
        16 => <[u8; 16]>::try_from(bytes)
            .ok()
            .map(|b| IpAddr::V6(Ipv6Addr::from(b))),
        _ => None,
    }
}

/// Upper-case, colon-separated hex ("AB:CD:…").
pub fn hex_colon(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn serial_hex(raw: &[u8]) -> String {
    let skip = raw
        .iter()
        .take_while(|b| **b == 0)
        .count()
        .min(raw.len().saturating_sub(1));
    hex_colon(raw.get(skip..).unwrap_or(raw))
}

fn key_usage_names(flags: u16) -> Vec<String> {
    const NAMES: [&str; 9] = [
        "digitalSignature",
        "nonRepudiation",
        "keyEncipherment",
        "dataEncipherment",
        "keyAgreement",
        "keyCertSign",
        "cRLSign",
        "encipherOnly",
        "decipherOnly",
    ];
    NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| flags & (1 << i) != 0)
        .map(|(_, n)| (*n).to_string())
        .collect()
}

fn eku_names(e: &ExtendedKeyUsage<'_>) -> Vec<String> {
    let mut out = Vec::new();
    let flags = [
        (e.server_auth, "serverAuth"),
        (e.client_auth, "clientAuth"),
        (e.code_signing, "codeSigning"),
        (e.email_protection, "emailProtection"),
        (e.time_stamping, "timeStamping"),
        (e.ocsp_signing, "OCSPSigning"),
        (e.any, "anyExtendedKeyUsage"),
    ];
    for (set, name) in flags {
        if set {
            out.push(name.to_string());
        }
    }
    out.extend(e.other.iter().map(|o| o.to_id_string()));
    out
}

fn key_type(alg: &str, curve: Option<&str>, key: &[u8]) -> (String, u32) {
    match alg {
        "1.2.840.113549.1.1.1" | "1.2.840.113549.1.1.10" => {
            let name = if alg.ends_with(".10") {
                "RSA-PSS"
            } else {
                "RSA"
            };
            (name.into(), rsa_modulus_bits(key).unwrap_or(0))
        }
        "1.2.840.10045.2.1" => match curve {
            Some("1.2.840.10045.3.1.7") => ("EC P-256".into(), 256),
            Some("1.3.132.0.34") => ("EC P-384".into(), 384),
            Some("1.3.132.0.35") => ("EC P-521".into(), 521),
            Some("1.3.132.0.10") => ("EC secp256k1".into(), 256),
            Some(other) => (format!("EC (curve {other})"), 0),
            None => ("EC (unknown curve)".into(), 0),
        },
        "1.3.101.112" => ("Ed25519".into(), 256),
        "1.3.101.113" => ("Ed448".into(), 456),
        "1.2.840.10040.4.1" => ("DSA".into(), 0),
        other => (format!("unknown ({other})"), 0),
    }
}

/// Bit length of the modulus of an RSAPublicKey (or RSAPrivateKey) structure.
pub(crate) fn rsa_modulus_bits(der_bytes: &[u8]) -> Option<u32> {
    let (seq, _) = der::read(der_bytes).ok()?;
    let parts = der::children(seq.content)?;
    // RSAPublicKey: n is first; RSAPrivateKey: version, then n.
    let n = if parts.first()?.tag == der::INTEGER && parts.len() >= 9 {
        parts.get(1)?
    } else {
        parts.first()?
    };
    let digits: Vec<u8> = n.content.iter().copied().skip_while(|b| *b == 0).collect();
    let first = *digits.first()?;
    let bits = (digits.len() as u32 - 1) * 8 + (8 - first.leading_zeros());
    Some(bits)
}

/// Human name of a signature algorithm OID.
pub fn signature_name(oid: &str) -> String {
    match oid {
        "1.2.840.113549.1.1.2" => "md2WithRSAEncryption",
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption",
        "1.2.840.113549.1.1.5" | "1.3.14.3.2.29" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.10" => "rsassaPss",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.113549.1.1.14" => "sha224WithRSAEncryption",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1",
        "1.2.840.10045.4.3.1" => "ecdsa-with-SHA224",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.3.101.112" => "Ed25519",
        "1.3.101.113" => "Ed448",
        "1.2.840.10040.4.3" => "dsa-with-SHA1",
        "2.16.840.1.101.3.4.3.2" => "dsa-with-SHA256",
        other => return other.to_string(),
    }
    .to_string()
}

/// Whether a signature algorithm uses a broken hash (MD2, MD5, SHA-1).
pub fn is_weak_signature(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.contains("md2") || n.contains("md5") || n.contains("sha1")
}

/// Result of checking a certificate's signature with a candidate issuer's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verify {
    Good,
    Bad,
    /// The algorithm is not one ring can check (RSA-PSS, Ed448, DSA, …).
    Unknown,
}

pub(crate) fn verify_signed_by(child: &Raw, issuer: &Raw) -> Verify {
    use ring::signature as s;
    let curve = issuer.spki_curve_oid.as_deref();
    let p256 = curve == Some("1.2.840.10045.3.1.7");
    let p384 = curve == Some("1.3.132.0.34");
    let alg: &dyn s::VerificationAlgorithm = match child.signature_oid.as_str() {
        "1.2.840.113549.1.1.5" | "1.3.14.3.2.29" => {
            &s::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY
        }
        "1.2.840.113549.1.1.11" => &s::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
        "1.2.840.113549.1.1.12" => &s::RSA_PKCS1_2048_8192_SHA384,
        "1.2.840.113549.1.1.13" => &s::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY,
        "1.2.840.10045.4.3.2" if p256 => &s::ECDSA_P256_SHA256_ASN1,
        "1.2.840.10045.4.3.2" if p384 => &s::ECDSA_P384_SHA256_ASN1,
        "1.2.840.10045.4.3.3" if p256 => &s::ECDSA_P256_SHA384_ASN1,
        "1.2.840.10045.4.3.3" if p384 => &s::ECDSA_P384_SHA384_ASN1,
        "1.3.101.112" => &s::ED25519,
        _ => return Verify::Unknown,
    };
    let key_family_ok = match child.signature_oid.as_str() {
        o if o.starts_with("1.2.840.113549.1.1.") || o == "1.3.14.3.2.29" => {
            issuer.spki_alg_oid == "1.2.840.113549.1.1.1"
        }
        o if o.starts_with("1.2.840.10045.4.") => issuer.spki_alg_oid == "1.2.840.10045.2.1",
        _ => issuer.spki_alg_oid == "1.3.101.112",
    };
    if !key_family_ok {
        return Verify::Bad;
    }
    match s::UnparsedPublicKey::new(alg, &issuer.spki_key).verify(&child.tbs, &child.signature) {
        Ok(()) => Verify::Good,
        Err(_) => Verify::Bad,
    }
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm); total for all i64.
fn civil(ts: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = ts.div_euclid(86_400);
    let secs = ts.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        month,
        day,
        (secs / 3600) as u32,
        ((secs % 3600) / 60) as u32,
        (secs % 60) as u32,
    )
}

/// RFC 3339 UTC timestamp, e.g. "2026-11-22T10:00:00Z".
pub fn rfc3339(ts: i64) -> String {
    let (y, mo, d, h, mi, s) = civil(ts);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// Short human UTC timestamp, e.g. "2026-11-22 10:00 UTC".
pub fn human_utc(ts: i64) -> String {
    let (y, mo, d, h, mi, _) = civil(ts);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02} UTC")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_unix_times() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_860_000), "2026-11-28T10:00:00Z");
        assert_eq!(human_utc(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(rfc3339(-86_400), "1969-12-31T00:00:00Z");
    }

    #[test]
    fn names_key_usage_bits_and_weak_algorithms() {
        assert_eq!(
            key_usage_names(0b10_0001),
            vec!["digitalSignature", "keyCertSign"]
        );
        assert!(is_weak_signature("sha1WithRSAEncryption"));
        assert!(is_weak_signature("md5WithRSAEncryption"));
        assert!(!is_weak_signature("sha256WithRSAEncryption"));
        assert_eq!(serial_hex(&[0x00, 0x8f, 0x01]), "8F:01");
        assert_eq!(serial_hex(&[0x00]), "00");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let err = parse_cert(b"\x30\x03\x02\x01\x00").unwrap_err();
        assert!(
            err.to_string().contains("not a valid X.509 certificate"),
            "{err}"
        );
        assert!(parse_cert(&[]).is_err());
    }
}
