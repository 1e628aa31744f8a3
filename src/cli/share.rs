//! Sharing a result and the conventions of a well-made CLI: `bundle`, `explain`, `causes`
//! formats, `completions`, `man`, `--color`, `--log-file` and "did you mean" for commands.
//! Thin: the files, the words and the reports come from `report` and `explain`.

use clap::{Args, CommandFactory, Parser, ValueEnum};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::SystemTime;

use super::{Cli, ConnArgs, InputError};
use crate::diagnose::{self, Event, Report};
use crate::profile::{self, AsyncKeyring, Overrides, Profile};
use crate::report::{self, Format};
use crate::text::sanitize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ColorChoice {
    /// Colour when the output is a terminal and NO_COLOR is not set.
    #[default]
    Auto,
    /// Colour even when the output is a file or a pipe.
    Always,
    /// No colour.
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Text,
    Json,
    Markdown,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Text => Format::Text,
            FormatArg::Json => Format::Json,
            FormatArg::Markdown => Format::Markdown,
        }
    }
}

/// `--format` with `--json` as its alias: the format a report is printed in.
pub fn format_of(format: Option<FormatArg>, json: bool) -> Format {
    match format {
        Some(f) => f.into(),
        None if json => Format::Json,
        None => Format::Text,
    }
}

static COLOR: OnceLock<ColorChoice> = OnceLock::new();

/// Set once by `main` from `--color`.
pub fn set_color(choice: ColorChoice) {
    let _ = COLOR.set(choice);
}

/// Whether output to a stream that `is_terminal` gets colour: `--color always|never` win;
/// `auto` colours a terminal unless NO_COLOR is set (to anything but empty) or TERM=dumb.
pub fn color_enabled(choice: ColorChoice, is_terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            is_terminal
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
        }
    }
}

pub fn stdout_color() -> bool {
    color_enabled(
        COLOR.get().copied().unwrap_or_default(),
        std::io::stdout().is_terminal(),
    )
}

pub fn stderr_color() -> bool {
    color_enabled(
        COLOR.get().copied().unwrap_or_default(),
        std::io::stderr().is_terminal(),
    )
}

#[derive(Debug, Args)]
pub struct BundleArgs {
    /// Broker URL, as for `check` (or --profile).
    #[arg(required_unless_present = "profile", conflicts_with = "profile")]
    pub url: Option<String>,
    /// Check this saved profile (options given here override its fields).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    #[command(flatten)]
    pub conn: ConnArgs,
    /// Where to write the bundle [default: mqtt-doctor-bundle-DATE-TIME.tar.gz here].
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also replace host names, IP addresses and certificate subjects with placeholders.
    #[arg(long)]
    pub redact_hosts: bool,
}

#[derive(Debug, Args)]
pub struct CausesArgs {
    /// Same as --format json.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A cause id, e.g. tls.cert_expired (from a verdict or `mqtt-doctor causes`).
    pub cause: String,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// A subcommand's page instead of the main one (e.g. `check`, `profile add`).
    #[arg(num_args = 0..)]
    pub subcommand: Vec<String>,
}

/// `mqtt-doctor causes [--json|--format markdown]`
pub fn causes(a: &CausesArgs) -> String {
    let mut catalog: Vec<_> = crate::explain::CATALOG.iter().collect();
    catalog.sort_by_key(|c| c.stage);
    match format_of(a.format, a.json) {
        Format::Json => crate::text::json(&catalog),
        Format::Markdown => {
            let mut out = String::from(
                "# mqtt-doctor causes\n\n| Cause | Stage | Summary | Remedy |\n|---|---|---|---|\n",
            );
            for c in catalog {
                out.push_str(&format!(
                    "| `{}` | {} | {} | {} |\n",
                    c.id,
                    c.stage.id(),
                    c.title,
                    c.remedy
                ));
            }
            out
        }
        Format::Text => {
            let width = catalog.iter().map(|c| c.id.len()).max().unwrap_or(20);
            let mut out = String::new();
            for c in catalog {
                out.push_str(&format!(
                    "{:<width$}  {:<5} {}\n    {}\n",
                    c.id,
                    c.stage.id(),
                    c.title,
                    c.remedy
                ));
            }
            out
        }
    }
}

/// `mqtt-doctor explain CAUSE`
pub fn explain(a: &ExplainArgs) -> Result<i32, InputError> {
    let id = a.cause.trim();
    match crate::explain::cause_text(id) {
        Some(text) => {
            print!("{text}");
            Ok(0)
        }
        None => Err(InputError(match crate::explain::suggest_cause(id) {
            Some(s) => format!(
                "{:?} is not a cause id; did you mean {s}? (`mqtt-doctor causes` lists them all)",
                sanitize(id)
            ),
            None => format!(
                "{:?} is not a cause id; `mqtt-doctor causes` lists them all",
                sanitize(id)
            ),
        })),
    }
}

