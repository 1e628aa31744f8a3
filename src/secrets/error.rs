//! Errors of the secret store. Every message is one sentence naming the profile, the kind of
//! secret and the backend; none ever contains a secret value (keyring errors that carry raw
//! bytes are reduced to a description before they get here).

use super::backend::Backend;
use super::store::Kind;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The chosen backend cannot be used here (no bus, locked collection, no session keyring…).
    #[error("The {} cannot be used: {reason}.", backend.describe())]
    BackendUnavailable { backend: Backend, reason: String },

    /// The backend exists on another operating system only.
    #[error("The {} is not supported on this operating system.", backend.describe())]
    Unsupported { backend: Backend },

    /// No backend works; `summary` is the single sentence from [`super::status`].
    #[error("{summary}")]
    NoBackend { summary: String },

    /// The profile name cannot be used in a keyring account name.
    #[error(
        "Profile name `{profile}` cannot be used for keyring entries: use letters, digits, `.`, `_` or `-` (at most 64 characters)."
    )]
    InvalidProfile { profile: String },

    /// An empty value was given to `set`.
    #[error(
        "Refusing to store an empty {} for profile `{profile}` in the {}; delete it instead.",
        kind.label(),
        backend.describe()
    )]
    EmptyValue {
        profile: String,
        kind: Kind,
        backend: Backend,
    },

    /// The backend refused or failed an operation.
    #[error(
        "Could not {op} the {} of profile `{profile}` in the {}: {reason}.",
        kind.label(),
        backend.describe()
    )]
    Backend {
        op: &'static str,
        profile: String,
        kind: Kind,
        backend: Backend,
        reason: String,
    },

    /// A part of a value split into several entries is missing.
    #[error(
        "The {} of profile `{profile}` in the {} is incomplete: part {part} of {parts} is missing; store it again.",
        kind.label(),
        backend.describe()
    )]
    PartMissing {
        profile: String,
        kind: Kind,
        backend: Backend,
        part: usize,
        parts: usize,
    },

    /// The keyring did not answer within the deadline (a Secret Service behind a prompt, a
    /// hung D-Bus daemon).
    #[error(
        "The OS keyring ({keyring}) did not answer within {secs} s; it may be locked behind a prompt or hung: refer to certificate and key files ({{ file = \"path\" }}) and pass passwords with --password-env VAR instead."
    )]
    NoAnswer { keyring: String, secs: u64 },

    /// Stored data does not match its checksum or header: altered or half-written.
    #[error(
        "The {} of profile `{profile}` in the {} is damaged ({reason}); store it again.",
        kind.label(),
        backend.describe()
    )]
    Corrupt {
        profile: String,
        kind: Kind,
        backend: Backend,
        reason: String,
    },
}

/// Describe a keyring-core error without ever including secret bytes it may carry.
pub(crate) fn describe_keyring_error(err: &keyring_core::Error) -> String {
    use keyring_core::Error as E;
    match err {
        E::PlatformFailure(e) => format!("platform failure ({})", one_line(&e.to_string())),
        E::NoStorageAccess(e) => format!(
            "access denied or keyring locked ({})",
            one_line(&e.to_string())
        ),
        E::NoEntry => "no such entry".to_string(),
        E::BadEncoding(_) => "the stored data is not text".to_string(),
        E::BadDataFormat(_, _) => "the stored data is malformed".to_string(),
        E::BadStoreFormat(reason) => format!("the keyring is malformed ({})", one_line(reason)),
        E::TooLong(name, len) => format!("`{name}` is longer than the limit of {len}"),
        E::Invalid(what, reason) => format!("invalid {what} ({})", one_line(reason)),
        E::Ambiguous(items) => format!("{} entries match the same name", items.len()),
        E::NoDefaultStore => "no keyring store was configured".to_string(),
        E::NotSupportedByStore(what) => format!("not supported ({})", one_line(what)),
        _ => "unexpected keyring error".to_string(),
    }
}

/// Keep messages on one line and without a trailing period (we add our own).
pub(crate) fn one_line(s: &str) -> String {
    let joined = s.split_whitespace().collect::<Vec<_>>().join(" ");
    joined.trim_end_matches('.').to_string()
}
