//! The command line: clap definitions, arguments → core [`Overrides`] (the plan itself comes
//! from [`crate::profile::resolve`], like every front's), and the non-interactive commands.

use clap::{Args, Parser, Subcommand, ValueEnum};
use rustls_pki_types::CertificateDer;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use crate::certs;

pub mod app;
pub mod profiles;
pub mod secrets_export;
pub mod share;
use crate::diagnose::{self, Plan};
use crate::profile::{self, Overrides, Profile, SecretSource, TlsVersion};
use crate::secrets::Secret;
use crate::text::sanitize;

#[derive(Debug, Parser)]
#[command(
    name = "mqtt-doctor",
    version,
    long_version = crate::report::build::long_version(),
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
    /// Broker URL: opens the app's Diagnose tab on it (mqtt://, mqtts://, ws://, wss://).
    pub url: Option<String>,
    /// Open the app's Diagnose tab running this saved profile.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    #[command(flatten)]
    pub app: app::AppArgs,
    #[command(flatten)]
    pub conn: ConnArgs,
    /// Colour in text output: auto (a terminal without NO_COLOR), always, never.
    #[arg(long, global = true, value_enum, default_value_t = share::ColorChoice::Auto, value_name = "WHEN")]
    pub color: share::ColorChoice,
    /// Write a log to FILE (appended, created 0600). No secret is ever logged.
    #[arg(long, global = true, value_name = "FILE")]
    pub log_file: Option<PathBuf>,
    /// Log level or RUST_LOG-style directives for --log-file: error, warn, info (default),
    /// debug (every fact), trace (also every read, write and MQTT packet: sizes and types).
    #[arg(long, global = true, value_name = "LEVEL")]
    pub log_level: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Diagnose a broker and print the report (text, JSON or markdown).
    Check(Box<CheckArgs>),
    /// List every cause id this tool can report, with its stage, summary and remedy.
    Causes(share::CausesArgs),
    /// Explain one cause id in full: what triggers it, how it is told from its neighbours,
    /// what to change on common brokers.
    Explain(share::ExplainArgs),
    /// Run a check and write a redacted diagnostic bundle (.tar.gz) to hand to someone else.
    Bundle(Box<share::BundleArgs>),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(share::CompletionsArgs),
    /// Print the man page (roff), of the tool or of one subcommand.
    Man(share::ManArgs),
    /// Open the app with a temporary profile for every scenario of the built-in lab.
    Demo(app::AppArgs),
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
    /// Deadline for each stage, in seconds [default: 5].
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=300))]
    pub timeout: Option<u64>,
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
    #[arg(long, default_value_t = 128, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub concurrency: u64,
    #[command(flatten)]
    pub conn: ConnArgs,
    /// Same as --format json.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Report format on stdout: text (default), json, markdown.
    #[arg(long, value_enum)]
    pub format: Option<share::FormatArg>,
    /// Show the facts of every stage, not only the failing one (logs: --log-level).
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
    /// Ask this DNS server (IP or IP:PORT, port 53 by default; IPv6 as ::1 or [::1]:53)
    /// instead of the system resolver.
    #[arg(long, value_name = "IP[:PORT]", value_parser = dns_server_arg)]
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

/// Runs `$m!(field, "--flag")` for every option of [`ConnArgs`], one list for every use.
macro_rules! conn_options {
    ($m:ident) => {
        $m!(ca, "--ca");
        $m!(cert, "--cert");
        $m!(key, "--key");
        $m!(p12, "--p12");
        $m!(passphrase_env, "--passphrase-env");
        $m!(sni, "--sni");
        $m!(alpn, "--alpn");
        $m!(insecure, "--insecure");
        $m!(min_tls, "--min-tls");
        $m!(username, "--username");
        $m!(password_env, "--password-env");
        $m!(password_prompt, "--password-prompt");
        $m!(client_id, "--client-id");
        $m!(keep_alive, "--keep-alive");
        $m!(mqtt_version, "--mqtt-version");
        $m!(topic, "--topic");
        $m!(no_publish, "--no-publish");
        $m!(timeout, "--timeout");
        $m!(dns_server, "--dns-server");
        $m!(ws_path, "--ws-path");
        $m!(header, "--header");
        $m!(proxy, "--proxy");
        $m!(proxy_password_env, "--proxy-password-env");
    };
}

