//! The ratatui app: [`App`] (state), [`Action`] (what happened), [`update`] (the one pure
//! transition) and [`view`] (pure drawing), driven by one `tokio::select!` loop over terminal
//! input, engine events, background results and signals. Idle means no timer at all: the
//! spinner ticks only while a visible stage or Profiles row runs, and redraws are capped while
//! a stage does.

mod app;
mod bundle;
mod certs;
pub mod chain;
pub mod clipboard;
pub mod config;
mod diagnose;
mod help;
pub mod keymap;
pub mod look;
pub mod profiles;
mod strings;
mod view;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod bundle_tests;

pub use bundle::RunInputs;
pub use diagnose::RunSource;
pub use profiles::MemoryProfile;

use app::{Action, App, Effect, MouseKind, update};
use view::view;

use std::collections::{HashMap, VecDeque};
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::EventStream;
use futures_util::StreamExt;
use ratatui::DefaultTerminal;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::{JoinHandle, JoinSet};

use crate::diagnose::{self as engine, Event, Plan, Report};
use profiles::{ProfilesEvent, ProfilesTab, RowStatus};

/// How often the spinner turns while a stage runs.
const SPIN_INTERVAL: Duration = Duration::from_millis(80);
/// At most this many redraws a second while a run streams facts.
const FRAME: Duration = Duration::from_millis(33);
/// Profiles diagnosed at once by "run all".
const FLEET_CONCURRENCY: usize = 8;

/// How the app looks, from the command line (the config file fills what is not given).
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub theme: Option<String>,
    pub ascii: bool,
}

/// What the app opens on.
pub enum Start {
    /// The Profiles tab.
    Profiles,
    /// The Diagnose tab running this saved profile.
    Profile(String),
    /// The Diagnose tab running this plan (a URL from the command line, no saved profile:
    /// the unnamed one the command line made).
    Url(Box<RunInputs>),
}

/// Everything the loop needs; built before the terminal is touched, so a bad config file is
/// one sentence on a normal screen.
pub struct Setup {
    app: App,
    /// Demo: the in-memory profiles' plans.
    plans: HashMap<String, RunInputs>,
    url: Option<RunInputs>,
    profiles_path: Option<PathBuf>,
    first: Vec<Action>,
}

/// Reads app.toml beside `profiles_path` and builds the look and keymap.
fn look_and_keys(
    profiles_path: &std::path::Path,
    opts: &Options,
) -> Result<(look::Look, keymap::Keymap, bool), String> {
    let path = config::path_beside(profiles_path);
    let cfg = config::load(&path)?;
    let source = path.display().to_string();
    let keymap = keymap::Keymap::with_overrides(&cfg.key_overrides(), &source)?;
    let theme = match opts.theme.as_deref().or(cfg.theme.as_deref()) {
        Some(name) => look::ThemeName::parse(name).map_err(|e| match opts.theme {
            Some(_) => format!("--theme: {e}"),
            None => format!("{source}: {e}"),
        })?,
        None => look::ThemeName::Dark,
    };
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let ascii = opts.ascii || cfg.ascii.unwrap_or(false);
    Ok((
        look::Look::new(theme, no_color, ascii),
        keymap,
        cfg.mouse.unwrap_or(true),
    ))
}

/// The app over the profiles file `profiles_path`.
pub fn setup(start: Start, profiles_path: PathBuf, opts: &Options) -> Result<Setup, String> {
    let (look, keymap, mouse) = look_and_keys(&profiles_path, opts)?;
    let mut app = App::new(ProfilesTab::new(profiles_path.clone()), look, keymap);
    app.certs.profiles_path = Some(profiles_path.clone());
    app.mouse = mouse;
    app.profiles_file = app
        .profiles
        .path()
        .map(|p| home_relative(p, std::env::var_os("HOME")));
    let (url, first) = match start {
        Start::Profiles => (None, Vec::new()),
        Start::Profile(name) => (None, vec![Action::Open(RunSource::Profile(name))]),
        Start::Url(inputs) => {
            let target = inputs.plan.target.url();
            (Some(*inputs), vec![Action::Open(RunSource::Url(target))])
        }
    };
    Ok(Setup {
        app,
        plans: HashMap::new(),
        url,
        profiles_path: Some(profiles_path),
        first,
    })
}

