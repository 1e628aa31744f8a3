//! The diagnostic bundle: one `.tar.gz` a user hands to a colleague or a vendor, with every
//! fact of a check and no secret. [`build`] makes the files (the app can show them before
//! writing), [`write`] stores them (0600, atomically); the schema is in README.txt and README.md.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Serialize;

use super::redact::{self, REDACTED, Redactor};
use crate::clock::unix;
use crate::diagnose::{Plan, Report, Stage};
use crate::profile::{self, HeaderValue, Material, Profile, ProfileStore, SecretSource};

/// What a bundle is made from: the check's result and what produced it.
pub struct BundleInput<'a> {
    /// The profile that was checked (a saved one with this run's options layered on, or the
    /// unnamed one the command line made); secrets in it are references, never values.
    pub profile: &'a Profile,
    /// The plan the check ran: the secret values to keep out of every file.
    pub plan: &'a Plan,
    pub report: &'a Report,
    /// Replace host names, addresses and certificate subjects with placeholders.
    pub redact_hosts: bool,
    /// When the bundle is made (the local clock; also every entry's mtime).
    pub now: SystemTime,
    /// Looks up environment variables the profile names (`{ env = "VAR" }`), so their values
    /// are kept out too.
    pub env: profile::Env<'a>,
    /// The resolver configuration file (`/etc/resolv.conf` in real use).
    pub resolv_conf: &'a Path,
}

/// One file of the bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: &'static str,
    /// What the file is, as README.txt says it.
    pub what: &'static str,
    pub bytes: Vec<u8>,
}

/// The files of a bundle, ready to be written.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub entries: Vec<Entry>,
    /// Every entry's mtime (seconds since the epoch).
    pub mtime: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("the bundle {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the bundle's {file} could not be made: {detail}")]
    Content { file: &'static str, detail: String },
}

/// Where a bundle goes without `-o`: `mqtt-doctor-bundle-YYYYMMDD-HHMMSS.tar.gz`.
pub fn default_file_name(now: SystemTime) -> String {
    let stamp = crate::certs::rfc3339(unix(now))
        .replace(['-', ':'], "")
        .replace('T', "-")
        .trim_end_matches('Z')
        .to_string();
    format!("mqtt-doctor-bundle-{stamp}.tar.gz")
}

/// The names and descriptions of every file a bundle can hold, for README.txt.
pub const FILES: &[(&str, &str)] = &[
    ("README.txt", "this file: what each file is"),
    (
        "report.json",
        "the `check --json` document (schema in mqtt-doctor's README)",
    ),
    (
        "report.md",
        "the same report as markdown, to paste into a ticket or a forum post",
    ),
    (
        "chain.pem",
        "the certificates the broker presented, as PEM (public data; left out with --redact-hosts, since certificates name hosts)",
    ),
    (
        "profile.toml",
        "the checked profile in profiles.toml form; every secret value is [redacted], keyring and env references stay",
    ),
    (
        "environment.json",
        "tool version and build, OS and architecture, resolver configuration, the local and the broker's clock, stage timings",
    ),
    (
        "reproduce.sh",
        "commands that reproduce the connection outside mqtt-doctor (mosquitto_sub, openssl s_client); secrets are $ENV placeholders",
    ),
];

fn what(name: &'static str) -> &'static str {
    FILES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, w)| *w)
        .unwrap_or("")
}

