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
//! every error names the file, line and column, or the profile and field.

mod error;
mod model;
mod parse;
mod store;

pub use error::ProfileError;
pub use model::{
    Endpoint, HeaderValue, Material, MqttVersion, Profile, SecretSource, Tls, TlsVersion, Transport,
};
pub use store::{CONFIG_ENV, ProfileStore};

/// toml/serde messages as one line without a trailing period.
fn error_message(m: &str) -> String {
    let joined = m.split_whitespace().collect::<Vec<_>>().join(" ");
    joined.trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests;
