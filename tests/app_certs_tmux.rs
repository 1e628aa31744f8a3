//! End to end in tmux with the real binary, a real profiles file, the keyring of scripts/test and
//! a real Mosquitto that demands a client certificate: the broker's CA and then a client `.p12`
//! (made with openssl here) go through the Certificates tab into a new profile, which is run from
//! Profiles. A `.p12` from another CA fails naming the client certificate, and the Chain tab shows
//! it. The passphrase (a canary) and the key never reach the screen or the profiles file.

mod common;

use common::tmux::Tmux;
use common::*;
use std::path::Path;
use std::time::{Duration, Instant};

const PASSPHRASE: &str = "p12-canary-5d1c9e";

const EXTENSIONS: &str = "\
[server]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[client]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
";

/// A P-256 CA `name`.pem/.key with common name `cn`.
fn ca(dir: &Path, name: &str, cn: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.pem"),
            "-days",
            "365",
            "-subj",
            &format!("/CN={cn}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
}

/// A P-256 leaf `name`.pem/.key with common name `cn`, signed by the CA `issuer` with the
/// `[section]` of [`EXTENSIONS`].
fn leaf(dir: &Path, name: &str, cn: &str, issuer: &str, section: &str, serial: &str) {
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.csr"),
            "-subj",
            &format!("/CN={cn}"),
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            &format!("{issuer}.pem"),
            "-CAkey",
            &format!("{issuer}.key"),
            "-set_serial",
            serial,
            "-days",
            "365",
            "-extfile",
            "ext.cnf",
            "-extensions",
            section,
            "-out",
            &format!("{name}.pem"),
        ],
    );
}

/// `name`.p12: the leaf, its key and its CA, encrypted with [`PASSPHRASE`] (AES-256, not legacy).
fn p12(dir: &Path, name: &str, issuer: &str) {
    openssl(
        dir,
        &[
            "pkcs12",
            "-export",
            "-in",
            &format!("{name}.pem"),
            "-inkey",
            &format!("{name}.key"),
            "-certfile",
            &format!("{issuer}.pem"),
            "-out",
            &format!("{name}.p12"),
            "-passout",
            &format!("pass:{PASSPHRASE}"),
            "-certpbe",
            "AES-256-CBC",
            "-keypbe",
            "AES-256-CBC",
            "-macalg",
            "sha256",
        ],
    );
}

/// The broker's CA, its server certificate, a client from that CA ("client") and one from a CA
/// the broker does not know ("rogue").
fn pki() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "ext.cnf", EXTENSIONS);
    ca(d, "ca", "E2E Broker CA");
    ca(d, "rogue-ca", "E2E Rogue CA");
    leaf(d, "server", "e2e-server", "ca", "server", "2");
    leaf(d, "client", "e2e-client", "ca", "client", "3");
    leaf(d, "rogue", "e2e-rogue-client", "rogue-ca", "client", "4");
    p12(d, "client", "ca");
    p12(d, "rogue", "rogue-ca");
    dir
}

/// Mosquitto with one TLS listener that requires a client certificate from `ca.pem`.
fn broker(pki: &Path) -> (Mosquitto, u16) {
    let port = free_port();
    let m = Mosquitto::start(
        tempfile::tempdir().unwrap(),
        &format!(
            "listener {port} 127.0.0.1\ncafile {}\ncertfile {}\nkeyfile {}\nrequire_certificate true\nallow_anonymous true\n",
            pki.join("ca.pem").display(),
            pki.join("server.pem").display(),
            pki.join("server.key").display(),
        ),
        &[port],
    );
    (m, port)
}

/// What must never be on screen or in the profiles file: the passphrase, every line of the
/// client key's PEM body and a run of the `.p12`'s base64 (as the keyring keeps it) from its
/// encrypted part.
fn secrets(pki: &Path, name: &str) -> Vec<String> {
    use base64::Engine;
    let key = std::fs::read_to_string(pki.join(format!("{name}.key"))).unwrap();
    let mut out = vec![PASSPHRASE.to_string()];
    out.extend(
        key.lines()
            .filter(|l| !l.starts_with("-----") && l.len() >= 16)
            .map(str::to_string),
    );
    let p12 = std::fs::read(pki.join(format!("{name}.p12"))).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(p12);
    out.push(b64[200..264].to_string());
    out
}

/// The app in tmux, and every screen it showed checked against the secrets.
struct App {
    tmux: Tmux,
    never: Vec<String>,
}

