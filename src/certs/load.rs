//! Importing certificates and keys from whatever the user has: PEM bundles, DER files and
//! PKCS#12 archives. Format detection looks at the bytes, never at the file extension.

use std::io::{self, Read as _};
use std::path::Path;

use base64::Engine as _;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{
    CertificateDer, PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer, PrivateSec1KeyDer,
};
use serde::Serialize;

use super::der::{self, DerErr, Tlv};
use super::error::{CertError, KEY_REEXPORT, P12_REEXPORT};

/// How the file was encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Format {
    Pem,
    Der,
    Pkcs12,
}

/// What a file held. Certificates are in file order (for PKCS#12: the certificate that belongs
/// to the key first, then the others in archive order).
#[derive(Debug)]
pub struct Loaded {
    pub certs: Vec<CertificateDer<'static>>,
    pub key: Option<PrivateKeyDer<'static>>,
    pub format: Format,
}

/// No certificate bundle, key or PKCS#12 archive comes near this (the largest public CA
/// bundles are well under 1 MB); a bigger input is a mistake or an attack on memory.
pub const MAX_CERT_FILE: u64 = 8 * 1024 * 1024;

/// The one way this tool reads a file a user named: refuses anything but a regular file
/// (a FIFO, a device such as /dev/zero, a directory) before reading, opens it non-blocking so
/// a FIFO swapped in after the check cannot hang, checks the type again on the open file and
/// stops at `limit` bytes. Errors keep their `io::ErrorKind` and say what was wrong.
pub fn read_checked(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    not_regular(&std::fs::metadata(path)?)?;
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NONBLOCK);
    }
    let file = opts.open(path)?;
    let meta = file.metadata()?;
    not_regular(&meta)?;
    let too_large = || {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("it is larger than {limit} bytes, more than any such file reaches"),
        )
    };
    if meta.len() > limit {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

fn not_regular(meta: &std::fs::Metadata) -> io::Result<()> {
    let t = meta.file_type();
    if t.is_file() {
        return Ok(());
    }
    let kind = if t.is_dir() {
        "a directory"
    } else {
        special_kind(&t)
    };
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("it is {kind}, not a regular file"),
    ))
}

#[cfg(unix)]
fn special_kind(t: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &std::fs::FileType) -> &'static str {
    "a special file"
}

/// Reads `path` and imports it like [`load`]; the file name in errors is the path as given.
pub fn load_file(path: &Path, passphrase: Option<&str>) -> Result<Loaded, CertError> {
    let label = path.display().to_string();
    let bytes = read_checked(path, MAX_CERT_FILE).map_err(|e| CertError::Unreadable {
        label: label.clone(),
        reason: e.to_string(),
    })?;
    load(&label, &bytes, passphrase)
}

/// Imports certificates and at most one private key from `bytes`. `label` names the file in
/// error messages. The passphrase is used for encrypted PKCS#8 keys and PKCS#12 archives.
pub fn load(label: &str, bytes: &[u8], passphrase: Option<&str>) -> Result<Loaded, CertError> {
    // Editors on Windows like to start text files with a UTF-8 byte order mark.
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(CertError::Empty {
            label: label.into(),
        });
    }
    if contains(bytes, b"-----BEGIN ") {
        return load_pem(label, bytes, passphrase);
    }
    if looks_like_text(bytes) {
        return Err(CertError::NotPem {
            label: label.into(),
        });
    }
    load_der(label, bytes, passphrase)
}

/// Like [`load`], but the caller needs certificates: a file with only a key (or nothing usable)
/// is an error that says what was found instead.
pub fn load_certificates(
    label: &str,
    bytes: &[u8],
    passphrase: Option<&str>,
) -> Result<Vec<CertificateDer<'static>>, CertError> {
    let loaded = load(label, bytes, passphrase)?;
    if loaded.certs.is_empty() {
        let found = match &loaded.key {
            Some(k) => describe_key(k).to_string(),
            None => "nothing usable".to_string(),
        };
        return Err(CertError::NoCertificate {
            label: label.into(),
            found,
        });
    }
    Ok(loaded.certs)
}

