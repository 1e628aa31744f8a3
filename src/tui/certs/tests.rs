//! The Certificates tab: snapshots of every step (80×24 and 120×40) over material made at test
//! time (rcgen, openssl), the step machine through the app's `update()`, and the key canary.

use super::job::examine;
use super::*;
use crate::certs::testutil::{NOW, Spec, chain, make, openssl, pem};
use crate::tui::app::{Action, App, Effect, Tab, update};
use crate::tui::keymap::{Command, Context, Keymap};
use crate::tui::look::Look;
use crate::tui::profiles::ProfilesTab;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// Screen text with the random parts (fingerprints, key ids: hex runs) replaced.
fn render(tab: &CertsTab, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| tab.draw(f, f.area(), &Look::default()))
        .unwrap();
    let buf = term.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..h {
        let mut line = String::new();
        for x in 0..w {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(&redact(line.trim_end()));
        out.push('\n');
    }
    out
}

fn redact(line: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let hex = run.chars().filter(|c| c.is_ascii_hexdigit()).count();
        if hex >= 12 {
            out.push_str(&"#".repeat(run.chars().count()));
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in line.chars() {
        if c.is_ascii_hexdigit() || c == ':' {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

fn snap(name: &str, tab: &CertsTab) {
    insta::assert_snapshot!(format!("{name}_80x24"), render(tab, 80, 24));
    insta::assert_snapshot!(format!("{name}_120x40"), render(tab, 120, 40));
}

/// Files in a temp dir: the chain's certs and keys as PEM.
struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new() -> Files {
        Files {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.dir.path().join(name), text).unwrap();
    }
    fn bytes(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.dir.path().join(name)).unwrap()
    }
}

fn tab_at(files: &Files) -> CertsTab {
    let mut tab = CertsTab::new(None, files.dir.path().to_path_buf());
    tab.keyring = Some("keyring: Secret Service keyring (survives a reboot)".into());
    let effects = tab.enter(None, Vec::new());
    tab.run_lists(effects);
    tab
}

impl CertsTab {
    /// A key as the app dispatches it (the focused text field first, then the default
    /// keymap); the browser's folder jobs are carried out at once.
    fn key(&mut self, k: KeyInput) -> Vec<CertsEffect> {
        let effects = if self.takes_as_text(&k) {
            self.text_key(k)
        } else {
            match Keymap::defaults().lookup(Context::Certs(self.context()), &k) {
                Some(Command::Certs(c)) => self.command(c),
                _ => Vec::new(),
            }
        };
        self.run_lists(effects)
    }

    fn run_lists(&mut self, effects: Vec<CertsEffect>) -> Vec<CertsEffect> {
        for e in &effects {
            if let CertsEffect::Job(Job::List { dir }) = e {
                let listing = browser::list_dir(dir);
                self.on_event(CertsEvent::Listed {
                    dir: dir.clone(),
                    listing,
                });
            }
        }
        effects
    }

    fn shown_names(&self) -> Vec<String> {
        self.visible_entries()
            .iter()
            .map(|e| format!("{}{}", e.name, if e.dir { "/" } else { "" }))
            .collect()
    }
}

/// What the Examine job would report for `name`, at the tests' fixed now.
fn examined(files: &Files, name: &str, pass: Option<&str>, host: Option<&str>) -> CertsEvent {
    let pass = pass.map(Secret::new);
    CertsEvent::Examined(
        examine(
            name,
            &files.dir.path().join(name),
            &files.bytes(name),
            pass.as_ref(),
            host.map(str::to_string),
            NOW,
        )
        .map(Box::new),
    )
}

fn client_files() -> (Files, crate::certs::testutil::Chain) {
    let c = chain();
    let f = Files::new();
    let leaf = pem(&c.leaf.der, "CERTIFICATE");
    let inter = pem(&c.inter.der, "CERTIFICATE");
    let key = c.leaf.key.serialize_pem();
    f.write("client.pem", &format!("{leaf}{inter}{key}"));
    f.write("leaf.pem", &leaf);
    f.write("inter.pem", &inter);
    f.write("leaf.key", &key);
    f.write("leaf-only.pem", &format!("{leaf}{key}"));
    f.write("reversed.pem", &format!("{inter}{leaf}{key}"));
    let other = make(Spec::leaf("other", &["other.example.com"]), None);
    f.write(
        "mismatch.pem",
        &format!("{leaf}{inter}{}", other.key.serialize_pem()),
    );
    f.write("server.pem", &format!("{leaf}{inter}"));
    (f, c)
}

fn key(k: Key) -> KeyInput {
    KeyInput::press(k)
}

fn type_into(tab: &mut CertsTab, s: &str) {
    for c in s.chars() {
        tab.key(key(Key::Char(c)));
    }
}

#[test]
fn snapshot_source_with_completions() {
    let (f, _) = client_files();
    let mut tab = tab_at(&f);
    tab.profile = "plant-7".into();
    type_into(&mut tab, "le");
    tab.key(key(Key::Tab));
    assert_eq!(tab.path, "leaf");
    assert_eq!(tab.shown_names(), ["leaf-only.pem", "leaf.key", "leaf.pem"]);
    snap("source_completions", &tab);
}

#[test]
fn tab_completes_a_single_match_and_lists_directories_with_a_slash() {
    let (f, _) = client_files();
    std::fs::create_dir(f.dir.path().join("certs.d")).unwrap();
    let mut tab = tab_at(&f);
    type_into(&mut tab, "mis");
    tab.key(key(Key::Tab));
    assert_eq!(tab.path, "mismatch.pem");
    assert_eq!(tab.shown_names(), ["mismatch.pem"]);
    let mut tab = tab_at(&f);
    type_into(&mut tab, "cer");
    tab.key(key(Key::Tab));
    assert_eq!(tab.path, "certs.d/");
}

#[test]
fn snapshot_found_and_match_of_a_good_client_chain() {
    let (f, _) = client_files();
    let mut tab = tab_at(&f);
    tab.on_event(examined(&f, "client.pem", None, None));
    assert_eq!(tab.step, Step::Found);
    let found = tab.found.as_ref().unwrap();
    assert_eq!(found.analysis.certs.len(), 2);
    assert!(!found.fatal());
    snap("found_client", &tab);
    tab.key(key(Key::Enter));
    assert_eq!(tab.step, Step::Match);
    let screen = render(&tab, 120, 40);
    assert!(
        screen.contains("The private key belongs to the certificate."),
        "{screen}"
    );
    assert!(screen.contains("clientAuth"), "{screen}");
    snap("match_client", &tab);
}

#[test]
fn snapshot_a_ca_file_is_found_as_a_ca_to_trust_and_saves_as_the_profiles_ca() {
    let (f, c) = client_files();
    f.write("ca.pem", &pem(&c.root.der, "CERTIFICATE"));
    let mut tab = tab_at(&f);
    tab.on_event(examined(&f, "ca.pem", None, Some("mqtt.example.com")));
    let found = tab.found.as_ref().unwrap();
    assert_eq!(found.purpose(), Purpose::Trust);
    assert!(matches!(found.material, Material::CaFile(_)));
    // Nothing about a leaf or a host: a CA file is trusted as it is.
    assert!(
        found.analysis.findings.is_empty(),
        "{:?}",
        found.analysis.findings
    );
    assert!(tab.save_blocked().is_some_and(|w| w != view::FATAL_BLOCKS));
    let screen = render(&tab, 80, 24);
    assert!(screen.contains("1. CA to trust"), "{screen}");
    snap("found_ca_file", &tab);
    tab.key(key(Key::Enter));
    let screen = render(&tab, 120, 40);
    assert!(
        screen.contains("No private key: CA certificates to trust; Save makes this file the profile's CA (tls.ca)."),
        "{screen}"
    );
}

#[test]
fn snapshot_out_of_order_chain_shows_the_reordered_chain() {
    let (f, _) = client_files();
    let mut tab = tab_at(&f);
    tab.on_event(examined(&f, "reversed.pem", None, None));
    let found = tab.found.as_ref().unwrap();
    assert!(!found.analysis.in_order);
    assert_eq!(found.analysis.order, [1, 0]);
    let screen = render(&tab, 120, 40);
    assert!(screen.contains("2 → 1"), "{screen}");
    snap("found_out_of_order", &tab);
}

#[test]
fn snapshot_key_that_does_not_match_blocks_saving() {
    let (f, _) = client_files();
    let mut tab = tab_at(&f);
    tab.on_event(examined(&f, "mismatch.pem", None, None));
    assert!(tab.found.as_ref().unwrap().fatal());
    snap("found_key_mismatch", &tab);
    tab.key(key(Key::Enter));
    let screen = render(&tab, 120, 40);
    assert!(screen.contains("FATAL"), "{screen}");
    snap("match_key_mismatch", &tab);
}

#[test]
fn snapshot_client_chain_missing_its_intermediate() {
    let (f, _) = client_files();
    let mut tab = tab_at(&f);
    tab.on_event(examined(&f, "leaf-only.pem", None, None));
    assert_eq!(
        tab.found.as_ref().unwrap().missing_issuer().as_deref(),
        Some("CN=Lab Intermediate")
    );
    tab.key(key(Key::Enter));
    let screen = render(&tab, 120, 40);
    assert!(
        screen.contains("add that intermediate to the client chain"),
        "{screen}"
    );
    snap("match_missing_intermediate", &tab);
}

#[test]
fn server_chain_for_another_host_offers_the_sni_override() {
    let (f, _) = client_files();
    let mut tab = tab_at(&f);
    tab.on_event(examined(&f, "server.pem", None, Some("broker.internal")));
    tab.key(key(Key::Enter));
    let screen = render(&tab, 120, 40);
    assert!(screen.contains("does not name broker.internal"), "{screen}");
    snap("match_server_other_host", &tab);
    tab.key(key(Key::Enter));
    assert_eq!(tab.step, Step::Options);
    assert_eq!(
        tab.sni, "mqtt.example.com",
        "the name the certificate carries"
    );
}

fn p12_files() -> Files {
    let (f, _) = client_files();
    let d = f.dir.path();
    openssl(
        d,
        &[
            "pkcs12",
            "-export",
            "-in",
            "leaf.pem",
            "-inkey",
            "leaf.key",
            "-certfile",
            "inter.pem",
            "-out",
            "client.p12",
            "-passout",
            "pass:s3cret",
        ],
    );
    openssl(
        d,
        &[
            "pkcs12",
            "-export",
            "-legacy",
            "-certpbe",
            "PBE-SHA1-RC2-128",
            "-keypbe",
            "PBE-SHA1-RC2-128",
            "-in",
            "leaf.pem",
            "-inkey",
            "leaf.key",
            "-out",
            "rc2.p12",
            "-passout",
            "pass:s3cret",
        ],
    );
    f
}

#[test]
fn snapshot_wrong_passphrase_then_retry() {
    let f = p12_files();
    let mut tab = tab_at(&f);
    tab.path = "client.p12".into();
    tab.on_event(examined(&f, "client.p12", None, None));
    assert!(tab.asking_passphrase);
    assert_eq!(tab.source_field, SourceField::Passphrase);
    type_into(&mut tab, "nope");
    let screen = render(&tab, 80, 24);
    assert!(screen.contains("****"), "masked: {screen}");
    assert!(!screen.contains("nope"), "{screen}");
    tab.on_event(examined(&f, "client.p12", Some("nope"), None));
    assert_eq!(tab.step, Step::Source);
    assert!(tab.source_error.as_deref().unwrap().contains("is wrong"));
    snap("source_wrong_passphrase", &tab);
    // Retry: the field was cleared; the right one loads.
    assert_eq!(tab.passphrase.expose(), "");
    tab.on_event(examined(&f, "client.p12", Some("s3cret"), None));
    assert_eq!(tab.step, Step::Found);
    snap("found_p12", &tab);
}

#[test]
fn snapshot_legacy_p12_says_how_to_reexport() {
    let f = p12_files();
    let mut tab = tab_at(&f);
    tab.path = "rc2.p12".into();
    tab.on_event(examined(&f, "rc2.p12", Some("s3cret"), None));
    let e = tab.source_error.clone().unwrap();
    assert!(e.contains(crate::certs::P12_REEXPORT), "{e}");
    snap("source_legacy_p12", &tab);
}

#[test]
fn snapshot_options_and_save() {
    let (f, _) = client_files();
    let mut tab = tab_at(&f);
    tab.known = vec!["prod".into()];
    tab.profile = "plant-7".into();
    tab.on_event(examined(&f, "client.pem", None, None));
    tab.key(key(Key::Enter));
    tab.key(key(Key::Enter));
    assert_eq!(tab.step, Step::Options);
    tab.key(key(Key::Down));
    tab.key(key(Key::Char(' ')));
    tab.key(key(Key::Down));
    tab.key(key(Key::Down));
    tab.key(key(Key::Char(' ')));
    tab.key(key(Key::Char(' ')));
    assert_eq!(tab.alpn, ["x-amzn-mqtt-ca"]);
    assert_eq!(tab.min_tls, Some(TlsVersion::V1_3));
    snap("options", &tab);
    tab.key(key(Key::Enter));
    assert_eq!(tab.step, Step::Save);
    snap("save_new_profile_needs_url", &tab);
    tab.key(key(Key::Tab));
    type_into(&mut tab, "mqtts://127.0.0.1:8883");
    let screen = render(&tab, 120, 40);
    assert!(screen.contains("survives a reboot"), "{screen}");
    assert!(screen.contains("plant-7/private-key"), "{screen}");
    snap("save_ready", &tab);
}

fn app() -> App {
    let mut app = App::new(
        ProfilesTab::new("/nonexistent/profiles.toml".into()),
        Look::default(),
        Keymap::defaults(),
    );
    app.certs.profiles_path = Some("/tmp/profiles.toml".into());
    app
}

fn press(app: &mut App, k: Key) -> Vec<Effect> {
    update(app, Action::Key(key(k)))
}

#[test]
fn step_machine_back_retry_and_save_blocked_on_fatal() {
    let (f, _) = client_files();
    let mut app = app();
    app.certs.cwd = f.dir.path().to_path_buf();
    update(&mut app, Action::Key(key(Key::Char('3'))));
    assert_eq!(app.tab, Tab::Certificates);
    // In the path field `q` and digits are letters, not quit or tab switches.
    for c in "q1".chars() {
        press(&mut app, Key::Char(c));
    }
    assert_eq!(app.certs.path, "q1");
    assert!(!app.quit);
    press(&mut app, Key::Backspace);
    press(&mut app, Key::Backspace);
    for c in "mismatch.pem".chars() {
        press(&mut app, Key::Char(c));
    }
    let effects = press(&mut app, Key::Enter);
    let job = effects.iter().find_map(|e| match e {
        Effect::Certs(j) => Some(j.clone()),
        _ => None,
    });
    assert!(matches!(job, Some(Job::Examine { ref label, .. }) if label == "mismatch.pem"));
    // Keys wait while the job runs.
    press(&mut app, Key::Esc);
    assert_eq!(app.tab, Tab::Certificates);
    update(
        &mut app,
        Action::Certs(examined(&f, "mismatch.pem", None, None)),
    );
    assert_eq!(app.certs.step, Step::Found);
    for _ in 0..3 {
        press(&mut app, Key::Enter);
    }
    assert_eq!(app.certs.step, Step::Save);
    for c in "new".chars() {
        press(&mut app, Key::Char(c));
    }
    let effects = press(&mut app, Key::Enter);
    assert!(
        !effects.iter().any(|e| matches!(e, Effect::Certs(_))),
        "a fatal finding blocks saving: {effects:?}"
    );
    assert_eq!(
        app.certs.save_result,
        Some(Err(crate::tui::certs::view::FATAL_BLOCKS.to_string()))
    );
    // Esc goes back one step at a time, then leaves the tab; nothing was written.
    for want in [Step::Options, Step::Match, Step::Found, Step::Source] {
        press(&mut app, Key::Esc);
        assert_eq!(app.certs.step, want);
    }
    press(&mut app, Key::Esc);
    assert_eq!(app.tab, Tab::Profiles);
}

#[test]
fn wrong_passphrase_can_be_retried_through_update() {
    let f = p12_files();
    let mut app = app();
    app.certs.cwd = f.dir.path().to_path_buf();
    press(&mut app, Key::Char('3'));
    for c in "client.p12".chars() {
        press(&mut app, Key::Char(c));
    }
    press(&mut app, Key::Enter);
    update(
        &mut app,
        Action::Certs(examined(&f, "client.p12", None, None)),
    );
    assert!(app.certs.asking_passphrase);
    for c in "nope".chars() {
        press(&mut app, Key::Char(c));
    }
    let effects = press(&mut app, Key::Enter);
    let pass = effects.iter().find_map(|e| match e {
        Effect::Certs(Job::Examine { passphrase, .. }) => passphrase.clone(),
        _ => None,
    });
    assert_eq!(pass.as_ref().map(Secret::expose), Some("nope"));
    update(
        &mut app,
        Action::Certs(examined(&f, "client.p12", Some("nope"), None)),
    );
    assert_eq!(app.certs.step, Step::Source);
    for c in "s3cret".chars() {
        press(&mut app, Key::Char(c));
    }
    let effects = press(&mut app, Key::Enter);
    let pass = effects.iter().find_map(|e| match e {
        Effect::Certs(Job::Examine { passphrase, .. }) => passphrase.clone(),
        _ => None,
    });
    assert_eq!(pass.as_ref().map(Secret::expose), Some("s3cret"));
    update(
        &mut app,
        Action::Certs(examined(&f, "client.p12", Some("s3cret"), None)),
    );
    assert_eq!(app.certs.step, Step::Found);
}

#[test]
fn another_path_clears_what_was_said_of_the_last_file() {
    let f = p12_files();
    let mut tab = tab_at(&f);
    type_into(&mut tab, "client.p12");
    tab.on_event(examined(&f, "client.p12", Some("nope"), None));
    assert!(tab.asking_passphrase);
    assert!(tab.source_error.is_some());
    // Back to the path field, and a letter less: another file.
    tab.key(key(Key::Up));
    tab.key(key(Key::Up));
    assert_eq!(tab.source_field, SourceField::Path);
    tab.key(key(Key::Backspace));
    assert_eq!(tab.path, "client.p1");
    assert_eq!(tab.source_error, None);
    assert!(!tab.asking_passphrase);
    assert_eq!(tab.passphrase.expose(), "");
}

/// The key's base64 lines: none may show on any step, nor in `Debug` (logs).
#[test]
fn the_key_never_shows() {
    let (f, c) = client_files();
    let key_pem = c.leaf.key.serialize_pem();
    let canaries: Vec<&str> = key_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let mut tab = tab_at(&f);
    tab.profile = "p".into();
    tab.url = "mqtts://127.0.0.1:8883".into();
    tab.on_event(examined(&f, "client.pem", None, None));
    let mut screens = String::new();
    for _ in 0..4 {
        let mut term = Terminal::new(TestBackend::new(200, 60)).unwrap();
        term.draw(|fr| tab.draw(fr, fr.area(), &Look::default()))
            .unwrap();
        screens.push_str(&format!("{:?}", term.backend().buffer()));
        tab.key(key(Key::Enter));
    }
    screens.push_str(&format!("{tab:?}"));
    for canary in canaries {
        assert!(
            !screens.contains(canary),
            "key material on screen or in Debug"
        );
    }
}

/// Save through the real store and keyring (scripts/test provides one): the file says
/// `keyring = true`, the keyring holds the key, the file never does.
#[test]
fn save_writes_the_profile_file_then_the_keyring() {
    let (f, c) = client_files();
    let key_pem = c.leaf.key.serialize_pem();
    let marker = key_pem.lines().nth(1).unwrap().to_string();
    let Found { material, .. } = match examined(&f, "client.pem", None, None) {
        CertsEvent::Examined(Ok(found)) => *found,
        other => panic!("{other:?}"),
    };
    let path = f.dir.path().join("profiles.toml");
    let name = format!("wizard-save-{}", std::process::id());
    let msg = job::save(
        &path,
        &name,
        Some("mqtts://127.0.0.1:8883".into()),
        material,
        Some("mqtt.example.com".into()),
        vec!["mqtt".into()],
        Some(TlsVersion::V1_3),
    )
    .expect("saved");
    assert!(msg.contains(&format!("{name}/private-key")), "{msg}");
    let file = std::fs::read_to_string(&path).unwrap();
    assert!(!file.contains(&marker), "{file}");
    assert!(file.contains("keyring = true"), "{file}");
    assert!(file.contains("mqtt.example.com"), "{file}");
    let ring = crate::profile::KeyringOnDemand::new();
    let store = ring.store().unwrap();
    let key = store
        .get(&name, crate::secrets::Kind::PrivateKey)
        .unwrap()
        .expect("key in the keyring");
    let loaded = crate::certs::load("k", key.expose().as_bytes(), None).unwrap();
    assert!(loaded.key.is_some(), "a usable key was stored");
    let cert = store
        .get(&name, crate::secrets::Kind::Certificate)
        .unwrap()
        .expect("chain in the keyring");
    assert_eq!(
        crate::certs::load_certificates("c", cert.expose().as_bytes(), None)
            .unwrap()
            .len(),
        2
    );
    store.delete_profile(&name).unwrap();
}

#[test]
fn a_long_chain_scrolls_on_what_was_found() {
    let (f, _) = client_files();
    let mut tab = tab_at(&f);
    tab.on_event(examined(&f, "reversed.pem", None, None));
    let top = render(&tab, 80, 24);
    assert!(top.contains("reversed.pem: PEM"), "{top}");
    for _ in 0..3 {
        tab.key(key(Key::Down));
    }
    let scrolled = render(&tab, 80, 24);
    assert!(!scrolled.contains("reversed.pem: PEM"), "{scrolled}");
    assert!(scrolled.contains("Out of order"), "{scrolled}");
    tab.key(key(Key::PageUp));
    assert_eq!(render(&tab, 80, 24), top);
}

/// Carries out the browser's folder jobs of `effects` at once and feeds the answers back, as
/// the shell does off the UI task; the other effects are returned.
fn settle(app: &mut App, effects: Vec<Effect>) -> Vec<Effect> {
    let mut rest = Vec::new();
    for e in effects {
        match e {
            Effect::Certs(Job::List { dir }) => {
                let listing = browser::list_dir(&dir);
                let more = update(app, Action::Certs(CertsEvent::Listed { dir, listing }));
                rest.extend(settle(app, more));
            }
            other => rest.push(other),
        }
    }
    rest
}

fn press_settled(app: &mut App, input: KeyInput) -> Vec<Effect> {
    let effects = update(app, Action::Key(input));
    settle(app, effects)
}

fn help_rows(app: &App) -> Vec<(String, String)> {
    match &app.popup {
        Some(crate::tui::app::Popup::Help { context, .. }) => {
            crate::tui::help::rows(&app.keymap, *context)
        }
        other => panic!("no help popup: {other:?}"),
    }
}

fn rows(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, h)| (k.to_string(), h.to_string()))
        .collect()
}

