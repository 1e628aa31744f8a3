//! The mqtt stage (CONNECT/CONNACK, with the 3.1.1 retry) and the sub stage (SUBSCRIBE/SUBACK
//! and a message round trip on a private topic), sent in one pipelined flight when it can be.

use bytes::BytesMut;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::time::timeout;

use super::engine::Run;
use super::io::BoxIo;
use super::plan::MqttVersion;
use super::tcp::round_ms;
use super::wire::{self, Frame, WireError};
use super::{Stage, azure, probe};
use crate::explain::{
    Awaited, Ended, NotMqttEvidence, PeerSpeaks, Problem, Sent, connack_name, puback_name,
    suback_name,
};

/// A connected MQTT session, handed from the mqtt stage to the sub stage.
pub struct Session {
    io: BoxIo,
    buf: BytesMut,
    version: MqttVersion,
    peer: SocketAddr,
    /// The sub stage's packets, already sent behind the CONNECT.
    flight: Option<Flight>,
}

/// The sub stage's packets: the SUBSCRIBE and, unless --no-publish, the round-trip PUBLISH.
struct SubPackets {
    filters: Vec<(String, u8)>,
    subscribe: BytesMut,
    /// The nonce the echo must carry, and the PUBLISH that carries it.
    publish: Option<(String, BytesMut)>,
}

/// Sub-stage packets sent in the CONNECT's flight, and when: the sub stage times its answers
/// from the moment its packets left, not from the moment it started reading.
struct Flight {
    packets: SubPackets,
    sent: Instant,
}

fn connect_packet(run: &Run, version: MqttVersion) -> Result<BytesMut, Problem> {
    let o = &run.plan.mqtt;
    wire::encode_connect(&wire::ConnectParams {
        version,
        client_id: &o.client_id,
        keep_alive: o.keep_alive,
        clean_start: o.clean_start,
        username: o.username.as_deref(),
        password: o.password.as_ref().map(|p| p.expose()),
    })
    .map_err(|e| Problem::MqttClosedWithoutConnack {
        how: Ended::NotSent {
            encode_error: e.to_string(),
        },
    })
}

/// MQTT lets a client send before its CONNACK (a refusing broker answers CONNACK != 0 and drops
/// the rest), so the sub stage's packets ride behind the CONNECT: one round trip instead of
/// three. Only when the sub stage will run and its packets encode (else the sub stage reports).
fn pipeline(run: &Run, version: MqttVersion) -> Option<SubPackets> {
    if run.plan.stop_after.is_some() {
        return None;
    }
    sub_packets(run, version).ok()
}

