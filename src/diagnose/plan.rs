//! What to diagnose: the target (parsed from a URL) and every option a run needs.
//! Files are read before a run starts, so a run never fails on bad input.

use crate::secrets::Secret;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use super::Stage;

/// How MQTT travels to the broker. The ws variants get their own stage (issue: WebSocket).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Mqtt,
    Mqtts,
    Ws,
    Wss,
}

impl Transport {
    pub fn scheme(self) -> &'static str {
        match self {
            Transport::Mqtt => "mqtt",
            Transport::Mqtts => "mqtts",
            Transport::Ws => "ws",
            Transport::Wss => "wss",
        }
    }

    pub fn default_port(self) -> u16 {
        match self {
            Transport::Mqtt => 1883,
            Transport::Mqtts => 8883,
            Transport::Ws => 80,
            Transport::Wss => 443,
        }
    }

    pub fn uses_tls(self) -> bool {
        matches!(self, Transport::Mqtts | Transport::Wss)
    }

    pub fn uses_ws(self) -> bool {
        matches!(self, Transport::Ws | Transport::Wss)
    }

    /// The transport a URL scheme names (case-insensitive; tcp:// and ssl:// are aliases).
    pub fn from_scheme(scheme: &str) -> Option<Transport> {
        Some(match scheme.to_ascii_lowercase().as_str() {
            "mqtt" | "tcp" => Transport::Mqtt,
            "mqtts" | "ssl" | "tls" | "mqtt+ssl" => Transport::Mqtts,
            "ws" => Transport::Ws,
            "wss" => Transport::Wss,
            _ => return None,
        })
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.scheme())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Name(String),
    Ip(IpAddr),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Name(n) => f.write_str(n),
            Host::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]"),
            Host::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// A broker address parsed from a URL such as `mqtts://broker.example.com:8883`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub host: Host,
    pub port: u16,
    pub transport: Transport,
    /// WebSocket path (and query), `/mqtt` unless the URL names one.
    pub path: String,
}

impl Target {
    pub fn new(host: Host, port: u16, transport: Transport) -> Target {
        Target {
            host,
            port,
            transport,
            path: "/mqtt".into(),
        }
    }

    /// The URL without user information or query values (never shows a password or token).
    pub fn url(&self) -> String {
        let mut url = format!("{}://{}:{}", self.transport, self.host, self.port);
        if self.transport.uses_ws() {
            url.push_str(&super::route::redact_query(&self.path));
        }
        url
    }

    pub fn host_str(&self) -> String {
        match &self.host {
            Host::Name(n) => n.clone(),
            Host::Ip(ip) => ip.to_string(),
        }
    }
}

/// Why a URL could not be used. Each message names the argument and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error(
        "the URL {0:?} has no scheme: write it as mqtt://HOST:PORT (plain) or mqtts://HOST:PORT (TLS)"
    )]
    NoScheme(String),
    #[error(
        "the URL {url:?} has the unknown scheme {scheme:?}: use mqtt://, mqtts://, ws:// or wss://"
    )]
    UnknownScheme { url: String, scheme: String },
    #[error("the URL {0:?} has no host name")]
    NoHost(String),
    #[error("the URL {url:?} has the port {port}, which is not a usable TCP port (1-65535)")]
    BadPort { url: String, port: String },
    #[error("the URL {url:?} could not be read: {reason}")]
    Malformed { url: String, reason: String },
    #[error(
        "the URL {0:?} carries a password: pass passwords with --password-env VAR or the interactive prompt, never on the command line"
    )]
    PasswordInUrl(String),
}

/// A parsed URL plus the user name it may carry (`mqtt://alice@host`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedUrl {
    pub target: Target,
    pub username: Option<String>,
}

