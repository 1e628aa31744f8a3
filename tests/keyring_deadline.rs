//! A keyring that never answers: a session bus socket that accepts connections and stays
//! silent. The fleet check and the `profile` commands give up after the deadline with a
//! sentence instead of hanging.

mod common;

use std::os::unix::net::UnixListener;
use std::path::Path;
use std::time::{Duration, Instant};

/// A session bus address whose socket accepts and holds every connection without a byte of
/// reply (a hung D-Bus daemon).
fn silent_bus(dir: &Path) -> String {
    let bus = dir.join("bus");
    let listener = UnixListener::bind(&bus).unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().flatten() {
            held.push(conn);
        }
    });
    format!("unix:path={}", bus.display())
}

const SENTENCE: &str = "The OS keyring (Secret Service) did not answer within 10 s";

#[test]
fn profile_commands_end_after_the_deadline_when_the_keyring_is_silent() {
    let dir = tempfile::tempdir().unwrap();
    let address = silent_bus(dir.path());
    let config = dir.path().join("profiles.toml");
    std::fs::write(
        &config,
        "[profiles.a]\nurl = \"mqtt://127.0.0.1:1\"\npassword = { keyring = true }\n",
    )
    .unwrap();
    let config = config.display().to_string();
    let env = [("DBUS_SESSION_BUS_ADDRESS", address.as_str())];
    let started = Instant::now();
    // A header value goes to the keyring on `profile add`.
    let (code, out, err) = common::run(
        &[
            "--config",
            &config,
            "profile",
            "add",
            "w",
            "ws://127.0.0.1:1/mqtt",
            "--header",
            "Authorization: Bearer t0ken",
        ],
        &env,
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains(SENTENCE), "{err}");
    assert!(!err.contains("t0ken"), "{err}");
    // Removing a profile deletes its keyring entries.
    let (code, out, err) = common::run(&["--config", &config, "profile", "remove", "a"], &env);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains(SENTENCE), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(35),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_silent_secret_service_is_named_after_the_deadline_instead_of_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let address = silent_bus(dir.path());
    let config = dir.path().join("profiles.toml");
    std::fs::write(
        &config,
        "[profiles.a]\nurl = \"mqtt://127.0.0.1:1\"\npassword = { keyring = true }\n\n\
         [profiles.b]\nurl = \"mqtt://127.0.0.1:1\"\npassword = { keyring = true }\n",
    )
    .unwrap();
    let (code, out, err) = common::run(
        &[
            "--config",
            &config.display().to_string(),
            "check",
            "--all",
            "--json",
        ],
        &[("DBUS_SESSION_BUS_ADDRESS", &address)],
    );
    assert_eq!(code, 2, "{out}{err}");
    let rows: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    let rows = rows.as_array().expect("one row per profile");
    assert_eq!(rows.len(), 2);
    for row in rows {
        let e = row["error"].as_str().unwrap_or_else(|| panic!("{row}"));
        assert!(
            e.contains("field `password`") && e.contains(SENTENCE),
            "{e}"
        );
    }
}
