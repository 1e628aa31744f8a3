//! Backends: which OS keyring holds the secrets, how long it keeps them, and run-time choice.

use std::sync::Arc;

use keyring_core::CredentialStore;
use serde::{Deserialize, Serialize};

use super::error::{SecretError, describe_keyring_error, one_line};

/// An OS keyring that can hold secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    /// freedesktop Secret Service over D-Bus (GNOME Keyring, KWallet, KeePassXC).
    SecretService,
    /// Linux kernel key retention service (keyutils), linked into the persistent keyring.
    KernelKeyutils,
    /// macOS Keychain.
    MacosKeychain,
    /// Windows Credential Manager.
    WindowsCredentials,
}

impl Backend {
    /// Name for messages, e.g. "Secret Service keyring".
    pub fn describe(&self) -> &'static str {
        match self {
            Backend::SecretService => "Secret Service keyring",
            Backend::KernelKeyutils => "Linux kernel keyutils keyring",
            Backend::MacosKeychain => "macOS Keychain",
            Backend::WindowsCredentials => "Windows Credential Manager",
        }
    }

    /// How long secrets stored there live, in plain words.
    pub fn persistence(&self) -> &'static str {
        match self {
            Backend::SecretService => {
                "Secrets survive logout and reboot: they are stored encrypted in your login keyring, which unlocks when you log in."
            }
            Backend::KernelKeyutils => {
                "Secrets survive logout while your persistent kernel keyring lives, but NOT a reboot, and they expire after 3 days unused; store them again after a reboot, or use file references and --password-env instead."
            }
            Backend::MacosKeychain => {
                "Secrets survive logout and reboot: they are stored in your login Keychain."
            }
            Backend::WindowsCredentials => {
                "Secrets survive logout and reboot: they are stored in your Windows credential vault."
            }
        }
    }

    /// Largest value stored in one entry; bigger values are split into numbered parts.
    pub(crate) fn default_part_limit(&self) -> usize {
        match self {
            // A Windows generic credential blob holds at most 2560 bytes.
            Backend::WindowsCredentials => 2560,
            // keyutils "user" keys hold 32767 bytes, but the per-user quota is ~20 KB.
            Backend::KernelKeyutils => 8 * 1024,
            Backend::SecretService | Backend::MacosKeychain => 64 * 1024,
        }
    }

    /// Backends worth trying on this operating system, best first.
    pub(crate) fn candidates() -> &'static [Backend] {
        if cfg!(target_os = "linux") {
            &[Backend::SecretService, Backend::KernelKeyutils]
        } else if cfg!(target_os = "macos") {
            &[Backend::MacosKeychain]
        } else if cfg!(target_os = "windows") {
            &[Backend::WindowsCredentials]
        } else {
            &[]
        }
    }
}

/// Make kernel keyutils usable in this process: join a session keyring (a fresh one when the
/// process has none, as when started outside a login session) and link the user's persistent
/// keyring into it so secrets stored by earlier runs are found.
///
/// Session keyrings belong to the calling thread's credentials and are inherited by threads
/// spawned later, so call this on the main thread before starting the tokio runtime.
/// On other operating systems it does nothing.
pub fn prepare_process() -> Result<(), SecretError> {
    #[cfg(target_os = "linux")]
    {
        use linux_keyutils::{KeyRing, KeyRingIdentifier};
        KeyRing::from_special_id(KeyRingIdentifier::Session, true).map_err(|e| {
            SecretError::BackendUnavailable {
                backend: Backend::KernelKeyutils,
                reason: format!("this process could not join a session keyring ({e:?})"),
            }
        })?;
        // Without a persistent keyring secrets still work, but only for this session.
        let _ = KeyRing::get_persistent(KeyRingIdentifier::Session);
    }
    Ok(())
}

/// What the secret store can do here: the active backend or why none works.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// The backend [`super::SecretStore::open`] would use, if any.
    pub backend: Option<Backend>,
    /// One sentence: which keyring holds secrets, or why none can.
    pub summary: String,
    /// How long stored secrets live (set when a backend works).
    pub persistence: Option<String>,
    /// Each backend tried on this OS and what happened.
    pub probes: Vec<Probe>,
    /// What to use instead when no backend works.
    pub alternatives: Vec<String>,
}

