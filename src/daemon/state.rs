//! The state every HTTP handler and task shares: settings, catalog, counters, the shutdown
//! token and the task tracker. Cheap to clone.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::broadcast::{Hub, HubConfig, StationInfo};
use crate::catalog::Catalog;
use crate::config::Settings;
use crate::daemon::schedule::ScheduleState;
use crate::feed::stats::{DownloadCounter, EpisodeFile, Served};
use crate::http::feed::FeedStore;

/// Listener×episode pairs tracked per day before new ones are ignored (memory bound).
const MAX_TRACKED_DOWNLOADS: usize = 1_000_000;
/// The download counter's secret, in `data_dir`.
const SECRET_FILE: &str = "download-secret";

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
    /// The playout engine (its own threads), once started.
    playout: std::sync::Mutex<Option<crate::playout::PlayoutHandle>>,
    /// What is on air, from the playout (idle until it starts).
    now_playing: tokio::sync::watch::Sender<crate::playout::NowPlaying>,
    /// The ingest workers (blocking threads), once started.
    ingest: std::sync::Mutex<Option<crate::ingest::IngestRunner>>,
    started_at: jiff::Timestamp,
    started: tokio::time::Instant,
    shutdown: CancellationToken,
    tasks: TaskTracker,
    metrics: Metrics,
    feeds: FeedStore,
    downloads: Mutex<DownloadCounter>,
    /// Bumped whenever the catalog changes (ingest done or failed, edits): wakes the feed
    /// rebuild.
    catalog_generation: tokio::sync::watch::Sender<u64>,
    /// `/media` name lookups.
    media_cache: crate::http::media::MediaCache,
    /// Generated covers by title (rendering one takes a while; titles rarely change).
    covers: Mutex<HashMap<String, bytes::Bytes>>,
}

