//! Keys as data: [`KeyInput`] (independent of the terminal library), key specs as text
//! ([`parse_key`], [`key_label`]) and the resolved [`Keymap`] that drives dispatch, footer hints
//! and the `?` overlay from one table (defaults + `[keys]` overrides, clashes refused).

use std::collections::BTreeMap;

use super::certs::export::{self, ExportCommand};
use super::certs::{self, CertsCommand, CertsContext};
use super::chain::{self, ChainCommand, ChainContext};
use super::profiles::{self, ProfilesCommand, ProfilesContext};

/// A key, independent of the terminal library.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    Up,
    Down,
    Left,
    Right,
    Home,
    End,
    PageUp,
    PageDown,
    Enter,
    Esc,
    Tab,
    BackTab,
    Backspace,
    Delete,
    Char(char),
    F(u8),
    Other,
}

/// Press, auto-repeat or release; only presses (and repeats) act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyKind {
    Press,
    Repeat,
    Release,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyInput {
    pub key: Key,
    pub ctrl: bool,
    pub alt: bool,
    /// Only for non-character keys (a shifted letter is its upper case; Shift-Tab is BackTab).
    pub shift: bool,
    pub kind: KeyKind,
}

impl KeyInput {
    pub fn press(key: Key) -> KeyInput {
        KeyInput {
            key,
            ctrl: false,
            alt: false,
            shift: false,
            kind: KeyKind::Press,
        }
    }

    #[cfg(test)]
    pub fn ctrl(c: char) -> KeyInput {
        KeyInput {
            ctrl: true,
            ..KeyInput::press(Key::Char(c))
        }
    }

    /// Whether this is Ctrl-C, which always quits.
    pub fn is_interrupt(&self) -> bool {
        self.ctrl && matches!(self.key, Key::Char('c' | 'C'))
    }

    /// The same key with the event kind dropped, for table lookups.
    pub fn chord(&self) -> (Key, bool, bool, bool) {
        (self.key, self.ctrl, self.alt, self.shift)
    }

    pub fn from_crossterm(ev: crossterm::event::KeyEvent) -> KeyInput {
        use crossterm::event::{KeyCode, KeyEventKind, KeyModifiers};
        let m = ev.modifiers;
        let mut shift = m.contains(KeyModifiers::SHIFT);
        let key = match ev.code {
            KeyCode::Up => Key::Up,
            KeyCode::Down => Key::Down,
            KeyCode::Left => Key::Left,
            KeyCode::Right => Key::Right,
            KeyCode::Home => Key::Home,
            KeyCode::End => Key::End,
            KeyCode::PageUp => Key::PageUp,
            KeyCode::PageDown => Key::PageDown,
            KeyCode::Enter => Key::Enter,
            KeyCode::Esc => Key::Esc,
            KeyCode::Tab if shift => Key::BackTab,
            KeyCode::Tab => Key::Tab,
            KeyCode::BackTab => Key::BackTab,
            KeyCode::Backspace => Key::Backspace,
            KeyCode::Delete => Key::Delete,
            KeyCode::F(n) => Key::F(n),
            KeyCode::Char(c) => Key::Char(c),
            _ => Key::Other,
        };
        if matches!(key, Key::Char(_) | Key::BackTab) {
            shift = false;
        }
        let ctrl = m.contains(KeyModifiers::CONTROL);
        // Ctrl with a letter: compare in lower case ("Ctrl-d" whatever Shift or Caps Lock say).
        let key = match key {
            Key::Char(c) if ctrl => Key::Char(c.to_ascii_lowercase()),
            k => k,
        };
        KeyInput {
            key,
            ctrl,
            alt: m.contains(KeyModifiers::ALT),
            shift,
            kind: match ev.kind {
                KeyEventKind::Press => KeyKind::Press,
                KeyEventKind::Repeat => KeyKind::Repeat,
                KeyEventKind::Release => KeyKind::Release,
            },
        }
    }
}

