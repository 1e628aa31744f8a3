//! `secrets export` through the real binary and the real OS keyring (Secret Service under
//! scripts/test): a key stored with --key-to-keyring comes back out byte for byte, mode 0600,
//! and an existing file is never overwritten without --force or a yes at a terminal.

mod common;

use common::*;

#[test]
fn a_key_kept_in_the_keyring_is_exported_with_mode_0600_and_never_overwritten_silently() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "client.key",
            "-out",
            "client.pem",
            "-subj",
            "/CN=export-test",
            "-days",
            "2",
        ],
    );
    let config = d.join("profiles.toml").display().to_string();
    let name = format!("export-{}", std::process::id());
    let cmd = |args: &[&str]| {
        let mut all = vec!["--config", config.as_str()];
        all.extend_from_slice(args);
        run(&all, &[])
    };
    let key = d.join("client.key").display().to_string();
    let cert = d.join("client.pem").display().to_string();
    let (code, out, err) = cmd(&[
        "profile",
        "add",
        &name,
        "mqtts://127.0.0.1:8883",
        "--cert",
        &cert,
        "--key",
        &key,
        "--key-to-keyring",
    ]);
    assert_eq!(code, 0, "{out}{err}");

    let target = d.join("back.key");
    let target_s = target.display().to_string();
    let (code, out, err) = cmd(&["secrets", "export", &name, "key", "-o", &target_s]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("mode 0600"), "{out}");
    let original = std::fs::read_to_string(&key).unwrap();
    let back = std::fs::read_to_string(&target).unwrap();
    assert_eq!(back.trim(), original.trim(), "the key round-trips");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    // Exists, no terminal (stdin is not one here), no --force: refused, file untouched.
    std::fs::write(&target, "keep me").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, _, err) = cmd(&["secrets", "export", &name, "key", "-o", &target_s]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--force"), "{err}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");

    let (code, out, err) = cmd(&[
        "secrets", "export", &name, "key", "-o", &target_s, "--force",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        std::fs::read_to_string(&target).unwrap().trim(),
        original.trim()
    );
    let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "an existing file is narrowed to 0600");

    // What the profile does not keep in the keyring is named, not guessed.
    let (code, _, err) = cmd(&[
        "secrets", "export", &name, "p12", "-o", &target_s, "--force",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("tls.p12"), "{err}");

    let (code, out, err) = cmd(&["profile", "remove", &name]);
    assert_eq!(code, 0, "{out}{err}");
}
