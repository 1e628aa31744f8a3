//! The ws stage: the HTTP upgrade (tokio-tungstenite over the stream the tcp/proxy/tls stages
//! produced), then [`WsIo`], which turns the WebSocket into a plain byte stream so the mqtt and
//! sub stages run unchanged: MQTT packets travel in binary messages, a packet may span
//! messages and a message may hold several packets.

use bytes::Bytes;
use futures_util::{Sink, Stream, StreamExt};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::timeout;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::client::Request;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Message, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, client::IntoClientRequest};

use super::engine::Run;
use super::io::{BoxIo, Heard, Recording};
use super::plan::{Plan, Transport};
use super::proxy::parse_head;
use super::tcp::round_ms;
use super::{Stage, probe};
use crate::explain::{PeerSpeaks, Problem, WsProblem};
use crate::text::{hex_preview, sanitize, sanitize_bytes, truncate};

/// The upgrade request for a plan. Errors name the URL part or header, never a header value.
pub fn request(plan: &Plan) -> Result<Request, String> {
    let t = &plan.target;
    let scheme = if t.transport == Transport::Wss {
        "wss"
    } else {
        "ws"
    };
    let uri = format!("{scheme}://{}{}", host_header(plan), t.path);
    let mut req = uri
        .as_str()
        .into_client_request()
        .map_err(|e| format!("the WebSocket URL {uri:?} cannot be requested ({e})"))?;
    let headers = req.headers_mut();
    for (name, value) in &plan.route.ws.headers {
        let n = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("--header {name}: not a valid header name"))?;
        let mut v = HeaderValue::from_str(value.expose()).map_err(|_| {
            format!("--header {name}: the value holds characters HTTP headers cannot carry")
        })?;
        v.set_sensitive(true);
        headers.insert(n, v);
    }
    let protocols = plan.route.ws.subprotocols.join(", ");
    if !protocols.is_empty() {
        let v = HeaderValue::from_str(&protocols)
            .map_err(|_| "the offered subprotocols are not valid header text".to_string())?;
        headers.insert("Sec-WebSocket-Protocol", v);
    }
    Ok(req)
}

/// `Host` as browsers send it: the port only when it is not the scheme's default.
fn host_header(plan: &Plan) -> String {
    let t = &plan.target;
    if t.port == t.transport.default_port() {
        t.host.to_string()
    } else {
        format!("{}:{}", t.host, t.port)
    }
}

fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(16 << 20))
        .max_frame_size(Some(16 << 20))
}

