//! The command line: clap definitions, turning arguments into a [`Plan`] (reading every file
//! first, so bad input fails before any network traffic), and the non-interactive commands.

use clap::{Args, Parser, Subcommand, ValueEnum};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::certs;

pub mod profiles;
use crate::diagnose::{
    self, CaBundle, ClientIdentity, Event, MqttVersion, ParsedUrl, Plan, Report,
};
use crate::secrets::Secret;
use crate::text::sanitize;

#[derive(Debug, Parser)]
#[command(
    name = "mqtt-doctor",
    version,
    about = "Tells you exactly why your secure MQTT connection fails, and how to fix it",
    long_about = "Runs staged diagnostics (DNS → TCP → TLS → WebSocket → MQTT → subscription) \
against an MQTT broker and names the first failing stage, its cause and what to do.\n\n\
Without a subcommand, a URL opens the full-screen live view:\n  mqtt-doctor mqtts://broker.example.com:8883 --ca ca.pem",
    subcommand_negates_reqs = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Profiles file (default: the user's config dir, mqtt-doctor/profiles.toml).
    #[arg(long, global = true, value_name = "FILE", env = "MQTT_DOCTOR_CONFIG")]
    pub config: Option<PathBuf>,
    /// Broker URL for the full-screen view (mqtt://, mqtts://, ws://, wss://).
    pub url: Option<String>,
    #[command(flatten)]
    pub conn: ConnArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Diagnose a broker and print the verdict (or JSON with --json).
    Check(Box<CheckArgs>),
    /// List every cause id this tool can report.
    Causes {
        #[arg(long)]
        json: bool,
    },
    /// Open the live view against the built-in lab of faulty brokers.
    Demo,
    /// Start the lab's brokers in the foreground and print a command line for each scenario.
    Lab,
    /// Certificate tools: inspect files, fetch what a server presents.
    #[command(subcommand)]
    Cert(CertCommand),
    /// Saved broker profiles (TOML; secrets in the OS keyring).
    #[command(subcommand)]
    Profile(Box<profiles::ProfileCommand>),
    /// The OS keyring that holds profile secrets.
    #[command(subcommand)]
    Secrets(profiles::SecretsCommand),
    /// Serve diagnoses to Prometheus: /probe?profile=NAME answers in the Prometheus text format.
    Exporter(crate::exporter::ExporterArgs),
}