/// Whether an option was given: set, non-empty or `true`.
trait Given {
    fn given(&self) -> bool;
}

impl<T> Given for Option<T> {
    fn given(&self) -> bool {
        self.is_some()
    }
}

impl<T> Given for Vec<T> {
    fn given(&self) -> bool {
        !self.is_empty()
    }
}

impl Given for bool {
    fn given(&self) -> bool {
        *self
    }
}

impl ConnArgs {
    /// The options given, by flag name, in `--help` order.
    pub fn given(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        macro_rules! push {
            ($f:ident, $flag:literal) => {
                if self.$f.given() {
                    out.push($flag);
                }
            };
        }
        conn_options!(push);
        out
    }

    /// Options written before the subcommand (`top`) joined with those after it; an option
    /// given on both sides is refused rather than silently picking one.
    pub fn joined(top: ConnArgs, mut sub: ConnArgs, command: &str) -> Result<ConnArgs, InputError> {
        macro_rules! join {
            ($f:ident, $flag:literal) => {
                if top.$f.given() {
                    if sub.$f.given() {
                        return Err(InputError(format!(
                            "{} is given both before and after `{command}`; give it once",
                            $flag
                        )));
                    }
                    sub.$f = top.$f;
                }
            };
        }
        conn_options!(join);
        Ok(sub)
    }
}

/// Connection options written before a subcommand (`mqtt-doctor --ca ca.pem check URL`) apply
/// to it when it connects (`check`, `profile add/edit`, `cert fetch` for the options it has);
/// anywhere else they are refused, never silently dropped.
pub fn apply_top_level(mut cli: Cli) -> Result<Cli, InputError> {
    let Some(command) = cli.command.as_mut() else {
        return Ok(cli);
    };
    if cli.profile.is_some() || (cli.app.given() && !matches!(command, Command::Demo(_))) {
        return Err(InputError(format!(
            "--profile, --theme and --ascii open the app; give them without `{}` (--theme and --ascii also go with demo)",
            command_name(command)
        )));
    }
    let top = std::mem::take(&mut cli.conn);
    let given = top.given();
    let name = command_name(command);
    if cli.url.is_some() {
        return Err(InputError(format!(
            "a URL before `{name}` is not used; write it after the command (mqtt-doctor {name} URL)"
        )));
    }
    if given.is_empty() {
        return Ok(cli);
    }
    match command {
        Command::Check(args) => {
            args.conn = ConnArgs::joined(top, std::mem::take(&mut args.conn), name)?;
        }
        Command::Bundle(args) => {
            args.conn = ConnArgs::joined(top, std::mem::take(&mut args.conn), name)?;
        }
        Command::Profile(p) => match p.as_mut() {
            profiles::ProfileCommand::Add(a) => {
                a.conn = ConnArgs::joined(top, std::mem::take(&mut a.conn), name)?;
            }
            profiles::ProfileCommand::Edit(a) => {
                a.conn = ConnArgs::joined(top, std::mem::take(&mut a.conn), name)?;
            }
            _ => return Err(not_for(&given, name)),
        },
        Command::Cert(CertCommand::Fetch(f)) => {
            let usable = ["--ca", "--sni", "--alpn", "--timeout"];
            if let Some(flag) = given.iter().find(|g| !usable.contains(g)) {
                return Err(InputError(format!(
                    "{flag} does not apply to `{name}` (it takes --ca, --sni, --alpn and --timeout)"
                )));
            }
            let twice = |flag: &str| {
                InputError(format!(
                    "{flag} is given both before and after `{name}`; give it once"
                ))
            };
            if let Some(ca) = top.ca {
                if f.ca.is_some() {
                    return Err(twice("--ca"));
                }
                f.ca = Some(ca);
            }
            if let Some(sni) = top.sni {
                if f.sni.is_some() {
                    return Err(twice("--sni"));
                }
                f.sni = Some(sni);
            }
            if !top.alpn.is_empty() {
                if !f.alpn.is_empty() {
                    return Err(twice("--alpn"));
                }
                f.alpn = top.alpn;
            }
            if let Some(t) = top.timeout {
                if f.timeout.is_some() {
                    return Err(twice("--timeout"));
                }
                f.timeout = Some(t);
            }
        }
        _ => return Err(not_for(&given, name)),
    }
    Ok(cli)
}

