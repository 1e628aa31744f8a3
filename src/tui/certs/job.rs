//! The wizard's work off the UI task: examining a source (read the file, the core's load and
//! analyze) and saving (profile file first, then keyring, via `profile::save_with_secrets`).

use std::path::{Path, PathBuf};

use base64::Engine;
use rustls_pki_types::PrivateKeyDer;

use crate::certs::{self, AnalyzeOptions, CertError, Format, Purpose};
use crate::profile::{self, KeyringOnDemand, Profile, ProfileStore, SecretSource, TlsVersion};
use crate::secrets::{Kind, Secret};

use super::paste::PasteBuffer;
use super::{CertsEvent, Found, LoadFailure, Material};

#[derive(Debug, Clone)]
pub enum Job {
    Examine {
        path: PathBuf,
        /// The path as typed, for messages.
        label: String,
        passphrase: Option<Secret>,
        /// The target profile, whose host a server chain is checked against.
        profile: String,
        profiles_path: Option<PathBuf>,
    },
    Save {
        profiles_path: PathBuf,
        profile: String,
        /// Set when the profile is created here.
        url: Option<String>,
        material: Material,
        sni: Option<String>,
        alpn: Vec<String>,
        min_tls: Option<TlsVersion>,
    },
    /// The browser's folder (a slow or huge folder never blocks the UI task).
    List { dir: PathBuf },
    /// The pasted text, examined like a file's bytes.
    ExaminePaste {
        text: PasteBuffer,
        passphrase: Option<Secret>,
        profile: String,
        profiles_path: Option<PathBuf>,
    },
    /// The entries a profile keeps in the keyring, for the export prompt.
    ExportKinds {
        profiles_path: PathBuf,
        profile: String,
    },
    /// The export prompt's write (the keyring is read here, never in the prompt).
    ExportWrite {
        profiles_path: PathBuf,
        profile: String,
        kind: crate::secrets::ExportKind,
        path: PathBuf,
        overwrite: bool,
    },
    /// The chain a broker presents: the typed URL, or the profile's when `None`.
    Fetch {
        url: Option<String>,
        profile: String,
        profiles_path: Option<PathBuf>,
    },
}

/// The target profile's host, which a server chain is checked against.
fn profile_host(profiles_path: Option<PathBuf>, profile: &str) -> Option<String> {
    profiles_path
        .and_then(|p| ProfileStore::load(p).ok())
        .and_then(|s| s.get(profile).and_then(|p| p.endpoint().ok()))
        .map(|e| e.host)
}

pub async fn carry_out(job: Job) -> CertsEvent {
    // The broker fetch is async (sockets on the runtime); it is driven from the blocking
    // thread like the other jobs so every job has one path.
    let runtime = tokio::runtime::Handle::current();
    let saving = matches!(job, Job::Save { .. });
    let listing = match &job {
        Job::List { dir } => Some(dir.clone()),
        _ => None,
    };
    let work = move || match job {
        Job::List { dir } => {
            let listing = super::browser::list_dir(&dir);
            CertsEvent::Listed { dir, listing }
        }
        Job::ExportKinds {
            profiles_path,
            profile,
        } => CertsEvent::ExportKinds {
            kinds: super::export::kinds_of(&profiles_path, &profile),
            profile,
        },
        Job::ExportWrite {
            profiles_path,
            profile,
            kind,
            path,
            overwrite,
        } => CertsEvent::Exported(super::export::write(
            &profiles_path,
            &profile,
            kind,
            &path,
            overwrite,
        )),
        Job::Examine {
            path,
            label,
            passphrase,
            profile,
            profiles_path,
        } => {
            let host = profile_host(profiles_path, &profile);
            let now = crate::clock::now_unix();
            let result = certs::read_checked(&path, certs::MAX_CERT_FILE)
                .map_err(|e| {
                    LoadFailure::Other(
                        CertError::Unreadable {
                            label: label.clone(),
                            reason: e.to_string(),
                        }
                        .to_string(),
                    )
                })
                .and_then(|bytes| examine(&label, &path, &bytes, passphrase.as_ref(), host, now));
            CertsEvent::Examined(result.map(Box::new))
        }
        Job::ExaminePaste {
            text,
            passphrase,
            profile,
            profiles_path,
        } => {
            let host = profile_host(profiles_path, &profile);
            let found = text.examine(passphrase.as_ref(), host, crate::clock::now_unix());
            CertsEvent::Examined(found.map(Box::new))
        }
        Job::Fetch {
            url,
            profile,
            profiles_path,
        } => CertsEvent::Examined(
            runtime
                .block_on(super::fetch::fetch(url, profile, profiles_path))
                .map(Box::new),
        ),
        Job::Save {
            profiles_path,
            profile,
            url,
            material,
            sni,
            alpn,
            min_tls,
        } => CertsEvent::Saved(save(
            &profiles_path,
            &profile,
            url,
            material,
            sni,
            alpn,
            min_tls,
        )),
    };
    tokio::task::spawn_blocking(work).await.unwrap_or_else(|e| {
        let why = format!("the certificate job failed: {e}");
        if let Some(dir) = listing {
            CertsEvent::Listed {
                dir,
                listing: Err(why),
            }
        } else if saving {
            CertsEvent::Saved(Err(why))
        } else {
            CertsEvent::Examined(Err(LoadFailure::Other(why)))
        }
    })
}

