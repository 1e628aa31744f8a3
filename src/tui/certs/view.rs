//! Drawing of the Certificates tab: a step bar, then the step's page. Pure: reads the state,
//! never the key material (a key is described, never shown; the passphrase is masked).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use crate::certs::{Format, Purpose, Severity};
use crate::explain::finding_sentence;
use crate::text::sanitize;
use crate::tui::look::Look;

use super::{ALPN_KNOWN, CertsTab, OptionField, SourceField, SourceKind, Step};

pub const STEP_SOURCE: &str = "Source";
pub const STEP_FOUND: &str = "What was found";
pub const STEP_MATCH: &str = "Match";
pub const STEP_OPTIONS: &str = "TLS options";
pub const STEP_SAVE: &str = "Save";
pub const NOTHING_LOADED: &str = "nothing is loaded yet: choose a file on the Source step";
pub const FATAL_BLOCKS: &str =
    "a fatal finding blocks saving (see What was found); fix the material and load it again";
pub const NEED_PROFILE: &str = "name the profile to attach this to";
pub const NEED_URL: &str = "a new profile needs the broker's URL (mqtts://host:8883)";
pub const NEED_PATH: &str = "type the path of a certificate, key or .p12 file first";
pub const DEMO_NO_SAVE: &str = "demo profiles are in memory: nothing can be saved to the keyring";
pub const TYPE_PASSPHRASE: &str =
    "This file is encrypted: type its passphrase (masked) and press Enter.";
pub const DEMO_NO_EXPORT: &str = "demo profiles are in memory: nothing is in the keyring to export";
pub const EXPORT_NEEDS_PROFILE: &str =
    "name a saved profile on the Source step to export what it keeps in the keyring";
pub const READING: &str = "reading…";
pub const FETCHING: &str = "fetching the chain the broker presents… (Esc stops waiting)";
pub const FETCH_STOPPED: &str = "stopped waiting for the broker; Enter fetches again";
pub const ABOUT_FILE: &str = "A certificate, chain, key or .p12/.pfx file (PEM, DER or PKCS#12).";
pub const ABOUT_PASTE: &str =
    "PEM text: certificates, and the private key if it goes with them (shown hidden).";
pub const ABOUT_BROKER: &str = "The chain a broker presents (fetched without trusting it).";
pub const URL_FROM_PROFILE: &str = "empty: the profile's URL and TLS options";
pub const KIND_FILE: &str = "File";
pub const KIND_PASTE: &str = "Paste PEM";
pub const KIND_BROKER: &str = "Broker";
pub const FILES_IN: &str = "Files in";
pub const READING_FOLDER: &str = "reading the folder…";
pub const EMPTY_FOLDER: &str = "(empty folder)";
pub const NO_MATCH: &str = "no entry starts with";

fn step_title(s: Step) -> &'static str {
    match s {
        Step::Source => STEP_SOURCE,
        Step::Found => STEP_FOUND,
        Step::Match => STEP_MATCH,
        Step::Options => STEP_OPTIONS,
        Step::Save => STEP_SAVE,
    }
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Error => "FATAL",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

fn field_line<'a>(label: &str, value: &str, focused: bool, look: &Look) -> Line<'a> {
    let style = if focused {
        look.theme.input_focused
    } else {
        look.theme.input
    };
    let cursor = if focused { "_" } else { "" };
    Line::from(vec![
        Span::styled(format!("{label:<12}"), look.theme.dim),
        Span::styled(format!("{}{cursor}", sanitize(value)), style),
    ])
}

fn hint<'a>(text: &str, look: &Look) -> Line<'a> {
    Line::from(Span::styled(text.to_string(), look.theme.dim))
}

