//! The cause catalog: every cause id this tool can report. Ids are stable API.

use crate::diagnose::Stage;
use serde::Serialize;

#[derive(Debug, Clone, Copy, Serialize)]
pub struct CauseInfo {
    pub id: &'static str,
    pub stage: Stage,
    /// What the cause means, in a few words.
    pub title: &'static str,
    /// The general remedy (findings carry a specific one).
    pub remedy: &'static str,
}

const fn c(id: &'static str, stage: Stage, title: &'static str, remedy: &'static str) -> CauseInfo {
    CauseInfo {
        id,
        stage,
        title,
        remedy,
    }
}

use Stage::{Dns, Mqtt, Proxy, Sub, Tcp, Tls, Ws};

pub static CATALOG: &[CauseInfo] = &[
    c(
        "dns.nxdomain",
        Dns,
        "the host name does not exist",
        "Check the spelling, the DNS server and search domain, or use the IP address.",
    ),
    c(
        "dns.no_records",
        Dns,
        "the name exists but has no A/AAAA address",
        "Add an A or AAAA record, or use the IP address.",
    ),
    c(
        "dns.timeout",
        Dns,
        "no DNS server answered in time",
        "Check /etc/resolv.conf and that the DNS server is reachable.",
    ),
    c(
        "dns.servfail",
        Dns,
        "the DNS server failed (SERVFAIL)",
        "Try another resolver or ask the domain's administrator (often DNSSEC).",
    ),
    c(
        "dns.invalid_host",
        Dns,
        "the host is not a valid name",
        "Write a valid host name or IP address.",
    ),
    c(
        "dns.failed",
        Dns,
        "name resolution failed for another reason",
        "Check this machine's DNS configuration.",
    ),
    c(
        "tcp.refused",
        Tcp,
        "the port refused the connection",
        "Check the port and that the broker listens on it.",
    ),
    c(
        "tcp.timeout",
        Tcp,
        "no answer to the connection attempt (firewall or black hole)",
        "Check firewalls and security groups for this port.",
    ),
    c(
        "tcp.unreachable",
        Tcp,
        "no route to the host or network",
        "Check the address, the network connection, VPN and routing.",
    ),
    c(
        "tcp.reset",
        Tcp,
        "the connection was reset right after it was accepted",
        "Check the broker's connection limit, load balancer backends, TCP wrappers.",
    ),
    c(
        "tcp.failed",
        Tcp,
        "the connection failed for another reason",
        "Check the address and the network connection.",
    ),
    c(
        "tcp.local_fd_limit",
        Tcp,
        "this machine ran out of file descriptors before connecting (EMFILE): not the broker",
        "Raise ulimit -n, or check fewer profiles at once (--concurrency).",
    ),
    c(
        "tls.not_tls",
        Tls,
        "the port does not speak TLS",
        "Use mqtt:// for a plain port, or the TLS port (usually 8883).",
    ),
    c(
        "tls.timeout",
        Tls,
        "the TLS handshake did not complete in time",
        "Check that this is the TLS port and nothing in between holds the connection.",
    ),
    c(
        "tls.cert_expired",
        Tls,
        "a certificate in the broker's chain has expired",
        "Renew the certificate (or fix the chain file); check the local clock.",
    ),
    c(
        "tls.cert_not_yet_valid",
        Tls,
        "a certificate in the broker's chain is not valid yet",
        "Check the local clock (NTP) or the certificate's start date.",
    ),
    c(
        "tls.hostname_mismatch",
        Tls,
        "the certificate does not name the host connected to",
        "Use a name the certificate holds, --sni, or reissue the certificate.",
    ),
    c(
        "tls.cn_only",
        Tls,
        "the certificate has only a CN, no subjectAltName",
        "Reissue it with the host in subjectAltName; OpenSSL-based clients still accept CN-only.",
    ),
    c(
        "tls.self_signed",
        Tls,
        "the broker's certificate is self-signed and not trusted",
        "Trust it with --ca FILE, or use a CA-issued certificate.",
    ),
    c(
        "tls.incomplete_chain",
        Tls,
        "the broker sends only its certificate, without the issuer (intermediate)",
        "Make the broker send leaf then intermediates (Mosquitto certfile); --ca ISSUER as a workaround.",
    ),
    c(
        "tls.alpn_rejected",
        Tls,
        "the broker refused the ALPN protocol offered",
        "Offer the protocol it expects (AWS IoT on 443: x-amzn-mqtt-ca).",
    ),
    c(
        "tls.sni_rejected",
        Tls,
        "the broker routes by server name (SNI) and refused the one sent, or none",
        "Connect by the broker's host name, or send it with --sni NAME.",
    ),
    c(
        "tls.client_chain_incomplete",
        Tls,
        "the client certificate file lacks the intermediate between the leaf and the broker's CA",
        "Put leaf then intermediates in the --cert file.",
    ),
    c(
        "tls.client_key_mismatch",
        Tls,
        "the client key does not belong to the client certificate",
        "Pass the key generated with this certificate.",
    ),
    c(
        "tls.expires_soon",
        Tls,
        "warning: a certificate expires within 30 days",
        "Renew it.",
    ),
    c(
        "tls.chain_out_of_order",
        Tls,
        "warning: the chain is not sent leaf first",
        "Reorder the broker's certificate file.",
    ),
    c(
        "tls.weak_signature",
        Tls,
        "warning: a certificate has a SHA-1 or MD5 signature",
        "Reissue it with SHA-256.",
    ),
    c(
        "tls.weak_key",
        Tls,
        "warning: a certificate has an RSA key below 2048 bits",
        "Reissue it with a stronger key.",
    ),
    c(
        "tls.untrusted_root",
        Tls,
        "the chain leads to a CA that is not trusted",
        "Pass the broker's CA with --ca FILE.",
    ),
    c(
        "tls.bad_eku",
        Tls,
        "the certificate is not meant for TLS server use",
        "Reissue it with extendedKeyUsage serverAuth.",
    ),
    c(
        "tls.protocol_version",
        Tls,
        "no common TLS version",
        "Upgrade the broker to TLS 1.2 or 1.3.",
    ),
    c(
        "tls.client_cert_required",
        Tls,
        "the broker requires a client certificate",
        "Pass --cert FILE --key FILE.",
    ),
    c(
        "tls.client_cert_rejected",
        Tls,
        "the broker rejected the client certificate",
        "Use a client certificate issued by the broker's CA, valid and with clientAuth.",
    ),
    c(
        "tls.handshake_failure",
        Tls,
        "the TLS handshake failed (see the exact error)",
        "Compare the broker's TLS settings with this client's.",
    ),
    c(
        "mqtt.tls_required",
        Mqtt,
        "the port expects TLS, not plain MQTT",
        "Use mqtts://.",
    ),
    c(
        "mqtt.not_mqtt",
        Mqtt,
        "the peer is not an MQTT broker",
        "Check the host and port.",
    ),
    c(
        "mqtt.closed_without_connack",
        Mqtt,
        "the broker closed the connection without a CONNACK",
        "Check the broker's log for why it dropped the client.",
    ),
    c(
        "mqtt.connack_timeout",
        Mqtt,
        "no CONNACK arrived in time",
        "Check the broker's health, or raise --timeout.",
    ),
    c(
        "mqtt.policy_refused",
        Mqtt,
        "the broker closed right after CONNECT on a mutual-TLS connection: its authorization (e.g. an AWS IoT policy) refused",
        "Check the policy attached to the certificate, the client id it allows and that the certificate is active.",
    ),
    c(
        "mqtt.tls_not_used",
        Mqtt,
        "warning: TLS options were given for a URL without TLS",
        "Use mqtts:// or wss://, or drop the TLS options.",
    ),
    c(
        "mqtt.azure_mismatch",
        Mqtt,
        "warning: the connection does not match what Azure IoT Hub requires (user name, client id, SAS expiry, MQTT 3.1.1)",
        "Fix the named field.",
    ),
    c(
        "mqtt.unspecified_error",
        Mqtt,
        "CONNACK 0x80 unspecified error",
        "The broker gives no reason: check its log.",
    ),
    c(
        "mqtt.malformed_packet",
        Mqtt,
        "CONNACK 0x81 malformed packet",
        "The broker could not parse our CONNECT: check for a proxy rewriting traffic, and report it with the bundle.",
    ),
    c(
        "mqtt.protocol_error",
        Mqtt,
        "CONNACK 0x82 protocol error",
        "The broker saw a protocol violation: check its log and report it with the bundle.",
    ),
    c(
        "mqtt.implementation_specific_error",
        Mqtt,
        "CONNACK 0x83 implementation specific error",
        "The broker refused for its own reason: check its log (often an auth plugin).",
    ),
    c(
        "mqtt.unsupported_protocol_version",
        Mqtt,
        "the broker does not accept this MQTT version (3.1.1 rc 1 / 5 0x84)",
        "Use --mqtt-version 3 for a 3.1.1-only broker, or enable MQTT 5 on it.",
    ),
    c(
        "mqtt.client_id_not_valid",
        Mqtt,
        "the client identifier was rejected (3.1.1 rc 2 / 5 0x85)",
        "Use a client id the broker accepts (--client-id): shorter, only letters and digits, or one the policy allows.",
    ),
    c(
        "mqtt.bad_username_or_password",
        Mqtt,
        "bad user name or password (3.1.1 rc 4 / 5 0x86)",
        "Check the user name and password (--username, --password-env).",
    ),
    c(
        "mqtt.not_authorized",
        Mqtt,
        "not authorized (3.1.1 rc 5 / 5 0x87)",
        "The broker refused this user name, password or anonymous access: check the credentials and the broker's password_file/allow_anonymous. Mosquitto answers every credential problem this way.",
    ),
    c(
        "mqtt.server_unavailable",
        Mqtt,
        "the server is unavailable (3.1.1 rc 3 / 5 0x88)",
        "The broker cannot serve clients right now: check its health and try later.",
    ),
    c(
        "mqtt.server_busy",
        Mqtt,
        "CONNACK 0x89 server busy",
        "Try again later; check the broker's load.",
    ),
    c(
        "mqtt.banned",
        Mqtt,
        "CONNACK 0x8A banned",
        "This client is banned by the broker's administrator: ask them why.",
    ),
    c(
        "mqtt.bad_authentication_method",
        Mqtt,
        "CONNACK 0x8C bad authentication method",
        "The broker does not support the enhanced authentication method offered.",
    ),
    c(
        "mqtt.topic_name_invalid",
        Mqtt,
        "CONNACK 0x90 topic name invalid (will topic)",
        "Fix the will topic.",
    ),
    c(
        "mqtt.packet_too_large",
        Mqtt,
        "CONNACK 0x95 packet too large",
        "Our CONNECT exceeds the broker's maximum packet size: shorten credentials or properties.",
    ),
    c(
        "mqtt.quota_exceeded",
        Mqtt,
        "CONNACK 0x97 quota exceeded",
        "A connection or rate quota of this account is used up: close other connections or raise the quota.",
    ),
    c(
        "mqtt.payload_format_invalid",
        Mqtt,
        "CONNACK 0x99 payload format invalid",
        "The will payload does not match its format indicator.",
    ),
    c(
        "mqtt.retain_not_supported",
        Mqtt,
        "CONNACK 0x9A retain not supported",
        "Do not set a retained will message on this broker.",
    ),
    c(
        "mqtt.qos_not_supported",
        Mqtt,
        "CONNACK 0x9B QoS not supported",
        "Use a lower will QoS.",
    ),
    c(
        "mqtt.use_another_server",
        Mqtt,
        "CONNACK 0x9C use another server",
        "Connect to the server named in the server reference.",
    ),
    c(
        "mqtt.server_moved",
        Mqtt,
        "CONNACK 0x9D server moved",
        "The broker moved permanently: update the address to the server reference.",
    ),
    c(
        "mqtt.connection_rate_exceeded",
        Mqtt,
        "CONNACK 0x9F connection rate exceeded",
        "Connect less often; wait and retry.",
    ),
    c(
        "mqtt.refused_unknown_code",
        Mqtt,
        "CONNACK with a code outside the specification",
        "The broker is non-conforming: check its documentation for this code.",
    ),
    c(
        "sub.refused",
        Sub,
        "SUBACK failure 0x80 (3.1.1)",
        "The broker refused this filter: check the ACL or policy for this user and topic.",
    ),
    c(
        "sub.unspecified_error",
        Sub,
        "SUBACK 0x80 unspecified error",
        "The broker refused this filter without a reason: check the ACL and its log.",
    ),
    c(
        "sub.implementation_specific_error",
        Sub,
        "SUBACK 0x83 implementation specific error",
        "The broker refused for its own reason: check its log.",
    ),
    c(
        "sub.not_authorized",
        Sub,
        "SUBACK 0x87 not authorized",
        "This user may not subscribe to this filter: check the ACL or policy.",
    ),
    c(
        "sub.topic_filter_invalid",
        Sub,
        "SUBACK 0x8F topic filter invalid",
        "Fix the filter: wildcards # and + must fill a whole level, # only at the end.",
    ),
    c(
        "sub.packet_id_in_use",
        Sub,
        "SUBACK 0x91 packet identifier in use",
        "A broker-side session conflict: reconnect with a clean start.",
    ),
    c(
        "sub.quota_exceeded",
        Sub,
        "SUBACK 0x97 quota exceeded",
        "This account has too many subscriptions: remove some or raise the quota.",
    ),
    c(
        "sub.shared_subscriptions_not_supported",
        Sub,
        "SUBACK 0x9E shared subscriptions not supported",
        "Do not use $share/ filters on this broker.",
    ),
    c(
        "sub.subscription_ids_not_supported",
        Sub,
        "SUBACK 0xA1 subscription identifiers not supported",
        "Subscribe without a subscription identifier.",
    ),
    c(
        "sub.wildcards_not_supported",
        Sub,
        "SUBACK 0xA2 wildcard subscriptions not supported",
        "Subscribe to exact topics without # or +.",
    ),
    c(
        "sub.refused_unknown_code",
        Sub,
        "SUBACK with a code outside the specification",
        "The broker is non-conforming: check its documentation for this code.",
    ),
    c(
        "sub.disconnected",
        Sub,
        "the broker closed the connection after SUBSCRIBE",
        "Check the policy for this client id and topic (cloud brokers disconnect on a forbidden filter).",
    ),
    c(
        "sub.timeout",
        Sub,
        "no SUBACK (or PUBACK) arrived in time",
        "Check the broker's health, or raise --timeout.",
    ),
    c(
        "sub.no_round_trip",
        Sub,
        "subscribed, but our own message never came back",
        "Check the ACL: publish or read denied on the topic; use --no-publish for read-only accounts.",
    ),
    // Proxy and WebSocket stages (listed in stage order by `mqtt-doctor causes`).
    c(
        "proxy.refused",
        Proxy,
        "the proxy refused our connection, or the broker's host behind it refused the proxy's",
        "Check the proxy's address (where it came from) or the broker's host and port as seen from the proxy.",
    ),
    c(
        "proxy.timeout",
        Proxy,
        "the proxy did not accept the connection or answer the CONNECT/SOCKS request in time",
        "Check the proxy's address, port and scheme, or raise --timeout.",
    ),
    c(
        "proxy.dns",
        Proxy,
        "the proxy's host name does not resolve",
        "Fix the proxy's host name where it came from (--proxy or the environment variable).",
    ),
    c(
        "proxy.unreachable",
        Proxy,
        "the proxy cannot be reached (no route, reset or another connection error)",
        "Check the proxy's address and this machine's network.",
    ),
    c(
        "proxy.auth_required",
        Proxy,
        "the proxy wants credentials (HTTP 407 / SOCKS5 authentication)",
        "Put the proxy user in the URL and pass the password with --proxy-password-env.",
    ),
    c(
        "proxy.denied",
        Proxy,
        "the proxy's rules forbid this destination (HTTP 403 / SOCKS5 ruleset)",
        "Ask the proxy's administrator to allow the broker's host and port.",
    ),
    c(
        "proxy.target_unreachable",
        Proxy,
        "the proxy cannot resolve or reach the broker (HTTP 502/504 / SOCKS5 unreachable)",
        "Check the broker's host name (resolved by the proxy) and the proxy's network.",
    ),
    c(
        "proxy.not_a_proxy",
        Proxy,
        "the proxy address does not speak the proxy protocol named in the URL",
        "Check the proxy's host, port and scheme (http:// or socks5://).",
    ),
    c(
        "proxy.failed",
        Proxy,
        "the proxy refused the request for another reason",
        "Check the proxy's log or error page.",
    ),
    c(
        "ws.http_status",
        Ws,
        "the WebSocket upgrade got an HTTP status instead of 101",
        "404: fix the path (/mqtt, /ws); 401/403: pass the token with --header; 5xx: check the backend.",
    ),
    c(
        "ws.not_http",
        Ws,
        "the port does not speak HTTP (plain MQTT, TLS or something else)",
        "Use the scheme the port speaks (mqtt://, mqtts://, wss://) or the WebSocket port.",
    ),
    c(
        "ws.subprotocol_rejected",
        Ws,
        "the upgrade succeeded without the mqtt subprotocol, or was closed at once",
        "Check the path and that proxies pass Sec-WebSocket-Protocol through.",
    ),
    c(
        "ws.closed",
        Ws,
        "the server closed the connection instead of answering the upgrade",
        "Check that this is the WebSocket port and the server's log.",
    ),
    c(
        "ws.bad_frame",
        Ws,
        "after the upgrade, the server sent a WebSocket frame that cannot be read",
        "Check the server's or proxy's log; frames over 16 MiB are refused.",
    ),
    c(
        "ws.timeout",
        Ws,
        "no answer to the WebSocket upgrade in time",
        "Check the port (wss:// for TLS ports) or raise --timeout.",
    ),
];

pub fn cause_info(id: &str) -> Option<&'static CauseInfo> {
    CATALOG.iter().find(|c| c.id == id)
}
