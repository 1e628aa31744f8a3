//! Writing key material a profile keeps in the keyring back out to a file: which entries can
//! be exported ([`ExportKind`]) and the owner-only write ([`write_private`]).

use std::io::Write;
use std::path::Path;

use super::store::Kind;

/// What can be exported: the entries a profile can keep in the keyring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExportKind {
    /// The client private key (PEM), `tls.client_key = { keyring = true }`.
    Key,
    /// The client certificate chain (PEM), `tls.client_cert = { keyring = true }`.
    Cert,
    /// The PKCS#12 archive (binary, as imported), `tls.p12 = { keyring = true }`.
    P12,
    /// The passphrase of the key or archive, `tls.passphrase = { keyring = true }`.
    Passphrase,
}

impl ExportKind {
    pub const ALL: [ExportKind; 4] = [
        ExportKind::Key,
        ExportKind::Cert,
        ExportKind::P12,
        ExportKind::Passphrase,
    ];

    /// The keyring entry that holds it.
    pub fn kind(self) -> Kind {
        match self {
            ExportKind::Key | ExportKind::P12 => Kind::PrivateKey,
            ExportKind::Cert => Kind::Certificate,
            ExportKind::Passphrase => Kind::Passphrase,
        }
    }

    /// The profile field that says it is in the keyring, e.g. `tls.client_key`.
    pub fn field(self) -> &'static str {
        match self {
            ExportKind::Key => "tls.client_key",
            ExportKind::Cert => "tls.client_cert",
            ExportKind::P12 => "tls.p12",
            ExportKind::Passphrase => "tls.passphrase",
        }
    }

    /// Words for messages: "private key", "certificate", "PKCS#12 archive", "passphrase".
    pub fn label(self) -> &'static str {
        match self {
            ExportKind::Key => "private key",
            ExportKind::Cert => "certificate",
            ExportKind::P12 => "PKCS#12 archive",
            ExportKind::Passphrase => "passphrase",
        }
    }

    /// A file name to offer for profile `name`: `NAME-key.pem`, `NAME-cert.pem`, `NAME.p12`,
    /// `NAME-passphrase.txt`.
    pub fn default_file(self, name: &str) -> String {
        match self {
            ExportKind::Key => format!("{name}-key.pem"),
            ExportKind::Cert => format!("{name}-cert.pem"),
            ExportKind::P12 => format!("{name}.p12"),
            ExportKind::Passphrase => format!("{name}-passphrase.txt"),
        }
    }
}

/// Why [`write_private`] did not write.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The file exists and `overwrite` was not given: ask first.
    #[error("the file exists")]
    Exists,
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Writes `bytes` so that only the owner can read them (mode 0600, also when the file existed:
/// its mode is narrowed before the secret is written). Over an existing file only when
/// `overwrite`; otherwise [`WriteError::Exists`], and the file is left as it was.
pub fn write_private(path: &Path, bytes: &[u8], overwrite: bool) -> Result<(), WriteError> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true);
    if overwrite {
        opts.create(true).truncate(true);
    } else {
        opts.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => WriteError::Exists,
        _ => WriteError::Io(e),
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // An existing file keeps its mode on open: narrow it before writing the secret.
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_new_file_is_written_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        write_private(&path, b"secret", false).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"secret");
        #[cfg(unix)]
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn an_existing_file_is_exists_unless_overwrite_and_then_narrowed_to_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        std::fs::write(&path, b"old").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        assert!(matches!(
            write_private(&path, b"new", false),
            Err(WriteError::Exists)
        ));
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        write_private(&path, b"new", true).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        #[cfg(unix)]
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn a_missing_folder_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_private(&dir.path().join("no/such/k.pem"), b"x", false).unwrap_err();
        assert!(matches!(err, WriteError::Io(ref e) if e.kind() == std::io::ErrorKind::NotFound));
    }
}
