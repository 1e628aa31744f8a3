//! The hostile-peer corpus (issue 16): garbage, slow bytes, huge lengths, floods, bad names and
//! early closes at every stage, run in-process against `lab::hostile` peers on loopback.
//!
//! Every test checks the same rules: the verdict names the cause at the layer of the fault, the
//! run ends by its deadline, and nothing from the peer reaches the text or JSON output raw.
//! Memory is measured on the real binary (the child's peak RSS from wait4) where a peer streams.

use mqtt_doctor::diagnose::{self, CaBundle, Plan, Proxy, ProxyKind, Report, Stage};
use mqtt_doctor::lab::hostile::{
    self, Step, connack_v5, packet, publish_v5, suback_v5, varint, ws_frame,
};
use mqtt_doctor::lab::pki::{Ca, Issued};
use mqtt_doctor::report;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

const SEC: Duration = Duration::from_secs(1);
const GB: u64 = 1 << 30;

/// The characters a terminal obeys or reorders by: C0 (but newline), DEL, C1, bidi controls.
fn dangerous(c: char) -> bool {
    (c.is_control() && c != '\n')
        || matches!(
            c,
            '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

fn assert_clean(what: &str, text: &str) {
    let bad: Vec<char> = text.chars().filter(|c| dangerous(*c)).collect();
    assert!(bad.is_empty(), "{what}: raw {bad:?} in:\n{text}");
}

async fn peer(steps: Vec<Step>) -> SocketAddr {
    let (addr, task) = hostile::serve(steps).await.expect("the peer listens");
    // The listener lives as long as the test's runtime.
    std::mem::forget(task);
    addr
}

fn plan(url: &str, timeout: Duration) -> Plan {
    let parsed: diagnose::ParsedUrl = url.parse().expect("a lab URL");
    let mut plan = Plan::new(parsed.target);
    plan.timeout = timeout;
    plan
}

/// Runs the plan in-process; checks deadline and escaping; returns the report.
async fn diagnose(plan: Plan) -> Report {
    let deadline = plan.timeout * 3 + Duration::from_secs(2);
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    drop(rx);
    let started = Instant::now();
    let report = tokio::time::timeout(deadline + SEC, diagnose::run(plan, tx))
        .await
        .expect("the run ends by its deadline");
    let took = started.elapsed();
    assert!(took <= deadline, "the run took {took:?}, over {deadline:?}");
    assert_clean("text", &report::text(&report, true, true));
    assert_clean("json", &report::json(&report));
    report
}

#[track_caller]
fn expect(report: &Report, stage: Stage, cause: &str) {
    assert_eq!(
        (report.verdict.stage, report.verdict.cause),
        (Some(stage), Some(cause)),
        "{}",
        report::text(report, true, true)
    );
    let failed: Vec<Stage> = report
        .stages
        .iter()
        .filter(|s| s.status == diagnose::Status::Failed)
        .map(|s| s.stage)
        .collect();
    assert_eq!(failed, vec![stage], "exactly one stage failed");
}

/// The failed stage ended within its deadline plus what its follow-up probes may take.
#[track_caller]
fn within(report: &Report, stage: Stage, limit: Duration) {
    let s = report
        .stages
        .iter()
        .find(|s| s.stage == stage)
        .expect("the stage is in the report");
    assert!(
        Duration::from_millis(s.duration_ms) <= limit,
        "{stage:?} took {} ms, over {limit:?}",
        s.duration_ms
    );
}

fn connack_ok() -> Vec<u8> {
    connack_v5(0, &[])
}

fn noise(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 37 % 251) as u8 | 0x80).collect()
}

// ---------- the lab PKI for TLS peers ----------

struct Pki {
    root: Ca,
    ca_file: tempfile::NamedTempFile,
}

fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

fn pki() -> Pki {
    let root = Ca::root("hostile test root", now()).expect("a root");
    let ca_file = tempfile::NamedTempFile::new().expect("a temp file");
    std::fs::write(ca_file.path(), root.issued.cert_pem()).expect("written");
    Pki { root, ca_file }
}

impl Pki {
    fn good(&self) -> Issued {
        self.root
            .server("hostile broker", &["127.0.0.1", "localhost"], now(), -1, 30)
            .expect("a leaf")
    }

    fn config(&self, leaf: &Issued) -> Arc<rustls::ServerConfig> {
        hostile::tls_config(vec![leaf.cert.clone()], leaf.key_der()).expect("a TLS config")
    }

