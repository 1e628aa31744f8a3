//! A minimal scripted MQTT broker on rumqttc's codec: it answers CONNECT, SUBSCRIBE and
//! PUBLISH the way a script says (reason codes, delays, disconnects, dropped messages).

use bytes::BytesMut;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use crate::diagnose::MqttVersion;
use crate::diagnose::wire::{self, write_varint};

/// How the scripted broker behaves.
#[derive(Debug, Clone)]
pub struct Script {
    /// CONNACK code (MQTT 5 reason code, or 3.1.1 return code for 3.1.1 clients).
    pub connack: u8,
    /// 3.1.1 return code used when `connack` is a v5 code and the client speaks 3.1.1.
    pub connack_v311: u8,
    /// Refuse MQTT 5 clients with a 3.1.1 CONNACK "unacceptable protocol version".
    pub only_v311: bool,
    /// CONNACK properties (MQTT 5): reason string, server reference.
    pub reason_string: Option<String>,
    pub server_reference: Option<String>,
    pub assigned_client_id: bool,
    /// Never answer the CONNECT.
    pub no_connack: bool,
    /// Close the connection after reading CONNECT.
    pub close_after_connect: bool,
    pub connack_delay: Duration,
    /// SUBACK codes (one is repeated for every filter).
    pub suback: u8,
    /// Close after SUBSCRIBE instead of a SUBACK.
    pub close_after_subscribe: bool,
    /// Never send a SUBACK.
    pub no_suback: bool,
    /// Deliver PUBLISHes back to the client (the round trip).
    pub deliver: bool,
    /// PUBACK reason code (MQTT 5).
    pub puback: u8,
    /// Required credentials.
    pub login: Option<(String, String)>,
}

impl Default for Script {
    fn default() -> Self {
        Script {
            connack: 0,
            connack_v311: 0,
            only_v311: false,
            reason_string: None,
            server_reference: None,
            assigned_client_id: false,
            no_connack: false,
            close_after_connect: false,
            connack_delay: Duration::ZERO,
            suback: 1,
            close_after_subscribe: false,
            no_suback: false,
            deliver: true,
            puback: 0,
            login: None,
        }
    }
}

impl Script {
    pub fn refuse(v5: u8, v311: u8) -> Script {
        Script {
            connack: v5,
            connack_v311: v311,
            ..Script::default()
        }
    }
}

fn connack(version: MqttVersion, code: u8, script: &Script, client_id: &str) -> BytesMut {
    let mut out = BytesMut::new();
    match version {
        MqttVersion::V311 => out.extend_from_slice(&[0x20, 0x02, 0x00, code]),
        MqttVersion::V5 => {
            let mut props = BytesMut::new();
            let mut string = |id: u8, s: &str| {
                props.extend_from_slice(&[id]);
                props.extend_from_slice(&(s.len() as u16).to_be_bytes());
                props.extend_from_slice(s.as_bytes());
            };
            if let Some(r) = &script.reason_string {
                string(0x1F, r);
            }
            if let Some(r) = &script.server_reference {
                string(0x1C, r);
            }
            if script.assigned_client_id {
                string(0x12, &format!("lab-{client_id}"));
            }
            if code == 0 {
                // Maximum QoS 1 (0x24), topic alias maximum 10 (0x22), server keep alive 60 (0x13)
                props.extend_from_slice(&[0x24, 0x01, 0x22, 0x00, 0x0a, 0x13, 0x00, 0x3c]);
            }
            let mut body = BytesMut::new();
            body.extend_from_slice(&[0x00, code]);
            write_varint(&mut body, props.len());
            body.extend_from_slice(&props);
            out.extend_from_slice(&[0x20]);
            write_varint(&mut out, body.len());
            out.extend_from_slice(&body);
        }
    }
    out
}

fn suback(version: MqttVersion, pkid: u16, codes: &[u8]) -> BytesMut {
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
fn subscribe_filters(frame: &wire::Frame, version: MqttVersion) -> (u16, usize) {
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

/// Serves one client connection according to `script`.
pub async fn serve<S: AsyncRead + AsyncWrite + Unpin>(mut io: S, script: Script) {
    let mut buf = BytesMut::new();
    let Ok(first) = wire::read_frame(&mut io, &mut buf).await else {
        return;
    };
    if first.packet_type() != wire::CONNECT {
        return;
    }
    let Ok(connect) = wire::decode_connect(&first) else {
        return;
    };
    let version = if connect.level == 5 {
        MqttVersion::V5
    } else {
        MqttVersion::V311
    };
    if script.close_after_connect {
        let _ = io.shutdown().await;
        return;
    }
    if script.no_connack {
        // Hold the connection open without answering until the client gives up.
        let _ = wire::read_frame(&mut io, &mut buf).await;
        return;
    }
    tokio::time::sleep(script.connack_delay).await;
    if script.only_v311 && version == MqttVersion::V5 {
        let _ = io.write_all(&[0x20, 0x02, 0x00, 0x01]).await;
        let _ = io.shutdown().await;
        return;
    }
    let mut code = match version {
        MqttVersion::V5 => script.connack,
        MqttVersion::V311 => script.connack_v311,
    };
    if let Some((user, pass)) = &script.login {
        let ok = connect.username.as_deref() == Some(user.as_str())
            && connect.password.as_deref() == Some(pass.as_str());
        if !ok && code == 0 {
            code = match version {
                MqttVersion::V5 => 0x86,
                MqttVersion::V311 => 4,
            };
        }
    }
    if io
        .write_all(&connack(version, code, &script, &connect.client_id))
        .await
        .is_err()
        || code != 0
    {
        let _ = io.shutdown().await;
        return;
    }
    loop {
        let Ok(frame) = wire::read_frame(&mut io, &mut buf).await else {
            return;
        };
        match frame.packet_type() {
            wire::SUBSCRIBE => {
                if script.close_after_subscribe {
                    let _ = io.shutdown().await;
                    return;
                }
                if script.no_suback {
                    continue;
                }
                let (pkid, n) = subscribe_filters(&frame, version);
                let codes = vec![script.suback; n.max(1)];
                if io.write_all(&suback(version, pkid, &codes)).await.is_err() {
                    return;
                }
            }
            wire::PUBLISH => {
                let Ok(p) = wire::decode_publish(&frame, version) else {
                    return;
                };
                if p.qos > 0 {
                    let mut ack = wire::encode_puback(version, p.pkid);
                    if version == MqttVersion::V5 {
                        let n = ack.len();
                        ack[n - 1] = script.puback;
                    }
                    if io.write_all(&ack).await.is_err() {
                        return;
                    }
                }
                if script.deliver && script.puback < 0x80 {
                    let Ok(out) = wire::encode_publish(version, &p.topic, 0, 0, &p.payload) else {
                        return;
                    };
                    if io.write_all(&out).await.is_err() {
                        return;
                    }
                }
            }
            wire::PINGREQ => {
                let _ = io.write_all(&[0xD0, 0x00]).await;
            }
            wire::DISCONNECT => return,
            _ => {}
        }
    }
}
