use std::path::{Path, PathBuf};

use super::parse::suggest;
use super::store::path_from;
use super::*;

const SAMPLE: &str = r#"
version = 1

[profiles.prod]
url = "mqtts://broker.example.com:8883"
username = "device-42"
password = { keyring = true }
mqtt_version = "3.1.1"
client_id = "doctor-1"
keep_alive = 30
clean_start = true
topic = "devices/42/#"
timeout_secs = 10
notes = "Production; ask ops before testing."
proxy = "socks5://proxy.internal:1080"

[profiles.prod.tls]
ca = { file = "/etc/ssl/prod-ca.pem" }
client_cert = { file = "device.crt" }
client_key = { keyring = true }
passphrase = { env = "PROD_KEY_PASS" }
sni = "broker.example.com"
alpn = ["mqtt"]
min_tls_version = "1.3"

[profiles.lab]
host = "10.0.0.5"
port = 8084
transport = "wss"
ws_path = "/mqtt"
mqtt_version = 5
password = { env = "LAB_PW" }
ws_headers = { Authorization = { keyring = true }, "X-Tenant" = "acme" }

[profiles.lab.tls]
insecure = true
min_tls_version = 1.2
"#;

fn dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write test file");
}

fn load_text(text: &str) -> Result<ProfileStore, ProfileError> {
    let d = dir();
    let p = d.path().join("profiles.toml");
    write(&p, text);
    ProfileStore::load(&p)
}

fn err_of(text: &str) -> ProfileError {
    load_text(text).expect_err("expected a load error")
}

#[test]
fn sample_parses_with_all_fields() {
    let store = load_text(SAMPLE).unwrap();
    let prod = store.get("prod").unwrap();
    assert_eq!(prod.name, "prod");
    assert_eq!(prod.password, Some(SecretSource::Keyring));
    assert_eq!(prod.mqtt_version, Some(MqttVersion::V3_1_1));
    assert_eq!(prod.tls.client_key, Some(Material::Keyring));
    assert_eq!(
        prod.tls.ca,
        Some(Material::File(PathBuf::from("/etc/ssl/prod-ca.pem")))
    );
    assert_eq!(
        prod.tls.passphrase,
        Some(SecretSource::Env("PROD_KEY_PASS".into()))
    );
    assert_eq!(prod.tls.min_tls_version, Some(TlsVersion::V1_3));
    let ep = prod.endpoint().unwrap();
    assert_eq!(
        (ep.transport, ep.host.as_str(), ep.port),
        (Transport::Mqtts, "broker.example.com", 8883)
    );
    let lab = store.get("lab").unwrap();
    assert_eq!(lab.transport, Some(Transport::Wss));
    assert_eq!(lab.mqtt_version, Some(MqttVersion::V5));
    assert_eq!(lab.tls.min_tls_version, Some(TlsVersion::V1_2));
    assert_eq!(
        lab.ws_headers.get("X-Tenant"),
        Some(&HeaderValue::Literal("acme".into()))
    );
    assert_eq!(
        lab.ws_headers.get("Authorization"),
        Some(&HeaderValue::Keyring)
    );
    assert_eq!(lab.endpoint().unwrap().ws_path.as_deref(), Some("/mqtt"));
    let names: Vec<_> = store.list().iter().map(|p| p.name.clone()).collect();
    assert_eq!(names, ["lab", "prod"]);
    assert_eq!(
        prod.keyring_entries(),
        [
            ("password", crate::secrets::Kind::Password),
            ("tls.client_key", crate::secrets::Kind::PrivateKey)
        ]
    );
}

#[test]
fn toml_round_trip_preserves_every_profile() {
    let d = dir();
    let path = d.path().join("sub/dir/profiles.toml");
    let mut store = ProfileStore::load(&path).unwrap();
    assert!(
        store.list().is_empty(),
        "missing file must be an empty store"
    );
    let original = load_text(SAMPLE).unwrap();
    for p in original.list() {
        store.upsert(p.clone()).unwrap();
    }
    let mut dotted = Profile::new("edge.eu-1", "wss://edge.example.com/mqtt");
    dotted.notes = Some("multi\nline \"quoted\" notes\ttab".into());
    store.upsert(dotted.clone()).unwrap();
    store.save().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("[profiles.prod]"), "{text}");
    assert!(text.contains("version = 1"), "{text}");
    assert!(
        text.contains("[profiles.prod]\nurl = "),
        "url comes first: {text}"
    );
    assert!(text.contains("[profiles.\"edge.eu-1\"]"), "{text}");
    assert!(text.contains("client_key = { keyring = true }"), "{text}");
    let again = ProfileStore::load(&path).unwrap();
    for p in original.list() {
        assert_eq!(again.get(&p.name), Some(p), "profile {} changed", p.name);
    }
    assert_eq!(again.get("edge.eu-1"), Some(&dotted));
    // Serialising the re-loaded store gives the same text: the format is stable.
    assert_eq!(again.to_toml().unwrap(), text);
}

