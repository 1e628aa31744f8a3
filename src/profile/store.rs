//! `profiles.toml` on disk: load, edit in memory, save without ever losing the user's file.
//!
//! Saving writes a temporary file in the same directory, fsyncs it, renames it over the
//! target and fsyncs the directory, so a crash leaves either the old or the new file. The
//! previous version is kept as `profiles.toml.bak`. If the file changed on disk since it was
//! loaded (SHA-256 of the bytes read vs. now) or no longer parses, nothing is written.
//! Writers are serialised by an advisory lock on `profiles.toml.lock` beside the file: a
//! command that changes profiles holds it from load to save ([`ProfileStore::load_for_update`]).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::error::ProfileError;
use super::model::{Profile, valid_profile_name};
use super::parse::{
    BrokenProfile, FileModel, PROFILE_KEYS, TLS_KEYS, parse_file, parse_file_keeping_broken,
};

/// Environment variable naming the profiles file (overrides the default location).
pub const CONFIG_ENV: &str = "MQTT_DOCTOR_CONFIG";

const FILE_HEADER: &str = "\
# mqtt-doctor broker profiles (written by mqtt-doctor; comments are not kept).
# Secrets are never stored here: `{ keyring = true }` entries live in the OS keyring,
# `{ env = \"VAR\" }` entries are read from the environment.

";

/// Saved profiles, loaded from one file.
#[derive(Debug)]
pub struct ProfileStore {
    path: PathBuf,
    profiles: BTreeMap<String, Profile>,
    /// Profiles that cannot be used (loaded with [`ProfileStore::load_keeping_broken`]):
    /// listed with their error and written back by a save exactly as they were read.
    broken: BTreeMap<String, BrokenProfile>,
    /// SHA-256 of the bytes loaded (or last saved); `None` when the file did not exist.
    disk_hash: Option<[u8; 32]>,
    /// Held from [`ProfileStore::load_for_update`] until the store is dropped.
    lock: Option<StoreLock>,
}

/// No profiles file written by people or this tool comes near this size.
pub const MAX_PROFILES_FILE: u64 = 4 * 1024 * 1024;

/// How long a writer waits for another one to finish before it gives up loudly.
const LOCK_WAIT: Duration = Duration::from_secs(20);

/// An exclusive advisory lock on the lock file beside the profiles file; released on drop
/// (also when the process dies, so a killed writer never leaves it held).
#[derive(Debug)]
struct StoreLock {
    _file: fs::File,
}

impl StoreLock {
    fn acquire(target: &Path) -> Result<StoreLock, ProfileError> {
        let mut lock_path = target.as_os_str().to_owned();
        lock_path.push(".lock");
        let lock_path = PathBuf::from(lock_path);
        if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(io_err("create the directory", dir))?;
        }
        let mut opts = fs::OpenOptions::new();
        opts.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let file = opts
            .open(&lock_path)
            .map_err(io_err("open the lock file", &lock_path))?;
        let deadline = Instant::now() + LOCK_WAIT;
        loop {
            match fs4::FileExt::try_lock(&file) {
                Ok(()) => return Ok(StoreLock { _file: file }),
                Err(fs4::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(fs4::TryLockError::WouldBlock) => {
                    return Err(ProfileError::Locked {
                        path: target.to_path_buf(),
                        lock: lock_path,
                    });
                }
                Err(fs4::TryLockError::Error(e)) => {
                    return Err(io_err("lock", &lock_path)(e));
                }
            }
        }
    }
}

/// The file a save replaces: the path itself, or what a symlink there points to (dotfile
/// managers link profiles.toml into their repository; the link is kept).
fn save_target(path: &Path) -> Result<PathBuf, ProfileError> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            fs::canonicalize(path).map_err(io_err("resolve the symlink", path))
        }
        _ => Ok(path.to_path_buf()),
    }
}

/// Only a regular file (or nothing) may be replaced by a save: renaming over a device node
/// such as /dev/null would replace it for the whole system.
fn check_replaceable(target: &Path) -> Result<(), ProfileError> {
    match fs::symlink_metadata(target) {
        Ok(m) if !m.file_type().is_file() => Err(ProfileError::NotRegularFile {
            path: target.to_path_buf(),
            kind: if m.file_type().is_dir() {
                "a directory"
            } else {
                "a device, FIFO or socket"
            },
        }),
        _ => Ok(()),
    }
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> ProfileError {
    let path = path.to_path_buf();
    move |source| ProfileError::Io {
        action,
        path,
        source,
    }
}

/// Read a file through the one checked reader (regular files only, size capped);
/// `Ok(None)` when it does not exist.
fn read_if_exists(path: &Path) -> Result<Option<Vec<u8>>, ProfileError> {
    match crate::certs::read_checked(path, MAX_PROFILES_FILE) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err("read", path)(e)),
    }
}

