//! mosquitto_sub / mosquitto_pub command lines ⇄ profiles: import a command someone already
//! runs, export a profile as a command (or an `openssl s_client` line) that reproduces it.

use std::path::Path;

use super::ProfileError;
use super::model::{Material, MqttVersion, Profile, SecretSource, Transport};
use super::overrides::absolute;
use crate::secrets::Secret;

/// Why a command line cannot be imported or a profile exported. `Display` is one sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MosquittoError {
    #[error("import: expected a mosquitto_sub or mosquitto_pub command after --, got {0:?}")]
    NotMosquitto(String),
    #[error("import: {0} needs a value")]
    MissingValue(String),
    #[error("import: -p {0:?} is not a port number")]
    BadPort(String),
    #[error("import: -k {0:?} is not a number of seconds")]
    BadKeepAlive(String),
    #[error(
        "import: -L URLs with a password are not imported (the password would be on the command line); give -u and -P instead"
    )]
    UserInfoInUrl,
    #[error(
        "profile {profile:?} uses {transport} (no TLS): there is nothing for openssl s_client to test"
    )]
    NoTls {
        profile: String,
        transport: Transport,
    },
    #[error("{0}")]
    Profile(String),
}

impl From<ProfileError> for MosquittoError {
    fn from(e: ProfileError) -> Self {
        MosquittoError::Profile(e.to_string())
    }
}

/// What to export a profile as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    MosquittoSub,
    Openssl,
}

/// What an imported mosquitto_sub/pub command line becomes.
#[derive(Debug)]
pub struct Imported {
    pub profile: Profile,
    pub password: Option<Secret>,
    /// Flags that have no place in a profile, reported and kept in the notes.
    pub not_imported: Vec<String>,
}

