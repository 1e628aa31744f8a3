//! Words for the proxy and WebSocket stages: typed evidence and the sentences it becomes.

use super::PeerSpeaks;

/// What a proxy answered our CONNECT request with.
#[derive(Debug, Clone, PartialEq)]
pub enum ProxyReply {
    /// An HTTP status code and the reason phrase the proxy sent with it.
    Http { status: u16, reason: String },
    /// A SOCKS5 reply code (RFC 1928 §6).
    Socks5(u8),
}

impl ProxyReply {
    /// "HTTP 403 Forbidden", "SOCKS5 reply 0x02 connection not allowed by ruleset".
    pub fn words(&self) -> String {
        match self {
            ProxyReply::Http { status, reason } => {
                format!("HTTP {status} {reason}").trim_end().to_string()
            }
            ProxyReply::Socks5(code) => {
                format!("SOCKS5 reply 0x{code:02X} {}", socks_reply_name(*code))
            }
        }
    }
}

/// The names of SOCKS5 reply codes (RFC 1928 §6).
pub fn socks_reply_name(code: u8) -> &'static str {
    match code {
        0x00 => "succeeded",
        0x01 => "general SOCKS server failure",
        0x02 => "connection not allowed by ruleset",
        0x03 => "network unreachable",
        0x04 => "host unreachable",
        0x05 => "connection refused",
        0x06 => "TTL expired",
        0x07 => "command not supported",
        0x08 => "address type not supported",
        _ => "unassigned reply code",
    }
}

/// What went wrong talking to a proxy. `proxy` is the proxy URL (no password), `target` the
/// `host:port` asked for. Where the proxy answered with a status or reply code, that code is
/// the evidence ([`ProxyReply`]); `detail` is the proxy stage's description where the
/// evidence is a mix of what was sent and heard (auth exchanges, non-proxy answers).
#[derive(Debug, Clone, PartialEq)]
pub enum ProxyProblem {
    /// The proxy reached the target, which refused the connection (SOCKS5 reply 0x05).
    Refused {
        proxy: String,
        target: String,
        reply: ProxyReply,
    },
    Timeout {
        proxy: String,
        secs: u64,
    },
    /// HTTP 407, or SOCKS5 authentication refused / required.
    AuthRequired {
        proxy: String,
        detail: String,
        sent_credentials: bool,
    },
    /// HTTP 403, SOCKS5 reply 0x02 "connection not allowed by ruleset".
    Denied {
        proxy: String,
        target: String,
        reply: ProxyReply,
    },
    /// HTTP 502/504, SOCKS5 replies 0x03/0x04 (network/host unreachable), 0x06 (TTL expired).
    TargetUnreachable {
        proxy: String,
        target: String,
        reply: ProxyReply,
    },
    /// The peer did not answer like this kind of proxy.
    NotAProxy {
        proxy: String,
        expected: &'static str,
        speaks: PeerSpeaks,
        detail: String,
    },
    /// Any other refusal (SOCKS5 general failure, other HTTP statuses).
    Failed {
        proxy: String,
        detail: String,
    },
    /// The proxy itself could not be reached: `failure` is the dns or tcp problem of
    /// reaching it; `source` says where its address came from (`--proxy`, `HTTPS_PROXY` …).
    Unreachable {
        proxy: String,
        source: String,
        failure: Box<super::Problem>,
    },
}

