//! mosquitto_sub import and mosquitto_sub / openssl export as pure functions: argv in,
//! profile or command text out, expected values written out.

use std::path::PathBuf;

use super::*;

fn argv(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

#[test]
fn a_tls_command_line_becomes_a_profile() {
    let got = import_mosquitto(
        "gw",
        &argv(
            "mosquitto_sub -h broker.example.com -p 8883 --cafile /etc/ssl/ca.pem -u alice -P pw -t sensors/# -t alarms/+ -i gw-01 -k 20 -V mqttv5 -c -v",
        ),
    )
    .unwrap();
    let p = got.profile;
    assert_eq!(p.name, "gw");
    assert_eq!(p.url.as_deref(), Some("mqtts://broker.example.com:8883"));
    assert_eq!(
        p.tls.ca,
        Some(Material::File(PathBuf::from("/etc/ssl/ca.pem")))
    );
    assert_eq!(p.username.as_deref(), Some("alice"));
    assert_eq!(
        got.password.map(|s| s.expose().to_string()).as_deref(),
        Some("pw")
    );
    assert_eq!(p.topics, ["sensors/#", "alarms/+"]);
    assert_eq!(p.client_id.as_deref(), Some("gw-01"));
    assert_eq!(p.keep_alive, Some(20));
    assert_eq!(p.mqtt_version, Some(MqttVersion::V5));
    assert_eq!(p.clean_start, Some(false));
    assert!(got.not_imported.is_empty());
    assert_eq!(p.notes, None);
}

#[test]
fn a_plain_command_defaults_to_localhost_1883() {
    let p = import_mosquitto("l", &argv("mosquitto_pub -t x -m hello"))
        .unwrap()
        .profile;
    assert_eq!(p.url.as_deref(), Some("mqtt://localhost:1883"));
    assert_eq!(p.topics, ["x"]);
}

#[test]
fn ipv6_hosts_are_bracketed() {
    let p = import_mosquitto("v6", &argv("mosquitto_sub -h ::1 -p 1884 -t x"))
        .unwrap()
        .profile;
    assert_eq!(p.url.as_deref(), Some("mqtt://[::1]:1884"));
}

#[test]
fn flags_without_a_place_in_a_profile_are_kept_in_the_notes() {
    let got = import_mosquitto(
        "n",
        &argv("/usr/bin/mosquitto_sub -h h -t x --will-topic w/t -q 1"),
    )
    .unwrap();
    assert_eq!(got.not_imported, ["--will-topic", "w/t"]);
    assert_eq!(
        got.profile.notes.as_deref(),
        Some("imported from mosquitto_sub; not imported: --will-topic w/t")
    );
}

#[test]
fn import_errors_are_typed() {
    assert_eq!(
        import_mosquitto("x", &argv("curl -h h")).unwrap_err(),
        MosquittoError::NotMosquitto("curl".into())
    );
    assert_eq!(
        import_mosquitto("x", &argv("mosquitto_sub -h")).unwrap_err(),
        MosquittoError::MissingValue("-h".into())
    );
    assert_eq!(
        import_mosquitto("x", &argv("mosquitto_sub -p 99999")).unwrap_err(),
        MosquittoError::BadPort("99999".into())
    );
    assert_eq!(
        import_mosquitto("x", &argv("mosquitto_sub -k soon")).unwrap_err(),
        MosquittoError::BadKeepAlive("soon".into())
    );
    assert_eq!(
        import_mosquitto("x", &argv("mosquitto_sub -L mqtt://u:p@h/t")).unwrap_err(),
        MosquittoError::UserInfoInUrl
    );
}

/// mosquitto_pub -L takes scheme://[user[:password]@]host[:port]/topic (mosquitto_pub(1)):
/// a user name alone is imported, the topic becomes the profile's topic.
#[test]
fn a_url_with_only_a_user_name_is_imported() {
    let i = import_mosquitto("x", &argv("mosquitto_pub -L mqtts://alice@host/t")).unwrap();
    assert_eq!(i.profile.url.as_deref(), Some("mqtts://host"));
    assert_eq!(i.profile.username.as_deref(), Some("alice"));
    assert_eq!(i.profile.topics, vec!["t".to_string()]);
}

fn tls_profile() -> Profile {
    let mut p = Profile::new("prod", "mqtts://broker.example.com:8883");
    p.tls.ca = Some(Material::File("/etc/ssl/ca.pem".into()));
    p.tls.alpn = vec!["mqtt".into()];
    p.username = Some("alice".into());
    p.password = Some(SecretSource::Keyring);
    p.topics = vec!["sensors/#".into(), "b".into()];
    p.mqtt_version = Some(MqttVersion::V5);
    p
}

#[test]
fn export_as_mosquitto_sub_keeps_secrets_as_variables() {
    assert_eq!(
        export(&tls_profile(), ExportFormat::MosquittoSub).unwrap(),
        "# the password is kept in the OS keyring; set PROD_PASSWORD before running\n\
         mosquitto_sub -h broker.example.com -p 8883 -V mqttv5 --cafile /etc/ssl/ca.pem --tls-alpn mqtt -u alice -P \"$PROD_PASSWORD\" -t 'sensors/#' -t b -v"
    );
}

#[test]
fn export_without_topics_subscribes_to_the_doctor_topic() {
    let p = Profile::new("p", "mqtt://h");
    assert_eq!(
        export(&p, ExportFormat::MosquittoSub).unwrap(),
        "mosquitto_sub -h h -p 1883 -t 'mqtt-doctor/#' -v"
    );
}

#[test]
fn export_as_openssl_tests_the_tls_handshake() {
    assert_eq!(
        export(&tls_profile(), ExportFormat::Openssl).unwrap(),
        "openssl s_client -connect broker.example.com:8883 -servername broker.example.com -CAfile /etc/ssl/ca.pem -alpn mqtt -verify_return_error -brief"
    );
}

#[test]
fn openssl_export_of_a_plain_profile_is_refused() {
    assert_eq!(
        export(&Profile::new("p", "mqtt://h"), ExportFormat::Openssl).unwrap_err(),
        MosquittoError::NoTls {
            profile: "p".into(),
            transport: Transport::Mqtt,
        }
    );
}

#[test]
fn control_characters_in_fields_are_spelled_out_for_the_shell() {
    let mut p = Profile::new("gw", "mqtt://broker.example.com:1883");
    p.client_id = Some("a\u{1b}]0;pwned\u{7}b'\u{202e}c".into());
    let text = export(&p, ExportFormat::MosquittoSub).unwrap();
    assert!(!text.contains('\u{1b}') && !text.contains('\u{7}') && !text.contains('\u{202e}'));
    assert!(
        text.contains(r"-i $'a\x1b]0;pwned\x07b\'\u202ec'"),
        "{text}"
    );
    // A real bash reads the quoted word back as the original value.
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(r"printf %s $'a\x1b]0;pwned\x07b\'\u202ec'")
        .output()
        .unwrap();
    assert_eq!(out.stdout, "a\u{1b}]0;pwned\u{7}b'\u{202e}c".as_bytes());
}
