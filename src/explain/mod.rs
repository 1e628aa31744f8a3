//! The one place where human words live. Stages describe what they saw as a [`Problem`]
//! (typed evidence); [`explain`] turns it into a [`Finding`]: a stable cause id, one sentence of
//! what happened and one of what to do. [`CATALOG`] lists every cause id (`mqtt-doctor causes`).

//!
//! Certificate words live here too ([`finding_sentence`], [`inspect_text`]): `certs` stays
//! pure analysis over bytes, and every sentence a user reads about a certificate — in a
//! diagnosis, a warning or `cert inspect` — comes from this module.

mod catalog;
mod certs;
mod codes;
mod evidence;
mod long;
mod transport;

pub use catalog::{CATALOG, CauseInfo, cause_info};
pub use certs::{
    SAVED_CHAIN_CAUTION, chain_findings, client_request_sentence, finding_sentence, human_duration,
    inspect_text, validity_phrase,
};
pub use codes::{connack_cause, connack_name, suback_cause, suback_name};
pub use evidence::{
    Awaited, AzureCheck, ClientChainGap, Ended, HandshakeError, IssuerFetch, NotMqttEvidence,
    ProbeSent, Refusal, Sent, VersionEvidence, alert_name, io_kind_words, puback_name,
};
pub use long::{cause_text, suggest_cause};
pub use transport::{ProxyProblem, ProxyReply, WsProblem, socks_reply_name};

use crate::diagnose::{Finding, MqttVersion, Stage};
use std::io;
use std::net::SocketAddr;

/// What the bytes a peer sent look like, for "this port speaks …" sentences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerSpeaks {
    PlainMqtt,
    Tls,
    Http,
    Ssh,
    Smtp,
    Amqp,
    Nats,
    Redis,
    Postgres,
    Mysql,
    Unknown,
    Nothing,
}

impl PeerSpeaks {
    /// The port this service usually listens on, for "… is AMQP's port" sentences.
    pub fn usual_port(self) -> Option<u16> {
        Some(match self {
            PeerSpeaks::Http => 80,
            PeerSpeaks::Ssh => 22,
            PeerSpeaks::Smtp => 25,
            PeerSpeaks::Amqp => 5672,
            PeerSpeaks::Nats => 4222,
            PeerSpeaks::Redis => 6379,
            PeerSpeaks::Postgres => 5432,
            PeerSpeaks::Mysql => 3306,
            _ => return None,
        })
    }

    /// Services that answer in text, whose first bytes are shown as text, not hex.
    fn speaks_text(self) -> bool {
        matches!(
            self,
            PeerSpeaks::Http
                | PeerSpeaks::Ssh
                | PeerSpeaks::Smtp
                | PeerSpeaks::Nats
                | PeerSpeaks::Redis
        )
    }

    pub fn label(self) -> &'static str {
        match self {
            PeerSpeaks::PlainMqtt => "plain MQTT",
            PeerSpeaks::Tls => "TLS",
            PeerSpeaks::Http => "HTTP",
            PeerSpeaks::Ssh => "SSH",
            PeerSpeaks::Smtp => "SMTP/FTP-style text",
            PeerSpeaks::Amqp => "AMQP (RabbitMQ or another AMQP broker)",
            PeerSpeaks::Nats => "NATS",
            PeerSpeaks::Redis => "Redis",
            PeerSpeaks::Postgres => "PostgreSQL",
            PeerSpeaks::Mysql => "MySQL/MariaDB",
            PeerSpeaks::Unknown => "an unknown protocol",
            PeerSpeaks::Nothing => "nothing",
        }
    }
}

/// Where a certificate sits in the presented chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertRole {
    Leaf,
    Intermediate,
    Root,
}

impl CertRole {
    pub fn label(self) -> &'static str {
        match self {
            CertRole::Leaf => "server certificate",
            CertRole::Intermediate => "intermediate certificate",
            CertRole::Root => "root certificate",
        }
    }
}

