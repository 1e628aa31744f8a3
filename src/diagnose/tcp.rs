//! The tcp stage: connect to every resolved address, Happy-Eyeballs style (RFC 8305: address
//! families interleaved, a new attempt every 250 ms while earlier ones are pending, the first
//! to connect wins), then watch the fresh connection briefly for an immediate reset.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::task::JoinSet;

use super::Stage;
use super::engine::Run;
use crate::explain::{Ended, Problem, io_kind_words};

const STAGGER: Duration = Duration::from_millis(250);

pub struct Connected {
    pub stream: TcpStream,
    pub peer: SocketAddr,
}

/// Orders addresses IPv6 first, alternating families (RFC 8305 §4).
pub fn interleave(addrs: &[SocketAddr]) -> Vec<SocketAddr> {
    let v6: Vec<_> = addrs.iter().filter(|a| a.is_ipv6()).copied().collect();
    let v4: Vec<_> = addrs.iter().filter(|a| a.is_ipv4()).copied().collect();
    let mut out = Vec::with_capacity(addrs.len());
    let (mut a, mut b) = (v6.into_iter(), v4.into_iter());
    loop {
        match (a.next(), b.next()) {
            (None, None) => break,
            (x, y) => out.extend(x.into_iter().chain(y)),
        }
    }
    out
}

pub async fn run(run: &mut Run, addrs: &[SocketAddr]) -> Result<Connected, Problem> {
    let order = interleave(addrs);
    let deadline = run.timeout();
    let mut set: JoinSet<(SocketAddr, Instant, io::Result<TcpStream>)> = JoinSet::new();
    let mut pending = order.iter().copied();
    let mut errors: Vec<(SocketAddr, io::Error)> = Vec::new();
    let mut next_start = Instant::now();
    let outcome = tokio::time::timeout(deadline, async {
        loop {
            if Instant::now() >= next_start
                && let Some(addr) = pending.next()
            {
                set.spawn(async move {
                    let t = Instant::now();
                    (addr, t, TcpStream::connect(addr).await)
                });
                next_start = Instant::now() + STAGGER;
            }
            if set.is_empty() {
                return None;
            }
            let wait = next_start.saturating_duration_since(Instant::now());
            let more = pending.len() > 0;
            tokio::select! {
                joined = set.join_next() => match joined {
                    Some(Ok((addr, t, Ok(stream)))) => return Some((addr, t.elapsed(), stream)),
                    Some(Ok((addr, _, Err(e)))) => {
                        errors.push((addr, e));
                        // A failure starts the next attempt at once.
                        next_start = Instant::now();
                    }
                    Some(Err(_)) | None => {}
                },
                _ = tokio::time::sleep(wait), if more => {}
            }
        }
    })
    .await;
    set.abort_all();
    let attempts: Vec<String> = errors
        .iter()
        .map(|(a, e)| format!("{a}: {}", describe(e)))
        .collect();
    if !attempts.is_empty() {
        run.fact(Stage::Tcp, "failed_attempts", attempts).await;
    }
    let (peer, connect_time, stream) = match outcome {
        Ok(Some(won)) => won,
        Ok(None) => return Err(classify(&errors)),
        Err(_) => {
            let silent: Vec<SocketAddr> = order
                .iter()
                .filter(|a| !errors.iter().any(|(e, _)| e == *a))
                .copied()
                .collect();
            return Err(Problem::TcpTimeout {
                addrs: silent,
                secs: deadline.as_secs().max(1),
            });
        }
    };
    let _ = stream.set_nodelay(true);
    run.fact(Stage::Tcp, "peer", peer.to_string()).await;
    if let Ok(local) = stream.local_addr() {
        run.fact(Stage::Tcp, "local", local.to_string()).await;
    }
    run.fact(Stage::Tcp, "connect_ms", round_ms(connect_time))
        .await;
    if order.len() > 1 {
        run.fact(
            Stage::Tcp,
            "tried_in_order",
            order.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
        )
        .await;
    }
    // MQTT, TLS and HTTP clients speak first, so a healthy broker sends nothing now. Watch two
    // round trips (at least 10 ms, at most 250 ms) for a reset or close by the peer.
    let grace = (connect_time * 2 + Duration::from_millis(10)).min(Duration::from_millis(250));
    run.fact(Stage::Tcp, "reset_watch_ms", round_ms(grace))
        .await;
    let mut byte = [0u8; 64];
    match tokio::time::timeout(grace, stream.peek(&mut byte)).await {
        Err(_) => {}
        Ok(Ok(0)) => {
            return Err(Problem::TcpReset {
                addr: peer,
                how: Ended::Closed,
            });
        }
        Ok(Ok(n)) => {
            run.fact(
                Stage::Tcp,
                "peer_spoke_first",
                crate::text::sanitize_bytes(&byte[..n]),
            )
            .await;
        }
        Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionReset => {
            return Err(Problem::TcpReset {
                addr: peer,
                how: Ended::Reset,
            });
        }
        Ok(Err(e)) => {
            return Err(Problem::TcpFailed {
                addr: Some(peer),
                kind: e.kind(),
                os_error: e.to_string(),
            });
        }
    }
    Ok(Connected { stream, peer })
}

