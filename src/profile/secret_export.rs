//! The bytes of a keyring entry a saved profile keeps, for `secrets export` and the app's
//! export prompt: checks that the profile keeps that entry in the keyring, reads it, decodes it.

use base64::Engine;

use super::model::{Material, Profile, SecretSource};
use super::resolve::SecretLookup;
use super::store::ProfileStore;
use crate::secrets::ExportKind;
use crate::text::sanitize;

/// Whether profile `p` keeps `kind` in the keyring (so there is something to export).
fn keeps_in_keyring(p: &Profile, kind: ExportKind) -> bool {
    match kind {
        ExportKind::Key => p.tls.client_key == Some(Material::Keyring),
        ExportKind::Cert => p.tls.client_cert == Some(Material::Keyring),
        ExportKind::P12 => p.tls.p12 == Some(Material::Keyring),
        ExportKind::Passphrase => p.tls.passphrase == Some(SecretSource::Keyring),
    }
}

/// The entries profile `p` keeps in the keyring, in [`ExportKind::ALL`] order.
pub fn kept_in_keyring(p: &Profile) -> Vec<ExportKind> {
    ExportKind::ALL
        .into_iter()
        .filter(|k| keeps_in_keyring(p, *k))
        .collect()
}

/// The bytes to write for `kind` of profile `name`: the PEM as stored, the PKCS#12 archive
/// decoded from its base64, the passphrase with a final newline. Errors are one sentence: no
/// such profile, the profile does not keep it in the keyring, the entry is missing or damaged,
/// the keyring cannot be used.
pub fn export_secret(
    store: &ProfileStore,
    name: &str,
    kind: ExportKind,
    ring: &dyn SecretLookup,
) -> Result<Vec<u8>, String> {
    let p = store.get(name).ok_or_else(|| {
        format!(
            "there is no profile {:?} (see `mqtt-doctor profile list`)",
            sanitize(name)
        )
    })?;
    if !keeps_in_keyring(p, kind) {
        return Err(format!(
            "profile {:?} does not keep {} in the keyring, so there is nothing to export",
            sanitize(name),
            kind.field()
        ));
    }
    let entry = kind.kind();
    let value = ring.secret(name, entry)?.ok_or_else(|| {
        format!(
            "the keyring entry {} is missing (the profile refers to it; a keyutils keyring loses it at reboot)",
            entry.account(name)
        )
    })?;
    Ok(match kind {
        ExportKind::P12 => base64::engine::general_purpose::STANDARD
            .decode(value.expose())
            .map_err(|_| {
                format!(
                    "the keyring entry {} is damaged (not base64)",
                    entry.account(name)
                )
            })?,
        ExportKind::Passphrase => {
            let mut v = value.expose().as_bytes().to_vec();
            v.push(b'\n');
            v
        }
        ExportKind::Key | ExportKind::Cert => value.expose().as_bytes().to_vec(),
    })
}
