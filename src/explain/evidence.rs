//! Small typed pieces of evidence the stages record inside a [`super::Problem`] (how a
//! connection ended, which TLS alert came, what we waited for) and the words for each.

use rustls::AlertDescription;
use std::io;

/// How a peer ended (or we lost) a connection on which we expected an answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Ended {
    /// An orderly close (FIN, or a TLS close_notify).
    Closed,
    /// A TCP reset.
    Reset,
    /// An MQTT DISCONNECT, with its MQTT 5 reason code and reason string when it had them.
    Disconnect {
        code: Option<u8>,
        reason: Option<String>,
    },
    /// Another I/O error. The OS message is kept as text because `io::Error` carries no more
    /// structure than its kind.
    Io {
        kind: io::ErrorKind,
        os_error: String,
    },
    /// The peer sent something the MQTT codec could not read (the codec's message).
    Unreadable { wire_error: String },
    /// Our own packet could not be encoded (the codec's message): nothing was sent.
    NotSent { encode_error: String },
    /// The second connection (the MQTT 3.1.1 retry) could not be opened.
    RetryFailed { connect_error: String },
}

impl Ended {
    /// From an I/O error of a read or write: resets, closes and the rest.
    pub fn from_io(e: &io::Error) -> Ended {
        match e.kind() {
            io::ErrorKind::ConnectionReset => Ended::Reset,
            io::ErrorKind::UnexpectedEof | io::ErrorKind::BrokenPipe => Ended::Closed,
            kind => Ended::Io {
                kind,
                os_error: e.to_string(),
            },
        }
    }

    /// "closed the connection", "sent DISCONNECT 0x87 (Not authorized) with reason …".
    pub fn words(&self) -> String {
        match self {
            Ended::Closed => "closed the connection".into(),
            Ended::Reset => "reset the connection".into(),
            Ended::Disconnect {
                code: Some(c),
                reason,
            } => format!(
                "sent DISCONNECT 0x{c:02X} ({}){}",
                crate::diagnose::wire::disconnect_reason_name(*c),
                reason
                    .as_ref()
                    .map(|r| format!(" with reason \"{r}\""))
                    .unwrap_or_default()
            ),
            Ended::Disconnect { code: None, .. } => "sent DISCONNECT".into(),
            Ended::Io { os_error, .. } => format!("failed ({os_error})"),
            Ended::Unreadable { wire_error } => {
                format!("sent a packet that could not be read ({wire_error})")
            }
            Ended::NotSent { encode_error } => {
                format!("could not be sent our packet ({encode_error})")
            }
            Ended::RetryFailed { connect_error } => format!(
                "refused MQTT 5, and the retry as 3.1.1 could not connect ({connect_error})"
            ),
        }
    }
}

/// The packet after which the sub stage lost its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    Subscribe,
    Publish,
}

/// What the sub stage was waiting for when its deadline passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Awaited {
    Suback,
    /// The PUBACK for our test message.
    Puback,
}

/// What showed that client and server share no TLS version.
#[derive(Debug, Clone, PartialEq)]
pub enum VersionEvidence {
    /// The server answered with an alert (protocol_version).
    Alert(AlertDescription),
    /// rustls found the server's choice unusable.
    Incompatible(rustls::PeerIncompatible),
}

/// How the broker refused our client certificate.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    Alert(AlertDescription),
    /// Another TLS error read where the refusal came.
    Tls(rustls::Error),
    /// The broker closed without an alert, during the handshake or right after it.
    Closed {
        during_handshake: bool,
    },
    /// Another I/O error (its OS message, the only detail an `io::Error` has).
    Io {
        kind: io::ErrorKind,
        os_error: String,
    },
}

impl Refusal {
    /// From the error of the read that brought the refusal.
    pub fn from_io(e: &io::Error) -> Refusal {
        match crate::diagnose::tls::rustls_error(e) {
            Some(rustls::Error::AlertReceived(a)) => Refusal::Alert(a),
            Some(other) => Refusal::Tls(other),
            None => Refusal::Io {
                kind: e.kind(),
                os_error: e.to_string(),
            },
        }
    }

    pub fn alert(&self) -> Option<AlertDescription> {
        match self {
            Refusal::Alert(a) => Some(*a),
            _ => None,
        }
    }

