//! Key sequences through the shell's `App` (its keymap and `update`) with a file-backed
//! Profiles tab: add through the form, run, run all, edit, delete. Store jobs are carried out
//! for real on a temporary profiles file.

use super::*;
use crate::tui::app::{Action, App, Effect, Tab, update};
use crate::tui::diagnose::RunSource;
use crate::tui::keymap::{Keymap, parse_key};
use crate::tui::look::Look;

fn press(app: &mut App, spec: &str) -> Vec<Effect> {
    let k = parse_key(spec).unwrap_or_else(|e| panic!("{e}"));
    update(app, Action::Key(k))
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        update(app, Action::Key(KeyInput::press(Key::Char(c))));
    }
}

/// Carries out the store jobs among `effects` and feeds the answers back through `update`.
async fn settle(app: &mut App, effects: Vec<Effect>) -> Vec<Effect> {
    let mut queue = effects;
    let mut rest = Vec::new();
    while let Some(e) = queue.pop() {
        match e {
            Effect::Store(job) => {
                let ev = carry_out(job).await;
                queue.extend(update(app, Action::Profiles(ev)));
            }
            other => rest.push(other),
        }
    }
    rest
}

fn screen(app: &App) -> String {
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(100, 30)).unwrap();
    term.draw(|f| crate::tui::view::view(app, f)).unwrap();
    let buf = term.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_run_run_all_edit_delete_through_the_app() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("profiles.toml");
    let mut tab = ProfilesTab::new(path.clone());
    let start = tab.start();
    let mut app = App::new(tab, Look::default(), Keymap::defaults());
    let first: Vec<Effect> = start
        .into_iter()
        .filter_map(|e| match e {
            ProfilesEffect::Store(job) => Some(Effect::Store(job)),
            _ => None,
        })
        .collect();
    settle(&mut app, first).await;
    assert!(screen(&app).contains("No saved profiles yet"));

    // n opens the form; `q` typed there is a letter, not quit.
    press(&mut app, "n");
    typed(&mut app, "quay");
    press(&mut app, "Tab");
    typed(&mut app, "mqtt://127.0.0.1:1883");
    let effects = press(&mut app, "Enter");
    assert!(!effects.iter().any(|e| matches!(e, Effect::Quit)));
    settle(&mut app, effects).await;
    assert!(ProfileStore::load(&path).unwrap().get("quay").is_some());
    press(&mut app, "n");
    typed(&mut app, "second");
    press(&mut app, "Tab");
    typed(&mut app, "mqtt://127.0.0.1:1884");
    let effects = press(&mut app, "Enter");
    settle(&mut app, effects).await;

    // Enter runs the selected profile and switches to Diagnose.
    press(&mut app, "Home");
    let effects = press(&mut app, "Enter");
    assert!(
        effects.iter().any(
            |e| matches!(e, Effect::Start { source: RunSource::Profile(n), .. } if n == "quay")
        ),
        "{effects:?}"
    );
    assert_eq!(app.tab, Tab::Diagnose);
    press(&mut app, "1");
    assert_eq!(app.tab, Tab::Profiles);

    // a runs all; rows report back; the summary counts them.
    let effects = press(&mut app, "a");
    let names = effects
        .iter()
        .find_map(|e| match e {
            Effect::RunAll(n) => Some(n.clone()),
            _ => None,
        })
        .expect("run all");
    assert_eq!(names, vec!["quay".to_string(), "second".to_string()]);
    for (name, ok) in [("quay", true), ("second", false)] {
        update(
            &mut app,
            Action::Profiles(ProfilesEvent::Row {
                name: name.into(),
                status: RowStatus::Done {
                    ok,
                    stage: (!ok).then_some(Stage::Tcp),
                    cause: (!ok).then(|| "tcp.refused".into()),
                    millis: 3,
                },
            }),
        );
    }
    let shown = screen(&app);
    assert!(shown.contains("1 ok, 1 failed, in "), "{shown}");
    assert!(shown.contains("failed tcp.refused"), "{shown}");

    // e edits the selected profile (the focus starts on the URL: the name is renamed with R).
    press(&mut app, "Home");
    press(&mut app, "e");
    press(&mut app, "Tab");
    typed(&mut app, "zed");
    let effects = press(&mut app, "Enter");
    settle(&mut app, effects).await;
    let store = ProfileStore::load(&path).unwrap();
    assert_eq!(store.get("quay").unwrap().username.as_deref(), Some("zed"));

    // x asks, Enter deletes.
    press(&mut app, "x");
    assert!(screen(&app).contains("Delete profile quay?"));
    let effects = press(&mut app, "Enter");
    settle(&mut app, effects).await;
    let store = ProfileStore::load(&path).unwrap();
    assert_eq!(store.names(), vec!["second"]);
    let shown = screen(&app);
    assert!(shown.contains("deleted profile quay"), "{shown}");
    assert!(!shown.contains("✔ quay"), "the row is gone: {shown}");
    assert!(shown.contains("✘ second"), "{shown}");
}

/// A file-backed app with its first load done (no profiles yet).
async fn loaded_app(path: &std::path::Path) -> App {
    let mut tab = ProfilesTab::new(path.to_path_buf());
    let start = tab.start();
    let mut app = App::new(tab, Look::default(), Keymap::defaults());
    let first: Vec<Effect> = start
        .into_iter()
        .filter_map(|e| match e {
            ProfilesEffect::Store(job) => Some(Effect::Store(job)),
            _ => None,
        })
        .collect();
    settle(&mut app, first).await;
    app
}

