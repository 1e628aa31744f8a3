//! Drawing the Chain tab: rows of text and validity gauges (ratatui `LineGauge` with a "now"
//! marker), scrolled to keep the selection in view; the save prompt over the bottom.

use std::path::Path;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, LineGauge, Paragraph};

use crate::certs::{Analysis, CertInfo, Purpose, Severity, human_utc};
use crate::explain::{SAVED_CHAIN_CAUTION, finding_sentence, validity_phrase};
use crate::text::sanitize;

use super::{ChainTab, Node, Shown};
use crate::tui::look::{Look, ellipsize, width};

pub const NOTHING_SELECTED: &str =
    "select a certificate first (the anchor and missing nodes have no certificate)";
pub const NO_CHAIN: &str = "no chain to save: diagnose a TLS profile first";
pub const PATH_EMPTY: &str = "type a file name to save to";
pub const SAVE_CLIENT: &str =
    "s saves the broker's chain (for --ca): press c to show it; the client chain is your own file";
pub const ONE_CHAIN: &str =
    "one chain only: c switches between a broker's chain and the client certificate a run sent";
const SWITCH_TO_CLIENT: &str = "c: the client certificate this run sent";
const SWITCH_TO_SERVER: &str = "c: the chain the broker presented";
const MISSING_SERVER: &str =
    "send it after the certificate it issued (the broker's chain file), or add it to the CA file";
const MISSING_CLIENT: &str = "add it after the leaf in the client certificate file; if the broker does not trust it, use a certificate issued by the CA the broker trusts";
const EMPTY: &str = "No chain yet. Diagnose a TLS profile (Profiles, Enter), then come back here (4); or load one in the Certificates tab.";
/// Columns of the validity bar.
const GAUGE_WIDTH: u16 = 24;

pub fn saved_message(path: &Path, count: usize) -> String {
    let plural = if count == 1 { "" } else { "s" };
    format!(
        "saved {count} certificate{plural} to {} (check the root's fingerprint before using it as --ca)",
        sanitize(&path.display().to_string())
    )
}

/// One row of the tab.
enum Row {
    Text(Line<'static>),
    /// A validity bar: indent, the share of the validity elapsed, its style, the words after it.
    Gauge {
        indent: String,
        ratio: f64,
        style: Style,
        words: String,
    },
}

fn role(a: &Analysis, i: usize, pos: Option<usize>) -> &'static str {
    let c = &a.certs[i];
    match pos {
        _ if a.purpose == Purpose::Trust => "CA to trust",
        Some(0) if c.self_signed => "self-signed leaf",
        Some(0) => "leaf",
        _ if c.self_signed => "root",
        _ if c.is_ca => "intermediate",
        _ => "certificate",
    }
}

fn severity_style(s: Option<Severity>, look: &Look) -> Style {
    match s {
        Some(Severity::Error) => look.theme.fail,
        Some(Severity::Warning) => look.theme.warn,
        _ => look.theme.ok,
    }
}

fn severity_glyph(s: Option<Severity>, look: &Look) -> &'static str {
    match s {
        Some(Severity::Error) => look.glyphs.fail,
        Some(Severity::Warning) => look.glyphs.warn,
        _ => look.glyphs.ok,
    }
}

