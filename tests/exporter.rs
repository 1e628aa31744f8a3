//! `mqtt-doctor exporter` against real servers: lab brokers, a real Prometheus scraping it with
//! the README's scrape config and alert rules, promtool, and 200 concurrent scrapes.

mod common;

use common::*;
use mqtt_doctor::lab::{Lab, Scenario};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CANARY: &str = "canary-exporter-pw-5d21";

/// One profile table for a lab scenario (its `check` arguments as profile fields).
fn profile_toml(name: &str, s: &Scenario, extra: &str) -> String {
    let mut top = format!("\n[profiles.{name}]\nurl = \"{}\"\n{extra}", s.url);
    let mut tls = String::new();
    let mut args = s.args.iter();
    while let Some(a) = args.next() {
        let v = args.next().expect("a value");
        match a.as_str() {
            "--ca" => tls.push_str(&format!("ca = {{ file = \"{v}\" }}\n")),
            "--cert" => tls.push_str(&format!("client_cert = {{ file = \"{v}\" }}\n")),
            "--key" => tls.push_str(&format!("client_key = {{ file = \"{v}\" }}\n")),
            "--timeout" => top.push_str(&format!("timeout_secs = {v}\n")),
            "--username" => top.push_str(&format!("username = \"{v}\"\n")),
            "--password-env" => top.push_str(&format!("password = {{ env = \"{v}\" }}\n")),
            "--mqtt-version" => top.push_str(&format!("mqtt_version = {v}\n")),
            other => panic!("unexpected {other}"),
        }
    }
    if !tls.is_empty() {
        top.push_str(&format!("\n[profiles.{name}.tls]\n{tls}"));
    }
    top
}

/// Writes profiles.toml with `(name, scenario id, extra fields)` rows.
fn profiles(dir: &Path, lab: &Lab, rows: &[(&str, &str, &str)]) -> PathBuf {
    let mut toml = String::from("version = 1\n");
    for (name, id, extra) in rows {
        let s = lab
            .scenario(id)
            .unwrap_or_else(|| panic!("no scenario {id}"));
        toml.push_str(&profile_toml(name, s, extra));
    }
    write(dir, "profiles.toml", &toml)
}