/// Examines one source with the core: what it holds, the analysis, what Save would store.
/// Pure given the bytes and `now`.
pub fn examine(
    label: &str,
    path: &Path,
    bytes: &[u8],
    passphrase: Option<&Secret>,
    host: Option<String>,
    now: i64,
) -> Result<Found, LoadFailure> {
    let loaded =
        certs::load(label, bytes, passphrase.map(Secret::expose)).map_err(|e| match e {
            CertError::PassphraseRequired { .. } => LoadFailure::NeedPassphrase(e.to_string()),
            CertError::WrongPassphrase { .. } => LoadFailure::WrongPassphrase(e.to_string()),
            e => LoadFailure::Other(e.to_string()),
        })?;
    if loaded.certs.is_empty() {
        let found = match &loaded.key {
            Some(k) => certs::describe_key(k).to_string(),
            None => "nothing usable".to_string(),
        };
        return Err(LoadFailure::Other(
            CertError::NoCertificate {
                label: label.into(),
                found,
            }
            .to_string(),
        ));
    }
    // A key makes it a client chain; CA certificates alone are a CA file to trust; anything
    // else is a server's chain.
    let purpose = if loaded.key.is_some() {
        Purpose::Client
    } else if certs::is_ca_file(&loaded.certs) {
        Purpose::Trust
    } else {
        Purpose::Server
    };
    let mut opts = AnalyzeOptions::new(now);
    opts.purpose = purpose;
    opts.key = loaded.key.as_ref();
    opts.host = if purpose == Purpose::Server {
        host.as_deref()
    } else {
        None
    };
    let analysis =
        certs::analyze(&loaded.certs, &opts).map_err(|e| LoadFailure::Other(e.to_string()))?;
    let material = match (&loaded.format, &loaded.key) {
        (Format::Pkcs12, _) => Material::P12 {
            b64: Secret::new(base64::engine::general_purpose::STANDARD.encode(bytes)),
            passphrase: passphrase.cloned(),
        },
        (_, Some(key)) => {
            // Leaf first, in issuance order, then anything else that was presented.
            let mut idx = analysis.order.clone();
            idx.extend((0..loaded.certs.len()).filter(|i| !analysis.order.contains(i)));
            let chain: String = idx
                .iter()
                .map(|&i| certs::pem("CERTIFICATE", loaded.certs[i].as_ref()))
                .collect();
            Material::Pem {
                certs: Secret::new(chain),
                key: Some(Secret::new(key_pem(key))),
            }
        }
        (_, None) => Material::CaFile(path.to_path_buf()),
    };
    Ok(Found {
        label: label.to_string(),
        format: Some(loaded.format),
        der: loaded.certs.clone(),
        key: loaded.key.as_ref().map(certs::describe_key),
        analysis,
        host: if purpose == Purpose::Server {
            host
        } else {
            None
        },
        material,
    })
}

fn key_pem(key: &PrivateKeyDer<'_>) -> String {
    let label = match key {
        PrivateKeyDer::Pkcs1(_) => "RSA PRIVATE KEY",
        PrivateKeyDer::Sec1(_) => "EC PRIVATE KEY",
        _ => "PRIVATE KEY",
    };
    certs::pem(label, key.secret_der())
}

/// What Save did with a presented chain.
enum Presented {
    SystemTrusted,
    Written(PathBuf),
}

