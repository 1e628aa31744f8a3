//! PEM encoding (RFC 7468): DER bytes → `-----BEGIN LABEL-----` text with 64-column base64
//! lines, for `cert fetch --pem` and the lab's files. Decoding lives in `load`.

use base64::Engine;

/// `der` as one PEM block with this label (e.g. `CERTIFICATE`), ending in a newline.
pub fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    // Base64 output is ASCII, so any 64-byte chunk boundary is a character boundary.
    for chunk in b64.as_bytes().chunks(64) {
        out.extend(chunk.iter().map(|&b| char::from(b)));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::pem;

    #[test]
    fn short_input_is_one_line_between_the_markers() {
        // RFC 4648 test vector: "foobar" → "Zm9vYmFy".
        assert_eq!(
            pem("CERTIFICATE", b"foobar"),
            "-----BEGIN CERTIFICATE-----\nZm9vYmFy\n-----END CERTIFICATE-----\n"
        );
    }

    #[test]
    fn lines_wrap_at_64_characters_with_padding_kept() {
        // 49 zero bytes → 68 base64 characters ("A" × 66 + "==").
        let text = pem("X", &[0u8; 49]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[1], "A".repeat(64));
        assert_eq!(lines[2], "AA==");
        assert_eq!(lines[3], "-----END X-----");
    }

    #[test]
    fn empty_input_has_no_body_line() {
        assert_eq!(pem("X", b""), "-----BEGIN X-----\n-----END X-----\n");
    }
}
