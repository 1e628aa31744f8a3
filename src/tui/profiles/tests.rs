//! The Profiles tab: snapshots of its main states (TestBackend, 80×24 and 120×40, NO_COLOR
//! and ASCII) and key sequences driven through its state with the real store and keyring.

use super::*;
use crate::diagnose::Stage;
use crate::profile::SecretSource;
use crate::tui::look::{Look, ThemeName};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Color;

fn buffer(tab: &ProfilesTab, w: u16, h: u16, look: &Look) -> Buffer {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| tab.draw(f, f.area(), look)).unwrap();
    term.backend().buffer().clone()
}

fn text(buf: &Buffer) -> String {
    let area = buf.area;
    let mut out = String::new();
    for y in 0..area.height {
        let mut line = String::new();
        for x in 0..area.width {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn render(tab: &ProfilesTab, w: u16, h: u16) -> String {
    text(&buffer(tab, w, h, &Look::default()))
}

fn key(c: char) -> KeyInput {
    KeyInput::press(Key::Char(c))
}

fn type_text(tab: &mut ProfilesTab, s: &str) {
    for c in s.chars() {
        tab.text_key(key(c));
    }
}

fn profile(name: &str, url: &str) -> Profile {
    Profile::new(name, url)
}

/// A tab showing five profiles: ok, failed, cannot run, cannot load, not run yet.
fn mixed() -> ProfilesTab {
    let mut tab = ProfilesTab::new(PathBuf::from("/home/ada/.config/mqtt-doctor/profiles.toml"));
    tab.start();
    let mut secret = profile("plant-7", "mqtts://plant7.example.net:8883");
    secret.password = Some(SecretSource::Keyring);
    tab.on_event(ProfilesEvent::Loaded(Ok(Loaded {
        profiles: vec![
            profile("prod", "mqtts://broker.example.com:8883"),
            secret,
            profile("staging-eu-west-with-a-long-name", "wss://staging.example.com/mqtt"),
            profile("lab", "mqtt://127.0.0.1:1883"),
        ],
        broken: vec![(
            "legacy".into(),
            "profiles.toml:12:1: profile `legacy`, field `url`: `mqtt://h:99999` is not a valid URL (invalid port number).".into(),
        )],
        fingerprint: None,
    })));
    tab.on_event(ProfilesEvent::Row {
        name: "prod".into(),
        status: RowStatus::Done {
            ok: true,
            stage: None,
            cause: None,
            millis: 48,
        },
    });
    tab.on_event(ProfilesEvent::Row {
        name: "plant-7".into(),
        status: RowStatus::Done {
            ok: false,
            stage: Some(Stage::Tls),
            cause: Some("tls.cert_expired".into()),
            millis: 112,
        },
    });
    tab.on_event(ProfilesEvent::Row {
        name: "staging-eu-west-with-a-long-name".into(),
        status: RowStatus::CannotRun(
            "profile `staging`, field `password`: the variable STAGING_PW is not set".into(),
        ),
    });
    tab
}

#[test]
fn snapshot_no_profiles() {
    let mut tab = ProfilesTab::new(PathBuf::from("/tmp/empty/profiles.toml"));
    let before = render(&tab, 80, 24);
    assert!(before.contains("loading profiles"), "{before}");
    tab.on_event(ProfilesEvent::Loaded(Ok(Loaded {
        profiles: vec![],
        broken: vec![],
        fingerprint: None,
    })));
    insta::assert_snapshot!("no_profiles_80x24", render(&tab, 80, 24));
}

#[test]
fn snapshot_mixed_verdicts() {
    let tab = mixed();
    let small = render(&tab, 80, 24);
    // Every verdict reads by symbol and word, with its cause id.
    assert!(
        small.contains("✔ prod") && small.contains(" ok "),
        "{small}"
    );
    assert!(
        small.contains("✘ plant-7") && small.contains("failed tls.cert_expired"),
        "{small}"
    );
    assert!(small.contains("cannot load: profiles.toml:12:1"), "{small}");
    assert!(small.contains("cannot run"), "{small}");
    assert!(small.contains("not run yet"), "{small}");
    insta::assert_snapshot!("mixed_80x24", small);
    insta::assert_snapshot!("mixed_120x40", render(&tab, 120, 40));
    // The selected profile's whole error is shown below the list, however long.
    let mut tab = tab;
    tab.select_name("legacy");
    let screen = render(&tab, 80, 24);
    assert!(screen.contains("(invalid port number)."), "{screen}");
    insta::assert_snapshot!("cannot_load_selected_80x24", screen);
    // Enter on it says why instead of running.
    let effects = tab.command(ProfilesCommand::Run);
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, ProfilesEffect::Run { .. }))
    );
    assert!(status_of(&effects).contains("invalid port number"));
}

