//! App state and its one pure transition: `update(&mut App, Action) -> Vec<Effect>`.
//!
//! Nothing here touches a terminal, a clock or a socket: the event loop in `mod.rs` turns
//! terminal input, engine events and background results into [`Action`]s and carries out the
//! returned [`Effect`]s (start or cancel a run, load or store profiles, write to the terminal).

use std::cell::Cell;
use std::sync::Arc;

use ratatui::layout::Rect;

use crate::diagnose::{Event, Report};
use crate::report::bundle::Bundle;

use super::bundle::{self, Draft, Kept, RunInputs};

use super::certs::{CertsCommand, CertsEffect, CertsEvent, CertsTab};
use super::chain::{ChainEffect, ChainEvent, ChainTab};
use super::clipboard::{self, Mux};
use super::diagnose::{self, DiagnoseTab, RunSource};
use super::keymap::{Command, Context, DiagnoseCommand, GlobalCommand, Keymap, PopupCommand};
use super::look::{Look, ellipsize};
use super::profiles::{ProfilesEffect, ProfilesEvent, ProfilesTab, RowStatus, StoreJob};
use super::strings as s;

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

    pub fn title(self) -> &'static str {
        match self {
            Tab::Profiles => s::TAB_PROFILES,
            Tab::Diagnose => s::TAB_DIAGNOSE,
            Tab::Certificates => s::TAB_CERTIFICATES,
            Tab::Chain => s::TAB_CHAIN,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Popup {
    /// The `?` overlay, listing the bindings of `context` (where the user was).
    Help { context: Context, scroll: u16 },
    /// Quit asked while a profile edit is unsaved.
    ConfirmQuit,
    /// `b` on Diagnose: the bundle's files and target path, before anything is written.
    Bundle(Draft),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MouseKind {
    Click,
    ScrollUp,
    ScrollDown,
}

/// What happened.
#[derive(Debug, Clone)]
pub enum Action {
    Key(KeyInput),
    /// A bracketed paste: the text arrives whole.
    Paste(String),
    Mouse {
        kind: MouseKind,
        column: u16,
        row: u16,
    },
    /// An event of the Diagnose tab's live run.
    Engine(Event),
    Tick,
    Resize,
    /// The keyring status line, once known.
    Keyring(String),
    Profiles(ProfilesEvent),
    Certs(CertsEvent),
    /// The result of the Chain tab's save.
    Chain(ChainEvent),
    /// The plan of run `number` is ready and its engine started against `target`.
    Started {
        number: usize,
        target: String,
    },
    CannotRun {
        number: usize,
        why: String,
    },
    /// Open the Diagnose tab running this (start-up: `--profile NAME`, a URL).
    Open(RunSource),
    /// What run `number` was made from (sent with [`Action::Started`]).
    Inputs {
        number: usize,
        inputs: Arc<RunInputs>,
    },
    /// The bundle of run `number` was built off the UI task, with its default path.
    BundleReady {
        number: usize,
        result: Result<(Bundle, String), String>,
    },
    /// The bundle was written: (path, number of files), or why not.
    BundleWritten(Result<(String, usize), String>),
    /// SIGTERM, SIGHUP, the terminal went away: quit without asking.
    Terminate,
}

/// What the event loop must do after an update.
#[derive(Debug, Clone)]
pub enum Effect {
    Redraw,
    Quit,
    /// Abort the live run (if any), resolve the source's plan off the UI task and start it;
    /// report back with [`Action::Started`] or [`Action::CannotRun`].
    Start {
        number: usize,
        source: RunSource,
    },
    /// Abort the live run.
    Cancel,
    Store(StoreJob),
    /// A Certificates-tab job (examine a file, save to the keyring), off the UI task.
    Certs(super::certs::Job),
    /// Diagnose these profiles concurrently (bounded), feeding `ProfilesEvent::Row` back.
    RunAll(Vec<String>),
    /// Bytes for the terminal itself (OSC 52).
    Write(Vec<u8>),
    /// Mouse capture on or off.
    Mouse(bool),
    /// Build the bundle of a finished run off the UI task; answer with [`Action::BundleReady`].
    BuildBundle {
        number: usize,
        inputs: Arc<RunInputs>,
        report: Box<Report>,
    },
    /// Write a built bundle off the UI task; answer with [`Action::BundleWritten`].
    WriteBundle {
        path: String,
        bundle: Arc<Bundle>,
    },
    /// Write the Chain tab's PEM file (`chain::save_pem`), answering with [`Action::Chain`].
    SaveChain {
        path: std::path::PathBuf,
        pem: String,
        overwrite: bool,
    },
}

#[derive(Debug)]
pub struct App {
    pub tab: Tab,
    pub profiles: ProfilesTab,
    pub diagnose: DiagnoseTab,
    pub certs: CertsTab,
    pub chain: ChainTab,
    pub popup: Option<Popup>,
    pub look: Look,
    pub keymap: Keymap,
    /// "keyring: Secret Service (survives a reboot)", once looked up off the UI task.
    pub keyring: Option<String>,
    /// The profiles file shown in the status line; `None` in the demo (in memory).
    pub profiles_file: Option<String>,
    pub demo: bool,
    /// The last one-line message (copied, refused, …).
    pub status: Option<String>,
    pub mouse: bool,
    pub mux: Mux,
    pub quit: bool,
    /// Where each tab's label was drawn, for clicks.
    pub tab_areas: Cell<[Rect; 4]>,
}

impl App {
    pub fn new(profiles: ProfilesTab, look: Look, keymap: Keymap) -> App {
        App {
            tab: Tab::Profiles,
            profiles,
            diagnose: DiagnoseTab::default(),
            certs: CertsTab::new(None, std::env::current_dir().unwrap_or_default()),
            chain: ChainTab::default(),
            popup: None,
            look,
            keymap,
            keyring: None,
            profiles_file: None,
            demo: false,
            status: None,
            mouse: true,
            mux: Mux::None,
            quit: false,
            tab_areas: Cell::new([Rect::default(); 4]),
        }
    }

    /// Where the user is, for key lookup, footer hints and `?`.
    pub fn context(&self) -> Context {
        match &self.popup {
            Some(Popup::Help { .. }) => Context::Help,
            Some(Popup::ConfirmQuit) => Context::ConfirmQuit,
            Some(Popup::Bundle(_)) => Context::Bundle,
            None => match self.tab {
                Tab::Profiles => Context::Profiles(self.profiles.context()),
                Tab::Diagnose => Context::Diagnose,
                Tab::Chain => Context::Chain(self.chain.context()),
                Tab::Certificates => Context::Certs(self.certs.context()),
            },
        }
    }

    /// Whether something on screen animates (a spinner of the visible run, or of a running
    /// row in Profiles); only then does the loop tick.
    pub fn animating(&self) -> bool {
        match self.tab {
            Tab::Diagnose => self.diagnose.animating(),
            Tab::Profiles => self.profiles.rows_running(),
            _ => false,
        }
    }

    fn set_tab(&mut self, tab: Tab) -> Vec<Effect> {
        let mut out = Vec::new();
        if tab == Tab::Certificates {
            let known = self.profiles.names();
            let effects = self.certs.enter(self.profiles.selected_name(), known);
            self.certs.keyring = self.keyring.clone();
            out = self.certs_effects(effects);
        }
        let from = self.tab;
        self.tab = tab;
        if tab == Tab::Chain {
            self.sync_chain(from);
        }
        out.push(Effect::Redraw);
        out
    }

    fn cycle_tab(&mut self, forward: bool) -> Vec<Effect> {
        self.set_tab(super::cycle(&Tab::ALL, self.tab, forward))
    }

    /// The Chain tab takes the chain of the last diagnosis of the profile selected on
    /// Profiles (coming from there), else of the Diagnose tab's shown run, when that is a
    /// newer one than it shows.
    fn sync_chain(&mut self, from: Tab) {
        let selected = self
            .profiles
            .selected_name()
            .filter(|_| from == Tab::Profiles);
        let of_selected = selected.and_then(|name| {
            self.diagnose.runs.iter().rev().find(|r| {
                r.report.is_some() && matches!(&r.source, RunSource::Profile(n) if n == name)
            })
        });
        if let Some(run) = of_selected.or_else(|| self.diagnose.shown_run())
            && let Some(report) = &run.report
        {
            self.chain
                .sync_report(run.number, run.source.label(), report);
        }
    }

    /// Run `number` finished: the Chain tab notes it, and takes its chains at once when it is
    /// on screen (otherwise when the user switches to it, [`App::sync_chain`]).
    fn chain_run_finished(&mut self, number: usize, label: &str, report: &Report) {
        self.chain.run_finished(number);
        if self.tab == Tab::Chain {
            self.chain.sync_report(number, label, report);
        }
    }

    fn chain_effects(&mut self, effects: Vec<ChainEffect>) -> Vec<Effect> {
        let mut out = Vec::new();
        for e in effects {
            match e {
                ChainEffect::Redraw => out.push(Effect::Redraw),
                ChainEffect::Status(msg) => {
                    self.status = Some(msg);
                    out.push(Effect::Redraw);
                }
                ChainEffect::Copy(text) => out.extend(self.copy_out(text)),
                ChainEffect::Save {
                    path,
                    pem,
                    overwrite,
                } => out.push(Effect::SaveChain {
                    path,
                    pem,
                    overwrite,
                }),
            }
        }
        out
    }

    /// q or Esc at the top level: quit, or ask first when an edit is unsaved.
    fn request_quit(&mut self) -> Vec<Effect> {
        if self.profiles.dirty() {
            self.popup = Some(Popup::ConfirmQuit);
            vec![Effect::Redraw]
        } else {
            self.quit = true;
            vec![Effect::Quit]
        }
    }

    /// Starts a run of `source` on the Diagnose tab (a live run is cancelled first).
    fn start(&mut self, source: RunSource) -> Vec<Effect> {
        let mut out = self.cancel_live();
        let number = self.diagnose.begin(source.clone());
        self.tab = Tab::Diagnose;
        if let RunSource::Profile(name) = &source {
            out.extend(self.row(name.clone(), RowStatus::Running));
        }
        out.push(Effect::Start { number, source });
        out.push(Effect::Redraw);
        out
    }

    fn cancel_live(&mut self) -> Vec<Effect> {
        let source = self.diagnose.live_run().map(|r| r.source.clone());
        if !self.diagnose.cancel() {
            return Vec::new();
        }
        let mut out = vec![Effect::Cancel];
        if let Some(RunSource::Profile(name)) = source {
            out.extend(self.row(name, RowStatus::CannotRun(s::WORD_CANCELLED.to_string())));
        }
        out.push(Effect::Redraw);
        out
    }

    fn row(&mut self, name: String, status: RowStatus) -> Vec<Effect> {
        let effects = self.profiles.on_event(ProfilesEvent::Row { name, status });
        self.profiles_effects(effects)
    }

    fn profiles_effects(&mut self, effects: Vec<ProfilesEffect>) -> Vec<Effect> {
        let mut out = Vec::new();
        for e in effects {
            match e {
                ProfilesEffect::Redraw => out.push(Effect::Redraw),
                ProfilesEffect::Store(job) => out.push(Effect::Store(job)),
                ProfilesEffect::Run { name } => out.extend(self.start(RunSource::Profile(name))),
                ProfilesEffect::RunAll { names } => out.push(Effect::RunAll(names)),
                ProfilesEffect::Status(msg) => {
                    self.status = Some(msg);
                    out.push(Effect::Redraw);
                }
            }
        }
        out
    }

    fn certs_effects(&mut self, effects: Vec<CertsEffect>) -> Vec<Effect> {
        let mut out = Vec::new();
        for e in effects {
            match e {
                CertsEffect::Redraw => out.push(Effect::Redraw),
                CertsEffect::Job(job) => out.push(Effect::Certs(job)),
                CertsEffect::Leave => out.extend(self.set_tab(Tab::Profiles)),
                CertsEffect::Status(msg) => {
                    self.status = Some(msg);
                    out.push(Effect::Redraw);
                }
                CertsEffect::InspectChain {
                    der,
                    analysis,
                    label,
                } => {
                    // Take the shown run first, so switching tabs does not replace this chain
                    // with a diagnosis the user already had.
                    self.sync_chain(Tab::Certificates);
                    self.chain.show_analysis(
                        der,
                        *analysis,
                        &format!("{} {label}", s::LOADED_IN_WIZARD),
                    );
                    self.tab = Tab::Chain;
                    out.push(Effect::Redraw);
                }
            }
        }
        out
    }

    fn copy(&mut self) -> Vec<Effect> {
        let text = match self.tab {
            Tab::Profiles => self
                .profiles
                .copy_text()
                .or_else(|| self.profiles.selected_name().map(str::to_string)),
            Tab::Diagnose => diagnose::view::copy_text(&self.diagnose, &self.look),
            Tab::Chain => self.chain.copy_text(),
            _ => None,
        };
        let Some(text) = text else {
            self.status = Some(s::NOTHING_TO_COPY.to_string());
            return vec![Effect::Redraw];
        };
        self.copy_out(text)
    }

    fn copy_out(&mut self, text: String) -> Vec<Effect> {
        match clipboard::osc52(&text, self.mux) {
            Ok(bytes) => {
                let first = text.lines().next().unwrap_or("");
                self.status = Some(format!(
                    "{} {}",
                    s::COPIED,
                    ellipsize(&crate::text::sanitize(first), 60, &self.look.glyphs)
                ));
                vec![Effect::Write(bytes), Effect::Redraw]
            }
            Err(e) => {
                self.status = Some(e);
                vec![Effect::Redraw]
            }
        }
    }

    fn command(&mut self, command: Command) -> Vec<Effect> {
        use DiagnoseCommand as D;
        use GlobalCommand as G;
        match command {
            Command::Global(g) => match g {
                G::TabProfiles => self.set_tab(Tab::Profiles),
                G::TabDiagnose => self.set_tab(Tab::Diagnose),
                G::TabCertificates => self.set_tab(Tab::Certificates),
                G::TabChain => self.set_tab(Tab::Chain),
                G::NextTab => self.cycle_tab(true),
                G::PrevTab => self.cycle_tab(false),
                G::Help => self.open_help(),
                G::Quit | G::Back => self.request_quit(),
                G::ToggleMouse => {
                    self.mouse = !self.mouse;
                    self.status = Some(
                        if self.mouse {
                            s::MOUSE_ON_MSG
                        } else {
                            s::MOUSE_OFF_MSG
                        }
                        .to_string(),
                    );
                    vec![Effect::Mouse(self.mouse), Effect::Redraw]
                }
                G::Copy => self.copy(),
            },
            Command::Diagnose(d) => match d {
                D::Rerun => match self.diagnose.shown_run().map(|r| r.source.clone()) {
                    Some(source) => self.start(source),
                    None => {
                        self.status = Some(s::NOTHING_TO_RERUN.to_string());
                        vec![Effect::Redraw]
                    }
                },
                D::Cancel => {
                    let out = self.cancel_live();
                    if out.is_empty() {
                        // Nothing runs: Esc goes back to the list.
                        self.set_tab(Tab::Profiles)
                    } else {
                        out
                    }
                }
                D::Edit => match self.diagnose.shown_run().map(|r| r.source.clone()) {
                    Some(RunSource::Profile(_)) if self.demo => {
                        self.status = Some(s::DEMO_NO_EDIT.to_string());
                        vec![Effect::Redraw]
                    }
                    Some(RunSource::Profile(name)) => {
                        self.profiles.open_form(&name);
                        self.tab = Tab::Profiles;
                        vec![Effect::Redraw]
                    }
                    Some(RunSource::Url(_)) => {
                        self.status = Some(s::NOT_A_PROFILE.to_string());
                        vec![Effect::Redraw]
                    }
                    None => Vec::new(),
                },
                D::Bundle => self.build_bundle(),
                nav => {
                    if self.diagnose.navigate(nav) {
                        vec![Effect::Redraw]
                    } else {
                        Vec::new()
                    }
                }
            },
            Command::Popup(p) => match p {
                PopupCommand::Close => {
                    self.popup = None;
                    vec![Effect::Redraw]
                }
                PopupCommand::Up | PopupCommand::Down => {
                    if let Some(Popup::Help { scroll, .. }) = &mut self.popup {
                        *scroll = if p == PopupCommand::Up {
                            scroll.saturating_sub(1)
                        } else {
                            scroll.saturating_add(1)
                        };
                    }
                    vec![Effect::Redraw]
                }
                PopupCommand::ConfirmQuit => {
                    self.quit = true;
                    vec![Effect::Quit]
                }
                PopupCommand::WriteBundle => self.write_bundle(),
            },
            Command::Profiles(c) => {
                let effects = self.profiles.command(c);
                self.profiles_effects(effects)
            }
            Command::Chain(c) => {
                let effects = self.chain.command(c);
                self.chain_effects(effects)
            }
            Command::Certs(CertsCommand::Help) => self.open_help(),
            Command::Certs(c) => {
                let effects = self.certs.command(c);
                self.certs_effects(effects)
            }
            Command::CertsExport(c) => {
                let effects = self.certs.export_command(c);
                self.certs_effects(effects)
            }
        }
    }

    fn open_help(&mut self) -> Vec<Effect> {
        self.popup = Some(Popup::Help {
            context: self.context(),
            scroll: 0,
        });
        vec![Effect::Redraw]
    }

    fn on_key(&mut self, key: KeyInput) -> Vec<Effect> {
        if key.kind != KeyKind::Press {
            return Vec::new();
        }
        if key.is_interrupt() {
            self.quit = true;
            return vec![Effect::Quit];
        }
        // Esc pressed twice quickly reaches the app as one Alt-Esc (the terminal's ESC prefix
        // for Alt). Unless Alt-Esc is bound where the user is, it is two Escs: back two steps.
        if key.key == Key::Esc
            && key.alt
            && !key.ctrl
            && self.keymap.lookup(self.context(), &key).is_none()
        {
            let once = KeyInput { alt: false, ..key };
            let mut out = self.on_key(once);
            if !self.quit {
                out.extend(self.on_key(once));
            }
            return out;
        }
        if let Some(Popup::Bundle(d)) = &mut self.popup
            && is_text_key(&key)
        {
            d.edit(key.key);
            return vec![Effect::Redraw];
        }
        if self.popup.is_none() && self.tab == Tab::Certificates {
            if self.certs.busy && !key.ctrl && !key.alt {
                // Examining or saving: the step changes when the job answers.
                if key.key == Key::Esc && self.certs.stop_waiting() {
                    return vec![Effect::Redraw];
                }
                return Vec::new();
            }
            if self.certs.takes_as_text(&key) {
                self.status = None;
                let effects = self.certs.text_key(key);
                return self.certs_effects(effects);
            }
        }
        if self.popup.is_none()
            && self.tab == Tab::Profiles
            && self.profiles.takes_text()
            && is_text_key(&key)
        {
            let effects = self.profiles.text_key(key);
            return self.profiles_effects(effects);
        }
        if self.popup.is_none()
            && self.tab == Tab::Chain
            && self.chain.takes_text()
            && is_text_key(&key)
        {
            let effects = self.chain.text_key(key);
            return self.chain_effects(effects);
        }
        // A new key press replaces the last message.
        let had_status = self.status.take().is_some();
        let mut out = match self.keymap.lookup(self.context(), &key) {
            Some(command) => self.command(command),
            None => Vec::new(),
        };
        if had_status && !out.iter().any(|e| matches!(e, Effect::Redraw)) {
            out.push(Effect::Redraw);
        }
        out
    }

    /// A paste goes to the focused text field: the wizard's paste buffer takes it whole, any
    /// other field has it typed one character at a time up to the first line end. Where no
    /// text field has focus it is dropped: a list's letters are commands.
    fn on_paste(&mut self, text: &str) -> Vec<Effect> {
        if self.popup.is_none()
            && self.tab == Tab::Certificates
            && let Some(effects) = self.certs.paste_text(text)
        {
            self.status = None;
            return self.certs_effects(effects);
        }
        let takes_text = match &self.popup {
            Some(Popup::Bundle(_)) => true,
            Some(_) => false,
            None => match self.tab {
                Tab::Profiles => self.profiles.takes_text(),
                Tab::Chain => self.chain.takes_text(),
                Tab::Certificates => !self.certs.busy && self.certs.takes_text(),
                Tab::Diagnose => false,
            },
        };
        if !takes_text {
            return Vec::new();
        }
        let mut out = Vec::new();
        for c in text
            .chars()
            .take_while(|c| *c != '\n' && *c != '\r')
            .filter(|c| !c.is_control())
        {
            out.extend(self.on_key(KeyInput::press(Key::Char(c))));
        }
        out
    }

    /// `b`: builds the shown run's bundle off the UI task (the popup opens when it is ready).
    fn build_bundle(&mut self) -> Vec<Effect> {
        let msg = match self.diagnose.shown_run() {
            None => bundle::NO_RUN,
            Some(r) if r.live() => bundle::NOT_FINISHED,
            Some(r) => match (&r.report, &r.inputs) {
                (Some(report), Some(Kept(inputs))) => {
                    let effect = Effect::BuildBundle {
                        number: r.number,
                        inputs: inputs.clone(),
                        report: Box::new(report.clone()),
                    };
                    self.status = Some(bundle::BUILDING.to_string());
                    return vec![effect, Effect::Redraw];
                }
                (None, _) => bundle::NO_RESULT,
                (Some(_), None) => bundle::NO_INPUTS,
            },
        };
        self.status = Some(msg.to_string());
        vec![Effect::Redraw]
    }

    /// Enter in the bundle popup: writes it where the path field says.
    fn write_bundle(&mut self) -> Vec<Effect> {
        let Some(Popup::Bundle(d)) = &self.popup else {
            return Vec::new();
        };
        let path = d.path.trim().to_string();
        if path.is_empty() {
            self.status = Some(bundle::EMPTY_PATH.to_string());
            return vec![Effect::Redraw];
        }
        let bundle = d.bundle.clone();
        self.popup = None;
        self.status = Some(bundle::WRITING.to_string());
        vec![Effect::WriteBundle { path, bundle }, Effect::Redraw]
    }

    fn on_mouse(&mut self, kind: MouseKind, column: u16, row: u16) -> Vec<Effect> {
        let hit =
            |r: Rect| column >= r.x && column < r.x + r.width && row >= r.y && row < r.y + r.height;
        if let Some(Popup::Help { scroll, .. }) = &mut self.popup {
            match kind {
                MouseKind::ScrollUp => *scroll = scroll.saturating_sub(3),
                MouseKind::ScrollDown => *scroll = scroll.saturating_add(3),
                MouseKind::Click => self.popup = None,
            }
            return vec![Effect::Redraw];
        }
        if self.popup.is_some() {
            return Vec::new();
        }
        if kind == MouseKind::Click {
            let areas = self.tab_areas.get();
            if let Some(i) = areas.iter().position(|r| hit(*r)) {
                return self.set_tab(Tab::ALL[i]);
            }
        }
        match self.tab {
            Tab::Profiles => {
                let effects = match kind {
                    MouseKind::Click => self.profiles.click(column, row),
                    MouseKind::ScrollUp => {
                        self.profiles.scroll(-3);
                        vec![ProfilesEffect::Redraw]
                    }
                    MouseKind::ScrollDown => {
                        self.profiles.scroll(3);
                        vec![ProfilesEffect::Redraw]
                    }
                };
                self.profiles_effects(effects)
            }
            Tab::Diagnose => {
                let a = self.diagnose.areas.get();
                let d = &mut self.diagnose;
                let changed = match kind {
                    MouseKind::Click if hit(a.stages) => {
                        d.select_stage(usize::from(row.saturating_sub(a.stages.y + 1)))
                    }
                    MouseKind::Click if hit(a.runs) => {
                        d.select_run(a.runs_first + usize::from(row.saturating_sub(a.runs.y + 1)))
                    }
                    MouseKind::Click if hit(a.facts) => {
                        d.pane = diagnose::Pane::Facts;
                        true
                    }
                    MouseKind::Click => false,
                    MouseKind::ScrollUp | MouseKind::ScrollDown => {
                        let up = kind == MouseKind::ScrollUp;
                        match d.pane {
                            diagnose::Pane::Facts => d.scroll_facts(if up { -3 } else { 3 }),
                            _ => d.move_selection(if up { -1 } else { 1 }),
                        }
                    }
                };
                if changed {
                    vec![Effect::Redraw]
                } else {
                    Vec::new()
                }
            }
            Tab::Chain if self.chain.prompt.is_none() => {
                let cmd = match kind {
                    MouseKind::ScrollUp => super::chain::ChainCommand::Up,
                    MouseKind::ScrollDown => super::chain::ChainCommand::Down,
                    MouseKind::Click => return Vec::new(),
                };
                let effects = self.chain.command(cmd);
                self.chain_effects(effects)
            }
            _ => Vec::new(),
        }
    }
}

/// Keys a focused text field takes before the keymap (so `q` is a letter there).
fn is_text_key(k: &KeyInput) -> bool {
    match k.key {
        Key::Char(_) => !k.ctrl && !k.alt,
        Key::Backspace | Key::Delete | Key::Left | Key::Right | Key::Home | Key::End => true,
        _ => false,
    }
}

/// Applies one action to the state and says what the loop must do next. Pure.
pub fn update(app: &mut App, action: Action) -> Vec<Effect> {
    match action {
        Action::Key(key) => app.on_key(key),
        Action::Paste(text) => app.on_paste(&text),
        Action::Mouse { kind, column, row } => app.on_mouse(kind, column, row),
        Action::Engine(event) => {
            let live = app
                .diagnose
                .live_run()
                .map(|r| (r.number, r.source.clone()));
            let mut out = vec![Effect::Redraw];
            let Some(report) = app.diagnose.on_engine(event) else {
                return out;
            };
            let Some((number, source)) = live else {
                return out;
            };
            app.chain_run_finished(number, source.label(), &report);
            if let RunSource::Profile(name) = source {
                let v = &report.verdict;
                let status = RowStatus::Done {
                    ok: v.ok,
                    stage: v.stage,
                    cause: v.cause.map(str::to_string),
                    millis: report.total_ms(),
                };
                out.extend(app.row(name, status));
            }
            out
        }
        Action::Tick => {
            if app.animating() {
                app.diagnose.spinner = app.diagnose.spinner.wrapping_add(1);
                app.profiles.tick();
                vec![Effect::Redraw]
            } else {
                Vec::new()
            }
        }
        Action::Resize => vec![Effect::Redraw],
        Action::Keyring(label) => {
            app.certs.keyring = Some(label.clone());
            app.keyring = Some(label);
            vec![Effect::Redraw]
        }
        Action::Profiles(ev) => {
            let effects = app.profiles.on_event(ev);
            app.profiles_effects(effects)
        }
        Action::Certs(ev) => {
            let effects = app.certs.on_event(ev);
            let mut out = app.certs_effects(effects);
            // A saved profile shows on the Profiles tab: read the file again.
            if app.certs.save_result.as_ref().is_some_and(Result::is_ok)
                && let Some(path) = app.profiles.path()
            {
                out.push(Effect::Store(StoreJob::Load {
                    path: path.to_path_buf(),
                }));
            }
            out
        }
        Action::Chain(ev) => {
            let effects = app.chain.on_event(ev);
            app.chain_effects(effects)
        }
        Action::Started { number, target } => {
            app.diagnose.started(number, target);
            vec![Effect::Redraw]
        }
        Action::CannotRun { number, why } => {
            let source = app
                .diagnose
                .runs
                .iter()
                .find(|r| r.number == number && r.live())
                .map(|r| r.source.clone());
            app.diagnose.cannot_run(number, why.clone());
            let mut out = vec![Effect::Redraw];
            if let Some(RunSource::Profile(name)) = source {
                out.extend(app.row(name, RowStatus::CannotRun(why)));
            }
            out
        }
        Action::Open(source) => app.start(source),
        Action::Inputs { number, inputs } => {
            if let Some(run) = app.diagnose.runs.iter_mut().find(|r| r.number == number) {
                run.inputs = Some(Kept(inputs));
            }
            Vec::new()
        }
        Action::BundleReady { number, result } => {
            match result {
                // Only when the user still looks at the Diagnose tab with nothing else open.
                Ok((b, path)) if app.popup.is_none() && app.tab == Tab::Diagnose => {
                    app.status = None;
                    app.popup = Some(Popup::Bundle(Draft::new(number, b, path)));
                }
                Ok(_) => app.status = None,
                Err(e) => app.status = Some(e),
            }
            vec![Effect::Redraw]
        }
        Action::BundleWritten(result) => {
            app.status = Some(match result {
                Ok((path, files)) => bundle::written(&path, files),
                Err(e) => e,
            });
            vec![Effect::Redraw]
        }
        Action::Terminate => {
            app.quit = true;
            vec![Effect::Quit]
        }
    }
}
