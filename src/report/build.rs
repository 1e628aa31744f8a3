//! What this binary is: version, git commit, build date, rustls and its crypto provider, and
//! the OS it runs on. For `--version` and the bundle; the facts come from build.rs, no network.

use serde::Serialize;

/// The build of this binary, as `--version` prints it and the bundle records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuildInfo {
    pub version: &'static str,
    pub git_commit: &'static str,
    pub build_date: &'static str,
    pub rustls: &'static str,
    pub crypto_provider: &'static str,
    pub os: &'static str,
    pub arch: &'static str,
}

pub fn info() -> BuildInfo {
    BuildInfo {
        version: env!("CARGO_PKG_VERSION"),
        git_commit: env!("MQTT_DOCTOR_GIT_COMMIT"),
        build_date: env!("MQTT_DOCTOR_BUILD_DATE"),
        rustls: env!("MQTT_DOCTOR_RUSTLS_VERSION"),
        // The one provider the engine installs (diagnose::tls::provider).
        crypto_provider: "ring",
        os: std::env::consts::OS,
        arch: std::env::consts::ARCH,
    }
}

/// The text after `mqtt-doctor ` in `--version`: the version, then one fact per line.
pub fn long_version() -> &'static str {
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEXT.get_or_init(|| {
        let b = info();
        format!(
            "{}\ncommit:          {}\nbuilt:           {}\nrustls:          {}\ncrypto provider: {}\nplatform:        {}/{}",
            b.version, b.git_commit, b.build_date, b.rustls, b.crypto_provider, b.os, b.arch
        )
    })
}
