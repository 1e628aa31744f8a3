//! Errors from importing or parsing certificates and keys. Every message is one sentence that
//! names the file (and the PEM block when there is one), because the user has to find it.

use crate::text::sanitize;

/// Where in a file a problem is: the whole file, or the n-th PEM block (1-based).
fn place(label: &str, block: Option<usize>) -> String {
    match block {
        Some(n) => format!("PEM block {n} of \"{}\"", sanitize(label)),
        None => format!("\"{}\"", sanitize(label)),
    }
}

/// The command that turns a legacy-encrypted file into one current tools read.
pub const P12_REEXPORT: &str =
    "openssl pkcs12 -in old.p12 -nodes | openssl pkcs12 -export -out new.p12";
/// OpenSSL 3 itself only reads old PKCS#12 ciphers with `-legacy`.
fn legacy_hint(reexport: &str) -> &'static str {
    if reexport == P12_REEXPORT {
        " (with OpenSSL 3, add -legacy to the first command)"
    } else {
        ""
    }
}

/// The command that re-encrypts a legacy-encrypted PEM key with AES-256.
pub const KEY_REEXPORT: &str = "openssl pkcs8 -topk8 -v2 aes-256-cbc -in old.key -out new.key";

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum CertError {
    #[error("Could not read \"{}\": {}.", sanitize(.label), sanitize(.reason))]
    Unreadable { label: String, reason: String },

    #[error("\"{}\" is empty; it holds no certificate or key.", sanitize(.label))]
    Empty { label: String },

    #[error(
        "\"{}\" is a text file but not PEM: it has no \"-----BEGIN ...-----\" line, so it holds no certificate or key.",
        sanitize(.label)
    )]
    NotPem { label: String },

    #[error(
        "\"{}\" is not a certificate or key file: it is neither PEM text nor DER or PKCS#12 data.",
        sanitize(.label)
    )]
    Unrecognized { label: String },

    #[error("{} is truncated: {}.", place(.label, *.block), sanitize(.detail))]
    Truncated {
        label: String,
        block: Option<usize>,
        detail: String,
    },

    #[error("{} is damaged and cannot be decoded: {}.", place(.label, *.block), sanitize(.detail))]
    Corrupt {
        label: String,
        block: Option<usize>,
        detail: String,
    },

    #[error(
        "{} has the label \"{}\", which is not a certificate or private key (expected CERTIFICATE, PRIVATE KEY, RSA PRIVATE KEY, EC PRIVATE KEY or ENCRYPTED PRIVATE KEY).",
        place(.label, Some(*.block)), sanitize(.pem_label)
    )]
    UnknownPemLabel {
        label: String,
        block: usize,
        pem_label: String,
    },

    #[error("{} holds {} but no passphrase was given; pass it with --passphrase-env VAR (the environment variable that holds it).", place(.label, *.block), .what)]
    PassphraseRequired {
        label: String,
        block: Option<usize>,
        what: String,
    },

    #[error("The passphrase for {} is wrong: {} could not be decrypted with it.", place(.label, *.block), .what)]
    WrongPassphrase {
        label: String,
        block: Option<usize>,
        what: String,
    },

    #[error(
        "{} is encrypted with {}, a legacy algorithm mqtt-doctor does not support; re-export it with `{}`{}.",
        place(.label, *.block), sanitize(.algorithm), .reexport,
        legacy_hint(.reexport)
    )]
    UnsupportedLegacy {
        label: String,
        block: Option<usize>,
        algorithm: String,
        reexport: String,
    },

    #[error("\"{}\" holds no certificate, only {}; a certificate was expected here.", sanitize(.label), .found)]
    NoCertificate { label: String, found: String },

    #[error("{} is not a valid X.509 certificate: {}.", place(.label, *.block), sanitize(.detail))]
    BadCertificate {
        label: String,
        block: Option<usize>,
        detail: String,
    },
}

impl CertError {
    /// The file (or label) the error is about.
    pub fn label(&self) -> &str {
        match self {
            CertError::Unreadable { label, .. }
            | CertError::Empty { label }
            | CertError::NotPem { label }
            | CertError::Unrecognized { label }
            | CertError::Truncated { label, .. }
            | CertError::Corrupt { label, .. }
            | CertError::UnknownPemLabel { label, .. }
            | CertError::PassphraseRequired { label, .. }
            | CertError::WrongPassphrase { label, .. }
            | CertError::UnsupportedLegacy { label, .. }
            | CertError::NoCertificate { label, .. }
            | CertError::BadCertificate { label, .. } => label,
        }
    }
}
