//! The command line: clap definitions, turning arguments into a [`Plan`] (reading every file
//! first, so bad input fails before any network traffic), and the non-interactive commands.

use clap::{Args, Parser, Subcommand, ValueEnum};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

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
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
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
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Broker URL: mqtt://HOST[:PORT] (plain), mqtts://HOST[:PORT] (TLS), ws://HOST[:PORT][/PATH]
    /// or wss://HOST[:PORT][/PATH] (MQTT over WebSockets).
    pub url: String,
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
    /// CA certificate(s) to trust, PEM (default: the system trust store).
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// Client certificate chain, PEM.
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,
    /// Private key of the client certificate, PEM.
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// Send and verify this TLS server name instead of the URL's host.
    #[arg(long, value_name = "NAME")]
    pub sni: Option<String>,
    /// Offer this ALPN protocol (repeatable).
    #[arg(long, value_name = "PROTOCOL")]
    pub alpn: Vec<String>,
    /// Complete the TLS handshake without verification; problems are still reported.
    #[arg(long)]
    pub insecure: bool,
    /// MQTT user name.
    #[arg(long, short = 'u')]
    pub username: Option<String>,
    /// Read the password from this environment variable.
    #[arg(long, value_name = "VAR", conflicts_with = "password_prompt")]
    pub password_env: Option<String>,
    /// Ask for the password on the terminal (not echoed).
    #[arg(long)]
    pub password_prompt: bool,
    /// MQTT client identifier (default mqtt-doctor-<random>).
    #[arg(long, short = 'i')]
    pub client_id: Option<String>,
    /// Keep-alive in seconds.
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub keep_alive: u16,
    /// MQTT version; without it, 5 is tried first and 3.1.1 on "unacceptable protocol version".
    #[arg(long, value_enum)]
    pub mqtt_version: Option<VersionArg>,
    /// Also subscribe to this filter (repeatable).
    #[arg(long, short = 't', value_name = "FILTER")]
    pub topic: Vec<String>,
    /// Do not publish the round-trip message (read-only accounts); the check ends at SUBACK.
    #[arg(long)]
    pub no_publish: bool,
    /// Deadline for each stage, in seconds.
    #[arg(long, default_value_t = 5, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=300))]
    pub timeout: u64,
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

fn read_certs(arg: &str, path: &Path) -> Result<Vec<CertificateDer<'static>>, InputError> {
    let bytes = std::fs::read(path).map_err(|e| {
        InputError(format!(
            "{arg} {}: the file cannot be read ({e})",
            path.display()
        ))
    })?;
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(InputError(format!(
            "{arg} {}: the file is empty",
            path.display()
        )));
    }
    let mut certs = Vec::new();
    for (i, item) in CertificateDer::pem_slice_iter(&bytes).enumerate() {
        match item {
            Ok(c) => certs.push(c),
            Err(e) => {
                return Err(InputError(format!(
                    "{arg} {}: PEM block {} cannot be read ({e})",
                    path.display(),
                    i + 1
                )));
            }
        }
    }
    if certs.is_empty() {
        if x509_parser::parse_x509_certificate(&bytes).is_ok() {
            return Ok(vec![CertificateDer::from(bytes)]);
        }
        return Err(InputError(format!(
            "{arg} {}: the file holds no certificate (expected PEM blocks \"-----BEGIN CERTIFICATE-----\" or a DER certificate)",
            path.display()
        )));
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, InputError> {
    let bytes = std::fs::read(path).map_err(|e| {
        InputError(format!(
            "--key {}: the file cannot be read ({e})",
            path.display()
        ))
    })?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| {
        InputError(format!(
            "--key {}: no private key found ({e}); expected a PEM \"PRIVATE KEY\", \"RSA PRIVATE KEY\" or \"EC PRIVATE KEY\" block",
            path.display()
        ))
    })
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
    plan.timeout = Duration::from_secs(a.timeout);
    plan.dns_server = a.dns_server;
    if let Some(path) = &a.ca {
        plan.tls.ca = Some(CaBundle {
            path: path.clone(),
            certs: read_certs("--ca", path)?,
        });
    }
    if let (Some(cert), Some(key)) = (&a.cert, &a.key) {
        plan.tls.client = Some(ClientIdentity {
            source: format!("{} + {}", cert.display(), key.display()),
            certs: read_certs("--cert", cert)?,
            key: read_key(key)?,
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
    plan.mqtt.username = a.username.clone().or(parsed.username);
    if let Some(var) = &a.password_env {
        let value = env(var).ok_or_else(|| {
            InputError(format!(
                "--password-env {var}: the environment variable {var} is not set"
            ))
        })?;
        plan.mqtt.password = Some(Secret::new(value));
    }
    if let Some(id) = &a.client_id {
        if id.len() > 65535 {
            return Err(InputError("--client-id: longer than 65535 bytes".into()));
        }
        plan.mqtt.client_id = id.clone();
    }
    plan.mqtt.keep_alive = a.keep_alive;
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
                KeyCode::Backspace => {
                    value.pop();
                }
                KeyCode::Char(c) => value.push(c),
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
pub async fn check(args: CheckArgs) -> Result<i32, InputError> {
    let mut plan = build_plan(&args.url, &args.conn, &|k| std::env::var(k).ok())?;
    if args.conn.password_prompt {
        plan.mqtt.password = Some(prompt_password("MQTT password: ")?);
    }
    let live = !args.json && std::io::stderr().is_terminal();
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
    if args.json {
        println!("{}", crate::report::json(&report));
    } else {
        print!("{}", crate::report::text(&report, !live, args.verbose));
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
        let env = s.env.clone();
        let lookup = move |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        if let Ok(plan) = build_plan(&c.url, &c.conn, &lookup) {
            out.push((
                s.id.clone(),
                format!("{} — expect {}", s.title, s.expect),
                plan,
            ));
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
