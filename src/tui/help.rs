//! The `?` overlay: exactly the bindings active where the user is, read from the keymap
//! (the same table that dispatches keys and fills the footer), plus Ctrl-C.

use super::keymap::{Context, Keymap};
use super::strings as s;

/// `(keys, what they do)` rows of the overlay for `ctx`.
pub fn rows(keymap: &Keymap, ctx: Context) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = keymap
        .active(ctx)
        .iter()
        .map(|b| (b.keys_label(), b.help.to_string()))
        .collect();
    out.push(("Ctrl-c".to_string(), s::HELP_CTRL_C.to_string()));
    out
}

/// The footer's hints for `ctx`: `(keys, hint)` of every binding that has one.
pub fn hints(keymap: &Keymap, ctx: Context) -> Vec<(String, String)> {
    keymap
        .active(ctx)
        .iter()
        .filter(|b| !b.hint.is_empty())
        .map(|b| {
            // The footer shows the shortest key only (the overlay lists them all).
            let key = b
                .keys
                .iter()
                .map(super::keymap::key_label)
                .min_by_key(|l| l.chars().count())
                .unwrap_or_default();
            (key, b.hint.to_string())
        })
        .collect()
}