/// A phrase for the kind of key, used in messages ("a private key (PKCS#8)").
pub fn describe_key(key: &PrivateKeyDer<'_>) -> &'static str {
    match key {
        PrivateKeyDer::Pkcs1(_) => "an RSA private key (PKCS#1)",
        PrivateKeyDer::Sec1(_) => "an EC private key (SEC1)",
        PrivateKeyDer::Pkcs8(_) => "a private key (PKCS#8)",
        _ => "a private key",
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn looks_like_text(bytes: &[u8]) -> bool {
    match std::str::from_utf8(bytes) {
        Ok(s) => s
            .chars()
            .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t' | '\u{c}')),
        Err(_) => false,
    }
}

// ---------------------------------------------------------------------------------------------
// PEM

/// One `-----BEGIN X-----` … `-----END X-----` block.
struct PemBlock<'a> {
    /// 1-based position among all blocks in the file.
    number: usize,
    label: String,
    /// From the BEGIN line to the END line inclusive, for handing to the PEM decoder.
    text: Vec<u8>,
    /// Base64 lines only.
    body: Vec<&'a [u8]>,
    /// `Name: value` header lines (RFC 1421 style, used by traditional OpenSSL encryption).
    headers: Vec<String>,
}

fn trim(line: &[u8]) -> &[u8] {
    line.trim_ascii()
}

fn split_blocks<'a>(label: &str, bytes: &'a [u8]) -> Result<Vec<PemBlock<'a>>, CertError> {
    let mut blocks = Vec::new();
    let mut current: Option<PemBlock<'a>> = None;
    for raw in bytes.split(|b| *b == b'\n') {
        let line = trim(raw);
        if let Some(rest) = line.strip_prefix(b"-----BEGIN ") {
            let number = blocks.len() + 1;
            if let Some(open) = current.take() {
                return Err(CertError::Truncated {
                    label: label.into(),
                    block: Some(open.number),
                    detail: format!(
                        "its \"{}\" block has no END line before the next BEGIN line",
                        open.label
                    ),
                });
            }
            let name = rest.strip_suffix(b"-----").unwrap_or(rest);
            current = Some(PemBlock {
                number,
                label: String::from_utf8_lossy(name).into_owned(),
                text: line.to_vec(),
                body: Vec::new(),
                headers: Vec::new(),
            });
        } else if let Some(rest) = line.strip_prefix(b"-----END ") {
            let Some(mut open) = current.take() else {
                continue;
            };
            let name = rest.strip_suffix(b"-----").unwrap_or(rest);
            if name != open.label.as_bytes() {
                return Err(CertError::Corrupt {
                    label: label.into(),
                    block: Some(open.number),
                    detail: format!(
                        "it begins as \"{}\" but ends as \"{}\"",
                        open.label,
                        String::from_utf8_lossy(name)
                    ),
                });
            }
            open.text.push(b'\n');
            open.text.extend_from_slice(line);
            open.text.push(b'\n');
            blocks.push(open);
        } else if let Some(open) = current.as_mut() {
            if line.is_empty() {
                continue;
            }
            if line.contains(&b':') {
                open.headers
                    .push(String::from_utf8_lossy(line).into_owned());
            } else {
                open.body.push(line);
                open.text.push(b'\n');
                open.text.extend_from_slice(line);
            }
        }
    }
    if let Some(open) = current {
        return Err(CertError::Truncated {
            label: label.into(),
            block: Some(open.number),
            detail: format!("the \"{}\" block has no END line", open.label),
        });
    }
    Ok(blocks)
}

/// Labels that can sit next to keys and certificates and that we skip on purpose.
const HARMLESS_LABELS: &[&str] = &["EC PARAMETERS", "DH PARAMETERS", "X509 CRL"];

