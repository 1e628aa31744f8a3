//! Chain tab tests: chains made with rcgen at test time (fixed dates, `testutil::NOW`), drawn
//! through the whole app at 80×24 and 120×40, and `update()` driven by key presses.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use rustls_pki_types::CertificateDer;

use super::*;
use crate::certs::testutil::{DAY, NOW, Spec, make};
use crate::certs::{AnalyzeOptions, Purpose, analyze};
use crate::tui::app::{Action, App, Effect, Tab, update};
use crate::tui::keymap::{Keymap, parse_key};
use crate::tui::look::Look;
use crate::tui::profiles::ProfilesTab;
use crate::tui::view::view;

const HOST: &str = "mqtt.example.com";

fn analysed(
    presented: &[CertificateDer<'static>],
    anchors: &[CertificateDer<'static>],
) -> Analysis {
    let opts = AnalyzeOptions {
        host: Some(HOST),
        now: NOW,
        anchors,
        purpose: Purpose::Server,
        key: None,
        expiry_warning_days: 30,
    };
    analyze(presented, &opts).unwrap()
}

fn app_showing(
    presented: Vec<CertificateDer<'static>>,
    anchors: &[CertificateDer<'static>],
) -> App {
    let mut app = App::new(
        ProfilesTab::in_memory(vec![]),
        Look::default(),
        Keymap::defaults(),
    );
    let a = analysed(&presented, anchors);
    app.chain
        .show_analysis(presented, a, "diagnosis of lab (run 1)");
    app.tab = Tab::Chain;
    app
}

/// root → intermediate → leaf (the leaf's validity: 100 days ago to 200 days ahead).
struct Pki {
    root: crate::certs::testutil::Made,
    inter: crate::certs::testutil::Made,
    leaf: crate::certs::testutil::Made,
}

fn pki(inter_spec: Spec) -> Pki {
    let root = make(Spec::ca("Lab Root"), None);
    let inter = make(inter_spec, Some(&root));
    let leaf = make(Spec::leaf(HOST, &[HOST, "10.0.0.7"]), Some(&inter));
    Pki { root, inter, leaf }
}

fn good() -> App {
    let p = pki(Spec::ca("Lab Intermediate"));
    app_showing(
        vec![p.leaf.der.clone(), p.inter.der.clone()],
        std::slice::from_ref(&p.root.der),
    )
}

fn expired_intermediate() -> App {
    let mut spec = Spec::ca("Lab Intermediate");
    spec.not_before = NOW - 400 * DAY;
    spec.not_after = NOW - 12 * DAY;
    let p = pki(spec);
    app_showing(
        vec![p.leaf.der.clone(), p.inter.der.clone()],
        std::slice::from_ref(&p.root.der),
    )
}

fn missing_intermediate() -> App {
    let p = pki(Spec::ca("Lab Intermediate"));
    app_showing(vec![p.leaf.der.clone()], std::slice::from_ref(&p.root.der))
}

fn self_signed_leaf() -> App {
    let leaf = make(Spec::leaf(HOST, &[HOST]), None);
    let other_root = make(Spec::ca("Lab Root"), None);
    app_showing(
        vec![leaf.der.clone()],
        std::slice::from_ref(&other_root.der),
    )
}

/// Lab Root → CA 1 → … → CA 4 → leaf: 6 certificates, all presented, root last.
fn six() -> App {
    let root = make(Spec::ca("Lab Root"), None);
    let mut chain = vec![root];
    for k in 1..=4 {
        let ca = make(Spec::ca(&format!("Lab CA {k}")), chain.last());
        chain.push(ca);
    }
    let leaf = make(Spec::leaf(HOST, &[HOST]), chain.last());
    chain.push(leaf);
    let presented: Vec<_> = chain.iter().rev().map(|m| m.der.clone()).collect();
    let anchors = vec![chain[0].der.clone()];
    app_showing(presented, &anchors)
}

/// The screen as text, with what rcgen's random keys change (fingerprints, serials, key ids
/// as colon hex; the base64 SPKI pin) masked so the snapshot is stable.
fn screen(app: &App, w: u16, h: u16) -> String {
    let mut terminal = match Terminal::new(TestBackend::new(w, h)) {
        Ok(t) => t,
        Err(e) => match e {},
    };
    if let Err(e) = terminal.draw(|f| view(app, f)) {
        match e {}
    }
    let buf = terminal.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..buf.area.height {
        let mut line = String::new();
        for x in 0..buf.area.width {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(&mask(&line));
        out.push('\n');
    }
    out
}

fn mask(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = chars.clone();
    let hexy = |c: char| c.is_ascii_hexdigit() && !c.is_ascii_lowercase() || c == ':';
    let mut i = 0;
    while i < chars.len() {
        if hexy(chars[i]) {
            let start = i;
            while i < chars.len() && hexy(chars[i]) {
                i += 1;
            }
            let run = &chars[start..i];
            if run.len() >= 11 && run.contains(&':') {
                for c in &mut out[start..i] {
                    if *c != ':' {
                        *c = 'X';
                    }
                }
            }
        } else {
            i += 1;
        }
    }
    let s: String = out.into_iter().collect();
    match s.find("sha256/") {
        Some(at) => {
            let (head, tail) = s.split_at(at + "sha256/".len());
            let n = tail
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '│')
                .count();
            format!(
                "{head}{}{}",
                "x".repeat(n),
                tail.chars().skip(n).collect::<String>()
            )
        }
        None => s,
    }
}

fn key(app: &mut App, spec: &str) -> Vec<Effect> {
    update(app, Action::Key(parse_key(spec).unwrap()))
}

#[test]
fn snapshot_good_chain_80x24() {
    insta::assert_snapshot!(screen(&good(), 80, 24));
}

#[test]
fn snapshot_good_chain_120x40() {
    // `a`: every certificate's details.
    let mut app = good();
    key(&mut app, "a");
    insta::assert_snapshot!(screen(&app, 120, 40));
}

#[test]
fn snapshot_expired_intermediate_80x24() {
    insta::assert_snapshot!(screen(&expired_intermediate(), 80, 24));
}

#[test]
fn snapshot_expired_intermediate_120x40() {
    // `a`: every certificate's details.
    let mut app = expired_intermediate();
    key(&mut app, "a");
    insta::assert_snapshot!(screen(&app, 120, 40));
}

#[test]
fn snapshot_missing_intermediate_80x24() {
    insta::assert_snapshot!(screen(&missing_intermediate(), 80, 24));
}

#[test]
fn snapshot_missing_intermediate_120x40() {
    // `a`: every certificate's details.
    let mut app = missing_intermediate();
    key(&mut app, "a");
    insta::assert_snapshot!(screen(&app, 120, 40));
}

#[test]
fn snapshot_self_signed_leaf_80x24() {
    insta::assert_snapshot!(screen(&self_signed_leaf(), 80, 24));
}

#[test]
fn snapshot_self_signed_leaf_120x40() {
    // `a`: every certificate's details.
    let mut app = self_signed_leaf();
    key(&mut app, "a");
    insta::assert_snapshot!(screen(&app, 120, 40));
}

#[test]
fn snapshot_six_certificates_80x24_scrolls_to_the_root() {
    let mut app = six();
    let top = screen(&app, 80, 24);
    assert!(top.contains("mqtt.example.com"), "{top}");
    // Every detail open, then the last node: the view scrolls down to the anchor.
    key(&mut app, "a");
    key(&mut app, "End");
    let bottom = screen(&app, 80, 24);
    assert!(app.chain.scroll.get() > 0);
    assert!(bottom.contains("Lab Root  root #6 presented"), "{bottom}");
    assert!(
        !bottom.contains("mqtt.example.com  leaf"),
        "scrolled: {bottom}"
    );
    key(&mut app, "Home");
    assert!(
        screen(&app, 80, 24).contains("mqtt.example.com  leaf"),
        "and back up"
    );
    insta::assert_snapshot!(bottom);
}

#[test]
fn the_expired_intermediate_is_marked_on_its_own_node() {
    let app = expired_intermediate();
    let text = screen(&app, 120, 40);
    let lines: Vec<&str> = text.lines().collect();
    let inter = lines
        .iter()
        .position(|l| l.contains("Lab Intermediate  intermediate #2 presented"))
        .unwrap_or_else(|| panic!("{text}"));
    let expired = lines
        .iter()
        .position(|l| l.contains("expired 12 days ago"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        expired > inter,
        "the expiry is drawn under the intermediate:\n{text}"
    );
    // In the theme's failure colour on that node's header glyph.
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    terminal.draw(|f| view(&app, f)).unwrap();
    let buf = terminal.backend().buffer();
    let row = inter as u16;
    let glyph = (0..120)
        .map(|x| &buf[(x, row)])
        .find(|c| c.symbol() == Look::default().glyphs.fail)
        .expect("a failure glyph on the intermediate's row");
    assert_eq!(glyph.fg, Look::default().theme.fail.fg.unwrap());
}

#[test]
fn navigate_and_collapse() {
    let mut app = good();
    assert_eq!(app.chain.nodes().len(), 3, "leaf, intermediate, anchor");
    assert!(
        matches!(app.chain.nodes()[2], Node::Anchor { ref subject } if subject == "CN=Lab Root")
    );
    assert!(app.chain.expanded.is_empty(), "details start closed");
    key(&mut app, "Down");
    assert_eq!(app.chain.selected, 1);
    key(&mut app, "Enter");
    assert!(app.chain.expanded.contains(&1));
    assert!(screen(&app, 120, 40).contains("CN=Lab Root"));
    key(&mut app, "Enter");
    assert!(!app.chain.expanded.contains(&1));
    key(&mut app, "End");
    assert_eq!(app.chain.selected, 2);
    key(&mut app, "Down");
    assert_eq!(app.chain.selected, 2, "stays at the last node");
    key(&mut app, "Enter");
    assert!(
        app.chain.expanded.is_empty(),
        "the anchor has no details to open"
    );
    key(&mut app, "Home");
    assert_eq!(app.chain.selected, 0);
    key(&mut app, "a");
    assert_eq!(app.chain.expanded.len(), 2, "both certificates open");
    key(&mut app, "a");
    assert!(app.chain.expanded.is_empty());
    // The wheel moves the selection too.
    let wheel = |kind| Action::Mouse {
        kind,
        column: 10,
        row: 10,
    };
    update(&mut app, wheel(crate::tui::app::MouseKind::ScrollDown));
    assert_eq!(app.chain.selected, 1);
    update(&mut app, wheel(crate::tui::app::MouseKind::ScrollUp));
    assert_eq!(app.chain.selected, 0);
}

#[test]
fn y_copies_the_fingerprint_and_shift_y_the_pem_as_osc52() {
    use base64::Engine as _;
    let mut app = good();
    let fp = app.chain.copy_text().unwrap();
    let effects = key(&mut app, "y");
    let bytes = effects
        .iter()
        .find_map(|e| match e {
            Effect::Write(b) => Some(b.clone()),
            _ => None,
        })
        .expect("an OSC 52 write");
    let expected = format!(
        "\x1b]52;c;{}\x07",
        base64::engine::general_purpose::STANDARD.encode(fp.as_bytes())
    );
    assert_eq!(String::from_utf8(bytes).unwrap(), expected);
    assert_eq!(fp.len(), 95, "32 bytes as colon hex: {fp}");

    key(&mut app, "Down");
    let effects = key(&mut app, "Y");
    let Some(Effect::Write(bytes)) = effects.iter().find(|e| matches!(e, Effect::Write(_))) else {
        panic!("{effects:?}");
    };
    let s = String::from_utf8(bytes.clone()).unwrap();
    let b64 = s.trim_start_matches("\x1b]52;c;").trim_end_matches('\x07');
    let pem = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap(),
    )
    .unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"), "{pem}");
    let der = crate::certs::load_certificates("copied", pem.as_bytes(), None).unwrap();
    assert_eq!(der, vec![app.chain.shown.as_ref().unwrap().der[1].clone()]);
}

#[test]
fn s_asks_for_a_path_writes_the_pem_and_asks_before_overwriting() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broker-chain.pem");
    let mut app = good();
    key(&mut app, "s");
    assert!(app.chain.prompt.is_some());
    // Typing replaces the suggested name: clear it, then type the path.
    for _ in 0.."chain.pem".len() {
        key(&mut app, "Backspace");
    }
    for c in path.display().to_string().chars() {
        update(
            &mut app,
            Action::Key(crate::tui::keymap::KeyInput::press(
                crate::tui::keymap::Key::Char(c),
            )),
        );
    }
    let text = screen(&app, 120, 40);
    assert!(text.contains("unverified"), "the caution shows: {text}");
    let effects = key(&mut app, "Enter");
    let Some(Effect::SaveChain {
        path: p,
        pem,
        overwrite,
    }) = effects
        .into_iter()
        .find(|e| matches!(e, Effect::SaveChain { .. }))
    else {
        panic!("no save effect");
    };
    assert_eq!(p, path);
    assert!(!overwrite);
    let ev = save_pem(&p, &pem, overwrite);
    assert_eq!(
        ev,
        ChainEvent::Saved {
            path: path.clone(),
            count: 2
        }
    );
    let written = std::fs::read(&path).unwrap();
    let der = crate::certs::load_certificates("saved", &written, None).unwrap();
    assert_eq!(
        der,
        app.chain.shown.as_ref().unwrap().der,
        "presented order, as presented"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o600, 0o600);
        assert_eq!(mode & 0o022, 0, "not group/world writable: {mode:o}");
    }
    update(&mut app, Action::Chain(ev));
    assert!(app.chain.prompt.is_none());
    assert!(
        app.status
            .as_deref()
            .unwrap()
            .contains("saved 2 certificates")
    );

    // Again: the file exists, nothing is written until confirmed.
    std::fs::write(&path, "keep me").unwrap();
    key(&mut app, "s");
    for _ in 0.."chain.pem".len() {
        key(&mut app, "Backspace");
    }
    for c in path.display().to_string().chars() {
        update(
            &mut app,
            Action::Key(crate::tui::keymap::KeyInput::press(
                crate::tui::keymap::Key::Char(c),
            )),
        );
    }
    let effects = key(&mut app, "Enter");
    let Some(Effect::SaveChain {
        path: p,
        pem,
        overwrite,
    }) = effects
        .into_iter()
        .find(|e| matches!(e, Effect::SaveChain { .. }))
    else {
        panic!("no save effect");
    };
    let ev = save_pem(&p, &pem, overwrite);
    assert_eq!(ev, ChainEvent::Exists { path: path.clone() });
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "keep me");
    update(&mut app, Action::Chain(ev));
    assert!(screen(&app, 120, 40).contains("That file exists"));
    let effects = key(&mut app, "Enter");
    let Some(Effect::SaveChain {
        overwrite,
        pem,
        path: p,
    }) = effects
        .into_iter()
        .find(|e| matches!(e, Effect::SaveChain { .. }))
    else {
        panic!("no save effect");
    };
    assert!(overwrite);
    assert!(matches!(
        save_pem(&p, &pem, overwrite),
        ChainEvent::Saved { .. }
    ));
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
}

