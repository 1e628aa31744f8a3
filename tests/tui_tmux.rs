//! End to end: the real binary's full-screen view in tmux (send-keys, capture-pane).

mod common;

use common::shell_quote;
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

/// The cause id of the first failing scenario in stage order: the demo lists the lab's
/// scenarios grouped by the stage that fails, DNS first.
fn first_dns_cause(lab: &Lab) -> String {
    lab.scenarios()
        .iter()
        .find(|s| s.expect.starts_with("dns."))
        .map(|s| s.expect.clone())
        .expect("the lab has a DNS scenario")
}

fn wait_blocking(name: &str, needle: &str) -> String {
    wait_for(name, needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_runs_a_failing_scenario_from_profiles_and_restores_the_terminal() {
    let lab = Lab::start().await.expect("lab");
    let cause = first_dns_cause(&lab);
    drop(lab);
    let dir = tempfile::tempdir().expect("temp dir");
    let before = dir.path().join("stty-before");
    let after = dir.path().join("stty-after");
    let name = format!("mqtt-doctor-demo-{}", std::process::id());
    let s = start(
        &name,
        &format!(
            "stty -g > {}; {} demo; echo EXIT=$?; stty -g > {}; echo DONE; sleep 60",
            shell_quote(&before.display().to_string()),
            env!("CARGO_BIN_EXE_mqtt-doctor"),
            shell_quote(&after.display().to_string()),
        ),
    );
    let n = s.0.clone();
    let text = tokio::task::spawn_blocking(move || wait_blocking(&n, "[1 Profiles]"))
        .await
        .unwrap();
    assert!(
        text.contains(&cause),
        "the demo lists the lab's scenarios:\n{text}"
    );
    assert!(text.contains("demo, in memory"), "{text}");
    // The first profile is the first DNS failure: run it, its verdict names the cause.
    keys(&s, &["Enter"]);
    let n = s.0.clone();
    let text = tokio::task::spawn_blocking(move || wait_blocking(&n, "Verdict of run 1"))
        .await
        .unwrap();
    assert!(text.contains("[2 Diagnose]"), "{text}");
    let n = s.0.clone();
    let needle = format!("DNS failed  {cause}");
    let text = tokio::task::spawn_blocking(move || wait_blocking(&n, &needle))
        .await
        .unwrap();
    assert!(text.contains("What to do:"), "{text}");
    keys(&s, &["?"]);
    let n = s.0.clone();
    let text = tokio::task::spawn_blocking(move || wait_blocking(&n, "Keys (diagnose)"))
        .await
        .unwrap();
    assert!(text.contains("run the diagnosis again"), "{text}");
    keys(&s, &["Escape"]);
    keys(&s, &["q"]);
    let n = s.0.clone();
    let text = tokio::task::spawn_blocking(move || wait_blocking(&n, "DONE"))
        .await
        .unwrap();
    assert!(text.contains("EXIT=0"), "{text}");
    let before = std::fs::read_to_string(&before).expect("stty before");
    let after = std::fs::read_to_string(&after).expect("stty after");
    assert!(!before.trim().is_empty());
    assert_eq!(before, after, "the terminal settings are restored");
}

/// The pid of the pane's process (the app itself: started with `exec`).
fn pane_pid(name: &str) -> u32 {
    tmux(&["display-message", "-p", "-t", name, "#{pane_pid}"])
        .trim()
        .parse()
        .expect("pane pid")
}

/// utime + stime of a process, in clock ticks (proc(5)).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("proc stat");
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after ')'.
    fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
}

fn wait_gone(pid: u32) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::path::Path::new(&format!("/proc/{pid}")).exists() {
        // A zombie (exited, not reaped yet) counts as gone.
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if state
            .rsplit(')')
            .next()
            .is_some_and(|r| r.trim_start().starts_with('Z'))
        {
            return;
        }
        assert!(Instant::now() < deadline, "pid {pid} did not exit");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `mqtt-doctor demo` with its own TMPDIR, so the lab's folder is the only entry there.
fn demo_in_private_tmp(name: &str, tmp: &std::path::Path) -> Session {
    let s = start(
        name,
        &format!(
            "TMPDIR={} exec {} demo",
            shell_quote(&tmp.display().to_string()),
            env!("CARGO_BIN_EXE_mqtt-doctor")
        ),
    );
    wait_for(name, "[1 Profiles]");
    s
}

fn entries(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn demo_removes_the_lab_folder_on_sigterm_and_sighup() {
    for (signal, sig) in [("TERM", libc::SIGTERM), ("HUP", libc::SIGHUP)] {
        let tmp = tempfile::tempdir().expect("temp dir");
        let name = format!("mqtt-doctor-sig{signal}-{}", std::process::id());
        let s = demo_in_private_tmp(&name, tmp.path());
        let found = entries(tmp.path());
        assert_eq!(found.len(), 1, "one lab folder: {found:?}");
        assert!(found[0].starts_with("mqtt-doctor-lab-"), "{found:?}");
        assert!(tmp.path().join(&found[0]).join("client.key").exists());
        let pid = pane_pid(&s.0);
        // SAFETY: kill(2) on the pid of the process this test started.
        let rc = unsafe { libc::kill(pid as i32, sig) };
        assert_eq!(rc, 0);
        wait_gone(pid);
        assert_eq!(
            entries(tmp.path()),
            Vec::<String>::new(),
            "SIG{signal} left the lab folder"
        );
    }
}

#[test]
fn the_idle_app_uses_no_cpu() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let name = format!("mqtt-doctor-idle-{}", std::process::id());
    let s = demo_in_private_tmp(&name, tmp.path());
    let pid = pane_pid(&s.0);
    // Let start-up work (the keyring probe, the first draws) finish: the status line then
    // names the backend instead of "looking".
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = screen(&s.0);
        if text.contains("keyring: ") && !text.contains("keyring: looking") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the keyring probe never ended:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    let before = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(3));
    let after = cpu_ticks(pid);
    assert_eq!(after - before, 0, "CPU ticks over 3 idle seconds");
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

/// Pane modes tmux tracks for what the program in it asked: alternate screen, cursor shown,
/// mouse reporting (any of the kinds crossterm turns on).
fn pane_modes(name: &str) -> (bool, bool, bool) {
    let out = tmux(&[
        "display-message",
        "-p",
        "-t",
        name,
        "#{alternate_on} #{cursor_flag} #{mouse_any_flag}#{mouse_button_flag}#{mouse_standard_flag}#{mouse_sgr_flag}",
    ]);
    let mut parts = out.split_whitespace();
    let alt = parts.next() == Some("1");
    let cursor = parts.next() == Some("1");
    let mouse = parts.next().is_some_and(|m| m.contains('1'));
    (alt, cursor, mouse)
}

#[test]
fn a_panic_restores_the_terminal_and_still_shows_its_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    let before = dir.path().join("stty-before");
    let after = dir.path().join("stty-after");
    let config = dir.path().join("profiles.toml");
    let name = format!("mqtt-doctor-panic-{}", std::process::id());
    // The hook exists in debug builds only (the test binary's build): F12 panics in the loop.
    let s = start(
        &name,
        &format!(
            "stty -g > {}; MQTT_DOCTOR_TEST_PANIC=1 MQTT_DOCTOR_CONFIG={} {}; echo EXIT=$?; stty -g > {}; echo DONE; sleep 60",
            shell_quote(&before.display().to_string()),
            shell_quote(&config.display().to_string()),
            env!("CARGO_BIN_EXE_mqtt-doctor"),
            shell_quote(&after.display().to_string()),
        ),
    );
    wait_for(&s.0, "[1 Profiles]");
    // While the app runs, the modes are on: the checks below can fail.
    assert_eq!(
        pane_modes(&s.0),
        (true, false, true),
        "(alternate screen, cursor visible, mouse) while the app runs"
    );
    keys(&s, &["F12"]);
    wait_for(&s.0, "DONE");
    // With the history: a backtrace (RUST_BACKTRACE) can push the message off the screen.
    let text = tmux(&["capture-pane", "-p", "-S", "-1000", "-t", &s.0]);
    assert!(
        text.contains("panicked")
            && text.contains("test panic requested by MQTT_DOCTOR_TEST_PANIC"),
        "the panic message is shown after the restore:\n{text}"
    );
    assert!(text.contains("EXIT=101"), "{text}");
    assert!(
        !text.contains("[1 Profiles]"),
        "the app's screen is gone:\n{text}"
    );
    assert_eq!(
        pane_modes(&s.0),
        (false, true, false),
        "(alternate screen, cursor visible, mouse) after the panic"
    );
    let before = std::fs::read_to_string(&before).expect("stty before");
    let after = std::fs::read_to_string(&after).expect("stty after");
    assert!(!before.trim().is_empty());
    assert_eq!(before, after, "the terminal settings are restored");
}
