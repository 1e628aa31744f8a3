//! The ratatui front: [`App`] (state), [`Action`] (what happened), [`update`] (the one pure
//! transition) and [`view`] (pure drawing), driven by one `tokio::select!` loop over terminal
//! input, engine events and a spinner tick that only runs while a stage is running.

mod app;
pub mod keymap;
pub mod look;
pub mod profiles;
mod strings;
mod view;

#[cfg(test)]
mod tests;

use app::{Action, App, Effect, update};
use view::view;

use std::io;
use std::time::Duration;

use crossterm::event::EventStream;
use futures_util::StreamExt;
use ratatui::DefaultTerminal;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::diagnose::{self, Event, Plan, Report};

/// How often the spinner turns while a stage runs.
const SPIN_INTERVAL: Duration = Duration::from_millis(80);

/// Diagnoses `plan` on the progress screen until the user quits. Returns the report when the
/// run finished before the user left, `None` when they quit earlier.
pub async fn run_live(plan: Plan) -> io::Result<Option<Report>> {
    let mut app = App::new(plan.target.url());
    let result = with_terminal(async |terminal| {
        run_loop(terminal, &mut app, |effect| match effect {
            Effect::StartRun => Some(plan.clone()),
            _ => None,
        })
        .await
    })
    .await;
    result.map(|()| app.report)
}

/// The demo screen: a list of `(id, title, plan)` scenarios; picking one diagnoses its plan.
pub async fn run_demo(scenarios: Vec<(String, String, Plan)>) -> io::Result<()> {
    let mut app = App::demo(
        scenarios
            .iter()
            .map(|(id, title, _)| (id.clone(), title.clone()))
            .collect(),
    );
    with_terminal(async |terminal| {
        run_loop(terminal, &mut app, |effect| match effect {
            Effect::StartScenario(id) => scenarios
                .iter()
                .find(|(sid, _, _)| sid == id)
                .map(|(_, _, plan)| plan.clone()),
            _ => None,
        })
        .await
    })
    .await
}

/// Sets the terminal up, runs `body`, and restores the terminal whatever `body` returned
/// (the panic hook installed by `try_init` restores it on a panic).
async fn with_terminal<T>(
    body: impl AsyncFnOnce(&mut DefaultTerminal) -> io::Result<T>,
) -> io::Result<T> {
    let mut terminal = match ratatui::try_init() {
        Ok(t) => t,
        Err(e) => {
            ratatui::restore();
            return Err(e);
        }
    };
    let result = body(&mut terminal).await;
    ratatui::restore();
    result
}

/// The running diagnosis, if any. Dropping it cancels the run.
#[derive(Default)]
struct Runner {
    handle: Option<JoinHandle<Report>>,
    events: Option<mpsc::Receiver<Event>>,
}

impl Runner {
    fn start(&mut self, plan: Plan) {
        self.stop();
        let (handle, events) = diagnose::spawn(plan);
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

/// The event loop. `plan_for` says which plan a start effect runs (`None`: nothing to run).
async fn run_loop(
    terminal: &mut DefaultTerminal,
    app: &mut App,
    mut plan_for: impl FnMut(&Effect) -> Option<Plan>,
) -> io::Result<()> {
    let mut input = EventStream::new();
    let mut runner = Runner::default();
    let mut tick = tokio::time::interval(SPIN_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    // The keyring probe can block on D-Bus: ask it off the UI task.
    let mut keyring = Some(tokio::task::spawn_blocking(keyring_label));

    // A live screen starts its run at once; a demo waits for a pick.
    let mut effect = if app.demo.is_none() {
        Effect::StartRun
    } else {
        Effect::Redraw
    };
    loop {
        match &effect {
            Effect::Nothing => {}
            Effect::Quit => return Ok(()),
            Effect::Redraw => {
                terminal.draw(|f| view(app, f))?;
            }
            Effect::StartRun | Effect::StartScenario(_) => {
                if let Some(plan) = plan_for(&effect) {
                    let target = plan.target.url();
                    runner.start(plan);
                    update(app, Action::RunStarted { target });
                }
                terminal.draw(|f| view(app, f))?;
            }
        }
        if app.quit {
            return Ok(());
        }

        let animating = app.animating();
        let action = tokio::select! {
            ev = input.next() => match ev {
                Some(Ok(ev)) => match Action::from_terminal(ev) {
                    Some(a) => a,
                    None => {
                        effect = Effect::Nothing;
                        continue;
                    }
                },
                Some(Err(e)) => return Err(e),
                // The terminal went away: nothing more can be shown or asked.
                None => Action::Quit,
            },
            ev = Runner::next(&mut runner.events) => match ev {
                Some(ev) => Action::Engine(ev),
                None => {
                    // The run ended and its channel closed.
                    runner.events = None;
                    effect = Effect::Nothing;
                    continue;
                }
            },
            _ = tick.tick(), if animating => Action::Tick,
            label = async {
                match keyring.as_mut() {
                    Some(handle) => handle.await,
                    None => std::future::pending().await,
                }
            }, if keyring.is_some() => {
                keyring = None;
                match label {
                    Ok(l) => Action::Keyring(l),
                    Err(_) => {
                        effect = Effect::Nothing;
                        continue;
                    }
                }
            }
        };
        effect = update(app, action);
    }
}

/// "keyring: Secret Service keyring" or why none works, for the header.
fn keyring_label() -> String {
    use strings as s;
    let status = crate::secrets::status();
    match status.backend {
        Some(b @ crate::secrets::Backend::KernelKeyutils) => {
            format!("{} {} (lost at reboot)", s::KEYRING_PREFIX, b.describe())
        }
        Some(b) => format!("{} {}", s::KEYRING_PREFIX, b.describe()),
        None => format!("{} {}", s::KEYRING_PREFIX, s::KEYRING_NONE),
    }
}