#[test]
fn syntax_errors_name_file_line_and_column() {
    let text = "[profiles.a]\nurl = \"mqtts://h:8883\"\nport = = 3\n";
    let err = err_of(text);
    match &err {
        ProfileError::Parse { line, column, .. } => {
            assert_eq!(*line, 3, "{err}");
            assert!(*column >= 6 && *column <= 8, "{err}");
        }
        other => panic!("expected Parse, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("profiles.toml:3:"), "{msg}");
}

#[test]
fn type_errors_name_profile_and_field() {
    let err = err_of("[profiles.a]\nhost = \"h\"\nport = 70000\n");
    match &err {
        ProfileError::Value {
            profile,
            field,
            line,
            ..
        } => {
            assert_eq!((profile.as_str(), field.as_str(), *line), ("a", "port", 3));
        }
        other => panic!("expected Value, got {other:?}"),
    }
    let err = err_of("[profiles.a]\nhost = \"h\"\ntransport = \"tcp6\"\n");
    match &err {
        ProfileError::Value { profile, field, .. } => {
            assert_eq!(
                (profile.as_str(), field.as_str()),
                ("a", "transport"),
                "{err}"
            )
        }
        other => panic!("expected Value, got {other:?}"),
    }
    assert!(
        err.to_string().contains("profile `a`, field `transport`"),
        "{err}"
    );
    let err = err_of("[profiles.a]\nurl = \"mqtt://h\"\nmqtt_version = 4.5\n");
    assert!(err.to_string().contains("field `mqtt_version`"), "{err}");
    let err =
        err_of("[profiles.a]\nurl = \"mqtts://h\"\n[profiles.a.tls]\nmin_tls_version = \"1.0\"\n");
    assert!(
        err.to_string().contains("field `tls.min_tls_version`"),
        "{err}"
    );
}

#[test]
fn unknown_keys_name_key_table_and_suggest() {
    let err = err_of("[profiles.prod]\nhots = \"h\"\n");
    match &err {
        ProfileError::UnknownKey {
            key,
            table,
            suggestion,
            line,
            column,
            ..
        } => {
            assert_eq!(key, "hots");
            assert_eq!(table, "profiles.prod");
            assert_eq!(suggestion.as_deref(), Some("host"));
            assert_eq!((*line, *column), (2, 1));
        }
        other => panic!("expected UnknownKey, got {other:?}"),
    }
    assert!(
        err.to_string()
            .ends_with("unknown key `hots` in [profiles.prod]; did you mean `host`?"),
        "{err}"
    );

    let err = err_of("[profiles.p]\nurl = \"mqtts://h\"\n[profiles.p.tls]\ninsecur = true\n");
    assert!(
        err.to_string()
            .contains("[profiles.p.tls]; did you mean `insecure`?"),
        "{err}"
    );
    // A TLS key at profile level points to the tls table.
    let err = err_of("[profiles.p]\nurl = \"mqtts://h\"\nsni = \"x\"\n");
    assert!(err.to_string().contains("did you mean `tls.sni`?"), "{err}");
    // Inside a material table.
    let err = err_of("[profiles.p]\nurl = \"mqtts://h\"\ntls.ca = { fiel = \"x\" }\n");
    assert!(
        err.to_string()
            .contains("`fiel` in [profiles.p.tls.ca]; did you mean `file`?"),
        "{err}"
    );
    // Nothing close: no suggestion.
    let err = err_of("[profiles.p]\nurl = \"mqtts://h\"\nzzzzzzzz = 1\n");
    assert!(err.to_string().ends_with("in [profiles.p]."), "{err}");
    // Top level.
    let err = err_of("[prod]\nurl = \"mqtts://h\"\n");
    assert!(
        err.to_string().contains("did you mean `profiles.prod`?"),
        "{err}"
    );
}

#[test]
fn suggestions_use_edit_distance_and_aliases() {
    let known = super::parse::PROFILE_KEYS;
    assert_eq!(suggest("usernme", known).as_deref(), Some("username"));
    assert_eq!(suggest("keep-alive", known).as_deref(), Some("keep_alive"));
    assert_eq!(suggest("hostname", known).as_deref(), Some("host"));
    assert_eq!(suggest("colour", known), None);
}

#[test]
fn literal_password_is_rejected_without_echoing_it() {
    let err = err_of("[profiles.prod]\nurl = \"mqtts://h\"\npassword = \"hunter2-secret\"\n");
    assert!(
        matches!(err, ProfileError::LiteralSecret { line: 3, .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(!msg.contains("hunter2"), "{msg}");
    assert!(
        msg.contains("mqtt-doctor profile add prod --password-prompt"),
        "{msg}"
    );
    assert!(msg.contains("env"), "{msg}");
    let debug = format!("{err:?}");
    assert!(!debug.contains("hunter2"), "{debug}");

    let err = err_of(
        "[profiles.prod]\nurl = \"mqtts://h\"\n[profiles.prod.tls]\npassphrase = \"s3cr3t-pp\"\n",
    );
    assert!(!err.to_string().contains("s3cr3t"), "{err}");
    assert!(err.to_string().contains("tls.passphrase"), "{err}");

    // In a URL's userinfo, too.
    let err = err_of("[profiles.prod]\nurl = \"mqtts://u:pw-in-url@h\"\n");
    assert!(err.to_string().contains("contains a password"), "{err}");
    assert!(!err.to_string().contains("pw-in-url"), "{err}");
}

#[test]
fn validation_names_profile_and_field() {
    let cases = [
        ("host = \"h\"\nport = 0\n", "port"),
        ("url = \"mqtts://h\"\nhost = \"h\"\n", "url"),
        ("port = 1883\n", "host"),
        ("url = \"http://h\"\n", "url"),
        ("url = \"mqtts://h\"\nws_path = \"/mqtt\"\n", "ws_path"),
        ("url = \"mqtts://h\"\nkeep_alive = 0\n", "keep_alive"),
        ("url = \"mqtts://h\"\nproxy = \"ftp://p\"\n", "proxy"),
        (
            "url = \"mqtts://h\"\ntls = { ca = { keyring = true } }\n",
            "tls.ca",
        ),
        (
            "url = \"mqtts://h\"\ntls = { client_key = { file = \"k\" } }\n",
            "tls.client_cert",
        ),
        (
            "url = \"mqtts://h\"\npassword = { keyring = false }\n",
            "password",
        ),
        ("", "host"),
    ];
    for (body, field) in cases {
        let err = err_of(&format!("[profiles.bad]\n{body}"));
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("profile `bad`, field `{field}`")),
            "{body:?} → {msg}"
        );
        assert!(msg.contains("profiles.toml"), "{msg}");
    }
    let err = err_of("version = 2\n");
    assert!(matches!(
        err,
        ProfileError::UnsupportedVersion { found: 2, .. }
    ));
}

#[test]
fn upsert_validates_and_edits_work() {
    let d = dir();
    let mut store = ProfileStore::load(d.path().join("p.toml")).unwrap();
    let mut bad = Profile::new("x", "mqtts://h");
    bad.port = Some(0);
    assert!(store.upsert(bad).is_err());
    assert!(
        store
            .upsert(Profile::new("has space", "mqtts://h"))
            .is_err()
    );
    store.upsert(Profile::new("a", "mqtts://a")).unwrap();
    store.upsert(Profile::new("b", "mqtts://b")).unwrap();
    assert!(matches!(
        store.rename("a", "b"),
        Err(ProfileError::AlreadyExists { .. })
    ));
    store.rename("a", "c").unwrap();
    assert_eq!(store.get("c").unwrap().name, "c");
    assert!(store.get("a").is_none());
    assert!(matches!(
        store.remove("a"),
        Err(ProfileError::NotFound { .. })
    ));
    assert_eq!(store.remove("c").unwrap().url.as_deref(), Some("mqtts://a"));
    store.save().unwrap();
    let again = ProfileStore::load(store.path()).unwrap();
    assert_eq!(again.list().len(), 1);
}

#[test]
fn concurrent_modification_is_refused() {
    let d = dir();
    let path = d.path().join("profiles.toml");
    let mut first = ProfileStore::load(&path).unwrap();
    let mut second = ProfileStore::load(&path).unwrap();
    first.upsert(Profile::new("one", "mqtts://one")).unwrap();
    first.save().unwrap();
    second.upsert(Profile::new("two", "mqtts://two")).unwrap();
    let err = second.save().unwrap_err();
    assert!(matches!(err, ProfileError::ChangedOnDisk { .. }), "{err:?}");
    assert!(err.to_string().contains("changed on disk"), "{err}");
    let on_disk = ProfileStore::load(&path).unwrap();
    assert!(on_disk.get("one").is_some() && on_disk.get("two").is_none());

    // An editor touching the file after load is also detected.
    let mut third = ProfileStore::load(&path).unwrap();
    let edited = std::fs::read_to_string(&path).unwrap() + "\n# edited by hand\n";
    write(&path, &edited);
    third.upsert(Profile::new("three", "mqtts://3")).unwrap();
    assert!(matches!(
        third.save(),
        Err(ProfileError::ChangedOnDisk { .. })
    ));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), edited);
}

#[test]
fn unparseable_file_is_never_overwritten() {
    let d = dir();
    let path = d.path().join("profiles.toml");
    let garbage = "[profiles.a\nurl = \"mqtts://h\"\n";
    write(&path, garbage);
    assert!(ProfileStore::load(&path).is_err());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), garbage);

    // Loaded fine, then broken on disk before save.
    write(&path, "[profiles.a]\nurl = \"mqtts://h\"\n");
    let mut store = ProfileStore::load(&path).unwrap();
    write(&path, garbage);
    store.upsert(Profile::new("b", "mqtts://b")).unwrap();
    let err = store.save().unwrap_err();
    assert!(matches!(err, ProfileError::Unparseable { .. }), "{err:?}");
    assert!(err.to_string().contains("not overwritten"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), garbage);
}

