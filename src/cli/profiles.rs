//! Saved profiles on the command line: `profile list|show|add|edit|remove|rename|import|export`,
//! `check --profile/--all` (fleet checks) and `secrets status`. Secrets go to the OS keyring.

use clap::{Args, Subcommand, ValueEnum};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use super::{ConnArgs, InputError, VersionArg, build_plan};
use crate::certs;
use crate::diagnose::{self, ClientIdentity, Plan, Report};
use crate::profile::{
    HeaderValue, Material, MqttVersion, Profile, ProfileStore, SecretSource, Tls, Transport,
};
use crate::secrets::{Kind, Secret, SecretStore};
use crate::text::sanitize;

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// List the saved profiles.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show one profile (secrets are shown as where they are kept, never their values).
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Save a new profile from a URL and the same options as `check`.
    Add(AddArgs),
    /// Change fields of a saved profile (only the options given).
    Edit(EditArgs),
    /// Remove a profile and its keyring entries.
    Remove {
        name: String,
        /// Leave the profile's secrets in the keyring.
        #[arg(long)]
        keep_secrets: bool,
    },
    /// Rename a profile (its keyring entries move with it).
    Rename { old: String, new: String },
    /// Create a profile from a mosquitto_sub / mosquitto_pub command line (after `--`).
    Import {
        #[arg(long)]
        name: String,
        /// The command, e.g. -- mosquitto_sub -h host -p 8883 --cafile ca.pem -u alice -P pw -t 't/#'
        #[arg(last = true, required = true, allow_hyphen_values = true)]
        command: Vec<String>,
    },
    /// Print a command that reproduces the connection outside this tool.
    Export {
        name: String,
        #[arg(long = "as", value_enum, default_value = "mosquitto-sub")]
        format: ExportFormat,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    #[value(name = "mosquitto_sub", alias = "mosquitto-sub")]
    MosquittoSub,
    Openssl,
}

