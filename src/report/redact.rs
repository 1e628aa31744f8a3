//! Redaction for everything a user hands to someone else: secrets become `[redacted]` (by
//! structure — query tokens, SAS and JWT user names — and by value, as a last pass over every
//! file), and with `--redact-hosts` host names, addresses and certificate subjects become
//! stable placeholders (`host-1`, `ip-1`, `subject-1`): the same name, the same placeholder.

use std::collections::BTreeMap;

/// What every redacted secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Query parameters whose values identify, not authenticate (kept in user names).
const HARMLESS_QUERY: &[&str] = &["api-version", "x-amz-customauthorizer-name", "sdk"];

/// Secret values are never shorter than this; shorter ones would replace ordinary words.
const MIN_SECRET_LEN: usize = 4;

/// Replaces secret values and (optionally) host names in text. Built once per bundle from
/// the values the check actually used, so the last pass catches a secret wherever it went.
#[derive(Debug, Default, Clone)]
pub struct Redactor {
    secrets: Vec<String>,
    hosts: Option<Placeholders>,
}

#[derive(Debug, Default, Clone)]
struct Placeholders {
    /// original → placeholder, applied longest original first.
    map: BTreeMap<String, String>,
    counts: BTreeMap<&'static str, usize>,
}

impl Placeholders {
    fn add(&mut self, kind: &'static str, original: &str) -> String {
        if let Some(p) = self.map.get(original) {
            return p.clone();
        }
        let n = self.counts.entry(kind).or_insert(0);
        *n += 1;
        let p = format!("{kind}-{n}");
        self.map.insert(original.to_string(), p.clone());
        p
    }
}

impl Redactor {
    pub fn new() -> Redactor {
        Redactor::default()
    }

    /// A value that must never appear: it and the query values inside it are added.
    pub fn secret(&mut self, value: &str) {
        let v = value.trim();
        if v.chars().count() >= MIN_SECRET_LEN && !self.secrets.iter().any(|s| s == v) {
            self.secrets.push(v.to_string());
            // The longest first, so a token that contains another is replaced whole.
            self.secrets
                .sort_by_key(|s| std::cmp::Reverse(s.chars().count()));
        }
        for (_, qv) in query_pairs(v) {
            if qv.chars().count() >= MIN_SECRET_LEN {
                self.secret(&qv);
            }
        }
    }

    /// Turns on host redaction (`--redact-hosts`).
    pub fn redact_hosts(&mut self) {
        self.hosts.get_or_insert_with(Placeholders::default);
    }

    pub fn hosts_redacted(&self) -> bool {
        self.hosts.is_some()
    }

    /// Registers a host name or IP address; returns its placeholder (or the name itself when
    /// hosts are not redacted).
    pub fn host(&mut self, name: &str) -> String {
        let name = name.trim().trim_start_matches('[').trim_end_matches(']');
        let Some(h) = self.hosts.as_mut() else {
            return name.to_string();
        };
        if name.is_empty() || name == "localhost" {
            return name.to_string();
        }
        let kind = if name.parse::<std::net::IpAddr>().is_ok() {
            "ip"
        } else {
            "host"
        };
        h.add(kind, name)
    }

    /// Registers a certificate subject or issuer (a distinguished name) and the names in it.
    pub fn subject(&mut self, dn: &str) -> String {
        if self.hosts.is_none() || dn.trim().is_empty() {
            return dn.to_string();
        }
        for part in dn.split(',') {
            if let Some((_, v)) = part.split_once('=') {
                let v = v.trim();
                if v.len() >= MIN_SECRET_LEN
                    && let Some(h) = self.hosts.as_mut()
                {
                    h.add("name", v);
                }
            }
        }
        self.hosts
            .as_mut()
            .map(|h| h.add("subject", dn))
            .unwrap_or_default()
    }

    /// The last pass over a whole file: every registered secret, then every registered host
    /// (longest first, so `broker.example.com` is not half-replaced by `example.com`).
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in &self.secrets {
            out = out.replace(s.as_str(), REDACTED);
        }
        if let Some(h) = &self.hosts {
            let mut originals: Vec<(&String, &String)> = h.map.iter().collect();
            originals.sort_by_key(|(o, _)| std::cmp::Reverse(o.len()));
            for (original, placeholder) in originals {
                out = out.replace(original.as_str(), placeholder);
            }
        }
        out
    }
}

/// `a=1&b=2` pairs of the query part of `s` (after `?`, or the whole string when it has
/// `=` and `&` but no `?`, like an Azure `SharedAccessSignature sr=…&sig=…&se=…`).
fn query_pairs(s: &str) -> Vec<(String, String)> {
    let q = match s.split_once('?') {
        Some((_, q)) => q,
        None if s.contains('=') => s.split_once(' ').map(|x| x.1).unwrap_or(s),
        None => return Vec::new(),
    };
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.to_string()))
        .collect()
}

/// A URL or WebSocket path with every query value replaced (signed URLs: `X-Amz-Signature`,
/// `X-Amz-Security-Token`, `X-Amz-Credential`, Azure `sig=`): names stay, values go.
pub fn url(u: &str) -> String {
    let (head, rest) = match u.split_once('?') {
        Some(x) => x,
        None => return userinfo(u),
    };
    let (query, fragment) = match rest.split_once('#') {
        Some((q, f)) => (q, Some(f)),
        None => (rest, None),
    };
    let parts: Vec<String> = query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) if !v.is_empty() => format!("{k}={REDACTED}"),
            _ => kv.to_string(),
        })
        .collect();
    let mut out = format!("{}?{}", userinfo(head), parts.join("&"));
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

