//! Entry points for the `fuzz/` crate (cargo-fuzz): each takes untrusted bytes and drives one
//! input path of the tool (files a user got from somewhere, bytes a peer sends). Not an API.
//!
//! Every function must return for every input without panicking and without unbounded memory;
//! crashes found by the fuzzer become regression tests that call these same functions.

use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Certificate and key import: PEM, DER and PKCS#12 (with and without a passphrase), then the
/// parse, analysis and words `cert inspect` would print.
pub fn cert_import(data: &[u8]) {
    for pass in [None, Some("fuzz")] {
        let Ok(loaded) = crate::certs::load("fuzz.pem", data, pass) else {
            continue;
        };
        for c in &loaded.certs {
            let _ = crate::certs::parse_cert(c);
        }
        if let Some(k) = &loaded.key {
            let _ = crate::certs::describe_key(k);
        }
        let mut opts = crate::certs::AnalyzeOptions::new(1_764_000_000);
        opts.host = Some("broker.example.com");
        opts.key = loaded.key.as_ref();
        if let Ok(a) = crate::certs::analyze(&loaded.certs, &opts) {
            let _ = crate::explain::inspect_text("fuzz.pem", &a);
        }
    }
}

/// The profiles file loader (TOML, UTF-8 check, unknown keys, validation).
pub fn profiles_toml(data: &[u8]) {
    let _ = crate::profile::parse_bytes(Path::new("fuzz.toml"), data);
}

/// `profile import -- mosquitto_sub …`: NUL-separated arguments, then the export of the result.
pub fn mosquitto_import(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let argv: Vec<String> = text.split('\0').map(str::to_string).collect();
    if let Ok(imported) = crate::profile::import_mosquitto("fuzz", &argv) {
        for f in [
            crate::profile::ExportFormat::MosquittoSub,
            crate::profile::ExportFormat::Openssl,
        ] {
            let _ = crate::profile::export(&imported.profile, f);
        }
    }
}

/// URL and target parsing: the broker URL, a proxy URL, a `--header` value.
pub fn url(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(p) = text.parse::<crate::diagnose::ParsedUrl>() {
        let _ = p.target.url();
        let _ = crate::diagnose::route::redact_query(&p.target.path);
    }
    let _ = crate::diagnose::route::parse_proxy_url(&text, false);
    let _ = crate::diagnose::route::parse_proxy_url(&text, true);
    let _ = crate::diagnose::route::parse_header(&text);
}

/// MQTT packets from a broker: framing, then every decoder the mqtt and sub stages use.
pub fn mqtt_peer(data: &[u8]) {
    use crate::diagnose::wire;
    let mut buf = bytes::BytesMut::from(data);
    while let Ok(Some(frame)) = wire::try_frame(&mut buf) {
        for v in [
            crate::diagnose::MqttVersion::V5,
            crate::diagnose::MqttVersion::V311,
        ] {
            let _ = wire::decode_connack(&frame, v);
            let _ = wire::decode_suback(&frame, v);
            let _ = wire::decode_publish(&frame, v);
        }
        let _ = wire::decode_puback(&frame);
        let _ = wire::decode_disconnect(&frame);
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread runtime needs no resources")
}

/// A WebSocket server that answers the upgrade with `data` (first byte 0), or with a valid
/// 101 followed by `data` as raw frames (first byte 1), read through the ws stage's framing
/// and the MQTT reader on top.
pub fn ws_peer(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let rest = rest.to_vec();
    runtime().block_on(async move {
        let (client, mut server) = tokio::io::duplex(1 << 16);
        tokio::spawn(async move {
            let mut head = Vec::new();
            let mut b = [0u8; 512];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match server.read(&mut b).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => head.extend_from_slice(&b[..n]),
                }
            }
            if mode & 1 == 1 {
                let text = String::from_utf8_lossy(&head);
                let key = text
                    .lines()
                    .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
                    .or_else(|| {
                        text.lines()
                            .find_map(|l| l.strip_prefix("sec-websocket-key: "))
                    })
                    .unwrap_or("")
                    .trim()
                    .to_string();
                let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(
                    key.as_bytes(),
                );
                let ok = format!(
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n"
                );
                let _ = server.write_all(ok.as_bytes()).await;
            }
            let _ = server.write_all(&rest).await;
            let _ = server.shutdown().await;
            while matches!(server.read(&mut b).await, Ok(n) if n > 0) {}
        });
        let target = crate::diagnose::Target::new(
            crate::diagnose::Host::Name("broker.example.com".into()),
            80,
            crate::diagnose::Transport::Ws,
        );
        let plan = crate::diagnose::Plan::new(target);
        let run = async {
            let Ok(mut io) = crate::diagnose::ws::quiet(&plan, Box::new(client)).await else {
                return;
            };
            let mut buf = bytes::BytesMut::new();
            while crate::diagnose::wire::read_frame(&mut io, &mut buf)
                .await
                .is_ok()
            {}
        };
        let _ = tokio::time::timeout(Duration::from_secs(2), run).await;
    });
}

/// A proxy that answers our HTTP CONNECT (first byte even) or SOCKS5 greeting (odd) with
/// `data`, read by the proxy stage's handshake.
pub fn proxy_peer(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let rest = rest.to_vec();
    let url = if mode & 1 == 1 {
        if mode & 2 == 2 {
            "socks5://user@127.0.0.1:1080"
        } else {
            "socks5://127.0.0.1:1080"
        }
    } else {
        "http://127.0.0.1:3128"
    };
    let Ok(mut proxy) = crate::diagnose::route::parse_proxy_url(url, true) else {
        return;
    };
    if proxy.username.is_some() {
        proxy.password = Some(crate::secrets::Secret::new("pw".to_string()));
    }
    runtime().block_on(async move {
        let (mut client, mut server) = tokio::io::duplex(1 << 16);
        tokio::spawn(async move {
            let _ = server.write_all(&rest).await;
            let _ = server.shutdown().await;
            let mut b = [0u8; 512];
            while matches!(server.read(&mut b).await, Ok(n) if n > 0) {}
        });
        let target = crate::diagnose::Target::new(
            crate::diagnose::Host::Name("broker.example.com".into()),
            8883,
            crate::diagnose::Transport::Mqtts,
        );
        let _ = tokio::time::timeout(
            Duration::from_secs(2),
            crate::diagnose::proxy::handshake_words(&proxy, &target, &mut client),
        )
        .await;
    });
}
