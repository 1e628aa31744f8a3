//! The lab: real servers on 127.0.0.1:0 with scripted faults, and a test PKI made at start-up.
//! Tests and `mqtt-doctor demo` both use it; `scenarios::SCENARIOS` says what each one shows.

pub mod broker;
pub mod hostile;
pub mod pki;
pub mod scenarios;
mod services;
mod wire;
pub mod ws;

use rustls_pki_types::CertificateDer;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream, UdpSocket};
use tokio::task::JoinHandle;

pub use broker::Script;
use pki::LabPki;
use scenarios::{Cert, Fault, Garbage, SCENARIOS, ScenarioSpec, TlsServer, Upgrade};

/// How a lab listener treats a connection.
#[derive(Clone)]
pub enum Behavior {
    Mqtt(Script),
    Tls {
        config: Arc<rustls::ServerConfig>,
        inner: Box<Behavior>,
    },
    /// Answers any bytes with an HTTP 400 page.
    Http,
    /// Accepts and never sends anything.
    Silent,
    /// Accepts and resets at once.
    Reset,
    /// Reads the ClientHello and answers with a fatal TLS alert (description code).
    TlsAlert(u8),
    /// Reads the client's first bytes and answers with these bytes, then closes.
    Garbage(Vec<u8>),
    /// Reads the request and closes without a word.
    HangUp,
    /// A WebSocket MQTT broker.
    Ws(ws::WsBroker),
    Proxy(ws::ProxyPeer),
    /// Another service's greeting or answer (not MQTT).
    Service(scenarios::Service),
    /// An HTTP server handing out this certificate (DER) for every GET.
    Certificate(Vec<u8>),
}

/// One lab scenario: a `check` command line and the cause it must produce.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub id: String,
    pub title: String,
    pub url: String,
    /// Extra arguments for `mqtt-doctor check` (after the URL).
    pub args: Vec<String>,
    /// The expected cause id, or "ok".
    pub expect: String,
    /// Cause ids of the warnings the report must carry (a working connection can have them).
    pub warns: Vec<String>,
    /// Environment variables the command needs (e.g. the password for --password-env).
    pub env: Vec<(String, String)>,
    /// Words the verdict's summary must contain (checked by the tests).
    pub says: Option<String>,
}

