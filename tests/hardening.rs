//! Issue 16 through the real binary and real files: concurrent writers, FIFOs, devices,
//! huge inputs, stale temp files, closed pipes and /dev/full. Each test fails on the old build.

mod common;

use common::*;
use mqtt_doctor::lab::{Behavior, Script, listen};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_mqtt-doctor");

/// Runs the binary with a deadline: a hang is a test failure, not a stuck suite.
fn run_within(args: &[&str], config: &Path, limit: Duration) -> (i32, String, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .env("MQTT_DOCTOR_CONFIG", config)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary runs");
    let deadline = Instant::now() + limit;
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("mqtt-doctor {args:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn mkfifo(path: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
}

#[test]
fn twenty_concurrent_adds_keep_all_twenty_profiles() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("profiles.toml");
    let children: Vec<_> = (0..20)
        .map(|i| {
            Command::new(BIN)
                .args(["profile", "add", &format!("p{i}"), "mqtt://127.0.0.1:1883"])
                .env("MQTT_DOCTOR_CONFIG", &config)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("binary runs")
        })
        .collect();
    let outputs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let saved = outputs.iter().filter(|o| o.status.success()).count();
    for o in &outputs {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let (code, out, err) = run_within(
        &["profile", "list", "--json"],
        &config,
        Duration::from_secs(10),
    );
    assert_eq!(code, 0, "{err}");
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(saved, 20);
    assert_eq!(list.as_array().unwrap().len(), 20, "{out}");
}

#[test]
fn a_fifo_is_refused_at_once_wherever_a_file_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.pem");
    mkfifo(&fifo);
    let config = dir.path().join("profiles.toml");
    let f = fifo.to_str().unwrap();
    let limit = Duration::from_secs(10);
    for args in [
        vec!["cert", "inspect", f],
        vec!["check", "mqtts://127.0.0.1:1", "--ca", f, "--timeout", "2"],
        vec!["profile", "add", "x", "mqtts://127.0.0.1:1", "--ca", f],
    ] {
        let (code, out, err) = run_within(&args, &config, limit);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains("FIFO"), "{args:?}: {err}");
    }
    // The profiles file itself.
    let (code, out, err) = run_within(&["profile", "list"], &fifo, limit);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("FIFO"), "{err}");
    // `import` checks the files it names like `add` does.
    let (code, out, err) = run_within(
        &[
            "profile",
            "import",
            "--name",
            "imp",
            "--",
            "mosquitto_sub",
            "-h",
            "127.0.0.1",
            "-p",
            "8883",
            "--cafile",
            f,
            "-t",
            "t",
        ],
        &config,
        limit,
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("FIFO"), "{err}");
}

#[test]
fn dev_zero_and_huge_files_are_refused_without_reading_them() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("profiles.toml");
    let limit = Duration::from_secs(10);
    let (code, out, err) = run_within(&["cert", "inspect", "/dev/zero"], &config, limit);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("character device"), "{err}");
    // Sparse: 200 MB on paper, nothing on disk.
    let big = dir.path().join("big.pem");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(200 * 1024 * 1024)
        .unwrap();
    let (code, out, err) = run_within(&["cert", "inspect", big.to_str().unwrap()], &config, limit);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("larger than 8388608 bytes"), "{err}");
    let big_toml = dir.path().join("big.toml");
    std::fs::File::create(&big_toml)
        .unwrap()
        .set_len(50 * 1024 * 1024)
        .unwrap();
    let (code, out, err) = run_within(&["profile", "list"], &big_toml, limit);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("larger than 4194304 bytes"), "{err}");
}

#[test]
fn a_save_never_replaces_a_device_node() {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    // A private copy of /dev/null (char device 1:3), so the real one is never at risk.
    let null = dir.path().join("null");
    let c = std::ffi::CString::new(null.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path; the tests run as root (like CI).
    let made = unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3)) };
    assert_eq!(
        made,
        0,
        "mknod needs root: {}",
        std::io::Error::last_os_error()
    );
    let (code, out, err) = run_within(
        &["profile", "add", "x", "mqtt://127.0.0.1:1883"],
        &null,
        Duration::from_secs(10),
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("not a regular file"), "{err}");
    let meta = std::fs::symlink_metadata(&null).unwrap();
    assert!(meta.file_type().is_char_device());
}

#[test]
fn a_new_profiles_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("profiles.toml");
    let (code, _, err) = run_within(
        &["profile", "add", "x", "mqtt://127.0.0.1:1883"],
        &config,
        Duration::from_secs(10),
    );
    assert_eq!(code, 0, "{err}");
    let mode = std::fs::metadata(&config).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    // A world-writable file the user made is written back without group/world write.
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o666)).unwrap();
    let (code, _, err) = run_within(
        &["profile", "add", "y", "mqtt://127.0.0.1:1883"],
        &config,
        Duration::from_secs(10),
    );
    assert_eq!(code, 0, "{err}");
    let mode = std::fs::metadata(&config).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644);
}

