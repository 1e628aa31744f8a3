//! The pipelined flight: CONNECT, SUBSCRIBE and the round-trip PUBLISH leave together, each
//! answer is still filed on its own stage, and a broker that hangs up on it is asked again.

mod common;

use common::check_json_async as check;
use mqtt_doctor::lab::Lab;
use serde_json::{Value, json};

fn stage<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["stages"]
        .as_array()
        .and_then(|s| s.iter().find(|st| st["stage"] == name))
        .unwrap_or_else(|| panic!("no {name} stage in {report}"))
}

async fn run(lab: &Lab, id: &str) -> (i32, Value) {
    let s = lab.scenario(id).expect("scenario exists");
    let mut args = vec![s.url.clone()];
    args.extend(s.args.iter().cloned());
    let (code, report, _) = check(&args, &s.env).await;
    (code, report)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_broker_gets_one_flight_and_each_answer_its_own_stage() {
    let lab = Lab::start().await.expect("lab starts");
    let (code, report) = run(&lab, "ok.plain").await;
    assert_eq!(code, 0, "{report}");
    let mqtt = &stage(&report, "mqtt")["facts"];
    assert_eq!(mqtt["pipelined"], json!(["SUBSCRIBE", "PUBLISH"]));
    assert!(mqtt["connack_ms"].is_number(), "{mqtt}");
    let sub = &stage(&report, "sub")["facts"];
    assert!(sub["suback_ms"].is_number(), "{sub}");
    assert!(sub["round_trip_ms"].is_number(), "{sub}");
    assert_eq!(sub.get("pipelining"), None, "{sub}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_that_hangs_up_on_pipelining_is_asked_again_and_passes() {
    let lab = Lab::start().await.expect("lab starts");
    let (code, report) = run(&lab, "ok.no_pipelining").await;
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["verdict"]["ok"], json!(true));
    let sub = &stage(&report, "sub")["facts"];
    assert_eq!(
        sub["pipelining"],
        json!(
            "refused: the broker hung up after CONNACK 0 without a SUBACK; retried once without pipelining"
        )
    );
    assert!(sub["round_trip_ms"].is_number(), "{sub}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_answers_the_connect_and_nothing_after_it() {
    let lab = Lab::start().await.expect("lab starts");
    let (code, report) = run(&lab, "mqtt.not_authorized").await;
    assert_eq!(code, 14, "{report}");
    assert_eq!(report["verdict"]["cause"], json!("mqtt.not_authorized"));
    assert_eq!(stage(&report, "sub")["status"], json!("skipped"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls13_client_cert_demand_is_judged_in_the_mqtt_flight_and_filed_on_tls() {
    let lab = Lab::start().await.expect("lab starts");
    let (code, report) = run(&lab, "tls.client_cert_required").await;
    assert_eq!(code, 12, "{report}");
    assert_eq!(
        report["verdict"]["cause"],
        json!("tls.client_cert_required")
    );
    let tls = stage(&report, "tls");
    assert_eq!(tls["status"], json!("failed"));
    assert_eq!(
        tls["facts"]["client_certificate_judged"],
        json!("with the CONNACK")
    );
    assert_eq!(stage(&report, "mqtt")["status"], json!("skipped"));

    let (code, report) = run(&lab, "ok.mtls").await;
    assert_eq!(code, 0, "{report}");
    let tls = &stage(&report, "tls")["facts"];
    assert_eq!(tls["client_certificate_judged"], json!("with the CONNACK"));
}