pub fn round_ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}

/// A failed attempt for the `failed_attempts` fact: the kind's words, else the OS message.
fn describe(e: &io::Error) -> String {
    match io_kind_words(e.kind()) {
        Some(w) => w.to_string(),
        None => e.to_string(),
    }
}

/// EMFILE or ENFILE: no descriptor for the socket. Said as this tool's limit, never the broker's.
fn fd_limit(a: SocketAddr, e: &io::Error) -> Option<Problem> {
    let system_wide = match e.raw_os_error()? {
        libc::EMFILE => false,
        libc::ENFILE => true,
        _ => return None,
    };
    #[cfg(unix)]
    let limit = {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: a plain syscall filling a struct we own.
        let got = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0;
        // rlim_t is u64 here, not on every Unix.
        #[allow(clippy::unnecessary_cast)]
        let soft = lim.rlim_cur as u64;
        got.then_some(soft)
    };
    #[cfg(not(unix))]
    let limit = None;
    Some(Problem::TcpLocalFdLimit {
        addr: a,
        system_wide,
        limit,
    })
}

fn classify(errors: &[(SocketAddr, io::Error)]) -> Problem {
    use io::ErrorKind::*;
    if let Some(p) = errors.iter().find_map(|(a, e)| fd_limit(*a, e)) {
        return p;
    }
    let find = |kinds: &[io::ErrorKind]| errors.iter().find(|(_, e)| kinds.contains(&e.kind()));
    if let Some((a, _)) = find(&[ConnectionRefused]) {
        return Problem::TcpRefused { addr: *a };
    }
    if let Some((a, _)) = find(&[ConnectionReset]) {
        return Problem::TcpReset {
            addr: *a,
            how: Ended::Reset,
        };
    }
    if let Some((a, e)) = find(&[HostUnreachable, NetworkUnreachable, AddrNotAvailable]) {
        return Problem::TcpUnreachable {
            addr: *a,
            kind: e.kind(),
        };
    }
    match errors.first() {
        Some((a, e)) if e.kind() == TimedOut => Problem::TcpTimeout {
            addrs: vec![*a],
            secs: 0,
        },
        Some((a, e)) => Problem::TcpFailed {
            addr: Some(*a),
            kind: e.kind(),
            os_error: e.to_string(),
        },
        None => Problem::TcpFailed {
            addr: None,
            kind: NotFound,
            os_error: String::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleaves_families_v6_first() {
        let a: Vec<SocketAddr> = ["1.1.1.1:1", "2.2.2.2:1", "[::1]:1", "[::2]:1", "3.3.3.3:1"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        let got: Vec<String> = interleave(&a).iter().map(|s| s.to_string()).collect();
        assert_eq!(
            got,
            ["[::1]:1", "1.1.1.1:1", "[::2]:1", "2.2.2.2:1", "3.3.3.3:1"]
        );
    }
}
