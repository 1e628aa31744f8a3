//! The long form of every cause id, for `mqtt-doctor explain CAUSE`: what triggers it, how
//! the tool tells it from its neighbours, and what to change on common brokers.

use super::catalog::{CATALOG, CauseInfo, cause_info};
use super::codes::codes_of;

/// The long text of one cause. `brokers` names a broker and what to change there.
struct Detail {
    id: &'static str,
    triggers: &'static str,
    neighbours: &'static str,
    brokers: &'static [(&'static str, &'static str)],
}

const fn d(
    id: &'static str,
    triggers: &'static str,
    neighbours: &'static str,
    brokers: &'static [(&'static str, &'static str)],
) -> Detail {
    Detail {
        id,
        triggers,
        neighbours,
        brokers,
    }
}

const MOSQ_LISTENER: (&str, &str) = (
    "Mosquitto",
    "each `listener PORT` line opens one port; `certfile`, `keyfile` and `cafile` under it make it a TLS port.",
);
const MOSQ_CHAIN: (&str, &str) = (
    "Mosquitto",
    "`certfile` must hold the server certificate followed by every intermediate (leaf first); restart or send SIGHUP after replacing it.",
);
const EMQX_CHAIN: (&str, &str) = (
    "EMQX",
    "listeners.ssl.default.ssl_options.certfile (leaf first, then intermediates) and cacertfile; `emqx ctl listeners` shows them.",
);
const HIVEMQ_CHAIN: (&str, &str) = (
    "HiveMQ",
    "the <tls-tcp-listener> keystore (JKS/PKCS#12) must contain the whole chain under the key's alias.",
);
const AWS_ENDPOINT: (&str, &str) = (
    "AWS IoT",
    "the endpoint (xxxx-ats.iot.REGION.amazonaws.com) presents an Amazon Trust Services chain: trust AmazonRootCA1, not the legacy VeriSign root.",
);
const MOSQ_AUTH: (&str, &str) = (
    "Mosquitto",
    "`password_file` (made with mosquitto_passwd) and `allow_anonymous false` decide who may connect; the log names the refused client.",
);
const EMQX_AUTH: (&str, &str) = (
    "EMQX",
    "the authentication chain (Dashboard → Access Control → Authentication) decides; check the client's entry and the chain's order.",
);
const HIVEMQ_AUTH: (&str, &str) = (
    "HiveMQ",
    "without a security extension every client is allowed; with the File RBAC or Enterprise Security extension, check its credentials file.",
);
const AWS_POLICY: (&str, &str) = (
    "AWS IoT",
    "the certificate must be ACTIVE and have a policy allowing iot:Connect on client/CLIENT_ID (and iot:Subscribe/iot:Receive on topicfilter/… and topic/…).",
);
const MOSQ_ACL: (&str, &str) = (
    "Mosquitto",
    "`acl_file` grants `topic read|write|readwrite FILTER` per user; Mosquitto accepts a denied SUBSCRIBE and then delivers nothing.",
);
const EMQX_ACL: (&str, &str) = (
    "EMQX",
    "authorization sources (acl.conf, the built-in database) and `authorization.no_match`; a denied SUBSCRIBE gets 0x87.",
);