/// Typed evidence of what went wrong, produced by the stages.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    DnsNxDomain {
        host: String,
    },
    DnsNoRecords {
        host: String,
    },
    DnsTimeout {
        host: String,
        secs: u64,
    },
    DnsServFail {
        host: String,
    },
    DnsInvalidHost {
        host: String,
        reason: String,
    },
    /// `resolver_error`: hickory's message; its error has no further structure we use.
    DnsFailed {
        host: String,
        resolver_error: String,
    },

    TcpRefused {
        addr: SocketAddr,
    },
    /// `addrs`: the addresses that never answered.
    TcpTimeout {
        addrs: Vec<SocketAddr>,
        secs: u64,
    },
    TcpUnreachable {
        addr: SocketAddr,
        kind: io::ErrorKind,
    },
    /// `how`: [`Ended::Closed`] or [`Ended::Reset`].
    TcpReset {
        addr: SocketAddr,
        how: Ended,
    },
    /// `addr` is `None` when there was no address to try; `os_error` is the OS message, the
    /// only detail an `io::Error` of an unnamed kind has.
    TcpFailed {
        addr: Option<SocketAddr>,
        kind: io::ErrorKind,
        os_error: String,
    },
    /// This process (or the system) had no file descriptor left for the socket (EMFILE or
    /// ENFILE): the tool's own limit, not the broker's. `limit`: the soft RLIMIT_NOFILE.
    TcpLocalFdLimit {
        addr: SocketAddr,
        system_wide: bool,
        limit: Option<u64>,
    },

    TlsNotTls {
        speaks: PeerSpeaks,
        port: u16,
    },
    TlsTimeout {
        secs: u64,
    },
    /// Times are unix seconds; `now` is the local clock they were compared with.
    TlsCertExpired {
        role: CertRole,
        subject: String,
        not_after: i64,
        now: i64,
    },
    TlsCertNotYetValid {
        role: CertRole,
        subject: String,
        not_before: i64,
        now: i64,
    },
    TlsHostnameMismatch {
        expected: String,
        names: Vec<String>,
    },
    TlsCnOnly {
        cn: String,
        expected: String,
        cn_matches: bool,
    },
    TlsSelfSigned {
        subject: String,
        trust: String,
    },
    /// `fetch`: what came of downloading the missing issuer from the leaf's caIssuers URL.
    TlsIncompleteChain {
        leaf: String,
        missing: String,
        authority_key_id: Option<String>,
        fetch: Option<Box<IssuerFetch>>,
    },
    /// The broker routes by TLS server name: `sent` is the SNI we sent (`None` for an IP
    /// literal), `host` the URL's host, `alert` what ended the handshake.
    TlsSniRejected {
        sent: Option<String>,
        host: String,
        alert: rustls::AlertDescription,
    },
    /// Our client certificate file holds its leaf without the issuer ([`ClientChainGap`]).
    TlsClientChainIncomplete {
        gap: Box<ClientChainGap>,
    },
    TlsAlpnRejected {
        offered: Vec<String>,
        port: u16,
    },
    TlsClientKeyMismatch {
        cert: String,
        source: String,
    },
    TlsExpiresSoon {
        role: CertRole,
        subject: String,
        not_after: i64,
        now: i64,
    },
    /// Positions in the presented chain (0 = first sent).
    TlsChainOutOfOrder {
        presented: Vec<usize>,
        expected: Vec<usize>,
    },
    TlsWeakSignature {
        subject: String,
        algorithm: String,
    },
    TlsWeakKey {
        subject: String,
        key_type: String,
        bits: u32,
    },
    TlsUntrustedRoot {
        issuer: String,
        trust: String,
    },
    TlsBadEku {
        subject: String,
        present: Vec<String>,
    },
    TlsProtocolVersion {
        seen: VersionEvidence,
    },
    TlsClientCertRequired {
        ca_names: Vec<String>,
    },
    /// `ours`: "subject, issued by issuer" of the certificate we sent.
    TlsClientCertRejected {
        refusal: Refusal,
        ours: String,
    },
    TlsHandshakeFailure {
        error: HandshakeError,
    },

    MqttTlsRequired {
        port: u16,
    },
    MqttNotMqtt {
        speaks: PeerSpeaks,
        seen: NotMqttEvidence,
    },
    MqttClosedWithoutConnack {
        how: Ended,
    },
    MqttConnackTimeout {
        secs: u64,
    },
    /// A close right after CONNECT on a mutual-TLS connection: the broker's authorization
    /// refused. `aws`: an AWS IoT Core endpoint (host or ALPN); `cert`: our certificate.
    MqttPolicyRefused {
        how: Ended,
        client_id: String,
        cert: String,
        aws: bool,
    },
    /// TLS options were given for a URL that does not use TLS (`options`: the option names).
    MqttTlsNotUsed {
        options: Vec<&'static str>,
        scheme: &'static str,
    },
    /// What a local check of an Azure IoT Hub connection found (`host`: the hub's host).
    MqttAzureMismatch {
        host: String,
        check: AzureCheck,
    },
    MqttRefused {
        version: MqttVersion,
        code: u8,
        reason_string: Option<String>,
        server_reference: Option<String>,
    },

    SubRefused {
        version: MqttVersion,
        filter: String,
        code: u8,
    },
    SubDisconnected {
        after: Sent,
        how: Ended,
    },
    SubTimeout {
        waiting_for: Awaited,
        secs: u64,
    },
    /// `puback`: the MQTT 5 PUBACK reason code, when the broker refused our test message.
    SubNoRoundTrip {
        topic: String,
        secs: u64,
        puback: Option<u8>,
    },

    Proxy(ProxyProblem),
    Ws(WsProblem),

    /// A decisive problem and the other faults of the same certificate, so a summary names
    /// them all (an expired certificate for another name is two problems, not one).
    Also {
        main: Box<Problem>,
        also: Vec<Problem>,
    },
}

