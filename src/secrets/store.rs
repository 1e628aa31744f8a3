//! The secret store: `<profile>/<kind>` entries under service `mqtt-doctor`, with large values
//! split into verified parts.

use std::fmt;
use std::sync::Arc;

use keyring_core::{CredentialStore, Entry};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Secret;
use super::backend::{self, Backend};
use super::error::{SecretError, describe_keyring_error};

/// Keyring service name of every entry.
pub const SERVICE: &str = "mqtt-doctor";

/// Start of a header entry that stands for a value split into parts. A value that itself
/// starts with this text is always stored split, so a header is never mistaken for a value.
const HEADER_PREFIX: &[u8] = b"mqtt-doctor:parts:v1;";
/// No sane value needs more parts; a header claiming more is damaged.
const MAX_PARTS: usize = 4096;
/// Smallest part size accepted by [`SecretStore::with_part_limit`].
const MIN_PART_LIMIT: usize = 16;

/// What a secret is for; each kind has one entry per profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Password,
    PrivateKey,
    Passphrase,
    Certificate,
    ProxyPassword,
    Header,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Password,
        Kind::PrivateKey,
        Kind::Passphrase,
        Kind::Certificate,
        Kind::ProxyPassword,
        Kind::Header,
    ];

    /// The account-name suffix, e.g. `private-key` in `prod/private-key`.
    pub fn slug(&self) -> &'static str {
        match self {
            Kind::Password => "password",
            Kind::PrivateKey => "private-key",
            Kind::Passphrase => "passphrase",
            Kind::Certificate => "certificate",
            Kind::ProxyPassword => "proxy-password",
            Kind::Header => "header",
        }
    }

    /// Words for messages, e.g. "private key".
    pub fn label(&self) -> &'static str {
        match self {
            Kind::Password => "password",
            Kind::PrivateKey => "private key",
            Kind::Passphrase => "passphrase",
            Kind::Certificate => "certificate",
            Kind::ProxyPassword => "proxy password",
            Kind::Header => "header value",
        }
    }

    /// The keyring account name, `<profile>/<kind>`.
    pub fn account(&self, profile: &str) -> String {
        format!("{profile}/{}", self.slug())
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Secrets of saved profiles in the OS keyring. All calls block: from async code use
/// `tokio::task::spawn_blocking`.
#[derive(Clone)]
pub struct SecretStore {
    backend: Backend,
    store: Arc<CredentialStore>,
    part_limit: usize,
}

impl fmt::Debug for SecretStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretStore")
            .field("backend", &self.backend)
            .field("part_limit", &self.part_limit)
            .finish()
    }
}

/// A parsed part header.
struct Header {
    parts: usize,
    len: usize,
    sha256: String,
}

impl SecretStore {
    /// Open the best usable backend for this OS (see the module docs for the order).
    pub fn open() -> Result<SecretStore, SecretError> {
        let (backend, store) = backend::select()?;
        Ok(Self::with_store(backend, store))
    }

    /// Open a specific backend; fails with a clear error when it is unusable here.
    pub fn open_backend(backend: Backend) -> Result<SecretStore, SecretError> {
        let store = backend::open_store(backend)?;
        Ok(Self::with_store(backend, store))
    }

    fn with_store(backend: Backend, store: Arc<CredentialStore>) -> SecretStore {
        SecretStore {
            backend,
            store,
            part_limit: backend.default_part_limit(),
        }
    }