#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Which keyring backend is active and how long what it stores survives.
    Status {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct AddArgs {
    pub name: String,
    /// Broker URL (mqtt://, mqtts://, ws://, wss://).
    pub url: String,
    #[command(flatten)]
    pub conn: ConnArgs,
    #[command(flatten)]
    pub extra: ProfileExtra,
}

#[derive(Debug, Args)]
pub struct EditArgs {
    pub name: String,
    /// New broker URL.
    #[arg(long)]
    pub url: Option<String>,
    #[command(flatten)]
    pub conn: ConnArgs,
    #[command(flatten)]
    pub extra: ProfileExtra,
}

#[derive(Debug, Args, Default)]
pub struct ProfileExtra {
    /// Read the MQTT password from standard input and keep it in the OS keyring.
    #[arg(long, conflicts_with_all = ["password_env", "password_prompt"])]
    pub password_stdin: bool,
    /// Copy the client key (--key) or PKCS#12 file (--p12) into the OS keyring instead of
    /// referring to the file.
    #[arg(long)]
    pub key_to_keyring: bool,
    /// Free-form notes kept with the profile.
    #[arg(long)]
    pub notes: Option<String>,
}

/// Where profiles live: `--config`, then `MQTT_DOCTOR_CONFIG`, then the user's config dir.
pub fn config_path(config: Option<&Path>) -> Result<PathBuf, InputError> {
    match config {
        Some(p) => Ok(p.to_path_buf()),
        None => ProfileStore::default_path().map_err(|e| InputError(e.to_string())),
    }
}

fn load(config: Option<&Path>) -> Result<ProfileStore, InputError> {
    let path = config_path(config)?;
    ProfileStore::load(&path).map_err(|e| InputError(e.to_string()))
}

fn open_keyring() -> Result<SecretStore, InputError> {
    SecretStore::open().map_err(|e| {
        InputError(format!(
            "{e} Alternatives: refer to certificate and key files ({{ file = \"path\" }}) and pass passwords with --password-env VAR."
        ))
    })
}

/// The keyring, opened once and only when a profile needs it.
struct LazyKeyring(Option<SecretStore>);

impl LazyKeyring {
    fn get(&mut self) -> Result<&SecretStore, InputError> {
        if self.0.is_none() {
            self.0 = Some(open_keyring()?);
        }
        self.0
            .as_ref()
            .ok_or_else(|| InputError("the keyring could not be opened".into()))
    }
}

fn version_to_profile(v: VersionArg) -> MqttVersion {
    match v {
        VersionArg::V3 => MqttVersion::V3_1_1,
        VersionArg::V5 => MqttVersion::V5,
    }
}

/// Applies the command-line options of `add`/`edit` to a profile; secrets go to the keyring.
fn apply(
    p: &mut Profile,
    c: &ConnArgs,
    extra: &ProfileExtra,
    keyring: &mut LazyKeyring,
) -> Result<(), InputError> {
    if let Some(ca) = &c.ca {
        p.tls.ca = Some(Material::File(absolute(ca)));
    }
    if let Some(cert) = &c.cert {
        p.tls.client_cert = Some(Material::File(absolute(cert)));
    }
    if let Some(key) = &c.key {
        p.tls.client_key = Some(if extra.key_to_keyring {
            let bytes = std::fs::read(key).map_err(|e| {
                InputError(format!(
                    "--key {}: the file cannot be read ({e})",
                    key.display()
                ))
            })?;
            certs::load(&key.display().to_string(), &bytes, None)
                .or_else(|e| match e {
                    certs::CertError::PassphraseRequired { .. } => Ok(certs::Loaded {
                        certs: vec![],
                        key: None,
                        format: certs::Format::Pem,
                    }),
                    e => Err(e),
                })
                .map_err(|e| InputError(format!("--key: {e}")))?;
            let text = String::from_utf8(bytes).map_err(|_| {
                InputError(format!(
                    "--key {}: only PEM keys can be kept in the keyring; convert it with `openssl pkey -in KEY -out key.pem`",
                    key.display()
                ))
            })?;
            keyring
                .get()?
                .set(&p.name, Kind::PrivateKey, &Secret::new(text))
                .map_err(|e| InputError(e.to_string()))?;
            Material::Keyring
        } else {
            Material::File(absolute(key))
        });
    }
    if let Some(p12) = &c.p12 {
        p.tls.p12 = Some(if extra.key_to_keyring {
            use base64::Engine;
            let bytes = std::fs::read(p12).map_err(|e| {
                InputError(format!(
                    "--p12 {}: the file cannot be read ({e})",
                    p12.display()
                ))
            })?;
            let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
            keyring
                .get()?
                .set(&p.name, Kind::PrivateKey, &Secret::new(b64))
                .map_err(|e| InputError(e.to_string()))?;
            Material::Keyring
        } else {
            Material::File(absolute(p12))
        });
    }
    if let Some(var) = &c.passphrase_env {
        p.tls.passphrase = Some(SecretSource::Env(var.clone()));
    }
    if let Some(sni) = &c.sni {
        p.tls.sni = Some(sni.clone());
    }
    if let Some(v) = &c.min_tls {
        p.tls.min_tls_version = Some(if v == "1.3" {
            crate::profile::TlsVersion::V1_3
        } else {
            crate::profile::TlsVersion::V1_2
        });
    }
    if !c.alpn.is_empty() {
        p.tls.alpn = c.alpn.clone();
    }
    if c.insecure {
        p.tls.insecure = true;
    }
    if let Some(u) = &c.username {
        p.username = Some(u.clone());
    }
    if let Some(var) = &c.password_env {
        p.password = Some(SecretSource::Env(var.clone()));
    }
    let typed = if c.password_prompt {
        Some(super::prompt_password(
            "MQTT password (kept in the OS keyring): ",
        )?)
    } else if extra.password_stdin {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| InputError(format!("--password-stdin: {e}")))?;
        let s = s.trim_end_matches(['\n', '\r']).to_string();
        if s.is_empty() {
            return Err(InputError(
                "--password-stdin: standard input was empty".into(),
            ));
        }
        Some(Secret::new(s))
    } else {
        None
    };
    if let Some(secret) = typed {
        keyring
            .get()?
            .set(&p.name, Kind::Password, &secret)
            .map_err(|e| InputError(e.to_string()))?;
        p.password = Some(SecretSource::Keyring);
    }
    if let Some(id) = &c.client_id {
        p.client_id = Some(id.clone());
    }
    if let Some(k) = c.keep_alive {
        p.keep_alive = Some(k);
    }
    if let Some(v) = c.mqtt_version {
        p.mqtt_version = Some(version_to_profile(v));
    }
    if let Some(t) = c.topic.first() {
        p.topic = Some(t.clone());
    }
    if let Some(t) = c.timeout {
        p.timeout_secs = Some(t);
    }
    if let Some(n) = &extra.notes {
        p.notes = Some(n.clone());
    }
    if let Some(w) = &c.ws_path {
        p.ws_path = Some(w.clone());
    }
    if let Some(proxy) = &c.proxy {
        p.proxy = Some(proxy.clone());
    }
    if c.header.len() > 1 {
        return Err(InputError(
            "--header: a profile keeps one header value in the keyring; add further headers that are not secret to the profile file as literal values (ws_headers)".into(),
        ));
    }
    if let Some(h) = c.header.first() {
        let (name, value) = h
            .split_once(':')
            .ok_or_else(|| InputError(format!("--header {h:?}: write it as 'Name: value'")))?;
        keyring
            .get()?
            .set(&p.name, Kind::Header, &Secret::new(value.trim()))
            .map_err(|e| InputError(e.to_string()))?;
        p.ws_headers.clear();
        p.ws_headers
            .insert(name.trim().to_string(), HeaderValue::Keyring);
    }
    Ok(())
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

fn save(store: &mut ProfileStore) -> Result<(), InputError> {
    store.save().map_err(|e| InputError(e.to_string()))
}

/// `mqtt-doctor profile …`
pub fn profile(cmd: ProfileCommand, config: Option<&Path>) -> Result<i32, InputError> {
    let mut keyring = LazyKeyring(None);
    match cmd {
        ProfileCommand::List { json } => {
            let store = load(config)?;
            if json {
                let list: Vec<_> = store
                    .list()
                    .iter()
                    .map(|p| serde_json::json!({ "name": p.name, "url": target_url(p).ok() }))
                    .collect();
                println!(
                    "{}",
                    serde_json::to_string_pretty(&list).unwrap_or_default()
                );
            } else if store.list().is_empty() {
                println!(
                    "no profiles in {} (add one with `mqtt-doctor profile add NAME URL …`)",
                    store.path().display()
                );
            } else {
                for p in store.list() {
                    println!(
                        "{:<24} {}",
                        sanitize(&p.name),
                        sanitize(&target_url(p).unwrap_or_else(|e| e.0))
                    );
                }
            }
            Ok(0)
        }
        ProfileCommand::Show { name, json } => {
            let store = load(config)?;
            let p = get(&store, &name)?;
            if json {
                let value = serde_json::to_value(p).unwrap_or_default();
                let mut doc = serde_json::json!({ "name": p.name });
                if let (Some(obj), serde_json::Value::Object(fields)) = (doc.as_object_mut(), value)
                {
                    obj.extend(fields);
                }
                println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
            } else {
                let mut one = ProfileStore::load(
                    std::env::temp_dir()
                        .join(format!("mqtt-doctor-show-{}.toml", std::process::id())),
                )
                .map_err(|e| InputError(e.to_string()))?;
                one.upsert(p.clone())
                    .map_err(|e| InputError(e.to_string()))?;
                let text = one.to_toml().map_err(|e| InputError(e.to_string()))?;
                print!("{}", sanitize_lines(&text));
            }
            Ok(0)
        }
        ProfileCommand::Add(a) => {
            let mut store = load(config)?;
            if store.get(&a.name).is_some() {
                return Err(InputError(format!(
                    "profile {:?} already exists in {}; use `mqtt-doctor profile edit`",
                    a.name,
                    store.path().display()
                )));
            }
            // Check the URL and files now, so a profile that cannot run is never saved.
            build_plan(&a.url, &a.conn, &|_| Some(String::new()))?;
            let mut p = Profile::new(a.name.clone(), a.url.clone());
            apply(&mut p, &a.conn, &a.extra, &mut keyring)?;
            p.validate().map_err(|e| InputError(e.to_string()))?;
            store.upsert(p).map_err(|e| InputError(e.to_string()))?;
            save(&mut store)?;
            println!("saved profile {:?} in {}", a.name, store.path().display());
            Ok(0)
        }
        ProfileCommand::Edit(a) => {
            let mut store = load(config)?;
            let mut p = get(&store, &a.name)?.clone();
            if let Some(url) = &a.url {
                build_plan(url, &ConnArgs::default(), &|_| Some(String::new()))?;
                p.url = Some(url.clone());
                p.host = None;
                p.port = None;
                p.transport = None;
            }
            apply(&mut p, &a.conn, &a.extra, &mut keyring)?;
            p.validate().map_err(|e| InputError(e.to_string()))?;
            store.upsert(p).map_err(|e| InputError(e.to_string()))?;
            save(&mut store)?;
            println!("updated profile {:?}", a.name);
            Ok(0)
        }
        ProfileCommand::Remove { name, keep_secrets } => {
            let mut store = load(config)?;
            let p = store.remove(&name).map_err(|e| InputError(e.to_string()))?;
            save(&mut store)?;
            if keep_secrets || p.keyring_entries().is_empty() {
                println!("removed profile {name:?}");
            } else {
                let n = keyring
                    .get()?
                    .delete_profile(&name)
                    .map_err(|e| InputError(e.to_string()))?;
                println!("removed profile {name:?} and {n} keyring entries");
            }
            Ok(0)
        }
        ProfileCommand::Rename { old, new } => {
            let mut store = load(config)?;
            let has_secrets = !get(&store, &old)?.keyring_entries().is_empty();
            store
                .rename(&old, &new)
                .map_err(|e| InputError(e.to_string()))?;
            if has_secrets {
                keyring
                    .get()?
                    .move_profile(&old, &new)
                    .map_err(|e| InputError(e.to_string()))?;
            }
            save(&mut store)?;
            println!("renamed profile {old:?} to {new:?}");
            Ok(0)
        }
        ProfileCommand::Import { name, command } => {
            let mut store = load(config)?;
            if store.get(&name).is_some() {
                return Err(InputError(format!("profile {name:?} already exists")));
            }
            let imported = import_mosquitto(&name, &command)?;
            let mut p = imported.profile;
            if let Some(pw) = imported.password {
                keyring
                    .get()?
                    .set(&name, Kind::Password, &pw)
                    .map_err(|e| InputError(e.to_string()))?;
                p.password = Some(SecretSource::Keyring);
            }
            p.validate().map_err(|e| InputError(e.to_string()))?;
            store.upsert(p).map_err(|e| InputError(e.to_string()))?;
            save(&mut store)?;
            println!("saved profile {name:?} from {}", sanitize(&command[0]));
            if !imported.not_imported.is_empty() {
                eprintln!(
                    "not imported (kept in the profile's notes): {}",
                    sanitize(&imported.not_imported.join(" "))
                );
            }
            Ok(0)
        }
        ProfileCommand::Export { name, format } => {
            let store = load(config)?;
            let p = get(&store, &name)?;
            println!("{}", export(p, format)?);
            Ok(0)
        }
    }
}

fn sanitize_lines(text: &str) -> String {
    text.lines().map(|l| format!("{}\n", sanitize(l))).collect()
}

fn get<'a>(store: &'a ProfileStore, name: &str) -> Result<&'a Profile, InputError> {
    store.get(name).ok_or_else(|| {
        let names: Vec<&str> = store.list().iter().map(|p| p.name.as_str()).collect();
        InputError(format!(
            "no profile named {name:?} in {}{}",
            store.path().display(),
            if names.is_empty() {
                String::new()
            } else {
                format!(" (profiles: {})", names.join(", "))
            }
        ))
    })
}