#[test]
fn help_on_each_step_lists_exactly_the_active_bindings() {
    let (f, _) = client_files();
    let mut app = app();
    app.certs.cwd = f.dir.path().to_path_buf();
    press_settled(&mut app, key(Key::Char('3')));
    assert_eq!(app.context(), Context::Certs(CertsContext::SourcePath));
    // `?` is a letter in the path field; F1 shows the keys.
    press_settled(&mut app, key(Key::Char('?')));
    assert_eq!(app.certs.path, "?");
    assert!(app.popup.is_none());
    press_settled(&mut app, key(Key::F(1)));
    assert_eq!(
        help_rows(&app),
        rows(&[
            ("Enter", "read the file and show what it holds"),
            (
                "Tab",
                "complete the path (the list below shows the matches)"
            ),
            ("Ctrl-f", "move into the file list"),
            ("Down", "next field"),
            ("Up/BackTab", "previous field"),
            ("Esc", "leave the wizard (nothing was written)"),
            (
                "F1",
                "show the keys that work here (? is a letter in a text field)"
            ),
            ("Ctrl-c", "quit, everywhere"),
        ])
    );
    press_settled(&mut app, key(Key::Esc));
    assert!(app.popup.is_none());
    press_settled(&mut app, key(Key::Backspace));
    // The browser: not a text field, so the global keys apply beside its own.
    press_settled(&mut app, KeyInput::ctrl('f'));
    assert_eq!(app.context(), Context::Certs(CertsContext::SourceBrowser));
    press_settled(&mut app, key(Key::Char('?')));
    assert_eq!(
        help_rows(&app),
        rows(&[
            ("Enter", "open the folder, or examine the file"),
            ("Up/k", "select the entry above"),
            ("Down/j", "select the entry below"),
            ("Backspace/Left/h", "go to the parent folder"),
            ("Esc", "back to the path field"),
            ("1", "show the Profiles tab"),
            ("2", "show the Diagnose tab"),
            ("3", "show the Certificates tab (the certificate wizard)"),
            ("4", "show the Chain tab (the chain inspector)"),
            ("Tab", "next tab"),
            ("BackTab", "previous tab"),
            (
                "y",
                "copy the selected thing (verdict, fact, profile) to the clipboard"
            ),
            (
                "m",
                "switch mouse capture on/off (off: the terminal selects text)"
            ),
            ("?", "show the keys that work here"),
            ("q", "quit (Ctrl-C always quits)"),
            ("Ctrl-c", "quit, everywhere"),
        ])
    );
    press_settled(&mut app, key(Key::Esc));
    press_settled(&mut app, key(Key::Esc));
    update(
        &mut app,
        Action::Certs(examined(&f, "client.pem", None, None)),
    );
    assert_eq!(app.context(), Context::Certs(CertsContext::Found));
    press_settled(&mut app, key(Key::Char('?')));
    let found = help_rows(&app);
    assert_eq!(
        found[..9],
        rows(&[
            ("Enter", "go on to Match"),
            ("Up/k", "scroll up"),
            ("Down/j", "scroll down"),
            ("PageUp", "scroll up a page"),
            ("PageDown", "scroll down a page"),
            ("c", "inspect this chain on the Chain tab"),
            (
                "x",
                "write key material the target profile keeps in the keyring to a file"
            ),
            ("Esc", "back to Source"),
            ("1", "show the Profiles tab"),
        ])
    );
    assert_eq!(found.len(), 8 + 10 + 1, "own, the globals but Esc, Ctrl-c");
    press_settled(&mut app, key(Key::Esc));
    press_settled(&mut app, key(Key::Enter));
    press_settled(&mut app, key(Key::Enter));
    // TLS options, on an option line: Tab moves between lines, so it is not "next tab" here.
    press_settled(&mut app, key(Key::Down));
    assert_eq!(app.context(), Context::Certs(CertsContext::Options));
    press_settled(&mut app, key(Key::Char('?')));
    let options = help_rows(&app);
    assert_eq!(
        options[..6],
        rows(&[
            ("Space/Left/Right", "switch the selected option"),
            ("Enter", "go on to Save"),
            ("Down/Tab", "next line"),
            ("Up/BackTab", "previous line"),
            (
                "x",
                "write key material the target profile keeps in the keyring to a file"
            ),
            ("Esc", "back to Match"),
        ])
    );
    assert!(
        !options
            .iter()
            .any(|(_, h)| h == "next tab" || h == "previous tab"),
        "{options:?}"
    );
    // Every step's overlay is the keymap's active list for that step, nothing else.
    for ctx in [
        CertsContext::SourceKind,
        CertsContext::SourcePath,
        CertsContext::SourcePaste,
        CertsContext::SourceUrl,
        CertsContext::SourceBrowser,
        CertsContext::SourceField,
        CertsContext::Found,
        CertsContext::Match,
        CertsContext::OptionsSni,
        CertsContext::Options,
        CertsContext::Save,
        CertsContext::Saved,
        CertsContext::Export,
    ] {
        let shown = crate::tui::help::rows(&app.keymap, Context::Certs(ctx));
        let active = app.keymap.active(Context::Certs(ctx));
        assert_eq!(shown.len(), active.len() + 1, "{ctx:?}");
        if ctx.takes_text() {
            assert!(
                !active.iter().any(|b| b
                    .keys
                    .iter()
                    .any(|k| matches!(k.key, Key::Char(_)) && !k.ctrl)),
                "a letter would be typed, not act, in {ctx:?}"
            );
        }
    }
}

