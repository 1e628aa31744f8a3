//! Reading `profiles.toml` with errors that point at the file, line and column, in four steps:
//! syntax (toml's spans); unknown keys and literal secrets (our schema walk over the spanned
//! document, with "did you mean" suggestions); types (serde, located back to the profile and
//! field by span); validation rules ([`Profile::validate`]).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::error::ProfileError;
use super::model::Profile;

/// The whole file.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileModel {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

pub(crate) const ROOT_KEYS: &[&str] = &["version", "profiles"];
pub(crate) const PROFILE_KEYS: &[&str] = &[
    "url",
    "host",
    "port",
    "transport",
    "ws_path",
    "ws_headers",
    "proxy",
    "proxy_password",
    "dns_server",
    "tls",
    "mqtt_version",
    "client_id",
    "keep_alive",
    "clean_start",
    "username",
    "password",
    "topic",
    "topics",
    "publish",
    "timeout_secs",
    "notes",
];
pub(crate) const TLS_KEYS: &[&str] = &[
    "ca",
    "client_cert",
    "client_key",
    "p12",
    "passphrase",
    "sni",
    "alpn",
    "min_tls_version",
    "insecure",
];
const MATERIAL_KEYS: &[&str] = &["file", "keyring"];
const SOURCE_KEYS: &[&str] = &["keyring", "env"];
const HEADER_REF_KEYS: &[&str] = &["keyring"];

/// Common names people try, mapped to ours.
const ALIASES: &[(&str, &str)] = &[
    ("hostname", "host"),
    ("server", "host"),
    ("broker", "url"),
    ("uri", "url"),
    ("address", "url"),
    ("user", "username"),
    ("pass", "password"),
    ("passwd", "password"),
    ("scheme", "transport"),
    ("protocol", "transport"),
    ("path", "ws_path"),
    ("headers", "ws_headers"),
    ("version", "mqtt_version"),
    ("protocol_version", "mqtt_version"),
    ("keepalive", "keep_alive"),
    ("clean_session", "clean_start"),
    ("clientid", "client_id"),
    ("timeout", "timeout_secs"),
    ("no_publish", "publish"),
    ("dns", "dns_server"),
    ("resolver", "dns_server"),
    ("cafile", "ca"),
    ("ca_file", "ca"),
    ("cert", "client_cert"),
    ("certfile", "client_cert"),
    ("key", "client_key"),
    ("keyfile", "client_key"),
    ("pkcs12", "p12"),
    ("pfx", "p12"),
    ("servername", "sni"),
    ("server_name", "sni"),
    ("tls_version", "min_tls_version"),
    ("min_version", "min_tls_version"),
    ("verify", "insecure"),
    ("insecure_skip_verify", "insecure"),
];

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = before
        .get(line_start..)
        .map(|s| s.chars().count())
        .unwrap_or(0)
        + 1;
    (line, column)
}

/// Edit distance counting a swap of two neighbours as one edit (`hots` → `host`).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

/// The closest known name, if it is close enough to be what the user meant.
pub(crate) fn suggest(key: &str, known: &[&str]) -> Option<String> {
    let norm = key.to_ascii_lowercase().replace('-', "_");
    if known.contains(&norm.as_str()) {
        return Some(norm);
    }
    if let Some((_, to)) = ALIASES.iter().find(|(from, _)| *from == norm)
        && known.contains(to)
    {
        return Some((*to).to_string());
    }
    let (best, dist) = known
        .iter()
        .map(|k| (*k, edit_distance(&norm, k)))
        .min_by_key(|(_, d)| *d)?;
    let max = if norm.chars().count() <= 4 { 1 } else { 2 };
    (dist <= max).then(|| best.to_string())
}