/// Parses a key spec: "a", "A", "?", "Enter", "Esc", "Tab", "BackTab", "Up", "PageDown",
/// "Space", "Ctrl-d", "Alt-x", "Shift-Up", "F2".
pub fn parse_key(spec: &str) -> Result<KeyInput, String> {
    let mut rest = spec;
    let mut k = KeyInput::press(Key::Other);
    loop {
        if let Some(r) = strip_prefix_ci(rest, "ctrl-") {
            k.ctrl = true;
            rest = r;
        } else if let Some(r) = strip_prefix_ci(rest, "alt-") {
            k.alt = true;
            rest = r;
        } else if let Some(r) = strip_prefix_ci(rest, "shift-") {
            k.shift = true;
            rest = r;
        } else {
            break;
        }
    }
    let mut chars = rest.chars();
    k.key = match (chars.next(), chars.next()) {
        (Some(c), None) => Key::Char(if k.ctrl { c.to_ascii_lowercase() } else { c }),
        _ => match rest.to_ascii_lowercase().as_str() {
            "up" => Key::Up,
            "down" => Key::Down,
            "left" => Key::Left,
            "right" => Key::Right,
            "home" => Key::Home,
            "end" => Key::End,
            "pageup" | "pgup" => Key::PageUp,
            "pagedown" | "pgdn" => Key::PageDown,
            "enter" | "return" => Key::Enter,
            "esc" | "escape" => Key::Esc,
            "tab" if k.shift => Key::BackTab,
            "tab" => Key::Tab,
            "backtab" => Key::BackTab,
            "backspace" => Key::Backspace,
            "delete" | "del" => Key::Delete,
            "space" => Key::Char(' '),
            f if f.len() >= 2 && f.starts_with('f') && f[1..].parse::<u8>().is_ok() => {
                Key::F(f[1..].parse().unwrap_or(0))
            }
            _ => {
                return Err(format!(
                    "{spec:?} is not a key (e.g. \"r\", \"Ctrl-d\", \"PageDown\", \"F2\")"
                ));
            }
        },
    };
    if matches!(k.key, Key::Char(_) | Key::BackTab) {
        k.shift = false;
    }
    Ok(k)
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    if s.len() > prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix) {
        Some(&s[prefix.len()..])
    } else {
        None
    }
}

/// The spec of a key as [`parse_key`] reads it back ("Ctrl-d", "PageDown", "Space").
pub fn key_label(k: &KeyInput) -> String {
    let mut out = String::new();
    if k.ctrl {
        out.push_str("Ctrl-");
    }
    if k.alt {
        out.push_str("Alt-");
    }
    if k.shift {
        out.push_str("Shift-");
    }
    match k.key {
        Key::Char(' ') => out.push_str("Space"),
        Key::Char(c) => out.push(c),
        Key::F(n) => out.push_str(&format!("F{n}")),
        other => out.push_str(&format!("{other:?}")),
    }
    out
}

/// Where the user is: each context has its own bindings; the global context is always active
/// under the others (a context binding wins over a global one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    /// Tab switching, help, quit, mouse toggle: everywhere outside popups.
    Global,
    Diagnose,
    Profiles(ProfilesContext),
    Chain(ChainContext),
    /// The Certificates wizard: its step and focused field.
    Certs(CertsContext),
    Help,
    ConfirmQuit,
    /// The bundle popup of the Diagnose tab (its path field takes text).
    Bundle,
}

impl Context {
    pub fn id(self) -> String {
        match self {
            Context::Global => "global".into(),
            Context::Diagnose => "diagnose".into(),
            Context::Profiles(c) => format!("profiles.{}", profiles_context_id(c)),
            Context::Chain(ChainContext::Tree) => "chain".into(),
            Context::Chain(ChainContext::SavePrompt) => "chain.save".into(),
            Context::Certs(c) => format!("certs.{}", c.id()),
            Context::Help => "help".into(),
            Context::ConfirmQuit => "confirm_quit".into(),
            Context::Bundle => "bundle".into(),
        }
    }