impl FromStr for ParsedUrl {
    type Err = UrlError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let input = input.trim();
        let Some((scheme, rest)) = input.split_once("://") else {
            return Err(UrlError::NoScheme(input.to_string()));
        };
        let scheme_lc = scheme.to_ascii_lowercase();
        let transport =
            Transport::from_scheme(&scheme_lc).ok_or_else(|| UrlError::UnknownScheme {
                url: input.to_string(),
                scheme: scheme.to_string(),
            })?;
        // Check the port by hand first: the url crate's message for 99999 is not specific.
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let hostport = authority
            .rsplit_once('@')
            .map(|(_, h)| h)
            .unwrap_or(authority);
        if hostport.is_empty() || hostport.starts_with(':') {
            return Err(UrlError::NoHost(input.to_string()));
        }
        let port_part = if let Some(end) = hostport.strip_prefix('[') {
            end.split_once(']').and_then(|(_, p)| p.strip_prefix(':'))
        } else {
            hostport.rsplit_once(':').map(|(_, p)| p)
        };
        if let Some(port) = port_part {
            match port.parse::<u32>() {
                Ok(p) if (1..=65535).contains(&p) => {}
                _ if port.is_empty() => {}
                _ => {
                    return Err(UrlError::BadPort {
                        url: input.to_string(),
                        port: port.to_string(),
                    });
                }
            }
        }
        // The url crate does not know these schemes' default ports; parse as a generic URL.
        let generic = format!("x-mqtt://{rest}");
        let url = url::Url::parse(&generic).map_err(|e| UrlError::Malformed {
            url: input.to_string(),
            reason: e.to_string(),
        })?;
        if url.password().is_some() {
            return Err(UrlError::PasswordInUrl(redact_userinfo(input)));
        }
        let host = match url.host() {
            None => return Err(UrlError::NoHost(input.to_string())),
            Some(url::Host::Domain("")) => {
                return Err(UrlError::NoHost(input.to_string()));
            }
            // Non-special schemes leave IPv4 literals as opaque host strings.
            Some(url::Host::Domain(d)) => match d.parse::<IpAddr>() {
                Ok(ip) => Host::Ip(ip),
                Err(_) => Host::Name(ascii_host(input, d)?),
            },
            Some(url::Host::Ipv4(ip)) => Host::Ip(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Host::Ip(IpAddr::V6(ip)),
        };
        let port = match url.port() {
            Some(0) => {
                return Err(UrlError::BadPort {
                    url: input.to_string(),
                    port: "0".into(),
                });
            }
            Some(p) => p,
            None => transport.default_port(),
        };
        let mut path = url.path().to_string();
        if path.is_empty() || path == "/" {
            path = "/mqtt".into();
        }
        if let Some(q) = url.query() {
            path.push('?');
            path.push_str(q);
        }
        let username = (!url.username().is_empty()).then(|| {
            url::form_urlencoded::parse(format!("u={}", url.username()).as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        });
        Ok(ParsedUrl {
            target: Target {
                host,
                port,
                transport,
                path,
            },
            username,
        })
    }
}

/// The host as DNS and TLS want it: an internationalised name (`bücher.example`, which the url
/// crate hands over percent-encoded for these schemes) becomes its IDNA A-label form
/// (`xn--bcher-kva.example`); [`unicode_host`] gives the form to show beside it.
fn ascii_host(input: &str, host: &str) -> Result<String, UrlError> {
    let decoded = percent_decode(host);
    if decoded.is_ascii() && !decoded.contains('%') {
        return Ok(decoded);
    }
    idna::domain_to_ascii(&decoded).map_err(|_| UrlError::Malformed {
        url: input.to_string(),
        reason: format!(
            "the host name {decoded:?} is not a valid internationalised domain name (IDNA)"
        ),
    })
}

/// The Unicode form of a host name with IDNA labels (`xn--…`), when it differs.
pub fn unicode_host(host: &str) -> Option<String> {
    if !host
        .split('.')
        .any(|l| l.len() > 4 && l[..4].eq_ignore_ascii_case("xn--"))
    {
        return None;
    }
    let (unicode, result) = idna::domain_to_unicode(host);
    (result.is_ok() && unicode != host).then_some(unicode)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|b| hex(*b)),
                bytes.get(i + 2).and_then(|b| hex(*b)),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn redact_userinfo(input: &str) -> String {
    match (input.find("://"), input.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://[redacted]{}", &input[..s], &input[at..]),
        _ => input.to_string(),
    }
}

/// Trust anchors read from a `--ca` file.
#[derive(Debug, Clone)]
pub struct CaBundle {
    pub path: PathBuf,
    pub certs: Vec<CertificateDer<'static>>,
}

/// A client certificate chain and its private key.
#[derive(Debug)]
pub struct ClientIdentity {
    /// Where it came from, for facts ("client.pem + client.key").
    pub source: String,
    pub certs: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

impl Clone for ClientIdentity {
    fn clone(&self) -> Self {
        ClientIdentity {
            source: self.source.clone(),
            certs: self.certs.clone(),
            key: self.key.clone_key(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// `None`: the operating system's trust store.
    pub ca: Option<CaBundle>,
    pub client: Option<ClientIdentity>,
    /// Send and verify this name instead of the URL's host.
    pub sni: Option<String>,
    pub alpn: Vec<String>,
    /// Complete the handshake without verification, still reporting every problem.
    pub insecure: bool,
    /// Offer only TLS 1.3 (otherwise 1.2 and 1.3).
    pub tls13_only: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MqttVersion {
    V311,
    V5,
}

impl MqttVersion {
    pub fn label(self) -> &'static str {
        match self {
            MqttVersion::V311 => "3.1.1",
            MqttVersion::V5 => "5",
        }
    }
}

#[derive(Debug, Clone)]
pub struct MqttOptions {
    pub version: MqttVersion,
    /// Retry as 3.1.1 when the broker refuses v5 with "unacceptable protocol version".
    pub fallback_to_311: bool,
    pub client_id: String,
    pub keep_alive: u16,
    pub clean_start: bool,
    pub username: Option<String>,
    pub password: Option<Secret>,
}

impl Default for MqttOptions {
    fn default() -> Self {
        MqttOptions {
            version: MqttVersion::V5,
            fallback_to_311: true,
            client_id: random_client_id(),
            keep_alive: 30,
            clean_start: true,
            username: None,
            password: None,
        }
    }
}

/// The value of the environment variable an option names (`--password-env VAR` …), looked up
/// with `env`; a variable that is not set is an error naming the option and the variable.
pub fn env_value(
    option: &str,
    var: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<String>, String> {
    match var {
        None => Ok(None),
        Some(var) => env(var)
            .map(Some)
            .ok_or_else(|| format!("{option} {var}: the environment variable {var} is not set")),
    }
}

pub fn random_client_id() -> String {
    use rand::Rng;
    let n: u32 = rand::rng().random();
    format!("mqtt-doctor-{n:08x}")
}

#[derive(Debug, Clone)]
pub struct SubOptions {
    /// Extra filters to subscribe to (`--topic`).
    pub topics: Vec<String>,
    /// Publish to the private round-trip topic and wait for the message to come back.
    pub publish: bool,
}

impl Default for SubOptions {
    fn default() -> Self {
        SubOptions {
            topics: Vec::new(),
            publish: true,
        }
    }
}

/// Everything one diagnosis needs.
#[derive(Debug, Clone)]
pub struct Plan {
    pub target: Target,
    /// Deadline for each stage.
    pub timeout: Duration,
    pub tls: TlsOptions,
    pub mqtt: MqttOptions,
    pub sub: SubOptions,
    /// Ask this DNS server instead of the system's resolvers.
    pub dns_server: Option<std::net::SocketAddr>,
    /// Stop after this stage (e.g. `cert fetch` stops after tls); later stages are skipped.
    pub stop_after: Option<Stage>,
    /// Proxy and WebSocket request options.
    pub route: super::route::Route,
}

impl Plan {
    pub fn new(target: Target) -> Plan {
        Plan {
            target,
            timeout: Duration::from_secs(5),
            tls: TlsOptions::default(),
            mqtt: MqttOptions::default(),
            sub: SubOptions::default(),
            dns_server: None,
            stop_after: None,
            route: Default::default(),
        }
    }

    /// The stages this plan runs, in order (stages that do not apply are reported skipped).
    pub fn stages(&self) -> Vec<Stage> {
        let proxy = self.route.proxy.as_ref().map(|_| Stage::Proxy);
        [Stage::Dns, Stage::Tcp]
            .into_iter()
            .chain(proxy)
            .chain([Stage::Tls, Stage::Ws, Stage::Mqtt, Stage::Sub])
            .collect()
    }

    /// The name sent as SNI and checked against the certificate.
    pub fn server_name(&self) -> String {
        self.tls
            .sni
            .clone()
            .unwrap_or_else(|| self.target.host_str())
    }

    /// The private round-trip topic.
    pub fn round_trip_topic(&self) -> String {
        format!("mqtt-doctor/{}", self.mqtt.client_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<ParsedUrl, UrlError> {
        s.parse()
    }

    #[test]
    fn parses_schemes_and_default_ports() {
        let p = parse("mqtts://broker.example.com").unwrap();
        assert_eq!(p.target.port, 8883);
        assert_eq!(p.target.transport, Transport::Mqtts);
        assert_eq!(p.target.host, Host::Name("broker.example.com".into()));
        let ip = parse("mqtt://10.0.0.5").unwrap();
        assert_eq!(ip.target.port, 1883);
        assert_eq!(ip.target.host, Host::Ip("10.0.0.5".parse().unwrap()));
        assert_eq!(
            parse("tcp://h:1").unwrap().target.transport,
            Transport::Mqtt
        );
        assert_eq!(
            parse("ssl://h:2").unwrap().target.transport,
            Transport::Mqtts
        );
        let v6 = parse("mqtt://[::1]:1884").unwrap();
        assert_eq!(v6.target.host, Host::Ip("::1".parse().unwrap()));
        assert_eq!(v6.target.url(), "mqtt://[::1]:1884");
    }

    #[test]
    fn ws_keeps_path_and_query() {
        let p = parse("wss://h/mqtt?x-amz=1&t=2").unwrap();
        assert_eq!(p.target.path, "/mqtt?x-amz=1&t=2");
        assert_eq!(parse("ws://h:8083").unwrap().target.path, "/mqtt");
    }

    #[test]
    fn user_name_is_taken_password_refused() {
        assert_eq!(
            parse("mqtt://alice@h").unwrap().username.as_deref(),
            Some("alice")
        );
        let e = parse("mqtt://alice:secret@h").unwrap_err();
        assert!(!e.to_string().contains("secret"), "{e}");
        assert!(matches!(e, UrlError::PasswordInUrl(_)));
    }

    #[test]
    fn internationalised_names_become_a_labels() {
        // The A-label of bücher.example as RFC 3492's algorithm (and every browser) writes it.
        let p = parse("mqtts://bücher.example:8883").unwrap();
        assert_eq!(p.target.host, Host::Name("xn--bcher-kva.example".into()));
        assert_eq!(
            unicode_host("xn--bcher-kva.example").as_deref(),
            Some("bücher.example")
        );
        assert_eq!(unicode_host("broker.example.com"), None);
        let p = parse("mqtt://xn--bcher-kva.example").unwrap();
        assert_eq!(p.target.host, Host::Name("xn--bcher-kva.example".into()));
        assert!(matches!(
            parse("mqtt://b\u{202e}cher.example"),
            Err(UrlError::Malformed { .. })
        ));
    }

    #[test]
    fn bad_urls_say_what_is_wrong() {
        assert!(matches!(parse("broker:1883"), Err(UrlError::NoScheme(_))));
        assert!(
            matches!(parse("http://h"), Err(UrlError::UnknownScheme { scheme, .. }) if scheme == "http")
        );
        assert!(matches!(parse("mqtt://h:0"), Err(UrlError::BadPort { port, .. }) if port == "0"));
        assert!(
            matches!(parse("mqtt://h:99999"), Err(UrlError::BadPort { port, .. }) if port == "99999")
        );
        assert!(matches!(
            parse("mqtt://h:abc"),
            Err(UrlError::BadPort { .. })
        ));
        assert!(matches!(parse("mqtt://"), Err(UrlError::NoHost(_))));
        assert!(matches!(parse("mqtt://:1883"), Err(UrlError::NoHost(_))));
    }
}
