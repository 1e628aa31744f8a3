//! The tcp stage: connect to every resolved address, Happy-Eyeballs style (RFC 8305: address
//! families interleaved, the second attempt after 10 ms and later ones every 250 ms while
//! earlier ones are pending, the first to connect wins). No wait after connect: a reset is
//! judged when the next stage fails ([`Watch::judge`]).

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::task::JoinSet;

use super::Stage;
use super::engine::Run;
use crate::explain::{Ended, Problem, io_kind_words};

/// RFC 8305 §5's recommended Connection Attempt Delay, between later attempts.
const STAGGER: Duration = Duration::from_millis(250);
/// The delay before the second attempt (the first of the other family, after `interleave`):
/// RFC 8305's floor of 10 ms, so a dead IPv6 address costs 10 ms, not 250 ms, when IPv4 works.
const SECOND_ATTEMPT: Duration = Duration::from_millis(10);

pub struct Connected {
    pub stream: TcpStream,
    pub peer: SocketAddr,
    pub watch: Watch,
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
    let mut started = 0usize;
    let outcome = tokio::time::timeout(deadline, async {
        loop {
            if Instant::now() >= next_start
                && let Some(addr) = pending.next()
            {
                set.spawn(async move {
                    let t = Instant::now();
                    (addr, t, TcpStream::connect(addr).await)
                });
                started += 1;
                let delay = if started == 1 {
                    SECOND_ATTEMPT
                } else {
                    STAGGER
                };
                next_start = Instant::now() + delay;
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
    // No watch here: MQTT, TLS and HTTP clients speak first, so the next stage sends at once
    // and a reset is judged where it is read (`Watch::judge`, called by the engine).
    let watch = Watch::new(&stream, peer, connect_time);
    Ok(Connected {
        stream,
        peer,
        watch,
    })
}

/// What the engine keeps of a fresh connection to tell, when the next stage fails, whether the
/// peer reset or closed it without a word (tcp.reset) or hung up on what we sent (that stage's
/// cause). The rule, with why, is in docs/field-notes.md ("The tool itself").
pub struct Watch {
    peer: SocketAddr,
    connected: Instant,
    connect_time: Duration,
    /// A second descriptor of the socket, so the kernel's counters can still be read after the
    /// stage dropped its stream. Closed when the watch is dropped (right after that stage).
    #[cfg(unix)]
    fd: Option<std::os::fd::OwnedFd>,
}

/// The kernel's view of the connection (Linux `TCP_INFO`).
struct KernelView {
    /// Bytes the peer ever sent us on this connection.
    bytes_received: u64,
    /// The peer sent a FIN or RST (the socket left ESTABLISHED / our own FIN-WAIT states).
    peer_ended: bool,
}

impl Watch {
    fn new(stream: &TcpStream, peer: SocketAddr, connect_time: Duration) -> Watch {
        Watch {
            peer,
            connected: Instant::now(),
            connect_time,
            #[cfg(unix)]
            fd: std::os::fd::AsFd::as_fd(stream).try_clone_to_owned().ok(),
        }
    }

    #[cfg(target_os = "linux")]
    fn kernel_view(&self) -> Option<KernelView> {
        use std::os::fd::AsRawFd;
        let fd = self.fd.as_ref()?.as_raw_fd();
        // SAFETY: tcp_info is plain data; the kernel writes at most `len` bytes into it.
        let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
        // SAFETY: fd is a socket we own; info and len are valid for writes.
        let rc = unsafe {
            libc::getsockopt(
                fd,
                libc::IPPROTO_TCP,
                libc::TCP_INFO,
                (&raw mut info).cast(),
                &mut len,
            )
        };
        let needed = std::mem::offset_of!(libc::tcp_info, tcpi_bytes_received) + 8;
        if rc != 0 || (len as usize) < needed {
            return None;
        }
        // include/net/tcp_states.h: 1 ESTABLISHED, 2 SYN_SENT, 4 FIN_WAIT1, 5 FIN_WAIT2.
        let peer_ended = !matches!(info.tcpi_state, 1 | 2 | 4 | 5);
        Some(KernelView {
            bytes_received: info.tcpi_bytes_received,
            peer_ended,
        })
    }

    #[cfg(not(target_os = "linux"))]
    fn kernel_view(&self) -> Option<KernelView> {
        None
    }

    /// Called by the engine when the stage after tcp failed with its own problem: the
    /// `tcp.reset` that problem really is, or `None` to keep it. A reset needs both (1) no byte
    /// ever received from the peer on this connection, which ended from the peer's side (the
    /// kernel's counters, where it has them), and (2) a fresh connection on which we send
    /// nothing reset or closed by the peer too, within a watch of four connect times + 200 ms
    /// (at most 1 s): a peer that hung up on what we sent keeps a silent connection open.
    pub async fn judge(&self, run: &mut Run) -> Option<Problem> {
        let ended_after = self.connected.elapsed();
        if let Some(k) = self.kernel_view()
            && (k.bytes_received > 0 || !k.peer_ended)
        {
            return None;
        }
        let watch = (self.connect_time * 4 + Duration::from_millis(200))
            .min(Duration::from_secs(1))
            .min(run.timeout());
        let peer = self.peer;
        let silent = tokio::time::timeout(run.timeout() + watch, async move {
            let t = Instant::now();
            // A reset may beat the connect's own completion (the kernel reports it there).
            let stream = match TcpStream::connect(peer).await {
                Ok(s) => s,
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                    return Some((Ended::Reset, t.elapsed()));
                }
                Err(_) => return None,
            };
            let mut byte = [0u8; 1];
            match tokio::time::timeout(watch, stream.peek(&mut byte)).await {
                Ok(Ok(0)) => Some((Ended::Closed, t.elapsed())),
                Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionReset => {
                    Some((Ended::Reset, t.elapsed()))
                }
                _ => None,
            }
        })
        .await
        .ok()
        .flatten();
        let (how, after) = silent?;
        run.fact(Stage::Tcp, "bytes_from_peer", 0).await;
        run.fact(
            Stage::Tcp,
            "peer_ended_ms_after_connect",
            round_ms(ended_after),
        )
        .await;
        run.fact(
            Stage::Tcp,
            "silent_connection",
            format!(
                "{} by the peer {} ms after connect, before we sent anything",
                if how == Ended::Closed {
                    "closed"
                } else {
                    "reset"
                },
                round_ms(after)
            ),
        )
        .await;
        Some(Problem::TcpReset { addr: peer, how })
    }
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
