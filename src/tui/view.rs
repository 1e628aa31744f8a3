//! Drawing: a pure function of [`App`]. Every string that came from the network, a certificate
//! or a scenario goes through [`sanitize`] here, right before it reaches the screen.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Paragraph, Wrap};
use serde_json::Value;

use super::app::{App, Focus};
use super::strings as s;
use crate::diagnose::{StageReport, Status};
use crate::text::{sanitize, truncate};

const LEFT_WIDTH: u16 = 30;
/// The verdict box grows with its text, between these (borders included).
const VERDICT_MIN_HEIGHT: u16 = 6;
const VERDICT_MAX_HEIGHT: u16 = 10;
const TITLE_WIDTH: usize = 12;
const DURATION_WIDTH: usize = 8;

/// Draws the whole screen.
pub fn view(app: &App, frame: &mut Frame) {
    let area = frame.area();
    let verdict_lines = verdict_lines(app);
    let verdict_height = wrapped_height(&verdict_lines, area.width.saturating_sub(2))
        .saturating_add(2)
        .clamp(VERDICT_MIN_HEIGHT, VERDICT_MAX_HEIGHT);
    let [header, body, verdict, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(verdict_height),
        Constraint::Length(1),
    ])
    .areas(area);
    let [left, right] =
        Layout::horizontal([Constraint::Length(LEFT_WIDTH), Constraint::Min(0)]).areas(body);

    draw_header(app, frame, header);
    match &app.demo {
        Some(demo) => {
            let list_height = u16::try_from(demo.scenarios.len())
                .unwrap_or(u16::MAX)
                .saturating_add(2);
            let [top, bottom] =
                Layout::vertical([Constraint::Length(list_height), Constraint::Min(8)]).areas(left);
            draw_scenarios(app, frame, top);
            draw_stages(app, frame, bottom);
        }
        None => draw_stages(app, frame, left),
    }
    draw_facts(app, frame, right);
    draw_verdict(verdict_lines, frame, verdict);
    draw_footer(app, frame, footer);
}

fn pane(title: &str, focused: bool) -> Block<'_> {
    let style = if focused {
        Style::new().fg(Color::Cyan)
    } else {
        Style::new().fg(Color::DarkGray)
    };
    Block::bordered().title(title).border_style(style)
}