    /// Whether the global bindings apply under this context (not in popups).
    pub fn with_global(self) -> bool {
        match self {
            Context::Global | Context::Diagnose => true,
            Context::Profiles(c) => !profiles_context_is_popup(c),
            Context::Chain(c) => c == ChainContext::Tree,
            // Where a text field has focus, typed keys (digits, q, ?) are its letters.
            Context::Certs(c) => !c.takes_text() && !c.is_popup(),
            Context::Help | Context::ConfirmQuit | Context::Bundle => false,
        }
    }
}

impl Context {
    /// Global commands whose keys this context takes for itself by design (the wizard's TLS
    /// options move between lines with Tab); no clash, and `?` lists only the context's use.
    fn takes_over(self, cmd: Command) -> bool {
        match self {
            Context::Certs(c) => {
                c.takes_over_tabs()
                    && matches!(
                        cmd,
                        Command::Global(GlobalCommand::NextTab | GlobalCommand::PrevTab)
                    )
            }
            _ => false,
        }
    }
}

fn profiles_context_id(c: ProfilesContext) -> String {
    format!("{c:?}").to_ascii_lowercase()
}

/// A Profiles context that is the tab's list is top level; the others are its popups/forms.
fn profiles_context_is_popup(c: ProfilesContext) -> bool {
    c != ProfilesContext::List
}

/// Commands of the app itself (global, Diagnose tab, help and quit popups).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GlobalCommand {
    TabProfiles,
    TabDiagnose,
    TabCertificates,
    TabChain,
    NextTab,
    PrevTab,
    Help,
    Quit,
    ToggleMouse,
    Copy,
    /// Esc at the top level: quit (asking when an edit is unsaved). A context may bind Esc
    /// itself (Diagnose: cancel, else back); that is no clash.
    Back,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DiagnoseCommand {
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    FocusNext,
    FocusPrev,
    Rerun,
    Cancel,
    Edit,
    Bundle,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PopupCommand {
    Close,
    Up,
    Down,
    ConfirmQuit,
    WriteBundle,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    Global(GlobalCommand),
    Diagnose(DiagnoseCommand),
    Popup(PopupCommand),
    Profiles(ProfilesCommand),
    Chain(ChainCommand),
    Certs(CertsCommand),
    /// The wizard's export prompt (`certs.export.*`).
    CertsExport(ExportCommand),
}

impl GlobalCommand {
    pub fn id(self) -> &'static str {
        match self {
            GlobalCommand::TabProfiles => "tab.profiles",
            GlobalCommand::TabDiagnose => "tab.diagnose",
            GlobalCommand::TabCertificates => "tab.certificates",
            GlobalCommand::TabChain => "tab.chain",
            GlobalCommand::NextTab => "tab.next",
            GlobalCommand::PrevTab => "tab.previous",
            GlobalCommand::Help => "help",
            GlobalCommand::Quit => "quit",
            GlobalCommand::ToggleMouse => "mouse",
            GlobalCommand::Copy => "copy",
            GlobalCommand::Back => "back",
        }
    }
}

impl DiagnoseCommand {
    pub fn id(self) -> &'static str {
        match self {
            DiagnoseCommand::Up => "diagnose.up",
            DiagnoseCommand::Down => "diagnose.down",
            DiagnoseCommand::PageUp => "diagnose.page_up",
            DiagnoseCommand::PageDown => "diagnose.page_down",
            DiagnoseCommand::Top => "diagnose.top",
            DiagnoseCommand::Bottom => "diagnose.bottom",
            DiagnoseCommand::FocusNext => "diagnose.next_pane",
            DiagnoseCommand::FocusPrev => "diagnose.previous_pane",
            DiagnoseCommand::Rerun => "diagnose.rerun",
            DiagnoseCommand::Cancel => "diagnose.cancel",
            DiagnoseCommand::Edit => "diagnose.edit",
            DiagnoseCommand::Bundle => "diagnose.bundle",
        }
    }
}

