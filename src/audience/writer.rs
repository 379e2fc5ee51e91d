//! The daemon's task that writes ended listener sessions into the catalog.
//!
//! Sessions arrive on the [`crate::broadcast::SessionLog`]'s channel one by one; the writer
//! gathers what came during `every` (one second in the daemon) and writes it in one
//! transaction on a blocking thread, so 5,000 listeners leaving at once cost one fsync, not
//! 5,000, and the listeners' tasks never touch SQLite. At shutdown it keeps draining for a
//! short grace (streams end on the same signal and send their sessions as they close), then
//! writes what is left.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::catalog::{Catalog, ListenerSession};

/// How long the writer still drains after shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);

/// What the writer did, for `/metrics` and the benchmark.
#[derive(Debug, Default)]
pub struct WriterStats {
    /// Transactions committed.
    pub batches: AtomicU64,
    /// Sessions written.
    pub rows: AtomicU64,
    /// Sessions lost to a failed write (logged).
    pub failed: AtomicU64,
}

/// Runs until `shutdown` (and the grace after it), writing batches every `every`.
pub async fn run(
    mut rx: mpsc::Receiver<ListenerSession>,
    catalog: Catalog,
    every: Duration,
    stats: Arc<WriterStats>,
    shutdown: CancellationToken,
) {
    let mut batch: Vec<ListenerSession> = Vec::new();
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            n = rx.recv_many(&mut batch, 4096) => {
                if n == 0 {
                    break;
                }
            }
            _ = tick.tick() => {
                write(&catalog, &mut batch, &stats).await;
            }
        }
    }
    let grace = tokio::time::sleep(SHUTDOWN_GRACE);
    tokio::pin!(grace);
    loop {
        tokio::select! {
            () = &mut grace => break,
            n = rx.recv_many(&mut batch, 4096) => if n == 0 { break },
        }
    }
    write(&catalog, &mut batch, &stats).await;
}

async fn write(catalog: &Catalog, batch: &mut Vec<ListenerSession>, stats: &WriterStats) {
    if batch.is_empty() {
        return;
    }
    let sessions = std::mem::take(batch);
    let n = sessions.len() as u64;
    let catalog = catalog.clone();
    let written = tokio::task::spawn_blocking(move || catalog.record_sessions(&sessions)).await;
    match written {
        Ok(Ok(())) => {
            stats.batches.fetch_add(1, Ordering::Relaxed);
            stats.rows.fetch_add(n, Ordering::Relaxed);
        }
        Ok(Err(e)) => {
            stats.failed.fetch_add(n, Ordering::Relaxed);
            tracing::error!(sessions = n, "recording listener sessions: {e}");
        }
        Err(e) => {
            stats.failed.fetch_add(n, Ordering::Relaxed);
            tracing::error!(sessions = n, "recording listener sessions: {e}");
        }
    }
}
