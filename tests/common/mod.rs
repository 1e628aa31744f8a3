//! Shared test fixtures: a real Mosquitto started with its own config on free ports.

#![allow(dead_code)]

pub mod tmux;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `s` quoted for a POSIX shell (the commands tmux runs).
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Runs the openssl command line in `dir` (certificates made at test time); a failure shows
/// its stderr.
pub fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl runs (scripts/test installs it)");
    assert!(
        out.status.success(),
        "openssl {args:?}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A Mosquitto process, killed on drop.
pub struct Mosquitto {
    child: Child,
    pub dir: tempfile::TempDir,
    pub log: PathBuf,
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Mosquitto {
    /// Starts mosquitto with `config` (written to the temp dir `dir`) and waits until every
    /// port in `ports` accepts connections.
    pub fn start(dir: tempfile::TempDir, config: &str, ports: &[u16]) -> Mosquitto {
        let conf = dir.path().join("mosquitto.conf");
        let log = dir.path().join("mosquitto.log");
        let full = format!(
            "user root\npersistence false\nlog_dest file {}\nlog_type all\nper_listener_settings true\n{config}",
            log.display()
        );
        std::fs::write(&conf, full).expect("write config");
        let child = Command::new("mosquitto")
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto must be installed (scripts/test installs it)");
        let m = Mosquitto { child, dir, log };
        let deadline = Instant::now() + Duration::from_secs(10);
        for port in ports {
            loop {
                if std::net::TcpStream::connect(("127.0.0.1", *port)).is_ok() {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "mosquitto did not open port {port}; log:\n{}",
                    std::fs::read_to_string(&m.log).unwrap_or_default()
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        m
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

pub fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, content).expect("write file");
    p
}

/// Runs the built binary with `args`, returns (exit code, stdout, stderr).
pub fn run(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mqtt-doctor"));
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("the binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `check … --json`: (exit code, parsed JSON).
pub fn check_json(args: &[&str], env: &[(&str, &str)]) -> (i32, serde_json::Value) {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    all.push("--json");
    let (code, stdout, stderr) = run(&all, env);
    let json = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}\nstderr:\n{stderr}"));
    (code, json)
}

pub fn cause(json: &serde_json::Value) -> String {
    if json["verdict"]["ok"] == true {
        "ok".into()
    } else {
        json["verdict"]["cause"].as_str().unwrap_or("?").into()
    }
}

/// Runs `mqtt-doctor check ARGS --json` with extra environment; returns the exit code, the
/// parsed JSON report and the raw stdout. Every run has a deadline of its own.
pub async fn check_json_async(
    args: &[String],
    env: &[(String, String)],
) -> (i32, serde_json::Value, String) {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_mqtt-doctor"));
    cmd.arg("check").args(args).arg("--json");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .expect("the binary must finish within its deadlines")
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), json, stdout)
}
