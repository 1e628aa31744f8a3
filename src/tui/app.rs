//! TUI state and its one pure transition: `update(&mut App, Action) -> Effect`.
//!
//! Nothing here touches a terminal, a clock or a socket: the event loop in `mod.rs` turns
//! terminal input and engine events into [`Action`]s and carries out the returned [`Effect`].

use crate::diagnose::{Event, Report, Stage, StageReport, Status};

use super::strings as s;

/// The stages the progress screen shows, in the order they run.
pub const STAGES: [Stage; 6] = [
    Stage::Dns,
    Stage::Tcp,
    Stage::Tls,
    Stage::Ws,
    Stage::Mqtt,
    Stage::Sub,
];

/// Which pane the selection keys move in demo mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Scenarios,
    Stages,
}

/// The scenario picker of `mqtt-doctor demo`.
#[derive(Debug, Clone, PartialEq)]
pub struct Demo {
    /// `(id, title)` of each scenario, in display order.
    pub scenarios: Vec<(String, String)>,
    /// The highlighted scenario.
    pub selected: usize,
    /// The scenario whose run is on screen.
    pub active: Option<usize>,
    pub focus: Focus,
}

#[derive(Debug, Clone, PartialEq)]
pub struct App {
    /// The URL under diagnosis (without user information), empty before a demo pick.
    pub target: String,
    /// One report per stage, in [`STAGES`] order (a stage the engine adds is inserted in order).
    pub stages: Vec<StageReport>,
    /// Index into `stages` whose facts are shown.
    pub selected: usize,
    /// Whether the selection follows the running stage (until the user moves it).
    pub follow: bool,
    /// Spinner frame, advanced by [`Action::Tick`].
    pub spinner: usize,
    /// Whether a run has been started.
    pub started: bool,
    /// The final report once the engine finished.
    pub report: Option<Report>,
    pub quit: bool,
    /// `Some` in demo mode.
    pub demo: Option<Demo>,
    /// Which OS keyring holds profile secrets and whether they survive a reboot (looked up
    /// in the background when the screen opens).
    pub keyring: Option<String>,
    /// How far the facts pane is scrolled, and for which stage (another stage starts at top).
    pub facts_scroll: (usize, u16),
    /// The furthest the facts pane could scroll at the last draw (the drawing knows the
    /// pane's size; scrolling stops there so PgUp answers at once).
    pub facts_max_scroll: std::cell::Cell<u16>,
}

pub use super::keymap::{Key, KeyInput, KeyKind};

/// The app's tabs, in tab-bar order (1–4 select). Certificates and Chain arrive with issue 12:
/// the tab bar keeps their place, nothing is drawn for them yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tab {
    Profiles,
    Diagnose,
    Certificates,
    Chain,
}

impl Tab {
    pub const ALL: [Tab; 4] = [Tab::Profiles, Tab::Diagnose, Tab::Certificates, Tab::Chain];

    /// Whether the tab exists yet (issue 12 adds the other two).
    pub fn available(self) -> bool {
        matches!(self, Tab::Profiles | Tab::Diagnose)
    }
}

/// What happened.
#[derive(Debug, Clone)]
pub enum Action {
    Engine(Event),
    Key(KeyInput),
    Tick,
    Resize,
    /// The loop started a run against `target`: reset the stages.
    RunStarted {
        target: String,
    },
    Rerun,
    Quit,
    SelectUp,
    SelectDown,
    ToggleFocus,
    PickScenario(usize),
    /// The keyring status, once known.
    Keyring(String),
    /// Scroll the facts pane by this many rows (negative: up).
    ScrollFacts(i32),
}

/// Rows one PgUp/PgDn moves the facts pane.
pub const FACTS_PAGE: u16 = 8;

impl Action {
    /// Turns a terminal event into an action; `None` for events the TUI ignores.
    pub fn from_terminal(ev: crossterm::event::Event) -> Option<Action> {
        match ev {
            crossterm::event::Event::Key(k) => Some(Action::Key(KeyInput::from_crossterm(k))),
            crossterm::event::Event::Resize(..) => Some(Action::Resize),
            _ => None,
        }
    }
}

/// What the event loop must do after an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Nothing,
    Redraw,
    /// Abort the current run (if any) and start the plan again.
    StartRun,
    /// Abort the current run (if any) and start this demo scenario.
    StartScenario(String),
    Quit,
}

/// What a key binding does (resolved against the app into an [`Action`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    SelectUp,
    SelectDown,
    Rerun,
    Quit,
    ToggleFocus,
    Pick,
    ScrollUp,
    ScrollDown,
}

/// One row of a screen's key table: the keys, the footer label and hint, and the command.
#[derive(Debug)]
pub struct Binding {
    pub keys: &'static [Key],
    pub label: &'static str,
    pub hint: &'static str,
    pub command: Command,
}