fn load_pem(label: &str, bytes: &[u8], passphrase: Option<&str>) -> Result<Loaded, CertError> {
    let blocks = split_blocks(label, bytes)?;
    let mut certs = Vec::new();
    let mut key: Option<PrivateKeyDer<'static>> = None;
    for block in &blocks {
        let n = Some(block.number);
        if block.headers.iter().any(|h| h.contains("ENCRYPTED")) {
            let cipher = block
                .headers
                .iter()
                .find_map(|h| h.strip_prefix("DEK-Info:"))
                .and_then(|v| v.split(',').next())
                .map(|c| c.trim().to_string())
                .unwrap_or_else(|| "an unknown cipher".into());
            return Err(CertError::UnsupportedLegacy {
                label: label.into(),
                block: n,
                algorithm: format!("traditional OpenSSL PEM encryption ({cipher})"),
                reexport: KEY_REEXPORT.into(),
            });
        }
        match block.label.as_str() {
            "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => {
                let der = pem_decode(label, block)?;
                // A TRUSTED CERTIFICATE is the certificate followed by OpenSSL trust settings.
                let cert = first_element(label, n, &der)?;
                certs.push(CertificateDer::from(cert.to_vec()));
            }
            "PRIVATE KEY" | "RSA PRIVATE KEY" | "EC PRIVATE KEY" => {
                let der = pem_decode(label, block)?;
                let whole = first_element(label, n, &der)?;
                let k = match block.label.as_str() {
                    "RSA PRIVATE KEY" => {
                        PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(whole.to_vec()))
                    }
                    "EC PRIVATE KEY" => {
                        PrivateKeyDer::Sec1(PrivateSec1KeyDer::from(whole.to_vec()))
                    }
                    _ => PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(whole.to_vec())),
                };
                if key.is_none() {
                    key = Some(k);
                }
            }
            "ENCRYPTED PRIVATE KEY" => {
                let der = base64_body(label, block)?;
                let whole = first_element(label, n, &der)?;
                let k = decrypt_pkcs8(label, n, whole, passphrase)?;
                if key.is_none() {
                    key = Some(k);
                }
            }
            other if HARMLESS_LABELS.contains(&other) => {}
            other => {
                return Err(CertError::UnknownPemLabel {
                    label: label.into(),
                    block: block.number,
                    pem_label: other.into(),
                });
            }
        }
    }
    if certs.is_empty() && key.is_none() {
        let found = if blocks.is_empty() {
            "a damaged PEM header".to_string()
        } else {
            let labels: Vec<&str> = blocks.iter().map(|b| b.label.as_str()).collect();
            format!("{} block(s)", labels.join(", "))
        };
        return Err(CertError::NoCertificate {
            label: label.into(),
            found,
        });
    }
    Ok(Loaded {
        certs,
        key,
        format: Format::Pem,
    })
}

/// Decodes a block through the rustls PEM reader (which validates the base64).
fn pem_decode(label: &str, block: &PemBlock<'_>) -> Result<Vec<u8>, CertError> {
    let corrupt = |detail: String| CertError::Corrupt {
        label: label.into(),
        block: Some(block.number),
        detail,
    };
    let decoded = match block.label.as_str() {
        "PRIVATE KEY" | "RSA PRIVATE KEY" | "EC PRIVATE KEY" => {
            PrivateKeyDer::from_pem_slice(&block.text).map(|k| k.secret_der().to_vec())
        }
        "CERTIFICATE" => CertificateDer::from_pem_slice(&block.text).map(|c| c.to_vec()),
        // Labels the rustls reader does not know: decode the base64 ourselves.
        _ => return base64_body(label, block),
    };
    decoded.map_err(|e| match e {
        rustls_pki_types::pem::Error::Base64Decode(_) => {
            corrupt("its base64 text is invalid".into())
        }
        other => corrupt(other.to_string()),
    })
}

fn base64_body(label: &str, block: &PemBlock<'_>) -> Result<Vec<u8>, CertError> {
    let joined: Vec<u8> = block.body.concat();
    base64::engine::general_purpose::STANDARD
        .decode(&joined)
        .map_err(|_| CertError::Corrupt {
            label: label.into(),
            block: Some(block.number),
            detail: "its base64 text is invalid".into(),
        })
}

