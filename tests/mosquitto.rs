//! The binary against a real Mosquitto started by the test with its own config on free ports.

mod common;

use common::*;
use mqtt_doctor::lab::pki::LabPki;
use std::process::Command;

struct Setup {
    _m: Mosquitto,
    plain: u16,
    auth: u16,
    tls: u16,
    mtls: u16,
    ca: String,
    client_cert: String,
    client_key: String,
    rogue_cert: String,
    rogue_key: String,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let now = time::OffsetDateTime::now_utc();
    let pki = LabPki::generate(now).expect("pki");
    let d = dir.path();
    let ca = write(d, "ca.pem", &pki.root.issued.cert_pem());
    let chain = write(
        d,
        "server-chain.pem",
        &format!(
            "{}{}",
            pki.good.cert_pem(),
            pki.intermediate.issued.cert_pem()
        ),
    );
    let key = write(d, "server.key", &pki.good.key_pem());
    let client_ca = write(d, "client-ca.pem", &pki.client_ca.issued.cert_pem());
    let client_cert = write(d, "client.pem", &pki.client.cert_pem());
    let client_key = write(d, "client.key", &pki.client.key_pem());
    // Sent with its root, so the only fault is the CA (a leaf alone is
    // tls.client_chain_incomplete: its issuer could be a missing intermediate).
    let rogue_cert = write(
        d,
        "rogue.pem",
        &(pki.rogue_client.cert_pem() + &pki.rogue_root.issued.cert_pem()),
    );
    let rogue_key = write(d, "rogue.key", &pki.rogue_client.key_pem());
    let passwd = d.join("passwd");
    let status = Command::new("mosquitto_passwd")
        .args(["-b", "-c"])
        .arg(&passwd)
        .args(["alice", "right"])
        .status()
        .expect("mosquitto_passwd runs");
    assert!(status.success());
    let acl = write(d, "acl", "user alice\ntopic read sensors/#\n");
    let (plain, auth, tls, mtls) = (free_port(), free_port(), free_port(), free_port());
    let config = format!(
        "listener {plain} 127.0.0.1\nallow_anonymous true\n\n\
         listener {auth} 127.0.0.1\nallow_anonymous false\npassword_file {}\nacl_file {}\n\n\
         listener {tls} 127.0.0.1\nallow_anonymous true\ncertfile {}\nkeyfile {}\n\n\
         listener {mtls} 127.0.0.1\nallow_anonymous true\ncertfile {}\nkeyfile {}\ncafile {}\nrequire_certificate true\n",
        passwd.display(),
        acl.display(),
        chain.display(),
        key.display(),
        chain.display(),
        key.display(),
        client_ca.display(),
    );
    let m = Mosquitto::start(dir, &config, &[plain, auth, tls, mtls]);
    Setup {
        _m: m,
        plain,
        auth,
        tls,
        mtls,
        ca: ca.display().to_string(),
        client_cert: client_cert.display().to_string(),
        client_key: client_key.display().to_string(),
        rogue_cert: rogue_cert.display().to_string(),
        rogue_key: rogue_key.display().to_string(),
    }
}

