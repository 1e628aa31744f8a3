//! Lab peers that are not MQTT brokers: each replays what a real service sends (RabbitMQ,
//! nats-server, Redis, PostgreSQL, MariaDB as measured; OpenSSH, Postfix), so wrong-service
//! causes are tested whether or not the real ones run here; and the caIssuers HTTP server.

use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::scenarios::Service;

/// What nats-server 2.10 greets with (trimmed).
const NATS_INFO: &[u8] = b"INFO {\"server_id\":\"NLAB\",\"server_name\":\"lab\",\"version\":\"2.10.18\",\"proto\":1,\"max_payload\":1048576}\r\n";

/// The start of MariaDB 10.11's greeting (protocol 10, its version string, salt, plugin).
const MARIADB_GREETING: &[u8] = b"d\x00\x00\x00\n5.5.5-10.11.19-MariaDB-0+deb12u1\x00\x08\x00\x00\x00|-d4qap0\x00\xfe\xf7-\x02\x00\xff\x81\x15\x00\x00\x00\x00\x00\x00\x1d\x00\x00\x00<zwclrz/u#I)\x00mysql_native_password\x00";

pub async fn replay(mut stream: TcpStream, service: Service) {
    let mut b = [0u8; 4096];
    let read = |n: std::io::Result<usize>| matches!(n, Ok(n) if n > 0);
    match service {
        Service::Amqp => {
            if read(stream.read(&mut b).await) {
                let _ = stream.write_all(b"AMQP\x00\x00\x09\x01").await;
            }
        }
        Service::Nats => {
            let _ = stream.write_all(NATS_INFO).await;
            if read(stream.read(&mut b).await) {
                let _ = stream
                    .write_all(b"-ERR 'Unknown Protocol Operation'\r\n")
                    .await;
            }
        }
        Service::Ssh | Service::Smtp => {
            let greeting: &[u8] = if service == Service::Ssh {
                b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"
            } else {
                b"220 mail.lab.test ESMTP Postfix (Debian/GNU)\r\n"
            };
            let _ = stream.write_all(greeting).await;
            let _ = stream.read(&mut b).await;
        }
        Service::Mysql => {
            let _ = stream.write_all(MARIADB_GREETING).await;
            let _ = stream.read(&mut b).await;
        }
        Service::Redis => {
            // Redis reads inline commands up to a newline and says nothing before.
            let mut line = Vec::new();
            let _ = tokio::time::timeout(Duration::from_secs(30), async {
                while let Ok(n) = stream.read(&mut b).await {
                    if n == 0 {
                        break;
                    }
                    line.extend_from_slice(&b[..n]);
                    if line.contains(&b'\n') {
                        let answer: &[u8] = if line.starts_with(b"PING") {
                            b"+PONG\r\n"
                        } else {
                            b"-ERR unknown command\r\n"
                        };
                        let _ = stream.write_all(answer).await;
                        line.clear();
                    }
                }
            })
            .await;
        }
        Service::Postgres => {
            // An SSLRequest gets 'N'; anything else is an invalid startup packet: closed.
            let mut head = [0u8; 8];
            if stream.read_exact(&mut head).await.is_ok()
                && head == [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]
            {
                let _ = stream.write_all(b"N").await;
                let _ = stream.read(&mut b).await;
            }
        }
    }
    let _ = stream.shutdown().await;
}

/// Serves `body` for every GET (the lab intermediate at the leaf's caIssuers URL).
pub async fn serve_certificate(mut stream: TcpStream, body: Vec<u8>) {
    let mut b = [0u8; 2048];
    if matches!(stream.read(&mut b).await, Ok(n) if n > 0) {
        let head = format!(
            "HTTP/1.0 200 OK\r\nContent-Type: application/pkix-cert\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let _ = stream.write_all(head.as_bytes()).await;
        let _ = stream.write_all(&body).await;
    }
    let _ = stream.shutdown().await;
}