const UP: Binding = Binding {
    keys: &[Key::Up, Key::Char('k')],
    label: s::KEY_UP,
    hint: s::HINT_UP,
    command: Command::SelectUp,
};
const DOWN: Binding = Binding {
    keys: &[Key::Down, Key::Char('j')],
    label: s::KEY_DOWN,
    hint: s::HINT_DOWN,
    command: Command::SelectDown,
};
const RERUN: Binding = Binding {
    keys: &[Key::Char('r')],
    label: s::KEY_RERUN,
    hint: s::HINT_RERUN,
    command: Command::Rerun,
};
const QUIT: Binding = Binding {
    keys: &[Key::Char('q'), Key::Esc],
    label: s::KEY_QUIT,
    hint: s::HINT_QUIT,
    command: Command::Quit,
};
const PICK: Binding = Binding {
    keys: &[Key::Enter],
    label: s::KEY_ENTER,
    hint: s::HINT_PICK,
    command: Command::Pick,
};
const TO_STAGES: Binding = Binding {
    keys: &[Key::Tab, Key::BackTab],
    label: s::KEY_TAB,
    hint: s::HINT_TO_STAGES,
    command: Command::ToggleFocus,
};
const TO_SCENARIOS: Binding = Binding {
    keys: &[Key::Tab, Key::BackTab],
    label: s::KEY_TAB,
    hint: s::HINT_TO_SCENARIOS,
    command: Command::ToggleFocus,
};

const SCROLL_DOWN: Binding = Binding {
    keys: &[Key::PageDown, Key::Char(' ')],
    label: s::KEY_SCROLL,
    hint: s::HINT_SCROLL,
    command: Command::ScrollDown,
};
/// Shown in the footer together with SCROLL_DOWN (empty label: no hint of its own).
const SCROLL_UP: Binding = Binding {
    keys: &[Key::PageUp],
    label: "",
    hint: "",
    command: Command::ScrollUp,
};

/// The progress screen of a single diagnosis.
pub const STAGE_KEYS: &[Binding] = &[UP, DOWN, SCROLL_DOWN, SCROLL_UP, RERUN, QUIT];
/// Demo mode, focus on the stages.
pub const DEMO_STAGE_KEYS: &[Binding] =
    &[UP, DOWN, SCROLL_DOWN, SCROLL_UP, RERUN, TO_SCENARIOS, QUIT];
/// Demo mode, focus on the scenario list.
pub const SCENARIO_KEYS: &[Binding] = &[UP, DOWN, PICK, TO_STAGES, QUIT];

impl App {
    /// The progress screen for one target.
    pub fn new(target: impl Into<String>) -> App {
        App {
            target: target.into(),
            stages: STAGES.into_iter().map(StageReport::new).collect(),
            selected: 0,
            follow: true,
            spinner: 0,
            started: false,
            report: None,
            quit: false,
            demo: None,
            keyring: None,
            facts_scroll: (0, 0),
            facts_max_scroll: std::cell::Cell::new(u16::MAX),
        }
    }

    /// The demo screen: a scenario list (`(id, title)`) above the stages, focus on the list.
    pub fn demo(scenarios: Vec<(String, String)>) -> App {
        App {
            demo: Some(Demo {
                scenarios,
                selected: 0,
                active: None,
                focus: Focus::Scenarios,
            }),
            ..App::new("")
        }
    }

    /// Whether something on screen animates (the spinner of a running stage).
    pub fn animating(&self) -> bool {
        self.stages.iter().any(|s| s.status == Status::Running)
    }

    pub fn selected_stage(&self) -> Option<&StageReport> {
        self.stages.get(self.selected)
    }

    pub fn focus(&self) -> Focus {
        self.demo.as_ref().map_or(Focus::Stages, |d| d.focus)
    }

