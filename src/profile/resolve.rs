//! Profile → [`Plan`]: the one core path every front takes (the CLI's `check URL` through an
//! unnamed profile, `check --profile`, the app, the exporter). Reads and validates every file,
//! takes secrets from the keyring or the environment, applies the defaults.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::model::{HeaderValue, Material, MqttVersion, Profile, SecretSource, TlsVersion};
use crate::certs;
use crate::diagnose::{self, CaBundle, ClientIdentity, ParsedUrl, Plan};
use crate::secrets::{BoundedStore, Kind, Secret, SecretError, SecretStore};

/// The profile field a [`PlanError`] is about; also names the command-line option that sets
/// it, for a run without a saved profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Url,
    Ca,
    ClientCert,
    ClientKey,
    P12,
    Passphrase,
    Sni,
    Alpn,
    MinTls,
    Username,
    Password,
    ClientId,
    KeepAlive,
    MqttVersion,
    Topics,
    Publish,
    Timeout,
    DnsServer,
    WsPath,
    Headers,
    Proxy,
    ProxyPassword,
    CleanStart,
}

impl Field {
    /// The key in `profiles.toml`, e.g. `tls.ca`.
    pub fn key(self) -> &'static str {
        match self {
            Field::Url => "url",
            Field::Ca => "tls.ca",
            Field::ClientCert => "tls.client_cert",
            Field::ClientKey => "tls.client_key",
            Field::P12 => "tls.p12",
            Field::Passphrase => "tls.passphrase",
            Field::Sni => "tls.sni",
            Field::Alpn => "tls.alpn",
            Field::MinTls => "tls.min_tls_version",
            Field::Username => "username",
            Field::Password => "password",
            Field::ClientId => "client_id",
            Field::KeepAlive => "keep_alive",
            Field::MqttVersion => "mqtt_version",
            Field::Topics => "topics",
            Field::Publish => "publish",
            Field::Timeout => "timeout_secs",
            Field::DnsServer => "dns_server",
            Field::WsPath => "ws_path",
            Field::Headers => "ws_headers",
            Field::Proxy => "proxy",
            Field::ProxyPassword => "proxy_password",
            Field::CleanStart => "clean_start",
        }
    }

    /// The command-line option for the same thing, e.g. `--ca`.
    pub fn flag(self) -> &'static str {
        match self {
            Field::Url => "URL",
            Field::Ca => "--ca",
            Field::ClientCert => "--cert",
            Field::ClientKey => "--key",
            Field::P12 => "--p12",
            Field::Passphrase => "--passphrase-env",
            Field::Sni => "--sni",
            Field::Alpn => "--alpn",
            Field::MinTls => "--min-tls",
            Field::Username => "--username",
            Field::Password => "--password-env",
            Field::ClientId => "--client-id",
            Field::KeepAlive => "--keep-alive",
            Field::MqttVersion => "--mqtt-version",
            Field::Topics => "--topic",
            Field::Publish => "--no-publish",
            Field::Timeout => "--timeout",
            Field::DnsServer => "--dns-server",
            Field::WsPath => "--ws-path",
            Field::Headers => "--header",
            Field::Proxy => "--proxy",
            Field::ProxyPassword => "--proxy-password-env",
            Field::CleanStart => "--clean-start",
        }
    }
}

/// Why a profile (or a URL plus options) cannot become a plan: the profile (none for a run
/// without a saved profile), the field and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PlanError {
    pub profile: Option<String>,
    pub field: Field,
    /// What is wrong, without the profile or field (those are added by `Display`).
    pub problem: String,
}

impl PlanError {
    /// `profile` empty: a run without a saved profile; the message names the option instead.
    pub fn new(profile: &str, field: Field, problem: impl Into<String>) -> PlanError {
        PlanError {
            profile: (!profile.is_empty()).then(|| profile.to_string()),
            field,
            problem: problem.into(),
        }
    }
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.profile {
            Some(p) => write!(
                f,
                "profile `{p}`, field `{}`: {}",
                self.field.key(),
                self.problem
            ),
            None => write!(f, "{}: {}", self.field.flag(), self.problem),
        }
    }
}