#[test]
fn real_mosquitto_verdicts() {
    let s = setup();
    let url = |scheme: &str, port: u16| format!("{scheme}://127.0.0.1:{port}");
    let mut failures = Vec::new();
    let mut expect =
        |name: &str, args: Vec<String>, env: &[(&str, &str)], want: &str, code: i32| {
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            let (got_code, json) = check_json(&refs, env);
            let got = cause(&json);
            if got != want || got_code != code {
                failures.push(format!(
                    "{name}: expected {want} (exit {code}), got {got} (exit {got_code})\n{json:#}"
                ));
            }
            json
        };
    let sv = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();

    let ok = expect(
        "plain ok",
        sv(&[&url("mqtt", s.plain), "--topic", "sensors/#"]),
        &[],
        "ok",
        0,
    );
    assert!(
        ok["stages"][5]["facts"]["round_trip_ms"].is_number(),
        "{ok:#}"
    );
    expect(
        "plain ok v3.1.1",
        sv(&[&url("mqtt", s.plain), "--mqtt-version", "3"]),
        &[],
        "ok",
        0,
    );
    let tls = expect(
        "tls ok",
        sv(&[&format!("mqtts://localhost:{}", s.tls), "--ca", &s.ca]),
        &[],
        "ok",
        0,
    );
    assert_eq!(
        tls["tls"]["chain"].as_array().map(|c| c.len()),
        Some(2),
        "{tls:#}"
    );
    expect(
        "wrong password",
        sv(&[&url("mqtt", s.auth), "-u", "alice", "--password-env", "PW"]),
        &[("PW", "wrong")],
        "mqtt.not_authorized",
        14,
    );
    expect(
        "no credentials",
        sv(&[&url("mqtt", s.auth)]),
        &[],
        "mqtt.not_authorized",
        14,
    );
    expect(
        "wrong password 3.1.1",
        sv(&[
            &url("mqtt", s.auth),
            "-u",
            "alice",
            "--password-env",
            "PW",
            "--mqtt-version",
            "3",
        ]),
        &[("PW", "wrong")],
        "mqtt.not_authorized",
        14,
    );
    let acl = expect(
        "acl denies the round trip",
        sv(&[
            &url("mqtt", s.auth),
            "-u",
            "alice",
            "--password-env",
            "PW",
            "--topic",
            "sensors/#",
            "--timeout",
            "2",
        ]),
        &[("PW", "right")],
        "sub.no_round_trip",
        15,
    );
    assert!(
        acl["stages"][5]["facts"]["granted"]
            .to_string()
            .contains("sensors/#"),
        "{acl:#}"
    );
    expect(
        "read-only account with --no-publish",
        sv(&[
            &url("mqtt", s.auth),
            "-u",
            "alice",
            "--password-env",
            "PW",
            "--topic",
            "sensors/#",
            "--no-publish",
        ]),
        &[("PW", "right")],
        "ok",
        0,
    );
    expect(
        "plain MQTT to the TLS port",
        sv(&[&url("mqtt", s.tls)]),
        &[],
        "mqtt.tls_required",
        14,
    );
    let not_tls = expect(
        "TLS to the plain port",
        sv(&[&url("mqtts", s.plain), "--ca", &s.ca]),
        &[],
        "tls.not_tls",
        12,
    );
    assert!(
        not_tls["verdict"]["summary"]
            .as_str()
            .unwrap_or("")
            .contains("plain MQTT"),
        "{not_tls:#}"
    );
    let req = expect(
        "require_certificate without one",
        sv(&[&url("mqtts", s.mtls), "--ca", &s.ca]),
        &[],
        "tls.client_cert_required",
        12,
    );
    // Mosquitto (OpenSSL) sends no CA names in its CertificateRequest.
    assert!(
        req["verdict"]["summary"]
            .as_str()
            .unwrap_or("")
            .contains("requires a client certificate"),
        "{req:#}"
    );
    let rejected = expect(
        "client certificate from an untrusted CA",
        sv(&[
            &url("mqtts", s.mtls),
            "--ca",
            &s.ca,
            "--cert",
            &s.rogue_cert,
            "--key",
            &s.rogue_key,
        ]),
        &[],
        "tls.client_cert_rejected",
        12,
    );
    assert!(
        rejected["verdict"]["summary"]
            .as_str()
            .unwrap_or("")
            .contains("Unknown Rogue CA"),
        "{rejected:#}"
    );
    expect(
        "mutual TLS",
        sv(&[
            &url("mqtts", s.mtls),
            "--ca",
            &s.ca,
            "--cert",
            &s.client_cert,
            "--key",
            &s.client_key,
        ]),
        &[],
        "ok",
        0,
    );
    expect(
        "untrusted without --ca",
        sv(&[&format!("mqtts://localhost:{}", s.tls)]),
        &[],
        "tls.untrusted_root",
        12,
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
