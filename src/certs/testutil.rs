//! Test fixtures: chains made with rcgen at test time, and openssl CLI helpers.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SignatureAlgorithm,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::OffsetDateTime;

/// 2026-11-28 10:00:00 UTC, the "now" of all tests.
pub const NOW: i64 = 1_795_860_000;
pub const DAY: i64 = 86_400;

pub fn at(ts: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(ts).unwrap()
}

pub struct Spec {
    pub cn: String,
    pub sans: Vec<String>,
    pub ca: IsCa,
    pub key_usages: Vec<KeyUsagePurpose>,
    pub eku: Vec<ExtendedKeyUsagePurpose>,
    pub not_before: i64,
    pub not_after: i64,
    pub alg: &'static SignatureAlgorithm,
}

impl Spec {
    pub fn ca(cn: &str) -> Spec {
        Spec {
            cn: cn.into(),
            sans: vec![],
            ca: IsCa::Ca(BasicConstraints::Unconstrained),
            key_usages: vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign],
            eku: vec![],
            not_before: NOW - 300 * DAY,
            not_after: NOW + 3000 * DAY,
            alg: &rcgen::PKCS_ECDSA_P256_SHA256,
        }
    }

    pub fn leaf(cn: &str, sans: &[&str]) -> Spec {
        Spec {
            cn: cn.into(),
            sans: sans.iter().map(|s| s.to_string()).collect(),
            ca: IsCa::NoCa,
            key_usages: vec![KeyUsagePurpose::DigitalSignature],
            eku: vec![
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth,
            ],
            not_before: NOW - 100 * DAY,
            not_after: NOW + 200 * DAY,
            alg: &rcgen::PKCS_ECDSA_P256_SHA256,
        }
    }
}

pub struct Made {
    pub params: CertificateParams,
    pub key: KeyPair,
    pub der: CertificateDer<'static>,
}

impl Made {
    pub fn key_der(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.serialize_der()))
    }
}

pub fn make(spec: Spec, issuer: Option<&Made>) -> Made {
    let mut params = CertificateParams::new(spec.sans).unwrap();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, spec.cn.clone());
    params.distinguished_name = dn;
    params.is_ca = spec.ca;
    params.key_usages = spec.key_usages;
    params.extended_key_usages = spec.eku;
    params.not_before = at(spec.not_before);
    params.not_after = at(spec.not_after);
    // A serial of fixed length from the subject: rcgen's random one varies in length (a
    // leading zero byte is dropped), which moves the columns of drawn screens.
    let digest = ring::digest::digest(&ring::digest::SHA256, spec.cn.as_bytes());
    let mut serial = [0u8; 16];
    serial.copy_from_slice(&digest.as_ref()[..16]);
    serial[0] = 0x01;
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    params.use_authority_key_identifier_extension = issuer.is_some();
    let key = KeyPair::generate_for(spec.alg).unwrap();
    let cert = match issuer {
        Some(i) => params
            .signed_by(&key, &Issuer::from_params(&i.params, &i.key))
            .unwrap(),
        None => params.self_signed(&key).unwrap(),
    };
    Made {
        params,
        key,
        der: cert.der().clone(),
    }
}

/// Lab Root → Lab Intermediate → mqtt.example.com (SANs: mqtt.example.com, 10.0.0.7).
pub struct Chain {
    pub root: Made,
    pub inter: Made,
    pub leaf: Made,
}

pub fn chain() -> Chain {
    let root = make(Spec::ca("Lab Root"), None);
    let inter = make(Spec::ca("Lab Intermediate"), Some(&root));
    let leaf = make(
        Spec::leaf("mqtt.example.com", &["mqtt.example.com", "10.0.0.7"]),
        Some(&inter),
    );
    Chain { root, inter, leaf }
}

pub fn pem(der: &[u8], label: &str) -> String {
    super::pem(label, der)
}

/// Runs openssl with the arguments, panicking with its stderr on failure.
pub fn openssl(dir: &std::path::Path, args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl command line tool is needed for these tests");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