    fn trust(&self, plan: &mut Plan) {
        plan.tls.ca = Some(CaBundle {
            path: self.ca_file.path().to_path_buf(),
            certs: vec![self.root.issued.cert.clone()],
        });
    }
}

fn proxy(kind: ProxyKind, addr: SocketAddr) -> Proxy {
    Proxy {
        kind,
        host: diagnose::Host::Ip(addr.ip()),
        port: addr.port(),
        username: None,
        password: None,
        source: "--proxy".into(),
    }
}

fn url(scheme: &str, addr: SocketAddr) -> String {
    format!("{scheme}://127.0.0.1:{}", addr.port())
}

// ---------- garbage at every stage ----------

#[tokio::test]
async fn garbage_answer_to_the_client_hello_is_not_tls() {
    let addr = peer(vec![Step::Read, Step::Send(noise(300))]).await;
    let r = diagnose(plan(&url("mqtts", addr), 2 * SEC)).await;
    expect(&r, Stage::Tls, "tls.not_tls");
}

#[tokio::test]
async fn garbage_answer_to_the_websocket_upgrade_is_not_http() {
    let addr = peer(vec![Step::ReadHttpHead, Step::Send(noise(300))]).await;
    let r = diagnose(plan(&url("ws", addr), 2 * SEC)).await;
    expect(&r, Stage::Ws, "ws.not_http");
}

#[tokio::test]
async fn garbage_answer_to_connect_is_not_mqtt() {
    let addr = peer(vec![Step::Read, Step::Send(noise(300))]).await;
    let r = diagnose(plan(&url("mqtt", addr), 2 * SEC)).await;
    expect(&r, Stage::Mqtt, "mqtt.not_mqtt");
}

#[tokio::test]
async fn garbage_after_connack_fails_the_sub_stage() {
    let mut bytes = connack_ok();
    bytes.extend(noise(300));
    let addr = peer(vec![Step::Read, Step::Send(bytes), Step::Stall(10 * SEC)]).await;
    let r = diagnose(plan(&url("mqtt", addr), 2 * SEC)).await;
    expect(&r, Stage::Sub, "sub.disconnected");
}

#[tokio::test]
async fn garbage_answer_to_http_connect_is_not_a_proxy() {
    let addr = peer(vec![Step::Read, Step::Send(noise(300))]).await;
    let mut p = plan("mqtt://broker.example.com:1883", 2 * SEC);
    p.route.proxy = Some(proxy(ProxyKind::Http, addr));
    let r = diagnose(p).await;
    expect(&r, Stage::Proxy, "proxy.not_a_proxy");
}

#[tokio::test]
async fn garbage_answer_to_the_socks5_greeting_is_not_a_proxy() {
    let addr = peer(vec![Step::Read, Step::Send(noise(300))]).await;
    let mut p = plan("mqtt://broker.example.com:1883", 2 * SEC);
    p.route.proxy = Some(proxy(ProxyKind::Socks5, addr));
    let r = diagnose(p).await;
    expect(&r, Stage::Proxy, "proxy.not_a_proxy");
}

#[tokio::test]
async fn garbage_after_the_websocket_upgrade_is_a_ws_fault() {
    // 0x83 is a reserved opcode, with the reserved bits set: not a WebSocket frame.
    let addr = peer(vec![
        Step::ReadHttpHead,
        Step::WsAccept,
        Step::Send(vec![
            0xF3, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        ]),
        Step::Stall(10 * SEC),
    ])
    .await;
    let r = diagnose(plan(&url("ws", addr), 2 * SEC)).await;
    expect(&r, Stage::Ws, "ws.bad_frame");
}

// ---------- slow bytes (one a second) at every stage ----------

fn drip(bytes: &[u8]) -> Step {
    Step::Drip {
        bytes: bytes.to_vec(),
        every: SEC,
    }
}

#[tokio::test]
async fn slow_server_hello_ends_at_the_tls_deadline() {
    let addr = peer(vec![
        Step::Read,
        drip(&[0x16, 0x03, 0x03, 0x00, 0x30, 0x02, 0x00]),
    ])
    .await;
    let r = diagnose(plan(&url("mqtts", addr), 2 * SEC)).await;
    expect(&r, Stage::Tls, "tls.timeout");
    within(&r, Stage::Tls, 3 * SEC);
}

