//! The keyring with a deadline on every call, for blocking code (the `profile` commands, the
//! resolver's on-demand lookups): a D-Bus Secret Service that accepts a connection and never
//! answers must end the command with a sentence, not hang it.

use std::sync::mpsc;
use std::time::Duration;

use super::Secret;
use super::error::SecretError;
use super::store::{Kind, SecretStore};

/// How long one keyring call may take before the tool gives up on it.
pub const KEYRING_DEADLINE: Duration = Duration::from_secs(10);

/// A [`SecretStore`] whose every call runs on a thread of its own, waited for at most the
/// deadline. A call that does not answer is left behind on its thread (the keyring API cannot
/// be cancelled); the caller gets [`SecretError::NoAnswer`].
#[derive(Clone)]
pub struct BoundedStore {
    store: SecretStore,
    deadline: Duration,
}

/// What the user calls the keyring before it is open (Linux: the Secret Service is the one
/// that can hang; keyutils answers at once).
fn default_keyring_name() -> &'static str {
    if cfg!(target_os = "linux") {
        "Secret Service"
    } else if cfg!(target_os = "macos") {
        "Keychain"
    } else {
        "Credential Manager"
    }
}

fn within<T: Send + 'static>(
    deadline: Duration,
    keyring: &str,
    f: impl FnOnce() -> Result<T, SecretError> + Send + 'static,
) -> Result<T, SecretError> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(deadline) {
        Ok(result) => result,
        Err(_) => Err(SecretError::NoAnswer {
            keyring: keyring.to_string(),
            secs: deadline.as_secs(),
        }),
    }
}

impl BoundedStore {
    /// Opens the best backend for this OS ([`SecretStore::open`]) within `deadline`.
    pub fn open(deadline: Duration) -> Result<BoundedStore, SecretError> {
        let store = within(deadline, default_keyring_name(), SecretStore::open)?;
        Ok(BoundedStore { store, deadline })
    }

    /// An already opened store, its calls bounded by `deadline`.
    pub fn new(store: SecretStore, deadline: Duration) -> BoundedStore {
        BoundedStore { store, deadline }
    }

    pub fn store(&self) -> &SecretStore {
        &self.store
    }

    fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(SecretStore) -> Result<T, SecretError> + Send + 'static,
    ) -> Result<T, SecretError> {
        let store = self.store.clone();
        within(self.deadline, self.store.backend().describe(), move || {
            f(store)
        })
    }

    pub fn get(&self, profile: &str, kind: Kind) -> Result<Option<Secret>, SecretError> {
        let p = profile.to_string();
        self.call(move |s| s.get(&p, kind))
    }

    pub fn set(&self, profile: &str, kind: Kind, value: &Secret) -> Result<(), SecretError> {
        let (p, v) = (profile.to_string(), value.clone());
        self.call(move |s| s.set(&p, kind, &v))
    }

    pub fn delete(&self, profile: &str, kind: Kind) -> Result<bool, SecretError> {
        let p = profile.to_string();
        self.call(move |s| s.delete(&p, kind))
    }

    pub fn delete_profile(&self, profile: &str) -> Result<usize, SecretError> {
        let p = profile.to_string();
        self.call(move |s| s.delete_profile(&p))
    }

    pub fn move_profile(&self, old: &str, new: &str) -> Result<usize, SecretError> {
        let (o, n) = (old.to_string(), new.to_string());
        self.call(move |s| s.move_profile(&o, &n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_that_does_not_answer_is_an_error_after_the_deadline() {
        let started = std::time::Instant::now();
        let err = within(Duration::from_secs(1), "Secret Service", || {
            std::thread::sleep(Duration::from_secs(5));
            Ok(())
        })
        .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(3));
        assert_eq!(
            err.to_string(),
            "The OS keyring (Secret Service) did not answer within 1 s; it may be locked behind a prompt or hung: refer to certificate and key files ({ file = \"path\" }) and pass passwords with --password-env VAR instead."
        );
    }

    #[test]
    fn a_call_that_answers_returns_its_result() {
        let got = within(Duration::from_secs(5), "x", || Ok(7)).unwrap();
        assert_eq!(got, 7);
    }
}