/// `scheme://user:password@host` → `scheme://user:[redacted]@host` (proxy URLs).
fn userinfo(u: &str) -> String {
    let Some((scheme, rest)) = u.split_once("://") else {
        return u.to_string();
    };
    let (auth, tail) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match auth.rsplit_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((name, _)) => format!("{scheme}://{name}:{REDACTED}@{host}{tail}"),
            None => u.to_string(),
        },
        None => u.to_string(),
    }
}

/// An MQTT user name that may carry a token. An Azure IoT Hub user name
/// (`hub.azure-devices.net/device/?api-version=…`) keeps its hub, device and API version; a
/// SAS token, a JWT or a query value that is not known to be harmless (AWS custom
/// authorizers put the token there) is dropped.
pub fn username(u: &str) -> String {
    if u.contains("SharedAccessSignature") || u.contains("sig=") {
        let keep = u
            .split("SharedAccessSignature")
            .next()
            .unwrap_or("")
            .split("sig=")
            .next()
            .unwrap_or("");
        let keep = keep.split('?').next().unwrap_or("");
        return if keep.is_empty() {
            REDACTED.to_string()
        } else {
            format!("{keep}{REDACTED}")
        };
    }
    if looks_like_jwt(u) {
        return REDACTED.to_string();
    }
    let Some((head, query)) = u.split_once('?') else {
        return u.to_string();
    };
    let parts: Vec<String> = query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, v))
                if !v.is_empty() && !HARMLESS_QUERY.contains(&k.to_ascii_lowercase().as_str()) =>
            {
                format!("{k}={REDACTED}")
            }
            _ => kv.to_string(),
        })
        .collect();
    format!("{head}?{}", parts.join("&"))
}

/// Three base64url parts separated by dots, the first a JSON header (`eyJ`).
fn looks_like_jwt(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 3
        && s.starts_with("eyJ")
        && parts.iter().all(|p| {
            p.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '=')
        })
}

/// The secret parts of a user name (what [`username`] drops), to add to a [`Redactor`].
pub fn username_secrets(u: &str) -> Vec<String> {
    let kept = username(u);
    if kept == u {
        return Vec::new();
    }
    if kept == REDACTED {
        return vec![u.to_string()];
    }
    let mut out = Vec::new();
    if let Some(i) = u.find("SharedAccessSignature").or_else(|| u.find("sig=")) {
        out.push(u[i..].to_string());
    }
    for (k, v) in query_pairs(u) {
        if !HARMLESS_QUERY.contains(&k.to_ascii_lowercase().as_str()) {
            out.push(v);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_websocket_urls_lose_every_query_value() {
        assert_eq!(
            url(
                "wss://a.iot.eu-west-1.amazonaws.com/mqtt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F2026&X-Amz-Signature=abcdef&X-Amz-Security-Token=tok"
            ),
            "wss://a.iot.eu-west-1.amazonaws.com/mqtt?X-Amz-Algorithm=[redacted]&X-Amz-Credential=[redacted]&X-Amz-Signature=[redacted]&X-Amz-Security-Token=[redacted]"
        );
        assert_eq!(url("mqtts://host:8883"), "mqtts://host:8883");
        assert_eq!(
            url("http://bob:hunter22@proxy:3128"),
            "http://bob:[redacted]@proxy:3128"
        );
    }

    #[test]
    fn an_azure_user_name_keeps_hub_and_device() {
        assert_eq!(
            username("myhub.azure-devices.net/dev1/?api-version=2021-04-12"),
            "myhub.azure-devices.net/dev1/?api-version=2021-04-12"
        );
        assert_eq!(
            username("myhub.azure-devices.net/dev1/SharedAccessSignature sr=myhub&sig=AbC%3D&se=1"),
            "myhub.azure-devices.net/dev1/[redacted]"
        );
        assert_eq!(
            username("device?x-amz-customauthorizer-name=auth&token=s3cr3t"),
            "device?x-amz-customauthorizer-name=auth&token=[redacted]"
        );
        assert_eq!(username("eyJhbGciOi.eyJzdWIi.c2ln"), "[redacted]");
        assert_eq!(username("alice"), "alice");
    }

    #[test]
    fn scrub_replaces_secrets_and_their_query_values() {
        let mut r = Redactor::new();
        r.secret("SharedAccessSignature sr=hub&sig=SIGVALUE123&se=99999");
        r.secret("abc");
        let text = "pw SharedAccessSignature sr=hub&sig=SIGVALUE123&se=99999 / SIGVALUE123 / abc";
        assert_eq!(r.scrub(text), "pw [redacted] / [redacted] / abc");
    }

    #[test]
    fn the_same_host_gets_the_same_placeholder() {
        let mut r = Redactor::new();
        r.redact_hosts();
        assert_eq!(r.host("broker.example.com"), "host-1");
        assert_eq!(r.host("10.0.0.5"), "ip-1");
        assert_eq!(r.host("broker.example.com"), "host-1");
        assert_eq!(r.host("example.com"), "host-2");
        assert_eq!(
            r.scrub("broker.example.com at 10.0.0.5:8883, see example.com"),
            "host-1 at ip-1:8883, see host-2"
        );
    }
}