#[test]
fn no_color_and_ascii_variants_have_the_same_words() {
    let tab = mixed();
    let plain = buffer(&tab, 80, 24, &Look::new(ThemeName::Dark, true, false));
    for cell in plain.content() {
        assert!(
            matches!(cell.fg, Color::Reset) && matches!(cell.bg, Color::Reset),
            "NO_COLOR: a coloured cell {cell:?}"
        );
    }
    assert_eq!(
        text(&plain),
        render(&tab, 80, 24),
        "same text without colour"
    );
    let ascii = text(&buffer(
        &tab,
        80,
        24,
        &Look::new(ThemeName::Dark, false, true),
    ));
    assert!(ascii.is_ascii(), "{ascii}");
    assert!(ascii.contains("failed tls.cert_expired"), "{ascii}");
    insta::assert_snapshot!("mixed_ascii_80x24", ascii);
}

#[test]
fn snapshot_filter_active() {
    let mut tab = mixed();
    assert_eq!(tab.command(ProfilesCommand::Filter).len(), 1);
    assert!(tab.takes_text());
    type_text(&mut tab, "pla");
    let screen = render(&tab, 80, 24);
    assert!(screen.contains("filter: pla"), "{screen}");
    assert!(
        screen.contains("plant-7") && !screen.contains("prod "),
        "{screen}"
    );
    insta::assert_snapshot!("filter_80x24", screen);
    // Esc clears it and keeps the selection on the same profile.
    tab.command(ProfilesCommand::FilterClear);
    assert_eq!(tab.selected_name(), Some("plant-7"));
    assert_eq!(tab.context(), ProfilesContext::List);
}

#[test]
fn snapshot_form_with_inline_errors() {
    let mut tab = mixed();
    tab.command(ProfilesCommand::Add);
    assert_eq!(tab.context(), ProfilesContext::Form);
    type_text(&mut tab, "bad name");
    tab.command(ProfilesCommand::FormNext);
    type_text(&mut tab, "tcp://broker:99999");
    tab.command(ProfilesCommand::FormNext);
    tab.command(ProfilesCommand::FormNext);
    type_text(&mut tab, "hunter2");
    let effects = tab.command(ProfilesCommand::FormSave);
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, ProfilesEffect::Store(_))),
        "nothing is saved while a field is wrong"
    );
    let screen = render(&tab, 80, 24);
    assert!(screen.contains("letters, digits"), "{screen}");
    assert!(
        screen.contains("not a valid URL") || screen.contains("not one of"),
        "{screen}"
    );
    assert!(screen.contains("*******"), "masked: {screen}");
    assert!(
        !screen.contains("hunter2"),
        "the password is never drawn: {screen}"
    );
    insta::assert_snapshot!("form_errors_80x24", screen);
    insta::assert_snapshot!("form_errors_120x40", render(&tab, 120, 40));
    assert!(tab.dirty());
}

#[test]
fn snapshot_delete_confirmation_names_the_keyring_entries() {
    let mut tab = mixed();
    tab.command(ProfilesCommand::Home);
    while tab.selected_name() != Some("plant-7") {
        tab.command(ProfilesCommand::Down);
    }
    tab.command(ProfilesCommand::Delete);
    assert_eq!(tab.context(), ProfilesContext::ConfirmDelete);
    let screen = render(&tab, 80, 24);
    assert!(screen.contains("Delete profile plant-7?"), "{screen}");
    assert!(screen.contains("plant-7/password"), "{screen}");
    insta::assert_snapshot!("delete_80x24", screen);
    tab.command(ProfilesCommand::DeleteCancel);
    assert_eq!(tab.context(), ProfilesContext::List);
}

#[test]
fn snapshot_run_all_summary() {
    let mut tab = mixed();
    let effects = tab.command(ProfilesCommand::RunAll);
    let names = effects
        .iter()
        .find_map(|e| match e {
            ProfilesEffect::RunAll { names } => Some(names.clone()),
            _ => None,
        })
        .expect("run all");
    // The profile that cannot load is not run; it is counted as cannot run.
    assert_eq!(names.len(), 4);
    assert!(!names.contains(&"legacy".to_string()));
    let running = render(&tab, 80, 24);
    assert!(running.contains("4 running"), "{running}");
    for (name, ok) in [("prod", true), ("plant-7", false), ("lab", true)] {
        tab.on_event(ProfilesEvent::Row {
            name: name.into(),
            status: RowStatus::Done {
                ok,
                stage: (!ok).then_some(Stage::Tls),
                cause: (!ok).then(|| "tls.cert_expired".into()),
                millis: 30,
            },
        });
    }
    tab.on_event(ProfilesEvent::Row {
        name: "staging-eu-west-with-a-long-name".into(),
        status: RowStatus::CannotRun("the variable STAGING_PW is not set".into()),
    });
    let run = tab.run_all.as_mut().expect("run all");
    assert!(run.millis.is_some(), "done when every row is");
    run.millis = Some(1234);
    let screen = render(&tab, 80, 24);
    assert!(
        screen.contains("2 ok, 1 failed, 2 cannot run, in 1.2 s"),
        "{screen}"
    );
    insta::assert_snapshot!("run_all_80x24", screen);
}