/// Parses a mosquitto_sub / mosquitto_pub command line into a profile.
pub fn import_mosquitto(name: &str, argv: &[String]) -> Result<Imported, MosquittoError> {
    let prog = argv.first().map(String::as_str).unwrap_or("");
    let base = Path::new(prog)
        .file_name()
        .and_then(|s| s.to_str())
        .unwrap_or("");
    if !matches!(base, "mosquitto_sub" | "mosquitto_pub" | "mosquitto_rr") {
        return Err(MosquittoError::NotMosquitto(prog.to_string()));
    }
    let mut host = None;
    let mut port: Option<u16> = None;
    let mut url = None;
    let mut p = Profile {
        name: name.to_string(),
        ..Profile::default()
    };
    let mut password = None;
    let mut not_imported = Vec::new();
    let mut tls_wanted = false;
    let mut topics = Vec::new();
    let mut it = argv[1..].iter().peekable();
    while let Some(flag) = it.next() {
        let mut value = |flag: &str| -> Result<String, MosquittoError> {
            it.next()
                .cloned()
                .ok_or_else(|| MosquittoError::MissingValue(flag.to_string()))
        };
        match flag.as_str() {
            "-h" | "--host" => host = Some(value(flag)?),
            "-p" | "--port" => {
                let v = value(flag)?;
                port = Some(v.parse().map_err(|_| MosquittoError::BadPort(v.clone()))?);
            }
            "-L" | "--url" => url = Some(value(flag)?),
            "--cafile" => {
                p.tls.ca = Some(Material::File(absolute(Path::new(&value(flag)?))));
                tls_wanted = true;
            }
            "--cert" => {
                p.tls.client_cert = Some(Material::File(absolute(Path::new(&value(flag)?))));
                tls_wanted = true;
            }
            "--key" => {
                p.tls.client_key = Some(Material::File(absolute(Path::new(&value(flag)?))));
                tls_wanted = true;
            }
            "--insecure" => {
                p.tls.insecure = true;
                tls_wanted = true;
            }
            "--tls-alpn" => {
                p.tls.alpn.push(value(flag)?);
                tls_wanted = true;
            }
            "--tls-use-os-certs" => tls_wanted = true,
            "-u" | "--username" => p.username = Some(value(flag)?),
            "-P" | "--pw" => password = Some(Secret::new(value(flag)?)),
            "-t" | "--topic" => topics.push(value(flag)?),
            "-i" | "--id" => p.client_id = Some(value(flag)?),
            "-k" | "--keepalive" => {
                let v = value(flag)?;
                p.keep_alive = Some(
                    v.parse()
                        .map_err(|_| MosquittoError::BadKeepAlive(v.clone()))?,
                );
            }
            "-V" | "--protocol-version" => {
                let v = value(flag)?;
                p.mqtt_version = Some(match v.as_str() {
                    "mqttv5" | "5" => MqttVersion::V5,
                    "mqttv311" | "311" => MqttVersion::V3_1_1,
                    other => {
                        not_imported.push(format!("-V {other}"));
                        continue;
                    }
                });
            }
            "-c" | "--disable-clean-session" => p.clean_start = Some(false),
            "--proxy" => p.proxy = Some(value(flag)?),
            // Flags about what to do with messages, not how to connect: nothing to keep.
            "-v" | "--verbose" | "-d" | "--debug" | "--quiet" | "-N" | "--pretty" | "-R" | "-r"
            | "--retain" | "-n" | "--null-message" | "-l" | "--stdin-line" | "-s"
            | "--stdin-file" | "-E" => {}
            "-q" | "--qos" | "-C" | "-W" | "-m" | "--message" | "-f" | "--file" | "-F" | "-T"
            | "--filter-out" | "-U" | "--unsubscribe" | "-e" | "-D" | "--property" | "-x"
            | "-M" => {
                let v = value(flag)?;
                if matches!(
                    flag.as_str(),
                    "-q" | "--qos" | "-C" | "-m" | "--message" | "-f" | "--file" | "-F"
                ) {
                    // Message handling only.
                } else {
                    not_imported.push(format!("{flag} {v}"));
                }
            }
            other => not_imported.push(other.to_string()),
        }
    }
    if let Some(u) = url {
        // mosquitto's -L is scheme://[user[:password]@]host[:port]/topic: a user name alone
        // is no secret; only a password is refused.
        let (scheme, rest) = u.split_once("://").unwrap_or(("", u.as_str()));
        let (authority, topic) = rest.split_once('/').unwrap_or((rest, ""));
        let hostport = match authority.rsplit_once('@') {
            Some((userinfo, _)) if userinfo.contains(':') => {
                return Err(MosquittoError::UserInfoInUrl);
            }
            Some((user, hostport)) => {
                if p.username.is_none() {
                    p.username = Some(user.to_string());
                }
                hostport
            }
            None => authority,
        };
        if !topic.is_empty() && topics.is_empty() {
            topics.push(topic.to_string());
        }
        p.url = Some(if scheme.is_empty() {
            hostport.to_string()
        } else {
            format!("{scheme}://{hostport}")
        });
    } else {
        let host = host.unwrap_or_else(|| "localhost".into());
        let transport = if tls_wanted || port == Some(8883) {
            Transport::Mqtts
        } else {
            Transport::Mqtt
        };
        let port = port.unwrap_or(transport.default_port());
        let h = if host.contains(':') {
            format!("[{host}]")
        } else {
            host
        };
        p.url = Some(format!("{transport}://{h}:{port}"));
    }
    p.topics = topics;
    if !not_imported.is_empty() {
        p.notes = Some(format!(
            "imported from {base}; not imported: {}",
            not_imported.join(" ")
        ));
    }
    Ok(Imported {
        profile: p,
        password,
        not_imported,
    })
}

