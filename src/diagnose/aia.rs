//! Downloads a missing issuer from a certificate's caIssuers URL (RFC 5280 §4.2.2.1), plain
//! http only, with a deadline and a size cap: the tls stage's incomplete-chain check.

use rustls::pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The largest answer read (headers and body): an issuer certificate is 1–2 KiB; a CA that
/// serves more is not serving one certificate.
pub const MAX_BYTES: usize = 64 * 1024;

/// GETs `url` (http only) and returns the certificate it serves (DER or PEM). The error is a
/// sentence part ("HTTP 404 Not Found", "no answer within 3 s", "larger than 64 KiB").
pub async fn fetch(url: &str, deadline: Duration) -> Result<CertificateDer<'static>, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("the URL could not be read: {e}"))?;
    if parsed.scheme() != "http" {
        return Err(format!("{}:// is not fetched", parsed.scheme()));
    }
    let host = parsed
        .host_str()
        .ok_or_else(|| "the URL has no host".to_string())?
        .to_string();
    let port = parsed.port_or_known_default().unwrap_or(80);
    let mut path = parsed.path().to_string();
    if let Some(q) = parsed.query() {
        path.push('?');
        path.push_str(q);
    }
    let body = tokio::time::timeout(deadline, get(&host, port, &path))
        .await
        .map_err(|_| format!("no answer within {} s", deadline.as_secs().max(1)))??;
    certificate(&body)
}

async fn get(host: &str, port: u16, path: &str) -> Result<Vec<u8>, String> {
    let connect_host = host.trim_start_matches('[').trim_end_matches(']');
    let mut stream = TcpStream::connect((connect_host, port))
        .await
        .map_err(|e| format!("connecting to {host}:{port} failed: {e}"))?;
    // HTTP/1.0: the answer ends with the connection and is never chunked.
    let request = format!(
        "GET {path} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: mqtt-doctor\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("sending the request failed: {e}"))?;
    let mut answer = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = stream
            .read(&mut chunk)
            .await
            .map_err(|e| format!("reading the answer failed: {e}"))?;
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&chunk[..n]);
        if answer.len() > MAX_BYTES {
            return Err(format!(
                "the answer is larger than {} KiB",
                MAX_BYTES / 1024
            ));
        }
    }
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| "the answer is not HTTP".to_string())?;
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    let status_line = head.lines().next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let (proto, status) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if !proto.starts_with("HTTP/") {
        return Err("the answer is not HTTP".into());
    }
    if status != "200" {
        return Err(format!(
            "HTTP {}",
            crate::text::truncate(status_line.trim_start_matches(proto).trim(), 60)
        ));
    }
    Ok(answer[split + 4..].to_vec())
}

/// A caIssuers answer is a DER certificate (RFC 5280), sometimes PEM; PKCS#7 bundles are
/// named rather than guessed at.
fn certificate(body: &[u8]) -> Result<CertificateDer<'static>, String> {
    if body.starts_with(b"-----BEGIN") {
        return CertificateDer::from_pem_slice(body)
            .map_err(|e| format!("the PEM answer holds no certificate: {e}"));
    }
    let der = CertificateDer::from(body.to_vec());
    match x509_parser::parse_x509_certificate(&der) {
        Ok(_) => Ok(der),
        Err(_) => Err(format!(
            "the answer ({} bytes) is not a certificate (a PKCS#7 bundle or an error page)",
            body.len()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_http_urls_are_fetched() {
        let e = fetch("https://127.0.0.1:1/x.crt", Duration::from_secs(1))
            .await
            .unwrap_err();
        assert_eq!(e, "https:// is not fetched");
    }

    #[tokio::test]
    async fn an_answer_over_the_cap_is_refused() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut b = [0u8; 1024];
            let _ = s.read(&mut b).await;
            let _ = s.write_all(b"HTTP/1.0 200 OK\r\n\r\n").await;
            let _ = s.write_all(&vec![0x30u8; 200 * 1024]).await;
        });
        let e = fetch(
            &format!("http://127.0.0.1:{port}/big.crt"),
            Duration::from_secs(5),
        )
        .await
        .unwrap_err();
        assert_eq!(e, "the answer is larger than 64 KiB");
    }
}
