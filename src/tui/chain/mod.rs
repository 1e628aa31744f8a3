//! The Chain tab (the inspector): one certificate chain as a tree from leaf to root, with each
//! finding drawn at the certificate it concerns, the anchor or the missing link, `y`/`Y`/`s`.
//! State and transitions are pure; saving the PEM file is an [`ChainEffect::Save`] the shell
//! carries out with [`save_pem`] and answers with a [`ChainEvent`].

pub mod view;

#[cfg(test)]
mod tests;

use std::cell::Cell;
use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use rustls_pki_types::CertificateDer;

use crate::certs::{self, Analysis, AnalyzeOptions, FindingKind, Purpose};
use crate::diagnose::Report;

use super::keymap::{Key, KeyInput};

/// Every action of the tab (bound to keys by the shell's keymap).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChainCommand {
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Toggle,
    ExpandAll,
    CopyPem,
    Save,
    SwitchChain,
    PromptConfirm,
    PromptCancel,
}

impl ChainCommand {
    pub fn id(self) -> &'static str {
        use ChainCommand as C;
        match self {
            C::Up => "chain.up",
            C::Down => "chain.down",
            C::PageUp => "chain.page_up",
            C::PageDown => "chain.page_down",
            C::Top => "chain.top",
            C::Bottom => "chain.bottom",
            C::Toggle => "chain.toggle",
            C::ExpandAll => "chain.expand_all",
            C::CopyPem => "chain.copy_pem",
            C::Save => "chain.save",
            C::SwitchChain => "chain.switch",
            C::PromptConfirm => "chain.save_confirm",
            C::PromptCancel => "chain.save_cancel",
        }
    }
}

/// Where the user is in the tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChainContext {
    Tree,
    SavePrompt,
}

type DefaultBinding = (
    ChainContext,
    ChainCommand,
    &'static [&'static str],
    &'static str,
    &'static str,
);

/// (context, command, default key specs, footer hint, help line).
pub fn default_bindings() -> Vec<DefaultBinding> {
    use ChainCommand as C;
    use ChainContext as X;
    #[rustfmt::skip]
    let rows: Vec<DefaultBinding> = vec![
        (X::Tree, C::Up, &["Up", "k"], "", "select the certificate above (towards the leaf)"),
        (X::Tree, C::Down, &["Down", "j"], "", "select the certificate below (towards the root)"),
        (X::Tree, C::PageUp, &["PageUp"], "", "scroll one page up"),
        (X::Tree, C::PageDown, &["PageDown", "Space"], "", "scroll one page down"),
        (X::Tree, C::Top, &["Home", "g"], "", "the leaf"),
        (X::Tree, C::Bottom, &["End", "G"], "", "the last node"),
        (X::Tree, C::Toggle, &["Enter", "Right", "l"], "details", "show or hide the selected certificate's details"),
        (X::Tree, C::ExpandAll, &["a"], "", "show or hide every certificate's details"),
        (X::Tree, C::CopyPem, &["Y"], "PEM", "copy the selected certificate as PEM (y copies its SHA-256 fingerprint)"),
        (X::Tree, C::Save, &["s"], "save", "save the presented chain as a PEM file (for --ca, after checking it)"),
        (X::Tree, C::SwitchChain, &["c"], "", "show the broker's chain or the client certificate sent"),
        (X::SavePrompt, C::PromptConfirm, &["Enter"], "save", "write the file (asks before overwriting)"),
        (X::SavePrompt, C::PromptCancel, &["Esc"], "cancel", "close without saving"),
    ];
    rows
}

/// What shows in the tab.
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    /// "diagnosis of lab (run 3)", "loaded in the wizard: client.p12".
    pub label: String,
    /// As presented (or loaded), in that order.
    pub der: Vec<CertificateDer<'static>>,
    /// The analysis, or why there is none (a certificate that does not parse).
    pub analysis: Result<Analysis, String>,
    /// Whether this is the client chain a run sent (not a chain a broker presented).
    pub client: bool,
}