struct Walker<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Walker<'_> {
    fn unknown(
        &self,
        table: &str,
        key: &Spanned<std::borrow::Cow<'_, str>>,
        known: &[&str],
        hint: Option<String>,
    ) -> ProfileError {
        let (line, column) = line_col(self.text, key.span().start);
        ProfileError::UnknownKey {
            path: self.path.to_path_buf(),
            line,
            column,
            table: table.to_string(),
            key: key.get_ref().to_string(),
            suggestion: suggest(key.get_ref(), known).or(hint),
        }
    }

    fn check_keys(
        &self,
        table_name: &str,
        table: &DeTable<'_>,
        known: &[&str],
    ) -> Result<(), ProfileError> {
        for key in table.keys() {
            if !known.contains(&key.get_ref().as_ref()) {
                return Err(self.unknown(table_name, key, known, None));
            }
        }
        Ok(())
    }

    fn root(&self, root: &DeTable<'_>) -> Result<(), ProfileError> {
        for (key, value) in root {
            match key.get_ref().as_ref() {
                "version" => {}
                "profiles" => {
                    if let DeValue::Table(profiles) = value.get_ref() {
                        for (name, profile) in profiles {
                            if let DeValue::Table(t) = profile.get_ref() {
                                self.profile(name.get_ref(), t)?;
                            }
                        }
                    }
                }
                _ => {
                    // A profile table written without the `profiles.` prefix is a common slip.
                    let hint = matches!(value.get_ref(), DeValue::Table(t) if t.keys().any(|k| PROFILE_KEYS.contains(&k.get_ref().as_ref())))
                        .then(|| format!("profiles.{}", key.get_ref()));
                    return Err(self.unknown("top level", key, ROOT_KEYS, hint));
                }
            }
        }
        Ok(())
    }

    fn profile(&self, name: &str, t: &DeTable<'_>) -> Result<(), ProfileError> {
        let table = format!("profiles.{name}");
        for (key, value) in t {
            let k = key.get_ref().as_ref();
            match k {
                "password" | "proxy_password" => self.secret_source(name, k, &table, key, value)?,
                "tls" => {
                    if let DeValue::Table(tls) = value.get_ref() {
                        self.tls(name, tls)?;
                    }
                }
                "ws_headers" => {
                    if let DeValue::Table(headers) = value.get_ref() {
                        for (hname, hval) in headers {
                            if let DeValue::Table(r) = hval.get_ref() {
                                self.check_keys(
                                    &format!("{table}.ws_headers.{}", hname.get_ref()),
                                    r,
                                    HEADER_REF_KEYS,
                                )?;
                            }
                        }
                    }
                }
                _ if PROFILE_KEYS.contains(&k) => {}
                _ => {
                    let hint = TLS_KEYS.contains(&k).then(|| format!("tls.{k}"));
                    return Err(self.unknown(&table, key, PROFILE_KEYS, hint));
                }
            }
        }
        Ok(())
    }

    fn tls(&self, profile: &str, t: &DeTable<'_>) -> Result<(), ProfileError> {
        let table = format!("profiles.{profile}.tls");
        for (key, value) in t {
            let k = key.get_ref().as_ref();
            match k {
                "ca" | "client_cert" | "client_key" | "p12" => {
                    if let DeValue::Table(m) = value.get_ref() {
                        self.check_keys(&format!("{table}.{k}"), m, MATERIAL_KEYS)?;
                    }
                }
                "passphrase" => {
                    self.secret_source(profile, "tls.passphrase", &table, key, value)?
                }
                _ if TLS_KEYS.contains(&k) => {}
                _ => return Err(self.unknown(&table, key, TLS_KEYS, None)),
            }
        }
        Ok(())
    }

    /// `password`/`passphrase`: a literal string is refused before serde could echo it.
    fn secret_source(
        &self,
        profile: &str,
        field: &str,
        table: &str,
        key: &Spanned<std::borrow::Cow<'_, str>>,
        value: &Spanned<DeValue<'_>>,
    ) -> Result<(), ProfileError> {
        match value.get_ref() {
            DeValue::Table(t) => {
                self.check_keys(&format!("{table}.{}", key.get_ref()), t, SOURCE_KEYS)
            }
            DeValue::String(_) | DeValue::Integer(_) | DeValue::Float(_) => {
                let (line, column) = line_col(self.text, key.span().start);
                Err(ProfileError::LiteralSecret {
                    path: self.path.to_path_buf(),
                    line,
                    column,
                    profile: profile.to_string(),
                    field: field.to_string(),
                })
            }
            _ => Ok(()),
        }
    }
}

/// The key path of the deepest key or value whose span contains `offset`. Tables defined
/// by `[headers]` do not span their body, so every child is searched.
fn locate(table: &DeTable<'_>, offset: usize) -> Option<Vec<String>> {
    for (key, value) in table {
        if let DeValue::Table(t) = value.get_ref()
            && let Some(mut sub) = locate(t, offset)
        {
            sub.insert(0, key.get_ref().to_string());
            return Some(sub);
        }
    }
    table.iter().find_map(|(key, value)| {
        (value.span().contains(&offset) || key.span().contains(&offset))
            .then(|| vec![key.get_ref().to_string()])
    })
}