static DETAILS: &[Detail] = &[
    d(
        "dns.nxdomain",
        "The resolver answered NXDOMAIN: the name does not exist in DNS (nor in /etc/hosts).",
        "NXDOMAIN is a definite answer; dns.no_records is a name that exists without an A/AAAA record, dns.timeout is no answer at all.",
        &[],
    ),
    d(
        "dns.no_records",
        "The name exists but has no A or AAAA record (NODATA): often only a CNAME to nowhere, or only MX/TXT records.",
        "Unlike dns.nxdomain the name is known; unlike dns.servfail the server answered normally.",
        &[],
    ),
    d(
        "dns.timeout",
        "No DNS server answered within the stage deadline.",
        "No answer at all, where dns.servfail is an answer saying the server failed; a literal IP address skips DNS.",
        &[],
    ),
    d(
        "dns.servfail",
        "The DNS server answered SERVFAIL: it could not resolve the name (often a DNSSEC validation failure or a broken delegation).",
        "A failure answer, not silence (dns.timeout) and not a missing name (dns.nxdomain).",
        &[],
    ),
    d(
        "dns.invalid_host",
        "The host in the URL is not a valid DNS name or IP address (spaces, an empty label, a bad character).",
        "Found before any query is sent; every other dns cause needs an answer or a timeout.",
        &[],
    ),
    d(
        "dns.failed",
        "Name resolution failed in a way none of the other dns causes describes (the resolver's message is in the facts).",
        "The catch-all of the dns stage.",
        &[],
    ),
    d(
        "tcp.refused",
        "Every address answered the TCP SYN with a RST: the host is up, nothing listens on the port (or a firewall rejects actively).",
        "A refusal is immediate; tcp.timeout is silence (packets dropped), tcp.reset is an accepted connection closed at once.",
        &[
            MOSQ_LISTENER,
            (
                "EMQX",
                "`emqx ctl listeners` lists the bound ports (1883, 8883, 8083, 8084 by default).",
            ),
            (
                "HiveMQ",
                "config.xml lists <tcp-listener> and <tls-tcp-listener> ports.",
            ),
            (
                "AWS IoT",
                "MQTT over TLS listens on 8883 and 443 (443 needs ALPN x-amzn-mqtt-ca).",
            ),
        ],
    ),
    d(
        "tcp.timeout",
        "No address answered the connection attempt before the deadline: SYNs are dropped (firewall, security group, black-holed route).",
        "Silence, where tcp.refused is an active RST and tcp.unreachable an ICMP error.",
        &[],
    ),
    d(
        "tcp.unreachable",
        "The network or host is unreachable (an ICMP error or no route from this machine).",
        "A routing answer from the network, not from the broker's host (tcp.refused) and not silence (tcp.timeout).",
        &[],
    ),
    d(
        "tcp.reset",
        "The connection was accepted and then reset within two round trips, before any protocol byte: a connection limit, TCP wrappers, or a load balancer without healthy backends.",
        "The handshake completed, so it is not tcp.refused; the reset came before TLS or MQTT spoke, so it is not a tls or mqtt cause.",
        &[(
            "Mosquitto",
            "`max_connections` on the listener; the log says when it is reached.",
        )],
    ),
    d(
        "tcp.failed",
        "The TCP connection failed for a reason the other tcp causes do not cover (the system's error is in the facts).",
        "The catch-all of the tcp stage.",
        &[],
    ),
    d(
        "tls.not_tls",
        "The port answered the ClientHello with something that is not TLS (often an MQTT or HTTP reply), or closed the connection at once.",
        "mqtt.tls_required is the opposite case (a plain URL to a TLS port); a plain MQTT probe on a fresh connection tells whether this port speaks MQTT without TLS.",
        &[MOSQ_LISTENER],
    ),
    d(
        "tls.timeout",
        "The TLS handshake did not finish before the deadline: the port accepts TCP but never answers the ClientHello.",
        "Silence after the ClientHello, where tls.not_tls is a wrong answer and tls.handshake_failure an alert.",
        &[],
    ),
    d(
        "tls.cert_expired",
        "A certificate in the presented chain (leaf or intermediate) is past its notAfter date by the local clock.",
        "The chain analysis names which certificate expired; tls.cert_not_yet_valid is the other side of the validity window, and a wrong local clock can cause both.",
        &[MOSQ_CHAIN, EMQX_CHAIN, HIVEMQ_CHAIN],
    ),
    d(
        "tls.cert_not_yet_valid",
        "A certificate's notBefore date is in the future by the local clock: a freshly issued certificate on a machine whose clock is behind, or a wrongly dated certificate.",
        "Compared with the local clock only (TLS does not carry the broker's); over wss the HTTP Date header shows the broker's clock in the bundle.",
        &[MOSQ_CHAIN],
    ),
    d(
        "tls.hostname_mismatch",
        "The leaf's subjectAltName entries do not match the host (or --sni) name under RFC 6125 rules (`*.example.com` matches `a.example.com`, not `a.b.example.com`).",
        "tls.cn_only is the special case of a certificate with a matching CN but no SAN at all.",
        &[
            MOSQ_CHAIN,
            (
                "AWS IoT",
                "connect to the account's ATS endpoint name itself; a CNAME of your own needs a custom domain configuration with its own certificate.",
            ),
        ],
    ),
    d(
        "tls.cn_only",
        "The leaf has no subjectAltName; only its Common Name matches the host. Modern TLS stacks (rustls, browsers, Go) ignore the CN; some older clients (mosquitto_sub with OpenSSL 1.x) accept it.",
        "The \"works with mosquitto_sub, fails in my app\" case; a SAN that names another host is tls.hostname_mismatch.",
        &[MOSQ_CHAIN],
    ),
    d(
        "tls.self_signed",
        "The broker presented a self-signed leaf that is not among the trusted certificates.",
        "The leaf is its own issuer; tls.untrusted_root is a proper chain ending at an unknown root.",
        &[],
    ),
    d(
        "tls.incomplete_chain",
        "The broker sent its leaf without the intermediate that links it to a trusted root; the leaf names where its issuer can be downloaded (caIssuers), as public CAs do.",
        "Without a caIssuers URL the same chain is reported as tls.untrusted_root; browsers often fetch the missing intermediate, MQTT clients do not.",
        &[MOSQ_CHAIN, EMQX_CHAIN, HIVEMQ_CHAIN],
    ),
    d(
        "tls.alpn_rejected",
        "The broker refused the offered ALPN protocol (alert no_application_protocol).",
        "Only with --alpn; AWS IoT on port 443 needs x-amzn-mqtt-ca for MQTT.",
        &[(
            "AWS IoT",
            "port 443 for MQTT needs ALPN x-amzn-mqtt-ca (with a certificate) or mqtt (custom authorizers).",
        )],
    ),
    d(
        "tls.client_key_mismatch",
        "The client key does not belong to the client certificate (their public keys differ); found before connecting.",
        "Caught locally, where tls.client_cert_rejected is the broker refusing a certificate it was sent.",
        &[],
    ),
    d(
        "tls.expires_soon",
        "A warning: a certificate in the chain expires within 30 days.",
        "The handshake succeeded; once the date passes this becomes tls.cert_expired.",
        &[MOSQ_CHAIN],
    ),
    d(
        "tls.chain_out_of_order",
        "A warning: the chain was not sent leaf first, each certificate followed by its issuer.",
        "rustls re-orders and succeeds; stricter clients may fail.",
        &[MOSQ_CHAIN],
    ),
    d(
        "tls.weak_signature",
        "A warning: a certificate in the chain is signed with SHA-1 (or weaker).",
        "Not a failure today for this tool, but many clients refuse SHA-1 chains.",
        &[],
    ),
    d(
        "tls.weak_key",
        "A warning: an RSA key under 2048 bits in the chain.",
        "A property of a key, not of the chain's order or validity.",
        &[],
    ),
    d(
        "tls.untrusted_root",
        "The chain does not lead to any trusted certificate (--ca, or the system store).",
        "tls.self_signed is a lone self-signed leaf; tls.incomplete_chain is a missing intermediate the leaf names a download for.",
        &[AWS_ENDPOINT],
    ),
    d(
        "tls.bad_eku",
        "The leaf's extended key usage does not allow TLS server authentication (serverAuth).",
        "The name and dates may be right; only the usage is wrong (a client certificate installed on the server, for example).",
        &[],
    ),
    d(
        "tls.protocol_version",
        "The broker and this tool share no TLS version (alert protocol_version): the broker offers only TLS 1.0/1.1, or only 1.3 while --min-tls… was set otherwise.",
        "An alert about versions, where tls.handshake_failure is a generic refusal.",
        &[(
            "Mosquitto",
            "`tls_version tlsv1.2` (or tlsv1.3) on the listener.",
        )],
    ),
    d(
        "tls.client_cert_required",
        "The broker asked for a client certificate and this check sent none (alert certificate_required or handshake_failure after a certificate request).",
        "No certificate was sent; tls.client_cert_rejected is a certificate sent and refused.",
        &[
            (
                "Mosquitto",
                "`require_certificate true` with `cafile` on the listener demands one.",
            ),
            AWS_POLICY,
        ],
    ),
    d(
        "tls.client_cert_rejected",
        "The broker refused the client certificate this check sent (bad_certificate, unknown_ca, certificate_expired …); under TLS 1.3 the alert arrives after the handshake, where the CONNACK was due.",
        "A certificate was sent; the fact tls.client_certificate_judged says the refusal came after the handshake.",
        &[
            (
                "Mosquitto",
                "`cafile` on the listener must hold the CA that issued the client certificates.",
            ),
            AWS_POLICY,
        ],
    ),
    d(
        "tls.handshake_failure",
        "The handshake failed with an alert or error none of the specific tls causes covers (the alert is in the facts).",
        "The catch-all of the tls stage.",
        &[],
    ),
    d(
        "mqtt.tls_required",
        "A plain mqtt:// connection to a port that speaks TLS: the broker closed or stayed silent, and a TLS ClientHello on a fresh connection got a TLS answer.",
        "The opposite of tls.not_tls; told apart from mqtt.closed_without_connack by that TLS probe.",
        &[MOSQ_LISTENER],
    ),
    d(
        "mqtt.not_mqtt",
        "The peer answered the CONNECT with bytes that are not an MQTT packet (HTTP, SSH, a banner …).",
        "A wrong answer; mqtt.closed_without_connack is no answer and a close.",
        &[],
    ),
    d(
        "mqtt.closed_without_connack",
        "The broker closed the connection after the CONNECT without sending a CONNACK. Mosquitto does this for a bad password under 3.1.1 in some setups, for a duplicate client id on another listener, or when its log says why.",
        "A close, not a refusal code; the broker's log is the only place the reason shows.",
        &[MOSQ_AUTH],
    ),
    d(
        "mqtt.connack_timeout",
        "The CONNECT was sent and no CONNACK arrived before the deadline.",
        "Silence; a plain port that is silent is probed with a ClientHello first (mqtt.tls_required).",
        &[],
    ),
    d(
        "mqtt.unsupported_protocol_version",
        "The broker refused the MQTT protocol version (5 → 0x84, 3.1.1 → return code 1). Without --mqtt-version the check retries with 3.1.1 on a new connection.",
        "Only a version problem; with --mqtt-version set there is no retry.",
        &[(
            "Mosquitto",
            "Mosquitto 1.x speaks only 3.1/3.1.1; MQTT 5 needs Mosquitto 1.6 or newer.",
        )],
    ),
    d(
        "mqtt.client_id_not_valid",
        "The broker refused the client identifier (length, characters, an empty id with clean start off, or a prefix rule).",
        "About the id, where mqtt.not_authorized is about the account.",
        &[
            AWS_POLICY,
            (
                "Mosquitto",
                "`clientid_prefixes` restricts ids; an empty id needs a clean session.",
            ),
        ],
    ),
    d(
        "mqtt.bad_username_or_password",
        "The broker refused the user name or password (MQTT 5 0x86, 3.1.1 return code 4).",
        "Credentials are wrong, where mqtt.not_authorized means the account is known but not allowed.",
        &[MOSQ_AUTH, EMQX_AUTH, HIVEMQ_AUTH],
    ),
    d(
        "mqtt.not_authorized",
        "The broker refused the connection: the client is not allowed (MQTT 5 0x87, 3.1.1 return code 5), e.g. anonymous access off, a certificate without a policy.",
        "The account may exist; mqtt.bad_username_or_password is about the credentials themselves.",
        &[MOSQ_AUTH, EMQX_AUTH, HIVEMQ_AUTH, AWS_POLICY],
    ),
    d(
        "sub.no_round_trip",
        "SUBSCRIBE was granted and the QoS 1 test message was published, but it never came back: delivery on the private test topic is denied or dropped.",
        "A real Mosquitto's acl_file never refuses a SUBSCRIBE; only this round trip shows the denial.",
        &[MOSQ_ACL, EMQX_ACL, AWS_POLICY],
    ),
    d(
        "sub.not_authorized",
        "The broker refused the SUBSCRIBE for a filter (SUBACK 0x87).",
        "A refusal in the SUBACK; sub.no_round_trip is a granted subscription that delivers nothing.",
        &[MOSQ_ACL, EMQX_ACL, AWS_POLICY],
    ),
    d(
        "sub.refused",
        "An MQTT 3.1.1 broker answered the SUBSCRIBE with the failure code 0x80 (3.1.1 gives no reason).",
        "The 3.1.1 form of every SUBACK refusal; MQTT 5 names the reason.",
        &[MOSQ_ACL, EMQX_ACL],
    ),
    d(
        "sub.disconnected",
        "The broker closed the connection after the CONNACK, during SUBSCRIBE or the round trip (AWS IoT does this for a policy violation).",
        "A close, not a SUBACK code.",
        &[AWS_POLICY],
    ),
    d(
        "sub.timeout",
        "No SUBACK (or no PUBACK) arrived before the deadline.",
        "Silence after the CONNACK.",
        &[],
    ),
    d(
        "proxy.refused",
        "The proxy's port refused the TCP connection.",
        "About the proxy, not the broker: the tcp stage connected to the proxy.",
        &[],
    ),
    d(
        "proxy.auth_required",
        "The proxy asked for credentials (HTTP 407, or a SOCKS5 method that needs a user) and none or the wrong ones were sent.",
        "proxy.denied is a proxy that refuses the destination itself.",
        &[],
    ),
    d(
        "proxy.denied",
        "The proxy refused to connect to the broker (HTTP 403, SOCKS5 \"not allowed by ruleset\").",
        "The proxy answered; the broker was not reached.",
        &[],
    ),
    d(
        "proxy.target_unreachable",
        "The proxy could not reach the broker (HTTP 502/504, SOCKS5 host or network unreachable, connection refused).",
        "The proxy tried and failed; from the proxy's network the broker is unreachable.",
        &[],
    ),
    d(
        "proxy.not_a_proxy",
        "The --proxy address does not speak the proxy protocol asked for (HTTP CONNECT or SOCKS5).",
        "A wrong answer, not a refusal.",
        &[],
    ),
    d(
        "ws.http_status",
        "The server answered the WebSocket upgrade with an HTTP status other than 101 (404 wrong path, 401/403 auth, 400 bad request).",
        "An HTTP answer, where ws.not_http is no HTTP at all.",
        &[
            (
                "Mosquitto",
                "`listener 8080` with `protocol websockets`; the path is ignored.",
            ),
            (
                "EMQX",
                "the ws listener serves the path /mqtt by default (8083, wss 8084).",
            ),
            ("HiveMQ", "<websocket-listener> with <path>/mqtt</path>."),
            (
                "AWS IoT",
                "wss://ENDPOINT/mqtt with a SigV4-signed query string, or a custom authorizer.",
            ),
        ],
    ),
    d(
        "ws.not_http",
        "The port answered the HTTP upgrade with something that is not HTTP (MQTT or TLS bytes).",
        "Often a ws:// URL to a TLS port, or a plain MQTT port.",
        &[],
    ),
    d(
        "ws.subprotocol_rejected",
        "The server accepted the upgrade but did not choose the mqtt subprotocol (or closed at once).",
        "The upgrade itself worked (101).",
        &[],
    ),
];

