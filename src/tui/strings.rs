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

// The keymap: footer hints (one word) and the `?` overlay's lines.
pub const HINT_HELP: &str = "help";
pub const HINT_PANE: &str = "pane";
pub const HINT_CANCEL: &str = "cancel";
pub const HINT_EDIT: &str = "edit";
pub const HINT_COPY: &str = "copy";
pub const HINT_CLOSE: &str = "close";
pub const HINT_QUIT_ANYWAY: &str = "quit, drop the edit";
pub const HINT_STAY: &str = "stay";

pub const HELP_TAB_PROFILES: &str = "show the Profiles tab";
pub const HELP_TAB_DIAGNOSE: &str = "show the Diagnose tab";
pub const HELP_TAB_CERTIFICATES: &str = "show the Certificates tab (not yet available)";
pub const HELP_TAB_CHAIN: &str = "show the Chain tab (not yet available)";
pub const HELP_NEXT_TAB: &str = "next tab";
pub const HELP_PREV_TAB: &str = "previous tab";
pub const HELP_HELP: &str = "show the keys that work here";
pub const HELP_QUIT: &str = "quit (Ctrl-C always quits)";
pub const HELP_MOUSE: &str = "switch mouse capture on/off (off: the terminal selects text)";
pub const HELP_UP: &str = "move the selection up";
pub const HELP_DOWN: &str = "move the selection down";
pub const HELP_PAGE_UP: &str = "scroll the facts up a page";
pub const HELP_PAGE_DOWN: &str = "scroll the facts down a page";
pub const HELP_TOP: &str = "first item";
pub const HELP_BOTTOM: &str = "last item";
pub const HELP_PANE: &str = "switch between the stages and the runs";
pub const HELP_RERUN: &str = "run the diagnosis again";
pub const HELP_CANCEL: &str = "cancel the running diagnosis, else back to Profiles";
pub const HELP_EDIT: &str = "edit this profile in the form";
pub const HELP_COPY: &str = "copy the verdict (or the selected fact) to the clipboard";
pub const HELP_CLOSE: &str = "close this window";
pub const HELP_QUIT_ANYWAY: &str = "quit and drop the unsaved edit";
pub const HELP_STAY: &str = "go back to the edit";
