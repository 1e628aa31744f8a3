//! The core path profile (+ overrides) → Plan: every profile field reaches the plan, the
//! layering order, errors naming profile and field, secrets from the real kernel keyring.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;
use crate::certs::testutil::{Chain, chain, openssl, pem};
use crate::diagnose::{self, Plan, ProxyKind};
use crate::secrets::{Backend, Kind, Secret, SecretStore};

/// Certificate files on disk: a CA, a client certificate with its key, the same as PKCS#12
/// (passphrase `s3cret`).
struct Files {
    dir: tempfile::TempDir,
    chain: Chain,
}

impl Files {
    fn new() -> Files {
        let chain = chain();
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("ca.pem"), pem(&chain.root.der, "CERTIFICATE")).unwrap();
        std::fs::write(d.join("client.pem"), pem(&chain.leaf.der, "CERTIFICATE")).unwrap();
        std::fs::write(d.join("client.key"), chain.leaf.key.serialize_pem()).unwrap();
        openssl(
            d,
            &[
                "pkcs12",
                "-export",
                "-in",
                "client.pem",
                "-inkey",
                "client.key",
                "-out",
                "client.p12",
                "-passout",
                "pass:s3cret",
            ],
        );
        Files { dir, chain }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn no_env(_: &str) -> Option<String> {
    None
}

/// No keyring: these profiles refer to none.
struct NoKeyring;

impl SecretLookup for NoKeyring {
    fn secret(&self, _: &str, kind: Kind) -> Result<Option<Secret>, String> {
        panic!("the keyring was asked for {kind:?} although the profile keeps nothing there")
    }
}

fn prod() -> Profile {
    Profile::new("prod", "mqtts://broker.example.com:8883")
}

fn plan(p: &Profile) -> Plan {
    resolve(p, &no_env, &NoKeyring).unwrap()
}

fn plan_with(edit: impl FnOnce(&mut Profile)) -> Plan {
    let mut p = prod();
    edit(&mut p);
    plan(&p)
}

fn error_with(edit: impl FnOnce(&mut Profile)) -> PlanError {
    let mut p = prod();
    edit(&mut p);
    resolve(&p, &no_env, &NoKeyring).unwrap_err()
}

fn keyutils() -> SecretStore {
    crate::secrets::prepare_process().expect("a session keyring");
    SecretStore::open_backend(Backend::KernelKeyutils).expect("kernel keyutils in tests")
}

use crate::secrets::unique_test_profile as unique;

#[test]
fn a_url_only_profile_gets_the_documented_defaults() {
    let p = plan(&prod());
    assert_eq!(p.target.url(), "mqtts://broker.example.com:8883");
    assert_eq!(p.timeout, Duration::from_secs(5));
    assert_eq!(p.mqtt.keep_alive, 30);
    assert_eq!(p.mqtt.version, diagnose::MqttVersion::V5);
    assert!(p.mqtt.fallback_to_311);
    assert!(p.mqtt.clean_start);
    assert!(p.mqtt.client_id.starts_with("mqtt-doctor-"));
    assert_eq!(
        (p.mqtt.username.as_deref(), p.mqtt.password.is_none()),
        (None, true)
    );
    assert!(p.tls.ca.is_none() && p.tls.client.is_none());
    assert_eq!((p.tls.insecure, p.tls.tls13_only), (false, false));
    assert!(p.sub.topics.is_empty());
    assert!(p.sub.publish);
    assert_eq!(p.dns_server, None);
    assert!(p.route.proxy.is_none());
}

#[test]
fn host_port_transport_profile_connects_there() {
    let p = plan(&Profile {
        name: "lab".into(),
        host: Some("10.0.0.5".into()),
        port: Some(8084),
        transport: Some(Transport::Wss),
        ws_path: Some("/ws".into()),
        ..Profile::default()
    });
    assert_eq!(p.target.url(), "wss://10.0.0.5:8084/ws");
}

#[test]
fn tls_ca_reaches_the_plan() {
    let f = Files::new();
    let p = plan_with(|p| p.tls.ca = Some(Material::File(f.path("ca.pem"))));
    let ca = p.tls.ca.expect("a CA bundle");
    assert_eq!(ca.path, f.path("ca.pem"));
    assert_eq!(ca.certs, vec![f.chain.root.der.clone()]);
}

#[test]
fn tls_client_cert_and_key_reach_the_plan() {
    let f = Files::new();
    let p = plan_with(|p| {
        p.tls.client_cert = Some(Material::File(f.path("client.pem")));
        p.tls.client_key = Some(Material::File(f.path("client.key")));
    });
    let id = p.tls.client.expect("a client identity");
    assert_eq!(id.certs, vec![f.chain.leaf.der.clone()]);
    assert_eq!(id.key.secret_der(), f.chain.leaf.key_der().secret_der());
}

#[test]
fn tls_p12_with_a_passphrase_from_the_environment_reaches_the_plan() {
    let f = Files::new();
    let mut p = prod();
    p.tls.p12 = Some(Material::File(f.path("client.p12")));
    p.tls.passphrase = Some(SecretSource::Env("P12_PASS".into()));
    let env = |k: &str| (k == "P12_PASS").then(|| "s3cret".to_string());
    let plan = resolve(&p, &env, &NoKeyring).unwrap();
    let id = plan.tls.client.expect("a client identity");
    assert_eq!(id.certs.first(), Some(&f.chain.leaf.der));
    assert_eq!(id.key.secret_der(), f.chain.leaf.key_der().secret_der());
}

#[test]
fn tls_sni_alpn_insecure_and_min_version_reach_the_plan() {
    let p = plan_with(|p| {
        p.tls.sni = Some("broker.internal".into());
        p.tls.alpn = vec!["mqtt".into(), "x-amzn-mqtt-ca".into()];
        p.tls.insecure = true;
        p.tls.min_tls_version = Some(TlsVersion::V1_3);
    });
    assert_eq!(p.tls.sni.as_deref(), Some("broker.internal"));
    assert_eq!(p.server_name(), "broker.internal");
    assert_eq!(p.tls.alpn, ["mqtt", "x-amzn-mqtt-ca"]);
    assert!(p.tls.insecure);
    assert!(p.tls.tls13_only);
    let p12 = plan_with(|p| p.tls.min_tls_version = Some(TlsVersion::V1_2));
    assert!(!p12.tls.tls13_only);
}

#[test]
fn username_and_password_from_the_environment_reach_the_plan() {
    let mut p = prod();
    p.username = Some("device-42".into());
    p.password = Some(SecretSource::Env("PROD_PW".into()));
    let env = |k: &str| (k == "PROD_PW").then(|| "hunter2".to_string());
    let plan = resolve(&p, &env, &NoKeyring).unwrap();
    assert_eq!(plan.mqtt.username.as_deref(), Some("device-42"));
    assert_eq!(plan.mqtt.password.unwrap().expose(), "hunter2");
}

#[test]
fn the_url_user_name_is_used_when_the_profile_has_none() {
    let p = plan(&Profile::new("u", "mqtt://alice@h:1883"));
    assert_eq!(p.mqtt.username.as_deref(), Some("alice"));
    let p = plan_with(|p| {
        p.url = Some("mqtt://alice@h".into());
        p.username = Some("bob".into());
    });
    assert_eq!(p.mqtt.username.as_deref(), Some("bob"));
}

#[test]
fn mqtt_session_options_reach_the_plan() {
    let p = plan_with(|p| {
        p.client_id = Some("gw-01".into());
        p.keep_alive = Some(7);
        p.mqtt_version = Some(MqttVersion::V3_1_1);
        p.clean_start = Some(false);
    });
    assert_eq!(p.mqtt.client_id, "gw-01");
    assert_eq!(p.round_trip_topic(), "mqtt-doctor/gw-01");
    assert_eq!(p.mqtt.keep_alive, 7);
    assert_eq!(p.mqtt.version, diagnose::MqttVersion::V311);
    assert!(!p.mqtt.fallback_to_311);
    assert!(!p.mqtt.clean_start);
    let v5 = plan_with(|p| p.mqtt_version = Some(MqttVersion::V5));
    assert_eq!(
        (v5.mqtt.version, v5.mqtt.fallback_to_311),
        (diagnose::MqttVersion::V5, false)
    );
}

#[test]
fn topics_publish_timeout_and_dns_server_reach_the_plan() {
    let dns: SocketAddr = "192.0.2.53:5353".parse().unwrap();
    let p = plan_with(|p| {
        p.topics = vec!["sensors/#".into(), "alarms/+".into()];
        p.publish = Some(false);
        p.timeout_secs = Some(12);
        p.dns_server = Some(dns);
    });
    assert_eq!(p.sub.topics, ["sensors/#", "alarms/+"]);
    assert!(!p.sub.publish);
    assert_eq!(p.timeout, Duration::from_secs(12));
    assert_eq!(p.dns_server, Some(dns));
}

#[test]
fn websocket_path_and_literal_headers_reach_the_plan() {
    let mut p = Profile::new("aws", "wss://iot.example.com/mqtt?x=1");
    p.ws_path = Some("/ws".into());
    p.ws_headers
        .insert("X-Tenant".into(), HeaderValue::Literal("acme".into()));
    p.mqtt_version = Some(MqttVersion::V3_1_1);
    let plan = plan(&p);
    assert_eq!(plan.target.path, "/ws?x=1");
    let headers: Vec<(&str, &str)> = plan
        .route
        .ws
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.expose()))
        .collect();
    assert_eq!(headers, [("X-Tenant", "acme")]);
    assert_eq!(plan.route.ws.subprotocols, ["mqtt", "mqttv3.1"]);
}

