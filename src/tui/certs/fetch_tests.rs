//! The broker source against a real `openssl s_server` presenting a chain made now (the lab's
//! PKI, rcgen): the chain in the order presented, the profile's options, a refused port, a
//! plaintext URL, and Save writing the presented root as the profile's CA file.

use std::io::Write as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use super::*;
use crate::lab::pki::LabPki;

/// A real TLS server on 127.0.0.1 presenting `leaf` then `chain` (openssl s_server), killed
/// on drop. The wizard's own tests use it too.
pub(crate) struct SServer {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl SServer {
    /// Serves `leaf_pem` with `key_pem`, sending `chain_pem` (more certificates) after it.
    pub(crate) fn start(leaf_pem: &str, key_pem: &str, chain_pem: &str) -> SServer {
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str, text: &str| {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            p
        };
        let (leaf, key, chain) = (
            file("leaf.pem", leaf_pem),
            file("leaf.key", key_pem),
            file("chain.pem", chain_pem),
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("openssl")
            .arg("s_server")
            .args(["-accept", &format!("127.0.0.1:{port}")])
            .arg("-cert")
            .arg(&leaf)
            .arg("-key")
            .arg(&key)
            .arg("-cert_chain")
            .arg(&chain)
            .arg("-quiet")
            // Kept open: s_server ends a session when its standard input ends.
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl s_server starts (scripts/test installs openssl)");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "s_server never listened"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        SServer {
            child,
            port,
            _dir: dir,
        }
    }

    /// The lab's good leaf, then the intermediate and the root: a broker that sends it all.
    pub(crate) fn lab_full_chain(pki: &LabPki) -> SServer {
        let chain = format!(
            "{}{}",
            pki.intermediate.issued.cert_pem(),
            pki.root.issued.cert_pem()
        );
        SServer::start(&pki.good.cert_pem(), &pki.good.key_pem(), &chain)
    }
}

impl Drop for SServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn pki() -> LabPki {
    LabPki::generate(time::OffsetDateTime::now_utc()).unwrap()
}

fn profiles_file(dir: &Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("profiles.toml");
    let mut f = std::fs::File::create(&path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
    path
}

#[tokio::test]
async fn a_typed_url_fetches_the_chain_in_the_order_presented() {
    let pki = pki();
    let server = SServer::lab_full_chain(&pki);
    let url = format!("mqtts://127.0.0.1:{}", server.port);
    let found = fetch(Some(format!("  {url} ")), String::new(), None)
        .await
        .unwrap();
    assert_eq!(
        found.der,
        vec![
            pki.good.cert.clone(),
            pki.intermediate.issued.cert.clone(),
            pki.root.issued.cert.clone()
        ]
    );
    assert_eq!(found.label, url);
    assert_eq!(found.host.as_deref(), Some("127.0.0.1"));
    assert_eq!(found.format, None, "fetched, not read from a file");
    assert_eq!(found.key, None);
    assert_eq!(found.analysis.order, vec![0, 1, 2]);
    // The lab's root is in no system store: Save is to trust the root it sent.
    match &found.material {
        Material::Presented {
            pem,
            trusted_by_system,
        } => {
            assert_eq!(pem, &pki.root.issued.cert_pem());
            assert!(!trusted_by_system);
        }
        other => panic!("expected Presented, got {other:?}"),
    }
}

#[tokio::test]
async fn without_a_url_the_saved_profiles_url_ca_and_sni_are_used() {
    let pki = pki();
    let server = SServer::start(
        &pki.good.cert_pem(),
        &pki.good.key_pem(),
        &pki.intermediate.issued.cert_pem(),
    );
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("root.pem");
    std::fs::write(&ca, pki.root.issued.cert_pem()).unwrap();
    let path = profiles_file(
        dir.path(),
        &format!(
            "version = 1\n\n[profiles.lab]\nurl = \"mqtts://127.0.0.1:{}\"\n\n[profiles.lab.tls]\nca = {{ file = {:?} }}\nsni = \"broker.lab.test\"\n",
            server.port,
            ca.display().to_string()
        ),
    );
    let found = fetch(None, "lab".into(), Some(path)).await.unwrap();
    assert_eq!(found.host.as_deref(), Some("broker.lab.test"));
    assert_eq!(found.der.len(), 2);
    assert!(
        found.analysis.findings.iter().any(|f| f.kind
            == crate::certs::FindingKind::Trusted {
                anchor: "O=mqtt-doctor lab, CN=mqtt-doctor Lab Root CA".into(),
                issued_by_anchor: true
            }),
        "{:?}",
        found.analysis.findings
    );
    // Not presented: the root is the profile's CA file, so the top presented is trusted.
    match &found.material {
        Material::Presented { pem, .. } => {
            assert_eq!(pem, &pki.intermediate.issued.cert_pem())
        }
        other => panic!("expected Presented, got {other:?}"),
    }
}

#[tokio::test]
async fn a_refused_port_is_one_sentence_naming_the_url_and_the_cause() {
    let (addr, _held) = crate::lab::refused_port().await.unwrap();
    let err = fetch(Some(format!("mqtts://{addr}")), String::new(), None)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        LoadFailure::Other(format!(
            "could not fetch the chain of mqtts://{addr}: the TCP stage failed: {addr} refused the connection: nothing listens on that port, or a firewall rejects it"
        ))
    );
}

#[tokio::test]
async fn a_plaintext_url_is_refused() {
    let err = fetch(Some("mqtt://127.0.0.1:1883".into()), String::new(), None)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        LoadFailure::Other(
            "mqtt://127.0.0.1:1883: the chain a server presents can only be fetched over TLS (mqtts:// or wss://)"
                .into()
        )
    );
}

