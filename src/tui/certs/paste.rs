//! The wizard's "paste PEM" source: a multi-line buffer that may hold a private key, so it is
//! kept as a [`Secret`] and drawn with every private key's body replaced by one line.
//!
//! In: pasted text (bracketed paste delivers it whole), typed characters, newline, backspace.
//! Out: [`PasteBuffer::bytes`] to examine, [`PasteBuffer::lines_for_display`] to draw.

use crate::certs::{self, MAX_CERT_FILE};
use crate::secrets::Secret;
use crate::text::{sanitize, truncate};

use super::{Found, LoadFailure, Material};

/// The label of pasted text in messages ("pasted text: no certificate found …").
pub const LABEL: &str = "pasted text";

/// The paste refused for its size: one sentence.
pub fn too_large(bytes: usize) -> String {
    format!(
        "not pasted: {bytes} bytes would make the text larger than the {} MiB a certificate or key may be; load it from a file instead",
        MAX_CERT_FILE / (1024 * 1024)
    )
}

/// Asked to examine an empty paste.
pub const EMPTY: &str = "paste a PEM certificate, chain or key first (or type it)";

/// The text pasted or typed so far. `Debug` never shows it.
#[derive(Debug, Clone, Default)]
pub struct PasteBuffer {
    text: Secret,
}

impl PasteBuffer {
    pub fn new() -> PasteBuffer {
        PasteBuffer::default()
    }

    /// Appends pasted text, line ends normalised to `\n` (`\r\n` and a lone `\r`). Refused
    /// whole, the buffer unchanged, when the result would pass [`MAX_CERT_FILE`].
    pub fn insert(&mut self, pasted: &str) -> Result<(), String> {
        let normal = pasted.replace("\r\n", "\n").replace('\r', "\n");
        let total = self.text.expose().len() + normal.len();
        if total as u64 > MAX_CERT_FILE {
            return Err(too_large(total));
        }
        self.text.edit().push_str(&normal);
        Ok(())
    }

    /// One typed character (`\r` or `\n` is a newline).
    pub fn push_char(&mut self, c: char) -> Result<(), String> {
        let mut buf = [0u8; 4];
        self.insert(c.encode_utf8(&mut buf))
    }

    pub fn newline(&mut self) -> Result<(), String> {
        self.insert("\n")
    }

    /// Removes the last character; `false` when there was none.
    pub fn backspace(&mut self) -> bool {
        self.text.edit().pop().is_some()
    }

    pub fn clear(&mut self) {
        self.text.edit().clear();
    }

    pub fn is_empty(&self) -> bool {
        self.text.expose().is_empty()
    }

    /// The text as bytes, for the core's loader.
    pub fn bytes(&self) -> &[u8] {
        self.text.expose().as_bytes()
    }

    /// Examines the text like a file (the core's load and analysis, as `job::examine`; pure,
    /// but parsing a large paste takes a moment: run it off the UI task). Certificates alone
    /// have no file to refer to, so they become [`Material::Presented`]: Save writes them as
    /// the profile's CA file. A key or `.p12` is stored in the keyring as from a file.
    pub fn examine(
        &self,
        passphrase: Option<&Secret>,
        host: Option<String>,
        now: i64,
    ) -> Result<Found, LoadFailure> {
        if self.text.expose().trim().is_empty() {
            return Err(LoadFailure::Other(EMPTY.into()));
        }
        let mut found = super::job::examine(
            LABEL,
            std::path::Path::new(LABEL),
            self.bytes(),
            passphrase,
            host,
            now,
        )?;
        if matches!(found.material, Material::CaFile(_)) {
            found.material = Material::Presented {
                pem: found
                    .der
                    .iter()
                    .map(|c| certs::pem("CERTIFICATE", c))
                    .collect(),
                trusted_by_system: false,
            };
        }
        Ok(found)
    }

    /// Lines as typed: certificates and other blocks shown, but the body of a private key
    /// block (`PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`, `RSA`/`EC`/… `PRIVATE KEY`) replaced by
    /// one line "(private key, N lines, hidden)", also while it is still arriving. Control
    /// characters are made visible; each line is cut to `max_cols` characters.
    pub fn lines_for_display(&self, max_cols: usize) -> Vec<String> {
        let mut out = Vec::new();
        let mut hidden: Option<usize> = None;
        let flush = |out: &mut Vec<String>, n: usize| {
            out.push(format!(
                "(private key, {n} line{}, hidden)",
                if n == 1 { "" } else { "s" }
            ));
        };
        for line in self.text.expose().split('\n') {
            match hidden {
                Some(n) => match line.find("-----END") {
                    Some(j) => {
                        // Body text before the END marker on the same line counts as a line.
                        flush(&mut out, n + usize::from(!line[..j].trim().is_empty()));
                        hidden = None;
                        out.push(line[j..].to_string());
                    }
                    None => hidden = Some(n + 1),
                },
                None => match key_header_end(line) {
                    Some(end) => {
                        out.push(line[..end].to_string());
                        let rest = &line[end..];
                        // A paste whose line ends were lost: the body follows on this line.
                        match rest.find("-----END") {
                            Some(j) => {
                                flush(&mut out, usize::from(!rest[..j].trim().is_empty()));
                                out.push(rest[j..].to_string());
                            }
                            None => hidden = Some(usize::from(!rest.trim().is_empty())),
                        }
                    }
                    None => out.push(line.to_string()),
                },
            }
        }
        if let Some(n) = hidden {
            flush(&mut out, n);
        }
        out.into_iter()
            .map(|l| truncate(&sanitize(&l), max_cols))
            .collect()
    }
}

/// Where the `-----BEGIN … PRIVATE KEY-----` header of a line ends (after its dashes), when the
/// line opens a private key block.
fn key_header_end(line: &str) -> Option<usize> {
    let begin = line.find("-----BEGIN")?;
    let label = line[begin..].find("PRIVATE KEY")? + begin + "PRIVATE KEY".len();
    let dashes = line[label..].len() - line[label..].trim_start_matches('-').len();
    Some(label + dashes)
}

#[cfg(test)]
#[path = "paste_tests.rs"]
mod tests;
