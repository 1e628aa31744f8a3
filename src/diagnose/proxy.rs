//! The proxy stage (only when a proxy is configured): HTTP CONNECT or SOCKS5 over the TCP
//! connection to the proxy, leaving a byte stream to the broker for the tls/ws/mqtt stages.
//! SOCKS5 is written out here (RFC 1928/1929, a few dozen lines) so the raw reply code and
//! the first bytes of a peer that is not a proxy can be reported.

use base64::Engine as _;
use serde_json::Value;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

use super::engine::Run;
use super::plan::{Host, Target};
use super::route::{Proxy, ProxyKind};
use super::tcp::round_ms;
use super::{Stage, probe};
use crate::explain::{PeerSpeaks, Problem, ProxyProblem, ProxyReply};
use crate::text::{sanitize, sanitize_bytes, truncate};

/// Facts gathered during a handshake, emitted by the stage afterwards.
type Notes = Vec<(&'static str, Value)>;

/// The dns stage's view of a proxied run: says who resolves the broker's name and returns the
/// host to resolve here (the proxy's), or `None` without a proxy.
pub async fn dns_note(run: &mut Run) -> Option<Host> {
    if let Some(note) = run.plan.route.proxy_note.clone() {
        run.fact(Stage::Dns, "proxy", note).await;
    }
    let proxy = run.plan.route.proxy.clone()?;
    let target = &run.plan.target;
    let name = target.host.to_string();
    let note = if ip_of(&target.host).is_some() {
        format!("{name} is an IP address; the proxy connects to it")
    } else {
        match proxy.kind {
            ProxyKind::Socks5 => {
                format!("{name} is resolved by the SOCKS5 proxy, not here (the name is sent to it)")
            }
            ProxyKind::Http => format!(
                "{name} is resolved by the HTTP proxy, not here (CONNECT {name}:{})",
                target.port
            ),
        }
    };
    run.fact(Stage::Dns, "target", note).await;
    run.fact(
        Stage::Dns,
        "resolving",
        format!("the proxy's host {} ({})", proxy.host, proxy.source),
    )
    .await;
    Some(proxy.host)
}

/// Through a proxy, the dns and tcp stages resolve and reach the proxy: their failures are
/// the proxy's (`proxy.dns`, `proxy.refused`, `proxy.timeout`), worded about the proxy and
/// where its address came from, and filed on the proxy stage.
pub fn reframe(plan: &super::Plan, problem: Problem) -> Problem {
    let Some(proxy) = &plan.route.proxy else {
        return problem;
    };
    if !matches!(problem.stage(), Stage::Dns | Stage::Tcp) {
        return problem;
    }
    Problem::Proxy(ProxyProblem::Unreachable {
        proxy: proxy.url(),
        source: proxy.source.clone(),
        failure: Box::new(problem),
    })
}

/// The address a host stands for when it is an IP literal (URLs with ws:// and mqtt:// keep
/// IP hosts as text).
fn ip_of(host: &Host) -> Option<std::net::IpAddr> {
    match host {
        Host::Ip(ip) => Some(*ip),
        Host::Name(n) => n.trim_matches(['[', ']']).parse().ok(),
    }
}

/// The `host:port` the proxy is asked to connect to.
fn authority(target: &Target) -> String {
    format!("{}:{}", target.host, target.port)
}

pub async fn run(
    run: &mut Run,
    mut stream: TcpStream,
    peer: SocketAddr,
) -> Result<TcpStream, Problem> {
    let Some(proxy) = run.plan.route.proxy.clone() else {
        return Ok(stream);
    };
    run.fact(
        Stage::Proxy,
        "proxy",
        format!("{} at {peer} (from {})", proxy.url(), proxy.source),
    )
    .await;
    let started = Instant::now();
    let mut notes = Notes::new();
    let target = run.plan.target.clone();
    let secs = run.timeout().as_secs().max(1);
    let result = timeout(
        run.timeout(),
        handshake(&proxy, &target, &mut stream, &mut notes),
    )
    .await;
    for (k, v) in notes {
        run.fact(Stage::Proxy, k, v).await;
    }
    let outcome = match result {
        Err(_) => Err(ProxyProblem::Timeout {
            proxy: proxy.url(),
            secs,
        }),
        Ok(r) => r,
    };
    match outcome {
        Ok(()) => {
            run.fact(Stage::Proxy, "proxy_ms", round_ms(started.elapsed()))
                .await;
            Ok(stream)
        }
        Err(ProxyProblem::NotAProxy {
            proxy: url,
            expected,
            speaks: PeerSpeaks::Nothing,
            detail,
        }) => {
            // Closed without a word: find out whether the address is a broker.
            let deadline = run.timeout().min(Duration::from_secs(3));
            let found = probe::plain_mqtt(peer, deadline).await;
            run.fact(
                Stage::Proxy,
                "probe_plain_mqtt",
                match found {
                    PeerSpeaks::PlainMqtt => "a plain MQTT CONNECT got a CONNACK".to_string(),
                    other => format!("a plain MQTT CONNECT got {}", other.label()),
                },
            )
            .await;
            let detail = if found == PeerSpeaks::PlainMqtt {
                format!("{detail}; it answers a plain MQTT CONNECT, so it is an MQTT broker")
            } else {
                detail
            };
            Err(Problem::Proxy(ProxyProblem::NotAProxy {
                proxy: url,
                expected,
                speaks: found,
                detail,
            }))
        }
        Err(p) => Err(Problem::Proxy(p)),
    }
}

/// The handshake over any byte stream, without facts or deadline: the fuzz entry point
/// (`crate::fuzzing`) feeds it a peer's bytes. `Err` is the proxy problem's summary.
#[doc(hidden)]
pub async fn handshake_words<S: AsyncRead + AsyncWrite + Unpin>(
    proxy: &Proxy,
    target: &Target,
    stream: &mut S,
) -> Result<(), String> {
    let mut notes = Notes::new();
    handshake(proxy, target, stream, &mut notes)
        .await
        .map_err(|p| crate::explain::explain(&Problem::Proxy(p)).summary)
}

/// The handshake without facts, for new connections after the proxy stage (the 3.1.1 retry,
/// follow-up probes).
pub async fn quiet(
    proxy: &Proxy,
    target: &Target,
    mut stream: TcpStream,
    deadline: Duration,
) -> Result<TcpStream, String> {
    let mut notes = Notes::new();
    match timeout(deadline, handshake(proxy, target, &mut stream, &mut notes)).await {
        Err(_) => Err("the proxy did not answer in time".into()),
        Ok(Err(p)) => Err(crate::explain::explain(&Problem::Proxy(p)).summary),
        Ok(Ok(())) => Ok(stream),
    }
}

async fn handshake<S: AsyncRead + AsyncWrite + Unpin>(
    proxy: &Proxy,
    target: &Target,
    stream: &mut S,
    notes: &mut Notes,
) -> Result<(), ProxyProblem> {
    match proxy.kind {
        ProxyKind::Http => http_connect(proxy, target, stream, notes).await,
        ProxyKind::Socks5 => socks5(proxy, target, stream, notes).await,
    }
}

fn not_a_proxy(proxy: &Proxy, heard: &[u8], what: &str) -> ProxyProblem {
    let expected = match proxy.kind {
        ProxyKind::Http => "an HTTP proxy",
        ProxyKind::Socks5 => "a SOCKS5 proxy",
    };
    if heard.is_empty() {
        return ProxyProblem::NotAProxy {
            proxy: proxy.url(),
            expected,
            speaks: PeerSpeaks::Nothing,
            detail: format!("it closed the connection without answering our {what}"),
        };
    }
    let speaks = probe::sniff(heard);
    let preview = &heard[..heard.len().min(48)];
    let shown = if matches!(
        speaks,
        PeerSpeaks::Http | PeerSpeaks::Ssh | PeerSpeaks::Smtp
    ) {
        format!("\"{}\"", sanitize_bytes(preview))
    } else {
        format!("bytes {}", crate::text::hex_preview(preview, 16))
    };
    ProxyProblem::NotAProxy {
        proxy: proxy.url(),
        expected,
        speaks,
        detail: format!("it answered our {what} with {} ({shown})", speaks.label()),
    }
}

/// Reads an HTTP response head (up to the blank line) one byte at a time, so nothing after it
/// is consumed. Returns what was read and whether the head is complete.
async fn read_head<S: AsyncRead + Unpin>(stream: &mut S, limit: usize) -> (Vec<u8>, bool) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while head.len() < limit {
        match stream.read(&mut byte).await {
            Ok(1) => {
                head.push(byte[0]);
                if head.ends_with(b"\r\n\r\n") || head.ends_with(b"\n\n") {
                    return (head, true);
                }
                if head.len() == 5 && !head.starts_with(b"HTTP/") {
                    return (head, false);
                }
            }
            _ => return (head, false),
        }
    }
    (head, false)
}

