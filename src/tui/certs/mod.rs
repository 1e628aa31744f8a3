//! The Certificates tab: a wizard (Source → What was found → Match → TLS options → Save) that
//! imports a certificate, chain, key or `.p12` into the keyring and attaches it to a profile.
//! Sources: a file (with a small [`browser`]), pasted PEM ([`paste`]) or the chain a broker
//! presents ([`fetch`]); [`export`] writes keyring material back out. Keys come from the
//! shell's keymap ([`CertsContext`] per step and field, [`CertsCommand`]).
//!
//! All analysis is the core's (`crate::certs::load`/`analyze`, words from `crate::explain`);
//! reading files, the clock and the keyring happen in [`job`], off the UI task. Nothing is
//! written until Save.

pub mod browser;
pub(crate) mod job;
pub mod view;

// The wizard's paste and broker sources and its export prompt.
pub mod export;
pub mod fetch;
pub mod paste;

#[cfg(test)]
mod tests;

use std::path::PathBuf;

use rustls_pki_types::CertificateDer;

use crate::certs::{Analysis, FindingKind, Format, Purpose, Severity};
use crate::profile::TlsVersion;
use crate::secrets::Secret;

use super::keymap::{Key, KeyInput};

pub use job::{Job, carry_out};

/// Every action of the wizard (bound to keys by the shell's keymap, `certs.*` in app.toml).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CertsCommand {
    /// Esc: one step back; on the Source step, leave the tab.
    Back,
    /// The `?` overlay from a text field (where `?` is a letter).
    Help,
    Examine,
    Complete,
    NextField,
    PrevField,
    Browse,
    BrowserClose,
    BrowserUp,
    BrowserDown,
    BrowserOpen,
    BrowserParent,
    ScrollUp,
    ScrollDown,
    PageUp,
    PageDown,
    Next,
    InspectChain,
    Toggle,
    Save,
    KindNext,
    KindPrev,
    /// Enter in the paste field.
    Newline,
    ClearPaste,
    /// Open the export prompt for the target profile's keyring entries.
    Export,
}

impl CertsCommand {
    pub fn id(self) -> &'static str {
        use CertsCommand as C;
        match self {
            C::Back => "certs.back",
            C::Help => "certs.help",
            C::Examine => "certs.examine",
            C::Complete => "certs.complete",
            C::NextField => "certs.next_field",
            C::PrevField => "certs.previous_field",
            C::Browse => "certs.browse",
            C::BrowserClose => "certs.browser_close",
            C::BrowserUp => "certs.browser_up",
            C::BrowserDown => "certs.browser_down",
            C::BrowserOpen => "certs.browser_open",
            C::BrowserParent => "certs.browser_parent",
            C::ScrollUp => "certs.scroll_up",
            C::ScrollDown => "certs.scroll_down",
            C::PageUp => "certs.page_up",
            C::PageDown => "certs.page_down",
            C::Next => "certs.next",
            C::InspectChain => "certs.inspect_chain",
            C::Toggle => "certs.toggle",
            C::Save => "certs.save",
            C::KindNext => "certs.kind_next",
            C::KindPrev => "certs.kind_previous",
            C::Newline => "certs.newline",
            C::ClearPaste => "certs.clear_paste",
            C::Export => "certs.export",
        }
    }
}

/// Where the keys go in the wizard: the step, and on Source and TLS options the focused field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CertsContext {
    /// The File | Paste PEM | Broker selector.
    SourceKind,
    /// The path field (Tab completes).
    SourcePath,
    /// The multi-line paste field (Enter is a newline).
    SourcePaste,
    /// The broker URL field.
    SourceUrl,
    /// The file browser's list under the path field.
    SourceBrowser,
    /// The profile or passphrase field.
    SourceField,
    Found,
    Match,
    OptionsSni,
    /// The ALPN and minimum-version lines.
    Options,
    Save,
    /// After a successful save: no field is edited any more.
    Saved,
    /// The export prompt (a popup over the wizard).
    Export,
}

impl CertsContext {
    pub fn id(self) -> &'static str {
        use CertsContext as X;
        match self {
            X::SourceKind => "source_kind",
            X::SourcePath => "source_path",
            X::SourcePaste => "source_paste",
            X::SourceUrl => "source_url",
            X::SourceBrowser => "source_browser",
            X::SourceField => "source_field",
            X::Found => "found",
            X::Match => "match",
            X::OptionsSni => "options_sni",
            X::Options => "options",
            X::Save => "save",
            X::Saved => "saved",
            X::Export => "export",
        }
    }

    /// A text field has focus: typed characters are text, the global keys do not apply.
    pub fn takes_text(self) -> bool {
        use CertsContext as X;
        matches!(
            self,
            X::SourcePath
                | X::SourcePaste
                | X::SourceUrl
                | X::SourceField
                | X::OptionsSni
                | X::Save
        )
    }

    /// A popup over the wizard: the global keys do not apply.
    pub fn is_popup(self) -> bool {
        self == CertsContext::Export
    }

    /// Tab/BackTab move between lines here instead of switching tabs.
    pub fn takes_over_tabs(self) -> bool {
        matches!(self, CertsContext::Options | CertsContext::SourceKind)
    }
}

type DefaultBinding = (
    CertsContext,
    CertsCommand,
    &'static [&'static str],
    &'static str,
    &'static str,
);

