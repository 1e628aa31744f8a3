//! Internationalised host names (issue 16 item 11): `bücher.lab.test` is looked up as its IDNA
//! form at the lab's DNS server, and both forms are shown, as a fact and on the dns line.

use mqtt_doctor::lab::{self, Behavior, Script};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unicode_host_name_is_looked_up_as_its_a_label_and_shown_in_both_forms() {
    let (dns, _dns_task) = lab::dns_server().await.expect("the lab DNS server");
    let (broker, _task) = lab::listen(Behavior::Mqtt(Script::default()))
        .await
        .expect("a lab broker");
    let url = format!("mqtt://bücher.lab.test:{}", broker.port());
    let run = |json: bool| {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_mqtt-doctor"));
        cmd.args(["check", &url, "--dns-server", &dns.to_string(), "-v"]);
        if json {
            cmd.arg("--json");
        }
        async move {
            tokio::time::timeout(Duration::from_secs(60), cmd.output())
                .await
                .expect("the binary finishes")
                .expect("the binary runs")
        }
    };
    let out = run(true).await;
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(json["verdict"]["ok"], true, "{text}");
    let dns_stage = &json["stages"][0];
    assert_eq!(dns_stage["stage"], "dns");
    // xn--bcher-kva is RFC 3492's Punycode of "bücher", as browsers write it.
    assert_eq!(
        dns_stage["facts"]["idna"],
        "bücher.lab.test = xn--bcher-kva.lab.test"
    );
    assert_eq!(json["target"]["host"], "xn--bcher-kva.lab.test");
    let out = run(false).await;
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    assert!(
        text.contains("bücher.lab.test = xn--bcher-kva.lab.test"),
        "{text}"
    );
}

#[tokio::test]
async fn a_name_idna_refuses_is_a_url_error_naming_it() {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_mqtt-doctor"))
        .args(["check", "mqtt://bad\u{202e}name.example"])
        .output()
        .await
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("internationalised domain name"), "{err}");
    assert!(
        !err.contains('\u{202e}'),
        "the bidi override reached stderr raw: {err}"
    );
}