/// Where profile secrets kept in the keyring are read from. Implemented by the real
/// [`SecretStore`], by [`KeyringOnDemand`] (opened at the first need) and by the
/// [`Fetched`] values of the async path.
pub trait SecretLookup {
    /// The stored value, `Ok(None)` when there is no entry; errors are one sentence.
    fn secret(&self, profile: &str, kind: Kind) -> Result<Option<Secret>, String>;
}

impl SecretLookup for SecretStore {
    fn secret(&self, profile: &str, kind: Kind) -> Result<Option<Secret>, String> {
        self.get(profile, kind).map_err(|e| e.to_string())
    }
}

/// The OS keyring, opened only when a profile needs it, then reused; every call (the open
/// included) has [`KEYRING_DEADLINE`]. Blocking: for async code use [`resolve_async`].
#[derive(Default)]
pub struct KeyringOnDemand(OnceCell<Result<BoundedStore, String>>);

impl KeyringOnDemand {
    pub fn new() -> KeyringOnDemand {
        KeyringOnDemand::default()
    }

    /// The opened store (or why it cannot be opened, with the alternatives).
    pub fn store(&self) -> Result<&BoundedStore, String> {
        self.0
            .get_or_init(|| {
                BoundedStore::open(KEYRING_DEADLINE).map_err(|e| match e {
                    SecretError::NoAnswer { .. } => e.to_string(),
                    e => keyring_unusable(&e.to_string()),
                })
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

fn keyring_unusable(why: &str) -> String {
    format!(
        "{why} Alternatives: refer to certificate and key files ({{ file = \"path\" }}) and pass passwords with --password-env VAR."
    )
}

impl SecretLookup for KeyringOnDemand {
    fn secret(&self, profile: &str, kind: Kind) -> Result<Option<Secret>, String> {
        self.store()?.get(profile, kind).map_err(|e| e.to_string())
    }
}

/// Secrets read ahead of time (by [`fetch_keyring_entries`]); an entry not listed was not
/// fetched and reads as missing.
#[derive(Debug, Default)]
pub struct Fetched(HashMap<Kind, Option<Secret>>);

impl SecretLookup for Fetched {
    fn secret(&self, _profile: &str, kind: Kind) -> Result<Option<Secret>, String> {
        Ok(self.0.get(&kind).cloned().flatten())
    }
}

/// Environment lookup, injected: the process environment in real use, a table in tests and
/// the demo.
pub type Env<'a> = &'a (dyn Fn(&str) -> Option<String> + Sync);

/// Turns a profile (overrides already layered on with [`super::Overrides::apply`]) into a
/// plan. A profile with an empty name is a run without a saved profile: errors then name the
/// command-line option instead of the field.
pub fn resolve(p: &Profile, env: Env<'_>, keyring: &dyn SecretLookup) -> Result<Plan, PlanError> {
    let r = Resolver { p, env, keyring };
    r.plan()
}

struct Resolver<'a> {
    p: &'a Profile,
    env: Env<'a>,
    keyring: &'a dyn SecretLookup,
}

impl Resolver<'_> {
    fn err(&self, field: Field, problem: impl Into<String>) -> PlanError {
        PlanError::new(&self.p.name, field, problem)
    }

    fn plan(&self) -> Result<Plan, PlanError> {
        let p = self.p;
        let url = p
            .target_url()
            .map_err(|e| self.err(Field::Url, e.to_string()))?;
        let parsed: ParsedUrl = url
            .parse()
            .map_err(|e: diagnose::UrlError| self.err(Field::Url, e.to_string()))?;
        let mut plan = Plan::new(parsed.target);
        if p.timeout_secs == Some(0) {
            return Err(self.err(Field::Timeout, "use at least 1 second"));
        }
        plan.timeout = Duration::from_secs(p.timeout_secs.unwrap_or(5));
        plan.dns_server = p.dns_server;
        match &p.tls.ca {
            Some(Material::File(path)) => {
                plan.tls.ca = Some(CaBundle {
                    path: path.clone(),
                    certs: self.certs_file(Field::Ca, path)?,
                });
            }
            Some(Material::Keyring) => {
                return Err(self.err(
                    Field::Ca,
                    "a CA certificate is not secret: reference it with `{ file = \"path\" }`",
                ));
            }
            None => {}
        }
        let passphrase = self.secret(Field::Passphrase, Kind::Passphrase, &p.tls.passphrase)?;
        plan.tls.client = self.client_identity(passphrase.as_ref().map(Secret::expose))?;
        plan.tls.sni = p.tls.sni.clone();
        plan.tls.alpn = p.tls.alpn.clone();
        plan.tls.insecure = p.tls.insecure;
        plan.tls.tls13_only = p.tls.min_tls_version == Some(TlsVersion::V1_3);
        plan.mqtt.username = p.username.clone().or(parsed.username);
        plan.mqtt.password = self.secret(Field::Password, Kind::Password, &p.password)?;
        if let Some(id) = &p.client_id {
            if id.len() > 65535 {
                return Err(self.err(Field::ClientId, "longer than 65535 bytes"));
            }
            plan.mqtt.client_id = id.clone();
        }
        if p.keep_alive == Some(0) {
            // 0 disables keep-alive in MQTT, which hides dead connections during diagnosis.
            return Err(self.err(Field::KeepAlive, "use at least 1 second"));
        }
        plan.mqtt.keep_alive = p.keep_alive.unwrap_or(30);
        if let Some(v) = p.mqtt_version {
            plan.mqtt.version = match v {
                MqttVersion::V3_1_1 => diagnose::MqttVersion::V311,
                MqttVersion::V5 => diagnose::MqttVersion::V5,
            };
            plan.mqtt.fallback_to_311 = false;
        }
        if let Some(clean) = p.clean_start {
            plan.mqtt.clean_start = clean;
        }
        self.route(&mut plan)?;
        if p.topics.iter().any(String::is_empty) {
            return Err(self.err(Field::Topics, "a topic filter cannot be empty"));
        }
        plan.sub.topics = p.topics.clone();
        plan.sub.publish = p.publish.unwrap_or(true);
        Ok(plan)
    }

    /// Proxy, WebSocket path and headers, checked by the engine's own route parser.
    fn route(&self, plan: &mut Plan) -> Result<(), PlanError> {
        let p = self.p;
        let mut headers = Vec::new();
        for (name, value) in &p.ws_headers {
            let value = match value {
                HeaderValue::Literal(v) => v.clone(),
                HeaderValue::Keyring => self
                    .stored(Field::Headers, Kind::Header)?
                    .expose()
                    .to_string(),
            };
            headers.push(format!("{name}: {value}"));
        }
        let proxy_password = self
            .secret(Field::ProxyPassword, Kind::ProxyPassword, &p.proxy_password)?
            .map(|s| (Field::ProxyPassword.flag(), s));
        let args = diagnose::route::RouteArgs {
            ws_path: p.ws_path.as_deref(),
            headers: &headers,
            proxy: p.proxy.as_deref(),
            proxy_password,
            v311: p.mqtt_version == Some(MqttVersion::V3_1_1),
        };
        plan.route = diagnose::route::from_args(&args, &mut plan.target, self.env)
            .map_err(|m| self.route_error(m))?;
        if plan.target.transport.uses_ws() {
            diagnose::ws::request(plan).map_err(|m| self.route_error(m))?;
        }
        Ok(())
    }

    /// The route parser's messages start with the option they concern.
    fn route_error(&self, message: String) -> PlanError {
        let field = [
            Field::WsPath,
            Field::Headers,
            Field::ProxyPassword,
            Field::Proxy,
        ]
        .into_iter()
        .find(|f| message.starts_with(f.flag()))
        .unwrap_or(Field::Url);
        let problem = message
            .strip_prefix(field.flag())
            .filter(|_| field != Field::Url)
            .map(|rest| rest.trim_start_matches(':').trim_start())
            .unwrap_or(&message)
            .to_string();
        self.err(field, problem)
    }

    /// A password or passphrase from its source; `None` when the profile has none.
    fn secret(
        &self,
        field: Field,
        kind: Kind,
        source: &Option<SecretSource>,
    ) -> Result<Option<Secret>, PlanError> {
        match source {
            None => Ok(None),
            Some(SecretSource::Typed(s)) => Ok(Some(s.clone())),
            Some(SecretSource::Env(var)) => match (self.env)(var) {
                Some(v) => Ok(Some(Secret::new(v))),
                None => Err(self.err(
                    field,
                    format!("{var}: the environment variable {var} is not set"),
                )),
            },
            Some(SecretSource::Keyring) => self.stored(field, kind).map(Some),
        }
    }

    /// A value the profile says is in the keyring; a missing entry is an error.
    fn stored(&self, field: Field, kind: Kind) -> Result<Secret, PlanError> {
        let name = &self.p.name;
        let account = kind.account(name);
        self.keyring
            .secret(name, kind)
            .map_err(|e| self.err(field, e))?
            .ok_or_else(|| {
                let how = match kind {
                    Kind::Password => " --password-prompt",
                    Kind::PrivateKey => " --key FILE --key-to-keyring",
                    Kind::ProxyPassword => " --proxy-password-prompt",
                    _ => "",
                };
                self.err(
                    field,
                    format!(
                        "the {} is marked as kept in the keyring, but the keyring has no entry {account}; store it again with `mqtt-doctor profile edit {name}{how}`",
                        kind.label()
                    ),
                )
            })
    }

    fn read(&self, field: Field, path: &Path) -> Result<Vec<u8>, PlanError> {
        certs::read_checked(path, certs::MAX_CERT_FILE).map_err(|e| {
            self.err(
                field,
                format!("{}: the file cannot be read ({e})", path.display()),
            )
        })
    }

    fn certs_file(
        &self,
        field: Field,
        path: &Path,
    ) -> Result<Vec<CertificateDer<'static>>, PlanError> {
        let bytes = self.read(field, path)?;
        certs::load_certificates(&path.display().to_string(), &bytes, None)
            .map_err(|e| self.err(field, e.to_string()))
    }

    /// A certificate or key file's bytes, or the keyring entry standing for it.
    fn material(
        &self,
        field: Field,
        kind: Kind,
        m: &Material,
    ) -> Result<(String, Vec<u8>), PlanError> {
        match m {
            Material::File(path) => Ok((path.display().to_string(), self.read(field, path)?)),
            Material::Keyring => {
                let label = format!("keyring entry {}", kind.account(&self.p.name));
                let value = self.stored(field, kind)?;
                if field == Field::P12 {
                    use base64::Engine;
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(value.expose())
                        .map_err(|_| self.err(field, format!("{label} is damaged")))?;
                    return Ok((label, bytes));
                }
                Ok((label, value.expose().as_bytes().to_vec()))
            }
        }
    }

    fn client_identity(&self, pass: Option<&str>) -> Result<Option<ClientIdentity>, PlanError> {
        let tls = &self.p.tls;
        if let Some(p12) = &tls.p12 {
            let (label, bytes) = self.material(Field::P12, Kind::PrivateKey, p12)?;
            let loaded = certs::load(&label, &bytes, pass)
                .map_err(|e| self.err(Field::P12, e.to_string()))?;
            let key = loaded.key.ok_or_else(|| {
                self.err(
                    Field::P12,
                    format!("{label}: the file holds no private key"),
                )
            })?;
            if loaded.certs.is_empty() {
                return Err(self.err(
                    Field::P12,
                    format!("{label}: the file holds no certificate"),
                ));
            }
            return Ok(Some(ClientIdentity {
                source: label,
                certs: loaded.certs,
                key,
            }));
        }
        let (cert, key) = match (&tls.client_cert, &tls.client_key) {
            (None, None) => return Ok(None),
            (Some(c), Some(k)) => (c, k),
            (Some(_), None) | (None, Some(_)) => {
                let field = if tls.client_key.is_some() {
                    Field::ClientCert
                } else {
                    Field::ClientKey
                };
                return Err(self.err(
                    field,
                    "a client certificate and its key go together: give both",
                ));
            }
        };
        let (cert_label, cert_bytes) = self.material(Field::ClientCert, Kind::Certificate, cert)?;
        let certs = certs::load_certificates(&cert_label, &cert_bytes, None)
            .map_err(|e| self.err(Field::ClientCert, e.to_string()))?;
        let (key_label, key_bytes) = self.material(Field::ClientKey, Kind::PrivateKey, key)?;
        let key = self.key(&key_label, &key_bytes, pass)?;
        Ok(Some(ClientIdentity {
            source: format!("{cert_label} + {key_label}"),
            certs,
            key,
        }))
    }

    fn key(
        &self,
        label: &str,
        bytes: &[u8],
        pass: Option<&str>,
    ) -> Result<PrivateKeyDer<'static>, PlanError> {
        let loaded = certs::load(label, bytes, pass)
            .map_err(|e| self.err(Field::ClientKey, e.to_string()))?;
        loaded.key.ok_or_else(|| {
            self.err(
                Field::ClientKey,
                format!(
                    "{label}: the file holds no private key (expected a PEM \"PRIVATE KEY\", \"RSA PRIVATE KEY\" or \"EC PRIVATE KEY\" block, or a DER key)"
                ),
            )
        })
    }
}