fn quits(effects: &[Effect]) -> bool {
    effects.iter().any(|e| matches!(e, Effect::Quit))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esc_in_a_changed_form_asks_before_discarding() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = loaded_app(&dir.path().join("profiles.toml")).await;

    // An untouched form closes on Esc at once.
    press(&mut app, "n");
    assert!(screen(&app).contains("New profile"));
    press(&mut app, "Esc");
    assert_eq!(app.profiles.context(), ProfilesContext::List);
    assert!(!screen(&app).contains("New profile"));

    // With a typed field, Esc asks; Esc (or n) goes back to the form with the text kept.
    press(&mut app, "n");
    typed(&mut app, "half-typed");
    let effects = press(&mut app, "Esc");
    assert!(!quits(&effects));
    assert_eq!(app.profiles.context(), ProfilesContext::ConfirmDiscard);
    let shown = screen(&app);
    assert!(shown.contains("Discard changes?"), "{shown}");
    // The footer's keys come from the same keymap as the dispatch.
    assert!(
        shown.contains("discard") && shown.contains("keep editing"),
        "{shown}"
    );
    press(&mut app, "Esc");
    assert_eq!(app.profiles.context(), ProfilesContext::Form);
    assert!(screen(&app).contains("half-typed"));
    press(&mut app, "Esc");
    press(&mut app, "n");
    assert_eq!(app.profiles.context(), ProfilesContext::Form);
    // q in the question is no letter and no quit.
    press(&mut app, "Esc");
    assert!(!quits(&press(&mut app, "q")));
    assert_eq!(app.profiles.context(), ProfilesContext::ConfirmDiscard);
    // y discards: the form is gone and nothing was written.
    let effects = press(&mut app, "y");
    assert!(!effects.iter().any(|e| matches!(e, Effect::Store(_))));
    assert_eq!(app.profiles.context(), ProfilesContext::List);
    assert!(!app.profiles.dirty());
    assert!(!dir.path().join("profiles.toml").exists());

    // Ctrl-C quits from the question too, without asking.
    press(&mut app, "n");
    typed(&mut app, "again");
    press(&mut app, "Esc");
    assert!(quits(&press(&mut app, "Ctrl-c")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quit_elsewhere_with_an_unsaved_form_asks_first() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = loaded_app(&dir.path().join("profiles.toml")).await;
    press(&mut app, "n");
    typed(&mut app, "unsaved");
    // The tab bar stays clickable under the form: the form stays open on Profiles.
    screen(&app);
    let diagnose = app.tab_areas.get()[1];
    update(
        &mut app,
        Action::Mouse {
            kind: crate::tui::app::MouseKind::Click,
            column: diagnose.x,
            row: diagnose.y,
        },
    );
    assert_eq!(app.tab, Tab::Diagnose);
    // q at the top level asks; n stays; Esc there goes back, it does not quit.
    let effects = press(&mut app, "q");
    assert!(!quits(&effects));
    assert!(matches!(
        app.popup,
        Some(crate::tui::app::Popup::ConfirmQuit)
    ));
    let shown = screen(&app);
    assert!(
        shown.contains("unsaved") || shown.contains("not saved"),
        "{shown}"
    );
    assert!(!quits(&press(&mut app, "n")));
    assert!(app.popup.is_none());
    // Ctrl-C always quits.
    let mut copy_effects = press(&mut app, "q");
    assert!(!quits(&copy_effects));
    copy_effects = press(&mut app, "Ctrl-c");
    assert!(quits(&copy_effects));
    app.quit = false;
    app.popup = None;
    // y quits anyway.
    press(&mut app, "q");
    assert!(quits(&press(&mut app, "y")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esc_at_the_top_level_asks_with_an_unsaved_form_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = loaded_app(&dir.path().join("profiles.toml")).await;
    // Nothing unsaved: Esc at the top level of Profiles quits.
    let mut clean = loaded_app(&dir.path().join("other.toml")).await;
    assert!(quits(&press(&mut clean, "Esc")));
    press(&mut app, "n");
    typed(&mut app, "unsaved");
    screen(&app);
    let diagnose = app.tab_areas.get()[1];
    update(
        &mut app,
        Action::Mouse {
            kind: crate::tui::app::MouseKind::Click,
            column: diagnose.x,
            row: diagnose.y,
        },
    );
    // Esc on an idle Diagnose goes back to Profiles, where the form still is.
    assert!(!quits(&press(&mut app, "Esc")));
    assert_eq!(app.tab, Tab::Profiles);
    assert_eq!(app.profiles.context(), ProfilesContext::Form);
    assert!(screen(&app).contains("unsaved"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_rows_spin_only_while_they_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("profiles.toml");
    let mut app = loaded_app(&path).await;
    press(&mut app, "n");
    typed(&mut app, "spin");
    press(&mut app, "Tab");
    typed(&mut app, "mqtt://127.0.0.1:1883");
    let effects = press(&mut app, "Enter");
    settle(&mut app, effects).await;
    assert!(!app.animating(), "idle: no tick at all");
    assert!(update(&mut app, Action::Tick).is_empty());

    press(&mut app, "a");
    assert!(app.animating(), "a running row spins");
    let row = |app: &App| {
        screen(app)
            .lines()
            .find(|l| l.contains("spin") && l.contains("running"))
            .map(str::to_string)
            .unwrap_or_else(|| panic!("a running row:\n{}", screen(app)))
    };
    let first = row(&app);
    let effects = update(&mut app, Action::Tick);
    assert!(effects.iter().any(|e| matches!(e, Effect::Redraw)));
    let second = row(&app);
    assert_ne!(first, second, "the spinner turned");

    update(
        &mut app,
        Action::Profiles(ProfilesEvent::Row {
            name: "spin".into(),
            status: RowStatus::Done {
                ok: true,
                stage: None,
                cause: None,
                millis: 2,
            },
        }),
    );
    assert!(!app.animating(), "nothing runs: the tick stops");
    assert!(update(&mut app, Action::Tick).is_empty());
}
