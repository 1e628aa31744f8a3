//! Drawing the Diagnose tab (stages, facts, runs, verdict) and the texts it offers: what `y`
//! copies and what changed since the previous run. Every string from the network, a
//! certificate or a profile goes through [`sanitize`] right before it is drawn or copied.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Paragraph, Wrap};
use serde_json::Value;

use super::{Areas, DiagnoseTab, Pane, Phase, Run};
use crate::diagnose::{StageReport, Status};
use crate::text::sanitize;
use crate::tui::look::{Look, ellipsize};
use crate::tui::strings as s;

const LEFT_WIDTH: u16 = 30;
const TITLE_WIDTH: usize = 12;
const VERDICT_MIN_HEIGHT: u16 = 5;
const VERDICT_MAX_HEIGHT: u16 = 10;

pub fn draw(tab: &DiagnoseTab, frame: &mut Frame, area: Rect, look: &Look) {
    let Some(run) = tab.shown_run() else {
        let text = vec![
            Line::default(),
            Line::from(Span::styled(look.glyphs.text(s::NO_RUNS), look.theme.dim)),
        ];
        frame.render_widget(
            Paragraph::new(text).wrap(Wrap { trim: false }).block(pane(
                &look.glyphs.text(s::DIAGNOSE_TITLE),
                false,
                look,
            )),
            area,
        );
        tab.areas.set(Areas::default());
        return;
    };
    let verdict = verdict_lines(tab, run, look);
    let verdict_height = wrapped_height(&verdict, area.width.saturating_sub(2))
        .saturating_add(2)
        .clamp(VERDICT_MIN_HEIGHT, VERDICT_MAX_HEIGHT)
        .min(area.height / 2);
    let [body, verdict_area] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(verdict_height)]).areas(area);
    let left_width = LEFT_WIDTH.min(body.width / 2);
    let [left, facts] =
        Layout::horizontal([Constraint::Length(left_width), Constraint::Min(0)]).areas(body);
    let stages_height = u16::try_from(run.stages.len())
        .unwrap_or(u16::MAX)
        .saturating_add(2);
    let [stages, runs] =
        Layout::vertical([Constraint::Length(stages_height), Constraint::Min(0)]).areas(left);
    tab.areas.set(Areas {
        stages,
        facts,
        runs,
        runs_first: 0,
    });
    draw_stages(tab, run, frame, stages, look);
    draw_runs(tab, frame, runs, look);
    draw_facts(tab, frame, facts, look);
    let block = Block::bordered()
        .border_set(look.glyphs.border)
        .border_style(look.theme.border)
        .title(Span::styled(
            format!(" {} {} ", s::VERDICT_TITLE_WORD, run.number),
            look.theme.title,
        ));
    frame.render_widget(
        Paragraph::new(verdict)
            .wrap(Wrap { trim: false })
            .block(block),
        verdict_area,
    );
}

fn pane<'a>(title: &str, focused: bool, look: &Look) -> Block<'a> {
    Block::bordered()
        .border_set(look.glyphs.border)
        .border_style(if focused {
            look.theme.border_focused
        } else {
            look.theme.border
        })
        .title(Span::styled(
            format!(" {title} "),
            if focused {
                look.theme.title
            } else {
                look.theme.base
            },
        ))
}

/// Symbol, style and word of a stage status.
pub fn status_mark(
    status: Status,
    spinner: usize,
    look: &Look,
) -> (&'static str, Style, &'static str) {
    let g = &look.glyphs;
    let t = &look.theme;
    match status {
        Status::Ok => (g.ok, t.ok, s::WORD_OK),
        Status::Failed => (g.fail, t.fail, s::WORD_FAILED),
        Status::Skipped => (g.skipped, t.skipped, s::WORD_SKIPPED),
        Status::Pending => (g.pending, t.dim, ""),
        Status::Running => (g.spinner(spinner), t.running, s::WORD_RUNNING),
    }
}