#[tokio::test]
async fn no_url_and_no_profile_asks_for_one() {
    let err = fetch(None, " ".into(), None).await.unwrap_err();
    assert_eq!(err, LoadFailure::Other(NEED_URL_OR_PROFILE.into()));
    let dir = tempfile::tempdir().unwrap();
    let path = profiles_file(dir.path(), "version = 1\n");
    let err = fetch(Some(String::new()), "nope".into(), Some(path))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        LoadFailure::Other(
            "there is no saved profile \"nope\" to take the URL from; type the broker's URL".into()
        )
    );
}

#[tokio::test]
async fn save_writes_the_presented_root_as_the_profiles_ca_file_mode_0644() {
    let pki = pki();
    let server = SServer::lab_full_chain(&pki);
    let found = fetch(
        Some(format!("mqtts://127.0.0.1:{}", server.port)),
        String::new(),
        None,
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = profiles_file(dir.path(), "version = 1\n");
    let url = format!("mqtts://127.0.0.1:{}", server.port);
    let said = super::super::job::save(
        &path,
        "lab",
        Some(url.clone()),
        found.material.clone(),
        None,
        Vec::new(),
        None,
    )
    .unwrap();
    let ca = dir.path().join("ca").join("lab.pem");
    assert_eq!(
        said,
        format!(
            "profile \"lab\" saved; it trusts the CA file written to {}",
            ca.display()
        )
    );
    assert_eq!(
        std::fs::read_to_string(&ca).unwrap(),
        pki.root.issued.cert_pem()
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&ca).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
    }
    let store = ProfileStore::load(&path).unwrap();
    assert_eq!(
        store.get("lab").unwrap().tls.ca,
        Some(crate::profile::Material::File(ca.clone()))
    );
    // The profile now verifies the broker with what was saved: a fetch through it trusts it.
    let again = fetch(None, "lab".into(), Some(path)).await.unwrap();
    assert!(
        again
            .analysis
            .findings
            .iter()
            .any(|f| matches!(f.kind, crate::certs::FindingKind::Trusted { .. }))
    );
}

#[test]
fn a_chain_the_system_roots_trust_attaches_nothing_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = profiles_file(
        dir.path(),
        "version = 1\n\n[profiles.public]\nurl = \"mqtts://broker.example.com:8883\"\n",
    );
    let said = super::super::job::save(
        &path,
        "public",
        None,
        Material::Presented {
            pem: String::new(),
            trusted_by_system: true,
        },
        None,
        Vec::new(),
        None,
    )
    .unwrap();
    assert_eq!(
        said,
        "profile \"public\" saved; the broker's chain verifies against the system roots, so no CA file is attached"
    );
    assert!(!dir.path().join("ca").exists());
    let store = ProfileStore::load(&path).unwrap();
    assert_eq!(store.get("public").unwrap().tls.ca, None);
}

#[test]
fn a_save_that_is_refused_writes_no_ca_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = profiles_file(dir.path(), "version = 1\n");
    let err = super::super::job::save(
        &path,
        "no spaces allowed",
        Some("mqtts://127.0.0.1:8883".into()),
        Material::Presented {
            pem: "-----BEGIN CERTIFICATE-----\n".into(),
            trusted_by_system: false,
        },
        None,
        Vec::new(),
        None,
    )
    .unwrap_err();
    assert!(err.contains("no spaces allowed"), "{err}");
    assert!(!dir.path().join("ca").exists());
}
