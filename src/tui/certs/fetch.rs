//! The wizard's "broker" source: fetch the chain a broker presents (the core's
//! [`crate::diagnose::fetch_chain`], verification off) and make it a [`Found`] like a file's.
//! Also the Save side of trusting it: [`presented_ca_path`], [`write_ca_file`].

use std::path::{Path, PathBuf};

use crate::certs;
use crate::diagnose::{self, FetchedChain};
use crate::profile::{self, FetchOptions, ProfileStore};
use crate::text::sanitize;

use super::{Found, LoadFailure, Material};

/// Asked to fetch with no URL typed and no target profile.
pub const NEED_URL_OR_PROFILE: &str = "type the broker's URL (mqtts://HOST:PORT or wss://HOST/PATH), or name a saved profile to take it from";

/// Fetches the chain a broker presents. `url` typed (trimmed; `None` or empty: the saved
/// `profile`'s URL with its CA file, SNI, ALPN, lowest TLS version, DNS server and timeout).
/// The profiles file is read on the blocking pool, no keyring entry is read, the handshake
/// runs on the runtime. Every failure is one sentence naming the URL (or the profile).
pub async fn fetch(
    url: Option<String>,
    profile: String,
    profiles_path: Option<PathBuf>,
) -> Result<Found, LoadFailure> {
    let other = LoadFailure::Other;
    let url = url.map(|u| u.trim().to_string()).filter(|u| !u.is_empty());
    let profile = profile.trim().to_string();
    let plan = tokio::task::spawn_blocking(move || plan_of(url, &profile, profiles_path))
        .await
        .map_err(|e| other(format!("the fetch could not start: {e}")))??;
    let shown = sanitize(&plan.target.url());
    let fetched = diagnose::fetch_chain(plan, crate::clock::now_unix())
        .await
        .map_err(other)?;
    found_of(&shown, fetched)
}

/// The plan: the typed URL alone, or the saved profile's.
fn plan_of(
    url: Option<String>,
    profile: &str,
    profiles_path: Option<PathBuf>,
) -> Result<diagnose::Plan, LoadFailure> {
    let env = |k: &str| std::env::var(k).ok();
    if let Some(url) = url {
        return profile::fetch_plan(&url, &FetchOptions::default(), &env)
            .map_err(|e| LoadFailure::Other(e.to_string()));
    }
    if profile.is_empty() {
        return Err(LoadFailure::Other(NEED_URL_OR_PROFILE.into()));
    }
    let Some(path) = profiles_path else {
        return Err(LoadFailure::Other(format!(
            "there are no saved profiles here to take {:?}'s URL from; type the broker's URL",
            sanitize(profile)
        )));
    };
    let store = ProfileStore::load(&path).map_err(|e| LoadFailure::Other(e.to_string()))?;
    let saved = store.get(profile).ok_or_else(|| {
        LoadFailure::Other(format!(
            "there is no saved profile {:?} to take the URL from; type the broker's URL",
            sanitize(profile)
        ))
    })?;
    profile::fetch_plan_of(saved, &env).map_err(|e| LoadFailure::Other(e.to_string()))
}

/// The fetched chain as a [`Found`]; an empty chain is the run's verdict in one sentence.
fn found_of(shown_url: &str, fetched: FetchedChain) -> Result<Found, LoadFailure> {
    let trusted_by_system = fetched.system_roots && fetched.trusted();
    let FetchedChain {
        report,
        chain,
        analysis,
        analysis_error,
        host,
        ..
    } = fetched;
    if let Some(why) = analysis_error {
        return Err(LoadFailure::Other(format!(
            "{shown_url} presented a chain that cannot be read: {why}"
        )));
    }
    let Some(analysis) = analysis else {
        let v = &report.verdict;
        let stage = v
            .stage
            .map(|s| format!("the {} stage failed: ", s.id().to_uppercase()))
            .unwrap_or_default();
        return Err(LoadFailure::Other(format!(
            "could not fetch the chain of {shown_url}: {stage}{}",
            sanitize(v.summary.trim_end_matches('.'))
        )));
    };
    // Trust the top of the chain in issuance order (the root when the broker sends it),
    // else the last certificate presented.
    let top = analysis
        .order
        .last()
        .copied()
        .unwrap_or(chain.len().saturating_sub(1));
    let pem = chain
        .get(top)
        .map(|c| certs::pem("CERTIFICATE", c))
        .unwrap_or_default();
    let found = Found {
        label: shown_url.to_string(),
        format: None,
        der: chain,
        key: None,
        analysis,
        host: Some(host),
        material: Material::Presented {
            pem,
            trusted_by_system,
        },
    };
    // The Chain tab pairs `der[i]` with `analysis.certs[i]`.
    debug_assert_eq!(found.der.len(), found.analysis.certs.len());
    Ok(found)
}

/// Where Save keeps the certificates of a [`Material::Presented`] for `profile`:
/// `<dir of profiles.toml>/ca/<profile>.pem`, absolute (so `tls.ca` finds it from any working
/// directory).
pub fn presented_ca_path(profiles_path: &Path, profile: &str) -> PathBuf {
    let profiles_path = std::path::absolute(profiles_path).unwrap_or(profiles_path.to_path_buf());
    let base = profiles_path.parent().unwrap_or(Path::new("."));
    // Profile names are letters, digits, '.', '_' and '-' (validated before Save); anything
    // else would not make a file name inside `ca/`.
    let file: String = profile
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    base.join("ca")
        .join(format!("{}.pem", file.trim_start_matches('.')))
}

/// Writes a CA file (mode 0644: certificates are public), replacing an existing one
/// atomically. Errors are one sentence naming the file.
pub fn write_ca_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write as _;
    let shown = sanitize(&path.display().to_string());
    let fail = |e: std::io::Error| format!("{shown}: the CA file cannot be written ({e})");
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(fail)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(fail)?;
    }
    tmp.write_all(bytes).map_err(fail)?;
    tmp.as_file().sync_all().map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

#[cfg(test)]
#[path = "fetch_tests.rs"]
pub(crate) mod tests;

/// What Save does with [`Material::Presented`], for the Save step's "Save …" line.
pub fn save_words(profile: &str, material: &Material) -> String {
    match material {
        Material::Presented {
            trusted_by_system: true,
            ..
        } => "attaches no CA file: the chain verifies against the system roots".to_string(),
        _ => format!(
            "writes the certificates to trust to ca/{profile}.pem beside the profiles file, as tls.ca"
        ),
    }
}