pub async fn connect(run: &mut Run, io: BoxIo, peer: SocketAddr) -> Result<Session, Problem> {
    let mut io = io;
    local_checks(run);
    let mut version = run.plan.mqtt.version;
    loop {
        let started = Instant::now();
        let mut buf = BytesMut::new();
        let mut packet = connect_packet(run, version)?;
        let pipelined = pipeline(run, version);
        let o = &run.plan.mqtt;
        let mut description = format!(
            "MQTT {}, client id {:?}, keep alive {} s, {}",
            version.label(),
            o.client_id,
            o.keep_alive,
            if o.clean_start {
                "clean start"
            } else {
                "resume session"
            }
        );
        if let Some(u) = &o.username {
            description.push_str(&format!(", user name {u:?}"));
        }
        description.push_str(if o.password.is_some() {
            ", password given"
        } else {
            ", no password"
        });
        run.fact(Stage::Mqtt, "connect", description).await;
        if let Some(p) = &pipelined {
            let mut sent = vec!["SUBSCRIBE"];
            packet.extend_from_slice(&p.subscribe);
            if let Some((_, publish)) = &p.publish {
                packet.extend_from_slice(publish);
                sent.push("PUBLISH");
            }
            run.fact(Stage::Mqtt, "pipelined", sent).await;
        }
        wire::trace_sent(&packet);
        if let Err(e) = io.write_all(&packet).await {
            if let Some(p) = super::tls_stage::late_tls_problem(run, &e) {
                return Err(p);
            }
            if let Some(p) = super::ws::late_ws_problem(&e) {
                return Err(p);
            }
            if let Some(p) = late_refusal(run, Some(&e)).await {
                return Err(p);
            }
            return Err(closed(run, peer, &buf, Ended::from_io(&e)).await);
        }
        let _ = io.flush().await;
        let frame = match timeout(run.timeout(), wire::read_frame(&mut io, &mut buf)).await {
            Err(_) => {
                if super::connector::direct_plain(&run.plan) {
                    // Redis answers its PING at once, while a TLS probe of it waits out its
                    // deadline: ask the services first.
                    if let Some(p) = identify(run, peer).await {
                        return Err(p);
                    }
                    if probe::speaks_tls(peer, &run.plan.server_name(), probe_deadline(run)).await {
                        return Err(tls_required(run, peer).await);
                    }
                }
                return Err(Problem::MqttConnackTimeout {
                    secs: run.timeout().as_secs().max(1),
                });
            }
            Ok(Err(WireError::Closed { .. })) => {
                if buf.is_empty()
                    && let Some(p) = late_refusal(run, None).await
                {
                    return Err(p);
                }
                return Err(closed(run, peer, &buf, Ended::Closed).await);
            }
            Ok(Err(WireError::Io(e))) => {
                // A TLS alert after the handshake (a slow TLS 1.3 client-auth refusal): the
                // tls stage failed, and the engine files it there.
                if let Some(p) = super::tls_stage::late_tls_problem(run, &e) {
                    return Err(p);
                }
                if let Some(p) = super::ws::late_ws_problem(&e) {
                    return Err(p);
                }
                if buf.is_empty()
                    && let Some(p) = late_refusal(run, Some(&e)).await
                {
                    return Err(p);
                }
                return Err(closed(run, peer, &buf, Ended::from_io(&e)).await);
            }
            Ok(Err(e @ (WireError::TooLarge(_) | WireError::Malformed(_)))) => {
                run.fact(Stage::Mqtt, "error", e.to_string()).await;
                return Err(not_mqtt(&buf, None, peer.port()));
            }
            Ok(Ok(frame)) => frame,
        };
        // What came so far, the frame and whatever followed it: a MySQL greeting reads as a
        // two-byte MQTT frame.
        let heard: Vec<u8> = frame.raw.iter().chain(buf.iter()).copied().collect();
        let speaks = probe::sniff(&heard);
        if !matches!(speaks, PeerSpeaks::PlainMqtt | PeerSpeaks::Unknown) {
            return Err(not_mqtt(&heard, Some(speaks), peer.port()));
        }
        match frame.packet_type() {
            wire::CONNACK => {}
            wire::DISCONNECT => {
                let (code, reason) = wire::decode_disconnect(&frame);
                return Err(Problem::MqttClosedWithoutConnack {
                    how: Ended::Disconnect { code, reason },
                });
            }
            other => {
                run.fact(
                    Stage::Mqtt,
                    "unexpected_packet",
                    format!("{} (type {other})", wire::packet_type_name(other)),
                )
                .await;
                return Err(not_mqtt(&frame.raw, None, peer.port()));
            }
        }
        let ack = wire::decode_connack(&frame, version).map_err(|e| Problem::MqttNotMqtt {
            speaks: PeerSpeaks::Unknown,
            seen: NotMqttEvidence::UnreadableConnack {
                wire_error: e.to_string(),
            },
        })?;
        let answered = if ack.answered_as_311 {
            MqttVersion::V311
        } else {
            version
        };
        run.fact(Stage::Mqtt, "connack_ms", round_ms(started.elapsed()))
            .await;
        run.fact(Stage::Mqtt, "connack_code", ack.code).await;
        run.fact(
            Stage::Mqtt,
            "connack",
            format!(
                "{} {}",
                crate::explain::code_label(answered, ack.code),
                connack_name(answered, ack.code)
            ),
        )
        .await;
        if ack.answered_as_311 {
            run.fact(
                Stage::Mqtt,
                "connack_format",
                "MQTT 3.1.1 (no properties) in answer to an MQTT 5 CONNECT",
            )
            .await;
        }
        let refused_v5 = version == MqttVersion::V5
            && ((ack.answered_as_311 && ack.code == 1)
                || (!ack.answered_as_311 && ack.code == 0x84));
        if refused_v5 && run.plan.mqtt.fallback_to_311 {
            run.fact(
                Stage::Mqtt,
                "retry",
                "the broker refused MQTT 5; retrying as MQTT 3.1.1 on a new connection",
            )
            .await;
            version = MqttVersion::V311;
            io = reconnect(run, peer).await.map_err(|connect_error| {
                Problem::MqttClosedWithoutConnack {
                    how: Ended::RetryFailed { connect_error },
                }
            })?;
            continue;
        }
        let mut reason_string = None;
        let mut server_reference = None;
        if let Some(p) = &ack.props {
            connack_facts(run, p).await;
            // Kept as the peer sent them: every front escapes them on output.
            reason_string = p.reason_string.clone();
            server_reference = p.server_reference.clone();
        }
        if let Some(e) = &ack.props_error {
            run.fact(
                Stage::Mqtt,
                "connack_properties",
                format!("unreadable: {e}"),
            )
            .await;
            // MQTT 5 §4.13: a client that receives a malformed packet closes the connection;
            // going on would diagnose a session the broker may not think it has.
            return Err(Problem::MqttNotMqtt {
                speaks: PeerSpeaks::Unknown,
                seen: NotMqttEvidence::UnreadableConnack {
                    wire_error: format!("its properties are unreadable ({e})"),
                },
            });
        }
        if ack.code != 0 {
            return Err(Problem::MqttRefused {
                version: answered,
                code: ack.code,
                reason_string,
                server_reference,
            });
        }
        run.fact(Stage::Mqtt, "session_present", ack.session_present)
            .await;
        run.fact(Stage::Mqtt, "protocol", format!("MQTT {}", version.label()))
            .await;
        return Ok(Session {
            io,
            buf,
            version,
            peer,
            flight: pipelined.map(|packets| Flight {
                packets,
                sent: started,
            }),
        });
    }
}

