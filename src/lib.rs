//! mqtt-doctor: staged diagnosis of MQTT connections (DNS → TCP → TLS → WebSocket → MQTT →
//! subscription), with a cause catalog that says what happened and what to do.
//!
//! The core (`diagnose`, `explain`, `certs`, `profile`, `secrets`, `report`, `lab`) has no
//! terminal code; `tui` and `cli` are thin fronts over it.

pub mod certs;
pub mod cli;
pub mod diagnose;
pub mod explain;
pub mod exporter;
pub mod lab;
pub mod profile;
pub mod report;
pub mod secrets;
pub mod text;
pub mod tui;
