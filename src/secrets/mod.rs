//! Secrets: passwords, private keys, passphrases. Values are wrapped in [`Secret`] whose
//! `Debug`/`Display` print `[redacted]`; storage lives in the OS keyring.
//!
//! [`SecretStore`] stores values under service `mqtt-doctor`, account `<profile>/<kind>`
//! (e.g. `prod/password`). The backend is chosen at run time ([`SecretStore::open`]): on Linux
//! the Secret Service when a session bus answers and its default collection is unlocked,
//! otherwise the kernel keyutils keyring (call [`prepare_process`] first, on the main thread).
//! The keyring API is blocking: async callers run it on `tokio::task::spawn_blocking`, blocking
//! callers through [`BoundedStore`]; both with a deadline ([`KEYRING_DEADLINE`]).
//! [`write_private`] writes an exported entry ([`ExportKind`]) to an owner-only file.

use std::fmt;

mod backend;
mod bounded;
mod error;
mod export;
mod store;

pub use backend::{Backend, Status, prepare_process, status};
pub use bounded::{BoundedStore, KEYRING_DEADLINE};
pub use error::SecretError;
pub use export::{ExportKind, WriteError, write_private};
pub use store::{Kind, SERVICE, SecretStore};

/// A secret value. It never prints itself: `Debug` and `Display` show `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for the one place that must send it (a CONNECT packet, the keyring).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The value to edit in place (a buffer typed into), without a copy left behind.
    pub fn edit(&mut self) -> &mut String {
        &mut self.0
    }
}

impl Default for Secret {
    fn default() -> Secret {
        Secret::new("")
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A profile name for a real-keyring test that no other test, or earlier run, uses.
#[cfg(test)]
pub(crate) fn unique_test_profile(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("t{}-{nanos}-{tag}", std::process::id())
}

/// Real-keyring tests: Linux only until the macOS/Windows backends exist.
#[cfg(all(test, target_os = "linux"))]
mod store_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints_itself() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "[redacted] [redacted]");
        assert_eq!(s.expose(), "hunter2");
    }
}
