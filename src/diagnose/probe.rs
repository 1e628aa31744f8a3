//! Follow-up probes that tell which protocol a port really speaks, and a sniffer for the first
//! bytes a peer sent.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

use super::MqttVersion;
use super::io::{BoxIo, Recording};
use super::wire;
use crate::explain::{PeerSpeaks, ProbeSent};

/// What the first bytes a peer sent look like.
pub fn sniff(bytes: &[u8]) -> PeerSpeaks {
    if bytes.is_empty() {
        return PeerSpeaks::Nothing;
    }
    if bytes.starts_with(b"HTTP/") {
        return PeerSpeaks::Http;
    }
    if bytes.starts_with(b"SSH-") {
        return PeerSpeaks::Ssh;
    }
    // AMQP 0-9-1 and 1.0 answer a header they do not like with their own protocol header.
    if bytes.starts_with(b"AMQP") {
        return PeerSpeaks::Amqp;
    }
    // NATS greets every client with INFO {json}.
    if bytes.starts_with(b"INFO {") {
        return PeerSpeaks::Nats;
    }
    if [
        &b"+PONG"[..],
        b"-ERR",
        b"-NOAUTH",
        b"-DENIED",
        b"-WRONGPASS",
    ]
    .iter()
    .any(|p| bytes.starts_with(p))
    {
        return PeerSpeaks::Redis;
    }
    // MySQL/MariaDB greet first: a 3-byte length, sequence 0, protocol 10 (or an error
    // packet 0xFF when the host is refused), and the length matches the packet.
    if bytes.len() >= 5 && bytes[0] != 0x20 && bytes[3] == 0 && matches!(bytes[4], 0x0a | 0xff) {
        let len = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], 0]) as usize;
        if len >= 1 && (bytes.len() >= len + 4 || bytes.len() >= 48) && len < 1024 {
            return PeerSpeaks::Mysql;
        }
    }
    if bytes.len() >= 2 && matches!(bytes[0], 0x15 | 0x16) && bytes[1] == 0x03 {
        return PeerSpeaks::Tls;
    }
    if bytes.len() >= 4
        && bytes[..3].iter().all(u8::is_ascii_digit)
        && matches!(bytes[3], b' ' | b'-')
    {
        return PeerSpeaks::Smtp;
    }
    // CONNACK: 0x20, remaining length 2 (3.1.1) or more (5), then flags 0/1.
    if bytes[0] == 0x20 && bytes.len() >= 3 && bytes[1] >= 2 && bytes[2] <= 1 {
        return PeerSpeaks::PlainMqtt;
    }
    PeerSpeaks::Unknown
}

/// Asks in their own protocol, each on a new connection, whether the peer is one of the
/// services that wait for the client to speak first and ignore an MQTT CONNECT: PostgreSQL
/// (an SSLRequest is answered with one byte, `S` or `N`) and Redis (`PING`).
pub async fn identify(
    addr: SocketAddr,
    deadline: Duration,
) -> Option<(PeerSpeaks, ProbeSent, Vec<u8>)> {
    const SSL_REQUEST: &[u8] = &[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];
    let each = deadline / 2;
    // PING first: PostgreSQL closes on it at once (an invalid startup length), while Redis
    // would wait out the deadline on an SSLRequest, which holds no newline.
    for (sent, bytes) in [
        (ProbeSent::RedisPing, &b"PING\r\n"[..]),
        (ProbeSent::PostgresSslRequest, SSL_REQUEST),
    ] {
        let answer = ask(addr, bytes, each).await;
        let speaks = match sent {
            ProbeSent::PostgresSslRequest if matches!(&answer[..], b"S" | b"N") => {
                PeerSpeaks::Postgres
            }
            ProbeSent::RedisPing if sniff(&answer) == PeerSpeaks::Redis => PeerSpeaks::Redis,
            _ => continue,
        };
        return Some((speaks, sent, answer));
    }
    None
}

