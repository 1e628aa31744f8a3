//! Every word the TUI shows, in one place (so they can be reviewed and, one day, translated).

pub const APP_NAME: &str = "mqtt-doctor";
pub const NO_TARGET: &str = "no target yet: pick a scenario";
pub const SCENARIO_PREFIX: &str = "scenario: ";

pub const STAGES_TITLE: &str = " Stages ";
pub const SCENARIOS_TITLE: &str = " Scenarios ";
pub const FACTS_TITLE_PREFIX: &str = " Facts: ";
pub const VERDICT_TITLE: &str = " Verdict ";

pub const NO_FACTS: &str = "no facts yet";
pub const WARNING_PREFIX: &str = "⚠ ";

pub const RUNNING: &str = "running…";
pub const WAITING: &str = "waiting to start";
pub const PICK_SCENARIO: &str = "Pick a scenario with ↑/↓ and Enter to run it.";
pub const OK_LABEL: &str = "✔ OK";
pub const FAILED_SUFFIX: &str = " failed";
pub const UNKNOWN_STAGE: &str = "a stage";
pub const WHAT_TO_DO: &str = "What to do: ";

pub const GLYPH_OK: &str = "✔";
pub const GLYPH_FAILED: &str = "✘";
pub const GLYPH_SKIPPED: &str = "–";
pub const GLYPH_PENDING: &str = "·";
pub const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
pub const SELECTED_MARK: &str = "›";
pub const ACTIVE_MARK: &str = "▶";

pub const HINT_SEPARATOR: &str = " · ";

// Key labels and what they do, for the footer.
pub const KEY_UP: &str = "↑/k";
pub const KEY_DOWN: &str = "↓/j";
pub const KEY_RERUN: &str = "r";
pub const KEY_QUIT: &str = "q/Esc";
pub const KEY_ENTER: &str = "Enter";
pub const KEY_TAB: &str = "Tab";

pub const HINT_UP: &str = "up";
pub const HINT_DOWN: &str = "down";
pub const HINT_RERUN: &str = "rerun";
pub const HINT_QUIT: &str = "quit";
pub const HINT_PICK: &str = "run scenario";
pub const HINT_TO_STAGES: &str = "stages";
pub const HINT_TO_SCENARIOS: &str = "scenarios";

/// Header: which OS keyring holds profile secrets.
pub const KEYRING_PREFIX: &str = "keyring:";
pub const KEYRING_NONE: &str = "none (use file references and --password-env)";

/// Facts pane paging.
pub const KEY_SCROLL: &str = "PgDn/PgUp";
pub const HINT_SCROLL: &str = "scroll facts";
pub const FACTS_ROWS_PREFIX: &str = "· rows ";