pub async fn run(run: &mut Run, io: BoxIo, peer: SocketAddr) -> Result<BoxIo, Problem> {
    let plan = run.plan.clone();
    let req = request(&plan).map_err(|detail| {
        Problem::Ws(WsProblem::Closed {
            detail: format!("could not be asked: {detail}"),
        })
    })?;
    let path = super::route::redact_query(&plan.target.path);
    run.fact(Stage::Ws, "request", format!("GET {path} HTTP/1.1"))
        .await;
    run.fact(Stage::Ws, "host", host_header(&plan)).await;
    if !plan.route.ws.headers.is_empty() {
        // Names only: values may be tokens.
        let names: Vec<String> = plan
            .route
            .ws
            .headers
            .iter()
            .map(|(n, _)| n.clone())
            .collect();
        run.fact(Stage::Ws, "extra_headers", names).await;
    }
    let offered = plan.route.ws.subprotocols.clone();
    run.fact(Stage::Ws, "subprotocols_offered", offered.join(", "))
        .await;
    let (rec, heard) = Recording::keeping(io, KEEP);
    let started = Instant::now();
    let secs = run.timeout().as_secs().max(1);
    let result = timeout(
        run.timeout(),
        tokio_tungstenite::client_async_with_config(req, rec, Some(config())),
    )
    .await;
    let over_tls = plan.target.transport.uses_tls();
    let port = plan.target.port;
    let (mut ws, response) = match result {
        Err(_) => {
            let bytes = heard.first_bytes();
            // A slow but honest server may have sent only "HT" so far: not a reason to call
            // it something other than HTTP.
            let http_so_far = bytes.starts_with(b"HTTP/") || b"HTTP/".starts_with(&bytes);
            if !bytes.is_empty() && !http_so_far {
                return Err(not_http(run, &bytes, over_tls, port).await);
            }
            return Err(Problem::Ws(WsProblem::Timeout {
                secs,
                heard: !bytes.is_empty(),
            }));
        }
        Ok(Ok(done)) => done,
        Ok(Err(e)) => return Err(classify(run, e, &heard, peer, &path, &offered).await),
    };
    let upgrade = started.elapsed();
    let head = heard.first_bytes();
    head_facts(run, &head).await;
    let chosen = response
        .headers()
        .get("sec-websocket-protocol")
        .and_then(|v| v.to_str().ok())
        .map(sanitize);
    run.fact(
        Stage::Ws,
        "subprotocol",
        chosen.clone().unwrap_or_else(|| "none".into()),
    )
    .await;
    run.fact(Stage::Ws, "upgrade_ms", round_ms(upgrade)).await;
    // A server that dislikes what we offered may accept and close at once: watch briefly.
    let grace = (upgrade * 2 + Duration::from_millis(20))
        .min(Duration::from_millis(250))
        .min(run.timeout());
    let mut prefix = Bytes::new();
    match timeout(grace, ws.next()).await {
        Err(_) => {}
        Ok(Some(Ok(Message::Close(frame)))) => {
            let close = close_text(frame.as_ref());
            run.fact(Stage::Ws, "close", close.clone()).await;
            return Err(Problem::Ws(WsProblem::SubprotocolRejected {
                offered,
                chosen,
                close: Some(close),
            }));
        }
        Ok(Some(Ok(Message::Binary(b)))) => prefix = b,
        Ok(Some(Ok(Message::Text(t)))) => prefix = Bytes::copy_from_slice(t.as_bytes()),
        Ok(Some(Ok(_))) => {}
        Ok(None) => {
            return Err(Problem::Ws(WsProblem::Closed {
                detail: "closed the connection right after accepting the upgrade".into(),
            }));
        }
        Ok(Some(Err(e))) if !matches!(e, WsError::Io(_)) => {
            return Err(Problem::Ws(WsProblem::BadFrame {
                error: sanitize(&e.to_string()),
            }));
        }
        Ok(Some(Err(e))) => {
            return Err(Problem::Ws(WsProblem::Closed {
                detail: format!(
                    "broke the connection right after accepting the upgrade ({})",
                    sanitize(&e.to_string())
                ),
            }));
        }
    }
    Ok(Box::new(WsIo::new(ws, prefix)))
}

/// The upgrade without facts, for new connections after the ws stage (the 3.1.1 retry).
pub async fn quiet(plan: &Plan, io: BoxIo) -> Result<BoxIo, String> {
    let req = request(plan)?;
    match timeout(
        plan.timeout,
        tokio_tungstenite::client_async_with_config(req, io, Some(config())),
    )
    .await
    {
        Err(_) => Err("the WebSocket upgrade timed out".into()),
        Ok(Err(e)) => Err(format!(
            "the WebSocket upgrade failed ({})",
            sanitize(&e.to_string())
        )),
        Ok(Ok((ws, _))) => Ok(Box::new(WsIo::new(ws, Bytes::new()))),
    }
}

fn close_text(frame: Option<&CloseFrame>) -> String {
    match frame {
        None => "a close frame without a code".into(),
        Some(f) => {
            let code = u16::from(f.code);
            let reason = f.reason.as_str();
            if reason.is_empty() {
                format!("close code {code}")
            } else {
                format!(
                    "close code {code}, reason {:?}",
                    truncate(&sanitize(reason), 120)
                )
            }
        }
    }
}

