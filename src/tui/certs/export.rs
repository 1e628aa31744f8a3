//! The export prompt: writes key material a profile keeps in the keyring back out to a file
//! (mode 0600), drawn as a popup. The secret is never in this state: [`write`] reads it from
//! the keyring and writes it off the UI task, through the core's `profile::export_secret`
//! and `secrets::write_private`.

use std::path::{Path, PathBuf};

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

#[cfg(test)]
use crate::profile::Profile;
use crate::profile::{KeyringOnDemand, ProfileStore, kept_in_keyring};
use crate::secrets::{self, ExportKind, WriteError};
use crate::text::sanitize;
use crate::tui::keymap::{Key, KeyInput};
use crate::tui::look::{Look, ellipsize};

/// Every action of the prompt (bound to keys by the shell's keymap).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExportCommand {
    KindNext,
    KindPrev,
    Write,
    Cancel,
}

impl ExportCommand {
    pub fn id(self) -> &'static str {
        match self {
            ExportCommand::KindNext => "certs.export.kind_next",
            ExportCommand::KindPrev => "certs.export.kind_prev",
            ExportCommand::Write => "certs.export.write",
            ExportCommand::Cancel => "certs.export.cancel",
        }
    }
}

/// Where the user is in the prompt (one context: the path field always takes text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ExportContext {
    Prompt,
}

type DefaultBinding = (
    ExportContext,
    ExportCommand,
    &'static [&'static str],
    &'static str,
    &'static str,
);

/// (context, command, default key specs, footer hint, help line).
pub fn default_bindings() -> Vec<DefaultBinding> {
    use ExportCommand as C;
    use ExportContext as X;
    #[rustfmt::skip]
    let rows: Vec<DefaultBinding> = vec![
        (X::Prompt, C::KindNext, &["Down", "Tab"], "entry", "choose the next keyring entry to export"),
        (X::Prompt, C::KindPrev, &["Up", "BackTab"], "", "choose the previous keyring entry"),
        (X::Prompt, C::Write, &["Enter"], "write", "write the file, mode 0600 (asks before overwriting)"),
        (X::Prompt, C::Cancel, &["Esc"], "close", "close the export prompt"),
    ];
    rows
}

pub const NOTHING_KEPT: &str =
    "this profile keeps no key material in the keyring: there is nothing to export";
pub const PATH_EMPTY: &str = "type a file name to write to";
const CAUTION: &str =
    "The file will hold a secret (mode 0600). Keep it off shared disks; delete it when done.";
const EXISTS: &str = "That file exists: Enter again overwrites it, Esc keeps it.";

/// What the prompt asks the shell to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportEffect {
    Redraw,
    /// Close the popup.
    Close,
    /// Run [`write`] off the UI task and feed its [`ExportEvent`] back to
    /// [`ExportPrompt::on_event`]. `path` is absolute (joined to the prompt's folder).
    Write {
        profile: String,
        kind: ExportKind,
        path: PathBuf,
        overwrite: bool,
    },
}

/// The result of [`write`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportEvent {
    Written {
        path: PathBuf,
        kind: ExportKind,
    },
    /// The file exists and `overwrite` was not set: the prompt asks.
    Exists {
        path: PathBuf,
    },
    Failed {
        why: String,
    },
}

/// The prompt's state. No secret is ever here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportPrompt {
    pub profile: String,
    /// The entries the profile keeps in the keyring, in [`ExportKind::ALL`] order.
    pub kinds: Vec<ExportKind>,
    /// Index into `kinds`.
    pub chosen: usize,
    /// The file as typed (relative to `cwd`).
    pub path: String,
    /// Whether the path was typed (else choosing another entry offers that entry's name).
    pub path_typed: bool,
    /// The folder relative paths are in (the app's working directory).
    pub cwd: PathBuf,
    /// Set when the file exists: Enter again overwrites it.
    pub exists: bool,
    /// A write is running.
    pub busy: bool,
    /// The last write's sentence: `Ok` written, `Err` why not.
    pub result: Option<Result<String, String>>,
}

impl ExportPrompt {
    /// A prompt for `profile`, offering the entries it keeps in the keyring. (The wizard reads
    /// the entries off the UI task with [`kinds_of`] and calls [`ExportPrompt::with_kinds`].)
    #[cfg(test)]
    pub fn new(profile: &Profile, cwd: PathBuf) -> ExportPrompt {
        ExportPrompt::with_kinds(&profile.name, kept_in_keyring(profile), cwd)
    }