/// The shared state of a running station.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl AppState {
    /// Opens the catalog (creating it on first run) and loads the schedule: the station does
    /// not start without a valid one ([`crate::daemon::StartError`]).
    pub async fn open(settings: Settings) -> anyhow::Result<AppState> {
        let s = settings.clone();
        let (catalog, schedule, secret, feeds) =
            tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
                let catalog = Catalog::open(&s.data_dir)?;
                let schedule =
                    crate::daemon::schedule::initial(&s.schedule, &s.media_dir, &catalog)?;
                let secret = load_secret(&s.data_dir.join(SECRET_FILE))?;
                // Feeds answer from the first request on.
                let feeds = crate::daemon::feeds::render_all(
                    &catalog,
                    &schedule.schedule,
                    &s,
                    jiff::Timestamp::now(),
                )?;
                Ok((catalog, schedule, secret, feeds))
            })
            .await
            .context("start-up task")??;
        let store = FeedStore::default();
        crate::daemon::feeds::install(&store, feeds, &settings.feed_redirects);
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
            playout: std::sync::Mutex::new(None),
            now_playing: tokio::sync::watch::Sender::new(crate::playout::NowPlaying::idle()),
            started_at: jiff::Timestamp::now(),
            started: tokio::time::Instant::now(),
            shutdown,
            tasks: TaskTracker::new(),
            metrics: Metrics::default(),
            feeds: store,
            downloads: Mutex::new(DownloadCounter::new(secret, MAX_TRACKED_DOWNLOADS)),
            catalog_generation: tokio::sync::watch::Sender::new(0),
            covers: Mutex::new(HashMap::new()),
            media_cache: Default::default(),
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

    /// The slugs of the shows on the schedule in force.
    pub fn show_slugs(&self) -> Vec<String> {
        self.0
            .schedule
            .borrow()
            .schedule
            .shows()
            .iter()
            .map(|sh| sh.slug.clone())
            .collect()
    }

    /// The errors of the last refused reload (empty once a reload is accepted).
    pub fn schedule_errors(&self) -> Vec<String> {
        self.0
            .schedule
            .borrow()
            .refused
            .as_ref()
            .map(|r| r.errors.clone())
            .unwrap_or_default()
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

    /// The rendered feeds, by request path.
    pub fn feeds(&self) -> &FeedStore {
        &self.0.feeds
    }

    /// Re-renders every feed now (the rebuild task does this on every change; tests call it
    /// after writing to the catalog).
    pub async fn rebuild_feeds(&self) {
        crate::daemon::feeds::rebuild(self, jiff::Timestamp::now()).await;
    }

    /// Tells the feed rebuild (and any other subscriber) that the catalog changed.
    pub fn catalog_changed(&self) {
        self.0.catalog_generation.send_modify(|g| *g += 1);
    }

    /// A callback for blocking code (ingest workers) that calls [`AppState::catalog_changed`].
    pub fn catalog_notifier(&self) -> Arc<dyn Fn() + Send + Sync> {
        let tx = self.0.catalog_generation.clone();
        Arc::new(move || tx.send_modify(|g| *g += 1))
    }

    /// How many times [`AppState::catalog_changed`] was called.
    pub fn catalog_generation(&self) -> u64 {
        *self.0.catalog_generation.borrow()
    }

    /// `/media` lookups, cleared on every catalog change.
    pub fn media_cache(&self) -> &crate::http::media::MediaCache {
        &self.0.media_cache
    }

    /// Wakes on every [`AppState::catalog_changed`].
    pub fn catalog_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.0.catalog_generation.subscribe()
    }

    /// Feeds one served enclosure response to the IAB counter; a download it completes is
    /// recorded in the catalog off the runtime (only the salted listener hash is stored).
    pub fn observe_download(&self, file: &EpisodeFile, served: &Served<'_>) {
        let now = jiff::Timestamp::now();
        let counted = self
            .0
            .downloads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .observe(file, served, now);
        let Some(d) = counted else { return };
        let catalog = self.0.catalog.clone();
        let record = move || {
            if let Err(e) = catalog.record_download(&d.episode, &hex::encode(d.listener.0), d.at) {
                tracing::error!(episode = d.episode, "recording a download: {e}");
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn_blocking(record);
            }
            Err(_) => record(),
        }
    }

    /// The generated cover for `title`, rendered once (blocking; call off the runtime).
    pub fn cover(&self, title: &str) -> bytes::Bytes {
        if let Some(png) = self
            .0
            .covers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(title)
        {
            return png.clone();
        }
        let png = bytes::Bytes::from(crate::feed::cover_png(title));
        self.0
            .covers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(title.to_owned(), png.clone());
        png
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

    /// Hands the running playout to the state; its now-playing and status are published.
    pub(crate) fn set_playout(&self, handle: crate::playout::PlayoutHandle) {
        *self.0.playout.lock().unwrap_or_else(|p| p.into_inner()) = Some(handle);
    }

    /// What is on air now (from the playout engine).
    pub fn now_playing(&self) -> crate::playout::NowPlaying {
        self.0.now_playing.borrow().clone()
    }

    pub(crate) fn now_playing_sender(
        &self,
    ) -> &tokio::sync::watch::Sender<crate::playout::NowPlaying> {
        &self.0.now_playing
    }

    /// The playout's counters and silence alarm (all zero before it starts).
    pub fn playout_status(&self) -> crate::playout::StatusSnapshot {
        let handle = self.0.playout.lock().unwrap_or_else(|p| p.into_inner());
        handle
            .as_ref()
            .map(|h| h.status().snapshot())
            .unwrap_or_default()
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
            // Workers stop after the job in hand, which is not waited for: one cut short by
            // the process exiting is retried at the next start.
            runner.request_stop();
        }
        if tokio::time::timeout(Duration::from_secs(3), self.0.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!("some tasks did not stop within 3 s");
        }
    }
}

/// The download counter's 32-byte secret: read from `path`, or created there (mode 0600) on
/// first run. Persisting it keeps listener hashes stable across a restart within the day.
fn load_secret(path: &Path) -> anyhow::Result<[u8; 32]> {
    match std::fs::read(path) {
        Ok(bytes) if bytes.len() == 32 => {
            let mut secret = [0; 32];
            secret.copy_from_slice(&bytes);
            return Ok(secret);
        }
        Ok(_) => tracing::warn!("{} is not 32 bytes; replacing it", path.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
    let secret: [u8; 32] = rand::random();
    let tmp = path.with_extension("tmp");
    {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options
            .open(&tmp)
            .with_context(|| format!("cannot create {}", tmp.display()))?;
        f.write_all(&secret)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(secret)
}