/// `mqtt-doctor completions SHELL`
pub fn completions(a: &CompletionsArgs) -> i32 {
    let mut cmd = Cli::command();
    clap_complete::generate(a.shell, &mut cmd, "mqtt-doctor", &mut std::io::stdout());
    0
}

/// The man page (roff) of the whole tool or of one subcommand.
pub fn man_page(path: &[String]) -> Result<Vec<u8>, InputError> {
    let mut cmd = Cli::command();
    cmd.build();
    let mut page = cmd.clone();
    let mut name = String::from("mqtt-doctor");
    let mut bin = name.clone();
    for part in path.iter().flat_map(|p| p.split([' ', '-'])) {
        if part.is_empty() {
            continue;
        }
        let Some(sub) = page.find_subcommand(part).cloned() else {
            let known: Vec<String> = page
                .get_subcommands()
                .map(|s| s.get_name().to_string())
                .collect();
            return Err(InputError(format!(
                "`{name}` has no subcommand {:?} (it has: {})",
                sanitize(part),
                known.join(", ")
            )));
        };
        name = format!("{name}-{part}");
        bin = format!("{bin} {part}");
        page = sub;
    }
    // The short version: a man page does not change with every commit.
    // clap names are &'static str; this runs once per process, so leaking is the simple way.
    let bin: &'static str = Box::leak(bin.into_boxed_str());
    let name: &'static str = Box::leak(name.into_boxed_str());
    let page = page
        .name(name)
        .bin_name(bin)
        .version(env!("CARGO_PKG_VERSION"))
        .long_version(None::<&str>);
    let mut out = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut out)
        .map_err(|e| InputError(format!("the man page could not be made: {e}")))?;
    Ok(out)
}

/// `mqtt-doctor man [SUBCOMMAND]`
pub fn man(a: &ManArgs) -> Result<i32, InputError> {
    use std::io::Write;
    let page = man_page(&a.subcommand)?;
    std::io::stdout()
        .write_all(&page)
        .map_err(|e| InputError(format!("cannot write the output: {e}")))?;
    Ok(0)
}

/// `--log-file FILE [--log-level LEVEL]`: a tracing log in FILE (created 0600, appended),
/// with RUST_LOG-style directives from `--log-level`, else `RUST_LOG`, else `info`.
pub fn init_log(file: Option<&Path>, level: Option<&str>) -> Result<(), InputError> {
    let Some(file) = file else {
        if level.is_some() {
            return Err(InputError(
                "--log-level needs --log-file FILE (the log never goes to the terminal)".into(),
            ));
        }
        return Ok(());
    };
    let directives = level
        .map(str::to_string)
        .or_else(|| std::env::var("RUST_LOG").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "info".into());
    let filter = tracing_subscriber::EnvFilter::try_new(&directives).map_err(|e| {
        InputError(format!(
            "--log-level {:?}: {e} (give a level such as debug or trace, or directives such as mqtt_doctor=trace)",
            sanitize(&directives)
        ))
    })?;
    let mut open = std::fs::OpenOptions::new();
    open.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        open.mode(0o600);
    }
    let f = open.open(file).map_err(|e| {
        InputError(format!(
            "--log-file {}: cannot be opened ({e})",
            file.display()
        ))
    })?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(f))
        .try_init()
        .map_err(|e| InputError(format!("--log-file: {e}")))?;
    tracing::info!(
        version = report::build::long_version(),
        "mqtt-doctor started"
    );
    Ok(())
}

/// A misspelt subcommand (`chek`) → the one it is close to.
pub fn suggest_command(word: &str) -> Option<String> {
    if word.contains("://") || word.starts_with('-') {
        return None;
    }
    let cmd = Cli::command();
    let names: Vec<String> = cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(|s| s.get_name().to_string())
        .collect();
    if names.iter().any(|n| n == word) {
        return None;
    }
    names
        .into_iter()
        .map(|n| (strsim::jaro_winkler(word, &n), n))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, n)| n)
}

fn did_you_mean(word: &str, s: &str) -> String {
    format!(
        "{:?} is not a command; did you mean `mqtt-doctor {s}`?",
        sanitize(word)
    )
}

/// Parses the command line like `Cli::parse`, with one difference: a misspelt subcommand is
/// not taken for a URL (`chek URL`), it gets "did you mean".
pub fn parse() -> Cli {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            // The first word that is not an option, or an option's value, and is close to a
            // command: `mqtt-doctor --ca ca.pem chek URL` too. A real command ends the search.
            let known: Vec<String> = Cli::command()
                .get_subcommands()
                .map(|s| s.get_name().to_string())
                .collect();
            let typo = args
                .iter()
                .skip(1)
                .filter_map(|a| a.to_str())
                .filter(|a| !a.starts_with('-'))
                .take_while(|a| !known.iter().any(|k| k == a) && !a.contains("://"))
                .find_map(|a| suggest_command(a).map(|s| (a, s)));
            if e.kind() != clap::error::ErrorKind::DisplayHelp
                && e.kind() != clap::error::ErrorKind::DisplayVersion
                && let Some((word, s)) = typo
            {
                eprintln!("mqtt-doctor: {}", did_you_mean(word, &s));
                std::process::exit(2);
            }
            e.exit()
        }
    };
    if cli.command.is_none()
        && let Some(url) = &cli.url
        && let Some(s) = suggest_command(url)
    {
        eprintln!("mqtt-doctor: {}", did_you_mean(url, &s));
        std::process::exit(2);
    }
    cli
}

