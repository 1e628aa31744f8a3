//! The exporter's own health for `/metrics`: probes answered by result, probes in flight and
//! probe durations. One registry for the process; the metrics inside are shared atomics.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use std::time::Duration;

/// How a `/probe` request ended, as the `result` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProbeResult {
    /// Every stage passed.
    Success,
    /// The diagnosis ran and a stage failed (including a stage cut off by the deadline).
    Failure,
    /// No diagnosis ran: the profile or target could not be used.
    Error,
    /// Every probe slot was taken: answered 503 at once.
    Busy,
    /// The request itself was refused (4xx): no profile, or ad-hoc targets are off.
    Refused,
}

impl ProbeResult {
    const ALL: [ProbeResult; 5] = [
        ProbeResult::Success,
        ProbeResult::Failure,
        ProbeResult::Error,
        ProbeResult::Busy,
        ProbeResult::Refused,
    ];

    fn label(self) -> &'static str {
        match self {
            ProbeResult::Success => "success",
            ProbeResult::Failure => "failure",
            ProbeResult::Error => "error",
            ProbeResult::Busy => "busy",
            ProbeResult::Refused => "refused",
        }
    }
}

type ResultLabel = Vec<(&'static str, &'static str)>;

pub(crate) struct Health {
    registry: Registry,
    probes: Family<ResultLabel, Counter>,
    in_flight: Gauge,
    duration: Histogram,
}

/// Decrements the in-flight gauge when a probe ends, however it ends.
pub(crate) struct InFlight(Gauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl Health {
    pub(crate) fn new(max_concurrent: usize) -> Health {
        let mut registry = Registry::with_prefix("mqtt_doctor_exporter");
        let probes = Family::<ResultLabel, Counter>::default();
        registry.register(
            "probes",
            "Probe requests answered, by result",
            probes.clone(),
        );
        // Every result from the start, so rate() and alerts see a zero before the first one.
        for r in ProbeResult::ALL {
            probes.get_or_create(&vec![("result", r.label())]).inc_by(0);
        }
        let in_flight = Gauge::default();
        registry.register("probes_in_flight", "Probes running now", in_flight.clone());
        let limit: Gauge = Gauge::default();
        limit.set(max_concurrent as i64);
        registry.register(
            "max_concurrent_probes",
            "Probes allowed at once (max_concurrent_probes); more are answered 503",
            limit,
        );
        let duration = Histogram::new([0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0]);
        registry.register_with_unit(
            "probe_duration",
            "How long probes took, from request to answer",
            Unit::Seconds,
            duration.clone(),
        );
        Health {
            registry,
            probes,
            in_flight,
            duration,
        }
    }

    pub(crate) fn start(&self) -> InFlight {
        self.in_flight.inc();
        InFlight(self.in_flight.clone())
    }

    pub(crate) fn record(&self, result: ProbeResult, took: Option<Duration>) {
        self.probes
            .get_or_create(&vec![("result", result.label())])
            .inc();
        if let Some(t) = took {
            self.duration.observe(t.as_secs_f64());
        }
    }

    pub(crate) fn text(&self) -> String {
        let mut out = String::new();
        let _ = encode(&mut out, &self.registry);
        out
    }
}