fn draw_header(app: &App, frame: &mut Frame, area: Rect) {
    let mut spans = vec![
        Span::styled(s::APP_NAME, Style::new().add_modifier(Modifier::BOLD)),
        Span::raw("  "),
    ];
    if app.target.is_empty() {
        spans.push(Span::styled(s::NO_TARGET, Style::new().fg(Color::DarkGray)));
    } else {
        spans.push(Span::raw(sanitize(&app.target)));
    }
    let active = app
        .demo
        .as_ref()
        .and_then(|d| d.active.and_then(|i| d.scenarios.get(i)));
    if let Some((_, title)) = active {
        spans.push(Span::styled(
            format!("  ({}{})", s::SCENARIO_PREFIX, sanitize(title)),
            Style::new().fg(Color::DarkGray),
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
    if let Some(k) = &app.keyring {
        let text = sanitize(k);
        let width = text.chars().count() as u16;
        if area.width > width + 40 {
            let right = Rect {
                x: area.x + area.width - width,
                width,
                ..area
            };
            frame.render_widget(
                Paragraph::new(Span::styled(text, Style::new().fg(Color::DarkGray))),
                right,
            );
        }
    }
}

fn draw_scenarios(app: &App, frame: &mut Frame, area: Rect) {
    let Some(demo) = &app.demo else {
        return;
    };
    let focused = demo.focus == Focus::Scenarios;
    let lines: Vec<Line> = demo
        .scenarios
        .iter()
        .enumerate()
        .map(|(i, (_, title))| {
            let selected = i == demo.selected;
            let marker = if selected { s::SELECTED_MARK } else { " " };
            let active = if demo.active == Some(i) {
                s::ACTIVE_MARK
            } else {
                " "
            };
            let style = if selected && focused {
                Style::new().add_modifier(Modifier::REVERSED)
            } else {
                Style::new()
            };
            let room = usize::from(area.width).saturating_sub(5);
            Line::from(format!(
                "{marker}{active} {}",
                truncate(&sanitize(title), room)
            ))
            .style(style)
        })
        .collect();
    frame.render_widget(
        Paragraph::new(lines).block(pane(s::SCENARIOS_TITLE, focused)),
        area,
    );
}

fn glyph(app: &App, status: Status) -> (&'static str, Style) {
    match status {
        Status::Ok => (s::GLYPH_OK, Style::new().fg(Color::Green)),
        Status::Failed => (s::GLYPH_FAILED, Style::new().fg(Color::Red)),
        Status::Skipped => (s::GLYPH_SKIPPED, Style::new().fg(Color::DarkGray)),
        Status::Pending => (s::GLYPH_PENDING, Style::new().fg(Color::DarkGray)),
        Status::Running => (
            s::SPINNER[app.spinner % s::SPINNER.len()],
            Style::new().fg(Color::Yellow),
        ),
    }
}

fn draw_stages(app: &App, frame: &mut Frame, area: Rect) {
    let focused = app.focus() == Focus::Stages;
    let lines: Vec<Line> = app
        .stages
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let selected = i == app.selected;
            let (glyph, glyph_style) = glyph(app, r.status);
            let duration = match r.status {
                Status::Ok | Status::Failed => crate::report::duration_text(r.duration_ms),
                _ => String::new(),
            };
            let row_style = match (selected, focused) {
                (true, true) => Style::new().add_modifier(Modifier::REVERSED),
                (true, false) => Style::new().add_modifier(Modifier::BOLD),
                _ => Style::new(),
            };
            Line::from(vec![
                Span::raw(if selected { s::SELECTED_MARK } else { " " }),
                Span::raw(" "),
                Span::styled(glyph, glyph_style),
                Span::raw(format!(
                    " {:<TITLE_WIDTH$}{:>DURATION_WIDTH$}",
                    r.stage.title(),
                    duration
                )),
            ])
            .style(row_style)
        })
        .collect();
    frame.render_widget(
        Paragraph::new(lines).block(pane(s::STAGES_TITLE, focused)),
        area,
    );
}

/// One fact as lines: `key: value`, a JSON array as one line per item.
fn fact_lines(key: &str, value: &Value) -> Vec<Line<'static>> {
    let key_style = Style::new().fg(Color::Cyan);
    let key = sanitize(key);
    match value {
        Value::Array(items) => {
            let mut lines = vec![Line::from(Span::styled(format!("{key}:"), key_style))];
            lines.extend(
                items
                    .iter()
                    .map(|item| Line::from(format!("  - {}", value_text(item)))),
            );
            lines
        }
        other => vec![Line::from(vec![
            Span::styled(format!("{key}: "), key_style),
            Span::raw(value_text(other)),
        ])],
    }
}

fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => sanitize(s),
        Value::Null => String::new(),
        other => sanitize(&other.to_string()),
    }
}

fn stage_lines(r: &StageReport) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    if let Some(summary) = &r.summary {
        let style = match r.status {
            Status::Failed => Style::new().fg(Color::Red),
            _ => Style::new().fg(Color::DarkGray),
        };
        lines.push(Line::from(Span::styled(sanitize(summary), style)));
    }
    for w in &r.warnings {
        lines.push(Line::from(Span::styled(
            format!("{}{}", s::WARNING_PREFIX, sanitize(&w.summary)),
            Style::new().fg(Color::Yellow),
        )));
    }
    if !lines.is_empty() && !r.facts.is_empty() {
        lines.push(Line::default());
    }
    for (key, value) in r.facts.iter() {
        lines.extend(fact_lines(key, value));
    }
    if lines.is_empty() {
        lines.push(Line::from(Span::styled(
            s::NO_FACTS,
            Style::new().fg(Color::DarkGray),
        )));
    }
    lines
}