impl App {
    fn start(tag: &str, pki: &Path, config: &Path, never: Vec<String>) -> App {
        let tmux = Tmux {
            socket: format!("mqtt-doctor-certs-{tag}-{}", std::process::id()),
        };
        // Started in the PKI folder: the wizard's paths are relative to the current directory.
        // With a trace log, which must not hold a secret either (checked at quit).
        let command = format!(
            "cd {} && MQTT_DOCTOR_CONFIG={} {} --log-file {} --log-level trace; echo EXIT=$?; sleep 60",
            shell_quote(&pki.display().to_string()),
            shell_quote(&config.display().to_string()),
            env!("CARGO_BIN_EXE_mqtt-doctor"),
            shell_quote(&log_path(config).display().to_string())
        );
        tmux.run(&[
            "new-session",
            "-d",
            "-s",
            "app",
            "-x",
            "120",
            "-y",
            "40",
            &command,
        ]);
        let app = App { tmux, never };
        app.wait("No saved profiles yet");
        app
    }

    fn check(&self, text: &str) {
        for s in &self.never {
            assert!(!text.contains(s.as_str()), "{s:?} is on screen:\n{text}");
        }
    }

    /// Waits (30 s at most) until every needle is on screen; every screen seen is checked.
    fn wait_all(&self, needles: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let text = self.tmux.screen();
            self.check(&text);
            if needles.iter().all(|n| text.contains(n)) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "{needles:?} never all appeared:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait(&self, needle: &str) -> String {
        self.wait_all(&[needle])
    }

    fn keys(&self, keys: &[&str]) {
        self.tmux.keys(keys);
    }

    fn text(&self, text: &str) {
        self.tmux.text(text);
    }

    /// The whole pane with its history, for the last check after the app exits.
    fn history(&self) -> String {
        self.tmux
            .run(&["capture-pane", "-p", "-S", "-", "-t", "app"])
    }
}

/// Esc once per step, waiting for each step's title before the next.
fn back(app: &App, steps: &[&str]) {
    for step in steps {
        app.keys(&["Escape"]);
        app.wait(&format!(" Certificates: {step} "));
    }
}

/// Both wizard passes for a new profile `name` on `port`: first the broker's CA file, then
/// `p12` (encrypted with the canary) attached to the same profile; ends on the Save step with
/// the keyring entries saved.
fn import(app: &App, name: &str, port: u16, p12: &str, leaf_cn: &str) {
    // Pass 1: ca.pem, the profile named on Source, its URL on Save.
    app.keys(&["3"]);
    app.wait_all(&[" Certificates: Source ", "File        _"]);
    app.text("ca.pem");
    app.wait("File        ca.pem_");
    app.keys(&["Down"]);
    app.text(name);
    app.wait(&format!("Profile     {name}_"));
    app.keys(&["Enter"]);
    let found = app.wait_all(&[
        " Certificates: What was found ",
        "ca.pem: PEM, 1 certificate, no private key",
    ]);
    // A CA file is checked as a CA to trust: no "CA used as the end-entity" (which would block
    // Save), no "not among the trusted", no "no subjectAltName".
    assert!(
        found.contains("1. CA to trust  CN=E2E Broker CA"),
        "{found}"
    );
    assert!(
        !found.contains("FATAL") && !found.contains("warning"),
        "{found}"
    );
    app.keys(&["Enter"]);
    app.wait_all(&[
        " Certificates: Match ",
        "No private key: CA certificates to trust; Save makes this file the profile's CA (tls.ca).",
    ]);
    app.keys(&["Enter"]);
    app.wait(" Certificates: TLS options ");
    app.keys(&["Enter"]);
    app.wait_all(&[" Certificates: Save ", "a new profile is created"]);
    app.keys(&["Tab"]);
    let url = format!("mqtts://127.0.0.1:{port}");
    app.text(&url);
    app.wait(&format!("URL         {url}_"));
    app.keys(&["Enter"]);
    app.wait(&format!("profile \"{name}\" saved; it trusts the CA file"));

    // Pass 2: back to Source (Esc per step), the .p12 instead of ca.pem, same profile.
    back(app, &["TLS options", "Match", "What was found", "Source"]);
    app.keys(&["Up"]);
    app.wait("File        ca.pem_");
    app.keys(&["BSpace"; 6]);
    app.wait("File        _");
    app.text(p12);
    app.wait(&format!("File        {p12}_"));
    app.keys(&["Enter"]);
    app.wait_all(&[
        "This file is encrypted: type its passphrase (masked) and press Enter.",
        "Passphrase  _",
    ]);
    app.text(PASSPHRASE);
    app.wait(&format!("Passphrase  {}_", "*".repeat(PASSPHRASE.len())));
    app.keys(&["Enter"]);
    let found = app.wait_all(&[
        " Certificates: What was found ",
        &format!("{p12}: PKCS#12, 2 certificates, a private key"),
    ]);
    assert!(found.contains(leaf_cn), "{found}");
    app.keys(&["Enter"]);
    app.wait_all(&[
        " Certificates: Match ",
        "The private key belongs to the certificate.",
        "The client certificate may be used for clientAuth.",
    ]);
    app.keys(&["Enter"]);
    app.wait(" Certificates: TLS options ");
    app.keys(&["Enter"]);
    app.wait_all(&[
        " Certificates: Save ",
        "existing profile: its TLS material is replaced",
        &format!(
            "Save stores the .p12 as {name}/private-key and its passphrase as {name}/passphrase."
        ),
    ]);
    app.keys(&["Enter"]);
    app.wait(&format!(
        "profile \"{name}\" saved; keyring entries: {name}/private-key, {name}/passphrase"
    ));
}