#[derive(Debug, Subcommand)]
pub enum CertCommand {
    /// Analyse certificate files (PEM, DER, PKCS#12): chain order, validity, names, usages,
    /// key match, fingerprints.
    Inspect(InspectArgs),
    /// Show (or save) the chain a server presents, even when it would not verify.
    Fetch(FetchArgs),
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Files holding the chain (leaf first) and optionally its key; read in this order.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Read the passphrase of encrypted keys or PKCS#12 files from this environment variable.
    #[arg(long, value_name = "VAR")]
    pub passphrase_env: Option<String>,
    /// Check the leaf against this host name or IP address.
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,
    /// Trust anchors to check the chain against (PEM or DER).
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// The chain is a client certificate (check clientAuth instead of serverAuth).
    #[arg(long)]
    pub client: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// Server URL: mqtts://HOST[:PORT] (or wss://).
    pub url: String,
    /// Send this TLS server name instead of the URL's host.
    #[arg(long, value_name = "NAME")]
    pub sni: Option<String>,
    /// Offer this ALPN protocol (repeatable).
    #[arg(long, value_name = "PROTOCOL")]
    pub alpn: Vec<String>,
    /// Trust anchors to analyse the chain against (default: the system store).
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// Print the presented certificates as PEM (to save them as a --ca file).
    #[arg(long, conflicts_with = "json")]
    pub pem: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Deadline for each stage, in seconds.
    #[arg(long, default_value_t = 5, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=300))]
    pub timeout: u64,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Broker URL: mqtt://HOST[:PORT] (plain), mqtts://HOST[:PORT] (TLS), ws://HOST[:PORT][/PATH]
    /// or wss://HOST[:PORT][/PATH] (MQTT over WebSockets).
    #[arg(required_unless_present_any = ["profile", "all"], conflicts_with_all = ["profile", "all"])]
    pub url: Option<String>,
    /// Check a saved profile (repeatable; options given here override its fields).
    #[arg(long, value_name = "NAME")]
    pub profile: Vec<String>,
    /// Check every saved profile, concurrently.
    #[arg(long, conflicts_with = "profile")]
    pub all: bool,
    /// How many profiles are checked at once with --all or several --profile.
    #[arg(long, default_value_t = 32, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub concurrency: u64,
    #[command(flatten)]
    pub conn: ConnArgs,
    /// Print one JSON document on stdout instead of text.
    #[arg(long)]
    pub json: bool,
    /// Show the facts of every stage, not only the failing one.
    #[arg(long, short)]
    pub verbose: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum VersionArg {
    #[value(name = "3", alias = "3.1.1", alias = "4")]
    V3,
    #[value(name = "5")]
    V5,
}

#[derive(Debug, Args, Default, Clone)]
pub struct ConnArgs {
    /// CA certificate(s) to trust, PEM or DER (default: the system trust store).
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// Client certificate chain, PEM.
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,
    /// Private key of the client certificate, PEM or DER (encrypted: see --passphrase-env).
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// Client certificate and key as PKCS#12 (.p12/.pfx), instead of --cert/--key.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["cert", "key"])]
    pub p12: Option<PathBuf>,
    /// Read the passphrase of --p12 or of an encrypted --key from this environment variable.
    #[arg(long, value_name = "VAR")]
    pub passphrase_env: Option<String>,
    /// Send and verify this TLS server name instead of the URL's host.
    #[arg(long, value_name = "NAME")]
    pub sni: Option<String>,
    /// Offer this ALPN protocol (repeatable).
    #[arg(long, value_name = "PROTOCOL")]
    pub alpn: Vec<String>,
    /// Complete the TLS handshake without verification; problems are still reported.
    #[arg(long)]
    pub insecure: bool,
    /// Lowest TLS version to offer [default: 1.2].
    #[arg(long, value_name = "VERSION", value_parser = ["1.2", "1.3"])]
    pub min_tls: Option<String>,
    /// MQTT user name.
    #[arg(long, short = 'u')]
    pub username: Option<String>,
    /// Read the password from this environment variable.
    #[arg(long, value_name = "VAR", conflicts_with = "password_prompt")]
    pub password_env: Option<String>,
    /// Ask for the password on the terminal (masked).
    #[arg(long)]
    pub password_prompt: bool,
    /// MQTT client identifier (default mqtt-doctor-<random>).
    #[arg(long, short = 'i')]
    pub client_id: Option<String>,
    /// Keep-alive in seconds [default: 30].
    #[arg(long, value_name = "SECS")]
    pub keep_alive: Option<u16>,
    /// MQTT version; without it, 5 is tried first and 3.1.1 on "unacceptable protocol version".
    #[arg(long, value_enum)]
    pub mqtt_version: Option<VersionArg>,
    /// Also subscribe to this filter (repeatable).
    #[arg(long, short = 't', value_name = "FILTER")]
    pub topic: Vec<String>,
    /// Do not publish the round-trip message (read-only accounts); the check ends at SUBACK.
    #[arg(long)]
    pub no_publish: bool,
    /// Deadline for each stage, in seconds [default: 5].
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=300))]
    pub timeout: Option<u64>,
    /// Ask this DNS server (IP:PORT) instead of the system resolver.
    #[arg(long, value_name = "IP:PORT")]
    pub dns_server: Option<std::net::SocketAddr>,
    /// WebSocket path for ws:// and wss:// (default: the URL's path, else /mqtt); the URL's
    /// query string is kept unless PATH has its own.
    #[arg(long, value_name = "PATH")]
    pub ws_path: Option<String>,
    /// Extra HTTP header for the WebSocket upgrade, 'Name: value' (repeatable). Values are
    /// never shown, only names.
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    pub header: Vec<String>,
    /// Connect through a proxy: http://[USER@]HOST:PORT (HTTP CONNECT), socks5://[USER@]HOST:PORT,
    /// or `env` for HTTPS_PROXY/HTTP_PROXY/ALL_PROXY/NO_PROXY (ws:// and wss:// only).
    #[arg(long, value_name = "URL|env")]
    pub proxy: Option<String>,
    /// Read the proxy password from this environment variable.
    #[arg(long, value_name = "VAR")]
    pub proxy_password_env: Option<String>,
}

