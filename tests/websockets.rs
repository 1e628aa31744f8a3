//! MQTT over WebSockets against a real Mosquitto (`protocol websockets`, plain and TLS), and
//! through real proxies: tinyproxy (HTTP CONNECT) and microsocks (SOCKS5), each started by
//! the test with its own config on a free port and killed on drop. A missing daemon fails the
//! test: `scripts/test` installs them.

mod common;

use common::*;
use mqtt_doctor::lab::pki::LabPki;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A daemon started by the test, killed on drop.
struct Daemon {
    child: Child,
    name: &'static str,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Daemon {
    fn start(name: &'static str, args: &[String], log: &Path, port: u16) -> Daemon {
        let out = std::fs::File::create(log).expect("log file");
        let err = out.try_clone().expect("log file");
        let child = Command::new(name)
            .args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("{name} must be installed (scripts/test installs it): {e}"));
        let mut d = Daemon { child, name };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = d.child.try_wait() {
                panic!(
                    "{} exited ({status}) before opening port {port}; log:\n{}",
                    d.name,
                    std::fs::read_to_string(log).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "{} did not open port {port}; log:\n{}",
                d.name,
                std::fs::read_to_string(log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        d
    }
}

struct Setup {
    _m: Mosquitto,
    _daemons: Vec<Daemon>,
    plain: u16,
    ws: u16,
    wss: u16,
    /// TLS WebSockets with `require_certificate` (a TLS 1.3 broker judges it after the
    /// handshake, where the 101 is due).
    wss_mtls: u16,
    client_cert: String,
    client_key: String,
    tinyproxy: u16,
    tinyproxy_auth: u16,
    socks: u16,
    socks_auth: u16,
    ca: String,
}

fn tinyproxy(dir: &Path, name: &str, port: u16, allowed: &[u16], auth: bool) -> Daemon {
    let mut conf = format!(
        "Port {port}\nListen 127.0.0.1\nTimeout 30\nMaxClients 20\nLogLevel Info\nAllow 127.0.0.1\n"
    );
    // Only these CONNECT ports are allowed: any other target gets 403.
    for p in allowed {
        conf.push_str(&format!("ConnectPort {p}\n"));
    }
    if auth {
        conf.push_str("BasicAuth alice s3cret\n");
    }
    let path = write(dir, &format!("{name}.conf"), &conf);
    Daemon::start(
        "tinyproxy",
        &["-d".into(), "-c".into(), path.display().to_string()],
        &dir.join(format!("{name}.log")),
        port,
    )
}

fn microsocks(dir: &Path, name: &str, port: u16, auth: bool) -> Daemon {
    let mut args = vec![
        "-i".to_string(),
        "127.0.0.1".into(),
        "-p".into(),
        port.to_string(),
    ];
    if auth {
        args.extend(["-u".into(), "alice".into(), "-P".into(), "s3cret".into()]);
    }
    Daemon::start("microsocks", &args, &dir.join(format!("{name}.log")), port)
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = LabPki::generate(time::OffsetDateTime::now_utc()).expect("pki");
    let d = dir.path().to_path_buf();
    let ca = write(&d, "ca.pem", &pki.root.issued.cert_pem());
    let chain = write(
        &d,
        "server-chain.pem",
        &format!(
            "{}{}",
            pki.good.cert_pem(),
            pki.intermediate.issued.cert_pem()
        ),
    );
    let key = write(&d, "server.key", &pki.good.key_pem());
    let client_ca = write(&d, "client-ca.pem", &pki.client_ca.issued.cert_pem());
    let client_cert = write(&d, "client.pem", &pki.client.cert_pem());
    let client_key = write(&d, "client.key", &pki.client.key_pem());
    let (plain, ws, wss, wss_mtls) = (free_port(), free_port(), free_port(), free_port());
    let config = format!(
        "listener {plain} 127.0.0.1\nallow_anonymous true\n\n\
         listener {ws} 127.0.0.1\nprotocol websockets\nallow_anonymous true\n\n\
         listener {wss} 127.0.0.1\nprotocol websockets\nallow_anonymous true\ncertfile {}\nkeyfile {}\n\n\
         listener {wss_mtls} 127.0.0.1\nprotocol websockets\nallow_anonymous true\ncertfile {}\nkeyfile {}\ncafile {}\nrequire_certificate true\n",
        chain.display(),
        key.display(),
        chain.display(),
        key.display(),
        client_ca.display(),
    );
    let m = Mosquitto::start(dir, &config, &[plain, ws, wss, wss_mtls]);
    let (tp, tpa, socks, socks_auth) = (free_port(), free_port(), free_port(), free_port());
    let daemons = vec![
        tinyproxy(&d, "tinyproxy", tp, &[ws, wss], false),
        tinyproxy(&d, "tinyproxy-auth", tpa, &[ws, wss], true),
        microsocks(&d, "microsocks", socks, false),
        microsocks(&d, "microsocks-auth", socks_auth, true),
    ];
    Setup {
        _m: m,
        _daemons: daemons,
        plain,
        ws,
        wss,
        wss_mtls,
        client_cert: client_cert.display().to_string(),
        client_key: client_key.display().to_string(),
        tinyproxy: tp,
        tinyproxy_auth: tpa,
        socks,
        socks_auth,
        ca: ca.display().to_string(),
    }
}

fn stage<'a>(json: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    json["stages"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["stage"] == id))
        .unwrap_or(&serde_json::Value::Null)
}

#[test]
fn websockets_and_proxies_against_real_daemons() {
    let s = setup();
    let mut failures = Vec::new();
    let mut expect = |name: &str, args: &[&str], env: &[(&str, &str)], want: &str, code: i32| {
        let (got_code, json) = check_json(args, env);
        let got = cause(&json);
        if got != want || got_code != code {
            failures.push(format!(
                "{name}: expected {want} (exit {code}), got {got} (exit {got_code})\n{json:#}"
            ));
        }
        json
    };
    let ws = format!("ws://127.0.0.1:{}/mqtt", s.ws);
    let ws_name = format!("ws://localhost:{}/mqtt", s.ws);
    let wss = format!("wss://localhost:{}/mqtt", s.wss);

    // Mosquitto's websockets listener, plain and TLS, MQTT 5 and 3.1.1.
    let ok = expect("ws ok", &[&ws], &[], "ok", 0);
    let w = stage(&ok, "ws");
    assert_eq!(w["facts"]["status"], "101 Switching Protocols", "{ok:#}");
    assert_eq!(w["facts"]["subprotocol"], "mqtt", "{ok:#}");
    assert_eq!(w["facts"]["request"], "GET /mqtt HTTP/1.1", "{ok:#}");
    assert!(
        stage(&ok, "sub")["facts"]["round_trip_ms"].is_number(),
        "{ok:#}"
    );
    assert_eq!(stage(&ok, "mqtt")["facts"]["protocol"], "MQTT 5", "{ok:#}");
    let v3 = expect("ws ok 3.1.1", &[&ws, "--mqtt-version", "3"], &[], "ok", 0);
    assert_eq!(
        stage(&v3, "mqtt")["facts"]["protocol"],
        "MQTT 3.1.1",
        "{v3:#}"
    );
    assert_eq!(
        stage(&v3, "ws")["facts"]["subprotocols_offered"],
        "mqtt, mqttv3.1",
        "{v3:#}"
    );
    let secure = expect("wss ok", &[&wss, "--ca", &s.ca], &[], "ok", 0);
    assert!(secure["tls"]["version"].is_string(), "{secure:#}");
    expect(
        "wss ok 3.1.1",
        &[&wss, "--ca", &s.ca, "--mqtt-version", "3"],
        &[],
        "ok",
        0,
    );
    expect("wss without the CA", &[&wss], &[], "tls.untrusted_root", 12);
    // require_certificate over wss: the refusal comes where the 101 was due and is tls's.
    let mtls = format!("wss://localhost:{}/mqtt", s.wss_mtls);
    let refused = expect(
        "wss require_certificate without one",
        &[&mtls, "--ca", &s.ca],
        &[],
        "tls.client_cert_required",
        12,
    );
    assert_eq!(stage(&refused, "ws")["status"], "skipped", "{refused:#}");
    expect(
        "wss mutual TLS",
        &[
            &mtls,
            "--ca",
            &s.ca,
            "--cert",
            &s.client_cert,
            "--key",
            &s.client_key,
        ],
        &[],
        "ok",
        0,
    );
    let hdr = expect(
        "ws with a secret header",
        &[&ws, "--header", "Authorization: Bearer do-not-print-me"],
        &[],
        "ok",
        0,
    );
    assert!(
        !hdr.to_string().contains("do-not-print-me"),
        "a header value leaked: {hdr:#}"
    );
    assert_eq!(
        stage(&hdr, "ws")["facts"]["extra_headers"][0],
        "Authorization"
    );
    let not_http = expect(
        "ws:// to the plain MQTT port",
        &[&format!("ws://127.0.0.1:{}", s.plain)],
        &[],
        "ws.not_http",
        13,
    );
    assert!(
        not_http["verdict"]["remedy"]
            .as_str()
            .unwrap_or("")
            .contains("plain MQTT"),
        "{not_http:#}"
    );

    // tinyproxy: HTTP CONNECT.
    let tp = format!("http://127.0.0.1:{}", s.tinyproxy);
    let via = expect("ws via tinyproxy", &[&ws, "--proxy", &tp], &[], "ok", 0);
    let p = stage(&via, "proxy");
    assert!(
        p["facts"]["status"]
            .as_str()
            .unwrap_or("")
            .contains(" 200 "),
        "{via:#}"
    );
    // tinyproxy names itself only on refusals; a success carries the timing.
    assert!(p["facts"]["proxy_ms"].is_number(), "{via:#}");
    expect(
        "wss via tinyproxy",
        &[&wss, "--ca", &s.ca, "--proxy", &tp],
        &[],
        "ok",
        0,
    );
    expect(
        "tinyproxy refuses a port outside ConnectPort",
        &[&format!("mqtt://127.0.0.1:{}", s.plain), "--proxy", &tp],
        &[],
        "proxy.denied",
        16,
    );
    expect(
        "tinyproxy BasicAuth without credentials",
        &[
            &ws,
            "--proxy",
            &format!("http://127.0.0.1:{}", s.tinyproxy_auth),
        ],
        &[],
        "proxy.auth_required",
        16,
    );
    expect(
        "tinyproxy BasicAuth with a wrong password",
        &[
            &ws,
            "--proxy",
            &format!("http://alice@127.0.0.1:{}", s.tinyproxy_auth),
            "--proxy-password-env",
            "PPW",
        ],
        &[("PPW", "wrong")],
        "proxy.auth_required",
        16,
    );
    expect(
        "tinyproxy BasicAuth with credentials",
        &[
            &ws,
            "--proxy",
            &format!("http://alice@127.0.0.1:{}", s.tinyproxy_auth),
            "--proxy-password-env",
            "PPW",
        ],
        &[("PPW", "s3cret")],
        "ok",
        0,
    );
    let env = expect(
        "--proxy env takes HTTPS_PROXY for wss",
        &[&wss, "--ca", &s.ca, "--proxy", "env"],
        &[("HTTPS_PROXY", &tp), ("NO_PROXY", "example.com")],
        "ok",
        0,
    );
    assert!(
        stage(&env, "proxy")["facts"]["proxy"]
            .as_str()
            .unwrap_or("")
            .contains("HTTPS_PROXY"),
        "{env:#}"
    );
    let direct = expect(
        "--proxy env honours NO_PROXY",
        &[&wss, "--ca", &s.ca, "--proxy", "env"],
        &[("HTTPS_PROXY", &tp), ("NO_PROXY", "localhost")],
        "ok",
        0,
    );
    assert!(
        stage(&direct, "proxy").is_null(),
        "no proxy stage without a proxy: {direct:#}"
    );

    // microsocks: SOCKS5, the broker's name resolved by the proxy.
    let socks = format!("socks5://127.0.0.1:{}", s.socks);
    let sv = expect(
        "ws via microsocks",
        &[&ws_name, "--proxy", &socks],
        &[],
        "ok",
        0,
    );
    assert!(
        stage(&sv, "dns")["facts"]["target"]
            .as_str()
            .unwrap_or("")
            .contains("resolved by the SOCKS5 proxy"),
        "{sv:#}"
    );
    assert_eq!(
        stage(&sv, "proxy")["facts"]["reply"],
        "0x00 succeeded",
        "{sv:#}"
    );
    expect(
        "plain MQTT via microsocks",
        &[&format!("mqtt://localhost:{}", s.plain), "--proxy", &socks],
        &[],
        "ok",
        0,
    );
    let socks_auth = format!("socks5://alice@127.0.0.1:{}", s.socks_auth);
    expect(
        "microsocks with user and password",
        &[
            &wss,
            "--ca",
            &s.ca,
            "--proxy",
            &socks_auth,
            "--proxy-password-env",
            "PPW",
        ],
        &[("PPW", "s3cret")],
        "ok",
        0,
    );
    expect(
        "microsocks refuses a wrong password",
        &[&ws, "--proxy", &socks_auth, "--proxy-password-env", "PPW"],
        &[("PPW", "wrong")],
        "proxy.auth_required",
        16,
    );
    expect(
        "microsocks wants credentials",
        &[
            &ws,
            "--proxy",
            &format!("socks5://127.0.0.1:{}", s.socks_auth),
        ],
        &[],
        "proxy.auth_required",
        16,
    );
    expect(
        "microsocks: nothing listens on the target port",
        &[
            &format!("mqtt://127.0.0.1:{}", free_port()),
            "--proxy",
            &socks,
        ],
        &[],
        "proxy.refused",
        16,
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
