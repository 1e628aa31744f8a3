//! MQTT on the wire, client side: framing over any byte stream, packets encoded with rumqttc's
//! codec, and the few fields we decode by hand so that raw reason codes survive (rumqttc rejects
//! unknown ones). The lab's broker side (CONNECT, SUBSCRIBE decoding) lives in `lab::wire`.

use bytes::{Buf, Bytes, BytesMut};
use rumqttc::mqttbytes::v4;
use rumqttc::v5::mqttbytes::v5;
use std::io;
use tokio::io::{AsyncRead, AsyncReadExt};

use super::MqttVersion;

/// Largest packet we accept from a peer while diagnosing (hostile peers cannot make us allocate
/// more than this).
pub const MAX_PACKET: usize = 1 << 20;

#[derive(Debug, Clone)]
pub struct Frame {
    /// The fixed header's first byte (type << 4 | flags).
    pub header: u8,
    /// Variable header and payload.
    pub body: Bytes,
    /// The whole packet as received.
    pub raw: Bytes,
}

impl Frame {
    pub fn packet_type(&self) -> u8 {
        self.header >> 4
    }
}

pub const CONNACK: u8 = 2;
pub const PUBLISH: u8 = 3;
pub const PUBACK: u8 = 4;
pub const SUBACK: u8 = 9;
pub const DISCONNECT: u8 = 14;

pub fn packet_type_name(t: u8) -> &'static str {
    match t {
        1 => "CONNECT",
        2 => "CONNACK",
        3 => "PUBLISH",
        4 => "PUBACK",
        5 => "PUBREC",
        6 => "PUBREL",
        7 => "PUBCOMP",
        8 => "SUBSCRIBE",
        9 => "SUBACK",
        10 => "UNSUBSCRIBE",
        11 => "UNSUBACK",
        12 => "PINGREQ",
        13 => "PINGRESP",
        14 => "DISCONNECT",
        15 => "AUTH",
        _ => "reserved packet type 0",
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("the peer closed the connection")]
    Closed { partial: usize },
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("the peer announced a {0}-byte packet, larger than the {MAX_PACKET}-byte limit")]
    TooLarge(usize),
    #[error("malformed packet: {0}")]
    Malformed(&'static str),
}

/// Reads one packet. `buf` keeps bytes that arrived after it, for the next call.
pub async fn read_frame<R: AsyncRead + Unpin>(
    r: &mut R,
    buf: &mut BytesMut,
) -> Result<Frame, WireError> {
    loop {
        if let Some(frame) = try_frame(buf)? {
            tracing::trace!(
                packet = packet_type_name(frame.packet_type()),
                bytes = frame.raw.len(),
                "mqtt packet received"
            );
            return Ok(frame);
        }
        let n = r.read_buf(buf).await?;
        if n == 0 {
            return Err(WireError::Closed { partial: buf.len() });
        }
    }
}

/// Logs, at trace level, the packets in `bytes` that are about to be sent: their type and
/// length, never their content (a CONNECT carries the password).
pub fn trace_sent(bytes: &[u8]) {
    if !tracing::enabled!(tracing::Level::TRACE) {
        return;
    }
    let mut buf = BytesMut::from(bytes);
    while let Ok(Some(f)) = try_frame(&mut buf) {
        tracing::trace!(
            packet = packet_type_name(f.packet_type()),
            bytes = f.raw.len(),
            "mqtt packet sent"
        );
    }
}

/// Splits a complete packet off the front of `buf`, if there is one.
pub fn try_frame(buf: &mut BytesMut) -> Result<Option<Frame>, WireError> {
    if buf.len() < 2 {
        return Ok(None);
    }
    let mut len: usize = 0;
    let mut shift = 0;
    let mut i = 1;
    loop {
        let Some(&b) = buf.get(i) else {
            return Ok(None);
        };
        len |= ((b & 0x7f) as usize) << shift;
        i += 1;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
        if i > 4 {
            return Err(WireError::Malformed("remaining length longer than 4 bytes"));
        }
    }
    if len > MAX_PACKET {
        return Err(WireError::TooLarge(len));
    }
    if buf.len() < i + len {
        return Ok(None);
    }
    let raw = buf.split_to(i + len).freeze();
    let header = raw[0];
    let body = raw.slice(i..);
    Ok(Some(Frame { header, body, raw }))
}

