//! Serialising a finished diagnosis: the `--json` document, the text verdict for terminals,
//! the markdown report, the one-line-per-stage progress lines and the redacted bundle
//! ([`bundle::write`]). Every string from a peer or a certificate is sanitised here before it
//! can reach a terminal. No terminal code: colour is a flag the front decides.

pub mod build;
pub mod bundle;
mod markdown;
pub mod redact;

pub use markdown::{fleet_markdown, markdown};

use crate::diagnose::{Report, Stage, StageReport, Status};
use crate::text::sanitize;

/// The three report formats of `check` (and `check --all`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Text,
    Json,
    Markdown,
}

/// How the text report looks: the stage table, every stage's facts, ANSI colour.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextStyle {
    pub stages: bool,
    pub verbose: bool,
    /// Colour for the verdict and the stage status; the symbols and words stay the same.
    pub color: bool,
}

const GREEN: &str = "32";
const RED: &str = "31";
const YELLOW: &str = "33";
const DIM: &str = "2";

/// `text` in SGR colour `code` when `on`.
fn paint(text: &str, code: &str, on: bool) -> String {
    if on {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

fn status_color(status: Status) -> &'static str {
    match status {
        Status::Ok => GREEN,
        Status::Failed => RED,
        _ => DIM,
    }
}

/// The `--json` document (schema in the README).
/// C1 and bidi controls from a peer are escaped like C0 ([`crate::text::json`]).
pub fn json(report: &Report) -> String {
    crate::text::json(report)
}

pub fn glyph(status: Status) -> &'static str {
    match status {
        Status::Ok => "✔",
        Status::Failed => "✘",
        Status::Skipped => "–",
        Status::Running => "…",
        Status::Pending => "·",
    }
}

/// The fact that best sums up a stage, for one-line progress output.
pub fn key_fact(stage: &StageReport) -> Option<String> {
    let keys: &[&str] = match stage.stage {
        Stage::Dns => &["idna", "addresses"],
        Stage::Tcp => &["peer"],
        Stage::Proxy => &["proxy"],
        Stage::Tls => &["version", "alpn"],
        Stage::Ws => &["status"],
        Stage::Mqtt => &["connack", "protocol"],
        Stage::Sub => &["round_trip_ms", "granted"],
    };
    let mut parts = Vec::new();
    for k in keys {
        if let Some(v) = stage.facts.get(k) {
            let text = value_text(v);
            parts.push(match *k {
                "round_trip_ms" => format!("round trip {text} ms"),
                "alpn" if text == "none" => continue,
                "alpn" => format!("ALPN {text}"),
                _ => text,
            });
            if stage.stage == Stage::Sub {
                break;
            }
        }
    }
    (!parts.is_empty()).then(|| sanitize(&parts.join(", ")))
}

/// A fact value as one line of text.
pub fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => {
            items.iter().map(value_text).collect::<Vec<_>>().join(", ")
        }
        other => other.to_string(),
    }
}

pub fn duration_text(ms: u64) -> String {
    if ms >= 1000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else {
        format!("{ms} ms")
    }
}

/// `✔ tcp   12 ms  127.0.0.1:8883`
pub fn stage_line(stage: &StageReport) -> String {
    stage_line_styled(stage, false)
}

/// [`stage_line`], with the symbol and stage name coloured by status when `color`.
pub fn stage_line_styled(stage: &StageReport, color: bool) -> String {
    let head = format!("{} {:<5}", glyph(stage.status), stage.stage.id());
    let mut line = paint(&head, status_color(stage.status), color);
    match stage.status {
        Status::Skipped => {
            line.push_str(&format!(
                "        {}",
                sanitize(stage.summary.as_deref().unwrap_or("skipped"))
            ));
        }
        _ => {
            line.push_str(&format!(" {:>7}", duration_text(stage.duration_ms)));
            if let Some(cause) = stage.cause {
                line.push_str(&format!("  {cause}"));
            } else if let Some(f) = key_fact(stage) {
                line.push_str(&format!("  {f}"));
            }
        }
    }
    line
}

/// The human verdict: what happened, what to do, and the facts behind it.
pub fn text(report: &Report, with_stages: bool, verbose: bool) -> String {
    text_styled(
        report,
        TextStyle {
            stages: with_stages,
            verbose,
            color: false,
        },
    )
}