    /// A prompt offering `kinds` (e.g. from [`kinds_of`], read off the UI task).
    pub fn with_kinds(profile: &str, kinds: Vec<ExportKind>, cwd: PathBuf) -> ExportPrompt {
        let mut p = ExportPrompt {
            profile: profile.to_string(),
            kinds,
            chosen: 0,
            path: String::new(),
            path_typed: false,
            cwd,
            exists: false,
            busy: false,
            result: None,
        };
        p.offer_path();
        p
    }

    /// The entry chosen, if the profile keeps any.
    pub fn kind(&self) -> Option<ExportKind> {
        self.kinds.get(self.chosen).copied()
    }

    pub fn context(&self) -> ExportContext {
        ExportContext::Prompt
    }

    /// Typed characters go into the path field (so digits, `q` and `?` are text).
    pub fn takes_text(&self) -> bool {
        !self.kinds.is_empty()
    }

    fn offer_path(&mut self) {
        if let Some(k) = self.kind()
            && !self.path_typed
        {
            self.path = format!("./{}", k.default_file(&self.profile));
        }
    }

    pub fn command(&mut self, cmd: ExportCommand) -> Vec<ExportEffect> {
        use ExportCommand as C;
        if self.busy && cmd != C::Cancel {
            return Vec::new();
        }
        let n = self.kinds.len();
        match cmd {
            C::Cancel => vec![ExportEffect::Close],
            C::KindNext | C::KindPrev if n < 2 => Vec::new(),
            C::KindNext | C::KindPrev => {
                self.chosen = if cmd == C::KindNext {
                    (self.chosen + 1) % n
                } else {
                    (self.chosen + n - 1) % n
                };
                self.exists = false;
                self.result = None;
                self.offer_path();
                vec![ExportEffect::Redraw]
            }
            C::Write => {
                let Some(kind) = self.kind() else {
                    return vec![ExportEffect::Close];
                };
                if matches!(self.result, Some(Ok(_))) {
                    return vec![ExportEffect::Close];
                }
                let typed = self.path.trim();
                if typed.is_empty() {
                    self.result = Some(Err(PATH_EMPTY.into()));
                    return vec![ExportEffect::Redraw];
                }
                self.busy = true;
                self.result = None;
                vec![
                    ExportEffect::Write {
                        profile: self.profile.clone(),
                        kind,
                        path: self.cwd.join(typed.strip_prefix("./").unwrap_or(typed)),
                        overwrite: self.exists,
                    },
                    ExportEffect::Redraw,
                ]
            }
        }
    }

    /// A key for the path field: a character, Backspace.
    pub fn text_key(&mut self, key: KeyInput) -> Vec<ExportEffect> {
        if self.busy || self.kinds.is_empty() {
            return Vec::new();
        }
        match key.key {
            Key::Char(c) if !c.is_control() && !key.ctrl && !key.alt => self.path.push(c),
            Key::Backspace => {
                if self.path.pop().is_none() {
                    return Vec::new();
                }
            }
            _ => return Vec::new(),
        }
        // A changed path is a new question.
        self.path_typed = true;
        self.exists = false;
        self.result = None;
        vec![ExportEffect::Redraw]
    }

    pub fn on_event(&mut self, ev: ExportEvent) -> Vec<ExportEffect> {
        self.busy = false;
        match ev {
            ExportEvent::Written { path, kind } => {
                self.exists = false;
                self.result = Some(Ok(written_message(&self.profile, kind, &path)));
            }
            ExportEvent::Exists { .. } => {
                self.exists = true;
                self.result = None;
            }
            ExportEvent::Failed { why } => self.result = Some(Err(why)),
        }
        vec![ExportEffect::Redraw]
    }

