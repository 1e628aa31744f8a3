//! Runs a [`Plan`]: each stage in order with its own deadline, facts streamed as [`Event`]s,
//! stopping at the first failure. A finding is data, never an `Err`.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::model::*;
use super::plan::Plan;
use super::{dns, mqtt, proxy, tcp, tls_stage, ws};
use crate::explain::{Problem, explain};

/// Starts a diagnosis on the current tokio runtime. Dropping or aborting the handle cancels it.
pub fn spawn(plan: Plan) -> (JoinHandle<Report>, mpsc::Receiver<Event>) {
    let (tx, rx) = mpsc::channel(256);
    let handle = tokio::spawn(run(plan, tx));
    (handle, rx)
}

/// Runs a diagnosis to the end and returns its report; events go to `tx` as they happen
/// (a closed receiver is fine).
pub async fn run(plan: Plan, tx: mpsc::Sender<Event>) -> Report {
    let mut run = Run::new(plan, tx);
    run.execute().await;
    run.finish().await
}

/// One run's state, handed to each stage so it can record facts.
pub struct Run {
    pub plan: Plan,
    tx: mpsc::Sender<Event>,
    stages: Vec<StageReport>,
    pub tls_info: Option<TlsInfo>,
    /// A TLS 1.3 broker asked for a client certificate and judges it during the mqtt flight.
    pub client_auth_in_flight: bool,
    started: Option<Instant>,
    /// The fresh tcp connection, until the first stage after tcp ends: that stage's failure
    /// may be the peer's reset (`tcp::Watch::judge`).
    tcp_watch: Option<tcp::Watch>,
}

impl Run {
    fn new(plan: Plan, tx: mpsc::Sender<Event>) -> Run {
        let stages = plan.stages().into_iter().map(StageReport::new).collect();
        Run {
            plan,
            tx,
            stages,
            tls_info: None,
            client_auth_in_flight: false,
            started: None,
            tcp_watch: None,
        }
    }

    fn report_mut(&mut self, stage: Stage) -> Option<&mut StageReport> {
        self.stages.iter_mut().find(|s| s.stage == stage)
    }

    async fn send(&self, event: Event) {
        match &event {
            Event::StageStarted(stage) => tracing::info!(%stage, "stage started"),
            Event::StageFinished(r) => tracing::info!(
                stage = %r.stage,
                status = ?r.status,
                ms = r.duration_ms,
                cause = r.cause.unwrap_or("-"),
                "stage finished"
            ),
            _ => {}
        }
        let _ = self.tx.send(event).await;
    }

    async fn start(&mut self, stage: Stage) {
        self.started = Some(Instant::now());
        if let Some(r) = self.report_mut(stage) {
            r.status = Status::Running;
        }
        self.send(Event::StageStarted(stage)).await;
    }

    /// Records a fact for a stage and tells the front.
    pub async fn fact(&mut self, stage: Stage, key: &str, value: impl Into<serde_json::Value>) {
        let value = value.into();
        // Facts are what the JSON report shows: free of secrets by construction.
        tracing::debug!(%stage, key, %value, "fact");
        if let Some(r) = self.report_mut(stage) {
            r.facts.push(key, value.clone());
        }
        self.send(Event::Fact {
            stage,
            key: key.to_string(),
            value,
        })
        .await;
    }

    pub fn warn(&mut self, stage: Stage, problem: &Problem) {
        let finding = explain(problem);
        if let Some(r) = self.report_mut(stage) {
            r.warnings.push(finding);
        }
    }

