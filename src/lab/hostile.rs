//! Hostile lab peers for the hardening corpus (tests/hostile.rs): a server that plays a short
//! script of steps (read, send, drip one byte at a time, stream forever, stall, TLS, WebSocket).
//!
//! Each step is something no honest broker does on purpose but a broken or malicious one does;
//! the scripts stay in the tests so every test shows its peer next to its expected verdict.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::task::JoinHandle;

/// One step of a hostile peer's script, played in order on every connection.
#[derive(Clone)]
pub enum Step {
    /// Waits for the client's next bytes (one read) and discards them.
    Read,
    /// Reads until `n` MQTT packets arrived (CONNECT, SUBSCRIBE …), discarding them.
    ReadPackets(usize),
    /// Reads an HTTP request head; a WebSocket key in it is kept for `WsAccept`.
    ReadHttpHead,
    /// Answers the upgrade read by `ReadHttpHead` with a correct 101 choosing `mqtt`.
    WsAccept,
    /// Sends these bytes.
    Send(Vec<u8>),
    /// Sends these bytes wrapped in one binary WebSocket frame (server frames are unmasked).
    SendWs(Vec<u8>),
    /// Sends these bytes one at a time, `every` apart.
    Drip { bytes: Vec<u8>, every: Duration },
    /// Sends `unit` again and again until `total` bytes went out or the client hangs up.
    Stream { unit: Vec<u8>, total: u64 },
    /// Says nothing for this long (reading and discarding what the client sends).
    Stall(Duration),
    /// Accepts TLS with this configuration; later steps run inside the TLS connection.
    Tls(Arc<rustls::ServerConfig>),
    /// Plays a real TLS server's first flight up to (and including) the ServerHello record
    /// only, then stalls: a handshake that stops after ServerHello.
    ServerHelloThenStall(Arc<rustls::ServerConfig>),
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// Starts a hostile peer on 127.0.0.1:0 playing `steps` on every connection.
pub async fn serve(steps: Vec<Step>) -> io::Result<(SocketAddr, JoinHandle<()>)> {
    let steps = Arc::new(steps);
    super::serve_each(move |stream| {
        let steps = steps.clone();
        async move {
            play(stream, &steps).await;
        }
    })
    .await
}

async fn play(tcp: tokio::net::TcpStream, steps: &[Step]) {
    let mut s: Pin<Box<dyn Stream>> = Box::pin(tcp);
    let mut ws_key = String::new();
    let mut inbox: Vec<u8> = Vec::new();
    let mut b = vec![0u8; 16 * 1024];
    for step in steps {
        match step {
            Step::Read => {
                if !matches!(s.read(&mut b).await, Ok(n) if n > 0) {
                    return;
                }
            }
            Step::ReadPackets(n) => {
                let mut buf = bytes::BytesMut::from(&inbox[..]);
                inbox.clear();
                let mut seen = 0;
                while seen < *n {
                    match crate::diagnose::wire::try_frame(&mut buf) {
                        Ok(Some(_)) => seen += 1,
                        Ok(None) => match s.read(&mut b).await {
                            Ok(k) if k > 0 => buf.extend_from_slice(&b[..k]),
                            _ => return,
                        },
                        Err(_) => return,
                    }
                }
                inbox.extend_from_slice(&buf);
            }
            Step::ReadHttpHead => {
                let mut head = Vec::new();
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut b).await {
                        Ok(n) if n > 0 => head.extend_from_slice(&b[..n]),
                        _ => return,
                    }
                    if head.len() > 64 * 1024 {
                        return;
                    }
                }
                let text = String::from_utf8_lossy(&head);
                ws_key = text
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("sec-websocket-key")
                            .then(|| v.trim().to_string())
                    })
                    .unwrap_or_default();
            }
            Step::WsAccept => {
                let accept =
                    tokio_tungstenite::tungstenite::handshake::derive_accept_key(ws_key.as_bytes());
                let head = format!(
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n"
                );
                if s.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
            }
            Step::Send(bytes) => {
                if s.write_all(bytes).await.is_err() || s.flush().await.is_err() {
                    return;
                }
            }
            Step::SendWs(bytes) => {
                if s.write_all(&ws_frame(bytes)).await.is_err() || s.flush().await.is_err() {
                    return;
                }
            }
            Step::Drip { bytes, every } => {
                for byte in bytes {
                    if s.write_all(&[*byte]).await.is_err() || s.flush().await.is_err() {
                        return;
                    }
                    tokio::time::sleep(*every).await;
                }
            }
            Step::Stream { unit, total } => {
                let mut sent = 0u64;
                while sent < *total {
                    if s.write_all(unit).await.is_err() {
                        return;
                    }
                    sent += unit.len() as u64;
                }
                let _ = s.flush().await;
            }
            Step::Stall(d) => {
                let _ = tokio::time::timeout(*d, async {
                    while matches!(s.read(&mut b).await, Ok(n) if n > 0) {}
                })
                .await;
            }
            Step::Tls(config) => {
                let acceptor = tokio_rustls::TlsAcceptor::from(config.clone());
                let Ok(Ok(tls)) =
                    tokio::time::timeout(Duration::from_secs(10), acceptor.accept(s)).await
                else {
                    return;
                };
                s = Box::pin(tls);
            }
            Step::ServerHelloThenStall(config) => {
                let Some(first) = server_hello(&mut s, config.clone()).await else {
                    return;
                };
                if s.write_all(&first).await.is_err() {
                    return;
                }
                let _ = tokio::time::timeout(Duration::from_secs(60), async {
                    while matches!(s.read(&mut b).await, Ok(n) if n > 0) {}
                })
                .await;
                return;
            }
        }
    }
    let _ = s.shutdown().await;
}

