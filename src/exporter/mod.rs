//! `mqtt-doctor exporter`: a Prometheus exporter front in the manner of blackbox_exporter.
//! `/probe?profile=NAME` runs one diagnosis and answers OpenMetrics text; `/metrics` is its health.
//!
//! A thin front: the profile → Plan step is [`probe::plan`], the run is `diagnose::spawn`, the
//! words live in `explain`; this module adds only labels. It has no scheduler or store of its
//! own: Prometheus decides when to probe, keeps the series and raises the alerts.

mod config;
mod health;
mod metrics;
mod probe;

pub use config::{Config, ConfigError};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

use crate::cli::InputError;
use crate::text::sanitize;
use health::{Health, ProbeResult};
use probe::PlanError;

/// Time kept back from the scrape timeout so the answer is on the wire before Prometheus
/// gives up (encoding and the HTTP round trip take a few milliseconds; 0.5 s is ample).
const SCRAPE_MARGIN: Duration = Duration::from_millis(500);

/// `mqtt-doctor exporter`.
#[derive(Debug, clap::Args)]
pub struct ExporterArgs {
    /// Address to listen on [default: 127.0.0.1:9742, or `listen` in the exporter file];
    /// port 0 picks a free port (the address is printed).
    #[arg(long, value_name = "IP:PORT")]
    pub listen: Option<SocketAddr>,
    /// The exporter's own settings (TOML: listen, max_concurrent_probes, allow_targets,
    /// default_timeout_secs, profiles). The global --config names the profiles file.
    #[arg(long, value_name = "FILE")]
    pub exporter_config: Option<PathBuf>,
}

/// Runs the exporter until Ctrl-C. `profiles` is the global `--config` (or
/// MQTT_DOCTOR_CONFIG), which wins over `profiles` in the exporter file.
pub async fn run(args: ExporterArgs, profiles: Option<&Path>) -> Result<i32, InputError> {
    let mut config = match &args.exporter_config {
        Some(path) => Config::load(path).map_err(|e| InputError(e.to_string()))?,
        None => Config::default(),
    };
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    let profiles = crate::cli::profiles::config_path(profiles.or(config.profiles.as_deref()))?;
    let listener = listen(config.listen).map_err(|e| {
        InputError(format!(
            "--listen {}: cannot listen there ({e})",
            config.listen
        ))
    })?;
    let addr = listener
        .local_addr()
        .map_err(|e| InputError(format!("--listen {}: {e}", config.listen)))?;
    println!(
        "mqtt-doctor exporter: listening on http://{addr} (profiles: {}; at most {} probes at once; ad-hoc targets {})",
        sanitize(&profiles.display().to_string()),
        config.max_concurrent_probes,
        if config.allow_targets {
            "allowed"
        } else {
            "off"
        },
    );
    let app = router(config, profiles);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| InputError(format!("the exporter's HTTP server stopped: {e}")))?;
    Ok(0)
}

/// A listener with a deep accept queue: the default (128) drops the SYNs of a burst of
/// scrapes, and each dropped one waits a full second for its retransmission (measured with 200
/// concurrent scrapes: answers at deadline + 1 s).
fn listen(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(4096)
}

struct Shared {
    config: Config,
    profiles: PathBuf,
    slots: Arc<Semaphore>,
    health: Health,
}

/// The HTTP routes over one shared state.
fn router(config: Config, profiles: PathBuf) -> Router {
    let shared = Arc::new(Shared {
        slots: Arc::new(Semaphore::new(config.max_concurrent_probes)),
        health: Health::new(config.max_concurrent_probes),
        config,
        profiles,
    });
    Router::new()
        .route("/", get(index))
        .route("/metrics", get(own_metrics))
        .route("/probe", get(probe_handler))
        .with_state(shared)
}

async fn index() -> &'static str {
    "mqtt-doctor exporter\n\n\
     /probe?profile=NAME   diagnose a saved profile (Prometheus text; see the README's scrape config)\n\
     /metrics              the exporter's own health\n"
}

async fn own_metrics(State(shared): State<Arc<Shared>>) -> Response {
    (
        [(header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
        shared.health.text(),
    )
        .into_response()
}

#[derive(Debug, serde::Deserialize)]
struct ProbeQuery {
    profile: Option<String>,
    target: Option<String>,
}

fn sentence(status: StatusCode, text: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text + "\n",
    )
        .into_response()
}

/// The whole-probe deadline: the scrape timeout Prometheus sends, minus a margin (never less
/// than half of it), else the configured default.
fn deadline(headers: &HeaderMap, default: Duration) -> Duration {
    let scrape = headers
        .get("x-prometheus-scrape-timeout-seconds")
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0);
    match scrape {
        Some(secs) => {
            let whole = Duration::from_secs_f64(secs.min(300.0));
            whole.saturating_sub(SCRAPE_MARGIN).max(whole / 2)
        }
        None => default,
    }
}

