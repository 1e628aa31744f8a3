//! The profile model: what a saved broker profile holds, and its validation rules.
//!
//! Secrets never live here: the password, private keys and secret header values are either
//! `{ keyring = true }` (stored in the OS keyring under this profile's account, see
//! [`crate::secrets`]), `{ env = "VAR" }`, or `{ file = "path" }` references.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::error::ProfileError;
use crate::secrets::Kind;

/// A saved broker profile: one `[profiles.NAME]` table.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The table key in `[profiles.NAME]`; also the keyring account prefix.
    #[serde(skip)]
    pub name: String,
    /// Full broker URL, e.g. `mqtts://host:8883` or `wss://host/mqtt`. Excludes host/port/transport.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<Transport>,
    /// WebSocket path, e.g. `/mqtt` (ws/wss only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ws_path: Option<String>,
    /// Extra WebSocket handshake headers: name → literal value or `{ keyring = true }`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ws_headers: BTreeMap<String, HeaderValue>,
    /// Proxy URL, e.g. `socks5://proxy:1080` or `http://proxy:3128` (no password in it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<String>,
    /// Password of the proxy user named in `proxy`: `{ keyring = true }` or `{ env = "VAR" }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_password: Option<SecretSource>,
    /// Ask this DNS server (`IP:PORT`, or an address alone for port 53) instead of the system
    /// resolver.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "dns_server_field"
    )]
    pub dns_server: Option<std::net::SocketAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mqtt_version: Option<MqttVersion>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Keep-alive interval in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_alive: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clean_start: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Only `{ keyring = true }` or `{ env = "VAR" }`: a literal password is rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<SecretSource>,
    /// Filters to subscribe to besides the round-trip topic. The older single `topic = "x"`
    /// key is still read; profiles are written with `topics = [..]`.
    #[serde(
        default,
        alias = "topic",
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub topics: Vec<String>,
    /// `false`: do not publish the round-trip message (read-only accounts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// TLS settings (a table, so it serialises after the plain values).
    #[serde(default, skip_serializing_if = "Tls::is_empty")]
    pub tls: Tls,
}

/// `[profiles.NAME.tls]`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tls {
    /// CA bundle to trust (file only: a CA certificate is not secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<Material>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cert: Option<Material>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_key: Option<Material>,
    /// PKCS#12 bundle (certificate + key); in the keyring it is stored base64-encoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p12: Option<Material>,
    /// Passphrase of an encrypted client key or PKCS#12 bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passphrase: Option<SecretSource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sni: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alpn: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_tls_version: Option<TlsVersion>,
    /// Skip certificate verification (diagnosis only).
    #[serde(default, skip_serializing_if = "is_false")]
    pub insecure: bool,
}

/// `topic = "x"` (the old form) or `topics = ["x", "y"]`.
/// A DNS server: `IP:PORT`, `[IPv6]:PORT`, or an address alone (port 53, the DNS port of
/// RFC 1035). The one rule for `--dns-server` and the profile field.
pub fn parse_dns_server(v: &str) -> Result<std::net::SocketAddr, String> {
    use std::net::{IpAddr, SocketAddr};
    if let Ok(a) = v.parse::<SocketAddr>() {
        return Ok(a);
    }
    let bare = v
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .unwrap_or(v);
    bare.parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| {
            format!(
                "{v:?} is not an IP address or IP:PORT (e.g. 192.0.2.53, 192.0.2.53:5353, ::1, [::1]:53)"
            )
        })
}

fn dns_server_field<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<std::net::SocketAddr>, D::Error> {
    let text = String::deserialize(d)?;
    parse_dns_server(&text)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    match OneOrMany::deserialize(d) {
        Ok(OneOrMany::One(t)) => Ok(vec![t]),
        Ok(OneOrMany::Many(ts)) => Ok(ts),
        Err(_) => Err(D::Error::custom(
            "expected a topic filter string or a list of them",
        )),
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Tls {
    pub fn is_empty(&self) -> bool {
        *self == Tls::default()
    }
}

/// The transport of a profile is the engine's own (`mqtt`, `mqtts`, `ws`, `wss` in TOML).
pub use crate::diagnose::Transport;

/// A certificate or key: a file reference, or stored in the keyring under this profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Material {
    File(PathBuf),
    Keyring,
}

/// Where a password or passphrase comes from. There is deliberately no literal variant in
/// the file: `Typed` only exists in memory, for a value typed at a prompt for one run, and
/// refuses to be serialised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    Keyring,
    Env(String),
    Typed(crate::secrets::Secret),
}

