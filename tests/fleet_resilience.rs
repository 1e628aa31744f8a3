//! `check --all` and `profile list` with a real profiles file in which some profiles cannot be
//! used (bad URL, unknown key, missing env secret, missing keyring entry, unreadable CA): each
//! is its own error line, the others still run against a real Mosquitto, and nothing is lost.

mod common;

use common::*;

/// A profiles file with two good profiles (one succeeds, one fails at the broker) and one of
/// each kind of bad profile.
fn fleet_file(dir: &std::path::Path, port: u16, closed: u16) -> String {
    format!(
        r#"version = 1

[profiles.good]
url = "mqtt://127.0.0.1:{port}"

[profiles.refused]
url = "mqtt://127.0.0.1:{closed}"
timeout_secs = 2

[profiles.bad-url]
url = "mqtt://127.0.0.1:99999"

[profiles.typo]
url = "mqtt://127.0.0.1:{port}"
usernme = "alice"

[profiles.no-env]
url = "mqtt://127.0.0.1:{port}"
username = "alice"
password = {{ env = "MQTT_DOCTOR_TEST_UNSET_VAR_41" }}

[profiles.no-keyring]
url = "mqtt://127.0.0.1:{port}"
username = "alice"
password = {{ keyring = true }}

[profiles.no-ca]
url = "mqtts://127.0.0.1:{port}"

[profiles.no-ca.tls]
ca = {{ file = "{}" }}
"#,
        dir.join("missing-ca.pem").display()
    )
}

#[test]
fn a_bad_profile_is_its_own_line_and_the_others_still_run() {
    let port = free_port();
    let closed = free_port();
    let m = Mosquitto::start(
        tempfile::tempdir().unwrap(),
        &format!("listener {port} 127.0.0.1\nallow_anonymous true\n"),
        &[port],
    );
    let dir = tempfile::tempdir().unwrap();
    // Unique names: the keyring is shared with other tests.
    let no_keyring = format!("no-keyring-{}", std::process::id());
    let text = fleet_file(dir.path(), port, closed).replace("no-keyring", &no_keyring);
    let config = write(dir.path(), "profiles.toml", &text);
    let c = config.display().to_string();
    let env = [("MQTT_DOCTOR_CONFIG", c.as_str())];

    // profile list: every profile, the unreadable ones with their error; exit 2.
    let (code, out, err) = run(&["profile", "list"], &env);
    assert_eq!(code, 2, "{out}\n{err}");
    for name in ["good", "refused", "no-env", "no-ca"] {
        assert!(out.lines().any(|l| l.starts_with(name)), "{name}: {out}");
    }
    let line = |out: &str, name: &str| {
        out.lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no line for {name}:\n{out}"))
            .to_string()
    };
    assert!(line(&out, "bad-url").contains("cannot load"), "{out}");
    assert!(
        line(&out, "bad-url").contains("invalid port number"),
        "{out}"
    );
    assert!(line(&out, "typo").contains("usernme"), "{out}");
    assert!(line(&out, "typo").contains("username"), "suggestion: {out}");

    let (code, out, _) = run(&["profile", "list", "--json"], &env);
    assert_eq!(code, 2);
    let list: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let list = list.as_array().expect("array");
    assert_eq!(list.len(), 7, "{out}");
    let bad = list
        .iter()
        .find(|p| p["name"] == "bad-url")
        .expect("bad-url");
    assert!(bad["error"].as_str().unwrap().contains("port"), "{bad}");
    let good = list.iter().find(|p| p["name"] == "good").expect("good");
    assert!(good.get("error").is_none(), "{good}");

    // check --all: the good one is ok, the refused one failed, the bad ones are errors; the
    // exit code says a profile could not run (2).
    let (code, out, err) = run(&["check", "--all"], &env);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(line(&out, "good").contains(" ok "), "{out}");
    assert!(line(&out, "refused").contains("failed"), "{out}");
    assert!(line(&out, "refused").contains("tcp.refused"), "{out}");
    assert!(line(&out, "bad-url").contains("error"), "{out}");
    assert!(line(&out, "typo").contains("usernme"), "{out}");
    assert!(
        line(&out, "no-env").contains("MQTT_DOCTOR_TEST_UNSET_VAR_41"),
        "{out}"
    );
    assert!(
        line(&out, &no_keyring).contains(&format!("{no_keyring}/password")),
        "{out}"
    );
    assert!(line(&out, "no-ca").contains("missing-ca.pem"), "{out}");
    assert!(out.contains("7 profiles: 1 ok, 6 failed"), "{out}");

    let (code, out, _) = run(&["check", "--all", "--json"], &env);
    assert_eq!(code, 2);
    let doc: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let rows = doc.as_array().expect("array");
    assert_eq!(rows.len(), 7);
    let typo = rows.iter().find(|r| r["profile"] == "typo").expect("typo");
    assert!(
        typo["error"].as_str().unwrap().contains("usernme"),
        "{typo}"
    );
    let good = rows.iter().find(|r| r["profile"] == "good").expect("good");
    assert_eq!(good["report"]["verdict"]["ok"], true, "{good}");

    // Only the good ones: 0 all ok, 1 when one failed.
    let (code, _, err) = run(
        &["check", "--profile", "good", "--profile", "refused"],
        &env,
    );
    assert_eq!(code, 1, "{err}");
    let (code, out, err) = run(&["check", "--profile", "good"], &env);
    assert_eq!(code, 0, "{out}\n{err}");
    // A bad profile named alone is refused with its sentence, like before.
    let (code, _, err) = run(&["check", "--profile", "typo"], &env);
    assert_eq!(code, 2);
    assert!(err.contains("usernme"), "{err}");
    drop(m);
}
