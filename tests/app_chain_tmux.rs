//! End to end in tmux with the real binary: the demo's "intermediate CA expired" scenario run
//! from Profiles, then the Chain tab (4) shows the expiry on the intermediate's own node.

mod common;

use common::tmux::Tmux;
use std::process::Command;

#[test]
fn demo_expired_intermediate_is_marked_on_its_node_in_the_chain_tab() {
    let tmux = Tmux {
        socket: format!("mqtt-doctor-chain-{}", std::process::id()),
    };
    let cmd = format!("{} demo; sleep 30", env!("CARGO_BIN_EXE_mqtt-doctor"));
    let out = Command::new("tmux")
        .args([
            "-L",
            &tmux.socket,
            "new-session",
            "-d",
            "-s",
            "app",
            "-x",
            "120",
            "-y",
            "40",
        ])
        .arg(cmd)
        .env("TERM", "xterm-256color")
        .status()
        .expect("tmux runs");
    assert!(out.success());
    tmux.wait_for("[1 Profiles]");
    // Filter down to the scenario, keep the filter, run it.
    tmux.keys(&["/"]);
    tmux.keys(&["-l", "tls.cert_expired.intermediate"]);
    tmux.keys(&["Enter"]);
    tmux.keys(&["Enter"]);
    let text = tmux.wait_for("Verdict of run 1");
    assert!(text.contains("[2 Diagnose]"), "{text}");
    tmux.wait_for("tls.cert_expired");
    tmux.keys(&["4"]);
    let text = tmux.wait_for("Old Intermediate CA");
    let lines: Vec<&str> = text.lines().collect();
    let node = lines
        .iter()
        .position(|l| l.contains("Old Intermediate CA") && l.contains("intermediate #"))
        .unwrap_or_else(|| panic!("the intermediate's node:\n{text}"));
    assert!(
        lines[node].contains('✘'),
        "marked failed: {}\n{text}",
        lines[node]
    );
    let expired = lines
        .iter()
        .position(|l| l.contains("expired 2 days ago"))
        .unwrap_or_else(|| panic!("the expiry:\n{text}"));
    assert!(expired > node, "drawn under the intermediate:\n{text}");
    let leaf = lines
        .iter()
        .position(|l| l.contains(" leaf #1 presented"))
        .unwrap_or_else(|| panic!("the leaf:\n{text}"));
    assert!(leaf < node, "leaf first:\n{text}");
    assert!(
        !lines[leaf].contains('✘'),
        "the leaf itself is fine: {}",
        lines[leaf]
    );
    tmux.keys(&["q"]);
}
