//! The tls stage: handshake, facts about the session and the presented chain, and the mapping
//! of rustls errors and TLS alerts (plus what the chain shows) to causes.

use rustls::pki_types::CertificateDer;
use rustls::{AlertDescription, CertificateError, ProtocolVersion};
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::engine::Run;
use super::io::{BoxIo, Heard, Recording};
use super::tcp::round_ms;
use super::tls::{self, Observed, Recorder, Trust};
use super::{Stage, TlsInfo, probe};
use crate::certs;
use crate::explain::{
    CertRole, HandshakeError, IssuerFetch, PeerSpeaks, Problem, Refusal, VersionEvidence,
};

pub async fn run(run: &mut Run, tcp: TcpStream, peer: SocketAddr) -> Result<BoxIo, Problem> {
    let opts = run.plan.tls.clone();
    let trust = tls::trust(&opts).await;
    run.fact(Stage::Tls, "trust", trust.label.clone()).await;
    let recorder = Recorder::default();
    let setup = |config_error| Problem::TlsHandshakeFailure {
        error: HandshakeError::Setup { config_error },
    };
    let config = tls::client_config(&opts, &trust, recorder.clone()).map_err(setup)?;
    let name = run.plan.server_name();
    let server_name = tls::server_name(&name).map_err(setup)?;
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
    if let Some(id) = &opts.client
        && let Some(problem) = client_precheck(run, id).await
    {
        return Err(problem);
    }
    if let Some(gap) = client_gap(run) {
        run.fact(
            Stage::Tls,
            "client_chain",
            format!(
                "only the leaf {}: its issuer {} is not in {}",
                gap.cert, gap.missing, gap.source
            ),
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
    if let Some(id) = &opts.client {
        info.client_chain_der = id.certs.clone();
        info.client_analysis = analyze_client(run, id, &trust.anchors);
    }
    let outcome = match result {
        Err(_) => {
            let observed = recorder.take();
            record_chain(run, &mut info, &observed, &trust.anchors).await;
            run.tls_info = Some(info);
            return Err(Problem::TlsTimeout { secs });
        }
        Ok(r) => r,
    };
    let stream = match outcome {
        Ok(s) => s,
        Err(e) => {
            let observed = recorder.take();
            record_chain(run, &mut info, &observed, &trust.anchors).await;
            run.tls_info = Some(info);
            if let Some(inner) = tls::rustls_error(&e) {
                run.fact(Stage::Tls, "error", inner.to_string()).await;
            } else {
                run.fact(Stage::Tls, "error", e.to_string()).await;
            }
            let problem = classify(run, &e, &observed, &heard, peer, &trust).await;
            return Err(refine_client_refusal(
                run,
                problem,
                observed.client_cert_requested.clone(),
            ));
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
    record_chain(run, &mut info, &observed, &trust.anchors).await;
    info.verified = observed.verify_error.is_none();
    let analysis = info.analysis.clone();
    if let Some(analysis) = &analysis {
        chain_warnings(run, analysis);
        info.chain_findings = findings_text(analysis);
    }
    info.client_certificate = observed
        .client_cert_sent
        .then(|| observed.client_cert_label.clone());
    if let Some(err) = &observed.verify_error {
        // Only reachable with --insecure: the handshake went on, the problem stays visible.
        let problem = cert_problem(run, err, &observed, analysis.as_ref(), &trust).await;
        run.warn(Stage::Tls, &problem);
    }
    // The broker named the CAs it accepts and our leaf's issuer is not among them, nor in our
    // file: warn before the CONNECT that the chain lacks its intermediate.
    if let (Some(gap), Some(names)) = (client_gap(run), &observed.client_cert_requested)
        && !names.is_empty()
        && !names.contains(&gap.missing)
    {
        run.warn(Stage::Tls, &gap.problem(Some(names.clone()), None));
    }
    // Under TLS 1.3 the server judges our client certificate after we finished the handshake:
    // its refusal arrives as an alert (or a close) on the first read, which is the next
    // stage's: the mqtt flight's CONNACK or the ws stage's 101 (`late_refusal`,
    // `late_tls_problem`). No wait here.
    let judged_late =
        version == Some(ProtocolVersion::TLSv1_3) && observed.client_cert_requested.is_some();
    run.client_auth_in_flight = judged_late;
    if run.client_auth_in_flight {
        let with = if run.plan.target.transport.uses_ws() {
            "with the WebSocket upgrade"
        } else {
            "with the CONNACK"
        };
        run.fact(Stage::Tls, "client_certificate_judged", with)
            .await;
    }
    run.tls_info = Some(info);
    Ok(Box::new(stream))
}

fn client_auth_refusal(observed: &Observed, refusal: Refusal) -> Problem {
    if observed.client_cert_sent {
        Problem::TlsClientCertRejected {
            refusal,
            ours: observed.client_cert_label.clone(),
        }
    } else {
        Problem::TlsClientCertRequired {
            ca_names: observed.client_cert_requested.clone().unwrap_or_default(),
        }
    }
}

async fn record_chain(
    run: &mut Run,
    info: &mut TlsInfo,
    observed: &Observed,
    anchors: &[CertificateDer<'static>],
) {
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
    info.chain_der = chain.clone();
    info.analysis = analyze_presented(run, observed, anchors);
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

/// A close or reset where the CONNACK was due, before any byte came back, after a TLS 1.3
/// handshake in which the broker asked for a client certificate: its refusal of ours (or of
/// none), which is the tls stage's problem.
pub fn late_refusal(run: &Run, e: Option<&io::Error>) -> Option<Problem> {
    if !run.client_auth_in_flight {
        return None;
    }
    let info = run.tls_info.as_ref()?;
    let refusal = match e {
        Some(e) => Refusal::from_io(e),
        None => Refusal::Closed {
            during_handshake: false,
        },
    };
    // TLS stacks refuse a client certificate with an alert; a bare close or reset after we
    // sent one is the broker's authorization refusing the CONNECT (AWS IoT policies), which
    // the mqtt stage words.
    if info.client_certificate.is_some() && !matches!(refusal, Refusal::Alert(_) | Refusal::Tls(_))
    {
        return None;
    }
    let accepted = Some(info.client_ca_names.clone());
    Some(refine_client_refusal(
        run,
        match info.client_certificate.clone() {
            Some(ours) => Problem::TlsClientCertRejected { refusal, ours },
            None => Problem::TlsClientCertRequired {
                ca_names: info.client_ca_names.clone(),
            },
        },
        accepted,
    ))
}

/// A client leaf sent without its issuer (the --cert file holds only the leaf).
struct ClientGap {
    cert: String,
    missing: String,
    authority_key_id: Option<String>,
    source: String,
}

impl ClientGap {
    fn problem(&self, accepted: Option<Vec<String>>, refusal: Option<Refusal>) -> Problem {
        Problem::TlsClientChainIncomplete {
            gap: Box::new(crate::explain::ClientChainGap {
                cert: self.cert.clone(),
                missing: self.missing.clone(),
                authority_key_id: self.authority_key_id.clone(),
                source: self.source.clone(),
                accepted,
                refusal,
            }),
        }
    }
}

/// The client chain's gap, known before connecting: a single leaf that is not self-signed.
fn client_gap(run: &Run) -> Option<ClientGap> {
    let id = run.plan.tls.client.as_ref()?;
    let opts = certs::AnalyzeOptions {
        purpose: certs::Purpose::Client,
        ..certs::AnalyzeOptions::new(run.now_unix())
    };
    let analysis = certs::analyze(&id.certs, &opts).ok()?;
    analysis.findings.iter().find_map(|f| match &f.kind {
        certs::FindingKind::IncompleteChain {
            issuer,
            authority_key_id,
        } => Some(ClientGap {
            cert: subject_of(&analysis, f.cert.unwrap_or(0)),
            missing: issuer.clone(),
            authority_key_id: authority_key_id.clone(),
            source: id.source.clone(),
        }),
        _ => None,
    })
}

/// A refused client certificate whose file lacks its issuer, where the broker does not name
/// that issuer among the CAs it accepts: the missing intermediate is the cause, not the
/// broker's cafile.
fn refine_client_refusal(run: &Run, problem: Problem, accepted: Option<Vec<String>>) -> Problem {
    let Problem::TlsClientCertRejected { refusal, ours } = problem else {
        return problem;
    };
    match client_gap(run) {
        Some(gap)
            if !accepted
                .as_ref()
                .is_some_and(|names| names.contains(&gap.missing)) =>
        {
            gap.problem(accepted, Some(refusal))
        }
        _ => Problem::TlsClientCertRejected { refusal, ours },
    }
}

/// A TLS error read after the tls stage passed (a TLS 1.3 broker judges our client
/// certificate after our handshake finished; a slow one answers after the stage's watch).
/// It is the tls stage's problem, whichever stage read it.
pub fn late_tls_problem(run: &Run, e: &io::Error) -> Option<Problem> {
    let err = tls::rustls_error(e)?;
    let info = run.tls_info.as_ref();
    if let Some(ours) = info.and_then(|i| i.client_certificate.clone()) {
        let refusal = match err {
            rustls::Error::AlertReceived(a) => Refusal::Alert(a),
            other => Refusal::Tls(other),
        };
        let accepted = info.map(|i| i.client_ca_names.clone());
        return Some(refine_client_refusal(
            run,
            Problem::TlsClientCertRejected { refusal, ours },
            accepted,
        ));
    }
    Some(match err {
        rustls::Error::AlertReceived(
            AlertDescription::CertificateRequired | AlertDescription::HandshakeFailure,
        ) => Problem::TlsClientCertRequired {
            ca_names: info.map(|i| i.client_ca_names.clone()).unwrap_or_default(),
        },
        rustls::Error::AlertReceived(a) => Problem::TlsHandshakeFailure {
            error: HandshakeError::Alert(a),
        },
        other => Problem::TlsHandshakeFailure {
            error: HandshakeError::Rustls(other),
        },
    })
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
    trust: &Trust,
) -> Problem {
    let anchors = &trust.anchors;
    let first = heard.first_bytes();
    let speaks = probe::sniff(&first);
    if let Some(err) = tls::rustls_error(e) {
        let verify_error = observed.verify_error.clone().or(match &err {
            rustls::Error::InvalidCertificate(_) => Some(err.clone()),
            _ => None,
        });
        if let Some(v) = &verify_error {
            let analysis = analyze_presented(run, observed, anchors);
            return cert_problem(run, v, observed, analysis.as_ref(), trust).await;
        }
        return match &err {
            rustls::Error::AlertReceived(alert) => {
                let sni = run.tls_info.as_ref().and_then(|i| i.sni.clone());
                let routed = SniRoute {
                    sent: sni,
                    host: run.plan.target.host_str(),
                };
                alert_problem(alert, observed, &run.plan.tls.alpn, peer.port(), &routed)
            }
            rustls::Error::PeerIncompatible(p) => Problem::TlsProtocolVersion {
                seen: VersionEvidence::Incompatible(p.clone()),
            },
            rustls::Error::InvalidMessage(_) if speaks != PeerSpeaks::Tls => {
                not_tls(run, speaks, peer).await
            }
            other => Problem::TlsHandshakeFailure {
                error: HandshakeError::Rustls(other.clone()),
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
            Refusal::Closed {
                during_handshake: true,
            },
        );
    }
    Problem::TlsHandshakeFailure {
        error: HandshakeError::Io {
            kind: e.kind(),
            os_error: e.to_string(),
        },
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

/// The server name we sent (none for an IP literal) and the URL's host.
struct SniRoute {
    sent: Option<String>,
    host: String,
}

impl SniRoute {
    /// No name, or another name than the URL's host (--sni): what SNI-routing front ends
    /// answer with a generic failure.
    fn unusual(&self) -> bool {
        match &self.sent {
            None => true,
            Some(name) => !name.eq_ignore_ascii_case(self.host.trim_matches(['[', ']'])),
        }
    }

    fn problem(&self, alert: AlertDescription) -> Problem {
        Problem::TlsSniRejected {
            sent: self.sent.clone(),
            host: self.host.clone(),
            alert,
        }
    }
}

fn alert_problem(
    alert: &AlertDescription,
    observed: &Observed,
    alpn: &[String],
    port: u16,
    sni: &SniRoute,
) -> Problem {
    use AlertDescription as A;
    let refused = || client_auth_refusal(observed, Refusal::Alert(*alert));
    match alert {
        A::CertificateRequired => refused(),
        A::HandshakeFailure if observed.client_cert_requested.is_some() => refused(),
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
            refused()
        }
        A::NoApplicationProtocol => Problem::TlsAlpnRejected {
            offered: alpn.to_vec(),
            port,
        },
        A::UnrecognisedName => sni.problem(*alert),
        A::HandshakeFailure | A::InternalError if sni.unusual() => sni.problem(*alert),
        A::ProtocolVersion => Problem::TlsProtocolVersion {
            seen: VersionEvidence::Alert(*alert),
        },
        _ => Problem::TlsHandshakeFailure {
            error: HandshakeError::Alert(*alert),
        },
    }
}

/// The chain analysis of the presented chain against the trust anchors in use, host and clock.
fn analyze_presented(
    run: &Run,
    observed: &Observed,
    anchors: &[CertificateDer<'static>],
) -> Option<certs::Analysis> {
    let chain = observed.chain.as_ref()?;
    let host = run.plan.server_name();
    let opts = certs::AnalyzeOptions {
        host: Some(&host),
        now: run.now_unix(),
        anchors,
        purpose: certs::Purpose::Server,
        key: None,
        expiry_warning_days: 30,
    };
    certs::analyze(chain, &opts).ok()
}

/// The analysis of the client chain we send, as a client chain (clientAuth, no host) against
/// the run's trust anchors and clock, with the key compared to its leaf.
fn analyze_client(
    run: &Run,
    id: &super::ClientIdentity,
    anchors: &[CertificateDer<'static>],
) -> Option<certs::Analysis> {
    let opts = certs::AnalyzeOptions {
        host: None,
        now: run.now_unix(),
        anchors,
        purpose: certs::Purpose::Client,
        key: Some(&id.key),
        expiry_warning_days: 30,
    };
    certs::analyze(&id.certs, &opts).ok()
}

fn findings_text(analysis: &certs::Analysis) -> Vec<String> {
    crate::explain::chain_findings(analysis)
}

fn role_of(analysis: &certs::Analysis, i: usize) -> CertRole {
    match analysis.order.iter().position(|&o| o == i) {
        Some(0) => CertRole::Leaf,
        _ if analysis.certs.get(i).is_some_and(|c| c.self_signed) => CertRole::Root,
        None if i == 0 => CertRole::Leaf,
        _ => CertRole::Intermediate,
    }
}

fn subject_of(analysis: &certs::Analysis, i: usize) -> String {
    analysis
        .certs
        .get(i)
        .map(|c| c.subject.clone())
        .unwrap_or_default()
}

/// Warnings a working chain still deserves: expiring soon, out of order, weak algorithms.
fn chain_warnings(run: &mut Run, analysis: &certs::Analysis) {
    use certs::FindingKind as K;
    for f in &analysis.findings {
        let i = f.cert.unwrap_or(0);
        let problem = match &f.kind {
            K::ExpiresSoon { not_after, .. } => Problem::TlsExpiresSoon {
                role: role_of(analysis, i),
                subject: subject_of(analysis, i),
                not_after: *not_after,
                now: analysis.now,
            },
            K::OutOfOrder {
                presented,
                expected,
            } => Problem::TlsChainOutOfOrder {
                presented: presented.clone(),
                expected: expected.clone(),
            },
            K::WeakSignature { algorithm } => Problem::TlsWeakSignature {
                subject: subject_of(analysis, i),
                algorithm: algorithm.clone(),
            },
            K::WeakKey { key_type, bits } => Problem::TlsWeakKey {
                subject: subject_of(analysis, i),
                key_type: key_type.clone(),
                bits: *bits,
            },
            _ => continue,
        };
        run.warn(Stage::Tls, &problem);
    }
}

/// Before connecting: does the client key belong to the client certificate?
async fn client_precheck(run: &mut Run, id: &super::ClientIdentity) -> Option<Problem> {
    let opts = certs::AnalyzeOptions {
        host: None,
        now: run.now_unix(),
        anchors: &[],
        purpose: certs::Purpose::Client,
        key: Some(&id.key),
        expiry_warning_days: 30,
    };
    let analysis = certs::analyze(&id.certs, &opts).ok()?;
    for f in &analysis.findings {
        match &f.kind {
            certs::FindingKind::KeyMismatch { .. } => {
                run.fact(
                    Stage::Tls,
                    "client_key",
                    "does not match the client certificate",
                )
                .await;
                return Some(Problem::TlsClientKeyMismatch {
                    cert: subject_of(&analysis, 0),
                    source: id.source.clone(),
                });
            }
            certs::FindingKind::KeyMatches => {
                run.fact(Stage::Tls, "client_key", "matches the client certificate")
                    .await;
            }
            certs::FindingKind::Expired { .. }
            | certs::FindingKind::NotYetValid { .. }
            | certs::FindingKind::BadEku { .. } => {
                let sentence = crate::explain::finding_sentence(f, &analysis.certs);
                run.fact(Stage::Tls, "client_certificate_problem", sentence)
                    .await;
            }
            _ => {}
        }
    }
    None
}

/// Maps a certificate verification error to a cause, naming the concrete certificate from the
/// chain analysis, with the other faults of that certificate (an expired certificate for
/// another name is both) and every finding about it as a fact.
async fn cert_problem(
    run: &mut Run,
    err: &rustls::Error,
    observed: &Observed,
    analysis: Option<&certs::Analysis>,
    trust: &Trust,
) -> Problem {
    let main = decisive_problem(run, err, observed, analysis, trust).await;
    let Some(analysis) = analysis else {
        return main;
    };
    let Some(at) = decisive_cert(&main, analysis) else {
        return main;
    };
    let sentences: Vec<String> = analysis
        .findings_for(Some(at))
        .map(|f| crate::explain::finding_sentence(f, &analysis.certs))
        .collect();
    if !sentences.is_empty() {
        run.fact(Stage::Tls, "decisive_certificate_findings", sentences)
            .await;
    }
    let also: Vec<Problem> = analysis
        .findings_for(Some(at))
        .filter(|f| f.severity == certs::Severity::Error)
        .filter_map(|f| finding_problem(run, analysis, at, &f.kind))
        .filter(|p| p.cause() != main.cause())
        .collect();
    if also.is_empty() {
        main
    } else {
        Problem::Also {
            main: Box::new(main),
            also,
        }
    }
}

/// The certificate the verdict is about.
fn decisive_cert(main: &Problem, analysis: &certs::Analysis) -> Option<usize> {
    let by_subject = |subject: &str| analysis.certs.iter().position(|c| c.subject == subject);
    let leaf = analysis.order.first().copied();
    match main {
        Problem::TlsCertExpired { subject, .. }
        | Problem::TlsCertNotYetValid { subject, .. }
        | Problem::TlsBadEku { subject, .. } => by_subject(subject),
        Problem::TlsHostnameMismatch { .. } | Problem::TlsCnOnly { .. } => leaf,
        _ => None,
    }
}

/// A certificate finding that would fail the handshake on its own, as a problem.
fn finding_problem(
    run: &Run,
    analysis: &certs::Analysis,
    i: usize,
    kind: &certs::FindingKind,
) -> Option<Problem> {
    use certs::FindingKind as K;
    Some(match kind {
        K::Expired { not_after, .. } => Problem::TlsCertExpired {
            role: role_of(analysis, i),
            subject: subject_of(analysis, i),
            not_after: *not_after,
            now: analysis.now,
        },
        K::NotYetValid { not_before, .. } => Problem::TlsCertNotYetValid {
            role: role_of(analysis, i),
            subject: subject_of(analysis, i),
            not_before: *not_before,
            now: analysis.now,
        },
        K::HostnameMismatch { names, .. } => Problem::TlsHostnameMismatch {
            expected: run.plan.server_name(),
            names: names.clone(),
        },
        K::CnOnly {
            cn,
            host_matches_cn: Some(m),
            ..
        } => Problem::TlsCnOnly {
            cn: cn.clone(),
            expected: run.plan.server_name(),
            cn_matches: *m,
        },
        K::BadEku { present, .. } => Problem::TlsBadEku {
            subject: subject_of(analysis, i),
            present: present.clone(),
        },
        K::WeakSignature { algorithm } => Problem::TlsWeakSignature {
            subject: subject_of(analysis, i),
            algorithm: algorithm.clone(),
        },
        K::WeakKey { key_type, bits } => Problem::TlsWeakKey {
            subject: subject_of(analysis, i),
            key_type: key_type.clone(),
            bits: *bits,
        },
        _ => return None,
    })
}

/// Downloads the issuer missing above presented certificate `i` from its caIssuers URL
/// (bounded by the stage's deadline and at most 3 s) and checks whether the chain verifies
/// with it. `None` when the certificate names no caIssuers URL.
async fn issuer_fetch(
    run: &mut Run,
    observed: &Observed,
    i: usize,
    trust: &Trust,
) -> Option<IssuerFetch> {
    let chain = observed.chain.as_ref()?;
    let url = tls::ca_issuers_url(chain.get(i)?)?;
    run.fact(Stage::Tls, "issuer_download", crate::text::sanitize(&url))
        .await;
    if !url.starts_with("http://") {
        return Some(IssuerFetch::NotHttp { url });
    }
    let deadline = run.timeout().min(Duration::from_secs(3));
    let started = Instant::now();
    let fetched = super::aia::fetch(&url, deadline).await;
    run.fact(
        Stage::Tls,
        "issuer_download_ms",
        round_ms(started.elapsed()),
    )
    .await;
    let der = match fetched {
        Ok(der) => der,
        Err(reason) => return Some(IssuerFetch::Failed { url, reason }),
    };
    let subject = tls::summarize(&der).subject;
    let mut intermediates: Vec<CertificateDer<'static>> = chain[1..].to_vec();
    intermediates.push(der);
    let verdict = if trust.roots.is_empty() {
        Err(rustls::Error::InvalidCertificate(
            CertificateError::UnknownIssuer,
        ))
    } else {
        let name = tls::server_name(&run.plan.server_name());
        let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
            trust.roots.clone(),
            tls::provider(),
        )
        .build();
        match (name, verifier) {
            (Ok(name), Ok(v)) => {
                use rustls::client::danger::ServerCertVerifier;
                v.verify_server_cert(
                    &chain[0],
                    &intermediates,
                    &name,
                    &[],
                    rustls::pki_types::UnixTime::now(),
                )
                .map(|_| ())
            }
            (Err(e), _) => Err(rustls::Error::General(e)),
            (_, Err(e)) => Err(rustls::Error::General(e.to_string())),
        }
    };
    Some(IssuerFetch::Fetched {
        url,
        subject,
        verifies: verdict.is_ok(),
        still: verdict.err(),
    })
}

async fn decisive_problem(
    run: &mut Run,
    err: &rustls::Error,
    observed: &Observed,
    analysis: Option<&certs::Analysis>,
    trust: &Trust,
) -> Problem {
    use certs::FindingKind as K;
    let rustls::Error::InvalidCertificate(ce) = err else {
        return Problem::TlsHandshakeFailure {
            error: HandshakeError::Rustls(err.clone()),
        };
    };
    let Some(analysis) = analysis else {
        return Problem::TlsHandshakeFailure {
            error: HandshakeError::Unanalysed(ce.clone()),
        };
    };
    if let Some(info) = run.tls_info.as_mut() {
        info.chain_findings = findings_text(analysis);
    }
    let now = run.now_unix();
    let find = |pred: &dyn Fn(&K) -> bool| {
        analysis
            .order
            .iter()
            .copied()
            .chain(0..analysis.certs.len())
            .find_map(|i| {
                analysis
                    .findings
                    .iter()
                    .find(|f| f.cert == Some(i) && pred(&f.kind))
                    .map(|f| (i, f.kind.clone()))
            })
            .or_else(|| {
                analysis
                    .findings
                    .iter()
                    .find(|f| pred(&f.kind))
                    .map(|f| (f.cert.unwrap_or(0), f.kind.clone()))
            })
    };
    let trust_label = run
        .tls_info
        .as_ref()
        .map(|t| t.trust.clone())
        .unwrap_or_default();
    match ce {
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            run.fact(Stage::Tls, "local_clock", certs::rfc3339(now))
                .await;
            match find(&|k| matches!(k, K::Expired { .. })) {
                Some((i, K::Expired { not_after, .. })) => Problem::TlsCertExpired {
                    role: role_of(analysis, i),
                    subject: subject_of(analysis, i),
                    not_after,
                    now: analysis.now,
                },
                _ => Problem::TlsHandshakeFailure {
                    error: HandshakeError::Rustls(err.clone()),
                },
            }
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            run.fact(Stage::Tls, "local_clock", certs::rfc3339(now))
                .await;
            match find(&|k| matches!(k, K::NotYetValid { .. })) {
                Some((i, K::NotYetValid { not_before, .. })) => Problem::TlsCertNotYetValid {
                    role: role_of(analysis, i),
                    subject: subject_of(analysis, i),
                    not_before,
                    now: analysis.now,
                },
                _ => Problem::TlsHandshakeFailure {
                    error: HandshakeError::Rustls(err.clone()),
                },
            }
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            if let Some((
                _,
                K::CnOnly {
                    cn,
                    host_matches_cn,
                    ..
                },
            )) = find(&|k| matches!(k, K::CnOnly { .. }))
            {
                return Problem::TlsCnOnly {
                    cn,
                    expected: run.plan.server_name(),
                    cn_matches: host_matches_cn.unwrap_or(false),
                };
            }
            let names = analysis
                .certs
                .first()
                .map(|c| {
                    c.dns_names
                        .iter()
                        .chain(c.ip_addresses.iter())
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
            if let Some((i, _)) = find(&|k| matches!(k, K::SelfSignedLeaf { trusted: false })) {
                return Problem::TlsSelfSigned {
                    subject: subject_of(analysis, i),
                    trust: trust_label,
                };
            }
            // Only the leaf was sent and its issuer is neither sent nor trusted: an incomplete
            // chain (what Node calls "unable to verify the first certificate"), whether the
            // issuer is an intermediate or a private root; the words cover both.
            if let Some((
                i,
                K::IncompleteChain {
                    issuer,
                    authority_key_id,
                },
            )) = find(&|k| matches!(k, K::IncompleteChain { .. }))
            {
                let fetch = issuer_fetch(run, observed, i, trust).await.map(Box::new);
                return Problem::TlsIncompleteChain {
                    leaf: subject_of(analysis, i),
                    missing: issuer,
                    authority_key_id,
                    fetch,
                };
            }
            // Several certificates whose top is not trusted: an untrusted root, unless the
            // top names a caIssuers URL (public CAs put one in what they issue), which says
            // one more intermediate exists.
            if let Some((
                i,
                K::MissingIntermediate {
                    issuer,
                    authority_key_id,
                },
            )) = find(&|k| matches!(k, K::MissingIntermediate { .. }))
            {
                if let Some(fetch) = issuer_fetch(run, observed, i, trust).await {
                    return Problem::TlsIncompleteChain {
                        leaf: subject_of(analysis, i),
                        missing: issuer,
                        authority_key_id,
                        fetch: Some(Box::new(fetch)),
                    };
                }
                return Problem::TlsUntrustedRoot {
                    issuer,
                    trust: trust_label,
                };
            }
            let issuer = match find(&|k| matches!(k, K::UntrustedRoot { .. })) {
                Some((_, K::UntrustedRoot { issuer_or_root })) => issuer_or_root,
                _ => analysis
                    .order
                    .last()
                    .and_then(|&i| analysis.certs.get(i))
                    .map(|c| c.issuer.clone())
                    .unwrap_or_else(|| "an unknown issuer".into()),
            };
            Problem::TlsUntrustedRoot {
                issuer,
                trust: trust_label,
            }
        }
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            match find(&|k| matches!(k, K::BadEku { .. })) {
                Some((i, K::BadEku { present, .. })) => Problem::TlsBadEku {
                    subject: subject_of(analysis, i),
                    present,
                },
                _ => Problem::TlsBadEku {
                    subject: subject_of(analysis, 0),
                    present: vec![],
                },
            }
        }
        _ => Problem::TlsHandshakeFailure {
            error: HandshakeError::Rustls(err.clone()),
        },
    }
}
