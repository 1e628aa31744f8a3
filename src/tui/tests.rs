//! App tests: states are built by feeding key presses and engine events through `update`,
//! then drawn on a `TestBackend` and compared with reviewed snapshots in `snapshots/`.

use std::collections::BTreeMap;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Color;
use serde_json::json;

use super::app::*;
use super::diagnose::{Phase, RunSource};
use super::keymap::{self, Command, Context, DiagnoseCommand, GlobalCommand, Keymap, parse_key};
use super::look::{Look, ThemeName};
use super::profiles::{MemoryProfile, ProfilesTab};
use super::view::view;
use super::*;
use crate::diagnose::{Stage, StageReport, Status, TargetInfo, Verdict};

const URL: &str = "mqtts://broker.example.com:8883";

fn app_with(look: Look) -> App {
    let tab = ProfilesTab::in_memory(vec![
        MemoryProfile {
            name: "prod".into(),
            group: "TLS".into(),
            title: "production broker".into(),
            url: URL.into(),
        },
        MemoryProfile {
            name: "staging".into(),
            group: "TLS".into(),
            title: "staging broker".into(),
            url: "mqtt://staging.example.com:1883".into(),
        },
    ]);
    let mut app = App::new(tab, look, Keymap::defaults());
    app.keyring = Some("keyring: Secret Service (survives a reboot)".into());
    app.profiles_file = Some("/home/ada/.config/mqtt-doctor/profiles.toml".into());
    app
}

fn new_app() -> App {
    app_with(Look::default())
}

fn draw(app: &App, width: u16, height: u16) -> Buffer {
    let mut terminal = match Terminal::new(TestBackend::new(width, height)) {
        Ok(t) => t,
        Err(e) => match e {},
    };
    if let Err(e) = terminal.draw(|f| view(app, f)) {
        match e {}
    }
    terminal.backend().buffer().clone()
}

fn text(buf: &Buffer) -> String {
    let mut out = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

fn screen(app: &App, width: u16, height: u16) -> String {
    text(&draw(app, width, height))
}

fn key(app: &mut App, spec: &str) -> Vec<Effect> {
    let k = parse_key(spec).unwrap_or_else(|e| panic!("{e}"));
    update(app, Action::Key(k))
}

fn feed(app: &mut App, event: Event) -> Vec<Effect> {
    update(app, Action::Engine(event))
}

fn fact(app: &mut App, stage: Stage, k: &str, value: serde_json::Value) {
    feed(
        app,
        Event::Fact {
            stage,
            key: k.into(),
            value,
        },
    );
}

fn starts(effects: &[Effect]) -> Vec<usize> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Start { number, .. } => Some(*number),
            _ => None,
        })
        .collect()
}

fn quits(effects: &[Effect]) -> bool {
    effects.iter().any(|e| matches!(e, Effect::Quit))
}

fn cancels(effects: &[Effect]) -> bool {
    effects.iter().any(|e| matches!(e, Effect::Cancel))
}

/// Opens the Diagnose tab on profile `name` and lets its engine start.
fn open(app: &mut App, name: &str) -> usize {
    let effects = update(app, Action::Open(RunSource::Profile(name.into())));
    let number = starts(&effects)[0];
    update(
        app,
        Action::Started {
            number,
            target: URL.into(),
        },
    );
    number
}

fn stage_done(app: &App, stage: Stage, status: Status, ms: u64) -> StageReport {
    let mut r = app
        .diagnose
        .live_run()
        .and_then(|run| run.stages.iter().find(|r| r.stage == stage).cloned())
        .unwrap_or_else(|| StageReport::new(stage));
    r.status = status;
    r.duration_ms = ms;
    r
}

