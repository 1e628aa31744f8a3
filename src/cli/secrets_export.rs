//! `mqtt-doctor secrets export PROFILE KIND -o FILE`: writes key material a profile keeps in
//! the keyring back out to a file (mode 0600), e.g. before a reboot empties a keyutils keyring.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::InputError;
use crate::profile::{KeyringOnDemand, Material, SecretSource};
use crate::secrets::Kind;
use crate::text::sanitize;

/// What to export: the entries a profile can keep in the keyring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
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

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The saved profile.
    pub profile: String,
    /// Which entry.
    #[arg(value_enum)]
    pub kind: ExportKind,
    /// The file to write (created with mode 0600).
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
    /// Overwrite FILE without asking.
    #[arg(long)]
    pub force: bool,
}

/// `secrets export`: 0 when written.
pub fn export(args: &ExportArgs, config: Option<&Path>) -> Result<i32, InputError> {
    let store = super::profiles::load(config)?;
    let name = &args.profile;
    let p = store.get(name).ok_or_else(|| {
        InputError(format!(
            "there is no profile {:?} (see `mqtt-doctor profile list`)",
            sanitize(name)
        ))
    })?;
    let (kind, field, stored) = match args.kind {
        ExportKind::Key => (
            Kind::PrivateKey,
            "tls.client_key",
            p.tls.client_key == Some(Material::Keyring),
        ),
        ExportKind::Cert => (
            Kind::Certificate,
            "tls.client_cert",
            p.tls.client_cert == Some(Material::Keyring),
        ),
        ExportKind::P12 => (
            Kind::PrivateKey,
            "tls.p12",
            p.tls.p12 == Some(Material::Keyring),
        ),
        ExportKind::Passphrase => (
            Kind::Passphrase,
            "tls.passphrase",
            p.tls.passphrase == Some(SecretSource::Keyring),
        ),
    };
    if !stored {
        return Err(InputError(format!(
            "profile {:?} does not keep {field} in the keyring, so there is nothing to export",
            sanitize(name)
        )));
    }
    let ring = KeyringOnDemand::new();
    let value = ring
        .store()
        .map_err(InputError)?
        .get(name, kind)
        .map_err(|e| InputError(e.to_string()))?
        .ok_or_else(|| {
            InputError(format!(
                "the keyring entry {} is missing (the profile refers to it; a keyutils keyring loses it at reboot)",
                kind.account(name)
            ))
        })?;
    let bytes = if args.kind == ExportKind::P12 {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(value.expose())
            .map_err(|_| {
                InputError(format!(
                    "the keyring entry {} is damaged (not base64)",
                    kind.account(name)
                ))
            })?
    } else {
        let mut v = value.expose().as_bytes().to_vec();
        if args.kind == ExportKind::Passphrase {
            v.push(b'\n');
        }
        v
    };
    let out = &args.output;
    let shown = sanitize(&out.display().to_string());
    if out.exists() && !args.force {
        if !std::io::stdin().is_terminal() {
            return Err(InputError(format!(
                "-o {shown}: the file exists; pass --force to overwrite it (no terminal to ask)"
            )));
        }
        eprint!("{shown} exists. Overwrite it? [y/N] ");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        std::io::stdin()
            .read_line(&mut answer)
            .map_err(|e| InputError(format!("-o {shown}: {e}")))?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            eprintln!("not written");
            return Ok(1);
        }
    }
    write_private(out, &bytes).map_err(|e| InputError(format!("-o {shown}: {e}")))?;
    println!(
        "wrote {} of profile {} to {shown} (mode 0600)",
        kind.label(),
        sanitize(name)
    );
    Ok(0)
}

/// Writes `bytes` so that only the owner can read them, also when the file existed.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        opts.mode(0o600);
        let mut f = opts.open(path)?;
        // An existing file keeps its mode on open: narrow it before writing the secret.
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        f.write_all(bytes)?;
        f.sync_all()
    }
    #[cfg(not(unix))]
    {
        let mut f = opts.open(path)?;
        f.write_all(bytes)?;
        f.sync_all()
    }
}
