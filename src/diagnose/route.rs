//! The route to the broker beyond TCP: an optional proxy in front (HTTP CONNECT or SOCKS5) and
//! the WebSocket request (path, extra headers, offered subprotocols). Parsed before a run, so a
//! bad proxy URL or header fails as input, never mid-run.

use std::fmt;
use std::net::IpAddr;

use super::plan::{Host, Target, Transport};
use crate::secrets::Secret;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyKind {
    /// HTTP CONNECT.
    Http,
    /// SOCKS5 (RFC 1928), the target's name is resolved by the proxy.
    Socks5,
}

impl ProxyKind {
    pub fn scheme(self) -> &'static str {
        match self {
            ProxyKind::Http => "http",
            ProxyKind::Socks5 => "socks5",
        }
    }
}

/// A proxy between this machine and the broker.
#[derive(Debug, Clone, PartialEq)]
pub struct Proxy {
    pub kind: ProxyKind,
    pub host: Host,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// Where it came from: `--proxy`, or the environment variable that named it.
    pub source: String,
}

impl Proxy {
    /// The proxy URL without any password.
    pub fn url(&self) -> String {
        let user = self
            .username
            .as_ref()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        format!("{}://{user}{}:{}", self.kind.scheme(), self.host, self.port)
    }
}

impl fmt::Display for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url())
    }
}

/// The WebSocket request options.
#[derive(Debug, Clone, PartialEq)]
pub struct WsOptions {
    /// Extra request headers; values may be secrets and are never shown.
    pub headers: Vec<(String, Secret)>,
    /// Offered in `Sec-WebSocket-Protocol`, in order.
    pub subprotocols: Vec<String>,
}

impl Default for WsOptions {
    fn default() -> Self {
        WsOptions {
            headers: Vec::new(),
            subprotocols: vec!["mqtt".into()],
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Route {
    pub proxy: Option<Proxy>,
    /// Why no proxy is used although `--proxy env` was given (NO_PROXY, no variable set …).
    pub proxy_note: Option<String>,
    pub ws: WsOptions,
}

/// The route-related command-line values, as given.
#[derive(Debug, Default)]
pub struct RouteArgs<'a> {
    pub ws_path: Option<&'a str>,
    pub headers: &'a [String],
    pub proxy: Option<&'a str>,
    /// The proxy password and where it came from (`--proxy-password-env`, `proxy_password`).
    pub proxy_password: Option<(&'a str, Secret)>,
    /// `--mqtt-version 3` was asked for: also offer the `mqttv3.1` subprotocol.
    pub v311: bool,
}

/// Headers the WebSocket handshake sets itself.
const RESERVED: &[&str] = &[
    "upgrade",
    "connection",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-protocol",
    "sec-websocket-extensions",
];

/// Applies the route arguments to a target (the path may change) and returns the route.
/// Errors are one sentence naming the argument.
pub fn from_args(
    a: &RouteArgs<'_>,
    target: &mut Target,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Route, String> {
    let mut route = Route::default();
    let ws = target.transport.uses_ws();
    if let Some(path) = a.ws_path {
        if !ws {
            return Err(format!(
                "--ws-path {path:?}: only ws:// and wss:// URLs have a WebSocket path"
            ));
        }
        target.path = ws_path(path, &target.path)?;
    }
    for h in a.headers {
        if !ws {
            return Err(
                "--header: only ws:// and wss:// URLs send HTTP headers; use a ws:// or wss:// URL"
                    .into(),
            );
        }
        route.ws.headers.push(parse_header(h)?);
    }
    if a.v311 {
        route.ws.subprotocols.push("mqttv3.1".into());
    }
    let label = a.proxy_password.as_ref().map(|(l, _)| *l).unwrap_or("");
    let password = a.proxy_password.as_ref().map(|(_, s)| s.clone());
    match a.proxy {
        None if password.is_some() => {
            return Err(format!("{label} needs --proxy"));
        }
        None => {}
        Some("env") => match proxy_from_env(target, env)? {
            (Some(mut p), note) => {
                if password.is_some() {
                    p.password = password;
                }
                route.proxy = Some(p);
                route.proxy_note = note;
            }
            (None, note) => route.proxy_note = note,
        },
        Some(url) => {
            let mut p = parse_proxy_url(url, false).map_err(|e| format!("--proxy: {e}"))?;
            p.source = "--proxy".into();
            if password.is_some() && p.username.is_none() {
                return Err(format!(
                    "{label}: the proxy URL names no user; write --proxy socks5://USER@HOST:PORT"
                ));
            }
            p.password = password;
            route.proxy = Some(p);
        }
    }
    Ok(route)
}

/// A WebSocket path for display: query values are replaced by `[redacted]` (signed URLs and
/// tokens travel there), names are kept.
pub fn redact_query(path: &str) -> String {
    let Some((p, q)) = path.split_once('?') else {
        return path.to_string();
    };
    let parts: Vec<String> = q
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) if !v.is_empty() => format!("{k}=[redacted]"),
            _ => kv.to_string(),
        })
        .collect();
    format!("{p}?{}", parts.join("&"))
}

/// `--ws-path`: replaces the URL's path; the URL's query is kept unless the new path has one.
fn ws_path(path: &str, current: &str) -> Result<String, String> {
    if path
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '#')
    {
        return Err(format!(
            "--ws-path {path:?}: a path cannot contain spaces, control characters or '#'"
        ));
    }
    let mut p = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    };
    if !p.contains('?')
        && let Some((_, q)) = current.split_once('?')
    {
        p.push('?');
        p.push_str(q);
    }
    Ok(p)
}

