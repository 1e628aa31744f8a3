//! Lab peers for the WebSocket and proxy stages: a WebSocket MQTT broker (the scripted broker
//! behind a real upgrade, plain or TLS) with scripted faults, and SOCKS5 and HTTP CONNECT proxies
//! that relay or answer with a chosen reply code.

use bytes::Bytes;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::Script;
use crate::diagnose::ws::WsIo;

/// The token the lab's `/auth` WebSocket path wants in `Authorization: Bearer …`.
pub const LAB_TOKEN: &str = "lab-token-7f3a";
/// The lab proxies' user and password.
pub const PROXY_USER: &str = "alice";
pub const PROXY_PASSWORD: &str = "proxy-pw";

/// A WebSocket MQTT broker with faults.
#[derive(Clone)]
pub struct WsBroker {
    pub script: Script,
    /// Echo `Sec-WebSocket-Protocol: mqtt` when offered.
    pub subprotocol: bool,
    /// Send a close frame right after the upgrade.
    pub close_after_upgrade: bool,
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

impl WsBroker {
    pub fn new(script: Script) -> WsBroker {
        WsBroker {
            script,
            subprotocol: true,
            close_after_upgrade: false,
            tls: None,
        }
    }
}

/// A lab proxy: relays when `reply` is `None`, else answers with it and closes.
#[derive(Clone)]
pub enum ProxyPeer {
    Socks5 {
        reply: Option<u8>,
        auth: bool,
    },
    Http {
        /// HTTP status to answer with instead of relaying.
        status: Option<u16>,
        auth: bool,
    },
}

/// Serves one WebSocket client (after a TLS handshake when the broker has a configuration).
pub(super) async fn serve(stream: TcpStream, b: WsBroker) {
    match b.tls.clone() {
        Some(config) => {
            let acceptor = tokio_rustls::TlsAcceptor::from(config);
            if let Ok(tls) = acceptor.accept(stream).await {
                serve_ws(tls, b).await;
            }
        }
        None => serve_ws(stream, b).await,
    }
}

/// Serves one proxy client.
pub(super) async fn proxy(stream: TcpStream, peer: ProxyPeer) {
    match peer {
        ProxyPeer::Socks5 { reply, auth } => socks5(stream, reply, auth).await,
        ProxyPeer::Http { status, auth } => http_proxy(stream, status, auth).await,
    }
}

fn refuse(status: StatusCode, body: &str) -> ErrorResponse {
    let mut r = ErrorResponse::new(Some(body.to_string()));
    *r.status_mut() = status;
    r.headers_mut()
        .insert("Server", HeaderValue::from_static("lab-ws"));
    r
}

/// IMF-fixdate, `Tue, 01 Dec 2026 12:00:00 GMT`.
fn http_date(t: time::OffsetDateTime) -> String {
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        &t.weekday().to_string()[..3],
        t.day(),
        &t.month().to_string()[..3],
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

// The handshake callback's error type is tungstenite's.
#[allow(clippy::result_large_err)]
async fn serve_ws<S: AsyncRead + AsyncWrite + Unpin + Send>(stream: S, b: WsBroker) {
    let subprotocol = b.subprotocol;
    let callback = move |req: &Request, mut resp: Response| {
        let path = req.uri().path();
        if path == "/auth" {
            let want = format!("Bearer {LAB_TOKEN}");
            let ok = req
                .headers()
                .get("authorization")
                .is_some_and(|v| v.as_bytes() == want.as_bytes());
            if !ok {
                return Err(refuse(
                    StatusCode::UNAUTHORIZED,
                    "a bearer token is required",
                ));
            }
        } else if path != "/mqtt" {
            return Err(refuse(StatusCode::NOT_FOUND, "no such path"));
        }
        resp.headers_mut()
            .insert("Server", HeaderValue::from_static("lab-ws"));
        // An origin server with a clock sends Date (RFC 9110 §6.6.1), as EMQX and nginx do.
        if let Ok(date) = HeaderValue::from_str(&http_date(time::OffsetDateTime::now_utc())) {
            resp.headers_mut().insert("Date", date);
        }
        let offered = req
            .headers()
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if subprotocol && offered.split(',').any(|p| p.trim() == "mqtt") {
            resp.headers_mut()
                .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("mqtt"));
        }
        Ok(resp)
    };
    let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(stream, callback).await else {
        return;
    };
    if b.close_after_upgrade {
        let _ = ws
            .close(Some(CloseFrame {
                code: CloseCode::Protocol,
                reason: "unsupported subprotocol".into(),
            }))
            .await;
        return;
    }
    super::broker::serve(WsIo::new(ws, Bytes::new()), b.script).await;
}

/// Where a proxy client wants to go: (host, port).
async fn relay(mut client: TcpStream, host: &str, port: u16, ok: &[u8]) {
    let Ok(Ok(mut upstream)) =
        tokio::time::timeout(Duration::from_secs(5), TcpStream::connect((host, port))).await
    else {
        return;
    };
    let _ = upstream.set_nodelay(true);
    if client.write_all(ok).await.is_err() {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}

async fn socks5(mut s: TcpStream, reply: Option<u8>, auth: bool) {
    let mut head = [0u8; 2];
    if s.read_exact(&mut head).await.is_err() || head[0] != 5 {
        return;
    }
    let mut methods = vec![0u8; head[1] as usize];
    if s.read_exact(&mut methods).await.is_err() {
        return;
    }
    if auth {
        if !methods.contains(&2) {
            let _ = s.write_all(&[5, 0xFF]).await;
            return;
        }
        if s.write_all(&[5, 2]).await.is_err() {
            return;
        }
        let mut v = [0u8; 2];
        if s.read_exact(&mut v).await.is_err() {
            return;
        }
        let mut user = vec![0u8; v[1] as usize];
        let mut plen = [0u8; 1];
        if s.read_exact(&mut user).await.is_err() || s.read_exact(&mut plen).await.is_err() {
            return;
        }
        let mut pass = vec![0u8; plen[0] as usize];
        if s.read_exact(&mut pass).await.is_err() {
            return;
        }
        let ok = user == PROXY_USER.as_bytes() && pass == PROXY_PASSWORD.as_bytes();
        let _ = s.write_all(&[1, if ok { 0 } else { 1 }]).await;
        if !ok {
            return;
        }
    } else if s.write_all(&[5, 0]).await.is_err() {
        return;
    }
    let mut req = [0u8; 4];
    if s.read_exact(&mut req).await.is_err() || req[1] != 1 {
        return;
    }
    let host = match req[3] {
        1 => {
            let mut a = [0u8; 4];
            if s.read_exact(&mut a).await.is_err() {
                return;
            }
            std::net::Ipv4Addr::from(a).to_string()
        }
        4 => {
            let mut a = [0u8; 16];
            if s.read_exact(&mut a).await.is_err() {
                return;
            }
            std::net::Ipv6Addr::from(a).to_string()
        }
        3 => {
            let mut l = [0u8; 1];
            if s.read_exact(&mut l).await.is_err() {
                return;
            }
            let mut n = vec![0u8; l[0] as usize];
            if s.read_exact(&mut n).await.is_err() {
                return;
            }
            String::from_utf8_lossy(&n).into_owned()
        }
        _ => return,
    };
    let mut port = [0u8; 2];
    if s.read_exact(&mut port).await.is_err() {
        return;
    }
    let port = u16::from_be_bytes(port);
    match reply {
        Some(code) => {
            let _ = s.write_all(&[5, code, 0, 1, 0, 0, 0, 0, 0, 0]).await;
        }
        None => relay(s, &host, port, &[5, 0, 0, 1, 127, 0, 0, 1, 0, 0]).await,
    }
}

async fn http_proxy(mut s: TcpStream, status: Option<u16>, auth: bool) {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
        match s.read(&mut b).await {
            Ok(1) => head.push(b[0]),
            _ => return,
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let Some(target) = text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("CONNECT "))
        .and_then(|l| l.split(' ').next())
    else {
        let _ = s
            .write_all(b"HTTP/1.1 405 Method Not Allowed\r\nServer: lab-proxy\r\nContent-Length: 0\r\n\r\n")
            .await;
        return;
    };
    let answer = |code: u16, reason: &str, extra: &str| {
        format!("HTTP/1.1 {code} {reason}\r\nServer: lab-proxy\r\n{extra}Content-Length: 0\r\n\r\n")
    };
    if auth {
        use base64::Engine as _;
        let want = base64::engine::general_purpose::STANDARD
            .encode(format!("{PROXY_USER}:{PROXY_PASSWORD}"));
        let ok = text
            .lines()
            .any(|l| l.eq_ignore_ascii_case(&format!("proxy-authorization: basic {want}")));
        if !ok {
            let _ = s
                .write_all(
                    answer(
                        407,
                        "Proxy Authentication Required",
                        "Proxy-Authenticate: Basic realm=\"lab\"\r\n",
                    )
                    .as_bytes(),
                )
                .await;
            return;
        }
    }
    if let Some(code) = status {
        let reason = match code {
            403 => "Forbidden",
            407 => "Proxy Authentication Required",
            502 => "Bad Gateway",
            504 => "Gateway Timeout",
            _ => "Error",
        };
        let extra = if code == 407 {
            "Proxy-Authenticate: Basic realm=\"lab\"\r\n"
        } else {
            ""
        };
        let _ = s.write_all(answer(code, reason, extra).as_bytes()).await;
        return;
    }
    let Some((host, port)) = target.rsplit_once(':') else {
        return;
    };
    let Ok(port) = port.parse::<u16>() else {
        return;
    };
    let host = host.trim_matches(['[', ']']).to_string();
    relay(
        s,
        &host,
        port,
        b"HTTP/1.1 200 Connection established\r\nServer: lab-proxy\r\n\r\n",
    )
    .await;
}