impl PopupCommand {
    pub fn id(self) -> &'static str {
        match self {
            PopupCommand::Close => "popup.close",
            PopupCommand::Up => "popup.up",
            PopupCommand::Down => "popup.down",
            PopupCommand::ConfirmQuit => "popup.confirm_quit",
            PopupCommand::WriteBundle => "popup.write_bundle",
        }
    }
}

impl Command {
    /// The config name of the command (`[keys]` table key).
    pub fn id(self) -> &'static str {
        match self {
            Command::Global(c) => c.id(),
            Command::Diagnose(c) => c.id(),
            Command::Popup(c) => c.id(),
            Command::Profiles(c) => c.id(),
            Command::Chain(c) => c.id(),
            Command::Certs(c) => c.id(),
            Command::CertsExport(c) => c.id(),
        }
    }
}

/// One resolved binding.
#[derive(Debug, Clone)]
pub struct Binding {
    pub context: Context,
    pub command: Command,
    pub keys: Vec<KeyInput>,
    /// Short footer word ("rerun"); empty: not in the footer.
    pub hint: &'static str,
    /// The `?` overlay's line.
    pub help: &'static str,
}

impl Binding {
    /// "r" or "↑/k" style label of every key, for footer and help.
    pub fn keys_label(&self) -> String {
        self.keys
            .iter()
            .map(key_label)
            .collect::<Vec<_>>()
            .join("/")
    }
}

type Row = (
    Context,
    Command,
    &'static [&'static str],
    &'static str,
    &'static str,
);

fn app_defaults() -> Vec<Row> {
    use super::strings as s;
    use Command as C;
    use Context as X;
    use DiagnoseCommand as D;
    use GlobalCommand as G;
    use PopupCommand as P;
    #[rustfmt::skip]
    let rows: Vec<Row> = vec![
        (X::Global, C::Global(G::TabProfiles), &["1"], "", s::HELP_TAB_PROFILES),
        (X::Global, C::Global(G::TabDiagnose), &["2"], "", s::HELP_TAB_DIAGNOSE),
        (X::Global, C::Global(G::TabCertificates), &["3"], "", s::HELP_TAB_CERTIFICATES),
        (X::Global, C::Global(G::TabChain), &["4"], "", s::HELP_TAB_CHAIN),
        (X::Global, C::Global(G::NextTab), &["Tab"], "", s::HELP_NEXT_TAB),
        (X::Global, C::Global(G::PrevTab), &["BackTab"], "", s::HELP_PREV_TAB),
        (X::Global, C::Global(G::Copy), &["y"], s::HINT_COPY, s::HELP_COPY),
        (X::Global, C::Global(G::ToggleMouse), &["m"], "", s::HELP_MOUSE),
        (X::Global, C::Global(G::Help), &["?"], s::HINT_HELP, s::HELP_HELP),
        (X::Global, C::Global(G::Quit), &["q"], s::HINT_QUIT, s::HELP_QUIT),
        (X::Global, C::Global(G::Back), &["Esc"], "", s::HELP_BACK),
        (X::Diagnose, C::Diagnose(D::Up), &["Up", "k"], "", s::HELP_UP),
        (X::Diagnose, C::Diagnose(D::Down), &["Down", "j"], "", s::HELP_DOWN),
        (X::Diagnose, C::Diagnose(D::PageUp), &["PageUp"], "", s::HELP_PAGE_UP),
        (X::Diagnose, C::Diagnose(D::PageDown), &["PageDown", "Space"], "", s::HELP_PAGE_DOWN),
        (X::Diagnose, C::Diagnose(D::Top), &["Home"], "", s::HELP_TOP),
        (X::Diagnose, C::Diagnose(D::Bottom), &["End"], "", s::HELP_BOTTOM),
        (X::Diagnose, C::Diagnose(D::FocusNext), &["Right", "l"], s::HINT_PANE, s::HELP_PANE),
        (X::Diagnose, C::Diagnose(D::FocusPrev), &["Left", "h"], "", s::HELP_PANE_BACK),
        (X::Diagnose, C::Diagnose(D::Rerun), &["r"], s::HINT_RERUN, s::HELP_RERUN),
        (X::Diagnose, C::Diagnose(D::Cancel), &["Esc"], s::HINT_CANCEL, s::HELP_CANCEL),
        (X::Diagnose, C::Diagnose(D::Edit), &["e"], s::HINT_EDIT, s::HELP_EDIT),
        (X::Diagnose, C::Diagnose(D::Bundle), &["b"], s::HINT_BUNDLE, s::HELP_BUNDLE),
        (X::Help, C::Popup(P::Close), &["Esc", "?", "q"], s::HINT_CLOSE, s::HELP_CLOSE),
        (X::Help, C::Popup(P::Up), &["Up", "k"], "", s::HELP_SCROLL_UP),
        (X::Help, C::Popup(P::Down), &["Down", "j"], "", s::HELP_SCROLL_DOWN),
        (X::ConfirmQuit, C::Popup(P::ConfirmQuit), &["y", "q"], s::HINT_QUIT_ANYWAY, s::HELP_QUIT_ANYWAY),
        (X::ConfirmQuit, C::Popup(P::Close), &["Esc", "n"], s::HINT_STAY, s::HELP_STAY),
        (X::Bundle, C::Popup(P::WriteBundle), &["Enter"], s::HINT_WRITE, s::HELP_WRITE_BUNDLE),
        (X::Bundle, C::Popup(P::Close), &["Esc"], s::HINT_CLOSE, s::HELP_CLOSE_BUNDLE),
    ];
    rows
}