pub use crate::secrets::KEYRING_DEADLINE;

/// The OS keyring for async code: a [`BoundedStore`] (every call, the open included, within
/// [`KEYRING_DEADLINE`]) whose calls run on tokio's blocking pool.
#[derive(Default)]
pub struct AsyncKeyring {
    store: tokio::sync::OnceCell<Result<BoundedStore, String>>,
}

impl AsyncKeyring {
    /// The best backend for this OS, opened at the first need.
    pub fn new() -> AsyncKeyring {
        AsyncKeyring::default()
    }

    /// An already opened store (e.g. a chosen backend).
    pub fn with_store(store: SecretStore) -> AsyncKeyring {
        AsyncKeyring {
            store: tokio::sync::OnceCell::new_with(Some(Ok(BoundedStore::new(
                store,
                KEYRING_DEADLINE,
            )))),
        }
    }

    async fn store(&self) -> Result<&BoundedStore, String> {
        let opened = self
            .store
            .get_or_init(|| async {
                match tokio::task::spawn_blocking(|| BoundedStore::open(KEYRING_DEADLINE)).await {
                    Err(e) => Err(format!("the keyring could not be opened ({e})")),
                    Ok(Err(e @ SecretError::NoAnswer { .. })) => Err(e.to_string()),
                    Ok(Err(e)) => Err(keyring_unusable(&e.to_string())),
                    Ok(Ok(store)) => Ok(store),
                }
            })
            .await;
        opened.as_ref().map_err(Clone::clone)
    }