pub(crate) fn parse_bytes(path: &Path, bytes: &[u8]) -> Result<FileModel, ProfileError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let (line, column) = super::parse::line_col(
            &String::from_utf8_lossy(&bytes[..e.valid_up_to()]),
            e.valid_up_to(),
        );
        ProfileError::Parse {
            path: path.to_path_buf(),
            line,
            column,
            message: "the file is not valid UTF-8 text".to_string(),
        }
    })?;
    parse_file(path, text)
}

impl ProfileStore {
    /// `$MQTT_DOCTOR_CONFIG` if set, else `<config dir>/mqtt-doctor/profiles.toml`
    /// (`$XDG_CONFIG_HOME/mqtt-doctor/profiles.toml` on Linux). The CLI's `--config` wins
    /// over both by calling [`ProfileStore::load`] with its path directly.
    pub fn default_path() -> Result<PathBuf, ProfileError> {
        path_from(std::env::var_os(CONFIG_ENV))
    }

    /// Load profiles; a missing file is an empty store (created on first save).
    pub fn load(path: impl Into<PathBuf>) -> Result<ProfileStore, ProfileError> {
        let path = path.into();
        let (profiles, disk_hash) = match read_if_exists(&path)? {
            None => (BTreeMap::new(), None),
            Some(bytes) => (parse_bytes(&path, &bytes)?.profiles, Some(sha256(&bytes))),
        };
        Ok(ProfileStore {
            path,
            profiles,
            broken: BTreeMap::new(),
            disk_hash,
            lock: None,
        })
    }

    /// Like [`ProfileStore::load`], but a profile that cannot be used (bad URL, unknown key,
    /// wrong type, literal secret) does not fail the load: it is kept in
    /// [`ProfileStore::broken`] with its error, and a save writes it back as it was. Only
    /// errors of the file itself (unreadable, syntax, version) fail.
    pub fn load_keeping_broken(path: impl Into<PathBuf>) -> Result<ProfileStore, ProfileError> {
        let path = path.into();
        let (profiles, broken, disk_hash) = match read_if_exists(&path)? {
            None => (BTreeMap::new(), Vec::new(), None),
            Some(bytes) => {
                let text = std::str::from_utf8(&bytes).map_err(|_| ProfileError::Parse {
                    path: path.clone(),
                    line: 1,
                    column: 1,
                    message: "the file is not valid UTF-8 text".to_string(),
                })?;
                let (model, broken) = parse_file_keeping_broken(&path, text)?;
                (model.profiles, broken, Some(sha256(&bytes)))
            }
        };
        Ok(ProfileStore {
            path,
            profiles,
            broken: broken.into_iter().map(|b| (b.name.clone(), b)).collect(),
            disk_hash,
            lock: None,
        })
    }

    /// [`ProfileStore::load_keeping_broken`] holding the writers' lock, as
    /// [`ProfileStore::load_for_update`].
    pub fn load_for_update_keeping_broken(
        path: impl Into<PathBuf>,
    ) -> Result<ProfileStore, ProfileError> {
        let path = path.into();
        let lock = StoreLock::acquire(&save_target(&path)?)?;
        let mut store = ProfileStore::load_keeping_broken(path)?;
        store.lock = Some(lock);
        Ok(store)
    }

    /// SHA-256 of the file as it was read or last saved (`None`: there was no file), to tell
    /// whether another program changed it since.
    pub fn fingerprint(&self) -> Option<[u8; 32]> {
        self.disk_hash
    }

    /// The profiles that cannot be used, sorted by name.
    pub fn broken(&self) -> Vec<&BrokenProfile> {
        self.broken.values().collect()
    }

