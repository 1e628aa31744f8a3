//! Saved broker profiles: `[profiles.NAME]` tables in `profiles.toml`.
//!
//! ```toml
//! version = 1
//!
//! [profiles.prod]
//! url = "mqtts://broker.example.com:8883"
//! username = "device-42"
//! password = { keyring = true }        # or { env = "PROD_MQTT_PASSWORD" }
//!
//! [profiles.prod.tls]
//! ca = { file = "/etc/ssl/certs/prod-ca.pem" }
//! client_cert = { file = "device.crt" }
//! client_key = { keyring = true }      # stored as `prod/private-key` in the OS keyring
//! ```
//!
//! A literal password in the file is rejected; unknown keys are errors with a suggestion;
//! every error names the file, line and column, or the profile and field. More fields:
//! `topics = ["a/#", "b"]` (the older `topic = "a/#"` is still read), `publish = false`
//! (read-only accounts), `dns_server = "192.0.2.53:53"`, `proxy = "socks5://USER@HOST:PORT"`
//! with `proxy_password = { keyring = true }` or `{ env = "VAR" }`.
//!
//! The core API every front uses to run a profile:
//! * [`Overrides`]: options given for one command; [`Overrides::apply`] layers them onto a
//!   profile (given > profile > default), for a saved `profile add/edit` and one run alike.
//! * [`resolve`] / [`resolve_async`]: profile → [`crate::diagnose::Plan`] or a [`PlanError`]
//!   naming the profile and field; secrets through a [`SecretLookup`] ([`KeyringOnDemand`],
//!   [`AsyncKeyring`] with a deadline per keyring call), the environment injected.
//! * [`ProfileForm`] / [`check_field`]: a profile edited field by field (the app's form), with
//!   each field checked on its own and the whole through [`check_runs`].
//! * [`ProfileStore::load_keeping_broken`]: every profile of a file, the ones that cannot be
//!   used kept with their error ([`BrokenProfile`]) instead of failing the whole file.
//! * [`import_mosquitto`] / [`export`]: mosquitto_sub command lines ⇄ profiles.
//! * [`fetch_plan`] / [`fetch_plan_of`]: the unverified TLS-only plan of a chain fetch.
//! * [`export_secret`]: the bytes of a keyring entry a profile keeps, for a file.

mod error;
mod fetch;
mod form;
mod model;
mod mosquitto;
mod overrides;
mod parse;
mod resolve;
mod secret_export;
mod store;

pub use error::ProfileError;
pub use fetch::{FetchOptions, fetch_plan, fetch_plan_of};
pub use form::{
    FORM_FIELDS, FormError, FormField, FormResult, PendingSecrets, ProfileForm, check_field,
    check_runs, keyring_accounts, remove_with_secrets, rename_with_secrets, save_with_secrets,
};
pub use model::{
    Endpoint, HeaderValue, Material, MqttVersion, Profile, SecretSource, Tls, TlsVersion,
    Transport, parse_dns_server,
};
pub use mosquitto::{ExportFormat, Imported, MosquittoError, export, import_mosquitto};
pub use overrides::Overrides;
pub use parse::BrokenProfile;
pub use resolve::{
    AsyncKeyring, Env, Fetched, Field, KEYRING_DEADLINE, KeyringOnDemand, PlanError, SecretLookup,
    resolve, resolve_async,
};
pub use secret_export::{export_secret, kept_in_keyring};
pub(crate) use store::parse_bytes;
pub use store::{CONFIG_ENV, ProfileStore};

/// toml/serde messages as one line without a trailing period.
fn error_message(m: &str) -> String {
    let joined = m.split_whitespace().collect::<Vec<_>>().join(" ");
    joined.trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod resolve_tests;

#[cfg(test)]
mod mosquitto_tests;
