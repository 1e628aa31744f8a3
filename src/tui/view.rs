//! Drawing the shell: tab bar, the active tab, status line, footer hints, popups and the
//! "terminal too small" screen. A pure function of [`App`]; header and status parts are
//! dropped in order of importance so nothing overlaps at any width.

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::app::{App, Popup, Tab};
use super::help;
use super::look::{Look, ellipsize, width};
use super::strings as s;
use crate::text::sanitize;

/// Below this the app shows only "terminal too small".
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;

/// Draws the whole screen.
pub fn view(app: &App, frame: &mut Frame) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        draw_too_small(app, frame, area);
    } else {
        // A message longer than the line gets a second row rather than losing its end.
        let long_message = app
            .status
            .as_deref()
            .is_some_and(|m| width(&sanitize(m)) > usize::from(area.width));
        let [tabs, body, status, footer] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(0),
            Constraint::Length(if long_message { 2 } else { 1 }),
            Constraint::Length(1),
        ])
        .areas(area);
        draw_tabs(app, frame, tabs);
        match app.tab {
            Tab::Profiles => app.profiles.draw(frame, body, &app.look),
            Tab::Diagnose => super::diagnose::view::draw(&app.diagnose, frame, body, &app.look),
            Tab::Certificates => app.certs.draw(frame, body, &app.look),
            Tab::Chain => app.chain.draw(frame, body, &app.look),
        }
        draw_status(app, frame, status);
        draw_footer(app, frame, footer);
        match &app.popup {
            Some(Popup::Help { context, scroll }) => draw_help(app, *context, *scroll, frame, body),
            Some(Popup::ConfirmQuit) => draw_confirm(app, frame, body),
            Some(Popup::Bundle(d)) => super::bundle::draw(d, frame, body, &app.look),
            None => {}
        }
    }
    enforce_look(frame.buffer_mut(), &app.look);
}

/// The last word on `NO_COLOR` and `--ascii`, whatever a widget drew: no colour in any cell,
/// no non-ASCII symbol.
fn enforce_look(buf: &mut Buffer, look: &Look) {
    let no_color = look.no_color;
    let ascii = look.glyphs.ascii;
    if !no_color && !ascii {
        return;
    }
    for cell in buf.content.iter_mut() {
        if no_color {
            cell.fg = Color::Reset;
            cell.bg = Color::Reset;
        }
        if ascii && !cell.symbol().is_ascii() {
            let mapped = look.glyphs.text(cell.symbol());
            let c = mapped
                .chars()
                .next()
                .filter(|c| c.is_ascii())
                .unwrap_or('?');
            cell.set_char(c);
        }
    }
}

fn draw_too_small(app: &App, frame: &mut Frame, area: Rect) {
    let text = app.look.glyphs.text(&format!(
        "{} (need {MIN_WIDTH}×{MIN_HEIGHT}, have {}×{})",
        s::TOO_SMALL,
        area.width,
        area.height
    ));
    let lines = vec![Line::from(Span::styled(text, app.look.theme.warn))];
    let top = area.height.saturating_sub(1) / 2;
    let inner = Rect {
        y: area.y + top,
        height: area.height - top,
        ..area
    };
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: true }).centered(),
        inner,
    );
}

