//! A test PKI made at run time with rcgen: a root, an intermediate, server leaves (good,
//! expired, wrong host, from an unknown CA) and a client CA with a client certificate.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

/// A certificate with its private key.
pub struct Issued {
    pub cert: CertificateDer<'static>,
    pub key: KeyPair,
}

impl Issued {
    pub fn key_der(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.serialize_der()))
    }

    pub fn cert_pem(&self) -> String {
        crate::certs::pem("CERTIFICATE", &self.cert)
    }

    pub fn key_pem(&self) -> String {
        self.key.serialize_pem()
    }
}

/// A CA that can issue certificates.
pub struct Ca {
    pub issued: Issued,
    issuer: Issuer<'static, KeyPair>,
}

#[derive(Debug, thiserror::Error)]
#[error("the lab could not make a certificate: {0}")]
pub struct PkiError(#[from] rcgen::Error);

fn dn(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "mqtt-doctor lab");
    dn.push(DnType::CommonName, cn);
    dn
}

fn window(now: OffsetDateTime, from_days: i64, to_days: i64) -> (OffsetDateTime, OffsetDateTime) {
    (
        now + Duration::days(from_days),
        now + Duration::days(to_days),
    )
}

impl Ca {
    pub fn root(cn: &str, now: OffsetDateTime) -> Result<Ca, PkiError> {
        Ca::make(
            cn,
            BasicConstraints::Unconstrained,
            window(now, -365, 3650),
            None,
        )
    }

    /// An intermediate CA valid from `from_days` to `to_days` relative to `now`.
    pub fn intermediate(
        &self,
        cn: &str,
        now: OffsetDateTime,
        from_days: i64,
        to_days: i64,
    ) -> Result<Ca, PkiError> {
        Ca::make(
            cn,
            BasicConstraints::Constrained(0),
            window(now, from_days, to_days),
            Some(self),
        )
    }

    /// A CA certificate, self-signed (`parent` None) or issued by `parent`.
    fn make(
        cn: &str,
        constraints: BasicConstraints,
        (not_before, not_after): (OffsetDateTime, OffsetDateTime),
        parent: Option<&Ca>,
    ) -> Result<Ca, PkiError> {
        let mut params = CertificateParams::default();
        params.distinguished_name = dn(cn);
        params.is_ca = IsCa::Ca(constraints);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        (params.not_before, params.not_after) = (not_before, not_after);
        let key = KeyPair::generate()?;
        let cert = match parent {
            Some(p) => params.signed_by(&key, &p.issuer)?,
            None => params.self_signed(&key)?,
        };
        let issuer = Issuer::new(params, KeyPair::try_from(key.serialize_der())?);
        Ok(Ca {
            issued: Issued {
                cert: cert.der().clone(),
                key,
            },
            issuer,
        })
    }

    /// A server leaf for `names` (DNS names or IP addresses).
    pub fn server(
        &self,
        cn: &str,
        names: &[&str],
        now: OffsetDateTime,
        from_days: i64,
        to_days: i64,
    ) -> Result<Issued, PkiError> {
        self.leaf(
            cn,
            names,
            now,
            from_days,
            to_days,
            ExtendedKeyUsagePurpose::ServerAuth,
        )
    }

    /// A server leaf whose Authority Information Access names where its issuer can be
    /// downloaded (as public CAs do), for the incomplete-chain case.
    pub fn server_with_aia(
        &self,
        cn: &str,
        names: &[&str],
        now: OffsetDateTime,
        ca_issuers_url: &str,
    ) -> Result<Issued, PkiError> {
        let aia = rcgen::CustomExtension::from_oid_content(
            &[1, 3, 6, 1, 5, 5, 7, 1, 1],
            aia_ca_issuers(ca_issuers_url),
        );
        self.issue(
            cn,
            names,
            window(now, -1, 365),
            ExtendedKeyUsagePurpose::ServerAuth,
            vec![aia],
        )
    }

    pub fn client(&self, cn: &str, now: OffsetDateTime) -> Result<Issued, PkiError> {
        self.leaf(cn, &[], now, -1, 365, ExtendedKeyUsagePurpose::ClientAuth)
    }

    pub fn leaf(
        &self,
        cn: &str,
        names: &[&str],
        now: OffsetDateTime,
        from_days: i64,
        to_days: i64,
        eku: ExtendedKeyUsagePurpose,
    ) -> Result<Issued, PkiError> {
        self.issue(cn, names, window(now, from_days, to_days), eku, Vec::new())
    }

    /// An end-entity certificate issued by this CA.
    fn issue(
        &self,
        cn: &str,
        names: &[&str],
        (not_before, not_after): (OffsetDateTime, OffsetDateTime),
        eku: ExtendedKeyUsagePurpose,
        extensions: Vec<rcgen::CustomExtension>,
    ) -> Result<Issued, PkiError> {
        let mut params =
            CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())?;
        params.distinguished_name = dn(cn);
        params.extended_key_usages = vec![eku];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        (params.not_before, params.not_after) = (not_before, not_after);
        params.custom_extensions = extensions;
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(Issued {
            cert: cert.der().clone(),
            key,
        })
    }
}

