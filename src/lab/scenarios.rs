//! The lab's scenarios as one table: id, title, how the server misbehaves, the `check` command
//! line and the verdict it must produce. `Lab::start`, `mqtt-doctor demo/lab` and the tests read it.

/// Which certificate chain a lab TLS server sends (leaves come from `pki::LabPki`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cert {
    /// The good leaf and the intermediate, as a broker should send them.
    Good,
    /// The good leaf, then the root, then the intermediate.
    GoodOutOfOrder,
    Expired,
    WrongHost,
    /// A leaf from the rogue root, sent alone.
    Rogue,
    SelfSigned,
    /// A leaf with an AIA URL, sent without its intermediate.
    AiaLeafOnly,
    /// A leaf under the expired intermediate, sent with it.
    ExpiredIntermediate,
    NotYetValid,
    CnOnly,
    ClientAuthOnly,
    /// Expires in 5 days.
    Expiring,
    /// The good leaf alone, without its intermediate and without a caIssuers URL.
    LeafOnly,
    /// The rogue leaf and its (untrusted) root.
    RogueWithRoot,
}

/// A service other than MQTT whose greeting or answer a lab peer replays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Amqp,
    Nats,
    Redis,
    Postgres,
    Mysql,
    Ssh,
    Smtp,
}

/// A lab TLS server's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlsServer {
    pub cert: Cert,
    /// Demand a client certificate from the lab client CA.
    pub client_ca: bool,
    /// The only ALPN protocol the server accepts.
    pub alpn: Option<&'static str>,
    pub tls12_only: bool,
}

impl TlsServer {
    pub const fn new(cert: Cert) -> TlsServer {
        TlsServer {
            cert,
            client_ca: false,
            alpn: None,
            tls12_only: false,
        }
    }
}

/// How the scripted MQTT broker behind a lab listener misbehaves (see `broker::Script`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Broker {
    Healthy,
    /// Refuses MQTT 5 with a 3.1.1 "unacceptable protocol version".
    OnlyV311,
    /// Refuses every CONNECT: `v5` for MQTT 5 clients, `v311` for 3.1.1 clients.
    Refuse {
        v5: u8,
        v311: u8,
        reason: Option<&'static str>,
        server_reference: Option<&'static str>,
    },
    CloseAfterConnect,
    NoConnack,
    /// Wants these credentials; anything else gets 0x86 / return code 4.
    Login {
        user: &'static str,
        password: &'static str,
    },
    /// Answers every SUBSCRIBE with this code.
    Suback(u8),
    CloseAfterSubscribe,
    /// Hangs up after CONNACK 0 when packets arrived behind the CONNECT (mishandles pipelining).
    NoPipelining,
    NoSuback,
    /// Accepts PUBLISHes and never delivers them.
    NoDelivery,
    /// Answers a QoS 1 PUBLISH with this PUBACK reason code and drops the message.
    Puback(u8),
}

/// What a WebSocket broker does with the upgrade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upgrade {
    Normal,
    /// Answers 101 without echoing the `mqtt` subprotocol.
    NoSubprotocol,
    /// Sends a close frame right after the upgrade.
    CloseAfterUpgrade,
}

/// The bytes a `Garbage` peer answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Garbage {
    /// A PUBLISH header announcing a 256 MB packet.
    HugePacket,
    /// 300 bytes of binary noise.
    Binary,
}

/// How one lab server misbehaves. The lab starts one server per distinct fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Nothing listens on the port.
    Refused,
    /// SYNs are dropped (a full accept queue).
    BlackHole,
    /// Every connection is reset at once.
    Reset,
    /// Accepts and never sends anything.
    Silent,
    /// Answers any bytes with an HTTP 400 page.
    Http,
    /// Reads the request and closes without a word.
    HangUp,
    Garbage(Garbage),
    /// Answers the ClientHello with this fatal TLS alert.
    TlsAlert(u8),
    Mqtt {
        tls: Option<TlsServer>,
        broker: Broker,
    },
    Ws {
        tls: Option<TlsServer>,
        upgrade: Upgrade,
        broker: Broker,
    },
    /// A SOCKS5 proxy: relays when `reply` is `None`, else answers with it.
    Socks5 {
        reply: Option<u8>,
        auth: bool,
    },
    /// An HTTP CONNECT proxy: relays when `status` is `None`, else answers with it.
    HttpProxy {
        status: Option<u16>,
        auth: bool,
    },
    /// Another service (its greeting or answer, replayed).
    Service(Service),
}

/// One scenario. In `url` and `args`, `{port}` is the port of `fault`'s server, `{proxy}` the
/// port of `proxy`'s, `{dir}` the lab's file folder and `{dns}` the lab DNS server's address.
#[derive(Debug, Clone, Copy)]
pub struct ScenarioSpec {
    pub id: &'static str,
    pub title: &'static str,
    pub fault: Fault,
    /// A second server the scenario reaches the first through.
    pub proxy: Option<Fault>,
    pub url: &'static str,
    /// Arguments for `mqtt-doctor check` after the URL.
    pub args: &'static [&'static str],
    /// Environment the command needs (e.g. the password for --password-env).
    pub env: &'static [(&'static str, &'static str)],
    /// The cause id of the verdict, or "ok".
    pub expect: &'static str,
    /// Cause ids of the warnings a working connection must carry (in any stage).
    pub warns: &'static [&'static str],
    /// Words the verdict's summary must contain.
    pub says: Option<&'static str>,
}

impl ScenarioSpec {
    /// The fields most scenarios leave alone.
    const BASE: ScenarioSpec = ScenarioSpec {
        id: "",
        title: "",
        fault: PLAIN,
        proxy: None,
        url: "mqtt://127.0.0.1:{port}",
        args: &[],
        env: &[],
        expect: "ok",
        warns: &[],
        says: None,
    };

    /// Every server this scenario needs.
    pub fn faults(&self) -> impl Iterator<Item = Fault> {
        std::iter::once(self.fault).chain(self.proxy)
    }
}

const fn mqtt(broker: Broker) -> Fault {
    Fault::Mqtt { tls: None, broker }
}