/// Status line and the headers worth showing, from the raw response head.
async fn head_facts(run: &mut Run, head: &[u8]) -> Option<u16> {
    let end = head
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
        .unwrap_or(head.len());
    let h = parse_head(&head[..end])?;
    let status = h.line.split_once(' ').map(|x| x.1).unwrap_or("");
    run.fact(Stage::Ws, "status", sanitize(status)).await;
    for name in ["server", "location"] {
        if let Some(v) = h.header(name) {
            run.fact(Stage::Ws, name, truncate(&sanitize(v), 200)).await;
        }
    }
    // The broker's clock, the one place it shows (a bundle compares it with the local one).
    if let Some(v) = h.header("date") {
        run.fact(Stage::Ws, "server_date", truncate(&sanitize(v), 64))
            .await;
    }
    Some(h.code)
}

async fn classify(
    run: &mut Run,
    e: WsError,
    heard: &Heard,
    peer: SocketAddr,
    path: &str,
    offered: &[String],
) -> Problem {
    let bytes = heard.first_bytes();
    let over_tls = run.plan.target.transport.uses_tls();
    let port = run.plan.target.port;
    // A TLS 1.3 broker judges our client certificate after the handshake: its alert, or its
    // close before any byte, arrives where the 101 was due and is the tls stage's problem.
    if let WsError::Io(io_err) = &e
        && bytes.is_empty()
    {
        if let Some(p) = super::tls_stage::late_tls_problem(run, io_err) {
            return p;
        }
        if let Some(p) = super::tls_stage::late_refusal(run, Some(io_err)) {
            return p;
        }
    }
    // A close without a byte ends the handshake as "incomplete" (tungstenite's EOF).
    if bytes.is_empty()
        && !matches!(&e, WsError::Io(_))
        && let Some(p) = super::tls_stage::late_refusal(run, None)
    {
        return p;
    }
    if !bytes.is_empty() && !bytes.starts_with(b"HTTP/") {
        return not_http(run, &bytes, over_tls, port).await;
    }
    match e {
        WsError::Http(resp) => {
            head_facts(run, &bytes).await;
            let status = resp.status();
            if let Some(body) = resp.body().as_ref().filter(|b| !b.is_empty()) {
                run.fact(
                    Stage::Ws,
                    "body",
                    truncate(&sanitize_bytes(&body[..body.len().min(400)]), 160),
                )
                .await;
            }
            let line = parse_head(&bytes).map(|h| h.line).unwrap_or_default();
            let reason = line
                .splitn(3, ' ')
                .nth(2)
                .map(sanitize)
                .or_else(|| status.canonical_reason().map(str::to_string))
                .unwrap_or_default();
            Problem::Ws(WsProblem::HttpStatus {
                status: status.as_u16(),
                reason,
                path: path.to_string(),
            })
        }
        WsError::Protocol(
            tokio_tungstenite::tungstenite::error::ProtocolError::SecWebSocketSubProtocolError(_),
        ) => {
            head_facts(run, &bytes).await;
            let chosen =
                parse_head(&bytes).and_then(|h| h.header("sec-websocket-protocol").map(sanitize));
            run.fact(
                Stage::Ws,
                "subprotocol",
                chosen.clone().unwrap_or_else(|| "none".into()),
            )
            .await;
            Problem::Ws(WsProblem::SubprotocolRejected {
                offered: offered.to_vec(),
                chosen,
                close: None,
            })
        }
        other if bytes.is_empty() => {
            let how = match &other {
                WsError::Io(e) if e.kind() == io::ErrorKind::ConnectionReset => "reset",
                _ => "closed",
            };
            run.fact(
                Stage::Ws,
                "peer_answered",
                format!("nothing: the connection was {how}"),
            )
            .await;
            silent_close(run, peer, how).await
        }
        other => {
            head_facts(run, &bytes).await;
            Problem::Ws(WsProblem::Closed {
                detail: format!(
                    "sent an answer that is not a valid WebSocket upgrade ({})",
                    sanitize(&other.to_string())
                ),
            })
        }
    }
}

