//! The certificate commands and options through the real binary: cert inspect, cert fetch,
//! --p12 (made with the openssl command line), encrypted keys, and a real OpenSSL server that
//! only speaks TLS 1.1.

mod common;

use common::*;
use mqtt_doctor::lab::Lab;
use std::path::Path;
use std::process::{Command, Stdio};

fn lab_files(lab: &Lab) -> (String, String, String, String) {
    let d = lab.dir();
    let p = |n: &str| d.join(n).display().to_string();
    (
        p("lab-ca.pem"),
        p("client.pem"),
        p("client.key"),
        p("rogue-client.key"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspect_names_a_key_mismatch_and_prints_json() {
    let lab = Lab::start().await.expect("lab");
    let (_, cert, key, rogue_key) = lab_files(&lab);
    let (code, out, _) = run(&["cert", "inspect", &cert, &rogue_key, "--client"], &[]);
    assert_eq!(code, 12, "{out}");
    assert!(out.contains("does not belong to the certificate"), "{out}");
    let (code, out, _) = run(&["cert", "inspect", &cert, &key, "--client", "--json"], &[]);
    assert_eq!(code, 0, "{out}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("json");
    let findings = json["analysis"]["findings"].as_array().expect("findings");
    assert!(
        findings.iter().any(|f| f["kind"]["type"] == "KeyMatches"),
        "{json:#}"
    );
    let fp = json["analysis"]["certs"][0]["sha256_fingerprint"]
        .as_str()
        .unwrap();
    assert_eq!(fp.len(), 32 * 3 - 1, "{fp}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p12_files_from_openssl_work_and_a_wrong_passphrase_is_named() {
    let lab = Lab::start().await.expect("lab");
    let (ca, cert, key, _) = lab_files(&lab);
    let dir = tempfile::tempdir().unwrap();
    let modern = dir.path().join("device.p12").display().to_string();
    let legacy = dir.path().join("device-legacy.pfx").display().to_string();
    openssl(
        Path::new("."),
        &[
            "pkcs12",
            "-export",
            "-in",
            &cert,
            "-inkey",
            &key,
            "-out",
            &modern,
            "-passout",
            "pass:s3cret",
        ],
    );
    openssl(
        Path::new("."),
        &[
            "pkcs12",
            "-export",
            "-legacy",
            "-in",
            &cert,
            "-inkey",
            &key,
            "-out",
            &legacy,
            "-passout",
            "pass:s3cret",
        ],
    );
    let mtls = lab.scenario("ok.mtls").unwrap().url.clone();
    for file in [&modern, &legacy] {
        let (code, json) = check_json(
            &[
                &mtls,
                "--ca",
                &ca,
                "--p12",
                file,
                "--passphrase-env",
                "P12_PASS",
            ],
            &[("P12_PASS", "s3cret")],
        );
        assert_eq!(cause(&json), "ok", "{file}: {json:#}");
        assert_eq!(code, 0);
    }
    let (code, _, err) = run(
        &[
            "check",
            &mtls,
            "--ca",
            &ca,
            "--p12",
            &modern,
            "--passphrase-env",
            "P12_PASS",
        ],
        &[("P12_PASS", "wrong")],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("passphrase") && err.contains("device.p12"),
        "{err}"
    );
    let (code, _, err) = run(&["check", &mtls, "--ca", &ca, "--p12", &modern], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no passphrase was given"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_keys_open_with_the_passphrase() {
    let lab = Lab::start().await.expect("lab");
    let (ca, cert, key, _) = lab_files(&lab);
    let dir = tempfile::tempdir().unwrap();
    let enc = dir.path().join("enc.key").display().to_string();
    openssl(
        Path::new("."),
        &[
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-256-cbc",
            "-in",
            &key,
            "-out",
            &enc,
            "-passout",
            "pass:k3y",
        ],
    );
    let mtls = lab.scenario("ok.mtls").unwrap().url.clone();
    let (_, json) = check_json(
        &[
            &mtls,
            "--ca",
            &ca,
            "--cert",
            &cert,
            "--key",
            &enc,
            "--passphrase-env",
            "KEY_PASS",
        ],
        &[("KEY_PASS", "k3y")],
    );
    assert_eq!(cause(&json), "ok", "{json:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetched_pem_becomes_the_ca_that_fixes_a_self_signed_broker() {
    let lab = Lab::start().await.expect("lab");
    let url = lab.scenario("tls.self_signed").unwrap().url.clone();
    let (code, pem, err) = run(&["cert", "fetch", &url, "--pem"], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    let dir = tempfile::tempdir().unwrap();
    let saved = write(dir.path(), "fetched.pem", &pem);
    let (_, json) = check_json(&[&url, "--ca", saved.to_str().unwrap()], &[]);
    assert_eq!(cause(&json), "ok", "{json:#}");
    let (code, text, _) = run(&["cert", "fetch", &url], &[]);
    assert_eq!(code, 0);
    assert!(
        text.contains("self-signed broker") && text.contains("SHA-256"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insecure_completes_the_handshake_and_still_reports_the_problem() {
    let lab = Lab::start().await.expect("lab");
    let url = lab.scenario("tls.cert_expired").unwrap().url.clone();
    let (code, json) = check_json(&[&url, "--insecure"], &[]);
    assert_eq!(cause(&json), "ok", "{json:#}");
    assert_eq!(code, 0);
    let warnings = json["stages"][2]["warnings"].to_string();
    assert!(warnings.contains("tls.cert_expired"), "{json:#}");
    assert_eq!(json["tls"]["verified"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sni_override_verifies_the_given_name() {
    let lab = Lab::start().await.expect("lab");
    let sc = lab.scenario("tls.hostname_mismatch").unwrap();
    let (_, json) = check_json(
        &[&sc.url, "--ca", &sc.args[1], "--sni", "mqtt.other.example"],
        &[],
    );
    assert_eq!(cause(&json), "ok", "{json:#}");
    assert_eq!(json["tls"]["sni"], "mqtt.other.example");
}

/// A real OpenSSL server limited to TLS 1.1 (field notes: SECLEVEL=0 makes OpenSSL 3 do it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_tls11_server_is_protocol_version() {
    let lab = Lab::start().await.expect("lab");
    let dir = lab.dir().to_path_buf();
    let port = free_port();
    let key = dir.join("s.key");
    let cert = dir.join("s.pem");
    openssl(
        Path::new("."),
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-days",
            "2",
            "-keyout",
            key.to_str().unwrap(),
            "-out",
            cert.to_str().unwrap(),
        ],
    );
    let mut server = Command::new("openssl")
        .args([
            "s_server",
            "-tls1_1",
            "-cipher",
            "DEFAULT:@SECLEVEL=0",
            "-accept",
            &port.to_string(),
            "-key",
            key.to_str().unwrap(),
            "-cert",
            cert.to_str().unwrap(),
            "-quiet",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl s_server");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "s_server did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let (code, json) = check_json(&[&format!("mqtts://127.0.0.1:{port}")], &[]);
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(cause(&json), "tls.protocol_version", "{json:#}");
    assert_eq!(code, 12);
}

/// A CA file made by openssl (the way a broker's CA usually is: self-signed, no
/// subjectAltName) is checked as anchors: exit 0, no "CA used as the end-entity".
#[test]
fn inspect_a_ca_file_made_by_openssl_checks_it_as_a_ca_to_trust() {
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| dir.path().join(n).display().to_string();
    openssl(
        dir.path(),
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-subj",
            "/CN=Inspect CA",
            "-days",
            "365",
        ],
    );
    let (code, out, err) = run(&["cert", "inspect", &d("ca.pem")], &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.starts_with(&format!(
            "{}: 1 CA certificate to trust (a CA file for --ca)\n",
            d("ca.pem")
        )),
        "{out}"
    );
    assert!(!out.contains("[error]"), "{out}");
    assert!(!out.contains("[warning]"), "{out}");
    // Asked about a host, the same file is a server's certificate: a CA as the end-entity.
    let (code, out, _) = run(
        &["cert", "inspect", &d("ca.pem"), "--host", "localhost"],
        &[],
    );
    assert_eq!(code, 12, "{out}");
    assert!(out.contains("is a CA certificate (basicConstraints cA=TRUE) but is used as the end-entity certificate"), "{out}");
}