#[tokio::test]
async fn slow_upgrade_answer_ends_at_the_ws_deadline() {
    let addr = peer(vec![
        Step::ReadHttpHead,
        drip(b"HTTP/1.1 101 Switching Protocols\r\n"),
    ])
    .await;
    let r = diagnose(plan(&url("ws", addr), 2 * SEC)).await;
    expect(&r, Stage::Ws, "ws.timeout");
    within(&r, Stage::Ws, 3 * SEC);
}

#[tokio::test]
async fn slow_connack_ends_at_the_mqtt_deadline() {
    let addr = peer(vec![Step::Read, drip(&connack_ok())]).await;
    let r = diagnose(plan(&url("mqtt", addr), 2 * SEC)).await;
    expect(&r, Stage::Mqtt, "mqtt.connack_timeout");
    within(&r, Stage::Mqtt, 4 * SEC);
}

#[tokio::test]
async fn slow_suback_ends_at_the_sub_deadline() {
    let addr = peer(vec![
        Step::Read,
        Step::Send(connack_ok()),
        drip(&suback_v5(1)),
    ])
    .await;
    let r = diagnose(plan(&url("mqtt", addr), 2 * SEC)).await;
    expect(&r, Stage::Sub, "sub.timeout");
    within(&r, Stage::Sub, 3 * SEC);
}

#[tokio::test]
async fn slow_http_proxy_answer_ends_at_the_proxy_deadline() {
    let addr = peer(vec![
        Step::Read,
        drip(b"HTTP/1.1 200 Connection established\r\n"),
    ])
    .await;
    let mut p = plan("mqtt://broker.example.com:1883", 2 * SEC);
    p.route.proxy = Some(proxy(ProxyKind::Http, addr));
    let r = diagnose(p).await;
    expect(&r, Stage::Proxy, "proxy.timeout");
    within(&r, Stage::Proxy, 3 * SEC);
}

#[tokio::test]
async fn slow_socks5_answer_ends_at_the_proxy_deadline() {
    let addr = peer(vec![
        Step::Read,
        drip(&[0x05, 0x00, 0x05, 0x00, 0x00, 0x01]),
    ])
    .await;
    let mut p = plan("mqtt://broker.example.com:1883", 2 * SEC);
    p.route.proxy = Some(proxy(ProxyKind::Socks5, addr));
    let r = diagnose(p).await;
    expect(&r, Stage::Proxy, "proxy.timeout");
    within(&r, Stage::Proxy, 3 * SEC);
}

#[tokio::test]
async fn slow_bytes_before_the_client_speaks_end_at_the_mqtt_deadline() {
    // A peer that talks first, slowly: the tcp stage passes, the CONNACK never comes.
    let addr = peer(vec![drip(&noise(30))]).await;
    let r = diagnose(plan(&url("mqtt", addr), 2 * SEC)).await;
    assert_eq!(
        r.verdict.stage,
        Some(Stage::Mqtt),
        "{}",
        report::text(&r, true, true)
    );
    within(&r, Stage::Mqtt, 4 * SEC);
}

// ---------- TLS ----------

#[tokio::test]
async fn tls_record_announcing_16_mb_is_refused_at_the_tls_stage() {
    // A handshake record whose ServerHello claims 16 MB (the 24-bit maximum), then a stream.
    let mut head = vec![0x16, 0x03, 0x03, 0x40, 0x00, 0x02, 0xFF, 0xFF, 0xFF];
    head.extend(std::iter::repeat_n(0u8, 0x4000 - 4));
    let addr = peer(vec![
        Step::Read,
        Step::Send(head),
        Step::Stream {
            unit: vec![0x16, 0x03, 0x03, 0x40, 0x00]
                .into_iter()
                .chain(std::iter::repeat_n(0, 0x4000))
                .collect(),
            total: 64 << 20,
        },
    ])
    .await;
    let r = diagnose(plan(&url("mqtts", addr), 2 * SEC)).await;
    expect(&r, Stage::Tls, "tls.handshake_failure");
}

#[tokio::test]
async fn tls_record_longer_than_the_protocol_allows_is_refused_at_the_tls_stage() {
    // TLS records carry at most 2^14 + 2048 bytes; 0xFFFF is a lie.
    let addr = peer(vec![
        Step::Read,
        Step::Send(vec![0x16, 0x03, 0x03, 0xFF, 0xFF, 0x02]),
        Step::Stall(10 * SEC),
    ])
    .await;
    let r = diagnose(plan(&url("mqtts", addr), 2 * SEC)).await;
    assert_eq!(
        r.verdict.stage,
        Some(Stage::Tls),
        "{}",
        report::text(&r, true, true)
    );
    within(&r, Stage::Tls, 3 * SEC);
}

