//! Every word the Profiles tab shows, in one place (reviewed together, translatable one day).
//! Messages that carry a name or a number are small functions.

pub const TITLE: &str = " Profiles ";
pub const LOADING: &str = "loading profiles…";
pub const NO_PROFILES: &str = "No saved profiles yet.";
pub const NO_PROFILES_HINT: &str = "Press n to add one (or `mqtt-doctor profile add NAME URL`).";
pub const NO_MATCH: &str = "No profile matches the filter.";
pub const FILTER_PREFIX: &str = "filter: ";
pub const NOT_RUN: &str = "not run yet";
pub const RUNNING: &str = "running";
pub const CANNOT_LOAD: &str = "cannot load";
pub const CANNOT_RUN: &str = "cannot run";
pub const OK: &str = "ok";
pub const FAILED: &str = "failed";

pub const FORM_NEW: &str = " New profile ";
pub const FORM_EDIT: &str = " Edit profile ";
pub const FORM_DUPLICATE: &str = " Duplicate profile ";
pub const FORM_KEYS: &str = "Tab/↓ next field · Shift-Tab/↑ previous · Enter save · Esc cancel";
pub const FORM_SAVING: &str = "saving…";
pub const NAME_FIXED: &str = "(rename with R)";
pub const PASSWORD_KEYRING: &str = "(in the keyring; type to replace)";
pub const PASSWORD_NONE: &str = "(none; typed text goes to the keyring)";
pub const PASSWORD_NOTE: &str = "kept in the OS keyring, never in the file";
pub const CHECKING: &str = "checking…";

pub const DELETE_TITLE: &str = " Delete profile ";
pub const DELETE_KEYS: &str = "Enter deletes · Esc keeps it";
pub const DISCARD_TITLE: &str = " Discard changes? ";
pub const DISCARD_QUESTION: &str = "The form has changes that are not saved.";
pub const DISCARD_NOTE: &str = "Discard them, or go back to the form?";
pub const RENAME_TITLE: &str = " Rename profile ";
pub const RENAME_KEYS: &str = "Enter renames · Esc cancels";
pub const DEMO_READ_ONLY: &str =
    "demo profiles are temporary: they cannot be edited, renamed or deleted";
pub const BUSY: &str = "the profiles file is being written; try again in a moment";

pub fn label(field: crate::profile::FormField) -> &'static str {
    use crate::profile::FormField as F;
    match field {
        F::Name => "Name",
        F::Url => "URL",
        F::Username => "Username",
        F::Password => "Password",
        F::Ca => "CA file",
        F::ClientCert => "Client cert",
        F::ClientKey => "Client key",
        F::Topics => "Topics",
        F::Notes => "Notes",
    }
}

pub fn password_env(var: &str) -> String {
    format!("(from ${var}; type to keep one in the keyring instead)")
}

pub fn delete_question(name: &str) -> String {
    format!("Delete profile {name}?")
}

pub fn delete_keyring(accounts: &[String]) -> String {
    if accounts.is_empty() {
        "It has no keyring entries.".to_string()
    } else {
        format!(
            "These keyring entries (service mqtt-doctor) go with it: {}",
            accounts.join(", ")
        )
    }
}

pub fn rename_question(name: &str) -> String {
    format!("New name for {name} (its keyring entries move with it):")
}

pub fn summary(ok: usize, failed: usize, cannot: usize, running: usize, time: &str) -> String {
    let mut s = format!("{ok} ok, {failed} failed");
    if cannot > 0 {
        s.push_str(&format!(", {cannot} cannot run"));
    }
    if running > 0 {
        s.push_str(&format!(", {running} running"));
    }
    s.push_str(&format!(", {time}"));
    s
}

pub fn count(shown: usize, total: usize) -> String {
    if shown == total {
        format!("{total} profiles")
    } else {
        format!("{shown} of {total} profiles")
    }
}
