//! The Profiles tab (owned by the `profiles` branch; this is shell's compiling stand-in with
//! the contract's signatures: a plain list that runs the selected profile).

use std::path::{Path, PathBuf};

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};

use crate::diagnose::{Plan, Stage};
use crate::profile::{Profile, ProfileStore};

use super::keymap::KeyInput;
use super::look::Look;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProfilesCommand {
    Up,
    Down,
    Run,
    RunAll,
}

impl ProfilesCommand {
    pub fn id(self) -> &'static str {
        match self {
            ProfilesCommand::Up => "profiles.up",
            ProfilesCommand::Down => "profiles.down",
            ProfilesCommand::Run => "profiles.run",
            ProfilesCommand::RunAll => "profiles.run_all",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProfilesContext {
    List,
    Filter,
    Form,
    ConfirmDelete,
    Rename,
}

type DefaultBinding = (
    ProfilesContext,
    ProfilesCommand,
    &'static [&'static str],
    &'static str,
    &'static str,
);

/// (context, command, default key specs, footer hint, help line).
pub fn default_bindings() -> Vec<DefaultBinding> {
    use ProfilesCommand as C;
    use ProfilesContext as X;
    vec![
        (
            X::List,
            C::Up,
            &["Up", "k"],
            "",
            "select the previous profile",
        ),
        (
            X::List,
            C::Down,
            &["Down", "j"],
            "",
            "select the next profile",
        ),
        (
            X::List,
            C::Run,
            &["Enter"],
            "run",
            "diagnose the selected profile",
        ),
        (
            X::List,
            C::RunAll,
            &["a"],
            "run all",
            "diagnose every profile",
        ),
    ]
}

/// A profile that lives only in memory (the demo's lab scenarios).
#[derive(Debug, Clone)]
pub struct MemoryProfile {
    pub name: String,
    /// Heading it is listed under (the demo: the stage that fails).
    pub group: String,
    /// One line saying what it shows.
    pub title: String,
    pub url: String,
}

#[derive(Debug, Clone)]
pub enum StoreJob {
    Load { path: PathBuf },
}

#[derive(Debug, Clone)]
pub enum ProfilesEvent {
    Loaded(Result<Vec<Profile>, String>),
    Stored(Result<String, String>),
    Row { name: String, status: RowStatus },
}

#[derive(Debug, Clone, PartialEq)]
pub enum RowStatus {
    Running,
    Done {
        ok: bool,
        stage: Option<Stage>,
        cause: Option<String>,
        millis: u64,
    },
    CannotRun(String),
}

#[derive(Debug, Clone)]
pub enum ProfilesEffect {
    Redraw,
    Store(StoreJob),
    Run { name: String },
    RunAll { names: Vec<String> },
    Status(String),
}

#[derive(Debug)]
pub struct ProfilesTab {
    path: Option<PathBuf>,
    names: Vec<String>,
    selected: usize,
    rows: Vec<(String, RowStatus)>,
}

impl ProfilesTab {
    pub fn new(path: PathBuf) -> Self {
        ProfilesTab {
            path: Some(path),
            names: Vec::new(),
            selected: 0,
            rows: Vec::new(),
        }
    }

    pub fn in_memory(profiles: Vec<MemoryProfile>) -> Self {
        ProfilesTab {
            path: None,
            names: profiles.into_iter().map(|p| p.name).collect(),
            selected: 0,
            rows: Vec::new(),
        }
    }

    /// The effects to carry out when the tab opens (the first load).
    pub fn start(&mut self) -> Vec<ProfilesEffect> {
        match &self.path {
            Some(path) => vec![ProfilesEffect::Store(StoreJob::Load { path: path.clone() })],
            None => Vec::new(),
        }
    }

    pub fn context(&self) -> ProfilesContext {
        ProfilesContext::List
    }

    pub fn takes_text(&self) -> bool {
        false
    }

    pub fn command(&mut self, cmd: ProfilesCommand) -> Vec<ProfilesEffect> {
        match cmd {
            ProfilesCommand::Up => self.selected = self.selected.saturating_sub(1),
            ProfilesCommand::Down => {
                self.selected = (self.selected + 1).min(self.names.len().saturating_sub(1))
            }
            ProfilesCommand::Run => {
                return self
                    .selected_name()
                    .map(|n| {
                        vec![ProfilesEffect::Run {
                            name: n.to_string(),
                        }]
                    })
                    .unwrap_or_default();
            }
            ProfilesCommand::RunAll => {
                return vec![ProfilesEffect::RunAll {
                    names: self.names.clone(),
                }];
            }
        }
        vec![ProfilesEffect::Redraw]
    }

    pub fn text_key(&mut self, _key: KeyInput) -> Vec<ProfilesEffect> {
        Vec::new()
    }

    pub fn click(&mut self, _column: u16, _row: u16) -> Vec<ProfilesEffect> {
        Vec::new()
    }

    pub fn scroll(&mut self, lines: i32) {
        let next = self.selected as i64 + i64::from(lines);
        self.selected = next.clamp(0, self.names.len().saturating_sub(1) as i64) as usize;
    }

    pub fn on_event(&mut self, ev: ProfilesEvent) -> Vec<ProfilesEffect> {
        match ev {
            ProfilesEvent::Loaded(Ok(list)) => {
                self.names = list.into_iter().map(|p| p.name).collect();
            }
            ProfilesEvent::Loaded(Err(e)) => return vec![ProfilesEffect::Status(e)],
            ProfilesEvent::Stored(_) => {}
            ProfilesEvent::Row { name, status } => {
                self.rows.retain(|(n, _)| *n != name);
                self.rows.push((name, status));
            }
        }
        vec![ProfilesEffect::Redraw]
    }

    pub fn dirty(&self) -> bool {
        false
    }

    pub fn selected_name(&self) -> Option<&str> {
        self.names.get(self.selected).map(String::as_str)
    }

    pub fn copy_text(&self) -> Option<String> {
        self.selected_name().map(str::to_string)
    }

    pub fn open_form(&mut self, name: &str) {
        if let Some(i) = self.names.iter().position(|n| n == name) {
            self.selected = i;
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, look: &Look) {
        let lines: Vec<Line> = self
            .names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let l = Line::from(crate::text::sanitize(n));
                if i == self.selected {
                    l.style(look.theme.selected)
                } else {
                    l
                }
            })
            .collect();
        frame.render_widget(
            Paragraph::new(lines).block(Block::bordered().border_set(look.glyphs.border)),
            area,
        );
    }
}

/// Carries out a store job off the UI task.
pub async fn carry_out(job: StoreJob) -> ProfilesEvent {
    match job {
        StoreJob::Load { path } => {
            let loaded = tokio::task::spawn_blocking(move || {
                ProfileStore::load(path)
                    .map(|s| s.list().into_iter().cloned().collect::<Vec<_>>())
                    .map_err(|e| e.to_string())
            })
            .await
            .unwrap_or_else(|e| Err(e.to_string()));
            ProfilesEvent::Loaded(loaded)
        }
    }
}

/// The plan of a saved profile (keyring reads off the UI task, with their deadline).
pub async fn plan_for(path: &Path, name: &str) -> Result<Plan, String> {
    let path = path.to_path_buf();
    let store = tokio::task::spawn_blocking(move || ProfileStore::load(path))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let profile = store
        .get(name)
        .ok_or_else(|| format!("no profile named {name:?}"))?
        .clone();
    let keyring = crate::profile::AsyncKeyring::default();
    let env = |k: &str| std::env::var(k).ok();
    crate::profile::resolve_async(&profile, &env, &keyring)
        .await
        .map_err(|e| e.to_string())
}