/// The general texts of a cause without its own [`Detail`]: by the family it belongs to.
fn family(info: &CauseInfo) -> (String, &'static str) {
    if let Some((code, name, v311)) = codes_of(info.id) {
        let packet = if info.id.starts_with("sub.") {
            "SUBSCRIBE with a SUBACK"
        } else {
            "CONNECT with a CONNACK"
        };
        let v311 = v311
            .map(|c| format!(" (MQTT 3.1.1: return code {c})"))
            .unwrap_or_default();
        return (
            format!(
                "The broker answered the {packet} carrying reason code 0x{code:02X} \"{name}\" (MQTT 5){v311}."
            ),
            "Read from the reason code itself: each code has its own cause id, so no guess is involved.",
        );
    }
    let how = match info.id.rsplit('.').next() {
        Some("timeout") => "No answer arrived before the stage's deadline (--timeout).",
        Some("failed") => "A failure none of the stage's specific causes covers.",
        _ => "See the stage's facts for the evidence.",
    };
    (
        format!("{} {how}", capitalise(info.title)),
        "The stage's other causes each need more specific evidence; this one is what remains.",
    )
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect::<String>() + ".",
        None => String::new(),
    }
}

/// Wraps `text` at 78 columns with `indent`.
fn wrap(text: &str, indent: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && indent.len() + line.len() + 1 + word.len() > 78 {
            out.push_str(&format!("{indent}{line}\n"));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(&format!("{indent}{line}\n"));
    }
    out
}

