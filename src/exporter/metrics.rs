//! One probe's answer in the OpenMetrics text format, built with `prometheus-client` from the
//! typed outcome: success, durations, the failed stage and cause, certificate expiry, CONNACK.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};
use rustls_pki_types::CertificateDer;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use super::probe::{PlanError, Ran};
use crate::diagnose::{Stage, StageReport};
use crate::text::sanitize;

/// What Prometheus is told the body is (the encoder writes OpenMetrics 1.0 text).
pub(crate) const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

type F64 = Gauge<f64, AtomicU64>;
type Labels = Vec<(&'static str, String)>;

/// Registers a labelled gauge family and returns it for filling.
fn family(reg: &mut Registry, name: &str, help: &str, unit: Option<Unit>) -> Family<Labels, F64> {
    let f = Family::<Labels, F64>::default();
    match unit {
        Some(u) => reg.register_with_unit(name, help, u, f.clone()),
        None => reg.register(name, help, f.clone()),
    }
    f
}

fn gauge(reg: &mut Registry, name: &str, help: &str, unit: Option<Unit>) -> F64 {
    let g = F64::default();
    match unit {
        Some(u) => reg.register_with_unit(name, help, u, g.clone()),
        None => reg.register(name, help, g.clone()),
    }
    g
}

/// The body of `/probe`: every series for one probe.
pub(crate) fn probe_text(outcome: &Result<Ran, PlanError>, took: Duration) -> String {
    let mut reg = Registry::with_prefix("mqtt_doctor");
    let success = gauge(
        &mut reg,
        "probe_success",
        "1 when every stage of the diagnosis passed, else 0",
        None,
    );
    gauge(
        &mut reg,
        "probe_duration",
        "How long the whole probe took",
        Some(Unit::Seconds),
    )
    .set(took.as_secs_f64());
    match outcome {
        Err(e) => {
            family(
                &mut reg,
                "probe_error_info",
                "Why no diagnosis ran (the profile or target could not be used); the exporter log has the sentence",
                None,
            )
            .get_or_create(&vec![("reason", e.reason.to_string())])
            .set(1.0);
        }
        Ok(ran) => {
            success.set(if ran.failed.is_none() { 1.0 } else { 0.0 });
            fill(&mut reg, ran);
        }
    }
    let mut out = String::new();
    // Writing into a String cannot fail; an empty body would make the scrape fail visibly.
    let _ = encode(&mut out, &reg);
    out
}

fn fill(reg: &mut Registry, ran: &Ran) {
    let stage_duration = family(
        reg,
        "stage_duration",
        "How long each stage that ran took",
        Some(Unit::Seconds),
    );
    for s in &ran.stages {
        stage_duration
            .get_or_create(&vec![("stage", s.stage.id().to_string())])
            .set(s.duration_ms as f64 / 1000.0);
    }
    if let Some((stage, cause)) = ran.failed {
        family(
            reg,
            "probe_failed_info",
            "The stage that failed and the cause id (mqtt-doctor causes lists them)",
            None,
        )
        .get_or_create(&vec![
            ("stage", stage.id().to_string()),
            ("cause", cause.to_string()),
        ])
        .set(1.0);
    }
    let not_after = family(
        reg,
        "cert_not_after_timestamp",
        "Expiry (notAfter, Unix time) of every presented certificate and of the profile's client certificate",
        Some(Unit::Seconds),
    );
    let presented = ran
        .tls
        .as_ref()
        .map(|t| t.chain_der.as_slice())
        .unwrap_or(&[]);
    for (side, chain) in [
        ("server", presented),
        ("client", ran.client_chain.as_slice()),
    ] {
        for (i, der) in chain.iter().enumerate() {
            if let Some(labels) = cert_labels(side, i, der) {
                not_after.get_or_create(&labels.0).set(labels.1);
            }
        }
    }
    if let Some(code) = ran
        .stages
        .iter()
        .find(|s| s.stage == Stage::Mqtt)
        .and_then(connack_code)
    {
        gauge(
            reg,
            "connack_reason_code",
            "The CONNACK reason code (MQTT 5) or return code (3.1.1) the broker answered",
            None,
        )
        .set(code);
    }
    if let Some(version) = ran.tls.as_ref().and_then(|t| t.version.as_deref()) {
        family(reg, "tls_version_info", "The negotiated TLS version", None)
            .get_or_create(&vec![("version", sanitize(version))])
            .set(1.0);
    }
    if let Some(ms) = ran
        .stages
        .iter()
        .find(|s| s.stage == Stage::Sub)
        .and_then(|s| s.facts.get("round_trip_ms"))
        .and_then(|v| v.as_f64())
    {
        gauge(
            reg,
            "round_trip",
            "Publish to the private topic until the message came back",
            Some(Unit::Seconds),
        )
        .set(ms / 1000.0);
    }
}

/// Labels and notAfter of one certificate; the subject is certificate text, so sanitised
/// (the encoder escapes quotes and backslashes on top). Unparseable certificates are left out.
fn cert_labels(side: &str, i: usize, der: &CertificateDer<'_>) -> Option<(Labels, f64)> {
    let info = crate::certs::parse_cert(der.as_ref()).ok()?;
    Some((
        vec![
            ("position", format!("{side}.{i}")),
            ("subject", sanitize(&info.subject)),
            ("fingerprint", info.sha256_fingerprint),
        ],
        info.not_after as f64,
    ))
}

/// The CONNACK code from the mqtt stage's numeric `connack_code` fact (MQTT 5 reason code or
/// 3.1.1 return code, as the broker sent it).
fn connack_code(s: &StageReport) -> Option<f64> {
    s.facts.get("connack_code")?.as_f64()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::Status;

    fn mqtt_stage(connack: serde_json::Value) -> StageReport {
        let mut s = StageReport::new(Stage::Mqtt);
        s.status = Status::Failed;
        s.duration_ms = 12;
        s.facts.push("connack_code", connack);
        s
    }

    #[test]
    fn a_refused_connect_gives_its_cause_stage_and_code() {
        let ran = Ran {
            stages: vec![mqtt_stage(serde_json::json!(0x87))],
            tls: None,
            failed: Some((Stage::Mqtt, "mqtt.not_authorized")),
            client_chain: vec![],
        };
        let text = probe_text(&Ok(ran), Duration::from_millis(250));
        for line in [
            "mqtt_doctor_probe_success 0.0\n",
            "mqtt_doctor_probe_duration_seconds 0.25\n",
            "mqtt_doctor_stage_duration_seconds{stage=\"mqtt\"} 0.012\n",
            "mqtt_doctor_probe_failed_info{stage=\"mqtt\",cause=\"mqtt.not_authorized\"} 1.0\n",
            "mqtt_doctor_connack_reason_code 135.0\n",
            "# EOF\n",
        ] {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
    }

    #[test]
    fn the_connack_code_is_the_number_the_broker_sent() {
        assert_eq!(connack_code(&mqtt_stage(serde_json::json!(5))), Some(5.0));
        assert_eq!(connack_code(&mqtt_stage("0x87".into())), None);
    }

    #[test]
    fn an_unusable_profile_is_probe_success_0_with_a_reason() {
        let e = PlanError {
            reason: "unknown_profile",
            message: "no profile named \"x\"".into(),
        };
        let text = probe_text(&Err(e), Duration::ZERO);
        assert!(text.contains("mqtt_doctor_probe_success 0"), "{text}");
        assert!(
            text.contains("mqtt_doctor_probe_error_info{reason=\"unknown_profile\"} 1.0\n"),
            "{text}"
        );
        assert!(!text.contains("no profile named"), "{text}");
    }

    #[test]
    fn hostile_label_text_is_sanitised_then_escaped() {
        let mut reg = Registry::default();
        family(&mut reg, "x_info", "x", None)
            .get_or_create(&vec![("subject", sanitize("CN=a\"b\\c\nd\u{1b}[2J"))])
            .set(1.0);
        let mut out = String::new();
        encode(&mut out, &reg).unwrap();
        assert!(
            out.contains(r#"x_info{subject="CN=a\"b\\c\\nd\\u{1b}[2J"} 1.0"#),
            "{out}"
        );
    }
}