fn draw_stages(tab: &DiagnoseTab, run: &Run, frame: &mut Frame, area: Rect, look: &Look) {
    let focused = tab.pane == Pane::Stages;
    let inner = usize::from(area.width.saturating_sub(2));
    let lines: Vec<Line> = run
        .stages
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let selected = i == tab.stage;
            let (glyph, glyph_style, word) = status_mark(r.status, tab.spinner, look);
            let duration = match r.status {
                Status::Ok | Status::Failed => crate::report::duration_text(r.duration_ms),
                _ => String::new(),
            };
            let right = format!("{word} {duration}").trim().to_string();
            let room = inner.saturating_sub(3 + TITLE_WIDTH);
            let right = format!("{:>room$}", ellipsize(&right, room, &look.glyphs));
            let mark = if selected { look.glyphs.selected } else { " " };
            let line = Line::from(vec![
                Span::raw(mark),
                Span::styled(glyph, glyph_style),
                Span::raw(" "),
                Span::raw(ellipsize(
                    &format!("{:<TITLE_WIDTH$}", r.stage.title()),
                    inner.saturating_sub(3),
                    &look.glyphs,
                )),
                Span::styled(right, glyph_style),
            ]);
            if selected && focused {
                line.style(look.theme.selected)
            } else {
                line
            }
        })
        .collect();
    frame.render_widget(
        Paragraph::new(lines).block(pane(s::STAGES_TITLE, focused, look)),
        area,
    );
}

/// One line per run: number, symbol, cause id (or state), and what ran.
fn run_summary(run: &Run, spinner: usize, look: &Look) -> (&'static str, Style, String) {
    let g = &look.glyphs;
    let t = &look.theme;
    match &run.phase {
        Phase::Preparing | Phase::Running => {
            (g.spinner(spinner), t.running, s::WORD_RUNNING.to_string())
        }
        Phase::Cancelled => (g.skipped, t.skipped, s::WORD_CANCELLED.to_string()),
        Phase::CannotRun(_) => (g.fail, t.fail, s::WORD_CANNOT_RUN.to_string()),
        Phase::Finished => match run.outcome() {
            Some((true, _, _)) => (g.ok, t.ok, s::WORD_OK.to_string()),
            Some((false, stage, cause)) => (
                g.fail,
                t.fail,
                cause
                    .map(str::to_string)
                    .or_else(|| stage.map(|st| st.id().to_string()))
                    .unwrap_or_else(|| s::WORD_FAILED.to_string()),
            ),
            None => (g.pending, t.dim, String::new()),
        },
    }
}

fn draw_runs(tab: &DiagnoseTab, frame: &mut Frame, area: Rect, look: &Look) {
    if area.height < 3 {
        return;
    }
    let focused = tab.pane == Pane::Runs;
    let inner = usize::from(area.width.saturating_sub(2));
    let visible = usize::from(area.height.saturating_sub(2)).max(1);
    // Keep the shown run in view; the newest run is at the bottom.
    let first = (tab.shown + 1).saturating_sub(visible);
    let mut areas = tab.areas.get();
    areas.runs_first = first;
    tab.areas.set(areas);
    let lines: Vec<Line> = tab
        .runs
        .iter()
        .enumerate()
        .skip(first)
        .take(visible)
        .map(|(i, run)| {
            let selected = i == tab.shown;
            let (glyph, style, what) = run_summary(run, tab.spinner, look);
            let mark = if selected { look.glyphs.selected } else { " " };
            let head = format!("{mark}{:>2} ", run.number);
            let rest = format!("{} {}", sanitize(&what), sanitize(run.source.label()));
            let room = inner.saturating_sub(head.chars().count() + 2);
            let line = Line::from(vec![
                Span::raw(head),
                Span::styled(glyph, style),
                Span::raw(" "),
                Span::raw(ellipsize(&rest, room, &look.glyphs)),
            ]);
            if selected && focused {
                line.style(look.theme.selected)
            } else {
                line
            }
        })
        .collect();
    let title = format!("{} {}", s::RUNS_TITLE, tab.runs.len());
    frame.render_widget(
        Paragraph::new(lines).block(pane(&title, focused, look)),
        area,
    );
}

/// A fact value as one line of text.
fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => sanitize(s),
        Value::Null => String::new(),
        other => sanitize(&other.to_string()),
    }
}

/// The lines of a stage's facts pane, and for every fact the index of its first line.
fn stage_lines(
    r: &StageReport,
    selected: Option<usize>,
    look: &Look,
) -> (Vec<Line<'static>>, Vec<usize>) {
    let mut lines = Vec::new();
    if let Some(summary) = &r.summary {
        let style = match r.status {
            Status::Failed => look.theme.fail,
            _ => look.theme.dim,
        };
        lines.push(Line::from(Span::styled(sanitize(summary), style)));
    }
    for w in &r.warnings {
        lines.push(Line::from(Span::styled(
            format!("{} {}", look.glyphs.warn, sanitize(&w.summary)),
            look.theme.warn,
        )));
    }
    if !lines.is_empty() && !r.facts.is_empty() {
        lines.push(Line::default());
    }
    let mut starts = Vec::new();
    for (i, (key, value)) in r.facts.iter().enumerate() {
        starts.push(lines.len());
        let key = sanitize(key);
        let mut fact = match value {
            Value::Array(items) => {
                let mut v = vec![Line::from(Span::styled(
                    format!("{key}:"),
                    look.theme.accent,
                ))];
                v.extend(items.iter().map(|item| {
                    Line::from(format!("  {} {}", look.glyphs.bullet, value_text(item)))
                }));
                v
            }
            other => vec![Line::from(vec![
                Span::styled(format!("{key}: "), look.theme.accent),
                Span::raw(value_text(other)),
            ])],
        };
        if selected == Some(i) {
            fact = fact
                .into_iter()
                .map(|l| l.style(look.theme.selected))
                .collect();
        }
        lines.extend(fact);
    }
    if lines.is_empty() {
        lines.push(Line::from(Span::styled(s::NO_FACTS, look.theme.dim)));
    }
    (lines, starts)
}