impl Scenario {
    pub fn command_line(&self) -> String {
        let mut s = String::new();
        for (k, v) in &self.env {
            s.push_str(&format!("{k}={v} "));
        }
        s.push_str("mqtt-doctor check ");
        s.push_str(&self.url);
        for a in &self.args {
            s.push(' ');
            if a.contains(' ') {
                s.push_str(&format!("'{a}'"));
            } else {
                s.push_str(a);
            }
        }
        s
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error("the lab could not open a listener: {0}")]
    Io(#[from] io::Error),
    #[error(transparent)]
    Pki(#[from] pki::PkiError),
    #[error("the lab's TLS configuration failed: {0}")]
    Tls(String),
    #[error("lab scenario {0}: cannot fill in {1:?}")]
    Scenario(&'static str, String),
}

/// A running lab. Dropping it stops every server and removes its files.
pub struct Lab {
    dir: tempfile::TempDir,
    tasks: Vec<JoinHandle<()>>,
    /// Keeps the black hole's backlog full.
    held: Vec<TcpStream>,
    black_holes: Vec<TcpListener>,
    /// Bound, never listening: the refused ports.
    reserved: Vec<TcpSocket>,
    pub dns: SocketAddr,
    scenarios: Vec<Scenario>,
}

impl Drop for Lab {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// The chain a lab TLS server sends for `cert`, and the leaf whose key it signs with.
fn served(pki: &LabPki, cert: Cert) -> (Vec<CertificateDer<'static>>, &pki::Issued) {
    let alone = |leaf: &pki::Issued| vec![leaf.cert.clone()];
    match cert {
        Cert::Good => (pki.chain(&pki.good), &pki.good),
        Cert::GoodOutOfOrder => (
            vec![
                pki.good.cert.clone(),
                pki.root.issued.cert.clone(),
                pki.intermediate.issued.cert.clone(),
            ],
            &pki.good,
        ),
        Cert::Expired => (pki.chain(&pki.expired), &pki.expired),
        Cert::WrongHost => (pki.chain(&pki.wrong_host), &pki.wrong_host),
        Cert::Rogue => (alone(&pki.rogue), &pki.rogue),
        Cert::SelfSigned => (alone(&pki.self_signed), &pki.self_signed),
        Cert::AiaLeafOnly => (alone(&pki.aia_leaf), &pki.aia_leaf),
        Cert::LeafOnly => (alone(&pki.good), &pki.good),
        Cert::RogueWithRoot => (
            vec![pki.rogue.cert.clone(), pki.rogue_root.issued.cert.clone()],
            &pki.rogue,
        ),
        Cert::ExpiredIntermediate => (
            vec![
                pki.under_expired.cert.clone(),
                pki.expired_intermediate.issued.cert.clone(),
            ],
            &pki.under_expired,
        ),
        Cert::NotYetValid => (pki.chain(&pki.not_yet_valid), &pki.not_yet_valid),
        Cert::CnOnly => (pki.chain(&pki.cn_only), &pki.cn_only),
        Cert::ClientAuthOnly => (pki.chain(&pki.client_auth_only), &pki.client_auth_only),
        Cert::Expiring => (pki.chain(&pki.expiring), &pki.expiring),
    }
}

fn tls_config(pki: &LabPki, tls: &TlsServer) -> Result<Arc<rustls::ServerConfig>, LabError> {
    let (chain, leaf) = served(pki, tls.cert);
    let versions: &[&rustls::SupportedProtocolVersion] = if tls.tls12_only {
        &[&rustls::version::TLS12]
    } else {
        rustls::DEFAULT_VERSIONS
    };
    let client_ca = tls.client_ca.then_some(&pki.client_ca.issued.cert);
    let mut config = server_config(chain, leaf.key_der(), client_ca, versions)?;
    if let Some(alpn) = tls.alpn {
        Arc::make_mut(&mut config).alpn_protocols = vec![alpn.as_bytes().to_vec()];
    }
    Ok(config)
}

fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: rustls_pki_types::PrivateKeyDer<'static>,
    client_ca: Option<&CertificateDer<'static>>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Result<Arc<rustls::ServerConfig>, LabError> {
    let provider = crate::diagnose::tls::provider();
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .map_err(|e| LabError::Tls(e.to_string()))?;
    let builder = match client_ca {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            roots
                .add(ca.clone())
                .map_err(|e| LabError::Tls(e.to_string()))?;
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .map_err(|e| LabError::Tls(e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let config = builder
        .with_single_cert(chain, key)
        .map_err(|e| LabError::Tls(e.to_string()))?;
    Ok(Arc::new(config))
}

async fn handle(stream: TcpStream, behavior: Behavior) {
    match behavior {
        Behavior::Mqtt(script) => broker::serve(stream, script).await,
        Behavior::Tls { config, inner } => {
            let acceptor = tokio_rustls::TlsAcceptor::from(config);
            let Ok(Ok(tls)) =
                tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream)).await
            else {
                return;
            };
            match *inner {
                Behavior::Mqtt(script) => broker::serve(tls, script).await,
                _ => {
                    let mut tls = tls;
                    let mut b = [0u8; 1024];
                    while matches!(tls.read(&mut b).await, Ok(n) if n > 0) {}
                }
            }
        }
        Behavior::Http => {
            let mut stream = stream;
            let mut b = [0u8; 1024];
            if matches!(stream.read(&mut b).await, Ok(n) if n > 0) {
                let body = "<html><body>400 Bad Request</body></html>";
                let _ = stream
                    .write_all(
                        format!(
                            "HTTP/1.1 400 Bad Request\r\nServer: lab-httpd\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        )
                        .as_bytes(),
                    )
                    .await;
            }
        }
        Behavior::Silent => {
            let mut stream = stream;
            let mut b = [0u8; 1024];
            // Read and discard until the client gives up (bounded so the task ends).
            let _ = tokio::time::timeout(Duration::from_secs(120), async {
                while matches!(stream.read(&mut b).await, Ok(n) if n > 0) {}
            })
            .await;
        }
        Behavior::Garbage(bytes) => {
            let mut stream = stream;
            let mut b = [0u8; 4096];
            if matches!(stream.read(&mut b).await, Ok(n) if n > 0) {
                let _ = stream.write_all(&bytes).await;
                let _ = stream.shutdown().await;
            }
        }
        Behavior::TlsAlert(code) => {
            let mut stream = stream;
            let mut b = [0u8; 4096];
            if matches!(stream.read(&mut b).await, Ok(n) if n > 0) {
                let _ = stream
                    .write_all(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, code])
                    .await;
                let _ = stream.shutdown().await;
            }
        }
        Behavior::Reset => {
            // Linger 0 makes close() send a reset; it does not block with a zero timeout.
            #[allow(deprecated)]
            let _ = stream.set_linger(Some(Duration::ZERO));
            drop(stream);
        }
        Behavior::HangUp => {
            let mut stream = stream;
            let mut b = [0u8; 1024];
            let _ = stream.read(&mut b).await;
            let _ = stream.shutdown().await;
        }
        Behavior::Ws(b) => ws::serve(stream, b).await,
        Behavior::Proxy(peer) => ws::proxy(stream, peer).await,
        Behavior::Service(service) => services::replay(stream, service).await,
        Behavior::Certificate(der) => services::serve_certificate(stream, der).await,
    }
}

/// Replaces every `{name}` in `template` with `value(name)`; `None` when a name has no value.
fn fill_in(template: &str, value: impl Fn(&str) -> Option<String>) -> Option<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}')? + open;
        out.push_str(&value(&rest[open + 1..close])?);
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// Starts a listener on 127.0.0.1:0 serving `behavior`; returns its address.
pub async fn listen(behavior: Behavior) -> io::Result<(SocketAddr, JoinHandle<()>)> {
    serve_each(move |stream| handle(stream, behavior.clone())).await
}

/// Starts a listener on 127.0.0.1:0 and runs `handler` for every connection (no Nagle delay,
/// and every connection ends on its own after three minutes at most).
pub async fn serve_each<F, Fut>(handler: F) -> io::Result<(SocketAddr, JoinHandle<()>)>
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        let mut conns = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    let _ = stream.set_nodelay(true);
                    let served = handler(stream);
                    conns.spawn(async move {
                        let _ = tokio::time::timeout(Duration::from_secs(180), served).await;
                    });
                }
                Some(_) = conns.join_next(), if !conns.is_empty() => {}
            }
        }
    });
    Ok((addr, task))
}