/// Makes the bundle's files. Nothing is written; every file has passed the redactor.
pub fn build(input: &BundleInput<'_>) -> Result<Bundle, BundleError> {
    let mut r = redactor(input);
    let report = redacted_report(input.report, &mut r);
    let mut files: Vec<(&'static str, String)> = Vec::new();
    files.push(("report.json", format!("{}\n", super::json(&report))));
    files.push(("report.md", super::markdown(&report)));
    let chain = &input
        .report
        .tls
        .as_ref()
        .map(|t| t.chain_der.clone())
        .unwrap_or_default();
    if !chain.is_empty() && !r.hosts_redacted() {
        let pem: String = chain
            .iter()
            .map(|c| crate::certs::pem("CERTIFICATE", c))
            .collect();
        files.push(("chain.pem", pem));
    }
    let profile = redacted_profile(input.profile, &mut r);
    files.push(("profile.toml", profile_toml(&profile)?));
    let env = environment(input, &mut r);
    files.push(("environment.json", format!("{}\n", crate::text::json(&env))));
    files.push(("reproduce.sh", reproduce(&profile)));
    let mut entries: Vec<Entry> = Vec::new();
    let listed: Vec<&'static str> = files.iter().map(|(n, _)| *n).collect();
    entries.push(Entry {
        name: "README.txt",
        what: what("README.txt"),
        bytes: readme(&listed, r.hosts_redacted()).into_bytes(),
    });
    for (name, text) in files {
        // chain.pem is public and must stay a valid PEM: only host redaction (which leaves
        // it out) could change it.
        let text = if name == "chain.pem" {
            text
        } else {
            r.scrub(&text)
        };
        entries.push(Entry {
            name,
            what: what(name),
            bytes: text.into_bytes(),
        });
    }
    Ok(Bundle {
        entries,
        mtime: unix(input.now).max(0) as u64,
    })
}

/// Writes `bundle` to `path` as a `.tar.gz`: a temporary file in the same folder (created
/// 0600), entries 0600 with the bundle's mtime, renamed into place once complete.
pub fn write(path: &Path, bundle: &Bundle) -> Result<(), BundleError> {
    let io = |source| BundleError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".mqtt-doctor-bundle")
        .tempfile_in(&dir)
        .map_err(io)?;
    {
        let gz = flate2::write::GzEncoder::new(tmp.as_file(), flate2::Compression::default());
        let mut tar = tar::Builder::new(gz);
        tar.mode(tar::HeaderMode::Deterministic);
        for e in &bundle.entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(e.bytes.len() as u64);
            h.set_mode(0o600);
            h.set_mtime(bundle.mtime);
            h.set_entry_type(tar::EntryType::Regular);
            h.set_cksum();
            tar.append_data(&mut h, e.name, e.bytes.as_slice())
                .map_err(io)?;
        }
        let gz = tar.into_inner().map_err(io)?;
        let mut file = gz.finish().map_err(io)?;
        file.flush().map_err(io)?;
        file.sync_all().map_err(io)?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    }
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

/// Every secret value the check used, and (with `--redact-hosts`) every host it named.
fn redactor(input: &BundleInput<'_>) -> Redactor {
    let mut r = Redactor::new();
    let plan = input.plan;
    if let Some(pw) = &plan.mqtt.password {
        r.secret(pw.expose());
    }
    if let Some(u) = &plan.mqtt.username {
        for s in redact::username_secrets(u) {
            r.secret(&s);
        }
    }
    for (_, v) in &plan.route.ws.headers {
        r.secret(v.expose());
    }
    if let Some(pw) = plan.route.proxy.as_ref().and_then(|p| p.password.as_ref()) {
        r.secret(pw.expose());
    }
    if let Some((_, q)) = plan.target.path.split_once('?') {
        r.secret(&format!("?{q}"));
    }
    if let Some(id) = &plan.tls.client {
        use base64::Engine;
        r.secret(&base64::engine::general_purpose::STANDARD.encode(id.key.secret_der()));
    }
    let p = input.profile;
    for source in [&p.password, &p.tls.passphrase, &p.proxy_password]
        .into_iter()
        .flatten()
    {
        match source {
            SecretSource::Env(var) => {
                if let Some(v) = (input.env)(var) {
                    r.secret(&v);
                }
            }
            SecretSource::Typed(s) => r.secret(s.expose()),
            SecretSource::Keyring => {}
        }
    }
    for v in p.ws_headers.values() {
        if let HeaderValue::Literal(v) = v {
            r.secret(v);
        }
    }
    for text in [&p.url, &p.ws_path].into_iter().flatten() {
        if let Some((_, q)) = text.split_once('?') {
            r.secret(&format!("?{q}"));
        }
    }
    if input.redact_hosts {
        r.redact_hosts();
        r.host(&plan.target.host_str());
        if let Some(sni) = &plan.tls.sni {
            r.host(sni);
        }
        if let Some(proxy) = &plan.route.proxy {
            r.host(&match &proxy.host {
                crate::diagnose::Host::Name(n) => n.clone(),
                crate::diagnose::Host::Ip(ip) => ip.to_string(),
            });
        }
        if let Some(h) = &p.host {
            r.host(h);
        }
    }
    r
}

/// The report with certificate subjects and every address in its facts registered as hosts
/// (their placeholders are applied by the final scrub), and the user name's token dropped.
fn redacted_report(report: &Report, r: &mut Redactor) -> Report {
    let report = report.clone();
    if r.hosts_redacted() {
        r.host(&report.target.host);
        if let Some(tls) = &report.tls {
            for c in &tls.chain {
                r.subject(&c.subject);
                r.subject(&c.issuer);
                for n in &c.dns_names {
                    r.host(n.trim_start_matches("*."));
                }
                for ip in &c.ip_addresses {
                    r.host(ip);
                }
            }
            for n in &tls.client_ca_names {
                r.subject(n);
            }
            if let Some(sni) = &tls.sni {
                r.host(sni);
            }
        }
        let value = serde_json::to_value(&report).unwrap_or_default();
        register_addresses(&value, r);
    }
    report
}