    /// The key table of the screen as it is now.
    pub fn keymap(&self) -> &'static [Binding] {
        match &self.demo {
            None => STAGE_KEYS,
            Some(d) if d.focus == Focus::Scenarios => SCENARIO_KEYS,
            Some(_) => DEMO_STAGE_KEYS,
        }
    }

    fn command_action(&self, command: Command) -> Action {
        match command {
            Command::SelectUp => Action::SelectUp,
            Command::SelectDown => Action::SelectDown,
            Command::Rerun => Action::Rerun,
            Command::Quit => Action::Quit,
            Command::ToggleFocus => Action::ToggleFocus,
            Command::ScrollUp => Action::ScrollFacts(-(FACTS_PAGE as i32)),
            Command::ScrollDown => Action::ScrollFacts(FACTS_PAGE as i32),
            Command::Pick => Action::PickScenario(self.demo.as_ref().map_or(0, |d| d.selected)),
        }
    }

    /// Index of a stage's report, inserting a report for a stage the screen did not list.
    fn slot(&mut self, stage: Stage) -> usize {
        if let Some(i) = self.stages.iter().position(|r| r.stage == stage) {
            return i;
        }
        let i = self
            .stages
            .iter()
            .position(|r| r.stage > stage)
            .unwrap_or(self.stages.len());
        self.stages.insert(i, StageReport::new(stage));
        if self.selected >= i && !self.follow && self.selected + 1 < self.stages.len() {
            self.selected += 1;
        }
        i
    }

    fn reset(&mut self, target: String) {
        self.target = target;
        self.stages = STAGES.into_iter().map(StageReport::new).collect();
        self.selected = 0;
        self.follow = true;
        self.spinner = 0;
        self.started = true;
        self.report = None;
    }

    fn on_engine(&mut self, event: Event) -> Effect {
        match event {
            Event::StageStarted(stage) => {
                let i = self.slot(stage);
                if let Some(r) = self.stages.get_mut(i) {
                    r.status = Status::Running;
                }
                if self.follow {
                    self.selected = i;
                }
            }
            Event::Fact { stage, key, value } => {
                let i = self.slot(stage);
                if let Some(r) = self.stages.get_mut(i) {
                    r.facts.push(key, value);
                }
            }
            Event::StageFinished(report) => {
                let i = self.slot(report.stage);
                let failed = report.status == Status::Failed;
                if let Some(r) = self.stages.get_mut(i) {
                    *r = report;
                }
                if failed && self.follow {
                    self.selected = i;
                }
            }
            Event::Finished(report) => {
                for r in &report.stages {
                    let i = self.slot(r.stage);
                    if let Some(slot) = self.stages.get_mut(i) {
                        *slot = r.clone();
                    }
                }
                let failed = report.verdict.stage.filter(|_| !report.verdict.ok);
                let failed_at =
                    failed.and_then(|st| self.stages.iter().position(|r| r.stage == st));
                if let (true, Some(i)) = (self.follow, failed_at) {
                    self.selected = i;
                }
                self.report = Some(*report);
            }
        }
        Effect::Redraw
    }
}

/// Applies one action to the state and says what the loop must do next. Pure.
pub fn update(app: &mut App, action: Action) -> Effect {
    match action {
        Action::Engine(event) => app.on_engine(event),
        Action::Key(input) => {
            if input.kind != KeyKind::Press {
                return Effect::Nothing;
            }
            if input.is_interrupt() {
                return update(app, Action::Quit);
            }
            let command = app
                .keymap()
                .iter()
                .find(|b| b.keys.contains(&input.key))
                .map(|b| b.command);
            match command {
                Some(c) => {
                    let action = app.command_action(c);
                    update(app, action)
                }
                None => Effect::Nothing,
            }
        }
        Action::Tick => {
            if app.animating() {
                app.spinner = (app.spinner + 1) % s::SPINNER.len();
                Effect::Redraw
            } else {
                Effect::Nothing
            }
        }
        Action::Resize => Effect::Redraw,
        Action::ScrollFacts(rows) => {
            let current = if app.facts_scroll.0 == app.selected {
                app.facts_scroll.1
            } else {
                0
            };
            let next = if rows < 0 {
                current.saturating_sub(rows.unsigned_abs() as u16)
            } else {
                current
                    .saturating_add(rows as u16)
                    .min(app.facts_max_scroll.get())
            };
            app.facts_scroll = (app.selected, next);
            Effect::Redraw
        }
        Action::Keyring(label) => {
            app.keyring = Some(label);
            Effect::Redraw
        }
        Action::RunStarted { target } => {
            app.reset(target);
            Effect::Redraw
        }
        Action::Rerun => match &app.demo {
            None => Effect::StartRun,
            Some(d) => match d.active.and_then(|i| d.scenarios.get(i)) {
                Some((id, _)) => Effect::StartScenario(id.clone()),
                None => Effect::Nothing,
            },
        },
        Action::Quit => {
            app.quit = true;
            Effect::Quit
        }
        Action::SelectUp | Action::SelectDown => {
            let up = matches!(action, Action::SelectUp);
            let (index, len) = match &mut app.demo {
                Some(d) if d.focus == Focus::Scenarios => (&mut d.selected, d.scenarios.len()),
                _ => {
                    app.follow = false;
                    (&mut app.selected, app.stages.len())
                }
            };
            let next = if up {
                index.saturating_sub(1)
            } else {
                (*index + 1).min(len.saturating_sub(1))
            };
            if next == *index {
                Effect::Nothing
            } else {
                *index = next;
                // A newly selected stage shows its facts from the top.
                app.facts_scroll = (usize::MAX, 0);
                Effect::Redraw
            }
        }
        Action::ToggleFocus => match &mut app.demo {
            Some(d) => {
                d.focus = match d.focus {
                    Focus::Scenarios => Focus::Stages,
                    Focus::Stages => Focus::Scenarios,
                };
                Effect::Redraw
            }
            None => Effect::Nothing,
        },
        Action::PickScenario(i) => match &mut app.demo {
            Some(d) => match d.scenarios.get(i) {
                Some((id, _)) => {
                    let id = id.clone();
                    d.selected = i;
                    d.active = Some(i);
                    Effect::StartScenario(id)
                }
                None => Effect::Nothing,
            },
            None => Effect::Nothing,
        },
    }
}