/// An HTTP response head: status code, status line, headers (names lowercased).
pub struct Head {
    pub code: u16,
    pub line: String,
    pub headers: Vec<(String, String)>,
}

impl Head {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses an HTTP response head.
pub fn parse_head(head: &[u8]) -> Option<Head> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n").flat_map(|l| l.split('\n'));
    let status_line = lines.next()?.trim().to_string();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next()?;
    if !version.starts_with("HTTP/") {
        return None;
    }
    let code = parts.next()?.parse::<u16>().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some(Head {
        code,
        line: status_line,
        headers,
    })
}

async fn http_connect<S: AsyncRead + AsyncWrite + Unpin>(
    proxy: &Proxy,
    target: &Target,
    stream: &mut S,
    notes: &mut Notes,
) -> Result<(), ProxyProblem> {
    let auth = authority(target);
    let mut request = format!(
        "CONNECT {auth} HTTP/1.1\r\nHost: {auth}\r\nUser-Agent: mqtt-doctor/{}\r\n",
        env!("CARGO_PKG_VERSION")
    );
    notes.push(("request", format!("CONNECT {auth} HTTP/1.1").into()));
    let sent_credentials = proxy.username.is_some();
    if let Some(user) = &proxy.username {
        let pass = proxy.password.as_ref().map(|p| p.expose()).unwrap_or("");
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        request.push_str(&format!("Proxy-Authorization: Basic {token}\r\n"));
        notes.push((
            "credentials",
            format!(
                "Basic, user {user:?}, {}",
                if proxy.password.is_some() {
                    "password given"
                } else {
                    "no password"
                }
            )
            .into(),
        ));
    }
    request.push_str("\r\n");
    let url = proxy.url();
    if stream.write_all(request.as_bytes()).await.is_err() {
        return Err(not_a_proxy(proxy, &[], "CONNECT request"));
    }
    let (head, complete) = read_head(stream, 16 * 1024).await;
    let Some(Head {
        code,
        line: status_line,
        headers,
    }) = parse_head(&head).filter(|_| complete)
    else {
        if head.starts_with(b"HTTP/") {
            return Err(ProxyProblem::Failed {
                proxy: url,
                detail: format!(
                    "its answer ended early: \"{}\"",
                    truncate(&sanitize_bytes(&head), 80)
                ),
            });
        }
        return Err(not_a_proxy(proxy, &head, "CONNECT request"));
    };
    let status_line = sanitize(&status_line);
    notes.push(("status", status_line.clone().into()));
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| sanitize(v))
    };
    if let Some(s) = header("server").or_else(|| header("via")) {
        notes.push(("proxy_server", s.into()));
    }
    let reply = ProxyReply::Http {
        status: code,
        reason: status_line.splitn(3, ' ').nth(2).unwrap_or("").to_string(),
    };
    let detail = reply.words();
    match code {
        200..=299 => Ok(()),
        // tinyproxy 1.11 answers wrong credentials with 401 instead of 407.
        401 | 407 => {
            if let Some(a) = header("proxy-authenticate") {
                notes.push(("proxy_authenticate", a.into()));
            }
            Err(ProxyProblem::AuthRequired {
                proxy: url,
                detail,
                sent_credentials,
            })
        }
        403 => Err(ProxyProblem::Denied {
            proxy: url,
            target: auth,
            reply,
        }),
        502 | 504 => Err(ProxyProblem::TargetUnreachable {
            proxy: url,
            target: auth,
            reply,
        }),
        400 | 404 | 405 | 501 => Err(ProxyProblem::NotAProxy {
            proxy: url,
            expected: "an HTTP proxy",
            speaks: PeerSpeaks::Http,
            detail: format!("it is a web server that refused the CONNECT method ({detail})"),
        }),
        _ => Err(ProxyProblem::Failed { proxy: url, detail }),
    }
}