/// Tab labels on the left, then what the Diagnose tab shows, ellipsised, then the app name
/// when room is left: each part only when it fits whole (the subject shortened first).
fn draw_tabs(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.look.theme;
    let mut spans = Vec::new();
    let mut areas = [Rect::default(); 4];
    let mut x = 0usize;
    for (i, tab) in Tab::ALL.iter().enumerate() {
        let active = *tab == app.tab;
        // A tab with runs going says so while another tab is on screen.
        let busy = !active
            && match tab {
                Tab::Profiles => app.profiles.animating(),
                Tab::Diagnose => app.diagnose.running(),
                _ => false,
            };
        let title = if busy {
            format!("{} ({})", tab.title(), s::WORD_RUNNING)
        } else {
            tab.title().to_string()
        };
        let label = if active {
            format!("[{} {title}]", i + 1)
        } else {
            format!(" {} {title} ", i + 1)
        };
        let w = width(&label);
        areas[i] = Rect {
            x: area.x + x as u16,
            y: area.y,
            width: w as u16,
            height: 1,
        };
        spans.push(Span::styled(
            label,
            if active { t.tab_active } else { t.tab_inactive },
        ));
        spans.push(Span::raw(" "));
        x += w + 1;
    }
    app.tab_areas.set(areas);
    let total = usize::from(area.width);
    let mut room = total.saturating_sub(x);
    let name = s::APP_NAME;
    let subject = match (app.tab, app.diagnose.shown_run()) {
        (Tab::Diagnose, Some(run)) => {
            let label = sanitize(run.source.label());
            if run.target.is_empty() || run.target == run.source.label() {
                label
            } else {
                format!(
                    "{label} {} {}",
                    app.look.glyphs.arrow,
                    sanitize(&run.target)
                )
            }
        }
        _ => String::new(),
    };
    let mut right = Vec::new();
    if !subject.is_empty() && room > 10 {
        let show_name = room >= width(&subject) + width(name) + 4;
        let budget = if show_name {
            room - width(name) - 3
        } else {
            room - 1
        };
        let text = ellipsize(&subject, budget, &app.look.glyphs);
        room = room.saturating_sub(width(&text) + 1);
        right.push(Span::styled(text, t.base));
        if show_name {
            right.push(Span::raw("  "));
            right.push(Span::styled(name, t.dim));
            room = room.saturating_sub(width(name) + 2);
        }
    } else if room > width(name) + 1 {
        right.push(Span::styled(name, t.dim));
        room = room.saturating_sub(width(name));
    }
    spans.push(Span::raw(" ".repeat(room)));
    spans.extend(right);
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// Parts in order of importance: the last message, the keyring, the profiles file, mouse off.
fn draw_status(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.look.theme;
    if area.height > 1
        && let Some(msg) = &app.status
    {
        frame.render_widget(
            Paragraph::new(Span::styled(sanitize(msg), t.accent)).wrap(Wrap { trim: false }),
            area,
        );
        return;
    }
    let mut parts: Vec<(String, Style)> = Vec::new();
    if let Some(msg) = &app.status {
        parts.push((sanitize(msg), t.accent));
    }
    parts.push((
        app.keyring
            .as_deref()
            .map(sanitize)
            .unwrap_or_else(|| app.look.glyphs.text(s::KEYRING_LOOKING)),
        t.dim,
    ));
    parts.push((
        match &app.profiles_file {
            Some(p) => format!("{} {}", s::PROFILES_PREFIX, sanitize(p)),
            None => s::DEMO_PROFILES.to_string(),
        },
        t.dim,
    ));
    if !app.mouse {
        parts.push((s::MOUSE_OFF.to_string(), t.dim));
    }
    let sep = app.look.glyphs.text(s::HINT_SEPARATOR);
    let total = usize::from(area.width);
    let mut used = 0;
    let mut spans = Vec::new();
    for (text, style) in parts {
        let gap = if spans.is_empty() { 0 } else { width(&sep) };
        let room = total.saturating_sub(used + gap);
        // A part that does not fit whole is shortened if enough of it stays readable,
        // and ends the line: the rest is less important.
        let fits = width(&text) <= room;
        if !fits && (room < 16 || !spans.is_empty() && room < 24) {
            break;
        }
        if gap > 0 {
            spans.push(Span::styled(sep.clone(), t.dim));
        }
        let shown = ellipsize(&text, room, &app.look.glyphs);
        used += gap + width(&shown);
        spans.push(Span::styled(shown, style));
        if !fits {
            break;
        }
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The active bindings' hints, as many as fit (the keymap's order: the context's own first).
fn draw_footer(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.look.theme;
    let sep = app.look.glyphs.text(s::HINT_SEPARATOR);
    let total = usize::from(area.width);
    let mut used = 0;
    let mut spans = Vec::new();
    for (key, hint) in help::hints(&app.keymap, app.context()) {
        let w = width(&key) + 1 + width(&hint) + if spans.is_empty() { 0 } else { width(&sep) };
        if used + w > total {
            break;
        }
        if !spans.is_empty() {
            spans.push(Span::styled(sep.clone(), t.dim));
        }
        spans.push(Span::styled(key, t.key));
        spans.push(Span::raw(" "));
        spans.push(Span::styled(hint, t.base));
        used += w;
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}

fn draw_help(
    app: &App,
    context: super::keymap::Context,
    scroll: u16,
    frame: &mut Frame,
    area: Rect,
) {
    let t = &app.look.theme;
    let rows = help::rows(&app.keymap, context);
    let key_width = rows
        .iter()
        .map(|(k, _)| width(k))
        .max()
        .unwrap_or(4)
        .min(24);
    let lines: Vec<Line> = rows
        .into_iter()
        .map(|(keys, what)| {
            Line::from(vec![
                Span::styled(format!(" {keys:<key_width$}  "), t.key),
                Span::styled(what, t.base),
            ])
        })
        .collect();
    let total = u16::try_from(lines.len()).unwrap_or(u16::MAX);
    let popup = centered(area, 76, total.saturating_add(2));
    let inner = popup.height.saturating_sub(2);
    let max_scroll = total.saturating_sub(inner);
    let scroll = scroll.min(max_scroll);
    let mut title = format!(" {} ({}) ", s::HELP_TITLE, context.id());
    if max_scroll > 0 {
        // Longer than the screen: say where the view is (Up/Down scroll).
        title.push_str(&app.look.glyphs.text(&format!(
            "{}-{}/{total} ↑/↓ ",
            scroll + 1,
            scroll + inner
        )));
    }
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).scroll((scroll, 0)).block(
            Block::bordered()
                .border_set(app.look.glyphs.border)
                .border_style(t.border_focused)
                .title(Span::styled(title, t.title)),
        ),
        popup,
    );
}

fn draw_confirm(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.look.theme;
    let popup = centered(area, 56, 5);
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(vec![Line::from(Span::styled(s::CONFIRM_TEXT, t.warn))])
            .wrap(Wrap { trim: true })
            .block(
                Block::bordered()
                    .border_set(app.look.glyphs.border)
                    .border_style(t.border_focused)
                    .title(Span::styled(format!(" {} ", s::CONFIRM_TITLE), t.title)),
            ),
        popup,
    );
}
