//! Drawing the Profiles tab: the list (verdict symbol, word and cause on every row), the
//! filter line, the run-all summary and the popups (form, delete confirmation, rename).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::strings as s;
use super::{FORM_FIELDS, FormField, FormMode, Popup, ProfilesTab, RowStatus};
use crate::profile::SecretSource;
use crate::text::sanitize;
use crate::tui::look::{Look, ellipsize, width};

/// A line of the list: a group heading (demo) or a row (index into `visible`).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum ListLine {
    Heading(String),
    Row(usize),
}

pub(super) fn lines(tab: &ProfilesTab) -> Vec<ListLine> {
    let mut out = Vec::new();
    let mut group: Option<&str> = None;
    for (vi, ri) in tab.visible().into_iter().enumerate() {
        let row = &tab.rows[ri];
        if let Some(g) = row.group.as_deref()
            && group != Some(g)
        {
            out.push(ListLine::Heading(g.to_string()));
            group = Some(g);
        }
        out.push(ListLine::Row(vi));
    }
    out
}

fn pad(s: &str, w: usize, look: &Look) -> String {
    let cut = ellipsize(s, w, &look.glyphs);
    let used = width(&cut);
    format!("{cut}{}", " ".repeat(w.saturating_sub(used)))
}

pub(super) fn draw(tab: &ProfilesTab, frame: &mut Frame, area: Rect, look: &Look) {
    let g = &look.glyphs;
    let t = &look.theme;
    let block = Block::bordered()
        .border_set(g.border)
        .border_style(t.border)
        .title(Span::styled(s::TITLE, t.title));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    let show_summary = tab.run_all.is_some();
    // The selected profile's whole error, when the row had to cut it.
    let detail = tab
        .selected_row()
        .and_then(|r| match (&r.load_error, &r.status) {
            (Some(e), _) => Some(format!("{}: {}", s::CANNOT_LOAD, sanitize(e))),
            (None, Some(RowStatus::CannotRun(e))) => {
                Some(format!("{}: {}", s::CANNOT_RUN, sanitize(e)))
            }
            _ => None,
        });
    let detail_h = detail
        .as_ref()
        .map(|d| (width(d) / usize::from(inner.width.max(1)) + 1).min(4) as u16)
        .unwrap_or(0);
    let [top, list, detail_area, bottom] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(detail_h),
        Constraint::Length(u16::from(show_summary)),
    ])
    .areas(inner);
    if let Some(d) = &detail {
        frame.render_widget(
            Paragraph::new(Line::styled(d.clone(), t.error)).wrap(Wrap { trim: false }),
            detail_area,
        );
    }

    // Top line: the filter, or how many profiles and from which file.
    let total = tab.rows.len();
    let shown = tab.visible().len();
    let top_line = if tab.filtering || !tab.filter.is_empty() {
        let mut spans = vec![
            Span::styled(s::FILTER_PREFIX, t.accent),
            Span::styled(
                sanitize(&tab.filter),
                if tab.filtering {
                    t.input_focused
                } else {
                    t.input
                },
            ),
        ];
        if tab.filtering {
            spans.push(Span::styled(
                "_",
                t.input_focused.add_modifier(Modifier::SLOW_BLINK),
            ));
        }
        spans.push(Span::styled(format!("  {}", s::count(shown, total)), t.dim));
        Line::from(spans)
    } else {
        let file = tab
            .path
            .as_ref()
            .map(|p| sanitize(&p.display().to_string()))
            .unwrap_or_default();
        let count = s::count(shown, total);
        let room = usize::from(top.width).saturating_sub(width(&count) + 3);
        Line::from(vec![
            Span::styled(count, t.base),
            Span::styled(format!("  {}", ellipsize(&file, room, g)), t.dim),
        ])
    };
    frame.render_widget(Paragraph::new(top_line), top);

    // The list.
    let mut body: Vec<Line> = Vec::new();
    if tab.loading {
        body.push(Line::styled(g.text(s::LOADING), t.running));
    } else if let Some(e) = &tab.load_error {
        body.push(Line::styled(format!("{} {}", g.fail, sanitize(e)), t.error));
    } else if total == 0 {
        body.push(Line::styled(s::NO_PROFILES, t.base));
        body.push(Line::styled(s::NO_PROFILES_HINT, t.dim));
    } else if shown == 0 {
        body.push(Line::styled(s::NO_MATCH, t.dim));
    }
    let all_lines = lines(tab);
    let rows_room = usize::from(list.height).saturating_sub(body.len());
    tab.page.set(rows_room.max(1));
    // Keep the selected row in view.
    let sel_line = all_lines
        .iter()
        .position(|l| *l == ListLine::Row(tab.selected))
        .unwrap_or(0);
    let mut offset = tab.offset.get();
    if sel_line < offset {
        offset = sel_line.saturating_sub(usize::from(
            sel_line > 0 && matches!(all_lines.get(sel_line - 1), Some(ListLine::Heading(_))),
        ));
    }
    if rows_room > 0 && sel_line >= offset + rows_room {
        offset = sel_line + 1 - rows_room;
    }
    offset = offset.min(all_lines.len().saturating_sub(rows_room));
    tab.offset.set(offset);
    let w = usize::from(list.width);
    let name_w = (w / 4).clamp(8, 24);
    let verdict_w = (w / 3).clamp(16, 34);
    let time_w = 8;
    let rest = w.saturating_sub(3 + name_w + 1 + verdict_w + time_w + 2);
    let visible = tab.visible();
    for line in all_lines.iter().skip(offset).take(rows_room) {
        match line {
            ListLine::Heading(h) => {
                body.push(Line::styled(
                    ellipsize(&sanitize(h), w, g),
                    t.accent.add_modifier(Modifier::BOLD),
                ));
            }
            ListLine::Row(vi) => {
                let row = &tab.rows[visible[*vi]];
                let (sym, sym_style, verdict, time) = match (&row.load_error, &row.status) {
                    (Some(e), _) => (
                        g.warn,
                        t.error,
                        format!("{}: {}", s::CANNOT_LOAD, sanitize(e)),
                        String::new(),
                    ),
                    (None, Some(RowStatus::Running)) => (
                        g.spinner(tab.spinner),
                        t.running,
                        g.text(&format!("{}…", s::RUNNING)),
                        String::new(),
                    ),
                    (
                        None,
                        Some(RowStatus::Done {
                            ok: true, millis, ..
                        }),
                    ) => (
                        g.ok,
                        t.ok,
                        s::OK.to_string(),
                        crate::report::duration_text(*millis),
                    ),
                    (
                        None,
                        Some(RowStatus::Done {
                            ok: false,
                            stage,
                            cause,
                            millis,
                        }),
                    ) => (
                        g.fail,
                        t.fail,
                        format!(
                            "{} {}",
                            s::FAILED,
                            cause.as_deref().map(sanitize).unwrap_or_else(|| stage
                                .map(|s| s.id().to_string())
                                .unwrap_or_default())
                        ),
                        crate::report::duration_text(*millis),
                    ),
                    (None, Some(RowStatus::CannotRun(e))) => (
                        g.warn,
                        t.error,
                        format!("{}: {}", s::CANNOT_RUN, sanitize(e)),
                        String::new(),
                    ),
                    (None, None) => (g.pending, t.dim, s::NOT_RUN.to_string(), String::new()),
                };
                let selected = *vi == tab.selected && tab.popup.is_none();
                let base = if selected { t.selected } else { t.base };
                let mark = if *vi == tab.selected { g.selected } else { " " };
                let mut spans = vec![
                    Span::styled(mark.to_string(), base),
                    Span::styled(format!("{sym} "), if selected { base } else { sym_style }),
                    Span::styled(pad(&sanitize(&row.name), name_w, look), base),
                    Span::styled(" ", base),
                ];
                let whole_line =
                    row.load_error.is_some() || matches!(row.status, Some(RowStatus::CannotRun(_)));
                if whole_line {
                    // The error takes the rest of the line: it is what matters here.
                    let room = w.saturating_sub(3 + name_w + 1);
                    spans.push(Span::styled(
                        pad(&verdict, room, look),
                        if selected { base } else { sym_style },
                    ));
                } else {
                    spans.push(Span::styled(
                        pad(&verdict, verdict_w, look),
                        if selected { base } else { sym_style },
                    ));
                    spans.push(Span::styled(
                        format!(" {:>time_w$} ", time),
                        if selected { base } else { t.dim },
                    ));
                    spans.push(Span::styled(
                        pad(&sanitize(&row.url), rest, look),
                        if selected { base } else { t.dim },
                    ));
                }
                body.push(Line::from(spans));
            }
        }
    }
    let first_row_y = list.y
        + (body
            .len()
            .saturating_sub(all_lines.iter().skip(offset).take(rows_room).count()))
            as u16;
    tab.drawn_rows
        .set((first_row_y, rows_room.min(all_lines.len()) as u16, 0));
    frame.render_widget(Paragraph::new(body), list);

    if show_summary && bottom.height > 0 {
        let (ok, failed, cannot, running) = tab.tally();
        let time = match tab.run_all.as_ref().and_then(|r| r.millis) {
            Some(ms) => format!("in {}", crate::report::duration_text(ms)),
            None => g.text("…"),
        };
        let text = s::summary(ok, failed, cannot, running, &time);
        let style = if failed + cannot > 0 {
            t.fail
        } else if running > 0 {
            t.running
        } else {
            t.ok
        };
        let sym = if running > 0 {
            g.pending
        } else if failed + cannot > 0 {
            g.fail
        } else {
            g.ok
        };
        frame.render_widget(
            Paragraph::new(Line::styled(format!("{sym} {text}"), style)),
            bottom,
        );
    }

    match &tab.popup {
        Some(Popup::Form(f)) => {
            draw_form(f, frame, area, look);
            if f.asking_discard {
                let text = vec![
                    Line::styled(s::DISCARD_QUESTION, t.base.add_modifier(Modifier::BOLD)),
                    // The keys are in the footer, from the keymap (they may be rebound).
                    Line::styled(s::DISCARD_NOTE, t.dim),
                ];
                popup(frame, area, look, s::DISCARD_TITLE, text, 50, 3);
            }
        }
        Some(Popup::ConfirmDelete {
            name,
            accounts,
            broken: _,
        }) => {
            let text = vec![
                Line::styled(
                    s::delete_question(&sanitize(name)),
                    t.base.add_modifier(Modifier::BOLD),
                ),
                Line::raw(""),
                Line::styled(sanitize(&s::delete_keyring(accounts)), t.base),
                Line::raw(""),
                Line::styled(g.text(s::DELETE_KEYS), t.dim),
            ];
            let h = text.len() as u16 + 1;
            popup(frame, area, look, s::DELETE_TITLE, text, 60, h);
        }
        Some(Popup::Rename {
            old, text, error, ..
        }) => {
            let mut lines = vec![
                Line::styled(s::rename_question(&sanitize(old)), t.base),
                Line::from(vec![
                    Span::styled(sanitize(text), t.input_focused),
                    Span::styled("_", t.input_focused),
                ]),
            ];
            if let Some(e) = error {
                lines.push(Line::styled(format!("{} {}", g.fail, sanitize(e)), t.error));
            } else {
                lines.push(Line::raw(""));
            }
            lines.push(Line::styled(g.text(s::RENAME_KEYS), t.dim));
            popup(frame, area, look, s::RENAME_TITLE, lines, 60, 6);
        }
        None => {}
    }
}