const fn mqtts(cert: Cert) -> Fault {
    Fault::Mqtt {
        tls: Some(TlsServer::new(cert)),
        broker: Broker::Healthy,
    }
}

const fn refuse(v5: u8, v311: u8, reason: &'static str) -> Fault {
    mqtt(Broker::Refuse {
        v5,
        v311,
        reason: Some(reason),
        server_reference: None,
    })
}

const fn moved(v5: u8, reason: &'static str) -> Fault {
    mqtt(Broker::Refuse {
        v5,
        v311: 0,
        reason: Some(reason),
        server_reference: Some("mqtt2.lab.test:8883"),
    })
}

const fn ws(tls: Option<TlsServer>, upgrade: Upgrade, broker: Broker) -> Fault {
    Fault::Ws {
        tls,
        upgrade,
        broker,
    }
}

const fn socks(reply: Option<u8>, auth: bool) -> Fault {
    Fault::Socks5 { reply, auth }
}

const fn http_proxy(status: Option<u16>, auth: bool) -> Fault {
    Fault::HttpProxy { status, auth }
}

const PLAIN: Fault = mqtt(Broker::Healthy);
const TLS_OK: Fault = mqtts(Cert::Good);
const MTLS: Fault = Fault::Mqtt {
    tls: Some(TlsServer {
        client_ca: true,
        ..TlsServer::new(Cert::Good)
    }),
    broker: Broker::Healthy,
};
const TLS12: Fault = Fault::Mqtt {
    tls: Some(TlsServer {
        tls12_only: true,
        ..TlsServer::new(Cert::Good)
    }),
    broker: Broker::Healthy,
};
const V311_ONLY: Fault = mqtt(Broker::OnlyV311);
const NO_DELIVERY: Fault = mqtt(Broker::NoDelivery);
const WS: Fault = ws(None, Upgrade::Normal, Broker::Healthy);
const WSS: Fault = ws(
    Some(TlsServer::new(Cert::Good)),
    Upgrade::Normal,
    Broker::Healthy,
);
const WS_V311: Fault = ws(None, Upgrade::Normal, Broker::OnlyV311);
const SOCKS: Fault = socks(None, false);
const SOCKS_AUTH: Fault = socks(None, true);
const HTTP_PROXY: Fault = http_proxy(None, false);
const HTTP_PROXY_AUTH: Fault = http_proxy(None, true);

const CA: &[&str] = &["--ca", "{dir}/lab-ca.pem"];
const DNS: &[&str] = &["--dns-server", "{dns}"];
const SUB: &[&str] = &["--topic", "sensors/#"];
const TIMEOUT_1: &[&str] = &["--timeout", "1"];
const V3: &[&str] = &["--mqtt-version", "3"];
const PROXY_PASSWORD_ENV: &[(&str, &str)] = &[("LAB_PROXY_PASSWORD", super::ws::PROXY_PASSWORD)];