#[test]
fn the_default_wizard_keys_do_not_clash_and_an_override_rebinds_one() {
    let none = std::collections::BTreeMap::new();
    assert!(Keymap::with_overrides(&none, "app.toml").is_ok());
    let clash: std::collections::BTreeMap<String, Vec<String>> =
        [("certs.inspect_chain".to_string(), vec!["q".to_string()])].into();
    assert_eq!(
        Keymap::with_overrides(&clash, "app.toml").unwrap_err(),
        "app.toml: key \"q\" is bound to both \"certs.inspect_chain\" and \"quit\" (where: certs.found); give one of them another key in [keys]"
    );
    let overrides: std::collections::BTreeMap<String, Vec<String>> = [
        ("certs.inspect_chain".to_string(), vec!["i".to_string()]),
        ("certs.examine".to_string(), vec!["Ctrl-e".to_string()]),
    ]
    .into();
    let (f, _) = client_files();
    let mut app = app();
    app.keymap = Keymap::with_overrides(&overrides, "app.toml").unwrap();
    app.certs.cwd = f.dir.path().to_path_buf();
    press_settled(&mut app, key(Key::Char('3')));
    for c in "client.pem".chars() {
        press_settled(&mut app, key(Key::Char(c)));
    }
    let effects = press_settled(&mut app, key(Key::Enter));
    assert!(
        !effects.iter().any(|e| matches!(e, Effect::Certs(_))),
        "Enter no longer examines: {effects:?}"
    );
    let effects = press_settled(&mut app, KeyInput::ctrl('e'));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Certs(Job::Examine { .. }))),
        "{effects:?}"
    );
    update(
        &mut app,
        Action::Certs(examined(&f, "client.pem", None, None)),
    );
    press_settled(&mut app, key(Key::Char('c')));
    assert_eq!(app.tab, Tab::Certificates, "c is free now");
    press_settled(&mut app, key(Key::Char('i')));
    assert_eq!(app.tab, Tab::Chain);
}

