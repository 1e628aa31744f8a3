//! A tmux server of the test's own (`-L`) for driving the real binary end to end: it inherits
//! the test's environment (the private D-Bus session and keyring of scripts/test).

use std::process::Command;
use std::time::{Duration, Instant};

/// One tmux server with one session, `app`; killed with the test.
pub struct Tmux {
    pub socket: String,
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

impl Tmux {
    pub fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("tmux is installed (scripts/test installs it)");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "app"])
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "app"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    /// Types `text` literally.
    pub fn text(&self, text: &str) {
        self.keys(&["-l", text]);
    }

    /// Waits until `needle` is on screen.
    pub fn wait_for(&self, needle: &str) -> String {
        self.wait_for_never(needle, None)
    }

    /// Waits until `needle` is on screen; every screen seen is checked for `never`.
    pub fn wait_for_never(&self, needle: &str, never: Option<&str>) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let text = self.screen();
            if let Some(never) = never {
                assert!(!text.contains(never), "{never:?} is on screen:\n{text}");
            }
            if text.contains(needle) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "{needle:?} never appeared:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