#[test]
fn demo_profiles_are_grouped_and_read_only() {
    let mut tab = ProfilesTab::in_memory(vec![
        MemoryProfile {
            name: "tls.cert_expired".into(),
            group: "tls".into(),
            title: "the server's certificate has expired".into(),
            url: "mqtts://127.0.0.1:1".into(),
        },
        MemoryProfile {
            name: "dns.nxdomain".into(),
            group: "dns".into(),
            title: "the name does not exist".into(),
            url: "mqtt://nope.invalid".into(),
        },
        MemoryProfile {
            name: "tls.wrong_host".into(),
            group: "tls".into(),
            title: "the certificate names another host".into(),
            url: "mqtts://127.0.0.1:2".into(),
        },
    ]);
    assert!(tab.start().is_empty());
    let screen = render(&tab, 80, 24);
    let heading = |g: &str| {
        screen
            .lines()
            .position(|l| l.trim_matches('│').trim_end() == g)
            .unwrap_or_else(|| panic!("no {g} heading:\n{screen}"))
    };
    assert!(
        heading("tls") < heading("dns"),
        "groups keep the order they were given in: {screen}"
    );
    assert_eq!(tab.selected_name(), Some("tls.cert_expired"));
    for cmd in [
        ProfilesCommand::Add,
        ProfilesCommand::Edit,
        ProfilesCommand::Delete,
        ProfilesCommand::Rename,
        ProfilesCommand::Duplicate,
    ] {
        let effects = tab.command(cmd);
        assert!(
            effects.iter().any(|e| matches!(e, ProfilesEffect::Status(m) if m.contains("demo profiles are temporary"))),
            "{cmd:?}: {effects:?}"
        );
        assert_eq!(tab.context(), ProfilesContext::List);
    }
    tab.command(ProfilesCommand::Down);
    assert_eq!(
        tab.selected_name(),
        Some("tls.wrong_host"),
        "a group stays together"
    );
    let effects = tab.command(ProfilesCommand::Run);
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, ProfilesEffect::Run { name } if name == "tls.wrong_host"))
    );
}

#[test]
fn every_binding_has_a_unique_key_in_its_context() {
    let mut seen = std::collections::HashSet::new();
    for (ctx, cmd, keys, _, help) in default_bindings() {
        assert!(!help.is_empty(), "{cmd:?}");
        for k in keys {
            crate::tui::keymap::parse_key(k).unwrap_or_else(|e| panic!("{k}: {e}"));
            assert!(seen.insert((ctx, *k)), "{k} twice in {ctx:?}");
        }
        assert!(cmd.id().starts_with("profiles."));
    }
    // A command id names one action in one place: overriding its keys cannot reach another.
    let mut ids = std::collections::HashMap::new();
    for (ctx, cmd, ..) in default_bindings() {
        let first = *ids.entry(cmd.id()).or_insert(ctx);
        assert_eq!(first, ctx, "{} is bound in two contexts", cmd.id());
    }
}

#[test]
fn clicks_select_rows_and_y_copies_the_verdict_or_the_command() {
    let mut tab = mixed();
    let screen = render(&tab, 80, 24);
    let y = screen
        .lines()
        .position(|l| l.contains("✔ prod"))
        .expect("prod row") as u16;
    assert!(!tab.click(10, y).is_empty());
    assert_eq!(tab.selected_name(), Some("prod"));
    assert_eq!(tab.copy_text().as_deref(), Some("prod: ok in 48 ms"));
    tab.select_name("plant-7");
    assert_eq!(
        tab.copy_text().as_deref(),
        Some("plant-7: failed at tls (tls.cert_expired)")
    );
    tab.select_name("lab");
    let command = tab.copy_text().expect("reproduce command");
    assert!(
        command.starts_with("mosquitto_sub") && command.contains("127.0.0.1"),
        "{command}"
    );
    // A click on the top line or below the rows selects nothing new.
    assert!(tab.click(10, 1).is_empty());
    assert!(tab.click(10, 20).is_empty());
    assert_eq!(tab.selected_name(), Some("lab"));
    tab.scroll(2);
    assert_eq!(tab.selected_name(), Some("plant-7"));
}