/// [`text`] with every choice of [`TextStyle`].
pub fn text_styled(report: &Report, style: TextStyle) -> String {
    let (with_stages, verbose, color) = (style.stages, style.verbose, style.color);
    let mut out = String::new();
    out.push_str(&format!("mqtt-doctor {}\n", sanitize(&report.target.url)));
    if with_stages {
        for s in &report.stages {
            out.push_str(&stage_line_styled(s, color));
            out.push('\n');
        }
    }
    out.push('\n');
    let v = &report.verdict;
    if v.ok {
        out.push_str(&format!(
            "{} {}\n",
            paint("✔ OK:", GREEN, color),
            sanitize(&v.summary)
        ));
    } else {
        let stage = v.stage.map(|s| s.title()).unwrap_or("?");
        let head = format!("✘ {stage} stage failed:");
        out.push_str(&format!(
            "{} {}\n",
            paint(&head, RED, color),
            v.cause.unwrap_or("unknown")
        ));
        out.push_str(&format!("  What happened: {}\n", sanitize(&v.summary)));
        if let Some(r) = &v.remedy {
            out.push_str(&format!("  What to do:    {}\n", sanitize(r)));
        }
    }
    for s in &report.stages {
        for w in &s.warnings {
            out.push_str(&format!(
                "  {} {} ({}): {}\n",
                paint("⚠", YELLOW, color),
                s.stage.id(),
                w.cause,
                sanitize(&w.summary)
            ));
        }
    }
    let shown: Vec<&StageReport> = report
        .stages
        .iter()
        .filter(|s| {
            !s.facts.is_empty()
                && (verbose || s.status == Status::Failed || (v.ok && s.stage == Stage::Sub))
        })
        .collect();
    if !shown.is_empty() {
        out.push_str("\nFacts:\n");
        for s in shown {
            for (k, val) in s.facts.iter() {
                match val {
                    serde_json::Value::Array(items) if items.len() > 1 => {
                        out.push_str(&format!("  {}.{}:\n", s.stage.id(), sanitize(k)));
                        for item in items {
                            out.push_str(&format!("    - {}\n", sanitize(&value_text(item))));
                        }
                    }
                    _ => out.push_str(&format!(
                        "  {}.{}: {}\n",
                        s.stage.id(),
                        sanitize(k),
                        sanitize(&value_text(val))
                    )),
                }
            }
        }
    }
    out
}

/// How many profiles of a fleet check passed, and how many failed or could not run.
pub(crate) fn fleet_counts(results: &[(String, Result<Report, String>)]) -> (usize, usize) {
    let ok = results
        .iter()
        .filter(|(_, r)| matches!(r, Ok(rep) if rep.verdict.ok))
        .count();
    (ok, results.len() - ok)
}

/// A fleet check as a text table: one row per profile, then the summary line.
pub fn fleet_text(results: &[(String, Result<Report, String>)], total_ms: u64) -> String {
    let width = results
        .iter()
        .map(|(n, _)| n.chars().count())
        .max()
        .unwrap_or(7)
        .max(7);
    let mut out = format!(
        "{:<width$}  {:<7} {:<6} {:<36} {:>8}\n",
        "PROFILE", "VERDICT", "STAGE", "CAUSE", "TIME"
    );
    for (name, r) in results {
        match r {
            Ok(rep) => {
                out.push_str(&format!(
                    "{:<width$}  {:<7} {:<6} {:<36} {:>8}\n",
                    sanitize(name),
                    if rep.verdict.ok { "ok" } else { "failed" },
                    rep.verdict.stage.map(|s| s.id()).unwrap_or("-"),
                    rep.verdict.cause.unwrap_or("-"),
                    duration_text(rep.total_ms())
                ));
            }
            Err(e) => {
                out.push_str(&format!(
                    "{:<width$}  {:<7} {}\n",
                    sanitize(name),
                    "error",
                    sanitize(e)
                ));
            }
        }
    }
    let (ok, failed) = fleet_counts(results);
    out.push_str(&format!(
        "\n{} profiles: {ok} ok, {failed} failed, in {}\n",
        results.len(),
        duration_text(total_ms)
    ));
    out
}