/// The name of a SOCKS5 reply code (RFC 1928 §6).
/// Kept here for the lab's SOCKS5 server; the names live in `explain`.
pub use crate::explain::socks_reply_name;

async fn socks5<S: AsyncRead + AsyncWrite + Unpin>(
    proxy: &Proxy,
    target: &Target,
    stream: &mut S,
    notes: &mut Notes,
) -> Result<(), ProxyProblem> {
    let url = proxy.url();
    let creds = proxy.username.as_ref().map(|u| {
        (
            u.clone(),
            proxy
                .password
                .as_ref()
                .map(|p| p.expose().to_string())
                .unwrap_or_default(),
        )
    });
    // Greeting: offer "no authentication", plus user name/password when we have a user.
    let greeting: &[u8] = if creds.is_some() {
        &[5, 2, 0x00, 0x02]
    } else {
        &[5, 1, 0x00]
    };
    if stream.write_all(greeting).await.is_err() {
        return Err(not_a_proxy(proxy, &[], "SOCKS5 greeting"));
    }
    let mut choice = [0u8; 2];
    let heard = read_some(stream, &mut choice).await;
    if heard.len() < 2 || choice[0] != 5 {
        return Err(not_a_proxy(proxy, &heard, "SOCKS5 greeting"));
    }
    let method = choice[1];
    notes.push((
        "auth_method",
        match method {
            0x00 => "none (the proxy asks for no authentication)".to_string(),
            0x02 => "user name/password".to_string(),
            0xFF => "none acceptable".to_string(),
            m => format!("0x{m:02X} (not offered by us)"),
        }
        .into(),
    ));
    match (method, &creds) {
        (0x00, _) => {}
        (0x02, Some((user, pass))) => {
            if user.len() > 255 || pass.len() > 255 {
                return Err(ProxyProblem::Failed {
                    proxy: url,
                    detail: "the SOCKS5 user name and password must be at most 255 bytes each"
                        .into(),
                });
            }
            let mut msg = vec![1, user.len() as u8];
            msg.extend_from_slice(user.as_bytes());
            msg.push(pass.len() as u8);
            msg.extend_from_slice(pass.as_bytes());
            let mut status = [0u8; 2];
            if stream.write_all(&msg).await.is_err() {
                return Err(ProxyProblem::AuthRequired {
                    proxy: url,
                    detail: "it closed the connection when we sent the user name and password"
                        .into(),
                    sent_credentials: true,
                });
            }
            let got = read_some(stream, &mut status).await;
            if got.len() < 2 || status[1] != 0 {
                let detail = if got.len() < 2 {
                    "it closed the connection after our user name and password".to_string()
                } else {
                    format!("authentication status 0x{:02X}", status[1])
                };
                notes.push(("auth", detail.clone().into()));
                return Err(ProxyProblem::AuthRequired {
                    proxy: url,
                    detail: format!("SOCKS5 user name/password refused: {detail}"),
                    sent_credentials: true,
                });
            }
            notes.push(("auth", format!("accepted for user {user:?}").into()));
        }
        (0xFF, _) => {
            return Err(ProxyProblem::AuthRequired {
                proxy: url,
                detail: if creds.is_some() {
                    "SOCKS5: it accepts none of the offered methods (no authentication, user name/password)".into()
                } else {
                    "SOCKS5: it accepts no unauthenticated clients (method 0xFF)".into()
                },
                sent_credentials: false,
            });
        }
        (m, _) => {
            return Err(ProxyProblem::Failed {
                proxy: url,
                detail: format!(
                    "SOCKS5: it chose the authentication method 0x{m:02X}, which we did not offer"
                ),
            });
        }
    }
    // CONNECT request; names go to the proxy unresolved.
    let mut req = vec![5, 1, 0];
    let host = match ip_of(&target.host) {
        Some(ip) => Host::Ip(ip),
        None => target.host.clone(),
    };
    match &host {
        Host::Name(n) if n.len() <= 255 => {
            req.push(3);
            req.push(n.len() as u8);
            req.extend_from_slice(n.as_bytes());
        }
        Host::Name(_) => {
            return Err(ProxyProblem::Failed {
                proxy: url,
                detail: "the host name is longer than SOCKS5 allows (255 bytes)".into(),
            });
        }
        Host::Ip(std::net::IpAddr::V4(ip)) => {
            req.push(1);
            req.extend_from_slice(&ip.octets());
        }
        Host::Ip(std::net::IpAddr::V6(ip)) => {
            req.push(4);
            req.extend_from_slice(&ip.octets());
        }
    }
    req.extend_from_slice(&target.port.to_be_bytes());
    let auth = authority(target);
    notes.push(("request", format!("CONNECT {auth}").into()));
    if stream.write_all(&req).await.is_err() {
        return Err(ProxyProblem::Failed {
            proxy: url,
            detail: "it closed the connection before our CONNECT request".into(),
        });
    }
    let mut head = [0u8; 4];
    let got = read_some(stream, &mut head).await;
    if got.len() < 2 || head[0] != 5 {
        if got.is_empty() {
            return Err(ProxyProblem::Failed {
                proxy: url,
                detail: "it closed the connection without answering our CONNECT request".into(),
            });
        }
        return Err(not_a_proxy(proxy, &got, "SOCKS5 CONNECT request"));
    }
    let rep = head[1];
    notes.push((
        "reply",
        format!("0x{rep:02X} {}", socks_reply_name(rep)).into(),
    ));
    if rep == 0 {
        if got.len() < 4 {
            return Err(ProxyProblem::Failed {
                proxy: url,
                detail: "its CONNECT reply was cut short".into(),
            });
        }
        let addr_len = match head[3] {
            1 => 4,
            4 => 16,
            3 => {
                let mut l = [0u8; 1];
                let _ = stream.read_exact(&mut l).await;
                l[0] as usize
            }
            other => {
                return Err(ProxyProblem::Failed {
                    proxy: url,
                    detail: format!(
                        "its CONNECT reply names the unknown address type 0x{other:02X} (RFC 1928 knows 1, 3 and 4)"
                    ),
                });
            }
        };
        let mut rest = vec![0u8; addr_len + 2];
        if stream.read_exact(&mut rest).await.is_err() {
            return Err(ProxyProblem::Failed {
                proxy: url,
                detail: "its CONNECT reply was cut short".into(),
            });
        }
        if head[3] == 1 {
            let ip = std::net::Ipv4Addr::new(rest[0], rest[1], rest[2], rest[3]);
            let port = u16::from_be_bytes([rest[4], rest[5]]);
            notes.push(("bound", format!("{ip}:{port}").into()));
        }
        return Ok(());
    }
    let reply = ProxyReply::Socks5(rep);
    let detail = reply.words();
    Err(match rep {
        0x02 => ProxyProblem::Denied {
            proxy: url,
            target: auth,
            reply,
        },
        0x03 | 0x04 | 0x06 => ProxyProblem::TargetUnreachable {
            proxy: url,
            target: auth,
            reply,
        },
        0x05 => ProxyProblem::Refused {
            proxy: url,
            target: auth,
            reply,
        },
        _ if rep == 0x01 && matches!(host, Host::Name(_)) => ProxyProblem::Failed {
            proxy: url,
            detail: format!(
                "{detail}; some SOCKS5 servers (microsocks among them) answer this when they cannot resolve {}",
                target.host
            ),
        },
        _ => ProxyProblem::Failed { proxy: url, detail },
    })
}

/// Fills `buf` as far as the peer sends (stops at end of stream); returns the bytes read.
/// A peer that is not SOCKS may send a long text: read a little more for the preview.
async fn read_some<S: AsyncRead + Unpin>(stream: &mut S, buf: &mut [u8]) -> Vec<u8> {
    let mut got = 0;
    while got < buf.len() {
        match stream.read(&mut buf[got..]).await {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    let mut heard = buf[..got].to_vec();
    if got > 0 && buf[0] != 5 {
        let mut more = [0u8; 64];
        if let Ok(Ok(n)) = timeout(Duration::from_millis(200), stream.read(&mut more)).await {
            heard.extend_from_slice(&more[..n]);
        }
    }
    heard
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_response_heads() {
        let h = parse_head(
            b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"x\"\r\n\r\n",
        )
        .unwrap();
        assert_eq!(h.code, 407);
        assert_eq!(h.line, "HTTP/1.1 407 Proxy Authentication Required");
        assert_eq!(h.header("proxy-authenticate"), Some("Basic realm=\"x\""));
        assert!(parse_head(b"SSH-2.0-x\r\n\r\n").is_none());
    }
}
