//! The staged diagnostic engine: dns → tcp → (proxy) → tls → ws → mqtt → sub.
//!
//! [`spawn`] starts a run as a tokio task and streams [`Event`]s over a channel; [`run`] does
//! the same and returns the [`Report`]. Stages stop at the first failure; later ones are
//! reported `skipped`.

mod connector;
mod dns;
mod engine;
pub mod io;
pub mod model;
mod mqtt;
pub mod plan;
pub mod probe;
pub mod proxy;
pub mod route;
mod tcp;
pub mod tls;
mod tls_stage;
pub mod wire;
pub mod ws;

pub use engine::{Run, run, spawn};
pub use model::*;
pub use plan::*;
pub use tcp::interleave;