/// The URL a profile connects to.
pub fn target_url(p: &Profile) -> Result<String, InputError> {
    if let Some(u) = &p.url {
        return Ok(u.clone());
    }
    let e = p.endpoint().map_err(|e| InputError(e.to_string()))?;
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

fn material_path(m: &Option<Material>) -> Option<PathBuf> {
    match m {
        Some(Material::File(p)) => Some(p.clone()),
        _ => None,
    }
}

/// Turns a profile (plus command-line overrides) into a plan; secrets come from the keyring or
/// the environment.
fn plan_for(p: &Profile, over: &ConnArgs, keyring: &mut LazyKeyring) -> Result<Plan, InputError> {
    let err = |e: InputError| InputError(format!("profile {:?}: {}", p.name, e.0));
    let url = target_url(p).map_err(err)?;
    let tls = &p.tls;
    let mut c = ConnArgs {
        ca: material_path(&tls.ca),
        cert: material_path(&tls.client_cert),
        key: material_path(&tls.client_key),
        p12: material_path(&tls.p12),
        passphrase_env: match &tls.passphrase {
            Some(SecretSource::Env(v)) => Some(v.clone()),
            _ => None,
        },
        sni: tls.sni.clone(),
        alpn: tls.alpn.clone(),
        insecure: tls.insecure,
        username: p.username.clone(),
        password_env: match &p.password {
            Some(SecretSource::Env(v)) => Some(v.clone()),
            _ => None,
        },
        client_id: p.client_id.clone(),
        keep_alive: p.keep_alive,
        mqtt_version: p.mqtt_version.map(|v| match v {
            MqttVersion::V3_1_1 => VersionArg::V3,
            MqttVersion::V5 => VersionArg::V5,
        }),
        topic: p.topic.iter().cloned().collect(),
        timeout: p.timeout_secs,
        ws_path: p.ws_path.clone(),
        proxy: p.proxy.clone(),
        ..ConnArgs::default()
    };
    for (name, value) in &p.ws_headers {
        let value = match value {
            HeaderValue::Literal(v) => v.clone(),
            HeaderValue::Keyring => keyring
                .get()?
                .get(&p.name, Kind::Header)
                .map_err(|e| InputError(e.to_string()))?
                .map(|s| s.expose().to_string())
                .ok_or_else(|| {
                    InputError(format!(
                        "profile {:?}: the value of header {name} is missing from the keyring",
                        p.name
                    ))
                })?,
        };
        c.header.push(format!("{name}: {value}"));
    }
    // Command-line options override the profile for this run.
    macro_rules! over {
        ($($f:ident),*) => { $( if over.$f.is_some() { c.$f = over.$f.clone(); } )* };
    }
    over!(
        ca,
        cert,
        key,
        p12,
        passphrase_env,
        sni,
        username,
        password_env,
        client_id,
        keep_alive,
        mqtt_version,
        timeout,
        dns_server,
        min_tls,
        ws_path,
        proxy,
        proxy_password_env
    );
    if !over.header.is_empty() {
        c.header = over.header.clone();
    }
    if !over.alpn.is_empty() {
        c.alpn = over.alpn.clone();
    }
    if !over.topic.is_empty() {
        c.topic = over.topic.clone();
    }
    c.insecure |= over.insecure;
    c.no_publish |= over.no_publish;
    c.password_prompt = over.password_prompt;
    let env = |k: &str| std::env::var(k).ok();
    if c.min_tls.is_none() {
        c.min_tls = tls.min_tls_version.map(|v| v.as_str().to_string());
    }
    let mut plan = build_plan(&url, &c, &env).map_err(err)?;
    if let Some(clean) = p.clean_start {
        plan.mqtt.clean_start = clean;
    }
    let passphrase = match (&tls.passphrase, &over.passphrase_env) {
        (Some(SecretSource::Keyring), None) => keyring
            .get()?
            .get(&p.name, Kind::Passphrase)
            .map_err(|e| InputError(e.to_string()))?,
        _ => c
            .passphrase_env
            .as_ref()
            .and_then(|v| std::env::var(v).ok())
            .map(Secret::new),
    };
    if matches!(p.password, Some(SecretSource::Keyring))
        && over.password_env.is_none()
        && !over.password_prompt
    {
        let pw = keyring
            .get()?
            .get(&p.name, Kind::Password)
            .map_err(|e| InputError(e.to_string()))?
            .ok_or_else(|| {
                InputError(format!(
                    "profile {:?}: the password is marked as kept in the keyring, but the keyring has no entry {}; store it again with `mqtt-doctor profile edit {} --password-prompt`",
                    p.name,
                    Kind::Password.account(&p.name),
                    p.name
                ))
            })?;
        plan.mqtt.password = Some(pw);
    }
    let in_keyring = |m: &Option<Material>| matches!(m, Some(Material::Keyring));
    if over.cert.is_none() && over.p12.is_none() {
        let label = |k: Kind| format!("keyring entry {}", k.account(&p.name));
        let secret = |keyring: &mut LazyKeyring, k: Kind| -> Result<Secret, InputError> {
            keyring
                .get()?
                .get(&p.name, k)
                .map_err(|e| InputError(e.to_string()))?
                .ok_or_else(|| {
                    InputError(format!(
                        "profile {:?}: {} is missing from the keyring",
                        p.name,
                        label(k)
                    ))
                })
        };
        let pass = passphrase.as_ref().map(|s| s.expose());
        if in_keyring(&tls.p12) {
            use base64::Engine;
            let b64 = secret(keyring, Kind::PrivateKey)?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64.expose())
                .map_err(|_| InputError(format!("{} is damaged", label(Kind::PrivateKey))))?;
            let loaded = certs::load(&label(Kind::PrivateKey), &bytes, pass)
                .map_err(|e| InputError(e.to_string()))?;
            if let Some(key) = loaded.key {
                plan.tls.client = Some(ClientIdentity {
                    source: label(Kind::PrivateKey),
                    certs: loaded.certs,
                    key,
                });
            }
        } else if in_keyring(&tls.client_key) || in_keyring(&tls.client_cert) {
            let certs_der = match &tls.client_cert {
                Some(Material::Keyring) => {
                    let pem = secret(keyring, Kind::Certificate)?;
                    certs::load_certificates(
                        &label(Kind::Certificate),
                        pem.expose().as_bytes(),
                        None,
                    )
                    .map_err(|e| InputError(e.to_string()))?
                }
                Some(Material::File(path)) => {
                    certs::load_file(path, None)
                        .map_err(|e| InputError(e.to_string()))?
                        .certs
                }
                None => {
                    return Err(InputError(format!(
                        "profile {:?}: tls.client_key is set but tls.client_cert is not",
                        p.name
                    )));
                }
            };
            let key = match &tls.client_key {
                Some(Material::Keyring) => {
                    let pem = secret(keyring, Kind::PrivateKey)?;
                    certs::load(&label(Kind::PrivateKey), pem.expose().as_bytes(), pass)
                        .map_err(|e| InputError(e.to_string()))?
                        .key
                }
                Some(Material::File(path)) => {
                    certs::load_file(path, pass)
                        .map_err(|e| InputError(e.to_string()))?
                        .key
                }
                None => None,
            };
            let key = key
                .ok_or_else(|| InputError(format!("profile {:?}: no client key found", p.name)))?;
            plan.tls.client = Some(ClientIdentity {
                source: format!("profile {} (keyring)", p.name),
                certs: certs_der,
                key,
            });
        }
    }
    Ok(plan)
}

