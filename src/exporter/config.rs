//! The exporter's own settings: a small TOML file (listen address, probe limit, ad-hoc targets,
//! default deadline, profiles file), unknown keys refused, every error naming file and line.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The settings a running exporter uses (file values over defaults; the command line wins).
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub listen: SocketAddr,
    /// Probes running at once; one more is answered 503 at once.
    pub max_concurrent_probes: usize,
    /// Whether `/probe?target=URL` may make the exporter connect to an address the scraper names.
    pub allow_targets: bool,
    /// The whole-probe deadline when the scraper sends no `X-Prometheus-Scrape-Timeout-Seconds`.
    pub default_timeout: Duration,
    /// The profiles file; `None`: `--config`/`MQTT_DOCTOR_CONFIG`, else the user's config dir.
    pub profiles: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 9742)),
            max_concurrent_probes: 64,
            allow_targets: false,
            default_timeout: Duration::from_secs(10),
            profiles: None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileModel {
    listen: Option<SocketAddr>,
    max_concurrent_probes: Option<usize>,
    allow_targets: Option<bool>,
    default_timeout_secs: Option<f64>,
    profiles: Option<PathBuf>,
}

/// Why the exporter configuration cannot be used; one sentence naming the file (and line).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("Could not read {}: {reason}.", path.display())]
    Io { path: PathBuf, reason: String },
    #[error("{}:{line}:{column}: {message}.", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
}

impl Config {
    /// Reads the file at `path`; keys it does not set keep their defaults.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Io {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        Config::parse(path, &text)
    }

    /// Parses `text` as if read from `path` (the path is only used in messages).
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let at = |offset: usize, message: String| {
            let (line, column) = line_column(text, offset);
            ConfigError::Parse {
                path: path.to_path_buf(),
                line,
                column,
                message,
            }
        };
        let file: FileModel = toml::from_str(text).map_err(|e| {
            let offset = e.span().map(|s| s.start).unwrap_or(0);
            at(offset, e.message().trim_end_matches('.').replace('\n', " "))
        })?;
        // Validation errors point at the key's line: toml has no spans for plain values here.
        let key_at = |key: &str| {
            text.lines()
                .scan(0, |pos, l| {
                    let start = *pos;
                    *pos += l.len() + 1;
                    Some((start, l))
                })
                .find(|(_, l)| l.trim_start().starts_with(key))
                .map(|(start, _)| start)
                .unwrap_or(0)
        };
        let mut config = Config::default();
        if let Some(listen) = file.listen {
            config.listen = listen;
        }
        if let Some(n) = file.max_concurrent_probes {
            if !(1..=10_000).contains(&n) {
                return Err(at(
                    key_at("max_concurrent_probes"),
                    format!("max_concurrent_probes is {n}; use 1 to 10000"),
                ));
            }
            config.max_concurrent_probes = n;
        }
        if let Some(allow) = file.allow_targets {
            config.allow_targets = allow;
        }
        if let Some(secs) = file.default_timeout_secs {
            if !(secs > 0.0 && secs <= 300.0) {
                return Err(at(
                    key_at("default_timeout_secs"),
                    format!("default_timeout_secs is {secs}; use more than 0 and at most 300"),
                ));
            }
            config.default_timeout = Duration::from_secs_f64(secs);
        }
        config.profiles = file.profiles.map(|p| match path.parent() {
            // A relative profiles path is relative to the exporter file, not the working dir.
            Some(dir) if p.is_relative() => dir.join(p),
            _ => p,
        });
        Ok(config)
    }
}

/// 1-based line and column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("/etc/mqtt-doctor/exporter.toml"), text)
    }

    #[test]
    fn an_empty_file_keeps_every_default() {
        let c = parse("").unwrap();
        assert_eq!(c.listen, "127.0.0.1:9742".parse().unwrap());
        assert_eq!(c.max_concurrent_probes, 64);
        assert!(!c.allow_targets);
        assert_eq!(c.default_timeout, Duration::from_secs(10));
        assert_eq!(c.profiles, None);
    }

    #[test]
    fn every_key_is_read() {
        let c = parse(
            "listen = \"0.0.0.0:9000\"\nmax_concurrent_probes = 8\nallow_targets = true\ndefault_timeout_secs = 2.5\nprofiles = \"fleet.toml\"\n",
        )
        .unwrap();
        assert_eq!(c.listen, "0.0.0.0:9000".parse().unwrap());
        assert_eq!(c.max_concurrent_probes, 8);
        assert!(c.allow_targets);
        assert_eq!(c.default_timeout, Duration::from_millis(2500));
        assert_eq!(
            c.profiles,
            Some(PathBuf::from("/etc/mqtt-doctor/fleet.toml"))
        );
    }

    #[test]
    fn an_unknown_key_names_file_line_and_key() {
        let e = parse("listen = \"127.0.0.1:9742\"\n\nallow_target = true\n").unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with("/etc/mqtt-doctor/exporter.toml:3:1: unknown field `allow_target`"),
            "{text}"
        );
    }

    #[test]
    fn a_bad_value_names_its_line() {
        let e = parse("allow_targets = false\nmax_concurrent_probes = 0\n").unwrap_err();
        assert_eq!(
            e,
            ConfigError::Parse {
                path: "/etc/mqtt-doctor/exporter.toml".into(),
                line: 2,
                column: 1,
                message: "max_concurrent_probes is 0; use 1 to 10000".into(),
            }
        );
        let e = parse("listen = \"nowhere\"\n").unwrap_err().to_string();
        assert!(
            e.starts_with("/etc/mqtt-doctor/exporter.toml:1:10: "),
            "{e}"
        );
    }
}
