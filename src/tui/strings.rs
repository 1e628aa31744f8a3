//! Every word the TUI shows, in one place (so they can be reviewed and, one day, translated).

pub const APP_NAME: &str = "mqtt-doctor";

// Tab bar (places 3 and 4 are kept for Certificates and Chain, issue 12).
pub const TAB_PROFILES: &str = "Profiles";
pub const TAB_DIAGNOSE: &str = "Diagnose";
pub const TAB_CERTIFICATES: &str = "Certificates";
pub const TAB_CHAIN: &str = "Chain";

pub const DIAGNOSE_TITLE: &str = "Diagnose";
pub const NO_RUNS: &str = "No diagnosis yet. On the Profiles tab (1), pick a profile and press Enter; the runs since the app opened are listed here.";
pub const STAGES_TITLE: &str = "Stages";
pub const RUNS_TITLE: &str = "Runs";
pub const FACTS_TITLE_PREFIX: &str = "Facts: ";
pub const FACT_WORD: &str = "fact";
pub const ROWS_WORD: &str = "rows";
pub const VERDICT_TITLE_WORD: &str = "Verdict of run";

pub const NO_FACTS: &str = "no facts yet";

pub const PREPARING: &str = "reading the profile and its keyring secrets…";
pub const RUNNING: &str = "running… (Esc cancels)";
pub const CANCELLED: &str = "cancelled; r runs it again";
pub const CANNOT_RUN: &str = "cannot run:";
pub const OK_LABEL: &str = "OK";
pub const FAILED_SUFFIX: &str = " failed";
pub const UNKNOWN_STAGE: &str = "a stage";
pub const WHAT_TO_DO: &str = "What to do: ";

// Status words: every symbol also reads as a word.
pub const WORD_OK: &str = "ok";
pub const WORD_FAILED: &str = "failed";
pub const WORD_SKIPPED: &str = "skipped";
pub const WORD_RUNNING: &str = "running";
pub const WORD_PENDING: &str = "pending";
pub const WORD_CANCELLED: &str = "cancelled";
pub const WORD_CANNOT_RUN: &str = "cannot run";

// What changed between two runs of one profile.
pub const CHANGED_SINCE_RUN: &str = "Changed since run";
pub const SAME_AS_RUN: &str = "Same verdict as run";
pub const WAS: &str = "was";
pub const NOW: &str = "now";
pub const TOTAL: &str = "total";

pub const HINT_SEPARATOR: &str = " · ";

// Status line.
pub const KEYRING_PREFIX: &str = "keyring:";
pub const KEYRING_NONE: &str = "none (use file references and --password-env)";
pub const KEYRING_LOOKING: &str = "keyring: looking…";
pub const SURVIVES_REBOOT: &str = "survives a reboot";
pub const LOST_AT_REBOOT: &str = "lost at reboot";
pub const PROFILES_PREFIX: &str = "profiles:";
pub const DEMO_PROFILES: &str = "profiles: demo, in memory (nothing is saved)";
pub const MOUSE_OFF: &str = "mouse off (m)";
pub const MOUSE_ON_MSG: &str = "mouse capture on: click tabs and rows, the wheel scrolls";
pub const MOUSE_OFF_MSG: &str = "mouse capture off: the terminal selects text (m turns it back on)";
pub const COPIED: &str = "copied to the clipboard (OSC 52):";
pub const NOTHING_TO_COPY: &str = "nothing to copy here";
pub const NOT_A_PROFILE: &str =
    "this run is a URL, not a saved profile: `mqtt-doctor profile add NAME URL …` saves one";
pub const DEMO_NO_EDIT: &str = "demo profiles are temporary: they cannot be edited";
pub const LOADED_IN_WIZARD: &str = "loaded in the wizard:";
pub const NOTHING_TO_RERUN: &str = "nothing to rerun yet";

// Popups.
pub const HELP_TITLE: &str = "Keys";
pub const HELP_CTRL_C: &str = "quit, everywhere";
pub const CONFIRM_TITLE: &str = "Unsaved edit";
pub const CONFIRM_TEXT: &str = "A profile edit is not saved. Quit and drop it?";
pub const TOO_SMALL: &str = "terminal too small";

// The keymap: footer hints (one word) and the `?` overlay's lines.
pub const HINT_HELP: &str = "help";
pub const HINT_QUIT: &str = "quit";
pub const HINT_RERUN: &str = "rerun";
pub const HINT_PANE: &str = "pane";
pub const HINT_CANCEL: &str = "cancel";
pub const HINT_EDIT: &str = "edit";
pub const HINT_BUNDLE: &str = "bundle";
pub const HINT_WRITE: &str = "write";
pub const HINT_COPY: &str = "copy";
pub const HINT_CLOSE: &str = "close";
pub const HINT_QUIT_ANYWAY: &str = "quit, drop the edit";
pub const HINT_STAY: &str = "stay";

pub const HELP_TAB_PROFILES: &str = "show the Profiles tab";
pub const HELP_TAB_DIAGNOSE: &str = "show the Diagnose tab";
pub const HELP_TAB_CERTIFICATES: &str = "show the Certificates tab (the certificate wizard)";
pub const HELP_TAB_CHAIN: &str = "show the Chain tab (the chain inspector)";
pub const HELP_NEXT_TAB: &str = "next tab";
pub const HELP_PREV_TAB: &str = "previous tab";
pub const HELP_HELP: &str = "show the keys that work here";
pub const HELP_QUIT: &str = "quit (Ctrl-C always quits)";
pub const HELP_MOUSE: &str = "switch mouse capture on/off (off: the terminal selects text)";
pub const HELP_UP: &str = "move the selection up";
pub const HELP_DOWN: &str = "move the selection down";
pub const HELP_PAGE_UP: &str = "scroll up a page";
pub const HELP_PAGE_DOWN: &str = "scroll down a page";
pub const HELP_TOP: &str = "first item";
pub const HELP_BOTTOM: &str = "last item";
pub const HELP_PANE: &str = "next pane (stages → facts → runs)";
pub const HELP_RERUN: &str = "run the diagnosis again";
pub const HELP_CANCEL: &str = "cancel the running diagnosis, else back to Profiles";
pub const HELP_EDIT: &str = "edit this profile in the form";
pub const HELP_BUNDLE: &str = "make a redacted bundle of the shown run (lists it first)";
pub const HELP_WRITE_BUNDLE: &str = "write the bundle to the path shown";
pub const HELP_CLOSE_BUNDLE: &str = "close without writing anything";
pub const HELP_COPY: &str = "copy the selected thing (verdict, fact, profile) to the clipboard";
pub const HELP_CLOSE: &str = "close this window";
pub const HELP_QUIT_ANYWAY: &str = "quit and drop the unsaved edit";
pub const HELP_STAY: &str = "go back to the edit";
pub const HELP_BACK: &str = "back: quit from the top level (asks when an edit is unsaved)";
pub const HELP_PANE_BACK: &str = "previous pane";
pub const HELP_SCROLL_UP: &str = "scroll up";
pub const HELP_SCROLL_DOWN: &str = "scroll down";