#[tokio::test]
async fn stall_after_server_hello_ends_at_the_tls_deadline() {
    let pki = pki();
    let leaf = pki.good();
    let addr = peer(vec![Step::ServerHelloThenStall(pki.config(&leaf))]).await;
    let mut p = plan(&url("mqtts", addr), 2 * SEC);
    pki.trust(&mut p);
    let r = diagnose(p).await;
    expect(&r, Stage::Tls, "tls.timeout");
    within(&r, Stage::Tls, 3 * SEC);
}

#[tokio::test]
async fn a_good_tls_peer_passes_the_tls_stage() {
    // The control for the TLS tests: the same PKI and peer code, an honest broker behind it.
    let pki = pki();
    let leaf = pki.good();
    let mut bytes = connack_ok();
    bytes.extend(suback_v5(1));
    let addr = peer(vec![
        Step::Tls(pki.config(&leaf)),
        Step::Read,
        Step::Send(bytes),
        Step::Stall(10 * SEC),
    ])
    .await;
    let mut p = plan(&url("mqtts", addr), 2 * SEC);
    p.sub.publish = false;
    pki.trust(&mut p);
    let r = diagnose(p).await;
    assert!(r.verdict.ok, "{}", report::text(&r, true, true));
}

#[tokio::test]
async fn a_very_large_certificate_is_analysed_and_named() {
    // 1500 names make a ~50 kB certificate: within what TLS carries, so it is analysed.
    let pki = pki();
    let leaf = big_leaf(&pki);
    let addr = peer(vec![Step::Tls(pki.config(&leaf)), Step::Stall(10 * SEC)]).await;
    let mut p = plan(&url("mqtts", addr), 2 * SEC);
    pki.trust(&mut p);
    let r = diagnose(p).await;
    // The name asked for (127.0.0.1) is not among the 1500.
    expect(&r, Stage::Tls, "tls.hostname_mismatch");
}

fn big_leaf(pki: &Pki) -> Issued {
    let names: Vec<String> = (0..1500)
        .map(|i| format!("host-{i:05}.very-long-name.example.com"))
        .collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let leaf = pki
        .root
        .server("big", &refs, now(), -1, 30)
        .expect("a big leaf");
    assert!(leaf.cert.len() > 40_000, "{} bytes", leaf.cert.len());
    leaf
}

#[tokio::test]
async fn a_certificate_chain_over_64_kib_is_named_as_too_large() {
    let pki = pki();
    let leaf = big_leaf(&pki);
    let chain = vec![leaf.cert.clone(), leaf.cert.clone()];
    let config = hostile::tls_config(chain, leaf.key_der()).expect("config");
    let addr = peer(vec![Step::Tls(config), Step::Stall(10 * SEC)]).await;
    let mut p = plan(&url("mqtts", addr), 2 * SEC);
    pki.trust(&mut p);
    let r = diagnose(p).await;
    expect(&r, Stage::Tls, "tls.handshake_failure");
    assert!(
        r.verdict.summary.contains("larger than the 64 KiB"),
        "{}",
        r.verdict.summary
    );
}

// ---------- certificate names that try to write to the terminal ----------

const HOSTILE_NAME: &str = "evil\u{1b}]0;pwned\u{7}\u{202e}txet\u{0}\u{9b}31m";

#[tokio::test]
async fn certificate_subject_san_and_issuer_with_escapes_reach_no_output_raw() {
    let root = Ca::root(HOSTILE_NAME, now()).expect("a hostile root");
    let leaf = root
        .server(
            HOSTILE_NAME,
            &["evil\u{1b}[2J\u{7}\u{0}.example", "127.0.0.1"],
            now(),
            -1,
            30,
        )
        .expect("a hostile leaf");
    let config = hostile::tls_config(
        vec![leaf.cert.clone(), root.issued.cert.clone()],
        leaf.key_der(),
    )
    .expect("config");
    let addr = peer(vec![Step::Tls(config), Step::Stall(10 * SEC)]).await;
    let r = diagnose(plan(&url("mqtts", addr), 2 * SEC)).await;
    expect(&r, Stage::Tls, "tls.untrusted_root");
    // The names are there, escaped (so the test is not passing on an empty report).
    let json = report::json(&r);
    assert!(
        json.contains("\\u202e") && json.contains("\\u001b"),
        "{json}"
    );
    let parsed: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let text = parsed.to_string();
    assert!(text.contains("pwned"), "{text}");
}

