//! How the app looks: the colour [`Theme`] (dark, light, high-contrast, no colour) and the
//! [`Glyphs`] (Unicode or ASCII), passed as one [`Look`] to every draw function.

use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::border;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThemeName {
    Dark,
    Light,
    HighContrast,
}

impl ThemeName {
    pub const ALL: [(&'static str, ThemeName); 3] = [
        ("dark", ThemeName::Dark),
        ("light", ThemeName::Light),
        ("high-contrast", ThemeName::HighContrast),
    ];

    pub fn parse(name: &str) -> Result<ThemeName, String> {
        Self::ALL
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, t)| *t)
            .ok_or_else(|| format!("theme {name:?} is not one of dark, light, high-contrast"))
    }
}

/// Every style the app draws with. Text uses the terminal's own colours (`Color::Reset`);
/// colour only marks status and focus, and every status also has a symbol and a word.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub base: Style,
    pub dim: Style,
    pub accent: Style,
    pub selected: Style,
    pub tab_active: Style,
    pub tab_inactive: Style,
    pub ok: Style,
    pub fail: Style,
    pub warn: Style,
    pub running: Style,
    pub skipped: Style,
    pub error: Style,
    pub input: Style,
    pub input_focused: Style,
    pub title: Style,
    pub border: Style,
    pub border_focused: Style,
    pub key: Style,
}

impl Theme {
    pub fn new(name: ThemeName) -> Theme {
        let base = Style::new().fg(Color::Reset).bg(Color::Reset);
        let bold = Modifier::BOLD;
        match name {
            ThemeName::Dark => Theme {
                base,
                dim: Style::new().fg(Color::DarkGray),
                accent: Style::new().fg(Color::Cyan),
                selected: Style::new().add_modifier(Modifier::REVERSED),
                tab_active: Style::new().fg(Color::Cyan).add_modifier(bold),
                tab_inactive: Style::new().fg(Color::Gray),
                ok: Style::new().fg(Color::Green),
                fail: Style::new().fg(Color::Red),
                warn: Style::new().fg(Color::Yellow),
                running: Style::new().fg(Color::Yellow),
                skipped: Style::new().fg(Color::DarkGray),
                error: Style::new().fg(Color::Red).add_modifier(bold),
                input: Style::new().add_modifier(Modifier::UNDERLINED),
                input_focused: Style::new()
                    .fg(Color::Cyan)
                    .add_modifier(Modifier::UNDERLINED),
                title: Style::new().add_modifier(bold),
                border: Style::new().fg(Color::DarkGray),
                border_focused: Style::new().fg(Color::Cyan),
                key: Style::new().add_modifier(bold),
            },
            ThemeName::Light => Theme {
                base,
                dim: Style::new().fg(Color::Gray),
                accent: Style::new().fg(Color::Blue),
                selected: Style::new().add_modifier(Modifier::REVERSED),
                tab_active: Style::new().fg(Color::Blue).add_modifier(bold),
                tab_inactive: Style::new().fg(Color::DarkGray),
                ok: Style::new().fg(Color::Green),
                fail: Style::new().fg(Color::Red),
                warn: Style::new().fg(Color::Magenta),
                running: Style::new().fg(Color::Blue),
                skipped: Style::new().fg(Color::Gray),
                error: Style::new().fg(Color::Red).add_modifier(bold),
                input: Style::new().add_modifier(Modifier::UNDERLINED),
                input_focused: Style::new()
                    .fg(Color::Blue)
                    .add_modifier(Modifier::UNDERLINED),
                title: Style::new().add_modifier(bold),
                border: Style::new().fg(Color::Gray),
                border_focused: Style::new().fg(Color::Blue),
                key: Style::new().add_modifier(bold),
            },
            ThemeName::HighContrast => Theme {
                base,
                dim: Style::new().fg(Color::Reset),
                accent: Style::new().fg(Color::LightCyan).add_modifier(bold),
                selected: Style::new().add_modifier(Modifier::REVERSED | bold),
                tab_active: Style::new().add_modifier(Modifier::REVERSED | bold),
                tab_inactive: Style::new().fg(Color::Reset),
                ok: Style::new().fg(Color::LightGreen).add_modifier(bold),
                fail: Style::new().fg(Color::LightRed).add_modifier(bold),
                warn: Style::new().fg(Color::LightYellow).add_modifier(bold),
                running: Style::new().fg(Color::LightYellow).add_modifier(bold),
                skipped: Style::new().fg(Color::Reset),
                error: Style::new().fg(Color::LightRed).add_modifier(bold),
                input: Style::new().add_modifier(Modifier::UNDERLINED),
                input_focused: Style::new().add_modifier(Modifier::UNDERLINED | bold),
                title: Style::new().add_modifier(bold),
                border: Style::new().fg(Color::Reset),
                border_focused: Style::new().fg(Color::LightCyan).add_modifier(bold),
                key: Style::new().add_modifier(bold | Modifier::UNDERLINED),
            },
        }
    }

