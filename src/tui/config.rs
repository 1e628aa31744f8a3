//! The app's own settings: `app.toml` beside profiles.toml (theme, mouse, ascii and the `[keys]`
//! table of overrides). Read once at start-up; a bad file is one sentence naming it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub const FILE_NAME: &str = "app.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppConfig {
    /// "dark", "light" or "high-contrast".
    pub theme: Option<String>,
    /// Mouse capture at start (default on); `m` toggles it.
    pub mouse: Option<bool>,
    /// ASCII glyphs instead of braille, box and tree characters.
    pub ascii: Option<bool>,
    /// action id → key spec or list of specs.
    #[serde(default)]
    pub keys: BTreeMap<String, KeySpecs>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum KeySpecs {
    One(String),
    Many(Vec<String>),
}

impl KeySpecs {
    pub fn specs(&self) -> Vec<String> {
        match self {
            KeySpecs::One(s) => vec![s.clone()],
            KeySpecs::Many(v) => v.clone(),
        }
    }
}

impl AppConfig {
    pub fn key_overrides(&self) -> BTreeMap<String, Vec<String>> {
        self.keys
            .iter()
            .map(|(k, v)| (k.clone(), v.specs()))
            .collect()
    }
}

/// Where app.toml lives for a given profiles file.
pub fn path_beside(profiles: &Path) -> PathBuf {
    profiles.with_file_name(FILE_NAME)
}

/// Reads `path`; a missing file is the defaults.
pub fn load(path: &Path) -> Result<AppConfig, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(AppConfig::default()),
        Err(e) => return Err(format!("{}: cannot read ({e})", path.display())),
    };
    parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

pub fn parse(text: &str) -> Result<AppConfig, String> {
    toml::from_str(text).map_err(|e| e.message().to_string())
}
