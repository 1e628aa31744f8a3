//! The tls stage: rustls through tokio-rustls, with a verifier that records the presented chain
//! before judging it and a client-certificate resolver that records what the server asked for.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ResolvesClientCert, WebPkiServerVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, DistinguishedName, RootCertStore,
    SignatureScheme,
};
use std::sync::{Arc, Mutex};

use super::CertSummary;
use super::plan::TlsOptions;

pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// What the handshake let us see, whether it succeeded or not.
#[derive(Debug, Default)]
pub struct Observed {
    pub chain: Option<Vec<CertificateDer<'static>>>,
    pub verify_error: Option<rustls::Error>,
    /// `Some` when the server sent a CertificateRequest: the CA names it accepts.
    pub client_cert_requested: Option<Vec<String>>,
    pub client_cert_sent: bool,
    /// "subject, issued by issuer" of the client certificate we offer.
    pub client_cert_label: String,
}

#[derive(Debug, Clone, Default)]
pub struct Recorder(Arc<Mutex<Observed>>);

impl Recorder {
    pub fn take(&self) -> Observed {
        self.0
            .lock()
            .map(|mut o| std::mem::take(&mut *o))
            .unwrap_or_default()
    }

    fn with<R>(&self, f: impl FnOnce(&mut Observed) -> R) -> Option<R> {
        self.0.lock().ok().map(|mut o| f(&mut o))
    }
}