fn v4_qos(q: u8) -> rumqttc::mqttbytes::QoS {
    match q {
        0 => rumqttc::mqttbytes::QoS::AtMostOnce,
        2 => rumqttc::mqttbytes::QoS::ExactlyOnce,
        _ => rumqttc::mqttbytes::QoS::AtLeastOnce,
    }
}

fn v5_qos(q: u8) -> rumqttc::v5::mqttbytes::QoS {
    match q {
        0 => rumqttc::v5::mqttbytes::QoS::AtMostOnce,
        2 => rumqttc::v5::mqttbytes::QoS::ExactlyOnce,
        _ => rumqttc::v5::mqttbytes::QoS::AtLeastOnce,
    }
}

pub struct ConnectParams<'a> {
    pub version: MqttVersion,
    pub client_id: &'a str,
    pub keep_alive: u16,
    pub clean_start: bool,
    pub username: Option<&'a str>,
    pub password: Option<&'a str>,
}

fn encode_err(e: impl std::fmt::Debug) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, format!("{e:?}"))
}

pub fn encode_connect(p: &ConnectParams<'_>) -> io::Result<BytesMut> {
    let mut out = BytesMut::new();
    match p.version {
        MqttVersion::V311 => {
            let mut c = v4::Connect::new(p.client_id);
            c.keep_alive = p.keep_alive;
            c.clean_session = p.clean_start;
            if let Some(u) = p.username {
                c.set_login(u, p.password.unwrap_or(""));
            }
            c.write(&mut out).map_err(encode_err)?;
            if p.username.is_some() && p.password.is_none() {
                // rumqttc always sets the password flag with a login; a user name alone must
                // be sent without it, as mosquitto_sub does.
                out = connect_without_password(out);
            }
        }
        MqttVersion::V5 => {
            let connect = v5::Connect {
                keep_alive: p.keep_alive,
                client_id: p.client_id.to_string(),
                clean_start: p.clean_start,
                properties: None,
            };
            let login = p.username.map(|u| v5::Login {
                username: u.to_string(),
                password: p.password.unwrap_or("").to_string(),
            });
            v5::Packet::Connect(connect, None, login)
                .write(&mut out, None)
                .map_err(encode_err)?;
            if p.username.is_some() && p.password.is_none() {
                out = connect_without_password(out);
            }
        }
    }
    Ok(out)
}

/// Removes the (empty) password field and its flag from an encoded CONNECT.
fn connect_without_password(packet: BytesMut) -> BytesMut {
    let mut buf = packet.clone();
    let Ok(Some(frame)) = try_frame(&mut buf) else {
        return packet;
    };
    let body = frame.body.to_vec();
    // protocol name (2+4), level (1), flags (1)
    let flags_at = 2 + 4 + 1;
    if body.len() < flags_at + 1 || body.len() < 2 || body[body.len() - 2..] != [0, 0] {
        return packet;
    }
    let mut body = body;
    body[flags_at] &= !0x40;
    body.truncate(body.len() - 2);
    let mut out = BytesMut::new();
    out.extend_from_slice(&[frame.header]);
    write_varint(&mut out, body.len());
    out.extend_from_slice(&body);
    out
}

pub fn write_varint(out: &mut BytesMut, mut len: usize) {
    loop {
        let mut b = (len % 128) as u8;
        len /= 128;
        if len > 0 {
            b |= 0x80;
        }
        out.extend_from_slice(&[b]);
        if len == 0 {
            break;
        }
    }
}

pub fn encode_subscribe(
    version: MqttVersion,
    pkid: u16,
    filters: &[(String, u8)],
) -> io::Result<BytesMut> {
    let mut out = BytesMut::new();
    match version {
        MqttVersion::V311 => {
            let mut s = v4::Subscribe::new_many(
                filters
                    .iter()
                    .map(|(f, q)| v4::SubscribeFilter::new(f.clone(), v4_qos(*q))),
            );
            s.pkid = pkid;
            s.write(&mut out).map_err(encode_err)?;
        }
        MqttVersion::V5 => {
            let mut s = v5::Subscribe::new_many(
                filters
                    .iter()
                    .map(|(f, q)| v5::Filter::new(f.clone(), v5_qos(*q))),
                None,
            );
            s.pkid = pkid;
            v5::Packet::Subscribe(s)
                .write(&mut out, None)
                .map_err(encode_err)?;
        }
    }
    Ok(out)
}