async fn probe_handler(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<ProbeQuery>,
    headers: HeaderMap,
) -> Response {
    let health = &shared.health;
    let profile = q.profile.filter(|p| !p.is_empty());
    let target = q.target.filter(|t| !t.is_empty());
    let refused = |status, text: &str| {
        health.record(ProbeResult::Refused, None);
        sentence(status, text.to_string())
    };
    let subject = match (profile, target) {
        (Some(_), Some(_)) => {
            return refused(
                StatusCode::BAD_REQUEST,
                "Give either profile=NAME or target=URL, not both.",
            );
        }
        (None, None) => {
            return refused(
                StatusCode::BAD_REQUEST,
                "Name what to probe: /probe?profile=NAME (a saved profile).",
            );
        }
        (None, Some(_)) if !shared.config.allow_targets => {
            return refused(
                StatusCode::FORBIDDEN,
                "Ad-hoc targets are off, so a scraper cannot make this exporter connect anywhere: probe a saved profile with /probe?profile=NAME, or set allow_targets = true in the exporter configuration.",
            );
        }
        (Some(p), None) => Subject::Profile(p),
        (None, Some(t)) => Subject::Target(t),
    };
    let Ok(_permit) = shared.slots.clone().try_acquire_owned() else {
        health.record(ProbeResult::Busy, None);
        return sentence(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "All {} probe slots are busy; this probe was not run. Scrape less often or raise max_concurrent_probes.",
                shared.config.max_concurrent_probes
            ),
        );
    };
    let _in_flight = health.start();
    let started = Instant::now();
    let deadline = deadline(&headers, shared.config.default_timeout);
    let outcome = match make_plan(&shared, subject.clone(), deadline).await {
        Ok(plan) => probe::run(plan, deadline.saturating_sub(started.elapsed())).await,
        Err(e) => Err(e),
    };
    let took = started.elapsed();
    let result = match &outcome {
        Ok(ran) if ran.failed.is_none() => ProbeResult::Success,
        Ok(_) => ProbeResult::Failure,
        Err(e) => {
            // The sentence goes to the log, not into a label; profile errors carry no secret.
            eprintln!(
                "mqtt-doctor exporter: {subject}: {} ({})",
                sanitize(&e.message),
                e.reason
            );
            ProbeResult::Error
        }
    };
    health.record(result, Some(took));
    (
        [(header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
        metrics::probe_text(&outcome, took),
    )
        .into_response()
}

#[derive(Debug, Clone)]
enum Subject {
    Profile(String),
    Target(String),
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Subject::Profile(p) => write!(f, "profile {:?}", sanitize(p)),
            // Only the parsed, password-free form of a URL is ever shown.
            Subject::Target(t) => match t.parse::<crate::diagnose::ParsedUrl>() {
                Ok(u) => write!(f, "target {}", sanitize(&u.target.url())),
                Err(_) => f.write_str("target (unreadable URL)"),
            },
        }
    }
}

/// The plan step off the async threads (profiles file, keyring), under the same deadline.
async fn make_plan(
    shared: &Shared,
    subject: Subject,
    deadline: Duration,
) -> Result<crate::diagnose::Plan, PlanError> {
    let profiles = shared.profiles.clone();
    let work = tokio::task::spawn_blocking(move || match subject {
        Subject::Profile(name) => probe::plan(&profiles, &name),
        Subject::Target(url) => probe::target_plan(&url),
    });
    match tokio::time::timeout(deadline, work).await {
        Ok(Ok(result)) => result,
        Ok(Err(e)) => Err(PlanError {
            reason: "engine_failed",
            message: format!("reading the profile failed ({e})"),
        }),
        Err(_) => Err(PlanError {
            reason: "profile_timeout",
            message: format!(
                "reading the profile (file or keyring) took longer than the probe deadline of {:.1} s",
                deadline.as_secs_f64()
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_header(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("X-Prometheus-Scrape-Timeout-Seconds", v.parse().unwrap());
        h
    }

    #[test]
    fn the_scrape_timeout_minus_a_margin_is_the_deadline() {
        let default = Duration::from_secs(10);
        assert_eq!(
            deadline(&with_header("10"), default),
            Duration::from_millis(9500)
        );
        assert_eq!(
            deadline(&with_header("2.5"), default),
            Duration::from_secs(2)
        );
        // Under a second the margin would eat most of it: half the timeout instead.
        assert_eq!(
            deadline(&with_header("0.6"), default),
            Duration::from_millis(300)
        );
        assert_eq!(deadline(&HeaderMap::new(), default), default);
        assert_eq!(deadline(&with_header("soon"), default), default);
        assert_eq!(deadline(&with_header("-3"), default), default);
    }
}