    pub fn words(&self) -> String {
        match self {
            Refusal::Alert(a) => alert_name(a),
            Refusal::Tls(e) => e.to_string(),
            Refusal::Closed {
                during_handshake: true,
            } => "closed the connection during the handshake".into(),
            Refusal::Closed {
                during_handshake: false,
            } => "closed the connection right after the handshake".into(),
            Refusal::Io { os_error, .. } => os_error.clone(),
        }
    }
}

/// Why a handshake failed when no more specific cause fits.
#[derive(Debug, Clone, PartialEq)]
pub enum HandshakeError {
    /// The server sent this alert.
    Alert(AlertDescription),
    /// rustls refused something (its typed error).
    Rustls(rustls::Error),
    /// The certificate was refused and the chain could not be analysed to say why.
    Unanalysed(rustls::CertificateError),
    /// The connection failed mid-handshake (the OS message: `io::Error` has no more).
    Io {
        kind: io::ErrorKind,
        os_error: String,
    },
    /// Our side could not set up TLS (a server name or a client configuration the TLS
    /// library refused; its message).
    Setup { config_error: String },
}

impl HandshakeError {
    pub fn words(&self) -> String {
        match self {
            HandshakeError::Alert(a) => format!("the server sent {}", alert_name(a)),
            HandshakeError::Rustls(rustls::Error::InvalidMessage(
                rustls::InvalidMessage::HandshakePayloadTooLarge,
            )) => "the server sent a handshake message larger than the 64 KiB rustls accepts \
                   (usually a certificate chain that big; real chains are a few kilobytes)"
                .into(),
            HandshakeError::Rustls(e) => e.to_string(),
            HandshakeError::Unanalysed(ce) => {
                format!("the certificate was refused ({ce:?}) and could not be analysed")
            }
            HandshakeError::Io { os_error, .. } => {
                format!("the connection failed during the handshake: {os_error}")
            }
            HandshakeError::Setup { config_error } => config_error.clone(),
        }
    }
}

/// What made the peer not look like an MQTT broker.
#[derive(Debug, Clone, PartialEq)]
pub enum NotMqttEvidence {
    /// Its first bytes (at most 48).
    Bytes(Vec<u8>),
    /// A CONNACK the codec could not read (its message).
    UnreadableConnack { wire_error: String },
    /// Nothing useful came back to our CONNECT; a follow-up probe on a new connection got
    /// this answer (its first bytes, at most 48).
    Probe { sent: ProbeSent, answer: Vec<u8> },
}

/// What a follow-up probe sent to a peer that would not answer MQTT, to learn what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeSent {
    /// A PostgreSQL SSLRequest (8 bytes); a PostgreSQL server answers one byte, `S` or `N`.
    PostgresSslRequest,
    /// A Redis inline `PING`; Redis answers `+PONG` or an error line.
    RedisPing,
}

impl ProbeSent {
    pub fn words(self) -> &'static str {
        match self {
            ProbeSent::PostgresSslRequest => "a PostgreSQL SSLRequest",
            ProbeSent::RedisPing => "a Redis PING",
        }
    }
}

/// What came of fetching a missing issuer from the leaf's caIssuers URL (AIA).
#[derive(Debug, Clone, PartialEq)]
pub enum IssuerFetch {
    /// Fetched; `verifies` says whether the chain verifies with it against the trust used.
    Fetched {
        url: String,
        subject: String,
        verifies: bool,
        /// Why the chain still does not verify with it (the TLS library's error).
        still: Option<rustls::Error>,
    },
    /// The download failed (the reason: an HTTP status, a size cap, a deadline, an OS error).
    Failed { url: String, reason: String },
    /// Not tried: an https:// or other URL (only plain http caIssuers are fetched, as the
    /// certificate's own signature protects what comes back).
    NotHttp { url: String },
}

impl IssuerFetch {
    pub fn words(&self) -> String {
        match self {
            IssuerFetch::Fetched {
                url,
                subject,
                verifies: true,
                ..
            } => format!(
                "the missing issuer {subject}, downloaded from the certificate's caIssuers URL {url}, completes the chain: with it the chain verifies"
            ),
            IssuerFetch::Fetched {
                url,
                subject,
                still,
                ..
            } => format!(
                "the certificate {subject}, downloaded from the caIssuers URL {url}, does not complete the chain{}",
                still
                    .as_ref()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default()
            ),
            IssuerFetch::Failed { url, reason } => {
                format!("downloading the issuer from the caIssuers URL {url} failed ({reason})")
            }
            IssuerFetch::NotHttp { url } => {
                format!("the caIssuers URL {url} is not plain http, so it was not fetched")
            }
        }
    }
}

