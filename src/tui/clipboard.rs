//! `y` copies through the terminal: an OSC 52 sequence (works over SSH, no X needed), wrapped
//! in DCS passthrough for tmux and GNU screen, with a size cap terminals accept.

use base64::Engine;

/// Largest text copied; bigger is refused with a message (xterm and tmux accept far more,
/// but several terminals drop an OSC 52 over ~100 kB of base64 silently).
pub const MAX_BYTES: usize = 64 * 1024;

/// GNU screen passes at most 768 bytes per DCS string: the sequence is split into chunks.
const SCREEN_CHUNK: usize = 76;

/// The multiplexer between the app and the real terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mux {
    None,
    Tmux,
    Screen,
}

impl Mux {
    /// From the environment: `TMUX` set means tmux; `STY` (or TERM=screen…) means screen.
    pub fn detect(env: &dyn Fn(&str) -> Option<String>) -> Mux {
        if env("TMUX").is_some_and(|v| !v.is_empty()) {
            Mux::Tmux
        } else if env("STY").is_some_and(|v| !v.is_empty())
            || env("TERM").is_some_and(|t| t.starts_with("screen"))
        {
            Mux::Screen
        } else {
            Mux::None
        }
    }
}

/// The bytes that put `text` on the clipboard, or why not (too big).
pub fn osc52(text: &str, mux: Mux) -> Result<Vec<u8>, String> {
    if text.len() > MAX_BYTES {
        return Err(format!(
            "not copied: {} bytes is more than the {} a terminal clipboard takes",
            text.len(),
            MAX_BYTES
        ));
    }
    let payload = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    let inner = format!("\x1b]52;c;{payload}\x07");
    Ok(match mux {
        Mux::None => inner.into_bytes(),
        // tmux passes a DCS "tmux;" string through when every ESC inside is doubled
        // (and `allow-passthrough` is on; tmux ≥ 3.3 also handles a bare OSC 52 itself).
        Mux::Tmux => format!("\x1bPtmux;{}\x1b\\", inner.replace('\x1b', "\x1b\x1b")).into_bytes(),
        Mux::Screen => {
            let mut out = String::new();
            let chars: Vec<char> = inner.chars().collect();
            for chunk in chars.chunks(SCREEN_CHUNK) {
                out.push_str("\x1bP");
                out.extend(chunk);
                out.push_str("\x1b\\");
            }
            out.into_bytes()
        }
    })
}