/// DNS done with facts, TCP running.
fn running(app: &mut App) {
    feed(app, Event::StageStarted(Stage::Dns));
    fact(
        app,
        Stage::Dns,
        "resolver",
        json!("system (/etc/resolv.conf)"),
    );
    fact(
        app,
        Stage::Dns,
        "addresses",
        json!(["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]),
    );
    let dns = stage_done(app, Stage::Dns, Status::Ok, 12);
    feed(app, Event::StageFinished(dns));
    feed(app, Event::StageStarted(Stage::Tcp));
    fact(app, Stage::Tcp, "trying", json!("93.184.216.34:8883"));
}

fn finish(app: &mut App, verdict: Verdict, tls_status: Status, tls_ms: u64) {
    let tcp = stage_done(app, Stage::Tcp, Status::Ok, 31);
    feed(app, Event::StageFinished(tcp));
    feed(app, Event::StageStarted(Stage::Tls));
    fact(app, Stage::Tls, "sni", json!("broker.example.com"));
    fact(app, Stage::Tls, "not_after", json!("2024-03-01T00:00:00Z"));
    let mut tls = stage_done(app, Stage::Tls, tls_status, tls_ms);
    if tls_status == Status::Failed {
        tls.cause = verdict.cause;
        tls.summary = Some(verdict.summary.clone());
    }
    feed(app, Event::StageFinished(tls));
    let stages = app
        .diagnose
        .live_run()
        .map(|r| r.stages.clone())
        .unwrap_or_default();
    let report = Report {
        version: "0.1.0".into(),
        target: TargetInfo {
            url: URL.into(),
            host: "broker.example.com".into(),
            port: 8883,
            transport: "mqtts".into(),
        },
        verdict,
        stages,
        tls: None,
    };
    feed(app, Event::Finished(Box::new(report)));
}

fn expired() -> Verdict {
    Verdict {
        ok: false,
        stage: Some(Stage::Tls),
        cause: Some("tls.cert_expired"),
        summary: "The broker's certificate expired 3 days ago (not after 2024-03-01).".into(),
        remedy: Some("Renew the broker certificate and reload the broker.".into()),
    }
}

fn ok_verdict() -> Verdict {
    Verdict {
        ok: true,
        stage: None,
        cause: None,
        summary: "Connected, subscribed and received the test message.".into(),
        remedy: None,
    }
}

fn failed_app(look: Look) -> App {
    let mut app = app_with(look);
    open(&mut app, "prod");
    running(&mut app);
    finish(&mut app, expired(), Status::Failed, 45);
    app
}

// --- update(): key sequences -------------------------------------------------------------

#[test]
fn a_profile_run_opens_diagnose_and_esc_cancels_then_goes_back() {
    let mut app = new_app();
    assert_eq!(app.tab, Tab::Profiles);
    let n = open(&mut app, "prod");
    assert_eq!(n, 1);
    assert_eq!(app.tab, Tab::Diagnose);
    running(&mut app);
    assert!(app.animating(), "a running stage spins");
    let effects = key(&mut app, "Esc");
    assert!(
        cancels(&effects),
        "Esc cancels a running diagnosis: {effects:?}"
    );
    assert_eq!(app.diagnose.runs[0].phase, Phase::Cancelled);
    assert!(!app.animating(), "nothing spins after a cancel");
    assert_eq!(app.tab, Tab::Diagnose, "the first Esc only cancels");
    let effects = key(&mut app, "Esc");
    assert!(!quits(&effects));
    assert_eq!(app.tab, Tab::Profiles, "Esc with nothing running goes back");
    // At the top level Esc quits.
    assert!(quits(&key(&mut app, "Esc")));
}

#[test]
fn r_reruns_the_shown_profile_and_the_history_keeps_both_runs() {
    let mut app = failed_app(Look::default());
    let effects = key(&mut app, "r");
    assert_eq!(starts(&effects), vec![2]);
    match effects.iter().find(|e| matches!(e, Effect::Start { .. })) {
        Some(Effect::Start { source, .. }) => {
            assert_eq!(source, &RunSource::Profile("prod".into()))
        }
        other => panic!("{other:?}"),
    }
    update(
        &mut app,
        Action::Started {
            number: 2,
            target: URL.into(),
        },
    );
    running(&mut app);
    finish(&mut app, ok_verdict(), Status::Ok, 38);
    assert_eq!(app.diagnose.runs.len(), 2);
    assert_eq!(app.diagnose.shown, 1);
    // The runs pane: move up to run 1 and it is shown again, with its failing stage.
    key(&mut app, "l");
    key(&mut app, "l");
    key(&mut app, "Up");
    assert_eq!(app.diagnose.shown, 0);
    assert_eq!(
        app.diagnose.selected_stage().map(|s| s.stage),
        Some(Stage::Tls)
    );
}

#[test]
fn rerun_while_running_cancels_the_live_run_first() {
    let mut app = new_app();
    open(&mut app, "prod");
    running(&mut app);
    let effects = key(&mut app, "r");
    assert!(cancels(&effects), "{effects:?}");
    assert_eq!(starts(&effects), vec![2]);
    assert_eq!(app.diagnose.runs[0].phase, Phase::Cancelled);
}

#[test]
fn what_changed_names_the_verdict_stage_and_timings() {
    let mut app = failed_app(Look::default());
    key(&mut app, "r");
    update(
        &mut app,
        Action::Started {
            number: 2,
            target: URL.into(),
        },
    );
    running(&mut app);
    finish(&mut app, ok_verdict(), Status::Ok, 38);
    let d = &app.diagnose;
    let prev = d.previous_of(1).expect("run 1 is the previous run of prod");
    let line = super::diagnose::view::changes(prev, &d.runs[1], &app.look);
    assert_eq!(
        line,
        "Changed since run 1: was ✘ TLS tls.cert_expired, now ✔ ok; TLS failed → ok; total 88 ms → 81 ms"
    );
    assert!(screen(&app, 120, 40).contains("Changed since run 1"));
}

#[test]
fn number_keys_and_tab_switch_tabs() {
    let mut app = new_app();
    key(&mut app, "2");
    assert_eq!(app.tab, Tab::Diagnose);
    key(&mut app, "1");
    assert_eq!(app.tab, Tab::Profiles);
    key(&mut app, "Tab");
    assert_eq!(app.tab, Tab::Diagnose);
    key(&mut app, "Tab");
    assert_eq!(app.tab, Tab::Certificates);
    key(&mut app, "Esc");
    assert_eq!(
        app.tab,
        Tab::Profiles,
        "Esc on the wizard's first step leaves it"
    );
    key(&mut app, "BackTab");
    assert_eq!(app.tab, Tab::Chain, "BackTab wraps around the tabs");
    key(&mut app, "BackTab");
    assert_eq!(app.tab, Tab::Certificates);
    key(&mut app, "Esc");
    key(&mut app, "4");
    assert_eq!(app.tab, Tab::Chain);
    key(&mut app, "3");
    assert_eq!(app.tab, Tab::Certificates);
}

#[test]
fn q_quits_ctrl_c_quits_from_a_popup_and_releases_do_nothing() {
    let mut app = new_app();
    key(&mut app, "?");
    assert!(matches!(app.popup, Some(Popup::Help { .. })));
    let effects = key(&mut app, "q");
    assert!(!quits(&effects), "q closes the help, it does not quit");
    assert!(app.popup.is_none());
    key(&mut app, "?");
    assert!(quits(&update(&mut app, Action::Key(KeyInput::ctrl('c')))));

    let mut app = new_app();
    let mut release = parse_key("q").unwrap_or_else(|e| panic!("{e}"));
    release.kind = KeyKind::Release;
    assert!(update(&mut app, Action::Key(release)).is_empty());
    assert!(!app.quit);
    assert!(quits(&key(&mut app, "q")));
}

#[test]
fn help_lists_exactly_the_active_bindings() {
    let mut app = failed_app(Look::default());
    key(&mut app, "?");
    let Some(Popup::Help { context, .. }) = app.popup.clone() else {
        panic!("no help popup");
    };
    assert_eq!(context, Context::Diagnose);
    let rows = super::help::rows(&app.keymap, context);
    let expected: Vec<(String, String)> = app
        .keymap
        .active(Context::Diagnose)
        .iter()
        .map(|b| (b.keys_label(), b.help.to_string()))
        .chain([("Ctrl-c".to_string(), "quit, everywhere".to_string())])
        .collect();
    assert_eq!(rows, expected);
    // Every listed key does what its line says where the user was; the global Esc (back) is
    // not listed in Diagnose, where Esc cancels.
    for b in app.keymap.active(Context::Diagnose) {
        for k in &b.keys {
            assert_eq!(
                app.keymap.lookup(Context::Diagnose, k),
                Some(b.command),
                "{}",
                b.keys_label()
            );
        }
    }
    let listed: Vec<&str> = rows.iter().map(|(k, _)| k.as_str()).collect();
    assert!(listed.contains(&"r"));
    assert!(listed.contains(&"Esc"));
    assert_eq!(
        listed.iter().filter(|k| k.contains("Esc")).count(),
        1,
        "{listed:?}"
    );
    assert!(!rows.iter().any(|(_, h)| h.starts_with("back")), "{rows:?}");
    // And the overlay shows them.
    let shown = screen(&app, 120, 40);
    assert!(shown.contains("run the diagnosis again"), "{shown}");
    assert!(shown.contains("Keys (diagnose)"), "{shown}");
}

#[test]
fn y_copies_the_verdict_with_its_cause_through_osc52() {
    let mut app = failed_app(Look::default());
    let effects = key(&mut app, "y");
    let bytes = effects
        .iter()
        .find_map(|e| match e {
            Effect::Write(b) => Some(b.clone()),
            _ => None,
        })
        .expect("y writes an OSC 52 sequence");
    let text = String::from_utf8(bytes).unwrap_or_default();
    let payload = text
        .strip_prefix("\x1b]52;c;")
        .and_then(|t| t.strip_suffix('\x07'))
        .expect("a bare OSC 52 outside tmux");
    use base64::Engine;
    let copied = base64::engine::general_purpose::STANDARD
        .decode(payload)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    assert!(copied.contains("TLS failed [tls.cert_expired]"), "{copied}");
    assert!(copied.contains("What to do: Renew"), "{copied}");
    assert!(app.status.as_deref().unwrap_or("").starts_with("copied"));
}

#[test]
fn osc52_bytes_bare_tmux_and_screen() {
    use super::clipboard::{Mux, osc52};
    assert_eq!(
        osc52("hi", Mux::None).ok(),
        Some(b"\x1b]52;c;aGk=\x07".to_vec())
    );
    assert_eq!(
        osc52("hi", Mux::Tmux).ok(),
        Some(b"\x1bPtmux;\x1b\x1b]52;c;aGk=\x07\x1b\\".to_vec())
    );
    assert_eq!(
        osc52("hi", Mux::Screen).ok(),
        Some(b"\x1bP\x1b]52;c;aGk=\x07\x1b\\".to_vec())
    );
    // Long text is split into DCS strings of 76 characters for screen.
    let long = "x".repeat(100);
    let screen_bytes = osc52(&long, Mux::Screen).unwrap_or_default();
    let s = String::from_utf8(screen_bytes).unwrap_or_default();
    assert_eq!(s.matches("\x1bP").count(), 2, "{s:?}");
    assert!(osc52(&"x".repeat(64 * 1024 + 1), Mux::None).is_err());
    assert!(osc52(&"x".repeat(64 * 1024), Mux::None).is_ok());
    assert_eq!(
        Mux::detect(&|k| (k == "TMUX").then(|| "/tmp/tmux-0/default,1,0".into())),
        Mux::Tmux
    );
    assert_eq!(
        Mux::detect(&|k| (k == "STY").then(|| "123.pts-0".into())),
        Mux::Screen
    );
    assert_eq!(Mux::detect(&|_| None), Mux::None);
}

#[test]
fn e_opens_the_form_or_says_why_not() {
    let mut app = failed_app(Look::default());
    key(&mut app, "e");
    assert_eq!(
        app.tab,
        Tab::Profiles,
        "e opens the profile in the Profiles tab"
    );
    let mut app = failed_app(Look::default());
    app.demo = true;
    key(&mut app, "e");
    assert_eq!(app.tab, Tab::Diagnose);
    assert!(app.status.as_deref().unwrap_or("").contains("temporary"));
}

#[test]
fn mouse_clicks_tabs_and_toggles_off_with_m() {
    let mut app = new_app();
    draw(&app, 80, 24);
    let diagnose_tab = app.tab_areas.get()[1];
    update(
        &mut app,
        Action::Mouse {
            kind: MouseKind::Click,
            column: diagnose_tab.x + 1,
            row: 0,
        },
    );
    assert_eq!(app.tab, Tab::Diagnose);
    let effects = key(&mut app, "m");
    assert!(
        effects.iter().any(|e| matches!(e, Effect::Mouse(false))),
        "{effects:?}"
    );
    key(&mut app, "2");
    assert!(screen(&app, 120, 40).contains("mouse off (m)"));
}

#[test]
fn cannot_run_is_shown_and_fed_back() {
    let mut app = new_app();
    let effects = update(&mut app, Action::Open(RunSource::Profile("prod".into())));
    let number = starts(&effects)[0];
    update(
        &mut app,
        Action::CannotRun {
            number,
            why: "the keyring did not answer within 5 s".into(),
        },
    );
    assert!(matches!(app.diagnose.runs[0].phase, Phase::CannotRun(_)));
    let s = screen(&app, 80, 24);
    assert!(s.contains("cannot run"), "{s}");
    assert!(s.contains("keyring did not answer"), "{s}");
}

// --- keymap -----------------------------------------------------------------------------

#[test]
fn key_specs_parse_and_print_back() {
    for spec in [
        "a",
        "A",
        "?",
        "/",
        "Enter",
        "Esc",
        "Tab",
        "BackTab",
        "Up",
        "Down",
        "Left",
        "Right",
        "PageUp",
        "PageDown",
        "Home",
        "End",
        "Backspace",
        "Delete",
        "Space",
        "Ctrl-d",
        "F2",
    ] {
        let k = parse_key(spec).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(keymap::key_label(&k), spec);
    }
    assert!(parse_key("Hyper-x").is_err());
    assert!(parse_key("").is_err());
}

#[test]
fn every_default_binding_parses() {
    let rows: usize = Keymap::defaults()
        .bindings
        .iter()
        .map(|b| b.keys.len())
        .sum();
    // Count the specs of the defaults independently: each must have become a key.
    let specs: usize = super::profiles::default_bindings()
        .iter()
        .map(|r| r.2.len())
        .sum::<usize>()
        + super::chain::default_bindings()
            .iter()
            .map(|r| r.2.len())
            .sum::<usize>()
        + super::certs::default_bindings()
            .iter()
            .map(|r| r.2.len())
            .sum::<usize>()
        + super::certs::export::default_bindings()
            .iter()
            .map(|r| r.2.len())
            .sum::<usize>()
        + 41;
    assert_eq!(rows, specs);
    assert!(
        Keymap::with_overrides(&BTreeMap::new(), "app.toml").is_ok(),
        "the defaults do not clash"
    );
}

#[test]
fn overrides_take_effect_and_a_clash_names_both_actions() {
    let mut o = BTreeMap::new();
    o.insert("diagnose.rerun".to_string(), vec!["F5".to_string()]);
    let map = Keymap::with_overrides(&o, "app.toml").unwrap_or_else(|e| panic!("{e}"));
    let f5 = parse_key("F5").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        map.lookup(Context::Diagnose, &f5),
        Some(Command::Diagnose(DiagnoseCommand::Rerun))
    );
    assert_eq!(
        map.lookup(
            Context::Diagnose,
            &parse_key("r").unwrap_or_else(|e| panic!("{e}"))
        ),
        None
    );

    let mut o = BTreeMap::new();
    o.insert("diagnose.rerun".to_string(), vec!["q".to_string()]);
    let err = Keymap::with_overrides(&o, "/home/ada/.config/mqtt-doctor/app.toml")
        .err()
        .unwrap_or_default();
    assert!(
        err.contains("\"quit\"") && err.contains("\"diagnose.rerun\""),
        "{err}"
    );
    assert!(
        err.starts_with("/home/ada/.config/mqtt-doctor/app.toml"),
        "{err}"
    );

    let mut o = BTreeMap::new();
    o.insert("diagnose.rerum".to_string(), vec!["x".to_string()]);
    let err = Keymap::with_overrides(&o, "app.toml")
        .err()
        .unwrap_or_default();
    assert!(err.contains("did you mean \"diagnose.rerun\""), "{err}");

    let mut o = BTreeMap::new();
    o.insert("quit".to_string(), vec!["Ctrl-c".to_string()]);
    assert!(Keymap::with_overrides(&o, "app.toml").is_err());
    let _ = GlobalCommand::Quit;
}

#[test]
fn app_toml_reads_keys_theme_and_mouse() {
    let cfg = super::config::parse("theme = \"light\"\nmouse = false\n[keys]\n\"diagnose.rerun\" = \"F5\"\nhelp = [\"?\", \"F1\"]\n")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cfg.theme.as_deref(), Some("light"));
    assert_eq!(cfg.mouse, Some(false));
    let o = cfg.key_overrides();
    assert_eq!(
        o.get("help"),
        Some(&vec!["?".to_string(), "F1".to_string()])
    );
    let err = super::config::parse("colour = 1").err().unwrap_or_default();
    assert!(err.contains("colour"), "{err}");
}