#[tokio::test]
async fn certificate_names_with_invalid_utf8_reach_no_output_raw() {
    let pki = pki();
    let mut leaf = pki
        .root
        .server("INVALID-UTF8-HERE", &["127.0.0.1"], now(), -1, 30)
        .expect("a leaf");
    let mut der = leaf.cert.to_vec();
    let at = der
        .windows(17)
        .position(|w| w == b"INVALID-UTF8-HERE")
        .expect("the CN is in the DER");
    der[at..at + 17].copy_from_slice(b"\xff\xfe\xc0\x80\x1b[2J\xed\xa0\x80\x00\x07\x9b\xc2\x9b!");
    leaf.cert = der.into();
    let addr = peer(vec![Step::Tls(pki.config(&leaf)), Step::Stall(10 * SEC)]).await;
    let mut p = plan(&url("mqtts", addr), 2 * SEC);
    pki.trust(&mut p);
    let r = diagnose(p).await;
    // The signature no longer matches: whatever rustls says, it is the tls stage's.
    assert_eq!(
        r.verdict.stage,
        Some(Stage::Tls),
        "{}",
        report::text(&r, true, true)
    );
}

// ---------- CONNACK ----------

#[tokio::test]
async fn connack_with_the_maximum_remaining_length_is_refused_unread() {
    let mut bytes = vec![0x20, 0xFF, 0xFF, 0xFF, 0x7F];
    bytes.extend(std::iter::repeat_n(0u8, 4096));
    let addr = peer(vec![Step::Read, Step::Send(bytes), Step::Stall(10 * SEC)]).await;
    let r = diagnose(plan(&url("mqtt", addr), 2 * SEC)).await;
    expect(&r, Stage::Mqtt, "mqtt.not_mqtt");
    let mqtt = r
        .stages
        .iter()
        .find(|s| s.stage == Stage::Mqtt)
        .expect("mqtt");
    assert!(
        report::text(&r, true, true).contains("268435455-byte packet"),
        "{:?}",
        mqtt.facts
    );
}

#[tokio::test]
async fn connack_with_an_unknown_mqtt5_reason_code_is_named_unknown() {
    let addr = peer(vec![Step::Read, Step::Send(connack_v5(0xA7, &[]))]).await;
    let r = diagnose(plan(&url("mqtt", addr), 2 * SEC)).await;
    expect(&r, Stage::Mqtt, "mqtt.refused_unknown_code");
    assert!(r.verdict.summary.contains("0xA7"), "{}", r.verdict.summary);
}

#[tokio::test]
async fn connack_with_an_unknown_311_return_code_is_named_unknown() {
    let addr = peer(vec![Step::Read, Step::Send(vec![0x20, 0x02, 0x00, 0x09])]).await;
    let mut p = plan(&url("mqtt", addr), 2 * SEC);
    p.mqtt.version = diagnose::MqttVersion::V311;
    p.mqtt.fallback_to_311 = false;
    let r = diagnose(p).await;
    expect(&r, Stage::Mqtt, "mqtt.refused_unknown_code");
}

#[tokio::test]
async fn connack_whose_properties_overrun_the_packet_is_malformed() {
    // Property length 60000 in a 5-byte packet.
    let mut body = vec![0x00, 0x00];
    body.extend(varint(60_000));
    body.extend([0x24, 0x01]);
    let addr = peer(vec![
        Step::Read,
        Step::Send(packet(0x20, &body)),
        Step::Stall(10 * SEC),
    ])
    .await;
    let r = diagnose(plan(&url("mqtt", addr), 2 * SEC)).await;
    expect(&r, Stage::Mqtt, "mqtt.not_mqtt");
    assert!(
        r.verdict.summary.contains("properties are unreadable"),
        "{}",
        r.verdict.summary
    );
}

#[tokio::test]
async fn connack_with_a_repeated_property_is_a_protocol_error() {
    // Maximum QoS (0x24) twice: MQTT 5.0 §3.2.2.3.4 makes that a Protocol Error, and a
    // client closes on it (§4.13): the peer is not speaking MQTT 5 as the standard says.
    let addr = peer(vec![
        Step::Read,
        Step::Send(connack_v5(0, &[0x24, 0x00, 0x24, 0x01])),
        Step::Stall(10 * SEC),
    ])
    .await;
    let r = diagnose(plan(&url("mqtt", addr), 2 * SEC)).await;
    expect(&r, Stage::Mqtt, "mqtt.not_mqtt");
    assert!(
        r.verdict.summary.contains("0x24 appears more than once"),
        "{}",
        r.verdict.summary
    );
}

