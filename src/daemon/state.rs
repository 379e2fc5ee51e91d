//! The state every HTTP handler and task shares: settings, catalog, counters, the shutdown
//! token and the task tracker. Cheap to clone.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::catalog::Catalog;
use crate::config::Settings;

/// Process-wide counters exported at `/metrics`.
#[derive(Debug, Default)]
pub struct Metrics {
    pub http_requests: AtomicU64,
}

impl Metrics {
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

struct Inner {
    settings: Settings,
    catalog: Catalog,
    started_at: jiff::Timestamp,
    started: tokio::time::Instant,
    shutdown: CancellationToken,
    tasks: TaskTracker,
    metrics: Metrics,
}

/// The shared state of a running station.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl AppState {
    /// Opens the catalog (creating it on first run) and prepares the station.
    pub async fn open(settings: Settings) -> anyhow::Result<AppState> {
        let data_dir = settings.data_dir.clone();
        let catalog = tokio::task::spawn_blocking(move || Catalog::open(&data_dir))
            .await
            .context("catalog task")??;
        Ok(AppState(Arc::new(Inner {
            settings,
            catalog,
            started_at: jiff::Timestamp::now(),
            started: tokio::time::Instant::now(),
            shutdown: CancellationToken::new(),
            tasks: TaskTracker::new(),
            metrics: Metrics::default(),
        })))
    }

    pub fn settings(&self) -> &Settings {
        &self.0.settings
    }

    pub fn catalog(&self) -> &Catalog {
        &self.0.catalog
    }

    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    pub fn started_at(&self) -> jiff::Timestamp {
        self.0.started_at
    }

    pub fn uptime(&self) -> Duration {
        self.0.started.elapsed()
    }

    /// Cancelled when the daemon stops: stream bodies and tasks end on it.
    pub fn shutdown_token(&self) -> &CancellationToken {
        &self.0.shutdown
    }

    /// Runs a blocking catalog call off the async runtime.
    pub async fn with_catalog<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Catalog) -> crate::catalog::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let catalog = self.0.catalog.clone();
        Ok(tokio::task::spawn_blocking(move || f(&catalog)).await??)
    }

    /// Spawns a long-lived task owned by the daemon.
    #[allow(dead_code)] // the ingest, playout and reload tasks land with their modules
    pub(crate) fn spawn<F>(&self, task: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        self.0.tasks.spawn(task);
    }

    /// Signals every task to stop and waits for them (bounded, so shutdown stays under 5 s).
    pub async fn stop(&self) {
        self.0.shutdown.cancel();
        self.0.tasks.close();
        if tokio::time::timeout(Duration::from_secs(3), self.0.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!("some tasks did not stop within 3 s");
        }
    }
}
