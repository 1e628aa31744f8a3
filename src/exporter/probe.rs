//! One probe: the profile (or ad-hoc URL) → `Plan` step, then one diagnosis under the scrape's
//! deadline that always comes back in time, naming the stage that ran out.

use rustls_pki_types::CertificateDer;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::diagnose::{self, Event, Plan, Report, Stage, StageReport, Status, TlsInfo};
use crate::profile::{self, Profile, ProfileStore};

/// Why no diagnosis ran. `reason` is the label value; the message goes to the log only.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PlanError {
    pub reason: &'static str,
    pub message: String,
}

/// The profile → Plan step: the core resolver every front uses, without command-line
/// overrides. Reads the profiles file on every probe, so edits apply without a restart.
/// Blocking (file, keyring): call it from `spawn_blocking`.
pub(crate) fn plan(profiles: &Path, name: &str) -> Result<Plan, PlanError> {
    // One broken profile in the file must not fail every other profile's probe.
    let store = ProfileStore::load_keeping_broken(profiles).map_err(|e| PlanError {
        reason: "profiles_file",
        message: e.to_string(),
    })?;
    if let Some(b) = store.broken().into_iter().find(|b| b.name == name) {
        return Err(PlanError {
            reason: "profile_unusable",
            message: format!("profile {name:?} cannot be loaded: {}", b.error),
        });
    }
    let profile = store.get(name).ok_or_else(|| PlanError {
        reason: "unknown_profile",
        message: format!("no profile named {name:?} in {}", profiles.display()),
    })?;
    let env = |k: &str| std::env::var(k).ok();
    profile::resolve(profile, &env, &profile::KeyringOnDemand::new()).map_err(|e| PlanError {
        reason: "profile_unusable",
        message: e.to_string(),
    })
}

/// An ad-hoc URL with default options. No environment lookups: a scraper must not be able
/// to make the exporter send a secret anywhere.
pub(crate) fn target_plan(url: &str) -> Result<Plan, PlanError> {
    let adhoc = Profile {
        url: Some(url.to_string()),
        ..Profile::default()
    };
    profile::resolve(&adhoc, &|_| None, &profile::KeyringOnDemand::new()).map_err(|e| PlanError {
        reason: "bad_target",
        message: e.to_string(),
    })
}

/// What one diagnosis produced, finished or cut off at the deadline.
#[derive(Debug, Clone)]
pub(crate) struct Ran {
    /// Stages that ran (ok or failed); the one cut off by the deadline is failed.
    pub stages: Vec<StageReport>,
    pub tls: Option<TlsInfo>,
    /// The failed stage and its cause id.
    pub failed: Option<(Stage, &'static str)>,
    /// The profile's own client certificate chain (its expiry is watched too).
    pub client_chain: Vec<CertificateDer<'static>>,
}

/// Runs `plan` so that the answer is ready within `deadline`: each stage's own deadline is
/// capped to it (so a single slow stage fails with the engine's own cause), and the whole run
/// is cut off at it (so several slow stages cannot add up past the scrape timeout).
pub(crate) async fn run(mut plan: Plan, deadline: Duration) -> Result<Ran, PlanError> {
    plan.timeout = plan.timeout.min(deadline);
    let client_chain = plan
        .tls
        .client
        .as_ref()
        .map(|c| c.certs.clone())
        .unwrap_or_default();
    let (handle, mut rx) = diagnose::spawn(plan);
    let mut running: Option<(Stage, Instant)> = None;
    let mut finished: Vec<StageReport> = Vec::new();
    let cutoff = tokio::time::sleep(deadline);
    tokio::pin!(cutoff);
    loop {
        tokio::select! {
            event = rx.recv() => match event {
                Some(Event::StageStarted(stage)) => running = Some((stage, Instant::now())),
                Some(Event::StageFinished(report)) => {
                    running = None;
                    finished.push(report);
                }
                Some(Event::Finished(report)) => return Ok(from_report(*report, client_chain)),
                Some(Event::Fact { .. }) => {}
                None => break,
            },
            _ = &mut cutoff => {
                handle.abort();
                return Ok(cut_off(finished, running, client_chain));
            }
        }
    }
    // The channel closed without a report: the engine task ended abnormally.
    match handle.await {
        Ok(report) => Ok(from_report(report, client_chain)),
        Err(e) => Err(PlanError {
            reason: "engine_failed",
            message: format!("the diagnosis task ended without a report ({e})"),
        }),
    }
}

fn ran_stage(s: &StageReport) -> bool {
    matches!(s.status, Status::Ok | Status::Failed)
}

fn from_report(report: Report, client_chain: Vec<CertificateDer<'static>>) -> Ran {
    let failed = match (
        report.verdict.ok,
        report.verdict.stage,
        report.verdict.cause,
    ) {
        (false, Some(stage), Some(cause)) => Some((stage, cause)),
        _ => None,
    };
    Ran {
        stages: report.stages.into_iter().filter(ran_stage).collect(),
        tls: report.tls,
        failed,
        client_chain,
    }
}

fn cut_off(
    mut finished: Vec<StageReport>,
    running: Option<(Stage, Instant)>,
    client_chain: Vec<CertificateDer<'static>>,
) -> Ran {
    finished.retain(ran_stage);
    // Between two stages nothing runs: the next stage after the last finished one ran out.
    let (stage, spent) = match running {
        Some((stage, started)) => (stage, started.elapsed()),
        None => (
            finished
                .last()
                .and_then(|s| Stage::ALL.into_iter().find(|n| *n > s.stage))
                .unwrap_or(Stage::Dns),
            Duration::ZERO,
        ),
    };
    let cause = crate::explain::timeout_cause(stage);
    let mut report = StageReport::new(stage);
    report.status = Status::Failed;
    report.duration_ms = spent.as_millis() as u64;
    report.cause = Some(cause);
    finished.push(report);
    Ran {
        stages: finished,
        tls: None,
        failed: Some((stage, cause)),
        client_chain,
    }
}