#[tokio::test]
async fn connack_with_huge_hostile_properties_is_shown_escaped() {
    // A 600 kB user property and an assigned client id full of escapes, in a valid CONNACK.
    let mut props = vec![0x12];
    props.extend((HOSTILE_NAME.len() as u16).to_be_bytes());
    props.extend(HOSTILE_NAME.as_bytes());
    let value = "\u{1b}[31m".repeat(100_000);
    props.push(0x26);
    props.extend(3u16.to_be_bytes());
    props.extend(b"key");
    let value = &value.as_bytes()[..0xFFFF];
    props.extend((value.len() as u16).to_be_bytes());
    props.extend(value);
    let mut bytes = connack_v5(0, &props);
    bytes.extend(suback_v5(1));
    let addr = peer(vec![Step::Read, Step::Send(bytes), Step::Stall(10 * SEC)]).await;
    let mut p = plan(&url("mqtt", addr), 2 * SEC);
    p.sub.publish = false;
    let r = diagnose(p).await;
    assert!(r.verdict.ok, "{}", report::text(&r, true, true));
    assert!(report::json(&r).contains("pwned"));
}

// ---------- SUBACK and the round trip ----------

#[tokio::test]
async fn suback_with_an_unknown_failure_code_is_named_unknown() {
    let mut bytes = connack_ok();
    bytes.extend(packet(0x90, &[0x00, 0x01, 0x00, 0xA3]));
    let addr = peer(vec![Step::Read, Step::Send(bytes), Step::Stall(10 * SEC)]).await;
    let r = diagnose(plan(&url("mqtt", addr), 2 * SEC)).await;
    expect(&r, Stage::Sub, "sub.refused_unknown_code");
}

#[tokio::test]
async fn publish_flood_after_suback_ends_at_the_sub_deadline() {
    let mut bytes = connack_ok();
    bytes.extend(suback_v5(1));
    let unit = publish_v5("flood/\u{1b}[2J", &noise(1000)).repeat(16);
    let addr = peer(vec![
        Step::Read,
        Step::Send(bytes),
        Step::Stream {
            unit,
            total: u64::MAX,
        },
    ])
    .await;
    let r = diagnose(plan(&url("mqtt", addr), 2 * SEC)).await;
    expect(&r, Stage::Sub, "sub.timeout");
    within(&r, Stage::Sub, 3 * SEC);
}

#[tokio::test]
async fn publish_flood_before_suback_ends_at_the_sub_deadline() {
    let unit = publish_v5("flood", &noise(60_000)).repeat(4);
    let addr = peer(vec![
        Step::Read,
        Step::Send(connack_ok()),
        Step::Stream {
            unit,
            total: u64::MAX,
        },
    ])
    .await;
    let r = diagnose(plan(&url("mqtt", addr), 2 * SEC)).await;
    expect(&r, Stage::Sub, "sub.timeout");
    within(&r, Stage::Sub, 3 * SEC);
}

// ---------- WebSocket ----------

#[tokio::test]
async fn websocket_frame_of_2_pow_62_bytes_is_a_ws_fault() {
    let mut frame = vec![0x82, 0x7F];
    frame.extend((1u64 << 62).to_be_bytes());
    let addr = peer(vec![
        Step::ReadHttpHead,
        Step::WsAccept,
        Step::Read,
        Step::Send(frame),
        Step::Stream {
            unit: vec![0; 64 * 1024],
            total: GB,
        },
    ])
    .await;
    let r = diagnose(plan(&url("ws", addr), 2 * SEC)).await;
    expect(&r, Stage::Ws, "ws.bad_frame");
}

#[tokio::test]
async fn websocket_frame_of_2_pow_62_bytes_right_after_the_upgrade_is_a_ws_fault() {
    let mut frame = vec![0x82, 0x7F];
    frame.extend((1u64 << 62).to_be_bytes());
    let addr = peer(vec![
        Step::ReadHttpHead,
        Step::WsAccept,
        Step::Send(frame),
        Step::Stall(10 * SEC),
    ])
    .await;
    let r = diagnose(plan(&url("ws", addr), 2 * SEC)).await;
    expect(&r, Stage::Ws, "ws.bad_frame");
}