/// A bordered box centred in `area`, at most `w`×`h` plus borders.
fn popup(
    frame: &mut Frame,
    area: Rect,
    look: &Look,
    title: &str,
    lines: Vec<Line>,
    w: u16,
    h: u16,
) {
    let width = (w + 2).min(area.width);
    let height = (h + 2).min(area.height);
    let rect = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    frame.render_widget(Clear, rect);
    let block = Block::bordered()
        .border_set(look.glyphs.border)
        .border_style(look.theme.border_focused)
        .title(Span::styled(title.to_string(), look.theme.title));
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .style(look.theme.base),
        rect,
    );
}

fn draw_form(f: &super::FormState, frame: &mut Frame, area: Rect, look: &Look) {
    let g = &look.glyphs;
    let t = &look.theme;
    let title = match &f.mode {
        FormMode::New => s::FORM_NEW,
        FormMode::Edit { .. } => s::FORM_EDIT,
        FormMode::Duplicate { .. } => s::FORM_DUPLICATE,
    };
    let w = area.width.saturating_sub(4).min(96);
    let label_w = 12usize;
    let value_w = usize::from(w).saturating_sub(label_w + 3);
    let mut lines: Vec<Line> = Vec::new();
    for (i, field) in FORM_FIELDS.iter().enumerate() {
        let focused = i == f.focus;
        let mark = if focused { g.selected } else { " " };
        let value: String = match field {
            FormField::Password => {
                let n = f.form.password_len();
                if n > 0 {
                    // One mask character per typed character; the value itself is never drawn.
                    "*".repeat(n.min(value_w.saturating_sub(1)))
                } else {
                    match f.form.password_source() {
                        Some(SecretSource::Keyring) => s::PASSWORD_KEYRING.to_string(),
                        Some(SecretSource::Env(v)) => s::password_env(&sanitize(v)),
                        _ => s::PASSWORD_NONE.to_string(),
                    }
                }
            }
            FormField::Name if matches!(f.mode, FormMode::Edit { .. }) => {
                format!("{}  {}", sanitize(f.form.value(*field)), s::NAME_FIXED)
            }
            _ => sanitize(f.form.value(*field)),
        };
        let placeholder = *field == FormField::Password && f.form.password_len() == 0;
        let style = if focused {
            t.input_focused
        } else if placeholder {
            t.dim
        } else {
            t.input
        };
        let shown = if focused && !placeholder {
            // Keep the cursor end in view.
            let chars: Vec<char> = value.chars().collect();
            let skip = chars.len().saturating_sub(value_w.saturating_sub(1));
            format!("{}_", chars[skip..].iter().collect::<String>())
        } else {
            ellipsize(&value, value_w, g)
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{mark} "), if focused { t.accent } else { t.base }),
            Span::styled(
                pad(s::label(*field), label_w, look),
                if focused { t.accent } else { t.base },
            ),
            Span::styled(shown, style),
        ]));
        if let Some(e) = f.errors.get(&Some(*field)) {
            lines.push(Line::styled(
                format!("{}{} {}", " ".repeat(label_w + 2), g.fail, sanitize(e)),
                t.error,
            ));
        } else if f.checking.contains(field) {
            lines.push(Line::styled(
                format!("{}{}", " ".repeat(label_w + 2), g.text(s::CHECKING)),
                t.running,
            ));
        } else if focused && *field == FormField::Password {
            lines.push(Line::styled(
                format!("{}{}", " ".repeat(label_w + 2), s::PASSWORD_NOTE),
                t.dim,
            ));
        }
    }
    lines.push(Line::raw(""));
    if let Some(e) = f.errors.get(&None) {
        lines.push(Line::styled(format!("{} {}", g.fail, sanitize(e)), t.error));
    }
    if f.saving {
        lines.push(Line::styled(g.text(s::FORM_SAVING), t.running));
    }
    lines.push(Line::styled(g.text(s::FORM_KEYS), t.dim));
    // Room for long errors that wrap onto a second line.
    let wrapped: usize = lines
        .iter()
        .map(|l| l.width().saturating_sub(1) / usize::from(w.max(1)))
        .sum();
    let h = ((lines.len() + wrapped) as u16).min(area.height.saturating_sub(2));
    popup(frame, area, look, title, lines, w, h);
}
