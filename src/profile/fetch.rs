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
