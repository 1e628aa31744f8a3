//! The export prompt: state through commands and events, the write round trip through the
//! real keyring (run under `scripts/test`: a private D-Bus with an unlocked gnome-keyring),
//! mode 0600, "exists" asks, overwrite; the popup drawn at 80×24 and 120×40.

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::*;
use crate::profile::Material;
use crate::secrets::{Kind, Secret, SecretStore};
use crate::tui::keymap::parse_key;

fn profile_keeping(name: &str, key: bool, cert: bool, passphrase: bool) -> Profile {
    let mut p = Profile::new(name, "mqtts://broker.example.com:8883".to_string());
    if key {
        p.tls.client_key = Some(Material::Keyring);
        // A key goes with a certificate: a file unless the keyring holds it too.
        p.tls.client_cert = Some(Material::File(PathBuf::from("device.crt")));
    }
    if cert {
        p.tls.client_cert = Some(Material::Keyring);
    }
    if passphrase {
        p.tls.passphrase = Some(crate::profile::SecretSource::Keyring);
    }
    p
}

fn prompt() -> ExportPrompt {
    ExportPrompt::new(
        &profile_keeping("lab", true, true, false),
        PathBuf::from("/home/u"),
    )
}

fn typed(p: &mut ExportPrompt, s: &str) {
    for c in s.chars() {
        p.text_key(KeyInput::press(Key::Char(c)));
    }
}

#[test]
fn the_prompt_offers_only_what_the_profile_keeps_in_the_keyring() {
    let p = prompt();
    assert_eq!(p.kinds, vec![ExportKind::Key, ExportKind::Cert]);
    assert_eq!(p.path, "./lab-key.pem");
    let p = ExportPrompt::new(
        &profile_keeping("lab", false, false, true),
        PathBuf::from("/"),
    );
    assert_eq!(p.kinds, vec![ExportKind::Passphrase]);
    assert_eq!(p.path, "./lab-passphrase.txt");
    let mut none = ExportPrompt::new(
        &profile_keeping("lab", false, false, false),
        PathBuf::from("/"),
    );
    assert!(none.kinds.is_empty());
    assert!(!none.takes_text());
    assert_eq!(
        none.command(ExportCommand::Write),
        vec![ExportEffect::Close]
    );
}

#[test]
fn choosing_another_entry_offers_its_file_name_until_one_is_typed() {
    let mut p = prompt();
    p.command(ExportCommand::KindNext);
    assert_eq!(
        (p.kind(), p.path.as_str()),
        (Some(ExportKind::Cert), "./lab-cert.pem")
    );
    p.command(ExportCommand::KindNext);
    assert_eq!(p.kind(), Some(ExportKind::Key));
    p.command(ExportCommand::KindPrev);
    assert_eq!(p.kind(), Some(ExportKind::Cert));
    for _ in 0.."./lab-cert.pem".len() {
        p.text_key(KeyInput::press(Key::Backspace));
    }
    typed(&mut p, "mine.pem");
    p.command(ExportCommand::KindNext);
    assert_eq!(
        (p.kind(), p.path.as_str()),
        (Some(ExportKind::Key), "mine.pem")
    );
}

#[test]
fn enter_writes_then_an_existing_file_asks_and_enter_again_overwrites() {
    let mut p = prompt();
    let write = ExportEffect::Write {
        profile: "lab".into(),
        kind: ExportKind::Key,
        path: PathBuf::from("/home/u/lab-key.pem"),
        overwrite: false,
    };
    assert_eq!(
        p.command(ExportCommand::Write),
        vec![write.clone(), ExportEffect::Redraw]
    );
    assert!(p.busy);
    // Busy: a second Enter does nothing until the answer comes.
    assert_eq!(p.command(ExportCommand::Write), Vec::new());
    p.on_event(ExportEvent::Exists {
        path: PathBuf::from("/home/u/lab-key.pem"),
    });
    assert!(p.exists && !p.busy);
    let again = p.command(ExportCommand::Write);
    assert_eq!(
        again[0],
        ExportEffect::Write {
            profile: "lab".into(),
            kind: ExportKind::Key,
            path: PathBuf::from("/home/u/lab-key.pem"),
            overwrite: true,
        }
    );
    p.on_event(ExportEvent::Written {
        path: PathBuf::from("/home/u/lab-key.pem"),
        kind: ExportKind::Key,
    });
    assert_eq!(
        p.result,
        Some(Ok(
            "wrote the private key of profile lab to /home/u/lab-key.pem (mode 0600)".into()
        ))
    );
    // Written: Enter closes.
    assert_eq!(p.command(ExportCommand::Write), vec![ExportEffect::Close]);
}