impl Problem {
    /// The stable cause id.
    pub fn cause(&self) -> &'static str {
        use Problem::*;
        match self {
            DnsNxDomain { .. } => "dns.nxdomain",
            DnsNoRecords { .. } => "dns.no_records",
            DnsTimeout { .. } => "dns.timeout",
            DnsServFail { .. } => "dns.servfail",
            DnsInvalidHost { .. } => "dns.invalid_host",
            DnsFailed { .. } => "dns.failed",
            TcpRefused { .. } => "tcp.refused",
            TcpTimeout { .. } => "tcp.timeout",
            TcpUnreachable { .. } => "tcp.unreachable",
            TcpReset { .. } => "tcp.reset",
            TcpFailed { .. } => "tcp.failed",
            TcpLocalFdLimit { .. } => "tcp.local_fd_limit",
            TlsNotTls { .. } => "tls.not_tls",
            TlsTimeout { .. } => "tls.timeout",
            TlsCertExpired { .. } => "tls.cert_expired",
            TlsCertNotYetValid { .. } => "tls.cert_not_yet_valid",
            TlsHostnameMismatch { .. } => "tls.hostname_mismatch",
            TlsCnOnly { .. } => "tls.cn_only",
            TlsSelfSigned { .. } => "tls.self_signed",
            TlsIncompleteChain { .. } => "tls.incomplete_chain",
            TlsAlpnRejected { .. } => "tls.alpn_rejected",
            TlsSniRejected { .. } => "tls.sni_rejected",
            TlsClientChainIncomplete { .. } => "tls.client_chain_incomplete",
            TlsClientKeyMismatch { .. } => "tls.client_key_mismatch",
            TlsExpiresSoon { .. } => "tls.expires_soon",
            TlsChainOutOfOrder { .. } => "tls.chain_out_of_order",
            TlsWeakSignature { .. } => "tls.weak_signature",
            TlsWeakKey { .. } => "tls.weak_key",
            TlsUntrustedRoot { .. } => "tls.untrusted_root",
            TlsBadEku { .. } => "tls.bad_eku",
            TlsProtocolVersion { .. } => "tls.protocol_version",
            TlsClientCertRequired { .. } => "tls.client_cert_required",
            TlsClientCertRejected { .. } => "tls.client_cert_rejected",
            TlsHandshakeFailure { .. } => "tls.handshake_failure",
            MqttTlsRequired { .. } => "mqtt.tls_required",
            MqttNotMqtt { .. } => "mqtt.not_mqtt",
            MqttClosedWithoutConnack { .. } => "mqtt.closed_without_connack",
            MqttConnackTimeout { .. } => "mqtt.connack_timeout",
            MqttPolicyRefused { .. } => "mqtt.policy_refused",
            MqttTlsNotUsed { .. } => "mqtt.tls_not_used",
            MqttAzureMismatch { .. } => "mqtt.azure_mismatch",
            MqttRefused { version, code, .. } => connack_cause(*version, *code),
            SubRefused { version, code, .. } => suback_cause(*version, *code),
            SubDisconnected { .. } => "sub.disconnected",
            SubTimeout { .. } => "sub.timeout",
            SubNoRoundTrip { .. } => "sub.no_round_trip",
            Proxy(p) => p.cause(),
            Ws(w) => w.cause(),
            Also { main, .. } => main.cause(),
        }
    }

    /// The stage this problem belongs to, from the variant alone: the engine files the
    /// problem on this stage whichever stage was running when it surfaced.
    pub fn stage(&self) -> Stage {
        use Problem::*;
        match self {
            DnsNxDomain { .. }
            | DnsNoRecords { .. }
            | DnsTimeout { .. }
            | DnsServFail { .. }
            | DnsInvalidHost { .. }
            | DnsFailed { .. } => Stage::Dns,
            TcpRefused { .. }
            | TcpTimeout { .. }
            | TcpUnreachable { .. }
            | TcpReset { .. }
            | TcpFailed { .. }
            | TcpLocalFdLimit { .. } => Stage::Tcp,
            TlsNotTls { .. }
            | TlsTimeout { .. }
            | TlsCertExpired { .. }
            | TlsCertNotYetValid { .. }
            | TlsHostnameMismatch { .. }
            | TlsCnOnly { .. }
            | TlsSelfSigned { .. }
            | TlsIncompleteChain { .. }
            | TlsAlpnRejected { .. }
            | TlsSniRejected { .. }
            | TlsClientChainIncomplete { .. }
            | TlsClientKeyMismatch { .. }
            | TlsExpiresSoon { .. }
            | TlsChainOutOfOrder { .. }
            | TlsWeakSignature { .. }
            | TlsWeakKey { .. }
            | TlsUntrustedRoot { .. }
            | TlsBadEku { .. }
            | TlsProtocolVersion { .. }
            | TlsClientCertRequired { .. }
            | TlsClientCertRejected { .. }
            | TlsHandshakeFailure { .. } => Stage::Tls,
            MqttTlsRequired { .. }
            | MqttNotMqtt { .. }
            | MqttClosedWithoutConnack { .. }
            | MqttConnackTimeout { .. }
            | MqttPolicyRefused { .. }
            | MqttTlsNotUsed { .. }
            | MqttAzureMismatch { .. }
            | MqttRefused { .. } => Stage::Mqtt,
            SubRefused { .. }
            | SubDisconnected { .. }
            | SubTimeout { .. }
            | SubNoRoundTrip { .. } => Stage::Sub,
            Proxy(_) => Stage::Proxy,
            Ws(_) => Stage::Ws,
            Also { main, .. } => main.stage(),
        }
    }
}