/// A WebSocket header value: literal (not secret) or kept in the keyring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderValue {
    Literal(String),
    Keyring,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MqttVersion {
    V3_1_1,
    V5,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TlsVersion {
    V1_2,
    V1_3,
}

impl TlsVersion {
    pub fn as_str(&self) -> &'static str {
        match self {
            TlsVersion::V1_2 => "1.2",
            TlsVersion::V1_3 => "1.3",
        }
    }
}

fn keyring_flag<E: serde::de::Error>(v: &toml::Value) -> Result<(), E> {
    match v.as_bool() {
        Some(true) => Ok(()),
        Some(false) => Err(E::custom(
            "`keyring = false` means nothing: remove the entry or reference a file or variable instead",
        )),
        None => Err(E::custom("`keyring` must be `true`")),
    }
}

fn single_key_table<'a, E: serde::de::Error>(
    v: &'a toml::Value,
    expected: &str,
) -> Result<(&'a str, &'a toml::Value), E> {
    let table = v
        .as_table()
        .ok_or_else(|| E::custom(format!("expected {expected}")))?;
    let mut it = table.iter();
    match (it.next(), it.next()) {
        (Some((k, v)), None) => Ok((k.as_str(), v)),
        (None, _) => Err(E::custom(format!(
            "expected {expected}, found an empty table"
        ))),
        (Some(_), Some(_)) => Err(E::custom(format!("expected only one of {expected}"))),
    }
}

impl<'de> Deserialize<'de> for Material {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        const EXPECTED: &str = "`{ file = \"path\" }` or `{ keyring = true }`";
        let v = toml::Value::deserialize(d)?;
        match single_key_table::<D::Error>(&v, EXPECTED)? {
            ("file", toml::Value::String(p)) if !p.trim().is_empty() => {
                Ok(Material::File(PathBuf::from(p)))
            }
            ("file", _) => Err(D::Error::custom("`file` must be a non-empty path string")),
            ("keyring", flag) => keyring_flag::<D::Error>(flag).map(|_| Material::Keyring),
            (other, _) => Err(D::Error::custom(format!(
                "unknown key `{other}`: expected {EXPECTED}"
            ))),
        }
    }
}

impl Serialize for Material {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut t = toml::Table::new();
        match self {
            Material::File(p) => {
                t.insert("file".into(), p.to_string_lossy().into_owned().into());
            }
            Material::Keyring => {
                t.insert("keyring".into(), true.into());
            }
        }
        t.serialize(s)
    }
}

impl<'de> Deserialize<'de> for SecretSource {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        const EXPECTED: &str = "`{ keyring = true }` or `{ env = \"VAR\" }`";
        let v = toml::Value::deserialize(d)?;
        if v.is_str() {
            // Never echo the value: it is a secret.
            return Err(D::Error::custom(format!(
                "a literal secret is not allowed in the profile file; use {EXPECTED}"
            )));
        }
        match single_key_table::<D::Error>(&v, EXPECTED)? {
            ("env", toml::Value::String(var)) if valid_env_name(var) => {
                Ok(SecretSource::Env(var.clone()))
            }
            ("env", _) => Err(D::Error::custom(
                "`env` must name an environment variable (letters, digits, `_`)",
            )),
            ("keyring", flag) => keyring_flag::<D::Error>(flag).map(|_| SecretSource::Keyring),
            (other, _) => Err(D::Error::custom(format!(
                "unknown key `{other}`: expected {EXPECTED}"
            ))),
        }
    }
}

impl Serialize for SecretSource {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut t = toml::Table::new();
        match self {
            SecretSource::Keyring => t.insert("keyring".into(), true.into()),
            SecretSource::Env(v) => t.insert("env".into(), v.clone().into()),
            SecretSource::Typed(_) => {
                return Err(serde::ser::Error::custom(
                    "a typed secret is never written to the profile file; store it in the keyring first",
                ));
            }
        };
        t.serialize(s)
    }
}