/// Every string in `v` that is, or has a word that is, an IP address or socket address.
fn register_addresses(v: &serde_json::Value, r: &mut Redactor) {
    match v {
        serde_json::Value::String(s) => {
            for word in s.split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')') {
                let word = word.trim_matches(|c: char| c == '"' || c == ';' || c == '.');
                if let Ok(sa) = word.parse::<std::net::SocketAddr>() {
                    r.host(&sa.ip().to_string());
                } else if let Ok(ip) = word.parse::<std::net::IpAddr>() {
                    r.host(&ip.to_string());
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| register_addresses(i, r)),
        serde_json::Value::Object(map) => map.values().for_each(|i| register_addresses(i, r)),
        _ => {}
    }
}

/// The profile with every value that could be secret replaced: header values, query values
/// in the URL and path, a token in the user name, a proxy password in its URL; a password
/// typed for this run is left out (it has no place in a file).
fn redacted_profile(p: &Profile, r: &mut Redactor) -> Profile {
    let mut p = p.clone();
    if p.name.is_empty() {
        p.name = "checked".into();
    }
    p.url = p.url.as_deref().map(redact::url);
    p.ws_path = p.ws_path.as_deref().map(redact::url);
    p.proxy = p.proxy.as_deref().map(redact::url);
    p.username = p.username.as_deref().map(redact::username);
    for v in p.ws_headers.values_mut() {
        if let HeaderValue::Literal(_) = v {
            *v = HeaderValue::Literal(REDACTED.into());
        }
    }
    for source in [
        &mut p.password,
        &mut p.tls.passphrase,
        &mut p.proxy_password,
    ] {
        if matches!(source, Some(SecretSource::Typed(_))) {
            *source = None;
        }
    }
    p.notes = p.notes.as_deref().map(|n| r.scrub(n));
    p
}

fn profile_toml(p: &Profile) -> Result<String, BundleError> {
    let err = |detail: String| BundleError::Content {
        file: "profile.toml",
        detail,
    };
    let dir = tempfile::tempdir().map_err(|e| err(e.to_string()))?;
    let mut store =
        ProfileStore::load(dir.path().join("profiles.toml")).map_err(|e| err(e.to_string()))?;
    let key_file = matches!(p.tls.client_key, Some(Material::File(_)));
    store.upsert(p.clone()).map_err(|e| err(e.to_string()))?;
    let mut text = store.to_toml().map_err(|e| err(e.to_string()))?;
    if key_file {
        text.push_str(
            "# the client key is referred to by its path; its content is not in the bundle\n",
        );
    }
    Ok(text)
}

/// `profile export` for both tools (openssl only for TLS).
fn reproduce(p: &Profile) -> String {
    let mut out = String::from(
        "#!/bin/sh\n# Reproduces the checked connection outside mqtt-doctor. Secrets are $ENV placeholders:\n# set them before running.\n\n",
    );
    match profile::export(p, profile::ExportFormat::MosquittoSub) {
        Ok(cmd) => out.push_str(&format!("{cmd}\n")),
        Err(e) => out.push_str(&format!("# mosquitto_sub: {e}\n")),
    }
    if let Ok(cmd) = profile::export(p, profile::ExportFormat::Openssl) {
        out.push_str(&format!("\n{cmd}\n"));
    }
    out
}

#[derive(Debug, Serialize)]
struct Environment {
    tool: super::build::BuildInfo,
    resolver: Resolver,
    clock: Clock,
    timings: Timings,
}

#[derive(Debug, Default, Serialize)]
struct Resolver {
    /// Where the configuration was read from, or why it could not be.
    source: String,
    nameservers: Vec<String>,
    search: Vec<String>,
    options: Vec<String>,
    /// `--dns-server` / `dns_server`, when the check asked that server instead.
    dns_server: Option<String>,
}

#[derive(Debug, Serialize)]
struct Clock {
    local_unix: i64,
    local_rfc3339: String,
    /// The broker's clock, when it was seen (the HTTP `Date` of a WebSocket upgrade).
    broker: Option<String>,
    broker_unix: Option<i64>,
    /// broker − local, in seconds.
    broker_minus_local_secs: Option<i64>,
}

#[derive(Debug, Serialize)]
struct Timings {
    total_ms: u64,
    stages: Vec<StageTiming>,
}

#[derive(Debug, Serialize)]
struct StageTiming {
    stage: Stage,
    status: crate::diagnose::Status,
    duration_ms: u64,
}

fn environment(input: &BundleInput<'_>, r: &mut Redactor) -> Environment {
    let local = unix(input.now);
    let broker = input
        .report
        .stage(Stage::Ws)
        .and_then(|s| s.facts.get("server_date"))
        .and_then(|v| v.as_str())
        .map(str::to_string);
    let broker_unix = broker.as_deref().and_then(http_date);
    let mut resolver = match std::fs::read_to_string(input.resolv_conf) {
        Ok(text) => {
            let mut res = resolv_conf(&text);
            res.source = input.resolv_conf.display().to_string();
            res
        }
        Err(e) => Resolver {
            source: format!("{}: {e}", input.resolv_conf.display()),
            ..Resolver::default()
        },
    };
    resolver.dns_server = input.plan.dns_server.map(|s| s.to_string());
    if r.hosts_redacted() {
        // The user's own network: its resolvers and domains name it too.
        for n in &resolver.nameservers {
            r.host(n);
        }
        for d in &resolver.search {
            r.host(d);
        }
    }
    Environment {
        tool: super::build::info(),
        resolver,
        clock: Clock {
            local_unix: local,
            local_rfc3339: crate::certs::rfc3339(local),
            broker,
            broker_unix,
            broker_minus_local_secs: broker_unix.map(|b| b - local),
        },
        timings: Timings {
            total_ms: input.report.total_ms(),
            stages: input
                .report
                .stages
                .iter()
                .map(|s| StageTiming {
                    stage: s.stage,
                    status: s.status,
                    duration_ms: s.duration_ms,
                })
                .collect(),
        },
    }
}

/// The parts of resolv.conf(5) that matter: nameservers, search domains (and `domain`),
/// options. Comments and unknown lines are left out.
fn resolv_conf(text: &str) -> Resolver {
    let mut r = Resolver::default();
    for line in text.lines() {
        let line = line.split(['#', ';']).next().unwrap_or("").trim();
        let mut words = line.split_whitespace();
        match words.next() {
            Some("nameserver") => r.nameservers.extend(words.next().map(str::to_string)),
            Some("search" | "domain") => r.search.extend(words.map(str::to_string)),
            Some("options") => r.options.extend(words.map(str::to_string)),
            _ => {}
        }
    }
    r
}

/// An HTTP `Date` (RFC 9110 IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`) as Unix seconds.
pub fn http_date(s: &str) -> Option<i64> {
    let w: Vec<&str> = s.split_whitespace().collect();
    if w.len() != 6 || w[5] != "GMT" {
        return None;
    }
    let day: i64 = w[1].parse().ok()?;
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| *m == w[2])? as i64
        + 1;
    let year: i64 = w[3].parse().ok()?;
    let hms: Vec<i64> = w[4]
        .split(':')
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    if hms.len() != 3 || !(1..=31).contains(&day) {
        return None;
    }
    // Days from civil (Howard Hinnant).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hms[0] * 3600 + hms[1] * 60 + hms[2])
}