    /// Every keyring entry `profile` refers to, read on the blocking pool.
    pub async fn fetch(&self, profile: &Profile) -> Result<Fetched, PlanError> {
        let mut fetched = Fetched::default();
        for (field, kind) in profile.keyring_entries() {
            let field = field_of(field);
            let store = self
                .store()
                .await
                .map_err(|e| PlanError::new(&profile.name, field, e))?
                .clone();
            let name = profile.name.clone();
            let value = match tokio::task::spawn_blocking(move || store.get(&name, kind)).await {
                Err(e) => Err(format!("the keyring could not be read ({e})")),
                Ok(v) => v.map_err(|e| e.to_string()),
            }
            .map_err(|e| PlanError::new(&profile.name, field, e))?;
            fetched.0.insert(kind, value);
        }
        Ok(fetched)
    }
}

/// [`Profile::keyring_entries`] names fields by their TOML key.
fn field_of(key: &str) -> Field {
    match key {
        "password" => Field::Password,
        "tls.client_cert" => Field::ClientCert,
        "tls.client_key" => Field::ClientKey,
        "tls.p12" => Field::P12,
        "tls.passphrase" => Field::Passphrase,
        "ws_headers" => Field::Headers,
        "proxy_password" => Field::ProxyPassword,
        _ => Field::Url,
    }
}

/// [`resolve`] for async code: keyring values are read first on the blocking pool, each
/// within [`KEYRING_DEADLINE`], so a silent Secret Service never stalls the runtime.
pub async fn resolve_async(
    p: &Profile,
    env: Env<'_>,
    keyring: &AsyncKeyring,
) -> Result<Plan, PlanError> {
    let fetched = keyring.fetch(p).await?;
    resolve(p, env, &fetched)
}