/// Every lab scenario, in the order the demo shows them.
pub const SCENARIOS: &[ScenarioSpec] = &[
    // Healthy brokers
    ScenarioSpec {
        id: "ok.plain",
        title: "healthy plain broker",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "ok.tls",
        title: "healthy TLS broker (lab CA)",
        fault: TLS_OK,
        url: "mqtts://localhost:{port}",
        args: CA,
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "ok.mtls",
        title: "mutual TLS with a client certificate",
        fault: MTLS,
        url: "mqtts://127.0.0.1:{port}",
        args: &[
            "--ca",
            "{dir}/lab-ca.pem",
            "--cert",
            "{dir}/client.pem",
            "--key",
            "{dir}/client.key",
        ],
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "ok.v311_fallback",
        title: "3.1.1-only broker: v5 refused, retried as 3.1.1",
        fault: V311_ONLY,
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "ok.no_pipelining",
        title: "a broker that hangs up on a pipelined SUBSCRIBE: retried without pipelining",
        fault: mqtt(Broker::NoPipelining),
        ..ScenarioSpec::BASE
    },
    // DNS
    ScenarioSpec {
        id: "dns.nxdomain",
        title: "the host name does not exist",
        url: "mqtt://no-such-broker.lab.test:{port}",
        args: DNS,
        expect: "dns.nxdomain",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "dns.no_records",
        title: "a name without addresses",
        url: "mqtt://nodata.lab.test:{port}",
        args: DNS,
        expect: "dns.no_records",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "dns.servfail",
        title: "the DNS server fails",
        url: "mqtt://servfail.lab.test:{port}",
        args: DNS,
        expect: "dns.servfail",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "dns.timeout",
        title: "the DNS server never answers",
        url: "mqtt://silent.lab.test:{port}",
        args: &["--dns-server", "{dns}", "--timeout", "1"],
        expect: "dns.timeout",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "dns.invalid_host",
        title: "a host name no resolver accepts",
        url: "mqtt://-bad-.lab.test:{port}",
        expect: "dns.invalid_host",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "ok.lab_dns",
        title: "healthy broker found through the lab DNS",
        url: "mqtt://broker.lab.test:{port}",
        args: DNS,
        ..ScenarioSpec::BASE
    },
    // TCP
    ScenarioSpec {
        id: "tcp.refused",
        title: "nothing listens on the port",
        fault: Fault::Refused,
        expect: "tcp.refused",
        says: Some("refused the connection"),
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "tcp.timeout",
        title: "a black hole: SYNs are dropped",
        fault: Fault::BlackHole,
        args: TIMEOUT_1,
        expect: "tcp.timeout",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "tcp.reset",
        title: "the peer resets every connection",
        fault: Fault::Reset,
        expect: "tcp.reset",
        ..ScenarioSpec::BASE
    },
    // TLS
    ScenarioSpec {
        id: "tls.not_tls",
        title: "TLS spoken to a plain MQTT port",
        url: "mqtts://127.0.0.1:{port}",
        args: CA,
        expect: "tls.not_tls",
        says: Some("speaks plain MQTT"),
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "tls.cert_expired",
        title: "the broker's certificate expired 3 days ago",
        fault: mqtts(Cert::Expired),
        url: "mqtts://localhost:{port}",
        args: CA,
        expect: "tls.cert_expired",
        says: Some(
            "server certificate O=mqtt-doctor lab, CN=expired lab broker expired 3 days ago",
        ),
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "tls.hostname_mismatch",
        title: "the certificate names another host",
        fault: mqtts(Cert::WrongHost),
        url: "mqtts://localhost:{port}",
        args: CA,
        expect: "tls.hostname_mismatch",
        says: Some("it names mqtt.other.example"),
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "tls.untrusted_root",
        title: "the chain leads to a CA we do not trust",
        fault: mqtts(Cert::RogueWithRoot),
        url: "mqtts://localhost:{port}",
        args: CA,
        expect: "tls.untrusted_root",
        says: Some("Unknown Rogue CA"),
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "tls.client_cert_required",
        title: "the broker demands a client certificate",
        fault: MTLS,
        url: "mqtts://127.0.0.1:{port}",
        args: CA,
        expect: "tls.client_cert_required",
        says: Some("mqtt-doctor Lab Client CA"),
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "tls.timeout",
        title: "the port never answers the TLS greeting",
        fault: Fault::Silent,
        url: "mqtts://127.0.0.1:{port}",
        args: TIMEOUT_1,
        expect: "tls.timeout",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "tls.alpn_rejected",
        title: "the broker refuses our ALPN protocol",
        fault: Fault::Mqtt {
            tls: Some(TlsServer {
                alpn: Some("x-amzn-mqtt-ca"),
                ..TlsServer::new(Cert::Good)
            }),
            broker: Broker::Healthy,
        },
        url: "mqtts://localhost:{port}",
        args: &["--ca", "{dir}/lab-ca.pem", "--alpn", "mqtt"],
        expect: "tls.alpn_rejected",
        says: Some("(mqtt)"),
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "tls.self_signed",
        title: "a self-signed broker certificate",
        fault: mqtts(Cert::SelfSigned),
        url: "mqtts://localhost:{port}",
        args: CA,
        expect: "tls.self_signed",
        says: Some("self-signed broker"),
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "tls.incomplete_chain",
        title: "the broker sends its leaf without the intermediate",
        fault: mqtts(Cert::AiaLeafOnly),
        url: "mqtts://localhost:{port}",
        args: CA,
        expect: "tls.incomplete_chain",
        says: Some("completes the chain: with it the chain verifies"),
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "tls.incomplete_chain.no_aia",
        title: "the broker sends its leaf alone, and the leaf names no caIssuers URL",
        fault: mqtts(Cert::LeafOnly),
        url: "mqtts://localhost:{port}",
        args: CA,
        expect: "tls.incomplete_chain",
        says: Some("issued by O=mqtt-doctor lab, CN=mqtt-doctor Lab Intermediate CA"),
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "tls.incomplete_chain.rogue_leaf",
        title: "a leaf from a CA we do not know, sent alone",
        fault: mqtts(Cert::Rogue),
        url: "mqtts://localhost:{port}",
        args: CA,
        expect: "tls.incomplete_chain",
        says: Some("issued by O=mqtt-doctor lab, CN=Unknown Rogue CA"),
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "tls.cert_expired.wrong_name",
        title: "an expired certificate for another name: both faults named",
        fault: mqtts(Cert::Expired),
        url: "mqtts://localhost:{port}",
        args: &["--ca", "{dir}/lab-ca.pem", "--sni", "mqtt.other.example"],
        expect: "tls.cert_expired",
        says: Some("Also: The broker's certificate is not valid for mqtt.other.example"),
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "tls.alpn_rejected.none_offered",
        title: "a port that routes by ALPN, and no ALPN offered",
        fault: Fault::TlsAlert(120),
        url: "mqtts://localhost:{port}",
        expect: "tls.alpn_rejected",
        says: Some("although we offered no ALPN protocol"),
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "tls.sni_rejected",
        title: "an SNI-routed front end that knows no tenant by this name (alert 112)",
        fault: Fault::TlsAlert(112),
        url: "mqtts://localhost:{port}",
        expect: "tls.sni_rejected",
        says: Some(
            "TLS alert unrecognised_name (112) after a greeting for the server name localhost",
        ),
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "tls.sni_rejected.ip_literal",
        title: "an SNI-routed broker reached by IP address (no server name sent)",
        fault: Fault::TlsAlert(40),
        url: "mqtts://127.0.0.1:{port}",
        expect: "tls.sni_rejected",
        says: Some("carried no server name (SNI)"),
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "tls.cert_expired.intermediate",
        title: "the broker's intermediate CA expired",
        fault: mqtts(Cert::ExpiredIntermediate),
        url: "mqtts://localhost:{port}",
        args: CA,
        expect: "tls.cert_expired",
        says: Some(
            "intermediate certificate O=mqtt-doctor lab, CN=mqtt-doctor Lab Old Intermediate CA expired 2 days ago",
        ),
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "tls.cert_not_yet_valid",
        title: "a certificate valid only from the day after tomorrow",
        fault: mqtts(Cert::NotYetValid),
        url: "mqtts://localhost:{port}",
        args: CA,
        expect: "tls.cert_not_yet_valid",
        says: Some("in 2 days"),
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "tls.cn_only",
        title: "CN=localhost without subjectAltName",
        fault: mqtts(Cert::CnOnly),
        url: "mqtts://localhost:{port}",
        args: CA,
        expect: "tls.cn_only",
        says: Some("mosquitto_sub"),
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "tls.bad_eku",
        title: "a client certificate used as the broker certificate",
        fault: mqtts(Cert::ClientAuthOnly),
        url: "mqtts://localhost:{port}",
        args: CA,
        expect: "tls.bad_eku",
        says: Some("clientAuth"),
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "ok.expires_soon",
        title: "works, but the certificate expires in 5 days (warning)",
        fault: mqtts(Cert::Expiring),
        url: "mqtts://localhost:{port}",
        args: CA,
        warns: &["tls.expires_soon"],
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "ok.chain_out_of_order",
        title: "works, but the chain is sent out of order (warning)",
        fault: mqtts(Cert::GoodOutOfOrder),
        url: "mqtts://localhost:{port}",
        args: CA,
        warns: &["tls.chain_out_of_order"],
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "tls.client_cert_rejected",
        title: "a client certificate from a CA the broker does not trust",
        fault: MTLS,
        url: "mqtts://127.0.0.1:{port}",
        args: &[
            "--ca",
            "{dir}/lab-ca.pem",
            "--cert",
            "{dir}/rogue-client-chain.pem",
            "--key",
            "{dir}/rogue-client.key",
        ],
        expect: "tls.client_cert_rejected",
        says: Some("issued by O=mqtt-doctor lab, CN=Unknown Rogue CA"),
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "tls.client_chain_incomplete",
        title: "a device certificate sent without its intermediate",
        fault: MTLS,
        url: "mqtts://127.0.0.1:{port}",
        args: &[
            "--ca",
            "{dir}/lab-ca.pem",
            "--cert",
            "{dir}/chained-client.pem",
            "--key",
            "{dir}/chained-client.key",
        ],
        expect: "tls.client_chain_incomplete",
        warns: &["tls.client_chain_incomplete"],
        says: Some(
            "without its issuer O=mqtt-doctor lab, CN=mqtt-doctor Lab Device Intermediate CA",
        ),
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "tls.client_chain_incomplete.unknown_ca",
        title: "a client leaf from a CA the broker does not know, sent alone",
        fault: MTLS,
        url: "mqtts://127.0.0.1:{port}",
        args: &[
            "--ca",
            "{dir}/lab-ca.pem",
            "--cert",
            "{dir}/rogue-client.pem",
            "--key",
            "{dir}/rogue-client.key",
        ],
        expect: "tls.client_chain_incomplete",
        warns: &["tls.client_chain_incomplete"],
        says: Some(
            "accepts certificates issued by: O=mqtt-doctor lab, CN=mqtt-doctor Lab Client CA",
        ),
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "ok.mtls_chain",
        title: "a device certificate sent with its intermediate",
        fault: MTLS,
        url: "mqtts://127.0.0.1:{port}",
        args: &[
            "--ca",
            "{dir}/lab-ca.pem",
            "--cert",
            "{dir}/chained-client-full.pem",
            "--key",
            "{dir}/chained-client.key",
        ],
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "mqtt.policy_refused",
        title: "AWS IoT style: mutual TLS succeeds, the broker closes after CONNECT",
        fault: Fault::Mqtt {
            tls: Some(TlsServer {
                client_ca: true,
                alpn: Some("x-amzn-mqtt-ca"),
                ..TlsServer::new(Cert::Good)
            }),
            broker: Broker::CloseAfterConnect,
        },
        url: "mqtts://localhost:{port}",
        args: &[
            "--ca",
            "{dir}/lab-ca.pem",
            "--cert",
            "{dir}/client.pem",
            "--key",
            "{dir}/client.key",
            "--alpn",
            "x-amzn-mqtt-ca",
        ],
        expect: "mqtt.policy_refused",
        says: Some("iot:Connect"),
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "tls.client_key_mismatch",
        title: "a client key that belongs to another certificate",
        fault: MTLS,
        url: "mqtts://127.0.0.1:{port}",
        args: &[
            "--ca",
            "{dir}/lab-ca.pem",
            "--cert",
            "{dir}/client.pem",
            "--key",
            "{dir}/rogue-client.key",
        ],
        expect: "tls.client_key_mismatch",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "tls.protocol_version",
        title: "a TLS 1.0/1.1-only peer (alert protocol_version)",
        fault: Fault::TlsAlert(70),
        url: "mqtts://127.0.0.1:{port}",
        expect: "tls.protocol_version",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "tls.handshake_failure",
        title: "the peer aborts with alert handshake_failure",
        fault: Fault::TlsAlert(40),
        url: "mqtts://localhost:{port}",
        expect: "tls.handshake_failure",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "ok.tls12_only",
        title: "a broker limited to TLS 1.2",
        fault: TLS12,
        url: "mqtts://localhost:{port}",
        args: CA,
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "tls.protocol_version.min_tls13",
        title: "--min-tls 1.3 against a broker limited to TLS 1.2",
        fault: TLS12,
        url: "mqtts://localhost:{port}",
        args: &["--ca", "{dir}/lab-ca.pem", "--min-tls", "1.3"],
        expect: "tls.protocol_version",
        ..ScenarioSpec::BASE
    },
    // MQTT
    ScenarioSpec {
        id: "mqtt.tls_required",
        title: "plain MQTT spoken to a TLS port",
        fault: TLS_OK,
        expect: "mqtt.tls_required",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "mqtt.not_mqtt",
        title: "an HTTP server instead of a broker",
        fault: Fault::Http,
        expect: "mqtt.not_mqtt",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "mqtt.not_mqtt.amqp",
        title: "RabbitMQ's AMQP port instead of its MQTT port",
        fault: Fault::Service(Service::Amqp),
        expect: "mqtt.not_mqtt",
        says: Some("speaks AMQP (RabbitMQ or another AMQP broker)"),
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "mqtt.not_mqtt.nats",
        title: "a NATS server instead of a broker",
        fault: Fault::Service(Service::Nats),
        expect: "mqtt.not_mqtt",
        says: Some("speaks NATS"),
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "mqtt.not_mqtt.redis",
        title: "a Redis server instead of a broker",
        fault: Fault::Service(Service::Redis),
        args: TIMEOUT_1,
        expect: "mqtt.not_mqtt",
        says: Some("speaks Redis"),
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "mqtt.not_mqtt.postgres",
        title: "a PostgreSQL server instead of a broker",
        fault: Fault::Service(Service::Postgres),
        expect: "mqtt.not_mqtt",
        says: Some("speaks PostgreSQL"),
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "mqtt.not_mqtt.mysql",
        title: "a MariaDB server instead of a broker",
        fault: Fault::Service(Service::Mysql),
        expect: "mqtt.not_mqtt",
        says: Some("speaks MySQL/MariaDB"),
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "mqtt.not_mqtt.ssh",
        title: "an SSH server instead of a broker",
        fault: Fault::Service(Service::Ssh),
        expect: "mqtt.not_mqtt",
        says: Some("speaks SSH (\"SSH-2.0-OpenSSH_9.2p1"),
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "mqtt.not_mqtt.smtp",
        title: "a mail server instead of a broker",
        fault: Fault::Service(Service::Smtp),
        expect: "mqtt.not_mqtt",
        says: Some("usually found on port 25"),
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "ok.ca_on_plain",
        title: "--ca given for a plain mqtt:// URL: a warning that TLS is not used",
        args: CA,
        warns: &["mqtt.tls_not_used"],
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "mqtt.not_authorized.azure",
        title: "Azure IoT Hub: client id, user name and an expired SAS token checked locally",
        fault: refuse(0x87, 5, "not authorized"),
        url: "mqtt://lab-hub.azure-devices.net:{port}",
        args: &[
            "--dns-server",
            "{dns}",
            "--username",
            "lab-hub.azure-devices.net/device-1/?api-version=2021-04-12",
            "--client-id",
            "device-2",
            "--password-env",
            "LAB_SAS",
        ],
        env: &[(
            "LAB_SAS",
            "SharedAccessSignature sr=lab-hub.azure-devices.net%2Fdevices%2Fdevice-1&sig=x&se=1700000000",
        )],
        expect: "mqtt.not_authorized",
        warns: &["mqtt.azure_mismatch", "mqtt.azure_mismatch"],
        ..ScenarioSpec::BASE
    },
    // Hostile peers: a 256 MB packet announced, random binary, terminal escapes.
    ScenarioSpec {
        id: "mqtt.not_mqtt.huge",
        title: "a peer announcing a 256 MB packet",
        fault: Fault::Garbage(Garbage::HugePacket),
        expect: "mqtt.not_mqtt",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "mqtt.not_mqtt.binary",
        title: "a peer answering with binary noise",
        fault: Fault::Garbage(Garbage::Binary),
        expect: "mqtt.not_mqtt",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "mqtt.not_authorized.escapes",
        title: "a refusal whose reason string carries terminal escapes",
        fault: refuse(0x87, 5, "\u{1b}[2J\u{1b}]0;pwned\u{7}go away\u{202e}"),
        expect: "mqtt.not_authorized",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "mqtt.closed_without_connack",
        title: "the broker hangs up after CONNECT",
        fault: mqtt(Broker::CloseAfterConnect),
        expect: "mqtt.closed_without_connack",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "mqtt.connack_timeout",
        title: "the broker never sends a CONNACK",
        fault: mqtt(Broker::NoConnack),
        args: TIMEOUT_1,
        expect: "mqtt.connack_timeout",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "mqtt.bad_username_or_password",
        title: "a wrong password (MQTT 5 0x86)",
        fault: mqtt(Broker::Login {
            user: "alice",
            password: "right",
        }),
        args: &["--username", "alice", "--password-env", "LAB_PASSWORD"],
        env: &[("LAB_PASSWORD", "wrong")],
        expect: "mqtt.bad_username_or_password",
        ..ScenarioSpec::BASE
    },
    // CONNACK refusals: every MQTT 5 reason code a CONNACK may carry (OASIS MQTT 5.0
    // §3.2.2.2) and, where one exists, the 3.1.1 return code (MQTT 3.1.1 §3.2.2.3).
    ScenarioSpec {
        id: "mqtt.unspecified_error",
        title: "CONNACK 0x80 (Unspecified error)",
        fault: refuse(0x80, 0, "lab refusal 0x80"),
        expect: "mqtt.unspecified_error",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "mqtt.malformed_packet",
        title: "CONNACK 0x81 (Malformed Packet)",
        fault: refuse(0x81, 0, "lab refusal 0x81"),
        expect: "mqtt.malformed_packet",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "mqtt.protocol_error",
        title: "CONNACK 0x82 (Protocol Error)",
        fault: refuse(0x82, 0, "lab refusal 0x82"),
        expect: "mqtt.protocol_error",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "mqtt.implementation_specific_error",
        title: "CONNACK 0x83 (Implementation specific error)",
        fault: refuse(0x83, 0, "lab refusal 0x83"),
        expect: "mqtt.implementation_specific_error",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "mqtt.unsupported_protocol_version",
        title: "CONNACK 0x84 (Unsupported Protocol Version)",
        fault: refuse(0x84, 1, "lab refusal 0x84"),
        // Without the 3.1.1 retry the v5 refusal is the verdict.
        args: &["--mqtt-version", "5"],
        expect: "mqtt.unsupported_protocol_version",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "mqtt.client_id_not_valid",
        title: "CONNACK 0x85 (Client Identifier not valid)",
        fault: refuse(0x85, 2, "lab refusal 0x85"),
        expect: "mqtt.client_id_not_valid",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "mqtt.client_id_not_valid.v311",
        title: "3.1.1 return code 2",
        fault: refuse(0x85, 2, "lab refusal 0x85"),
        args: V3,
        expect: "mqtt.client_id_not_valid",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "mqtt.not_authorized",
        title: "CONNACK 0x87 (Not authorized)",
        fault: refuse(0x87, 5, "lab refusal 0x87"),
        expect: "mqtt.not_authorized",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "mqtt.not_authorized.v311",
        title: "3.1.1 return code 5",
        fault: refuse(0x87, 5, "lab refusal 0x87"),
        args: V3,
        expect: "mqtt.not_authorized",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "mqtt.server_unavailable",
        title: "CONNACK 0x88 (Server unavailable)",
        fault: refuse(0x88, 3, "lab refusal 0x88"),
        expect: "mqtt.server_unavailable",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "mqtt.server_unavailable.v311",
        title: "3.1.1 return code 3",
        fault: refuse(0x88, 3, "lab refusal 0x88"),
        args: V3,
        expect: "mqtt.server_unavailable",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "mqtt.server_busy",
        title: "CONNACK 0x89 (Server busy)",
        fault: refuse(0x89, 0, "lab refusal 0x89"),
        expect: "mqtt.server_busy",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "mqtt.banned",
        title: "CONNACK 0x8A (Banned)",
        fault: refuse(0x8A, 0, "lab refusal 0x8A"),
        expect: "mqtt.banned",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "mqtt.bad_authentication_method",
        title: "CONNACK 0x8C (Bad authentication method)",
        fault: refuse(0x8C, 0, "lab refusal 0x8C"),
        expect: "mqtt.bad_authentication_method",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "mqtt.topic_name_invalid",
        title: "CONNACK 0x90 (Topic Name invalid)",
        fault: refuse(0x90, 0, "lab refusal 0x90"),
        expect: "mqtt.topic_name_invalid",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "mqtt.packet_too_large",
        title: "CONNACK 0x95 (Packet too large)",
        fault: refuse(0x95, 0, "lab refusal 0x95"),
        expect: "mqtt.packet_too_large",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "mqtt.quota_exceeded",
        title: "CONNACK 0x97 (Quota exceeded)",
        fault: refuse(0x97, 0, "lab refusal 0x97"),
        expect: "mqtt.quota_exceeded",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "mqtt.payload_format_invalid",
        title: "CONNACK 0x99 (Payload format invalid)",
        fault: refuse(0x99, 0, "lab refusal 0x99"),
        expect: "mqtt.payload_format_invalid",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "mqtt.retain_not_supported",
        title: "CONNACK 0x9A (Retain not supported)",
        fault: refuse(0x9A, 0, "lab refusal 0x9A"),
        expect: "mqtt.retain_not_supported",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "mqtt.qos_not_supported",
        title: "CONNACK 0x9B (QoS not supported)",
        fault: refuse(0x9B, 0, "lab refusal 0x9B"),
        expect: "mqtt.qos_not_supported",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "mqtt.use_another_server",
        title: "CONNACK 0x9C (Use another server)",
        fault: moved(0x9C, "lab refusal 0x9C"),
        expect: "mqtt.use_another_server",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "mqtt.server_moved",
        title: "CONNACK 0x9D (Server moved)",
        fault: moved(0x9D, "lab refusal 0x9D"),
        expect: "mqtt.server_moved",
        says: Some("mqtt2.lab.test:8883"),
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "mqtt.connection_rate_exceeded",
        title: "CONNACK 0x9F (Connection rate exceeded)",
        fault: refuse(0x9F, 0, "lab refusal 0x9F"),
        expect: "mqtt.connection_rate_exceeded",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "mqtt.unsupported_protocol_version.v311_answer",
        title: "a 3.1.1 broker refuses MQTT 5 (no retry)",
        fault: V311_ONLY,
        args: &["--mqtt-version", "5"],
        expect: "mqtt.unsupported_protocol_version",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "mqtt.refused_unknown_code",
        title: "a CONNACK code outside the specification",
        fault: mqtt(Broker::Refuse {
            v5: 0x42,
            v311: 0,
            reason: None,
            server_reference: None,
        }),
        expect: "mqtt.refused_unknown_code",
        ..ScenarioSpec::BASE
    },
    // Subscription: the SUBACK failure codes of MQTT 5.0 §3.9.3 and 3.1.1's 0x80.
    ScenarioSpec {
        id: "sub.unspecified_error",
        title: "SUBACK 0x80 (Unspecified error)",
        fault: mqtt(Broker::Suback(0x80)),
        args: SUB,
        expect: "sub.unspecified_error",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "sub.refused",
        title: "SUBACK failure 0x80 under 3.1.1",
        fault: mqtt(Broker::Suback(0x80)),
        args: &["--mqtt-version", "3", "--topic", "sensors/#"],
        expect: "sub.refused",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "sub.implementation_specific_error",
        title: "SUBACK 0x83 (Implementation specific error)",
        fault: mqtt(Broker::Suback(0x83)),
        args: SUB,
        expect: "sub.implementation_specific_error",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "sub.not_authorized",
        title: "SUBACK 0x87 (Not authorized)",
        fault: mqtt(Broker::Suback(0x87)),
        args: SUB,
        expect: "sub.not_authorized",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "sub.topic_filter_invalid",
        title: "SUBACK 0x8F (Topic Filter invalid)",
        fault: mqtt(Broker::Suback(0x8F)),
        args: SUB,
        expect: "sub.topic_filter_invalid",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "sub.packet_id_in_use",
        title: "SUBACK 0x91 (Packet Identifier in use)",
        fault: mqtt(Broker::Suback(0x91)),
        args: SUB,
        expect: "sub.packet_id_in_use",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "sub.quota_exceeded",
        title: "SUBACK 0x97 (Quota exceeded)",
        fault: mqtt(Broker::Suback(0x97)),
        args: SUB,
        expect: "sub.quota_exceeded",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "sub.shared_subscriptions_not_supported",
        title: "SUBACK 0x9E (Shared Subscriptions not supported)",
        fault: mqtt(Broker::Suback(0x9E)),
        args: SUB,
        expect: "sub.shared_subscriptions_not_supported",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "sub.subscription_ids_not_supported",
        title: "SUBACK 0xA1 (Subscription Identifiers not supported)",
        fault: mqtt(Broker::Suback(0xA1)),
        args: SUB,
        expect: "sub.subscription_ids_not_supported",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "sub.wildcards_not_supported",
        title: "SUBACK 0xA2 (Wildcard Subscriptions not supported)",
        fault: mqtt(Broker::Suback(0xA2)),
        args: SUB,
        expect: "sub.wildcards_not_supported",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "sub.disconnected",
        title: "the broker hangs up on SUBSCRIBE (cloud policy style)",
        fault: mqtt(Broker::CloseAfterSubscribe),
        args: &["--topic", "forbidden/#"],
        expect: "sub.disconnected",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "sub.timeout",
        title: "the broker never sends a SUBACK",
        fault: mqtt(Broker::NoSuback),
        args: TIMEOUT_1,
        expect: "sub.timeout",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "sub.no_round_trip",
        title: "subscribed, but messages never arrive (ACL style)",
        fault: NO_DELIVERY,
        args: TIMEOUT_1,
        expect: "sub.no_round_trip",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "sub.no_round_trip.puback",
        title: "publish refused with PUBACK 0x87",
        fault: mqtt(Broker::Puback(0x87)),
        expect: "sub.no_round_trip",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "ok.no_publish",
        title: "read-only check: ends at SUBACK",
        fault: NO_DELIVERY,
        args: &["--no-publish", "--topic", "sensors/#"],
        ..ScenarioSpec::BASE
    },
    // WebSocket
    ScenarioSpec {
        id: "ok.ws",
        title: "healthy MQTT over WebSockets",
        fault: WS,
        url: "ws://127.0.0.1:{port}/mqtt",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "ok.wss",
        title: "healthy MQTT over secure WebSockets (lab CA)",
        fault: WSS,
        url: "wss://localhost:{port}/mqtt",
        args: CA,
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "ok.ws_v311_fallback",
        title: "3.1.1-only WebSocket broker: the retry upgrades again",
        fault: WS_V311,
        url: "ws://127.0.0.1:{port}",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "ok.ws_header",
        title: "a WebSocket path that wants a bearer token, sent with --header",
        fault: WS,
        url: "ws://127.0.0.1:{port}/auth",
        args: &["--header", "Authorization: Bearer lab-token-7f3a"],
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "ws.http_status",
        title: "a wrong WebSocket path (HTTP 404)",
        fault: WS,
        url: "ws://127.0.0.1:{port}/wrong",
        expect: "ws.http_status",
        says: Some("HTTP 404 Not Found"),
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "ws.http_status.401",
        title: "a WebSocket path that wants a token (HTTP 401)",
        fault: WS,
        url: "ws://127.0.0.1:{port}/auth",
        expect: "ws.http_status",
        says: Some("HTTP 401 Unauthorized"),
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "ws.subprotocol_rejected",
        title: "101 without the mqtt subprotocol",
        fault: ws(None, Upgrade::NoSubprotocol, Broker::Healthy),
        url: "ws://127.0.0.1:{port}/mqtt",
        expect: "ws.subprotocol_rejected",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "ws.subprotocol_rejected.close",
        title: "101, then a close frame at once",
        fault: ws(None, Upgrade::CloseAfterUpgrade, Broker::Healthy),
        url: "ws://127.0.0.1:{port}/mqtt",
        expect: "ws.subprotocol_rejected",
        says: Some("close code 1002"),
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "ws.not_http",
        title: "ws:// spoken to a plain MQTT port",
        url: "ws://127.0.0.1:{port}",
        expect: "ws.not_http",
        says: Some("answers an MQTT CONNECT"),
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "ws.not_http.tls",
        title: "ws:// spoken to a TLS port",
        fault: TLS_OK,
        url: "ws://127.0.0.1:{port}",
        expect: "ws.not_http",
        says: Some("answered with TLS"),
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "ws.not_http.mqtts",
        title: "wss:// spoken to an MQTT-over-TLS port",
        fault: TLS_OK,
        url: "wss://localhost:{port}",
        args: CA,
        expect: "ws.not_http",
        says: Some("answers an MQTT CONNECT inside TLS"),
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "ws.timeout",
        title: "the port never answers the upgrade",
        fault: Fault::Silent,
        url: "ws://127.0.0.1:{port}",
        args: TIMEOUT_1,
        expect: "ws.timeout",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "ws.closed",
        title: "the port hangs up on the upgrade",
        fault: Fault::HangUp,
        url: "ws://127.0.0.1:{port}",
        expect: "ws.closed",
        ..ScenarioSpec::BASE
    },
    // Proxies
    ScenarioSpec {
        id: "ok.socks5",
        title: "plain MQTT through a SOCKS5 proxy",
        proxy: Some(SOCKS),
        args: &["--proxy", "socks5://127.0.0.1:{proxy}"],
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "ok.socks5_ws_name",
        title: "MQTT over WebSockets through SOCKS5, the name resolved by the proxy",
        fault: WS,
        proxy: Some(SOCKS),
        url: "ws://localhost:{port}/mqtt",
        args: &["--proxy", "socks5://127.0.0.1:{proxy}"],
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "ok.socks5_v311_fallback",
        title: "3.1.1-only WebSocket broker through SOCKS5: the retry goes through the proxy again",
        fault: WS_V311,
        proxy: Some(SOCKS),
        url: "ws://localhost:{port}/mqtt",
        args: &["--proxy", "socks5://127.0.0.1:{proxy}"],
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "ok.socks5_auth",
        title: "SOCKS5 with user name and password",
        proxy: Some(SOCKS_AUTH),
        args: &[
            "--proxy",
            "socks5://alice@127.0.0.1:{proxy}",
            "--proxy-password-env",
            "LAB_PROXY_PASSWORD",
        ],
        env: PROXY_PASSWORD_ENV,
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "proxy.auth_required",
        title: "SOCKS5 refuses a wrong password",
        proxy: Some(SOCKS_AUTH),
        args: &[
            "--proxy",
            "socks5://alice@127.0.0.1:{proxy}",
            "--proxy-password-env",
            "LAB_PROXY_WRONG",
        ],
        env: &[("LAB_PROXY_WRONG", "wrong")],
        expect: "proxy.auth_required",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "proxy.auth_required.socks_none",
        title: "SOCKS5 wants credentials, none given",
        proxy: Some(SOCKS_AUTH),
        args: &["--proxy", "socks5://127.0.0.1:{proxy}"],
        expect: "proxy.auth_required",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "ok.http_connect",
        title: "secure WebSockets through an HTTP CONNECT proxy",
        fault: WSS,
        proxy: Some(HTTP_PROXY),
        url: "wss://localhost:{port}/mqtt",
        args: &[
            "--ca",
            "{dir}/lab-ca.pem",
            "--proxy",
            "http://127.0.0.1:{proxy}",
        ],
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "ok.http_connect_auth",
        title: "MQTT over TLS through an HTTP CONNECT proxy with Basic authentication",
        fault: TLS_OK,
        proxy: Some(HTTP_PROXY_AUTH),
        url: "mqtts://localhost:{port}",
        args: &[
            "--ca",
            "{dir}/lab-ca.pem",
            "--proxy",
            "http://alice@127.0.0.1:{proxy}",
            "--proxy-password-env",
            "LAB_PROXY_PASSWORD",
        ],
        env: PROXY_PASSWORD_ENV,
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "proxy.auth_required.http",
        title: "HTTP proxy answers 407",
        proxy: Some(HTTP_PROXY_AUTH),
        args: &["--proxy", "http://127.0.0.1:{proxy}"],
        expect: "proxy.auth_required",
        says: Some("HTTP 407"),
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "proxy.failed.socks_0x01",
        title: "SOCKS5 reply 0x01 (general SOCKS server failure)",
        proxy: Some(socks(Some(0x01), false)),
        url: "mqtt://broker.example.com:{port}",
        args: &["--proxy", "socks5://127.0.0.1:{proxy}"],
        expect: "proxy.failed",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "proxy.denied.socks_0x02",
        title: "SOCKS5 reply 0x02 (connection not allowed by ruleset)",
        proxy: Some(socks(Some(0x02), false)),
        url: "mqtt://broker.example.com:{port}",
        args: &["--proxy", "socks5://127.0.0.1:{proxy}"],
        expect: "proxy.denied",
        says: Some("connection not allowed by ruleset"),
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "proxy.target_unreachable.socks_0x03",
        title: "SOCKS5 reply 0x03 (network unreachable)",
        proxy: Some(socks(Some(0x03), false)),
        url: "mqtt://broker.example.com:{port}",
        args: &["--proxy", "socks5://127.0.0.1:{proxy}"],
        expect: "proxy.target_unreachable",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "proxy.target_unreachable.socks_0x04",
        title: "SOCKS5 reply 0x04 (host unreachable)",
        proxy: Some(socks(Some(0x04), false)),
        url: "mqtt://broker.example.com:{port}",
        args: &["--proxy", "socks5://127.0.0.1:{proxy}"],
        expect: "proxy.target_unreachable",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "proxy.refused.socks_0x05",
        title: "SOCKS5 reply 0x05 (connection refused)",
        proxy: Some(socks(Some(0x05), false)),
        url: "mqtt://broker.example.com:{port}",
        args: &["--proxy", "socks5://127.0.0.1:{proxy}"],
        expect: "proxy.refused",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "proxy.denied.http_403",
        title: "HTTP proxy answers 403",
        fault: WSS,
        proxy: Some(http_proxy(Some(403), false)),
        url: "wss://broker.example.com:{port}",
        args: &["--proxy", "http://127.0.0.1:{proxy}"],
        expect: "proxy.denied",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "proxy.target_unreachable.http_502",
        title: "HTTP proxy answers 502",
        fault: WSS,
        proxy: Some(http_proxy(Some(502), false)),
        url: "wss://broker.example.com:{port}",
        args: &["--proxy", "http://127.0.0.1:{proxy}"],
        expect: "proxy.target_unreachable",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "proxy.target_unreachable.http_504",
        title: "HTTP proxy answers 504",
        fault: WSS,
        proxy: Some(http_proxy(Some(504), false)),
        url: "wss://broker.example.com:{port}",
        args: &["--proxy", "http://127.0.0.1:{proxy}"],
        expect: "proxy.target_unreachable",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "proxy.not_a_proxy",
        title: "a web server named as HTTP proxy",
        proxy: Some(Fault::Http),
        args: &["--proxy", "http://127.0.0.1:{proxy}"],
        expect: "proxy.not_a_proxy",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "proxy.not_a_proxy.broker",
        title: "the broker's own port named as SOCKS5 proxy",
        args: &["--proxy", "socks5://127.0.0.1:{port}"],
        expect: "proxy.not_a_proxy",
        says: Some("so it is an MQTT broker"),
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "proxy.timeout",
        title: "a proxy that never answers",
        proxy: Some(Fault::Silent),
        args: &["--proxy", "socks5://127.0.0.1:{proxy}", "--timeout", "1"],
        expect: "proxy.timeout",
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "proxy.refused.proxy_down",
        title: "nothing listens at the proxy's address",
        proxy: Some(Fault::Refused),
        args: &["--proxy", "http://127.0.0.1:{proxy}"],
        expect: "proxy.refused",
        says: Some("(from --proxy) cannot be reached"),
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "proxy.timeout.connect",
        title: "the proxy's address drops the connection attempt",
        proxy: Some(Fault::BlackHole),
        args: &["--proxy", "socks5://127.0.0.1:{proxy}", "--timeout", "1"],
        expect: "proxy.timeout",
        says: Some("cannot be reached"),
        ..ScenarioSpec::BASE
    },
    ScenarioSpec {
        id: "proxy.dns",
        title: "the proxy's host name does not resolve",
        args: &[
            "--proxy",
            "socks5://proxy.nxdomain.lab.test:1080",
            "--dns-server",
            "{dns}",
        ],
        expect: "proxy.dns",
        says: Some("proxy.nxdomain.lab.test does not exist"),
        ..ScenarioSpec::BASE
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_and_every_expected_cause_is_in_the_catalog() {
        let mut seen = HashSet::new();
        for s in SCENARIOS {
            assert!(seen.insert(s.id), "duplicate scenario id {}", s.id);
            assert!(!s.title.is_empty(), "{}", s.id);
            for cause in std::iter::once(s.expect).filter(|c| *c != "ok") {
                assert!(crate::explain::cause_info(cause).is_some(), "{}", s.id);
            }
            for w in s.warns {
                assert!(crate::explain::cause_info(w).is_some(), "{}: {w}", s.id);
            }
        }
        assert_eq!(SCENARIOS.len(), 138);
    }

    #[test]
    fn every_template_names_only_what_the_scenario_has() {
        for s in SCENARIOS {
            let value = |name: &str| match name {
                "port" | "dir" | "dns" => Some("x".to_string()),
                "proxy" => s.proxy.map(|_| "x".to_string()),
                _ => None,
            };
            for t in std::iter::once(&s.url).chain(s.args) {
                assert!(super::super::fill_in(t, value).is_some(), "{}: {t}", s.id);
            }
        }
    }

    #[test]
    fn fill_in_replaces_each_name_and_refuses_unknown_ones() {
        let value = |name: &str| (name == "port").then(|| "1883".to_string());
        assert_eq!(
            super::super::fill_in("mqtt://h:{port}/{port}", value).as_deref(),
            Some("mqtt://h:1883/1883")
        );
        assert_eq!(super::super::fill_in("{nope}", value), None);
        assert_eq!(super::super::fill_in("open {port", value), None);
    }
}
