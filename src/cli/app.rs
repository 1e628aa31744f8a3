//! The command lines that open the app: `mqtt-doctor`, `mqtt-doctor --profile NAME`,
//! `mqtt-doctor URL` and `mqtt-doctor demo` (the lab's scenarios as in-memory profiles).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::Args;

use super::{ConnArgs, InputError, build_inputs, prompt_password};
use crate::diagnose::Stage;
use crate::profile::ProfileStore;
use crate::tui::{self, MemoryProfile, Options, Start};

/// How the app looks (app.toml beside profiles.toml sets the same).
#[derive(Debug, Clone, Default, Args)]
pub struct AppArgs {
    /// Colour theme: dark, light or high-contrast (NO_COLOR removes every colour).
    #[arg(long, value_name = "THEME")]
    pub theme: Option<String>,
    /// ASCII instead of braille spinners, box and tree glyphs and ✔/✘.
    #[arg(long)]
    pub ascii: bool,
}

impl AppArgs {
    pub fn given(&self) -> bool {
        self.theme.is_some() || self.ascii
    }

    /// Flags given before `demo` and after it, together.
    pub fn joined(&self, other: &AppArgs) -> AppArgs {
        AppArgs {
            theme: other.theme.clone().or_else(|| self.theme.clone()),
            ascii: self.ascii || other.ascii,
        }
    }

    fn options(&self) -> Options {
        Options {
            theme: self.theme.clone(),
            ascii: self.ascii,
        }
    }
}

fn profiles_path(config: Option<&Path>) -> Result<PathBuf, InputError> {
    match config {
        Some(p) => Ok(p.to_path_buf()),
        None => ProfileStore::default_path().map_err(|e| InputError(e.to_string())),
    }
}

fn need_terminal(what: &str) -> Result<(), InputError> {
    if std::io::stdout().is_terminal() && std::io::stdin().is_terminal() {
        Ok(())
    } else {
        Err(InputError(format!("the app needs a terminal; {what}")))
    }
}

/// `mqtt-doctor [URL | --profile NAME]`: returns the exit code (a URL or profile: that of
/// its last finished run, as `check` would).
pub async fn open(
    url: Option<String>,
    profile: Option<String>,
    conn: &ConnArgs,
    args: &AppArgs,
    config: Option<&Path>,
) -> Result<i32, InputError> {
    let start = match (url, profile) {
        (Some(_), Some(_)) => {
            return Err(InputError(
                "give either a URL or --profile NAME, not both".into(),
            ));
        }
        (Some(url), None) => {
            let mut inputs = build_inputs(&url, conn, &|k| std::env::var(k).ok())?;
            if conn.password_prompt {
                inputs.plan.mqtt.password = Some(prompt_password("MQTT password: ")?);
            }
            need_terminal("use `mqtt-doctor check URL` in scripts")?;
            Start::Url(Box::new(inputs))
        }
        (None, profile) => {
            let given = conn.given();
            if !given.is_empty() {
                return Err(InputError(format!(
                    "{} needs a broker URL (mqtt-doctor URL {})",
                    given.join(", "),
                    given.join(" ")
                )));
            }
            need_terminal("use `mqtt-doctor check --profile NAME` or `check --all` in scripts")?;
            match profile {
                Some(name) => Start::Profile(name),
                None => Start::Profiles,
            }
        }
    };
    // Opened on Profiles, the session checked whatever the user chose: it is no one check's
    // verdict, so it exits 0.
    let of_one_target = !matches!(start, Start::Profiles);
    let setup = tui::setup(start, profiles_path(config)?, &args.options()).map_err(InputError)?;
    let report = tui::run(setup)
        .await
        .map_err(|e| InputError(format!("the terminal failed: {e}")))?;
    Ok(report
        .filter(|_| of_one_target)
        .map(|r| r.exit_code())
        .unwrap_or(0))
}

/// The lab's scenarios as in-memory profiles, grouped by the stage that fails ("OK" last).
pub fn demo_entries(lab: &crate::lab::Lab) -> Vec<(MemoryProfile, tui::RunInputs)> {
    let plans = super::scenario_inputs(lab);
    let mut out: Vec<(usize, MemoryProfile, tui::RunInputs)> = Vec::new();
    for (id, _, plan) in plans {
        let Some(s) = lab.scenario(&id) else {
            continue;
        };
        let stage = s.expect.split('.').next().and_then(Stage::from_id);
        let (order, group) = match stage {
            Some(st) => (
                Stage::ALL.iter().position(|x| *x == st).unwrap_or(0),
                st.title().to_string(),
            ),
            None => (Stage::ALL.len(), "OK".to_string()),
        };
        out.push((
            order,
            MemoryProfile {
                name: s.id.clone(),
                group,
                title: format!("{}: {}", s.expect, s.title),
                url: s.url.clone(),
            },
            plan,
        ));
    }
    // Stable: the lab's own order inside a group.
    out.sort_by_key(|(order, _, _)| *order);
    out.into_iter().map(|(_, p, plan)| (p, plan)).collect()
}

/// `mqtt-doctor demo`: the app over a temporary profile for every lab scenario. Nothing is
/// written to the user's config; the lab's folder (it holds private keys) goes when the lab
/// is dropped, which every way out of the app (q, Ctrl-C, SIGTERM, SIGHUP) reaches.
pub async fn demo(args: &AppArgs, config: Option<&Path>) -> Result<i32, InputError> {
    need_terminal("`mqtt-doctor lab` prints the scenarios for scripts")?;
    // Keys and look come from app.toml beside the profiles file; nothing else is read.
    let config_path = profiles_path(config).unwrap_or_else(|_| PathBuf::from("profiles.toml"));
    let lab = crate::lab::Lab::start()
        .await
        .map_err(|e| InputError(e.to_string()))?;
    let setup =
        tui::setup_demo(demo_entries(&lab), config_path, &args.options()).map_err(InputError)?;
    let result = tui::run(setup).await;
    drop(lab);
    result.map_err(|e| InputError(format!("the terminal failed: {e}")))?;
    Ok(0)
}
