//! The tls stage: handshake, facts about the session and the presented chain, and the mapping
//! of rustls errors and TLS alerts (plus what the chain shows) to causes.

use rustls::{AlertDescription, CertificateError, ProtocolVersion};
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::engine::Run;
use super::io::{BoxIo, Heard, Prefixed, Recording};
use super::tcp::round_ms;
use super::tls::{self, Observed, Recorder};
use super::{Stage, TlsInfo, probe};
use crate::explain::{CertRole, PeerSpeaks, Problem};

pub async fn run(run: &mut Run, tcp: TcpStream, peer: SocketAddr) -> Result<BoxIo, Problem> {
    let opts = run.plan.tls.clone();
    let trust = tls::trust(&opts);
    run.fact(Stage::Tls, "trust", trust.label.clone()).await;
    let recorder = Recorder::default();
    let config = tls::client_config(&opts, &trust, recorder.clone())
        .map_err(|error| Problem::TlsHandshakeFailure { error })?;
    let name = run.plan.server_name();
    let server_name =
        tls::server_name(&name).map_err(|error| Problem::TlsHandshakeFailure { error })?;
    let sni = match server_name {
        rustls::pki_types::ServerName::DnsName(_) => Some(name.clone()),
        _ => None,
    };
    run.fact(
        Stage::Tls,
        "sni",
        sni.clone()
            .unwrap_or_else(|| format!("none (verifying the IP address {name})")),
    )
    .await;
    if !opts.alpn.is_empty() {
        run.fact(Stage::Tls, "alpn_offered", opts.alpn.clone())
            .await;
    }
    if let Some(id) = &opts.client {
        run.fact(Stage::Tls, "client_certificate", id.source.clone())
            .await;
    }
    if opts.insecure {
        run.fact(
            Stage::Tls,
            "verification",
            "disabled by --insecure: problems are reported as warnings",
        )
        .await;
    }
    let (stream, heard) = Recording::new(tcp);
    let started = Instant::now();
    let connector = TlsConnector::from(config);
    let result = tokio::time::timeout(run.timeout(), connector.connect(server_name, stream)).await;
    let secs = run.timeout().as_secs().max(1);
    let mut info = TlsInfo {
        sni,
        trust: trust.label.clone(),
        ..Default::default()
    };
    let outcome = match result {
        Err(_) => {
            let observed = recorder.take();
            record_chain(run, &mut info, &observed).await;
            run.tls_info = Some(info);
            return Err(Problem::TlsTimeout { secs });
        }
        Ok(r) => r,
    };
    let mut stream = match outcome {
        Ok(s) => s,
        Err(e) => {
            let observed = recorder.take();
            record_chain(run, &mut info, &observed).await;
            run.tls_info = Some(info);
            if let Some(inner) = rustls_error(&e) {
                run.fact(Stage::Tls, "error", inner.to_string()).await;
            } else {
                run.fact(Stage::Tls, "error", e.to_string()).await;
            }
            return Err(classify(run, &e, &observed, &heard, peer).await);
        }
    };
    let handshake = started.elapsed();
    let (version, suite, alpn) = {
        let (_, conn) = stream.get_ref();
        (
            conn.protocol_version(),
            conn.negotiated_cipher_suite()
                .map(|s| format!("{:?}", s.suite())),
            conn.alpn_protocol()
                .map(|p| String::from_utf8_lossy(p).into_owned()),
        )
    };
    let version_label = version
        .map(version_name)
        .unwrap_or_else(|| "unknown".into());
    run.fact(Stage::Tls, "version", version_label.clone()).await;
    if let Some(s) = &suite {
        run.fact(Stage::Tls, "cipher_suite", s.clone()).await;
    }
    run.fact(
        Stage::Tls,
        "alpn",
        alpn.clone().unwrap_or_else(|| "none".into()),
    )
    .await;
    run.fact(Stage::Tls, "handshake_ms", round_ms(handshake))
        .await;
    info.version = Some(version_label);
    info.cipher_suite = suite;
    info.alpn = alpn;
    let observed = recorder.take();
    record_chain(run, &mut info, &observed).await;
    info.verified = observed.verify_error.is_none();
    if let Some(err) = &observed.verify_error {
        // Only reachable with --insecure: the handshake went on, the problem stays visible.
        let problem = cert_problem(run, err, &observed).await;
        run.warn(Stage::Tls, &problem);
    }
    // Under TLS 1.3 the server judges our client certificate after we finished the handshake:
    // its refusal arrives as an alert on the first read. Watch briefly so it lands here.
    let mut prefix = Vec::new();
    if version == Some(ProtocolVersion::TLSv1_3) && observed.client_cert_requested.is_some() {
        let grace = (handshake * 2 + Duration::from_millis(50)).min(run.timeout());
        let mut byte = [0u8; 1];
        match tokio::time::timeout(grace, stream.read(&mut byte)).await {
            Err(_) => {}
            Ok(Ok(0)) => {
                run.tls_info = Some(info);
                return Err(client_auth_refusal(
                    &observed,
                    "closed the connection right after the handshake".into(),
                ));
            }
            Ok(Ok(n)) => prefix.extend_from_slice(&byte[..n]),
            Ok(Err(e)) => {
                run.tls_info = Some(info);
                let desc = rustls_error(&e)
                    .map(|r| describe_rustls(&r))
                    .unwrap_or_else(|| e.to_string());
                run.fact(Stage::Tls, "error", desc.clone()).await;
                return Err(client_auth_refusal(&observed, desc));
            }
        }
    }
    run.tls_info = Some(info);
    Ok(Box::new(Prefixed::new(prefix, stream)))
}