/// The exporter binary, killed on drop; stderr goes to a file the tests read.
struct Exporter {
    child: Child,
    addr: String,
    stderr: PathBuf,
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Exporter {
    fn start(dir: &Path, profiles: &Path, exporter_toml: Option<&str>) -> Exporter {
        let stderr = dir.join("exporter.stderr");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mqtt-doctor"));
        cmd.args(["--config", &profiles.display().to_string()])
            .args(["exporter", "--listen", "127.0.0.1:0"])
            .env("LAB_PASSWORD", CANARY)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap());
        if let Some(text) = exporter_toml {
            cmd.arg("--exporter-config")
                .arg(write(dir, "exporter.toml", text));
        }
        let mut child = cmd.spawn().expect("the binary starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_string();
        Exporter {
            child,
            addr,
            stderr,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM")
    }
}

/// A plain HTTP/1.1 GET; returns (status, body).
async fn get(addr: &str, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let body = raw.get(split + 4..).unwrap_or_default();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = if head.contains("transfer-encoding: chunked") {
        dechunk(body)
    } else {
        body.to_vec()
    };
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// Joins an HTTP/1.1 chunked body (Prometheus' API answers that way).
fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
        let size = String::from_utf8_lossy(&rest[..eol]);
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        let start = eol + 2;
        if n == 0 || rest.len() < start + n {
            break;
        }
        out.extend_from_slice(&rest[start..start + n]);
        rest = rest.get(start + n + 2..).unwrap_or_default();
    }
    out
}

fn promtool(args: &[&str], stdin: Option<&str>, dir: &Path) -> (bool, String) {
    let mut child = Command::new("promtool")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool must be installed (scripts/test installs it)");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// The fenced block after `<!-- exporter: NAME -->` in README.md.
fn readme_block(name: &str) -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let marker = format!("<!-- exporter: {name} -->");
    let at = readme
        .find(&marker)
        .unwrap_or_else(|| panic!("no {marker}"));
    let rest = &readme[at..];
    let start = rest.find("```yaml\n").expect("a yaml block") + 8;
    let len = rest[start..].find("```").expect("its end");
    rest[start..start + len].to_string()
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// A Prometheus process with its own config, data dir and port, killed on drop.
struct Prometheus {
    child: Child,
    addr: String,
    log: PathBuf,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Prometheus {
    async fn start(dir: &Path, config: &str) -> Prometheus {
        let conf = write(dir, "prometheus.yml", config);
        let log = dir.join("prometheus.log");
        let addr = format!("127.0.0.1:{}", free_port());
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", conf.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("prometheus must be installed (scripts/test installs it)");
        let p = Prometheus { child, addr, log };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if tokio::net::TcpStream::connect(&p.addr).await.is_ok()
                && get(&p.addr, "/-/ready", &[]).await.0 == 200
            {
                return p;
            }
            assert!(
                Instant::now() < deadline,
                "prometheus did not start:\n{}",
                std::fs::read_to_string(&p.log).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The result vector of an instant query.
    async fn query(&self, expr: &str) -> Vec<serde_json::Value> {
        let q: String = url::form_urlencoded::byte_serialize(expr.as_bytes()).collect();
        let (status, body) = get(&self.addr, &format!("/api/v1/query?query={q}"), &[]).await;
        assert_eq!(status, 200, "{expr}: {body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        v["data"]["result"].as_array().cloned().unwrap_or_default()
    }
}

fn value(series: &serde_json::Value) -> f64 {
    series["value"][1].as_str().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_lab_brokers_and_finds_success_causes_and_expiry() {
    let lab = Lab::start().await.expect("lab");
    let dir = tempfile::tempdir().unwrap();
    let profiles = profiles(
        dir.path(),
        &lab,
        &[
            ("healthy", "ok.mtls", ""),
            ("expiring", "ok.expires_soon", ""),
            ("expired", "tls.cert_expired", ""),
            ("refused", "mqtt.not_authorized", ""),
            // username alice, password from LAB_PASSWORD (the exporter's environment).
            ("login", "mqtt.bad_username_or_password", ""),
        ],
    );
    let exporter = Exporter::start(dir.path(), &profiles, None);
    // The README's scrape config, pointed at this exporter and these profiles, scraping fast.
    let scrape = readme_block("scrape-config")
        .replace("127.0.0.1:9742", &exporter.addr)
        .replace(
            "[broker-eu, broker-us]",
            "[healthy, expiring, expired, refused, login]",
        )
        .replace("scrape_interval: 30s", "scrape_interval: 2s")
        .replace("scrape_timeout: 10s", "scrape_timeout: 2s");
    write(dir.path(), "rules.yml", &readme_block("rules"));
    let config = format!(
        "global:\n  scrape_interval: 2s\n  scrape_timeout: 2s\n  evaluation_interval: 1s\nrule_files: [rules.yml]\n{scrape}"
    );
    let prom = Prometheus::start(dir.path(), &config).await;

    // A few scrapes of every profile.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let counts = prom
            .query("count_over_time(mqtt_doctor_probe_success[1m]) >= 2")
            .await;
        let alerts = prom.query("ALERTS").await;
        if counts.len() == 5 && alerts.len() >= 2 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not enough scrapes: {counts:?} {alerts:?}\nexporter:\n{}\nprometheus:\n{}",
            exporter.log(),
            std::fs::read_to_string(&prom.log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    let up = prom.query("up").await;
    assert_eq!(up.len(), 6, "{up:?}");
    assert!(up.iter().all(|s| value(s) == 1.0), "{up:?}");

    let success = |name: &str| format!("mqtt_doctor_probe_success{{instance=\"{name}\"}}");
    for (name, expected) in [
        ("healthy", 1.0),
        ("expiring", 1.0),
        ("expired", 0.0),
        ("refused", 0.0),
        ("login", 0.0),
    ] {
        let r = prom.query(&success(name)).await;
        assert_eq!(r.len(), 1, "{name}: {r:?}");
        let why = (
            prom.query("mqtt_doctor_probe_error_info").await,
            exporter.log(),
        );
        assert_eq!(value(&r[0]), expected, "{name}: {r:?} {why:?}");
    }

    let failed = prom.query("mqtt_doctor_probe_failed_info").await;
    let mut causes: Vec<(String, String, String)> = failed
        .iter()
        .map(|s| {
            let m = &s["metric"];
            (
                m["instance"].as_str().unwrap().to_string(),
                m["stage"].as_str().unwrap().to_string(),
                m["cause"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    causes.sort();
    let row = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
    assert_eq!(
        causes,
        vec![
            row("expired", "tls", "tls.cert_expired"),
            row("login", "mqtt", "mqtt.bad_username_or_password"),
            row("refused", "mqtt", "mqtt.not_authorized"),
        ]
    );
    let code = prom
        .query("mqtt_doctor_connack_reason_code{instance=\"refused\"}")
        .await;
    assert_eq!(value(&code[0]), 135.0, "0x87 Not authorized: {code:?}");
    let code = prom
        .query("mqtt_doctor_connack_reason_code{instance=\"healthy\"}")
        .await;
    assert_eq!(value(&code[0]), 0.0, "{code:?}");
    let tls = prom
        .query("mqtt_doctor_tls_version_info{instance=\"healthy\"}")
        .await;
    assert_eq!(tls[0]["metric"]["version"], "TLS 1.3", "{tls:?}");
    let rtt = prom
        .query("mqtt_doctor_round_trip_seconds{instance=\"healthy\"}")
        .await;
    assert!(value(&rtt[0]) > 0.0 && value(&rtt[0]) < 1.0, "{rtt:?}");
    let stages = prom
        .query("mqtt_doctor_stage_duration_seconds{instance=\"healthy\"}")
        .await;
    assert_eq!(stages.len(), 5, "dns tcp tls mqtt sub: {stages:?}");

    // Certificates: the lab's expiring leaf has 5 days left, the expired one ended 3 days ago;
    // the mTLS profile's own client certificate is watched too.
    let days_left = |series: &serde_json::Value| (value(series) - now()) / 86400.0;
    let leaf = prom
        .query("mqtt_doctor_cert_not_after_timestamp_seconds{instance=\"expiring\",position=\"server.0\"}")
        .await;
    assert_eq!(leaf.len(), 1, "{leaf:?}");
    let left = days_left(&leaf[0]);
    assert!((4.0..=5.1).contains(&left), "{left} days: {leaf:?}");
    let fp = leaf[0]["metric"]["fingerprint"].as_str().unwrap();
    assert_eq!(fp.len(), 95, "SHA-256 as AA:BB:…: {fp}");
    let expired = prom
        .query("mqtt_doctor_cert_not_after_timestamp_seconds{instance=\"expired\",position=\"server.0\"}")
        .await;
    assert_eq!(expired.len(), 1, "{expired:?}");
    let ago = -days_left(&expired[0]);
    assert!((2.9..=3.1).contains(&ago), "{ago} days ago: {expired:?}");
    assert!(
        expired[0]["metric"]["subject"]
            .as_str()
            .unwrap()
            .contains("CN=expired lab broker"),
        "{expired:?}"
    );
    let client = prom
        .query("mqtt_doctor_cert_not_after_timestamp_seconds{instance=\"healthy\",position=\"client.0\"}")
        .await;
    assert_eq!(client.len(), 1, "{client:?}");

    // The README's rules, evaluated by this Prometheus against these series.
    let soon = prom
        .query("ALERTS{alertname=\"MqttDoctorCertificateExpiresSoon\"}")
        .await;
    assert!(
        soon.iter().all(|a| a["metric"]["instance"] == "expiring"),
        "{soon:?}"
    );
    assert!(
        soon.iter().any(|a| a["metric"]["position"] == "server.0"),
        "{soon:?}"
    );
    let gone = prom
        .query("ALERTS{alertname=\"MqttDoctorCertificateExpired\"}")
        .await;
    assert!(
        gone.iter()
            .any(|a| a["metric"]["instance"] == "expired" && a["metric"]["position"] == "server.0"),
        "{gone:?}"
    );
    let pending = prom
        .query("ALERTS{alertname=\"MqttDoctorProbeFailing\",alertstate=\"pending\"}")
        .await;
    assert_eq!(
        pending.len(),
        3,
        "failing for less than 5 minutes: {pending:?}"
    );

    // The exporter's own health, scraped by the second job.
    let ok = prom
        .query("mqtt_doctor_exporter_probes_total{result=\"success\"}")
        .await;
    // Two scrapes of each healthy profile were waited for; the self-scrape may lag one.
    assert!(value(&ok[0]) >= 2.0, "{ok:?}");

    // No secret anywhere: not in a stored series, not in the exporter's log.
    let all = prom.query("{__name__=~\"mqtt_doctor.+\"}").await;
    let stored = serde_json::to_string(&all).unwrap();
    assert!(!stored.contains(CANARY));
    assert!(!stored.contains("alice"), "no user name in a label");
    assert!(!exporter.log().contains(CANARY));
    let (_, body) = get(&exporter.addr, "/probe?profile=login", &[]).await;
    assert!(
        !body.contains(CANARY) && body.contains("mqtt.bad_username_or_password"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promtool_accepts_every_probe_answer() {
    let lab = Lab::start().await.expect("lab");
    let dir = tempfile::tempdir().unwrap();
    let rows = [
        ("healthy", "ok.mtls", ""),
        ("expiring", "ok.expires_soon", ""),
        ("refused", "mqtt.not_authorized", ""),
        ("hostile", "mqtt.not_authorized.escapes", ""),
        ("untrusted", "tls.untrusted_root", ""),
    ];
    let profiles = profiles(dir.path(), &lab, &rows);
    let exporter = Exporter::start(dir.path(), &profiles, None);
    let names = rows.iter().map(|r| r.0).chain(["no-such-profile"]);
    for name in names {
        let (status, body) = get(&exporter.addr, &format!("/probe?profile={name}"), &[]).await;
        assert_eq!(status, 200, "{name}: {body}");
        assert!(body.ends_with("# EOF\n"), "{name}: {body}");
        let (ok, out) = promtool(&["check", "metrics"], Some(&body), dir.path());
        assert!(ok, "{name}: promtool check metrics: {out}\n{body}");
    }
}

const RULES_TEST: &str = r#"rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      # notAfter at 10 days, and one at 5 minutes after the start (expired at 10m).
      - series: 'mqtt_doctor_cert_not_after_timestamp_seconds{job="mqtt-doctor",instance="broker-eu",position="server.0",subject="CN=broker.example.com",fingerprint="AB:CD"}'
        values: '864000x20'
      - series: 'mqtt_doctor_cert_not_after_timestamp_seconds{job="mqtt-doctor",instance="broker-us",position="server.1",subject="CN=Old CA",fingerprint="EF:01"}'
        values: '300x20'
      - series: 'mqtt_doctor_cert_not_after_timestamp_seconds{job="mqtt-doctor",instance="broker-ok",position="server.0",subject="CN=fresh",fingerprint="23:45"}'
        values: '31536000x20'
      - series: 'mqtt_doctor_probe_success{job="mqtt-doctor",instance="broker-us"}'
        values: '1 0x10'
      - series: 'mqtt_doctor_probe_failed_info{job="mqtt-doctor",instance="broker-us",stage="mqtt",cause="mqtt.not_authorized"}'
        values: '_ 1x10'
    alert_rule_test:
      - eval_time: 10m
        alertname: MqttDoctorCertificateExpiresSoon
        exp_alerts:
          - exp_labels: {severity: warning, job: mqtt-doctor, instance: broker-eu, position: server.0, subject: CN=broker.example.com, fingerprint: "AB:CD"}
            exp_annotations:
              summary: A certificate of broker-eu expires within 14 days
              description: CN=broker.example.com (server.0, SHA-256 AB:CD) expires in 9d 23h 50m 0s.
      - eval_time: 10m
        alertname: MqttDoctorCertificateExpired
        exp_alerts:
          - exp_labels: {severity: critical, job: mqtt-doctor, instance: broker-us, position: server.1, subject: CN=Old CA, fingerprint: "EF:01"}
            exp_annotations:
              summary: A certificate of broker-us has expired
              description: CN=Old CA (server.1, SHA-256 EF:01) expired 5m 0s ago.
      - eval_time: 4m
        alertname: MqttDoctorProbeFailing
      - eval_time: 7m
        alertname: MqttDoctorProbeFailing
        exp_alerts:
          - exp_labels: {severity: critical, job: mqtt-doctor, instance: broker-us}
            exp_annotations:
              summary: MQTT broker broker-us has failed every probe for 5 minutes
              description: "Failed at the mqtt stage: mqtt.not_authorized; `mqtt-doctor check --profile broker-us` explains it."
"#;

#[test]
fn the_readme_rules_pass_promtool_and_the_expiry_alerts_fire() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "rules.yml", &readme_block("rules"));
    let (ok, out) = promtool(&["check", "rules", "rules.yml"], None, dir.path());
    assert!(ok && out.contains("SUCCESS: 3 rules found"), "{out}");
    write(dir.path(), "rules_test.yml", RULES_TEST);
    let (ok, out) = promtool(&["test", "rules", "rules_test.yml"], None, dir.path());
    assert!(ok && out.contains("SUCCESS"), "{out}");
    let scrape = readme_block("scrape-config");
    write(
        dir.path(),
        "prometheus.yml",
        &format!("rule_files: [rules.yml]\n{scrape}"),
    );
    let (ok, out) = promtool(&["check", "config", "prometheus.yml"], None, dir.path());
    assert!(ok, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scrape_timeout_bounds_the_probe_and_names_the_stage() {
    let lab = Lab::start().await.expect("lab");
    let dir = tempfile::tempdir().unwrap();
    // The broker never sends a CONNACK and the profile allows 30 s per stage.
    let profiles = profiles(dir.path(), &lab, &[("mute", "ok.plain", "")]);
    let mute = lab.scenario("mqtt.connack_timeout").unwrap().url.clone();
    std::fs::write(
        &profiles,
        format!("version = 1\n[profiles.mute]\nurl = \"{mute}\"\ntimeout_secs = 30\n"),
    )
    .unwrap();
    let exporter = Exporter::start(dir.path(), &profiles, None);
    let started = Instant::now();
    let (status, body) = get(
        &exporter.addr,
        "/probe?profile=mute",
        &[("X-Prometheus-Scrape-Timeout-Seconds", "2")],
    )
    .await;
    let took = started.elapsed();
    assert_eq!(status, 200, "{body}");
    assert!(took < Duration::from_secs(2), "answered after {took:?}");
    assert!(
        took >= Duration::from_millis(1400),
        "waited the deadline: {took:?}"
    );
    assert!(body.contains("mqtt_doctor_probe_success 0"), "{body}");
    assert!(
        body.contains(
            "mqtt_doctor_probe_failed_info{stage=\"mqtt\",cause=\"mqtt.connack_timeout\"} 1"
        ),
        "{body}"
    );
    // Without the header, the configured default applies.
    let exporter = Exporter::start(dir.path(), &profiles, Some("default_timeout_secs = 1\n"));
    let started = Instant::now();
    let (_, body) = get(&exporter.addr, "/probe?profile=mute", &[]).await;
    let took = started.elapsed();
    assert!(took < Duration::from_millis(1500), "{took:?}");
    assert!(body.contains("cause=\"mqtt.connack_timeout\""), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_probe_limit_the_answer_is_an_immediate_503() {
    let lab = Lab::start().await.expect("lab");
    let dir = tempfile::tempdir().unwrap();
    let mute = lab.scenario("mqtt.connack_timeout").unwrap().url.clone();
    let ok = lab.scenario("ok.plain").unwrap().url.clone();
    let profiles = write(
        dir.path(),
        "profiles.toml",
        &format!("version = 1\n[profiles.mute]\nurl = \"{mute}\"\n[profiles.ok]\nurl = \"{ok}\"\n"),
    );
    let exporter = Exporter::start(dir.path(), &profiles, Some("max_concurrent_probes = 1\n"));
    let addr = exporter.addr.clone();
    let slow = tokio::spawn(async move {
        get(
            &addr,
            "/probe?profile=mute",
            &[("X-Prometheus-Scrape-Timeout-Seconds", "2")],
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let (status, body) = get(&exporter.addr, "/probe?profile=ok", &[]).await;
    assert_eq!(status, 503, "{body}");
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        body,
        "All 1 probe slots are busy; this probe was not run. Scrape less often or raise max_concurrent_probes.\n"
    );
    assert_eq!(slow.await.unwrap().0, 200);
    let (status, body) = get(&exporter.addr, "/probe?profile=ok", &[]).await;
    assert_eq!(status, 200);
    assert!(body.contains("mqtt_doctor_probe_success 1"), "{body}");
    let (_, health) = get(&exporter.addr, "/metrics", &[]).await;
    for line in [
        "mqtt_doctor_exporter_probes_total{result=\"busy\"} 1\n",
        "mqtt_doctor_exporter_probes_total{result=\"success\"} 1\n",
        "mqtt_doctor_exporter_probes_total{result=\"failure\"} 1\n",
        "mqtt_doctor_exporter_probes_in_flight 0\n",
        "mqtt_doctor_exporter_max_concurrent_probes 1\n",
        "mqtt_doctor_exporter_probe_duration_seconds_count 2\n",
    ] {
        assert!(health.contains(line), "missing {line:?}:\n{health}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ad_hoc_targets_are_refused_unless_enabled_and_bad_requests_get_a_sentence() {
    let lab = Lab::start().await.expect("lab");
    let dir = tempfile::tempdir().unwrap();
    let profiles = write(dir.path(), "profiles.toml", "version = 1\n");
    let url = lab.scenario("ok.plain").unwrap().url.clone();
    let target: String = url::form_urlencoded::byte_serialize(url.as_bytes()).collect();
    let exporter = Exporter::start(dir.path(), &profiles, None);
    let (status, body) = get(&exporter.addr, &format!("/probe?target={target}"), &[]).await;
    assert_eq!(status, 403);
    assert!(body.starts_with("Ad-hoc targets are off"), "{body}");
    let (status, body) = get(&exporter.addr, "/probe", &[]).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        "Name what to probe: /probe?profile=NAME (a saved profile).\n"
    );
    let (status, body) = get(&exporter.addr, "/probe?profile=gone", &[]).await;
    assert_eq!(status, 200);
    assert!(body.contains("mqtt_doctor_probe_success 0"), "{body}");
    assert!(
        body.contains("mqtt_doctor_probe_error_info{reason=\"unknown_profile\"} 1"),
        "{body}"
    );
    assert!(
        exporter.log().contains("no profile named \"gone\""),
        "{}",
        exporter.log()
    );
    let (status, body) = get(&exporter.addr, "/", &[]).await;
    assert_eq!(status, 200);
    assert!(body.contains("/probe?profile=NAME"), "{body}");

    let open = Exporter::start(dir.path(), &profiles, Some("allow_targets = true\n"));
    let (status, body) = get(&open.addr, &format!("/probe?target={target}"), &[]).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("mqtt_doctor_probe_success 1"), "{body}");
    let (_, body) = get(&open.addr, "/probe?target=http%3A%2F%2Fx", &[]).await;
    assert!(
        body.contains("mqtt_doctor_probe_error_info{reason=\"bad_target\"} 1"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_profile_fails_only_its_own_probe() {
    let lab = Lab::start().await.expect("lab");
    let dir = tempfile::tempdir().unwrap();
    let good = profiles(dir.path(), &lab, &[("good", "ok.plain", "")]);
    let mut text = std::fs::read_to_string(&good).unwrap();
    text.push_str("\n[profiles.broken]\nurl = \"gopher://nowhere\"\n");
    std::fs::write(&good, text).unwrap();
    let exporter = Exporter::start(dir.path(), &good, None);
    let (status, body) = get(&exporter.addr, "/probe?profile=good", &[]).await;
    assert_eq!(status, 200);
    assert!(body.contains("mqtt_doctor_probe_success 1"), "{body}");
    let (_, body) = get(&exporter.addr, "/probe?profile=broken", &[]).await;
    assert!(body.contains("mqtt_doctor_probe_success 0"), "{body}");
    assert!(
        body.contains("mqtt_doctor_probe_error_info{reason=\"profile_unusable\"} 1"),
        "{body}"
    );
}

#[test]
fn a_bad_exporter_file_is_refused_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(
        dir.path(),
        "exporter.toml",
        "listen = \"127.0.0.1:0\"\nallow_target = true\n",
    );
    let (code, _, err) = run(
        &["exporter", "--exporter-config", &bad.display().to_string()],
        &[],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!(
            "{}:2:1: unknown field `allow_target`",
            bad.display()
        )),
        "{err}"
    );
}

/// Load: 200 scrapes at once against lab brokers (TLS, mTLS, plain, refused, and one that never
/// answers CONNECT) must all be answered within their scrape timeout; prints the timings and
/// the exporter's peak memory (VmHWM).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_scrapes_finish_within_their_timeouts() {
    let lab = Lab::start().await.expect("lab");
    let dir = tempfile::tempdir().unwrap();
    let profiles = profiles(
        dir.path(),
        &lab,
        &[
            ("tls", "ok.tls", ""),
            ("plain", "ok.plain", ""),
            ("refused", "mqtt.not_authorized", ""),
            ("mtls", "ok.mtls", ""),
            ("mute", "mqtt.connack_timeout", ""),
        ],
    );
    let exporter = Exporter::start(dir.path(), &profiles, Some("max_concurrent_probes = 256\n"));
    let idle_kib = exporter.peak_rss_kib();
    let names = ["tls", "plain", "refused", "mtls", "mute"];
    // The profile's own 1 s stage deadline would end "mute" early: give it the scrape's.
    std::fs::write(
        &profiles,
        std::fs::read_to_string(&profiles)
            .unwrap()
            .replace("timeout_secs = 1\n", "timeout_secs = 30\n"),
    )
    .unwrap();
    let scrape_timeout = Duration::from_secs(3);
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..200 {
        let addr = exporter.addr.clone();
        let name = names[i % names.len()];
        set.spawn(async move {
            let t = Instant::now();
            let (status, body) = get(
                &addr,
                &format!("/probe?profile={name}"),
                &[("X-Prometheus-Scrape-Timeout-Seconds", "3")],
            )
            .await;
            (name, status, body, t.elapsed())
        });
    }
    let mut fast = Vec::new();
    let mut slow = Vec::new();
    let mut wrong = Vec::new();
    while let Some(r) = set.join_next().await {
        let (name, status, body, t) = r.unwrap();
        let expect = match name {
            "refused" => "mqtt_doctor_probe_success 0",
            "mute" => "cause=\"mqtt.connack_timeout\"",
            _ => "mqtt_doctor_probe_success 1",
        };
        if status != 200 || !body.contains(expect) {
            wrong.push(format!("{name}: {status} {body}"));
        }
        if name == "mute" {
            slow.push(t)
        } else {
            fast.push(t)
        }
    }
    let wall = started.elapsed();
    fast.sort();
    slow.sort();
    let peak_kib = exporter.peak_rss_kib();
    let s = |d: &Duration| d.as_secs_f64();
    println!(
        "200 concurrent scrapes (scrape timeout 3 s): wall {:.2} s; 160 answering brokers p50 {:.3} s, p95 {:.3} s, max {:.3} s; 40 mute brokers cut off at {:.3}..{:.3} s; exporter VmHWM {} KiB idle, {} KiB peak",
        s(&wall),
        s(&fast[79]),
        s(&fast[151]),
        s(&fast[159]),
        s(&slow[0]),
        s(&slow[39]),
        idle_kib,
        peak_kib
    );
    assert!(
        wrong.is_empty(),
        "{} wrong answers, e.g. {:?}",
        wrong.len(),
        wrong.first()
    );
    assert!(fast[159] < Duration::from_secs(2), "{:?}", fast[159]);
    assert!(slow[39] < scrape_timeout, "{:?}", slow[39]);
    assert!(peak_kib < 200 * 1024, "peak RSS {peak_kib} KiB");
}
