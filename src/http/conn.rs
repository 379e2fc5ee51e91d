//! Accepted connections, guarded against clients that stop reading.
//!
//! A listener whose player froze, or a hostile client that never reads, leaves its socket
//! buffer full: the server's writes stay pending forever, so the stream body is never polled
//! again and its slot is never released. [`StallGuard`] fails a write that has been pending
//! for longer than the stall limit; hyper then closes the connection and drops the body, which
//! frees the listener slot. Healthy listeners drain their socket continuously and never come
//! near the limit.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, Sleep};

/// How long one write may stay blocked on a client that does not read.
pub const WRITE_STALL: Duration = Duration::from_secs(30);

/// A TCP listener whose connections are [`StallGuard`]ed.
pub struct GuardedListener {
    inner: TcpListener,
    stall: Duration,
}

impl GuardedListener {
    pub fn new(inner: TcpListener, stall: Duration) -> GuardedListener {
        GuardedListener { inner, stall }
    }
}

impl Listener for GuardedListener {
    type Io = StallGuard<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, addr)) => {
                    // Small ICY blocks and API answers should not wait for Nagle.
                    let _ = stream.set_nodelay(true);
                    return (StallGuard::new(stream, self.stall), addr);
                }
                // Out of file descriptors, or a connection reset before accept: wait a
                // little rather than spin (as axum's own listener does).
                Err(e) => {
                    tracing::warn!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// The client's address, for handlers (`ConnectInfo<PeerAddr>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddr(pub SocketAddr);

impl Connected<IncomingStream<'_, GuardedListener>> for PeerAddr {
    fn connect_info(stream: IncomingStream<'_, GuardedListener>) -> Self {
        PeerAddr(*stream.remote_addr())
    }
}

/// An IO whose writes fail with `TimedOut` once pending for longer than the stall limit.
pub struct StallGuard<S> {
    inner: S,
    stall: Duration,
    /// Armed while a write is pending; cleared by any progress.
    deadline: Option<Pin<Box<Sleep>>>,
}

impl<S> StallGuard<S> {
    pub fn new(inner: S, stall: Duration) -> StallGuard<S> {
        StallGuard {
            inner,
            stall,
            deadline: None,
        }
    }

    fn pending<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        let stall = self.stall;
        let deadline = self
            .deadline
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(Instant::now() + stall)));
        match deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client stopped reading",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn progress<T>(&mut self, r: Poll<io::Result<T>>, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        match r {
            Poll::Pending => self.pending(cx),
            ready => {
                self.deadline = None;
                ready
            }
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for StallGuard<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for StallGuard<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.progress(r, cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.progress(r, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let r = Pin::new(&mut self.inner).poll_flush(cx);
        self.progress(r, cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test(start_paused = true)]
    async fn a_write_blocked_past_the_limit_fails_and_progress_resets_it() {
        // A 1 KiB pipe nobody reads: the second write blocks.
        let (client, _server) = tokio::io::duplex(1024);
        let mut guarded = StallGuard::new(client, Duration::from_secs(30));
        guarded.write_all(&[0; 1024]).await.unwrap();
        let started = Instant::now();
        let err = guarded.write_all(&[0; 10]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed(), Duration::from_secs(30));
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_but_steady_reader_is_kept() {
        use tokio::io::AsyncReadExt;
        let (client, mut server) = tokio::io::duplex(1024);
        let reader = tokio::spawn(async move {
            let mut buf = [0u8; 512];
            let mut total = 0;
            // Reads 512 bytes every 20 s: slower than the writer, never stalled 30 s.
            while total < 8 * 1024 {
                tokio::time::sleep(Duration::from_secs(20)).await;
                total += server.read(&mut buf).await.unwrap();
            }
            total
        });
        let mut guarded = StallGuard::new(client, Duration::from_secs(30));
        guarded.write_all(&[1; 8 * 1024]).await.unwrap();
        assert_eq!(reader.await.unwrap(), 8 * 1024);
    }
}
