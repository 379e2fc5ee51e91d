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
use crate::schedule::Schedule;

/// The schedule on air and the errors of the last refused reload (shown to operators).
#[derive(Default)]
struct ScheduleSlot {
    current: Option<Arc<Schedule>>,
    refused: Vec<String>,
}

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
    schedule: std::sync::RwLock<ScheduleSlot>,
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
        let schedule = load_schedule(&settings);
        Ok(AppState(Arc::new(Inner {
            settings,
            catalog,
            started_at: jiff::Timestamp::now(),
            started: tokio::time::Instant::now(),
            shutdown: CancellationToken::new(),
            tasks: TaskTracker::new(),
            metrics: Metrics::default(),
            schedule: std::sync::RwLock::new(schedule),
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

    /// The schedule on air, if a valid one was ever loaded.
    pub fn schedule(&self) -> Option<Arc<Schedule>> {
        let slot = self.0.schedule.read().unwrap_or_else(|p| p.into_inner());
        slot.current.clone()
    }

    /// The errors of the last refused schedule reload (empty once a reload is accepted).
    pub fn schedule_errors(&self) -> Vec<String> {
        let slot = self.0.schedule.read().unwrap_or_else(|p| p.into_inner());
        slot.refused.clone()
    }

    /// Puts a new valid schedule on air (clears the refused errors).
    pub fn set_schedule(&self, schedule: Arc<Schedule>) {
        let mut slot = self.0.schedule.write().unwrap_or_else(|p| p.into_inner());
        *slot = ScheduleSlot {
            current: Some(schedule),
            refused: Vec::new(),
        };
    }

    /// Records a refused reload: the current schedule stays, the errors are shown.
    pub fn refuse_schedule(&self, errors: Vec<String>) {
        let mut slot = self.0.schedule.write().unwrap_or_else(|p| p.into_inner());
        slot.refused = errors;
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

/// The configured schedule, parsed at start; errors are kept for the operators' page.
fn load_schedule(settings: &Settings) -> ScheduleSlot {
    let path = &settings.schedule;
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            return ScheduleSlot {
                current: None,
                refused: vec![format!("cannot read schedule {}: {e}", path.display())],
            };
        }
    };
    let name = path.display().to_string();
    match Schedule::parse(
        &text,
        &name,
        jiff::Timestamp::now(),
        &crate::schedule::NoFacts,
    ) {
        Ok((s, _warnings)) => ScheduleSlot {
            current: Some(Arc::new(s)),
            refused: Vec::new(),
        },
        Err(diags) => {
            let refused: Vec<String> = diags
                .iter()
                .filter(|d| d.is_error())
                .map(|d| d.to_string())
                .collect();
            tracing::error!(schedule = %name, errors = refused.len(), "invalid schedule");
            ScheduleSlot {
                current: None,
                refused,
            }
        }
    }
}
