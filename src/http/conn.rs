//! Accepted connections: the limits that keep hostile or broken clients from holding the
//! server, and the write-stall guard.
//!
//! - [`Limits`]: header read timeout (also the keep-alive idle timeout: hyper starts it
//!   whenever a connection waits for a request), request body timeouts ([`TimedBody`]),
//!   connection limit, header size limit, write-stall limit.
//! - A listener whose player froze, or a hostile client that never reads, leaves its socket
//!   buffer full: the server's writes stay pending forever, so the stream body is never polled
//!   again and its slot is never released. [`StallGuard`] fails a write that has been pending
//!   for longer than the stall limit; hyper then closes the connection and drops the body,
//!   which frees the listener slot. Healthy listeners drain their socket continuously and
//!   never come near the limit.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, Sleep};

/// How long one write may stay blocked on a client that does not read.
pub const WRITE_STALL: Duration = Duration::from_secs(30);

/// File descriptors kept back from the connection limit for the catalog, media files,
/// ingest and logs.
const FD_RESERVE: u64 = 256;
/// Open connections at most unless configured (`max_connections`).
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_240;

/// The server's defences against slow, idle and oversized clients; see the module doc.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Time to receive a request's whole header block; also how long a kept-alive connection
    /// may sit idle between requests.
    pub header_read: Duration,
    /// Longest silence of a client in the middle of a request body (uploads included).
    pub body_idle: Duration,
    /// Whole-body time limit for requests other than uploads (JSON and PATCH bodies are
    /// small; uploads are bounded by [`Limits::body_idle`] and their size limit instead).
    pub body_total: Duration,
    /// See [`StallGuard`].
    pub write_stall: Duration,
    /// Open connections at most (listeners included); beyond it a new connection is
    /// answered `503` and closed at once. Lowered to fit under `RLIMIT_NOFILE` at start.
    pub max_connections: usize,
    /// Bytes of request line and headers at most (`431` beyond).
    pub max_header_bytes: usize,
    /// After shutdown, how long open connections may take to finish before they are closed.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read: Duration::from_secs(15),
            body_idle: Duration::from_secs(30),
            body_total: Duration::from_secs(60),
            write_stall: WRITE_STALL,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_header_bytes: 64 * 1024,
            shutdown_grace: Duration::from_secs(2),
        }
    }
}

/// Raises this process's soft `RLIMIT_NOFILE` to its hard limit and returns the soft limit
/// now in force (`None` where it cannot be read). Idle clients cost one descriptor each: the
/// common default of 1024 would otherwise cap the audience far below `max_listeners`.
pub fn raise_fd_limit() -> Option<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid, writable rlimit for the duration of the call.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return None;
    }
    if lim.rlim_cur < lim.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: lim.rlim_max.min(1 << 20),
            rlim_max: lim.rlim_max,
        };
        // SAFETY: as above; failure leaves the limit unchanged.
        if raised.rlim_cur > lim.rlim_cur
            && unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0
        {
            lim = raised;
        }
    }
    // `rlim_t` is not `u64` on every platform.
    #[allow(clippy::unnecessary_cast)]
    Some(lim.rlim_cur as u64)
}

/// The connection limit that fits under the descriptor limit (see [`raise_fd_limit`]).
pub fn effective_max_connections(configured: usize) -> usize {
    match raise_fd_limit() {
        Some(nofile) => {
            let room = nofile.saturating_sub(FD_RESERVE).max(16);
            let max = configured.min(usize::try_from(room).unwrap_or(usize::MAX));
            if max < configured {
                tracing::warn!(
                    configured,
                    max,
                    nofile,
                    "max_connections lowered to fit the open-file limit (raise `ulimit -n`)"
                );
            }
            max
        }
        None => configured,
    }
}