    /// Draws the popup centred in `area` (over whatever is there).
    pub fn draw(&self, frame: &mut Frame, area: Rect, look: &Look) {
        let w = area.width.saturating_sub(4).clamp(20, 76).min(area.width);
        let text_w = usize::from(w.saturating_sub(2));
        let t = &look.theme;
        let mut lines: Vec<Line> = Vec::new();
        if self.kinds.is_empty() {
            lines.push(Line::styled(NOTHING_KEPT, t.warn));
        } else {
            lines.push(Line::styled(CAUTION, t.warn));
            lines.push(Line::default());
            for (i, k) in self.kinds.iter().enumerate() {
                let chosen = i == self.chosen;
                let marker = if chosen { look.glyphs.selected } else { " " };
                let style = if chosen { t.selected } else { t.base };
                lines.push(Line::from(vec![
                    Span::styled(format!(" {marker} "), t.accent),
                    Span::styled(format!("{:<16}", k.label()), style),
                    Span::styled(format!(" {} = {{ keyring = true }}", k.field()), t.dim),
                ]));
            }
            lines.push(Line::default());
            let shown = ellipsize(
                &sanitize(&self.path),
                text_w.saturating_sub(8),
                &look.glyphs,
            );
            lines.push(Line::from(vec![
                Span::styled("file: ", t.dim),
                Span::styled(shown, t.input_focused),
                Span::styled("_", t.input_focused),
            ]));
            if self.exists {
                lines.push(Line::styled(EXISTS, t.fail));
            }
            if self.busy {
                lines.push(Line::styled("writing…", t.running));
            }
        }
        match &self.result {
            Some(Ok(said)) => lines.push(Line::styled(sanitize(said), t.ok)),
            Some(Err(why)) => lines.push(Line::styled(sanitize(why), t.fail)),
            None => {}
        }
        let rows: u16 = lines
            .iter()
            .map(|l| (l.width().max(1)).div_ceil(text_w.max(1)) as u16)
            .sum();
        let h = (rows + 2).min(area.height);
        let popup = Rect {
            x: area.x + (area.width - w) / 2,
            y: area.y + (area.height - h) / 2,
            width: w,
            height: h,
        };
        let title = format!(
            " Export from the keyring: profile {} ",
            ellipsize(
                &sanitize(&self.profile),
                text_w.saturating_sub(34),
                &look.glyphs
            )
        );
        frame.render_widget(Clear, popup);
        frame.render_widget(
            Paragraph::new(lines).wrap(Wrap { trim: false }).block(
                Block::default()
                    .borders(Borders::ALL)
                    .border_set(look.glyphs.border)
                    .border_style(t.border_focused)
                    .title(title),
            ),
            popup,
        );
    }
}

fn written_message(profile: &str, kind: ExportKind, path: &Path) -> String {
    format!(
        "wrote the {} of profile {} to {} (mode 0600)",
        kind.label(),
        sanitize(profile),
        sanitize(&path.display().to_string())
    )
}

/// The entries profile `name` of `profiles_path` keeps in the keyring (reads the file: call
/// it off the UI task). `Err` is one sentence (unreadable file, no such profile).
pub fn kinds_of(profiles_path: &Path, name: &str) -> Result<Vec<ExportKind>, String> {
    let store = ProfileStore::load(profiles_path).map_err(|e| e.to_string())?;
    let p = store
        .get(name)
        .ok_or_else(|| format!("there is no profile {:?} to export from", sanitize(name)))?;
    Ok(kept_in_keyring(p))
}

/// Writes entry `kind` of profile `profile` to `path` (blocking: the profiles file, the
/// keyring with its deadline, the file; run it on the blocking pool). Over an existing file
/// only when `overwrite`, else [`ExportEvent::Exists`] before the keyring is read.
pub fn write(
    profiles_path: &Path,
    profile: &str,
    kind: ExportKind,
    path: &Path,
    overwrite: bool,
) -> ExportEvent {
    let shown = sanitize(&path.display().to_string());
    if !overwrite && path.exists() {
        return ExportEvent::Exists {
            path: path.to_path_buf(),
        };
    }
    let failed = |why: String| ExportEvent::Failed { why };
    let store = match ProfileStore::load(profiles_path) {
        Ok(s) => s,
        Err(e) => return failed(e.to_string()),
    };
    let bytes = match crate::profile::export_secret(&store, profile, kind, &KeyringOnDemand::new())
    {
        Ok(b) => b,
        Err(e) => return failed(e),
    };
    match secrets::write_private(path, &bytes, overwrite) {
        Ok(()) => ExportEvent::Written {
            path: path.to_path_buf(),
            kind,
        },
        Err(WriteError::Exists) => ExportEvent::Exists {
            path: path.to_path_buf(),
        },
        Err(WriteError::Io(e)) => failed(format!("{shown}: {e}")),
    }
}

#[cfg(test)]
#[path = "export_tests.rs"]
mod tests;