/// Turns evidence into words. Everything interpolated here may come from a peer or a
/// certificate: fronts sanitise the finished strings before they reach a terminal.
pub fn explain(problem: &Problem) -> Finding {
    use Problem::*;
    let cause = problem.cause();
    let generic = cause_info(cause);
    let (summary, remedy) = match problem {
        DnsNxDomain { host } => (
            format!("The name {host} does not exist (the resolver answered NXDOMAIN)."),
            "Check the spelling of the host name, or use the broker's IP address; if it is an internal name, check that this machine uses the right DNS server or search domain.".into(),
        ),
        DnsNoRecords { host } => (
            format!("The name {host} exists but has no IPv4 or IPv6 address (no A/AAAA records)."),
            "The DNS entry is incomplete: ask whoever runs the domain to add an A or AAAA record, or use the broker's IP address.".into(),
        ),
        DnsTimeout { host, secs } => (
            format!("No DNS server answered for {host} within {secs} s."),
            "Check this machine's DNS configuration (/etc/resolv.conf) and that the DNS server is reachable; try again with --timeout if the network is slow.".into(),
        ),
        DnsServFail { host } => (
            format!("The DNS server failed to resolve {host} (SERVFAIL)."),
            "The DNS server could not get an answer (often a broken DNSSEC chain or an unreachable authoritative server): try another resolver or ask the domain's administrator.".into(),
        ),
        DnsInvalidHost { host, reason } => (
            format!("{host:?} is not a valid host name: {reason}."),
            "Write the broker's host name or IP address without spaces or special characters, e.g. mqtts://broker.example.com:8883.".into(),
        ),
        DnsFailed { host, resolver_error } => (
            format!("Resolving {host} failed: {resolver_error}."),
            "Check this machine's DNS configuration, or use the broker's IP address.".into(),
        ),
        TcpRefused { addr } => (
            format!("{addr} refused the connection: nothing listens on that port, or a firewall rejects it."),
            "Check the port (MQTT is usually 1883, MQTT over TLS 8883, WebSockets 8083/8084/443) and that the broker is running and listening on this interface.".into(),
        ),
        TcpTimeout { addrs, secs } => (
            format!("{} did not answer the connection attempt within {secs} s: the packets are dropped on the way (firewall, security group, black hole) or the host is down.", join_addrs(addrs)),
            "Check firewalls and cloud security groups between here and the broker for this port, and that the address is right; a refusal would have come back at once.".into(),
        ),
        TcpUnreachable { addr, kind } => (
            format!("{addr} is unreachable from this machine ({}).", io_kind_words(*kind).unwrap_or("no route")),
            "There is no route to that network: check the address, this machine's network connection, VPN and routing.".into(),
        ),
        TcpReset { addr, how } => (
            format!(
                "{addr} accepted the TCP connection and {} it at once, before anything was sent.",
                if *how == Ended::Closed { "closed" } else { "reset" }
            ),
            "Something behind that port drops clients on arrival: the broker's connection limit (max_connections), a load balancer without a healthy backend, TCP wrappers or a firewall sending resets. Check the broker's log for refused connections.".into(),
        ),
        TcpFailed { addr: None, .. } => (
            "There was no address to connect to.".to_string(),
            "Check the host name and the DNS answer above.".into(),
        ),
        TcpFailed { addr: Some(addr), kind, os_error } => (
            format!("Connecting to {addr} failed: {}.", io_kind_words(*kind).unwrap_or(os_error)),
            "Check the address and this machine's network connection.".into(),
        ),
        TcpLocalFdLimit { addr, system_wide, limit } => (
            format!(
                "No connection to {addr} was tried: {} (the broker was never asked).",
                match (system_wide, limit) {
                    (true, _) => "this machine ran out of open files (ENFILE)".to_string(),
                    (false, Some(n)) => format!("mqtt-doctor reached its limit of {n} open files (EMFILE)"),
                    (false, None) => "mqtt-doctor reached its limit of open files (EMFILE)".to_string(),
                }
            ),
            "This is this machine's limit, not the broker's: raise it (`ulimit -n`), or check fewer profiles at once (--concurrency).".into(),
        ),
        TlsNotTls { speaks, port } => match speaks {
            PeerSpeaks::PlainMqtt => (
                format!("Port {port} speaks plain MQTT, not TLS: it answered our TLS greeting by closing the connection, and a plain MQTT CONNECT got a CONNACK."),
                "Use mqtt:// for this port, or connect to the broker's TLS port (usually 8883) with mqtts://.".into(),
            ),
            PeerSpeaks::Nothing => (
                format!("Port {port} closed the connection as soon as it received our TLS greeting, without a TLS answer."),
                "This port does not speak TLS (or refuses this client): check that it is the broker's TLS port (usually 8883) and that the broker's TLS listener is configured.".into(),
            ),
            other => (
                format!("Port {port} answered our TLS greeting with {} instead of TLS.", other.label()),
                format!("This is not an MQTT-over-TLS port; it looks like {}. Check the port number (MQTT over TLS is usually 8883).", other.label()),
            ),
        },
        TlsTimeout { secs } => (
            format!("The server did not complete the TLS handshake within {secs} s."),
            "The port accepted the connection but does not answer TLS: check that it is the TLS port, or that nothing in between (a proxy, a firewall doing inspection) holds the connection.".into(),
        ),
        TlsCertExpired { role, subject, not_after, now } => (
            format!(
                "The {} {subject} expired {} ago (valid until {}).",
                role.label(),
                human_duration(now - not_after),
                crate::certs::rfc3339(*not_after)
            ),
            match role {
                CertRole::Leaf => "The broker's certificate must be renewed and the broker restarted or reloaded; check also this machine's clock.".into(),
                _ => "The broker sends an expired CA certificate in its chain: its operator must replace the chain file with the current intermediate (a classic mistake after a CA renewal); check also this machine's clock.".into(),
            },
        ),
        TlsCertNotYetValid { role, subject, not_before, now } => (
            format!(
                "The {} {subject} is not valid yet: it becomes valid on {}, in {}; this machine's clock says {} (the broker's clock cannot be seen from here, so this compares the certificate with the local clock).",
                role.label(),
                crate::certs::rfc3339(*not_before),
                human_duration(not_before - now),
                crate::certs::rfc3339(*now)
            ),
            "If this machine's clock is behind (a gateway without NTP or with a dead RTC battery often is, by months), fix it: `timedatectl set-ntp true` or set the date; otherwise the certificate was issued with a future start date and must be reissued.".into(),
        ),
        TlsHostnameMismatch { expected, names } => (
            format!(
                "The broker's certificate is not valid for {expected}: it names {}.",
                if names.is_empty() { "no host names at all".to_string() } else { names.join(", ") }
            ),
            match names.iter().find(|n| !n.starts_with('*')) {
                Some(n) => format!("Connect with a name the certificate holds (e.g. {n}), or keep the address and add --sni {n} to verify that name; otherwise the certificate must be reissued with {expected} in its subjectAltName."),
                None => format!("Connect with a name the certificate holds, or use --sni NAME; otherwise the certificate must be reissued with {expected} in its subjectAltName."),
            },
        ),
        TlsCnOnly { cn, expected, cn_matches } => (
            if *cn_matches {
                format!("The broker's certificate has no subjectAltName, only the common name {cn}: rustls, Go, Java and browsers ignore the CN, so it is not valid for {expected} here, while OpenSSL-based tools such as mosquitto_sub still accept it.")
            } else {
                format!("The broker's certificate has no subjectAltName, and its common name {cn} does not match {expected} either.")
            },
            "Reissue the certificate with the host name in subjectAltName (DNS:name or IP:address); this is why it \"works with mosquitto_sub but fails in my app\".".into(),
        ),
        TlsUntrustedRoot { issuer, trust } => (
            format!("The broker's certificate chains to {issuer}, which is not in the trust store used{}.", trust_in_parens(trust)),
            format!("Pass a CA file that contains the certificate of {issuer} with --ca FILE (ask the broker's operator for it, or save the chain with `mqtt-doctor cert fetch URL --pem`)."),
        ),
        TlsSelfSigned { subject, trust } => (
            format!("The broker presents a self-signed certificate ({subject}) that is not in the trust store used{}.", trust_in_parens(trust)),
            "Trust exactly this certificate by passing it with --ca FILE (save it with `mqtt-doctor cert fetch URL --pem`), or give the broker a certificate issued by a CA.".into(),
        ),
        TlsIncompleteChain { leaf, missing, authority_key_id, fetch } => (
            {
                let mut summary = format!(
                    "The broker sends an incomplete chain: only its certificate {leaf}, issued by {missing}{}, which the broker does not send and the trust store does not hold (Node.js says \"unable to verify the first certificate\").",
                    key_id_words(authority_key_id)
                );
                if let Some(f) = fetch {
                    summary.push_str(&format!(" Checked: {}.", f.words()));
                }
                summary
            },
            format!(
                "On the broker (the fix): send the certificate followed by its intermediate(s), leaf first — Mosquitto: the certfile must hold the leaf then the intermediates (cat server.crt intermediate.crt > certfile); EMQX: the listener's certfile holds the full chain; HiveMQ: import the full chain into the keystore. On this client (a workaround): pass {missing} with --ca FILE{}. If {missing} is the root of your own CA, which signs broker certificates directly, passing it with --ca is the fix.",
                if matches!(fetch.as_deref(), Some(IssuerFetch::Fetched { verifies: true, .. })) {
                    " (the downloaded certificate works)"
                } else {
                    ""
                }
            ),
        ),
        TlsAlpnRejected { offered, port } => (
            if offered.is_empty() {
                "The broker ended the handshake with the alert no_application_protocol (120) although we offered no ALPN protocol: this port routes connections by ALPN and wants one.".to_string()
            } else {
                format!(
                    "The broker refused the ALPN protocol{} we offered ({}) with the alert no_application_protocol (120): this port routes connections by ALPN.",
                    if offered.len() == 1 { "" } else { "s" },
                    offered.join(", ")
                )
            },
            format!(
                "Offer the protocol the endpoint expects with --alpn (or the profile field alpn): AWS IoT Core on port 443 needs --alpn x-amzn-mqtt-ca for MQTT with client certificates and --alpn mqtt for custom authorizers{}.",
                if *port == 443 { "" } else { "; other brokers: ask the operator which protocol the port wants" }
            ),
        ),
        TlsSniRejected { sent, host, alert } => (
            match sent {
                None => format!(
                    "The broker ended the handshake with {} after a greeting that carried no server name (SNI): {host} is an IP address, and this broker routes connections by server name.",
                    alert_name(alert)
                ),
                Some(name) => format!(
                    "The broker ended the handshake with {} after a greeting for the server name {name}: this broker routes connections by server name (SNI) and serves none under that name.",
                    alert_name(alert)
                ),
            },
            match sent {
                None => "Connect by the broker's host name (e.g. mqtts://YOUR-CLUSTER.s1.eu.hivemq.cloud:8883) instead of its IP address, or keep the address and send the name with --sni NAME; multi-tenant brokers (HiveMQ Cloud, EMQX Cloud, cloud load balancers) need it.".into(),
                Some(name) if !name.eq_ignore_ascii_case(host) => format!("Send the broker's own host name: drop --sni {name} (the URL's host is {host}) or give the name the broker is known by."),
                Some(_) => "Check the host name: the broker knows no tenant under it (a typo in the cluster name, or a deleted deployment).".into(),
            },
        ),
        TlsClientChainIncomplete { gap } => {
            let ClientChainGap { cert, missing, authority_key_id, source, accepted, refusal } = gap.as_ref();
            (
            {
                let mut summary = match refusal {
                    Some(r) => format!(
                        "The broker refused our client certificate ({}): the client chain from {source} is only the leaf {cert}, without its issuer {missing}{}, so the broker cannot link it to a CA it trusts.",
                        r.words(),
                        key_id_words(authority_key_id)
                    ),
                    None => format!(
                        "The client chain from {source} is only the certificate {cert}, without its issuer {missing}{}: unless the broker trusts {missing} itself, it will refuse the certificate.",
                        key_id_words(authority_key_id)
                    ),
                };
                if let Some(names) = accepted.as_ref().filter(|n| !n.is_empty()) {
                    summary.push_str(&format!(" The broker accepts certificates issued by: {}.", names.join("; ")));
                }
                summary
            },
            format!("Make the --cert file hold the leaf followed by its intermediate(s): cat device.crt intermediate.crt > device-chain.pem (the intermediate is {missing}). Only if {missing} is itself a root CA, one the broker does not know, does the broker's cafile need it instead."),
        )
        }
        TlsClientKeyMismatch { cert, source } => (
            format!("The private key does not belong to the client certificate {cert} ({source}); the broker would refuse the handshake."),
            "Pass the key that was generated with this certificate (compare `openssl x509 -noout -pubkey -in CERT` with `openssl pkey -pubout -in KEY`).".into(),
        ),
        TlsExpiresSoon { role, subject, not_after, now } => (
            format!(
                "The {} {subject} expires in {} (on {}).",
                role.label(),
                human_duration(not_after - now),
                crate::certs::rfc3339(*not_after)
            ),
            "Renew it before it expires, or clients will stop connecting.".into(),
        ),
        TlsChainOutOfOrder { presented, expected } => (
            format!(
                "The broker sends its chain out of order (sent {}, expected {}: leaf first, each certificate followed by its issuer).",
                positions(presented),
                positions(expected)
            ),
            "Reorder the broker's certificate file (leaf, then intermediates); strict clients refuse out-of-order chains.".into(),
        ),
        TlsWeakSignature { subject, algorithm } => (
            format!("The certificate {subject} is signed with {algorithm}, which is broken."),
            "Reissue it with a SHA-256 (or stronger) signature; current clients refuse SHA-1.".into(),
        ),
        TlsWeakKey { subject, key_type, bits } => (
            format!("The certificate {subject} has a {bits}-bit {key_type} key, below the 2048 bits required today."),
            "Reissue it with an RSA key of at least 2048 bits or an EC P-256 key.".into(),
        ),
        TlsBadEku { subject, present } => (
            format!(
                "The certificate {subject} is not allowed for TLS server authentication: its extended key usage lists {}.",
                if present.is_empty() { "nothing usable".to_string() } else { present.join(", ") }
            ),
            "The certificate must be reissued with extendedKeyUsage serverAuth (a client certificate cannot serve as a broker certificate).".into(),
        ),
        TlsProtocolVersion { seen } => (
            format!(
                "The server and this client share no TLS version: {}.",
                match seen {
                    VersionEvidence::Alert(a) => format!("the server answered with {}", alert_name(a)),
                    VersionEvidence::Incompatible(p) => format!("{p:?}"),
                }
            ),
            "This tool offers TLS 1.2 and 1.3. A server limited to TLS 1.0/1.1 is obsolete and must be upgraded; check the broker's tls_version setting.".into(),
        ),
        TlsClientCertRequired { ca_names } => (
            if ca_names.is_empty() {
                "The broker requires a client certificate and none was sent.".to_string()
            } else {
                format!("The broker requires a client certificate and none was sent; it accepts certificates issued by: {}.", ca_names.join("; "))
            },
            "Pass your device certificate and key with --cert FILE --key FILE (issued by one of the CAs the broker names).".into(),
        ),
        TlsClientCertRejected { refusal, ours } => (
            if ours.is_empty() {
                format!("The broker rejected our client certificate ({}).", refusal.words())
            } else {
                format!("The broker rejected our client certificate {ours} ({}).", refusal.words())
            },
            {
                use rustls::AlertDescription as A;
                match refusal.alert() {
                    Some(A::UnknownCA) => "The broker does not trust the CA that issued this certificate: add that CA to the broker's cafile (Mosquitto: cafile/capath), or use a certificate issued by the CA the broker trusts.".to_string(),
                    Some(A::CertificateExpired) => "The client certificate has expired (or the broker's clock is wrong): renew the device certificate.".to_string(),
                    Some(A::BadCertificate | A::UnsupportedCertificate) => "The broker refuses this certificate itself: check that it carries extendedKeyUsage clientAuth, a key type the broker supports, and a valid signature.".to_string(),
                    _ => "The client certificate is not trusted by the broker, expired, or not meant for client authentication: check that it was issued by the CA configured as the broker's cafile and that it is still valid.".to_string(),
                }
            },
        ),
        TlsHandshakeFailure { error } => (
            format!("The TLS handshake failed: {}.", error.words()),
            "Compare the broker's TLS settings (versions, cipher suites, certificates) with this client's; the detail above names the exact error or alert.".into(),
        ),
        MqttTlsRequired { port } => (
            format!("Port {port} expects TLS: our plain MQTT CONNECT got no answer, but a TLS greeting got a TLS reply."),
            "Use mqtts:// for this port (with --ca if the broker uses a private CA).".into(),
        ),
        MqttNotMqtt { speaks, seen } => {
            let evidence = match seen {
                NotMqttEvidence::Bytes(b) if speaks.speaks_text() => format!("\"{}\"", crate::text::sanitize_bytes(b)),
                NotMqttEvidence::Bytes(b) => format!("bytes {}", crate::text::hex_preview(b, 16)),
                NotMqttEvidence::UnreadableConnack { wire_error } => format!("a CONNACK that could not be read: {wire_error}"),
                NotMqttEvidence::Probe { sent, answer } => format!(
                    "our CONNECT got no answer; {} on a new connection got {}",
                    sent.words(),
                    if answer.is_ascii() { format!("\"{}\"", crate::text::sanitize_bytes(answer)) } else { format!("bytes {}", crate::text::hex_preview(answer, 16)) }
                ),
            };
            let summary = match speaks.usual_port() {
                Some(port) => format!(
                    "This is not an MQTT broker: the peer speaks {} ({evidence}), the service usually found on port {port}.",
                    speaks.label()
                ),
                None => format!(
                    "The peer did not answer like an MQTT broker: it sent {} ({evidence}).",
                    speaks.label()
                ),
            };
            let remedy = match speaks {
                PeerSpeaks::Http => "This is a web server: for MQTT over WebSockets use ws:// or wss:// with the right path (often /mqtt); otherwise check the port: MQTT brokers usually listen on 1883 (plain) and 8883 (TLS).".to_string(),
                PeerSpeaks::Tls => "This port speaks TLS: use mqtts://.".to_string(),
                s if s.usual_port().is_some() => format!(
                    "The URL points at a {} server, not at the MQTT broker: check the port (MQTT is usually 1883, MQTT over TLS 8883) and the host.",
                    s.label()
                ),
                _ => "Check the host and port: something other than an MQTT broker listens there (MQTT is usually 1883, MQTT over TLS 8883).".to_string(),
            };
            (summary, remedy)
        }
        MqttClosedWithoutConnack { how } => (
            match how {
                Ended::NotSent { encode_error } => format!("Our CONNECT could not be encoded ({encode_error}), so no CONNACK could come."),
                other => format!("The broker {} after our CONNECT without sending a CONNACK.", other.words()),
            },
            "The broker dropped the client before answering: check the broker's log; common reasons are a client id already in use with a stricter broker, a protocol version it does not accept, an authentication plugin failing, or a connection limit.".into(),
        ),
        MqttPolicyRefused { how, client_id, cert, aws } => (
            format!(
                "The TLS handshake with our client certificate {cert} succeeded, then the broker {} right after our CONNECT (client id {client_id:?}) without a CONNACK: its authorization refused the connection{}.",
                how.words(),
                if *aws { " (AWS IoT Core does this when the certificate's IoT policy does not allow iot:Connect for this client id)" } else { "" }
            ),
            if *aws {
                format!("In AWS IoT Core (Security → Certificates): check that the certificate is ACTIVE, that a policy is attached to it, and that the policy allows iot:Connect on arn:aws:iot:REGION:ACCOUNT:client/{client_id}; when the policy uses ${{iot:Connection.Thing.ThingName}}, the client id must equal the Thing name and the certificate must be attached to that Thing.")
            } else {
                "Check the broker's authorization for this certificate and client id: the ACL or policy bound to the certificate (identity as user name, allowed client ids), and that the certificate is registered and active on the broker; the broker's log names the refusal.".to_string()
            },
        ),
        MqttTlsNotUsed { options, scheme } => (
            format!(
                "{} given, but {scheme}:// does not use TLS, so {} ignored.",
                options.join(", "),
                if options.len() == 1 { "it is" } else { "they are" }
            ),
            "Use mqtts:// (or wss://) for a TLS connection, or drop the TLS options.".into(),
        ),
        MqttAzureMismatch { host, check } => azure_words(host, check),
        MqttConnackTimeout { secs } => (
            format!("The broker accepted the connection but sent no CONNACK within {secs} s."),
            "The broker is overloaded or stuck, or the port is not an MQTT broker; check the broker's health and log, or raise --timeout on slow links.".into(),
        ),
        MqttRefused { version, code, reason_string, server_reference } => {
            let name = connack_name(*version, *code);
            let mut summary = format!(
                "The broker refused the connection: CONNACK {} ({name}) under MQTT {}.",
                code_label(*version, *code),
                version.label()
            );
            if let Some(r) = reason_string {
                summary.push_str(&format!(" Reason given: \"{r}\"."));
            }
            if let Some(s) = server_reference {
                summary.push_str(&format!(" Server reference: {s}."));
            }
            (summary, generic.map(|g| g.remedy.to_string()).unwrap_or_default())
        }
        SubRefused { version, filter, code } => (
            format!(
                "The broker refused the subscription to {filter:?}: SUBACK {} ({}).",
                code_label(*version, *code),
                suback_name(*version, *code)
            ),
            generic.map(|g| g.remedy.to_string()).unwrap_or_default(),
        ),
        SubDisconnected { after, how } => (
            match (after, how) {
                (_, Ended::NotSent { encode_error }) => format!(
                    "Our {} could not be encoded ({encode_error}).",
                    if *after == Sent::Subscribe { "SUBSCRIBE" } else { "test message" }
                ),
                (Sent::Subscribe, Ended::Closed) => "The broker closed the connection after our SUBSCRIBE, without a SUBACK.".into(),
                (Sent::Subscribe, other) => format!("The broker closed the connection after our SUBSCRIBE (it {}).", other.words()),
                (Sent::Publish, other) => format!("The broker closed the connection after our test message (it {}).", other.words()),
            },
            "Brokers with per-topic policies (AWS IoT, Azure, some plugins) disconnect a client that subscribes to a filter it may not use: check the policy/ACL for this client id and topic.".into(),
        ),
        SubTimeout { waiting_for, secs } => (
            format!(
                "The broker sent no {} within {secs} s.",
                match waiting_for {
                    Awaited::Suback => "SUBACK",
                    Awaited::Puback => "PUBACK for our test message",
                }
            ),
            "The broker is overloaded or stuck: check its health and log, or raise --timeout on slow links.".into(),
        ),
        SubNoRoundTrip { topic, secs, puback } => (
            match puback {
                Some(code) => format!("Subscribed fine, but our own message on {topic:?} never came back within {secs} s; the broker answered the publish with PUBACK 0x{code:02X} ({}).", puback_name(*code)),
                None => format!("Subscribed fine, but our own message on {topic:?} never came back within {secs} s."),
            },
            "The broker accepts the subscription but does not deliver: usually the ACL denies publishing or reading this topic (Mosquitto's acl_file never refuses a SUBSCRIBE, it only filters delivery), or a rule rewrites the topic. Check the ACL for this user; use --no-publish for read-only accounts.".into(),
        ),
        Proxy(p) => p.words(),
        Ws(w) => w.words(),
        Also { main, also } => {
            let first = explain(main);
            let rest: Vec<Finding> = also.iter().map(explain).collect();
            let mut summary = first.summary;
            let mut remedy = first.remedy;
            for f in rest {
                summary.push_str(&format!(" Also: {}", f.summary));
                remedy.push_str(&format!(" Also: {}", f.remedy));
            }
            (summary, remedy)
        }
    };
    Finding {
        cause,
        summary,
        remedy,
    }
}

