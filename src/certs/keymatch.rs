//! Does a private key belong to a certificate? We derive the public key from the private key
//! and compare it with the certificate's SubjectPublicKeyInfo.
//!
//! RSA (PKCS#1 or PKCS#8) and EC (SEC1 or PKCS#8) keys carry their public half, so they are
//! compared by parsing alone. Ed25519 keys (no embedded public key) are loaded with ring to
//! derive it. EC keys saved without the optional public point (`openssl ec -no_public`), Ed448,
//! DSA and other algorithms cannot be compared: the finding says so and why.

use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

use super::der;
use super::info::Raw;

const RSA_OID: &str = "1.2.840.113549.1.1.1";
const EC_OID: &str = "1.2.840.10045.2.1";

/// The outcome of comparing a key with a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyCompare {
    Matches,
    Differs,
    /// Could not derive the public key; the reason is a short phrase.
    Unknown(String),
}

/// The public key bytes (as they appear inside the SPKI BIT STRING) of a private key.
pub(crate) fn public_key_of(key: &PrivateKeyDer<'_>) -> Result<Vec<u8>, String> {
    match key {
        PrivateKeyDer::Pkcs1(k) => rsa_public(k.secret_pkcs1_der()),
        PrivateKeyDer::Sec1(k) => sec1_public(k.secret_sec1_der(), None),
        PrivateKeyDer::Pkcs8(k) => pkcs8_public(k.secret_pkcs8_der()),
        _ => Err("this private key format is not supported".into()),
    }
}

pub(crate) fn compare(key: &PrivateKeyDer<'_>, cert: &Raw) -> KeyCompare {
    match public_key_of(key) {
        Ok(public) if public == cert.spki_key => KeyCompare::Matches,
        Ok(_) => KeyCompare::Differs,
        Err(reason) => KeyCompare::Unknown(reason),
    }
}

/// RSAPublicKey ::= SEQUENCE { modulus, publicExponent } from an RSAPrivateKey.
fn rsa_public(der_bytes: &[u8]) -> Result<Vec<u8>, String> {
    let bad = || "the RSA private key is malformed".to_string();
    let (seq, _) = der::read(der_bytes).map_err(|_| bad())?;
    let parts = der::children(seq.content).ok_or_else(bad)?;
    let (Some(n), Some(e)) = (parts.get(1), parts.get(2)) else {
        return Err(bad());
    };
    if n.tag != der::INTEGER || e.tag != der::INTEGER {
        return Err(bad());
    }
    let mut content = n.whole.to_vec();
    content.extend_from_slice(e.whole);
    Ok(der::encode(der::SEQUENCE, &content))
}

/// The public point of an ECPrivateKey, or a ring derivation when it is absent.
fn sec1_public(der_bytes: &[u8], curve_from_pkcs8: Option<&[u8]>) -> Result<Vec<u8>, String> {
    let bad = || "the EC private key is malformed".to_string();
    let (seq, _) = der::read(der_bytes).map_err(|_| bad())?;
    let parts = der::children(seq.content).ok_or_else(bad)?;
    let mut curve = curve_from_pkcs8.map(<[u8]>::to_vec);
    for p in parts.iter().skip(2) {
        match p.tag {
            // [0] parameters: the named-curve OID.
            0xa0 => {
                if let Ok((oid, _)) = der::read(p.content) {
                    curve = Some(oid.whole.to_vec());
                }
            }
            // [1] publicKey BIT STRING.
            0xa1 => {
                let (bits, _) = der::read(p.content).map_err(|_| bad())?;
                if bits.tag != der::BIT_STRING {
                    return Err(bad());
                }
                return bits.content.get(1..).map(<[u8]>::to_vec).ok_or_else(bad);
            }
            _ => {}
        }
    }
    // No public point stored: wrap into PKCS#8 and let ring compute it.
    let curve = curve.ok_or_else(|| "the EC private key does not name its curve".to_string())?;
    let ec_oid = [0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    let mut alg = ec_oid.to_vec();
    alg.extend_from_slice(&curve);
    let mut body = der::encode(der::INTEGER, &[0]);
    body.extend(der::encode(der::SEQUENCE, &alg));
    body.extend(der::encode(der::OCTET_STRING, der_bytes));
    ring_public(&der::encode(der::SEQUENCE, &body)).map_err(|_| {
        "the EC private key was saved without its public key, which mqtt-doctor cannot recompute; \
         re-save it with `openssl ec -in key.pem -out key-with-public.pem`"
            .to_string()
    })
}

fn pkcs8_public(der_bytes: &[u8]) -> Result<Vec<u8>, String> {
    let bad = || "the PKCS#8 private key is malformed".to_string();
    let (seq, _) = der::read(der_bytes).map_err(|_| bad())?;
    let parts = der::children(seq.content).ok_or_else(bad)?;
    let (Some(alg), Some(inner)) = (parts.get(1), parts.get(2)) else {
        return Err(bad());
    };
    let alg_parts = der::children(alg.content).ok_or_else(bad)?;
    let oid = alg_parts
        .first()
        .filter(|t| t.tag == der::OID)
        .and_then(|t| der::oid_string(t.content))
        .ok_or_else(bad)?;
    match oid.as_str() {
        RSA_OID => rsa_public(inner.content),
        EC_OID => sec1_public(inner.content, alg_parts.get(1).map(|t| t.whole)),
        _ => {
            // OneAsymmetricKey v2 may carry the public key as [1].
            if let Some(p) = parts.iter().skip(3).find(|p| p.tag == 0x81) {
                return p.content.get(1..).map(<[u8]>::to_vec).ok_or_else(bad);
            }
            ring_public(der_bytes)
        }
    }
}

fn ring_public(pkcs8: &[u8]) -> Result<Vec<u8>, String> {
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pkcs8.to_vec()));
    rcgen::KeyPair::try_from(&key)
        .map(|kp| kp.public_key_raw().to_vec())
        .map_err(|_| "mqtt-doctor cannot derive the public key of this key type".to_string())
}