fn draw_facts(tab: &DiagnoseTab, frame: &mut Frame, area: Rect, look: &Look) {
    let Some(r) = tab.selected_stage() else {
        return;
    };
    let focused = tab.pane == Pane::Facts;
    let (lines, starts) = stage_lines(r, focused.then_some(tab.fact), look);
    let width = area.width.saturating_sub(2);
    let inner_height = area.height.saturating_sub(2);
    let total = wrapped_height(&lines, width);
    let max_scroll = total.saturating_sub(inner_height);
    let mut scroll = tab.facts_scroll.min(max_scroll);
    if focused && let Some(start) = starts.get(tab.fact) {
        // Keep the selected fact in view.
        let row = wrapped_height(&lines[..*start], width);
        if row < scroll {
            scroll = row;
        } else if row >= scroll + inner_height {
            scroll = (row + 1).saturating_sub(inner_height).min(max_scroll);
        }
    }
    tab.facts_max_scroll.set(max_scroll);
    tab.facts_height.set(inner_height);
    let mut title = format!("{}{}", s::FACTS_TITLE_PREFIX, r.stage.title());
    let count = r.facts.0.len();
    if focused && count > 0 {
        title.push_str(&format!(
            " {} {} {}/{count}",
            look.glyphs.bullet,
            s::FACT_WORD,
            tab.fact + 1
        ));
    }
    if max_scroll > 0 {
        title.push_str(&format!(
            " {} {} {}-{}/{}",
            look.glyphs.bullet,
            s::ROWS_WORD,
            scroll + 1,
            (scroll + inner_height).min(total),
            total
        ));
    }
    frame.render_widget(
        Paragraph::new(Text::from(lines))
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0))
            .block(pane(&title, focused, look)),
        area,
    );
}

/// Rows the lines take when wrapped at `width` (an estimate: word wrapping may need a row more).
fn wrapped_height(lines: &[Line], width: u16) -> u16 {
    let width = usize::from(width.max(1));
    let rows: usize = lines.iter().map(|l| l.width().div_ceil(width).max(1)).sum();
    u16::try_from(rows).unwrap_or(u16::MAX)
}

fn verdict_lines(tab: &DiagnoseTab, run: &Run, look: &Look) -> Vec<Line<'static>> {
    let g = &look.glyphs;
    let t = &look.theme;
    let mut lines = match &run.phase {
        Phase::Preparing => vec![Line::from(Span::styled(
            format!("{} {}", g.spinner(tab.spinner), g.text(s::PREPARING)),
            t.running,
        ))],
        Phase::Running => vec![Line::from(Span::styled(
            format!("{} {}", g.spinner(tab.spinner), g.text(s::RUNNING)),
            t.running,
        ))],
        Phase::Cancelled => vec![Line::from(Span::styled(
            format!("{} {}", g.skipped, s::CANCELLED),
            t.skipped,
        ))],
        Phase::CannotRun(why) => vec![
            Line::from(Span::styled(
                format!("{} {}", g.fail, s::CANNOT_RUN),
                t.error,
            )),
            Line::from(sanitize(why)),
        ],
        Phase::Finished => match &run.report {
            Some(r) if r.verdict.ok => vec![
                Line::from(Span::styled(
                    format!("{} {}", g.ok, s::OK_LABEL),
                    t.ok.patch(t.title),
                )),
                Line::from(sanitize(&r.verdict.summary)),
            ],
            Some(r) => {
                let v = &r.verdict;
                let stage = v.stage.map_or(s::UNKNOWN_STAGE, |st| st.title());
                let mut head = vec![Span::styled(
                    format!("{} {stage}{}", g.fail, s::FAILED_SUFFIX),
                    t.fail.patch(t.title),
                )];
                if let Some(cause) = v.cause {
                    head.push(Span::styled(format!("  {}", sanitize(cause)), t.accent));
                }
                let mut l = vec![Line::from(head), Line::from(sanitize(&v.summary))];
                if let Some(remedy) = &v.remedy {
                    l.push(Line::from(vec![
                        Span::styled(s::WHAT_TO_DO, t.title),
                        Span::raw(sanitize(remedy)),
                    ]));
                }
                l
            }
            None => Vec::new(),
        },
    };
    if let (Some(prev), Some(_)) = (tab.previous_of(tab.shown), &run.report) {
        lines.push(Line::from(Span::styled(changes(prev, run, look), t.accent)));
    }
    lines
}