#[test]
fn c_on_what_was_found_shows_the_loaded_chain_on_the_chain_tab() {
    let (f, c) = client_files();
    let mut app = app();
    app.certs.cwd = f.dir.path().to_path_buf();
    press_settled(&mut app, key(Key::Char('3')));
    update(
        &mut app,
        Action::Certs(examined(&f, "reversed.pem", None, None)),
    );
    press_settled(&mut app, key(Key::Enter));
    assert_eq!(app.certs.step, Step::Match);
    press_settled(&mut app, key(Key::Char('c')));
    assert_eq!(app.tab, Tab::Chain);
    let shown = app.chain.shown.as_ref().expect("a chain on the Chain tab");
    assert_eq!(shown.label, "loaded in the wizard: reversed.pem");
    // As loaded: the intermediate first, then the leaf.
    assert_eq!(shown.der, [c.inter.der.clone(), c.leaf.der.clone()]);
    let analysis = shown.analysis.as_ref().unwrap();
    assert_eq!(analysis.order, [1, 0]);
    // Back in the wizard, the step is where it was.
    press_settled(&mut app, key(Key::Char('3')));
    assert_eq!(app.certs.step, Step::Match);
}

#[test]
fn the_browser_descends_goes_up_and_examines_through_update() {
    let (f, _) = client_files();
    std::fs::create_dir(f.dir.path().join("certs.d")).unwrap();
    f.write("certs.d/ca.pem", "");
    f.write(".hidden.pem", "");
    let mut app = app();
    app.certs.cwd = f.dir.path().to_path_buf();
    press_settled(&mut app, key(Key::Char('3')));
    assert_eq!(
        app.certs.shown_names(),
        [
            "certs.d/",
            "client.pem",
            "inter.pem",
            "leaf-only.pem",
            "leaf.key",
            "leaf.pem",
            "mismatch.pem",
            "reversed.pem",
            "server.pem",
        ]
    );
    press_settled(&mut app, key(Key::Char('.')));
    assert_eq!(app.certs.shown_names(), [".hidden.pem"]);
    press_settled(&mut app, key(Key::Backspace));
    press_settled(&mut app, KeyInput::ctrl('f'));
    assert!(app.certs.browser.focused);
    // Enter on a folder descends; the path field follows.
    press_settled(&mut app, key(Key::Enter));
    assert_eq!(app.certs.path, "certs.d/");
    assert_eq!(app.certs.shown_names(), ["ca.pem"]);
    // Backspace goes to the parent.
    press_settled(&mut app, key(Key::Backspace));
    assert_eq!(app.certs.path, "");
    press_settled(&mut app, key(Key::Down));
    press_settled(&mut app, key(Key::Down));
    assert_eq!(app.certs.browser.selected, 2);
    let effects = press_settled(&mut app, key(Key::Enter));
    let job = effects.iter().find_map(|e| match e {
        Effect::Certs(j) => Some(j.clone()),
        _ => None,
    });
    assert!(
        matches!(job, Some(Job::Examine { ref label, .. }) if label == "inter.pem"),
        "{job:?}"
    );
    assert_eq!(app.certs.path, "inter.pem");
    assert!(!app.certs.browser.focused);
    // Typed text filters the list; Esc in the list goes back to the path field.
    update(
        &mut app,
        Action::Certs(examined(&f, "inter.pem", None, None)),
    );
    press_settled(&mut app, key(Key::Esc));
    assert_eq!(app.certs.step, Step::Source);
    for _ in 0.."inter.pem".len() {
        press_settled(&mut app, key(Key::Backspace));
    }
    press_settled(&mut app, key(Key::Char('l')));
    assert_eq!(
        app.certs.shown_names(),
        ["leaf-only.pem", "leaf.key", "leaf.pem"]
    );
    press_settled(&mut app, KeyInput::ctrl('f'));
    press_settled(&mut app, key(Key::Esc));
    assert!(!app.certs.browser.focused);
    assert_eq!(app.tab, Tab::Certificates);
}