impl ProxyProblem {
    pub fn cause(&self) -> &'static str {
        match self {
            ProxyProblem::Refused { .. } => "proxy.refused",
            ProxyProblem::Timeout { .. } => "proxy.timeout",
            ProxyProblem::AuthRequired { .. } => "proxy.auth_required",
            ProxyProblem::Denied { .. } => "proxy.denied",
            ProxyProblem::TargetUnreachable { .. } => "proxy.target_unreachable",
            ProxyProblem::NotAProxy { .. } => "proxy.not_a_proxy",
            ProxyProblem::Failed { .. } => "proxy.failed",
            ProxyProblem::Unreachable { failure, .. } => match failure.stage() {
                crate::diagnose::Stage::Dns => "proxy.dns",
                _ => match failure.cause() {
                    "tcp.refused" => "proxy.refused",
                    "tcp.timeout" => "proxy.timeout",
                    _ => "proxy.unreachable",
                },
            },
        }
    }

    pub fn words(&self) -> (String, String) {
        match self {
            ProxyProblem::Refused { proxy, target, reply } => (
                format!("The proxy {proxy} reached {target}, but the broker refused the connection ({}).", reply.words()),
                "The proxy works; nothing listens on that port of the broker as seen from the proxy: check the broker's host and port (MQTT 1883, MQTT over TLS 8883, WebSockets 80/443/8083/8084).".into(),
            ),
            ProxyProblem::Timeout { proxy, secs } => (
                format!("The proxy {proxy} accepted the TCP connection but did not answer our request within {secs} s."),
                "Check the proxy's address and port and that it is the kind of proxy named in the URL (http:// for CONNECT, socks5://); a slow path from the proxy to the broker can also hold the answer: raise --timeout.".into(),
            ),
            ProxyProblem::AuthRequired { proxy, detail, sent_credentials } => (
                if *sent_credentials {
                    format!("The proxy {proxy} refused our proxy credentials ({detail}).")
                } else {
                    format!("The proxy {proxy} requires authentication and we sent none ({detail}).")
                },
                if *sent_credentials {
                    "Check the proxy user name in the URL and the password in the variable named by --proxy-password-env.".into()
                } else {
                    "Put the proxy user in the URL (--proxy http://USER@HOST:PORT or socks5://USER@HOST:PORT) and pass the password with --proxy-password-env VAR.".into()
                },
            ),
            ProxyProblem::Denied { proxy, target, reply } => (
                format!("The proxy {proxy} does not allow connections to {target} ({}).", reply.words()),
                "The proxy's rules forbid this destination or port (many proxies allow CONNECT to 443 only): ask the proxy's administrator to allow the broker's host and port, or use the broker's WebSocket port 443 (wss://).".into(),
            ),
            ProxyProblem::TargetUnreachable { proxy, target, reply } => (
                format!("The proxy {proxy} could not reach {target} ({}).", reply.words()),
                "The proxy itself cannot resolve or reach the broker: check the broker's host name (it is resolved by the proxy, not here) and that the proxy's network may reach it.".into(),
            ),
            ProxyProblem::NotAProxy { proxy, expected, speaks, detail } => (
                format!("{proxy} did not answer like {expected}: {detail}."),
                match speaks {
                    PeerSpeaks::PlainMqtt => "That address is an MQTT broker, not a proxy: connect to it directly without --proxy, or fix the proxy address.".into(),
                    PeerSpeaks::Http => "That address is a web server, not a forward proxy (or an HTTP proxy spoken to as SOCKS5): check the proxy's port and scheme (http:// or socks5://).".into(),
                    _ => "Check the proxy's host, port and scheme: http:// for an HTTP CONNECT proxy, socks5:// for a SOCKS5 proxy.".into(),
                },
            ),
            ProxyProblem::Unreachable { proxy, source, failure } => {
                let from = if source.is_empty() { "--proxy".to_string() } else { source.clone() };
                let (how, _) = {
                    let f = super::explain(failure);
                    (f.summary, f.remedy)
                };
                (
                    format!("The proxy {proxy} (from {from}) cannot be reached, so the broker was never tried. {how}"),
                    match failure.stage() {
                        crate::diagnose::Stage::Dns => format!("Fix the proxy's host name in {from}{}.", if from == "--proxy" { "" } else { " (or unset it, or add the broker to NO_PROXY)" }),
                        _ => format!("Check the proxy's host and port in {from} and that the proxy is running and reachable from this machine (corporate proxies often listen on 3128 or 8080, SOCKS on 1080); the broker's own port is not involved."),
                    },
                )
            }
            ProxyProblem::Failed { proxy, detail } => (
                format!("The proxy {proxy} refused the connection request ({detail})."),
                "The proxy gave no specific reason: check its log, or try the request with curl --proxy to see its error page.".into(),
            ),
        }
    }
}

/// What went wrong during the WebSocket upgrade.
#[derive(Debug, Clone, PartialEq)]
pub enum WsProblem {
    /// The server answered the upgrade with an HTTP status other than 101.
    HttpStatus {
        status: u16,
        reason: String,
        path: String,
    },
    /// The peer did not answer with HTTP. `speaks`: what the answer or a probe showed;
    /// `over_tls`: the upgrade was sent inside TLS (wss).
    NotHttp {
        speaks: PeerSpeaks,
        over_tls: bool,
        port: u16,
        detail: String,
    },
    /// 101 without one of the offered subprotocols, or a close right after the upgrade.
    SubprotocolRejected {
        offered: Vec<String>,
        chosen: Option<String>,
        close: Option<String>,
    },
    Closed {
        detail: String,
    },
    /// After the upgrade, the server sent what is not a readable WebSocket frame (the framing
    /// library's message: a frame over our 16 MiB cap, reserved bits, an unknown opcode).
    BadFrame {
        error: String,
    },
    Timeout {
        secs: u64,
        heard: bool,
    },
}

