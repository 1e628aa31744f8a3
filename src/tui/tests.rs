//! Screen tests: states are built by feeding engine events through `update`, then drawn on a
//! `TestBackend` and compared with reviewed snapshots in `snapshots/`.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::json;

use super::app::*;
use super::view::view;
use super::*;
use crate::diagnose::{Stage, StageReport, Status, TargetInfo, Verdict};

const URL: &str = "mqtts://broker.example.com:8883";

fn draw(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = match Terminal::new(TestBackend::new(width, height)) {
        Ok(t) => t,
        Err(e) => match e {},
    };
    if let Err(e) = terminal.draw(|f| view(app, f)) {
        match e {}
    }
    terminal
}

fn screen(app: &App) -> String {
    draw(app, 100, 30).backend().to_string()
}

fn feed(app: &mut App, event: Event) -> Effect {
    update(app, Action::Engine(event))
}

fn press(app: &mut App, key: Key) -> Effect {
    update(app, Action::Key(KeyInput::press(key)))
}

fn started(url: &str) -> App {
    let mut app = App::new(url);
    update(
        &mut app,
        Action::RunStarted {
            target: url.to_string(),
        },
    );
    app
}

fn fact(app: &mut App, stage: Stage, key: &str, value: serde_json::Value) {
    feed(
        app,
        Event::Fact {
            stage,
            key: key.into(),
            value,
        },
    );
}

fn done(app: &App, stage: Stage, status: Status, ms: u64) -> StageReport {
    let mut r = app
        .stages
        .iter()
        .find(|r| r.stage == stage)
        .cloned()
        .unwrap_or_else(|| StageReport::new(stage));
    r.status = status;
    r.duration_ms = ms;
    r
}

fn skipped(stage: Stage, why: &str) -> StageReport {
    let mut r = StageReport::new(stage);
    r.status = Status::Skipped;
    r.summary = Some(why.into());
    r
}

fn report(app: &App, verdict: Verdict) -> Report {
    Report {
        version: "0.1.0".into(),
        target: TargetInfo {
            url: URL.into(),
            host: "broker.example.com".into(),
            port: 8883,
            transport: "mqtts".into(),
        },
        verdict,
        stages: app.stages.clone(),
        tls: None,
    }
}