/// Parse a whole profiles file. `path` is only used in messages.
pub(crate) fn parse_file(path: &Path, text: &str) -> Result<FileModel, ProfileError> {
    let root = DeTable::parse(text).map_err(|e| syntax_error(path, text, &e))?;
    let walker = Walker { path, text };
    walker.root(root.get_ref())?;

    let mut model: FileModel = toml::from_str(text).map_err(|e| {
        let offset = e.span().map(|s| s.start);
        let (line, column) = offset.map(|o| line_col(text, o)).unwrap_or((0, 0));
        let key_path = offset
            .and_then(|o| locate(root.get_ref(), o))
            .unwrap_or_default();
        let message = super::error_message(e.message());
        if key_path.len() >= 3 && key_path[0] == "profiles" {
            ProfileError::Value {
                file: Some(path.to_path_buf()),
                line,
                column,
                profile: key_path[1].clone(),
                field: key_path[2..].join("."),
                message,
            }
        } else {
            ProfileError::Parse {
                path: path.to_path_buf(),
                line: line.max(1),
                column: column.max(1),
                message,
            }
        }
    })?;

    if let Some(v) = model.version
        && v != 1
    {
        return Err(ProfileError::UnsupportedVersion {
            path: path.to_path_buf(),
            found: v,
        });
    }
    for (name, profile) in model.profiles.iter_mut() {
        profile.name = name.clone();
        profile.validate().map_err(|e| e.in_file(path))?;
    }
    Ok(model)
}

fn syntax_error(path: &Path, text: &str, e: &toml::de::Error) -> ProfileError {
    let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
    ProfileError::Parse {
        path: path.to_path_buf(),
        line,
        column,
        message: super::error_message(e.message()),
    }
}

/// A profile of the file that cannot be used, kept as written (so a save writes it back
/// unchanged) with the sentence saying why.
#[derive(Debug)]
pub struct BrokenProfile {
    pub name: String,
    /// The profile's table (or value) exactly as read.
    pub raw: toml::Value,
    pub error: ProfileError,
}

/// Parse a whole profiles file, keeping every profile that cannot be used as a
/// [`BrokenProfile`] instead of failing: only errors of the file itself (syntax, version,
/// an unknown top-level key) fail the whole load. Good profiles come out as [`parse_file`]
/// gives them.
pub(crate) fn parse_file_keeping_broken(
    path: &Path,
    text: &str,
) -> Result<(FileModel, Vec<BrokenProfile>), ProfileError> {
    // The common case: nothing is broken, and the strict errors keep their exact positions.
    let strict_error = match parse_file(path, text) {
        Ok(model) => return Ok((model, Vec::new())),
        Err(e) => e,
    };
    let root = DeTable::parse(text).map_err(|e| syntax_error(path, text, &e))?;
    let walker = Walker { path, text };
    for (key, value) in root.get_ref() {
        if !ROOT_KEYS.contains(&key.get_ref().as_ref()) {
            let hint = matches!(value.get_ref(), DeValue::Table(t) if t.keys().any(|k| PROFILE_KEYS.contains(&k.get_ref().as_ref())))
                .then(|| format!("profiles.{}", key.get_ref()));
            return Err(walker.unknown("top level", key, ROOT_KEYS, hint));
        }
    }
    let plain: toml::Table = toml::from_str(text).map_err(|_| strict_error)?;
    match plain.get("version") {
        None => {}
        Some(toml::Value::Integer(1)) => {}
        Some(toml::Value::Integer(v)) => {
            return Err(ProfileError::UnsupportedVersion {
                path: path.to_path_buf(),
                found: *v,
            });
        }
        Some(_) => {
            return Err(ProfileError::Parse {
                path: path.to_path_buf(),
                line: 1,
                column: 1,
                message: "`version` must be the number 1".to_string(),
            });
        }
    }
    let empty = toml::Table::new();
    let raw_profiles = match plain.get("profiles") {
        None => &empty,
        Some(toml::Value::Table(t)) => t,
        Some(_) => {
            return Err(ProfileError::Parse {
                path: path.to_path_buf(),
                line: 1,
                column: 1,
                message: "`profiles` must be a table of `[profiles.NAME]` tables".to_string(),
            });
        }
    };
    let spanned: Option<&DeTable<'_>> =
        root.get_ref()
            .iter()
            .find_map(|(k, v)| match (k.get_ref().as_ref(), v.get_ref()) {
                ("profiles", DeValue::Table(t)) => Some(t),
                _ => None,
            });
    let mut model = FileModel {
        version: Some(1),
        profiles: BTreeMap::new(),
    };
    let mut broken = Vec::new();
    for (name, raw) in raw_profiles {
        let spanned_profile = spanned.and_then(|t| {
            t.iter()
                .find(|(k, _)| k.get_ref().as_ref() == name.as_str())
        });
        match one_profile(&walker, name, raw, spanned_profile) {
            Ok(p) => {
                model.profiles.insert(name.clone(), p);
            }
            Err(error) => broken.push(BrokenProfile {
                name: name.clone(),
                raw: raw.clone(),
                error,
            }),
        }
    }
    Ok((model, broken))
}