/// DER of an AuthorityInfoAccess extension with one caIssuers URI.
fn aia_ca_issuers(url: &str) -> Vec<u8> {
    fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let len = body.len();
        if len < 128 {
            out.push(len as u8);
        } else {
            out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
        }
        out.extend_from_slice(body);
        out
    }
    // id-ad-caIssuers 1.3.6.1.5.5.7.48.2
    let mut access = vec![0x06, 0x08, 0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02];
    access.extend(tlv(0x86, url.as_bytes()));
    tlv(0x30, &tlv(0x30, &access))
}

/// A self-signed end-entity certificate (not a CA) for `names`.
pub fn self_signed_leaf(cn: &str, names: &[&str], now: OffsetDateTime) -> Result<Issued, PkiError> {
    let mut params =
        CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())?;
    params.distinguished_name = dn(cn);
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    (params.not_before, params.not_after) = window(now, -1, 365);
    let key = KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    Ok(Issued {
        cert: cert.der().clone(),
        key,
    })
}

/// Everything the lab's TLS listeners need.
pub struct LabPki {
    pub root: Ca,
    pub intermediate: Ca,
    /// localhost, 127.0.0.1, ::1, broker.lab.test
    pub good: Issued,
    pub expired: Issued,
    pub wrong_host: Issued,
    pub rogue_root: Ca,
    pub rogue: Issued,
    pub client_ca: Ca,
    pub client: Issued,
    /// A client certificate from a CA the lab brokers do not trust.
    pub rogue_client: Issued,
    pub self_signed: Issued,
    pub expired_intermediate: Ca,
    /// A valid leaf under the expired intermediate.
    pub under_expired: Issued,
    pub not_yet_valid: Issued,
    /// CN=localhost and no subjectAltName.
    pub cn_only: Issued,
    /// A clientAuth-only certificate used as a server certificate.
    pub client_auth_only: Issued,
    /// Valid, but expires in 5 days.
    pub expiring: Issued,
    /// Issued by the intermediate, with an AIA caIssuers URL.
    pub aia_leaf: Issued,
    /// An intermediate under the client CA, and a device certificate it issued.
    pub client_intermediate: Ca,
    pub chained_client: Issued,
}

pub const LAB_NAMES: &[&str] = &["localhost", "127.0.0.1", "::1", "broker.lab.test"];

impl LabPki {
    pub fn generate(now: OffsetDateTime) -> Result<LabPki, PkiError> {
        Self::generate_with(now, "http://pki.lab.test/intermediate.crt")
    }

    /// With the aia leaf's caIssuers URL pointing at `aia_url` (the lab serves it there).
    pub fn generate_with(now: OffsetDateTime, aia_url: &str) -> Result<LabPki, PkiError> {
        let root = Ca::root("mqtt-doctor Lab Root CA", now)?;
        let intermediate = root.intermediate("mqtt-doctor Lab Intermediate CA", now, -30, 1825)?;
        let good = intermediate.server("lab broker", LAB_NAMES, now, -1, 365)?;
        let expired = intermediate.server("expired lab broker", LAB_NAMES, now, -400, -3)?;
        let wrong_host =
            intermediate.server("other broker", &["mqtt.other.example"], now, -1, 365)?;
        let rogue_root = Ca::root("Unknown Rogue CA", now)?;
        let rogue = rogue_root.server("rogue broker", LAB_NAMES, now, -1, 365)?;
        let client_ca = Ca::root("mqtt-doctor Lab Client CA", now)?;
        let client = client_ca.client("lab-device-01", now)?;
        let rogue_client = rogue_root.client("rogue-device", now)?;
        let self_signed = self_signed_leaf("self-signed broker", LAB_NAMES, now)?;
        let expired_intermediate =
            root.intermediate("mqtt-doctor Lab Old Intermediate CA", now, -400, -2)?;
        let under_expired = expired_intermediate.server("lab broker", LAB_NAMES, now, -1, 365)?;
        let not_yet_valid = intermediate.server("future lab broker", LAB_NAMES, now, 2, 365)?;
        let cn_only = intermediate.server("localhost", &[], now, -1, 365)?;
        let client_auth_only = intermediate.leaf(
            "lab device cert on a broker",
            LAB_NAMES,
            now,
            -1,
            365,
            ExtendedKeyUsagePurpose::ClientAuth,
        )?;
        let expiring = intermediate.server("expiring lab broker", LAB_NAMES, now, -300, 5)?;
        let aia_leaf = intermediate.server_with_aia("lab broker", LAB_NAMES, now, aia_url)?;
        let client_intermediate =
            client_ca.intermediate("mqtt-doctor Lab Device Intermediate CA", now, -30, 1825)?;
        let chained_client = client_intermediate.client("lab-device-02", now)?;
        Ok(LabPki {
            client_intermediate,
            chained_client,
            aia_leaf,
            rogue_client,
            self_signed,
            expired_intermediate,
            under_expired,
            not_yet_valid,
            cn_only,
            client_auth_only,
            expiring,
            root,
            intermediate,
            good,
            expired,
            wrong_host,
            rogue_root,
            rogue,
            client_ca,
            client,
        })
    }

    /// leaf + intermediate, as a broker should send it.
    pub fn chain(&self, leaf: &Issued) -> Vec<CertificateDer<'static>> {
        vec![leaf.cert.clone(), self.intermediate.issued.cert.clone()]
    }
}
