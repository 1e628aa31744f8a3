//! Certificate import and chain analysis. Pure: no network, no clock, no terminal.
//!
//! * [`load`] / [`load_file`] / [`load_certificates`] read PEM, DER and PKCS#12.
//! * [`parse_cert`] turns one DER certificate into a [`CertInfo`].
//! * [`analyze`] checks a presented chain and returns [`CertFinding`]s with evidence.
//! * [`pem`] encodes DER as PEM text (`cert fetch --pem`).
//!
//! The words for findings live in `crate::explain` (`finding_sentence`, `inspect_text`).

mod analyze;
mod der;
mod error;
mod info;
mod keymatch;
mod load;
mod pem;

#[cfg(test)]
pub(crate) mod testutil;

pub use analyze::{
    Analysis, AnalyzeOptions, CertFinding, FindingKind, Purpose, Severity, analyze, hosts_in,
    is_ca_file, name_matches,
};
pub use error::{CertError, KEY_REEXPORT, P12_REEXPORT};
pub use info::{
    CertInfo, hex_colon, human_utc, is_weak_signature, parse_cert, rfc3339, signature_name,
};
pub use load::{
    Format, Loaded, MAX_CERT_FILE, describe_key, load, load_certificates, load_file, read_checked,
};
pub use pem::pem;