/// The demo: in-memory profiles with their plans (nothing is read from or written to the
/// profiles file; app.toml beside `config_path` still sets keys and look).
pub fn setup_demo(
    entries: Vec<(MemoryProfile, RunInputs)>,
    config_path: PathBuf,
    opts: &Options,
) -> Result<Setup, String> {
    let (look, keymap, mouse) = look_and_keys(&config_path, opts)?;
    let plans = entries
        .iter()
        .map(|(p, inputs)| (p.name.clone(), inputs.clone()))
        .collect();
    let tab = ProfilesTab::in_memory(entries.into_iter().map(|(p, _)| p).collect());
    let mut app = App::new(tab, look, keymap);
    app.mouse = mouse;
    app.demo = true;
    Ok(Setup {
        app,
        plans,
        url: None,
        profiles_path: None,
        first: Vec::new(),
    })
}

/// Runs the app until the user quits; returns the report of the last finished run.
pub async fn run(setup: Setup) -> io::Result<Option<Report>> {
    let mouse = setup.app.mouse;
    with_terminal(mouse, async |terminal| run_loop(terminal, setup).await).await
}

/// Sets the terminal up, runs `body`, and restores the terminal whatever `body` returned.
/// On a panic, ratatui's hook restores raw mode and the screen and ours turns the mouse and
/// bracketed paste off before the message is printed.
async fn with_terminal<T>(
    mouse: bool,
    body: impl AsyncFnOnce(&mut DefaultTerminal) -> io::Result<T>,
) -> io::Result<T> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // The cursor too: ratatui's restore leaves it hidden when the frame hid it.
        let _ = crossterm::execute!(
            io::stdout(),
            crossterm::event::DisableMouseCapture,
            crossterm::event::DisableBracketedPaste,
            crossterm::cursor::Show
        );
        previous(info);
    }));
    let mut terminal = match ratatui::try_init() {
        Ok(t) => t,
        Err(e) => {
            ratatui::restore();
            return Err(e);
        }
    };
    if mouse {
        let _ = crossterm::execute!(io::stdout(), crossterm::event::EnableMouseCapture);
    }
    // A paste arrives whole (one event), so a pasted PEM's newlines do not act as Enter.
    let _ = crossterm::execute!(io::stdout(), crossterm::event::EnableBracketedPaste);
    let result = body(&mut terminal).await;
    let _ = crossterm::execute!(
        io::stdout(),
        crossterm::event::DisableMouseCapture,
        crossterm::event::DisableBracketedPaste
    );
    ratatui::restore();
    result
}

/// The running diagnosis of the Diagnose tab, if any. Dropping it cancels the run.
#[derive(Default)]
struct Runner {
    handle: Option<JoinHandle<Report>>,
    events: Option<mpsc::Receiver<Event>>,
}

impl Runner {
    fn start(&mut self, plan: Plan) {
        self.stop();
        let (handle, events) = engine::spawn(plan);
        self.handle = Some(handle);
        self.events = Some(events);
    }

    fn stop(&mut self) {
        if let Some(handle) = self.handle.take() {
            handle.abort();
        }
        self.events = None;
    }