/// DNS done with facts, TCP running.
fn during() -> App {
    let mut app = started(URL);
    feed(&mut app, Event::StageStarted(Stage::Dns));
    fact(
        &mut app,
        Stage::Dns,
        "resolver",
        json!("system (/etc/resolv.conf)"),
    );
    fact(
        &mut app,
        Stage::Dns,
        "addresses",
        json!(["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]),
    );
    fact(&mut app, Stage::Dns, "ttl_s", json!(300));
    let dns = done(&app, Stage::Dns, Status::Ok, 12);
    feed(&mut app, Event::StageFinished(dns));
    feed(&mut app, Event::StageStarted(Stage::Tcp));
    fact(&mut app, Stage::Tcp, "trying", json!("93.184.216.34:8883"));
    app
}

fn through_tcp() -> App {
    let mut app = during();
    fact(
        &mut app,
        Stage::Tcp,
        "connected",
        json!("93.184.216.34:8883"),
    );
    let tcp = done(&app, Stage::Tcp, Status::Ok, 31);
    feed(&mut app, Event::StageFinished(tcp));
    feed(&mut app, Event::StageStarted(Stage::Tls));
    fact(&mut app, Stage::Tls, "sni", json!("broker.example.com"));
    app
}

fn failed_at_tls() -> App {
    let mut app = through_tcp();
    fact(
        &mut app,
        Stage::Tls,
        "not_after",
        json!("2024-03-01T00:00:00Z"),
    );
    fact(
        &mut app,
        Stage::Tls,
        "chain",
        json!([
            "CN=broker.example.com, O=Example Industrial Automation GmbH, OU=Plant Networks, L=Stuttgart, C=DE",
            "CN=Example Intermediate CA G2"
        ]),
    );
    fact(
        &mut app,
        Stage::Tls,
        "dns_names",
        json!(
            "broker.example.com, broker-eu-1.example.com, broker-eu-2.example.com, broker-us-1.example.com"
        ),
    );
    let mut tls = done(&app, Stage::Tls, Status::Failed, 48);
    tls.cause = Some("tls.cert_expired");
    tls.summary = Some("The broker's certificate expired on 2024-03-01 (267 days ago).".into());
    tls.remedy = Some(
        "Renew the broker certificate and restart the broker; clients cannot fix this side.".into(),
    );
    feed(&mut app, Event::StageFinished(tls.clone()));
    for stage in [Stage::Ws, Stage::Mqtt, Stage::Sub] {
        feed(
            &mut app,
            Event::StageFinished(skipped(stage, "skipped: the TLS stage failed")),
        );
    }
    let verdict = Verdict {
        ok: false,
        stage: Some(Stage::Tls),
        cause: tls.cause,
        summary: tls.summary.clone().unwrap_or_default(),
        remedy: tls.remedy.clone(),
    };
    let r = report(&app, verdict);
    feed(&mut app, Event::Finished(Box::new(r)));
    app
}

fn succeeded() -> App {
    let mut app = through_tcp();
    fact(&mut app, Stage::Tls, "version", json!("TLSv1.3"));
    fact(&mut app, Stage::Tls, "verified", json!(true));
    let tls = done(&app, Stage::Tls, Status::Ok, 45);
    feed(&mut app, Event::StageFinished(tls));
    feed(
        &mut app,
        Event::StageFinished(skipped(
            Stage::Ws,
            "not used: mqtts is MQTT directly over the connection",
        )),
    );
    feed(&mut app, Event::StageStarted(Stage::Mqtt));
    fact(&mut app, Stage::Mqtt, "protocol", json!("5"));
    fact(&mut app, Stage::Mqtt, "connack", json!("Success"));
    let mqtt = done(&app, Stage::Mqtt, Status::Ok, 20);
    feed(&mut app, Event::StageFinished(mqtt));
    feed(&mut app, Event::StageStarted(Stage::Sub));
    fact(&mut app, Stage::Sub, "round_trip_ms", json!(4));
    let sub = done(&app, Stage::Sub, Status::Ok, 1250);
    feed(&mut app, Event::StageFinished(sub));
    let verdict = Verdict {
        ok: true,
        stage: None,
        cause: None,
        summary: "Connected over TLS 1.3, logged in with MQTT 5 and got a message back.".into(),
        remedy: None,
    };
    let r = report(&app, verdict);
    feed(&mut app, Event::Finished(Box::new(r)));
    app
}

fn demo() -> App {
    App::demo(vec![
        ("ok".into(), "Healthy TLS broker".into()),
        ("expired".into(), "Expired server certificate".into()),
        ("wrong-san".into(), "Certificate for another host".into()),
        ("not-authorized".into(), "CONNACK: not authorized".into()),
    ])
}

#[test]
fn before_a_run_every_stage_is_pending() {
    let app = started(URL);
    assert!(app.stages.iter().all(|r| r.status == Status::Pending));
    insta::assert_snapshot!("before", draw(&app, 100, 30).backend());
}

#[test]
fn during_a_run_the_spinner_shows_and_facts_stream() {
    let mut app = during();
    assert!(app.animating());
    assert_eq!(update(&mut app, Action::Tick), Effect::Redraw);
    assert_eq!(app.spinner, 1);
    insta::assert_snapshot!("during", draw(&app, 100, 30).backend());
    // Looking back at DNS shows its facts, arrays one item a line.
    press(&mut app, Key::Up);
    insta::assert_snapshot!("during_dns_selected", draw(&app, 100, 30).backend());
}

#[test]
fn after_a_failed_run_the_verdict_names_cause_and_remedy() {
    let app = failed_at_tls();
    assert_eq!(app.selected_stage().map(|r| r.stage), Some(Stage::Tls));
    assert!(!app.animating());
    let text = screen(&app);
    assert!(text.contains("tls.cert_expired"), "{text}");
    assert!(text.contains("What to do:"), "{text}");
    insta::assert_snapshot!("after_failed", draw(&app, 100, 30).backend());
}

#[test]
fn after_a_successful_run_the_verdict_is_ok() {
    let app = succeeded();
    assert!(app.report.as_ref().is_some_and(|r| r.verdict.ok));
    insta::assert_snapshot!("after_ok", draw(&app, 100, 30).backend());
}

#[test]
fn demo_screen_lists_scenarios_and_picks_one() {
    let mut app = demo();
    insta::assert_snapshot!("demo", draw(&app, 100, 30).backend());
    assert_eq!(press(&mut app, Key::Down), Effect::Redraw);
    assert_eq!(
        press(&mut app, Key::Enter),
        Effect::StartScenario("expired".into())
    );
    update(
        &mut app,
        Action::RunStarted {
            target: "mqtts://127.0.0.1:40123".into(),
        },
    );
    assert!(app.started);
    // Tab moves the selection keys to the stages; r reruns the active scenario.
    press(&mut app, Key::Tab);
    assert_eq!(app.focus(), Focus::Stages);
    press(&mut app, Key::Down);
    assert_eq!(app.selected, 1);
    assert_eq!(app.demo.as_ref().map(|d| d.selected), Some(1));
    assert_eq!(
        press(&mut app, Key::Char('r')),
        Effect::StartScenario("expired".into())
    );
    insta::assert_snapshot!("demo_running", draw(&app, 100, 30).backend());
}

#[test]
fn hostile_fact_values_are_drawn_escaped() {
    let mut app = started(URL);
    feed(&mut app, Event::StageStarted(Stage::Dns));
    fact(
        &mut app,
        Stage::Dns,
        "cname\x1b[2J",
        json!("evil\x1b[2J\x07.example"),
    );
    fact(&mut app, Stage::Dns, "list", json!(["a\x1b]0;pwned\x07"]));
    let text = screen(&app);
    assert!(text.contains(r"evil\u{1b}[2J\u{7}.example"), "{text}");
    assert!(text.contains(r"cname\u{1b}[2J"), "{text}");
    assert!(text.contains(r"a\u{1b}]0;pwned\u{7}"), "{text}");
    let terminal = draw(&app, 100, 30);
    let buffer = terminal.backend().buffer();
    assert!(
        buffer
            .content()
            .iter()
            .all(|cell| !cell.symbol().chars().any(char::is_control)),
        "a control character reached the screen"
    );
}

#[test]
fn selection_keys_move_and_the_facts_pane_follows() {
    let mut app = during();
    assert_eq!(app.selected, 1, "the selection follows the running stage");
    assert!(screen(&app).contains("Facts: TCP"));
    assert_eq!(press(&mut app, Key::Char('k')), Effect::Redraw);
    assert_eq!(app.selected, 0);
    let text = screen(&app);
    assert!(text.contains("Facts: DNS"), "{text}");
    assert!(text.contains("93.184.216.34"), "{text}");
    // At the top, up does nothing.
    assert_eq!(press(&mut app, Key::Up), Effect::Nothing);
    for _ in 0..10 {
        press(&mut app, Key::Char('j'));
    }
    assert_eq!(app.selected, STAGES.len() - 1);
    assert!(screen(&app).contains("Facts: Subscription"));
    // Once moved by hand, the selection stays when the next stage starts.
    feed(&mut app, Event::StageStarted(Stage::Tls));
    assert_eq!(app.selected, STAGES.len() - 1);
}

#[test]
fn tiny_terminals_do_not_panic() {
    for app in [started(URL), during(), failed_at_tls(), succeeded(), demo()] {
        for (w, h) in [(20, 5), (1, 1), (10, 3), (30, 8), (100, 2)] {
            draw(&app, w, h);
        }
    }
}

#[test]
fn released_and_repeated_keys_do_nothing() {
    let mut app = during();
    let before = app.clone();
    for key in [Key::Up, Key::Down, Key::Char('q'), Key::Char('r'), Key::Esc] {
        for kind in [KeyKind::Release, KeyKind::Repeat] {
            let effect = update(
                &mut app,
                Action::Key(KeyInput {
                    kind,
                    ..KeyInput::press(key)
                }),
            );
            assert_eq!(effect, Effect::Nothing);
        }
    }
    assert_eq!(app, before);
    // The crossterm conversion keeps the kind.
    use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
    let release = KeyEvent::new_with_kind(
        KeyCode::Char('q'),
        KeyModifiers::NONE,
        KeyEventKind::Release,
    );
    let Some(Action::Key(input)) = Action::from_terminal(crossterm::event::Event::Key(release))
    else {
        panic!("a key event becomes a key action");
    };
    assert_eq!(input.kind, KeyKind::Release);
    assert_eq!(update(&mut app, Action::Key(input)), Effect::Nothing);
    assert!(!app.quit);
}

#[test]
fn quit_and_rerun_keys() {
    let mut app = failed_at_tls();
    assert_eq!(press(&mut app, Key::Char('r')), Effect::StartRun);
    assert_eq!(press(&mut app, Key::Esc), Effect::Quit);
    assert!(app.quit);
    let mut app = started(URL);
    assert_eq!(
        update(&mut app, Action::Key(KeyInput::ctrl('c'))),
        Effect::Quit
    );
    // Rerun resets the screen when the loop starts the new run.
    let mut app = failed_at_tls();
    update(&mut app, Action::RunStarted { target: URL.into() });
    assert!(app.report.is_none());
    assert!(app.stages.iter().all(|r| r.status == Status::Pending));
}

#[test]
fn footer_hints_come_from_the_key_table() {
    let app = started(URL);
    let text = screen(&app);
    for b in STAGE_KEYS {
        assert!(text.contains(&format!("{} {}", b.label, b.hint)), "{text}");
    }
    let mut app = demo();
    let text = screen(&app);
    for b in SCENARIO_KEYS {
        assert!(text.contains(&format!("{} {}", b.label, b.hint)), "{text}");
    }
    press(&mut app, Key::Tab);
    assert_eq!(app.keymap().len(), DEMO_STAGE_KEYS.len());
}

#[test]
fn a_long_remedy_is_shown_whole() {
    let mut app = failed_at_tls();
    let remedy = "Renew the broker certificate with the same subject alternative names, install the \
                  full chain (leaf first, then the intermediate) in the broker's TLS listener, \
                  restart the broker, and check the clock of the broker host as well; then run \
                  this diagnosis again to confirm the new expiry date. END-OF-REMEDY";
    if let Some(r) = app.report.as_mut() {
        r.verdict.remedy = Some(remedy.into());
    }
    let text = screen(&app);
    assert!(text.contains("END-OF-REMEDY"), "{text}");
}

#[test]
fn header_shows_which_keyring_holds_secrets_and_escapes_it() {
    let mut app = started(URL);
    assert!(!screen(&app).contains("keyring:"));
    let effect = update(
        &mut app,
        Action::Keyring("keyring: Linux kernel keyutils keyring (lost at reboot)".into()),
    );
    assert_eq!(effect, Effect::Redraw);
    let text = screen(&app);
    let header = text.lines().next().unwrap_or_default();
    assert!(
        header.contains("keyutils keyring (lost at reboot)"),
        "{header}"
    );
    update(&mut app, Action::Keyring("keyring: \u{1b}[31mred".into()));
    assert!(!screen(&app).contains('\u{1b}'));
}

#[test]
fn long_facts_page_with_pgdn_and_pgup_and_reset_per_stage() {
    let mut app = started(URL);
    feed(&mut app, Event::StageStarted(Stage::Dns));
    for i in 0..60 {
        fact(&mut app, Stage::Dns, &format!("fact_{i:02}"), json!(i));
    }
    let text = screen(&app);
    assert!(
        text.contains("fact_00") && !text.contains("fact_59"),
        "{text}"
    );
    assert!(
        text.contains("rows "),
        "the title says there is more: {text}"
    );
    assert_eq!(press(&mut app, Key::PageDown), Effect::Redraw);
    let text = screen(&app);
    assert!(!text.contains("fact_00"), "{text}");
    for _ in 0..20 {
        press(&mut app, Key::PageDown);
    }
    let text = screen(&app);
    assert!(
        text.contains("fact_59"),
        "scrolling stops at the last row: {text}"
    );
    for _ in 0..20 {
        press(&mut app, Key::PageUp);
    }
    assert!(screen(&app).contains("fact_00"));
    // Another stage starts at its top.
    press(&mut app, Key::PageDown);
    press(&mut app, Key::Down);
    press(&mut app, Key::Up);
    let text = screen(&app);
    assert!(text.contains("fact_00"), "{text}");
}
