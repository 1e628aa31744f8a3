//! Saved profiles on the command line: `profile list|show|add|edit|remove|rename|import|export`,
//! `check --profile/--all` (fleet checks) and `secrets status`. Secrets go to the OS keyring.

use clap::{Args, Subcommand, ValueEnum};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use super::{ConnArgs, InputError, plan_error};
use crate::certs;
use crate::diagnose::{self, Plan, Report};
use crate::profile::{
    self, AsyncKeyring, HeaderValue, KeyringOnDemand, Material, Overrides, Profile, ProfileStore,
    SecretSource,
};
use crate::secrets::{Kind, Secret};
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
    /// Write a key, certificate, .p12 or passphrase kept in the keyring to a file (mode 0600).
    Export(super::secrets_export::ExportArgs),
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
    /// Ask for the proxy password on the terminal (masked) and keep it in the OS keyring.
    #[arg(long, conflicts_with = "proxy_password_env")]
    pub proxy_password_prompt: bool,
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

pub(super) fn load(config: Option<&Path>) -> Result<ProfileStore, InputError> {
    let path = config_path(config)?;
    ProfileStore::load(&path).map_err(|e| InputError(e.to_string()))
}

/// Load every profile; the ones that cannot be used are kept with their error.
fn load_keeping_broken(config: Option<&Path>) -> Result<ProfileStore, InputError> {
    let path = config_path(config)?;
    ProfileStore::load_keeping_broken(&path).map_err(|e| InputError(e.to_string()))
}

/// Load to change: holds the writers' lock until the store is dropped (after the save).
fn load_for_update(config: Option<&Path>) -> Result<ProfileStore, InputError> {
    let path = config_path(config)?;
    let store = ProfileStore::load_for_update(&path).map_err(|e| InputError(e.to_string()))?;
    if let Some(target) = store.symlink_target() {
        eprintln!(
            "note: {} is a symlink into another folder; saving writes {}",
            sanitize(&path.display().to_string()),
            sanitize(&target.display().to_string())
        );
    }
    Ok(store)
}

/// Secrets `add`/`edit`/`import` will put in the keyring once the profile is saved.
type Pending = profile::PendingSecrets;

/// Saves `p`, then its pending keyring entries (the core's one rule for that order).
fn save_with_secrets(
    store: &mut ProfileStore,
    p: Profile,
    previous: Option<Profile>,
    pending: Pending,
    k: &KeyringOnDemand,
) -> Result<(), InputError> {
    profile::save_with_secrets(store, p, previous, pending, k).map_err(InputError)
}

/// Applies the command-line options of `add`/`edit` to a profile through the core layering;
/// then secrets the user asked to keep are returned to be written to the keyring after the
/// save ([`save_with_secrets`]), once the layered profile has been checked (URL, files, options).
fn apply(p: &mut Profile, c: &ConnArgs, extra: &ProfileExtra) -> Result<Pending, InputError> {
    let mut pending = Pending::new();
    if c.header.len() > 1 {
        return Err(InputError(
            "--header: a profile keeps one header value in the keyring; add further headers that are not secret to the profile file as literal values (ws_headers)".into(),
        ));
    }
    Overrides::from(c)
        .absolute_paths()
        .apply(p)
        .map_err(plan_error)?;
    check_runs(p)?;
    if extra.key_to_keyring {
        if let Some(key) = &c.key {
            let text = key_text(key)?;
            pending.push((Kind::PrivateKey, Secret::new(text)));
            p.tls.client_key = Some(Material::Keyring);
        }
        if let Some(p12) = &c.p12 {
            use base64::Engine;
            let bytes = certs::read_checked(p12, certs::MAX_CERT_FILE).map_err(|e| {
                InputError(format!(
                    "--p12 {}: the file cannot be read ({e})",
                    p12.display()
                ))
            })?;
            let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
            pending.push((Kind::PrivateKey, Secret::new(b64)));
            p.tls.p12 = Some(Material::Keyring);
        }
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
        pending.push((Kind::Password, secret));
        p.password = Some(SecretSource::Keyring);
    }
    if extra.proxy_password_prompt {
        if p.proxy.is_none() {
            return Err(InputError(
                "--proxy-password-prompt needs --proxy (in the profile or on this command)".into(),
            ));
        }
        let secret = super::prompt_password("Proxy password (kept in the OS keyring): ")?;
        pending.push((Kind::ProxyPassword, secret));
        p.proxy_password = Some(SecretSource::Keyring);
    }
    if !c.header.is_empty() {
        // The one header given moves to the keyring: header values are often tokens.
        let literal: Vec<(String, String)> = p
            .ws_headers
            .iter()
            .filter_map(|(n, v)| match v {
                HeaderValue::Literal(v) => Some((n.clone(), v.clone())),
                HeaderValue::Keyring => None,
            })
            .collect();
        for (name, value) in literal {
            pending.push((Kind::Header, Secret::new(value)));
            p.ws_headers.insert(name, HeaderValue::Keyring);
        }
    }
    if let Some(n) = &extra.notes {
        p.notes = Some(n.clone());
    }
    Ok(pending)
}