/// A profile's plan without command-line overrides: the exporter's profile → plan step until
/// the one core API for every front lands.
pub(crate) fn profile_plan(p: &Profile) -> Result<Plan, InputError> {
    plan_for(p, &ConnArgs::default(), &mut LazyKeyring(None))
}

/// `check --profile NAME…` / `check --all`.
pub async fn check_profiles(
    names: &[String],
    all: bool,
    over: &ConnArgs,
    config: Option<&Path>,
    json: bool,
    verbose: bool,
    concurrency: usize,
) -> Result<i32, InputError> {
    let store = load(config)?;
    let chosen: Vec<Profile> = if all {
        store.list().into_iter().cloned().collect()
    } else {
        names
            .iter()
            .map(|n| get(&store, n).cloned())
            .collect::<Result<_, _>>()?
    };
    if chosen.is_empty() {
        return Err(InputError(format!(
            "no profiles in {}",
            store.path().display()
        )));
    }
    let mut keyring = LazyKeyring(None);
    if chosen.len() == 1 && !all {
        let mut plan = plan_for(&chosen[0], over, &mut keyring)?;
        if over.password_prompt {
            plan.mqtt.password = Some(super::prompt_password("MQTT password: ")?);
        }
        return super::run_single(plan, json, verbose).await;
    }
    let mut plans: Vec<(String, Result<Plan, String>)> = Vec::new();
    for p in &chosen {
        plans.push((
            p.name.clone(),
            plan_for(p, over, &mut keyring).map_err(|e| e.0),
        ));
    }
    let started = Instant::now();
    let results = run_fleet(plans, concurrency.max(1)).await;
    let total_ms = started.elapsed().as_millis() as u64;
    let mut code = 0;
    for (_, r) in &results {
        match r {
            Err(_) => code = 2,
            Ok(rep) if !rep.verdict.ok && code == 0 => code = 1,
            _ => {}
        }
    }
    if json {
        let doc: Vec<_> = results
            .iter()
            .map(|(name, r)| match r {
                Ok(rep) => serde_json::json!({ "profile": name, "report": rep }),
                Err(e) => serde_json::json!({ "profile": name, "error": e }),
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        print!("{}", fleet_table(&results, total_ms));
    }
    Ok(code)
}

/// Runs every plan, at most `concurrency` at a time; results come back in the given order.
pub async fn run_fleet(
    plans: Vec<(String, Result<Plan, String>)>,
    concurrency: usize,
) -> Vec<(String, Result<Report, String>)> {
    let sem = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let mut set = tokio::task::JoinSet::new();
    let n = plans.len();
    for (i, (name, plan)) in plans.into_iter().enumerate() {
        let sem = sem.clone();
        set.spawn(async move {
            let result = match plan {
                Err(e) => Err(e),
                Ok(plan) => {
                    let _permit = sem.acquire_owned().await;
                    let (tx, _rx) = tokio::sync::mpsc::channel(1);
                    drop(_rx);
                    Ok(diagnose::run(plan, tx).await)
                }
            };
            (i, name, result)
        });
    }
    let mut out: Vec<Option<(String, Result<Report, String>)>> = (0..n).map(|_| None).collect();
    while let Some(joined) = set.join_next().await {
        if let Ok((i, name, r)) = joined {
            out[i] = Some((name, r));
        }
    }
    out.into_iter().flatten().collect()
}

fn fleet_table(results: &[(String, Result<Report, String>)], total_ms: u64) -> String {
    let width = results
        .iter()
        .map(|(n, _)| n.chars().count())
        .max()
        .unwrap_or(7)
        .max(7);
    let mut out = format!(
        "{:<width$}  {:<7} {:<6} {:<36} {:>8}\n",
        "PROFILE", "VERDICT", "STAGE", "CAUSE", "TIME"
    );
    let (mut ok, mut failed) = (0, 0);
    for (name, r) in results {
        match r {
            Ok(rep) => {
                let ms: u64 = rep.stages.iter().map(|s| s.duration_ms).sum();
                if rep.verdict.ok {
                    ok += 1;
                } else {
                    failed += 1;
                }
                out.push_str(&format!(
                    "{:<width$}  {:<7} {:<6} {:<36} {:>8}\n",
                    sanitize(name),
                    if rep.verdict.ok { "ok" } else { "failed" },
                    rep.verdict.stage.map(|s| s.id()).unwrap_or("-"),
                    rep.verdict.cause.unwrap_or("-"),
                    crate::report::duration_text(ms)
                ));
            }
            Err(e) => {
                failed += 1;
                out.push_str(&format!(
                    "{:<width$}  {:<7} {}\n",
                    sanitize(name),
                    "error",
                    sanitize(e)
                ));
            }
        }
    }
    out.push_str(&format!(
        "\n{} profiles: {ok} ok, {failed} failed, in {}\n",
        results.len(),
        crate::report::duration_text(total_ms)
    ));
    out
}

/// `mqtt-doctor secrets status`
pub fn secrets_status(json: bool) -> i32 {
    let status = crate::secrets::status();
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&status).unwrap_or_default()
        );
    } else {
        println!("{}", sanitize(&status.summary));
        if let Some(p) = &status.persistence {
            println!("{}", sanitize(p));
        }
        for probe in &status.probes {
            println!(
                "  {:<28} {}",
                probe.backend.describe(),
                sanitize(&probe.detail)
            );
        }
        if status.backend.is_none() {
            for alt in &status.alternatives {
                println!("  instead: {}", sanitize(alt));
            }
        }
    }
    if status.backend.is_some() { 0 } else { 1 }
}