#[tokio::test]
async fn endless_upgrade_response_head_is_refused_with_bounded_reading() {
    let addr = peer(vec![
        Step::ReadHttpHead,
        Step::Send(b"HTTP/1.1 101 Switching Protocols\r\n".to_vec()),
        Step::Stream {
            unit: b"X-Filler: \x1b[2Jaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n".repeat(64),
            total: GB,
        },
    ])
    .await;
    let r = diagnose(plan(&url("ws", addr), 2 * SEC)).await;
    assert_eq!(
        r.verdict.stage,
        Some(Stage::Ws),
        "{}",
        report::text(&r, true, true)
    );
    within(&r, Stage::Ws, 3 * SEC);
}

#[tokio::test]
async fn mqtt_inside_websocket_frames_is_read_across_frames() {
    // The control for the ws tests: a CONNACK split over three frames, then a SUBACK.
    let c = connack_ok();
    let addr = peer(vec![
        Step::ReadHttpHead,
        Step::WsAccept,
        Step::Read,
        Step::SendWs(c[..1].to_vec()),
        Step::SendWs(c[1..3].to_vec()),
        Step::SendWs([&c[3..], &suback_v5(1)[..]].concat()),
        Step::Stall(10 * SEC),
    ])
    .await;
    let mut p = plan(&url("ws", addr), 2 * SEC);
    p.sub.publish = false;
    let r = diagnose(p).await;
    assert!(r.verdict.ok, "{}", report::text(&r, true, true));
    let _ = ws_frame(&[]);
}

// ---------- proxies ----------

#[tokio::test]
async fn endless_http_proxy_response_head_is_refused_with_bounded_reading() {
    let addr = peer(vec![
        Step::Read,
        Step::Send(b"HTTP/1.1 200 OK\r\n".to_vec()),
        Step::Stream {
            unit: b"Via: \x1b]0;x\x07aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n".repeat(64),
            total: GB,
        },
    ])
    .await;
    let mut p = plan("mqtt://broker.example.com:1883", 2 * SEC);
    p.route.proxy = Some(proxy(ProxyKind::Http, addr));
    let r = diagnose(p).await;
    expect(&r, Stage::Proxy, "proxy.failed");
}

#[tokio::test]
async fn socks5_reply_with_an_unknown_address_type_is_a_proxy_fault() {
    let addr = peer(vec![
        Step::Read,
        Step::Send(vec![0x05, 0x00]),
        Step::Read,
        Step::Send(vec![0x05, 0x00, 0x00, 0x09, 1, 2, 3, 4, 5, 6]),
        Step::Stall(10 * SEC),
    ])
    .await;
    let mut p = plan("mqtt://broker.example.com:1883", 2 * SEC);
    p.route.proxy = Some(proxy(ProxyKind::Socks5, addr));
    let r = diagnose(p).await;
    expect(&r, Stage::Proxy, "proxy.failed");
}

// ---------- a server that closes mid-frame, at every byte offset ----------

#[tokio::test]
async fn a_close_at_every_byte_offset_of_a_valid_exchange_is_named_at_its_stage() {
    // The broker's whole side of a --no-publish exchange: CONNACK (with properties), SUBACK.
    let connack = connack_v5(0, &[0x24, 0x01, 0x21, 0x00, 0x0A]);
    let exchange = [connack.clone(), suback_v5(1)].concat();
    for cut in 0..=exchange.len() {
        let addr = peer(vec![Step::Read, Step::Send(exchange[..cut].to_vec())]).await;
        let mut p = plan(&url("mqtt", addr), 2 * SEC);
        p.sub.publish = false;
        let r = diagnose(p).await;
        let want = match cut {
            c if c < connack.len() => Some((Stage::Mqtt, "mqtt.closed_without_connack")),
            c if c < exchange.len() => Some((Stage::Sub, "sub.disconnected")),
            _ => None,
        };
        match want {
            Some((stage, cause)) => {
                assert_eq!(
                    (r.verdict.stage, r.verdict.cause),
                    (Some(stage), Some(cause)),
                    "cut at byte {cut}: {}",
                    report::text(&r, true, true)
                );
                within(&r, stage, 3 * SEC);
            }
            None => assert!(
                r.verdict.ok,
                "the whole exchange: {}",
                report::text(&r, true, true)
            ),
        }
    }
}

