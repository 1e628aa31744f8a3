//! Tests that need a second process: a profile save killed mid-write, a keyutils secret read by
//! another process, and a Secret Service that is absent. This binary runs with its own harness
//! (libtest-mimic): started with MQTT_DOCTOR_TEST_CHILD it plays the child and exits, so the
//! child halves are never counted as tests of their own.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use libtest_mimic::{Arguments, Failed, Trial};
use mqtt_doctor::profile::{Profile, ProfileStore};
use mqtt_doctor::secrets::{
    Backend, Kind, Secret, SecretError, SecretStore, prepare_process, status,
};

const CHILD_ENV: &str = "MQTT_DOCTOR_TEST_CHILD";
const FILE_ENV: &str = "MQTT_DOCTOR_TEST_FILE";
const PROFILE_ENV: &str = "MQTT_DOCTOR_TEST_PROFILE";

fn main() {
    if let Ok(role) = std::env::var(CHILD_ENV) {
        std::process::exit(child(&role));
    }
    let args = Arguments::from_args();
    let tests = vec![
        Trial::test("killed_mid_save_leaves_old_or_new_file", killed_mid_save),
        Trial::test(
            "keyutils_secret_survives_into_another_process",
            keyutils_across_processes,
        ),
        Trial::test(
            "secret_service_absent_bus_is_a_clean_error",
            secret_service_absent,
        ),
    ];
    libtest_mimic::run(&args, tests).exit();
}

/// The child roles; a panic in a child is its failure (exit code 101).
fn child(role: &str) -> i32 {
    match role {
        "crash-writer" => crash_writer(),
        "read-secret" => read_secret(),
        "absent-bus" => absent_bus(),
        other => {
            eprintln!("unknown child role {other:?}");
            return 2;
        }
    }
    println!("child-ok");
    0
}

fn ensure(cond: bool, what: impl FnOnce() -> String) -> Result<(), Failed> {
    if cond { Ok(()) } else { Err(what().into()) }
}