impl CertsTab {
    pub fn draw(&self, frame: &mut Frame, area: Rect, look: &Look) {
        let [bar, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(area);
        let mut spans = Vec::new();
        for (i, s) in Step::ALL.iter().enumerate() {
            if i > 0 {
                spans.push(Span::styled(
                    format!(" {} ", look.glyphs.arrow),
                    look.theme.dim,
                ));
            }
            let style = if *s == self.step {
                look.theme.tab_active
            } else {
                look.theme.tab_inactive
            };
            spans.push(Span::styled(
                format!("{}. {}", i + 1, step_title(*s)),
                style,
            ));
        }
        frame.render_widget(Paragraph::new(Line::from(spans)), bar);
        let lines = match self.step {
            Step::Source => self.source_lines(
                look,
                usize::from(body.height.saturating_sub(2)),
                usize::from(body.width.saturating_sub(2)),
            ),
            Step::Found => self.found_lines(look),
            Step::Match => self.match_lines(look),
            Step::Options => self.option_lines(look),
            Step::Save => self.save_lines(look),
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .border_set(look.glyphs.border)
            .border_style(look.theme.border)
            .title(Span::styled(
                format!(" Certificates: {} ", step_title(self.step)),
                look.theme.title,
            ));
        frame.render_widget(
            Paragraph::new(lines)
                .block(block)
                .wrap(Wrap { trim: false })
                .scroll((self.scroll, 0)),
            body,
        );
        if let Some(p) = &self.export {
            p.draw(frame, body, look);
        }
    }

    fn error_line<'a>(&self, text: &str, look: &Look) -> Line<'a> {
        Line::from(Span::styled(sanitize(text), look.theme.error))
    }

    /// The Source step: the fields, then the browser's rows (as many as `rows` allows).
    fn source_lines(&self, look: &Look, rows: usize, cols: usize) -> Vec<Line<'static>> {
        let about = match self.kind {
            SourceKind::File => ABOUT_FILE,
            SourceKind::Paste => ABOUT_PASTE,
            SourceKind::Broker => ABOUT_BROKER,
        };
        let mut out = vec![self.kind_line(look), hint(about, look), Line::default()];
        match self.kind {
            SourceKind::File => out.push(field_line(
                "File",
                &self.path,
                self.source_field == SourceField::Path && !self.browser.focused,
                look,
            )),
            SourceKind::Paste => out.extend(self.paste_lines(look, rows, cols)),
            SourceKind::Broker => {
                out.push(field_line(
                    "URL",
                    &self.broker_url,
                    self.source_field == SourceField::Url,
                    look,
                ));
                if self.broker_url.trim().is_empty() {
                    out.push(hint(&format!("{:12}{URL_FROM_PROFILE}", ""), look));
                }
            }
        }
        out.push(field_line(
            "Profile",
            &self.profile,
            self.source_field == SourceField::Profile,
            look,
        ));
        if self.asking_passphrase {
            let masked = "*".repeat(self.passphrase.expose().chars().count());
            out.push(field_line(
                "Passphrase",
                &masked,
                self.source_field == SourceField::Passphrase,
                look,
            ));
        }
        if self.busy {
            out.push(hint(
                if self.kind == SourceKind::Broker {
                    FETCHING
                } else {
                    READING
                },
                look,
            ));
        }
        if let Some(e) = &self.source_error {
            out.push(self.error_line(e, look));
        }
        if self.kind == SourceKind::File {
            out.push(Line::default());
            let budget = rows.saturating_sub(out.len() + 1).max(3);
            out.extend(self.browser_lines(look, budget));
        }
        out
    }

    /// "Source  [File]  Paste PEM  Broker": the chosen kind bracketed (it reads without colour).
    fn kind_line(&self, look: &Look) -> Line<'static> {
        let focused = self.source_field == SourceField::Kind;
        let mut spans = vec![Span::styled(format!("{:<12}", "Source"), look.theme.dim)];
        for k in SourceKind::ALL {
            let name = match k {
                SourceKind::File => KIND_FILE,
                SourceKind::Paste => KIND_PASTE,
                SourceKind::Broker => KIND_BROKER,
            };
            let (text, style) = if k == self.kind {
                let style = if focused {
                    look.theme.selected
                } else {
                    look.theme.input_focused
                };
                (format!("[{name}]"), style)
            } else {
                (format!(" {name} "), look.theme.base)
            };
            spans.push(Span::styled(text, style));
            spans.push(Span::raw(" "));
        }
        Line::from(spans)
    }