/// Attaches `material` and the TLS options to `name` (created with `url` when new) and writes
/// the keyring entries with the core's save (the file is put back if the keyring fails).
pub fn save(
    profiles_path: &Path,
    name: &str,
    url: Option<String>,
    material: Material,
    sni: Option<String>,
    alpn: Vec<String>,
    min_tls: Option<TlsVersion>,
) -> Result<String, String> {
    let mut store = ProfileStore::load_for_update(profiles_path).map_err(|e| e.to_string())?;
    let previous = store.get(name).cloned();
    let mut p = match (&previous, url) {
        (Some(p), _) => p.clone(),
        (None, Some(url)) => Profile::new(name, url),
        (None, None) => return Err(format!("there is no profile {name:?} to attach to")),
    };
    let mut pending = Vec::new();
    let mut presented = None;
    let mut ca_pem = None;
    match material {
        Material::P12 { b64, passphrase } => {
            p.tls.p12 = Some(profile::Material::Keyring);
            p.tls.client_cert = None;
            p.tls.client_key = None;
            pending.push((Kind::PrivateKey, b64));
            match passphrase {
                Some(pass) => {
                    p.tls.passphrase = Some(SecretSource::Keyring);
                    pending.push((Kind::Passphrase, pass));
                }
                None => p.tls.passphrase = None,
            }
        }
        Material::Pem { certs, key } => {
            p.tls.p12 = None;
            p.tls.client_cert = Some(profile::Material::Keyring);
            pending.push((Kind::Certificate, certs));
            if let Some(key) = key {
                // Stored decrypted in the keyring: no passphrase is needed any more.
                p.tls.client_key = Some(profile::Material::Keyring);
                p.tls.passphrase = None;
                pending.push((Kind::PrivateKey, key));
            }
        }
        Material::CaFile(path) => p.tls.ca = Some(profile::Material::File(path)),
        Material::Presented {
            trusted_by_system: true,
            ..
        } => presented = Some(Presented::SystemTrusted),
        Material::Presented { pem, .. } => {
            let path = super::fetch::presented_ca_path(profiles_path, name);
            p.tls.ca = Some(profile::Material::File(path.clone()));
            ca_pem = Some(pem);
            presented = Some(Presented::Written(path));
        }
    }
    if sni.is_some() {
        p.tls.sni = sni;
    }
    if !alpn.is_empty() {
        p.tls.alpn = alpn;
    }
    if min_tls.is_some() {
        p.tls.min_tls_version = min_tls;
    }
    p.validate().map_err(|e| e.to_string())?;
    // The CA file is written just before the profile and put back if the save fails: the
    // profile may already refer to it, and must not come to trust what was not saved.
    let mut restore = None;
    if let (Some(Presented::Written(path)), Some(pem)) = (&presented, ca_pem) {
        let before = std::fs::read(path).ok();
        super::fetch::write_ca_file(path, pem.as_bytes())?;
        restore = Some((path.clone(), before));
    }
    let accounts: Vec<String> = pending.iter().map(|(k, _)| k.account(name)).collect();
    let saved =
        profile::save_with_secrets(&mut store, p, previous, pending, &KeyringOnDemand::new());
    if let (Err(_), Some((path, before))) = (&saved, restore) {
        let _ = match before {
            Some(bytes) => super::fetch::write_ca_file(&path, &bytes),
            None => std::fs::remove_file(&path).map_err(|e| e.to_string()),
        };
    }
    saved?;
    Ok(if let Some(presented) = presented {
        match presented {
            Presented::SystemTrusted => format!(
                "profile {name:?} saved; the broker's chain verifies against the system roots, so no CA file is attached"
            ),
            Presented::Written(path) => format!(
                "profile {name:?} saved; it trusts the CA file written to {}",
                crate::text::sanitize(&path.display().to_string())
            ),
        }
    } else if accounts.is_empty() {
        format!("profile {name:?} saved; it trusts the CA file")
    } else {
        format!(
            "profile {name:?} saved; keyring entries: {}",
            accounts.join(", ")
        )
    })
}

#[cfg(test)]
mod ca_bundle_tests {
    use super::*;
    use crate::certs::testutil::{NOW, Spec, make, pem};
    use crate::certs::{FindingKind, Severity};

    #[test]
    fn a_ca_file_is_material_to_trust_not_a_ca_used_as_a_leaf() {
        let root = make(Spec::ca("Broker CA"), None);
        let bytes = pem(root.der.as_ref(), "CERTIFICATE");
        let found = examine(
            "ca.pem",
            Path::new("/x/ca.pem"),
            bytes.as_bytes(),
            None,
            None,
            NOW,
        )
        .unwrap();
        assert!(matches!(found.material, Material::CaFile(_)));
        assert!(
            !found
                .analysis
                .findings
                .iter()
                .any(|f| f.kind == FindingKind::LeafIsCa)
        );
        assert_ne!(found.analysis.worst(), Some(Severity::Error));
    }
}
