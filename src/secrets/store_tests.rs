//! Tests against REAL keyrings: kernel keyutils always (it must work on Linux; if the kernel
//! lacks it these tests fail loudly), the Secret Service when a session bus is present (run
//! `scripts/test cargo test --lib` to get one with an unlocked gnome-keyring).

use super::store::part_account;
use super::*;

use super::unique_test_profile as unique_profile;

fn keyutils() -> SecretStore {
    prepare_process().expect("prepare_process must join a session keyring");
    SecretStore::open_backend(Backend::KernelKeyutils)
        .expect("kernel keyutils must be usable in tests (is the kernel built with CONFIG_KEYS?)")
}

/// A 3 KB value with multi-byte characters, so parts split inside characters.
fn large_value() -> String {
    let mut s = String::from("-----BEGIN PRIVATE KEY-----\n");
    let mut i = 0u32;
    while s.len() < 3000 {
        s.push_str(&format!("{i:04}é√abcdefghijklmnopqrstuvwxyz\n"));
        i += 1;
    }
    s.push_str("-----END PRIVATE KEY-----\n");
    s
}

fn round_trip(store: &SecretStore, tag: &str) {
    let p = unique_profile(tag);
    assert_eq!(store.get(&p, Kind::Password).unwrap(), None);
    store
        .set(&p, Kind::Password, &Secret::new("hunter2"))
        .unwrap();
    assert_eq!(
        store.get(&p, Kind::Password).unwrap().unwrap().expose(),
        "hunter2"
    );
    // Kinds are separate entries.
    assert_eq!(store.get(&p, Kind::Passphrase).unwrap(), None);
    store
        .set(&p, Kind::Password, &Secret::new("correct horse"))
        .unwrap();
    assert_eq!(
        store.get(&p, Kind::Password).unwrap().unwrap().expose(),
        "correct horse"
    );
    assert!(store.delete(&p, Kind::Password).unwrap());
    assert_eq!(store.get(&p, Kind::Password).unwrap(), None);
    assert!(!store.delete(&p, Kind::Password).unwrap());
}

fn large_material(store: SecretStore, tag: &str) {
    let store = store.with_part_limit(100);
    let p = unique_profile(tag);
    let value = large_value();
    store
        .set(&p, Kind::PrivateKey, &Secret::new(value.clone()))
        .unwrap();
    let parts = value.len().div_ceil(100);
    for n in 1..=parts {
        assert!(
            store
                .read(&part_account(&p, Kind::PrivateKey, n), &p, Kind::PrivateKey)
                .unwrap()
                .is_some(),
            "part {n} missing"
        );
    }
    let header = store
        .read(&Kind::PrivateKey.account(&p), &p, Kind::PrivateKey)
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&header).contains(&format!("parts={parts};")));
    assert_eq!(
        store.get(&p, Kind::PrivateKey).unwrap().unwrap().expose(),
        value
    );

    // 3 parts → 2 parts: part 3 must go.
    let three = "x".repeat(250);
    store
        .set(&p, Kind::PrivateKey, &Secret::new(three.clone()))
        .unwrap();
    assert_eq!(
        store.get(&p, Kind::PrivateKey).unwrap().unwrap().expose(),
        three
    );
    assert!(
        store
            .read(&part_account(&p, Kind::PrivateKey, 4), &p, Kind::PrivateKey)
            .unwrap()
            .is_none(),
        "stale part 4 left after shrinking"
    );
    let two = "y".repeat(150);
    store
        .set(&p, Kind::PrivateKey, &Secret::new(two.clone()))
        .unwrap();
    assert!(
        store
            .read(&part_account(&p, Kind::PrivateKey, 3), &p, Kind::PrivateKey)
            .unwrap()
            .is_none()
    );
    // Down to a single entry: no parts at all.
    store
        .set(&p, Kind::PrivateKey, &Secret::new("short"))
        .unwrap();
    for n in 1..=parts {
        assert!(
            store
                .read(&part_account(&p, Kind::PrivateKey, n), &p, Kind::PrivateKey)
                .unwrap()
                .is_none(),
            "stale part {n}"
        );
    }
    assert_eq!(
        store.get(&p, Kind::PrivateKey).unwrap().unwrap().expose(),
        "short"
    );

    // Delete removes header and parts.
    store
        .set(&p, Kind::PrivateKey, &Secret::new(value.clone()))
        .unwrap();
    assert!(store.delete(&p, Kind::PrivateKey).unwrap());
    assert_eq!(store.get(&p, Kind::PrivateKey).unwrap(), None);
    for n in 1..=parts {
        assert!(
            store
                .read(&part_account(&p, Kind::PrivateKey, n), &p, Kind::PrivateKey)
                .unwrap()
                .is_none()
        );
    }
}