/// The second, unpipelined connection for a broker that hung up on the pipelined flight:
/// CONNECT, then CONNACK 0, quietly (the mqtt stage already reported its CONNACK).
async fn unpipelined(run: &Run, peer: SocketAddr, version: MqttVersion) -> Result<Session, String> {
    let mut io = reconnect(run, peer).await?;
    let packet =
        connect_packet(run, version).map_err(|_| "the CONNECT did not encode".to_string())?;
    wire::trace_sent(&packet);
    io.write_all(&packet).await.map_err(|e| e.to_string())?;
    let mut buf = BytesMut::new();
    let frame = timeout(run.timeout(), wire::read_frame(&mut io, &mut buf))
        .await
        .map_err(|_| "no CONNACK in time".to_string())?
        .map_err(|e| e.to_string())?;
    match wire::decode_connack(&frame, version) {
        Ok(ack) if frame.packet_type() == wire::CONNACK && ack.code == 0 => Ok(Session {
            io,
            buf,
            version,
            peer,
            flight: None,
        }),
        Ok(ack) => Err(format!("CONNACK code {}", ack.code)),
        Err(e) => Err(e.to_string()),
    }
}

/// The TLS 1.3 client-certificate refusal read where the CONNACK was due, with the read's
/// error as the tls stage's evidence (as the tls stage records it when it reads the refusal).
async fn late_refusal(run: &mut Run, e: Option<&std::io::Error>) -> Option<Problem> {
    let p = super::tls_stage::late_refusal(run, e)?;
    if let Some(e) = e {
        run.fact(
            Stage::Tls,
            "error",
            crate::explain::Refusal::from_io(e).words(),
        )
        .await;
    }
    Some(p)
}