/// The result of trying one backend.
#[derive(Debug, Clone, Serialize)]
pub struct Probe {
    pub backend: Backend,
    pub usable: bool,
    /// "ready", or the reason it cannot be used.
    pub detail: String,
}

const ALTERNATIVES: [&str; 2] = [
    "Reference certificates and keys as files in the profile: `ca = { file = \"path\" }`.",
    "Pass passwords from an environment variable: `--password-env VAR` or `password = { env = \"VAR\" }`.",
];

/// Probe every backend for this OS (stopping at nothing: the report lists them all).
pub fn status() -> Status {
    let mut probes = Vec::new();
    let mut active = None;
    for &backend in Backend::candidates() {
        match open_store(backend) {
            Ok(_) => {
                if active.is_none() {
                    active = Some(backend);
                }
                probes.push(Probe {
                    backend,
                    usable: true,
                    detail: "ready".to_string(),
                });
            }
            Err(e) => probes.push(Probe {
                backend,
                usable: false,
                detail: reason_of(&e),
            }),
        }
    }
    match active {
        Some(backend) => Status {
            backend: Some(backend),
            summary: format!("Secrets are stored in the {}.", backend.describe()),
            persistence: Some(persistence_here(backend)),
            probes,
            alternatives: Vec::new(),
        },
        None => Status {
            backend: None,
            summary: none_works_sentence(&probes),
            persistence: None,
            probes,
            alternatives: ALTERNATIVES.iter().map(|s| s.to_string()).collect(),
        },
    }
}

fn reason_of(e: &SecretError) -> String {
    match e {
        SecretError::BackendUnavailable { reason, .. } => reason.clone(),
        SecretError::Unsupported { .. } => "not supported on this operating system".to_string(),
        other => one_line(&other.to_string()),
    }
}

/// The single sentence shown when no keyring can be used.
pub(crate) fn none_works_sentence(probes: &[Probe]) -> String {
    let tried = if probes.is_empty() {
        "no keyring is supported on this operating system".to_string()
    } else {
        probes
            .iter()
            .map(|p| format!("{}: {}", p.backend.describe(), p.detail))
            .collect::<Vec<_>>()
            .join("; ")
    };
    format!(
        "No OS keyring can hold secrets here ({tried}), so reference certificates and keys as files and pass passwords with --password-env."
    )
}

/// The persistence sentence, corrected when keyutils has no persistent keyring.
fn persistence_here(backend: Backend) -> String {
    #[cfg(target_os = "linux")]
    if backend == Backend::KernelKeyutils {
        use linux_keyutils::{KeyRing, KeyRingIdentifier};
        if KeyRing::get_persistent(KeyRingIdentifier::Session).is_err() {
            return "Secrets last only as long as this session keyring (the kernel offers no persistent keyring here): they are gone after logout or reboot; prefer file references and --password-env.".to_string();
        }
    }
    backend.persistence().to_string()
}

/// Open one backend's credential store, checking it is actually usable.
pub(crate) fn open_store(backend: Backend) -> Result<Arc<CredentialStore>, SecretError> {
    match backend {
        #[cfg(target_os = "linux")]
        Backend::SecretService => linux::open_secret_service(),
        #[cfg(target_os = "linux")]
        Backend::KernelKeyutils => linux::open_keyutils(),
        // The macOS and Windows stores follow the same keyring-core API as the Linux ones;
        // this machine cannot build those targets, so they are exercised only on them.
        #[cfg(target_os = "macos")]
        Backend::MacosKeychain => {
            let store = apple_native_keyring_store::keychain::Store::new().map_err(|e| {
                SecretError::BackendUnavailable {
                    backend,
                    reason: describe_keyring_error(&e),
                }
            })?;
            let store: Arc<CredentialStore> = store;
            Ok(store)
        }
        #[cfg(target_os = "windows")]
        Backend::WindowsCredentials => {
            let store = windows_native_keyring_store::Store::new().map_err(|e| {
                SecretError::BackendUnavailable {
                    backend,
                    reason: describe_keyring_error(&e),
                }
            })?;
            let store: Arc<CredentialStore> = store;
            Ok(store)
        }
        other => Err(SecretError::Unsupported { backend: other }),
    }
}

