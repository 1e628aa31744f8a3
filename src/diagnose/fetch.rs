//! The chain a server presents, fetched without trusting it (`cert fetch`, the wizard's broker
//! source): one TLS handshake with verification off, then the core's analysis of what came.
//!
//! In: a [`Plan`] for a TLS URL and the clock. Out: a [`FetchedChain`] — the run's report, the
//! certificates as presented, and their analysis against the plan's CA file or the system roots.

use rustls_pki_types::CertificateDer;

use super::{Plan, Report, Stage};
use crate::certs::{self, Analysis};

/// What a fetch brought back.
#[derive(Debug, Clone)]
pub struct FetchedChain {
    /// The run up to the TLS stage (its verdict tells why the chain is empty, if it is).
    pub report: Report,
    /// The certificates as presented, in that order (empty when the handshake failed).
    pub chain: Vec<CertificateDer<'static>>,
    /// The analysis of `chain` against the plan's `--ca`/`tls.ca` anchors, else the system
    /// roots, for `host` at the given clock; `None` when nothing was presented, or when what
    /// was presented cannot be analysed (then `analysis_error` says why).
    pub analysis: Option<Analysis>,
    /// Why a presented chain could not be analysed (a certificate that does not parse).
    pub analysis_error: Option<String>,
    /// The name the chain was checked against (the SNI, else the URL's host).
    pub host: String,
    /// Whether the anchors were the system roots (no CA file in the plan).
    pub system_roots: bool,
}

impl FetchedChain {
    /// Whether the presented chain verified against the anchors it was analysed with: it
    /// closes at an anchor and no finding is an error (expired, wrong name …).
    pub fn trusted(&self) -> bool {
        self.analysis.as_ref().is_some_and(|a| {
            a.worst() != Some(certs::Severity::Error)
                && a.findings
                    .iter()
                    .any(|f| matches!(f.kind, certs::FindingKind::Trusted { .. }))
        })
    }
}

/// Connects (verification off: the point is to see a chain that would not verify), stops after
/// the TLS stage and analyses the presented chain. `Err` is one sentence: not a TLS URL. A
/// failed connection is not an `Err`: the report's verdict says why, and `chain` is empty.
pub async fn fetch_chain(mut plan: Plan, now: i64) -> Result<FetchedChain, String> {
    if !plan.target.transport.uses_tls() {
        return Err(format!(
            "{}: the chain a server presents can only be fetched over TLS (mqtts:// or wss://)",
            crate::text::sanitize(&plan.target.url())
        ));
    }
    plan.tls.insecure = true;
    plan.stop_after = Some(Stage::Tls);
    let host = plan.server_name();
    // The plan already read and checked the CA file: analyse against the same certificates.
    let ca_anchors = plan.tls.ca.as_ref().map(|ca| ca.certs.clone());
    let report = super::run(plan, tokio::sync::mpsc::channel(64).0).await;
    let chain = report
        .tls
        .as_ref()
        .map(|t| t.chain_der.clone())
        .unwrap_or_default();
    let system_roots = ca_anchors.is_none();
    if chain.is_empty() {
        return Ok(FetchedChain {
            report,
            chain,
            analysis: None,
            analysis_error: None,
            host,
            system_roots,
        });
    }
    let anchors = match ca_anchors {
        Some(certs) => certs,
        None => super::system_roots().await.anchors.clone(),
    };
    let opts = certs::AnalyzeOptions {
        host: Some(&host),
        now,
        anchors: &anchors,
        purpose: certs::Purpose::Server,
        key: None,
        expiry_warning_days: 30,
    };
    let (analysis, analysis_error) = match certs::analyze(&chain, &opts) {
        Ok(a) => (Some(a), None),
        Err(e) => (None, Some(e.to_string())),
    };
    Ok(FetchedChain {
        report,
        chain,
        analysis,
        analysis_error,
        host,
        system_roots,
    })
}