/// A key file's PEM text (it is checked to be a key first; an encrypted one is fine).
fn key_text(key: &Path) -> Result<String, InputError> {
    let bytes = certs::read_checked(key, certs::MAX_CERT_FILE).map_err(|e| {
        InputError(format!(
            "--key {}: the file cannot be read ({e})",
            key.display()
        ))
    })?;
    certs::load(&key.display().to_string(), &bytes, None)
        .map(|_| ())
        .or_else(|e| match e {
            certs::CertError::PassphraseRequired { .. } => Ok(()),
            e => Err(e),
        })
        .map_err(|e| InputError(format!("--key: {e}")))?;
    String::from_utf8(bytes).map_err(|_| {
        InputError(format!(
            "--key {}: only PEM keys can be kept in the keyring; convert it with `openssl pkey -in KEY -out key.pem`",
            key.display()
        ))
    })
}

/// Checks that a profile about to be saved can run ([`profile::check_runs`]).
fn check_runs(p: &Profile) -> Result<(), InputError> {
    profile::check_runs(p).map_err(plan_error)
}

/// Refuses files a profile names that exist but are not regular files.
fn refuse_special_files(p: &Profile) -> Result<(), InputError> {
    let files = [&p.tls.ca, &p.tls.client_cert, &p.tls.client_key, &p.tls.p12];
    for path in files.into_iter().flatten().filter_map(|m| match m {
        Material::File(path) => Some(path),
        Material::Keyring => None,
    }) {
        if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
            return Err(InputError(format!(
                "{}: it is not a regular file (a FIFO, a device or a directory); name the certificate or key file itself",
                sanitize(&path.display().to_string())
            )));
        }
    }
    Ok(())
}