/// Bad input: one sentence naming the argument, file or field. Exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

fn read_file(arg: &str, path: &Path) -> Result<Vec<u8>, InputError> {
    std::fs::read(path).map_err(|e| {
        InputError(format!(
            "{arg} {}: the file cannot be read ({e})",
            path.display()
        ))
    })
}

/// Certificates from a PEM or DER file (`--ca`, `--cert`).
fn read_certs(arg: &str, path: &Path) -> Result<Vec<CertificateDer<'static>>, InputError> {
    let bytes = read_file(arg, path)?;
    certs::load_certificates(&path.display().to_string(), &bytes, None)
        .map_err(|e| InputError(format!("{arg}: {e}")))
}

/// A private key from a PEM or DER file, decrypted with the passphrase when it is encrypted.
fn read_key(path: &Path, passphrase: Option<&str>) -> Result<PrivateKeyDer<'static>, InputError> {
    let bytes = read_file("--key", path)?;
    let loaded = certs::load(&path.display().to_string(), &bytes, passphrase)
        .map_err(|e| InputError(format!("--key: {e}")))?;
    loaded.key.ok_or_else(|| {
        InputError(format!(
            "--key {}: the file holds no private key (expected a PEM \"PRIVATE KEY\", \"RSA PRIVATE KEY\" or \"EC PRIVATE KEY\" block, or a DER key)",
            path.display()
        ))
    })
}

