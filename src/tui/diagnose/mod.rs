//! The Diagnose tab's state: every run since the app opened (the last may be live), which run
//! is shown, the selected stage, fact and pane, and what changed between two runs of one thing.

pub mod view;

use std::cell::Cell;

use ratatui::layout::Rect;

use crate::diagnose::{Event, Report, Stage, StageReport, Status};

use super::keymap::DiagnoseCommand;

/// The stages shown before the engine reports any, in the order they run.
pub const STAGES: [Stage; 6] = [
    Stage::Dns,
    Stage::Tcp,
    Stage::Tls,
    Stage::Ws,
    Stage::Mqtt,
    Stage::Sub,
];

/// Rows one PgUp/PgDn moves the facts pane at least.
pub const FACTS_PAGE: u16 = 8;

/// What a run diagnoses: a saved (or demo) profile, or the URL given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunSource {
    Profile(String),
    Url(String),
}

impl RunSource {
    pub fn label(&self) -> &str {
        match self {
            RunSource::Profile(n) | RunSource::Url(n) => n,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    /// Reading the profile and its keyring secrets (off the UI task).
    Preparing,
    Running,
    Finished,
    Cancelled,
    CannotRun(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// 1-based, in the order the runs started.
    pub number: usize,
    pub source: RunSource,
    /// The URL (without user information), once the plan is known.
    pub target: String,
    pub stages: Vec<StageReport>,
    pub report: Option<Report>,
    pub phase: Phase,
    /// The profile and plan the run was made from, once resolved (the bundle key needs them).
    pub inputs: Option<super::bundle::Kept>,
}

impl Run {
    fn new(number: usize, source: RunSource) -> Run {
        Run {
            number,
            source,
            target: String::new(),
            stages: STAGES.into_iter().map(StageReport::new).collect(),
            report: None,
            phase: Phase::Preparing,
            inputs: None,
        }
    }

    pub fn live(&self) -> bool {
        matches!(self.phase, Phase::Preparing | Phase::Running)
    }

    /// Sum of the stage durations (what the stages took, without the app's own time).
    pub fn total_ms(&self) -> u64 {
        self.stages.iter().map(|s| s.duration_ms).sum()
    }

    /// (ok, failing stage, cause) once finished.
    pub fn outcome(&self) -> Option<(bool, Option<Stage>, Option<&'static str>)> {
        self.report
            .as_ref()
            .map(|r| (r.verdict.ok, r.verdict.stage, r.verdict.cause))
    }

    /// Index of a stage's report, inserting one for a stage the screen did not list.
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
        i
    }
}

/// Which pane the selection keys move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Stages,
    Facts,
    Runs,
}

/// The last drawn areas, for mouse clicks (absolute coordinates).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Areas {
    pub stages: Rect,
    pub facts: Rect,
    pub runs: Rect,
    /// Index of the run on the first row of the runs pane.
    pub runs_first: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DiagnoseTab {
    pub runs: Vec<Run>,
    /// Index into `runs` of the run on screen.
    pub shown: usize,
    pub pane: Pane,
    /// Index into the shown run's stages.
    pub stage: usize,
    /// Whether the stage selection follows the running stage (until the user moves it).
    pub follow: bool,
    /// Index into the selected stage's facts (what `y` copies in the facts pane).
    pub fact: usize,
    /// Rows the facts pane is scrolled (the drawing clamps it and reports the real value).
    pub facts_scroll: u16,
    pub facts_max_scroll: Cell<u16>,
    /// Rows of the facts pane at the last draw (a page).
    pub facts_height: Cell<u16>,
    pub spinner: usize,
    pub areas: Cell<Areas>,
}

impl Default for DiagnoseTab {
    fn default() -> Self {
        DiagnoseTab {
            runs: Vec::new(),
            shown: 0,
            pane: Pane::Stages,
            stage: 0,
            follow: true,
            fact: 0,
            facts_scroll: 0,
            facts_max_scroll: Cell::new(u16::MAX),
            facts_height: Cell::new(FACTS_PAGE),
            spinner: 0,
            areas: Cell::new(Areas::default()),
        }
    }
}

impl DiagnoseTab {
    pub fn shown_run(&self) -> Option<&Run> {
        self.runs.get(self.shown)
    }