/// One row of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// Presented certificate `i` (index into `Analysis::certs`).
    Cert(usize),
    /// The trust anchor that closed the chain (not presented: from the CA file or system).
    Anchor { subject: String },
    /// The issuer the chain needs and nobody sent or trusts.
    Missing {
        subject: String,
        key_id: Option<String>,
    },
}

/// The save prompt: a path, then (when the file exists) a confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavePrompt {
    pub path: String,
    /// Set when the file exists: Enter again overwrites it.
    pub exists: bool,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainEffect {
    Redraw,
    Status(String),
    /// Text for the clipboard (the shell makes it OSC 52).
    Copy(String),
    /// Write `pem` to `path`; only over an existing file when `overwrite`.
    Save {
        path: PathBuf,
        pem: String,
        overwrite: bool,
    },
}

/// Results of the shell's work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainEvent {
    Saved { path: PathBuf, count: usize },
    Exists { path: PathBuf },
    SaveFailed { path: PathBuf, why: String },
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChainTab {
    pub shown: Option<Shown>,
    /// Index into [`ChainTab::nodes`].
    pub selected: usize,
    /// Nodes whose details are open.
    pub expanded: BTreeSet<usize>,
    /// First row drawn (the drawing keeps the selection in view while `reveal`).
    pub scroll: Cell<u16>,
    /// Whether the next draw scrolls to the selected node (after a move, not after PgUp/PgDn).
    pub reveal: Cell<bool>,
    pub max_scroll: Cell<u16>,
    pub height: Cell<u16>,
    pub prompt: Option<SavePrompt>,
    /// The same run's other chain (the broker's while the client's shows, or the reverse):
    /// `c` swaps the two.
    pub other: Option<Shown>,
    /// The Diagnose run last shown, so a new diagnosis replaces it and an old one does not
    /// replace a chain loaded in the wizard.
    pub synced_run: Option<usize>,
    /// The newest finished run the app has told about (see [`ChainTab::run_finished`]).
    pub newest_run: Option<usize>,
    /// Whether the chain shown was loaded in the wizard: only a run newer than the load
    /// replaces it.
    pub loaded: bool,
}

/// The catalog's causes about the client certificate share this prefix
/// (`tls.client_cert_rejected`, `tls.client_chain_incomplete` …): a verdict with one shows
/// the client chain first, when the run sent one.
const CLIENT_CAUSE_PREFIX: &str = "tls.client_";