/// (context, command, default key specs, footer hint, help line).
pub fn default_bindings() -> Vec<DefaultBinding> {
    use CertsCommand as C;
    use CertsContext as X;
    #[rustfmt::skip]
    let rows: Vec<DefaultBinding> = vec![
        (X::SourceKind, C::KindNext, &["Right", "Space"], "kind", "next kind of source (File, Paste PEM, Broker)"),
        (X::SourceKind, C::KindPrev, &["Left"], "", "previous kind of source"),
        (X::SourceKind, C::NextField, &["Down", "Tab", "Enter"], "", "next field"),
        (X::SourceKind, C::PrevField, &["Up", "BackTab"], "", "previous field"),
        (X::SourceKind, C::Export, &["x"], "export", "write key material the target profile keeps in the keyring to a file"),
        (X::SourceKind, C::Back, &["Esc"], "leave", "leave the wizard (nothing was written)"),
        (X::SourcePath, C::Examine, &["Enter"], "examine", "read the file and show what it holds"),
        (X::SourcePath, C::Complete, &["Tab"], "complete", "complete the path (the list below shows the matches)"),
        (X::SourcePath, C::Browse, &["Ctrl-f"], "browse", "move into the file list"),
        (X::SourcePath, C::NextField, &["Down"], "", "next field"),
        (X::SourcePath, C::PrevField, &["Up", "BackTab"], "", "previous field"),
        (X::SourcePath, C::Back, &["Esc"], "leave", "leave the wizard (nothing was written)"),
        (X::SourcePath, C::Help, &["F1"], "keys", "show the keys that work here (? is a letter in a text field)"),
        (X::SourcePaste, C::Examine, &["Ctrl-d"], "done", "examine the pasted text"),
        (X::SourcePaste, C::Newline, &["Enter"], "", "new line"),
        (X::SourcePaste, C::ClearPaste, &["Ctrl-u"], "clear", "clear the pasted text"),
        (X::SourcePaste, C::NextField, &["Down", "Tab"], "", "next field"),
        (X::SourcePaste, C::PrevField, &["Up", "BackTab"], "", "previous field"),
        (X::SourcePaste, C::Back, &["Esc"], "leave", "leave the wizard (nothing was written)"),
        (X::SourcePaste, C::Help, &["F1"], "keys", "show the keys that work here (? is a letter in a text field)"),
        (X::SourceUrl, C::Examine, &["Enter"], "fetch", "fetch the chain the broker presents (empty: the profile's URL)"),
        (X::SourceUrl, C::NextField, &["Down", "Tab"], "", "next field"),
        (X::SourceUrl, C::PrevField, &["Up", "BackTab"], "", "previous field"),
        (X::SourceUrl, C::Back, &["Esc"], "leave", "leave the wizard (nothing was written)"),
        (X::SourceUrl, C::Help, &["F1"], "keys", "show the keys that work here (? is a letter in a text field)"),
        (X::SourceBrowser, C::BrowserOpen, &["Enter"], "open", "open the folder, or examine the file"),
        (X::SourceBrowser, C::BrowserUp, &["Up", "k"], "", "select the entry above"),
        (X::SourceBrowser, C::BrowserDown, &["Down", "j"], "", "select the entry below"),
        (X::SourceBrowser, C::BrowserParent, &["Backspace", "Left", "h"], "parent", "go to the parent folder"),
        (X::SourceBrowser, C::BrowserClose, &["Esc"], "path", "back to the path field"),
        (X::SourceField, C::Examine, &["Enter"], "examine", "read the file and show what it holds"),
        (X::SourceField, C::NextField, &["Down", "Tab"], "", "next field"),
        (X::SourceField, C::PrevField, &["Up", "BackTab"], "", "previous field"),
        (X::SourceField, C::Back, &["Esc"], "leave", "leave the wizard (nothing was written)"),
        (X::SourceField, C::Help, &["F1"], "keys", "show the keys that work here (? is a letter in a text field)"),
        (X::Found, C::Next, &["Enter"], "next", "go on to Match"),
        (X::Found, C::ScrollUp, &["Up", "k"], "", "scroll up"),
        (X::Found, C::ScrollDown, &["Down", "j"], "", "scroll down"),
        (X::Found, C::PageUp, &["PageUp"], "", "scroll up a page"),
        (X::Found, C::PageDown, &["PageDown"], "", "scroll down a page"),
        (X::Found, C::InspectChain, &["c"], "chain", "inspect this chain on the Chain tab"),
        (X::Found, C::Export, &["x"], "export", "write key material the target profile keeps in the keyring to a file"),
        (X::Found, C::Back, &["Esc"], "back", "back to Source"),
        (X::Match, C::Next, &["Enter"], "next", "go on to TLS options"),
        (X::Match, C::ScrollUp, &["Up", "k"], "", "scroll up"),
        (X::Match, C::ScrollDown, &["Down", "j"], "", "scroll down"),
        (X::Match, C::PageUp, &["PageUp"], "", "scroll up a page"),
        (X::Match, C::PageDown, &["PageDown"], "", "scroll down a page"),
        (X::Match, C::InspectChain, &["c"], "chain", "inspect this chain on the Chain tab"),
        (X::Match, C::Export, &["x"], "export", "write key material the target profile keeps in the keyring to a file"),
        (X::Match, C::Back, &["Esc"], "back", "back to What was found"),
        (X::OptionsSni, C::Next, &["Enter"], "next", "go on to Save"),
        (X::OptionsSni, C::NextField, &["Down", "Tab"], "", "next line"),
        (X::OptionsSni, C::PrevField, &["Up", "BackTab"], "", "previous line"),
        (X::OptionsSni, C::Back, &["Esc"], "back", "back to Match"),
        (X::OptionsSni, C::Help, &["F1"], "keys", "show the keys that work here (? is a letter in a text field)"),
        (X::Options, C::Toggle, &["Space", "Left", "Right"], "toggle", "switch the selected option"),
        (X::Options, C::Next, &["Enter"], "next", "go on to Save"),
        (X::Options, C::NextField, &["Down", "Tab"], "", "next line"),
        (X::Options, C::PrevField, &["Up", "BackTab"], "", "previous line"),
        (X::Options, C::Export, &["x"], "export", "write key material the target profile keeps in the keyring to a file"),
        (X::Options, C::Back, &["Esc"], "back", "back to Match"),
        (X::Save, C::Save, &["Enter"], "save", "save to the keyring and attach to the profile"),
        (X::Save, C::NextField, &["Tab", "Down"], "", "next field (a new profile's URL)"),
        (X::Save, C::PrevField, &["BackTab", "Up"], "", "previous field"),
        (X::Save, C::Back, &["Esc"], "back", "back to TLS options (nothing was written)"),
        (X::Save, C::Help, &["F1"], "keys", "show the keys that work here (? is a letter in a text field)"),
        (X::Saved, C::Export, &["x"], "export", "write key material the profile keeps in the keyring to a file"),
        (X::Saved, C::Back, &["Esc"], "back", "back to TLS options"),
    ];
    rows
}

