//! Listener sessions as they end: the small event a listener's stream sends when it closes,
//! on a bounded channel that the daemon's writer (`audience::writer`) drains into the catalog.
//!
//! Recording stays off the hot path: opening a session reads the clock once, closing it does
//! one `try_send` of a 40-byte [`ListenerSession`]; no lock, no allocation, no IO on the
//! listener's task. A full channel (the writer stalled on a slow disk) loses the event and
//! counts it, it never makes a listener or the hub wait.
//!
//! The clock is tokio's, anchored once to a wall-clock instant ([`SessionLog::new`]): in tests
//! with a paused clock, sessions start and end exactly where the test advanced time.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::catalog::{ClientFamily, ListenerSession, StreamKind};

/// Ended sessions waiting for the writer, at most (about 40 s of 5,000 listeners leaving at
/// once a second; ~2.6 MB).
pub const SESSION_QUEUE: usize = 65_536;

/// Where sessions go when they end; cheap to clone.
#[derive(Clone)]
pub struct SessionLog(Arc<LogInner>);

struct LogInner {
    tx: mpsc::Sender<ListenerSession>,
    /// `wall` is the wall-clock instant of tokio's `mono`.
    wall: jiff::Timestamp,
    mono: Instant,
    lost: AtomicU64,
}

impl SessionLog {
    /// A log whose tokio instants are dated from `wall` (the wall clock now, or a fixed
    /// instant in tests), and the receiving end for the writer.
    pub fn new(wall: jiff::Timestamp) -> (SessionLog, mpsc::Receiver<ListenerSession>) {
        SessionLog::with_capacity(wall, SESSION_QUEUE)
    }

    pub fn with_capacity(
        wall: jiff::Timestamp,
        capacity: usize,
    ) -> (SessionLog, mpsc::Receiver<ListenerSession>) {
        let (tx, rx) = mpsc::channel(capacity);
        let inner = LogInner {
            tx,
            wall,
            mono: Instant::now(),
            lost: AtomicU64::new(0),
        };
        (SessionLog(Arc::new(inner)), rx)
    }

    /// The wall-clock instant of `at`.
    pub fn date(&self, at: Instant) -> jiff::Timestamp {
        let since = at.saturating_duration_since(self.0.mono);
        let since = jiff::SignedDuration::try_from(since).unwrap_or(jiff::SignedDuration::MAX);
        self.0.wall.saturating_add(since).unwrap_or(self.0.wall)
    }

    /// A session starting now; it is sent when the returned value drops.
    pub fn open(&self, output: StreamKind, client: ClientFamily) -> OpenSession {
        OpenSession {
            log: self.clone(),
            output,
            client,
            start: Instant::now(),
        }
    }

    /// Sends a session that ended (estimated ones: HLS); never waits.
    pub fn ended(&self, output: StreamKind, client: ClientFamily, start: Instant, end: Instant) {
        let session = ListenerSession {
            output,
            client,
            start: self.date(start),
            end: self.date(end.max(start)),
        };
        if self.0.tx.try_send(session).is_err() {
            self.0.lost.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Sessions lost because the writer was behind (or gone).
    pub fn lost(&self) -> u64 {
        self.0.lost.load(Ordering::Relaxed)
    }
}

/// A listener's session while it lasts; dropping it records the end.
pub struct OpenSession {
    log: SessionLog,
    output: StreamKind,
    client: ClientFamily,
    start: Instant,
}

impl Drop for OpenSession {
    fn drop(&mut self) {
        self.log
            .ended(self.output, self.client, self.start, Instant::now());
    }
}
