//! The broker's side of MQTT on the wire, for the lab: decoding a client's CONNECT and
//! SUBSCRIBE, encoding CONNACK and SUBACK. Framing and PUBLISH come from the engine's codec.

use bytes::BytesMut;
use rumqttc::mqttbytes::v4;
use rumqttc::v5::mqttbytes::v5;

use crate::diagnose::MqttVersion;
pub(super) use crate::diagnose::wire::{
    DISCONNECT, Frame, MAX_PACKET, PUBLISH, WireError, decode_publish, encode_puback,
    encode_publish, read_frame, write_varint,
};

pub(super) const CONNECT: u8 = 1;
pub(super) const SUBSCRIBE: u8 = 8;
pub(super) const PINGREQ: u8 = 12;

/// The CONNECT fields the lab broker looks at.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ConnectInfo {
    /// Protocol level: 4 is MQTT 3.1.1, 5 is MQTT 5.
    pub level: u8,
    pub client_id: String,
    pub username: Option<String>,
    pub password: Option<String>,
}

pub(super) fn decode_connect(frame: &Frame) -> Result<ConnectInfo, WireError> {
    let mut raw = BytesMut::from(&frame.raw[..]);
    let level = frame.body.get(6).copied().unwrap_or(0);
    match level {
        4 | 3 => match v4::Packet::read(&mut raw, MAX_PACKET) {
            Ok(v4::Packet::Connect(c)) => Ok(ConnectInfo {
                level,
                client_id: c.client_id,
                username: c.login.as_ref().map(|l| l.username.clone()),
                password: c.login.map(|l| l.password),
            }),
            _ => Err(WireError::Malformed("CONNECT")),
        },
        5 => match v5::Packet::read(&mut raw, Some(MAX_PACKET as u32)) {
            Ok(v5::Packet::Connect(c, _, login)) => Ok(ConnectInfo {
                level,
                client_id: c.client_id,
                username: login.as_ref().map(|l| l.username.clone()),
                password: login.map(|l| l.password),
            }),
            _ => Err(WireError::Malformed("CONNECT")),
        },
        _ => Ok(ConnectInfo {
            level,
            client_id: String::new(),
            username: None,
            password: None,
        }),
    }
}

/// MQTT 5 CONNACK properties the lab sends.
#[derive(Debug, Clone, Default)]
pub(super) struct ConnAckProps<'a> {
    pub reason_string: Option<&'a str>,
    pub server_reference: Option<&'a str>,
    pub assigned_client_id: Option<&'a str>,
}

pub(super) fn connack(version: MqttVersion, code: u8, props: &ConnAckProps<'_>) -> BytesMut {
    let mut out = BytesMut::new();
    match version {
        MqttVersion::V311 => out.extend_from_slice(&[0x20, 0x02, 0x00, code]),
        MqttVersion::V5 => {
            let mut block = BytesMut::new();
            let mut string = |id: u8, s: &str| {
                block.extend_from_slice(&[id]);
                block.extend_from_slice(&(s.len() as u16).to_be_bytes());
                block.extend_from_slice(s.as_bytes());
            };
            if let Some(r) = props.reason_string {
                string(0x1F, r);
            }
            if let Some(r) = props.server_reference {
                string(0x1C, r);
            }
            if let Some(id) = props.assigned_client_id {
                string(0x12, id);
            }
            if code == 0 {
                // Maximum QoS 1 (0x24), topic alias maximum 10 (0x22), server keep alive 60 (0x13)
                block.extend_from_slice(&[0x24, 0x01, 0x22, 0x00, 0x0a, 0x13, 0x00, 0x3c]);
            }
            let mut body = BytesMut::new();
            body.extend_from_slice(&[0x00, code]);
            write_varint(&mut body, block.len());
            body.extend_from_slice(&block);
            out.extend_from_slice(&[0x20]);
            write_varint(&mut out, body.len());
            out.extend_from_slice(&body);
        }
    }
    out
}