#[test]
fn snapshot_the_browser_with_the_list_focused() {
    let (f, _) = client_files();
    std::fs::create_dir(f.dir.path().join("certs.d")).unwrap();
    // A name with a control character is drawn sanitised.
    f.write("evil\x1b[31m.pem", "");
    let mut tab = tab_at(&f);
    tab.profile = "plant-7".into();
    tab.key(KeyInput::ctrl('f'));
    tab.key(key(Key::Down));
    tab.key(key(Key::Down));
    let screen = render(&tab, 80, 24);
    assert!(!screen.contains('\x1b'), "{screen}");
    snap("source_browser", &tab);
}

#[test]
fn a_huge_folder_is_capped_and_an_unreadable_one_is_one_sentence() {
    let f = Files::new();
    for i in 0..(browser::MAX_ENTRIES + 3) {
        f.write(&format!("c{i:05}.pem"), "");
    }
    let tab = tab_at(&f);
    let screen = render(&tab, 80, 24);
    let hidden = browser::MAX_ENTRIES + 3 - (screen.matches(".pem").count());
    assert!(screen.contains(&format!("… {hidden} more")), "{screen}");
    snap("source_huge_folder", &tab);
    let mut tab = tab_at(&f);
    type_into(&mut tab, "missing/");
    let screen = render(&tab, 120, 40);
    assert!(
        screen.contains("cannot list") && screen.contains("No such file or directory"),
        "{screen}"
    );
}