/// Plain word wrap to `w` columns (certificate text is sanitised before).
fn wrap(text: &str, w: usize) -> Vec<String> {
    let w = w.max(10);
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in text.split(' ') {
        let mut word = word.to_string();
        while width(&word) > w {
            let cut: String = word.chars().take(w).collect();
            if !cur.is_empty() {
                lines.push(std::mem::take(&mut cur));
            }
            word = word.chars().skip(cut.chars().count()).collect();
            lines.push(cut);
        }
        if !cur.is_empty() && width(&cur) + 1 + width(&word) > w {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(&word);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

/// Whether `text` is colon hex ("AB:CD:…"): a fingerprint, key id or serial.
fn is_colon_hex(text: &str) -> bool {
    text.contains(':')
        && text
            .split(':')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Colon hex wrapped to `w` columns only after a ':', so no pair is ever split.
pub(super) fn wrap_hex(text: &str, w: usize) -> Vec<String> {
    let w = w.max(3);
    let pairs: Vec<&str> = text.split(':').collect();
    let mut lines = Vec::new();
    let mut cur = String::new();
    for (k, pair) in pairs.iter().enumerate() {
        let piece = if k + 1 < pairs.len() {
            format!("{pair}:")
        } else {
            (*pair).to_string()
        };
        if !cur.is_empty() && width(&cur) + width(&piece) > w {
            lines.push(std::mem::take(&mut cur));
        }
        cur.push_str(&piece);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

struct Builder<'a> {
    rows: Vec<Row>,
    look: &'a Look,
    width: usize,
    /// Row of each node's header.
    node_rows: Vec<usize>,
}

impl Builder<'_> {
    fn text(&mut self, spans: Vec<Span<'static>>) {
        self.rows.push(Row::Text(Line::from(spans)));
    }

    /// `label: value`, wrapped under the label.
    fn field(&mut self, indent: &str, label: &str, value: &str) {
        let head = format!("{indent}{label:<12} ");
        let avail = self.width.saturating_sub(width(&head));
        // Continuation rows keep the tree's line.
        let pad = format!("{indent}{}", " ".repeat(width(&head) - width(indent)));
        let parts = if is_colon_hex(value) {
            wrap_hex(value, avail)
        } else {
            wrap(value, avail)
        };
        for (k, part) in parts.into_iter().enumerate() {
            let first = if k == 0 { head.clone() } else { pad.clone() };
            self.text(vec![
                Span::styled(first, self.look.theme.dim),
                Span::styled(part, self.look.theme.base),
            ]);
        }
    }

    fn sentence(&mut self, indent: &str, glyph: &str, style: Style, text: &str) {
        let head = format!("{indent}{glyph} ");
        let avail = self.width.saturating_sub(width(&head));
        let pad = " ".repeat(width(&head) - width(indent));
        for (k, part) in wrap(text, avail).into_iter().enumerate() {
            let lead = if k == 0 {
                vec![
                    Span::styled(indent.to_string(), self.look.theme.dim),
                    Span::styled(format!("{glyph} "), style),
                ]
            } else {
                vec![Span::styled(format!("{indent}{pad}"), self.look.theme.dim)]
            };
            let mut spans = lead;
            spans.push(Span::styled(part, style));
            self.text(spans);
        }
    }
}

fn cert_rows(
    b: &mut Builder,
    tab: &ChainTab,
    shown: &Shown,
    a: &Analysis,
    node: usize,
    i: usize,
    pos: Option<usize>,
) {
    let look = b.look;
    let g = &look.glyphs;
    let c: &CertInfo = &a.certs[i];
    let worst = a.findings_for(Some(i)).map(|f| f.severity).min();
    let bad = worst.filter(|s| *s != Severity::Info);
    let style = severity_style(bad, look);
    let selected = tab.selected == node;
    let open = tab.expanded.contains(&node);
    let marker = if selected { g.selected } else { " " };
    let fold = if open { "-" } else { "+" };
    let name = sanitize(c.common_name.as_deref().unwrap_or(&c.subject));
    let name_style = if selected {
        look.theme.selected.add_modifier(Modifier::BOLD)
    } else {
        look.theme.title
    };
    b.node_rows.push(b.rows.len());
    let head = format!("{marker}{fold} {} ", severity_glyph(bad, look));
    let tail = if a.purpose == Purpose::Trust {
        // A CA file is loaded, not presented by anyone.
        format!("  {} #{}", role(a, i, pos), i + 1)
    } else {
        format!("  {} #{} {}", role(a, i, pos), i + 1, verb(shown))
    };
    let avail = b.width.saturating_sub(width(&head) + width(&tail));
    b.text(vec![
        Span::styled(head, style),
        Span::styled(ellipsize(&name, avail, g), name_style),
        Span::styled(tail, look.theme.dim),
    ]);
    let ind = format!("  {}", g.tree_pipe);
    // The validity bar: elapsed share filled, the "now" marker where it ends.
    let span = (c.not_after - c.not_before).max(1) as f64;
    let ratio = ((a.now - c.not_before) as f64 / span).clamp(0.0, 1.0);
    let gauge_style = if a.now > c.not_after || a.now < c.not_before {
        look.theme.fail
    } else if worst == Some(Severity::Warning) && c.not_after - a.now < 30 * 86_400 {
        look.theme.warn
    } else {
        look.theme.ok
    };
    b.rows.push(Row::Gauge {
        indent: ind.clone(),
        ratio,
        style: gauge_style,
        words: g.text(&format!(
            "now {}  {}",
            validity_phrase(c, a.now),
            days_words(c, a.now)
        )),
    });
    for f in a.findings_for(Some(i)) {
        let st = severity_style(Some(f.severity), look);
        let glyph = match f.severity {
            Severity::Info => g.bullet,
            s => severity_glyph(Some(s), look),
        };
        b.sentence(&ind, glyph, st, &g.text(&finding_sentence(f, &a.certs)));
    }
    if open {
        b.field(&ind, "subject", &sanitize(&c.subject));
        b.field(&ind, "issuer", &sanitize(&c.issuer));
        let mut sans: Vec<String> = c.dns_names.iter().map(|d| sanitize(d)).collect();
        sans.extend(c.ip_addresses.iter().map(|d| sanitize(d)));
        let sans = if !c.has_san {
            "none (no subjectAltName)".to_string()
        } else {
            sans.join(", ")
        };
        b.field(&ind, "SANs", &sans);
        b.field(
            &ind,
            "valid",
            &g.text(&format!(
                "{} → {}",
                human_utc(c.not_before),
                human_utc(c.not_after)
            )),
        );
        let ca = if c.is_ca {
            match c.path_len {
                Some(n) => format!("CA (path length {n})"),
                None => "CA".into(),
            }
        } else {
            "not a CA".into()
        };
        b.field(&ind, "basic", &ca);
        b.field(&ind, "key usage", &or_none(&c.key_usage));
        b.field(&ind, "EKU", &or_none(&c.eku));
        b.field(&ind, "key", &format!("{} {} bits", c.key_type, c.key_bits));
        b.field(&ind, "signature", &c.signature_algorithm);
        b.field(&ind, "serial", &c.serial);
        b.field(&ind, "SHA-256", &c.sha256_fingerprint);
        b.field(&ind, "SPKI pin", &format!("sha256/{}", c.spki_sha256_pin));
        if let Some(k) = &c.subject_key_id {
            b.field(&ind, "key id", k);
        }
        if let Some(k) = &c.authority_key_id {
            b.field(&ind, "issuer key", k);
        }
    }
}

/// What happened to the certificates shown: a broker presents its chain, a client sends its.
fn verb(shown: &Shown) -> &'static str {
    if shown.client { "sent" } else { "presented" }
}

fn or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none (extension absent)".into()
    } else {
        items
            .iter()
            .map(|s| sanitize(s))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// "(120 days left)", "(12 days past)", "(starts in 3 days)".
fn days_words(c: &CertInfo, now: i64) -> String {
    let day = 86_400;
    if now > c.not_after {
        format!("({} days past)", (now - c.not_after) / day)
    } else if now < c.not_before {
        format!("(starts in {} days)", (c.not_before - now + day - 1) / day)
    } else {
        format!("({} days left)", (c.not_after - now) / day)
    }
}

/// The presented order beside the verified one (leaf first), one certificate a row.
fn order_rows(b: &mut Builder, shown: &Shown, a: &Analysis, w: usize) {
    let look = b.look;
    let g = &look.glyphs;
    let col = w.saturating_sub(2) / 2;
    let name = |i: usize| {
        let c = &a.certs[i];
        sanitize(c.common_name.as_deref().unwrap_or(&c.subject))
    };
    let cell = |i: Option<usize>| match i {
        Some(i) => ellipsize(&format!("#{} {}", i + 1, name(i)), col, g),
        None => String::new(),
    };
    let pad = |text: String| {
        let fill = col.saturating_sub(width(&text));
        format!("{text}{}", " ".repeat(fill))
    };
    b.text(vec![
        Span::styled(
            pad(ellipsize(&format!("as {}", verb(shown)), col, g)),
            look.theme.dim,
        ),
        Span::styled("  ", look.theme.dim),
        Span::styled(ellipsize("as verified, leaf first", col, g), look.theme.dim),
    ]);
    let rows = a.certs.len().max(a.order.len());
    for k in 0..rows {
        let left = (k < a.certs.len()).then_some(k);
        let right = a.order.get(k).copied();
        b.text(vec![
            Span::styled(pad(cell(left)), look.theme.warn),
            Span::styled("  ", look.theme.dim),
            Span::styled(cell(right), look.theme.ok),
        ]);
    }
}

fn build(tab: &ChainTab, shown: &Shown, look: &Look, w: usize) -> (Vec<Row>, Vec<usize>) {
    let mut b = Builder {
        rows: Vec::new(),
        look,
        width: w,
        node_rows: Vec::new(),
    };
    let g = &look.glyphs;
    let a = match &shown.analysis {
        Ok(a) => a,
        Err(e) => {
            b.sentence("", g.fail, look.theme.fail, &sanitize(e));
            return (b.rows, b.node_rows);
        }
    };
    let n = a.certs.len();
    b.text(vec![Span::styled(
        ellipsize(
            &if a.purpose == Purpose::Trust {
                format!(
                    "{n} CA certificate{} to trust, each on its own (a CA file)",
                    if n == 1 { "" } else { "s" }
                )
            } else {
                format!(
                    "{} certificate{} {}{}",
                    n,
                    if n == 1 { "" } else { "s" },
                    verb(shown),
                    if a.in_order {
                        ", leaf first, in issuance order"
                    } else {
                        ""
                    }
                )
            },
            w,
            g,
        ),
        look.theme.dim,
    )]);
    if tab.other.is_some() {
        let to = if shown.client {
            SWITCH_TO_SERVER
        } else {
            SWITCH_TO_CLIENT
        };
        b.text(vec![Span::styled(ellipsize(to, w, g), look.theme.dim)]);
    }
    if !a.in_order {
        order_rows(&mut b, shown, a, w);
    }
    for f in a.findings_for(None) {
        let st = severity_style(Some(f.severity), look);
        let glyph = severity_glyph(Some(f.severity), look);
        b.sentence("", glyph, st, &g.text(&finding_sentence(f, &a.certs)));
    }
    let nodes = super::nodes_of(a);
    let mut in_path = true;
    for (k, node) in nodes.iter().enumerate() {
        let pos = match node {
            Node::Cert(i) => a.order.iter().position(|o| o == i),
            _ => None,
        };
        if k > 0 {
            if matches!(node, Node::Cert(_)) && pos.is_none() && in_path && !a.order.is_empty() {
                in_path = false;
                let verb = if shown.client { "Sent" } else { "Presented" };
                b.text(vec![Span::styled(
                    format!("{verb} but not part of the chain:"),
                    look.theme.warn,
                )]);
            } else if in_path && a.purpose != Purpose::Trust {
                b.text(vec![Span::styled(
                    format!("  {} issued by", g.tree_last),
                    look.theme.dim,
                )]);
            }
        }
        let selected = tab.selected == k;
        let marker = if selected { g.selected } else { " " };
        let name_style = if selected {
            look.theme.selected.add_modifier(Modifier::BOLD)
        } else {
            look.theme.title
        };
        match node {
            Node::Cert(i) => cert_rows(&mut b, tab, shown, a, k, *i, pos),
            Node::Anchor { subject } => {
                b.node_rows.push(b.rows.len());
                let head = format!("{marker}  {} ", g.ok);
                let tail = "  trust anchor (your CA file or the system store)";
                let avail = w.saturating_sub(width(&head) + width(tail));
                b.text(vec![
                    Span::styled(head, look.theme.ok),
                    Span::styled(ellipsize(&sanitize(subject), avail, g), name_style),
                    Span::styled(tail, look.theme.dim),
                ]);
            }
            Node::Missing { subject, key_id } => {
                b.node_rows.push(b.rows.len());
                let head = format!("{marker}  {} ", g.fail);
                let tail = "  MISSING: nobody sent or trusts it";
                let avail = w.saturating_sub(width(&head) + width(tail));
                b.text(vec![
                    Span::styled(head, look.theme.fail),
                    Span::styled(ellipsize(&sanitize(subject), avail, g), name_style),
                    Span::styled(tail, look.theme.fail),
                ]);
                let ind = format!("  {}", g.tree_pipe);
                b.field(&ind, "subject", &sanitize(subject));
                b.field(
                    &ind,
                    "key id",
                    key_id
                        .as_deref()
                        .unwrap_or("(the certificate below names none)"),
                );
                let remedy = if shown.client {
                    MISSING_CLIENT
                } else {
                    MISSING_SERVER
                };
                b.sentence(&ind, g.bullet, look.theme.dim, remedy);
            }
        }
    }
    (b.rows, b.node_rows)
}

pub fn draw(tab: &ChainTab, frame: &mut Frame, area: Rect, look: &Look) {
    let title = match &tab.shown {
        Some(s) => format!(" Chain {} {} ", look.glyphs.text("·"), sanitize(&s.label)),
        None => " Chain ".to_string(),
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_set(look.glyphs.border)
        .border_style(look.theme.border)
        .title(Span::styled(
            ellipsize(
                &title,
                usize::from(area.width.saturating_sub(2)),
                &look.glyphs,
            ),
            look.theme.title,
        ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(shown) = &tab.shown else {
        frame.render_widget(
            Paragraph::new(
                wrap(EMPTY, usize::from(inner.width))
                    .into_iter()
                    .map(Line::from)
                    .collect::<Vec<_>>(),
            )
            .style(look.theme.dim),
            inner,
        );
        tab.max_scroll.set(0);
        return;
    };
    let (rows, node_rows) = build(tab, shown, look, usize::from(inner.width));
    let h = inner.height;
    tab.height.set(h);
    let total = rows.len() as u16;
    let max = total.saturating_sub(h);
    tab.max_scroll.set(max);
    let mut off = tab.scroll.get().min(max);
    if tab.reveal.get()
        && let Some(&r) = node_rows.get(tab.selected)
    {
        let r = r as u16;
        // The selected header and a few rows of what follows it in view.
        let end = node_rows
            .get(tab.selected + 1)
            .map_or(total, |&n| n as u16)
            .min(r + h.saturating_sub(1));
        if r < off {
            off = r;
        } else if end > off + h {
            off = (end - h).min(r);
        }
        off = off.min(max);
    }
    tab.scroll.set(off);
    for (k, row) in rows
        .iter()
        .skip(usize::from(off))
        .take(usize::from(h))
        .enumerate()
    {
        let y = inner.y + k as u16;
        let line_area = Rect::new(inner.x, y, inner.width, 1);
        match row {
            Row::Text(line) => frame.render_widget(Paragraph::new(line.clone()), line_area),
            Row::Gauge {
                indent,
                ratio,
                style,
                words,
            } => draw_gauge(frame, line_area, look, indent, *ratio, *style, words),
        }
    }
    if let Some(p) = &tab.prompt {
        draw_prompt(frame, inner, look, p);
    }
}

fn draw_gauge(
    frame: &mut Frame,
    area: Rect,
    look: &Look,
    indent: &str,
    ratio: f64,
    style: Style,
    words: &str,
) {
    let iw = width(indent) as u16;
    frame.render_widget(
        Paragraph::new(Span::styled(indent.to_string(), look.theme.dim)),
        area,
    );
    let gw = GAUGE_WIDTH.min(area.width.saturating_sub(iw + 10));
    if gw < 4 {
        return;
    }
    let gauge_area = Rect::new(area.x + iw, area.y, gw, 1);
    let (filled, unfilled) = if look.glyphs.ascii {
        ("=", "-")
    } else {
        ("━", "─")
    };
    frame.render_widget(
        LineGauge::default()
            .ratio(ratio)
            .label("")
            .filled_symbol(filled)
            .unfilled_symbol(unfilled)
            .filled_style(style)
            .unfilled_style(look.theme.dim),
        gauge_area,
    );
    // The "now" marker where the elapsed part ends.
    let at = ((f64::from(gw - 1)) * ratio).round() as u16;
    let marker = if look.glyphs.ascii { "|" } else { "┃" };
    if let Some(cell) = frame
        .buffer_mut()
        .cell_mut((gauge_area.x + at, gauge_area.y))
    {
        cell.set_symbol(marker)
            .set_style(style.add_modifier(Modifier::BOLD));
    }
    let rest = Rect::new(
        gauge_area.x + gw + 1,
        area.y,
        area.width.saturating_sub(iw + gw + 1),
        1,
    );
    frame.render_widget(
        Paragraph::new(Span::styled(
            ellipsize(words, usize::from(rest.width), &look.glyphs),
            style,
        )),
        rest,
    );
}

fn draw_prompt(frame: &mut Frame, inner: Rect, look: &Look, p: &super::SavePrompt) {
    let w = inner.width;
    let text_w = usize::from(w.saturating_sub(2));
    let mut lines: Vec<Line> = Vec::new();
    for l in wrap(&look.glyphs.text(SAVED_CHAIN_CAUTION), text_w) {
        lines.push(Line::styled(l, look.theme.warn));
    }
    lines.push(Line::from(vec![
        Span::styled("file: ", look.theme.dim),
        Span::styled(sanitize(&p.path), look.theme.input_focused),
        Span::styled("_", look.theme.input_focused),
    ]));
    if p.exists {
        lines.push(Line::styled(
            "That file exists: Enter again overwrites it, Esc keeps it.",
            look.theme.fail,
        ));
    }
    if let Some(e) = &p.error {
        for l in wrap(&sanitize(e), text_w) {
            lines.push(Line::styled(l, look.theme.fail));
        }
    }
    let h = (lines.len() as u16 + 2).min(inner.height);
    let area = Rect::new(inner.x, inner.y + inner.height - h, w, h);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .border_set(look.glyphs.border)
                .border_style(look.theme.border_focused)
                .title(" Save the presented chain as PEM "),
        ),
        area,
    );
}