/// The wizard's steps, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Source,
    Found,
    Match,
    Options,
    Save,
}

impl Step {
    pub const ALL: [Step; 5] = [
        Step::Source,
        Step::Found,
        Step::Match,
        Step::Options,
        Step::Save,
    ];

    fn back(self) -> Option<Step> {
        match self {
            Step::Source => None,
            Step::Found => Some(Step::Source),
            Step::Match => Some(Step::Found),
            Step::Options => Some(Step::Match),
            Step::Save => Some(Step::Options),
        }
    }

    fn next(self) -> Option<Step> {
        match self {
            Step::Source => None,
            Step::Found => Some(Step::Match),
            Step::Match => Some(Step::Options),
            Step::Options => Some(Step::Save),
            Step::Save => None,
        }
    }
}

/// What goes into the keyring (and the profile) on Save. `Debug` never shows the secrets.
#[derive(Debug, Clone)]
pub enum Material {
    /// A PKCS#12 archive, base64 (as the store keeps it), and its passphrase.
    P12 {
        b64: Secret,
        passphrase: Option<Secret>,
    },
    /// PEM certificates, and the key (decrypted, PEM) when the file had one.
    Pem { certs: Secret, key: Option<Secret> },
    /// Certificates only: a CA bundle, referred to as a file (a CA is not secret).
    CaFile(PathBuf),
    /// Certificates to trust that have no file of their own: the top of the chain a broker
    /// presented (the root, if it sent one), or certificates pasted. Save writes `pem` to
    /// `<profiles dir>/ca/<profile>.pem` and makes it `tls.ca`; when a fetched chain already
    /// verified against the system roots (`trusted_by_system`), nothing is attached and Save
    /// says so.
    Presented {
        pem: String,
        trusted_by_system: bool,
    },
}

/// The result of examining a source: the core's analysis and what Save would store.
#[derive(Debug, Clone)]
pub struct Found {
    pub label: String,
    /// The file's format; `None` for a chain fetched from a broker (no file).
    pub format: Option<Format>,
    /// The certificates as loaded (or presented), in that order: the Chain tab's input.
    pub der: Vec<CertificateDer<'static>>,
    /// "a private key (PKCS#8)", when there is one.
    pub key: Option<&'static str>,
    pub analysis: Analysis,
    /// The host the chain was checked against (the target profile's), if known.
    pub host: Option<String>,
    pub material: Material,
}

impl Found {
    /// Client (a key came with it), Trust (CA certificates alone) or Server.
    pub fn purpose(&self) -> Purpose {
        self.analysis.purpose
    }

    /// Whether something fatal blocks saving (an error finding: a key that does not match…).
    /// Presented or pasted certificates are saved to be trusted: that their top is not trusted
    /// yet is what Save changes, so it does not block.
    pub fn fatal(&self) -> bool {
        self.analysis.findings.iter().any(|f| self.blocks(f))
    }

    /// Whether this finding blocks saving (drawn FATAL).
    pub fn blocks(&self, f: &crate::certs::CertFinding) -> bool {
        let trusting = matches!(self.material, Material::Presented { .. });
        f.severity == Severity::Error
            && !(trusting
                && matches!(
                    f.kind,
                    FindingKind::UntrustedRoot { .. }
                        | FindingKind::SelfSignedLeaf { trusted: false }
                        | FindingKind::MissingIntermediate { .. }
                        | FindingKind::IncompleteChain { .. }
                ))
    }

    /// The leaf's names, for the SNI override the Match step offers.
    pub fn hostname_mismatch(&self) -> Option<Vec<String>> {
        self.analysis.findings.iter().find_map(|f| match &f.kind {
            FindingKind::HostnameMismatch { names, .. } => Some(names.clone()),
            _ => None,
        })
    }

