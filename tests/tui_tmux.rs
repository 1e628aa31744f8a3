//! End to end: the real binary's full-screen view in tmux (send-keys, capture-pane).

use mqtt_doctor::lab::Lab;
use std::process::Command;
use std::time::{Duration, Instant};

struct Session(String);

impl Drop for Session {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.0])
            .status();
    }
}

fn tmux(args: &[&str]) -> String {
    let out = Command::new("tmux")
        .args(args)
        .output()
        .expect("tmux is installed (scripts/test installs it)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn start(name: &str, command: &str) -> Session {
    let status = Command::new("tmux")
        .args([
            "new-session",
            "-d",
            "-s",
            name,
            "-x",
            "120",
            "-y",
            "40",
            command,
        ])
        .env("TERM", "xterm-256color")
        .status()
        .expect("tmux runs");
    assert!(status.success());
    Session(name.to_string())
}

fn screen(name: &str) -> String {
    tmux(&["capture-pane", "-p", "-t", name])
}

fn wait_for(name: &str, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = screen(name);
        if text.contains(needle) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{needle:?} never appeared:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn keys(s: &Session, keys: &[&str]) {
    let mut args = vec!["send-keys", "-t", s.0.as_str()];
    args.extend_from_slice(keys);
    tmux(&args);
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_view_shows_the_verdict_and_quits_with_the_stage_exit_code() {
    let lab = Lab::start().await.expect("lab");
    let sc = lab.scenario("tls.cert_expired").expect("scenario").clone();
    let mut cmd = format!(
        "{} {}",
        env!("CARGO_BIN_EXE_mqtt-doctor"),
        shell_quote(&sc.url)
    );
    for a in &sc.args {
        cmd.push(' ');
        cmd.push_str(&shell_quote(a));
    }
    let name = format!("mqtt-doctor-e2e-{}", std::process::id());
    let s = start(&name, &format!("{cmd}; echo EXIT=$?; sleep 60"));
    let text = tokio::task::spawn_blocking({
        let name = s.0.clone();
        move || wait_for(&name, "tls.cert_expired")
    })
    .await
    .unwrap();
    assert!(text.contains("expired"), "{text}");
    assert!(text.contains("✘"), "{text}");
    // Move the selection up to DNS: its facts (the address) appear.
    keys(&s, &["Up", "Up"]);
    let text = tokio::task::spawn_blocking({
        let name = s.0.clone();
        move || wait_for(&name, "127.0.0.1")
    })
    .await
    .unwrap();
    assert!(text.contains("TCP"), "{text}");
    keys(&s, &["q"]);
    let text = tokio::task::spawn_blocking({
        let name = s.0.clone();
        move || wait_for(&name, "EXIT=")
    })
    .await
    .unwrap();
    assert!(
        text.contains("EXIT=12"),
        "exit code of a tls failure is 12:\n{text}"
    );
    drop(lab);
}

#[test]
fn demo_lists_scenarios_and_runs_one() {
    let name = format!("mqtt-doctor-demo-{}", std::process::id());
    let s = start(
        &name,
        &format!(
            "{} demo; echo EXIT=$?; sleep 60",
            env!("CARGO_BIN_EXE_mqtt-doctor")
        ),
    );
    let text = wait_for(&s.0, "ok: healthy plain broker");
    assert!(text.contains("tls.cert_expired"), "{text}");
    keys(&s, &["Enter"]);
    let text = wait_for(&s.0, "came back in");
    assert!(text.contains("✔"), "{text}");
    keys(&s, &["q"]);
    let text = wait_for(&s.0, "EXIT=");
    assert!(text.contains("EXIT=0"), "{text}");
}

#[test]
fn password_prompt_is_masked() {
    let name = format!("mqtt-doctor-prompt-{}", std::process::id());
    // Nothing listens on port 1: after the prompt the check fails fast at the tcp stage.
    let s = start(
        &name,
        &format!(
            "{} check mqtt://127.0.0.1:1 -u alice --password-prompt; echo EXIT=$?; sleep 60",
            env!("CARGO_BIN_EXE_mqtt-doctor")
        ),
    );
    wait_for(&s.0, "MQTT password:");
    keys(&s, &["-l", "hunter2"]);
    let text = wait_for(&s.0, "*******");
    assert!(
        !text.contains("hunter2"),
        "the password was echoed:\n{text}"
    );
    keys(&s, &["Enter"]);
    let text = wait_for(&s.0, "EXIT=");
    assert!(
        text.contains("tcp.refused") && text.contains("EXIT=11"),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");
}