fn outcome_text(run: &Run, look: &Look) -> String {
    match run.outcome() {
        Some((true, _, _)) => format!("{} {}", look.glyphs.ok, s::WORD_OK),
        Some((false, stage, cause)) => format!(
            "{} {} {}",
            look.glyphs.fail,
            stage.map_or(s::UNKNOWN_STAGE, |st| st.title()),
            cause.unwrap_or("")
        )
        .trim_end()
        .to_string(),
        None => String::new(),
    }
}

fn status_word(status: Status) -> &'static str {
    match status {
        Status::Ok => s::WORD_OK,
        Status::Failed => s::WORD_FAILED,
        Status::Skipped => s::WORD_SKIPPED,
        Status::Running => s::WORD_RUNNING,
        Status::Pending => s::WORD_PENDING,
    }
}

/// "Changed since run 2: was ✘ TLS tls.cert_expired, now ✔ ok; TLS failed → ok; total 45 ms → 38 ms"
pub fn changes(prev: &Run, cur: &Run, look: &Look) -> String {
    let arrow = look.glyphs.arrow;
    let mut parts = Vec::new();
    let same = prev.outcome() == cur.outcome();
    if !same {
        parts.push(format!(
            "{} {}, {} {}",
            s::WAS,
            outcome_text(prev, look),
            s::NOW,
            outcome_text(cur, look)
        ));
    }
    for st in &cur.stages {
        if let Some(old) = prev.stages.iter().find(|p| p.stage == st.stage)
            && old.status != st.status
        {
            parts.push(format!(
                "{} {} {arrow} {}",
                st.stage.title(),
                status_word(old.status),
                status_word(st.status)
            ));
        }
    }
    parts.push(format!(
        "{} {} {arrow} {}",
        s::TOTAL,
        crate::report::duration_text(prev.total_ms()),
        crate::report::duration_text(cur.total_ms())
    ));
    let head = if same {
        format!(
            "{} {} ({})",
            s::SAME_AS_RUN,
            prev.number,
            outcome_text(cur, look)
        )
    } else {
        format!("{} {}", s::CHANGED_SINCE_RUN, prev.number)
    };
    format!("{head}: {}", parts.join("; "))
}

/// What `y` copies on the Diagnose tab: the selected fact in the facts pane, else the verdict
/// with its cause.
pub fn copy_text(tab: &DiagnoseTab, look: &Look) -> Option<String> {
    let run = tab.shown_run()?;
    if tab.pane == Pane::Facts
        && let Some((key, value)) = tab.selected_stage().and_then(|r| r.facts.0.get(tab.fact))
    {
        return Some(format!("{}: {}", sanitize(key), value_text(value)));
    }
    let target = if run.target.is_empty() {
        String::new()
    } else {
        format!(" ({})", sanitize(&run.target))
    };
    let mut out = format!("mqtt-doctor: {}{target}: ", sanitize(run.source.label()));
    match (&run.phase, &run.report) {
        (Phase::Finished, Some(r)) if r.verdict.ok => {
            out.push_str(&format!("{}\n{}", s::WORD_OK, sanitize(&r.verdict.summary)));
        }
        (Phase::Finished, Some(r)) => {
            let v = &r.verdict;
            out.push_str(&format!(
                "{}{} [{}]\n{}",
                v.stage.map_or(s::UNKNOWN_STAGE, |st| st.title()),
                s::FAILED_SUFFIX,
                v.cause.unwrap_or("-"),
                sanitize(&v.summary)
            ));
            if let Some(remedy) = &v.remedy {
                out.push_str(&format!("\n{}{}", s::WHAT_TO_DO, sanitize(remedy)));
            }
        }
        (Phase::CannotRun(why), _) => out.push_str(&format!("{} {}", s::CANNOT_RUN, sanitize(why))),
        _ => out.push_str(s::WORD_RUNNING),
    }
    if let Some(prev) = tab.previous_of(tab.shown)
        && run.report.is_some()
    {
        out.push('\n');
        out.push_str(&changes(prev, run, look));
    }
    Some(out)
}