fn client_auth_refusal(observed: &Observed, detail: String) -> Problem {
    if observed.client_cert_sent {
        Problem::TlsClientCertRejected { alert: detail }
    } else {
        Problem::TlsClientCertRequired {
            ca_names: observed.client_cert_requested.clone().unwrap_or_default(),
        }
    }
}

async fn record_chain(run: &mut Run, info: &mut TlsInfo, observed: &Observed) {
    if let Some(requested) = &observed.client_cert_requested {
        info.client_ca_names = requested.iter().map(|n| crate::text::sanitize(n)).collect();
        run.fact(
            Stage::Tls,
            "client_certificate_requested",
            if requested.is_empty() {
                "yes (the server names no CA)".to_string()
            } else {
                format!("yes, issued by: {}", requested.join("; "))
            },
        )
        .await;
    }
    let Some(chain) = &observed.chain else {
        return;
    };
    info.chain = chain.iter().map(|c| tls::summarize(c)).collect();
    let lines: Vec<String> = info
        .chain
        .iter()
        .enumerate()
        .map(|(i, c)| {
            format!(
                "#{i} {} (issuer {}; valid {} to {})",
                c.subject, c.issuer, c.not_before, c.not_after
            )
        })
        .collect();
    run.fact(Stage::Tls, "presented_chain", lines).await;
}

/// The rustls error inside an io::Error from tokio-rustls, if there is one.
pub fn rustls_error(e: &io::Error) -> Option<rustls::Error> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .cloned()
}

fn describe_rustls(e: &rustls::Error) -> String {
    match e {
        rustls::Error::AlertReceived(a) => tls::alert_name(a),
        other => other.to_string(),
    }
}

pub fn version_name(v: ProtocolVersion) -> String {
    match v {
        ProtocolVersion::TLSv1_3 => "TLS 1.3".into(),
        ProtocolVersion::TLSv1_2 => "TLS 1.2".into(),
        ProtocolVersion::TLSv1_1 => "TLS 1.1".into(),
        ProtocolVersion::TLSv1_0 => "TLS 1.0".into(),
        other => format!("{other:?}"),
    }
}

async fn classify(
    run: &mut Run,
    e: &io::Error,
    observed: &Observed,
    heard: &Heard,
    peer: SocketAddr,
) -> Problem {
    let first = heard.first_bytes();
    let speaks = probe::sniff(&first);
    if let Some(err) = rustls_error(e) {
        if let Some(v) = &observed.verify_error {
            return cert_problem(run, v, observed).await;
        }
        return match &err {
            rustls::Error::InvalidCertificate(_) => cert_problem(run, &err, observed).await,
            rustls::Error::AlertReceived(alert) => alert_problem(alert, observed),
            rustls::Error::PeerIncompatible(p) => Problem::TlsProtocolVersion {
                detail: format!("{p:?}"),
            },
            rustls::Error::InvalidMessage(_) if speaks != PeerSpeaks::Tls => {
                not_tls(run, speaks, peer).await
            }
            other => Problem::TlsHandshakeFailure {
                error: other.to_string(),
            },
        };
    }
    let abrupt = matches!(
        e.kind(),
        io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
    );
    if abrupt && speaks != PeerSpeaks::Tls {
        return not_tls(run, speaks, peer).await;
    }
    if abrupt && observed.client_cert_requested.is_some() {
        return client_auth_refusal(
            observed,
            "closed the connection during the handshake".into(),
        );
    }
    Problem::TlsHandshakeFailure {
        error: format!("the connection failed during the handshake: {e}"),
    }
}