    /// Ends the running stage. A problem is filed on the stage it belongs to
    /// ([`Problem::stage`]), which is not always the running one: a TLS 1.3 broker refuses
    /// our client certificate after the handshake, so the refusal is read while the mqtt
    /// stage waits for its CONNACK. Then the tls stage is the one that failed, and the
    /// running stage is skipped, saying that it never got its answer.
    async fn end(&mut self, stage: Stage, outcome: Option<Problem>) {
        let elapsed = self.started.take().map(|s| s.elapsed()).unwrap_or_default();
        let Some(problem) = outcome else {
            if let Some(r) = self.report_mut(stage) {
                r.duration_ms = elapsed.as_millis() as u64;
                r.status = Status::Ok;
                let snapshot = r.clone();
                self.send(Event::StageFinished(snapshot)).await;
            }
            return;
        };
        let owner = problem.stage();
        if owner != stage
            && let Some(r) = self.report_mut(stage)
        {
            r.duration_ms = elapsed.as_millis() as u64;
            r.status = Status::Skipped;
            r.summary = Some(if owner > stage {
                // Reaching a later stage's peer failed here (the proxy's name or port).
                format!(
                    "skipped: the {} stage failed (this stage was reaching it)",
                    owner.title()
                )
            } else {
                format!(
                    "skipped: the {} stage failed while this stage waited for its answer",
                    owner.title()
                )
            });
            let snapshot = r.clone();
            self.send(Event::StageFinished(snapshot)).await;
        }
        let f = explain(&problem);
        let r = self.report_for(owner);
        if owner == stage {
            r.duration_ms = elapsed.as_millis() as u64;
        }
        r.status = Status::Failed;
        r.cause = Some(f.cause);
        r.summary = Some(f.summary);
        r.remedy = Some(f.remedy);
        let snapshot = r.clone();
        self.send(Event::StageFinished(snapshot)).await;
    }

    /// The report of `stage`, added in stage order if the plan had none (so a problem always
    /// has its own stage to land on).
    fn report_for(&mut self, stage: Stage) -> &mut StageReport {
        let at = match self.stages.iter().position(|s| s.stage >= stage) {
            Some(i) if self.stages[i].stage == stage => i,
            Some(i) => {
                self.stages.insert(i, StageReport::new(stage));
                i
            }
            None => {
                self.stages.push(StageReport::new(stage));
                self.stages.len() - 1
            }
        };
        &mut self.stages[at]
    }

    async fn skip(&mut self, stage: Stage, why: &str) {
        if let Some(r) = self.report_mut(stage) {
            if r.status != Status::Pending {
                return;
            }
            r.status = Status::Skipped;
            r.summary = Some(why.to_string());
            let snapshot = r.clone();
            self.send(Event::StageFinished(snapshot)).await;
        }
    }

    /// Skips every pending stage after `after`, naming `owner` as the stage that failed.
    async fn skip_rest(&mut self, after: Stage, owner: Stage) {
        let rest: Vec<Stage> = self
            .stages
            .iter()
            .filter(|s| s.stage > after && s.status == Status::Pending)
            .map(|s| s.stage)
            .collect();
        for stage in rest {
            self.skip(
                stage,
                &format!("skipped: the {} stage failed", owner.title()),
            )
            .await;
        }
    }

    /// The per-stage deadline.
    pub fn timeout(&self) -> Duration {
        self.plan.timeout
    }

    pub fn now_unix(&self) -> i64 {
        crate::clock::now_unix()
    }

    /// Runs one stage body under the stage deadline (plus room for follow-up probes).
    async fn guarded<T>(
        &mut self,
        stage: Stage,
        on_timeout: Problem,
        body: impl AsyncFnOnce(&mut Run) -> Result<T, Problem>,
    ) -> Option<T> {
        self.start(stage).await;
        let hard = self.plan.timeout * 3 + Duration::from_secs(1);
        let mut result = match tokio::time::timeout(hard, body(self)).await {
            Ok(r) => r,
            Err(_) => Err(on_timeout),
        };
        // The first stage after tcp reads the peer's first answer, so a reset or close by the
        // peer lands here; it is filed on the tcp stage when the watch confirms it.
        if let Some(watch) = self.tcp_watch.take()
            && let Err(p) = &result
            && p.stage() == stage
            && let Some(reset) = watch.judge(self).await
        {
            result = Err(reset);
        }
        match result {
            Ok(v) => {
                self.end(stage, None).await;
                Some(v)
            }
            Err(p) => {
                // Reaching the proxy is the proxy's problem, not the broker's.
                let p = super::proxy::reframe(&self.plan, p);
                let owner = p.stage();
                let failed = owner.min(stage);
                self.end(stage, Some(p)).await;
                self.skip_rest(failed, owner).await;
                None
            }
        }
    }