/// A port that refuses connections: bound once, then closed.
/// A port that refuses connections: bound but never listening, so the kernel answers with a
/// reset and cannot hand the port to another listener while the socket is held.
pub async fn refused_port() -> io::Result<(SocketAddr, TcpSocket)> {
    let socket = TcpSocket::new_v4()?;
    socket.bind("127.0.0.1:0".parse().map_err(io::Error::other)?)?;
    let a = socket.local_addr()?;
    Ok((a, socket))
}

/// A black hole: a listener with backlog 0 whose queue is full, so the kernel drops new SYNs
/// (connect() gets no answer at all).
pub async fn black_hole() -> io::Result<(SocketAddr, TcpListener, Vec<TcpStream>)> {
    let socket = TcpSocket::new_v4()?;
    socket.bind("127.0.0.1:0".parse().map_err(io::Error::other)?)?;
    let addr = socket.local_addr()?;
    let listener = socket.listen(0)?;
    let mut held = Vec::new();
    // Fill the accept queue; further connects hang.
    for _ in 0..3 {
        match tokio::time::timeout(Duration::from_millis(200), TcpStream::connect(addr)).await {
            Ok(Ok(s)) => held.push(s),
            _ => break,
        }
    }
    Ok((addr, listener, held))
}

/// Names the lab's DNS server answers.
pub const DNS_OK: &str = "broker.lab.test";
pub const DNS_NODATA: &str = "nodata.lab.test";
pub const DNS_SERVFAIL: &str = "servfail.lab.test";
pub const DNS_SILENT: &str = "silent.lab.test";
/// `bücher.lab.test` in its IDNA form: the lab answers it like `DNS_OK`.
pub const DNS_IDNA: &str = "xn--bcher-kva.lab.test";