/// `mqtt-doctor bundle`: runs the check, writes the bundle, lists its files. Exits like
/// `check` (0, or 10 + the failing stage), 2 when the bundle cannot be written.
pub async fn bundle(a: BundleArgs, config: Option<&Path>) -> Result<i32, InputError> {
    let mut p = match (&a.profile, &a.url) {
        (Some(name), _) => {
            let store = super::profiles::load(config)?;
            super::profiles::get(&store, name)?.clone()
        }
        (None, Some(url)) => Profile {
            url: Some(url.clone()),
            ..Profile::default()
        },
        (None, None) => {
            return Err(InputError(
                "give a broker URL or --profile NAME to bundle".into(),
            ));
        }
    };
    let over: Overrides = super::profiles::run_overrides(&a.conn)?;
    over.apply(&mut p).map_err(super::plan_error)?;
    let env = |k: &str| std::env::var(k).ok();
    let plan = profile::resolve_async(&p, &env, &AsyncKeyring::new())
        .await
        .map_err(super::plan_error)?;
    let report = run_with_progress(plan.clone(), true, false).await?;
    let now = SystemTime::now();
    let input = report::bundle::BundleInput {
        profile: &p,
        plan: &plan,
        report: &report,
        redact_hosts: a.redact_hosts,
        now,
        env: &env,
        resolv_conf: Path::new("/etc/resolv.conf"),
    };
    let bundle = report::bundle::build(&input).map_err(|e| InputError(e.to_string()))?;
    let path = a
        .output
        .unwrap_or_else(|| PathBuf::from(report::bundle::default_file_name(now)));
    report::bundle::write(&path, &bundle).map_err(|e| InputError(e.to_string()))?;
    println!(
        "{} ({}): {}",
        sanitize(&path.display().to_string()),
        if report.verdict.ok {
            "check ok".to_string()
        } else {
            format!(
                "check failed: {}",
                report.verdict.cause.unwrap_or("unknown")
            )
        },
        if a.redact_hosts {
            "secrets and hosts redacted"
        } else {
            "secrets redacted"
        }
    );
    for e in &bundle.entries {
        println!("  {:<17} {:>7} bytes  {}", e.name, e.bytes.len(), e.what);
    }
    Ok(report.exit_code())
}

/// Runs a plan with the live stage lines on stderr (when `progress` and stderr is a terminal).
/// With `erase`, the live lines are taken back at the end: the text report that follows on
/// the same terminal has the stage table itself, and it should not show twice.
pub async fn run_with_progress(
    plan: diagnose::Plan,
    progress: bool,
    erase: bool,
) -> Result<Report, InputError> {
    let live = progress && std::io::stderr().is_terminal();
    let color = stderr_color();
    // One terminal row per line: a wrapped line could not be erased exactly.
    let width = crossterm::terminal::size()
        .map(|(w, _)| usize::from(w).saturating_sub(1).max(20))
        .unwrap_or(79);
    let (handle, mut rx) = diagnose::spawn(plan);
    let mut report = None;
    let mut shown = 0;
    while let Some(ev) = rx.recv().await {
        match ev {
            Event::StageFinished(s) if live => {
                let line = report::stage_line(&s);
                let line = if line.chars().count() > width {
                    crate::text::truncate(&line, width)
                } else {
                    report::stage_line_styled(&s, color)
                };
                eprintln!("{line}");
                shown += 1;
            }
            Event::Finished(r) => report = Some(*r),
            _ => {}
        }
    }
    if erase && shown > 0 {
        // Up to the first live line, then clear to the end of the screen.
        eprint!("\x1b[{shown}F\x1b[J");
    }
    match report {
        Some(r) => Ok(r),
        None => handle
            .await
            .map_err(|e| InputError(format!("the diagnosis stopped unexpectedly: {e}"))),
    }
}

/// One report in the chosen format, as printed on stdout.
pub fn render(report: &Report, format: Format, verbose: bool) -> String {
    match format {
        Format::Json => format!("{}\n", report::json(report)),
        Format::Markdown => report::markdown(report),
        Format::Text => report::text_styled(
            report,
            report::TextStyle {
                stages: true,
                verbose,
                color: stdout_color(),
            },
        ),
    }
}