    /// Split values larger than `limit` bytes (at least 16) into parts. Tests use small limits.
    pub fn with_part_limit(mut self, limit: usize) -> SecretStore {
        self.part_limit = limit.max(MIN_PART_LIMIT);
        self
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn part_limit(&self) -> usize {
        self.part_limit
    }

    /// Store (or replace) a secret. Parts left over from a larger earlier value are removed.
    pub fn set(&self, profile: &str, kind: Kind, value: &Secret) -> Result<(), SecretError> {
        check_profile(profile)?;
        let bytes = value.expose().as_bytes();
        if bytes.is_empty() {
            return Err(SecretError::EmptyValue {
                profile: profile.to_string(),
                kind,
                backend: self.backend,
            });
        }
        let main = kind.account(profile);
        let old_parts = match self.read(&main, profile, kind)? {
            Some(raw) if raw.starts_with(HEADER_PREFIX) => {
                parse_header(&raw).map(|h| h.parts).unwrap_or(0)
            }
            _ => 0,
        };
        if bytes.len() <= self.part_limit && !bytes.starts_with(HEADER_PREFIX) {
            self.write(&main, bytes, profile, kind)?;
            self.sweep_parts(profile, kind, 1, old_parts)?;
            return Ok(());
        }
        let chunks: Vec<&[u8]> = bytes.chunks(self.part_limit).collect();
        if chunks.len() > MAX_PARTS {
            return Err(SecretError::Backend {
                op: "store",
                profile: profile.to_string(),
                kind,
                backend: self.backend,
                reason: format!(
                    "the value is {} bytes, more than {MAX_PARTS} parts of {} bytes",
                    bytes.len(),
                    self.part_limit
                ),
            });
        }
        // Parts first, header last: an interrupted update leaves a header whose checksum
        // does not match, which reads as "damaged", never as wrong data.
        for (i, chunk) in chunks.iter().enumerate() {
            self.write(&part_account(profile, kind, i + 1), chunk, profile, kind)?;
        }
        let header = format!(
            "{}parts={};len={};sha256={}",
            String::from_utf8_lossy(HEADER_PREFIX),
            chunks.len(),
            bytes.len(),
            hex_sha256(bytes)
        );
        self.write(&main, header.as_bytes(), profile, kind)?;
        self.sweep_parts(profile, kind, chunks.len() + 1, old_parts)?;
        Ok(())
    }

    /// Read a secret; `Ok(None)` when none is stored. Split values are checked against their
    /// length and SHA-256: a missing or altered part is an error, never wrong data.
    pub fn get(&self, profile: &str, kind: Kind) -> Result<Option<Secret>, SecretError> {
        check_profile(profile)?;
        let Some(raw) = self.read(&kind.account(profile), profile, kind)? else {
            return Ok(None);
        };
        let corrupt = |reason: &str| SecretError::Corrupt {
            profile: profile.to_string(),
            kind,
            backend: self.backend,
            reason: reason.to_string(),
        };
        let bytes = if raw.starts_with(HEADER_PREFIX) {
            let header =
                parse_header(&raw).ok_or_else(|| corrupt("its part header is unreadable"))?;
            let mut data = Vec::with_capacity(header.len.min(1 << 20));
            for part in 1..=header.parts {
                match self.read(&part_account(profile, kind, part), profile, kind)? {
                    Some(chunk) => data.extend_from_slice(&chunk),
                    None => {
                        return Err(SecretError::PartMissing {
                            profile: profile.to_string(),
                            kind,
                            backend: self.backend,
                            part,
                            parts: header.parts,
                        });
                    }
                }
            }
            if data.len() != header.len {
                return Err(corrupt(&format!(
                    "its parts hold {} bytes instead of {}",
                    data.len(),
                    header.len
                )));
            }
            if hex_sha256(&data) != header.sha256 {
                return Err(corrupt(
                    "a part was altered or belongs to another version: the checksum does not match",
                ));
            }
            data
        } else {
            raw
        };
        String::from_utf8(bytes)
            .map(|s| Some(Secret::new(s)))
            .map_err(|_| corrupt("the stored data is not text"))
    }

    /// Remove a secret and all its parts; `Ok(false)` when there was none.
    pub fn delete(&self, profile: &str, kind: Kind) -> Result<bool, SecretError> {
        check_profile(profile)?;
        let main = kind.account(profile);
        let known_parts = match self.read(&main, profile, kind) {
            Ok(Some(raw)) if raw.starts_with(HEADER_PREFIX) => {
                parse_header(&raw).map(|h| h.parts).unwrap_or(0)
            }
            Ok(_) => 0,
            // Unreadable (e.g. not text) entries can still be deleted.
            Err(_) => 0,
        };
        // Header first: a crash then leaves orphan parts that nothing points to, not a
        // header pointing at missing parts.
        let existed = self.remove(&main, profile, kind)?;
        self.sweep_parts(profile, kind, 1, known_parts)?;
        Ok(existed)
    }

    /// Remove every kind of secret of a profile; returns how many entries existed.
    pub fn delete_profile(&self, profile: &str) -> Result<usize, SecretError> {
        let mut removed = 0;
        for kind in Kind::ALL {
            if self.delete(profile, kind)? {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Move every secret of `old` to `new` (for a profile rename); returns how many moved.
    /// Each value is written under the new name before the old one is deleted.
    pub fn move_profile(&self, old: &str, new: &str) -> Result<usize, SecretError> {
        check_profile(new)?;
        if old == new {
            // Setting then deleting the same entries would lose them.
            return Ok(0);
        }
        let mut moved = 0;
        for kind in Kind::ALL {
            if let Some(value) = self.get(old, kind)? {
                self.set(new, kind, &value)?;
                self.delete(old, kind)?;
                moved += 1;
            }
        }
        Ok(moved)
    }

    /// Delete parts `from..`: all up to `known` and then on while they exist.
    fn sweep_parts(
        &self,
        profile: &str,
        kind: Kind,
        from: usize,
        known: usize,
    ) -> Result<(), SecretError> {
        let mut part = from;
        while part <= MAX_PARTS {
            let existed = self.remove(&part_account(profile, kind, part), profile, kind)?;
            if !existed && part > known {
                break;
            }
            part += 1;
        }
        Ok(())
    }

    fn entry(&self, account: &str, profile: &str, kind: Kind) -> Result<Entry, SecretError> {
        Entry::new_in_store(&self.store, SERVICE, account)
            .map_err(|e| self.fail("open", profile, kind, &e))
    }

    pub(crate) fn read(
        &self,
        account: &str,
        profile: &str,
        kind: Kind,
    ) -> Result<Option<Vec<u8>>, SecretError> {
        match self.entry(account, profile, kind)?.get_secret() {
            Ok(v) => Ok(Some(v)),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(self.fail("read", profile, kind, &e)),
        }
    }

    pub(crate) fn write(
        &self,
        account: &str,
        data: &[u8],
        profile: &str,
        kind: Kind,
    ) -> Result<(), SecretError> {
        self.entry(account, profile, kind)?
            .set_secret(data)
            .map_err(|e| self.fail("store", profile, kind, &e))
    }

    pub(crate) fn remove(
        &self,
        account: &str,
        profile: &str,
        kind: Kind,
    ) -> Result<bool, SecretError> {
        match self.entry(account, profile, kind)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring_core::Error::NoEntry) => Ok(false),
            Err(e) => Err(self.fail("delete", profile, kind, &e)),
        }
    }

    fn fail(
        &self,
        op: &'static str,
        profile: &str,
        kind: Kind,
        e: &keyring_core::Error,
    ) -> SecretError {
        SecretError::Backend {
            op,
            profile: profile.to_string(),
            kind,
            backend: self.backend,
            reason: describe_keyring_error(e),
        }
    }
}

/// Thin async wrappers: the keyring calls run on tokio's blocking pool. With keyutils, call
/// [`super::prepare_process`] before the runtime starts so pool threads inherit the keyring.
impl SecretStore {
    pub async fn get_async(
        &self,
        profile: &str,
        kind: Kind,
    ) -> Result<Option<Secret>, SecretError> {
        let (me, p) = (self.clone(), profile.to_string());
        self.blocking(profile, kind, move || me.get(&p, kind)).await
    }

    pub async fn set_async(
        &self,
        profile: &str,
        kind: Kind,
        value: Secret,
    ) -> Result<(), SecretError> {
        let (me, p) = (self.clone(), profile.to_string());
        self.blocking(profile, kind, move || me.set(&p, kind, &value))
            .await
    }

    pub async fn delete_async(&self, profile: &str, kind: Kind) -> Result<bool, SecretError> {
        let (me, p) = (self.clone(), profile.to_string());
        self.blocking(profile, kind, move || me.delete(&p, kind))
            .await
    }

    async fn blocking<T: Send + 'static>(
        &self,
        profile: &str,
        kind: Kind,
        f: impl FnOnce() -> Result<T, SecretError> + Send + 'static,
    ) -> Result<T, SecretError> {
        match tokio::task::spawn_blocking(f).await {
            Ok(result) => result,
            Err(e) => Err(SecretError::Backend {
                op: "access",
                profile: profile.to_string(),
                kind,
                backend: self.backend,
                reason: if e.is_cancelled() {
                    "the background task was cancelled".to_string()
                } else {
                    "the background task panicked".to_string()
                },
            }),
        }
    }
}

/// Account name of part `n` (1-based): `<profile>/<kind>#<n>`.
pub(crate) fn part_account(profile: &str, kind: Kind, n: usize) -> String {
    format!("{}#{n}", kind.account(profile))
}

/// Profile names become part of account names: keep them simple and unambiguous.
fn check_profile(profile: &str) -> Result<(), SecretError> {
    let ok = !profile.is_empty()
        && profile.len() <= 64
        && profile
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(SecretError::InvalidProfile {
            profile: profile.chars().take(80).collect(),
        })
    }
}

fn parse_header(raw: &[u8]) -> Option<Header> {
    let text = std::str::from_utf8(raw.strip_prefix(HEADER_PREFIX)?).ok()?;
    let (mut parts, mut len, mut sha) = (None, None, None);
    for field in text.split(';') {
        let (key, value) = field.split_once('=')?;
        match key {
            "parts" => parts = value.parse::<usize>().ok(),
            "len" => len = value.parse::<usize>().ok(),
            "sha256" => sha = Some(value.to_string()),
            _ => return None,
        }
    }
    let header = Header {
        parts: parts?,
        len: len?,
        sha256: sha?,
    };
    if header.parts == 0 || header.parts > MAX_PARTS || header.sha256.len() != 64 {
        return None;
    }
    Some(header)
}

fn hex_sha256(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