/// A tiny authoritative DNS server for `lab.test` on UDP 127.0.0.1:0.
pub async fn dns_server() -> io::Result<(SocketAddr, JoinHandle<()>)> {
    use hickory_resolver::proto::op::{Message, ResponseCode};
    use hickory_resolver::proto::rr::{RData, Record, RecordType, rdata::A};
    let socket = UdpSocket::bind("127.0.0.1:0").await?;
    let addr = socket.local_addr()?;
    let task = tokio::spawn(async move {
        let mut buf = vec![0u8; 1500];
        loop {
            let Ok((n, from)) = socket.recv_from(&mut buf).await else {
                continue;
            };
            let Ok(query) = Message::from_vec(&buf[..n]) else {
                continue;
            };
            let Some(q) = query.queries.first().cloned() else {
                continue;
            };
            let name = q
                .name()
                .to_ascii()
                .trim_end_matches('.')
                .to_ascii_lowercase();
            let mut reply = Message::response(query.metadata.id, query.metadata.op_code);
            reply.metadata.authoritative = true;
            reply.metadata.recursion_desired = query.metadata.recursion_desired;
            reply.metadata.recursion_available = true;
            reply.add_query(q.clone());
            match name.as_str() {
                DNS_SILENT => continue,
                DNS_SERVFAIL => reply.metadata.response_code = ResponseCode::ServFail,
                DNS_NODATA => {}
                // Cloud endpoint names for the lab's AWS/Azure scenarios.
                n if n.ends_with(".azure-devices.net") || n.ends_with(".amazonaws.com") => {
                    if q.query_type() == RecordType::A {
                        reply.add_answer(Record::from_rdata(
                            q.name().clone(),
                            60,
                            RData::A(A::new(127, 0, 0, 1)),
                        ));
                    }
                }
                DNS_OK | DNS_IDNA => {
                    if q.query_type() == RecordType::A {
                        reply.add_answer(Record::from_rdata(
                            q.name().clone(),
                            60,
                            RData::A(A::new(127, 0, 0, 1)),
                        ));
                    }
                }
                _ => reply.metadata.response_code = ResponseCode::NXDomain,
            }
            if let Ok(bytes) = reply.to_vec() {
                let _ = socket.send_to(&bytes, from).await;
            }
        }
    });
    Ok((addr, task))
}

impl Lab {
    /// Starts one server per distinct fault in `SCENARIOS` and fills in their command lines.
    pub async fn start() -> Result<Lab, LabError> {
        let now = time::OffsetDateTime::now_utc();
        // The caIssuers server is bound first: its address goes into the aia leaf.
        let aia_listener = TcpListener::bind("127.0.0.1:0").await?;
        let aia_url = format!("http://{}/intermediate.crt", aia_listener.local_addr()?);
        let pki = LabPki::generate_with(now, &aia_url)?;
        let dir = tempfile::Builder::new()
            .prefix("mqtt-doctor-lab-")
            .tempdir()?;
        let write = |name: &str, content: String| std::fs::write(dir.path().join(name), content);
        write("lab-ca.pem", pki.root.issued.cert_pem())?;
        // Not used by a scenario: there for trying `--ca rogue-ca.pem` on tls.untrusted_root.
        write("rogue-ca.pem", pki.rogue_root.issued.cert_pem())?;
        write("client.pem", pki.client.cert_pem())?;
        write("client.key", pki.client.key_pem())?;
        write("rogue-client.pem", pki.rogue_client.cert_pem())?;
        write("rogue-client.key", pki.rogue_client.key_pem())?;
        write(
            "rogue-client-chain.pem",
            pki.rogue_client.cert_pem() + &pki.rogue_root.issued.cert_pem(),
        )?;
        // A device certificate without its intermediate, and with it (leaf first).
        write("chained-client.pem", pki.chained_client.cert_pem())?;
        write("chained-client.key", pki.chained_client.key_pem())?;
        write(
            "chained-client-full.pem",
            pki.chained_client.cert_pem() + &pki.client_intermediate.issued.cert_pem(),
        )?;

        let (dns, dns_task) = dns_server().await?;
        let intermediate = pki.intermediate.issued.cert.to_vec();
        let aia_task = tokio::spawn(async move {
            while let Ok((stream, _)) = aia_listener.accept().await {
                tokio::spawn(services::serve_certificate(stream, intermediate.clone()));
            }
        });
        let mut lab = Lab {
            dir,
            tasks: vec![dns_task, aia_task],
            held: Vec::new(),
            black_holes: Vec::new(),
            reserved: Vec::new(),
            dns,
            scenarios: Vec::new(),
        };
        let mut servers: Vec<(Fault, SocketAddr)> = Vec::new();
        for fault in SCENARIOS.iter().flat_map(ScenarioSpec::faults) {
            if !servers.iter().any(|(f, _)| *f == fault) {
                let addr = lab.serve(fault, &pki).await?;
                servers.push((fault, addr));
            }
        }
        let port = |fault: Fault| {
            servers
                .iter()
                .find(|(f, _)| *f == fault)
                .map(|(_, a)| a.port().to_string())
        };
        let dir = lab.dir.path().display().to_string();
        let dns = lab.dns.to_string();
        for spec in SCENARIOS {
            let fill = |template: &str| {
                fill_in(template, |name| match name {
                    "port" => port(spec.fault),
                    "proxy" => spec.proxy.and_then(port),
                    "dir" => Some(dir.clone()),
                    "dns" => Some(dns.clone()),
                    _ => None,
                })
                .ok_or_else(|| LabError::Scenario(spec.id, template.to_string()))
            };
            lab.scenarios.push(Scenario {
                id: spec.id.into(),
                title: spec.title.into(),
                url: fill(spec.url)?,
                args: spec
                    .args
                    .iter()
                    .map(|a| fill(a))
                    .collect::<Result<_, _>>()?,
                expect: spec.expect.into(),
                warns: spec.warns.iter().map(|w| w.to_string()).collect(),
                env: spec
                    .env
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                says: spec.says.map(str::to_string),
            });
        }
        Ok(lab)
    }