impl<'de> Deserialize<'de> for HeaderValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = toml::Value::deserialize(d)?;
        if let toml::Value::String(s) = v {
            return Ok(HeaderValue::Literal(s));
        }
        match single_key_table::<D::Error>(&v, "a string or `{ keyring = true }`")? {
            ("keyring", flag) => keyring_flag::<D::Error>(flag).map(|_| HeaderValue::Keyring),
            (other, _) => Err(D::Error::custom(format!(
                "unknown key `{other}`: expected a string or `{{ keyring = true }}`"
            ))),
        }
    }
}

impl Serialize for HeaderValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            HeaderValue::Literal(v) => s.serialize_str(v),
            HeaderValue::Keyring => {
                let mut t = toml::Table::new();
                t.insert("keyring".into(), true.into());
                t.serialize(s)
            }
        }
    }
}

impl<'de> Deserialize<'de> for MqttVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = toml::Value::deserialize(d)?;
        let text = match &v {
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::String(s) => s.trim().to_string(),
            _ => String::new(),
        };
        match text.as_str() {
            "3" | "3.1.1" | "4" => Ok(MqttVersion::V3_1_1),
            "5" | "5.0" => Ok(MqttVersion::V5),
            _ => Err(D::Error::custom(
                "unsupported MQTT version: use 3 (for 3.1.1) or 5",
            )),
        }
    }
}

impl Serialize for MqttVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(match self {
            MqttVersion::V3_1_1 => 3,
            MqttVersion::V5 => 5,
        })
    }
}

impl<'de> Deserialize<'de> for TlsVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = toml::Value::deserialize(d)?;
        let text = match &v {
            toml::Value::Float(f) => f.to_string(),
            toml::Value::String(s) => s.trim().to_string(),
            _ => String::new(),
        };
        match text.as_str() {
            "1.2" => Ok(TlsVersion::V1_2),
            "1.3" => Ok(TlsVersion::V1_3),
            _ => Err(D::Error::custom(
                "unsupported TLS version: use \"1.2\" or \"1.3\"",
            )),
        }
    }
}

impl Serialize for TlsVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

pub(crate) fn valid_env_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Profile names are TOML keys and keyring account prefixes.
pub(crate) fn valid_profile_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// The resolved address of a profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub transport: Transport,
    pub host: String,
    pub port: u16,
    /// WebSocket path (`/` when unset) for ws/wss, `None` otherwise.
    pub ws_path: Option<String>,
}

impl Profile {
    /// A profile with just a name and a URL.
    pub fn new(name: impl Into<String>, url: impl Into<String>) -> Profile {
        Profile {
            name: name.into(),
            url: Some(url.into()),
            ..Profile::default()
        }
    }