#[test]
fn a_saved_file_in_a_missing_directory_says_which_path() {
    let ev = save_pem(Path::new("/nonexistent-dir-chain/x.pem"), "pem", false);
    let ChainEvent::SaveFailed { why, .. } = ev else {
        panic!("{ev:?}")
    };
    assert!(why.starts_with("/nonexistent-dir-chain/x.pem: "), "{why}");
}

#[test]
fn the_wizard_can_show_a_chain_and_certificate_text_is_sanitised() {
    let mut spec = Spec::leaf("evil\u{1b}[31mname", &[HOST]);
    spec.not_after = NOW + 10 * DAY;
    let leaf = make(spec, None);
    let mut app = App::new(
        ProfilesTab::in_memory(vec![]),
        Look::default(),
        Keymap::defaults(),
    );
    app.chain.show_at(
        vec![leaf.der.clone()],
        "loaded in the wizard: client.pem",
        NOW,
    );
    key(&mut app, "4");
    assert_eq!(app.tab, Tab::Chain);
    let text = screen(&app, 120, 40);
    assert!(!text.contains('\u{1b}'), "{text}");
    assert!(text.contains("loaded in the wizard"), "{text}");
    assert!(text.contains("expires in 10 days"), "{text}");
}

// ---- The chains of a diagnosis: taken when a run finishes, the client chain, `c` ----

