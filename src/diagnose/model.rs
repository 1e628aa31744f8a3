//! The data a diagnosis produces: stages, their facts and findings, and the final report.
//! Pure data with serde; the words in findings come from `explain`.

use serde::{Serialize, Serializer};
use std::fmt;

/// A stage of the diagnosis, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Dns,
    Tcp,
    Proxy,
    Tls,
    Ws,
    Mqtt,
    Sub,
}

impl Stage {
    pub const ALL: [Stage; 7] = [
        Stage::Dns,
        Stage::Tcp,
        Stage::Proxy,
        Stage::Tls,
        Stage::Ws,
        Stage::Mqtt,
        Stage::Sub,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Stage::Dns => "dns",
            Stage::Tcp => "tcp",
            Stage::Proxy => "proxy",
            Stage::Tls => "tls",
            Stage::Ws => "ws",
            Stage::Mqtt => "mqtt",
            Stage::Sub => "sub",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Stage::Dns => "DNS",
            Stage::Tcp => "TCP",
            Stage::Proxy => "Proxy",
            Stage::Tls => "TLS",
            Stage::Ws => "WebSocket",
            Stage::Mqtt => "MQTT",
            Stage::Sub => "Subscription",
        }
    }

    /// Process exit code when this stage fails (documented in the README).
    pub fn exit_code(self) -> i32 {
        match self {
            Stage::Dns => 10,
            Stage::Tcp => 11,
            Stage::Tls => 12,
            Stage::Ws => 13,
            Stage::Mqtt => 14,
            Stage::Sub => 15,
            Stage::Proxy => 16,
        }
    }

    pub fn from_id(id: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.id() == id)
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pending,
    Running,
    Ok,
    Failed,
    Skipped,
}

/// Facts a stage saw, in the order it saw them. Serialised as a JSON object.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts(pub Vec<(String, serde_json::Value)>);

impl Facts {
    pub fn push(&mut self, key: impl Into<String>, value: impl Into<serde_json::Value>) {
        let key = key.into();
        let value = value.into();
        if let Some(slot) = self.0.iter_mut().find(|(k, _)| *k == key) {
            slot.1 = value;
        } else {
            self.0.push((key, value));
        }
    }

    pub fn get(&self, key: &str) -> Option<&serde_json::Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &(String, serde_json::Value)> {
        self.0.iter()
    }
}

impl Serialize for Facts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// A named cause with the words for the user (built by `explain`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Stable id, `<stage>.<cause>`, e.g. `tls.cert_expired`.
    pub cause: &'static str,
    /// One plain sentence: what happened.
    pub summary: String,
    /// One plain sentence: what to do.
    pub remedy: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageReport {
    pub stage: Stage,
    pub status: Status,
    pub duration_ms: u64,
    pub cause: Option<&'static str>,
    pub summary: Option<String>,
    pub remedy: Option<String>,
    pub facts: Facts,
    /// Problems that did not stop the stage (certificate expiring soon, chain out of order …).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Finding>,
}

impl StageReport {
    pub fn new(stage: Stage) -> Self {
        StageReport {
            stage,
            status: Status::Pending,
            duration_ms: 0,
            cause: None,
            summary: None,
            remedy: None,
            facts: Facts::default(),
            warnings: Vec::new(),
        }
    }

    pub fn finding(&self) -> Option<Finding> {
        Some(Finding {
            cause: self.cause?,
            summary: self.summary.clone().unwrap_or_default(),
            remedy: self.remedy.clone().unwrap_or_default(),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetInfo {
    pub url: String,
    pub host: String,
    pub port: u16,
    pub transport: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub ok: bool,
    pub stage: Option<Stage>,
    pub cause: Option<&'static str>,
    pub summary: String,
    pub remedy: Option<String>,
}

/// One certificate as presented by the peer (or loaded from a file), for reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CertSummary {
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    pub not_before: String,
    pub not_after: String,
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<String>,
    pub is_ca: bool,
    pub self_signed: bool,
    pub sha256: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TlsInfo {
    pub sni: Option<String>,
    pub version: Option<String>,
    pub cipher_suite: Option<String>,
    pub alpn: Option<String>,
    /// Whether the presented chain verified against the trust anchors in use.
    pub verified: bool,
    pub trust: String,
    pub chain: Vec<CertSummary>,
    /// Distinguished names of the CAs the server asked a client certificate from.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub client_ca_names: Vec<String>,
    /// What the chain analysis found, one sentence each (order, validity, names, keys …).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub chain_findings: Vec<String>,
    /// "subject, issued by issuer" of the client certificate we sent, for a refusal that
    /// arrives after the handshake; not in the JSON (the tls stage's facts name it).
    #[serde(skip)]
    pub client_certificate: Option<String>,
    /// The presented certificates themselves (for `cert fetch --pem`); not in the JSON.
    #[serde(skip)]
    pub chain_der: Vec<rustls_pki_types::CertificateDer<'static>>,
    /// The analysis of `chain_der` against the trust anchors, host and clock of the run (the
    /// app's Chain tab draws it); not in the JSON (`chain_findings` carries its words).
    #[serde(skip)]
    pub analysis: Option<crate::certs::Analysis>,
    /// The client chain configured for the run (the certificates of `--cert` or the `.p12`, in
    /// file order), set whenever a client identity is; not in the JSON.
    #[serde(skip)]
    pub client_chain_der: Vec<rustls_pki_types::CertificateDer<'static>>,
    /// The analysis of `client_chain_der` as a client chain against the run's trust anchors
    /// and clock (the app's Chain tab draws it when the verdict is about it); not in the JSON.
    #[serde(skip)]
    pub client_analysis: Option<crate::certs::Analysis>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub version: String,
    pub target: TargetInfo,
    pub verdict: Verdict,
    pub stages: Vec<StageReport>,
    pub tls: Option<TlsInfo>,
}

impl Report {
    /// What the stages took together (without the tool's own start-up).
    pub fn total_ms(&self) -> u64 {
        self.stages.iter().map(|s| s.duration_ms).sum()
    }

    /// The process exit code for this report: 0 when ok, else 10 + the failing stage.
    pub fn exit_code(&self) -> i32 {
        match self.verdict.stage {
            Some(stage) if !self.verdict.ok => stage.exit_code(),
            _ => 0,
        }
    }

    pub fn stage(&self, stage: Stage) -> Option<&StageReport> {
        self.stages.iter().find(|s| s.stage == stage)
    }

    pub fn failed_stage(&self) -> Option<&StageReport> {
        self.stages.iter().find(|s| s.status == Status::Failed)
    }
}

/// What the engine tells a front while it runs.
#[derive(Debug, Clone)]
pub enum Event {
    StageStarted(Stage),
    Fact {
        stage: Stage,
        key: String,
        value: serde_json::Value,
    },
    StageFinished(StageReport),
    Finished(Box<Report>),
}