    fn invalid(&self, field: &str, message: impl Into<String>) -> ProfileError {
        ProfileError::Invalid {
            file: None,
            profile: self.name.clone(),
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// Where to connect: from `url`, or from `host`/`port`/`transport`.
    pub fn endpoint(&self) -> Result<Endpoint, ProfileError> {
        if let Some(raw) = &self.url {
            let url = url::Url::parse(raw)
                .map_err(|e| self.invalid("url", format!("`{raw}` is not a valid URL ({e})")))?;
            let transport = Transport::from_scheme(url.scheme()).ok_or_else(|| {
                self.invalid(
                    "url",
                    format!(
                        "scheme `{}` is not one of mqtt, mqtts, ws, wss",
                        url.scheme()
                    ),
                )
            })?;
            if url.password().is_some() {
                return Err(self.invalid(
                    "url",
                    "the URL contains a password; remove it and store the password with `--password-prompt` or `password = { env = \"VAR\" }`",
                ));
            }
            let host = url
                .host_str()
                .filter(|h| !h.is_empty())
                .ok_or_else(|| self.invalid("url", format!("`{raw}` has no host")))?
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string();
            let port = url.port().unwrap_or(transport.default_port());
            if port == 0 {
                return Err(self.invalid("url", "port 0 is not a valid TCP port (use 1-65535)"));
            }
            let ws_path = transport.uses_ws().then(|| {
                self.ws_path.clone().unwrap_or_else(|| {
                    let p = url.path();
                    if p.is_empty() { "/".into() } else { p.into() }
                })
            });
            return Ok(Endpoint {
                transport,
                host,
                port,
                ws_path,
            });
        }
        let host = self.host.clone().ok_or_else(|| {
            self.invalid(
                "host",
                "give either `url` or `host` (with optional `port` and `transport`)",
            )
        })?;
        let transport = self.transport.unwrap_or(Transport::Mqtts);
        let port = self.port.unwrap_or(transport.default_port());
        let ws_path = transport
            .uses_ws()
            .then(|| self.ws_path.clone().unwrap_or_else(|| "/".into()));
        Ok(Endpoint {
            transport,
            host,
            port,
            ws_path,
        })
    }

    /// The URL this profile connects to (built from `host`/`port`/`transport` when it has no
    /// `url`).
    pub fn target_url(&self) -> Result<String, ProfileError> {
        if let Some(u) = &self.url {
            return Ok(u.clone());
        }
        let e = self.endpoint()?;
        let host = if e.host.contains(':') {
            format!("[{}]", e.host)
        } else {
            e.host.clone()
        };
        Ok(format!(
            "{}://{host}:{}{}",
            e.transport,
            e.port,
            e.ws_path.unwrap_or_default()
        ))
    }

    /// Check the profile; the error names the profile and field.
    pub fn validate(&self) -> Result<(), ProfileError> {
        if !valid_profile_name(&self.name) {
            return Err(self.invalid(
                "name",
                "use letters, digits, `.`, `_` or `-` (at most 64 characters)",
            ));
        }
        if self.url.is_some()
            && (self.host.is_some() || self.port.is_some() || self.transport.is_some())
        {
            return Err(self.invalid(
                "url",
                "give either `url` or `host`/`port`/`transport`, not both",
            ));
        }
        if let Some(host) = &self.host {
            if host.trim().is_empty() || host.contains(['/', ' ', '@']) || host.contains("://") {
                return Err(self.invalid(
                    "host",
                    format!("`{host}` is not a host name or address (put full URLs in `url`)"),
                ));
            }
        } else if self.url.is_none() && (self.port.is_some() || self.transport.is_some()) {
            return Err(self.invalid("host", "`port`/`transport` need a `host`"));
        }
        if self.port == Some(0) {
            return Err(self.invalid("port", "port 0 is not a valid TCP port (use 1-65535)"));
        }
        let endpoint = self.endpoint()?;
        if let Some(path) = &self.ws_path {
            if !endpoint.transport.uses_ws() {
                return Err(self.invalid(
                    "ws_path",
                    format!(
                        "`ws_path` only applies to ws/wss, not {}",
                        endpoint.transport
                    ),
                ));
            }
            if !path.starts_with('/') {
                return Err(self.invalid("ws_path", format!("`{path}` must start with `/`")));
            }
        }
        if !self.ws_headers.is_empty() && !endpoint.transport.uses_ws() {
            return Err(self.invalid(
                "ws_headers",
                format!("headers only apply to ws/wss, not {}", endpoint.transport),
            ));
        }
        for name in self.ws_headers.keys() {
            let token = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c));
            if !token {
                return Err(self.invalid(
                    "ws_headers",
                    format!("`{name}` is not a valid HTTP header name"),
                ));
            }
        }
        let keyring_headers = self
            .ws_headers
            .values()
            .filter(|v| **v == HeaderValue::Keyring)
            .count();
        if keyring_headers > 1 {
            return Err(self.invalid(
                "ws_headers",
                "only one header value can be kept in the keyring per profile",
            ));
        }
        if let Some(proxy) = &self.proxy {
            let url = url::Url::parse(proxy).map_err(|e| {
                self.invalid("proxy", format!("`{proxy}` is not a valid URL ({e})"))
            })?;
            if !matches!(url.scheme(), "socks5" | "socks5h" | "http" | "https") {
                return Err(self.invalid(
                    "proxy",
                    format!(
                        "scheme `{}` is not one of socks5, socks5h, http, https",
                        url.scheme()
                    ),
                ));
            }
            if url.password().is_some() {
                return Err(self.invalid(
                    "proxy",
                    "the proxy URL contains a password; remove it and give the password with --proxy-password-env VAR (a saved profile can keep it in the keyring: `profile edit NAME --proxy-password-prompt`)",
                ));
            }
            if url.host_str().is_none_or(str::is_empty) {
                return Err(self.invalid("proxy", format!("`{proxy}` has no host")));
            }
        }
        if let Some(source) = &self.proxy_password {
            let user = self
                .proxy
                .as_deref()
                .and_then(|p| url::Url::parse(p).ok())
                .is_some_and(|u| !u.username().is_empty());
            if self.proxy.is_none() {
                return Err(self.invalid("proxy_password", "a proxy password needs `proxy`"));
            }
            if !user && !matches!(source, SecretSource::Typed(_)) {
                return Err(self.invalid(
                    "proxy_password",
                    "the proxy URL names no user; write `proxy = \"socks5://USER@HOST:PORT\"`",
                ));
            }
        }
        if self.topics.iter().any(String::is_empty) {
            return Err(self.invalid("topics", "a topic filter cannot be empty"));
        }
        if self.keep_alive == Some(0) {
            // 0 disables keep-alive in MQTT, which hides dead connections during diagnosis.
            return Err(self.invalid("keep_alive", "use at least 1 second"));
        }
        if self.timeout_secs == Some(0) {
            return Err(self.invalid("timeout_secs", "use at least 1 second"));
        }
        if let Some(id) = &self.client_id
            && id.len() > 65535
        {
            return Err(self.invalid("client_id", "longer than 65535 bytes"));
        }
        if self.tls.ca == Some(Material::Keyring) {
            return Err(self.invalid(
                "tls.ca",
                "a CA certificate is not secret: reference it with `{ file = \"path\" }`",
            ));
        }
        if self.tls.client_key == Some(Material::Keyring) && self.tls.p12 == Some(Material::Keyring)
        {
            return Err(self.invalid(
                "tls.p12",
                "`client_key` and `p12` cannot both be in the keyring (they share the private-key entry); keep one of them",
            ));
        }
        if self.tls.p12.is_some()
            && (self.tls.client_cert.is_some() || self.tls.client_key.is_some())
        {
            return Err(self.invalid(
                "tls.p12",
                "give either `p12` or `client_cert`/`client_key`, not both",
            ));
        }
        if self.tls.client_key.is_some() != self.tls.client_cert.is_some() {
            let field = if self.tls.client_key.is_some() {
                "tls.client_cert"
            } else {
                "tls.client_key"
            };
            return Err(self.invalid(
                field,
                "a client certificate and its key go together: give both",
            ));
        }
        if let Some(sni) = &self.tls.sni
            && (sni.is_empty() || sni.contains(['/', ' ', ':']))
        {
            return Err(self.invalid("tls.sni", format!("`{sni}` is not a host name")));
        }
        if self.tls.alpn.iter().any(|p| p.is_empty() || p.len() > 255) {
            return Err(self.invalid("tls.alpn", "each protocol must be 1-255 bytes"));
        }
        Ok(())
    }

    /// Keyring entries this profile refers to, as (field, kind).
    pub fn keyring_entries(&self) -> Vec<(&'static str, Kind)> {
        let mut out = Vec::new();
        if self.password == Some(SecretSource::Keyring) {
            out.push(("password", Kind::Password));
        }
        if self.tls.client_cert == Some(Material::Keyring) {
            out.push(("tls.client_cert", Kind::Certificate));
        }
        if self.tls.client_key == Some(Material::Keyring) {
            out.push(("tls.client_key", Kind::PrivateKey));
        }
        if self.tls.p12 == Some(Material::Keyring) {
            out.push(("tls.p12", Kind::PrivateKey));
        }
        if self.tls.passphrase == Some(SecretSource::Keyring) {
            out.push(("tls.passphrase", Kind::Passphrase));
        }
        if self.ws_headers.values().any(|v| *v == HeaderValue::Keyring) {
            out.push(("ws_headers", Kind::Header));
        }
        if self.proxy_password == Some(SecretSource::Keyring) {
            out.push(("proxy_password", Kind::ProxyPassword));
        }
        out
    }
}