use crate::diagnose::{Event, Report, Stage, TargetInfo, TlsInfo, Verdict};
use crate::tui::diagnose::RunSource;

/// A finished run's report with the broker's chain (and the client chain it sent, if any),
/// analysed the way the tls stage does.
fn report_with(
    cause: Option<&'static str>,
    server: Vec<CertificateDer<'static>>,
    anchors: &[CertificateDer<'static>],
    client: Option<(&crate::certs::testutil::Made, Vec<CertificateDer<'static>>)>,
) -> Report {
    let analysis = (!server.is_empty()).then(|| analysed(&server, anchors));
    let (client_chain_der, client_analysis) = match client {
        Some((leaf, chain)) => {
            let key = leaf.key_der();
            let opts = AnalyzeOptions {
                host: None,
                now: NOW,
                anchors,
                purpose: Purpose::Client,
                key: Some(&key),
                expiry_warning_days: 30,
            };
            let a = analyze(&chain, &opts).unwrap();
            (chain, Some(a))
        }
        None => (Vec::new(), None),
    };
    Report {
        version: "0.1.0".into(),
        target: TargetInfo {
            url: format!("mqtts://{HOST}:8883"),
            host: HOST.into(),
            port: 8883,
            transport: "mqtts".into(),
        },
        verdict: Verdict {
            ok: cause.is_none(),
            stage: cause.map(|_| Stage::Tls),
            cause,
            summary: String::new(),
            remedy: None,
        },
        stages: Vec::new(),
        tls: Some(TlsInfo {
            chain_der: server,
            analysis,
            client_chain_der,
            client_analysis,
            ..Default::default()
        }),
    }
}

fn empty_app() -> App {
    App::new(
        ProfilesTab::in_memory(vec![]),
        Look::default(),
        Keymap::defaults(),
    )
}

/// Starts a run of profile "lab" (the app switches to Diagnose) and lets its engine start.
fn start_run(app: &mut App) -> usize {
    start_run_of(app, "lab")
}

/// Starts a run of the profile `name` and lets its engine start.
fn start_run_of(app: &mut App, name: &str) -> usize {
    let effects = update(app, Action::Open(RunSource::Profile(name.into())));
    let number = effects
        .iter()
        .find_map(|e| match e {
            Effect::Start { number, .. } => Some(*number),
            _ => None,
        })
        .expect("a run starts");
    update(
        app,
        Action::Started {
            number,
            target: format!("mqtts://{HOST}:8883"),
        },
    );
    number
}

fn finish_run(app: &mut App, report: Report) {
    update(app, Action::Engine(Event::Finished(Box::new(report))));
}

fn label(app: &App) -> String {
    app.chain
        .shown
        .as_ref()
        .map(|s| s.label.clone())
        .unwrap_or_default()
}

fn leaf_cn(app: &App) -> String {
    let a = app.chain.shown.as_ref().unwrap().analysis.as_ref().unwrap();
    a.certs[a.order[0]].common_name.clone().unwrap_or_default()
}

/// Two broker chains told apart by their leaf's name.
fn server_chain(leaf: &str) -> (Vec<CertificateDer<'static>>, CertificateDer<'static>) {
    let root = make(Spec::ca("Lab Root"), None);
    let leaf = make(Spec::leaf(leaf, &[HOST]), Some(&root));
    (vec![leaf.der.clone()], root.der.clone())
}

#[test]
fn a_rerun_that_finishes_while_the_chain_tab_shows_is_taken_at_once() {
    let mut app = empty_app();
    let (first, root1) = server_chain("first.example.com");
    let (second, root2) = server_chain("second.example.com");
    start_run(&mut app);
    assert_eq!(app.tab, Tab::Diagnose);
    finish_run(&mut app, report_with(None, first, &[root1], None));
    key(&mut app, "4");
    assert_eq!(label(&app), "diagnosis of lab (run 1)");
    assert_eq!(leaf_cn(&app), "first.example.com");

    // Rerun from Diagnose, back to Chain while it runs: still run 1's chain.
    key(&mut app, "2");
    key(&mut app, "r");
    assert_eq!(app.tab, Tab::Diagnose);
    update(
        &mut app,
        Action::Started {
            number: 2,
            target: format!("mqtts://{HOST}:8883"),
        },
    );
    key(&mut app, "4");
    assert_eq!(label(&app), "diagnosis of lab (run 1)");
    // It finishes while the Chain tab shows: the new chain, without leaving the tab.
    finish_run(&mut app, report_with(None, second, &[root2], None));
    assert_eq!(app.tab, Tab::Chain);
    assert_eq!(label(&app), "diagnosis of lab (run 2)");
    assert_eq!(leaf_cn(&app), "second.example.com");
    assert!(screen(&app, 80, 24).contains("second.example.com  leaf #1 presented"));
}

#[test]
fn a_chain_loaded_in_the_wizard_is_replaced_by_a_newer_run_only() {
    let mut app = empty_app();
    let (first, root1) = server_chain("first.example.com");
    let (second, root2) = server_chain("second.example.com");
    // Run 1 finishes while the Chain tab never showed it.
    start_run(&mut app);
    finish_run(&mut app, report_with(None, first, &[root1], None));
    // The wizard loads a chain and switches to the Chain tab.
    let loaded = make(Spec::leaf("wizard.example.com", &[HOST]), None);
    let a = analysed(std::slice::from_ref(&loaded.der), &[]);
    app.chain.show_analysis(
        vec![loaded.der.clone()],
        a,
        "loaded in the wizard: client.p12",
    );
    key(&mut app, "4");
    assert_eq!(
        label(&app),
        "loaded in the wizard: client.p12",
        "run 1 is older"
    );
    // Nor does showing run 1 again on Diagnose replace it.
    key(&mut app, "2");
    key(&mut app, "4");
    assert_eq!(label(&app), "loaded in the wizard: client.p12");
    assert_eq!(app.chain.synced_run, Some(1));

    // A run that finishes after the load does.
    key(&mut app, "2");
    key(&mut app, "r");
    update(
        &mut app,
        Action::Started {
            number: 2,
            target: format!("mqtts://{HOST}:8883"),
        },
    );
    key(&mut app, "4");
    assert_eq!(
        label(&app),
        "loaded in the wizard: client.p12",
        "still running"
    );
    finish_run(&mut app, report_with(None, second, &[root2], None));
    assert_eq!(label(&app), "diagnosis of lab (run 2)");
    assert_eq!(leaf_cn(&app), "second.example.com");
    assert_eq!(app.chain.synced_run, Some(2));
    assert!(!app.chain.loaded);
}

/// The broker's good chain (Lab Root → Lab Intermediate → broker) and a client leaf signed by
/// "Other Device CA", which the run's anchors (Lab Root) do not hold.
struct Mtls {
    server: Vec<CertificateDer<'static>>,
    anchors: Vec<CertificateDer<'static>>,
    other_ca: crate::certs::testutil::Made,
    device: crate::certs::testutil::Made,
}

fn mtls() -> Mtls {
    let p = pki(Spec::ca("Lab Intermediate"));
    let other_ca = make(Spec::ca("Other Device CA"), None);
    let device = make(Spec::leaf("device-17", &[]), Some(&other_ca));
    Mtls {
        server: vec![p.leaf.der.clone(), p.inter.der.clone()],
        anchors: vec![p.root.der.clone()],
        other_ca,
        device,
    }
}

/// A run refused for its client certificate (a leaf sent alone, from another CA).
fn client_refused() -> App {
    let m = mtls();
    let mut app = empty_app();
    start_run(&mut app);
    key(&mut app, "4");
    finish_run(
        &mut app,
        report_with(
            Some("tls.client_chain_incomplete"),
            m.server.clone(),
            &m.anchors,
            Some((&m.device, vec![m.device.der.clone()])),
        ),
    );
    app
}

#[test]
fn a_refused_client_certificate_shows_first_and_c_switches_to_the_brokers_chain() {
    let mut app = client_refused();
    assert_eq!(app.tab, Tab::Chain);
    assert_eq!(label(&app), "client certificate sent in run 1");
    assert!(app.chain.shown.as_ref().unwrap().client);
    assert_eq!(leaf_cn(&app), "device-17");
    // The missing issuer is a node of its own, with the subject it must have.
    assert!(app.chain.nodes().contains(&Node::Missing {
        subject: "CN=Other Device CA".into(),
        key_id: app.chain.nodes().iter().find_map(|n| match n {
            Node::Missing { key_id, .. } => key_id.clone(),
            _ => None,
        }),
    }));
    let text = screen(&app, 80, 24);
    assert!(
        text.contains("Chain · client certificate sent in run 1"),
        "{text}"
    );
    assert!(text.contains("device-17  leaf #1 sent"), "{text}");
    assert!(text.contains("CN=Other Device CA"), "{text}");

    key(&mut app, "c");
    assert_eq!(label(&app), "broker's chain, diagnosis of lab (run 1)");
    assert!(!app.chain.shown.as_ref().unwrap().client);
    assert_eq!(leaf_cn(&app), HOST);
    let text = screen(&app, 80, 24);
    assert!(
        text.contains("c: the client certificate this run sent"),
        "{text}"
    );
    key(&mut app, "c");
    assert_eq!(label(&app), "client certificate sent in run 1", "and back");
    // `s` is for the broker's chain (a --ca file), not the client's.
    key(&mut app, "s");
    assert!(app.chain.prompt.is_none());
    assert_eq!(app.status.as_deref(), Some(view::SAVE_CLIENT));
    key(&mut app, "c");
    key(&mut app, "s");
    assert!(app.chain.prompt.is_some());
}

#[test]
fn a_verdict_not_about_the_client_certificate_shows_the_brokers_chain_first() {
    let m = mtls();
    let mut app = empty_app();
    start_run(&mut app);
    key(&mut app, "4");
    let mut expired = Spec::leaf(HOST, &[HOST]);
    expired.not_after = NOW - 3 * DAY;
    let root = make(Spec::ca("Lab Root"), None);
    let leaf = make(expired, Some(&root));
    finish_run(
        &mut app,
        report_with(
            Some("tls.cert_expired"),
            vec![leaf.der.clone()],
            std::slice::from_ref(&root.der),
            Some((
                &m.device,
                vec![m.device.der.clone(), m.other_ca.der.clone()],
            )),
        ),
    );
    assert_eq!(label(&app), "broker's chain, diagnosis of lab (run 1)");
    key(&mut app, "c");
    assert_eq!(label(&app), "client certificate sent in run 1");
    assert_eq!(app.chain.shown.as_ref().unwrap().der.len(), 2);
}

#[test]
fn c_without_a_client_chain_says_there_is_one_chain() {
    let mut app = good();
    let effects = key(&mut app, "c");
    assert!(
        effects.iter().any(|e| matches!(e, Effect::Redraw)),
        "{effects:?}"
    );
    assert_eq!(app.status.as_deref(), Some(view::ONE_CHAIN));
    assert_eq!(label(&app), "diagnosis of lab (run 1)");
}

#[test]
fn snapshot_refused_client_certificate_80x24() {
    insta::assert_snapshot!(screen(&client_refused(), 80, 24));
}

#[test]
fn snapshot_refused_client_certificate_120x40() {
    let mut app = client_refused();
    key(&mut app, "a");
    insta::assert_snapshot!(screen(&app, 120, 40));
}

#[test]
fn snapshot_refused_client_certificate_then_c_80x24() {
    let mut app = client_refused();
    key(&mut app, "c");
    insta::assert_snapshot!(screen(&app, 80, 24));
}

// ---- Fingerprints wrap between pairs; the out-of-order chain ----

#[test]
fn snapshot_fingerprints_wrap_between_pairs_80x24() {
    let mut app = good();
    key(&mut app, "Enter");
    let text = screen(&app, 80, 24);
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("SHA-256"))
        .unwrap_or_else(|| panic!("{text}"));
    // 32 pairs: 20 on the first row (ending in ':'), 12 on the next, under the value.
    let first = lines[at].trim_end_matches([' ', '│']);
    assert!(first.ends_with(':'), "{text}");
    assert_eq!(first.matches(':').count(), 20, "{text}");
    let next = lines[at + 1];
    let value_col = lines[at].find("XX").unwrap();
    assert_eq!(
        next.find("XX"),
        Some(value_col),
        "indented under the value:\n{text}"
    );
    assert_eq!(
        next.trim_end_matches([' ', '│'])
            .trim_start_matches(['│', ' '])
            .len(),
        35,
        "{text}"
    );
    insta::assert_snapshot!(text);
}

#[test]
fn colon_hex_wraps_only_after_a_colon() {
    assert_eq!(
        view::wrap_hex("AB:CD:EF:01:23", 9),
        vec!["AB:CD:EF:".to_string(), "01:23".to_string()]
    );
    assert_eq!(
        view::wrap_hex("AB:CD:EF:01:23", 8),
        vec!["AB:CD:".to_string(), "EF:01:23".to_string()]
    );
    assert_eq!(view::wrap_hex("AB:CD", 80), vec!["AB:CD".to_string()]);
}

/// Presented intermediate first, then the leaf.
fn out_of_order() -> App {
    let p = pki(Spec::ca("Lab Intermediate"));
    app_showing(
        vec![p.inter.der.clone(), p.leaf.der.clone()],
        std::slice::from_ref(&p.root.der),
    )
}

#[test]
fn snapshot_out_of_order_80x24() {
    let app = out_of_order();
    let text = screen(&app, 80, 24);
    assert!(text.contains("#1 Lab Intermediate"), "{text}");
    assert!(text.contains("#2 mqtt.example.com"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn snapshot_out_of_order_120x40() {
    let mut app = out_of_order();
    key(&mut app, "a");
    insta::assert_snapshot!(screen(&app, 120, 40));
}

#[test]
fn the_help_lists_c() {
    let mut app = client_refused();
    key(&mut app, "?");
    let text = screen(&app, 120, 40);
    assert!(
        text.contains("show the broker's chain or the client certificate sent"),
        "{text}"
    );
}

/// A CA file loaded in the wizard (checked as trust anchors): two roots, each a CA to trust on
/// its own, with no "issued by" between them and no leaf.
#[test]
fn snapshot_ca_file_from_the_wizard_80x24() {
    let a = make(Spec::ca("Bundle Root A"), None);
    let b = make(Spec::ca("Bundle Root B"), None);
    let ders = vec![a.der.clone(), b.der.clone()];
    let analysis = analyze(
        &ders,
        &AnalyzeOptions {
            purpose: Purpose::Trust,
            ..AnalyzeOptions::new(NOW)
        },
    )
    .unwrap();
    let mut app = App::new(
        ProfilesTab::in_memory(vec![]),
        Look::default(),
        Keymap::defaults(),
    );
    app.chain
        .show_analysis(ders, analysis, "loaded in the wizard: ca.pem");
    app.tab = Tab::Chain;
    let text = screen(&app, 80, 24);
    assert!(
        text.contains("2 CA certificates to trust, each on its own"),
        "{text}"
    );
    assert!(
        !text.contains("issued by") && !text.contains("leaf"),
        "{text}"
    );
    insta::assert_snapshot!(text);
}

/// Starts and finishes a run of the saved profile `name` with `report`.
fn run_profile(app: &mut App, name: &str, report: Report) {
    start_run_of(app, name);
    finish_run(app, report);
}

/// On Profiles, moves the selection with `key` until `name` is selected (a few rows at most).
fn select_profile(app: &mut App, name: &str, key_spec: &str) {
    for _ in 0..4 {
        if app.profiles.selected_name() != Some(name) {
            key(app, key_spec);
        }
    }
    assert_eq!(app.profiles.selected_name(), Some(name));
}

#[test]
fn from_profiles_the_chain_tab_shows_the_selected_profiles_last_diagnosis() {
    let profile = |name: &str| crate::tui::profiles::MemoryProfile {
        name: name.into(),
        group: "lab".into(),
        title: String::new(),
        url: format!("mqtts://{HOST}:8883"),
    };
    let mut app = App::new(
        ProfilesTab::in_memory(vec![profile("alpha"), profile("beta")]),
        Look::default(),
        Keymap::defaults(),
    );
    let (a_chain, a_root) = server_chain("alpha.example.com");
    let (b_chain, b_root) = server_chain("beta.example.com");
    run_profile(
        &mut app,
        "alpha",
        report_with(None, a_chain, &[a_root], None),
    );
    run_profile(
        &mut app,
        "beta",
        report_with(None, b_chain, &[b_root], None),
    );
    // Diagnose shows run 2 (beta); on Profiles the user selects alpha, then opens Chain.
    key(&mut app, "1");
    select_profile(&mut app, "alpha", "Up");
    key(&mut app, "4");
    assert_eq!(label(&app), "diagnosis of alpha (run 1)");
    assert_eq!(leaf_cn(&app), "alpha.example.com");
    // From Diagnose it is the run Diagnose shows.
    key(&mut app, "2");
    key(&mut app, "4");
    assert_eq!(label(&app), "diagnosis of beta (run 2)");
    // A selected profile that never ran leaves the Diagnose tab's run.
    let mut fresh = App::new(
        ProfilesTab::in_memory(vec![profile("alpha"), profile("gamma")]),
        Look::default(),
        Keymap::defaults(),
    );
    let (c_chain, c_root) = server_chain("alpha.example.com");
    run_profile(
        &mut fresh,
        "alpha",
        report_with(None, c_chain, &[c_root], None),
    );
    key(&mut fresh, "1");
    select_profile(&mut fresh, "gamma", "Down");
    key(&mut fresh, "4");
    assert_eq!(label(&fresh), "diagnosis of alpha (run 1)");
}
