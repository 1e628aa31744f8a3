//! mqtt-doctor: staged diagnosis of MQTT connections (DNS → TCP → TLS → WebSocket → MQTT →
//! subscription), with a cause catalog that says what happened and what to do.
//!
//! The core — `diagnose`, `explain`, `certs`, `profile`, `secrets`, `report`, `lab` — has no
//! terminal code; each module's comment says what goes in and what comes out, and its `pub use`
//! list is all a front may use. The fronts are thin: `cli` (clap commands, also the entry of
//! the binary) and `tui` (the ratatui app, reached through `cli`).

pub mod certs;
pub mod cli;
pub(crate) mod clock;
pub mod diagnose;
pub mod explain;
pub mod exporter;
#[doc(hidden)]
pub mod fuzzing;
pub mod lab;
pub mod profile;
pub mod report;
pub mod secrets;
pub(crate) mod text;
pub(crate) mod tui;