/// The cause id of a stage that ran out of time (the exporter names the stage its scrape
/// deadline cut off).
pub fn timeout_cause(stage: Stage) -> &'static str {
    match stage {
        Stage::Dns => "dns.timeout",
        Stage::Tcp => "tcp.timeout",
        Stage::Proxy => "proxy.timeout",
        Stage::Tls => "tls.timeout",
        Stage::Ws => "ws.timeout",
        Stage::Mqtt => "mqtt.connack_timeout",
        Stage::Sub => "sub.timeout",
    }
}

/// `0x87` for MQTT 5 reason codes, `5` for 3.1.1 return codes.
/// " (system trust store …)", or nothing when the run recorded no trust store (--insecure
/// probes skip recording it) rather than an empty "()".
fn trust_in_parens(trust: &str) -> String {
    if trust.trim().is_empty() {
        String::new()
    } else {
        format!(" ({trust})")
    }
}

pub fn code_label(version: MqttVersion, code: u8) -> String {
    match version {
        MqttVersion::V5 => format!("0x{code:02X}"),
        MqttVersion::V311 => format!("{code}"),
    }
}

/// " (key id 01:02…)" or nothing.
fn key_id_words(akid: &Option<String>) -> String {
    akid.as_ref()
        .map(|k| format!(" (key id {k})"))
        .unwrap_or_default()
}

