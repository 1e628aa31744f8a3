//! The Certificates tab: a wizard (Source → What was found → Match → TLS options → Save) that
//! imports a certificate, chain, key or `.p12` into the keyring and attaches it to a profile.
//!
//! All analysis is the core's (`crate::certs::load`/`analyze`, words from `crate::explain`);
//! reading files, the clock and the keyring happen in [`job`], off the UI task. Nothing is
//! written until Save.

pub(crate) mod job;
pub mod view;

// The wizard's paste and broker sources and its export prompt; the wiz branch wires them in
// (and drops these allows then).
#[allow(dead_code)]
pub mod export;
#[allow(dead_code)]
pub mod fetch;
#[allow(dead_code)]
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
    pub format: Format,
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
    pub fn purpose(&self) -> Purpose {
        if self.key.is_some() {
            Purpose::Client
        } else {
            Purpose::Server
        }
    }

    /// Whether something fatal blocks saving (an error finding: a key that does not match…).
    pub fn fatal(&self) -> bool {
        self.analysis.worst() == Some(Severity::Error)
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
}

#[derive(Debug, Clone)]
pub enum CertsEffect {
    Redraw,
    Job(Job),
    /// Leave the tab (Esc on the first step).
    Leave,
}

/// The focused field of the Source step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceField {
    Path,
    Profile,
    Passphrase,
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
    pub path: String,
    /// The profile to check against and attach to (a new name creates one at Save).
    pub profile: String,
    /// Masked; only asked for when the source is encrypted.
    pub passphrase: Secret,
    pub asking_passphrase: bool,
    pub source_field: SourceField,
    /// One sentence about the source (wrong passphrase, unreadable file, legacy cipher).
    pub source_error: Option<String>,
    /// Tab completion candidates shown under the path field.
    pub completions: Vec<String>,
    pub busy: bool,
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
            path: String::new(),
            profile: String::new(),
            passphrase: Secret::new(""),
            asking_passphrase: false,
            source_field: SourceField::Path,
            source_error: None,
            completions: Vec::new(),
            busy: false,
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

    fn examine_job(&mut self) -> Vec<CertsEffect> {
        let path = self.path.trim();
        if path.is_empty() {
            self.source_error = Some(view::NEED_PATH.to_string());
            return vec![CertsEffect::Redraw];
        }
        self.busy = true;
        self.source_error = None;
        let passphrase = self.asking_passphrase.then(|| self.passphrase.clone());
        vec![
            CertsEffect::Job(Job::Examine {
                path: self.cwd.join(path),
                label: path.to_string(),
                passphrase,
                profile: self.profile.trim().to_string(),
                profiles_path: self.profiles_path.clone(),
            }),
            CertsEffect::Redraw,
        ]
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

    /// Whether a key typed now goes into a text field (so digits and `q` are letters).
    pub fn takes_text(&self) -> bool {
        match self.step {
            Step::Source => true,
            Step::Options => self.option_field == OptionField::Sni,
            Step::Save => true,
            _ => false,
        }
    }

    fn field(&mut self) -> Option<&mut String> {
        match self.step {
            Step::Source => match self.source_field {
                SourceField::Path => Some(&mut self.path),
                SourceField::Profile => Some(&mut self.profile),
                SourceField::Passphrase => None,
            },
            Step::Options if self.option_field == OptionField::Sni => Some(&mut self.sni),
            Step::Save if self.url_focused => Some(&mut self.url),
            Step::Save => Some(&mut self.profile),
            _ => None,
        }
    }

    fn edit(&mut self, key: &KeyInput) -> bool {
        if self.step == Step::Source && self.source_field == SourceField::Passphrase {
            let mut s = self.passphrase.expose().to_string();
            let changed = edit_string(&mut s, key);
            self.passphrase = Secret::new(s);
            return changed;
        }
        let changed = match self.field() {
            Some(f) => edit_string(f, key),
            None => false,
        };
        if changed && self.step == Step::Source && self.source_field == SourceField::Path {
            self.completions.clear();
        }
        changed
    }

    /// The one entry point for keys while the tab shows; `None` when the key is not the tab's
    /// (the app's global keys then apply).
    pub fn key(&mut self, key: KeyInput) -> Option<Vec<CertsEffect>> {
        if key.ctrl || key.alt {
            return None;
        }
        if self.busy {
            return Some(Vec::new());
        }
        let redraw = || Some(vec![CertsEffect::Redraw]);
        match key.key {
            Key::Esc => {
                return match self.step.back() {
                    Some(prev) => {
                        self.step = prev;
                        self.scroll = 0;
                        self.save_result = None;
                        redraw()
                    }
                    None => Some(vec![CertsEffect::Leave]),
                };
            }
            Key::Char(_) | Key::Backspace | Key::Delete if self.takes_text() => {
                return self
                    .edit(&key)
                    .then(|| vec![CertsEffect::Redraw])
                    .or(Some(Vec::new()));
            }
            _ => {}
        }
        match self.step {
            Step::Source => match key.key {
                Key::Enter => Some(self.examine_job()),
                Key::Tab if self.source_field == SourceField::Path => {
                    self.complete();
                    redraw()
                }
                Key::Down | Key::Tab | Key::Up | Key::BackTab => {
                    let mut fields = vec![SourceField::Path, SourceField::Profile];
                    if self.asking_passphrase {
                        fields.push(SourceField::Passphrase);
                    }
                    let i = fields
                        .iter()
                        .position(|f| *f == self.source_field)
                        .unwrap_or(0);
                    let n = fields.len();
                    let forward = matches!(key.key, Key::Down | Key::Tab);
                    self.source_field = fields[if forward {
                        (i + 1) % n
                    } else {
                        (i + n - 1) % n
                    }];
                    redraw()
                }
                _ => None,
            },
            Step::Found | Step::Match => match key.key {
                Key::Down | Key::PageDown => {
                    let by = if key.key == Key::Down { 1 } else { 10 };
                    self.scroll = self.scroll.saturating_add(by).min(200);
                    redraw()
                }
                Key::Up | Key::PageUp => {
                    let by = if key.key == Key::Up { 1 } else { 10 };
                    self.scroll = self.scroll.saturating_sub(by);
                    redraw()
                }
                Key::Enter => {
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
                _ => None,
            },
            Step::Options => match key.key {
                Key::Enter => {
                    self.step = Step::Save;
                    redraw()
                }
                Key::Down | Key::Tab | Key::Up | Key::BackTab => {
                    use OptionField as O;
                    let all = [O::Sni, O::AlpnAws, O::AlpnMqtt, O::MinTls];
                    let i = all
                        .iter()
                        .position(|f| *f == self.option_field)
                        .unwrap_or(0);
                    let forward = matches!(key.key, Key::Down | Key::Tab);
                    self.option_field = all[if forward { (i + 1) % 4 } else { (i + 3) % 4 }];
                    redraw()
                }
                Key::Char(' ') | Key::Left | Key::Right => {
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
                        OptionField::Sni => return None,
                    }
                    redraw()
                }
                _ => None,
            },
            Step::Save => match key.key {
                Key::Enter => Some(self.save_job()),
                Key::Tab | Key::Down | Key::Up | Key::BackTab if !self.profile_exists() => {
                    self.url_focused = !self.url_focused;
                    redraw()
                }
                _ => None,
            },
        }
    }

    fn toggle_alpn(&mut self, proto: &str) {
        if let Some(i) = self.alpn.iter().position(|p| p == proto) {
            self.alpn.remove(i);
        } else {
            self.alpn.push(proto.to_string());
        }
    }

    /// Tab in the path field: complete to the longest common prefix of the entries that match
    /// (the candidates are listed under the field, the small file browser).
    fn complete(&mut self) {
        let (dir_part, base) = match self.path.rfind('/') {
            Some(i) => (self.path[..=i].to_string(), self.path[i + 1..].to_string()),
            None => (String::new(), self.path.clone()),
        };
        let dir = self
            .cwd
            .join(if dir_part.is_empty() { "." } else { &dir_part });
        let mut names: Vec<String> = match std::fs::read_dir(&dir) {
            Ok(rd) => rd
                .filter_map(|e| e.ok())
                .filter_map(|e| {
                    let mut n = e.file_name().to_str()?.to_string();
                    if !n.starts_with(&base) || (n.starts_with('.') && !base.starts_with('.')) {
                        return None;
                    }
                    if e.file_type().is_ok_and(|t| t.is_dir()) {
                        n.push('/');
                    }
                    Some(n)
                })
                .collect(),
            Err(e) => {
                self.source_error = Some(format!(
                    "{} {}: {e}",
                    view::CANNOT_LIST,
                    crate::text::sanitize(&dir.display().to_string())
                ));
                return;
            }
        };
        names.sort();
        if let Some(first) = names.first() {
            let mut common = first.clone();
            for n in &names[1..] {
                while !n.starts_with(&common) {
                    common.pop();
                }
            }
            self.path = format!("{dir_part}{common}");
        }
        self.completions = if names.len() == 1 { Vec::new() } else { names };
    }

    /// Entering the tab: the Profiles tab's selection is the default target.
    pub fn enter(&mut self, selected: Option<&str>, known: Vec<String>) {
        if self.profile.is_empty()
            && let Some(name) = selected
        {
            self.profile = name.to_string();
        }
        self.known = known;
    }

    /// Whether Save attaches to an existing profile (else it creates one with `url`).
    pub fn profile_exists(&self) -> bool {
        self.known.iter().any(|n| n == self.profile.trim())
    }

    pub fn on_event(&mut self, ev: CertsEvent) -> Vec<CertsEffect> {
        self.busy = false;
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