// --- snapshots ----------------------------------------------------------------------------

fn running_app(look: Look) -> App {
    let mut app = app_with(look);
    open(&mut app, "prod");
    running(&mut app);
    app
}

fn history_app(look: Look) -> App {
    let mut app = failed_app(look);
    key(&mut app, "r");
    update(
        &mut app,
        Action::Started {
            number: 2,
            target: URL.into(),
        },
    );
    running(&mut app);
    finish(&mut app, ok_verdict(), Status::Ok, 38);
    app
}

#[test]
fn snapshot_running_80x24() {
    insta::assert_snapshot!(screen(&running_app(Look::default()), 80, 24));
}

#[test]
fn snapshot_running_120x40() {
    insta::assert_snapshot!(screen(&running_app(Look::default()), 120, 40));
}

#[test]
fn snapshot_failed_80x24() {
    insta::assert_snapshot!(screen(&failed_app(Look::default()), 80, 24));
}

#[test]
fn snapshot_failed_120x40() {
    insta::assert_snapshot!(screen(&failed_app(Look::default()), 120, 40));
}

#[test]
fn snapshot_history_80x24() {
    insta::assert_snapshot!(screen(&history_app(Look::default()), 80, 24));
}

#[test]
fn snapshot_history_120x40() {
    insta::assert_snapshot!(screen(&history_app(Look::default()), 120, 40));
}

