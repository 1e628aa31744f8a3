//! The Diagnose tab's bundle key through `update` (list first, write on Enter, path editable)
//! on a real run against the lab, and the issue-13 canary over the app's screens.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::app::*;
use super::bundle::{Draft, RunInputs};
use super::diagnose::RunSource;
use super::keymap::{Keymap, parse_key};
use super::look::Look;
use super::profiles::{MemoryProfile, ProfilesTab};
use super::view::view;
use crate::report::bundle::{Bundle, Entry};

const PASSWORD: &str = "canary-app-password-4f2a";
const HEADER_VALUE: &str = "canary-app-header-9d13";
const QUERY_SIGNATURE: &str = "canaryappsig77e1";
const QUERY_TOKEN: &str = "canaryapptoken31b0";
const QUERY_CREDENTIAL: &str = "AKIACANARYAPP12";
const SECRETS: [&str; 5] = [
    PASSWORD,
    HEADER_VALUE,
    QUERY_SIGNATURE,
    QUERY_TOKEN,
    QUERY_CREDENTIAL,
];

fn screen(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| view(app, f)).unwrap();
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

fn key(app: &mut App, spec: &str) -> Vec<Effect> {
    update(app, Action::Key(parse_key(spec).unwrap()))
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        update(
            app,
            Action::Key(super::keymap::KeyInput::press(super::keymap::Key::Char(c))),
        );
    }
}