/// The whole app (tab bar, status line, the keymap's footer), random hex redacted.
fn app_screen(app: &App, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| crate::tui::view::view(app, f)).unwrap();
    let buf = term.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..h {
        let mut line = String::new();
        for x in 0..w {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(&redact(line.trim_end()));
        out.push('\n');
    }
    out
}

fn app_snap(name: &str, app: &App) {
    insta::assert_snapshot!(format!("{name}_80x24"), app_screen(app, 80, 24));
    insta::assert_snapshot!(format!("{name}_120x40"), app_screen(app, 120, 40));
}

#[test]
fn snapshot_the_footer_shows_the_wizard_keys_of_the_focused_list() {
    let (f, _) = client_files();
    let mut app = app();
    app.keyring = Some("keyring: Secret Service keyring (survives a reboot)".into());
    app.profiles_file = Some("/home/ada/.config/mqtt-doctor/profiles.toml".into());
    app.certs.cwd = f.dir.path().to_path_buf();
    press_settled(&mut app, key(Key::Char('3')));
    let screen = app_screen(&app, 80, 24);
    assert!(screen.contains("Enter examine"), "{screen}");
    assert!(screen.contains("Ctrl-f browse"), "{screen}");
    press_settled(&mut app, KeyInput::ctrl('f'));
    press_settled(&mut app, key(Key::Down));
    let screen = app_screen(&app, 80, 24);
    assert!(screen.contains("Enter open"), "{screen}");
    app_snap("app_browser", &app);
}