    async fn execute(&mut self) {
        let secs = self.plan.timeout.as_secs().max(1);
        let host = self.plan.target.host_str();
        let addrs: Vec<IpAddr> = match self
            .guarded(
                Stage::Dns,
                Problem::DnsTimeout {
                    host: host.clone(),
                    secs,
                },
                async |run| dns::run(run).await,
            )
            .await
        {
            Some(a) => a,
            None => return,
        };
        // Through a proxy, the tcp stage connects to the proxy.
        let port = match &self.plan.route.proxy {
            Some(p) => p.port,
            None => self.plan.target.port,
        };
        let sockets: Vec<SocketAddr> = addrs.iter().map(|ip| SocketAddr::new(*ip, port)).collect();
        let Some(tcp) = self
            .guarded(
                Stage::Tcp,
                Problem::TcpTimeout {
                    addrs: sockets.clone(),
                    secs,
                },
                async |run| tcp::run(run, &sockets).await,
            )
            .await
        else {
            return;
        };
        let peer = tcp.peer;
        let mut tcp_stream = tcp.stream;
        self.tcp_watch = Some(tcp.watch);
        if let Some(p) = &self.plan.route.proxy {
            let on_timeout = Problem::Proxy(crate::explain::ProxyProblem::Timeout {
                proxy: p.url(),
                secs,
            });
            let Some(s) = self
                .guarded(Stage::Proxy, on_timeout, async |run| {
                    proxy::run(run, tcp_stream, peer).await
                })
                .await
            else {
                return;
            };
            tcp_stream = s;
        }
        let transport = self.plan.target.transport;
        let stream: super::io::BoxIo = if transport.uses_tls() {
            let Some(s) = self
                .guarded(Stage::Tls, Problem::TlsTimeout { secs }, async |run| {
                    tls_stage::run(run, tcp_stream, peer).await
                })
                .await
            else {
                return;
            };
            s
        } else {
            self.skip(
                Stage::Tls,
                &format!("not used: {} is not encrypted", transport.scheme()),
            )
            .await;
            Box::new(tcp_stream)
        };
        // Byte counts of everything above TLS, for a trace-level log.
        let mut stream: super::io::BoxIo = Box::new(super::io::Traced::new(stream));
        if self.plan.stop_after == Some(Stage::Tls) {
            for stage in [Stage::Ws, Stage::Mqtt, Stage::Sub] {
                self.skip(stage, "not requested").await;
            }
            return;
        }
        if transport.uses_ws() {
            let on_timeout = Problem::Ws(crate::explain::WsProblem::Timeout { secs, heard: false });
            let Some(s) = self
                .guarded(Stage::Ws, on_timeout, async |run| {
                    ws::run(run, stream, peer).await
                })
                .await
            else {
                return;
            };
            stream = s;
        } else {
            self.skip(
                Stage::Ws,
                &format!(
                    "not used: {} is MQTT directly over the connection",
                    transport.scheme()
                ),
            )
            .await;
        }
        let Some(session) = self
            .guarded(
                Stage::Mqtt,
                Problem::MqttConnackTimeout { secs },
                async |run| mqtt::connect(run, stream, peer).await,
            )
            .await
        else {
            return;
        };
        self.guarded(
            Stage::Sub,
            Problem::SubTimeout {
                waiting_for: crate::explain::Awaited::Suback,
                secs,
            },
            async |run| mqtt::subscribe(run, session).await,
        )
        .await;
    }

    async fn finish(self) -> Report {
        let failed = self.stages.iter().find(|s| s.status == Status::Failed);
        let verdict = match failed {
            Some(s) => Verdict {
                ok: false,
                stage: Some(s.stage),
                cause: s.cause,
                summary: s.summary.clone().unwrap_or_default(),
                remedy: s.remedy.clone(),
            },
            None => Verdict {
                ok: true,
                stage: None,
                cause: None,
                summary: crate::explain::ok_summary(&self.stages),
                remedy: None,
            },
        };
        let target = &self.plan.target;
        let report = Report {
            version: env!("CARGO_PKG_VERSION").to_string(),
            target: TargetInfo {
                url: target.url(),
                host: target.host_str(),
                port: target.port,
                transport: target.transport.scheme().to_string(),
            },
            verdict,
            stages: self.stages,
            tls: self.tls_info,
        };
        let _ = self
            .tx
            .send(Event::Finished(Box::new(report.clone())))
            .await;
        report
    }
}