    /// The issuer a client chain needs added, when the leaf's issuer is missing.
    pub fn missing_issuer(&self) -> Option<String> {
        if self.purpose() != Purpose::Client {
            return None;
        }
        self.analysis.findings.iter().find_map(|f| match &f.kind {
            FindingKind::MissingIntermediate { issuer, .. }
            | FindingKind::IncompleteChain { issuer, .. } => Some(issuer.clone()),
            _ => None,
        })
    }
}

/// Why examining a source did not produce a [`Found`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadFailure {
    /// Encrypted: ask for the passphrase.
    NeedPassphrase(String),
    /// The passphrase did not decrypt it: say so, let the user retry.
    WrongPassphrase(String),
    /// Anything else (unreadable, legacy cipher with its re-export command, not a cert…).
    Other(String),
}

/// Results of jobs, fed back into [`CertsTab::on_event`].
#[derive(Debug, Clone)]
pub enum CertsEvent {
    Examined(Result<Box<Found>, LoadFailure>),
    /// The profile saved with its keyring entries (a message), or why not.
    Saved(Result<String, String>),
    /// The entries the export prompt may offer for `profile` (Err: one sentence).
    ExportKinds {
        profile: String,
        kinds: Result<Vec<crate::secrets::ExportKind>, String>,
    },
    Exported(export::ExportEvent),
    /// The browser's folder as read (Err: one sentence).
    Listed {
        dir: PathBuf,
        listing: Result<browser::Listing, String>,
    },
}

#[derive(Debug, Clone)]
pub enum CertsEffect {
    Redraw,
    Job(Job),
    /// Leave the tab (Esc on the first step).
    Leave,
    /// One sentence for the app's status line.
    Status(String),
    /// Show this chain and its analysis on the Chain tab, and switch to it.
    InspectChain {
        der: Vec<CertificateDer<'static>>,
        analysis: Box<Analysis>,
        label: String,
    },
}

/// The focused field of the Source step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceField {
    /// The File | Paste PEM | Broker selector.
    Kind,
    Path,
    /// The multi-line paste buffer.
    Paste,
    /// The broker's URL.
    Url,
    Profile,
    Passphrase,
}

/// Where the material comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    File,
    Paste,
    /// The chain a broker presents (fetched).
    Broker,
}

impl SourceKind {
    pub const ALL: [SourceKind; 3] = [SourceKind::File, SourceKind::Paste, SourceKind::Broker];

    /// The kind's input field (focused after choosing the kind).
    fn field(self) -> SourceField {
        match self {
            SourceKind::File => SourceField::Path,
            SourceKind::Paste => SourceField::Paste,
            SourceKind::Broker => SourceField::Url,
        }
    }
}

/// The focused line of the TLS options step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionField {
    Sni,
    AlpnAws,
    AlpnMqtt,
    MinTls,
}

pub const ALPN_KNOWN: [&str; 2] = ["x-amzn-mqtt-ca", "mqtt"];

#[derive(Debug)]
pub struct CertsTab {
    pub step: Step,
    pub kind: SourceKind,
    pub path: String,
    /// Pasted PEM (it may hold a private key: kept as a secret, drawn masked).
    pub paste: paste::PasteBuffer,
    /// The broker to fetch from; empty: the target profile's URL.
    pub broker_url: String,
    /// The kind of source of the last examine or fetch started (Esc stops waiting only for a
    /// fetch); the shown [`Found`] says itself whether it was fetched (`format` is `None`).
    pub examining: SourceKind,
    /// The profile to check against and attach to (a new name creates one at Save).
    pub profile: String,
    /// Masked; only asked for when the source is encrypted.
    pub passphrase: Secret,
    pub asking_passphrase: bool,
    pub source_field: SourceField,
    /// One sentence about the source (wrong passphrase, unreadable file, legacy cipher).
    pub source_error: Option<String>,
    /// The file browser under the path field.
    pub browser: browser::Browser,
    /// The export prompt, when open (over any step).
    pub export: Option<export::ExportPrompt>,
    /// An export prompt is being prepared (the profile's entries are read off the UI task).
    pub export_pending: bool,
    pub busy: bool,
    /// Esc stopped waiting for a fetch: its answer, when it comes, is dropped.
    pub dropping: bool,
    pub found: Option<Box<Found>>,
    pub sni: String,
    pub alpn: Vec<String>,
    pub min_tls: Option<TlsVersion>,
    pub option_field: OptionField,
    /// URL for a profile created at Save.
    pub url: String,
    pub url_focused: bool,
    /// The saved profiles' names (the app tells on entering the tab).
    pub known: Vec<String>,
    pub save_result: Option<Result<String, String>>,
    /// The keyring status line ("Secret Service keyring (survives a reboot)").
    pub keyring: Option<String>,
    pub profiles_path: Option<PathBuf>,
    pub cwd: PathBuf,
    /// Lines scrolled on What was found / Match (a long chain does not fit 80×24).
    pub scroll: u16,
}

impl CertsTab {
    pub fn new(profiles_path: Option<PathBuf>, cwd: PathBuf) -> CertsTab {
        CertsTab {
            step: Step::Source,
            kind: SourceKind::File,
            path: String::new(),
            paste: paste::PasteBuffer::new(),
            broker_url: String::new(),
            examining: SourceKind::File,
            profile: String::new(),
            passphrase: Secret::new(""),
            asking_passphrase: false,
            source_field: SourceField::Path,
            source_error: None,
            browser: browser::Browser::default(),
            export: None,
            export_pending: false,
            busy: false,
            dropping: false,
            found: None,
            sni: String::new(),
            alpn: Vec::new(),
            min_tls: None,
            option_field: OptionField::Sni,
            url: String::new(),
            url_focused: false,
            known: Vec::new(),
            save_result: None,
            keyring: None,
            profiles_path,
            cwd,
            scroll: 0,
        }
    }