/// The profile and plan of the lab's healthy WebSocket broker, with a secret in every place
/// the app could draw one: the MQTT password, a header value and a signed URL's query.
fn canary_inputs(lab: &crate::lab::Lab) -> RunInputs {
    use clap::Parser;
    let sc = lab.scenario("ok.ws").expect("the lab has ok.ws");
    let url = format!(
        "{}?X-Amz-Credential={QUERY_CREDENTIAL}&X-Amz-Signature={QUERY_SIGNATURE}&X-Amz-Security-Token={QUERY_TOKEN}&X-Amz-Algorithm=AWS4-HMAC-SHA256",
        sc.url
    );
    let mut argv: Vec<String> = ["mqtt-doctor", "check", &url]
        .iter()
        .map(|s| s.to_string())
        .collect();
    argv.extend(sc.args.iter().cloned());
    argv.extend(
        [
            "-u",
            "alice",
            "--password-env",
            "CANARY_APP_PASSWORD",
            "-H",
            &format!("X-Api-Key: {HEADER_VALUE}"),
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    let crate::cli::Cli {
        command: Some(crate::cli::Command::Check(c)),
        ..
    } = crate::cli::Cli::try_parse_from(argv).expect("check flags")
    else {
        panic!("not a check command line");
    };
    let env = |k: &str| (k == "CANARY_APP_PASSWORD").then(|| PASSWORD.to_string());
    crate::cli::build_inputs(&url, &c.conn, &env).expect("plan")
}

/// The app over one in-memory profile whose row shows the signed URL, after a real run of
/// it against the lab (the engine's events fed through `update`).
async fn ran(lab: &crate::lab::Lab) -> (App, usize) {
    let inputs = canary_inputs(lab);
    let tab = ProfilesTab::in_memory(vec![MemoryProfile {
        name: "canary".into(),
        group: "WebSocket".into(),
        // No title: the row shows the URL itself.
        title: String::new(),
        url: inputs.profile.target_url().unwrap(),
    }]);
    let mut app = App::new(tab, Look::default(), Keymap::defaults());
    let effects = update(&mut app, Action::Open(RunSource::Profile("canary".into())));
    let number = effects
        .iter()
        .find_map(|e| match e {
            Effect::Start { number, .. } => Some(*number),
            _ => None,
        })
        .expect("a start");
    let target = inputs.plan.target.url();
    let plan = inputs.plan.clone();
    update(
        &mut app,
        Action::Inputs {
            number,
            inputs: Arc::new(inputs),
        },
    );
    update(&mut app, Action::Started { number, target });
    let (handle, mut events) = crate::diagnose::spawn(plan);
    let feed = async {
        while let Some(ev) = events.recv().await {
            // `b` before the end: nothing to bundle yet.
            if let crate::diagnose::Event::Finished(_) = &ev {
                let effects = key(&mut app, "b");
                assert!(
                    !effects
                        .iter()
                        .any(|e| matches!(e, Effect::BuildBundle { .. })),
                    "no bundle of a live run"
                );
                assert_eq!(app.status.as_deref(), Some(super::bundle::NOT_FINISHED));
            }
            update(&mut app, Action::Engine(ev));
        }
    };
    tokio::time::timeout(Duration::from_secs(30), feed)
        .await
        .expect("the run ends");
    handle.await.expect("the engine");
    (app, number)
}

/// Carries out a BuildBundle effect as the shell does, with a fixed clock.
fn build_effect(app: &mut App, effects: Vec<Effect>, now: SystemTime) {
    let (number, inputs, report) = effects
        .into_iter()
        .find_map(|e| match e {
            Effect::BuildBundle {
                number,
                inputs,
                report,
            } => Some((number, inputs, report)),
            _ => None,
        })
        .expect("b builds the bundle");
    let env = |k: &str| (k == "CANARY_APP_PASSWORD").then(|| PASSWORD.to_string());
    let result = super::bundle::build(
        &inputs,
        &report,
        now,
        &env,
        std::path::Path::new("/etc/resolv.conf"),
    );
    update(app, Action::BundleReady { number, result });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bundle_key_lists_the_files_then_writes_where_the_path_says() {
    let lab = crate::lab::Lab::start().await.expect("lab");
    let (mut app, number) = ran(&lab).await;
    let effects = key(&mut app, "b");
    assert_eq!(app.status.as_deref(), Some(super::bundle::BUILDING));
    // 2023-11-14T22:13:20Z
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    build_effect(&mut app, effects, now);
    let Some(Popup::Bundle(d)) = &app.popup else {
        panic!("the popup opens: {:?}", app.status);
    };
    assert_eq!(d.number, number);
    assert_eq!(d.path, "./mqtt-doctor-bundle-20231114-221320.tar.gz");
    let shown = screen(&app, 100, 30);
    for name in [
        "README.txt",
        "report.json",
        "report.md",
        "profile.toml",
        "environment.json",
        "reproduce.sh",
    ] {
        assert!(shown.contains(name), "{name} listed:\n{shown}");
    }
    assert!(shown.contains("Write to: ./mqtt-doctor-bundle-20231114-221320.tar.gz"));
    // The footer comes from the popup's keymap.
    assert!(
        shown.contains("write") && shown.contains("close"),
        "{shown}"
    );

    // Esc closes it and nothing is written.
    let effects = key(&mut app, "Esc");
    assert!(app.popup.is_none());
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::WriteBundle { .. }))
    );

    // Again; the path is edited (q is a letter there), Enter writes it.
    let effects = key(&mut app, "b");
    build_effect(&mut app, effects, now);
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("quick.tar.gz").display().to_string();
    for _ in 0..200 {
        key(&mut app, "Backspace");
    }
    typed(&mut app, &target);
    assert!(!app.quit);
    let effects = key(&mut app, "Enter");
    assert!(app.popup.is_none());
    let (path, bundle) = effects
        .into_iter()
        .find_map(|e| match e {
            Effect::WriteBundle { path, bundle } => Some((path, bundle)),
            _ => None,
        })
        .expect("Enter writes");
    assert_eq!(path, target);
    let result = super::bundle::write(&path, &bundle);
    update(&mut app, Action::BundleWritten(result));
    let status = app.status.clone().unwrap_or_default();
    assert!(
        status.starts_with("bundle written to ") && status.contains("quick.tar.gz"),
        "{status}"
    );
    let meta = std::fs::metadata(&target).expect("the bundle exists");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }

    // A folder that does not exist: one sentence in the status line, no panic.
    let effects = key(&mut app, "b");
    build_effect(&mut app, effects, now);
    for _ in 0..200 {
        key(&mut app, "Backspace");
    }
    typed(&mut app, "/nonexistent-dir-of-the-test/b.tar.gz");
    let effects = key(&mut app, "Enter");
    let (path, bundle) = effects
        .into_iter()
        .find_map(|e| match e {
            Effect::WriteBundle { path, bundle } => Some((path, bundle)),
            _ => None,
        })
        .expect("Enter writes");
    update(
        &mut app,
        Action::BundleWritten(super::bundle::write(&path, &bundle)),
    );
    let status = app.status.clone().unwrap_or_default();
    assert!(
        status.contains("/nonexistent-dir-of-the-test/b.tar.gz"),
        "{status}"
    );
    drop(lab);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canary_no_secret_reaches_the_apps_screens() {
    let lab = crate::lab::Lab::start().await.expect("lab");
    let (mut app, _) = ran(&lab).await;
    let mut screens = Vec::new();
    // The widest screen shows a row's whole URL (narrower ones ellipsise it).
    for (w, h) in [(80, 24), (120, 40), (240, 50)] {
        // Diagnose: every stage selected in turn, the facts pane scrolled through.
        key(&mut app, "Home");
        for _ in 0..8 {
            screens.push(("diagnose stages", screen(&app, w, h)));
            key(&mut app, "Down");
        }
        key(&mut app, "l");
        for _ in 0..12 {
            screens.push(("diagnose facts", screen(&app, w, h)));
            key(&mut app, "Down");
        }
        key(&mut app, "h");
        key(&mut app, "?");
        screens.push(("help", screen(&app, w, h)));
        key(&mut app, "Esc");
        let effects = key(&mut app, "b");
        build_effect(&mut app, effects, SystemTime::now());
        assert!(matches!(app.popup, Some(Popup::Bundle(_))));
        screens.push(("bundle popup", screen(&app, w, h)));
        key(&mut app, "Esc");
        // y copies the verdict: its status line is a screen too.
        key(&mut app, "y");
        screens.push(("copied", screen(&app, w, h)));
        key(&mut app, "1");
        screens.push(("profiles row", screen(&app, w, h)));
        key(&mut app, "2");
    }
    // The run reached the WebSocket stage, so its facts were on screen.
    assert!(
        screens.iter().any(|(_, s)| s.contains("WebSocket")),
        "{}",
        screens[0].1
    );
    assert!(
        screens
            .iter()
            .any(|(what, s)| *what == "profiles row" && s.contains("/mqtt?X-Amz-Credential=")),
        "the row shows the signed URL's names:\n{}",
        screens
            .iter()
            .find(|(what, _)| *what == "profiles row")
            .map(|(_, s)| s.as_str())
            .unwrap_or("")
    );
    for (what, text) in &screens {
        for secret in SECRETS {
            assert!(
                !text.contains(secret),
                "{what} shows the secret {secret}:\n{text}"
            );
        }
    }
    drop(lab);
}

#[test]
fn snapshot_bundle_popup() {
    let entries = crate::report::bundle::FILES
        .iter()
        .map(|(name, what)| Entry {
            name,
            what,
            bytes: vec![b'x'; name.len() * 100],
        })
        .collect();
    let bundle = Bundle { entries, mtime: 0 };
    let tab = ProfilesTab::in_memory(Vec::new());
    let mut app = App::new(tab, Look::default(), Keymap::defaults());
    app.tab = Tab::Diagnose;
    app.keyring = Some("keyring: Secret Service (survives a reboot)".into());
    app.popup = Some(Popup::Bundle(Draft::new(
        3,
        bundle,
        "./mqtt-doctor-bundle-20231114-221320.tar.gz".into(),
    )));
    insta::assert_snapshot!("bundle_popup_80x24", screen(&app, 80, 24));
    insta::assert_snapshot!("bundle_popup_120x40", screen(&app, 120, 40));
}