/// `mqtt-doctor profile …`
pub fn profile(cmd: ProfileCommand, config: Option<&Path>) -> Result<i32, InputError> {
    let k = KeyringOnDemand::new();
    match cmd {
        ProfileCommand::List { json } => {
            // A profile that cannot be used is listed with its error; it never hides the
            // others (exit code 2 says one could not be read).
            let store = load_keeping_broken(config)?;
            let broken = store.broken();
            if json {
                let mut list: Vec<(String, serde_json::Value)> = store
                    .list()
                    .iter()
                    .map(|p| {
                        let doc = serde_json::json!({ "name": p.name, "url": p.target_url().ok() });
                        (p.name.clone(), doc)
                    })
                    .collect();
                list.extend(broken.iter().map(|b| {
                    let doc = serde_json::json!({
                        "name": b.name,
                        "url": serde_json::Value::Null,
                        "error": b.error.to_string(),
                    });
                    (b.name.clone(), doc)
                }));
                list.sort_by(|a, b| a.0.cmp(&b.0));
                let list: Vec<_> = list.into_iter().map(|(_, d)| d).collect();
                println!("{}", crate::text::json(&list));
            } else if store.names().is_empty() {
                println!(
                    "no profiles in {} (add one with `mqtt-doctor profile add NAME URL …`)",
                    store.path().display()
                );
            } else {
                for name in store.names() {
                    let line = match store.get(name) {
                        Some(p) => p.target_url().unwrap_or_else(|e| e.to_string()),
                        None => broken
                            .iter()
                            .find(|b| b.name == name)
                            .map(|b| format!("cannot load: {}", b.error))
                            .unwrap_or_default(),
                    };
                    println!("{:<24} {}", sanitize(name), sanitize(&line));
                }
            }
            Ok(if broken.is_empty() { 0 } else { 2 })
        }
        ProfileCommand::Show { name, json } => {
            let store = load(config)?;
            let p = &hide_header_values(get(&store, &name)?);
            if json {
                let value = serde_json::to_value(p).unwrap_or_default();
                let mut doc = serde_json::json!({ "name": p.name });
                if let (Some(obj), serde_json::Value::Object(fields)) = (doc.as_object_mut(), value)
                {
                    obj.extend(fields);
                }
                println!("{}", crate::text::json(&doc));
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
            let mut store = load_for_update(config)?;
            if store.get(&a.name).is_some() {
                return Err(InputError(format!(
                    "profile {:?} already exists in {}; use `mqtt-doctor profile edit`",
                    a.name,
                    store.path().display()
                )));
            }
            // apply() checks the URL and files first, so a profile that cannot run is never
            // saved.
            let mut p = Profile::new(a.name.clone(), a.url.clone());
            let pending = apply(&mut p, &a.conn, &a.extra)?;
            p.validate().map_err(|e| InputError(e.to_string()))?;
            save_with_secrets(&mut store, p, None, pending, &k)?;
            println!("saved profile {:?} in {}", a.name, store.path().display());
            Ok(0)
        }
        ProfileCommand::Edit(a) => {
            let mut store = load_for_update(config)?;
            let previous = get(&store, &a.name)?.clone();
            let mut p = previous.clone();
            if let Some(url) = &a.url {
                p.url = Some(url.clone());
                p.host = None;
                p.port = None;
                p.transport = None;
            }
            let pending = apply(&mut p, &a.conn, &a.extra)?;
            p.validate().map_err(|e| InputError(e.to_string()))?;
            save_with_secrets(&mut store, p, Some(previous), pending, &k)?;
            println!("updated profile {:?}", a.name);
            Ok(0)
        }
        ProfileCommand::Remove { name, keep_secrets } => {
            let mut store = load_for_update(config)?;
            get(&store, &name)?;
            let n = profile::remove_with_secrets(&mut store, &name, keep_secrets, &k)
                .map_err(InputError)?;
            if n == 0 {
                println!("removed profile {name:?}");
            } else {
                println!("removed profile {name:?} and {n} keyring entries");
            }
            Ok(0)
        }
        ProfileCommand::Rename { old, new } => {
            let mut store = load_for_update(config)?;
            get(&store, &old)?;
            if old == new {
                // Moving the secrets onto themselves would delete them.
                println!("profile {old:?} already has that name; nothing changed");
                return Ok(0);
            }
            profile::rename_with_secrets(&mut store, &old, &new, &k).map_err(InputError)?;
            println!("renamed profile {old:?} to {new:?}");
            Ok(0)
        }
        ProfileCommand::Import { name, command } => {
            let mut store = load_for_update(config)?;
            if store.get(&name).is_some() {
                return Err(InputError(format!("profile {name:?} already exists")));
            }
            let imported = profile::import_mosquitto(&name, &command)
                .map_err(|e| InputError(e.to_string()))?;
            let mut p = imported.profile;
            let mut pending = Pending::new();
            if let Some(pw) = imported.password {
                pending.push((Kind::Password, pw));
                p.password = Some(SecretSource::Keyring);
            }
            p.validate().map_err(|e| InputError(e.to_string()))?;
            // The command may come from another machine, so a missing file is fine; one that
            // exists but is a FIFO or a device (which would hang or never end) is not.
            refuse_special_files(&p)?;
            save_with_secrets(&mut store, p, None, pending, &k)?;
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
            let format = match format {
                ExportFormat::MosquittoSub => profile::ExportFormat::MosquittoSub,
                ExportFormat::Openssl => profile::ExportFormat::Openssl,
            };
            let text = profile::export(p, format).map_err(|e| InputError(e.to_string()))?;
            println!("{text}");
            Ok(0)
        }
    }
}

/// Header values are often tokens (`Authorization = "Bearer …"`): `show` promises never to
/// print secret values, so literal ones are replaced by their length.
fn hide_header_values(p: &Profile) -> Profile {
    let mut shown = p.clone();
    for v in shown.ws_headers.values_mut() {
        if let HeaderValue::Literal(text) = v {
            *v = HeaderValue::Literal(format!("(hidden, {} characters)", text.chars().count()));
        }
    }
    shown
}

fn sanitize_lines(text: &str) -> String {
    text.lines().map(|l| format!("{}\n", sanitize(l))).collect()
}

pub(super) fn get<'a>(store: &'a ProfileStore, name: &str) -> Result<&'a Profile, InputError> {
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

