//! The Diagnose tab's bundle key: what a run keeps to be bundled ([`RunInputs`]), and the
//! popup that lists the bundle's files and its editable target path before anything is written.

use std::sync::Arc;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use std::path::Path;
use std::time::SystemTime;

use crate::diagnose::{Plan, Report};
use crate::profile::Profile;
use crate::report::bundle::{self as core, Bundle};
use crate::text::sanitize;

use super::keymap::Key;
use super::look::{Look, ellipsize};

/// What a run was made from: the profile (secrets as references) and the plan it resolved to
/// (the secret values the bundle writer keeps out of every file).
#[derive(Debug, Clone)]
pub struct RunInputs {
    pub profile: Profile,
    pub plan: Plan,
}

/// [`RunInputs`] shared by the run record and the background bundle job; two are equal when
/// they are the same inputs (a plan has no equality of its own).
#[derive(Debug, Clone)]
pub struct Kept(pub Arc<RunInputs>);

impl PartialEq for Kept {
    fn eq(&self, other: &Kept) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// The popup: the built bundle (nothing written yet) and where it will go.
#[derive(Debug, Clone)]
pub struct Draft {
    pub number: usize,
    pub bundle: Arc<Bundle>,
    /// The target path, editable; starts as `./mqtt-doctor-bundle-<time>.tar.gz`.
    pub path: String,
    /// Cursor in `path`, in characters.
    pub cursor: usize,
}

impl PartialEq for Draft {
    fn eq(&self, other: &Draft) -> bool {
        self.number == other.number
            && Arc::ptr_eq(&self.bundle, &other.bundle)
            && self.path == other.path
            && self.cursor == other.cursor
    }
}

impl Eq for Draft {}

impl Draft {
    pub fn new(number: usize, bundle: Bundle, path: String) -> Draft {
        let cursor = path.chars().count();
        Draft {
            number,
            bundle: Arc::new(bundle),
            path,
            cursor,
        }
    }

    /// A key of the path field: printable characters, Backspace, Delete, cursor keys.
    pub fn edit(&mut self, key: Key) {
        let mut chars: Vec<char> = self.path.chars().collect();
        let at = self.cursor.min(chars.len());
        match key {
            Key::Char(c) if !c.is_control() => {
                chars.insert(at, c);
                self.cursor = at + 1;
            }
            Key::Backspace if at > 0 => {
                chars.remove(at - 1);
                self.cursor = at - 1;
            }
            Key::Delete if at < chars.len() => {
                chars.remove(at);
            }
            Key::Left => self.cursor = at.saturating_sub(1),
            Key::Right => self.cursor = (at + 1).min(chars.len()),
            Key::Home => self.cursor = 0,
            Key::End => self.cursor = chars.len(),
            _ => {}
        }
        self.path = chars.into_iter().collect();
    }
}

/// The core's bundle of a finished run, and its default path
/// (`./mqtt-doctor-bundle-<time>.tar.gz`). Blocking (it reads `resolv_conf`): run it off the
/// UI task.
pub fn build(
    inputs: &RunInputs,
    report: &Report,
    now: SystemTime,
    env: crate::profile::Env<'_>,
    resolv_conf: &Path,
) -> Result<(Bundle, String), String> {
    let input = core::BundleInput {
        profile: &inputs.profile,
        plan: &inputs.plan,
        report,
        redact_hosts: false,
        now,
        env,
        resolv_conf,
    };
    let bundle = core::build(&input).map_err(|e| e.to_string())?;
    Ok((bundle, format!("./{}", core::default_file_name(now))))
}

/// Writes a built bundle to `path` (blocking): (path, number of files), or the sentence why not.
pub fn write(path: &str, bundle: &Bundle) -> Result<(String, usize), String> {
    core::write(Path::new(path), bundle).map_err(|e| e.to_string())?;
    Ok((path.to_string(), bundle.entries.len()))
}

pub const TITLE: &str = " Diagnostic bundle ";
pub const INTRO: &str = "Every secret is [redacted]. Nothing is written until Enter.";
pub const TARGET: &str = "Write to: ";
pub const BUILDING: &str = "making the bundle…";
pub const NOT_FINISHED: &str = "the run has not finished: nothing to bundle yet";
pub const NO_RESULT: &str =
    "this run has no result to bundle (it was cancelled or could not start)";
pub const NO_INPUTS: &str = "this run cannot be bundled: the app did not keep what it ran";
pub const NO_RUN: &str = "no run to bundle yet";
pub const EMPTY_PATH: &str = "give the bundle a file name";
pub const WRITING: &str = "writing the bundle…";

/// "bundle written to ./x.tar.gz (7 files, secrets redacted)".
pub fn written(path: &str, files: usize) -> String {
    format!(
        "bundle written to {} ({files} files, secrets redacted)",
        sanitize(path)
    )
}

/// Draws the popup over `area`: one row per file (name, size, what), then the target path.
pub fn draw(d: &Draft, frame: &mut Frame, area: Rect, look: &Look) {
    let t = &look.theme;
    let width = area.width.saturating_sub(4).clamp(1, 96);
    let inner = usize::from(width.saturating_sub(2));
    let mut lines = vec![
        Line::styled(
            format!("Run {}: {} files", d.number, d.bundle.entries.len()),
            t.base.add_modifier(Modifier::BOLD),
        ),
        Line::styled(INTRO, t.dim),
        Line::raw(""),
    ];
    for e in &d.bundle.entries {
        let head = format!("{:<17}{:>8}  ", e.name, size(e.bytes.len()));
        let rest = inner.saturating_sub(head.chars().count());
        lines.push(Line::from(vec![
            Span::styled(head, t.base),
            Span::styled(ellipsize(e.what, rest, &look.glyphs), t.dim),
        ]));
    }
    lines.push(Line::raw(""));
    let path = sanitize(&d.path);
    let chars: Vec<char> = path.chars().collect();
    let at = d.cursor.min(chars.len());
    let before: String = chars[..at].iter().collect();
    let after: String = chars[at..].iter().collect();
    lines.push(Line::from(vec![
        Span::styled(TARGET, t.base),
        Span::styled(before, t.input_focused),
        Span::styled("_", t.input_focused),
        Span::styled(after, t.input_focused),
    ]));
    let height = (lines.len() as u16 + 2).min(area.height);
    let rect = Rect {
        x: area.x + (area.width.saturating_sub(width)) / 2,
        y: area.y + (area.height.saturating_sub(height)) / 2,
        width: width.min(area.width),
        height,
    };
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).style(t.base).block(
            Block::bordered()
                .border_set(look.glyphs.border)
                .border_style(t.border_focused)
                .title(Span::styled(TITLE, t.title)),
        ),
        rect,
    );
}

fn size(bytes: usize) -> String {
    if bytes < 10_000 {
        format!("{bytes} B")
    } else {
        format!("{} kB", bytes.div_ceil(1000))
    }
}
