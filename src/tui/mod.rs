//! Placeholder until the ratatui front lands (branch `tui`).
use crate::diagnose::{Plan, Report};
use std::io;

pub async fn run_live(plan: Plan) -> io::Result<Option<Report>> {
    let _ = plan;
    Err(io::Error::other("the live view is not built yet"))
}

pub async fn run_demo(scenarios: Vec<(String, String, Plan)>) -> io::Result<()> {
    let _ = scenarios;
    Err(io::Error::other("the live view is not built yet"))
}