/// Runs the store jobs among `effects` for real and feeds their answers back.
async fn settle(tab: &mut ProfilesTab, effects: Vec<ProfilesEffect>) -> Vec<ProfilesEffect> {
    let mut out = Vec::new();
    let mut queue = effects;
    while let Some(e) = queue.pop() {
        match e {
            ProfilesEffect::Store(job) => {
                let ev = carry_out(job).await;
                queue.extend(tab.on_event(ev));
            }
            other => out.push(other),
        }
    }
    out
}

fn status_of(effects: &[ProfilesEffect]) -> String {
    effects
        .iter()
        .filter_map(|e| match e {
            ProfilesEffect::Status(s) => Some(s.clone()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_run_edit_conflict_delete_through_the_real_store_and_keyring() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("profiles.toml");
    let name = format!("form-{}", std::process::id());
    let canary = "pw-canary-5d1e";
    let mut tab = ProfilesTab::new(path.clone());
    let start = tab.start();
    settle(&mut tab, start).await;
    assert!(render(&tab, 80, 24).contains("No saved profiles yet"));

    // Add through the form.
    tab.command(ProfilesCommand::Add);
    type_text(&mut tab, &name);
    tab.command(ProfilesCommand::FormNext);
    type_text(&mut tab, "mqtt://127.0.0.1:1883");
    tab.command(ProfilesCommand::FormNext);
    type_text(&mut tab, "alice");
    tab.command(ProfilesCommand::FormNext);
    type_text(&mut tab, canary);
    assert!(!render(&tab, 120, 40).contains(canary));
    let save = tab.command(ProfilesCommand::FormSave);
    let effects = settle(&mut tab, save).await;
    let status = status_of(&effects);
    assert!(
        status.contains(&format!("saved profile {name}")),
        "{status}"
    );
    assert!(status.contains(&format!("{name}/password")), "{status}");
    assert_eq!(tab.context(), ProfilesContext::List);
    assert_eq!(tab.selected_name(), Some(name.as_str()));
    let file = std::fs::read_to_string(&path).unwrap();
    assert!(!file.contains(canary), "{file}");
    assert!(file.contains("password = { keyring = true }"), "{file}");
    let ring = KeyringOnDemand::new();
    let stored = ring.store().unwrap().get(&name, Kind::Password).unwrap();
    assert_eq!(stored.as_ref().map(|s| s.expose()), Some(canary));

    // Run it: the shell is asked to run it, and the verdict it reports shows on the row.
    let effects = tab.command(ProfilesCommand::Run);
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, ProfilesEffect::Run { name: n } if *n == name))
    );
    let plan = plan_for(&path, &name).await.expect("plan");
    assert_eq!(plan.plan.target.url(), "mqtt://127.0.0.1:1883");
    tab.on_event(ProfilesEvent::Row {
        name: name.clone(),
        status: RowStatus::Done {
            ok: true,
            stage: None,
            cause: None,
            millis: 5,
        },
    });
    assert!(render(&tab, 80, 24).contains(&format!("✔ {name}")));

    // Edit: change the username; the verdict stays with the row.
    tab.command(ProfilesCommand::Edit);
    assert_eq!(tab.context(), ProfilesContext::Form);
    tab.command(ProfilesCommand::FormNext);
    for _ in 0..5 {
        tab.text_key(KeyInput::press(Key::Backspace));
    }
    type_text(&mut tab, "bob");
    let save = tab.command(ProfilesCommand::FormSave);
    let status = status_of(&settle(&mut tab, save).await);
    assert!(status.contains("saved profile"), "{status}");
    let store = ProfileStore::load(&path).unwrap();
    assert_eq!(store.get(&name).unwrap().username.as_deref(), Some("bob"));
    assert!(render(&tab, 80, 24).contains(&format!("✔ {name}")));

    // Another program adds a profile: our next save merges and says so.
    let mut other = ProfileStore::load_for_update(&path).unwrap();
    other
        .upsert(Profile::new("from-elsewhere", "mqtt://127.0.0.1:1884"))
        .unwrap();
    other.save().unwrap();
    drop(other);
    tab.command(ProfilesCommand::Edit);
    tab.command(ProfilesCommand::FormNext);
    type_text(&mut tab, "2");
    let save = tab.command(ProfilesCommand::FormSave);
    let status = status_of(&settle(&mut tab, save).await);
    assert!(
        status.contains("changed by another program") && status.contains("kept"),
        "{status}"
    );
    let store = ProfileStore::load(&path).unwrap();
    assert!(store.get("from-elsewhere").is_some());
    assert_eq!(store.get(&name).unwrap().username.as_deref(), Some("bob2"));

    // Another program changes the very profile being edited: refused with a sentence.
    tab.select_name(&name);
    tab.command(ProfilesCommand::Edit);
    let mut other = ProfileStore::load_for_update(&path).unwrap();
    let mut p = other.get(&name).unwrap().clone();
    p.notes = Some("edited elsewhere".into());
    other.upsert(p).unwrap();
    other.save().unwrap();
    drop(other);
    tab.command(ProfilesCommand::FormNext);
    type_text(&mut tab, "3");
    let save = tab.command(ProfilesCommand::FormSave);
    let status = status_of(&settle(&mut tab, save).await);
    assert!(
        status.contains("changed in") && status.contains("nothing was saved"),
        "{status}"
    );
    assert_eq!(
        tab.context(),
        ProfilesContext::Form,
        "the edit stays in the form"
    );
    let store = ProfileStore::load(&path).unwrap();
    assert_eq!(store.get(&name).unwrap().username.as_deref(), Some("bob2"));
    tab.command(ProfilesCommand::FormCancel);
    assert_eq!(tab.context(), ProfilesContext::ConfirmDiscard);
    tab.command(ProfilesCommand::DiscardConfirm);

    // Duplicate copies the keyring entry; rename moves it.
    tab.select_name(&name);
    tab.command(ProfilesCommand::Duplicate);
    let save = tab.command(ProfilesCommand::FormSave);
    let status = status_of(&settle(&mut tab, save).await);
    let copy = format!("{name}-copy");
    assert!(
        status.contains(&format!("saved profile {copy}")),
        "{status}"
    );
    let copied = ring.store().unwrap().get(&copy, Kind::Password).unwrap();
    assert_eq!(copied.as_ref().map(|s| s.expose()), Some(canary));
    tab.command(ProfilesCommand::Rename);
    assert_eq!(tab.context(), ProfilesContext::Rename);
    type_text(&mut tab, "2");
    let rename = tab.command(ProfilesCommand::RenameConfirm);
    let status = status_of(&settle(&mut tab, rename).await);
    let renamed = format!("{copy}2");
    assert!(
        status.contains(&format!("renamed profile {copy} to {renamed}")),
        "{status}"
    );
    assert!(
        ring.store()
            .unwrap()
            .get(&copy, Kind::Password)
            .unwrap()
            .is_none()
    );
    assert!(
        ring.store()
            .unwrap()
            .get(&renamed, Kind::Password)
            .unwrap()
            .is_some()
    );

    // Delete both: the confirmation names the keyring entry, and it goes with the profile.
    for victim in [renamed.clone(), name.clone()] {
        tab.select_name(&victim);
        tab.command(ProfilesCommand::Delete);
        assert!(render(&tab, 80, 24).contains(&format!("{victim}/password")));
        let del = tab.command(ProfilesCommand::DeleteConfirm);
        let status = status_of(&settle(&mut tab, del).await);
        assert!(
            status.contains(&format!("deleted profile {victim} and 1 keyring entries")),
            "{status}"
        );
        assert!(
            ring.store()
                .unwrap()
                .get(&victim, Kind::Password)
                .unwrap()
                .is_none()
        );
    }
    let store = ProfileStore::load(&path).unwrap();
    assert_eq!(store.names(), vec!["from-elsewhere"]);
    assert!(!tab.dirty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_field_is_checked_off_the_ui_task_when_left() {
    let dir = tempfile::tempdir().unwrap();
    let mut tab = ProfilesTab::new(dir.path().join("p.toml"));
    let start = tab.start();
    settle(&mut tab, start).await;
    tab.command(ProfilesCommand::Add);
    for _ in 0..4 {
        tab.command(ProfilesCommand::FormNext);
    }
    let missing = dir.path().join("ca-missing.pem").display().to_string();
    type_text(&mut tab, &missing);
    let effects = tab.command(ProfilesCommand::FormNext);
    assert!(effects.iter().any(|e| matches!(
        e,
        ProfilesEffect::Store(StoreJob::CheckField {
            field: FormField::Ca,
            ..
        })
    )));
    assert!(render(&tab, 120, 40).contains("checking"));
    settle(&mut tab, effects).await;
    let screen = render(&tab, 120, 40);
    assert!(screen.contains("ca-missing.pem: no such file"), "{screen}");
}