#[test]
fn a_changed_path_is_a_new_question_and_an_empty_one_is_refused() {
    let mut p = prompt();
    p.on_event(ExportEvent::Exists {
        path: PathBuf::from("x"),
    });
    typed(&mut p, "2");
    assert!(!p.exists);
    assert_eq!(p.path, "./lab-key.pem2");
    p.path.clear();
    assert_eq!(p.command(ExportCommand::Write), vec![ExportEffect::Redraw]);
    assert_eq!(p.result, Some(Err(PATH_EMPTY.into())));
    assert_eq!(p.command(ExportCommand::Cancel), vec![ExportEffect::Close]);
}

#[test]
fn the_default_keys_parse_and_do_not_clash() {
    let mut seen = std::collections::HashSet::new();
    for (ctx, cmd, keys, _, help) in default_bindings() {
        assert!(cmd.id().starts_with("certs.export."));
        assert!(!help.is_empty());
        for k in keys {
            let key = parse_key(k).unwrap();
            assert!(seen.insert((ctx, key)), "{k} bound twice");
        }
    }
}

#[test]
fn write_round_trips_a_key_from_the_real_keyring_mode_0600_and_asks_before_overwriting() {
    let dir = tempfile::tempdir().unwrap();
    let name = crate::secrets::unique_test_profile("export");
    let key = rcgen::KeyPair::generate().unwrap().serialize_pem();
    let ring = SecretStore::open().expect("a keyring (run under scripts/test)");
    ring.set(&name, Kind::PrivateKey, &Secret::new(key.clone()))
        .unwrap();
    let profiles = dir.path().join("profiles.toml");
    let mut store = ProfileStore::load(&profiles).unwrap();
    store
        .upsert(profile_keeping(&name, true, false, false))
        .unwrap();
    store.save().unwrap();
    let out = dir.path().join("key.pem");
    assert_eq!(kinds_of(&profiles, &name), Ok(vec![ExportKind::Key]));
    let p = ExportPrompt::with_kinds(&name, vec![ExportKind::Key], dir.path().to_path_buf());
    assert_eq!(p.context(), ExportContext::Prompt);

    let first = write(&profiles, &name, ExportKind::Key, &out, false);
    assert_eq!(
        first,
        ExportEvent::Written {
            path: out.clone(),
            kind: ExportKind::Key
        }
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), key);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    std::fs::write(&out, "left alone").unwrap();
    assert_eq!(
        write(&profiles, &name, ExportKind::Key, &out, false),
        ExportEvent::Exists { path: out.clone() }
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "left alone");
    assert_eq!(
        write(&profiles, &name, ExportKind::Key, &out, true),
        ExportEvent::Written {
            path: out.clone(),
            kind: ExportKind::Key
        }
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), key);

    // What the profile does not keep in the keyring is named, not guessed.
    assert_eq!(
        write(
            &profiles,
            &name,
            ExportKind::Cert,
            &dir.path().join("c.pem"),
            false
        ),
        ExportEvent::Failed {
            why: format!(
                "profile {name:?} does not keep tls.client_cert in the keyring, so there is nothing to export"
            )
        }
    );
    ring.delete_profile(&name).unwrap();
    assert_eq!(
        write(
            &profiles,
            &name,
            ExportKind::Key,
            &dir.path().join("k2.pem"),
            false
        ),
        ExportEvent::Failed {
            why: format!(
                "the keyring entry {name}/private-key is missing (the profile refers to it; a keyutils keyring loses it at reboot)"
            )
        }
    );
}

fn screen(p: &ExportPrompt, w: u16, h: u16) -> String {
    let mut terminal = match Terminal::new(TestBackend::new(w, h)) {
        Ok(t) => t,
        Err(e) => match e {},
    };
    if let Err(e) = terminal.draw(|f| p.draw(f, f.area(), &Look::default())) {
        match e {}
    }
    let buf = terminal.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

fn asking() -> ExportPrompt {
    let mut p = ExportPrompt::new(
        &profile_keeping("lab", true, true, true),
        PathBuf::from("/home/u"),
    );
    p.on_event(ExportEvent::Exists {
        path: PathBuf::from("/home/u/lab-key.pem"),
    });
    p
}

#[test]
fn snapshot_export_prompt_80x24() {
    insta::assert_snapshot!(screen(&prompt(), 80, 24));
}

#[test]
fn snapshot_export_prompt_exists_120x40() {
    insta::assert_snapshot!(screen(&asking(), 120, 40));
}

#[test]
fn snapshot_export_prompt_exists_80x24() {
    insta::assert_snapshot!(screen(&asking(), 80, 24));
}

#[test]
fn snapshot_export_prompt_written_120x40() {
    let mut p = prompt();
    p.command(ExportCommand::Write);
    p.on_event(ExportEvent::Written {
        path: PathBuf::from("/home/u/lab-key.pem"),
        kind: ExportKind::Key,
    });
    insta::assert_snapshot!(screen(&p, 120, 40));
}

#[test]
fn snapshot_export_prompt_nothing_kept_80x24() {
    let p = ExportPrompt::new(
        &profile_keeping("lab", false, false, false),
        PathBuf::from("/"),
    );
    insta::assert_snapshot!(screen(&p, 80, 24));
}