pub(super) fn suback(version: MqttVersion, pkid: u16, codes: &[u8]) -> BytesMut {
    let mut body = BytesMut::new();
    body.extend_from_slice(&pkid.to_be_bytes());
    if version == MqttVersion::V5 {
        body.extend_from_slice(&[0x00]);
    }
    body.extend_from_slice(codes);
    let mut out = BytesMut::new();
    out.extend_from_slice(&[0x90]);
    write_varint(&mut out, body.len());
    out.extend_from_slice(&body);
    out
}

/// Counts the filters in a SUBSCRIBE body and returns (packet id, filter count).
pub(super) fn subscribe_filters(frame: &Frame, version: MqttVersion) -> (u16, usize) {
    let b = &frame.body;
    if b.len() < 2 {
        return (0, 0);
    }
    let pkid = u16::from_be_bytes([b[0], b[1]]);
    let mut i = 2;
    if version == MqttVersion::V5 {
        // property length (single-byte varints are enough for our own client)
        let plen = b.get(i).copied().unwrap_or(0) as usize;
        i += 1 + plen;
    }
    let mut n = 0;
    while i + 2 <= b.len() {
        let len = u16::from_be_bytes([b[i], b[i + 1]]) as usize;
        i += 2 + len + 1;
        n += 1;
    }
    (pkid, n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::wire::{ConnectParams, encode_connect, encode_subscribe, try_frame};

    #[test]
    fn the_engines_connect_decodes_with_its_login() {
        for (version, level) in [(MqttVersion::V311, 4), (MqttVersion::V5, 5)] {
            let mut bytes = encode_connect(&ConnectParams {
                version,
                client_id: "c1",
                keep_alive: 30,
                clean_start: true,
                username: Some("alice"),
                password: Some("pw"),
            })
            .unwrap();
            let f = try_frame(&mut bytes).unwrap().unwrap();
            assert_eq!(f.packet_type(), CONNECT);
            let c = decode_connect(&f).unwrap();
            assert_eq!(
                c,
                ConnectInfo {
                    level,
                    client_id: "c1".into(),
                    username: Some("alice".into()),
                    password: Some("pw".into()),
                }
            );
        }
    }

    #[test]
    fn the_engines_subscribe_counts_its_filters() {
        let filters = [("a/#".to_string(), 1), ("b".to_string(), 0)];
        for version in [MqttVersion::V311, MqttVersion::V5] {
            let mut bytes = encode_subscribe(version, 7, &filters).unwrap();
            let f = try_frame(&mut bytes).unwrap().unwrap();
            assert_eq!(f.packet_type(), SUBSCRIBE);
            assert_eq!(subscribe_filters(&f, version), (7, 2), "{version:?}");
        }
    }

    #[test]
    fn connack_and_suback_bytes_match_the_specification() {
        // MQTT 3.1.1 §3.2: 0x20, remaining length 2, flags, return code.
        let ack = connack(MqttVersion::V311, 5, &ConnAckProps::default());
        assert_eq!(&ack[..], &[0x20, 0x02, 0x00, 0x05]);
        // MQTT 5 §3.2: flags, reason code 0x87, properties: Reason String (0x1F) "no".
        let props = ConnAckProps {
            reason_string: Some("no"),
            ..ConnAckProps::default()
        };
        let ack = connack(MqttVersion::V5, 0x87, &props);
        assert_eq!(
            &ack[..],
            &[0x20, 0x08, 0x00, 0x87, 0x05, 0x1F, 0x00, 0x02, b'n', b'o']
        );
        // MQTT 5 §3.9: packet id, empty properties, one reason code per filter.
        let ack = suback(MqttVersion::V5, 7, &[0x87]);
        assert_eq!(&ack[..], &[0x90, 0x04, 0x00, 0x07, 0x00, 0x87]);
        let ack = suback(MqttVersion::V311, 7, &[0x80]);
        assert_eq!(&ack[..], &[0x90, 0x03, 0x00, 0x07, 0x80]);
    }
}