#[derive(Debug)]
struct RecordingVerifier {
    inner: Option<Arc<WebPkiServerVerifier>>,
    insecure: bool,
    recorder: Recorder,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let mut chain = vec![end_entity.clone().into_owned()];
        chain.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        self.recorder.with(|o| o.chain = Some(chain));
        let verdict = match &self.inner {
            Some(v) => {
                v.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            }
            None => Err(rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer,
            )),
        };
        match verdict {
            Ok(v) => Ok(v),
            Err(e) => {
                self.recorder.with(|o| o.verify_error = Some(e.clone()));
                if self.insecure {
                    Ok(ServerCertVerified::assertion())
                } else {
                    Err(e)
                }
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[derive(Debug)]
struct RecordingClientCert {
    key: Option<Arc<CertifiedKey>>,
    recorder: Recorder,
}

impl ResolvesClientCert for RecordingClientCert {
    fn resolve(
        &self,
        root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        let names = root_hint_subjects
            .iter()
            .map(|dn| dn_to_string(dn))
            .collect();
        let sent = self.key.is_some();
        self.recorder.with(|o| {
            o.client_cert_requested = Some(names);
            o.client_cert_sent = sent;
        });
        self.key.clone()
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// A DER distinguished name (from a CertificateRequest) as text.
fn dn_to_string(der: &[u8]) -> String {
    let dn = DistinguishedName::from(der.to_vec());
    // The hint is the inner RDNSequence without the outer SEQUENCE header in some stacks;
    // try both.
    let as_seq = {
        let mut v = vec![0x30];
        let len = der.len();
        if len < 128 {
            v.push(len as u8);
        } else if len < 256 {
            v.extend_from_slice(&[0x81, len as u8]);
        } else {
            v.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
        }
        v.extend_from_slice(der);
        v
    };
    for candidate in [dn.as_ref(), &as_seq[..]] {
        if let Ok((_, name)) = x509_parser::x509::X509Name::from_der(candidate) {
            return name.to_string();
        }
    }
    format!("(undecodable name, {} bytes)", der.len())
}

use x509_parser::prelude::FromDer;

/// Where trust comes from, for facts: a CA file or the system store.
#[derive(Debug, Clone)]
pub struct Trust {
    pub roots: Arc<RootCertStore>,
    pub label: String,
    /// The trust anchors as certificates, for the chain analysis.
    pub anchors: Vec<CertificateDer<'static>>,
}

impl Trust {
    /// No trust anchors at all (every chain is unknown; used with --insecure probes).
    pub fn none() -> Trust {
        Trust {
            roots: Arc::new(RootCertStore::empty()),
            label: "no trust anchors".into(),
            anchors: Vec::new(),
        }
    }
}

/// The operating system's trust anchors, read once per process.
#[derive(Debug)]
pub struct SystemRoots {
    pub anchors: Vec<CertificateDer<'static>>,
}

static SYSTEM_ROOTS: tokio::sync::OnceCell<Arc<SystemRoots>> = tokio::sync::OnceCell::const_new();

/// How many times the system store was read (tests assert it is once per process).
#[cfg(test)]
pub(crate) static SYSTEM_ROOT_LOADS: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(0);

/// The system trust store, loaded at the first need on tokio's blocking pool (it reads many
/// files from disk) and shared by every later tls stage, reconnect and `cert fetch`.
pub async fn system_roots() -> Arc<SystemRoots> {
    SYSTEM_ROOTS
        .get_or_init(|| async {
            let load = || {
                #[cfg(test)]
                SYSTEM_ROOT_LOADS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                SystemRoots {
                    anchors: rustls_native_certs::load_native_certs().certs,
                }
            };
            // A failed blocking task (runtime shutting down) loads in place instead.
            let roots = match tokio::task::spawn_blocking(load).await {
                Ok(roots) => roots,
                Err(_) => load(),
            };
            Arc::new(roots)
        })
        .await
        .clone()
}

pub async fn trust(opts: &TlsOptions) -> Trust {
    let mut roots = RootCertStore::empty();
    if let Some(ca) = &opts.ca {
        let (added, _ignored) = roots.add_parsable_certificates(ca.certs.iter().cloned());
        return Trust {
            roots: Arc::new(roots),
            label: format!("CA file {} ({added} certificates)", ca.path.display()),
            anchors: ca.certs.clone(),
        };
    }
    let native = system_roots().await;
    let anchors = native.anchors.clone();
    let (added, _) = roots.add_parsable_certificates(native.anchors.iter().cloned());
    if added == 0 {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        return Trust {
            label: format!(
                "built-in Mozilla roots ({} certificates; the system store is empty)",
                roots.len()
            ),
            roots: Arc::new(roots),
            anchors: Vec::new(),
        };
    }
    Trust {
        roots: Arc::new(roots),
        label: format!("system trust store ({added} certificates)"),
        anchors,
    }
}

/// Builds the client configuration for one connection attempt.
pub fn client_config(
    opts: &TlsOptions,
    trust: &Trust,
    recorder: Recorder,
) -> Result<Arc<ClientConfig>, String> {
    let provider = provider();
    let inner = if trust.roots.is_empty() {
        None
    } else {
        Some(
            WebPkiServerVerifier::builder_with_provider(trust.roots.clone(), provider.clone())
                .build()
                .map_err(|e| format!("cannot use the trust anchors: {e}"))?,
        )
    };
    let verifier = Arc::new(RecordingVerifier {
        inner,
        insecure: opts.insecure,
        recorder: recorder.clone(),
        provider: provider.clone(),
    });
    let key = match &opts.client {
        Some(id) => {
            let signing = provider
                .key_provider
                .load_private_key(id.key.clone_key())
                .map_err(|e| format!("cannot use the client key from {}: {e}", id.source))?;
            Some(Arc::new(CertifiedKey::new(id.certs.clone(), signing)))
        }
        None => None,
    };
    if let Some(id) = &opts.client
        && let Some(first) = id.certs.first()
    {
        let s = summarize(first);
        recorder.with(|o| o.client_cert_label = format!("{}, issued by {}", s.subject, s.issuer));
    }
    let versions: &[&rustls::SupportedProtocolVersion] = if opts.tls13_only {
        &[&rustls::version::TLS13]
    } else {
        rustls::DEFAULT_VERSIONS
    };
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_cert_resolver(Arc::new(RecordingClientCert { key, recorder }));
    config.alpn_protocols = opts.alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
    Ok(Arc::new(config))
}

pub fn server_name(name: &str) -> Result<ServerName<'static>, String> {
    ServerName::try_from(name.to_string())
        .map_err(|e| format!("{name:?} is not a valid TLS server name: {e}"))
}

/// A short summary of one certificate for reports.
pub fn summarize(der: &[u8]) -> CertSummary {
    use sha2::{Digest, Sha256};
    let sha256 = crate::certs::hex_colon(&Sha256::digest(der));
    match x509_parser::parse_x509_certificate(der) {
        Ok((_, cert)) => {
            let mut dns_names = Vec::new();
            let mut ip_addresses = Vec::new();
            if let Ok(Some(san)) = cert.subject_alternative_name() {
                for name in &san.value.general_names {
                    match name {
                        x509_parser::extensions::GeneralName::DNSName(d) => {
                            dns_names.push(d.to_string())
                        }
                        x509_parser::extensions::GeneralName::IPAddress(ip) => {
                            ip_addresses.push(ip_to_string(ip))
                        }
                        _ => {}
                    }
                }
            }
            CertSummary {
                subject: cert.subject().to_string(),
                issuer: cert.issuer().to_string(),
                serial: cert.raw_serial_as_string(),
                not_before: crate::certs::rfc3339(cert.validity().not_before.timestamp()),
                not_after: crate::certs::rfc3339(cert.validity().not_after.timestamp()),
                dns_names,
                ip_addresses,
                is_ca: cert.is_ca(),
                self_signed: cert.subject() == cert.issuer(),
                sha256,
            }
        }
        Err(e) => CertSummary {
            subject: format!("(unparsable certificate: {e})"),
            issuer: String::new(),
            serial: String::new(),
            not_before: String::new(),
            not_after: String::new(),
            dns_names: vec![],
            ip_addresses: vec![],
            is_ca: false,
            self_signed: false,
            sha256,
        },
    }
}

fn ip_to_string(raw: &[u8]) -> String {
    match raw.len() {
        4 => std::net::Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3]).to_string(),
        16 => {
            let mut b = [0u8; 16];
            b.copy_from_slice(raw);
            std::net::Ipv6Addr::from(b).to_string()
        }
        _ => crate::text::hex_preview(raw, 16),
    }
}

/// The caIssuers URL of a certificate's Authority Information Access, if it has one.
pub fn ca_issuers_url(der: &[u8]) -> Option<String> {
    use x509_parser::extensions::{GeneralName, ParsedExtension};
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let ca_issuers = x509_parser::oid_registry::OID_PKIX_ACCESS_DESCRIPTOR_CA_ISSUERS;
    cert.extensions()
        .iter()
        .find_map(|ext| match ext.parsed_extension() {
            ParsedExtension::AuthorityInfoAccess(aia) => {
                aia.accessdescs.iter().find_map(|d| {
                    match (d.access_method == ca_issuers, &d.access_location) {
                        (true, GeneralName::URI(u)) => Some(u.to_string()),
                        _ => None,
                    }
                })
            }
            _ => None,
        })
}

/// The rustls error inside an io::Error from tokio-rustls, if there is one (tokio-rustls
/// wraps it; matching the typed error comes before any text).
pub fn rustls_error(e: &std::io::Error) -> Option<rustls::Error> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Several tls stages (a listener that accepts and hangs up, so every run reaches the
    /// handshake) and direct calls read the system store once for the whole process.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_system_trust_store_is_read_once_per_process() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                drop(sock);
            }
        });
        let url: crate::diagnose::ParsedUrl = format!("mqtts://127.0.0.1:{port}").parse().unwrap();
        let mut runs = Vec::new();
        for _ in 0..4 {
            let mut plan = crate::diagnose::Plan::new(url.target.clone());
            plan.timeout = std::time::Duration::from_secs(2);
            runs.push(tokio::spawn(crate::diagnose::run(
                plan,
                tokio::sync::mpsc::channel(64).0,
            )));
        }
        for r in runs {
            r.await.unwrap();
        }
        let a = trust(&TlsOptions::default()).await;
        let b = trust(&TlsOptions::default()).await;
        assert_eq!(a.anchors, b.anchors);
        assert_eq!(
            SYSTEM_ROOT_LOADS.load(std::sync::atomic::Ordering::SeqCst),
            1
        );
    }
}
