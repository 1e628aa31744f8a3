//! Lab peers for the WebSocket and proxy stages: a WebSocket MQTT broker (the scripted broker
//! behind a real upgrade, plain or TLS) with scripted faults, a peer that hangs up, SOCKS5 and
//! HTTP CONNECT proxies that relay or answer with a chosen reply code, and their scenarios.

use bytes::Bytes;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::{LabError, Scenario, Script};
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

#[derive(Clone)]
enum Peer {
    Ws(WsBroker),
    /// Reads the request and closes without a word.
    HangUp,
    Proxy(ProxyPeer),
}

async fn listen(peer: Peer) -> io::Result<(SocketAddr, JoinHandle<()>)> {
    super::serve_each(move |stream| handle(stream, peer.clone())).await
}

async fn handle(stream: TcpStream, peer: Peer) {
    match peer {
        Peer::Ws(b) => match b.tls.clone() {
            Some(config) => {
                let acceptor = tokio_rustls::TlsAcceptor::from(config);
                if let Ok(tls) = acceptor.accept(stream).await {
                    serve_ws(tls, b).await;
                }
            }
            None => serve_ws(stream, b).await,
        },
        Peer::HangUp => {
            let mut stream = stream;
            let mut b = [0u8; 1024];
            let _ = stream.read(&mut b).await;
            let _ = stream.shutdown().await;
        }
        Peer::Proxy(ProxyPeer::Socks5 { reply, auth }) => socks5(stream, reply, auth).await,
        Peer::Proxy(ProxyPeer::Http { status, auth }) => http_proxy(stream, status, auth).await,
    }
}