#[test]
fn previous_version_is_kept_as_bak() {
    let d = dir();
    let path = d.path().join("profiles.toml");
    let bak = d.path().join("profiles.toml.bak");
    let mut store = ProfileStore::load(&path).unwrap();
    store.upsert(Profile::new("v1", "mqtts://one")).unwrap();
    store.save().unwrap();
    assert!(!bak.exists(), "no .bak before there was a previous version");
    let v1 = std::fs::read_to_string(&path).unwrap();
    store.upsert(Profile::new("v2", "mqtts://two")).unwrap();
    store.save().unwrap();
    assert_eq!(std::fs::read_to_string(&bak).unwrap(), v1);
    let v2 = std::fs::read_to_string(&path).unwrap();
    assert_ne!(v1, v2);
    // No temp files left behind.
    let leftovers: Vec<_> = std::fs::read_dir(d.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[cfg(unix)]
#[test]
fn save_writes_through_a_symlink_and_keeps_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let d = dir();
    let real = d.path().join("real.toml");
    write(&real, "[profiles.a]\nurl = \"mqtts://h\"\n");
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
    let link = d.path().join("profiles.toml");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let mut store = ProfileStore::load(&link).unwrap();
    store.upsert(Profile::new("b", "mqtts://b")).unwrap();
    store.save().unwrap();
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(ProfileStore::load(&real).unwrap().get("b").is_some());
    let mode = std::fs::metadata(&real).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
}

#[test]
fn default_path_honours_override_and_xdg() {
    assert_eq!(
        path_from(Some("/tmp/x/p.toml".into())).unwrap(),
        PathBuf::from("/tmp/x/p.toml")
    );
    let p = path_from(None).unwrap();
    assert!(p.ends_with("mqtt-doctor/profiles.toml"), "{}", p.display());
}

/// The canary: a profile whose password is in the keyring serialises without the value.
#[cfg(target_os = "linux")]
#[test]
fn keyring_password_never_reaches_the_toml() {
    use crate::secrets::{Kind, Secret, SecretStore, prepare_process};
    prepare_process().unwrap();
    let secrets = SecretStore::open().expect("a real keyring backend in tests");
    let name = format!("canary-{}", std::process::id());
    let canary = "CANARY-9f8e7d6c-never-in-files";
    secrets
        .set(&name, Kind::Password, &Secret::new(canary))
        .unwrap();

    let d = dir();
    let path = d.path().join("profiles.toml");
    let mut store = ProfileStore::load(&path).unwrap();
    let mut p = Profile::new(name.clone(), "mqtts://broker:8883");
    p.username = Some("user".into());
    p.password = Some(SecretSource::Keyring);
    store.upsert(p).unwrap();
    store.save().unwrap();

    let text = store.to_toml().unwrap();
    let disk = std::fs::read_to_string(&path).unwrap();
    let debug = format!("{store:?}");
    let got = secrets.get(&name, Kind::Password).unwrap();
    let _ = secrets.delete_profile(&name);
    assert_eq!(got.as_ref().map(Secret::expose), Some(canary));
    for (what, s) in [("to_toml", &text), ("file", &disk), ("Debug", &debug)] {
        assert!(!s.contains(canary), "secret leaked into {what}: {s}");
    }
    assert!(
        disk.contains("password = { keyring = true }") || disk.contains("keyring = true"),
        "{disk}"
    );
}

#[test]
fn loading_keeps_unusable_profiles_with_their_error_and_saving_writes_them_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("profiles.toml");
    let text = r#"version = 1

[profiles.good]
url = "mqtt://127.0.0.1:1883"

[profiles.bad-url]
url = "mqtt://h:99999"

[profiles.typo]
url = "mqtt://h"
usernme = "alice"

[profiles.wrong-type]
url = "mqtt://h"
keep_alive = "soon"

[profiles.wrong-type.tls]
insecure = true
"#;
    std::fs::write(&path, text).unwrap();
    // The strict load still refuses the file as a whole.
    assert!(ProfileStore::load(&path).is_err());
    let mut store = ProfileStore::load_keeping_broken(&path).unwrap();
    assert_eq!(store.list().len(), 1);
    assert_eq!(store.names(), vec!["bad-url", "good", "typo", "wrong-type"]);
    let errors: Vec<(String, String)> = store
        .broken()
        .iter()
        .map(|b| (b.name.clone(), b.error.to_string()))
        .collect();
    assert!(
        errors[0].1.contains("field `url`") && errors[0].1.contains("invalid port number"),
        "{errors:?}"
    );
    assert!(
        errors[1].1.contains(":11:1: unknown key `usernme`") && errors[1].1.contains("`username`"),
        "{errors:?}"
    );
    assert!(
        errors[2]
            .1
            .contains(":15:1: profile `wrong-type`, field `keep_alive`"),
        "{errors:?}"
    );

    // A save keeps the unusable profiles as they were written.
    store
        .upsert(Profile::new("new", "mqtt://127.0.0.1:1884"))
        .unwrap();
    store.save().unwrap();
    let again = ProfileStore::load_keeping_broken(&path).unwrap();
    assert_eq!(
        again.names(),
        vec!["bad-url", "good", "new", "typo", "wrong-type"]
    );
    let again_errors: Vec<String> = again.broken().iter().map(|b| b.name.clone()).collect();
    assert_eq!(again_errors, vec!["bad-url", "typo", "wrong-type"]);
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(written.contains("usernme = \"alice\""), "{written}");
    assert!(
        written.contains("[profiles.wrong-type.tls]\ninsecure = true"),
        "{written}"
    );

    // Fixing one replaces its broken version; removing one removes it.
    let mut store = ProfileStore::load_keeping_broken(&path).unwrap();
    store.upsert(Profile::new("typo", "mqtt://h")).unwrap();
    store.remove_broken("bad-url").unwrap();
    store.save().unwrap();
    let fixed = ProfileStore::load_keeping_broken(&path).unwrap();
    assert_eq!(fixed.list().len(), 3);
    assert_eq!(fixed.broken().len(), 1);
}

#[test]
fn errors_of_the_file_itself_still_fail_the_whole_load() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("profiles.toml");
    std::fs::write(&path, "[profiles.a\nurl = 1\n").unwrap();
    let e = ProfileStore::load_keeping_broken(&path)
        .unwrap_err()
        .to_string();
    assert!(e.contains("profiles.toml:1:"), "{e}");
    std::fs::write(&path, "version = 2\n").unwrap();
    let e = ProfileStore::load_keeping_broken(&path)
        .unwrap_err()
        .to_string();
    assert!(e.contains("version = 2"), "{e}");
    std::fs::write(&path, "[prod]\nurl = \"mqtt://h\"\n").unwrap();
    let e = ProfileStore::load_keeping_broken(&path)
        .unwrap_err()
        .to_string();
    assert!(e.contains("profiles.prod"), "{e}");
}