fn readme(files: &[&str], hosts_redacted: bool) -> String {
    let mut out = String::from(
        "mqtt-doctor diagnostic bundle\n=============================\n\nMade by `mqtt-doctor bundle` to hand a check's result to someone else. It holds\nevery fact of the check and no secret: passwords, keys, passphrases, proxy\npasswords, header values and tokens in URLs are [redacted].\n",
    );
    if hosts_redacted {
        out.push_str(
            "Host names, IP addresses and certificate subjects are replaced by stable\nplaceholders (host-1, ip-1, subject-1, name-1): the same name has the same\nplaceholder in every file.\n",
        );
    }
    out.push_str("\nFiles:\n");
    for (name, what) in FILES {
        if *name == "README.txt" || files.contains(name) {
            out.push_str(&format!("  {name:<17} {what}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_are_read_as_rfc_9110_writes_them() {
        assert_eq!(http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784111777));
        assert_eq!(http_date("Tue, 01 Dec 2026 12:00:00 GMT"), Some(1796126400));
        assert_eq!(http_date("yesterday"), None);
    }

    #[test]
    fn resolv_conf_keeps_servers_domains_and_options() {
        let r = resolv_conf(
            "# generated\nnameserver 10.0.0.2\nnameserver fd00::53 # v6\nsearch corp.example lab.example\noptions ndots:2 timeout:1\nsortlist 10.0.0.0\n",
        );
        assert_eq!(r.nameservers, ["10.0.0.2", "fd00::53"]);
        assert_eq!(r.search, ["corp.example", "lab.example"]);
        assert_eq!(r.options, ["ndots:2", "timeout:1"]);
    }
}