    /// Whether saving is blocked, and why (fatal findings, nothing loaded, no profile name).
    pub fn save_blocked(&self) -> Option<&'static str> {
        match &self.found {
            None => Some(view::NOTHING_LOADED),
            Some(f) if f.fatal() => Some(view::FATAL_BLOCKS),
            Some(_) if self.profile.trim().is_empty() => Some(view::NEED_PROFILE),
            Some(_) if !self.profile_exists() && self.url.trim().is_empty() => Some(view::NEED_URL),
            Some(_) => None,
        }
    }

    /// Enter on the Source step (Ctrl-d in the paste field): examine the file or the pasted
    /// text, or fetch the broker's chain; off the UI task.
    fn examine_job(&mut self) -> Vec<CertsEffect> {
        let passphrase = self.asking_passphrase.then(|| self.passphrase.clone());
        let profile = self.profile.trim().to_string();
        let profiles_path = self.profiles_path.clone();
        let job = match self.kind {
            SourceKind::File => {
                let path = self.path.trim();
                if path.is_empty() {
                    self.source_error = Some(view::NEED_PATH.to_string());
                    return vec![CertsEffect::Redraw];
                }
                Job::Examine {
                    path: self.cwd.join(path),
                    label: path.to_string(),
                    passphrase,
                    profile,
                    profiles_path,
                }
            }
            SourceKind::Paste => {
                if self.paste.is_empty() {
                    self.source_error = Some(paste::EMPTY.to_string());
                    return vec![CertsEffect::Redraw];
                }
                Job::ExaminePaste {
                    text: self.paste.clone(),
                    passphrase,
                    profile,
                    profiles_path,
                }
            }
            SourceKind::Broker => {
                let url = self.broker_url.trim();
                if url.is_empty() && profile.is_empty() {
                    self.source_error = Some(fetch::NEED_URL_OR_PROFILE.to_string());
                    return vec![CertsEffect::Redraw];
                }
                Job::Fetch {
                    url: Some(url.to_string()).filter(|u| !u.is_empty()),
                    profile,
                    profiles_path,
                }
            }
        };
        self.busy = true;
        self.source_error = None;
        self.examining = self.kind;
        vec![CertsEffect::Job(job), CertsEffect::Redraw]
    }

    /// A bracketed paste while the paste field has focus: into the buffer whole. `None`
    /// elsewhere: the app types its first line into the focused field like any other tab's.
    pub fn paste_text(&mut self, text: &str) -> Option<Vec<CertsEffect>> {
        if self.busy
            || self.export.is_some()
            || self.step != Step::Source
            || self.source_field != SourceField::Paste
        {
            return None;
        }
        self.source_error = self.paste.insert(text).err();
        Some(vec![CertsEffect::Redraw])
    }

    fn save_job(&mut self) -> Vec<CertsEffect> {
        if let Some(why) = self.save_blocked() {
            self.save_result = Some(Err(why.to_string()));
            return vec![CertsEffect::Redraw];
        }
        let Some(path) = self.profiles_path.clone() else {
            self.save_result = Some(Err(view::DEMO_NO_SAVE.to_string()));
            return vec![CertsEffect::Redraw];
        };
        let Some(found) = &self.found else {
            return Vec::new();
        };
        self.busy = true;
        self.save_result = None;
        vec![
            CertsEffect::Job(Job::Save {
                profiles_path: path,
                profile: self.profile.trim().to_string(),
                url: (!self.profile_exists()).then(|| self.url.trim().to_string()),
                material: found.material.clone(),
                sni: Some(self.sni.trim().to_string()).filter(|s| !s.is_empty()),
                alpn: self.alpn.clone(),
                min_tls: self.min_tls,
            }),
            CertsEffect::Redraw,
        ]
    }

    /// Where the keys go now (the keymap's context for this step and focused field).
    pub fn context(&self) -> CertsContext {
        if let Some(p) = &self.export {
            return match p.context() {
                export::ExportContext::Prompt => CertsContext::Export,
            };
        }
        match self.step {
            Step::Source => match self.source_field {
                SourceField::Path if self.browser.focused => CertsContext::SourceBrowser,
                SourceField::Path => CertsContext::SourcePath,
                SourceField::Kind => CertsContext::SourceKind,
                SourceField::Paste => CertsContext::SourcePaste,
                SourceField::Url => CertsContext::SourceUrl,
                SourceField::Profile | SourceField::Passphrase => CertsContext::SourceField,
            },
            Step::Found => CertsContext::Found,
            Step::Match => CertsContext::Match,
            Step::Options if self.option_field == OptionField::Sni => CertsContext::OptionsSni,
            Step::Options => CertsContext::Options,
            Step::Save if matches!(self.save_result, Some(Ok(_))) => CertsContext::Saved,
            Step::Save => CertsContext::Save,
        }
    }

    /// Whether a key typed now goes into a text field (so digits and `q` are letters).
    pub fn takes_text(&self) -> bool {
        match &self.export {
            Some(p) => p.takes_text(),
            None => self.context().takes_text(),
        }
    }

    /// Whether `key` is a letter or an editing key for the focused text field (taken before
    /// the keymap).
    pub fn takes_as_text(&self, key: &KeyInput) -> bool {
        self.takes_text()
            && match key.key {
                Key::Char(_) => !key.ctrl && !key.alt,
                Key::Backspace | Key::Delete | Key::Left | Key::Right | Key::Home | Key::End => {
                    true
                }
                _ => false,
            }
    }

    fn field(&mut self) -> Option<&mut String> {
        match self.step {
            Step::Source => match self.source_field {
                SourceField::Path => Some(&mut self.path),
                SourceField::Url => Some(&mut self.broker_url),
                SourceField::Profile => Some(&mut self.profile),
                SourceField::Kind | SourceField::Paste | SourceField::Passphrase => None,
            },
            Step::Options if self.option_field == OptionField::Sni => Some(&mut self.sni),
            Step::Save if self.url_focused => Some(&mut self.url),
            Step::Save => Some(&mut self.profile),
            _ => None,
        }
    }

    /// A key for the focused text field (see [`CertsTab::takes_as_text`]).
    pub fn text_key(&mut self, key: KeyInput) -> Vec<CertsEffect> {
        if let Some(p) = self.export.as_mut() {
            let effects = p.text_key(key);
            return self.export_effects(effects);
        }
        if self.step == Step::Source && self.source_field == SourceField::Paste {
            let changed = match key.key {
                Key::Char(c) => match self.paste.push_char(c) {
                    Ok(()) => true,
                    Err(e) => {
                        self.source_error = Some(e);
                        true
                    }
                },
                Key::Backspace | Key::Delete => self.paste.backspace(),
                _ => false,
            };
            return redraw_if(changed);
        }
        if self.step == Step::Source && self.source_field == SourceField::Passphrase {
            let mut s = self.passphrase.expose().to_string();
            let changed = edit_string(&mut s, &key);
            self.passphrase = Secret::new(s);
            return redraw_if(changed);
        }
        let changed = match self.field() {
            Some(f) => edit_string(f, &key),
            None => false,
        };
        if changed && self.step == Step::Source && self.source_field == SourceField::Path {
            // Another file: what was said of the last one (unreadable, encrypted, wrong
            // passphrase) no longer holds.
            self.forget_source_answer();
            // What is typed filters the browser; a new folder part lists that folder.
            self.browser.selected = 0;
            let mut out = self.refresh_listing();
            out.push(CertsEffect::Redraw);
            return out;
        }
        redraw_if(changed)
    }

    /// Carries out one wizard command (the keymap chose it for [`CertsTab::context`]).
    pub fn command(&mut self, cmd: CertsCommand) -> Vec<CertsEffect> {
        use CertsCommand as C;
        let redraw = || vec![CertsEffect::Redraw];
        match cmd {
            // Opened by the app (it owns the popups).
            C::Help => Vec::new(),
            C::Back => match self.step.back() {
                Some(prev) => {
                    self.step = prev;
                    self.scroll = 0;
                    self.save_result = None;
                    redraw()
                }
                None => vec![CertsEffect::Leave],
            },
            C::Examine => self.examine_job(),
            C::Complete => {
                if self.listing_ready() {
                    self.complete();
                } else {
                    self.browser.complete_when_listed = true;
                }
                redraw()
            }
            C::NextField | C::PrevField => {
                self.move_field(cmd == C::NextField);
                redraw()
            }
            C::Browse => {
                self.browser.focused = true;
                self.source_field = SourceField::Path;
                let mut out = self.refresh_listing();
                out.push(CertsEffect::Redraw);
                out
            }
            C::BrowserClose => {
                self.browser.focused = false;
                redraw()
            }
            C::BrowserUp => {
                self.browser.selected = self.browser.selected.saturating_sub(1);
                redraw()
            }
            C::BrowserDown => {
                let n = self.visible_entries().len();
                self.browser.selected = (self.browser.selected + 1).min(n.saturating_sub(1));
                redraw()
            }
            C::BrowserOpen => self.open_selected(),
            C::BrowserParent => {
                let (dir_part, _) = browser::split(&self.path);
                self.path = browser::parent(dir_part);
                self.browser.selected = 0;
                let mut out = self.refresh_listing();
                out.push(CertsEffect::Redraw);
                out
            }
            C::ScrollUp | C::ScrollDown | C::PageUp | C::PageDown => {
                self.scroll = match cmd {
                    C::ScrollDown => self.scroll.saturating_add(1).min(200),
                    C::PageDown => self.scroll.saturating_add(10).min(200),
                    C::ScrollUp => self.scroll.saturating_sub(1),
                    _ => self.scroll.saturating_sub(10),
                };
                redraw()
            }
            C::Next => {
                self.scroll = 0;
                self.step = self.step.next().unwrap_or(self.step);
                if self.step == Step::Options
                    && self.sni.is_empty()
                    && let Some(names) = self.found.as_ref().and_then(|f| f.hostname_mismatch())
                    && let Some(first) = names.into_iter().next()
                {
                    // The Match step offered it: the name the certificate does carry.
                    self.sni = first;
                }
                redraw()
            }
            C::InspectChain => match &self.found {
                Some(f) => vec![CertsEffect::InspectChain {
                    der: f.der.clone(),
                    analysis: Box::new(f.analysis.clone()),
                    label: f.label.clone(),
                }],
                None => Vec::new(),
            },
            C::Toggle => {
                match self.option_field {
                    OptionField::AlpnAws => self.toggle_alpn(ALPN_KNOWN[0]),
                    OptionField::AlpnMqtt => self.toggle_alpn(ALPN_KNOWN[1]),
                    OptionField::MinTls => {
                        self.min_tls = match self.min_tls {
                            None => Some(TlsVersion::V1_2),
                            Some(TlsVersion::V1_2) => Some(TlsVersion::V1_3),
                            Some(TlsVersion::V1_3) => None,
                        }
                    }
                    OptionField::Sni => return Vec::new(),
                }
                redraw()
            }
            C::Save => self.save_job(),
            C::KindNext | C::KindPrev => {
                self.kind = crate::tui::cycle(&SourceKind::ALL, self.kind, cmd == C::KindNext);
                // A passphrase asked for one source is not the next one's.
                self.forget_source_answer();
                let mut out = if self.kind == SourceKind::File {
                    self.refresh_listing()
                } else {
                    Vec::new()
                };
                out.push(CertsEffect::Redraw);
                out
            }
            C::Newline => {
                self.source_error = self.paste.newline().err();
                redraw()
            }
            C::ClearPaste => {
                self.paste.clear();
                self.source_error = None;
                redraw()
            }
            C::Export => self.open_export(),
        }
    }

    /// `x`: the export prompt for the target profile, once its keyring entries are read.
    fn open_export(&mut self) -> Vec<CertsEffect> {
        let name = self.profile.trim().to_string();
        let Some(profiles_path) = self.profiles_path.clone() else {
            return vec![CertsEffect::Status(view::DEMO_NO_EXPORT.to_string())];
        };
        if name.is_empty() || !self.profile_exists() {
            return vec![CertsEffect::Status(view::EXPORT_NEEDS_PROFILE.to_string())];
        }
        self.export_pending = true;
        vec![CertsEffect::Job(Job::ExportKinds {
            profiles_path,
            profile: name,
        })]
    }

    /// A command of the export prompt (its keys come from the keymap too).
    pub fn export_command(&mut self, cmd: export::ExportCommand) -> Vec<CertsEffect> {
        match self.export.as_mut() {
            Some(p) => {
                let effects = p.command(cmd);
                self.export_effects(effects)
            }
            None => Vec::new(),
        }
    }

    fn export_effects(&mut self, effects: Vec<export::ExportEffect>) -> Vec<CertsEffect> {
        let mut out = Vec::new();
        for e in effects {
            match e {
                export::ExportEffect::Redraw => out.push(CertsEffect::Redraw),
                export::ExportEffect::Close => {
                    self.export = None;
                    out.push(CertsEffect::Redraw);
                }
                export::ExportEffect::Write {
                    profile,
                    kind,
                    path,
                    overwrite,
                } => match self.profiles_path.clone() {
                    Some(profiles_path) => out.push(CertsEffect::Job(Job::ExportWrite {
                        profiles_path,
                        profile,
                        kind,
                        path,
                        overwrite,
                    })),
                    None => out.push(CertsEffect::Status(view::DEMO_NO_EXPORT.to_string())),
                },
            }
        }
        out
    }

    /// Another source was chosen: the error and the passphrase asked for the last one go.
    fn forget_source_answer(&mut self) {
        self.source_error = None;
        self.asking_passphrase = false;
        self.passphrase = Secret::new("");
    }

    /// Down/Tab (forward) or Up/BackTab on the Source, TLS options and Save steps.
    fn move_field(&mut self, forward: bool) {
        use crate::tui::cycle as step;
        match self.step {
            Step::Source => {
                // The kind's field right after the selector, so Down from the path is the
                // profile as before the selector came.
                let mut fields = vec![SourceField::Kind, self.kind.field(), SourceField::Profile];
                if self.asking_passphrase && self.kind != SourceKind::Broker {
                    fields.push(SourceField::Passphrase);
                }
                self.source_field = step(&fields, self.source_field, forward);
            }
            Step::Options => {
                use OptionField as O;
                let all = [O::Sni, O::AlpnAws, O::AlpnMqtt, O::MinTls];
                self.option_field = step(&all, self.option_field, forward);
            }
            Step::Save if !self.profile_exists() => self.url_focused = !self.url_focused,
            _ => {}
        }
    }

    fn toggle_alpn(&mut self, proto: &str) {
        if let Some(i) = self.alpn.iter().position(|p| p == proto) {
            self.alpn.remove(i);
        } else {
            self.alpn.push(proto.to_string());
        }
    }

    /// The folder the path field points into (the browser lists it).
    pub fn listing_dir(&self) -> PathBuf {
        let (dir_part, _) = browser::split(&self.path);
        if dir_part.is_empty() {
            self.cwd.clone()
        } else {
            self.cwd.join(dir_part)
        }
    }

    /// Asks for the listing of the path's folder unless it is the one shown or being read.
    fn refresh_listing(&mut self) -> Vec<CertsEffect> {
        let dir = self.listing_dir();
        if self.browser.dir.as_ref() == Some(&dir) {
            return Vec::new();
        }
        self.browser.dir = Some(dir.clone());
        self.browser.listing = None;
        self.browser.pending = true;
        self.browser.selected = 0;
        vec![CertsEffect::Job(Job::List { dir })]
    }

    fn listing_ready(&self) -> bool {
        !self.browser.pending && self.browser.dir.as_ref() == Some(&self.listing_dir())
    }

    /// The browser's rows: the listed folder's entries that match the typed name.
    pub fn visible_entries(&self) -> Vec<&browser::Entry> {
        let (_, base) = browser::split(&self.path);
        self.browser.visible(base)
    }

    /// Enter in the list: a folder is entered (the path field follows), a file examined.
    fn open_selected(&mut self) -> Vec<CertsEffect> {
        let Some(e) = self
            .visible_entries()
            .get(self.browser.selected)
            .cloned()
            .cloned()
        else {
            return Vec::new();
        };
        let (dir_part, _) = browser::split(&self.path);
        let joined = format!("{dir_part}{}", e.name);
        if e.dir {
            self.path = format!("{joined}/");
            let mut out = self.refresh_listing();
            out.push(CertsEffect::Redraw);
            out
        } else {
            self.path = joined;
            self.browser.focused = false;
            self.examine_job()
        }
    }

    /// Tab in the path field: complete to the longest common prefix of the entries that match
    /// (the browser below shows them all).
    fn complete(&mut self) {
        let (dir_part, _) = browser::split(&self.path);
        let dir_part = dir_part.to_string();
        let names: Vec<String> = self
            .visible_entries()
            .iter()
            .map(|e| {
                if e.dir {
                    format!("{}/", e.name)
                } else {
                    e.name.clone()
                }
            })
            .collect();
        if let Some(first) = names.first() {
            let mut common = first.clone();
            for n in &names[1..] {
                while !n.starts_with(&common) {
                    common.pop();
                }
            }
            self.path = format!("{dir_part}{common}");
            self.browser.selected = 0;
        }
    }

    /// Entering the tab: the Profiles tab's selection is the default target; the browser lists
    /// the current folder (off the UI task).
    pub fn enter(&mut self, selected: Option<&str>, known: Vec<String>) -> Vec<CertsEffect> {
        if self.profile.is_empty()
            && let Some(name) = selected
        {
            self.profile = name.to_string();
        }
        self.known = known;
        if self.step == Step::Source {
            self.refresh_listing()
        } else {
            Vec::new()
        }
    }

    /// Whether Save attaches to an existing profile (else it creates one with `url`).
    pub fn profile_exists(&self) -> bool {
        self.known.iter().any(|n| n == self.profile.trim())
    }

    /// Esc while a broker's chain is fetched: stop waiting (a file or a save finishes at once;
    /// a fetch may wait out its timeout on a black hole).
    pub fn stop_waiting(&mut self) -> bool {
        if !self.busy || self.examining != SourceKind::Broker || self.step != Step::Source {
            return false;
        }
        self.busy = false;
        self.dropping = true;
        self.source_error = Some(view::FETCH_STOPPED.to_string());
        true
    }

    pub fn on_event(&mut self, ev: CertsEvent) -> Vec<CertsEffect> {
        if matches!(ev, CertsEvent::Examined(_)) && std::mem::take(&mut self.dropping) {
            return Vec::new();
        }
        if matches!(ev, CertsEvent::Examined(_) | CertsEvent::Saved(_)) {
            self.busy = false;
        }
        match ev {
            CertsEvent::Examined(Ok(found)) => {
                self.found = Some(found);
                self.source_error = None;
                self.step = Step::Found;
            }
            CertsEvent::Examined(Err(failure)) => {
                self.found = None;
                match failure {
                    LoadFailure::NeedPassphrase(_) => {
                        self.asking_passphrase = true;
                        self.source_field = SourceField::Passphrase;
                        // The core's sentence names the CLI flag; here it is typed below.
                        self.source_error = Some(view::TYPE_PASSPHRASE.to_string());
                    }
                    LoadFailure::WrongPassphrase(why) => {
                        self.asking_passphrase = true;
                        self.source_field = SourceField::Passphrase;
                        self.passphrase = Secret::new("");
                        self.source_error = Some(why);
                    }
                    LoadFailure::Other(why) => self.source_error = Some(why),
                }
            }
            CertsEvent::Listed { dir, listing } => {
                if self.browser.dir.as_ref() == Some(&dir) {
                    self.browser.pending = false;
                    self.browser.listing = Some(listing);
                    if std::mem::take(&mut self.browser.complete_when_listed) {
                        self.complete();
                    }
                }
            }
            CertsEvent::ExportKinds { profile, kinds } => {
                if !std::mem::take(&mut self.export_pending) {
                    return Vec::new();
                }
                return match kinds {
                    Ok(kinds) => {
                        self.export = Some(export::ExportPrompt::with_kinds(
                            &profile,
                            kinds,
                            self.cwd.clone(),
                        ));
                        vec![CertsEffect::Redraw]
                    }
                    Err(why) => vec![CertsEffect::Status(why)],
                };
            }
            CertsEvent::Exported(ev) => {
                return match self.export.as_mut() {
                    Some(p) => {
                        let effects = p.on_event(ev);
                        self.export_effects(effects)
                    }
                    None => Vec::new(),
                };
            }
            CertsEvent::Saved(result) => {
                if result.is_ok() && !self.profile_exists() {
                    self.known.push(self.profile.trim().to_string());
                }
                self.save_result = Some(result);
            }
        }
        vec![CertsEffect::Redraw]
    }
}

fn redraw_if(changed: bool) -> Vec<CertsEffect> {
    if changed {
        vec![CertsEffect::Redraw]
    } else {
        Vec::new()
    }
}

/// Line editing at the end of the field (the wizard's fields are short).
fn edit_string(s: &mut String, key: &KeyInput) -> bool {
    match key.key {
        Key::Char(c) => {
            s.push(c);
            true
        }
        Key::Backspace | Key::Delete => s.pop().is_some(),
        _ => false,
    }
}
