//! The staged diagnostic engine: dns → tcp → (proxy) → tls → ws → mqtt → sub.
//!
//! In: a [`Plan`] (what to diagnose, every file already read; fronts get one from
//! [`crate::profile::resolve`]). Run it with [`spawn`] (a tokio task streaming [`Event`]s over a
//! channel, for live fronts) or [`run`] (the same, awaited to the end). Out: a [`Report`] —
//! each [`StageReport`] with its [`Status`], duration, [`Facts`] and, for the failed stage, the
//! cause that `explain` worded. Stages stop at the first failure; later ones are `skipped`.
//! [`fetch_chain`] runs a plan up to TLS, unverified, for the chain a server presents.
//!
//! Everything else here is private to the engine; the lab's servers and the profile resolver
//! reach a few pieces of it through `pub(crate)` modules (the wire codec, the WebSocket framing,
//! the crypto provider, the route parser).

mod aia;
mod azure;
mod connector;
mod dns;
mod engine;
mod fetch;
mod io;
mod model;
mod mqtt;
mod plan;
mod probe;
pub(crate) mod proxy;
pub(crate) mod route;
mod tcp;
pub(crate) mod tls;
mod tls_stage;
pub(crate) mod wire;
pub(crate) mod ws;

pub use engine::{run, spawn};
pub use fetch::{FetchedChain, fetch_chain};
pub use model::{
    CertSummary, Event, Facts, Finding, Report, Stage, StageReport, Status, TargetInfo, TlsInfo,
    Verdict,
};
pub use plan::{
    CaBundle, ClientIdentity, Host, MqttOptions, MqttVersion, ParsedUrl, Plan, SubOptions, Target,
    TlsOptions, Transport, UrlError, env_value, random_client_id,
};
pub use route::{Proxy, ProxyKind, Route, WsOptions};
pub use tls::system_roots;