#[test]
fn snapshot_help_80x24() {
    let mut app = failed_app(Look::default());
    key(&mut app, "?");
    insta::assert_snapshot!(screen(&app, 80, 24));
}

#[test]
fn snapshot_help_120x40() {
    let mut app = failed_app(Look::default());
    key(&mut app, "?");
    insta::assert_snapshot!(screen(&app, 120, 40));
}

#[test]
fn snapshot_too_small() {
    let app = failed_app(Look::default());
    insta::assert_snapshot!(screen(&app, 50, 12));
}

#[test]
fn no_panic_at_any_small_size() {
    let app = history_app(Look::default());
    for (w, h) in [
        (1, 1),
        (2, 1),
        (1, 2),
        (10, 3),
        (59, 16),
        (60, 15),
        (60, 16),
        (61, 17),
    ] {
        let _ = screen(&app, w, h);
    }
    assert!(screen(&app, 59, 20).contains("terminal too small (need 60×16"));
    assert!(!screen(&app, 60, 16).contains("terminal too small"));
}

#[test]
fn snapshot_failed_ascii_80x24() {
    let app = failed_app(Look::new(ThemeName::Dark, false, true));
    let buf = draw(&app, 80, 24);
    for cell in buf.content.iter() {
        assert!(
            cell.symbol().is_ascii(),
            "non-ASCII {:?} under --ascii",
            cell.symbol()
        );
    }
    insta::assert_snapshot!(text(&buf));
}

