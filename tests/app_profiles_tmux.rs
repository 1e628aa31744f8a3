//! End to end in tmux with the real binary, a real profiles file and a real Mosquitto with a
//! password file: a profile is added through the app's form (the password typed into the
//! masked field goes to the keyring, never the file or the screen), run, and comes back OK.

mod common;

use common::tmux::Tmux;
use common::*;
use std::process::Command;

#[test]
fn add_a_profile_in_the_form_with_a_keyring_password_run_it_and_see_ok() {
    let password = "tmux-canary-pw-93b1";
    let dir = tempfile::tempdir().unwrap();
    let passwd = dir.path().join("passwd");
    let status = Command::new("mosquitto_passwd")
        .args(["-b", "-c"])
        .arg(&passwd)
        .args(["alice", password])
        .status()
        .expect("mosquitto_passwd runs (scripts/test installs mosquitto)");
    assert!(status.success());
    let port = free_port();
    let _m = Mosquitto::start(
        tempfile::tempdir().unwrap(),
        &format!(
            "listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {}\n",
            passwd.display()
        ),
        &[port],
    );
    let config = dir.path().join("profiles.toml");
    let name = format!("app-e2e-{}", std::process::id());

    let tmux = Tmux {
        socket: format!("mqtt-doctor-profiles-{}", std::process::id()),
    };
    let command = format!(
        "MQTT_DOCTOR_CONFIG={} {}; echo EXIT=$?; sleep 60",
        shell_quote(&config.display().to_string()),
        env!("CARGO_BIN_EXE_mqtt-doctor")
    );
    tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "app",
        "-x",
        "100",
        "-y",
        "30",
        &command,
    ]);
    tmux.wait_for_never("No saved profiles yet", Some(password));

    // n: the form. Name, URL, Username, Password (masked), then Enter saves.
    tmux.keys(&["n"]);
    tmux.wait_for_never("New profile", Some(password));
    tmux.text(&name);
    tmux.keys(&["Tab"]);
    tmux.text(&format!("mqtt://127.0.0.1:{port}"));
    tmux.keys(&["Tab"]);
    tmux.text("alice");
    tmux.keys(&["Tab"]);
    tmux.text(password);
    let masked = tmux.wait_for_never(&"*".repeat(password.len()), Some(password));
    assert!(masked.contains("keyring"), "{masked}");
    tmux.keys(&["Enter"]);
    let saved = tmux.wait_for_never(&format!("{name}/password"), Some(password));
    assert!(saved.contains("saved profile"), "{saved}");

    let file = std::fs::read_to_string(&config).expect("the profile was saved");
    assert!(
        !file.contains(password),
        "the password is in the file:\n{file}"
    );
    assert!(file.contains("password = { keyring = true }"), "{file}");
    assert!(file.contains("username = \"alice\""), "{file}");

    // Enter runs it (and opens Diagnose); back on Profiles the row says ok.
    tmux.keys(&["Enter"]);
    tmux.wait_for_never("OK", Some(password));
    tmux.keys(&["1"]);
    let list = tmux.wait_for_never(&format!("✔ {name}"), Some(password));
    assert!(list.contains(" ok "), "{list}");

    // The keyring really holds it: the CLI runs the same profile without being told it.
    let (code, out, err) = run(
        &["check", "--profile", &name, "--json"],
        &[("MQTT_DOCTOR_CONFIG", &config.display().to_string())],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(!out.contains(password) && !err.contains(password));

    tmux.keys(&["q"]);
    let end = tmux.wait_for_never("EXIT=", Some(password));
    assert!(end.contains("EXIT=0"), "{end}");

    // Leave the shared keyring clean.
    let (code, _, err) = run(
        &["profile", "remove", &name],
        &[("MQTT_DOCTOR_CONFIG", &config.display().to_string())],
    );
    assert_eq!(code, 0, "{err}");
}
