//! Unix seconds from the system clock: the `now` the pure core functions are handed
//! (`certs::analyze`, the bundle's timestamps); a clock before 1970 reads as 0.

use std::time::{SystemTime, UNIX_EPOCH};

/// `t` as Unix seconds (0 before the epoch).
pub fn unix(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Now, as Unix seconds.
pub fn now_unix() -> i64 {
    unix(SystemTime::now())
}