impl WsProblem {
    pub fn cause(&self) -> &'static str {
        match self {
            WsProblem::HttpStatus { .. } => "ws.http_status",
            WsProblem::NotHttp { .. } => "ws.not_http",
            WsProblem::SubprotocolRejected { .. } => "ws.subprotocol_rejected",
            WsProblem::Closed { .. } => "ws.closed",
            WsProblem::BadFrame { .. } => "ws.bad_frame",
            WsProblem::Timeout { .. } => "ws.timeout",
        }
    }

    pub fn words(&self) -> (String, String) {
        match self {
            WsProblem::HttpStatus { status, reason, path } => {
                let summary = format!(
                    "The server answered the WebSocket upgrade for {path} with HTTP {status} {reason} instead of 101 Switching Protocols."
                );
                let remedy = match status {
                    404 => "No WebSocket endpoint at this path; common paths are /mqtt and /ws: check the broker's documentation and set the path in the URL or with --ws-path.".to_string(),
                    400 => "The server did not accept the upgrade request: check that this is the broker's WebSocket port and path, and that nothing in between (a proxy, a load balancer) strips the Upgrade headers.".into(),
                    401 | 403 => "The server requires authentication at the HTTP layer (a token, a signed URL or a cookie) before MQTT starts: pass it with --header 'Authorization: …' or in the URL's query string; an expired signed URL also gets this answer.".into(),
                    426 => "The server wants a different protocol version: for wss-only endpoints use wss://, and check that nothing in between downgrades the request.".into(),
                    s if (500..600).contains(s) => "The web server or load balancer in front of the broker failed (its backend is down or unreachable): check the broker behind it and the load balancer's health checks.".into(),
                    s if (300..400).contains(s) => "The server redirects: connect to the address it names in its Location header (often ws:// → wss:// or a different path).".into(),
                    _ => "Check the WebSocket path and port against the broker's documentation.".into(),
                };
                (summary, remedy)
            }
            WsProblem::NotHttp { speaks, over_tls, port, detail } => {
                let summary = format!(
                    "Port {port} did not answer the WebSocket upgrade with HTTP: {detail}."
                );
                let remedy = match (speaks, over_tls) {
                    (PeerSpeaks::PlainMqtt, false) => "This port speaks plain MQTT: use mqtt:// for it, or the broker's WebSocket port (often 8083, 80 or 443) with ws:// or wss://.".to_string(),
                    (PeerSpeaks::PlainMqtt, true) => "This port speaks MQTT over TLS directly: use mqtts:// for it, or the broker's secure WebSocket port (often 8084 or 443) with wss://.".into(),
                    (PeerSpeaks::Tls, _) => "This port speaks TLS: use wss:// (with --ca if the broker uses a private CA).".into(),
                    _ => "Something other than a WebSocket server listens there: check the port (MQTT over WebSockets is often 8083, 8084, 80 or 443).".into(),
                };
                (summary, remedy)
            }
            WsProblem::SubprotocolRejected { offered, chosen, close } => {
                let offered = offered.join(", ");
                let summary = match (chosen, close) {
                    (_, Some(c)) => format!("The server accepted the WebSocket upgrade (offered subprotocols: {offered}) and closed it right away ({c})."),
                    (Some(p), None) => format!("The server accepted the WebSocket upgrade with the subprotocol \"{p}\", which is not one we offered ({offered})."),
                    (None, None) => format!("The server accepted the WebSocket upgrade without choosing a subprotocol; we offered {offered}."),
                };
                (
                    summary,
                    "This endpoint is not set up for MQTT (MQTT over WebSockets must echo Sec-WebSocket-Protocol: mqtt): check the path, and that a proxy in front of the broker passes the Sec-WebSocket-Protocol header through.".into(),
                )
            }
            WsProblem::Closed { detail } => (
                format!("The server {detail} without answering the WebSocket upgrade."),
                "The port accepts connections but drops WebSocket clients: check that it is the broker's WebSocket port, and the broker's or load balancer's log for the reason.".into(),
            ),
            WsProblem::BadFrame { error } => (
                format!("After accepting the WebSocket upgrade, the server sent a frame this client cannot read ({error})."),
                "The server (or a proxy in front of it) breaks WebSocket framing: check its log; frames over 16 MiB are refused on purpose, no MQTT broker needs them.".into(),
            ),
            WsProblem::Timeout { secs, heard } => (
                if *heard {
                    format!("The server started but did not finish its answer to the WebSocket upgrade within {secs} s.")
                } else {
                    format!("The server sent no answer to the WebSocket upgrade within {secs} s.")
                },
                "The port accepted the connection but does not answer HTTP: check that it is the WebSocket port (and wss:// for a TLS port), or that nothing in between holds the request; raise --timeout on slow links.".into(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Problem, cause_info, explain};
    use super::*;

    fn samples() -> Vec<Problem> {
        let p = || "socks5://127.0.0.1:1080".to_string();
        let t = || "broker.example.com:8883".to_string();
        let d = || "detail".to_string();
        let mut v: Vec<Problem> = vec![
            ProxyProblem::Refused {
                proxy: p(),
                target: t(),
                reply: ProxyReply::Socks5(0x05),
            },
            ProxyProblem::Timeout {
                proxy: p(),
                secs: 5,
            },
            ProxyProblem::AuthRequired {
                proxy: p(),
                detail: d(),
                sent_credentials: true,
            },
            ProxyProblem::AuthRequired {
                proxy: p(),
                detail: d(),
                sent_credentials: false,
            },
            ProxyProblem::Denied {
                proxy: p(),
                target: t(),
                reply: ProxyReply::Http {
                    status: 403,
                    reason: "Forbidden".into(),
                },
            },
            ProxyProblem::TargetUnreachable {
                proxy: p(),
                target: t(),
                reply: ProxyReply::Socks5(0x04),
            },
            ProxyProblem::NotAProxy {
                proxy: p(),
                expected: "a SOCKS5 proxy",
                speaks: PeerSpeaks::PlainMqtt,
                detail: d(),
            },
            ProxyProblem::Failed {
                proxy: p(),
                detail: d(),
            },
        ]
        .into_iter()
        .map(Problem::Proxy)
        .collect();
        for status in [301, 400, 401, 403, 404, 426, 502, 418] {
            v.push(Problem::Ws(WsProblem::HttpStatus {
                status,
                reason: "R".into(),
                path: "/mqtt".into(),
            }));
        }
        for (speaks, over_tls) in [
            (PeerSpeaks::PlainMqtt, false),
            (PeerSpeaks::PlainMqtt, true),
            (PeerSpeaks::Tls, false),
            (PeerSpeaks::Ssh, false),
        ] {
            v.push(Problem::Ws(WsProblem::NotHttp {
                speaks,
                over_tls,
                port: 1883,
                detail: d(),
            }));
        }
        v.extend([
            Problem::Ws(WsProblem::SubprotocolRejected {
                offered: vec!["mqtt".into()],
                chosen: None,
                close: None,
            }),
            Problem::Ws(WsProblem::SubprotocolRejected {
                offered: vec!["mqtt".into()],
                chosen: None,
                close: Some("close code 1002".into()),
            }),
            Problem::Ws(WsProblem::Closed {
                detail: "closed the connection".into(),
            }),
            Problem::Ws(WsProblem::Timeout {
                secs: 5,
                heard: false,
            }),
            Problem::Ws(WsProblem::Timeout {
                secs: 5,
                heard: true,
            }),
        ]);
        v
    }

    #[test]
    fn every_transport_problem_has_a_catalog_entry_and_words() {
        for p in samples() {
            let f = explain(&p);
            let info = cause_info(f.cause).unwrap_or_else(|| panic!("{} missing", f.cause));
            assert_eq!(p.stage(), info.stage, "{}", f.cause);
            assert!(f.summary.ends_with('.'), "{}: {}", f.cause, f.summary);
            assert!(f.remedy.ends_with('.'), "{}: {}", f.cause, f.remedy);
        }
    }

    #[test]
    fn proxy_replies_are_named_from_their_codes() {
        let f = explain(&Problem::Proxy(ProxyProblem::Denied {
            proxy: "socks5://127.0.0.1:1080".into(),
            target: "b:1883".into(),
            reply: ProxyReply::Socks5(0x02),
        }));
        assert_eq!(
            f.summary,
            "The proxy socks5://127.0.0.1:1080 does not allow connections to b:1883 (SOCKS5 reply 0x02 connection not allowed by ruleset)."
        );
        assert_eq!(
            ProxyReply::Http {
                status: 502,
                reason: "Bad Gateway".into()
            }
            .words(),
            "HTTP 502 Bad Gateway"
        );
    }

    #[test]
    fn a_404_names_the_common_paths() {
        let f = explain(&Problem::Ws(WsProblem::HttpStatus {
            status: 404,
            reason: "Not Found".into(),
            path: "/wrong".into(),
        }));
        assert!(f.remedy.contains("/mqtt and /ws"), "{}", f.remedy);
        assert!(f.summary.contains("/wrong"), "{}", f.summary);
    }
}