/// A client certificate file that holds the leaf `cert` without its issuer `missing`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientChainGap {
    pub cert: String,
    pub missing: String,
    pub authority_key_id: Option<String>,
    /// Where the certificate came from (the --cert file, the profile field).
    pub source: String,
    /// The CA names of the broker's CertificateRequest, when it sent one.
    pub accepted: Option<Vec<String>>,
    /// How the broker refused (`None` for the warning before any refusal).
    pub refusal: Option<Refusal>,
}

/// What a local check of an Azure IoT Hub connection found before CONNECT.
#[derive(Debug, Clone, PartialEq)]
pub enum AzureCheck {
    /// The user name is not `{hub}.azure-devices.net/{device}/?api-version=…`.
    UserName {
        got: Option<String>,
        expected_prefix: String,
    },
    /// The client id is not the device id named in the user name.
    ClientId { client_id: String, device: String },
    /// The SAS token's `se=` expiry (unix seconds) lies before `now`.
    SasExpired { expiry: i64, now: i64 },
    /// The password is not a SAS token and no client certificate is used.
    NoCredential,
    /// MQTT 5 was asked for; IoT Hub speaks MQTT 3.1.1.
    Mqtt5,
}

/// "TLS alert unknown_ca (48)": the RFC 8446 name and code.
pub fn alert_name(a: &AlertDescription) -> String {
    let code: u8 = (*a).into();
    let name = format!("{a:?}");
    // rustls names alerts in CamelCase; the RFC uses snake_case.
    let mut snake = String::new();
    let mut prev_lower = false;
    for ch in name.chars() {
        if ch.is_ascii_uppercase() {
            if prev_lower {
                snake.push('_');
            }
            snake.push(ch.to_ascii_lowercase());
        } else {
            snake.push(ch);
        }
        prev_lower = ch.is_ascii_lowercase() || ch.is_ascii_digit();
    }
    format!("TLS alert {snake} ({code})")
}

/// The words of an I/O error kind, for connect attempts.
pub fn io_kind_words(kind: io::ErrorKind) -> Option<&'static str> {
    Some(match kind {
        io::ErrorKind::ConnectionRefused => "connection refused",
        io::ErrorKind::ConnectionReset => "connection reset",
        io::ErrorKind::TimedOut => "timed out",
        io::ErrorKind::HostUnreachable => "host unreachable",
        io::ErrorKind::NetworkUnreachable => "network unreachable",
        io::ErrorKind::AddrNotAvailable => "address not available on this machine",
        _ => return None,
    })
}

/// The name of an MQTT 5 PUBACK reason code (MQTT 5.0 §3.4.2.1).
pub fn puback_name(code: u8) -> &'static str {
    match code {
        0x00 => "Success",
        0x10 => "No matching subscribers",
        0x80 => "Unspecified error",
        0x83 => "Implementation specific error",
        0x87 => "Not authorized",
        0x90 => "Topic Name invalid",
        0x91 => "Packet identifier in use",
        0x97 => "Quota exceeded",
        0x99 => "Payload format invalid",
        _ => "unknown reason code",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_are_named_like_the_rfc() {
        assert_eq!(
            alert_name(&AlertDescription::CertificateRequired),
            "TLS alert certificate_required (116)"
        );
        assert_eq!(
            alert_name(&AlertDescription::UnknownCA),
            "TLS alert unknown_ca (48)"
        );
    }

    #[test]
    fn a_disconnect_names_its_reason_code() {
        let e = Ended::Disconnect {
            code: Some(0x87),
            reason: Some("policy".into()),
        };
        assert_eq!(
            e.words(),
            "sent DISCONNECT 0x87 (Not authorized) with reason \"policy\""
        );
    }

    #[test]
    fn puback_names_follow_the_mqtt5_table() {
        assert_eq!(puback_name(0x10), "No matching subscribers");
        assert_eq!(puback_name(0x87), "Not authorized");
    }
}