/// The options of `check --profile`, as overrides for each profile; `--password-prompt` asks
/// once and the typed password is used for this run only.
pub(super) fn run_overrides(over: &ConnArgs) -> Result<Overrides, InputError> {
    let mut o = Overrides::from(over);
    if over.password_prompt {
        o.password = Some(SecretSource::Typed(super::prompt_password(
            "MQTT password: ",
        )?));
    }
    Ok(o)
}

/// One profile with this run's overrides layered on, through the core resolver; keyring
/// calls run off the async runtime with a deadline.
async fn plan_for(
    p: &Profile,
    over: &Overrides,
    keyring: &AsyncKeyring,
) -> Result<Plan, InputError> {
    let mut layered = p.clone();
    over.apply(&mut layered)
        .map_err(|e| InputError(e.to_string()))?;
    let env = |k: &str| std::env::var(k).ok();
    profile::resolve_async(&layered, &env, keyring)
        .await
        .map_err(|e| InputError(e.to_string()))
}

/// `check --profile NAME…` / `check --all`.
pub async fn check_profiles(
    names: &[String],
    all: bool,
    over: &ConnArgs,
    config: Option<&Path>,
    format: crate::report::Format,
    verbose: bool,
    concurrency: usize,
) -> Result<i32, InputError> {
    // A profile that cannot be read (bad URL, unknown key…) is that profile's own error
    // line; the others still run.
    let store = load_keeping_broken(config)?;
    let chosen: Vec<Result<Profile, (String, String)>> = if all {
        store
            .names()
            .into_iter()
            .map(|n| match store.get(n) {
                Some(p) => Ok(p.clone()),
                None => Err((n.to_string(), broken_error(&store, n))),
            })
            .collect()
    } else {
        names
            .iter()
            .map(|n| {
                if store.broken().iter().any(|b| &b.name == n) {
                    Ok(Err((n.clone(), broken_error(&store, n))))
                } else {
                    get(&store, n).map(|p| Ok(p.clone()))
                }
            })
            .collect::<Result<_, _>>()?
    };
    if chosen.is_empty() {
        return Err(InputError(format!(
            "no profiles in {}",
            store.path().display()
        )));
    }
    let over = run_overrides(over)?;
    let keyring = AsyncKeyring::new();
    if chosen.len() == 1 && !all {
        return match &chosen[0] {
            Ok(p) => {
                let plan = plan_for(p, &over, &keyring).await?;
                super::run_single(plan, format, verbose).await
            }
            Err((_, e)) => Err(InputError(e.clone())),
        };
    }
    let mut plans: Vec<(String, Result<Plan, String>)> = Vec::new();
    for p in &chosen {
        plans.push(match p {
            Ok(p) => (
                p.name.clone(),
                plan_for(p, &over, &keyring).await.map_err(|e| e.0),
            ),
            Err((name, e)) => (name.clone(), Err(e.clone())),
        });
    }
    let started = Instant::now();
    let concurrency = super::fleet_concurrency(concurrency.max(1));
    let results = run_fleet(plans, concurrency).await;
    let total_ms = started.elapsed().as_millis() as u64;
    let mut code = 0;
    for (_, r) in &results {
        match r {
            Err(_) => code = 2,
            Ok(rep) if !rep.verdict.ok && code == 0 => code = 1,
            _ => {}
        }
    }
    print!("{}", fleet_output(&results, total_ms, format));
    Ok(code)
}

/// A fleet check's results in one of the three formats.
fn fleet_output(
    results: &[(String, Result<Report, String>)],
    total_ms: u64,
    format: crate::report::Format,
) -> String {
    match format {
        crate::report::Format::Json => {
            let doc: Vec<_> = results
                .iter()
                .map(|(name, r)| match r {
                    Ok(rep) => serde_json::json!({ "profile": name, "report": rep }),
                    Err(e) => serde_json::json!({ "profile": name, "error": e }),
                })
                .collect();
            format!("{}\n", crate::text::json(&doc))
        }
        crate::report::Format::Markdown => crate::report::fleet_markdown(results, total_ms),
        crate::report::Format::Text => crate::report::fleet_text(results, total_ms),
    }
}

/// The sentence of a profile that cannot be read.
fn broken_error(store: &ProfileStore, name: &str) -> String {
    store
        .broken()
        .iter()
        .find(|b| b.name == name)
        .map(|b| format!("cannot load: {}", b.error))
        .unwrap_or_default()
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

/// `mqtt-doctor secrets status`
pub fn secrets_status(json: bool) -> i32 {
    let status = crate::secrets::status();
    if json {
        println!("{}", crate::text::json(&status));
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
