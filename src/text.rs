//! Untrusted text: everything that comes from the network or from a certificate passes through
//! here before it reaches a terminal, a log or a report.

/// Replaces control characters (C0, DEL, C1, and the bidirectional overrides that can reorder
/// what a terminal shows) with visible escapes, so a hostile peer cannot move the cursor, change
/// colours or hide text. Printable Unicode is kept.
pub fn sanitize(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for c in input.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || is_bidi_control(c) => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

/// Like [`sanitize`] for raw bytes: valid UTF-8 is kept, other bytes become `\xNN`.
pub fn sanitize_bytes(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        out.push_str(&sanitize(chunk.valid()));
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// Shortens to at most `max` characters, marking the cut with `…`.
pub fn truncate(input: &str, max: usize) -> String {
    if input.chars().count() <= max {
        return input.to_string();
    }
    let mut s: String = input.chars().take(max.saturating_sub(1)).collect();
    s.push('…');
    s
}

/// Hex dump of the first bytes, for "what the peer sent" facts.
pub fn hex_preview(bytes: &[u8], max: usize) -> String {
    let mut s: Vec<String> = bytes.iter().take(max).map(|b| format!("{b:02x}")).collect();
    if bytes.len() > max {
        s.push("…".into());
    }
    s.join(" ")
}

/// The invisible characters that change the display order of the text around them
/// (Unicode bidi marks, embeddings, overrides and isolates, and the Arabic letter mark).
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
    )
}

/// Every JSON document the tool prints, pretty-printed. serde_json escapes only C0 controls,
/// but a terminal that shows piped JSON also obeys C1 controls (U+009B is CSI) and reorders
/// text around bidi controls: those, DEL and the line/paragraph separators become `\uXXXX`
/// too. The result parses back to exactly the same value.
pub fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    match serde_json::to_string_pretty(value) {
        Ok(s) => escape_json_text(&s),
        Err(e) => {
            let doc = serde_json::json!({
                "error": format!("the document could not be serialised: {e}")
            });
            escape_json_text(&doc.to_string())
        }
    }
}

/// Outside string literals serde_json writes only ASCII, so escaping these characters
/// anywhere in its output escapes them inside the strings, where `\uXXXX` means the same.
fn escape_json_text(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        // C0 needs nothing: serde_json escapes it in strings, and the newlines and indents
        // of pretty printing outside strings are what they seem.
        if matches!(c, '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}') || is_bidi_control(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_control_sequences() {
        let hostile = "ok\u{1b}[2J\u{7}bell\u{9b}31m";
        let clean = sanitize(hostile);
        assert!(!clean.chars().any(|c| c.is_control()), "{clean:?}");
        assert_eq!(clean, "ok\\u{1b}[2J\\u{7}bell\\u{9b}31m");
    }

    #[test]
    fn escapes_bidi_overrides_and_keeps_unicode() {
        assert_eq!(sanitize("a\u{202e}b"), "a\\u{202e}b");
        assert_eq!(sanitize("Zürich ✔"), "Zürich ✔");
    }

    #[test]
    fn bytes_that_are_not_utf8_become_hex() {
        assert_eq!(sanitize_bytes(b"HTTP\xff\x00"), "HTTP\\xff\\u{0}");
    }

    #[test]
    fn json_escapes_c1_bidi_and_esc_and_still_parses_back() {
        let hostile = "a\u{9b}31m\u{202e}b\u{1b}[2J\u{61c}\u{7f}c";
        let doc = serde_json::json!({ "reason": hostile });
        let out = json(&doc);
        assert!(out.is_ascii(), "{out}");
        assert!(out.contains("\\u009b"), "{out}");
        assert!(out.contains("\\u202e"), "{out}");
        assert!(out.contains("\\u001b"), "{out}");
        let back: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back["reason"], hostile);
    }

    #[test]
    fn json_keeps_printable_unicode() {
        let out = json(&serde_json::json!(["Zürich ✔"]));
        assert_eq!(out, "[\n  \"Zürich ✔\"\n]");
    }

    #[test]
    fn sanitize_escapes_the_arabic_letter_mark() {
        assert_eq!(sanitize("a\u{61c}b"), "a\\u{61c}b");
    }

    #[test]
    fn truncate_marks_the_cut() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }
}
