//! A verdict's stage and cause agree: a TLS 1.3 refusal of our client certificate that
//! arrives after the handshake (during the CONNACK wait) is still the tls stage's failure.
//! (That over the whole lab each verdict's stage is its cause's stage: tests/lab_causes.rs.)

mod common;

use mqtt_doctor::lab::pki::LabPki;
use mqtt_doctor::lab::{self, Behavior, Script};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};
use std::sync::Arc;
use std::time::Duration;

/// A broker's client-certificate check that takes its time, like one asking a database or
/// an OCSP responder: the refusal comes well after the client finished its TLS 1.3 handshake
/// and has sent its CONNECT.
#[derive(Debug)]
struct SlowVerifier {
    inner: Arc<dyn ClientCertVerifier>,
    delay: Duration,
}

impl ClientCertVerifier for SlowVerifier {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        // Blocks one worker of the lab's runtime (the test runs two); the client is another
        // process.
        std::thread::sleep(self.delay);
        self.inner
            .verify_client_cert(end_entity, intermediates, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_cert_refusal_after_the_tls13_handshake_is_a_tls_failure() {
    let pki = LabPki::generate(time::OffsetDateTime::now_utc()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut client_roots = rustls::RootCertStore::empty();
    client_roots.add(pki.client_ca.issued.cert.clone()).unwrap();
    let webpki = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(client_roots),
        provider.clone(),
    )
    .build()
    .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_client_cert_verifier(Arc::new(SlowVerifier {
            inner: webpki,
            delay: Duration::from_millis(800),
        }))
        .with_single_cert(pki.chain(&pki.good), pki.good.key_der())
        .unwrap();
    let (addr, _task) = lab::listen(Behavior::Tls {
        config: Arc::new(config),
        inner: Box::new(Behavior::Mqtt(Script::default())),
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: String| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let ca = write("ca.pem", pki.root.issued.cert_pem());
    // A client certificate from a CA the broker does not trust, sent with that CA's root:
    // unknown_ca.
    let cert = write(
        "rogue.pem",
        pki.rogue_client.cert_pem() + &pki.rogue_root.issued.cert_pem(),
    );
    let key = write("rogue.key", pki.rogue_client.key_pem());
    let args: Vec<String> = [
        &format!("mqtts://localhost:{}", addr.port()),
        "--ca",
        &ca,
        "--cert",
        &cert,
        "--key",
        &key,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (code, json, _) = common::check_json_async(&args, &[]).await;
    let verdict = &json["verdict"];
    assert_eq!(verdict["stage"], "tls", "{json:#}");
    assert_eq!(verdict["cause"], "tls.client_cert_rejected", "{json:#}");
    assert_eq!(code, 12, "{json:#}");
    let summary = verdict["summary"].as_str().unwrap();
    assert!(
        summary.contains("TLS alert unknown_ca (48)")
            && summary.contains("issued by O=mqtt-doctor lab, CN=Unknown Rogue CA"),
        "{summary}"
    );
    let status = |stage: &str| {
        json["stages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["stage"] == stage)
            .map(|s| s["status"].clone())
    };
    assert_eq!(status("tls"), Some("failed".into()), "{json:#}");
    assert_eq!(status("mqtt"), Some("skipped".into()), "{json:#}");
    // The refusal came late: the mqtt stage had sent its CONNECT and was waiting.
    let mqtt = json["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == "mqtt")
        .unwrap();
    assert!(mqtt["facts"]["connect"].is_string(), "{json:#}");
    assert_eq!(
        mqtt["summary"],
        "skipped: the TLS stage failed while this stage waited for its answer"
    );
    assert_eq!(status("sub"), Some("skipped".into()), "{json:#}");
}