/// Carries out the one wizard job of `effects` the way the shell does (off the UI task, here
/// awaited) and feeds its answer back.
async fn run_job(app: &mut App, effects: Vec<Effect>) -> Vec<Effect> {
    let mut rest = Vec::new();
    for e in settle(app, effects) {
        match e {
            Effect::Certs(job) => {
                let ev = carry_out(job).await;
                let more = update(app, Action::Certs(ev));
                rest.extend(settle(app, more));
            }
            other => rest.push(other),
        }
    }
    rest
}

/// The kind selector: Up from the path field, Right picks the next kind.
fn choose_kind(app: &mut App, kind: SourceKind) {
    press_settled(app, key(Key::Up));
    assert_eq!(app.context(), Context::Certs(CertsContext::SourceKind));
    while app.certs.kind != kind {
        press_settled(app, key(Key::Right));
    }
    press_settled(app, key(Key::Down));
}

#[test]
fn snapshot_the_source_kind_selector() {
    let (f, _) = client_files();
    let mut app = app();
    app.certs.cwd = f.dir.path().to_path_buf();
    press_settled(&mut app, key(Key::Char('3')));
    press_settled(&mut app, key(Key::Up));
    // Tab moves to the next field here; digits still switch tabs (no text field has focus).
    assert_eq!(app.context(), Context::Certs(CertsContext::SourceKind));
    press_settled(&mut app, key(Key::Right));
    assert_eq!(app.certs.kind, SourceKind::Paste);
    press_settled(&mut app, key(Key::Right));
    assert_eq!(app.certs.kind, SourceKind::Broker);
    let screen = app_screen(&app, 80, 24);
    assert!(
        screen.contains("Source       File   Paste PEM  [Broker]"),
        "{screen}"
    );
    app_snap("app_kind_selector", &app);
    press_settled(&mut app, key(Key::Tab));
    assert_eq!(app.context(), Context::Certs(CertsContext::SourceUrl));
    press_settled(&mut app, key(Key::Char('4')));
    assert_eq!(app.certs.broker_url, "4", "a letter in the URL field");
}

#[tokio::test]
async fn paste_with_a_key_is_masked_and_examines_to_found() {
    let (f, c) = client_files();
    let key_pem = c.leaf.key.serialize_pem();
    let canaries: Vec<String> = key_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::to_string)
        .collect();
    let mut app = app();
    app.certs.cwd = f.dir.path().to_path_buf();
    press_settled(&mut app, key(Key::Char('3')));
    choose_kind(&mut app, SourceKind::Paste);
    assert_eq!(app.context(), Context::Certs(CertsContext::SourcePaste));
    // The key first: its PEM has a fixed length, so the snapshot is stable (certificates
    // made now vary in length with their signatures).
    update(&mut app, Action::Paste(key_pem.replace('\n', "\r\n")));
    // Enter is a newline in the paste field, not "examine".
    let effects = press_settled(&mut app, key(Key::Enter));
    assert!(!effects.iter().any(|e| matches!(e, Effect::Certs(_))));
    app_snap("app_paste_with_key", &app);
    let certs = format!(
        "{}{}",
        pem(&c.leaf.der, "CERTIFICATE"),
        pem(&c.inter.der, "CERTIFICATE")
    );
    update(&mut app, Action::Paste(certs));
    for size in [(80, 24), (120, 40)] {
        let screen = app_screen(&app, size.0, size.1);
        assert!(screen.contains("-----END CERTIFICATE-----"), "{screen}");
        for canary in &canaries {
            assert!(!screen.contains(canary.as_str()), "key line on screen");
        }
    }
    assert!(!format!("{:?}", app.certs).contains(canaries[0].as_str()));
    let effects = press_settled(&mut app, KeyInput::ctrl('d'));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Certs(Job::ExaminePaste { .. }))),
        "{effects:?}"
    );
    run_job(&mut app, effects).await;
    assert_eq!(app.certs.step, Step::Found);
    let found = app.certs.found.as_ref().unwrap();
    assert_eq!(found.label, "pasted text");
    assert_eq!(found.key, Some("a private key (PKCS#8)"));
    assert_eq!(found.der, [c.leaf.der.clone(), c.inter.der.clone()]);
    assert!(matches!(found.material, Material::Pem { key: Some(_), .. }));
}

#[test]
fn a_paste_into_a_single_line_field_appends_its_first_line() {
    let (f, _) = client_files();
    let mut app = app();
    app.certs.cwd = f.dir.path().to_path_buf();
    press_settled(&mut app, key(Key::Char('3')));
    let effects = update(&mut app, Action::Paste("leaf.pem\nrm -rf /\n".into()));
    settle(&mut app, effects);
    assert_eq!(app.certs.path, "leaf.pem");
    assert_eq!(app.certs.shown_names(), ["leaf.pem"]);
    // A folder on the way is listed too, and the field's own folder wins.
    std::fs::create_dir(f.dir.path().join("certs.d")).unwrap();
    f.write("certs.d/ca.pem", "");
    for _ in 0.."leaf.pem".len() {
        press_settled(&mut app, key(Key::Backspace));
    }
    let effects = update(&mut app, Action::Paste("certs.d/c".into()));
    settle(&mut app, effects);
    assert_eq!(app.certs.shown_names(), ["ca.pem"]);
    for _ in 0.."certs.d/c".len() {
        press_settled(&mut app, key(Key::Backspace));
    }
    update(&mut app, Action::Paste("leaf.pem".into()));
    // In the file list (no text field) a paste is dropped: its letters would be commands.
    press_settled(&mut app, KeyInput::ctrl('f'));
    update(&mut app, Action::Paste("q".into()));
    assert!(!app.quit);
    assert_eq!(app.certs.path, "leaf.pem");
}