    /// The run still going, if any (always the last one).
    pub fn live_run(&self) -> Option<&Run> {
        self.runs.last().filter(|r| r.live())
    }

    pub fn running(&self) -> bool {
        self.live_run().is_some()
    }

    /// Whether a spinner turns on screen.
    pub fn animating(&self) -> bool {
        self.shown_run().is_some_and(|r| {
            r.phase == Phase::Preparing
                || (r.phase == Phase::Running
                    && r.stages.iter().any(|s| s.status == Status::Running))
        })
    }

    pub fn selected_stage(&self) -> Option<&StageReport> {
        self.shown_run().and_then(|r| r.stages.get(self.stage))
    }

    /// Starts a new run record (shown at once); returns its number.
    pub fn begin(&mut self, source: RunSource) -> usize {
        let number = self.runs.len() + 1;
        self.runs.push(Run::new(number, source));
        self.show(self.runs.len() - 1);
        self.follow = true;
        number
    }

    fn show(&mut self, index: usize) {
        self.shown = index;
        self.stage = 0;
        self.fact = 0;
        self.facts_scroll = 0;
        if let Some(run) = self.runs.get(index)
            && !run.live()
        {
            // An earlier run opens on its failing stage.
            if let Some((false, Some(st), _)) = run.outcome() {
                self.stage = run.stages.iter().position(|r| r.stage == st).unwrap_or(0);
            }
        }
    }

    /// The plan of run `number` is ready and its engine started.
    pub fn started(&mut self, number: usize, target: String) {
        if let Some(run) = self
            .runs
            .iter_mut()
            .find(|r| r.number == number && r.live())
        {
            run.target = target;
            run.phase = Phase::Running;
        }
    }

    /// Run `number` could not start (the profile or a secret is unusable).
    pub fn cannot_run(&mut self, number: usize, why: String) {
        if let Some(run) = self
            .runs
            .iter_mut()
            .find(|r| r.number == number && r.live())
        {
            run.phase = Phase::CannotRun(why);
        }
    }

    /// Esc: stops the live run; false when nothing ran.
    pub fn cancel(&mut self) -> bool {
        match self.runs.last_mut().filter(|r| r.live()) {
            Some(run) => {
                run.phase = Phase::Cancelled;
                for s in &mut run.stages {
                    if s.status == Status::Running {
                        s.status = Status::Pending;
                    }
                }
                true
            }
            None => false,
        }
    }

    /// An engine event of the live run; returns the finished report when this ended it.
    pub fn on_engine(&mut self, event: Event) -> Option<Report> {
        let shown_is_live = self.runs.len().checked_sub(1) == Some(self.shown);
        let follow = self.follow && shown_is_live;
        let run = self.runs.last_mut().filter(|r| r.phase == Phase::Running)?;
        let mut select = None;
        let mut finished = None;
        match event {
            Event::StageStarted(stage) => {
                let i = run.slot(stage);
                run.stages[i].status = Status::Running;
                select = Some(i);
            }
            Event::Fact { stage, key, value } => {
                let i = run.slot(stage);
                run.stages[i].facts.push(key, value);
            }
            Event::StageFinished(report) => {
                let i = run.slot(report.stage);
                let failed = report.status == Status::Failed;
                run.stages[i] = report;
                if failed {
                    select = Some(i);
                }
            }
            Event::Finished(report) => {
                for r in &report.stages {
                    let i = run.slot(r.stage);
                    run.stages[i] = r.clone();
                }
                if let Some(st) = report.verdict.stage.filter(|_| !report.verdict.ok) {
                    select = run.stages.iter().position(|r| r.stage == st);
                }
                run.phase = Phase::Finished;
                run.report = Some((*report).clone());
                finished = Some(*report);
            }
        }
        if let (true, Some(i)) = (follow, select)
            && i != self.stage
        {
            self.stage = i;
            self.fact = 0;
            self.facts_scroll = 0;
        }
        finished
    }