type SpannedEntry<'a, 'b> = (
    &'a Spanned<std::borrow::Cow<'b, str>>,
    &'a Spanned<DeValue<'b>>,
);

/// One `[profiles.NAME]` table through the same four steps as the whole file.
fn one_profile(
    walker: &Walker<'_>,
    name: &str,
    raw: &toml::Value,
    spanned: Option<SpannedEntry<'_, '_>>,
) -> Result<Profile, ProfileError> {
    let position = |span_start: usize| line_col(walker.text, span_start);
    let table_start = spanned.map(|(k, _)| k.span().start).unwrap_or(0);
    let Some(table) = raw.as_table() else {
        let (line, column) = position(table_start);
        return Err(ProfileError::Value {
            file: Some(walker.path.to_path_buf()),
            line,
            column,
            profile: name.to_string(),
            field: "(all)".to_string(),
            message: "a profile must be a table (`[profiles.NAME]` with keys under it)".into(),
        });
    };
    if let Some((_, DeValue::Table(t))) = spanned.map(|(k, v)| (k, v.get_ref())) {
        walker.profile(name, t)?;
    }
    let mut profile: Profile = raw.clone().try_into().map_err(|e: toml::de::Error| {
        // Find the key the type error is about by trying each one alone.
        let culprit = table.iter().find_map(|(key, value)| {
            let alone = |k: &str, v: &toml::Value| {
                let mut t = toml::Table::new();
                t.insert(k.to_string(), v.clone());
                toml::Value::Table(t).try_into::<Profile>().err()
            };
            if let (Some(tls), "tls") = (value.as_table(), key.as_str()) {
                tls.iter().find_map(|(tk, tv)| {
                    alone(
                        "tls",
                        &toml::Value::Table([(tk.clone(), tv.clone())].into_iter().collect()),
                    )
                    .map(|e| (vec!["tls".to_string(), tk.clone()], e))
                })
            } else {
                alone(key, value).map(|e| (vec![key.clone()], e))
            }
        });
        let (field, message, offset) = match culprit {
            Some((path, e)) => {
                let offset = spanned
                    .and_then(|(_, v)| match v.get_ref() {
                        DeValue::Table(t) => key_span(t, &path),
                        _ => None,
                    })
                    .unwrap_or(table_start);
                (path.join("."), super::error_message(e.message()), offset)
            }
            None => (
                "(all)".to_string(),
                super::error_message(e.message()),
                table_start,
            ),
        };
        let (line, column) = position(offset);
        ProfileError::Value {
            file: Some(walker.path.to_path_buf()),
            line,
            column,
            profile: name.to_string(),
            field,
            message,
        }
    })?;
    profile.name = name.to_string();
    profile.validate().map_err(|e| e.in_file(walker.path))?;
    Ok(profile)
}

/// Where the key at `path` (e.g. `["tls", "ca"]`) starts in the file.
fn key_span(table: &DeTable<'_>, path: &[String]) -> Option<usize> {
    let (first, rest) = path.split_first()?;
    let (k, v) = table.iter().find(|(k, _)| k.get_ref().as_ref() == first)?;
    if rest.is_empty() {
        return Some(k.span().start);
    }
    match v.get_ref() {
        DeValue::Table(t) => key_span(t, rest).or(Some(k.span().start)),
        _ => Some(k.span().start),
    }
}