// ---------- memory: the real binary against a peer streaming 1 GB ----------

/// Runs the binary and returns its exit code, stdout and peak RSS in KiB (wait4's ru_maxrss).
async fn binary_peak(args: Vec<String>) -> (i32, String, i64) {
    tokio::task::spawn_blocking(move || {
        // wait4 below reaps it (std's wait cannot return the child's rusage).
        #[allow(clippy::zombie_processes)]
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_mqtt-doctor"))
            .args(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the binary starts");
        let pid = child.id() as libc::pid_t;
        let mut stdout = child.stdout.expect("piped");
        let reader = std::thread::spawn(move || {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut stdout, &mut s).expect("UTF-8 output");
            s
        });
        let mut status = 0;
        // SAFETY: rusage is plain data; wait4 fills it for our own child.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let got = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        assert_eq!(got, pid, "wait4");
        let code = if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            -1
        };
        (code, reader.join().expect("reader"), usage.ru_maxrss)
    })
    .await
    .expect("the waiter")
}

const PEAK_KIB: i64 = 64 * 1024;
/// A flood that lasts until the client hangs up: over loopback, gigabytes within the deadline.
const ENDLESS: u64 = u64::MAX;

async fn streamed_1gb(url: String, extra: &[&str], exit: i32, cause: &str) {
    let mut args = vec![
        "check".to_string(),
        url,
        "--json".into(),
        "--timeout".into(),
        "2".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let (code, stdout, peak) = binary_peak(args).await;
    assert_clean("binary json", &stdout);
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(json["verdict"]["cause"], cause, "{stdout}");
    assert_eq!(code, exit);
    assert!(peak <= PEAK_KIB, "peak RSS {peak} KiB, over {PEAK_KIB} KiB");
    eprintln!("{cause}: peak RSS {peak} KiB");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_flood_of_1_gb_before_suback_keeps_memory_bounded() {
    let unit = publish_v5("flood", &noise(1 << 19)).repeat(2);
    let addr = peer(vec![
        Step::Read,
        Step::Send(connack_ok()),
        Step::Stream {
            unit,
            total: ENDLESS,
        },
    ])
    .await;
    streamed_1gb(url("mqtt", addr), &[], 15, "sub.timeout").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_flood_of_1_gb_after_suback_keeps_memory_bounded() {
    let mut bytes = connack_ok();
    bytes.extend(suback_v5(1));
    let unit = publish_v5("flood", &noise(1 << 19)).repeat(2);
    let addr = peer(vec![
        Step::Read,
        Step::Send(bytes),
        Step::Stream {
            unit,
            total: ENDLESS,
        },
    ])
    .await;
    streamed_1gb(url("mqtt", addr), &[], 15, "sub.timeout").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_1_gb_websocket_frame_stream_keeps_memory_bounded() {
    let mut frame = vec![0x82, 0x7F];
    frame.extend((GB).to_be_bytes());
    let addr = peer(vec![
        Step::ReadHttpHead,
        Step::WsAccept,
        Step::Send(frame),
        Step::Stream {
            unit: vec![0x30; 1 << 16],
            total: GB,
        },
    ])
    .await;
    streamed_1gb(url("ws", addr), &[], 13, "ws.bad_frame").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_1_gb_connack_keeps_memory_bounded() {
    let addr = peer(vec![
        Step::Read,
        Step::Send(vec![0x20, 0xFF, 0xFF, 0xFF, 0x7F]),
        Step::Stream {
            unit: vec![0; 1 << 16],
            total: ENDLESS,
        },
    ])
    .await;
    streamed_1gb(url("mqtt", addr), &[], 14, "mqtt.not_mqtt").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_1_gb_tls_stream_keeps_memory_bounded() {
    let mut head = vec![0x16, 0x03, 0x03, 0x40, 0x00, 0x02, 0xFF, 0xFF, 0xFF];
    head.extend(std::iter::repeat_n(0u8, 0x4000 - 4));
    let unit: Vec<u8> = [0x16, 0x03, 0x03, 0x40, 0x00]
        .into_iter()
        .chain(std::iter::repeat_n(0, 0x4000))
        .collect();
    let addr = peer(vec![
        Step::Read,
        Step::Send(head),
        Step::Stream { unit, total: GB },
    ])
    .await;
    streamed_1gb(url("mqtts", addr), &[], 12, "tls.handshake_failure").await;
}