    /// Every profile name, usable or not, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .profiles
            .keys()
            .chain(self.broken.keys())
            .map(String::as_str)
            .collect();
        names.sort_unstable();
        names
    }

    /// Load profiles to change them: takes the writers' lock first and keeps it until the
    /// store is dropped, so no other mqtt-doctor can save between this load and our save.
    /// Waits for another writer up to 20 s, then fails with [`ProfileError::Locked`].
    pub fn load_for_update(path: impl Into<PathBuf>) -> Result<ProfileStore, ProfileError> {
        let path = path.into();
        let lock = StoreLock::acquire(&save_target(&path)?)?;
        let mut store = ProfileStore::load(path)?;
        store.lock = Some(lock);
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// When the profiles file is a symlink into another folder, the file a save really
    /// replaces. Saves go through the link (dotfile managers keep profiles.toml in their
    /// repository), and the fronts say so: a save never follows a link silently.
    pub fn symlink_target(&self) -> Option<PathBuf> {
        let linked = fs::symlink_metadata(&self.path)
            .ok()?
            .file_type()
            .is_symlink();
        let target = save_target(&self.path).ok()?;
        let folder = self
            .path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let here = fs::canonicalize(folder).ok()?;
        (linked && target.parent() != Some(here.as_path())).then_some(target)
    }

    /// Profiles sorted by name.
    pub fn list(&self) -> Vec<&Profile> {
        self.profiles.values().collect()
    }

    pub fn get(&self, name: &str) -> Option<&Profile> {
        self.profiles.get(name)
    }

    /// Add or replace a profile (validated first); returns the one it replaced.
    pub fn upsert(&mut self, profile: Profile) -> Result<Option<Profile>, ProfileError> {
        profile.validate()?;
        // A fixed profile replaces its broken version.
        self.broken.remove(&profile.name);
        Ok(self.profiles.insert(profile.name.clone(), profile))
    }

    /// Remove a profile that cannot be used (it has no [`Profile`] to return).
    pub fn remove_broken(&mut self, name: &str) -> Result<BrokenProfile, ProfileError> {
        self.broken
            .remove(name)
            .ok_or_else(|| ProfileError::NotFound {
                name: name.to_string(),
            })
    }

    pub fn remove(&mut self, name: &str) -> Result<Profile, ProfileError> {
        self.profiles
            .remove(name)
            .ok_or_else(|| ProfileError::NotFound {
                name: name.to_string(),
            })
    }

    /// Rename a profile. Its keyring secrets are keyed by name: move them with
    /// [`crate::secrets::SecretStore::move_profile`].
    pub fn rename(&mut self, old: &str, new: &str) -> Result<(), ProfileError> {
        if !self.profiles.contains_key(old) {
            return Err(ProfileError::NotFound {
                name: old.to_string(),
            });
        }
        if old == new {
            return Ok(());
        }
        if self.profiles.contains_key(new) || self.broken.contains_key(new) {
            return Err(ProfileError::AlreadyExists {
                name: new.to_string(),
            });
        }
        if !valid_profile_name(new) {
            return Err(ProfileError::Invalid {
                file: None,
                profile: new.to_string(),
                field: "name".to_string(),
                message: "use letters, digits, `.`, `_` or `-` (at most 64 characters)".to_string(),
            });
        }
        if let Some(mut p) = self.profiles.remove(old) {
            p.name = new.to_string();
            self.profiles.insert(new.to_string(), p);
        }
        Ok(())
    }

    /// The file content `save` would write: one `[profiles.NAME]` table per profile (and a
    /// `[profiles.NAME.tls]` table), references written inline as `{ keyring = true }`.
    pub fn to_toml(&self) -> Result<String, ProfileError> {
        let mut out = format!("{FILE_HEADER}version = 1\n");
        // Broken profiles that are not even tables are dotted keys: they must come before
        // the first table header.
        for (name, b) in &self.broken {
            if !b.raw.is_table() {
                out.push_str(&format!(
                    "profiles.{} = {}\n",
                    toml_key(name),
                    inline(&b.raw)
                ));
            }
        }
        for (name, b) in &self.broken {
            if let toml::Value::Table(table) = &b.raw {
                write_table(&mut out, &format!("profiles.{}", toml_key(name)), table);
            }
        }
        for (name, profile) in &self.profiles {
            let table = toml::Table::try_from(profile).map_err(|e| ProfileError::Invalid {
                file: None,
                profile: name.clone(),
                field: "(all)".to_string(),
                message: format!(
                    "could not be written as TOML ({})",
                    super::error_message(&e.to_string())
                ),
            })?;
            out.push_str(&format!("\n[profiles.{}]\n", toml_key(name)));
            // Field order as documented (url first), not alphabetical.
            for key in PROFILE_KEYS.iter().filter(|k| **k != "tls") {
                if let Some(value) = table.get(*key) {
                    out.push_str(&format!("{key} = {}\n", inline(value)));
                }
            }
            if let Some(toml::Value::Table(tls)) = table.get("tls") {
                out.push_str(&format!("\n[profiles.{}.tls]\n", toml_key(name)));
                for key in TLS_KEYS {
                    if let Some(value) = tls.get(*key) {
                        out.push_str(&format!("{key} = {}\n", inline(value)));
                    }
                }
            }
        }
        Ok(out)
    }

    /// Write the profiles back, atomically, keeping the previous version as `.bak`. Holds the
    /// writers' lock while it compares and writes (taking it here if the store was loaded
    /// without it), so a save never silently replaces another process's.
    pub fn save(&mut self) -> Result<(), ProfileError> {
        let text = self.to_toml()?;
        let target = save_target(&self.path)?;
        check_replaceable(&target)?;
        let _lock_for_this_save = match self.lock {
            Some(_) => None,
            None => Some(StoreLock::acquire(&target)?),
        };
        let current = read_if_exists(&target)?;
        let current_hash = current.as_deref().map(sha256);
        if current_hash != self.disk_hash {
            if let Some(bytes) = &current
                && parse_bytes(&target, bytes).is_err()
            {
                return Err(ProfileError::Unparseable { path: target });
            }
            return Err(ProfileError::ChangedOnDisk { path: target });
        }
        if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(io_err("create the directory", dir))?;
        }
        remove_stale_temp_files(&target);
        if let Some(old) = &current {
            let mut bak = target.clone().into_os_string();
            bak.push(".bak");
            atomic_write(Path::new(&bak), old)?;
        }
        atomic_write(&target, text.as_bytes())?;
        self.disk_hash = Some(sha256(text.as_bytes()));
        Ok(())
    }
}