fn tampering_detected(store: SecretStore, tag: &str) {
    let store = store.with_part_limit(100);
    let p = unique_profile(tag);
    let value = large_value();
    store
        .set(&p, Kind::Certificate, &Secret::new(value.clone()))
        .unwrap();

    // Same length, different bytes.
    let acct = part_account(&p, Kind::Certificate, 2);
    let mut part = store.read(&acct, &p, Kind::Certificate).unwrap().unwrap();
    part[0] ^= 0x01;
    store.write(&acct, &part, &p, Kind::Certificate).unwrap();
    let err = store.get(&p, Kind::Certificate).unwrap_err();
    assert!(matches!(err, SecretError::Corrupt { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains(&p) && msg.contains("certificate"), "{msg}");
    assert!(!msg.contains("BEGIN PRIVATE KEY"), "{msg}");

    // A missing part.
    store
        .set(&p, Kind::Certificate, &Secret::new(value.clone()))
        .unwrap();
    assert!(
        store
            .remove(
                &part_account(&p, Kind::Certificate, 5),
                &p,
                Kind::Certificate
            )
            .unwrap()
    );
    let err = store.get(&p, Kind::Certificate).unwrap_err();
    assert!(
        matches!(err, SecretError::PartMissing { part: 5, .. }),
        "{err}"
    );

    // A truncated part.
    store
        .set(&p, Kind::Certificate, &Secret::new(value))
        .unwrap();
    store
        .write(
            &part_account(&p, Kind::Certificate, 1),
            b"short",
            &p,
            Kind::Certificate,
        )
        .unwrap();
    let err = store.get(&p, Kind::Certificate).unwrap_err();
    assert!(matches!(err, SecretError::Corrupt { .. }), "{err}");
    assert!(store.delete(&p, Kind::Certificate).unwrap());
}

#[test]
fn keyutils_store_read_update_delete() {
    round_trip(&keyutils(), "rt");
}

#[test]
fn keyutils_large_material_split_and_cleaned() {
    large_material(keyutils(), "large");
}

#[test]
fn keyutils_tampered_or_missing_part_is_an_error() {
    tampering_detected(keyutils(), "tamper");
}

#[test]
fn keyutils_value_that_looks_like_a_header_round_trips() {
    let store = keyutils();
    let p = unique_profile("hdr");
    let tricky = "mqtt-doctor:parts:v1;parts=1;len=1;sha256=00";
    store.set(&p, Kind::Header, &Secret::new(tricky)).unwrap();
    assert_eq!(
        store.get(&p, Kind::Header).unwrap().unwrap().expose(),
        tricky
    );
    assert!(store.delete(&p, Kind::Header).unwrap());
}

#[test]
fn keyutils_missing_entries_and_delete_profile() {
    let store = keyutils().with_part_limit(100);
    let p = unique_profile("prof");
    assert_eq!(store.get(&p, Kind::ProxyPassword).unwrap(), None);
    assert!(!store.delete(&p, Kind::ProxyPassword).unwrap());
    assert_eq!(store.delete_profile(&p).unwrap(), 0);

    store.set(&p, Kind::Password, &Secret::new("pw")).unwrap();
    store
        .set(&p, Kind::PrivateKey, &Secret::new(large_value()))
        .unwrap();
    store
        .set(&p, Kind::Header, &Secret::new("Bearer x"))
        .unwrap();
    assert_eq!(store.delete_profile(&p).unwrap(), 3);
    for kind in Kind::ALL {
        assert_eq!(store.get(&p, kind).unwrap(), None);
    }
    assert!(
        store
            .read(&part_account(&p, Kind::PrivateKey, 1), &p, Kind::PrivateKey)
            .unwrap()
            .is_none()
    );
}

#[test]
fn bad_profile_names_and_empty_values_are_refused() {
    let store = keyutils();
    for bad in ["", "a/b", "x#1", "sp ace", &"x".repeat(65)] {
        let err = store.get(bad, Kind::Password).unwrap_err();
        assert!(matches!(err, SecretError::InvalidProfile { .. }), "{bad}");
    }
    let err = store
        .set("ok", Kind::Password, &Secret::new(""))
        .unwrap_err();
    assert!(matches!(err, SecretError::EmptyValue { .. }));
    assert!(err.to_string().contains("`ok`"));
}

#[test]
fn status_reports_a_backend_with_plain_persistence() {
    prepare_process().unwrap();
    let st = status();
    let backend = st.backend.expect("a backend must work in tests");
    assert!(st.summary.contains(backend.describe()), "{}", st.summary);
    let persistence = st.persistence.clone().unwrap();
    if backend == Backend::KernelKeyutils {
        assert!(persistence.contains("reboot"), "{persistence}");
    }
    let json = serde_json::to_string(&st).unwrap();
    assert!(json.contains("\"probes\""), "{json}");
    assert!(Backend::KernelKeyutils.persistence().contains("3 days"));
    assert!(Backend::SecretService.persistence().contains("reboot"));
}

#[test]
fn none_works_is_one_sentence_with_alternatives() {
    let s = super::backend::none_works_sentence(&[]);
    assert_eq!(s.matches(". ").count(), 0, "{s}");
    assert!(s.ends_with('.') && s.contains("--password-env"), "{s}");
}

/// Secret Service needs a session bus with an unlocked collection; `scripts/test` provides
/// one and sets MQTT_DOCTOR_REQUIRE_SECRET_SERVICE=1 so a broken setup fails instead of skipping.
fn secret_service() -> Option<SecretStore> {
    let required = std::env::var_os("MQTT_DOCTOR_REQUIRE_SECRET_SERVICE").is_some();
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
        assert!(
            !required,
            "MQTT_DOCTOR_REQUIRE_SECRET_SERVICE is set but there is no session bus"
        );
        eprintln!("skipping Secret Service test: no DBUS_SESSION_BUS_ADDRESS (use scripts/test)");
        return None;
    }
    match SecretStore::open_backend(Backend::SecretService) {
        Ok(s) => Some(s),
        Err(e) if !required => {
            eprintln!("skipping Secret Service test: {e}");
            None
        }
        Err(e) => panic!("Secret Service required but unusable: {e}"),
    }
}

#[test]
fn secret_service_store_read_update_delete_large() {
    let Some(store) = secret_service() else {
        return;
    };
    assert_eq!(store.backend(), Backend::SecretService);
    round_trip(&store, "ss-rt");
    large_material(store.clone(), "ss-large");
    tampering_detected(store, "ss-tamper");
    assert_eq!(
        SecretStore::open().unwrap().backend(),
        Backend::SecretService
    );
}

#[test]
fn other_os_backends_are_a_clear_unsupported_error() {
    for backend in [Backend::MacosKeychain, Backend::WindowsCredentials] {
        let err = SecretStore::open_backend(backend).unwrap_err();
        assert!(matches!(err, SecretError::Unsupported { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!(
                "The {} is not supported on this operating system.",
                backend.describe()
            )
        );
    }
}

#[test]
fn async_wrappers_run_on_the_blocking_pool() {
    let store = keyutils(); // prepare_process first, then the runtime
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let p = unique_profile("async");
    rt.block_on(async {
        store
            .set_async(&p, Kind::ProxyPassword, Secret::new("via-async"))
            .await
            .unwrap();
        let got = store.get_async(&p, Kind::ProxyPassword).await.unwrap();
        assert_eq!(got.as_ref().map(Secret::expose), Some("via-async"));
        assert!(store.delete_async(&p, Kind::ProxyPassword).await.unwrap());
        assert_eq!(
            store.get_async(&p, Kind::ProxyPassword).await.unwrap(),
            None
        );
    });
}