/// `--dns-server`: the profile field's rule (`IP:PORT`, `[IPv6]:PORT`, or an address alone).
pub fn dns_server_arg(v: &str) -> Result<std::net::SocketAddr, String> {
    profile::parse_dns_server(v)
}

fn not_for(given: &[&str], name: &str) -> InputError {
    InputError(format!(
        "{} does not apply to `{name}`: connection options go after `check`, `profile add`, `profile edit` or a broker URL",
        given.join(", ")
    ))
}

fn command_name(c: &Command) -> &'static str {
    match c {
        Command::Check(_) => "check",
        Command::Causes(_) => "causes",
        Command::Explain(_) => "explain",
        Command::Bundle(_) => "bundle",
        Command::Completions(_) => "completions",
        Command::Man(_) => "man",
        Command::Demo(_) => "demo",
        Command::Lab => "lab",
        Command::Cert(CertCommand::Inspect(_)) => "cert inspect",
        Command::Cert(CertCommand::Fetch(_)) => "cert fetch",
        Command::Profile(p) => match p.as_ref() {
            profiles::ProfileCommand::List { .. } => "profile list",
            profiles::ProfileCommand::Show { .. } => "profile show",
            profiles::ProfileCommand::Add(_) => "profile add",
            profiles::ProfileCommand::Edit(_) => "profile edit",
            profiles::ProfileCommand::Remove { .. } => "profile remove",
            profiles::ProfileCommand::Rename { .. } => "profile rename",
            profiles::ProfileCommand::Import { .. } => "profile import",
            profiles::ProfileCommand::Export { .. } => "profile export",
        },
        Command::Secrets(profiles::SecretsCommand::Status { .. }) => "secrets status",
        Command::Secrets(profiles::SecretsCommand::Export(_)) => "secrets export",
        Command::Exporter(_) => "exporter",
    }
}

/// Raises the soft limit on open files to the hard limit: a fleet check opens several
/// sockets per broker, and the default soft limit (often 1024, or less under `ulimit -n`) is
/// this tool's limit, not a broker's.
pub fn raise_fd_limit() {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: plain syscalls on a valid, owned struct.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
                lim.rlim_cur = lim.rlim_max;
                libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
            }
        }
    }
}

/// Descriptors one check may hold at once: its connection, a follow-up probe, a DNS socket and
/// one to spare.
const FDS_PER_CHECK: u64 = 4;
/// Descriptors kept for everything else (the runtime, stdio, the keyring's D-Bus, files).
const FDS_RESERVED: u64 = 24;

/// How many checks of a fleet may run at once: what was asked, or fewer when the open-file
/// limit could not hold that many (then a note says so), so that running out of descriptors
/// is not reported as every broker's connection failure.
pub fn fleet_concurrency(asked: usize) -> usize {
    let Some(free) = free_fds() else {
        return asked;
    };
    let fits = (free.saturating_sub(FDS_RESERVED) / FDS_PER_CHECK).max(1) as usize;
    if fits < asked {
        eprintln!(
            "note: running {fits} checks at a time, not {asked}: only {free} more files may be open (ulimit -n)"
        );
        return fits;
    }
    asked
}

/// File descriptors this process may still open: the soft limit minus those open now.
#[cfg(not(unix))]
fn free_fds() -> Option<u64> {
    None
}

/// File descriptors this process may still open: the soft limit minus those open now.
#[cfg(unix)]
fn free_fds() -> Option<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: a plain syscall filling a struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0
        || lim.rlim_cur == libc::RLIM_INFINITY
    {
        return None;
    }
    let open = std::fs::read_dir("/proc/self/fd").ok()?.count() as u64;
    // rlim_t is u64 here, not on every Unix.
    #[allow(clippy::unnecessary_cast)]
    let soft = lim.rlim_cur as u64;
    Some(soft.saturating_sub(open))
}