/// The first DER element of `der`, with truncation reported as such.
fn first_element<'a>(
    label: &str,
    block: Option<usize>,
    der: &'a [u8],
) -> Result<&'a [u8], CertError> {
    match der::read(der) {
        Ok((tlv, _)) if tlv.tag == der::SEQUENCE => Ok(tlv.whole),
        Ok(_) => Err(CertError::Corrupt {
            label: label.into(),
            block,
            detail: "its contents are not DER-encoded ASN.1".into(),
        }),
        Err(e) => Err(der_error(label, block, e)),
    }
}

fn der_error(label: &str, block: Option<usize>, e: DerErr) -> CertError {
    match e {
        DerErr::Truncated { wanted, have } => CertError::Truncated {
            label: label.into(),
            block,
            detail: format!("the data announces {wanted} bytes but only {have} are present"),
        },
        DerErr::Malformed => CertError::Corrupt {
            label: label.into(),
            block,
            detail: "its contents are not DER-encoded ASN.1".into(),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Encrypted PKCS#8

fn decrypt_pkcs8(
    label: &str,
    block: Option<usize>,
    der: &[u8],
    passphrase: Option<&str>,
) -> Result<PrivateKeyDer<'static>, CertError> {
    let what = "an encrypted private key".to_string();
    let corrupt = |detail: &str| CertError::Corrupt {
        label: label.into(),
        block,
        detail: detail.into(),
    };
    let (outer, _) = der::read(der).map_err(|e| der_error(label, block, e))?;
    let parts = der::children(outer.content)
        .ok_or_else(|| corrupt("the encrypted key structure is malformed"))?;
    let (Some(alg), Some(data)) = (parts.first(), parts.get(1)) else {
        return Err(corrupt("the encrypted key structure is incomplete"));
    };
    if alg.tag != der::SEQUENCE || data.tag != der::OCTET_STRING {
        return Err(corrupt("the encrypted key structure is malformed"));
    }
    let Some(pass) = passphrase else {
        return Err(CertError::PassphraseRequired {
            label: label.into(),
            block,
            what,
        });
    };
    let alg_name = algorithm_name(alg);
    let legacy = |algorithm: String| CertError::UnsupportedLegacy {
        label: label.into(),
        block,
        algorithm,
        reexport: KEY_REEXPORT.into(),
    };
    let scheme =
        pkcs5::EncryptionScheme::try_from(alg.whole).map_err(|_| legacy(alg_name.clone()))?;
    if scheme.pbes1().is_some() {
        return Err(legacy(alg_name));
    }
    match scheme.decrypt(pass.as_bytes(), data.content) {
        Ok(plain) => match der::read(&plain) {
            Ok((tlv, _)) if tlv.tag == der::SEQUENCE && der::children(tlv.content).is_some() => Ok(
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(tlv.whole.to_vec())),
            ),
            _ => Err(CertError::WrongPassphrase {
                label: label.into(),
                block,
                what,
            }),
        },
        Err(pkcs5::Error::UnsupportedAlgorithm { .. }) | Err(pkcs5::Error::NoPbes1CryptSupport) => {
            Err(legacy(alg_name))
        }
        Err(_) => Err(CertError::WrongPassphrase {
            label: label.into(),
            block,
            what,
        }),
    }
}

/// A readable name for a password-based encryption AlgorithmIdentifier.
fn algorithm_name(alg: &Tlv<'_>) -> String {
    let oid = der::children(alg.content)
        .and_then(|c| c.first().copied())
        .filter(|t| t.tag == der::OID)
        .and_then(|t| der::oid_string(t.content))
        .unwrap_or_default();
    pbe_name(&oid)
}

fn pbe_name(oid: &str) -> String {
    match oid {
        "1.2.840.113549.1.5.3" => "PBE-MD5-DES (PKCS#5 v1)".into(),
        "1.2.840.113549.1.5.6" => "PBE-MD5-RC2 (PKCS#5 v1)".into(),
        "1.2.840.113549.1.5.10" => "PBE-SHA1-DES (PKCS#5 v1)".into(),
        "1.2.840.113549.1.5.11" => "PBE-SHA1-RC2 (PKCS#5 v1)".into(),
        "1.2.840.113549.1.12.1.1" => "128-bit RC4 with SHA-1 (PKCS#12 PBE)".into(),
        "1.2.840.113549.1.12.1.2" => "40-bit RC4 with SHA-1 (PKCS#12 PBE)".into(),
        "1.2.840.113549.1.12.1.3" => "3-key triple DES with SHA-1 (PKCS#12 PBE)".into(),
        "1.2.840.113549.1.12.1.4" => "2-key triple DES with SHA-1 (PKCS#12 PBE)".into(),
        "1.2.840.113549.1.12.1.5" => "128-bit RC2 with SHA-1 (PKCS#12 PBE)".into(),
        "1.2.840.113549.1.12.1.6" => "40-bit RC2 with SHA-1 (PKCS#12 PBE)".into(),
        "1.2.840.113549.1.5.13" => "a PBES2 cipher or key derivation that is not supported".into(),
        "" => "an unidentified algorithm".into(),
        other => format!("algorithm {other}"),
    }
}

// ---------------------------------------------------------------------------------------------
// DER and PKCS#12

/// What a DER SEQUENCE looks like from its top-level shape.
#[derive(Debug, PartialEq, Eq)]
enum DerKind {
    Certificate,
    Pkcs12,
    Pkcs8,
    EncryptedPkcs8,
    Pkcs1,
    Sec1,
    Unknown,
}

fn classify(content: &[u8]) -> DerKind {
    let Some(parts) = der::children(content) else {
        return DerKind::Unknown;
    };
    let tags: Vec<u8> = parts.iter().map(|t| t.tag).collect();
    let version = parts.first().and_then(der::small_int);
    match (tags.as_slice(), version) {
        ([der::SEQUENCE, der::SEQUENCE, der::BIT_STRING], _) => DerKind::Certificate,
        ([der::INTEGER, der::SEQUENCE, ..], Some(3)) => DerKind::Pkcs12,
        ([der::INTEGER, der::SEQUENCE, der::OCTET_STRING, ..], Some(0 | 1)) => DerKind::Pkcs8,
        ([der::SEQUENCE, der::OCTET_STRING], _) => DerKind::EncryptedPkcs8,
        ([der::INTEGER, der::INTEGER, ..], Some(0 | 1)) if parts.len() >= 9 => DerKind::Pkcs1,
        ([der::INTEGER, der::OCTET_STRING, ..], Some(1)) => DerKind::Sec1,
        _ => DerKind::Unknown,
    }
}

fn load_der(label: &str, bytes: &[u8], passphrase: Option<&str>) -> Result<Loaded, CertError> {
    if bytes.first() != Some(&der::SEQUENCE) {
        return Err(CertError::Unrecognized {
            label: label.into(),
        });
    }
    let (outer, _) = der::read(bytes).map_err(|e| der_error(label, None, e))?;
    let whole = outer.whole.to_vec();
    let key = |k: PrivateKeyDer<'static>| Loaded {
        certs: Vec::new(),
        key: Some(k),
        format: Format::Der,
    };
    match classify(outer.content) {
        DerKind::Certificate => Ok(Loaded {
            certs: vec![CertificateDer::from(whole)],
            key: None,
            format: Format::Der,
        }),
        DerKind::Pkcs8 => Ok(key(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(whole)))),
        DerKind::Pkcs1 => Ok(key(PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(whole)))),
        DerKind::Sec1 => Ok(key(PrivateKeyDer::Sec1(PrivateSec1KeyDer::from(whole)))),
        DerKind::EncryptedPkcs8 => Ok(key(decrypt_pkcs8(label, None, outer.whole, passphrase)?)),
        DerKind::Pkcs12 => load_p12(label, outer.whole, passphrase),
        DerKind::Unknown => Err(CertError::Unrecognized {
            label: label.into(),
        }),
    }
}