#[test]
fn proxy_and_its_password_from_the_environment_reach_the_plan() {
    let mut p = Profile::new("corp", "ws://broker.example.com:8080");
    p.proxy = Some("socks5://alice@proxy.corp:1081".into());
    p.proxy_password = Some(SecretSource::Env("PROXY_PW".into()));
    let env = |k: &str| (k == "PROXY_PW").then(|| "pr0xy".to_string());
    let plan = resolve(&p, &env, &NoKeyring).unwrap();
    let proxy = plan.route.proxy.expect("a proxy");
    assert_eq!(proxy.kind, ProxyKind::Socks5);
    assert_eq!(proxy.url(), "socks5://alice@proxy.corp:1081");
    assert_eq!(proxy.password.unwrap().expose(), "pr0xy");
}

#[test]
fn secrets_kept_in_the_real_keyring_reach_the_plan() {
    let store = keyutils();
    let f = Files::new();
    let name = unique("kr");
    let pem_key = f.chain.leaf.key.serialize_pem();
    store
        .set(&name, Kind::Password, &Secret::new("kr-pw"))
        .unwrap();
    store
        .set(&name, Kind::PrivateKey, &Secret::new(pem_key))
        .unwrap();
    store
        .set(&name, Kind::Header, &Secret::new("Bearer t0k"))
        .unwrap();
    store
        .set(&name, Kind::ProxyPassword, &Secret::new("kr-proxy"))
        .unwrap();
    let mut p = Profile::new(name.clone(), "wss://broker.example.com/mqtt");
    p.password = Some(SecretSource::Keyring);
    p.tls.client_cert = Some(Material::File(f.path("client.pem")));
    p.tls.client_key = Some(Material::Keyring);
    p.ws_headers
        .insert("Authorization".into(), HeaderValue::Keyring);
    p.proxy = Some("http://bob@proxy.corp:3128".into());
    p.proxy_password = Some(SecretSource::Keyring);
    let plan = resolve(&p, &no_env, &store);
    store.delete_profile(&name).unwrap();
    let plan = plan.unwrap();
    assert_eq!(plan.mqtt.password.unwrap().expose(), "kr-pw");
    let id = plan.tls.client.expect("a client identity");
    assert_eq!(id.key.secret_der(), f.chain.leaf.key_der().secret_der());
    assert_eq!(id.certs, vec![f.chain.leaf.der.clone()]);
    assert_eq!(plan.route.ws.headers[0].0, "Authorization");
    assert_eq!(plan.route.ws.headers[0].1.expose(), "Bearer t0k");
    assert_eq!(
        plan.route.proxy.unwrap().password.unwrap().expose(),
        "kr-proxy"
    );
}