pub fn encode_publish(
    version: MqttVersion,
    topic: &str,
    qos: u8,
    pkid: u16,
    payload: &[u8],
) -> io::Result<BytesMut> {
    let mut out = BytesMut::new();
    match version {
        MqttVersion::V311 => {
            let mut p = v4::Publish::new(topic, v4_qos(qos), payload.to_vec());
            p.pkid = pkid;
            p.write(&mut out).map_err(encode_err)?;
        }
        MqttVersion::V5 => {
            let mut p = v5::Publish::new(topic, v5_qos(qos), payload.to_vec(), None);
            p.pkid = pkid;
            v5::Packet::Publish(p)
                .write(&mut out, None)
                .map_err(encode_err)?;
        }
    }
    Ok(out)
}

pub fn encode_disconnect(version: MqttVersion) -> BytesMut {
    let mut out = BytesMut::new();
    match version {
        MqttVersion::V311 => out.extend_from_slice(&[0xE0, 0x00]),
        // reason 0 (normal), no properties
        MqttVersion::V5 => out.extend_from_slice(&[0xE0, 0x01, 0x00]),
    }
    out
}

/// A decoded CONNACK.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConnAckInfo {
    pub session_present: bool,
    pub code: u8,
    /// The broker answered with a 3.1.1 CONNACK (no properties) to an MQTT 5 CONNECT.
    pub answered_as_311: bool,
    pub props: Option<v5::ConnAckProperties>,
    /// The properties could not be decoded (they are then not shown).
    pub props_error: Option<String>,
}

pub fn decode_connack(frame: &Frame, sent: MqttVersion) -> Result<ConnAckInfo, WireError> {
    if frame.body.len() < 2 {
        return Err(WireError::Malformed("CONNACK shorter than 2 bytes"));
    }
    let mut info = ConnAckInfo {
        session_present: frame.body[0] & 1 == 1,
        code: frame.body[1],
        ..Default::default()
    };
    if sent == MqttVersion::V5 {
        if frame.body.len() == 2 {
            info.answered_as_311 = true;
        } else {
            let mut props = Bytes::copy_from_slice(&frame.body[2..]);
            match repeated_property(&frame.body[2..]) {
                Some(id) => {
                    info.props_error = Some(format!(
                        "the property 0x{id:02X} appears more than once, which MQTT 5 forbids"
                    ))
                }
                None => match v5::ConnAckProperties::read(&mut props) {
                    Ok(p) => info.props = p,
                    Err(e) => info.props_error = Some(format!("{e:?}")),
                },
            }
        }
    }
    Ok(info)
}

/// The first property that appears twice in an MQTT 5 property block (length prefix included);
/// only User Property (0x26) may repeat. `None` also when the block cannot be walked (the
/// codec then says what is wrong with it).
fn repeated_property(block: &[u8]) -> Option<u8> {
    fn varint(b: &[u8], at: &mut usize) -> Option<usize> {
        let mut n = 0usize;
        for shift in [0, 7, 14, 21] {
            let byte = *b.get(*at)?;
            *at += 1;
            n |= ((byte & 0x7f) as usize) << shift;
            if byte & 0x80 == 0 {
                return Some(n);
            }
        }
        None
    }
    let mut at = 0;
    let len = varint(block, &mut at)?;
    let end = at.checked_add(len)?.min(block.len());
    let mut seen = [false; 256];
    while at < end {
        let id = block[at];
        at += 1;
        if id != 0x26 && std::mem::replace(&mut seen[id as usize], true) {
            return Some(id);
        }
        let two = |at: usize| -> Option<usize> {
            Some(u16::from_be_bytes([*block.get(at)?, *block.get(at + 1)?]) as usize)
        };
        at += match id {
            0x01 | 0x17 | 0x19 | 0x24 | 0x25 | 0x28 | 0x29 | 0x2A => 1,
            0x13 | 0x21 | 0x22 | 0x23 => 2,
            0x02 | 0x11 | 0x18 | 0x27 => 4,
            0x0B => {
                varint(block, &mut at)?;
                0
            }
            0x03 | 0x08 | 0x09 | 0x12 | 0x15 | 0x16 | 0x1A | 0x1C | 0x1F => 2 + two(at)?,
            0x26 => {
                let k = 2 + two(at)?;
                k + 2 + two(at + k)?
            }
            _ => return None,
        };
    }
    None
}

