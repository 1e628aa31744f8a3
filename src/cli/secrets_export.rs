//! `mqtt-doctor secrets export PROFILE KIND -o FILE`: writes key material a profile keeps in
//! the keyring back out to a file (mode 0600), e.g. before a reboot empties a keyutils keyring.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::InputError;
use crate::profile::KeyringOnDemand;
use crate::secrets::{self, WriteError};
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

impl From<ExportKind> for secrets::ExportKind {
    fn from(k: ExportKind) -> secrets::ExportKind {
        match k {
            ExportKind::Key => secrets::ExportKind::Key,
            ExportKind::Cert => secrets::ExportKind::Cert,
            ExportKind::P12 => secrets::ExportKind::P12,
            ExportKind::Passphrase => secrets::ExportKind::Passphrase,
        }
    }
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
    let kind = secrets::ExportKind::from(args.kind);
    let bytes = crate::profile::export_secret(&store, name, kind, &KeyringOnDemand::new())
        .map_err(InputError)?;
    let out = &args.output;
    let shown = sanitize(&out.display().to_string());
    let mut overwrite = args.force;
    if out.exists() && !overwrite {
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
        overwrite = true;
    }
    secrets::write_private(out, &bytes, overwrite).map_err(|e| match e {
        WriteError::Exists => InputError(format!(
            "-o {shown}: the file appeared while asking; run again to overwrite it"
        )),
        WriteError::Io(e) => InputError(format!("-o {shown}: {e}")),
    })?;
    println!(
        "wrote {} of profile {} to {shown} (mode 0600)",
        kind.kind().label(),
        sanitize(name)
    );
    Ok(0)
}
