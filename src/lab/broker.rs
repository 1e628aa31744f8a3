//! A minimal scripted MQTT broker on rumqttc's codec: it answers CONNECT, SUBSCRIBE and
//! PUBLISH the way a script says (reason codes, delays, disconnects, dropped messages).

use bytes::BytesMut;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::scenarios::Broker;
use super::wire::{self, ConnAckProps, connack, decode_connect, suback, subscribe_filters};
use crate::diagnose::MqttVersion;

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
    /// Send CONNACK 0 and close when packets arrived behind the CONNECT before the CONNACK.
    pub no_pipelining: bool,
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
            no_pipelining: false,
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

impl From<Broker> for Script {
    fn from(broker: Broker) -> Script {
        let base = Script::default();
        match broker {
            Broker::Healthy => base,
            Broker::OnlyV311 => Script {
                only_v311: true,
                ..base
            },
            Broker::Refuse {
                v5,
                v311,
                reason,
                server_reference,
            } => Script {
                reason_string: reason.map(str::to_string),
                server_reference: server_reference.map(str::to_string),
                ..Script::refuse(v5, v311)
            },
            Broker::CloseAfterConnect => Script {
                close_after_connect: true,
                ..base
            },
            Broker::NoConnack => Script {
                no_connack: true,
                ..base
            },
            Broker::Login { user, password } => Script {
                login: Some((user.to_string(), password.to_string())),
                ..base
            },
            Broker::Suback(code) => Script {
                suback: code,
                ..base
            },
            Broker::CloseAfterSubscribe => Script {
                close_after_subscribe: true,
                ..base
            },
            Broker::NoPipelining => Script {
                no_pipelining: true,
                ..base
            },
            Broker::NoSuback => Script {
                no_suback: true,
                ..base
            },
            Broker::NoDelivery => Script {
                deliver: false,
                ..base
            },
            Broker::Puback(code) => Script {
                puback: code,
                ..base
            },
        }
    }
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
    let Ok(connect) = decode_connect(&first) else {
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
        // Hold the connection open without answering until the client gives up (reading on:
        // a pipelining client has already sent more packets).
        while wire::read_frame(&mut io, &mut buf).await.is_ok() {}
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
    // A patient client sends nothing before its CONNACK: anything that arrives in this window
    // came behind the CONNECT.
    let pipelined = script.no_pipelining
        && (!buf.is_empty()
            || matches!(
                tokio::time::timeout(Duration::from_millis(50), io.read_buf(&mut buf)).await,
                Ok(Ok(n)) if n > 0
            ));
    let assigned = format!("lab-{}", connect.client_id);
    let props = ConnAckProps {
        reason_string: script.reason_string.as_deref(),
        server_reference: script.server_reference.as_deref(),
        assigned_client_id: script.assigned_client_id.then_some(assigned.as_str()),
    };
    if io.write_all(&connack(version, code, &props)).await.is_err() || code != 0 || pipelined {
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
