//! The markdown report, for a forum post or a ticket: verdict with cause id, the stage table,
//! the chain summary, warnings and facts. Renders on GitHub; untrusted text is escaped.

use crate::diagnose::{Report, Stage, StageReport, Status};
use crate::text::sanitize;

use super::{duration_text, glyph, key_fact, value_text};

/// Untrusted text for a markdown paragraph or table cell: control characters escaped, then
/// every character markdown or HTML would interpret (tables, emphasis, links, raw HTML).
pub fn escape(s: &str) -> String {
    let mut out = String::new();
    for c in sanitize(s).chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// The whole report of one check.
pub fn markdown(report: &Report) -> String {
    let mut out = format!("# mqtt-doctor report: {}\n\n", escape(&report.target.url));
    let v = &report.verdict;
    if v.ok {
        out.push_str(&format!("**✔ OK** — {}\n\n", escape(&v.summary)));
    } else {
        out.push_str(&format!(
            "**✘ {} stage failed: `{}`**\n\n",
            v.stage.map(|s| s.title()).unwrap_or("?"),
            v.cause.unwrap_or("unknown")
        ));
        out.push_str(&format!("- **What happened:** {}\n", escape(&v.summary)));
        if let Some(r) = &v.remedy {
            out.push_str(&format!("- **What to do:** {}\n", escape(r)));
        }
        out.push('\n');
    }
    out.push_str("## Stages\n\n| | Stage | Time | Result |\n|---|---|---:|---|\n");
    for s in &report.stages {
        out.push_str(&stage_row(s));
    }
    let warnings: Vec<_> = report
        .stages
        .iter()
        .flat_map(|s| s.warnings.iter().map(move |w| (s.stage, w)))
        .collect();
    if !warnings.is_empty() {
        out.push_str("\n## Warnings\n\n");
        for (stage, w) in warnings {
            out.push_str(&format!(
                "- ⚠ `{}` ({stage}): {}\n",
                w.cause,
                escape(&w.summary)
            ));
        }
    }
    if let Some(tls) = &report.tls
        && !tls.chain.is_empty()
    {
        out.push_str(&format!(
            "\n## Certificate chain\n\n{} certificate(s), {}{}.\n\n",
            tls.chain.len(),
            if tls.verified {
                "verified"
            } else {
                "not verified"
            },
            tls.version
                .as_deref()
                .map(|v| format!(", {}", escape(v)))
                .unwrap_or_default()
        ));
        out.push_str("| # | Subject | Issuer | Not after | SHA-256 |\n|---:|---|---|---|---|\n");
        for (i, c) in tls.chain.iter().enumerate() {
            out.push_str(&format!(
                "| {i} | {} | {} | {} | `{}` |\n",
                escape(&c.subject),
                escape(&c.issuer),
                escape(&c.not_after),
                sanitize(&c.sha256).replace('`', "")
            ));
        }
        if !tls.chain_findings.is_empty() {
            out.push('\n');
            for f in &tls.chain_findings {
                out.push_str(&format!("- {}\n", escape(f)));
            }
        }
    }
    let shown: Vec<&StageReport> = report
        .stages
        .iter()
        .filter(|s| {
            !s.facts.is_empty() && (s.status == Status::Failed || (v.ok && s.stage == Stage::Sub))
        })
        .collect();
    if !shown.is_empty() {
        out.push_str("\n## Facts\n\n");
        for s in shown {
            for (k, val) in s.facts.iter() {
                out.push_str(&format!(
                    "- {}.{}: {}\n",
                    s.stage.id(),
                    escape(k),
                    escape(&value_text(val))
                ));
            }
        }
    }
    out.push_str(&format!(
        "\n<sub>mqtt-doctor {}</sub>\n",
        escape(&report.version)
    ));
    out
}

fn stage_row(s: &StageReport) -> String {
    let time = match s.status {
        Status::Skipped | Status::Pending => String::new(),
        _ => duration_text(s.duration_ms),
    };
    let result = match (s.cause, s.status) {
        (Some(cause), _) => format!("`{cause}`"),
        (None, Status::Skipped) => escape(s.summary.as_deref().unwrap_or("skipped")),
        (None, _) => key_fact(s).map(|f| escape(&f)).unwrap_or_default(),
    };
    format!(
        "| {} | {} | {time} | {result} |\n",
        glyph(s.status),
        s.stage.id()
    )
}

/// A fleet check (`check --all --format markdown`): one row per profile.
pub fn fleet_markdown(results: &[(String, Result<Report, String>)], total_ms: u64) -> String {
    let mut out = String::from(
        "# mqtt-doctor fleet check\n\n| Profile | Verdict | Stage | Cause | Time |\n|---|---|---|---|---:|\n",
    );
    for (name, r) in results {
        match r {
            Ok(rep) => {
                out.push_str(&format!(
                    "| {} | {} | {} | {} | {} |\n",
                    escape(name),
                    if rep.verdict.ok {
                        "✔ ok"
                    } else {
                        "✘ failed"
                    },
                    rep.verdict.stage.map(|s| s.id()).unwrap_or("-"),
                    rep.verdict
                        .cause
                        .map(|c| format!("`{c}`"))
                        .unwrap_or_else(|| "-".into()),
                    duration_text(rep.total_ms())
                ));
            }
            Err(e) => {
                out.push_str(&format!(
                    "| {} | error | - | {} | |\n",
                    escape(name),
                    escape(e)
                ));
            }
        }
    }
    let (ok, failed) = super::fleet_counts(results);
    out.push_str(&format!(
        "\n{} profiles: {ok} ok, {failed} failed, in {}.\n",
        results.len(),
        duration_text(total_ms)
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn table_breaking_and_html_characters_are_escaped() {
        assert_eq!(
            escape("a|b <script>*x*</script> [l](u)\n"),
            "a\\|b &lt;script&gt;\\*x\\*&lt;/script&gt; \\[l\\](u)\\\\n"
        );
    }
}