/// SUBACK: packet id, reason string (v5) and one code per filter.
#[derive(Debug, Clone, PartialEq)]
pub struct SubAckInfo {
    pub pkid: u16,
    pub codes: Vec<u8>,
    pub reason_string: Option<String>,
}

pub fn decode_suback(frame: &Frame, version: MqttVersion) -> Result<SubAckInfo, WireError> {
    let mut body = frame.body.clone();
    if body.len() < 3 {
        return Err(WireError::Malformed("SUBACK shorter than 3 bytes"));
    }
    let pkid = body.get_u16();
    let mut reason_string = None;
    if version == MqttVersion::V5 {
        let props = v5::SubAckProperties::read(&mut body)
            .map_err(|_| WireError::Malformed("SUBACK properties"))?;
        reason_string = props.and_then(|p| p.reason_string);
    }
    if body.is_empty() {
        return Err(WireError::Malformed("SUBACK without return codes"));
    }
    Ok(SubAckInfo {
        pkid,
        codes: body.to_vec(),
        reason_string,
    })
}

/// PUBLISH: topic, payload, packet id.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishInfo {
    pub topic: String,
    pub payload: Bytes,
    pub qos: u8,
    pub pkid: u16,
}

pub fn decode_publish(frame: &Frame, version: MqttVersion) -> Result<PublishInfo, WireError> {
    let mut raw = BytesMut::from(&frame.raw[..]);
    match version {
        MqttVersion::V311 => match v4::Packet::read(&mut raw, MAX_PACKET) {
            Ok(v4::Packet::Publish(p)) => Ok(PublishInfo {
                topic: p.topic,
                payload: p.payload,
                qos: p.qos as u8,
                pkid: p.pkid,
            }),
            _ => Err(WireError::Malformed("PUBLISH")),
        },
        MqttVersion::V5 => match v5::Packet::read(&mut raw, Some(MAX_PACKET as u32)) {
            Ok(v5::Packet::Publish(p)) => Ok(PublishInfo {
                topic: String::from_utf8_lossy(&p.topic).into_owned(),
                payload: p.payload,
                qos: p.qos as u8,
                pkid: p.pkid,
            }),
            _ => Err(WireError::Malformed("PUBLISH")),
        },
    }
}

pub fn encode_puback(version: MqttVersion, pkid: u16) -> BytesMut {
    let mut out = BytesMut::new();
    let [hi, lo] = pkid.to_be_bytes();
    match version {
        MqttVersion::V311 => out.extend_from_slice(&[0x40, 0x02, hi, lo]),
        MqttVersion::V5 => out.extend_from_slice(&[0x40, 0x03, hi, lo, 0x00]),
    }
    out
}

/// PUBACK: packet id and (v5) reason code.
pub fn decode_puback(frame: &Frame) -> Option<(u16, u8)> {
    let b = &frame.body;
    if b.len() < 2 {
        return None;
    }
    let pkid = u16::from_be_bytes([b[0], b[1]]);
    Some((pkid, b.get(2).copied().unwrap_or(0)))
}

/// DISCONNECT: (v5) reason code and reason string.
pub fn decode_disconnect(frame: &Frame) -> (Option<u8>, Option<String>) {
    let mut body = frame.body.clone();
    if body.is_empty() {
        return (None, None);
    }
    let code = body.get_u8();
    (Some(code), reason_string_property(&mut body))
}