#[test]
fn temp_files_of_a_killed_save_are_swept_by_the_next_save() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("profiles.toml");
    // What a writer killed between create and rename leaves (fresh, same naming).
    let left = dir.path().join(".profiles.toml.4242.00000000deadbeef.tmp");
    std::fs::write(&left, "half a file").unwrap();
    let (code, _, err) = run_within(
        &["profile", "add", "x", "mqtt://127.0.0.1:1883"],
        &config,
        Duration::from_secs(10),
    );
    assert_eq!(code, 0, "{err}");
    assert!(!left.exists(), "the leftover temp file is still there");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renaming_a_profile_to_its_own_name_keeps_its_secrets() {
    let (addr, _task) = listen(Behavior::Mqtt(Script {
        login: Some(("alice".into(), "pw-same-name-1".into())),
        ..Script::default()
    }))
    .await
    .expect("broker");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("profiles.toml");
    let name = format!("same-{}", std::process::id());
    let url = format!("mqtt://127.0.0.1:{}", addr.port());
    let mut child = Command::new(BIN)
        .args([
            "profile",
            "add",
            &name,
            &url,
            "-u",
            "alice",
            "--password-stdin",
        ])
        .env("MQTT_DOCTOR_CONFIG", &config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"pw-same-name-1\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config2 = config.clone();
    let n = name.clone();
    let (code, out, err) = tokio::task::spawn_blocking(move || {
        run_within(
            &["profile", "rename", &n, &n],
            &config2,
            Duration::from_secs(20),
        )
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{out}{err}");
    assert!(!out.contains("renamed"), "{out}");
    let n = name.clone();
    let (code, out, err) = tokio::task::spawn_blocking(move || {
        run_within(
            &["check", "--profile", &n, "--json"],
            &config,
            Duration::from_secs(30),
        )
    })
    .await
    .unwrap();
    assert_eq!(
        code, 0,
        "the password must still be in the keyring: {out}{err}"
    );
}

#[test]
fn a_closed_stdout_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("profiles.toml");
    let mut child = Command::new(BIN)
        .args(["causes"])
        .env("MQTT_DOCTOR_CONFIG", &config)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Like `| head -c0`: the reader is gone before the first write.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(101), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err, "");
}

#[test]
fn a_full_disk_on_stdout_is_one_clear_error() {
    let dev_full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = Command::new(BIN)
        .args(["causes"])
        .stdout(dev_full)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains("cannot write the output: No space left on device"),
        "{err}"
    );
}

#[test]
fn profile_show_never_prints_header_values() {
    let dir = tempfile::tempdir().unwrap();
    let config = write(
        dir.path(),
        "profiles.toml",
        "version = 1\n\n[profiles.gw]\nurl = \"wss://broker.example.com/mqtt\"\nws_headers = { Authorization = \"Bearer sekrit-token-123\" }\n",
    );
    for args in [
        &["profile", "show", "gw"][..],
        &["profile", "show", "gw", "--json"],
    ] {
        let (code, out, err) = run_within(args, &config, Duration::from_secs(10));
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("Authorization"), "{out}");
        assert!(!out.contains("sekrit-token-123"), "{out}");
        assert!(out.contains("(hidden, 23 characters)"), "{out}");
    }
}

#[test]
fn an_encrypted_key_can_be_added_with_a_passphrase_variable_set_later() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sh = |cmd: &str| {
        let out = Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .current_dir(d)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{cmd}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    sh("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out plain.pem");
    sh("openssl pkcs8 -topk8 -v2 aes-256-cbc -in plain.pem -out key.pem -passout pass:s3cret");
    sh("openssl req -x509 -key plain.pem -out cert.pem -days 3 -subj /CN=client");
    let config = d.join("profiles.toml");
    let (cert, key) = (d.join("cert.pem"), d.join("key.pem"));
    let var = format!("MQTT_DOCTOR_TEST_UNSET_PASSPHRASE_{}", std::process::id());
    let (code, out, err) = run_within(
        &[
            "profile",
            "add",
            "enc",
            "mqtts://127.0.0.1:8883",
            "--cert",
            cert.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
            "--passphrase-env",
            &var,
        ],
        &config,
        Duration::from_secs(10),
    );
    assert_eq!(code, 0, "{out}{err}");
    let toml = std::fs::read_to_string(&config).unwrap();
    assert!(
        toml.contains(&format!("passphrase = {{ env = \"{var}\" }}")),
        "{toml}"
    );
}

/// Item 2's last rule: a profiles.toml that is a symlink into another folder is saved through
/// the link (dotfile managers rely on that), and every writing command says which file it
/// writes; the link itself stays a link.
#[test]
fn a_symlinked_profiles_file_is_saved_through_the_link_with_a_sentence() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = dir.path().join("dotfiles");
    let conf = dir.path().join("config");
    std::fs::create_dir_all(&repo).expect("mkdir");
    std::fs::create_dir_all(&conf).expect("mkdir");
    let real = repo.join("profiles.toml");
    std::fs::write(&real, "version = 1\n").expect("write");
    let link = conf.join("profiles.toml");
    std::os::unix::fs::symlink(&real, &link).expect("symlink");
    let (code, _, err) = run_within(
        &["profile", "add", "x", "mqtt://127.0.0.1:1883"],
        &link,
        Duration::from_secs(30),
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("is a symlink into another folder; saving writes")
            && err.contains(&real.display().to_string()),
        "{err}"
    );
    assert!(
        std::fs::symlink_metadata(&link)
            .expect("link")
            .file_type()
            .is_symlink()
    );
    assert!(
        std::fs::read_to_string(&real)
            .expect("real")
            .contains("[profiles.x]")
    );
    // A link within the same folder is not worth a note.
    let beside = conf.join("beside.toml");
    std::fs::write(&beside, "version = 1\n").expect("write");
    let near = conf.join("near.toml");
    std::os::unix::fs::symlink(&beside, &near).expect("symlink");
    let (code, _, err) = run_within(
        &["profile", "add", "y", "mqtt://127.0.0.1:1883"],
        &near,
        Duration::from_secs(30),
    );
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("symlink"), "{err}");
}
