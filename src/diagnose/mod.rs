//! The staged diagnostic engine: dns → tcp → (proxy) → tls → ws → mqtt → sub.

pub mod model;

pub use model::*;
pub mod plan;
pub use plan::*;
