//! The state every HTTP handler and task shares: settings, catalog, counters, the shutdown
//! token and the task tracker. Cheap to clone.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::broadcast::{Hub, HubConfig, StationInfo};
use crate::catalog::Catalog;
use crate::config::Settings;
use crate::daemon::schedule::ScheduleState;

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
    schedule: tokio::sync::watch::Sender<ScheduleState>,
    hub: Hub,
    station_info: StationInfo,
    /// The ingest workers (blocking threads), once started.
    ingest: std::sync::Mutex<Option<crate::ingest::IngestRunner>>,
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
    /// Opens the catalog (creating it on first run) and loads the schedule: the station does
    /// not start without a valid one ([`crate::daemon::StartError`]).
    pub async fn open(settings: Settings) -> anyhow::Result<AppState> {
        let s = settings.clone();
        let (catalog, schedule) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let catalog = Catalog::open(&s.data_dir)?;
            let schedule = crate::daemon::schedule::initial(&s.schedule, &s.media_dir, &catalog)?;
            Ok((catalog, schedule))
        })
        .await
        .context("start-up task")??;
        let shutdown = CancellationToken::new();
        let hub = Hub::new(HubConfig::from_settings(&settings), shutdown.clone());
        let station_info = StationInfo::new(schedule.schedule.station(), &settings);
        Ok(AppState(Arc::new(Inner {
            settings,
            catalog,
            schedule: tokio::sync::watch::Sender::new(schedule),
            hub,
            station_info,
            ingest: std::sync::Mutex::new(None),
            started_at: jiff::Timestamp::now(),
            started: tokio::time::Instant::now(),
            shutdown,
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

    /// The schedule in force and the last reload's outcome.
    pub fn schedule(&self) -> tokio::sync::watch::Ref<'_, ScheduleState> {
        self.0.schedule.borrow()
    }

    /// The schedule on air.
    pub fn current_schedule(&self) -> Arc<crate::schedule::Schedule> {
        self.0.schedule.borrow().schedule.clone()
    }

    /// The errors of the last refused reload (empty once a reload is accepted).
    pub fn schedule_errors(&self) -> Vec<String> {
        self.0.schedule.borrow().refused.as_ref().map(|r| r.errors.clone()).unwrap_or_default()
    }

    /// The sender side, for the reload task and tests.
    pub fn schedule_sender(&self) -> &tokio::sync::watch::Sender<ScheduleState> {
        &self.0.schedule
    }

    /// The live stream's fan-out.
    pub fn hub(&self) -> &Hub {
        &self.0.hub
    }

    /// Name, description and format announced to listeners and Icecast.
    pub fn station_info(&self) -> &StationInfo {
        &self.0.station_info
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

    /// Hands the ingest workers to the state (the daemon starts them).
    pub(crate) fn set_ingest(&self, runner: crate::ingest::IngestRunner) {
        *self.0.ingest.lock().unwrap_or_else(|p| p.into_inner()) = Some(runner);
    }

    /// An episode was queued: wake the ingest workers.
    pub fn ingest_queued(&self) {
        if let Some(r) = self
            .0
            .ingest
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            r.notify();
        }
    }

    /// Spawns a long-lived task owned by the daemon.
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
        let ingest = self
            .0
            .ingest
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(runner) = ingest {
            // Workers finish the job in hand; one cut short is retried at the next start.
            self.0.tasks.spawn_blocking(move || runner.shutdown());
        }
        if tokio::time::timeout(Duration::from_secs(3), self.0.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!("some tasks did not stop within 3 s");
        }
    }
}
