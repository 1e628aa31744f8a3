//! Profile errors: each names the file (with line and column when known), the profile and
//! the field, in one sentence. Secret values are never echoed.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("Could not {action} {}: {source}.", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "No configuration directory is known for this user; pass --config PATH or set MQTT_DOCTOR_CONFIG."
    )]
    NoConfigDir,

    #[error("{}:{line}:{column}: {message}.", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },

    #[error(
        "{}:{line}:{column}: unknown key `{key}` in [{table}]{}",
        path.display(),
        did_you_mean(suggestion)
    )]
    UnknownKey {
        path: PathBuf,
        line: usize,
        column: usize,
        table: String,
        key: String,
        suggestion: Option<String>,
    },

    #[error(
        "{}:{line}:{column}: profile `{profile}` has a literal `{field}` in the file; secrets do not belong there: run `mqtt-doctor profile add {profile} --password-prompt` to keep it in the OS keyring, or write `{field} = {{ env = \"VAR\" }}` to read it from an environment variable.",
        path.display()
    )]
    LiteralSecret {
        path: PathBuf,
        line: usize,
        column: usize,
        profile: String,
        field: String,
    },

    #[error("{}profile `{profile}`, field `{field}`: {message}.", location(file, *line, *column))]
    Value {
        file: Option<PathBuf>,
        line: usize,
        column: usize,
        profile: String,
        field: String,
        message: String,
    },

    #[error(
        "{}profile `{profile}`, field `{field}`: {message}.",
        location(file, 0, 0)
    )]
    Invalid {
        file: Option<PathBuf>,
        profile: String,
        field: String,
        message: String,
    },

    #[error("{}: `version = {found}` is not supported by this mqtt-doctor (it reads version 1); upgrade mqtt-doctor.", path.display())]
    UnsupportedVersion { path: PathBuf, found: i64 },

    #[error("{} changed on disk since it was loaded (another mqtt-doctor or an editor); nothing was written: run the command again.", path.display())]
    ChangedOnDisk { path: PathBuf },

    #[error("{} cannot be parsed, so it was not overwritten; fix or move it first (the previous version may be in {}.bak).", path.display(), path.display())]
    Unparseable { path: PathBuf },

    #[error("{} is locked by another mqtt-doctor saving profiles (lock file {}); nothing was written: run the command again when it has finished.", path.display(), lock.display())]
    Locked { path: PathBuf, lock: PathBuf },

    #[error("{} is not a regular file ({kind}); profiles are only saved to a regular file: pass --config with a file path.", path.display())]
    NotRegularFile { path: PathBuf, kind: &'static str },

    #[error("{} is larger than {limit} bytes, more than any profiles file reaches; it was not read.", path.display())]
    TooLarge { path: PathBuf, limit: u64 },

    #[error("There is no profile named `{name}`.")]
    NotFound { name: String },

    #[error("A profile named `{name}` already exists.")]
    AlreadyExists { name: String },
}

fn did_you_mean(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!("; did you mean `{s}`?"),
        None => ".".to_string(),
    }
}

fn location(file: &Option<PathBuf>, line: usize, column: usize) -> String {
    match file {
        Some(p) if line > 0 => format!("{}:{line}:{column}: ", p.display()),
        Some(p) => format!("{}: ", p.display()),
        None => String::new(),
    }
}

impl ProfileError {
    /// Attach the file name to validation errors raised while loading.
    pub(crate) fn in_file(self, path: &std::path::Path) -> ProfileError {
        match self {
            ProfileError::Invalid {
                file: None,
                profile,
                field,
                message,
            } => ProfileError::Invalid {
                file: Some(path.to_path_buf()),
                profile,
                field,
                message,
            },
            other => other,
        }
    }
}