/// Temp files of writers killed mid-save are removed. Called with the writers' lock held:
/// only the holder writes temp files, so every one found then is a leftover.
fn remove_stale_temp_files(target: &Path) {
    let (Some(dir), Some(name)) = (target.parent(), target.file_name()) else {
        return;
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let prefix = format!(".{}.", name.to_string_lossy());
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let n = file_name.to_string_lossy();
        let regular = entry.file_type().is_ok_and(|t| t.is_file());
        if regular && n.starts_with(&prefix) && n.ends_with(".tmp") {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// A table as read (a broken profile): its plain values inline, its sub-tables as
/// `[name.key]` sections, so the file keeps what the user wrote.
fn write_table(out: &mut String, header: &str, table: &toml::Table) {
    out.push_str(&format!("\n[{header}]\n"));
    for (key, value) in table.iter().filter(|(_, v)| !v.is_table()) {
        out.push_str(&format!("{} = {}\n", toml_key(key), inline(value)));
    }
    for (key, value) in table {
        if let toml::Value::Table(sub) = value {
            write_table(out, &format!("{header}.{}", toml_key(key)), sub);
        }
    }
}

/// A key as written in TOML: bare when possible, quoted otherwise.
fn toml_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        key.to_string()
    } else {
        toml::Value::String(key.to_string()).to_string()
    }
}

/// A value written on one line (tables as inline tables).
fn inline(value: &toml::Value) -> String {
    match value {
        toml::Value::Table(t) => {
            let items: Vec<String> = t
                .iter()
                .map(|(k, v)| format!("{} = {}", toml_key(k), inline(v)))
                .collect();
            if items.is_empty() {
                "{}".to_string()
            } else {
                format!("{{ {} }}", items.join(", "))
            }
        }
        toml::Value::Array(a) => {
            let items: Vec<String> = a.iter().map(inline).collect();
            format!("[{}]", items.join(", "))
        }
        other => other.to_string(),
    }
}

/// The default path given the value of `MQTT_DOCTOR_CONFIG`.
pub(crate) fn path_from(env_override: Option<OsString>) -> Result<PathBuf, ProfileError> {
    if let Some(p) = env_override.filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let dirs =
        directories::ProjectDirs::from("", "", "mqtt-doctor").ok_or(ProfileError::NoConfigDir)?;
    Ok(dirs.config_dir().join("profiles.toml"))
}

/// Replace `path` with `bytes` so that a crash at any point leaves the old or the new file:
/// temp file in the same directory → write → fsync → rename → fsync the directory.
pub(crate) fn atomic_write(path: &Path, bytes: &[u8]) -> Result<(), ProfileError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "profiles.toml".into());
    let nonce: u64 = rand::random();
    let tmp = dir.join(format!(".{name}.{}.{nonce:016x}.tmp", std::process::id()));

    let result = (|| -> io::Result<()> {
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp)?;
        // Keep the mode the user gave the existing regular file, but never group or world
        // write access (a file with such a mode gets 0600 plus its read bits).
        #[cfg(unix)]
        if let Ok(meta) = fs::symlink_metadata(path)
            && meta.file_type().is_file()
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o744 | 0o600;
            f.set_permissions(fs::Permissions::from_mode(mode))?;
        }
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        Ok(())
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(io_err("write", path)(e));
    }
    #[cfg(unix)]
    {
        // Make the rename itself durable.
        if let Ok(d) = fs::File::open(&dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}