/// Esc twice leaves the Save step's text fields, `1` opens Profiles, Enter runs the one row.
fn run_from_profiles(app: &App, name: &str) {
    back(app, &["TLS options", "Match"]);
    app.keys(&["1"]);
    app.wait(&format!("›· {name}"));
    app.keys(&["Enter"]);
}

fn check_profiles_file(config: &Path, never: &[String]) -> String {
    let file = std::fs::read_to_string(config).expect("the profile was saved");
    for s in never {
        assert!(!file.contains(s.as_str()), "{s:?} is in the file:\n{file}");
    }
    file
}

/// The app's `--log-file`, beside the profiles file.
fn log_path(config: &Path) -> std::path::PathBuf {
    config.with_file_name("app.log")
}

fn quit(app: &App, config: &Path, name: &str) {
    app.keys(&["q"]);
    let end = app.wait("EXIT=");
    assert!(end.contains("EXIT=0"), "{end}");
    app.check(&app.history());
    // The trace log saw the run (its TLS stage) and no secret.
    let log = std::fs::read_to_string(log_path(config)).expect("the app wrote its log");
    assert!(log.contains("tls"), "{log}");
    for s in &app.never {
        assert!(!log.contains(s.as_str()), "{s:?} is in the log:\n{log}");
    }
    // Leave the shared keyring clean.
    let (code, _, err) = run(
        &["profile", "remove", name],
        &[("MQTT_DOCTOR_CONFIG", &config.display().to_string())],
    );
    assert_eq!(code, 0, "{err}");
}

#[test]
fn a_client_p12_imported_in_the_wizard_runs_ok_from_profiles() {
    let pki = pki();
    let (_broker, port) = broker(pki.path());
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("profiles.toml");
    let name = format!("certs-ok-{}", std::process::id());
    let never = secrets(pki.path(), "client");
    let app = App::start("ok", pki.path(), &config, never.clone());

    import(&app, &name, port, "client.p12", "e2e-client");
    let file = check_profiles_file(&config, &never);
    assert!(file.contains("p12 = { keyring = true }"), "{file}");
    assert!(file.contains("passphrase = { keyring = true }"), "{file}");
    assert!(
        file.contains(&format!(
            "ca = {{ file = {:?} }}",
            pki.path().join("ca.pem").display().to_string()
        )),
        "{file}"
    );

    run_from_profiles(&app, &name);
    app.wait_all(&["[2 Diagnose]", "✔ OK"]);
    app.keys(&["1"]);
    let list = app.wait(&format!("✔ {name}"));
    assert!(list.contains(" ok "), "{list}");
    quit(&app, &config, &name);
}

#[test]
fn a_p12_from_another_ca_fails_naming_the_client_certificate_and_the_chain_tab_shows_it() {
    let pki = pki();
    let (_broker, port) = broker(pki.path());
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("profiles.toml");
    let name = format!("certs-rogue-{}", std::process::id());
    let never = secrets(pki.path(), "rogue");
    let app = App::start("rogue", pki.path(), &config, never.clone());

    import(&app, &name, port, "rogue.p12", "e2e-rogue-client");
    check_profiles_file(&config, &never);

    run_from_profiles(&app, &name);
    // The cause id real Mosquitto and this tool give (`check --p12 rogue.p12`), and the summary
    // names the client certificate and its issuer.
    let text = app.wait_all(&["Verdict of run 1", "✘ TLS failed  tls.client_cert_rejected"]);
    let verdict: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.contains("Verdict of run 1"))
        .collect();
    assert!(
        verdict[1].contains("✘ TLS failed  tls.client_cert_rejected"),
        "{text}"
    );
    assert!(
        verdict[2].contains(
            "The broker rejected our client certificate CN=e2e-rogue-client, issued by CN=E2E Rogue CA"
        ),
        "{text}"
    );
    app.keys(&["4"]);
    // The verdict is about the client certificate: the tab opens on the chain we sent, the
    // rogue root marked as not trusted, and `c` switches to the broker's chain.
    let client = app.wait_all(&[
        "Chain · client certificate sent in run 1",
        "e2e-rogue-client  leaf #1 sent",
        "The chain ends at the root \"CN=E2E Rogue CA\", which is not among the trusted CA certificates.",
    ]);
    assert!(client.contains("✘ E2E Rogue CA"), "{client}");
    app.keys(&["c"]);
    app.wait_all(&[
        &format!("Chain · broker's chain, diagnosis of {name} (run 1)"),
        "e2e-server",
    ]);
    quit(&app, &config, &name);
}