    /// The paste field: the last lines that fit, every private key's body one "hidden" line.
    fn paste_lines(&self, look: &Look, rows: usize, cols: usize) -> Vec<Line<'static>> {
        let focused = self.source_field == SourceField::Paste;
        let style = if focused {
            look.theme.input_focused
        } else {
            look.theme.input
        };
        let width = cols.saturating_sub(12).max(10);
        let mut shown = if self.paste.is_empty() {
            Vec::new()
        } else {
            self.paste.lines_for_display(width)
        };
        let room = rows.saturating_sub(9).max(3);
        let mut out = Vec::new();
        if shown.len() > room {
            let skipped = shown.len() - room;
            shown.drain(..skipped);
            out.push(hint(&format!("{:12}… {skipped} lines above", ""), look));
        }
        if shown.is_empty() {
            shown.push(String::new());
        }
        let last = shown.len() - 1;
        for (i, l) in shown.into_iter().enumerate() {
            let label = if out.is_empty() && i == 0 { "PEM" } else { "" };
            let cursor = if focused && i == last { "_" } else { "" };
            out.push(Line::from(vec![
                Span::styled(format!("{label:<12}"), look.theme.dim),
                Span::styled(format!("{l}{cursor}"), style),
            ]));
        }
        out
    }

    /// The file browser: a heading naming the folder, then a window of the matching entries
    /// around the selection, folders marked `/`.
    fn browser_lines(&self, look: &Look, budget: usize) -> Vec<Line<'static>> {
        let (dir_part, base) = super::browser::split(&self.path);
        let folder = if dir_part.is_empty() { "./" } else { dir_part };
        let heading_style = if self.browser.focused {
            look.theme.title
        } else {
            look.theme.dim
        };
        let mut out = vec![Line::from(Span::styled(
            format!("{FILES_IN} {}", sanitize(folder)),
            heading_style,
        ))];
        let listing = match &self.browser.listing {
            None => {
                out.push(hint(&format!("  {READING_FOLDER}"), look));
                return out;
            }
            Some(Err(e)) => {
                out.push(self.error_line(&format!("  {e}"), look));
                return out;
            }
            Some(Ok(l)) => l,
        };
        let shown = self.visible_entries();
        if shown.is_empty() {
            let text = if base.is_empty() {
                EMPTY_FOLDER.to_string()
            } else {
                format!("{NO_MATCH} {:?}", sanitize(base))
            };
            out.push(hint(&format!("  {text}"), look));
        }
        let rows = budget.saturating_sub(1).max(1);
        let selected = self.browser.selected.min(shown.len().saturating_sub(1));
        let first = if selected >= rows {
            selected + 1 - rows
        } else {
            0
        };
        for (i, e) in shown.iter().enumerate().skip(first).take(rows) {
            let name = format!("{}{}", sanitize(&e.name), if e.dir { "/" } else { "" });
            let here = self.browser.focused && i == selected;
            let style = if here {
                look.theme.selected
            } else if e.dir {
                look.theme.accent
            } else {
                look.theme.base
            };
            let mark = if here { look.glyphs.selected } else { " " };
            out.push(Line::from(Span::styled(format!("{mark} {name}"), style)));
        }
        let hidden = shown.len().saturating_sub(first + rows) + listing.more;
        if hidden > 0 {
            out.push(hint(&format!("  … {hidden} more"), look));
        }
        out
    }

    fn found_lines(&self, look: &Look) -> Vec<Line<'static>> {
        let Some(f) = &self.found else {
            return vec![hint(NOTHING_LOADED, look)];
        };
        let a = &f.analysis;
        let format = match f.format {
            Some(Format::Pem) => "PEM",
            Some(Format::Der) => "DER",
            Some(Format::Pkcs12) => "PKCS#12",
            None => "presented over TLS",
        };
        let mut out = vec![
            Line::from(format!(
                "{}: {format}, {} certificate{}, {}",
                sanitize(&f.label),
                a.certs.len(),
                if a.certs.len() == 1 { "" } else { "s" },
                f.key.unwrap_or("no private key"),
            )),
            Line::default(),
        ];
        for (i, c) in a.certs.iter().enumerate() {
            let role = match a.order.iter().position(|&o| o == i) {
                _ if a.purpose == Purpose::Trust => "CA to trust",
                Some(0) => "leaf",
                Some(_) if c.self_signed => "root",
                Some(_) => "intermediate",
                None => "not in the chain",
            };
            out.push(Line::from(vec![
                Span::styled(format!("{}. {role:<13}", i + 1), look.theme.accent),
                Span::raw(sanitize(&c.subject)),
            ]));
            out.push(Line::from(Span::styled(
                format!("   SHA-256 {}", c.sha256_fingerprint.replace(':', "")),
                look.theme.dim,
            )));
        }
        if !a.in_order {
            let order: Vec<String> = a.order.iter().map(|i| (i + 1).to_string()).collect();
            out.push(Line::from(Span::styled(
                format!(
                    "Out of order: the chain is {} when re-ordered leaf first (Save stores it so).",
                    order.join(" → ")
                ),
                look.theme.warn,
            )));
        }
        out.push(Line::default());
        for fi in &a.findings {
            // A presented chain's untrusted top is what Save trusts: a warning, not FATAL.
            let severity = match fi.severity {
                Severity::Error if !f.blocks(fi) => Severity::Warning,
                s => s,
            };
            let style = match severity {
                Severity::Error => look.theme.fail,
                Severity::Warning => look.theme.warn,
                Severity::Info => look.theme.dim,
            };
            out.push(Line::from(vec![
                Span::styled(format!("{:<8} ", severity_word(severity)), style),
                Span::raw(sanitize(&finding_sentence(fi, &a.certs))),
            ]));
        }
        out
    }

    fn match_lines(&self, look: &Look) -> Vec<Line<'static>> {
        let Some(f) = &self.found else {
            return vec![hint(NOTHING_LOADED, look)];
        };
        use crate::certs::FindingKind as K;
        let a = &f.analysis;
        let has = |pred: &dyn Fn(&K) -> bool| a.findings.iter().find(|x| pred(&x.kind));
        let ok = |t: String| Line::from(Span::styled(t, look.theme.ok));
        let bad = |t: String| Line::from(Span::styled(t, look.theme.fail));
        let warn = |t: String| Line::from(Span::styled(t, look.theme.warn));
        let mut out = Vec::new();
        if f.key.is_some() {
            if has(&|k| matches!(k, K::KeyMatches)).is_some() {
                out.push(ok(format!(
                    "{} The private key belongs to the certificate.",
                    look.glyphs.ok
                )));
            } else if let Some(x) = has(&|k| matches!(k, K::KeyMismatch { .. })) {
                out.push(bad(format!(
                    "{} FATAL: {}",
                    look.glyphs.fail,
                    sanitize(&finding_sentence(x, &a.certs))
                )));
            } else if let Some(x) = has(&|k| matches!(k, K::KeyNotCompared { .. })) {
                out.push(warn(sanitize(&finding_sentence(x, &a.certs))));
            }
        } else if f.purpose() == Purpose::Trust {
            out.push(Line::from(
                "No private key: CA certificates to trust; Save makes this file the profile's CA (tls.ca).",
            ));
        } else {
            out.push(Line::from(
                "No private key: this is a server chain or CA bundle to trust.",
            ));
        }
        match f.purpose() {
            Purpose::Client => {
                if let Some(x) = has(&|k| matches!(k, K::BadEku { .. })) {
                    out.push(bad(sanitize(&finding_sentence(x, &a.certs))));
                } else {
                    out.push(ok(format!(
                        "{} The client certificate may be used for clientAuth.",
                        look.glyphs.ok
                    )));
                }
                if let Some(issuer) = f.missing_issuer() {
                    out.push(warn(format!(
                        "The leaf's issuer {} is missing: add that intermediate to the client chain (the broker needs it to verify the client certificate).",
                        sanitize(&issuer)
                    )));
                }
            }
            Purpose::Trust => {}
            Purpose::Server => match (&f.host, f.hostname_mismatch()) {
                (Some(h), Some(names)) => {
                    out.push(warn(format!(
                        "The server certificate does not name {}; it names {}.",
                        sanitize(h),
                        sanitize(&names.join(", "))
                    )));
                    if let Some(first) = names.first() {
                        out.push(Line::from(format!(
                            "TLS options will offer the SNI override {}.",
                            sanitize(first)
                        )));
                    }
                }
                (Some(h), None) => out.push(ok(format!(
                    "{} The server certificate names {}.",
                    look.glyphs.ok,
                    sanitize(h)
                ))),
                (None, _) => out.push(hint(
                    "No target profile with a host: names were not checked.",
                    look,
                )),
            },
        }
        out
    }

    fn option_lines(&self, look: &Look) -> Vec<Line<'static>> {
        let focus = |f: OptionField| self.option_field == f;
        let check = |p: &str| {
            if self.alpn.iter().any(|a| a == p) {
                "[x]"
            } else {
                "[ ]"
            }
        };
        let sel = |f: OptionField| -> Style {
            if focus(f) {
                look.theme.selected
            } else {
                look.theme.base
            }
        };
        let min = match self.min_tls {
            None => "default (TLS 1.2)".to_string(),
            Some(v) => format!("TLS {}", v.as_str()),
        };
        vec![
            field_line("SNI", &self.sni, focus(OptionField::Sni), look),
            Line::from(Span::styled(
                format!(
                    "ALPN        {} {} (AWS IoT on port 443)",
                    check(ALPN_KNOWN[0]),
                    ALPN_KNOWN[0]
                ),
                sel(OptionField::AlpnAws),
            )),
            Line::from(Span::styled(
                format!("ALPN        {} {}", check(ALPN_KNOWN[1]), ALPN_KNOWN[1]),
                sel(OptionField::AlpnMqtt),
            )),
            Line::from(Span::styled(
                format!("Min TLS     {min}"),
                sel(OptionField::MinTls),
            )),
        ]
    }

    fn save_lines(&self, look: &Look) -> Vec<Line<'static>> {
        let mut out = vec![field_line(
            "Profile",
            &self.profile,
            !self.url_focused,
            look,
        )];
        if self.profile_exists() {
            out.push(hint(
                "            existing profile: its TLS material is replaced",
                look,
            ));
        } else {
            out.push(field_line("URL", &self.url, self.url_focused, look));
            out.push(hint("            a new profile is created", look));
        }
        out.push(Line::default());
        // The app's status-line label already starts with "keyring:".
        out.push(Line::from(sanitize(
            self.keyring.as_deref().unwrap_or("keyring: looking…"),
        )));
        if let Some(f) = &self.found {
            let what = match &f.material {
                super::Material::P12 { passphrase, .. } => format!(
                    "stores the .p12 as {}{}",
                    crate::secrets::Kind::PrivateKey.account(self.profile.trim()),
                    if passphrase.is_some() {
                        format!(
                            " and its passphrase as {}",
                            crate::secrets::Kind::Passphrase.account(self.profile.trim())
                        )
                    } else {
                        String::new()
                    }
                ),
                super::Material::Pem { key, .. } => format!(
                    "stores the certificates as {}{}",
                    crate::secrets::Kind::Certificate.account(self.profile.trim()),
                    if key.is_some() {
                        format!(
                            " and the key as {}",
                            crate::secrets::Kind::PrivateKey.account(self.profile.trim())
                        )
                    } else {
                        String::new()
                    }
                ),
                super::Material::CaFile(p) => {
                    format!("refers to the CA file {} (not secret)", p.display())
                }
                m @ super::Material::Presented { .. } => {
                    super::fetch::save_words(self.profile.trim(), m)
                }
            };
            out.push(Line::from(sanitize(&format!("Save {what}."))));
            if f.format.is_none()
                && matches!(
                    f.material,
                    super::Material::Presented {
                        trusted_by_system: false,
                        ..
                    }
                )
            {
                out.push(Line::from(Span::styled(
                    crate::explain::SAVED_CHAIN_CAUTION,
                    look.theme.warn,
                )));
            }
        }
        if let Some(why) = self.save_blocked() {
            out.push(self.error_line(&format!("Cannot save: {why}."), look));
        }
        match &self.save_result {
            Some(Ok(m)) => out.push(Line::from(Span::styled(sanitize(m), look.theme.ok))),
            Some(Err(e)) if !e.starts_with(self.save_blocked().unwrap_or("\0")) => {
                out.push(self.error_line(e, look))
            }
            Some(Err(_)) => {}
            None => {}
        }
        if self.busy {
            out.push(hint("saving…", look));
        }
        out
    }
}