    /// The earlier run of the same profile or URL that run `index` is compared with.
    pub fn previous_of(&self, index: usize) -> Option<&Run> {
        let run = self.runs.get(index)?;
        self.runs[..index]
            .iter()
            .rev()
            .find(|r| r.source == run.source && r.report.is_some())
    }

    /// Moves in the focused pane; true when something changed.
    pub fn navigate(&mut self, cmd: DiagnoseCommand) -> bool {
        use DiagnoseCommand as D;
        let page = self.facts_height.get().max(1);
        match cmd {
            D::FocusNext | D::FocusPrev => {
                let order = [Pane::Stages, Pane::Facts, Pane::Runs];
                let i = order.iter().position(|p| *p == self.pane).unwrap_or(0);
                let next = if cmd == D::FocusNext { i + 1 } else { i + 2 };
                self.pane = order[next % 3];
                true
            }
            D::PageUp => self.scroll_facts(-i32::from(page)),
            D::PageDown => self.scroll_facts(i32::from(page)),
            D::Up | D::Down | D::Top | D::Bottom => {
                let delta: i64 = match cmd {
                    D::Up => -1,
                    D::Down => 1,
                    D::Top => i64::MIN / 2,
                    _ => i64::MAX / 2,
                };
                self.move_selection(delta)
            }
            D::Rerun | D::Cancel | D::Edit | D::Bundle => false,
        }
    }

    /// Moves the focused pane's selection by `delta` (clamped).
    pub fn move_selection(&mut self, delta: i64) -> bool {
        let clamp = |cur: usize, len: usize| -> usize {
            (cur as i64)
                .saturating_add(delta)
                .clamp(0, len.saturating_sub(1) as i64) as usize
        };
        match self.pane {
            Pane::Stages => {
                let len = self.shown_run().map_or(0, |r| r.stages.len());
                let next = clamp(self.stage, len);
                self.follow = false;
                if next == self.stage {
                    return false;
                }
                self.stage = next;
                self.fact = 0;
                self.facts_scroll = 0;
                true
            }
            Pane::Facts => {
                let len = self.selected_stage().map_or(0, |s| s.facts.iter().count());
                let next = clamp(self.fact, len);
                if next == self.fact {
                    return false;
                }
                self.fact = next;
                true
            }
            Pane::Runs => {
                let next = clamp(self.shown, self.runs.len());
                if next == self.shown {
                    return false;
                }
                self.show(next);
                self.follow = self.runs[next].live();
                true
            }
        }
    }

    /// Scrolls the facts pane by rows (negative: up), stopping at its last row.
    pub fn scroll_facts(&mut self, rows: i32) -> bool {
        let cur = self.facts_scroll.min(self.facts_max_scroll.get());
        let next = if rows < 0 {
            cur.saturating_sub(rows.unsigned_abs() as u16)
        } else {
            cur.saturating_add(rows as u16)
                .min(self.facts_max_scroll.get())
        };
        let changed = next != self.facts_scroll;
        self.facts_scroll = next;
        changed
    }

    /// Selects the run listed at `index` (a click).
    pub fn select_run(&mut self, index: usize) -> bool {
        if index >= self.runs.len() {
            return false;
        }
        self.pane = Pane::Runs;
        if index != self.shown {
            self.show(index);
            self.follow = self.runs[index].live();
        }
        true
    }

    /// Selects the stage listed at `index` (a click).
    pub fn select_stage(&mut self, index: usize) -> bool {
        let len = self.shown_run().map_or(0, |r| r.stages.len());
        if index >= len {
            return false;
        }
        self.pane = Pane::Stages;
        self.follow = false;
        if index != self.stage {
            self.stage = index;
            self.fact = 0;
            self.facts_scroll = 0;
        }
        true
    }
}