    /// The next engine event; pends forever when no run is attached.
    async fn next(events: &mut Option<mpsc::Receiver<Event>>) -> Option<Event> {
        match events {
            Some(rx) => rx.recv().await,
            None => std::future::pending().await,
        }
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Results of work done off the UI task.
enum Msg {
    Action(Action),
    Plan {
        number: usize,
        result: Result<Box<RunInputs>, String>,
    },
}

/// Carries out effects: owns the runner, the background tasks and the plans.
struct Driver {
    runner: Runner,
    /// The run whose plan is being resolved or whose engine runs.
    wanted: Option<usize>,
    plans: HashMap<String, RunInputs>,
    url: Option<RunInputs>,
    profiles_path: Option<PathBuf>,
    tx: mpsc::UnboundedSender<Msg>,
    /// Store jobs, plan look-ups and fleet runs; aborted when the app ends.
    tasks: JoinSet<()>,
    fleet: Arc<Semaphore>,
}

impl Driver {
    fn plan_source(&self, name: &str) -> Result<PlanSource, String> {
        if let Some(plan) = self.plans.get(name) {
            return Ok(PlanSource::Ready(Box::new(plan.clone())));
        }
        match &self.profiles_path {
            Some(path) => Ok(PlanSource::File(path.clone(), name.to_string())),
            None => Err(format!("no profile named {name:?}")),
        }
    }

    fn start_now(&mut self, number: usize, inputs: RunInputs, queue: &mut VecDeque<Action>) {
        let target = inputs.plan.target.url();
        self.runner.start(inputs.plan.clone());
        self.wanted = Some(number);
        queue.push_back(Action::Inputs {
            number,
            inputs: Arc::new(inputs),
        });
        queue.push_back(Action::Started { number, target });
    }

    fn carry_out(
        &mut self,
        effect: Effect,
        terminal: &mut DefaultTerminal,
        queue: &mut VecDeque<Action>,
        dirty: &mut bool,
    ) -> io::Result<()> {
        match effect {
            Effect::Redraw => *dirty = true,
            Effect::Quit => {}
            Effect::Cancel => {
                self.runner.stop();
                self.wanted = None;
            }
            Effect::Start { number, source } => {
                self.runner.stop();
                self.wanted = Some(number);
                let source = match &source {
                    RunSource::Url(_) => match &self.url {
                        Some(plan) => Ok(PlanSource::Ready(Box::new(plan.clone()))),
                        None => Err("no URL was given".to_string()),
                    },
                    RunSource::Profile(name) => self.plan_source(name),
                };
                match source {
                    Ok(PlanSource::Ready(inputs)) => self.start_now(number, *inputs, queue),
                    Ok(PlanSource::File(path, name)) => {
                        let tx = self.tx.clone();
                        self.tasks.spawn(async move {
                            let result = profiles::plan_for(&path, &name).await.map(Box::new);
                            let _ = tx.send(Msg::Plan { number, result });
                        });
                    }
                    Err(why) => queue.push_back(Action::CannotRun { number, why }),
                }
            }
            Effect::Store(job) => {
                let tx = self.tx.clone();
                self.tasks.spawn(async move {
                    let ev = profiles::carry_out(job).await;
                    let _ = tx.send(Msg::Action(Action::Profiles(ev)));
                });
            }
            Effect::Certs(job) => {
                let tx = self.tx.clone();
                self.tasks.spawn(async move {
                    let ev = certs::carry_out(job).await;
                    let _ = tx.send(Msg::Action(Action::Certs(ev)));
                });
            }
            Effect::RunAll(names) => {
                for name in names {
                    let source = self.plan_source(&name);
                    let tx = self.tx.clone();
                    let fleet = self.fleet.clone();
                    self.tasks.spawn(fleet_one(name, source, fleet, tx));
                }
            }
            Effect::Write(bytes) => {
                let backend = terminal.backend_mut();
                backend.write_all(&bytes)?;
                backend.flush()?;
            }
            Effect::BuildBundle {
                number,
                inputs,
                report,
            } => {
                let tx = self.tx.clone();
                // It reads the resolver configuration and serialises every file: not on the
                // UI task.
                self.tasks.spawn_blocking(move || {
                    let env = |k: &str| std::env::var(k).ok();
                    let result = bundle::build(
                        &inputs,
                        &report,
                        std::time::SystemTime::now(),
                        &env,
                        std::path::Path::new("/etc/resolv.conf"),
                    );
                    let _ = tx.send(Msg::Action(Action::BundleReady { number, result }));
                });
            }
            Effect::WriteBundle {
                path,
                bundle: built,
            } => {
                let tx = self.tx.clone();
                self.tasks.spawn_blocking(move || {
                    let result = bundle::write(&path, &built);
                    let _ = tx.send(Msg::Action(Action::BundleWritten(result)));
                });
            }
            Effect::SaveChain {
                path,
                pem,
                overwrite,
            } => {
                let tx = self.tx.clone();
                self.tasks.spawn(async move {
                    let ev = tokio::task::spawn_blocking(move || {
                        chain::save_pem(&path, &pem, overwrite)
                    })
                    .await
                    .unwrap_or_else(|e| chain::ChainEvent::SaveFailed {
                        path: PathBuf::new(),
                        why: format!("the save did not finish: {e}"),
                    });
                    let _ = tx.send(Msg::Action(Action::Chain(ev)));
                });
            }
            Effect::Mouse(on) => {
                let _ = if on {
                    crossterm::execute!(io::stdout(), crossterm::event::EnableMouseCapture)
                } else {
                    crossterm::execute!(io::stdout(), crossterm::event::DisableMouseCapture)
                };
            }
        }
        Ok(())
    }
}

enum PlanSource {
    Ready(Box<RunInputs>),
    File(PathBuf, String),
}

/// One profile of "run all": waits for a slot, resolves, runs, reports its row.
async fn fleet_one(
    name: String,
    source: Result<PlanSource, String>,
    fleet: Arc<Semaphore>,
    tx: mpsc::UnboundedSender<Msg>,
) {
    let row = |status| {
        Msg::Action(Action::Profiles(ProfilesEvent::Row {
            name: name.clone(),
            status,
        }))
    };
    let Ok(_permit) = fleet.acquire_owned().await else {
        return;
    };
    let _ = tx.send(row(RowStatus::Running));
    let plan = match source {
        Ok(PlanSource::Ready(inputs)) => Ok(inputs.plan),
        Ok(PlanSource::File(path, name)) => profiles::plan_for(&path, &name).await.map(|i| i.plan),
        Err(e) => Err(e),
    };
    let status = match plan {
        Err(why) => RowStatus::CannotRun(why),
        Ok(plan) => {
            let (handle, mut events) = engine::spawn(plan);
            // Nobody watches a fleet run's progress; drain so the engine never waits.
            while events.recv().await.is_some() {}
            match handle.await {
                Ok(report) => {
                    let v = &report.verdict;
                    RowStatus::Done {
                        ok: v.ok,
                        stage: v.stage,
                        cause: v.cause.map(str::to_string),
                        millis: report.total_ms(),
                    }
                }
                Err(e) => RowStatus::CannotRun(format!("the diagnosis stopped: {e}")),
            }
        }
    };
    let _ = tx.send(row(status));
}

/// SIGTERM and SIGHUP end the app like `q` does (the terminal restored, the demo's lab
/// folder removed by its owner's drop).
struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> io::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Signals {
                term: signal(SignalKind::terminate())?,
                hup: signal(SignalKind::hangup())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    async fn next(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.hup.recv() => {}
        }
        #[cfg(not(unix))]
        std::future::pending::<()>().await
    }
}

/// The event loop.
async fn run_loop(terminal: &mut DefaultTerminal, setup: Setup) -> io::Result<Option<Report>> {
    let Setup {
        mut app,
        plans,
        url,
        profiles_path,
        first,
    } = setup;
    app.mux = clipboard::Mux::detect(&|k| std::env::var(k).ok());
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    let mut driver = Driver {
        runner: Runner::default(),
        wanted: None,
        plans,
        url,
        profiles_path,
        tx: tx.clone(),
        tasks: JoinSet::new(),
        fleet: Arc::new(Semaphore::new(FLEET_CONCURRENCY)),
    };
    let mut signals = Signals::new()?;
    let mut input = EventStream::new();
    let mut tick = tokio::time::interval(SPIN_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    // The keyring probe can block on D-Bus: ask it off the UI task.
    driver.tasks.spawn_blocking(move || {
        let _ = tx.send(Msg::Action(Action::Keyring(keyring_label())));
    });

    let mut last_report = None;
    let mut queue: VecDeque<Action> = first.into();
    let mut dirty = true;
    let mut last_draw = Instant::now() - FRAME;
    let test_panic = test_panic_key();
    let start_effects = app.profiles.start();
    for e in app_effects(&mut app, start_effects) {
        driver.carry_out(e, terminal, &mut queue, &mut dirty)?;
    }
    loop {
        while let Some(action) = queue.pop_front() {
            if let Action::Engine(Event::Finished(r)) = &action {
                last_report = Some((**r).clone());
            }
            for e in update(&mut app, action) {
                driver.carry_out(e, terminal, &mut queue, &mut dirty)?;
            }
        }
        if app.quit {
            return Ok(last_report);
        }
        let capped = app.diagnose.running();
        if dirty && (!capped || last_draw.elapsed() >= FRAME) {
            terminal.draw(|f| view(&app, f))?;
            dirty = false;
            last_draw = Instant::now();
        }
        let animating = app.animating();
        let next_frame = tokio::time::Instant::from_std(last_draw + FRAME);
        let action = tokio::select! {
            ev = input.next() => match ev {
                Some(Ok(ev)) => match from_terminal(ev) {
                    Some(Action::Key(k)) if test_panic == Some(k.key) => {
                        panic!("{TEST_PANIC_MESSAGE}")
                    }
                    Some(a) => a,
                    None => continue,
                },
                Some(Err(e)) => return Err(e),
                // The terminal went away: nothing more can be shown or asked.
                None => Action::Terminate,
            },
            ev = Runner::next(&mut driver.runner.events) => match ev {
                Some(ev) => Action::Engine(ev),
                None => {
                    // The run ended and its channel closed.
                    driver.runner.events = None;
                    continue;
                }
            },
            msg = rx.recv() => match msg {
                Some(Msg::Action(a)) => a,
                Some(Msg::Plan { number, result }) => {
                    if driver.wanted != Some(number) {
                        continue;
                    }
                    match result {
                        Ok(plan) => {
                            driver.start_now(number, *plan, &mut queue);
                            continue;
                        }
                        Err(why) => Action::CannotRun { number, why },
                    }
                }
                None => continue,
            },
            _ = tick.tick(), if animating => Action::Tick,
            _ = tokio::time::sleep_until(next_frame), if dirty => continue,
            _ = signals.next() => Action::Terminate,
        };
        queue.push_back(action);
    }
}

/// What the test hook's panic says (tests/tui_tmux.rs looks for it on the restored screen).
const TEST_PANIC_MESSAGE: &str = "test panic requested by MQTT_DOCTOR_TEST_PANIC";

/// Test hook, debug builds only (a release build has no such variable and costs nothing):
/// with `MQTT_DOCTOR_TEST_PANIC=1` in the environment, F12 panics inside the app loop, so the
/// end-to-end test can prove the terminal is restored and the message still shown.
/// The item after `now` in `all` (before it when not `forward`), wrapping around: tabs, the
/// wizard's source kinds and fields.
pub(crate) fn cycle<T: PartialEq + Copy>(all: &[T], now: T, forward: bool) -> T {
    let i = all.iter().position(|x| *x == now).unwrap_or(0);
    let n = all.len();
    all[if forward {
        (i + 1) % n
    } else {
        (i + n - 1) % n
    }]
}

fn test_panic_key() -> Option<keymap::Key> {
    #[cfg(debug_assertions)]
    if std::env::var_os("MQTT_DOCTOR_TEST_PANIC").is_some_and(|v| v == "1") {
        return Some(keymap::Key::F(12));
    }
    None
}

/// The Profiles tab's start-up effects as app effects.
fn app_effects(app: &mut App, effects: Vec<profiles::ProfilesEffect>) -> Vec<Effect> {
    let mut out = Vec::new();
    for e in effects {
        match e {
            profiles::ProfilesEffect::Store(job) => out.push(Effect::Store(job)),
            profiles::ProfilesEffect::Status(msg) => app.status = Some(msg),
            _ => out.push(Effect::Redraw),
        }
    }
    out
}

/// Turns a terminal event into an action; `None` for events the app ignores.
fn from_terminal(ev: crossterm::event::Event) -> Option<Action> {
    use crossterm::event::{Event as E, MouseButton, MouseEventKind};
    match ev {
        E::Key(k) => Some(Action::Key(keymap::KeyInput::from_crossterm(k))),
        E::Resize(..) => Some(Action::Resize),
        E::Paste(text) => Some(Action::Paste(text)),
        E::Mouse(m) => {
            let kind = match m.kind {
                MouseEventKind::Down(MouseButton::Left) => MouseKind::Click,
                MouseEventKind::ScrollUp => MouseKind::ScrollUp,
                MouseEventKind::ScrollDown => MouseKind::ScrollDown,
                _ => return None,
            };
            Some(Action::Mouse {
                kind,
                column: m.column,
                row: m.row,
            })
        }
        _ => None,
    }
}

/// "keyring: Secret Service (survives a reboot)" or why none works, for the status line.
fn keyring_label() -> String {
    use strings as s;
    let status = crate::secrets::status();
    match status.backend {
        Some(b @ crate::secrets::Backend::KernelKeyutils) => {
            format!(
                "{} {} ({})",
                s::KEYRING_PREFIX,
                b.describe(),
                s::LOST_AT_REBOOT
            )
        }
        Some(b) => format!(
            "{} {} ({})",
            s::KEYRING_PREFIX,
            b.describe(),
            s::SURVIVES_REBOOT
        ),
        None => format!("{} {}", s::KEYRING_PREFIX, s::KEYRING_NONE),
    }
}

/// `~/.config/…` for a path under the home folder: the status line has little room.
fn home_relative(path: &std::path::Path, home: Option<std::ffi::OsString>) -> String {
    match home.map(PathBuf::from) {
        Some(home) if !home.as_os_str().is_empty() => match path.strip_prefix(&home) {
            Ok(rest) => format!("~/{}", rest.display()),
            Err(_) => path.display().to_string(),
        },
        _ => path.display().to_string(),
    }
}