async fn not_http(run: &mut Run, bytes: &[u8], over_tls: bool, port: u16) -> Problem {
    let speaks = probe::sniff(bytes);
    let preview = &bytes[..bytes.len().min(48)];
    let shown = match speaks {
        PeerSpeaks::Ssh | PeerSpeaks::Smtp => format!("\"{}\"", sanitize_bytes(preview)),
        _ => format!("bytes {}", hex_preview(preview, 16)),
    };
    run.fact(
        Stage::Ws,
        "peer_answered",
        format!("{} ({shown})", speaks.label()),
    )
    .await;
    Problem::Ws(WsProblem::NotHttp {
        speaks,
        over_tls,
        port,
        detail: format!("it answered with {} ({shown})", speaks.label()),
    })
}

/// The peer closed without a byte: probe whether the port speaks plain MQTT (or MQTT over the
/// TLS we already use) or TLS.
async fn silent_close(run: &mut Run, peer: SocketAddr, how: &str) -> Problem {
    let over_tls = run.plan.target.transport.uses_tls();
    let port = run.plan.target.port;
    let deadline = run.timeout().min(Duration::from_secs(3));
    let mqtt = match super::connector::open(&run.plan, peer, false).await {
        Ok(io) => probe::mqtt_answers(io, deadline).await,
        Err(_) => PeerSpeaks::Nothing,
    };
    run.fact(
        Stage::Ws,
        "probe_mqtt",
        match mqtt {
            PeerSpeaks::PlainMqtt if over_tls => {
                "an MQTT CONNECT inside TLS on a new connection got a CONNACK".to_string()
            }
            PeerSpeaks::PlainMqtt => {
                "a plain MQTT CONNECT on a new connection got a CONNACK".to_string()
            }
            other => format!("an MQTT CONNECT on a new connection got {}", other.label()),
        },
    )
    .await;
    if mqtt == PeerSpeaks::PlainMqtt {
        return Problem::Ws(WsProblem::NotHttp {
            speaks: PeerSpeaks::PlainMqtt,
            over_tls,
            port,
            detail: format!(
                "it {how} the connection at our HTTP request, and answers an MQTT CONNECT{}",
                if over_tls { " inside TLS" } else { "" }
            ),
        });
    }
    if !over_tls && run.plan.route.proxy.is_none() {
        let tls = probe::speaks_tls(peer, &run.plan.server_name(), deadline).await;
        run.fact(
            Stage::Ws,
            "probe_tls",
            if tls {
                "a TLS ClientHello on a new connection got a TLS answer"
            } else {
                "a TLS ClientHello on a new connection got no TLS answer either"
            },
        )
        .await;
        if tls {
            return Problem::Ws(WsProblem::NotHttp {
                speaks: PeerSpeaks::Tls,
                over_tls,
                port,
                detail: format!(
                    "it {how} the connection at our HTTP request, and answers a TLS greeting"
                ),
            });
        }
    }
    Problem::Ws(WsProblem::Closed {
        detail: format!("{how} the connection"),
    })
}

/// How much of the peer's answer to the upgrade is kept (a whole HTTP response head).
const KEEP: usize = 8 * 1024;

/// A WebSocket as a byte stream: reads yield the payloads of binary (and text) messages in
/// order, a close ends the stream; each write is sent as one binary message.
pub struct WsIo<S> {
    ws: WebSocketStream<S>,
    pending: Bytes,
    eof: bool,
    /// The peer's close frame, as text, once one arrived.
    pub closed_with: Arc<Mutex<Option<String>>>,
}

impl<S> WsIo<S> {
    pub fn new(ws: WebSocketStream<S>, prefix: Bytes) -> Self {
        WsIo {
            ws,
            pending: prefix,
            eof: false,
            closed_with: Arc::default(),
        }
    }
}

/// A WebSocket framing error read after the ws stage passed, carried inside an `io::Error`
/// so the mqtt and sub stages can hand it back to the ws stage ([`late_ws_problem`]).
#[derive(Debug)]
pub struct FrameError(pub String);

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FrameError {}