/// Bad input: one sentence naming the argument, file or field. Exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

/// Certificates from a PEM or DER file (`cert inspect --ca`).
fn read_certs(arg: &str, path: &Path) -> Result<Vec<CertificateDer<'static>>, InputError> {
    let bytes = certs::read_checked(path, certs::MAX_CERT_FILE).map_err(|e| {
        InputError(format!(
            "{arg} {}: the file cannot be read ({e})",
            path.display()
        ))
    })?;
    certs::load_certificates(&path.display().to_string(), &bytes, None)
        .map_err(|e| InputError(format!("{arg}: {e}")))
}

impl From<&ConnArgs> for Overrides {
    /// `--password-prompt` is not here: the front asks, then sets `password` to the typed value.
    fn from(a: &ConnArgs) -> Overrides {
        Overrides {
            ca: a.ca.clone(),
            client_cert: a.cert.clone(),
            client_key: a.key.clone(),
            p12: a.p12.clone(),
            passphrase_env: a.passphrase_env.clone(),
            sni: a.sni.clone(),
            alpn: a.alpn.clone(),
            insecure: a.insecure,
            min_tls: a.min_tls.as_deref().map(|v| match v {
                "1.3" => TlsVersion::V1_3,
                _ => TlsVersion::V1_2,
            }),
            username: a.username.clone(),
            password: a.password_env.clone().map(SecretSource::Env),
            client_id: a.client_id.clone(),
            keep_alive: a.keep_alive,
            mqtt_version: a.mqtt_version.map(|v| match v {
                VersionArg::V3 => profile::MqttVersion::V3_1_1,
                VersionArg::V5 => profile::MqttVersion::V5,
            }),
            topics: a.topic.clone(),
            no_publish: a.no_publish,
            timeout_secs: a.timeout,
            dns_server: a.dns_server,
            ws_path: a.ws_path.clone(),
            headers: a.header.clone(),
            proxy: a.proxy.clone(),
            proxy_password_env: a.proxy_password_env.clone(),
            clean_start: None,
        }
    }
}

/// Turns a URL and options into a plan, through the same core path as a saved profile (an
/// unnamed one). `env` looks up environment variables (the process environment in real use;
/// the demo passes its own).
pub fn build_plan(url: &str, a: &ConnArgs, env: profile::Env<'_>) -> Result<Plan, InputError> {
    build_inputs(url, a, env).map(|i| i.plan)
}

/// The unnamed profile a URL and the check flags make, with its plan (the app keeps both:
/// its bundle key needs the profile).
pub fn build_inputs(
    url: &str,
    a: &ConnArgs,
    env: profile::Env<'_>,
) -> Result<crate::tui::RunInputs, InputError> {
    let mut p = Profile {
        url: Some(url.to_string()),
        ..Profile::default()
    };
    Overrides::from(a).apply(&mut p).map_err(plan_error)?;
    let plan = profile::resolve(&p, env, &profile::KeyringOnDemand::new()).map_err(plan_error)?;
    Ok(crate::tui::RunInputs { profile: p, plan })
}

pub(crate) fn plan_error(e: profile::PlanError) -> InputError {
    InputError(e.to_string())
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
            share::format_of(args.format, args.json),
            args.verbose,
            args.concurrency as usize,
        )
        .await;
    };
    let mut plan = build_plan(url, &args.conn, &|k| std::env::var(k).ok())?;
    if args.conn.password_prompt {
        plan.mqtt.password = Some(prompt_password("MQTT password: ")?);
    }
    run_single(plan, share::format_of(args.format, args.json), args.verbose).await
}

/// Runs one plan, printing progress lines (text, on a terminal's stderr) and the report in
/// `format` on stdout; returns the exit code. The text report always has the stage table,
/// so `check URL > report.txt` keeps it.
pub async fn run_single(
    plan: Plan,
    format: crate::report::Format,
    verbose: bool,
) -> Result<i32, InputError> {
    let text = format == crate::report::Format::Text;
    let same_screen = text && std::io::stdout().is_terminal();
    let report = share::run_with_progress(plan, text, same_screen).await?;
    print!("{}", share::render(&report, format, verbose));
    Ok(report.exit_code())
}

