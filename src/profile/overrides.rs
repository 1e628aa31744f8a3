//! Connection options given for one command (the command line, later the app's forms), and the
//! one layering rule: a given option > the profile's field > the default (applied in resolve).

use std::net::SocketAddr;
use std::path::PathBuf;

use super::model::{HeaderValue, Material, MqttVersion, Profile, SecretSource, TlsVersion};
use super::resolve::{Field, PlanError};

/// Every connection option a front offers, as plain data. `None`/empty/`false` = not given.
/// Paths are taken as given; [`Overrides::absolute_paths`] makes them absolute before a
/// profile is saved, so it still finds its files from another directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    pub ca: Option<PathBuf>,
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    pub p12: Option<PathBuf>,
    /// Environment variable holding the passphrase of the key or PKCS#12 file.
    pub passphrase_env: Option<String>,
    pub sni: Option<String>,
    pub alpn: Vec<String>,
    /// `true` turns verification off; `false` leaves the profile's choice alone.
    pub insecure: bool,
    pub min_tls: Option<TlsVersion>,
    pub username: Option<String>,
    /// `Env(VAR)` or, for one run, `Typed` (a prompt); never `Keyring` (that is the profile's).
    pub password: Option<SecretSource>,
    pub client_id: Option<String>,
    pub keep_alive: Option<u16>,
    pub mqtt_version: Option<MqttVersion>,
    /// Replace the profile's topic filters (all of them) when not empty.
    pub topics: Vec<String>,
    pub no_publish: bool,
    pub timeout_secs: Option<u64>,
    pub dns_server: Option<SocketAddr>,
    pub ws_path: Option<String>,
    /// `Name: value` lines; replace the profile's headers when not empty.
    pub headers: Vec<String>,
    pub proxy: Option<String>,
    pub proxy_password_env: Option<String>,
    pub clean_start: Option<bool>,
}

impl Overrides {
    /// Layers these options onto `profile` (used for a saved `profile add/edit` and for one
    /// `check --profile NAME --flag` run alike). Header lines become literal values; the
    /// caller decides whether one moves to the keyring before saving.
    pub fn apply(&self, profile: &mut Profile) -> Result<(), PlanError> {
        let p = profile;
        let file = |path: &PathBuf| Material::File(path.clone());
        if let Some(ca) = &self.ca {
            p.tls.ca = Some(file(ca));
        }
        if let Some(cert) = &self.client_cert {
            p.tls.client_cert = Some(file(cert));
            p.tls.p12 = None;
        }
        if let Some(key) = &self.client_key {
            p.tls.client_key = Some(file(key));
            p.tls.p12 = None;
        }
        if let Some(p12) = &self.p12 {
            p.tls.p12 = Some(file(p12));
            p.tls.client_cert = None;
            p.tls.client_key = None;
        }
        if let Some(var) = &self.passphrase_env {
            p.tls.passphrase = Some(SecretSource::Env(var.clone()));
        }
        if let Some(sni) = &self.sni {
            p.tls.sni = Some(sni.clone());
        }
        if !self.alpn.is_empty() {
            p.tls.alpn = self.alpn.clone();
        }
        p.tls.insecure |= self.insecure;
        if let Some(v) = self.min_tls {
            p.tls.min_tls_version = Some(v);
        }
        if let Some(u) = &self.username {
            p.username = Some(u.clone());
        }
        if let Some(source) = &self.password {
            p.password = Some(source.clone());
        }
        if let Some(id) = &self.client_id {
            p.client_id = Some(id.clone());
        }
        if let Some(k) = self.keep_alive {
            p.keep_alive = Some(k);
        }
        if let Some(v) = self.mqtt_version {
            p.mqtt_version = Some(v);
        }
        if !self.topics.is_empty() {
            p.topics = self.topics.clone();
        }
        if self.no_publish {
            p.publish = Some(false);
        }
        if let Some(t) = self.timeout_secs {
            p.timeout_secs = Some(t);
        }
        if let Some(d) = self.dns_server {
            p.dns_server = Some(d);
        }
        if let Some(w) = &self.ws_path {
            p.ws_path = Some(w.clone());
        }
        if !self.headers.is_empty() {
            p.ws_headers.clear();
            for line in &self.headers {
                let (name, value) = line.split_once(':').ok_or_else(|| {
                    PlanError::new(
                        &p.name,
                        Field::Headers,
                        format!("{line:?}: write it as 'Name: value'"),
                    )
                })?;
                let name = name.trim().to_string();
                let value = HeaderValue::Literal(value.trim().to_string());
                if p.ws_headers.insert(name.clone(), value).is_some() {
                    return Err(PlanError::new(
                        &p.name,
                        Field::Headers,
                        format!("the header {name:?} is given twice; give each header once"),
                    ));
                }
            }
        }
        if let Some(proxy) = &self.proxy {
            if p.proxy.as_deref() != Some(proxy) {
                // A password belongs to the proxy it was stored for.
                p.proxy_password = None;
            }
            p.proxy = Some(proxy.clone());
        }
        if let Some(var) = &self.proxy_password_env {
            p.proxy_password = Some(SecretSource::Env(var.clone()));
        }
        if let Some(c) = self.clean_start {
            p.clean_start = Some(c);
        }
        Ok(())
    }
}

impl Overrides {
    /// The same options with every file path made absolute (for a profile that is saved).
    pub fn absolute_paths(mut self) -> Overrides {
        for path in [
            &mut self.ca,
            &mut self.client_cert,
            &mut self.client_key,
            &mut self.p12,
        ]
        .into_iter()
        .flatten()
        {
            *path = absolute(path);
        }
        self
    }
}

pub(crate) fn absolute(p: &std::path::Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}