/// Answers a connection beyond the limit: a best-effort `503` (one non-blocking write; the
/// socket is fresh, so it fits), then the socket is closed by dropping it.
pub fn refuse(stream: TcpStream) {
    let _ = stream.try_write(
        b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 10\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
}

/// The total-time limit of one request body, shared between its [`TimedBody`] and the route
/// that reads it: on by default (a JSON or form body is small), lifted by [`long_body`] on the
/// routes that take recordings.
#[derive(Debug, Clone)]
pub struct TotalDeadline {
    limit: Duration,
    lifted: Arc<AtomicBool>,
}

impl TotalDeadline {
    pub fn new(limit: Duration) -> TotalDeadline {
        TotalDeadline {
            limit,
            lifted: Arc::default(),
        }
    }

    fn lift(&self) {
        self.lifted.store(true, Ordering::Relaxed);
    }

    fn is_lifted(&self) -> bool {
        self.lifted.load(Ordering::Relaxed)
    }
}

/// Route layer (`axum::middleware::from_fn(long_body)`) of the routes whose bodies are
/// recordings (one-request and resumable uploads): an upload of hours of audio takes as long
/// as it takes, so the total body deadline is lifted; the idle timeout stays.
pub async fn long_body(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if let Some(deadline) = req.extensions().get::<TotalDeadline>() {
        deadline.lift();
    }
    next.run(req).await
}

/// Why a request body was cut short.
#[derive(Debug, thiserror::Error)]
pub enum BodyTimeout {
    #[error("the client sent nothing for {0:?} in the middle of the request body")]
    Idle(Duration),
    #[error("the request body took longer than {0:?}")]
    Total(Duration),
}

/// A request body that fails with [`BodyTimeout`] when the client goes silent for `idle`
/// while the handler waits for it, or (with a [`TotalDeadline`] its route did not lift) when
/// the body is not complete in time. Time the handler spends on its own work between reads is
/// not counted as silence.
pub struct TimedBody {
    inner: Body,
    idle: Duration,
    idle_at: Option<Pin<Box<Sleep>>>,
    total: Option<(TotalDeadline, Pin<Box<Sleep>>)>,
}

impl TimedBody {
    pub fn new(inner: Body, idle: Duration, total: Option<TotalDeadline>) -> TimedBody {
        TimedBody {
            inner,
            idle,
            idle_at: None,
            total: total.map(|t| {
                let at = Box::pin(tokio::time::sleep(t.limit));
                (t, at)
            }),
        }
    }
}

impl http_body::Body for TimedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            this.idle_at = None;
            return Poll::Ready(frame);
        }
        if let Some((limit, deadline)) = &mut this.total
            && !limit.is_lifted()
            && deadline.as_mut().poll(cx).is_ready()
        {
            return Poll::Ready(Some(Err(axum::Error::new(BodyTimeout::Total(limit.limit)))));
        }
        let idle = this.idle;
        let deadline = this
            .idle_at
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(idle)));
        if deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(axum::Error::new(BodyTimeout::Idle(idle)))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A TCP listener whose connections the server wraps in a [`StallGuard`] (or hands to the
/// live input).
pub struct GuardedListener {
    inner: TcpListener,
}

impl GuardedListener {
    pub fn new(inner: TcpListener) -> GuardedListener {
        GuardedListener { inner }
    }

    /// The next connection, not yet guarded (the caller may refuse it). Cancel-safe.
    pub async fn accept_raw(&mut self) -> (TcpStream, SocketAddr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, addr)) => {
                    // Small ICY blocks and API answers should not wait for Nagle.
                    let _ = stream.set_nodelay(true);
                    return (stream, addr);
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
}

/// The client's address, for handlers (`ConnectInfo<PeerAddr>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddr(pub SocketAddr);

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

/// A connection whose first bytes were already read (to tell a stream listener from any
/// other request, `http::stream::take_listener`): reads return them first, then the socket's.
pub struct Rewound<S> {
    read: Bytes,
    inner: S,
}

impl<S> Rewound<S> {
    pub fn new(read: Bytes, inner: S) -> Rewound<S> {
        Rewound { read, inner }
    }

    /// The connection itself (to write to it other than through `AsyncWrite`).
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Rewound<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if !self.read.is_empty() {
            let n = self.read.len().min(buf.remaining());
            buf.put_slice(&self.read.split_to(n));
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Rewound<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
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
    async fn a_body_times_out_on_silence_but_not_on_the_handlers_own_delays() {
        use http_body_util::BodyExt;
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, io::Error>>(4);
        let stream = tokio_stream_from(rx);
        let mut body = TimedBody::new(Body::from_stream(stream), Duration::from_secs(30), None);
        tx.send(Ok(Bytes::from_static(b"a"))).await.unwrap();
        assert!(body.frame().await.unwrap().is_ok());
        // The handler is busy for a minute: not the client's silence.
        tokio::time::sleep(Duration::from_secs(60)).await;
        tx.send(Ok(Bytes::from_static(b"b"))).await.unwrap();
        assert!(body.frame().await.unwrap().is_ok());
        // Then the client goes silent.
        let started = Instant::now();
        let err = body.frame().await.unwrap().unwrap_err();
        assert_eq!(started.elapsed(), Duration::from_secs(30));
        assert!(err.to_string().contains("sent nothing"), "{err}");
        drop(tx);
    }

    #[tokio::test(start_paused = true)]
    async fn a_dragging_body_hits_the_total_limit() {
        use http_body_util::BodyExt;
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, io::Error>>(4);
        let mut body = TimedBody::new(
            Body::from_stream(tokio_stream_from(rx)),
            Duration::from_secs(30),
            Some(TotalDeadline::new(Duration::from_secs(60))),
        );
        let drip = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(10)).await;
                if tx.send(Ok(Bytes::from_static(b"."))).await.is_err() {
                    break;
                }
            }
        });
        let started = Instant::now();
        let err = loop {
            match body.frame().await.unwrap() {
                Ok(_) => continue,
                Err(e) => break e,
            }
        };
        assert_eq!(started.elapsed(), Duration::from_secs(60));
        assert!(err.to_string().contains("longer than"), "{err}");
        drip.abort();
    }

    #[tokio::test(start_paused = true)]
    async fn a_route_that_lifts_the_deadline_reads_a_long_body_to_its_end() {
        use http_body_util::BodyExt;
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, io::Error>>(4);
        let deadline = TotalDeadline::new(Duration::from_secs(60));
        let mut body = TimedBody::new(
            Body::from_stream(tokio_stream_from(rx)),
            Duration::from_secs(30),
            Some(deadline.clone()),
        );
        deadline.lift();
        let drip = tokio::spawn(async move {
            for _ in 0..30 {
                tokio::time::sleep(Duration::from_secs(10)).await;
                tx.send(Ok(Bytes::from_static(b"."))).await.unwrap();
            }
        });
        let started = Instant::now();
        let mut frames = 0;
        while let Some(frame) = body.frame().await {
            frame.unwrap();
            frames += 1;
        }
        assert_eq!(frames, 30);
        assert_eq!(started.elapsed(), Duration::from_secs(300));
        drip.await.unwrap();
    }

    fn tokio_stream_from<T: Send + 'static>(
        mut rx: tokio::sync::mpsc::Receiver<T>,
    ) -> impl futures_util::Stream<Item = T> + Send + 'static {
        futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
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