#[test]
fn a_p12_and_its_passphrase_in_the_real_keyring_reach_the_plan() {
    use base64::Engine;
    let store = keyutils();
    let f = Files::new();
    let name = unique("p12");
    let b64 = base64::engine::general_purpose::STANDARD
        .encode(std::fs::read(f.path("client.p12")).unwrap());
    store
        .set(&name, Kind::PrivateKey, &Secret::new(b64))
        .unwrap();
    store
        .set(&name, Kind::Passphrase, &Secret::new("s3cret"))
        .unwrap();
    let mut p = Profile::new(name.clone(), "mqtts://broker.example.com");
    p.tls.p12 = Some(Material::Keyring);
    p.tls.passphrase = Some(SecretSource::Keyring);
    let plan = resolve(&p, &no_env, &store);
    store.delete_profile(&name).unwrap();
    let id = plan.unwrap().tls.client.expect("a client identity");
    assert_eq!(id.certs.first(), Some(&f.chain.leaf.der));
}

#[test]
fn a_missing_keyring_entry_names_the_profile_the_field_and_the_entry() {
    let store = keyutils();
    let name = unique("gone");
    let mut p = Profile::new(name.clone(), "mqtts://broker.example.com");
    p.password = Some(SecretSource::Keyring);
    let e = resolve(&p, &no_env, &store).unwrap_err();
    assert_eq!(
        (e.profile.as_deref(), e.field),
        (Some(name.as_str()), Field::Password)
    );
    assert_eq!(
        e.to_string(),
        format!(
            "profile `{name}`, field `password`: the password is marked as kept in the keyring, but the keyring has no entry {name}/password; store it again with `mqtt-doctor profile edit {name} --password-prompt`"
        )
    );
}

