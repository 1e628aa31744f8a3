//! mqtt-doctor: the binary. Thin: parse arguments, call the core, map outcomes to exit codes
//! (0 ok, 2 usage or input error, 10 + stage for a failed stage).

use mqtt_doctor::cli::{self, Cli, Command, InputError};

fn main() {
    unix_output_conventions();
    mqtt_doctor::cli::raise_fd_limit();
    let cli = cli::share::parse();
    cli::share::set_color(cli.color);
    if let Err(e) = cli::share::init_log(cli.log_file.as_deref(), cli.log_level.as_deref()) {
        cli::print_input_error(&e);
        std::process::exit(2);
    }
    // `check URL` (no profile) reads no secret and runs one diagnosis, which waits on the
    // network, not the CPU: no keyring set-up and one thread (issue 14, footprint).
    let one_check = matches!(&cli.command, Some(Command::Check(a)) if a.url.is_some());
    if !one_check
        && !matches!(
            cli.command,
            Some(
                Command::Causes(_)
                    | Command::Lab
                    | Command::Explain(_)
                    | Command::Completions(_)
                    | Command::Man(_)
            )
        )
    {
        // The kernel keyutils store needs a session keyring; join one before any thread
        // starts. A failure here is reported by whatever needs the keyring later.
        let _ = mqtt_doctor::secrets::prepare_process();
    }
    let mut builder = if one_check {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mqtt-doctor: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let code = runtime.block_on(run(cli));
    // Do not wait for lingering lab or probe tasks.
    runtime.shutdown_background();
    std::process::exit(code);
}

/// Output like every Unix tool: a reader that goes away (`| head -c1`) ends the process
/// quietly through SIGPIPE, which Rust ignores by default; a write that fails otherwise
/// (/dev/full) is one clear error line and exit 1 instead of a panic report.
fn unix_output_conventions() {
    #[cfg(unix)]
    // SAFETY: called first in main, before any thread exists; SIG_DFL is a valid disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if let Some(reason) = message.strip_prefix("failed printing to stdout: ") {
            eprintln!("mqtt-doctor: cannot write the output: {reason}");
            std::process::exit(1);
        }
        default_hook(info);
    }));
}

async fn run(cli: Cli) -> i32 {
    let cli = match cli::apply_top_level(cli) {
        Ok(cli) => cli,
        Err(e) => {
            cli::print_input_error(&e);
            return 2;
        }
    };
    let result: Result<i32, InputError> = match cli.command {
        Some(Command::Check(args)) => cli::check(*args, cli.config.as_deref()).await,
        Some(Command::Profile(cmd)) => cli::profiles::profile(*cmd, cli.config.as_deref()),
        Some(Command::Secrets(cli::profiles::SecretsCommand::Status { json })) => {
            Ok(cli::profiles::secrets_status(json))
        }
        Some(Command::Secrets(cli::profiles::SecretsCommand::Export(a))) => {
            cli::secrets_export::export(&a, cli.config.as_deref())
        }
        Some(Command::Causes(a)) => {
            print!("{}", cli::share::causes(&a));
            Ok(0)
        }
        Some(Command::Explain(a)) => cli::share::explain(&a),
        Some(Command::Bundle(a)) => cli::share::bundle(*a, cli.config.as_deref()).await,
        Some(Command::Completions(a)) => Ok(cli::share::completions(&a)),
        Some(Command::Man(a)) => cli::share::man(&a),
        Some(Command::Demo(a)) => cli::app::demo(&cli.app.joined(&a), cli.config.as_deref()).await,
        Some(Command::Lab) => cli::lab().await,
        Some(Command::Cert(cli::CertCommand::Inspect(a))) => cli::cert_inspect(&a),
        Some(Command::Cert(cli::CertCommand::Fetch(a))) => cli::cert_fetch(&a).await,
        Some(Command::Exporter(a)) => mqtt_doctor::exporter::run(a, cli.config.as_deref()).await,
        None => {
            cli::app::open(
                cli.url,
                cli.profile,
                &cli.conn,
                &cli.app,
                cli.config.as_deref(),
            )
            .await
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            cli::print_input_error(&e);
            2
        }
    }
}