/// The run's own analysis of `chain`, or (when it made none) one made now without anchors.
fn made_or_now(
    made: &Option<Analysis>,
    chain: &[CertificateDer<'static>],
    purpose: Purpose,
) -> Result<Analysis, String> {
    match made {
        Some(a) => Ok(a.clone()),
        None => certs::analyze(
            chain,
            &AnalyzeOptions {
                purpose,
                ..AnalyzeOptions::new(crate::clock::now_unix())
            },
        )
        .map_err(|e| e.to_string()),
    }
}

impl ChainTab {
    /// Shows a chain analysed now without anchors, at a given time (tests: the wizard hands
    /// over its own analysis with [`ChainTab::show_analysis`]).
    #[cfg(test)]
    pub fn show_at(&mut self, chain: Vec<CertificateDer<'static>>, label: &str, now: i64) {
        let analysis = certs::analyze(&chain, &AnalyzeOptions::new(now)).map_err(|e| e.to_string());
        self.load(Shown {
            label: label.to_string(),
            der: chain,
            analysis,
            client: false,
        });
    }

    /// Shows an analysis made elsewhere (the wizard's: against its anchors, host and clock).
    pub fn show_analysis(
        &mut self,
        chain: Vec<CertificateDer<'static>>,
        analysis: Analysis,
        label: &str,
    ) {
        self.load(Shown {
            label: label.to_string(),
            der: chain,
            analysis: Ok(analysis),
            client: false,
        });
    }

    /// A chain from the wizard: every run finished so far is older than it.
    fn load(&mut self, shown: Shown) {
        self.set(shown);
        self.loaded = true;
        self.synced_run = self.newest_run;
    }

    fn set(&mut self, shown: Shown) {
        self.shown = Some(shown);
        self.other = None;
        self.selected = 0;
        self.scroll.set(0);
        self.reveal.set(true);
        // All closed: every node's validity and findings show, so the whole tree fits 80×24;
        // Enter opens the details of one.
        self.expanded = BTreeSet::new();
        self.prompt = None;
    }

    /// Run `number` finished (whichever tab shows): what the wizard loads later is newer.
    pub fn run_finished(&mut self, number: usize) {
        self.newest_run = self.newest_run.max(Some(number));
    }

    /// Takes the chains of a finished diagnosis (run `number` of `label`) unless they already
    /// show, or a chain loaded in the wizard after that run shows. The client chain comes first
    /// when the verdict is about it; `c` switches to the other. Returns whether the tab changed.
    pub fn sync_report(&mut self, number: usize, label: &str, report: &Report) -> bool {
        if self.synced_run == Some(number)
            || (self.loaded && self.synced_run.is_some_and(|s| number <= s))
        {
            return false;
        }
        self.synced_run = Some(number);
        let Some(tls) = &report.tls else {
            return false;
        };
        let both = !tls.chain_der.is_empty() && !tls.client_chain_der.is_empty();
        let server = (!tls.chain_der.is_empty()).then(|| Shown {
            label: if both {
                format!("broker's chain, diagnosis of {label} (run {number})")
            } else {
                format!("diagnosis of {label} (run {number})")
            },
            der: tls.chain_der.clone(),
            analysis: made_or_now(&tls.analysis, &tls.chain_der, Purpose::Server),
            client: false,
        });
        let client = (!tls.client_chain_der.is_empty()).then(|| Shown {
            label: format!("client certificate sent in run {number}"),
            der: tls.client_chain_der.clone(),
            analysis: made_or_now(&tls.client_analysis, &tls.client_chain_der, Purpose::Client),
            client: true,
        });
        let about_client = report
            .verdict
            .cause
            .is_some_and(|c| c.starts_with(CLIENT_CAUSE_PREFIX));
        let (first, second) = if (about_client && client.is_some()) || server.is_none() {
            (client, server)
        } else {
            (server, client)
        };
        let Some(first) = first else {
            return false;
        };
        self.set(first);
        self.other = second;
        self.loaded = false;
        true
    }

    /// `c`: the run's other chain.
    fn switch_chain(&mut self) -> Vec<ChainEffect> {
        let Some(other) = self.other.take() else {
            return vec![ChainEffect::Status(view::ONE_CHAIN.into())];
        };
        let current = self.shown.take();
        self.set(other);
        self.other = current;
        vec![ChainEffect::Redraw]
    }

    pub fn context(&self) -> ChainContext {
        if self.prompt.is_some() {
            ChainContext::SavePrompt
        } else {
            ChainContext::Tree
        }
    }

    pub fn takes_text(&self) -> bool {
        self.prompt.is_some()
    }

    /// The tree: the verified path leaf first, then what closed it (anchor) or the missing link,
    /// then presented certificates that are on no path.
    pub fn nodes(&self) -> Vec<Node> {
        let Some(Shown {
            analysis: Ok(a), ..
        }) = &self.shown
        else {
            return Vec::new();
        };
        nodes_of(a)
    }

    /// The certificate of the selected node, if it is one.
    fn selected_cert(&self) -> Option<usize> {
        match self.nodes().get(self.selected) {
            Some(Node::Cert(i)) => Some(*i),
            _ => None,
        }
    }

    /// What `y` copies: the selected certificate's SHA-256 fingerprint.
    pub fn copy_text(&self) -> Option<String> {
        let i = self.selected_cert()?;
        match &self.shown.as_ref()?.analysis {
            Ok(a) => a.certs.get(i).map(|c| c.sha256_fingerprint.clone()),
            Err(_) => None,
        }
    }

    fn selected_pem(&self) -> Option<String> {
        let i = self.selected_cert()?;
        let der = self.shown.as_ref()?.der.get(i)?;
        Some(certs::pem("CERTIFICATE", der))
    }

    /// The presented chain as PEM, in the order presented.
    pub fn chain_pem(&self) -> Option<String> {
        let shown = self.shown.as_ref()?;
        if shown.der.is_empty() {
            return None;
        }
        Some(
            shown
                .der
                .iter()
                .map(|c| certs::pem("CERTIFICATE", c))
                .collect(),
        )
    }

    pub fn command(&mut self, cmd: ChainCommand) -> Vec<ChainEffect> {
        use ChainCommand as C;
        let n = self.nodes().len();
        let page = usize::from(self.height.get().max(2) / 2);
        match cmd {
            C::Up | C::Down | C::Top | C::Bottom if n == 0 => Vec::new(),
            C::Up => self.select(self.selected.saturating_sub(1)),
            C::Down => self.select((self.selected + 1).min(n - 1)),
            C::Top => self.select(0),
            C::Bottom => self.select(n - 1),
            C::PageUp => {
                self.scroll
                    .set(self.scroll.get().saturating_sub(page as u16));
                self.reveal.set(false);
                vec![ChainEffect::Redraw]
            }
            C::PageDown => {
                let to = self.scroll.get().saturating_add(page as u16);
                self.scroll.set(to.min(self.max_scroll.get()));
                self.reveal.set(false);
                vec![ChainEffect::Redraw]
            }
            C::Toggle => {
                if !matches!(self.nodes().get(self.selected), Some(Node::Cert(_))) {
                    return Vec::new();
                }
                if !self.expanded.remove(&self.selected) {
                    self.expanded.insert(self.selected);
                }
                vec![ChainEffect::Redraw]
            }
            C::ExpandAll => {
                let certs: BTreeSet<usize> = self
                    .nodes()
                    .iter()
                    .enumerate()
                    .filter(|(_, n)| matches!(n, Node::Cert(_)))
                    .map(|(i, _)| i)
                    .collect();
                self.expanded = if self.expanded == certs {
                    BTreeSet::new()
                } else {
                    certs
                };
                vec![ChainEffect::Redraw]
            }
            C::CopyPem => match self.selected_pem() {
                Some(pem) => vec![ChainEffect::Copy(pem)],
                None => vec![ChainEffect::Status(view::NOTHING_SELECTED.into())],
            },
            C::Save => {
                if self.chain_pem().is_none() {
                    return vec![ChainEffect::Status(view::NO_CHAIN.into())];
                }
                // `s` makes a --ca file from what a broker presented; a client chain is not one.
                if self.shown.as_ref().is_some_and(|s| s.client) {
                    return vec![ChainEffect::Status(view::SAVE_CLIENT.into())];
                }
                self.prompt = Some(SavePrompt {
                    path: "chain.pem".into(),
                    exists: false,
                    error: None,
                });
                vec![ChainEffect::Redraw]
            }
            C::SwitchChain => self.switch_chain(),
            C::PromptCancel => {
                self.prompt = None;
                vec![ChainEffect::Redraw]
            }
            C::PromptConfirm => {
                let pem = self.chain_pem();
                let (Some(p), Some(pem)) = (self.prompt.as_mut(), pem) else {
                    return Vec::new();
                };
                let path = p.path.trim();
                if path.is_empty() {
                    p.error = Some(view::PATH_EMPTY.into());
                    return vec![ChainEffect::Redraw];
                }
                vec![ChainEffect::Save {
                    path: PathBuf::from(path),
                    pem,
                    overwrite: p.exists,
                }]
            }
        }
    }

    fn select(&mut self, i: usize) -> Vec<ChainEffect> {
        if i == self.selected {
            return Vec::new();
        }
        self.selected = i;
        self.reveal.set(true);
        vec![ChainEffect::Redraw]
    }

    /// A key for the path field.
    pub fn text_key(&mut self, key: KeyInput) -> Vec<ChainEffect> {
        let Some(p) = self.prompt.as_mut() else {
            return Vec::new();
        };
        match key.key {
            Key::Char(c) if !c.is_control() && !key.ctrl && !key.alt => p.path.push(c),
            Key::Backspace => {
                p.path.pop();
            }
            _ => return Vec::new(),
        }
        // A changed path is a new question.
        p.exists = false;
        p.error = None;
        vec![ChainEffect::Redraw]
    }

    pub fn on_event(&mut self, ev: ChainEvent) -> Vec<ChainEffect> {
        match ev {
            ChainEvent::Saved { path, count } => {
                self.prompt = None;
                vec![ChainEffect::Status(view::saved_message(&path, count))]
            }
            ChainEvent::Exists { .. } => {
                if let Some(p) = self.prompt.as_mut() {
                    p.exists = true;
                    p.error = None;
                }
                vec![ChainEffect::Redraw]
            }
            ChainEvent::SaveFailed { why, .. } => {
                if let Some(p) = self.prompt.as_mut() {
                    p.error = Some(why);
                }
                vec![ChainEffect::Redraw]
            }
        }
    }

    pub fn draw(
        &self,
        frame: &mut ratatui::Frame,
        area: ratatui::layout::Rect,
        look: &super::look::Look,
    ) {
        view::draw(self, frame, area, look);
    }
}

/// The tree of an analysis (see [`ChainTab::nodes`]).
pub fn nodes_of(a: &Analysis) -> Vec<Node> {
    let mut out: Vec<Node> = a.order.iter().map(|&i| Node::Cert(i)).collect();
    if out.is_empty() && !a.certs.is_empty() {
        out.push(Node::Cert(0));
    }
    let top = match out.last() {
        Some(Node::Cert(i)) => Some(*i),
        _ => None,
    };
    for f in &a.findings {
        if f.cert != top && f.cert.is_some() {
            continue;
        }
        match &f.kind {
            FindingKind::Trusted {
                anchor,
                issued_by_anchor: true,
            } => out.push(Node::Anchor {
                subject: anchor.clone(),
            }),
            FindingKind::MissingIntermediate {
                issuer,
                authority_key_id,
            }
            | FindingKind::IncompleteChain {
                issuer,
                authority_key_id,
            } => out.push(Node::Missing {
                subject: issuer.clone(),
                key_id: authority_key_id.clone(),
            }),
            _ => {}
        }
    }
    for i in 0..a.certs.len() {
        if !out.contains(&Node::Cert(i)) {
            out.push(Node::Cert(i));
        }
    }
    out
}

/// Writes the PEM file: a new file (mode 0644: certificates are public), or over an existing
/// one only when `overwrite` (asked first). `Exists` is the answer that asks.
pub fn save_pem(path: &Path, pem: &str, overwrite: bool) -> ChainEvent {
    let count = pem.matches("-----BEGIN CERTIFICATE-----").count();
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true);
    if overwrite {
        opts.create(true).truncate(true);
    } else {
        opts.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o644);
    }
    let result = opts.open(path).and_then(|mut f| {
        f.write_all(pem.as_bytes())?;
        f.sync_all()
    });
    match result {
        Ok(()) => ChainEvent::Saved {
            path: path.to_path_buf(),
            count,
        },
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => ChainEvent::Exists {
            path: path.to_path_buf(),
        },
        Err(e) => ChainEvent::SaveFailed {
            path: path.to_path_buf(),
            why: format!("{}: {e}", path.display()),
        },
    }
}