#[test]
fn the_async_path_reads_the_real_keyring_off_the_runtime() {
    // Session keyrings are per-thread credentials inherited by later threads: join one first,
    // then start the runtime whose blocking pool reads it.
    let store = keyutils();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let name = unique("async");
    store
        .set(&name, Kind::Password, &Secret::new("async-pw"))
        .unwrap();
    let mut p = Profile::new(name.clone(), "mqtt://broker.example.com");
    p.password = Some(SecretSource::Keyring);
    let keyring = AsyncKeyring::with_store(store.clone());
    let plan = rt.block_on(resolve_async(&p, &no_env, &keyring));
    store.delete_profile(&name).unwrap();
    assert_eq!(plan.unwrap().mqtt.password.unwrap().expose(), "async-pw");
}

#[test]
fn file_errors_name_the_profile_and_field() {
    let e = error_with(|p| p.tls.ca = Some(Material::File("/nonexistent/ca.pem".into())));
    assert_eq!((e.profile.as_deref(), e.field), (Some("prod"), Field::Ca));
    assert!(
        e.to_string().starts_with(
            "profile `prod`, field `tls.ca`: /nonexistent/ca.pem: the file cannot be read"
        ),
        "{e}"
    );
    let e = error_with(|p| {
        p.tls.client_cert = Some(Material::File("/nonexistent/c.pem".into()));
        p.tls.client_key = Some(Material::File("/nonexistent/c.key".into()));
    });
    assert_eq!(e.field, Field::ClientCert);
}