    /// `NO_COLOR`: no colour anywhere; selection and focus by modifiers only.
    pub fn no_color() -> Theme {
        let bold = Modifier::BOLD;
        Theme {
            base: Style::default(),
            dim: Style::default(),
            accent: Style::default(),
            selected: Style::new().add_modifier(Modifier::REVERSED),
            tab_active: Style::new().add_modifier(Modifier::REVERSED | bold),
            tab_inactive: Style::default(),
            ok: Style::default(),
            fail: Style::new().add_modifier(bold),
            warn: Style::default(),
            running: Style::default(),
            skipped: Style::default(),
            error: Style::new().add_modifier(bold),
            input: Style::new().add_modifier(Modifier::UNDERLINED),
            input_focused: Style::new().add_modifier(Modifier::UNDERLINED | bold),
            title: Style::new().add_modifier(bold),
            border: Style::default(),
            border_focused: Style::new().add_modifier(bold),
            key: Style::new().add_modifier(bold),
        }
    }
}

/// Symbols; every status glyph is also followed by a word where it matters.
#[derive(Debug, Clone, PartialEq)]
pub struct Glyphs {
    pub ascii: bool,
    pub ok: &'static str,
    pub fail: &'static str,
    pub warn: &'static str,
    pub skipped: &'static str,
    pub pending: &'static str,
    pub ellipsis: &'static str,
    pub bullet: &'static str,
    pub selected: &'static str,
    pub tree_branch: &'static str,
    pub tree_last: &'static str,
    pub tree_pipe: &'static str,
    pub arrow: &'static str,
    pub border: border::Set<'static>,
    spinner: &'static [&'static str],
}

const BRAILLE: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const ASCII_SPIN: [&str; 4] = ["|", "/", "-", "\\"];

const ASCII_BORDER: border::Set<'static> = border::Set {
    top_left: "+",
    top_right: "+",
    bottom_left: "+",
    bottom_right: "+",
    vertical_left: "|",
    vertical_right: "|",
    horizontal_top: "-",
    horizontal_bottom: "-",
};

impl Glyphs {
    pub fn unicode() -> Glyphs {
        Glyphs {
            ascii: false,
            ok: "✔",
            fail: "✘",
            warn: "⚠",
            skipped: "–",
            pending: "·",
            ellipsis: "…",
            bullet: "•",
            selected: "›",
            tree_branch: "├─",
            tree_last: "└─",
            tree_pipe: "│ ",
            arrow: "→",
            border: border::PLAIN,
            spinner: &BRAILLE,
        }
    }

    pub fn ascii() -> Glyphs {
        Glyphs {
            ascii: true,
            ok: "+",
            fail: "x",
            warn: "!",
            skipped: "-",
            pending: ".",
            ellipsis: "~",
            bullet: "*",
            selected: ">",
            tree_branch: "|-",
            tree_last: "`-",
            tree_pipe: "| ",
            arrow: "->",
            border: ASCII_BORDER,
            spinner: &ASCII_SPIN,
        }
    }

    pub fn spinner(&self, frame: usize) -> &'static str {
        self.spinner[frame % self.spinner.len()]
    }

    /// Text of ours that may hold Unicode punctuation (`…`, `→`, `·`, `↑`), made ASCII when
    /// the glyphs are.
    pub fn text(&self, s: &str) -> String {
        if !self.ascii {
            return s.to_string();
        }
        let mut out = String::with_capacity(s.len());
        for c in s.chars() {
            match c {
                '…' => out.push_str("..."),
                '→' => out.push_str("->"),
                '←' => out.push_str("<-"),
                '↑' => out.push('^'),
                '↓' => out.push('v'),
                '·' | '•' => out.push('*'),
                '—' | '–' => out.push('-'),
                '✔' => out.push('+'),
                '✘' => out.push('x'),
                '⚠' => out.push('!'),
                '›' | '▶' => out.push('>'),
                '“' | '”' => out.push('"'),
                '‘' | '’' => out.push('\''),
                '×' => out.push('x'),
                c if c.is_ascii() => out.push(c),
                _ => out.push('?'),
            }
        }
        out
    }
}

/// The whole look of the app.
#[derive(Debug, Clone, PartialEq)]
pub struct Look {
    pub theme: Theme,
    pub glyphs: Glyphs,
    /// `NO_COLOR`: the drawing also strips any colour a widget set.
    pub no_color: bool,
}

impl Look {
    /// `no_color` wins over the theme (`NO_COLOR` set and not empty, per no-color.org).
    pub fn new(theme: ThemeName, no_color: bool, ascii: bool) -> Look {
        Look {
            theme: if no_color {
                Theme::no_color()
            } else {
                Theme::new(theme)
            },
            glyphs: if ascii {
                Glyphs::ascii()
            } else {
                Glyphs::unicode()
            },
            no_color,
        }
    }
}

impl Default for Look {
    fn default() -> Look {
        Look::new(ThemeName::Dark, false, false)
    }
}

/// `s` cut to at most `width` terminal columns, ending in the ellipsis when cut.
pub fn ellipsize(s: &str, width: usize, glyphs: &Glyphs) -> String {
    if UnicodeWidthStr::width(s) <= width {
        return s.to_string();
    }
    let mark = glyphs.ellipsis;
    let mark_width = UnicodeWidthStr::width(mark);
    if width < mark_width {
        return String::new();
    }
    let room = width - mark_width;
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w > room {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push_str(mark);
    out
}

/// Terminal columns of `s`.
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}