/// What an imported mosquitto_sub/pub command line becomes.
pub struct Imported {
    pub profile: Profile,
    pub password: Option<Secret>,
    /// Flags that have no place in a profile, reported and kept in the notes.
    pub not_imported: Vec<String>,
}

/// Parses a mosquitto_sub / mosquitto_pub command line into a profile.
pub fn import_mosquitto(name: &str, argv: &[String]) -> Result<Imported, InputError> {
    let prog = argv.first().map(String::as_str).unwrap_or("");
    let base = Path::new(prog)
        .file_name()
        .and_then(|s| s.to_str())
        .unwrap_or("");
    if !matches!(base, "mosquitto_sub" | "mosquitto_pub" | "mosquitto_rr") {
        return Err(InputError(format!(
            "import: expected a mosquitto_sub or mosquitto_pub command after --, got {:?}",
            sanitize(prog)
        )));
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
        let mut value = |flag: &str| -> Result<String, InputError> {
            it.next()
                .cloned()
                .ok_or_else(|| InputError(format!("import: {flag} needs a value")))
        };
        match flag.as_str() {
            "-h" | "--host" => host = Some(value(flag)?),
            "-p" | "--port" => {
                let v = value(flag)?;
                port =
                    Some(v.parse().map_err(|_| {
                        InputError(format!("import: -p {v:?} is not a port number"))
                    })?);
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
                p.keep_alive = Some(v.parse().map_err(|_| {
                    InputError(format!("import: -k {v:?} is not a number of seconds"))
                })?);
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
        if u.contains('@') {
            return Err(InputError(
                "import: -L URLs with user information are not imported (the password would be on the command line); give -u and -P instead".into(),
            ));
        }
        p.url = Some(u);
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
    if let Some(t) = topics.first() {
        p.topic = Some(t.clone());
    }
    if topics.len() > 1 {
        for t in &topics[1..] {
            not_imported.push(format!("-t {t}"));
        }
    }
    if !not_imported.is_empty() {
        p.notes = Some(format!(
            "imported from {base}; not imported: {}",
            not_imported.join(" ")
        ));
    }
    if p.tls == Tls::default() {
        p.tls = Tls::default();
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
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
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
pub fn export(p: &Profile, format: ExportFormat) -> Result<String, InputError> {
    let e = p.endpoint().map_err(|e| InputError(e.to_string()))?;
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
                Some(SecretSource::Keyring) => {
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
            args.extend([
                "-t".into(),
                sh(p.topic.as_deref().unwrap_or("mqtt-doctor/#")),
                "-v".into(),
            ]);
        }
        ExportFormat::Openssl => {
            if !e.transport.uses_tls() {
                return Err(InputError(format!(
                    "profile {:?} uses {} (no TLS): there is nothing for openssl s_client to test",
                    p.name, e.transport
                )));
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