/// Finds the Reason String (0x1F) in an MQTT 5 property block; other properties are skipped.
fn reason_string_property(body: &mut Bytes) -> Option<String> {
    let mut len = 0usize;
    let mut shift = 0;
    loop {
        if !body.has_remaining() || shift > 21 {
            return None;
        }
        let b = body.get_u8();
        len |= ((b & 0x7f) as usize) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    if body.remaining() < len {
        return None;
    }
    let mut props = body.split_to(len);
    let string = |p: &mut Bytes| -> Option<Bytes> {
        if p.remaining() < 2 {
            return None;
        }
        let n = p.get_u16() as usize;
        (p.remaining() >= n).then(|| p.split_to(n))
    };
    while props.has_remaining() {
        match props.get_u8() {
            0x1F => return string(&mut props).map(|s| String::from_utf8_lossy(&s).into_owned()),
            0x11 if props.remaining() >= 4 => props.advance(4),
            0x1C => {
                string(&mut props)?;
            }
            0x26 => {
                string(&mut props)?;
                string(&mut props)?;
            }
            _ => return None,
        }
    }
    None
}

pub fn disconnect_reason_name(code: u8) -> &'static str {
    match code {
        0x00 => "Normal disconnection",
        0x04 => "Disconnect with Will Message",
        0x80 => "Unspecified error",
        0x81 => "Malformed Packet",
        0x82 => "Protocol Error",
        0x83 => "Implementation specific error",
        0x87 => "Not authorized",
        0x89 => "Server busy",
        0x8B => "Server shutting down",
        0x8D => "Keep Alive timeout",
        0x8E => "Session taken over",
        0x8F => "Topic Filter invalid",
        0x90 => "Topic Name invalid",
        0x93 => "Receive Maximum exceeded",
        0x94 => "Topic Alias invalid",
        0x95 => "Packet too large",
        0x96 => "Message rate too high",
        0x97 => "Quota exceeded",
        0x98 => "Administrative action",
        0x99 => "Payload format invalid",
        0x9A => "Retain not supported",
        0x9B => "QoS not supported",
        0x9C => "Use another server",
        0x9D => "Server moved",
        0x9E => "Shared Subscriptions not supported",
        0x9F => "Connection rate exceeded",
        0xA0 => "Maximum connect time",
        0xA1 => "Subscription Identifiers not supported",
        0xA2 => "Wildcard Subscriptions not supported",
        _ => "unknown reason code",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_split_across_reads_and_back_to_back() {
        let mut buf = BytesMut::from(&[0x20u8, 0x02, 0x00][..]);
        assert!(try_frame(&mut buf).unwrap().is_none());
        buf.extend_from_slice(&[0x05, 0x90, 0x03, 0x00, 0x01, 0x80]);
        let f = try_frame(&mut buf).unwrap().unwrap();
        assert_eq!(f.packet_type(), CONNACK);
        assert_eq!(&f.body[..], &[0x00, 0x05]);
        let g = try_frame(&mut buf).unwrap().unwrap();
        assert_eq!(g.packet_type(), SUBACK);
        assert!(buf.is_empty());
    }

    #[test]
    fn hostile_lengths_are_refused() {
        let mut buf = BytesMut::from(&[0x30u8, 0xff, 0xff, 0xff, 0x7f][..]);
        assert!(matches!(try_frame(&mut buf), Err(WireError::TooLarge(_))));
        let mut buf = BytesMut::from(&[0x30u8, 0xff, 0xff, 0xff, 0xff, 0x01][..]);
        assert!(matches!(try_frame(&mut buf), Err(WireError::Malformed(_))));
    }

    #[test]
    fn a_user_without_password_has_no_password_flag() {
        for version in [MqttVersion::V311, MqttVersion::V5] {
            let p = ConnectParams {
                version,
                client_id: "c1",
                keep_alive: 30,
                clean_start: true,
                username: Some("alice"),
                password: None,
            };
            let mut bytes = encode_connect(&p).unwrap();
            let f = try_frame(&mut bytes).unwrap().unwrap();
            assert_eq!(f.body[7] & 0xC0, 0x80, "{version:?}: user flag only");
            let with_pw = ConnectParams {
                password: Some("pw"),
                ..p
            };
            let mut bytes = encode_connect(&with_pw).unwrap();
            let f = try_frame(&mut bytes).unwrap().unwrap();
            assert_eq!(
                f.body[7] & 0xC0,
                0xC0,
                "{version:?}: user and password flags"
            );
        }
    }

    #[test]
    fn connack_v5_properties_and_v311_answer_to_v5() {
        let mut buf = BytesMut::from(&[0x20u8, 0x02, 0x00, 0x01][..]);
        let f = try_frame(&mut buf).unwrap().unwrap();
        let c = decode_connack(&f, MqttVersion::V5).unwrap();
        assert!(c.answered_as_311);
        assert_eq!(c.code, 1);
        // v5 CONNACK with assigned client id "x" (0x12) and server keep alive 10 (0x13)
        let mut buf = BytesMut::from(
            &[
                0x20u8, 0x0a, 0x00, 0x00, 0x07, 0x12, 0x00, 0x01, b'x', 0x13, 0x00, 0x0a,
            ][..],
        );
        let f = try_frame(&mut buf).unwrap().unwrap();
        let c = decode_connack(&f, MqttVersion::V5).unwrap();
        let props = c.props.unwrap();
        assert_eq!(props.assigned_client_identifier.as_deref(), Some("x"));
        assert_eq!(props.server_keep_alive, Some(10));
    }
}