/// A server-to-client binary WebSocket frame (FIN, opcode 2, no mask).
pub fn ws_frame(payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0x82];
    let n = payload.len();
    if n < 126 {
        out.push(n as u8);
    } else if n <= 0xFFFF {
        out.push(126);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(127);
        out.extend_from_slice(&(n as u64).to_be_bytes());
    }
    out.extend_from_slice(payload);
    out
}

/// Reads the ClientHello, lets rustls answer it, and returns only the first TLS record of the
/// answer (the ServerHello).
async fn server_hello(
    s: &mut Pin<Box<dyn Stream>>,
    config: Arc<rustls::ServerConfig>,
) -> Option<Vec<u8>> {
    let mut conn = rustls::ServerConnection::new(config).ok()?;
    let mut b = vec![0u8; 16 * 1024];
    let mut out = Vec::new();
    while out.is_empty() {
        let n = s.read(&mut b).await.ok()?;
        if n == 0 {
            return None;
        }
        let mut rd = &b[..n];
        while !rd.is_empty() {
            conn.read_tls(&mut rd).ok()?;
        }
        conn.process_new_packets().ok()?;
        while conn.wants_write() {
            conn.write_tls(&mut out).ok()?;
        }
    }
    let len = u16::from_be_bytes([*out.get(3)?, *out.get(4)?]) as usize;
    out.truncate(5 + len);
    Some(out)
}

/// MQTT remaining length encoding.
pub fn varint(mut n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let mut b = (n % 128) as u8;
        n /= 128;
        if n > 0 {
            b |= 0x80;
        }
        out.push(b);
        if n == 0 {
            return out;
        }
    }
}

/// A packet: fixed header byte, remaining length, body.
pub fn packet(header: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![header];
    out.extend(varint(body.len()));
    out.extend_from_slice(body);
    out
}

/// An MQTT 5 CONNACK with these properties (already encoded) and reason code.
pub fn connack_v5(code: u8, props: &[u8]) -> Vec<u8> {
    let mut body = vec![0x00, code];
    body.extend(varint(props.len()));
    body.extend_from_slice(props);
    packet(0x20, &body)
}

/// An MQTT 5 SUBACK for packet id 1 granting QoS 1 to `filters` filters.
pub fn suback_v5(filters: usize) -> Vec<u8> {
    let mut body = vec![0x00, 0x01, 0x00];
    body.extend(std::iter::repeat_n(0x01, filters));
    packet(0x90, &body)
}

/// An MQTT 5 QoS 0 PUBLISH of `payload` to `topic`.
pub fn publish_v5(topic: &str, payload: &[u8]) -> Vec<u8> {
    let mut body = (topic.len() as u16).to_be_bytes().to_vec();
    body.extend_from_slice(topic.as_bytes());
    body.push(0x00);
    body.extend_from_slice(payload);
    packet(0x30, &body)
}

/// A TLS server configuration presenting `chain` (TLS 1.2 and 1.3, no client certificates).
pub fn tls_config(
    chain: Vec<rustls_pki_types::CertificateDer<'static>>,
    key: rustls_pki_types::PrivateKeyDer<'static>,
) -> Result<Arc<rustls::ServerConfig>, super::LabError> {
    super::server_config(chain, key, None, rustls::DEFAULT_VERSIONS)
}