/// Runs this binary as a child with a role and extra environment; returns (success, output).
fn run_child(role: &str, env: &[(&str, &str)], remove: &[&str]) -> (bool, String) {
    let exe = std::env::current_exe().expect("test binary path");
    let mut cmd = Command::new(exe);
    cmd.env(CHILD_ENV, role);
    for (k, v) in env {
        cmd.env(k, v);
    }
    for k in remove {
        cmd.env_remove(k);
    }
    let out = cmd.output().expect("spawn child");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

// ---- a profile save killed mid-write ---------------------------------------------------------

fn crash_content(tag: char) -> String {
    // Large enough that a write takes a while and a kill lands mid-write.
    std::iter::repeat_n(tag, 256 * 1024).collect()
}

fn crash_store_notes(path: &Path) -> Result<String, Failed> {
    let store = ProfileStore::load(path)
        .map_err(|e| format!("the file must always parse after a crash: {e}"))?;
    store
        .get("crash")
        .and_then(|p| p.notes.clone())
        .ok_or_else(|| "profile `crash` with notes".into())
}

/// Child: saves alternating contents in a loop until killed.
fn crash_writer() {
    let path = PathBuf::from(std::env::var(FILE_ENV).expect("file"));
    let mut store = ProfileStore::load(&path).expect("load");
    let (a, b) = (crash_content('a'), crash_content('b'));
    for i in 0..1_000_000u32 {
        let mut p = Profile::new("crash", "mqtts://h:8883");
        p.notes = Some(if i % 2 == 0 { b.clone() } else { a.clone() });
        store.upsert(p).expect("upsert");
        store.save().expect("save");
    }
}

fn killed_mid_save() -> Result<(), Failed> {
    let d = tempfile::tempdir()?;
    let path = d.path().join("profiles.toml");
    let (a, b) = (crash_content('a'), crash_content('b'));
    let mut store = ProfileStore::load(&path)?;
    let mut p = Profile::new("crash", "mqtts://h:8883");
    p.notes = Some(a.clone());
    store.upsert(p)?;
    store.save()?;

    let exe = std::env::current_exe()?;
    let (mut saw_b, mut changes) = (0, 0);
    let mut last = crash_store_notes(&path)?;
    for i in 0..40 {
        let mut child = Command::new(&exe)
            .env(CHILD_ENV, "crash-writer")
            .env(FILE_ENV, &path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        std::thread::sleep(Duration::from_millis(rand::random_range(10..80)));
        child.kill()?; // SIGKILL on unix
        let status = child.wait()?;
        ensure(!status.success(), || {
            format!("iteration {i}: the child finished before it was killed")
        })?;
        let notes = crash_store_notes(&path)?;
        ensure(notes == a || notes == b, || {
            format!(
                "iteration {i}: the file holds neither the old nor the new content ({} bytes)",
                notes.len()
            )
        })?;
        if notes == b {
            saw_b += 1;
        }
        if notes != last {
            changes += 1;
        }
        last = notes;
        let bak = d.path().join("profiles.toml.bak");
        if bak.exists() {
            ProfileStore::load(&bak).map_err(|e| format!("the .bak file must parse too: {e}"))?;
        }
    }
    // The test only means something if the child really got to write.
    ensure(saw_b > 0 && changes > 0, || {
        format!("the child never completed a save (saw_b={saw_b}, changes={changes})")
    })?;
    ProfileStore::load(&path)?;
    Ok(())
}

// ---- keyrings across processes ---------------------------------------------------------------

fn keyutils() -> SecretStore {
    prepare_process().expect("prepare_process must join a session keyring");
    SecretStore::open_backend(Backend::KernelKeyutils)
        .expect("kernel keyutils must be usable in tests (is the kernel built with CONFIG_KEYS?)")
}

fn unique_profile(tag: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("t{}-{nanos}-{tag}", std::process::id())
}

/// Child: reads the password the parent stored.
fn read_secret() {
    let p = std::env::var(PROFILE_ENV).expect("profile");
    let got = keyutils().get(&p, Kind::Password).expect("get");
    assert_eq!(got.as_ref().map(Secret::expose), Some("from-parent"));
}

fn keyutils_across_processes() -> Result<(), Failed> {
    let store = keyutils();
    let p = unique_profile("xproc");
    store.set(&p, Kind::Password, &Secret::new("from-parent"))?;
    let (ok, out) = run_child("read-secret", &[(PROFILE_ENV, &p)], &[]);
    let _ = store.delete(&p, Kind::Password);
    ensure(ok && out.contains("child-ok"), || {
        format!("child failed:\n{out}")
    })
}

/// Child: with no usable session bus, the Secret Service is a one-sentence error and the
/// automatic choice falls back to keyutils.
fn absent_bus() {
    let err = SecretStore::open_backend(Backend::SecretService).unwrap_err();
    assert!(
        matches!(
            err,
            SecretError::BackendUnavailable {
                backend: Backend::SecretService,
                ..
            }
        ),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.starts_with("The Secret Service keyring cannot be used"),
        "{msg}"
    );
    assert_eq!(msg.lines().count(), 1, "{msg}");
    prepare_process().expect("prepare_process");
    let store = SecretStore::open().expect("open");
    assert_eq!(store.backend(), Backend::KernelKeyutils);
    let st = status();
    assert_eq!(st.backend, Some(Backend::KernelKeyutils));
    assert!(
        st.probes
            .iter()
            .any(|p| p.backend == Backend::SecretService && !p.usable)
    );
}

fn secret_service_absent() -> Result<(), Failed> {
    let (ok, out) = run_child(
        "absent-bus",
        &[(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/mqtt-doctor-test/bus",
        )],
        &[],
    );
    ensure(ok && out.contains("child-ok"), || {
        format!("child failed (bus address points nowhere):\n{out}")
    })?;
    let (ok, out) = run_child("absent-bus", &[], &["DBUS_SESSION_BUS_ADDRESS"]);
    ensure(ok && out.contains("child-ok"), || {
        format!("child failed (no bus address):\n{out}")
    })
}
