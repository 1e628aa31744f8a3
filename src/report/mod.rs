//! Serialising a finished diagnosis: the `--json` document, the text verdict for terminals and
//! the one-line-per-stage progress lines. Every string from a peer or a certificate is
//! sanitised here before it can reach a terminal.

use crate::diagnose::{Report, Stage, StageReport, Status};
use crate::text::sanitize;

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
    let mut line = format!("{} {:<5}", glyph(stage.status), stage.stage.id());
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
    let mut out = String::new();
    out.push_str(&format!("mqtt-doctor {}\n", sanitize(&report.target.url)));
    if with_stages {
        for s in &report.stages {
            out.push_str(&stage_line(s));
            out.push('\n');
        }
    }
    out.push('\n');
    let v = &report.verdict;
    if v.ok {
        out.push_str(&format!("✔ OK: {}\n", sanitize(&v.summary)));
    } else {
        let stage = v.stage.map(|s| s.title()).unwrap_or("?");
        out.push_str(&format!(
            "✘ {stage} stage failed: {}\n",
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
                "  ⚠ {} ({}): {}\n",
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