#[test]
fn no_color_has_identical_text_and_no_colour_at_all() {
    for app_of in [failed_app as fn(Look) -> App, history_app, running_app] {
        let coloured = draw(&app_of(Look::default()), 120, 40);
        let plain = draw(&app_of(Look::new(ThemeName::Dark, true, false)), 120, 40);
        assert_eq!(text(&coloured), text(&plain), "NO_COLOR changes no text");
        for cell in plain.content.iter() {
            assert_eq!(cell.fg, Color::Reset, "{:?}", cell.symbol());
            assert_eq!(cell.bg, Color::Reset, "{:?}", cell.symbol());
        }
        // The default theme does colour the verdict (so the check above means something).
        assert!(coloured.content.iter().any(|c| c.fg != Color::Reset));
    }
    // Status still reads by symbol and word without colour.
    let plain = text(&draw(
        &failed_app(Look::new(ThemeName::Dark, true, false)),
        120,
        40,
    ));
    assert!(plain.contains("✘ TLS failed"), "{plain}");
    assert!(
        plain.contains("✔ DNS") || plain.contains("✔ TCP"),
        "{plain}"
    );
    assert!(plain.contains("ok 12 ms"), "{plain}");
    insta::assert_snapshot!(plain);
}

#[test]
fn themes_use_the_terminal_default_for_text() {
    for t in [ThemeName::Dark, ThemeName::Light, ThemeName::HighContrast] {
        let theme = super::look::Theme::new(t);
        assert_eq!(theme.base.fg, Some(Color::Reset));
        assert_eq!(theme.base.bg, Some(Color::Reset));
    }
    assert!(ThemeName::parse("solarized").is_err());
}

