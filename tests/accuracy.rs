//! Issue 15's cases against real servers: Mosquitto, `openssl s_server` and the RabbitMQ, NATS,
//! Redis, PostgreSQL and MariaDB of this machine; each verdict must name the right cause and fix.

mod common;

use common::*;
use mqtt_doctor::lab::pki::LabPki;
use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// An `openssl s_server`, killed on drop.
struct SServer(Child);

impl Drop for SServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{what} did not open port {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn s_server(dir: &std::path::Path, extra: &[&str]) -> (SServer, u16) {
    let key = dir.join("s.key");
    let cert = dir.join("s.pem");
    if !cert.exists() {
        let ok = Command::new("openssl")
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj"])
            .args(["/CN=localhost", "-days", "2", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .stderr(Stdio::null())
            .status()
            .expect("openssl must be installed (scripts/test installs it)");
        assert!(ok.success());
    }
    let port = free_port();
    let child = Command::new("openssl")
        .args(["s_server", "-quiet", "-accept", &port.to_string(), "-key"])
        .arg(&key)
        .arg("-cert")
        .arg(&cert)
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl s_server");
    let s = SServer(child);
    wait_for(port, "s_server");
    (s, port)
}

fn summary(json: &serde_json::Value) -> String {
    json["verdict"]["summary"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

fn remedy(json: &serde_json::Value) -> String {
    json["verdict"]["remedy"].as_str().unwrap_or("").to_string()
}

fn tls_fact(json: &serde_json::Value, key: &str) -> serde_json::Value {
    json["stages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["stage"] == "tls")
        .map(|s| s["facts"][key].clone())
        .unwrap_or_default()
}

/// OpenSSL's s_server -alpn answers a protocol it does not serve with alert 120.
#[test]
fn an_openssl_server_refusing_our_alpn_is_alpn_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let (_s, port) = s_server(dir.path(), &["-alpn", "x-amzn-mqtt-ca"]);
    let (code, json) = check_json(
        &[&format!("mqtts://localhost:{port}"), "--alpn", "mqtt"],
        &[],
    );
    assert_eq!(cause(&json), "tls.alpn_rejected", "{json:#}");
    assert_eq!(code, 12);
    assert!(summary(&json).contains("(mqtt)"), "{json:#}");
    assert!(
        summary(&json).contains("routes connections by ALPN"),
        "{json:#}"
    );
    assert!(remedy(&json).contains("--alpn x-amzn-mqtt-ca"), "{json:#}");
}

/// s_server -servername NAME -servername_fatal ends a handshake for another name with 112.
#[test]
fn an_sni_routed_openssl_server_says_which_name_was_sent() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("s.key");
    let cert = dir.path().join("s.pem");
    let (_warm, _) = s_server(dir.path(), &[]);
    let (_s, port) = s_server(
        dir.path(),
        &[
            "-servername",
            "broker.example",
            "-servername_fatal",
            "-key2",
            key.to_str().unwrap(),
            "-cert2",
            cert.to_str().unwrap(),
        ],
    );
    let (code, json) = check_json(
        &[
            &format!("mqtts://localhost:{port}"),
            "--sni",
            "other.example",
        ],
        &[],
    );
    assert_eq!(cause(&json), "tls.sni_rejected", "{json:#}");
    assert_eq!(code, 12);
    assert!(
        summary(&json).contains(
            "TLS alert unrecognised_name (112) after a greeting for the server name other.example"
        ),
        "{json:#}"
    );
    assert!(
        remedy(&json).contains("drop --sni other.example"),
        "{json:#}"
    );
}

/// Serves `body` over HTTP/1.0 for every request on `listener` (the caIssuers download).
fn http_server(listener: std::net::TcpListener, body: Vec<u8>) {
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let mut b = [0u8; 2048];
            let _ = s.read(&mut b);
            let _ = write!(
                s,
                "HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(&body);
        }
    });
}

struct Brokers {
    _m: Mosquitto,
    leaf_only: u16,
    expired: u16,
    mtls: u16,
    d: std::path::PathBuf,
}

/// One Mosquitto: a listener sending only its leaf (with a caIssuers URL served here), one
/// with an expired certificate, one demanding a client certificate from the client CA.
fn brokers() -> Brokers {
    let dir = tempfile::tempdir().unwrap();
    let now = time::OffsetDateTime::now_utc();
    // The issuer's URL names a port bound before the leaf naming it is made.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/int.crt", listener.local_addr().unwrap());
    let pki = LabPki::generate_with(now, &url).unwrap();
    http_server(listener, pki.intermediate.issued.cert.to_vec());
    let d = dir.path().to_path_buf();
    write(&d, "ca.pem", &pki.root.issued.cert_pem());
    write(&d, "client-ca.pem", &pki.client_ca.issued.cert_pem());
    write(&d, "leaf.pem", &pki.aia_leaf.cert_pem());
    write(&d, "leaf.key", &pki.aia_leaf.key_pem());
    write(
        &d,
        "good-chain.pem",
        &(pki.good.cert_pem() + &pki.intermediate.issued.cert_pem()),
    );
    write(&d, "good.key", &pki.good.key_pem());
    write(
        &d,
        "expired-chain.pem",
        &(pki.expired.cert_pem() + &pki.intermediate.issued.cert_pem()),
    );
    write(&d, "expired.key", &pki.expired.key_pem());
    write(&d, "device.pem", &pki.chained_client.cert_pem());
    write(
        &d,
        "device-chain.pem",
        &(pki.chained_client.cert_pem() + &pki.client_intermediate.issued.cert_pem()),
    );
    write(&d, "device.key", &pki.chained_client.key_pem());
    let (leaf_only, expired, mtls) = (free_port(), free_port(), free_port());
    let p = |n: &str| d.join(n).display().to_string();
    let config = format!(
        "listener {leaf_only} 127.0.0.1\nallow_anonymous true\ncertfile {}\nkeyfile {}\n\n\
         listener {expired} 127.0.0.1\nallow_anonymous true\ncertfile {}\nkeyfile {}\n\n\
         listener {mtls} 127.0.0.1\nallow_anonymous true\ncertfile {}\nkeyfile {}\ncafile {}\nrequire_certificate true\n",
        p("leaf.pem"),
        p("leaf.key"),
        p("expired-chain.pem"),
        p("expired.key"),
        p("good-chain.pem"),
        p("good.key"),
        p("client-ca.pem"),
    );
    let m = Mosquitto::start(dir, &config, &[leaf_only, expired, mtls]);
    let d = m.dir.path().to_path_buf();
    Brokers {
        _m: m,
        leaf_only,
        expired,
        mtls,
        d,
    }
}

const MISSING: &str = "O=mqtt-doctor lab, CN=mqtt-doctor Lab Intermediate CA";

/// A Mosquitto whose certfile holds only the leaf: check, cert fetch and cert inspect all
/// say the chain is incomplete and name the missing intermediate; the caIssuers download
/// (from an HTTP server here) shows that the chain verifies with it.
#[test]
fn a_leaf_only_mosquitto_is_an_incomplete_chain_everywhere() {
    let b = brokers();
    let ca = b.d.join("ca.pem").display().to_string();
    let url = format!("mqtts://localhost:{}", b.leaf_only);
    let (code, json) = check_json(&[&url, "--ca", &ca], &[]);
    assert_eq!(cause(&json), "tls.incomplete_chain", "{json:#}");
    assert_eq!(code, 12);
    let s = summary(&json);
    assert!(s.contains(&format!("issued by {MISSING}")), "{s}");
    assert!(s.contains("with it the chain verifies"), "{s}");
    assert!(
        remedy(&json).starts_with("On the broker (the fix)"),
        "{json:#}"
    );
    assert!(
        remedy(&json).contains("Mosquitto: the certfile must hold the leaf then the intermediates")
    );
    assert!(
        tls_fact(&json, "issuer_download_ms").is_number(),
        "{json:#}"
    );

    let incomplete = format!("its issuer \"{MISSING}\"");
    let (_, fetched, _) = run(&["cert", "fetch", &url, "--ca", &ca], &[]);
    assert!(fetched.contains("Only the certificate"), "{fetched}");
    assert!(fetched.contains(&incomplete), "{fetched}");
    let leaf = b.d.join("leaf.pem").display().to_string();
    let (code, inspected, _) = run(&["cert", "inspect", &leaf, "--ca", &ca], &[]);
    assert_eq!(code, 12, "{inspected}");
    assert!(inspected.contains("Only the certificate"), "{inspected}");
    assert!(inspected.contains(&incomplete), "{inspected}");
}

/// `cert inspect good-chain.pem` without --ca: leaf + intermediate with the root left out is
/// what a broker should send; nothing is missing.
#[test]
fn inspecting_a_good_chain_without_ca_finds_nothing_missing() {
    let b = brokers();
    let good = b.d.join("good-chain.pem").display().to_string();
    let (code, out, err) = run(&["cert", "inspect", &good], &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!out.contains("missing"), "{out}");
    assert!(!out.contains("[warning]"), "{out}");
    assert!(out.contains("brokers need not send their root"), "{out}");
}

/// An expired certificate for another name: the verdict is the expiry, the summary says
/// both, the facts list every finding of that certificate.
#[test]
fn an_expired_certificate_for_another_name_names_both_faults() {
    let b = brokers();
    let ca = b.d.join("ca.pem").display().to_string();
    let (code, json) = check_json(
        &[
            &format!("mqtts://localhost:{}", b.expired),
            "--ca",
            &ca,
            "--sni",
            "mqtt.other.example",
        ],
        &[],
    );
    assert_eq!(cause(&json), "tls.cert_expired", "{json:#}");
    assert_eq!(code, 12);
    let s = summary(&json);
    assert!(s.contains("expired 3 days ago"), "{s}");
    assert!(
        s.contains("Also: The broker's certificate is not valid for mqtt.other.example"),
        "{s}"
    );
    let findings = tls_fact(&json, "decisive_certificate_findings");
    let findings: Vec<&str> = findings
        .as_array()
        .expect("findings fact")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(
        findings.iter().any(|f| f.contains("expired 3 days ago")),
        "{findings:?}"
    );
    assert!(
        findings
            .iter()
            .any(|f| f.contains("is not valid for \"mqtt.other.example\"")),
        "{findings:?}"
    );
}

/// Mosquitto trusts the client root; a device leaf sent without its intermediate is refused,
/// and the verdict names the intermediate and the --cert file, not the broker's cafile.
#[test]
fn a_device_certificate_without_its_intermediate_is_named() {
    let b = brokers();
    let ca = b.d.join("ca.pem").display().to_string();
    let url = format!("mqtts://localhost:{}", b.mtls);
    let key = b.d.join("device.key").display().to_string();
    let leaf = b.d.join("device.pem").display().to_string();
    let (code, json) = check_json(&[&url, "--ca", &ca, "--cert", &leaf, "--key", &key], &[]);
    assert_eq!(cause(&json), "tls.client_chain_incomplete", "{json:#}");
    assert_eq!(code, 12);
    let s = summary(&json);
    assert!(
        s.contains(
            "without its issuer O=mqtt-doctor lab, CN=mqtt-doctor Lab Device Intermediate CA"
        ),
        "{s}"
    );
    assert!(remedy(&json).contains("--cert file hold the leaf followed by its intermediate"));
    let fact = tls_fact(&json, "client_chain");
    assert!(
        fact.as_str().unwrap_or("").starts_with("only the leaf"),
        "{json:#}"
    );

    let full = b.d.join("device-chain.pem").display().to_string();
    let (_, json) = check_json(&[&url, "--ca", &ca, "--cert", &full, "--key", &key], &[]);
    assert_eq!(cause(&json), "ok", "{json:#}");
}

/// `cert fetch` against Mosquitto's require_certificate listener says a client certificate
/// is asked for.
#[test]
fn cert_fetch_says_when_the_server_wants_a_client_certificate() {
    let b = brokers();
    let ca = b.d.join("ca.pem").display().to_string();
    let url = format!("mqtts://localhost:{}", b.mtls);
    let (_, out, err) = run(&["cert", "fetch", &url, "--ca", &ca], &[]);
    assert!(
        out.contains("The server asks for a client certificate (mutual TLS)"),
        "{out}{err}"
    );
}

/// The real services of this machine on their usual ports, when they listen (the lab peers
/// replaying their greetings run in lab_causes whether they do or not).
#[test]
fn the_real_services_on_this_machine_are_named() {
    let services = [
        (5672, "speaks AMQP"),
        (4222, "speaks NATS"),
        (6379, "speaks Redis"),
        (5432, "speaks PostgreSQL"),
        (3306, "speaks MySQL/MariaDB"),
    ];
    let mut tried = 0;
    for (port, says) in services {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            eprintln!("nothing listens on 127.0.0.1:{port}; its lab peer covers it");
            continue;
        }
        tried += 1;
        let (code, json) = check_json(
            &[&format!("mqtt://127.0.0.1:{port}"), "--timeout", "1"],
            &[],
        );
        assert_eq!(cause(&json), "mqtt.not_mqtt", "{port}: {json:#}");
        assert_eq!(code, 14);
        let s = summary(&json);
        assert!(s.contains(says), "{port}: {s}");
        assert!(
            s.contains(&format!("usually found on port {port}")),
            "{port}: {s}"
        );
        assert!(remedy(&json).contains("1883"), "{port}: {json:#}");
    }
    eprintln!("{tried} real services tried");
}

/// `--proxy env`: a proxy variable naming a port where nothing listens is the proxy's
/// refusal, worded with the variable it came from.
#[test]
fn a_refusing_proxy_from_the_environment_names_the_variable() {
    let port = free_port();
    let (code, json) = check_json(
        &["wss://broker.example.com/mqtt", "--proxy", "env"],
        &[("HTTPS_PROXY", &format!("http://127.0.0.1:{port}"))],
    );
    assert_eq!(cause(&json), "proxy.refused", "{json:#}");
    assert_eq!(json["verdict"]["stage"], "proxy");
    assert_eq!(code, 16);
    assert!(
        summary(&json).contains("(from HTTPS_PROXY) cannot be reached"),
        "{json:#}"
    );
    assert!(remedy(&json).contains("HTTPS_PROXY"), "{json:#}");
}

/// `--dns-server` takes an address alone (port 53) and IPv6 literals.
#[test]
fn dns_server_defaults_to_port_53() {
    use mqtt_doctor::cli::dns_server_arg;
    assert_eq!(
        dns_server_arg("127.0.0.1").unwrap().to_string(),
        "127.0.0.1:53"
    );
    assert_eq!(dns_server_arg("::1").unwrap().to_string(), "[::1]:53");
    assert_eq!(dns_server_arg("[::1]").unwrap().to_string(), "[::1]:53");
    assert_eq!(
        dns_server_arg("[::1]:5353").unwrap().to_string(),
        "[::1]:5353"
    );
    assert!(dns_server_arg("dns.example").is_err());
    // Through the binary: accepted, and the lookup goes to that server.
    let (code, _, err) = run(
        &[
            "check",
            "mqtt://nx.invalid",
            "--dns-server",
            "127.0.0.1",
            "--timeout",
            "1",
            "--json",
        ],
        &[],
    );
    assert_ne!(code, 2, "{err}");
}

/// An encrypted key without a passphrase: the error names the option that gives one.
#[test]
fn a_passphrase_error_names_the_option() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k.pem");
    let ok = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-aes256", "-pass", "pass:secret", "-out"])
        .arg(&key)
        .status()
        .expect("openssl");
    assert!(ok.success());
    let (code, out, err) = run(&["cert", "inspect", key.to_str().unwrap()], &[]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("--passphrase-env"), "{err}");
}