fn sh(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c))
    {
        s.to_string()
    } else if s.chars().any(unprintable) {
        // Inside '…' an ESC or BEL would reach the terminal of whoever pastes the command:
        // ANSI-C quoting ($'…', bash, zsh, ksh and POSIX.1-2024 sh) spells them out instead.
        let mut out = String::from("$'");
        for c in s.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\'' => out.push_str("\\'"),
                c if unprintable(c) && (c as u32) < 0x100 => {
                    out.push_str(&format!("\\x{:02x}", c as u32))
                }
                c if unprintable(c) => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('\'');
        out
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Control characters and the invisible/bidi ones that make a pasted command read other
/// than it runs.
fn unprintable(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

fn env_name(profile: &str, what: &str) -> String {
    let p: String = profile
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("{p}_{what}")
}

/// A command that reproduces the profile's connection; secrets appear as `$VARIABLES`.
pub fn export(p: &Profile, format: ExportFormat) -> Result<String, MosquittoError> {
    let e = p.endpoint()?;
    let mut notes: Vec<String> = Vec::new();
    let mut args: Vec<String> = Vec::new();
    let file_or_placeholder = |m: &Material, what: &str, notes: &mut Vec<String>| match m {
        Material::File(path) => sh(&path.display().to_string()),
        Material::Keyring => {
            let var = env_name(&p.name, what);
            notes.push(format!(
                "# {what}: kept in the OS keyring; write it to a file and set {var}"
            ));
            format!("\"${var}\"")
        }
    };
    match format {
        ExportFormat::MosquittoSub => {
            args.push("mosquitto_sub".into());
            args.extend(["-h".into(), sh(&e.host), "-p".into(), e.port.to_string()]);
            if let Some(v) = p.mqtt_version {
                args.extend([
                    "-V".into(),
                    match v {
                        MqttVersion::V5 => "mqttv5".into(),
                        MqttVersion::V3_1_1 => "mqttv311".into(),
                    },
                ]);
            }
            if e.transport.uses_ws() {
                notes.push("# mosquitto_sub cannot connect over WebSockets; this command uses plain MQTT(S) to the same host".into());
            }
            if let Some(ca) = &p.tls.ca {
                args.extend([
                    "--cafile".into(),
                    file_or_placeholder(ca, "CA_FILE", &mut notes),
                ]);
            } else if e.transport.uses_tls() {
                args.push("--tls-use-os-certs".into());
            }
            if let Some(c) = &p.tls.client_cert {
                args.extend([
                    "--cert".into(),
                    file_or_placeholder(c, "CERT_FILE", &mut notes),
                ]);
            }
            if let Some(k) = &p.tls.client_key {
                args.extend([
                    "--key".into(),
                    file_or_placeholder(k, "KEY_FILE", &mut notes),
                ]);
            }
            if p.tls.p12.is_some() {
                notes.push("# mosquitto_sub does not read PKCS#12: split it with `openssl pkcs12 -in FILE -nokeys -out cert.pem` and `-nocerts -nodes -out key.pem`".into());
            }
            if p.tls.insecure {
                args.push("--insecure".into());
            }
            for a in &p.tls.alpn {
                args.extend(["--tls-alpn".into(), sh(a)]);
            }
            if let Some(u) = &p.username {
                args.extend(["-u".into(), sh(u)]);
            }
            match &p.password {
                Some(SecretSource::Env(v)) => args.extend(["-P".into(), format!("\"${v}\"")]),
                Some(SecretSource::Keyring | SecretSource::Typed(_)) => {
                    let var = env_name(&p.name, "PASSWORD");
                    notes.push(format!(
                        "# the password is kept in the OS keyring; set {var} before running"
                    ));
                    args.extend(["-P".into(), format!("\"${var}\"")]);
                }
                None => {}
            }
            if let Some(id) = &p.client_id {
                args.extend(["-i".into(), sh(id)]);
            }
            if let Some(k) = p.keep_alive {
                args.extend(["-k".into(), k.to_string()]);
            }
            if p.clean_start == Some(false) {
                args.push("-c".into());
            }
            if p.topics.is_empty() {
                args.extend(["-t".into(), sh("mqtt-doctor/#")]);
            }
            for t in &p.topics {
                args.extend(["-t".into(), sh(t)]);
            }
            args.push("-v".into());
        }
        ExportFormat::Openssl => {
            if !e.transport.uses_tls() {
                return Err(MosquittoError::NoTls {
                    profile: p.name.clone(),
                    transport: e.transport,
                });
            }
            args.push("openssl s_client".into());
            let host = if e.host.contains(':') {
                format!("[{}]", e.host)
            } else {
                e.host.clone()
            };
            args.extend(["-connect".into(), sh(&format!("{host}:{}", e.port))]);
            args.extend([
                "-servername".into(),
                sh(p.tls.sni.as_deref().unwrap_or(&e.host)),
            ]);
            if let Some(ca) = &p.tls.ca {
                args.extend([
                    "-CAfile".into(),
                    file_or_placeholder(ca, "CA_FILE", &mut notes),
                ]);
            }
            if let Some(c) = &p.tls.client_cert {
                args.extend([
                    "-cert".into(),
                    file_or_placeholder(c, "CERT_FILE", &mut notes),
                ]);
            }
            if let Some(k) = &p.tls.client_key {
                args.extend([
                    "-key".into(),
                    file_or_placeholder(k, "KEY_FILE", &mut notes),
                ]);
            }
            if let Some(Material::File(p12)) = &p.tls.p12 {
                notes.push(format!(
                    "# split the PKCS#12 first: openssl pkcs12 -in {} -nodes -out client.pem",
                    sh(&p12.display().to_string())
                ));
                args.extend(["-cert".into(), "client.pem".into()]);
            }
            if !p.tls.alpn.is_empty() {
                args.extend(["-alpn".into(), sh(&p.tls.alpn.join(","))]);
            }
            args.extend(["-verify_return_error".into(), "-brief".into()]);
        }
    }
    let mut out = notes.join("\n");
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(&args.join(" "));
    Ok(out)
}