/// `mqtt-doctor explain CAUSE`: the cause in full, or `None` for an unknown id.
pub fn cause_text(id: &str) -> Option<String> {
    let info = cause_info(id)?;
    let detail = DETAILS.iter().find(|d| d.id == id);
    let (triggers, neighbours) = match detail {
        Some(d) => (d.triggers.to_string(), d.neighbours),
        None => family(info),
    };
    let mut out = format!(
        "{}  (stage {}, exit code {})\n{}\n\nWhat triggers it\n",
        info.id,
        info.stage.id(),
        info.stage.exit_code(),
        capitalise(info.title)
    );
    out.push_str(&wrap(&triggers, "  "));
    out.push_str("\nHow mqtt-doctor tells it from its neighbours\n");
    out.push_str(&wrap(neighbours, "  "));
    out.push_str("\nWhat to do\n");
    out.push_str(&wrap(info.remedy, "  "));
    let brokers = detail.map(|d| d.brokers).unwrap_or(&[]);
    if !brokers.is_empty() {
        out.push_str("\nOn the broker\n");
        for (broker, what) in brokers {
            out.push_str(&wrap(&format!("{broker}: {what}"), "  "));
        }
    }
    Some(out)
}

/// The cause id a misspelt one is closest to (`tls.cert_expird`, `cert_expired`).
pub fn suggest_cause(id: &str) -> Option<&'static str> {
    let id = id.trim().to_ascii_lowercase().replace('-', "_");
    if let Some(c) = CATALOG
        .iter()
        .find(|c| c.id.split_once('.').is_some_and(|(_, rest)| rest == id))
    {
        return Some(c.id);
    }
    // Scored against the whole id and against its part after the stage, so a misspelt
    // id without its stage (`cert_expird`) is found too.
    CATALOG
        .iter()
        .map(|c| {
            let rest = c.id.split_once('.').map(|x| x.1).unwrap_or(c.id);
            let score = strsim::jaro_winkler(&id, c.id).max(strsim::jaro_winkler(&id, rest));
            (score, c.id)
        })
        .filter(|(score, _)| *score > 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, id)| id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_long_text_belongs_to_a_cause_in_the_catalog() {
        for d in DETAILS {
            assert!(cause_info(d.id).is_some(), "{} is not in the catalog", d.id);
        }
    }

    #[test]
    fn every_cause_has_a_full_explanation() {
        for c in CATALOG {
            let text = cause_text(c.id).unwrap();
            assert!(text.contains("What triggers it"), "{text}");
            assert!(text.contains(c.remedy.split_whitespace().next().unwrap()));
        }
    }

    #[test]
    fn a_connack_code_cause_names_its_codes() {
        let text = cause_text("mqtt.server_busy").unwrap();
        assert!(text.contains("0x89"), "{text}");
        let text = cause_text("mqtt.server_unavailable").unwrap();
        assert!(text.contains("0x88"), "{text}");
        assert!(text.contains("return code 3"), "{text}");
    }

    #[test]
    fn misspelt_cause_ids_get_the_nearest_one() {
        assert_eq!(suggest_cause("tls.cert_expird"), Some("tls.cert_expired"));
        assert_eq!(suggest_cause("cert_expired"), Some("tls.cert_expired"));
        assert_eq!(suggest_cause("cert_expird"), Some("tls.cert_expired"));
        assert_eq!(suggest_cause("nothing.like.it.at.all"), None);
    }
}
