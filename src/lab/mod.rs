//! The lab: real servers on 127.0.0.1:0 with scripted faults, and a test PKI made at start-up.
//! Tests and `mqtt-doctor demo` both use it; every scenario is a command line for `check` and
//! the cause it must produce.

pub mod broker;
pub mod pki;
pub mod ws;

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
}

/// A running lab. Dropping it stops every server and removes its files.
pub struct Lab {
    dir: tempfile::TempDir,
    tasks: Vec<JoinHandle<()>>,
    /// Keeps the black hole's backlog full.
    _held: Vec<TcpStream>,
    _black_hole: Option<TcpListener>,
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

fn server_config(
    chain: Vec<rustls_pki_types::CertificateDer<'static>>,
    key: rustls_pki_types::PrivateKeyDer<'static>,
    client_ca: Option<&rustls_pki_types::CertificateDer<'static>>,
) -> Result<Arc<rustls::ServerConfig>, LabError> {
    let provider = crate::diagnose::tls::provider();
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
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
    }
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
pub async fn refused_port() -> io::Result<SocketAddr> {
    let l = TcpListener::bind("127.0.0.1:0").await?;
    let a = l.local_addr()?;
    drop(l);
    Ok(a)
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
                DNS_OK => {
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
    /// Starts every lab server.
    pub async fn start() -> Result<Lab, LabError> {
        let now = time::OffsetDateTime::now_utc();
        let pki = LabPki::generate(now)?;
        let dir = tempfile::Builder::new()
            .prefix("mqtt-doctor-lab-")
            .tempdir()?;
        let write = |name: &str, content: String| -> io::Result<PathBuf> {
            let p = dir.path().join(name);
            std::fs::write(&p, content)?;
            Ok(p)
        };
        let ca = write("lab-ca.pem", pki.root.issued.cert_pem())?;
        // Not used by a scenario: there for trying `--ca rogue-ca.pem` on tls.untrusted_root.
        write("rogue-ca.pem", pki.rogue_root.issued.cert_pem())?;
        let client_cert = write("client.pem", pki.client.cert_pem())?;
        let client_key = write("client.key", pki.client.key_pem())?;
        let rogue_cert = write("rogue-client.pem", pki.rogue_client.cert_pem())?;
        let rogue_key = write("rogue-client.key", pki.rogue_client.key_pem())?;
        let p = |path: &Path| path.display().to_string();

        let mut tasks = Vec::new();
        let (dns, dns_task) = dns_server().await?;
        tasks.push(dns_task);
        let mut scenarios = Vec::new();
        let mut add = |id: &str, title: &str, url: String, args: Vec<String>, expect: &str| {
            scenarios.push(Scenario {
                id: id.into(),
                title: title.into(),
                url,
                args,
                expect: expect.into(),
                env: Vec::new(),
                says: None,
            });
        };
        let tls =
            |leaf: &pki::Issued, client_ca: bool| -> Result<Arc<rustls::ServerConfig>, LabError> {
                server_config(
                    pki.chain(leaf),
                    leaf.key_der(),
                    client_ca.then_some(&pki.client_ca.issued.cert),
                )
            };
        let mut start = async |b: Behavior| -> Result<SocketAddr, LabError> {
            let (a, t) = listen(b).await?;
            tasks.push(t);
            Ok(a)
        };
        let ca_args = || vec!["--ca".to_string(), p(&ca)];
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<String>>();

        // Healthy brokers
        let ok = start(Behavior::Mqtt(Script::default())).await?;
        add(
            "ok.plain",
            "healthy plain broker",
            format!("mqtt://127.0.0.1:{}", ok.port()),
            vec![],
            "ok",
        );
        let tls_ok = start(Behavior::Tls {
            config: tls(&pki.good, false)?,
            inner: Box::new(Behavior::Mqtt(Script::default())),
        })
        .await?;
        add(
            "ok.tls",
            "healthy TLS broker (lab CA)",
            format!("mqtts://localhost:{}", tls_ok.port()),
            ca_args(),
            "ok",
        );
        let mtls = start(Behavior::Tls {
            config: tls(&pki.good, true)?,
            inner: Box::new(Behavior::Mqtt(Script::default())),
        })
        .await?;
        let mut mtls_args = ca_args();
        mtls_args.extend([
            "--cert".into(),
            p(&client_cert),
            "--key".into(),
            p(&client_key),
        ]);
        add(
            "ok.mtls",
            "mutual TLS with a client certificate",
            format!("mqtts://127.0.0.1:{}", mtls.port()),
            mtls_args,
            "ok",
        );
        let v311 = start(Behavior::Mqtt(Script {
            only_v311: true,
            ..Script::default()
        }))
        .await?;
        add(
            "ok.v311_fallback",
            "3.1.1-only broker: v5 refused, retried as 3.1.1",
            format!("mqtt://127.0.0.1:{}", v311.port()),
            vec![],
            "ok",
        );

        // DNS
        let dns_args = |extra: &[&str]| {
            let mut v = vec!["--dns-server".to_string(), dns.to_string()];
            v.extend(extra.iter().map(|s| s.to_string()));
            v
        };
        add(
            "dns.nxdomain",
            "the host name does not exist",
            format!("mqtt://no-such-broker.lab.test:{}", ok.port()),
            dns_args(&[]),
            "dns.nxdomain",
        );
        add(
            "dns.no_records",
            "a name without addresses",
            format!("mqtt://{DNS_NODATA}:{}", ok.port()),
            dns_args(&[]),
            "dns.no_records",
        );
        add(
            "dns.servfail",
            "the DNS server fails",
            format!("mqtt://{DNS_SERVFAIL}:{}", ok.port()),
            dns_args(&[]),
            "dns.servfail",
        );
        add(
            "dns.timeout",
            "the DNS server never answers",
            format!("mqtt://{DNS_SILENT}:{}", ok.port()),
            dns_args(&["--timeout", "1"]),
            "dns.timeout",
        );
        add(
            "dns.invalid_host",
            "a host name no resolver accepts",
            format!("mqtt://-bad-.lab.test:{}", ok.port()),
            vec![],
            "dns.invalid_host",
        );
        add(
            "ok.lab_dns",
            "healthy broker found through the lab DNS",
            format!("mqtt://{DNS_OK}:{}", ok.port()),
            dns_args(&[]),
            "ok",
        );

        // TCP
        let refused = refused_port().await?;
        add(
            "tcp.refused",
            "nothing listens on the port",
            format!("mqtt://127.0.0.1:{}", refused.port()),
            vec![],
            "tcp.refused",
        );
        let (hole, hole_listener, held) = black_hole().await?;
        add(
            "tcp.timeout",
            "a black hole: SYNs are dropped",
            format!("mqtt://127.0.0.1:{}", hole.port()),
            s(&["--timeout", "1"]),
            "tcp.timeout",
        );
        let reset = start(Behavior::Reset).await?;
        add(
            "tcp.reset",
            "the peer resets every connection",
            format!("mqtt://127.0.0.1:{}", reset.port()),
            vec![],
            "tcp.reset",
        );

        // TLS
        add(
            "tls.not_tls",
            "TLS spoken to a plain MQTT port",
            format!("mqtts://127.0.0.1:{}", ok.port()),
            ca_args(),
            "tls.not_tls",
        );
        let expired = start(Behavior::Tls {
            config: tls(&pki.expired, false)?,
            inner: Box::new(Behavior::Mqtt(Script::default())),
        })
        .await?;
        add(
            "tls.cert_expired",
            "the broker's certificate expired 3 days ago",
            format!("mqtts://localhost:{}", expired.port()),
            ca_args(),
            "tls.cert_expired",
        );
        let wrong = start(Behavior::Tls {
            config: tls(&pki.wrong_host, false)?,
            inner: Box::new(Behavior::Mqtt(Script::default())),
        })
        .await?;
        add(
            "tls.hostname_mismatch",
            "the certificate names another host",
            format!("mqtts://localhost:{}", wrong.port()),
            ca_args(),
            "tls.hostname_mismatch",
        );
        let rogue_cfg = server_config(vec![pki.rogue.cert.clone()], pki.rogue.key_der(), None)?;
        let rogue = start(Behavior::Tls {
            config: rogue_cfg,
            inner: Box::new(Behavior::Mqtt(Script::default())),
        })
        .await?;
        add(
            "tls.untrusted_root",
            "the chain leads to a CA we do not trust",
            format!("mqtts://localhost:{}", rogue.port()),
            ca_args(),
            "tls.untrusted_root",
        );
        add(
            "tls.client_cert_required",
            "the broker demands a client certificate",
            format!("mqtts://127.0.0.1:{}", mtls.port()),
            ca_args(),
            "tls.client_cert_required",
        );
        let silent = start(Behavior::Silent).await?;
        add(
            "tls.timeout",
            "the port never answers the TLS greeting",
            format!("mqtts://127.0.0.1:{}", silent.port()),
            s(&["--timeout", "1"]),
            "tls.timeout",
        );
        let mut alpn_cfg = (*tls(&pki.good, false)?).clone();
        alpn_cfg.alpn_protocols = vec![b"x-amzn-mqtt-ca".to_vec()];
        let alpn = start(Behavior::Tls {
            config: Arc::new(alpn_cfg),
            inner: Box::new(Behavior::Mqtt(Script::default())),
        })
        .await?;
        let mut alpn_args = ca_args();
        alpn_args.extend(["--alpn".into(), "mqtt".into()]);
        add(
            "tls.alpn_rejected",
            "the broker refuses our ALPN protocol",
            format!("mqtts://localhost:{}", alpn.port()),
            alpn_args,
            "tls.alpn_rejected",
        );
        let plain_tls = |leaf: &pki::Issued,
                         chain: Vec<rustls_pki_types::CertificateDer<'static>>|
         -> Result<Behavior, LabError> {
            Ok(Behavior::Tls {
                config: server_config(chain, leaf.key_der(), None)?,
                inner: Box::new(Behavior::Mqtt(Script::default())),
            })
        };
        let a = start(plain_tls(
            &pki.self_signed,
            vec![pki.self_signed.cert.clone()],
        )?)
        .await?;
        add(
            "tls.self_signed",
            "a self-signed broker certificate",
            format!("mqtts://localhost:{}", a.port()),
            ca_args(),
            "tls.self_signed",
        );
        let a = start(plain_tls(&pki.aia_leaf, vec![pki.aia_leaf.cert.clone()])?).await?;
        add(
            "tls.incomplete_chain",
            "the broker sends its leaf without the intermediate",
            format!("mqtts://localhost:{}", a.port()),
            ca_args(),
            "tls.incomplete_chain",
        );
        let a = start(plain_tls(
            &pki.under_expired,
            vec![
                pki.under_expired.cert.clone(),
                pki.expired_intermediate.issued.cert.clone(),
            ],
        )?)
        .await?;
        add(
            "tls.cert_expired.intermediate",
            "the broker's intermediate CA expired",
            format!("mqtts://localhost:{}", a.port()),
            ca_args(),
            "tls.cert_expired",
        );
        let a = start(plain_tls(
            &pki.not_yet_valid,
            pki.chain(&pki.not_yet_valid),
        )?)
        .await?;
        add(
            "tls.cert_not_yet_valid",
            "a certificate valid only from the day after tomorrow",
            format!("mqtts://localhost:{}", a.port()),
            ca_args(),
            "tls.cert_not_yet_valid",
        );
        let a = start(plain_tls(&pki.cn_only, pki.chain(&pki.cn_only))?).await?;
        add(
            "tls.cn_only",
            "CN=localhost without subjectAltName",
            format!("mqtts://localhost:{}", a.port()),
            ca_args(),
            "tls.cn_only",
        );
        let a = start(plain_tls(
            &pki.client_auth_only,
            pki.chain(&pki.client_auth_only),
        )?)
        .await?;
        add(
            "tls.bad_eku",
            "a client certificate used as the broker certificate",
            format!("mqtts://localhost:{}", a.port()),
            ca_args(),
            "tls.bad_eku",
        );
        let a = start(plain_tls(&pki.expiring, pki.chain(&pki.expiring))?).await?;
        add(
            "ok.expires_soon",
            "works, but the certificate expires in 5 days (warning)",
            format!("mqtts://localhost:{}", a.port()),
            ca_args(),
            "ok",
        );
        let a = start(plain_tls(
            &pki.good,
            vec![
                pki.good.cert.clone(),
                pki.root.issued.cert.clone(),
                pki.intermediate.issued.cert.clone(),
            ],
        )?)
        .await?;
        add(
            "ok.chain_out_of_order",
            "works, but the chain is sent out of order (warning)",
            format!("mqtts://localhost:{}", a.port()),
            ca_args(),
            "ok",
        );
        let mut rogue_args = ca_args();
        rogue_args.extend([
            "--cert".into(),
            p(&rogue_cert),
            "--key".into(),
            p(&rogue_key),
        ]);
        add(
            "tls.client_cert_rejected",
            "a client certificate from a CA the broker does not trust",
            format!("mqtts://127.0.0.1:{}", mtls.port()),
            rogue_args,
            "tls.client_cert_rejected",
        );
        let mut mismatch_args = ca_args();
        mismatch_args.extend([
            "--cert".into(),
            p(&client_cert),
            "--key".into(),
            p(&rogue_key),
        ]);
        add(
            "tls.client_key_mismatch",
            "a client key that belongs to another certificate",
            format!("mqtts://127.0.0.1:{}", mtls.port()),
            mismatch_args,
            "tls.client_key_mismatch",
        );
        let a = start(Behavior::TlsAlert(70)).await?;
        add(
            "tls.protocol_version",
            "a TLS 1.0/1.1-only peer (alert protocol_version)",
            format!("mqtts://127.0.0.1:{}", a.port()),
            vec![],
            "tls.protocol_version",
        );
        let a = start(Behavior::TlsAlert(40)).await?;
        add(
            "tls.handshake_failure",
            "the peer aborts with alert handshake_failure",
            format!("mqtts://127.0.0.1:{}", a.port()),
            vec![],
            "tls.handshake_failure",
        );
        let provider = crate::diagnose::tls::provider();
        let tls12 = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS12])
            .map_err(|e| LabError::Tls(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(pki.chain(&pki.good), pki.good.key_der())
            .map_err(|e| LabError::Tls(e.to_string()))?;
        let a = start(Behavior::Tls {
            config: Arc::new(tls12),
            inner: Box::new(Behavior::Mqtt(Script::default())),
        })
        .await?;
        add(
            "ok.tls12_only",
            "a broker limited to TLS 1.2",
            format!("mqtts://localhost:{}", a.port()),
            ca_args(),
            "ok",
        );
        let mut min13 = ca_args();
        min13.extend(["--min-tls".into(), "1.3".into()]);
        add(
            "tls.protocol_version.min_tls13",
            "--min-tls 1.3 against a broker limited to TLS 1.2",
            format!("mqtts://localhost:{}", a.port()),
            min13,
            "tls.protocol_version",
        );

        // MQTT
        let tls_port = tls_ok.port();
        add(
            "mqtt.tls_required",
            "plain MQTT spoken to a TLS port",
            format!("mqtt://127.0.0.1:{tls_port}"),
            vec![],
            "mqtt.tls_required",
        );
        let http = start(Behavior::Http).await?;
        add(
            "mqtt.not_mqtt",
            "an HTTP server instead of a broker",
            format!("mqtt://127.0.0.1:{}", http.port()),
            vec![],
            "mqtt.not_mqtt",
        );
        // Hostile peers: a 256 MB packet announced, random binary, terminal escapes.
        let huge = start(Behavior::Garbage(vec![0x20, 0xFF, 0xFF, 0xFF, 0x7F])).await?;
        add(
            "mqtt.not_mqtt.huge",
            "a peer announcing a 256 MB packet",
            format!("mqtt://127.0.0.1:{}", huge.port()),
            vec![],
            "mqtt.not_mqtt",
        );
        let binary = start(Behavior::Garbage(
            (0u16..300).map(|i| (i * 37 % 251) as u8).collect(),
        ))
        .await?;
        add(
            "mqtt.not_mqtt.binary",
            "a peer answering with binary noise",
            format!("mqtt://127.0.0.1:{}", binary.port()),
            vec![],
            "mqtt.not_mqtt",
        );
        let escapes = start(Behavior::Mqtt(Script {
            reason_string: Some("\u{1b}[2J\u{1b}]0;pwned\u{7}go away\u{202e}".into()),
            ..Script::refuse(0x87, 5)
        }))
        .await?;
        add(
            "mqtt.not_authorized.escapes",
            "a refusal whose reason string carries terminal escapes",
            format!("mqtt://127.0.0.1:{}", escapes.port()),
            vec![],
            "mqtt.not_authorized",
        );
        let closer = start(Behavior::Mqtt(Script {
            close_after_connect: true,
            ..Script::default()
        }))
        .await?;
        add(
            "mqtt.closed_without_connack",
            "the broker hangs up after CONNECT",
            format!("mqtt://127.0.0.1:{}", closer.port()),
            vec![],
            "mqtt.closed_without_connack",
        );
        let mute = start(Behavior::Mqtt(Script {
            no_connack: true,
            ..Script::default()
        }))
        .await?;
        add(
            "mqtt.connack_timeout",
            "the broker never sends a CONNACK",
            format!("mqtt://127.0.0.1:{}", mute.port()),
            s(&["--timeout", "1"]),
            "mqtt.connack_timeout",
        );
        let login = start(Behavior::Mqtt(Script {
            login: Some(("alice".into(), "right".into())),
            ..Script::default()
        }))
        .await?;
        add(
            "mqtt.bad_username_or_password",
            "a wrong password (MQTT 5 0x86)",
            format!("mqtt://127.0.0.1:{}", login.port()),
            s(&["--username", "alice", "--password-env", "LAB_PASSWORD"]),
            "mqtt.bad_username_or_password",
        );
        let v5_codes: &[(u8, u8)] = &[
            (0x80, 0),
            (0x81, 0),
            (0x82, 0),
            (0x83, 0),
            (0x84, 1),
            (0x85, 2),
            (0x87, 5),
            (0x88, 3),
            (0x89, 0),
            (0x8A, 0),
            (0x8C, 0),
            (0x90, 0),
            (0x95, 0),
            (0x97, 0),
            (0x99, 0),
            (0x9A, 0),
            (0x9B, 0),
            (0x9C, 0),
            (0x9D, 0),
            (0x9F, 0),
        ];
        for (code, v311) in v5_codes {
            let mut script = Script::refuse(*code, *v311);
            if matches!(code, 0x9C | 0x9D) {
                script.server_reference = Some("mqtt2.lab.test:8883".into());
            }
            script.reason_string = Some(format!("lab refusal 0x{code:02X}"));
            let a = start(Behavior::Mqtt(script)).await?;
            let cause = crate::explain::connack_cause(crate::diagnose::MqttVersion::V5, *code);
            let mut args = vec![];
            if *code == 0x84 {
                // Without the 3.1.1 retry the v5 refusal is the verdict.
                args = s(&["--mqtt-version", "5"]);
            }
            add(
                cause,
                &format!(
                    "CONNACK 0x{code:02X} ({})",
                    crate::explain::connack_name(crate::diagnose::MqttVersion::V5, *code)
                ),
                format!("mqtt://127.0.0.1:{}", a.port()),
                args,
                cause,
            );
            if *v311 != 0 && *code != 0x84 {
                let id = format!("{cause}.v311");
                add(
                    &id,
                    &format!("3.1.1 return code {v311}"),
                    format!("mqtt://127.0.0.1:{}", a.port()),
                    s(&["--mqtt-version", "3"]),
                    cause,
                );
            }
        }
        let v311_only = start(Behavior::Mqtt(Script {
            only_v311: true,
            ..Script::default()
        }))
        .await?;
        add(
            "mqtt.unsupported_protocol_version.v311_answer",
            "a 3.1.1 broker refuses MQTT 5 (no retry)",
            format!("mqtt://127.0.0.1:{}", v311_only.port()),
            s(&["--mqtt-version", "5"]),
            "mqtt.unsupported_protocol_version",
        );
        let odd = start(Behavior::Mqtt(Script::refuse(0x42, 0))).await?;
        add(
            "mqtt.refused_unknown_code",
            "a CONNACK code outside the specification",
            format!("mqtt://127.0.0.1:{}", odd.port()),
            vec![],
            "mqtt.refused_unknown_code",
        );

        // Subscription
        let sub_codes: &[u8] = &[0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2];
        for code in sub_codes {
            let a = start(Behavior::Mqtt(Script {
                suback: *code,
                ..Script::default()
            }))
            .await?;
            let cause = crate::explain::suback_cause(crate::diagnose::MqttVersion::V5, *code);
            add(
                cause,
                &format!(
                    "SUBACK 0x{code:02X} ({})",
                    crate::explain::suback_name(crate::diagnose::MqttVersion::V5, *code)
                ),
                format!("mqtt://127.0.0.1:{}", a.port()),
                s(&["--topic", "sensors/#"]),
                cause,
            );
            if *code == 0x80 {
                add(
                    "sub.refused",
                    "SUBACK failure 0x80 under 3.1.1",
                    format!("mqtt://127.0.0.1:{}", a.port()),
                    s(&["--mqtt-version", "3", "--topic", "sensors/#"]),
                    "sub.refused",
                );
            }
        }
        let hangup = start(Behavior::Mqtt(Script {
            close_after_subscribe: true,
            ..Script::default()
        }))
        .await?;
        add(
            "sub.disconnected",
            "the broker hangs up on SUBSCRIBE (cloud policy style)",
            format!("mqtt://127.0.0.1:{}", hangup.port()),
            s(&["--topic", "forbidden/#"]),
            "sub.disconnected",
        );
        let nosub = start(Behavior::Mqtt(Script {
            no_suback: true,
            ..Script::default()
        }))
        .await?;
        add(
            "sub.timeout",
            "the broker never sends a SUBACK",
            format!("mqtt://127.0.0.1:{}", nosub.port()),
            s(&["--timeout", "1"]),
            "sub.timeout",
        );
        let drop_msgs = start(Behavior::Mqtt(Script {
            deliver: false,
            ..Script::default()
        }))
        .await?;
        add(
            "sub.no_round_trip",
            "subscribed, but messages never arrive (ACL style)",
            format!("mqtt://127.0.0.1:{}", drop_msgs.port()),
            s(&["--timeout", "1"]),
            "sub.no_round_trip",
        );
        let denied_pub = start(Behavior::Mqtt(Script {
            puback: 0x87,
            ..Script::default()
        }))
        .await?;
        add(
            "sub.no_round_trip.puback",
            "publish refused with PUBACK 0x87",
            format!("mqtt://127.0.0.1:{}", denied_pub.port()),
            vec![],
            "sub.no_round_trip",
        );
        add(
            "ok.no_publish",
            "read-only check: ends at SUBACK",
            format!("mqtt://127.0.0.1:{}", drop_msgs.port()),
            s(&["--no-publish", "--topic", "sensors/#"]),
            "ok",
        );

        for sc in &mut scenarios {
            let says = match sc.id.as_str() {
                "mqtt.bad_username_or_password" => {
                    sc.env = vec![("LAB_PASSWORD".into(), "wrong".into())];
                    None
                }
                "tls.cert_expired" => Some(
                    "server certificate O=mqtt-doctor lab, CN=expired lab broker expired 3 days ago",
                ),
                "tls.cert_expired.intermediate" => Some(
                    "intermediate certificate O=mqtt-doctor lab, CN=mqtt-doctor Lab Old Intermediate CA expired 2 days ago",
                ),
                "tls.incomplete_chain" => {
                    Some("issued by O=mqtt-doctor lab, CN=mqtt-doctor Lab Intermediate CA")
                }
                "tls.hostname_mismatch" => Some("it names mqtt.other.example"),
                "tls.untrusted_root" => Some("Unknown Rogue CA"),
                "tls.cn_only" => Some("mosquitto_sub"),
                "tls.bad_eku" => Some("clientAuth"),
                "tls.not_tls" => Some("speaks plain MQTT"),
                "tls.client_cert_required" => Some("mqtt-doctor Lab Client CA"),
                "tls.alpn_rejected" => Some("(mqtt)"),
                "mqtt.server_moved" => Some("mqtt2.lab.test:8883"),
                "tcp.refused" => Some("refused the connection"),
                "tls.client_cert_rejected" => {
                    Some("issued by O=mqtt-doctor lab, CN=Unknown Rogue CA")
                }
                "tls.cert_not_yet_valid" => Some("in 2 days"),
                "tls.self_signed" => Some("self-signed broker"),
                _ => None,
            };
            sc.says = says.map(str::to_string);
        }

        // WebSocket and proxy scenarios
        let (more, more_tasks) = ws::start(ws::Shared {
            mqtt: ok,
            mqtts: tls_ok,
            silent,
            http,
            tls_config: tls(&pki.good, false)?,
            ca: p(&ca),
        })
        .await?;
        scenarios.extend(more);
        tasks.extend(more_tasks);
        Ok(Lab {
            dir,
            tasks,
            _held: held,
            _black_hole: Some(hole_listener),
            dns,
            scenarios,
        })
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