fn draw_facts(app: &App, frame: &mut Frame, area: Rect) {
    let Some(r) = app.selected_stage() else {
        frame.render_widget(Block::bordered(), area);
        return;
    };
    let lines = stage_lines(r);
    // Scroll only as far as the last row; a long chain or many properties page with PgDn.
    let inner_height = area.height.saturating_sub(2);
    let total = wrapped_height(&lines, area.width.saturating_sub(2));
    let max_scroll = total.saturating_sub(inner_height);
    let wanted = if app.facts_scroll.0 == app.selected {
        app.facts_scroll.1
    } else {
        0
    };
    let scroll = wanted.min(max_scroll);
    app.facts_max_scroll.set(max_scroll);
    let mut title = format!("{}{} ", s::FACTS_TITLE_PREFIX, r.stage.title());
    if max_scroll > 0 {
        title.push_str(&format!(
            "{}{}/{} ",
            s::FACTS_ROWS_PREFIX,
            scroll + inner_height.min(total),
            total
        ));
    }
    let block = Block::bordered()
        .title(title)
        .border_style(Style::new().fg(Color::DarkGray));
    frame.render_widget(
        Paragraph::new(Text::from(lines))
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0))
            .block(block),
        area,
    );
}

/// Rows the lines take when wrapped at `width` (an estimate: word wrapping may need a row more,
/// which the box's spare row absorbs).
fn wrapped_height(lines: &[Line], width: u16) -> u16 {
    let width = usize::from(width.max(1));
    let rows: usize = lines.iter().map(|l| l.width().div_ceil(width).max(1)).sum();
    u16::try_from(rows).unwrap_or(u16::MAX)
}

fn verdict_lines(app: &App) -> Vec<Line<'static>> {
    let dim = Style::new().fg(Color::DarkGray);
    match &app.report {
        Some(report) if report.verdict.ok => vec![
            Line::from(Span::styled(
                s::OK_LABEL,
                Style::new().fg(Color::Green).add_modifier(Modifier::BOLD),
            )),
            Line::from(sanitize(&report.verdict.summary)),
        ],
        Some(report) => {
            let v = &report.verdict;
            let stage = v.stage.map_or(s::UNKNOWN_STAGE, |st| st.title());
            let mut head = vec![Span::styled(
                format!("{} {stage}{}", s::GLYPH_FAILED, s::FAILED_SUFFIX),
                Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            )];
            if let Some(cause) = v.cause {
                head.push(Span::styled(format!("  {}", sanitize(cause)), dim));
            }
            let mut lines = vec![Line::from(head), Line::from(sanitize(&v.summary))];
            if let Some(remedy) = &v.remedy {
                lines.push(Line::from(vec![
                    Span::styled(s::WHAT_TO_DO, Style::new().add_modifier(Modifier::BOLD)),
                    Span::raw(sanitize(remedy)),
                ]));
            }
            lines
        }
        None if app.started => vec![Line::from(Span::styled(
            s::RUNNING,
            Style::new().fg(Color::Yellow),
        ))],
        None if app.demo.is_some() => vec![Line::from(Span::styled(s::PICK_SCENARIO, dim))],
        None => vec![Line::from(Span::styled(s::WAITING, dim))],
    }
}

fn draw_verdict(lines: Vec<Line<'static>>, frame: &mut Frame, area: Rect) {
    let dim = Style::new().fg(Color::DarkGray);
    let block = Block::bordered().title(s::VERDICT_TITLE).border_style(dim);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block),
        area,
    );
}

fn draw_footer(app: &App, frame: &mut Frame, area: Rect) {
    let mut spans = Vec::new();
    for (i, b) in app
        .keymap()
        .iter()
        .filter(|b| !b.label.is_empty())
        .enumerate()
    {
        if i > 0 {
            spans.push(Span::styled(
                s::HINT_SEPARATOR,
                Style::new().fg(Color::DarkGray),
            ));
        }
        spans.push(Span::styled(
            b.label,
            Style::new().add_modifier(Modifier::BOLD),
        ));
        spans.push(Span::raw(" "));
        spans.push(Span::raw(b.hint));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