#[test]
fn an_unset_variable_names_the_field_and_the_variable() {
    let e = error_with(|p| p.password = Some(SecretSource::Env("NOT_SET_HERE".into())));
    assert_eq!(
        e.to_string(),
        "profile `prod`, field `password`: NOT_SET_HERE: the environment variable NOT_SET_HERE is not set"
    );
    let e = error_with(|p| {
        p.proxy = Some("http://u@proxy:3128".into());
        p.proxy_password = Some(SecretSource::Env("NOT_SET_HERE".into()));
    });
    assert_eq!(e.field, Field::ProxyPassword);
}

#[test]
fn without_a_profile_name_errors_name_the_command_line_option() {
    let p = Profile {
        url: Some("mqtts://h".into()),
        tls: Tls {
            ca: Some(Material::File("/nonexistent/ca.pem".into())),
            ..Tls::default()
        },
        ..Profile::default()
    };
    let e = resolve(&p, &no_env, &NoKeyring).unwrap_err();
    assert_eq!(e.profile, None);
    assert!(
        e.to_string()
            .starts_with("--ca: /nonexistent/ca.pem: the file cannot be read"),
        "{e}"
    );
}

#[test]
fn route_errors_name_the_field_they_concern() {
    let e = error_with(|p| p.ws_path = Some("/ws".into()));
    assert_eq!(e.field, Field::WsPath);
    let e = error_with(|p| p.proxy = Some("ftp://proxy:21".into()));
    assert_eq!(e.field, Field::Proxy);
    let e = error_with(|p| {
        p.url = Some("ws://h".into());
        p.ws_headers
            .insert("Upgrade".into(), HeaderValue::Literal("x".into()));
    });
    assert_eq!(e.field, Field::Headers);
}

// --- layering: given > profile > default -----------------------------------------------------

#[test]
fn given_options_win_over_the_profile_and_absent_ones_keep_it() {
    let mut p = prod();
    p.timeout_secs = Some(10);
    p.topics = vec!["a/#".into()];
    p.username = Some("from-profile".into());
    p.tls.sni = Some("profile.sni".into());
    let over = Overrides {
        timeout_secs: Some(3),
        topics: vec!["b".into(), "c".into()],
        no_publish: true,
        dns_server: Some("127.0.0.1:53".parse().unwrap()),
        ..Overrides::default()
    };
    over.apply(&mut p).unwrap();
    let plan = plan(&p);
    assert_eq!(plan.timeout, Duration::from_secs(3));
    assert_eq!(plan.sub.topics, ["b", "c"]);
    assert!(!plan.sub.publish);
    assert_eq!(plan.dns_server, Some("127.0.0.1:53".parse().unwrap()));
    assert_eq!(plan.mqtt.username.as_deref(), Some("from-profile"));
    assert_eq!(plan.tls.sni.as_deref(), Some("profile.sni"));
}

#[test]
fn a_typed_password_wins_over_the_keyring_for_one_run() {
    let mut p = prod();
    p.password = Some(SecretSource::Keyring);
    Overrides {
        password: Some(SecretSource::Typed(Secret::new("typed"))),
        ..Overrides::default()
    }
    .apply(&mut p)
    .unwrap();
    // NoKeyring panics if asked: the typed value is used without touching the keyring.
    assert_eq!(plan(&p).mqtt.password.unwrap().expose(), "typed");
    assert!(
        toml::to_string(&p).is_err(),
        "a typed secret must never be written"
    );
}

#[test]
fn a_client_cert_given_replaces_the_profiles_p12() {
    let f = Files::new();
    let mut p = prod();
    p.tls.p12 = Some(Material::File(f.path("client.p12")));
    Overrides {
        client_cert: Some(f.path("client.pem")),
        client_key: Some(f.path("client.key")),
        ..Overrides::default()
    }
    .apply(&mut p)
    .unwrap();
    assert_eq!(p.tls.p12, None);
    assert_eq!(
        plan(&p).tls.client.unwrap().certs,
        vec![f.chain.leaf.der.clone()]
    );
}