/// Sends `bytes` on a new connection and returns the first answer (at most 48 bytes; empty
/// when nothing came within `deadline`).
async fn ask(addr: SocketAddr, bytes: &[u8], deadline: Duration) -> Vec<u8> {
    let attempt = async {
        let mut s = TcpStream::connect(addr).await.ok()?;
        s.write_all(bytes).await.ok()?;
        let mut buf = [0u8; 48];
        let n = s.read(&mut buf).await.ok()?;
        Some(buf[..n].to_vec())
    };
    timeout(deadline, attempt)
        .await
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Sends a plain MQTT 3.1.1 CONNECT on a fresh connection and reports what came back.
pub async fn plain_mqtt(addr: SocketAddr, deadline: Duration) -> PeerSpeaks {
    match timeout(deadline, TcpStream::connect(addr)).await {
        Ok(Ok(s)) => mqtt_answers(Box::new(s), deadline).await,
        _ => PeerSpeaks::Nothing,
    }
}

/// Sends an MQTT 3.1.1 CONNECT over `io` and reports what came back (a CONNACK means the
/// peer speaks MQTT there); a CONNACK is followed by a DISCONNECT.
pub async fn mqtt_answers(mut io: BoxIo, deadline: Duration) -> PeerSpeaks {
    let attempt = async {
        let connect = wire::encode_connect(&wire::ConnectParams {
            version: MqttVersion::V311,
            client_id: &super::plan::random_client_id(),
            keep_alive: 10,
            clean_start: true,
            username: None,
            password: None,
        })
        .ok()?;
        io.write_all(&connect).await.ok()?;
        let mut buf = [0u8; 8];
        let n = io.read(&mut buf).await.unwrap_or(0);
        if n > 0 && buf[0] == 0x20 {
            let _ = io
                .write_all(&wire::encode_disconnect(MqttVersion::V311))
                .await;
        }
        Some(sniff(&buf[..n]))
    };
    timeout(deadline, attempt)
        .await
        .ok()
        .flatten()
        .unwrap_or(PeerSpeaks::Nothing)
}

/// Sends a TLS ClientHello on a fresh connection; true when the peer answers with TLS records
/// (a ServerHello or an alert), whatever it thinks of our certificate checks.
pub async fn speaks_tls(addr: SocketAddr, server_name: &str, deadline: Duration) -> bool {
    let attempt = async {
        let tcp = TcpStream::connect(addr).await.ok()?;
        let (stream, heard) = Recording::new(tcp);
        let config = insecure_config()?;
        let name = rustls::pki_types::ServerName::try_from(server_name.to_string())
            .unwrap_or_else(|_| rustls::pki_types::ServerName::IpAddress(addr.ip().into()));
        let connector = tokio_rustls::TlsConnector::from(config);
        let _ = connector.connect(name, stream).await;
        Some(sniff(&heard.first_bytes()) == PeerSpeaks::Tls)
    };
    timeout(deadline, attempt)
        .await
        .ok()
        .flatten()
        .unwrap_or(false)
}

/// The engine's client configuration in --insecure mode with no trust anchors: any
/// certificate is accepted, since the probe only asks whether the peer speaks TLS at all.
fn insecure_config() -> Option<Arc<rustls::ClientConfig>> {
    let opts = super::TlsOptions {
        insecure: true,
        ..Default::default()
    };
    super::tls::client_config(&opts, &super::tls::Trust::none(), Default::default()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_common_protocols() {
        assert_eq!(sniff(b"HTTP/1.1 400 Bad Request\r\n"), PeerSpeaks::Http);
        assert_eq!(sniff(b"SSH-2.0-OpenSSH_9.2"), PeerSpeaks::Ssh);
        assert_eq!(
            sniff(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]),
            PeerSpeaks::Tls
        );
        assert_eq!(sniff(&[0x20, 0x02, 0x00, 0x00]), PeerSpeaks::PlainMqtt);
        assert_eq!(sniff(b"220 mail ESMTP"), PeerSpeaks::Smtp);
        assert_eq!(sniff(b""), PeerSpeaks::Nothing);
        assert_eq!(sniff(&[0xde, 0xad]), PeerSpeaks::Unknown);
        // What RabbitMQ 3, nats-server 2, Redis 7 and MariaDB 10.11 send (field notes).
        assert_eq!(sniff(b"AMQP\x00\x00\x09\x01"), PeerSpeaks::Amqp);
        assert_eq!(sniff(b"INFO {\"server_id\":\"N\"}\r\n"), PeerSpeaks::Nats);
        assert_eq!(
            sniff(b"-ERR unknown command 'CONNECT'\r\n"),
            PeerSpeaks::Redis
        );
        assert_eq!(
            sniff(
                b"d\x00\x00\x00\n5.5.5-10.11.19-MariaDB-0+deb12u1\x00\x08\x00\x00\x00|-d4qap0\x00"
            ),
            PeerSpeaks::Mysql
        );
    }
}
