//! The plan of a fetch of the chain a server presents (`cert fetch`, the wizard's broker
//! source): a URL, or a saved profile, with only what a TLS handshake uses, verification off.

use std::path::PathBuf;

use super::model::{Profile, Tls};
use super::overrides::Overrides;
use super::resolve::{Env, Fetched, PlanError, resolve};
use crate::diagnose::Plan;

/// The options a fetch takes besides the URL (`cert fetch --ca --sni --alpn --timeout`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchOptions {
    pub ca: Option<PathBuf>,
    pub sni: Option<String>,
    pub alpn: Vec<String>,
    pub timeout_secs: Option<u64>,
}

/// A URL and options → the plan of a fetch (an unnamed profile: errors name the option).
pub fn fetch_plan(url: &str, o: &FetchOptions, env: Env<'_>) -> Result<Plan, PlanError> {
    let mut p = Profile {
        url: Some(url.to_string()),
        ..Profile::default()
    };
    Overrides {
        ca: o.ca.clone(),
        sni: o.sni.clone(),
        alpn: o.alpn.clone(),
        insecure: true,
        timeout_secs: o.timeout_secs,
        ..Overrides::default()
    }
    .apply(&mut p)?;
    // Nothing here refers to the keyring: an empty lookup never opens it.
    resolve(&p, env, &Fetched::default())
}

/// A saved profile → the plan of a fetch: its URL, CA file, SNI, ALPN, lowest TLS version, DNS
/// server and timeout. Nothing secret is read (a server presents its chain before it asks for
/// a client certificate); errors name the profile and field.
pub fn fetch_plan_of(saved: &Profile, env: Env<'_>) -> Result<Plan, PlanError> {
    let p = Profile {
        name: saved.name.clone(),
        url: saved.url.clone(),
        host: saved.host.clone(),
        port: saved.port,
        transport: saved.transport,
        ws_path: saved.ws_path.clone(),
        dns_server: saved.dns_server,
        timeout_secs: saved.timeout_secs,
        tls: Tls {
            ca: saved.tls.ca.clone(),
            sni: saved.tls.sni.clone(),
            alpn: saved.tls.alpn.clone(),
            min_tls_version: saved.tls.min_tls_version,
            insecure: true,
            ..Tls::default()
        },
        ..Profile::default()
    };
    resolve(&p, env, &Fetched::default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{Material, SecretSource};

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn a_saved_profiles_fetch_keeps_its_tls_names_and_reads_no_secret() {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        let root =
            crate::lab::pki::Ca::root("Fetch Root", time::OffsetDateTime::now_utc()).unwrap();
        std::fs::write(&ca, root.issued.cert_pem()).unwrap();
        let mut p = Profile::new("prod", "mqtts://broker.example.com:8883");
        p.tls.ca = Some(Material::File(ca.clone()));
        p.tls.sni = Some("mqtt.example.com".into());
        p.tls.alpn = vec!["mqtt".into()];
        p.timeout_secs = Some(7);
        // Secrets the fetch must not need: nothing here may be looked up.
        p.password = Some(SecretSource::Keyring);
        p.tls.client_cert = Some(Material::Keyring);
        p.tls.client_key = Some(Material::Keyring);
        let plan = fetch_plan_of(&p, &no_env).unwrap();
        assert_eq!(plan.server_name(), "mqtt.example.com");
        assert_eq!(plan.tls.alpn, vec!["mqtt".to_string()]);
        assert!(plan.tls.insecure);
        assert!(plan.tls.client.is_none());
        assert!(plan.mqtt.password.is_none());
        assert_eq!(plan.timeout, std::time::Duration::from_secs(7));
        assert_eq!(plan.tls.ca.as_ref().map(|c| c.certs.len()), Some(1));
    }

    #[test]
    fn a_bad_url_or_ca_names_the_option_or_the_profile_field() {
        let e = fetch_plan("broker:8883", &FetchOptions::default(), &no_env).unwrap_err();
        assert_eq!(
            e.to_string(),
            "URL: the URL \"broker:8883\" has no scheme: write it as mqtt://HOST:PORT (plain) or mqtts://HOST:PORT (TLS)"
        );
        let mut p = Profile::new("prod", "mqtts://broker.example.com:8883");
        p.tls.ca = Some(Material::File("/nonexistent/ca.pem".into()));
        let e = fetch_plan_of(&p, &no_env).unwrap_err();
        assert_eq!(e.profile.as_deref(), Some("prod"));
        assert_eq!(e.field, crate::profile::Field::Ca);
    }
}