fn probe_deadline(run: &Run) -> Duration {
    run.timeout().min(Duration::from_secs(3))
}

async fn tls_required(run: &mut Run, peer: SocketAddr) -> Problem {
    run.fact(
        Stage::Mqtt,
        "probe_tls",
        "a TLS ClientHello on a new connection got a TLS answer",
    )
    .await;
    Problem::MqttTlsRequired { port: peer.port() }
}

/// The peer closed or reset before a CONNACK: on a plain port, check whether it wants TLS.
async fn closed(run: &mut Run, peer: SocketAddr, buf: &BytesMut, how: Ended) -> Problem {
    // The start of a CONNACK (0x20 and no more than its length field said) cut short: an MQTT
    // broker that hung up mid-packet, not another protocol.
    if buf.first() == Some(&0x20) && buf.len() < 2 + 4 + 256 {
        run.fact(
            Stage::Mqtt,
            "partial_connack",
            format!(
                "{} bytes of a CONNACK, then the connection ended",
                buf.len()
            ),
        )
        .await;
        return Problem::MqttClosedWithoutConnack { how };
    }
    if !buf.is_empty() {
        return not_mqtt(buf, None, peer.port());
    }
    if let Some(cert) = run
        .tls_info
        .as_ref()
        .and_then(|i| i.client_certificate.clone())
        && matches!(how, Ended::Closed | Ended::Reset)
    {
        let alpn_aws = run.plan.tls.alpn.iter().any(|a| a == "x-amzn-mqtt-ca");
        return Problem::MqttPolicyRefused {
            how,
            client_id: run.plan.mqtt.client_id.clone(),
            cert,
            aws: alpn_aws || is_aws_iot_host(&run.plan.target.host_str()),
        };
    }
    if super::connector::direct_plain(&run.plan) {
        let tls = probe::speaks_tls(peer, &run.plan.server_name(), probe_deadline(run)).await;
        if tls {
            return tls_required(run, peer).await;
        }
        run.fact(
            Stage::Mqtt,
            "probe_tls",
            "a TLS ClientHello on a new connection got no TLS answer either",
        )
        .await;
        if let Some(p) = identify(run, peer).await {
            return p;
        }
    }
    Problem::MqttClosedWithoutConnack { how }
}

/// A peer that neither answered our CONNECT nor speaks TLS: services that wait for their own
/// greeting (PostgreSQL, Redis) are asked in their protocol on new connections.
async fn identify(run: &mut Run, peer: SocketAddr) -> Option<Problem> {
    let (speaks, sent, answer) = probe::identify(peer, probe_deadline(run)).await?;
    run.fact(
        Stage::Mqtt,
        "probe_service",
        format!("{} got an answer: {}", sent.words(), speaks.label()),
    )
    .await;
    Some(Problem::MqttNotMqtt {
        speaks,
        seen: NotMqttEvidence::Probe { sent, answer },
    })
}

/// `*.iot.REGION.amazonaws.com` (AWS IoT Core data endpoints).
fn is_aws_iot_host(host: &str) -> bool {
    let h = host.to_ascii_lowercase();
    h.ends_with(".amazonaws.com") && h.contains(".iot.")
}