fn to_io(e: WsError) -> io::Error {
    match e {
        WsError::Io(e) => e,
        WsError::ConnectionClosed | WsError::AlreadyClosed => {
            io::Error::new(io::ErrorKind::BrokenPipe, "the WebSocket is closed")
        }
        other => io::Error::other(FrameError(sanitize(&other.to_string()))),
    }
}

/// The ws stage's problem when a read or write of a later stage failed on bad framing.
pub fn late_ws_problem(e: &io::Error) -> Option<Problem> {
    let f = e.get_ref()?.downcast_ref::<FrameError>()?;
    Some(Problem::Ws(WsProblem::BadFrame { error: f.0.clone() }))
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for WsIo<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            if !self.pending.is_empty() {
                let n = self.pending.len().min(buf.remaining());
                let chunk = self.pending.split_to(n);
                buf.put_slice(&chunk);
                return Poll::Ready(Ok(()));
            }
            if self.eof {
                return Poll::Ready(Ok(()));
            }
            match ready!(Pin::new(&mut self.ws).poll_next(cx)) {
                None => self.eof = true,
                Some(Ok(Message::Binary(b))) => self.pending = b,
                Some(Ok(Message::Text(t))) => self.pending = Bytes::copy_from_slice(t.as_bytes()),
                Some(Ok(Message::Close(frame))) => {
                    if let Ok(mut c) = self.closed_with.lock() {
                        *c = Some(close_text(frame.as_ref()));
                    }
                    self.eof = true;
                }
                Some(Ok(_)) => {}
                Some(Err(WsError::ConnectionClosed | WsError::AlreadyClosed)) => self.eof = true,
                Some(Err(e)) => return Poll::Ready(Err(to_io(e))),
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for WsIo<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(Pin::new(&mut self.ws).poll_ready(cx)).map_err(to_io)?;
        Pin::new(&mut self.ws)
            .start_send(Message::Binary(Bytes::copy_from_slice(buf)))
            .map_err(to_io)?;
        // Push it out now: callers may never flush. Pending here finishes on a later poll.
        if let Poll::Ready(Err(e)) = Pin::new(&mut self.ws).poll_flush(cx) {
            return Poll::Ready(Err(to_io(e)));
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.ws).poll_flush(cx).map_err(to_io)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.ws).poll_close(cx).map_err(to_io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::wire;
    use futures_util::SinkExt;
    use tokio::io::AsyncWriteExt;

    /// A packet split over two messages, and one message holding the rest plus a second packet,
    /// read back as two whole MQTT packets.
    #[tokio::test]
    async fn packets_span_and_share_messages() {
        let (client, server) = tokio::io::duplex(4096);
        let server = tokio::spawn(async move {
            let mut ws = tokio_tungstenite::accept_async(server).await.ok()?;
            let connack: &[u8] = &[0x20, 0x03, 0x00, 0x00, 0x00];
            let pingresp: &[u8] = &[0xD0, 0x00];
            ws.send(Message::Binary(Bytes::copy_from_slice(&connack[..2])))
                .await
                .ok()?;
            let mut rest = connack[2..].to_vec();
            rest.extend_from_slice(pingresp);
            ws.send(Message::Binary(rest.into())).await.ok()?;
            // What the client wrote arrives as one binary message.
            match ws.next().await {
                Some(Ok(Message::Binary(b))) => Some(b.to_vec()),
                _ => None,
            }
        });
        let (ws, _) = tokio_tungstenite::client_async("ws://lab/mqtt", client)
            .await
            .expect("upgrade");
        let mut io = WsIo::new(ws, Bytes::new());
        let mut buf = bytes::BytesMut::new();
        let first = wire::read_frame(&mut io, &mut buf).await.expect("frame");
        assert_eq!(first.packet_type(), wire::CONNACK);
        let second = wire::read_frame(&mut io, &mut buf).await.expect("frame");
        assert_eq!(second.packet_type(), 13, "PINGRESP");
        io.write_all(&[0xC0, 0x00]).await.expect("write");
        let got = server.await.expect("server task");
        assert_eq!(got.as_deref(), Some(&[0xC0u8, 0x00][..]));
    }
}