/// Every binding of every context, in display order.
#[derive(Debug, Clone)]
pub struct Keymap {
    pub bindings: Vec<Binding>,
}

impl Keymap {
    /// The built-in bindings.
    pub fn defaults() -> Keymap {
        let mut rows = app_defaults();
        rows.extend(profiles::default_bindings().into_iter().map(
            |(ctx, cmd, keys, hint, help)| {
                (
                    Context::Profiles(ctx),
                    Command::Profiles(cmd),
                    keys,
                    hint,
                    help,
                )
            },
        ));
        rows.extend(
            chain::default_bindings()
                .into_iter()
                .map(|(ctx, cmd, keys, hint, help)| {
                    (Context::Chain(ctx), Command::Chain(cmd), keys, hint, help)
                }),
        );
        rows.extend(
            certs::default_bindings()
                .into_iter()
                .map(|(ctx, cmd, keys, hint, help)| {
                    (Context::Certs(ctx), Command::Certs(cmd), keys, hint, help)
                }),
        );
        rows.extend(
            export::default_bindings()
                .into_iter()
                .map(|(_, cmd, keys, hint, help)| {
                    (
                        Context::Certs(CertsContext::Export),
                        Command::CertsExport(cmd),
                        keys,
                        hint,
                        help,
                    )
                }),
        );
        let bindings = rows
            .into_iter()
            .map(|(context, command, keys, hint, help)| Binding {
                context,
                command,
                // The defaults are literals of this file and the Profiles tab; the keymap
                // tests parse every one of them.
                keys: keys.iter().filter_map(|k| parse_key(k).ok()).collect(),
                hint,
                help,
            })
            .collect();
        Keymap { bindings }
    }

    /// The defaults with `overrides` (command id → key specs) applied, or one sentence naming
    /// the unknown command, the bad key, or both actions of a clash.
    pub fn with_overrides(
        overrides: &BTreeMap<String, Vec<String>>,
        source: &str,
    ) -> Result<Keymap, String> {
        let mut map = Keymap::defaults();
        for (id, specs) in overrides {
            let keys = specs
                .iter()
                .map(|spec| parse_key(spec).map_err(|e| format!("{source}: [keys] {id}: {e}")))
                .collect::<Result<Vec<_>, _>>()?;
            let mut found = false;
            for b in map.bindings.iter_mut().filter(|b| b.command.id() == id) {
                b.keys = keys.clone();
                found = true;
            }
            if !found {
                let known: Vec<_> = map.bindings.iter().map(|b| b.command.id()).collect();
                let hint = closest(id, &known)
                    .map(|s| format!(" (did you mean {s:?}?)"))
                    .unwrap_or_default();
                return Err(format!("{source}: [keys] {id:?} is not an action{hint}"));
            }
        }
        map.check_clashes(source)?;
        Ok(map)
    }