/// Checks made before the CONNECT leaves: TLS options on a URL without TLS, and what an
/// Azure IoT Hub requires of user name, client id, SAS token and protocol version.
fn local_checks(run: &mut Run) {
    let transport = run.plan.target.transport;
    if !transport.uses_tls() {
        let t = &run.plan.tls;
        let mut options = Vec::new();
        if t.ca.is_some() {
            options.push("--ca");
        }
        if t.client.is_some() {
            options.push("--cert/--key");
        }
        if t.sni.is_some() {
            options.push("--sni");
        }
        if !t.alpn.is_empty() {
            options.push("--alpn");
        }
        if t.insecure {
            options.push("--insecure");
        }
        if !options.is_empty() {
            let problem = Problem::MqttTlsNotUsed {
                options,
                scheme: transport.scheme(),
            };
            run.warn(Stage::Mqtt, &problem);
        }
    }
    let host = run.plan.target.host_str().to_ascii_lowercase();
    if host.ends_with(".azure-devices.net") {
        for check in azure::checks(&host, &run.plan, run.now_unix()) {
            let problem = Problem::MqttAzureMismatch {
                host: host.clone(),
                check,
            };
            run.warn(Stage::Mqtt, &problem);
        }
    }
}

fn not_mqtt(bytes: &[u8], speaks: Option<PeerSpeaks>, port: u16) -> Problem {
    let speaks = speaks.unwrap_or_else(|| probe::sniff(bytes));
    if speaks == PeerSpeaks::Tls {
        // A TLS alert in answer to our plain CONNECT: the port expects TLS.
        return Problem::MqttTlsRequired { port };
    }
    Problem::MqttNotMqtt {
        speaks,
        seen: NotMqttEvidence::Bytes(bytes[..bytes.len().min(48)].to_vec()),
    }
}

/// The CONNACK's properties as facts, values as the broker sent them (every front escapes
/// them on output); user property names become part of a key, so they are sanitised here.
async fn connack_facts(run: &mut Run, p: &rumqttc::v5::mqttbytes::v5::ConnAckProperties) {
    let s = Stage::Mqtt;
    if let Some(v) = &p.assigned_client_identifier {
        run.fact(s, "assigned_client_id", v.clone()).await;
    }
    if let Some(v) = p.server_keep_alive {
        run.fact(s, "server_keep_alive", v).await;
    }
    if let Some(v) = p.session_expiry_interval {
        run.fact(s, "session_expiry_interval", v).await;
    }
    if let Some(v) = p.max_packet_size {
        run.fact(s, "maximum_packet_size", v).await;
    }
    if let Some(v) = p.receive_max {
        run.fact(s, "receive_maximum", v).await;
    }
    if let Some(v) = p.max_qos {
        run.fact(s, "maximum_qos", v).await;
    }
    if let Some(v) = p.retain_available {
        run.fact(s, "retain_available", v == 1).await;
    }
    if let Some(v) = p.wildcard_subscription_available {
        run.fact(s, "wildcard_subscription_available", v == 1).await;
    }
    if let Some(v) = p.shared_subscription_available {
        run.fact(s, "shared_subscription_available", v == 1).await;
    }
    if let Some(v) = p.subscription_identifiers_available {
        run.fact(s, "subscription_identifiers_available", v == 1)
            .await;
    }
    if let Some(v) = p.topic_alias_max {
        run.fact(s, "topic_alias_maximum", v).await;
    }
    if let Some(v) = &p.reason_string {
        run.fact(s, "reason_string", v.clone()).await;
    }
    if let Some(v) = &p.server_reference {
        run.fact(s, "server_reference", v.clone()).await;
    }
    if let Some(v) = &p.response_information {
        run.fact(s, "response_information", v.clone()).await;
    }
    if let Some(v) = &p.authentication_method {
        run.fact(s, "authentication_method", v.clone()).await;
    }
    for (k, v) in &p.user_properties {
        let key = format!("user_property.{}", crate::text::sanitize(k));
        run.fact(s, &key, v.clone()).await;
    }
}

/// A fresh transport to the same peer along the same route (for the 3.1.1 retry).
async fn reconnect(run: &Run, peer: SocketAddr) -> Result<BoxIo, String> {
    super::connector::open(&run.plan, peer, true).await
}

enum Wait {
    Frame(Frame),
    Closed(Ended),
    /// A TLS error (or a WebSocket framing error) read after its stage passed: that stage's problem.
    Tls(Problem),
    TimedOut,
}

