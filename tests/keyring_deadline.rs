//! A keyring that never answers: a session bus socket that accepts connections and stays
//! silent. The fleet check gives up after the deadline with a sentence instead of hanging.

mod common;

use std::os::unix::net::UnixListener;

#[test]
fn a_silent_secret_service_is_named_after_the_deadline_instead_of_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let bus = dir.path().join("bus");
    let listener = UnixListener::bind(&bus).unwrap();
    // Accept and hold every connection without a byte of reply (a hung D-Bus daemon).
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().flatten() {
            held.push(conn);
        }
    });
    let config = dir.path().join("profiles.toml");
    std::fs::write(
        &config,
        "[profiles.a]\nurl = \"mqtt://127.0.0.1:1\"\npassword = { keyring = true }\n\n\
         [profiles.b]\nurl = \"mqtt://127.0.0.1:1\"\npassword = { keyring = true }\n",
    )
    .unwrap();
    let address = format!("unix:path={}", bus.display());
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
            e.contains("field `password`")
                && e.contains("the OS keyring (Secret Service) did not answer within 10 s"),
            "{e}"
        );
    }
}