fn load_p12(label: &str, bytes: &[u8], passphrase: Option<&str>) -> Result<Loaded, CertError> {
    use p12_keystore::error::Error as P12Error;
    let what = "passphrase-protected PKCS#12 data".to_string();
    let missing_or_wrong = |what: String| match passphrase {
        None => CertError::PassphraseRequired {
            label: label.into(),
            block: None,
            what,
        },
        Some(_) => CertError::WrongPassphrase {
            label: label.into(),
            block: None,
            what,
        },
    };
    let legacy = || CertError::UnsupportedLegacy {
        label: label.into(),
        block: None,
        algorithm: legacy_p12_algorithm(bytes),
        reexport: P12_REEXPORT.into(),
    };
    // Archives exported with an empty password are common; try that when none was given.
    let archive = match p12_keystore::Pkcs12Archive::from_pkcs12(bytes, passphrase.unwrap_or("")) {
        Ok(a) => a,
        Err(P12Error::MacError(_)) | Err(P12Error::UnpadError) => {
            return Err(missing_or_wrong(what));
        }
        Err(P12Error::UnsupportedEncryptionScheme) | Err(P12Error::UnsupportedMacAlgorithm) => {
            return Err(legacy());
        }
        Err(P12Error::Pkcs5Error(msg)) => {
            if msg.to_ascii_lowercase().contains("unsupported") {
                return Err(legacy());
            }
            return Err(missing_or_wrong(what));
        }
        Err(other) => {
            return Err(CertError::Corrupt {
                label: label.into(),
                block: None,
                detail: format!("the PKCS#12 structure could not be read ({other})"),
            });
        }
    };
    let key_id = archive.keys.first().and_then(|k| k.local_key_id.clone());
    let mut certs: Vec<CertificateDer<'static>> = Vec::new();
    let mut leaf: Option<CertificateDer<'static>> = None;
    for bag in &archive.certs {
        let der = CertificateDer::from(bag.cert.as_der().to_vec());
        let is_leaf = match (&key_id, &bag.local_key_id) {
            (Some(k), Some(c)) => k.as_ref() == c.as_slice(),
            _ => false,
        };
        if is_leaf && leaf.is_none() {
            leaf = Some(der);
        } else {
            certs.push(der);
        }
    }
    if let Some(l) = leaf {
        certs.insert(0, l);
    }
    let key = archive
        .keys
        .first()
        .map(|k| PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(k.key.as_der().to_vec())));
    if certs.is_empty() && key.is_none() {
        return Err(CertError::NoCertificate {
            label: label.into(),
            found: "an empty PKCS#12 archive".into(),
        });
    }
    Ok(Loaded {
        certs,
        key,
        format: Format::Pkcs12,
    })
}

/// Names the first PKCS#12/PKCS#5 v1 encryption algorithm found in the archive, for messages.
fn legacy_p12_algorithm(bytes: &[u8]) -> String {
    // OID prefixes 1.2.840.113549.1.12.1 and 1.2.840.113549.1.5 as DER content.
    const PKCS12_PBE: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x01];
    const PKCS5: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05];
    for i in 0..bytes.len() {
        let rest = bytes.get(i..).unwrap_or_default();
        for prefix in [PKCS12_PBE, PKCS5] {
            if let Some(after) = rest.strip_prefix(prefix)
                && let Some(last) = after.first()
                && bytes.get(i.wrapping_sub(2)) == Some(&der::OID)
            {
                let mut content = prefix.to_vec();
                content.push(*last);
                let name = der::oid_string(&content)
                    .map(|o| pbe_name(&o))
                    .unwrap_or_default();
                // The supported ones (40-bit RC2, 3-key 3DES, PBES2) do not explain a failure.
                let supported = if prefix == PKCS12_PBE {
                    matches!(last, 0x03 | 0x06)
                } else {
                    matches!(last, 0x0c | 0x0d)
                };
                if !supported {
                    return name;
                }
            }
        }
    }
    "an encryption or MAC algorithm that is not supported".into()
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