    /// Two actions reachable by the same key where the user is: refused, naming both. A
    /// context's binding may take over only the global fallback (Esc = back) and what
    /// [`Context::takes_over`] names.
    fn check_clashes(&self, source: &str) -> Result<(), String> {
        let mut contexts: Vec<Context> = self.bindings.iter().map(|b| b.context).collect();
        contexts.sort();
        contexts.dedup();
        for ctx in contexts {
            let mut all: Vec<&Binding> =
                self.bindings.iter().filter(|b| b.context == ctx).collect();
            if ctx.with_global() && ctx != Context::Global {
                all.extend(self.bindings.iter().filter(|b| {
                    b.context == Context::Global
                        && b.command != Command::Global(GlobalCommand::Back)
                        && !ctx.takes_over(b.command)
                }));
            }
            let mut seen: Vec<(KeyInput, &Binding)> = Vec::new();
            for b in all {
                for k in &b.keys {
                    if k.is_interrupt() {
                        return Err(format!(
                            "{source}: [keys] {:?}: Ctrl-C always quits and cannot be bound",
                            b.command.id()
                        ));
                    }
                    if let Some((_, other)) = seen.iter().find(|(s, _)| s.chord() == k.chord())
                        && other.command != b.command
                    {
                        return Err(format!(
                            "{source}: key {:?} is bound to both {:?} and {:?} (where: {}); give one of them another key in [keys]",
                            key_label(k),
                            other.command.id(),
                            b.command.id(),
                            ctx.id()
                        ));
                    }
                    seen.push((*k, b));
                }
            }
        }
        Ok(())
    }

    /// The bindings active in `ctx`: its own first, then the global ones when they apply,
    /// minus any global key the context takes over.
    pub fn active(&self, ctx: Context) -> Vec<Binding> {
        let own: Vec<Binding> = self
            .bindings
            .iter()
            .filter(|b| b.context == ctx)
            .cloned()
            .collect();
        let mut out = own.clone();
        if ctx.with_global() && ctx != Context::Global {
            for g in self
                .bindings
                .iter()
                .filter(|b| b.context == Context::Global)
            {
                let keys: Vec<KeyInput> = g
                    .keys
                    .iter()
                    .filter(|k| {
                        !own.iter()
                            .any(|b| b.keys.iter().any(|o| o.chord() == k.chord()))
                    })
                    .copied()
                    .collect();
                if !keys.is_empty() {
                    out.push(Binding { keys, ..g.clone() });
                }
            }
        }
        out
    }

    /// The command `key` triggers in `ctx`, if any.
    pub fn lookup(&self, ctx: Context, key: &KeyInput) -> Option<Command> {
        self.active(ctx)
            .into_iter()
            .find(|b| b.keys.iter().any(|k| k.chord() == key.chord()))
            .map(|b| b.command)
    }
}

/// The known action name nearest to a misspelt one (edit distance at most 3).
fn closest<'a>(wanted: &str, known: &[&'a str]) -> Option<&'a str> {
    fn distance(a: &str, b: &str) -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut row: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut prev = row[0];
            row[0] = i + 1;
            for (j, cb) in b.iter().enumerate() {
                let cur = row[j + 1];
                row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
                prev = cur;
            }
        }
        row[b.len()]
    }
    known
        .iter()
        .map(|k| (*k, distance(wanted, k)))
        .filter(|(_, d)| *d <= 3)
        .min_by_key(|(_, d)| *d)
        .map(|(k, _)| k)
}