async fn not_tls(run: &mut Run, speaks: PeerSpeaks, peer: SocketAddr) -> Problem {
    let port = peer.port();
    run.fact(
        Stage::Tls,
        "peer_answered",
        if speaks == PeerSpeaks::Nothing {
            "nothing: the connection was closed or reset".to_string()
        } else {
            speaks.label().to_string()
        },
    )
    .await;
    if matches!(speaks, PeerSpeaks::Nothing | PeerSpeaks::Unknown) {
        let probe_deadline = run.timeout().min(Duration::from_secs(3));
        let found = probe::plain_mqtt(peer, probe_deadline).await;
        run.fact(
            Stage::Tls,
            "probe_plain_mqtt",
            match found {
                PeerSpeaks::PlainMqtt => "a plain MQTT CONNECT got a CONNACK".to_string(),
                other => format!("a plain MQTT CONNECT got {}", other.label()),
            },
        )
        .await;
        if found == PeerSpeaks::PlainMqtt {
            return Problem::TlsNotTls {
                speaks: PeerSpeaks::PlainMqtt,
                port,
            };
        }
    }
    Problem::TlsNotTls { speaks, port }
}

fn alert_problem(alert: &AlertDescription, observed: &Observed) -> Problem {
    let name = tls::alert_name(alert);
    use AlertDescription as A;
    match alert {
        A::CertificateRequired => client_auth_refusal(observed, name),
        A::HandshakeFailure if observed.client_cert_requested.is_some() => {
            client_auth_refusal(observed, name)
        }
        A::BadCertificate
        | A::UnknownCA
        | A::CertificateExpired
        | A::CertificateRevoked
        | A::CertificateUnknown
        | A::UnsupportedCertificate
        | A::AccessDenied
        | A::DecryptError
            if observed.client_cert_requested.is_some() =>
        {
            client_auth_refusal(observed, name)
        }
        A::ProtocolVersion => Problem::TlsProtocolVersion {
            detail: format!("the server answered with {name}"),
        },
        _ => Problem::TlsHandshakeFailure {
            error: format!("the server sent {name}"),
        },
    }
}

/// Maps a certificate verification error to a cause, naming the concrete certificate from the
/// recorded chain.
async fn cert_problem(run: &mut Run, err: &rustls::Error, observed: &Observed) -> Problem {
    let chain = observed.chain.clone().unwrap_or_default();
    let summaries: Vec<_> = chain.iter().map(|c| tls::summarize(c)).collect();
    let now = run.now_unix();
    let role = |i: usize| {
        if i == 0 {
            CertRole::Leaf
        } else if summaries.get(i).is_some_and(|s| s.self_signed) {
            CertRole::Root
        } else {
            CertRole::Intermediate
        }
    };
    let rustls::Error::InvalidCertificate(ce) = err else {
        return Problem::TlsHandshakeFailure {
            error: err.to_string(),
        };
    };
    match ce {
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            let found = chain.iter().enumerate().find_map(|(i, c)| {
                let (_, not_after) = tls::validity(c)?;
                (not_after < now).then_some((i, not_after))
            });
            let (i, not_after) = found.unwrap_or((0, now));
            run.fact(Stage::Tls, "local_clock", tls::rfc3339(now)).await;
            Problem::TlsCertExpired {
                role: role(i),
                subject: summaries
                    .get(i)
                    .map(|s| s.subject.clone())
                    .unwrap_or_default(),
                not_after: tls::rfc3339(not_after),
                ago: tls::human_duration(now - not_after),
            }
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            let found = chain.iter().enumerate().find_map(|(i, c)| {
                let (not_before, _) = tls::validity(c)?;
                (not_before > now).then_some((i, not_before))
            });
            let (i, not_before) = found.unwrap_or((0, now));
            run.fact(Stage::Tls, "local_clock", tls::rfc3339(now)).await;
            Problem::TlsCertNotYetValid {
                role: role(i),
                subject: summaries
                    .get(i)
                    .map(|s| s.subject.clone())
                    .unwrap_or_default(),
                not_before: tls::rfc3339(not_before),
                in_: tls::human_duration(not_before - now),
            }
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            let names = summaries
                .first()
                .map(|s| {
                    s.dns_names
                        .iter()
                        .chain(s.ip_addresses.iter())
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            Problem::TlsHostnameMismatch {
                expected: run.plan.server_name(),
                names,
            }
        }
        CertificateError::UnknownIssuer => {
            let issuer = summaries
                .last()
                .map(|s| s.issuer.clone())
                .unwrap_or_else(|| "an unknown issuer".into());
            Problem::TlsUntrustedRoot {
                issuer,
                trust: run
                    .tls_info
                    .as_ref()
                    .map(|t| t.trust.clone())
                    .unwrap_or_else(|| tls::trust(&run.plan.tls).label),
            }
        }
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            Problem::TlsBadEku {
                subject: summaries
                    .first()
                    .map(|s| s.subject.clone())
                    .unwrap_or_default(),
            }
        }
        other => Problem::TlsHandshakeFailure {
            error: format!("the certificate was refused: {other:?}"),
        },
    }
}