/// `Name: value` → (name, secret value).
pub fn parse_header(h: &str) -> Result<(String, Secret), String> {
    let Some((name, value)) = h.split_once(':') else {
        return Err(format!(
            "--header: {:?} has no ':'; write it as 'Name: value'",
            crate::text::truncate(h.split_whitespace().next().unwrap_or(""), 40)
        ));
    };
    let name = name.trim();
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    {
        return Err(format!(
            "--header: {:?} is not a valid HTTP header name",
            crate::text::truncate(name, 40)
        ));
    }
    if RESERVED.contains(&name.to_ascii_lowercase().as_str()) {
        return Err(format!(
            "--header {name}: this header belongs to the WebSocket handshake and is set by mqtt-doctor"
        ));
    }
    let value = value.trim();
    if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
        // Never echo the value: it may be a secret.
        return Err(format!(
            "--header {name}: the value contains a line break or NUL"
        ));
    }
    Ok((name.to_string(), Secret::new(value)))
}

/// Parses `http://[user@]host:port` or `socks5://[user@]host:port`. `allow_password`: a
/// password in the URL is accepted (environment variables), never on the command line.
pub fn parse_proxy_url(input: &str, allow_password: bool) -> Result<Proxy, String> {
    let input = input.trim();
    let (scheme, rest) = match input.split_once("://") {
        Some((s, r)) => (s.to_ascii_lowercase(), r),
        None => ("http".to_string(), input),
    };
    let kind = match scheme.as_str() {
        "http" => ProxyKind::Http,
        "socks5" | "socks5h" => ProxyKind::Socks5,
        "https" => {
            return Err(
                "TLS to the proxy itself (https://) is not supported; use http:// (CONNECT) or socks5://"
                    .into(),
            );
        }
        other => {
            return Err(format!(
                "the proxy scheme {other:?} is not supported; use http://HOST:PORT (HTTP CONNECT) or socks5://HOST:PORT"
            ));
        }
    };
    let url = url::Url::parse(&format!("x-proxy://{rest}"))
        .map_err(|e| format!("the proxy URL could not be read ({e})"))?;
    if url.password().is_some() && !allow_password {
        return Err(
            "the proxy URL carries a password: pass it with --proxy-password-env VAR".into(),
        );
    }
    let host = match url.host() {
        Some(url::Host::Domain(d)) if !d.is_empty() => match d.parse::<IpAddr>() {
            Ok(ip) => Host::Ip(ip),
            Err(_) => Host::Name(d.to_string()),
        },
        Some(url::Host::Ipv4(ip)) => Host::Ip(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Host::Ip(IpAddr::V6(ip)),
        _ => return Err("the proxy URL has no host".into()),
    };
    let port = match url.port() {
        Some(0) => return Err("the proxy port 0 is not usable".into()),
        Some(p) => p,
        None => match kind {
            ProxyKind::Http => 8080,
            ProxyKind::Socks5 => 1080,
        },
    };
    let decode = |s: &str| {
        url::form_urlencoded::parse(format!("u={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let username = (!url.username().is_empty()).then(|| decode(url.username()));
    let password = url.password().map(|p| Secret::new(decode(p)));
    Ok(Proxy {
        kind,
        host,
        port,
        username,
        password,
        source: String::new(),
    })
}

/// `--proxy env`: HTTPS_PROXY (wss) or HTTP_PROXY (ws), then ALL_PROXY, minus NO_PROXY; only
/// for WebSocket URLs. Returns the proxy and a sentence when none is used.
fn proxy_from_env(
    target: &Target,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Option<Proxy>, Option<String>), String> {
    if !target.transport.uses_ws() {
        return Ok((
            None,
            Some(format!(
                "--proxy env applies to ws:// and wss:// only; {}:// connects directly",
                target.transport
            )),
        ));
    }
    let get = |name: &str| {
        env(name)
            .or_else(|| env(&name.to_ascii_lowercase()))
            .filter(|v| !v.trim().is_empty())
            .map(|v| (name.to_string(), v))
    };
    let first = if target.transport == Transport::Wss {
        "HTTPS_PROXY"
    } else {
        "HTTP_PROXY"
    };
    let Some((var, value)) = get(first).or_else(|| get("ALL_PROXY")) else {
        return Ok((
            None,
            Some(format!(
                "--proxy env: neither {first} nor ALL_PROXY is set; connecting directly"
            )),
        ));
    };
    if let Some((_, no)) = get("NO_PROXY")
        && let Some(entry) = no_proxy_match(&no, target)
    {
        return Ok((
            None,
            Some(format!(
                "--proxy env: NO_PROXY entry {entry:?} matches {}; connecting directly",
                target.host
            )),
        ));
    }
    let mut p = parse_proxy_url(&value, true).map_err(|e| format!("--proxy env: {var}: {e}"))?;
    p.source = var;
    Ok((Some(p), None))
}

/// The NO_PROXY entry that matches the target, if any (`*`, exact names, domain suffixes with
/// or without a leading dot, IP addresses; an entry may carry `:port`).
fn no_proxy_match(no_proxy: &str, target: &Target) -> Option<String> {
    let host = target.host_str().to_ascii_lowercase();
    for raw in no_proxy.split([',', ' ']) {
        let entry = raw.trim().to_ascii_lowercase();
        if entry.is_empty() {
            continue;
        }
        if entry == "*" {
            return Some(entry);
        }
        let (name, port) = match entry.rsplit_once(':') {
            Some((n, p)) if !n.contains(':') || n.ends_with(']') => (n, p.parse::<u16>().ok()),
            _ => (entry.as_str(), None),
        };
        if port.is_some_and(|p| p != target.port) {
            continue;
        }
        let name = name.trim_start_matches('*').trim_matches(['[', ']']);
        let bare = name.trim_start_matches('.');
        if host == bare || host.ends_with(&format!(".{bare}")) {
            return Some(raw.trim().to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(url: &str) -> Target {
        url.parse::<super::super::plan::ParsedUrl>().unwrap().target
    }

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn proxy_urls() {
        let p = parse_proxy_url("socks5://alice@127.0.0.1:1081", false).unwrap();
        assert_eq!(p.kind, ProxyKind::Socks5);
        assert_eq!(p.username.as_deref(), Some("alice"));
        assert_eq!(p.url(), "socks5://alice@127.0.0.1:1081");
        assert_eq!(
            parse_proxy_url("proxy.corp:3128", false).unwrap().kind,
            ProxyKind::Http
        );
        let e = parse_proxy_url("http://bob:hunter2@p:1", false).unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
        let p = parse_proxy_url("http://bob:hunter%32@p:1", true).unwrap();
        assert_eq!(p.password.as_ref().map(|s| s.expose()), Some("hunter2"));
        assert_eq!(p.url(), "http://bob@p:1");
        assert!(parse_proxy_url("ftp://p:1", false).is_err());
    }

    #[test]
    fn headers_never_echo_values() {
        let (n, v) = parse_header("Authorization: Bearer s3cret").unwrap();
        assert_eq!((n.as_str(), v.expose()), ("Authorization", "Bearer s3cret"));
        let e = parse_header("X-Token: a\r\nb").unwrap_err();
        assert!(!e.contains("a\r\nb"));
        assert!(parse_header("Upgrade: h2c").is_err());
        assert!(parse_header("no colon").is_err());
        assert!(parse_header("bad name: x").is_err());
    }

    #[test]
    fn query_values_are_redacted_for_display() {
        assert_eq!(
            redact_query("/mqtt?X-Amz-Signature=abc&flag&t="),
            "/mqtt?X-Amz-Signature=[redacted]&flag&t="
        );
        assert_eq!(redact_query("/mqtt"), "/mqtt");
    }

    #[test]
    fn ws_path_keeps_the_query() {
        let mut t = target("wss://h/mqtt?token=1");
        let args = RouteArgs {
            ws_path: Some("ws"),
            ..RouteArgs::default()
        };
        from_args(&args, &mut t, &|_| None).unwrap();
        assert_eq!(t.path, "/ws?token=1");
        let mut t = target("mqtt://h");
        assert!(from_args(&args, &mut t, &|_| None).is_err());
    }

    #[test]
    fn proxy_from_the_environment() {
        let e = env(&[
            ("HTTPS_PROXY", "http://proxy.corp:3128"),
            ("ALL_PROXY", "socks5://s:1080"),
            ("NO_PROXY", "localhost,.internal.corp"),
        ]);
        let args = RouteArgs {
            proxy: Some("env"),
            ..RouteArgs::default()
        };
        let r = from_args(&args, &mut target("wss://broker.example.com"), &e).unwrap();
        let p = r.proxy.unwrap();
        assert_eq!(
            (p.kind, p.source.as_str()),
            (ProxyKind::Http, "HTTPS_PROXY")
        );
        let r = from_args(&args, &mut target("ws://broker.example.com"), &e).unwrap();
        assert_eq!(r.proxy.unwrap().source, "ALL_PROXY");
        let r = from_args(&args, &mut target("wss://mq.internal.corp"), &e).unwrap();
        assert!(r.proxy.is_none());
        assert!(r.proxy_note.unwrap().contains(".internal.corp"));
        let r = from_args(&args, &mut target("mqtts://broker.example.com"), &e).unwrap();
        assert!(r.proxy.is_none());
        let r = from_args(&args, &mut target("wss://localhost:8884"), &e).unwrap();
        assert!(r.proxy.is_none());
    }
}