/// The lab scenarios as plans, for the demo.
pub fn scenario_plans(lab: &crate::lab::Lab) -> Vec<(String, String, Plan)> {
    scenario_inputs(lab)
        .into_iter()
        .map(|(id, title, i)| (id, title, i.plan))
        .collect()
}

/// [`scenario_plans`] with the profile each plan was made from (the demo bundles them).
pub fn scenario_inputs(lab: &crate::lab::Lab) -> Vec<(String, String, crate::tui::RunInputs)> {
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
        if let Ok(inputs) = build_inputs(url, &c.conn, &lookup) {
            out.push((s.id.clone(), format!("{}: {}", s.expect, s.title), inputs));
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
        let warns = if s.warns.is_empty() {
            String::new()
        } else {
            format!(", warnings {}", s.warns.join(", "))
        };
        println!(
            "\n# {} — {} (expect {}{warns})\n{}",
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

/// Prints an input error the way `main` does: one sentence, which carries its own hint
/// when one helps (a generic "see --help" after every error would only be noise).
pub fn print_input_error(e: &InputError) {
    eprintln!("mqtt-doctor: {}", sanitize(&e.0));
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
        now: crate::clock::now_unix(),
        anchors: &anchors,
        // CA certificates alone, with no key and no host asked about, are a CA file: checked as
        // anchors, not as a chain whose first certificate is a leaf.
        purpose: if a.client {
            certs::Purpose::Client
        } else if key.is_none() && a.host.is_none() && certs::is_ca_file(&chain) {
            certs::Purpose::Trust
        } else {
            certs::Purpose::Server
        },
        key: key.as_ref(),
        expiry_warning_days: 30,
    };
    let analysis = certs::analyze(&chain, &opts).map_err(|e| InputError(e.to_string()))?;
    if a.json {
        let doc = serde_json::json!({ "files": labels, "analysis": analysis });
        println!("{}", crate::text::json(&doc));
    } else {
        print!(
            "{}",
            crate::explain::inspect_text(&labels.join(" + "), &analysis)
        );
    }
    Ok(if analysis.worst() == Some(certs::Severity::Error) {
        12
    } else {
        0
    })
}

/// `mqtt-doctor cert fetch`: connect, record the presented chain without trusting it, show it.
pub async fn cert_fetch(a: &FetchArgs) -> Result<i32, InputError> {
    let opts = profile::FetchOptions {
        ca: a.ca.clone(),
        sni: a.sni.clone(),
        alpn: a.alpn.clone(),
        timeout_secs: a.timeout,
    };
    let plan =
        profile::fetch_plan(&a.url, &opts, &|k| std::env::var(k).ok()).map_err(plan_error)?;
    if !plan.target.transport.uses_tls() {
        return Err(InputError(format!(
            "URL {:?}: cert fetch needs a TLS URL (mqtts:// or wss://)",
            a.url
        )));
    }
    let fetched = diagnose::fetch_chain(plan, crate::clock::now_unix())
        .await
        .map_err(InputError)?;
    let report = &fetched.report;
    let tls = report.tls.clone().unwrap_or_default();
    if fetched.chain.is_empty() {
        print!("{}", crate::report::text(report, true, false));
        return Ok(report.exit_code());
    }
    if a.pem {
        for c in &fetched.chain {
            print!("{}", certs::pem("CERTIFICATE", c));
        }
        return Ok(0);
    }
    let analysis = match (&fetched.analysis, fetched.analysis_error) {
        (Some(analysis), _) => analysis,
        (None, why) => return Err(InputError(why.unwrap_or_default())),
    };
    if a.json {
        let doc = serde_json::json!({ "target": report.target, "tls": tls, "analysis": analysis });
        println!("{}", crate::text::json(&doc));
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
        print!(
            "{}",
            crate::explain::inspect_text(&report.target.url, analysis)
        );
        let requested = report
            .stages
            .iter()
            .any(|st| st.facts.get("client_certificate_requested").is_some());
        if requested {
            println!(
                "{}",
                crate::explain::client_request_sentence(&tls.client_ca_names)
            );
        }
    }
    Ok(0)
}