#[tokio::test]
async fn broker_fetch_against_a_real_tls_server_is_a_found_saved_as_presented() {
    let pki = crate::lab::pki::LabPki::generate(time::OffsetDateTime::now_utc()).unwrap();
    let server = super::fetch::tests::SServer::lab_full_chain(&pki);
    let f = Files::new();
    let mut app = app();
    app.certs.cwd = f.dir.path().to_path_buf();
    press_settled(&mut app, key(Key::Char('3')));
    choose_kind(&mut app, SourceKind::Broker);
    let url = format!("mqtts://127.0.0.1:{}", server.port);
    update(&mut app, Action::Paste(url.clone()));
    let effects = press_settled(&mut app, key(Key::Enter));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Certs(Job::Fetch { .. }))),
        "{effects:?}"
    );
    run_job(&mut app, effects).await;
    assert_eq!(app.certs.step, Step::Found, "{:?}", app.certs.source_error);
    let found = app.certs.found.as_ref().unwrap();
    assert_eq!(found.label, url);
    assert_eq!(
        found.der,
        [
            pki.good.cert.clone(),
            pki.intermediate.issued.cert.clone(),
            pki.root.issued.cert.clone()
        ]
    );
    assert!(matches!(found.material, Material::Presented { .. }));
    assert!(!found.fatal(), "the untrusted root is what Save trusts");
    // The port differs per run: the snapshots show it as PORT.
    let port = server.port.to_string();
    let norm = |s: String| s.replace(&port, "PORT");
    insta::assert_snapshot!("app_broker_found_80x24", norm(app_screen(&app, 80, 24)));
    insta::assert_snapshot!("app_broker_found_120x40", norm(app_screen(&app, 120, 40)));
    for _ in 0..3 {
        press_settled(&mut app, key(Key::Enter));
    }
    assert_eq!(app.certs.step, Step::Save);
    let screen = app_screen(&app, 120, 40);
    assert!(
        screen.contains("These certificates are what the broker presented, unverified"),
        "{screen}"
    );
}

#[test]
fn a_paste_on_other_tabs_types_into_their_text_field_only() {
    let mut app = app();
    // The Profiles list: letters are commands there, a paste is dropped.
    update(&mut app, Action::Paste("nq".into()));
    assert!(!app.quit);
    assert!(!app.profiles.takes_text());
    press_settled(&mut app, key(Key::Char('/')));
    assert!(app.profiles.takes_text());
    update(&mut app, Action::Paste("prod\nq".into()));
    let screen = app_screen(&app, 80, 24);
    assert!(
        screen.contains("prod"),
        "the filter shows the pasted line: {screen}"
    );
    assert!(!app.quit);
}

#[test]
fn after_saving_the_save_step_edits_nothing_and_the_tab_keys_work() {
    let (f, _) = client_files();
    let mut app = app();
    app.certs.cwd = f.dir.path().to_path_buf();
    press_settled(&mut app, key(Key::Char('3')));
    update(
        &mut app,
        Action::Certs(examined(&f, "client.pem", None, None)),
    );
    for _ in 0..3 {
        press_settled(&mut app, key(Key::Enter));
    }
    assert_eq!(app.context(), Context::Certs(CertsContext::Save));
    press_settled(&mut app, key(Key::Char('1')));
    assert_eq!(app.certs.profile, "1", "a letter of the profile name");
    update(
        &mut app,
        Action::Certs(CertsEvent::Saved(Ok("profile \"1\" saved".into()))),
    );
    assert_eq!(app.context(), Context::Certs(CertsContext::Saved));
    press_settled(&mut app, key(Key::Char('x')));
    assert_eq!(app.certs.profile, "1");
    press_settled(&mut app, key(Key::Char('1')));
    assert_eq!(app.tab, Tab::Profiles);
}

#[test]
fn esc_stops_waiting_for_a_broker_and_its_late_answer_is_dropped() {
    let f = Files::new();
    let mut app = app();
    app.certs.cwd = f.dir.path().to_path_buf();
    press_settled(&mut app, key(Key::Char('3')));
    choose_kind(&mut app, SourceKind::Broker);
    update(&mut app, Action::Paste("mqtts://192.0.2.1:8883".into()));
    let effects = press_settled(&mut app, key(Key::Enter));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Certs(Job::Fetch { .. })))
    );
    let screen = app_screen(&app, 80, 24);
    assert!(screen.contains("Esc stops waiting"), "{screen}");
    press_settled(&mut app, key(Key::Esc));
    assert!(!app.certs.busy);
    assert_eq!(
        app.tab,
        Tab::Certificates,
        "Esc stopped the wait, not the wizard"
    );
    assert_eq!(
        app.certs.source_error.as_deref(),
        Some(crate::tui::certs::view::FETCH_STOPPED)
    );
    update(
        &mut app,
        Action::Certs(CertsEvent::Examined(Err(LoadFailure::Other("late".into())))),
    );
    assert_eq!(
        app.certs.source_error.as_deref(),
        Some(crate::tui::certs::view::FETCH_STOPPED)
    );
}

/// Esc twice in quick succession arrives as one Alt-Esc: it goes back two steps, as two Escs.
#[test]
fn two_quick_escapes_read_as_alt_esc_go_back_two_steps() {
    let (f, _) = client_files();
    let mut app = app();
    app.certs.cwd = f.dir.path().to_path_buf();
    press(&mut app, Key::Char('3'));
    update(
        &mut app,
        Action::Certs(examined(&f, "client.pem", None, None)),
    );
    press(&mut app, Key::Enter);
    assert_eq!(app.certs.step, Step::Match);
    let alt_esc = KeyInput {
        alt: true,
        ..key(Key::Esc)
    };
    update(&mut app, Action::Key(alt_esc));
    assert_eq!(app.certs.step, Step::Source);
    assert_eq!(app.tab, Tab::Certificates);
    assert!(!app.quit);
}