fn refuse(status: StatusCode, body: &str) -> ErrorResponse {
    let mut r = ErrorResponse::new(Some(body.to_string()));
    *r.status_mut() = status;
    r.headers_mut()
        .insert("Server", HeaderValue::from_static("lab-ws"));
    r
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

/// Ports of the main lab this module's scenarios reuse.
pub struct Shared {
    /// A healthy plain MQTT broker.
    pub mqtt: SocketAddr,
    /// A healthy MQTT-over-TLS broker (lab CA, `localhost`).
    pub mqtts: SocketAddr,
    /// Accepts and never answers.
    pub silent: SocketAddr,
    /// Answers HTTP 400 to anything.
    pub http: SocketAddr,
    pub tls_config: Arc<rustls::ServerConfig>,
    /// `--ca FILE` for the lab CA.
    pub ca: String,
}

/// Starts the WebSocket and proxy peers and returns their scenarios and tasks.
pub async fn start(sh: Shared) -> Result<(Vec<Scenario>, Vec<JoinHandle<()>>), LabError> {
    let mut tasks = Vec::new();
    let mut out = Vec::new();
    let mut add = |id: &str, title: &str, url: String, args: &[&str], expect: &str| {
        out.push(Scenario {
            id: id.into(),
            title: title.into(),
            url,
            args: args.iter().map(|s| s.to_string()).collect(),
            expect: expect.into(),
            env: Vec::new(),
            says: None,
        });
    };
    let mut start = async |p: Peer| -> Result<SocketAddr, LabError> {
        let (a, t) = listen(p).await?;
        tasks.push(t);
        Ok(a)
    };
    let ca = sh.ca.as_str();

    // WebSocket
    let ws = start(Peer::Ws(WsBroker::new(Script::default()))).await?;
    let wss = start(Peer::Ws(WsBroker {
        tls: Some(sh.tls_config.clone()),
        ..WsBroker::new(Script::default())
    }))
    .await?;
    let ws_v311 = start(Peer::Ws(WsBroker::new(Script {
        only_v311: true,
        ..Script::default()
    })))
    .await?;
    let no_proto = start(Peer::Ws(WsBroker {
        subprotocol: false,
        ..WsBroker::new(Script::default())
    }))
    .await?;
    let closer = start(Peer::Ws(WsBroker {
        close_after_upgrade: true,
        ..WsBroker::new(Script::default())
    }))
    .await?;
    let hangup = start(Peer::HangUp).await?;
    let p = |a: SocketAddr| a.port();
    add(
        "ok.ws",
        "healthy MQTT over WebSockets",
        format!("ws://127.0.0.1:{}/mqtt", p(ws)),
        &[],
        "ok",
    );
    add(
        "ok.wss",
        "healthy MQTT over secure WebSockets (lab CA)",
        format!("wss://localhost:{}/mqtt", p(wss)),
        &["--ca", ca],
        "ok",
    );
    add(
        "ok.ws_v311_fallback",
        "3.1.1-only WebSocket broker: the retry upgrades again",
        format!("ws://127.0.0.1:{}", p(ws_v311)),
        &[],
        "ok",
    );
    let bearer = format!("Authorization: Bearer {LAB_TOKEN}");
    add(
        "ok.ws_header",
        "a WebSocket path that wants a bearer token, sent with --header",
        format!("ws://127.0.0.1:{}/auth", p(ws)),
        &["--header", &bearer],
        "ok",
    );
    add(
        "ws.http_status",
        "a wrong WebSocket path (HTTP 404)",
        format!("ws://127.0.0.1:{}/wrong", p(ws)),
        &[],
        "ws.http_status",
    );
    add(
        "ws.http_status.401",
        "a WebSocket path that wants a token (HTTP 401)",
        format!("ws://127.0.0.1:{}/auth", p(ws)),
        &[],
        "ws.http_status",
    );
    add(
        "ws.subprotocol_rejected",
        "101 without the mqtt subprotocol",
        format!("ws://127.0.0.1:{}/mqtt", p(no_proto)),
        &[],
        "ws.subprotocol_rejected",
    );
    add(
        "ws.subprotocol_rejected.close",
        "101, then a close frame at once",
        format!("ws://127.0.0.1:{}/mqtt", p(closer)),
        &[],
        "ws.subprotocol_rejected",
    );
    add(
        "ws.not_http",
        "ws:// spoken to a plain MQTT port",
        format!("ws://127.0.0.1:{}", p(sh.mqtt)),
        &[],
        "ws.not_http",
    );
    add(
        "ws.not_http.tls",
        "ws:// spoken to a TLS port",
        format!("ws://127.0.0.1:{}", p(sh.mqtts)),
        &[],
        "ws.not_http",
    );
    add(
        "ws.not_http.mqtts",
        "wss:// spoken to an MQTT-over-TLS port",
        format!("wss://localhost:{}", p(sh.mqtts)),
        &["--ca", ca],
        "ws.not_http",
    );
    add(
        "ws.timeout",
        "the port never answers the upgrade",
        format!("ws://127.0.0.1:{}", p(sh.silent)),
        &["--timeout", "1"],
        "ws.timeout",
    );
    add(
        "ws.closed",
        "the port hangs up on the upgrade",
        format!("ws://127.0.0.1:{}", p(hangup)),
        &[],
        "ws.closed",
    );

    // Proxies
    let socks = start(Peer::Proxy(ProxyPeer::Socks5 {
        reply: None,
        auth: false,
    }))
    .await?;
    let socks_auth = start(Peer::Proxy(ProxyPeer::Socks5 {
        reply: None,
        auth: true,
    }))
    .await?;
    let http_proxy = start(Peer::Proxy(ProxyPeer::Http {
        status: None,
        auth: false,
    }))
    .await?;
    let http_auth = start(Peer::Proxy(ProxyPeer::Http {
        status: None,
        auth: true,
    }))
    .await?;
    let socks_url = format!("socks5://127.0.0.1:{}", p(socks));
    let socks_auth_url = format!("socks5://{PROXY_USER}@127.0.0.1:{}", p(socks_auth));
    let http_url = format!("http://127.0.0.1:{}", p(http_proxy));
    let http_auth_url = format!("http://{PROXY_USER}@127.0.0.1:{}", p(http_auth));
    add(
        "ok.socks5",
        "plain MQTT through a SOCKS5 proxy",
        format!("mqtt://127.0.0.1:{}", p(sh.mqtt)),
        &["--proxy", &socks_url],
        "ok",
    );
    add(
        "ok.socks5_ws_name",
        "MQTT over WebSockets through SOCKS5, the name resolved by the proxy",
        format!("ws://localhost:{}/mqtt", p(ws)),
        &["--proxy", &socks_url],
        "ok",
    );
    add(
        "ok.socks5_v311_fallback",
        "3.1.1-only WebSocket broker through SOCKS5: the retry goes through the proxy again",
        format!("ws://localhost:{}/mqtt", p(ws_v311)),
        &["--proxy", &socks_url],
        "ok",
    );
    add(
        "ok.socks5_auth",
        "SOCKS5 with user name and password",
        format!("mqtt://127.0.0.1:{}", p(sh.mqtt)),
        &[
            "--proxy",
            &socks_auth_url,
            "--proxy-password-env",
            "LAB_PROXY_PASSWORD",
        ],
        "ok",
    );
    add(
        "proxy.auth_required",
        "SOCKS5 refuses a wrong password",
        format!("mqtt://127.0.0.1:{}", p(sh.mqtt)),
        &[
            "--proxy",
            &socks_auth_url,
            "--proxy-password-env",
            "LAB_PROXY_WRONG",
        ],
        "proxy.auth_required",
    );
    add(
        "proxy.auth_required.socks_none",
        "SOCKS5 wants credentials, none given",
        format!("mqtt://127.0.0.1:{}", p(sh.mqtt)),
        &["--proxy", &format!("socks5://127.0.0.1:{}", p(socks_auth))],
        "proxy.auth_required",
    );
    add(
        "ok.http_connect",
        "secure WebSockets through an HTTP CONNECT proxy",
        format!("wss://localhost:{}/mqtt", p(wss)),
        &["--ca", ca, "--proxy", &http_url],
        "ok",
    );
    add(
        "ok.http_connect_auth",
        "MQTT over TLS through an HTTP CONNECT proxy with Basic authentication",
        format!("mqtts://localhost:{}", p(sh.mqtts)),
        &[
            "--ca",
            ca,
            "--proxy",
            &http_auth_url,
            "--proxy-password-env",
            "LAB_PROXY_PASSWORD",
        ],
        "ok",
    );
    add(
        "proxy.auth_required.http",
        "HTTP proxy answers 407",
        format!("mqtt://127.0.0.1:{}", p(sh.mqtt)),
        &["--proxy", &format!("http://127.0.0.1:{}", p(http_auth))],
        "proxy.auth_required",
    );
    for (code, cause) in [
        (0x01u8, "proxy.failed"),
        (0x02, "proxy.denied"),
        (0x03, "proxy.target_unreachable"),
        (0x04, "proxy.target_unreachable"),
        (0x05, "proxy.refused"),
    ] {
        let a = start(Peer::Proxy(ProxyPeer::Socks5 {
            reply: Some(code),
            auth: false,
        }))
        .await?;
        add(
            &format!("{cause}.socks_0x{code:02x}"),
            &format!(
                "SOCKS5 reply 0x{code:02X} ({})",
                crate::diagnose::proxy::socks_reply_name(code)
            ),
            format!("mqtt://broker.example.com:{}", p(sh.mqtt)),
            &["--proxy", &format!("socks5://127.0.0.1:{}", p(a))],
            cause,
        );
    }
    for (status, cause) in [
        (403u16, "proxy.denied"),
        (502, "proxy.target_unreachable"),
        (504, "proxy.target_unreachable"),
    ] {
        let a = start(Peer::Proxy(ProxyPeer::Http {
            status: Some(status),
            auth: false,
        }))
        .await?;
        add(
            &format!("{cause}.http_{status}"),
            &format!("HTTP proxy answers {status}"),
            format!("wss://broker.example.com:{}", p(wss)),
            &["--proxy", &format!("http://127.0.0.1:{}", p(a))],
            cause,
        );
    }
    add(
        "proxy.not_a_proxy",
        "a web server named as HTTP proxy",
        format!("mqtt://127.0.0.1:{}", p(sh.mqtt)),
        &["--proxy", &format!("http://127.0.0.1:{}", p(sh.http))],
        "proxy.not_a_proxy",
    );
    add(
        "proxy.not_a_proxy.broker",
        "the broker's own port named as SOCKS5 proxy",
        format!("mqtt://127.0.0.1:{}", p(sh.mqtt)),
        &["--proxy", &format!("socks5://127.0.0.1:{}", p(sh.mqtt))],
        "proxy.not_a_proxy",
    );
    add(
        "proxy.timeout",
        "a proxy that never answers",
        format!("mqtt://127.0.0.1:{}", p(sh.mqtt)),
        &[
            "--proxy",
            &format!("socks5://127.0.0.1:{}", p(sh.silent)),
            "--timeout",
            "1",
        ],
        "proxy.timeout",
    );
    for s in &mut out {
        s.says = match s.id.as_str() {
            "ws.http_status" => Some("HTTP 404 Not Found"),
            "ws.http_status.401" => Some("HTTP 401 Unauthorized"),
            "ws.not_http" => Some("answers an MQTT CONNECT"),
            "ws.not_http.tls" => Some("answered with TLS"),
            "ws.not_http.mqtts" => Some("answers an MQTT CONNECT inside TLS"),
            "ws.subprotocol_rejected.close" => Some("close code 1002"),
            "proxy.not_a_proxy.broker" => Some("so it is an MQTT broker"),
            "proxy.denied.socks_0x02" => Some("connection not allowed by ruleset"),
            "proxy.auth_required.http" => Some("HTTP 407"),
            _ => None,
        }
        .map(str::to_string);
        if s.args.iter().any(|a| a == "LAB_PROXY_PASSWORD") {
            s.env = vec![("LAB_PROXY_PASSWORD".into(), PROXY_PASSWORD.into())];
        }
        if s.args.iter().any(|a| a == "LAB_PROXY_WRONG") {
            s.env = vec![("LAB_PROXY_WRONG".into(), "wrong".into())];
        }
    }
    Ok((out, tasks))
}