#[test]
fn headers_given_twice_or_without_a_colon_are_refused() {
    let mut p = Profile::new("w", "ws://h");
    let twice = Overrides {
        headers: vec!["X-A: 1".into(), "X-A: 2".into()],
        ..Overrides::default()
    };
    assert_eq!(twice.apply(&mut p).unwrap_err().field, Field::Headers);
    let bare = Overrides {
        headers: vec!["nocolon".into()],
        ..Overrides::default()
    };
    assert_eq!(bare.apply(&mut p).unwrap_err().field, Field::Headers);
}

#[test]
fn absolute_paths_are_made_absolute_for_saving() {
    let o = Overrides {
        ca: Some("ca.pem".into()),
        ..Overrides::default()
    }
    .absolute_paths();
    let ca = o.ca.unwrap();
    assert!(
        ca.is_absolute() && ca.ends_with(Path::new("ca.pem")),
        "{ca:?}"
    );
}

// --- the new profile fields in TOML -----------------------------------------------------------

fn load(text: &str) -> ProfileStore {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("profiles.toml");
    std::fs::write(&path, text).unwrap();
    ProfileStore::load(&path).unwrap()
}

#[test]
fn the_old_topic_key_is_read_and_written_as_topics() {
    let store = load("version = 1\n[profiles.a]\nurl = \"mqtt://h\"\ntopic = \"x/#\"\n");
    assert_eq!(store.get("a").unwrap().topics, ["x/#"]);
    let text = store.to_toml().unwrap();
    assert!(text.contains("topics = [\"x/#\"]"), "{text}");
    assert!(!text.contains("topic = "), "{text}");
}

#[test]
fn new_fields_round_trip_through_toml() {
    let store = load(
        r#"version = 1
[profiles.a]
url = "ws://h:8080"
proxy = "socks5://alice@proxy:1080"
proxy_password = { env = "PPW" }
dns_server = "192.0.2.53:53"
topics = ["a/#", "b"]
publish = false
"#,
    );
    let p = store.get("a").unwrap();
    assert_eq!(p.proxy_password, Some(SecretSource::Env("PPW".into())));
    assert_eq!(p.dns_server, Some("192.0.2.53:53".parse().unwrap()));
    assert_eq!(p.topics, ["a/#", "b"]);
    assert_eq!(p.publish, Some(false));
    let again = load(&store.to_toml().unwrap());
    assert_eq!(again.get("a"), Some(p));
}

#[test]
fn a_literal_proxy_password_is_refused_like_a_password() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("profiles.toml");
    std::fs::write(
        &path,
        "[profiles.a]\nurl = \"ws://h\"\nproxy = \"http://u@p:1\"\nproxy_password = \"hunter2\"\n",
    )
    .unwrap();
    let e = ProfileStore::load(&path).unwrap_err().to_string();
    assert!(
        e.contains("proxy_password") && !e.contains("hunter2"),
        "{e}"
    );
}

#[test]
fn a_keyring_proxy_password_is_listed_as_a_keyring_entry() {
    let mut p = Profile::new("a", "ws://h");
    p.proxy = Some("http://u@p:3128".into());
    p.proxy_password = Some(SecretSource::Keyring);
    assert_eq!(
        p.keyring_entries(),
        [("proxy_password", Kind::ProxyPassword)]
    );
}

#[test]
fn a_dns_server_without_a_port_uses_port_53_in_a_profile_too() {
    let store = load(
        r#"version = 1
[profiles.v4]
url = "mqtt://h"
dns_server = "192.0.2.53"
[profiles.v6]
url = "mqtt://h"
dns_server = "::1"
[profiles.v6port]
url = "mqtt://h"
dns_server = "[::1]:5353"
"#,
    );
    assert_eq!(
        store.get("v4").unwrap().dns_server,
        Some("192.0.2.53:53".parse().unwrap())
    );
    assert_eq!(
        store.get("v6").unwrap().dns_server,
        Some("[::1]:53".parse().unwrap())
    );
    assert_eq!(
        store.get("v6port").unwrap().dns_server,
        Some("[::1]:5353".parse().unwrap())
    );
}