/// Try the candidates in order; the first usable one wins.
pub(crate) fn select() -> Result<(Backend, Arc<CredentialStore>), SecretError> {
    let mut probes = Vec::new();
    for &backend in Backend::candidates() {
        match open_store(backend) {
            Ok(store) => return Ok((backend, store)),
            Err(e) => probes.push(Probe {
                backend,
                usable: false,
                detail: reason_of(&e),
            }),
        }
    }
    Err(SecretError::NoBackend {
        summary: none_works_sentence(&probes),
    })
}

#[cfg(target_os = "linux")]
mod linux {
    use super::*;

    pub(super) fn open_secret_service() -> Result<Arc<CredentialStore>, SecretError> {
        use secret_service::EncryptionType;
        use secret_service::blocking::SecretService;

        let unavailable = |reason: String| SecretError::BackendUnavailable {
            backend: Backend::SecretService,
            reason,
        };
        match std::env::var("DBUS_SESSION_BUS_ADDRESS") {
            Ok(addr) if !addr.trim().is_empty() => {}
            _ => {
                return Err(unavailable(
                    "there is no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)".into(),
                ));
            }
        }
        // Check the default collection is there and unlocked: otherwise the store would try
        // to show an unlock prompt, which blocks forever without a desktop.
        {
            let ss = SecretService::connect(EncryptionType::Dh).map_err(|e| {
                unavailable(format!(
                    "the session bus or the secrets daemon did not answer ({})",
                    one_line(&e.to_string())
                ))
            })?;
            let collection = ss.get_default_collection().map_err(|e| {
                unavailable(format!(
                    "there is no default collection (login keyring) ({})",
                    one_line(&e.to_string())
                ))
            })?;
            let locked = collection.is_locked().map_err(|e| {
                unavailable(format!(
                    "the default collection could not be queried ({})",
                    one_line(&e.to_string())
                ))
            })?;
            if locked {
                return Err(unavailable(
                    "the login keyring is locked; unlock it by logging in to the desktop or with `gnome-keyring-daemon --unlock`".into(),
                ));
            }
        }
        let store = zbus_secret_service_keyring_store::Store::new()
            .map_err(|e| unavailable(describe_keyring_error(&e)))?;
        Ok(store)
    }

    pub(super) fn open_keyutils() -> Result<Arc<CredentialStore>, SecretError> {
        let unavailable = |reason: String| SecretError::BackendUnavailable {
            backend: Backend::KernelKeyutils,
            reason,
        };
        let store = linux_keyutils_keyring_store::Store::new()
            .map_err(|e| unavailable(describe_keyring_error(&e)))?;
        let store: Arc<CredentialStore> = store;
        // Write, read and remove a probe: access is checked per operation, not at open.
        let account = format!("probe-{}", std::process::id());
        let entry =
            keyring_core::Entry::new_in_store(&store, super::super::store::SERVICE, &account)
                .map_err(|e| unavailable(keyutils_reason(&e)))?;
        entry
            .set_secret(b"probe")
            .map_err(|e| unavailable(keyutils_reason(&e)))?;
        let read = entry
            .get_secret()
            .map_err(|e| unavailable(keyutils_reason(&e)))?;
        let _ = entry.delete_credential();
        if read != b"probe" {
            return Err(unavailable(
                "a probe value read back differently from what was written".into(),
            ));
        }
        Ok(store)
    }

    fn keyutils_reason(e: &keyring_core::Error) -> String {
        match e {
            keyring_core::Error::NoStorageAccess(_) => "access denied: this process has no usable session keyring (mqtt-doctor joins one at startup; if you see this, the kernel or a sandbox forbids it)".to_string(),
            keyring_core::Error::PlatformFailure(inner)
                if inner.to_string().contains("Unknown(38)") =>
            {
                "the kernel has no key retention service (keyutils)".to_string()
            }
            other => describe_keyring_error(other),
        }
    }
}