async fn next(run: &Run, session: &mut Session, until: Instant) -> Wait {
    let left = until.saturating_duration_since(Instant::now());
    // A peer that floods us keeps every read ready, and a timeout polls its future first:
    // without this check a flood would outlast the deadline.
    if left.is_zero() {
        return Wait::TimedOut;
    }
    match timeout(left, wire::read_frame(&mut session.io, &mut session.buf)).await {
        Err(_) => Wait::TimedOut,
        Ok(Ok(f)) => Wait::Frame(f),
        Ok(Err(WireError::Closed { .. })) => Wait::Closed(Ended::Closed),
        Ok(Err(WireError::Io(e))) => match super::tls_stage::late_tls_problem(run, &e)
            .or_else(|| super::ws::late_ws_problem(&e))
        {
            Some(p) => Wait::Tls(p),
            None => Wait::Closed(Ended::from_io(&e)),
        },
        Ok(Err(e)) => Wait::Closed(Ended::Unreadable {
            wire_error: e.to_string(),
        }),
    }
}

fn disconnect(frame: &Frame) -> Ended {
    let (code, reason) = wire::decode_disconnect(frame);
    Ended::Disconnect { code, reason }
}

pub async fn subscribe(run: &mut Run, mut session: Session) -> Result<(), Problem> {
    let pipelined = session.flight.is_some();
    let mut result = subscribe_inner(run, &mut session).await;
    if pipelined && hung_up_before_suback(&result) {
        // Some brokers mishandle packets that arrive before their CONNACK: they accept the
        // CONNECT and hang up. That is a fact about the broker, not the verdict: ask again
        // the patient way, once, and judge that answer.
        run.fact(Stage::Sub, "pipelining", "refused: the broker hung up after CONNACK 0 without a SUBACK; retried once without pipelining").await;
        match unpipelined(run, session.peer, session.version).await {
            Ok(fresh) => {
                close(&mut session).await;
                session = fresh;
                result = subscribe_inner(run, &mut session).await;
            }
            Err(e) => run.fact(Stage::Sub, "retry_failed", e).await,
        }
    }
    close(&mut session).await;
    result
}

fn hung_up_before_suback(result: &Result<(), Problem>) -> bool {
    matches!(
        result,
        Err(Problem::SubDisconnected {
            after: Sent::Subscribe,
            how: Ended::Closed | Ended::Reset | Ended::Disconnect { .. } | Ended::Io { .. },
        })
    )
}

async fn close(session: &mut Session) {
    let _ = session
        .io
        .write_all(&wire::encode_disconnect(session.version))
        .await;
    let _ = timeout(Duration::from_millis(500), session.io.shutdown()).await;
}

fn sub_packets(run: &Run, version: MqttVersion) -> Result<SubPackets, Problem> {
    let private = run.plan.round_trip_topic();
    let mut filters: Vec<(String, u8)> = Vec::new();
    if run.plan.sub.publish || run.plan.sub.topics.is_empty() {
        filters.push((private.clone(), 1));
    }
    for t in &run.plan.sub.topics {
        filters.push((t.clone(), 1));
    }
    let subscribe =
        wire::encode_subscribe(version, 1, &filters).map_err(|e| Problem::SubDisconnected {
            after: Sent::Subscribe,
            how: Ended::NotSent {
                encode_error: e.to_string(),
            },
        })?;
    let publish = if run.plan.sub.publish {
        let nonce = format!("mqtt-doctor round trip {:016x}", rand::random::<u64>());
        let packet =
            wire::encode_publish(version, &private, 1, 2, nonce.as_bytes()).map_err(|e| {
                Problem::SubDisconnected {
                    after: Sent::Publish,
                    how: Ended::NotSent {
                        encode_error: e.to_string(),
                    },
                }
            })?;
        Some((nonce, packet))
    } else {
        None
    };
    Ok(SubPackets {
        filters,
        subscribe,
        publish,
    })
}