    /// Starts the server for one fault and returns its address.
    async fn serve(&mut self, fault: Fault, pki: &LabPki) -> Result<SocketAddr, LabError> {
        let behavior = match fault {
            Fault::Refused => {
                let (addr, socket) = refused_port().await?;
                self.reserved.push(socket);
                return Ok(addr);
            }
            Fault::BlackHole => {
                let (addr, listener, held) = black_hole().await?;
                self.black_holes.push(listener);
                self.held.extend(held);
                return Ok(addr);
            }
            Fault::Reset => Behavior::Reset,
            Fault::Silent => Behavior::Silent,
            Fault::Http => Behavior::Http,
            Fault::HangUp => Behavior::HangUp,
            Fault::Garbage(Garbage::HugePacket) => {
                Behavior::Garbage(vec![0x20, 0xFF, 0xFF, 0xFF, 0x7F])
            }
            Fault::Garbage(Garbage::Binary) => {
                Behavior::Garbage((0u16..300).map(|i| (i * 37 % 251) as u8).collect())
            }
            Fault::TlsAlert(code) => Behavior::TlsAlert(code),
            Fault::Mqtt { tls: None, broker } => Behavior::Mqtt(broker.into()),
            Fault::Mqtt {
                tls: Some(tls),
                broker,
            } => Behavior::Tls {
                config: tls_config(pki, &tls)?,
                inner: Box::new(Behavior::Mqtt(broker.into())),
            },
            Fault::Ws {
                tls,
                upgrade,
                broker,
            } => Behavior::Ws(ws::WsBroker {
                script: broker.into(),
                subprotocol: upgrade != Upgrade::NoSubprotocol,
                close_after_upgrade: upgrade == Upgrade::CloseAfterUpgrade,
                tls: tls.map(|t| tls_config(pki, &t)).transpose()?,
            }),
            Fault::Socks5 { reply, auth } => Behavior::Proxy(ws::ProxyPeer::Socks5 { reply, auth }),
            Fault::HttpProxy { status, auth } => {
                Behavior::Proxy(ws::ProxyPeer::Http { status, auth })
            }
            Fault::Service(service) => Behavior::Service(service),
        };
        let (addr, task) = listen(behavior).await?;
        self.tasks.push(task);
        Ok(addr)
    }

    pub fn scenarios(&self) -> &[Scenario] {
        &self.scenarios
    }

    pub fn scenario(&self, id: &str) -> Option<&Scenario> {
        self.scenarios.iter().find(|s| s.id == id)
    }

    /// The folder holding the lab's CA and client certificate files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("lab-ca.pem")
    }
}