fn azure_words(host: &str, check: &AzureCheck) -> (String, String) {
    match check {
        AzureCheck::UserName { got, expected_prefix } => (
            match got {
                Some(u) => format!("The user name {u:?} does not have the shape Azure IoT Hub requires: {expected_prefix}{{device id}}/?api-version=2021-04-12."),
                None => format!("No user name is given; Azure IoT Hub requires {expected_prefix}{{device id}}/?api-version=2021-04-12."),
            },
            format!("Pass --username \"{expected_prefix}DEVICE/?api-version=2021-04-12\" with the device id of this device."),
        ),
        AzureCheck::ClientId { client_id, device } => (
            format!("The client id {client_id:?} is not the device id {device:?} named in the user name; Azure IoT Hub closes such connections."),
            format!("Pass --client-id {device} (the client id must equal the device id)."),
        ),
        AzureCheck::SasExpired { expiry, now } => (
            format!(
                "Your SAS token expired {} ago (its se= expiry is {}); IoT Hub ({host}) will refuse it.",
                human_duration(now - expiry),
                crate::certs::rfc3339(*expiry)
            ),
            "Generate a new SAS token (az iot hub generate-sas-token --hub-name HUB --device-id DEVICE) and pass it with --password-env.".into(),
        ),
        AzureCheck::NoCredential => (
            format!("Neither a SAS token (the password: SharedAccessSignature sr=…&sig=…&se=…) nor a client certificate is given; IoT Hub ({host}) needs one."),
            "Pass the SAS token with --password-env, or the device certificate with --cert/--key.".into(),
        ),
        AzureCheck::Mqtt5 => (
            format!("MQTT 5 was asked for, but IoT Hub ({host}) speaks MQTT 3.1.1."),
            "Use --mqtt-version 3.".into(),
        ),
    }
}