/// How many packets that arrive before the SUBACK are kept for the round trip (our echo and
/// PUBACK are among the first few; the rest are counted as other messages).
const EARLY_KEPT: usize = 16;

/// A copy of a frame that no longer pins the read buffer it was split from (a kept 100-byte
/// frame would otherwise keep a multi-megabyte buffer alive).
fn detached(f: Frame) -> Frame {
    let raw = bytes::Bytes::copy_from_slice(&f.raw);
    let body = raw.slice(raw.len() - f.body.len()..);
    Frame {
        header: f.header,
        body,
        raw,
    }
}

async fn subscribe_inner(run: &mut Run, session: &mut Session) -> Result<(), Problem> {
    let version = session.version;
    let secs = run.timeout().as_secs().max(1);
    let private = run.plan.round_trip_topic();
    let (packets, flown) = match session.flight.take() {
        Some(f) => (f.packets, Some(f.sent)),
        None => (sub_packets(run, version)?, None),
    };
    let SubPackets {
        filters,
        subscribe,
        publish,
    } = packets;
    run.fact(
        Stage::Sub,
        "subscribe",
        filters
            .iter()
            .map(|(f, q)| format!("{f} (QoS {q})"))
            .collect::<Vec<_>>(),
    )
    .await;
    let started = send_unless_flown(session, flown, &subscribe, Sent::Subscribe).await?;
    let until = Instant::now() + run.timeout();
    let mut other_messages = 0u32;
    // With the PUBLISH already in flight, its PUBACK and echo may come before a slow SUBACK:
    // kept (already acknowledged) for the round trip to read.
    let mut early: VecDeque<Frame> = VecDeque::new();
    let suback = loop {
        match next(run, session, until).await {
            Wait::TimedOut => {
                return Err(Problem::SubTimeout {
                    waiting_for: Awaited::Suback,
                    secs,
                });
            }
            Wait::Tls(p) => return Err(p),
            Wait::Closed(how) => {
                return Err(Problem::SubDisconnected {
                    after: Sent::Subscribe,
                    how,
                });
            }
            Wait::Frame(f) => match f.packet_type() {
                wire::SUBACK => break f,
                wire::DISCONNECT => {
                    return Err(Problem::SubDisconnected {
                        after: Sent::Subscribe,
                        how: disconnect(&f),
                    });
                }
                wire::PUBLISH => {
                    ack_if_needed(session, &f).await;
                    // Only a few are kept: a broker flooding us before its SUBACK must not
                    // grow this queue without bound (1 MiB a packet).
                    if flown.is_some() && publish.is_some() && early.len() < EARLY_KEPT {
                        early.push_back(detached(f));
                    } else {
                        other_messages += 1;
                    }
                }
                wire::PUBACK if flown.is_some() && early.len() < EARLY_KEPT => {
                    early.push_back(detached(f))
                }
                _ => {}
            },
        }
    };
    let info = wire::decode_suback(&suback, version).map_err(|e| Problem::SubDisconnected {
        after: Sent::Subscribe,
        how: Ended::Unreadable {
            wire_error: e.to_string(),
        },
    })?;
    run.fact(Stage::Sub, "suback_ms", round_ms(started.elapsed()))
        .await;
    let granted: Vec<String> = filters
        .iter()
        .zip(info.codes.iter().chain(std::iter::repeat(&0xFFu8)))
        .map(|((f, _), c)| {
            format!(
                "{f}: {} {}",
                crate::explain::code_label(version, *c),
                suback_name(version, *c)
            )
        })
        .collect();
    run.fact(Stage::Sub, "granted", granted).await;
    if let Some(r) = &info.reason_string {
        run.fact(Stage::Sub, "reason_string", r.clone()).await;
    }
    if info.codes.len() != filters.len() {
        run.fact(Stage::Sub, "suback_code_count", info.codes.len())
            .await;
        run.fact(Stage::Sub, "filter_count", filters.len()).await;
    }
    if let Some(((filter, _), code)) = filters
        .iter()
        .zip(info.codes.iter())
        .find(|(_, c)| **c >= 0x80)
    {
        return Err(Problem::SubRefused {
            version,
            filter: filter.clone(),
            code: *code,
        });
    }
    let Some((nonce, packet)) = publish else {
        run.fact(Stage::Sub, "round_trip", "skipped (--no-publish)")
            .await;
        return Ok(());
    };
    let sent = send_unless_flown(session, flown, &packet, Sent::Publish).await?;
    let until = Instant::now() + run.timeout();
    let mut puback: Option<u8> = None;
    loop {
        // Frames kept from the SUBACK wait were acknowledged when they arrived.
        let (wait, fresh) = match early.pop_front() {
            Some(f) => (Wait::Frame(f), false),
            None => (next(run, session, until).await, true),
        };
        match wait {
            Wait::TimedOut => {
                if other_messages > 0 {
                    run.fact(Stage::Sub, "other_messages", other_messages).await;
                }
                return match puback {
                    None => Err(Problem::SubTimeout {
                        waiting_for: Awaited::Puback,
                        secs,
                    }),
                    Some(_) => Err(Problem::SubNoRoundTrip {
                        topic: private,
                        secs,
                        puback: None,
                    }),
                };
            }
            Wait::Tls(p) => return Err(p),
            Wait::Closed(how) => {
                return Err(Problem::SubDisconnected {
                    after: Sent::Publish,
                    how,
                });
            }
            Wait::Frame(f) => match f.packet_type() {
                wire::PUBACK => {
                    if let Some((2, code)) = wire::decode_puback(&f) {
                        puback = Some(code);
                        run.fact(Stage::Sub, "puback_code", code).await;
                        run.fact(
                            Stage::Sub,
                            "puback",
                            format!("0x{code:02X} {}", puback_name(code)),
                        )
                        .await;
                        if code >= 0x80 {
                            return Err(Problem::SubNoRoundTrip {
                                topic: private,
                                secs,
                                puback: Some(code),
                            });
                        }
                    }
                }
                wire::PUBLISH => {
                    if fresh {
                        ack_if_needed(session, &f).await;
                    }
                    match wire::decode_publish(&f, version) {
                        Ok(p) if p.topic == private && p.payload == nonce.as_bytes() => {
                            run.fact(Stage::Sub, "round_trip_ms", round_ms(sent.elapsed()))
                                .await;
                            if other_messages > 0 {
                                run.fact(Stage::Sub, "other_messages", other_messages).await;
                            }
                            return Ok(());
                        }
                        _ => other_messages += 1,
                    }
                }
                wire::DISCONNECT => {
                    return Err(Problem::SubDisconnected {
                        after: Sent::Publish,
                        how: disconnect(&f),
                    });
                }
                _ => {}
            },
        }
    }
}

/// When the packet went out in the CONNECT flight, when that was; otherwise sends it now.
async fn send_unless_flown(
    session: &mut Session,
    flown: Option<Instant>,
    packet: &[u8],
    after: Sent,
) -> Result<Instant, Problem> {
    if let Some(sent) = flown {
        return Ok(sent);
    }
    let now = Instant::now();
    wire::trace_sent(packet);
    session
        .io
        .write_all(packet)
        .await
        .map_err(|e| Problem::SubDisconnected {
            after,
            how: Ended::from_io(&e),
        })?;
    Ok(now)
}

async fn ack_if_needed(session: &mut Session, f: &Frame) {
    let qos = (f.header >> 1) & 0x03;
    if qos == 1
        && let Ok(p) = wire::decode_publish(f, session.version)
    {
        let _ = session
            .io
            .write_all(&wire::encode_puback(session.version, p.pkid))
            .await;
    }
}