fn passphrase(
    a: &ConnArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<String>, InputError> {
    diagnose::env_value("--passphrase-env", a.passphrase_env.as_deref(), env).map_err(InputError)
}

/// Turns arguments into a plan. `env` looks up environment variables (the process environment
/// in real use; the demo passes its own).
pub fn build_plan(
    url: &str,
    a: &ConnArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Plan, InputError> {
    let parsed: ParsedUrl = url
        .parse()
        .map_err(|e: diagnose::UrlError| InputError(format!("URL: {e}")))?;
    let mut plan = Plan::new(parsed.target);
    plan.timeout = Duration::from_secs(a.timeout.unwrap_or(5));
    plan.dns_server = a.dns_server;
    if let Some(path) = &a.ca {
        plan.tls.ca = Some(CaBundle {
            path: path.clone(),
            certs: read_certs("--ca", path)?,
        });
    }
    let pass = passphrase(a, env)?;
    if let (Some(cert), Some(key)) = (&a.cert, &a.key) {
        plan.tls.client = Some(ClientIdentity {
            source: format!("{} + {}", cert.display(), key.display()),
            certs: read_certs("--cert", cert)?,
            key: read_key(key, pass.as_deref())?,
        });
    }
    if let Some(p12) = &a.p12 {
        let bytes = read_file("--p12", p12)?;
        let loaded = certs::load(&p12.display().to_string(), &bytes, pass.as_deref())
            .map_err(|e| InputError(format!("--p12: {e}")))?;
        let key = loaded.key.ok_or_else(|| {
            InputError(format!(
                "--p12 {}: the file holds no private key",
                p12.display()
            ))
        })?;
        if loaded.certs.is_empty() {
            return Err(InputError(format!(
                "--p12 {}: the file holds no certificate",
                p12.display()
            )));
        }
        plan.tls.client = Some(ClientIdentity {
            source: p12.display().to_string(),
            certs: loaded.certs,
            key,
        });
    }
    if (a.ca.is_some() || a.cert.is_some() || a.sni.is_some() || !a.alpn.is_empty() || a.insecure)
        && !plan.target.transport.uses_tls()
    {
        // Not an error: the user may be checking a plain port on purpose; the tls stage is
        // skipped and says so.
    }
    plan.tls.sni = a.sni.clone();
    plan.tls.alpn = a.alpn.clone();
    plan.tls.insecure = a.insecure;
    plan.tls.tls13_only = a.min_tls.as_deref() == Some("1.3");
    plan.mqtt.username = a.username.clone().or(parsed.username);
    if let Some(value) =
        diagnose::env_value("--password-env", a.password_env.as_deref(), env).map_err(InputError)?
    {
        plan.mqtt.password = Some(Secret::new(value));
    }
    if let Some(id) = &a.client_id {
        if id.len() > 65535 {
            return Err(InputError("--client-id: longer than 65535 bytes".into()));
        }
        plan.mqtt.client_id = id.clone();
    }
    plan.mqtt.keep_alive = a.keep_alive.unwrap_or(30);
    if let Some(v) = a.mqtt_version {
        plan.mqtt.version = match v {
            VersionArg::V3 => MqttVersion::V311,
            VersionArg::V5 => MqttVersion::V5,
        };
        plan.mqtt.fallback_to_311 = false;
    }
    let route = diagnose::route::RouteArgs {
        ws_path: a.ws_path.as_deref(),
        headers: &a.header,
        proxy: a.proxy.as_deref(),
        proxy_password_env: a.proxy_password_env.as_deref(),
        v311: matches!(a.mqtt_version, Some(VersionArg::V3)),
    };
    plan.route = diagnose::route::from_args(&route, &mut plan.target, env).map_err(InputError)?;
    if plan.target.transport.uses_ws() {
        diagnose::ws::request(&plan).map_err(InputError)?;
    }
    plan.sub.topics = a.topic.clone();
    for t in &plan.sub.topics {
        if t.is_empty() {
            return Err(InputError("--topic: a topic filter cannot be empty".into()));
        }
    }
    plan.sub.publish = !a.no_publish;
    Ok(plan)
}

/// Reads a password from the terminal without echoing it.
pub fn prompt_password(prompt: &str) -> Result<Secret, InputError> {
    use crossterm::event::{self, Event as CEvent, KeyCode, KeyEventKind, KeyModifiers};
    use std::io::Write;
    if !std::io::stdin().is_terminal() {
        return Err(InputError(
            "--password-prompt: standard input is not a terminal; use --password-env VAR".into(),
        ));
    }
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    crossterm::terminal::enable_raw_mode()
        .map_err(|e| InputError(format!("--password-prompt: {e}")))?;
    let mut value = String::new();
    let result = loop {
        match event::read() {
            Ok(CEvent::Key(k)) if k.kind == KeyEventKind::Press => match k.code {
                KeyCode::Enter => break Ok(()),
                KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => {
                    break Err(InputError("password entry cancelled".into()));
                }
                KeyCode::Backspace if value.pop().is_some() => {
                    eprint!("\u{8} \u{8}");
                    let _ = std::io::stderr().flush();
                }
                KeyCode::Char(c) => {
                    // Masked: one star per character, never the character itself.
                    value.push(c);
                    eprint!("*");
                    let _ = std::io::stderr().flush();
                }
                _ => {}
            },
            Ok(_) => {}
            Err(e) => break Err(InputError(format!("--password-prompt: {e}"))),
        }
    };
    let _ = crossterm::terminal::disable_raw_mode();
    eprintln!();
    result.map(|_| Secret::new(value))
}

/// `mqtt-doctor check`: returns the process exit code.
pub async fn check(args: CheckArgs, config: Option<&Path>) -> Result<i32, InputError> {
    let Some(url) = &args.url else {
        return profiles::check_profiles(
            &args.profile,
            args.all,
            &args.conn,
            config,
            args.json,
            args.verbose,
            args.concurrency as usize,
        )
        .await;
    };
    let mut plan = build_plan(url, &args.conn, &|k| std::env::var(k).ok())?;
    if args.conn.password_prompt {
        plan.mqtt.password = Some(prompt_password("MQTT password: ")?);
    }
    run_single(plan, args.json, args.verbose).await
}

/// Runs one plan, printing progress lines and the verdict (or JSON); returns the exit code.
pub async fn run_single(plan: Plan, json: bool, verbose: bool) -> Result<i32, InputError> {
    let live = !json && std::io::stderr().is_terminal();
    let (handle, mut rx) = diagnose::spawn(plan);
    let mut report: Option<Report> = None;
    while let Some(ev) = rx.recv().await {
        match ev {
            Event::StageFinished(s) if live => {
                eprintln!("{}", crate::report::stage_line(&s));
            }
            Event::Finished(r) => report = Some(*r),
            _ => {}
        }
    }
    let report = match report {
        Some(r) => r,
        None => handle
            .await
            .map_err(|e| InputError(format!("the diagnosis stopped unexpectedly: {e}")))?,
    };
    if json {
        println!("{}", crate::report::json(&report));
    } else {
        print!("{}", crate::report::text(&report, !live, verbose));
    }
    Ok(report.exit_code())
}

/// `mqtt-doctor causes`
pub fn causes(json: bool) -> String {
    // In stage order (the catalog lists some stages' causes at its end).
    let mut catalog: Vec<_> = crate::explain::CATALOG.iter().collect();
    catalog.sort_by_key(|c| c.stage);
    if json {
        return serde_json::to_string_pretty(&catalog).unwrap_or_default();
    }
    let mut out = String::new();
    let width = catalog.iter().map(|c| c.id.len()).max().unwrap_or(20);
    for c in catalog {
        out.push_str(&format!(
            "{:<width$}  {:<5} {}\n",
            c.id,
            c.stage.id(),
            c.title
        ));
    }
    out
}

/// The lab scenarios as plans, for the demo.
pub fn scenario_plans(lab: &crate::lab::Lab) -> Vec<(String, String, Plan)> {
    let mut out = Vec::new();
    for s in lab.scenarios() {
        let mut argv = vec!["check".to_string(), s.url.clone()];
        argv.extend(s.args.iter().cloned());
        let Ok(Cli {
            command: Some(Command::Check(c)),
            ..
        }) = Cli::try_parse_from(std::iter::once("mqtt-doctor".to_string()).chain(argv))
        else {
            continue;
        };
        let Some(url) = &c.url else {
            continue;
        };
        let env = s.env.clone();
        let lookup = move |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        if let Ok(plan) = build_plan(url, &c.conn, &lookup) {
            out.push((s.id.clone(), format!("{}: {}", s.expect, s.title), plan));
        }
    }
    out
}

/// `mqtt-doctor lab`: run the lab until Ctrl-C.
pub async fn lab() -> Result<i32, InputError> {
    let lab = crate::lab::Lab::start()
        .await
        .map_err(|e| InputError(e.to_string()))?;
    println!(
        "mqtt-doctor lab: {} scenarios, files in {}",
        lab.scenarios().len(),
        lab.dir().display()
    );
    for s in lab.scenarios() {
        println!(
            "\n# {} — {} (expect {})\n{}",
            s.id,
            s.title,
            s.expect,
            s.command_line()
        );
    }
    println!("\nPress Ctrl-C to stop the lab.");
    let _ = tokio::signal::ctrl_c().await;
    Ok(0)
}

/// Prints an input error the way `main` does: one sentence plus a hint.
pub fn print_input_error(e: &InputError) {
    eprintln!("mqtt-doctor: {}", sanitize(&e.0));
    eprintln!("hint: run `mqtt-doctor --help` for the options");
}

/// The full-screen live view for one URL.
pub async fn live(url: &str, conn: &ConnArgs) -> Result<i32, InputError> {
    let mut plan = build_plan(url, conn, &|k| std::env::var(k).ok())?;
    if conn.password_prompt {
        plan.mqtt.password = Some(prompt_password("MQTT password: ")?);
    }
    if !std::io::stdout().is_terminal() {
        return Err(InputError(
            "the live view needs a terminal; use `mqtt-doctor check URL` in scripts".into(),
        ));
    }
    let report = crate::tui::run_live(plan)
        .await
        .map_err(|e| InputError(format!("the terminal failed: {e}")))?;
    Ok(report.map(|r| r.exit_code()).unwrap_or(0))
}

/// `mqtt-doctor demo`: the live view against the built-in lab.
pub async fn demo() -> Result<i32, InputError> {
    let lab = crate::lab::Lab::start()
        .await
        .map_err(|e| InputError(e.to_string()))?;
    if !std::io::stdout().is_terminal() {
        return Err(InputError(
            "the demo needs a terminal; `mqtt-doctor lab` prints the scenarios for scripts".into(),
        ));
    }
    let plans = scenario_plans(&lab);
    crate::tui::run_demo(plans)
        .await
        .map_err(|e| InputError(format!("the terminal failed: {e}")))?;
    Ok(0)
}

/// `mqtt-doctor cert inspect`: returns the exit code (0 clean, 12 when a finding is an error).
pub fn cert_inspect(a: &InspectArgs) -> Result<i32, InputError> {
    let pass = diagnose::env_value("--passphrase-env", a.passphrase_env.as_deref(), &|k| {
        std::env::var(k).ok()
    })
    .map_err(InputError)?;
    let mut chain = Vec::new();
    let mut key = None;
    let mut labels = Vec::new();
    for f in &a.files {
        let loaded = certs::load_file(f, pass.as_deref()).map_err(|e| InputError(e.to_string()))?;
        chain.extend(loaded.certs);
        if key.is_none() {
            key = loaded.key;
        }
        labels.push(f.display().to_string());
    }
    if chain.is_empty() {
        return Err(InputError(format!(
            "{}: no certificate found (only a key); give the certificate file too",
            labels.join(", ")
        )));
    }
    let anchors = match &a.ca {
        Some(ca) => read_certs("--ca", ca)?,
        None => Vec::new(),
    };
    let opts = certs::AnalyzeOptions {
        host: a.host.as_deref(),
        now: now_unix(),
        anchors: &anchors,
        purpose: if a.client {
            certs::Purpose::Client
        } else {
            certs::Purpose::Server
        },
        key: key.as_ref(),
        expiry_warning_days: 30,
    };
    let analysis = certs::analyze(&chain, &opts).map_err(|e| InputError(e.to_string()))?;
    if a.json {
        let doc = serde_json::json!({ "files": labels, "analysis": analysis });
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        print!("{}", certs::inspect_text(&labels.join(" + "), &analysis));
    }
    Ok(if analysis.worst() == Some(certs::Severity::Error) {
        12
    } else {
        0
    })
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `mqtt-doctor cert fetch`: connect, record the presented chain without trusting it, show it.
pub async fn cert_fetch(a: &FetchArgs) -> Result<i32, InputError> {
    let conn = ConnArgs {
        ca: a.ca.clone(),
        sni: a.sni.clone(),
        alpn: a.alpn.clone(),
        insecure: true,
        timeout: Some(a.timeout),
        ..ConnArgs::default()
    };
    let mut plan = build_plan(&a.url, &conn, &|k| std::env::var(k).ok())?;
    if !plan.target.transport.uses_tls() {
        return Err(InputError(format!(
            "URL {:?}: cert fetch needs a TLS URL (mqtts:// or wss://)",
            a.url
        )));
    }
    plan.stop_after = Some(diagnose::Stage::Tls);
    let host = plan.server_name();
    let report = diagnose::run(plan, tokio::sync::mpsc::channel(64).0).await;
    let tls = report.tls.clone().unwrap_or_default();
    if tls.chain_der.is_empty() {
        print!("{}", crate::report::text(&report, true, false));
        return Ok(report.exit_code());
    }
    if a.pem {
        for c in &tls.chain_der {
            print!("{}", crate::lab::pki::pem("CERTIFICATE", c));
        }
        return Ok(0);
    }
    let anchors = match &a.ca {
        Some(ca) => read_certs("--ca", ca)?,
        None => rustls_native_certs::load_native_certs().certs,
    };
    let opts = certs::AnalyzeOptions {
        host: Some(&host),
        now: now_unix(),
        anchors: &anchors,
        purpose: certs::Purpose::Server,
        key: None,
        expiry_warning_days: 30,
    };
    let analysis = certs::analyze(&tls.chain_der, &opts).map_err(|e| InputError(e.to_string()))?;
    if a.json {
        let doc = serde_json::json!({ "target": report.target, "tls": tls, "analysis": analysis });
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        println!(
            "{} presented {} certificate(s) over {}{}",
            sanitize(&report.target.url),
            tls.chain_der.len(),
            tls.version.as_deref().unwrap_or("TLS"),
            tls.alpn
                .as_deref()
                .map(|p| format!(", ALPN {}", sanitize(p)))
                .unwrap_or_default()
        );
        print!("{}", certs::inspect_text(&report.target.url, &analysis));
    }
    Ok(0)
}