/// "127.0.0.1:1883, [::1]:1883"
fn join_addrs(addrs: &[SocketAddr]) -> String {
    if addrs.is_empty() {
        return "No address".into();
    }
    addrs
        .iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// "#1, #0": positions in the presented chain.
fn positions(order: &[usize]) -> String {
    order
        .iter()
        .map(|i| format!("#{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests;

/// The verdict sentence of a run where every stage passed.
pub fn ok_summary(stages: &[crate::diagnose::StageReport]) -> String {
    use crate::diagnose::Status;
    let fact = |stage: Stage, key: &str| {
        stages
            .iter()
            .find(|s| s.stage == stage && s.status == Status::Ok)
            .and_then(|s| s.facts.get(key))
            .map(|v| v.to_string())
    };
    let mut parts = vec!["Connected".to_string()];
    if let Some(v) = fact(Stage::Tls, "version") {
        parts[0] = format!("Connected over {}", v.trim_matches('"'));
    }
    if let Some(p) = fact(Stage::Mqtt, "protocol") {
        parts.push(format!("the broker accepted {}", p.trim_matches('"')));
    }
    if let Some(ms) = fact(Stage::Sub, "round_trip_ms") {
        parts.push(format!("our test message came back in {ms} ms"));
    } else if fact(Stage::Sub, "granted").is_some() {
        parts.push("the subscription was granted".to_string());
    }
    format!("{}.", parts.join("; "))
}