#[test]
fn untrusted_text_is_sanitized_on_screen() {
    let mut app = new_app();
    open(&mut app, "prod");
    feed(&mut app, Event::StageStarted(Stage::Dns));
    fact(
        &mut app,
        Stage::Dns,
        "resolver",
        json!("evil\u{1b}[2J\u{202e}name"),
    );
    let s = screen(&app, 120, 40);
    assert!(!s.contains('\u{1b}') && !s.contains('\u{202e}'), "{s}");
}

#[test]
fn ellipsize_counts_columns() {
    let g = super::look::Glyphs::unicode();
    assert_eq!(super::look::ellipsize("abcdef", 4, &g), "abc…");
    assert_eq!(super::look::ellipsize("日本語のテキスト", 5, &g), "日本…");
    assert_eq!(super::look::ellipsize("abc", 3, &g), "abc");
    assert_eq!(super::look::ellipsize("abc", 0, &g), "");
}

#[test]
fn the_header_never_runs_parts_together() {
    let mut app = failed_app(Look::default());
    app.diagnose.runs[0].source =
        RunSource::Profile("a-very-long-profile-name-for-the-production-broker-cluster".into());
    for w in [60u16, 80, 100, 120, 200] {
        let s = screen(&app, w, 24);
        let header = s.lines().next().unwrap_or("");
        assert!(header.contains("[2 Diagnose]"), "{header}");
        // Parts are separated by at least one blank.
        assert!(
            !header.contains("]a-very") && !header.contains("cluster…mqtt"),
            "{header}"
        );
        assert_eq!(super::look::width(header), usize::from(w));
    }
}

#[test]
fn a_long_message_takes_a_second_row_instead_of_losing_its_end() {
    let mut app = new_app();
    app.status = Some(
        "saved profile app-e2e-1 in /tmp/.tmpXYZ/profiles.toml; password kept in the keyring as app-e2e-1/password"
            .into(),
    );
    let s = screen(&app, 80, 24);
    let joined: String = s.lines().map(str::trim_end).collect::<Vec<_>>().join(" ");
    assert!(joined.contains("app-e2e-1/password"), "{s}");
}
