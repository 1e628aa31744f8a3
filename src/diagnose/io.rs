//! Byte streams between stages: a boxed transport, and a wrapper that remembers what the peer
//! sent first (so a failed stage can say "the peer answered with HTTP").

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A transport stream as the next stage sees it (TCP, TLS over TCP, WebSocket …).
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

pub type BoxIo = Box<dyn Io>;

/// How many leading bytes from the peer are kept by default.
const KEEP: usize = 256;

/// The first bytes a peer sent, shared with whoever created the recording stream.
#[derive(Debug, Clone, Default)]
pub struct Heard(Arc<Mutex<HeardInner>>);

#[derive(Debug, Default)]
struct HeardInner {
    first: Vec<u8>,
    keep: usize,
}

impl Heard {
    pub fn first_bytes(&self) -> Vec<u8> {
        self.0.lock().map(|h| h.first.clone()).unwrap_or_default()
    }

    fn record(&self, bytes: &[u8]) {
        if let Ok(mut h) = self.0.lock() {
            let room = h.keep.saturating_sub(h.first.len());
            let take = room.min(bytes.len());
            h.first.extend_from_slice(&bytes[..take]);
        }
    }
}

/// Wraps a stream and records what is read from it.
pub struct Recording<S> {
    inner: S,
    heard: Heard,
}

impl<S> Recording<S> {
    pub fn new(inner: S) -> (Self, Heard) {
        Self::keeping(inner, KEEP)
    }

    /// Records up to `keep` leading bytes (e.g. a whole HTTP response head).
    pub fn keeping(inner: S, keep: usize) -> (Self, Heard) {
        let heard = Heard::default();
        if let Ok(mut h) = heard.0.lock() {
            h.keep = keep;
        }
        (
            Recording {
                inner,
                heard: heard.clone(),
            },
            heard,
        )
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Recording<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &poll {
            let new = &buf.filled()[before..];
            self.heard.record(new);
        }
        poll
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Recording<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Logs, at trace level, how many bytes each read and write moved (never the bytes).
pub struct Traced<S> {
    inner: S,
}

impl<S> Traced<S> {
    pub fn new(inner: S) -> Self {
        Traced { inner }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Traced<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(r) = &poll {
            match r {
                Ok(()) => tracing::trace!(bytes = buf.filled().len() - before, "read"),
                Err(e) => tracing::trace!(error = %e, "read failed"),
            }
        }
        poll
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Traced<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(r) = &poll {
            match r {
                Ok(n) => tracing::trace!(bytes = n, "written"),
                Err(e) => tracing::trace!(error = %e, "write failed"),
            }
        }
        poll
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
