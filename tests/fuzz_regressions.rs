//! The fuzz targets' inputs in the normal suite: every seed of `fuzz/corpus/<target>/` and every
//! input a fuzzing run found to crash, through the same `mqtt_doctor::fuzzing` entry points.
//! A target that panics or hangs on one of them fails here, on the stable toolchain.

use mqtt_doctor::fuzzing;
use std::path::Path;
use std::time::{Duration, Instant};

/// A fuzz entry point.
type Target = fn(&[u8]);

const TARGETS: &[(&str, Target)] = &[
    ("cert_import", fuzzing::cert_import),
    ("profiles_toml", fuzzing::profiles_toml),
    ("mosquitto_import", fuzzing::mosquitto_import),
    ("url", fuzzing::url),
    ("mqtt_peer", fuzzing::mqtt_peer),
    ("ws_peer", fuzzing::ws_peer),
    ("proxy_peer", fuzzing::proxy_peer),
];

#[test]
fn every_seed_of_every_fuzz_target_runs_quickly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    for (name, target) in TARGETS {
        let dir = root.join(name);
        let mut seeds: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("an entry").path())
            .collect();
        seeds.sort();
        assert!(!seeds.is_empty(), "{name} has no seeds");
        for seed in seeds {
            let bytes = std::fs::read(&seed).expect("a seed");
            let started = Instant::now();
            target(&bytes);
            assert!(
                started.elapsed() < Duration::from_secs(3),
                "{} took {:?}",
                seed.display(),
                started.elapsed()
            );
        }
    }
}

/// Inputs the hostile corpus and fuzzing runs showed to matter, kept as literals.
#[test]
fn known_hostile_inputs_return() {
    // A CONNACK announcing the maximum remaining length.
    fuzzing::mqtt_peer(&[0x20, 0xFF, 0xFF, 0xFF, 0x7F, 0, 0]);
    // A remaining length longer than four bytes.
    fuzzing::mqtt_peer(&[0x20, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]);
    // A CONNACK whose properties repeat and overrun.
    fuzzing::mqtt_peer(&[0x20, 0x07, 0x00, 0x00, 0x04, 0x24, 0x00, 0x24, 0x01]);
    fuzzing::mqtt_peer(&[0x20, 0x05, 0x00, 0x00, 0xE0, 0xD4, 0x03]);
    // After a valid 101, a WebSocket frame of 2^62 bytes.
    let mut ws = vec![1u8, 0x82, 0x7F];
    ws.extend((1u64 << 62).to_be_bytes());
    fuzzing::ws_peer(&ws);
    // A SOCKS5 reply with an unknown address type, and a domain of length 255 cut short.
    fuzzing::proxy_peer(&[1, 5, 0, 5, 0, 0, 9, 1, 2, 3, 4, 5, 6]);
    fuzzing::proxy_peer(&[1, 5, 0, 5, 0, 0, 3, 255, b'a']);
    // An endless-looking proxy head.
    let mut head = vec![0u8];
    head.extend(b"HTTP/1.1 200 OK\r\n");
    head.extend(b"X: y\r\n".repeat(5000));
    fuzzing::proxy_peer(&head);
    // URLs: an internationalised name, a bidi override, percent escapes in the host.
    fuzzing::url("mqtt://bücher.example:1883".as_bytes());
    fuzzing::url("mqtt://b\u{202e}cher.example".as_bytes());
    fuzzing::url(b"mqtt://%ff%fe%00:1883");
    fuzzing::url(b"mqtt://%:1883");
}
