//! The HTTP layer's own state. The daemon builds one [`HttpState`] from the station's parts;
//! it is made of substates, and each handler extracts only the ones it uses (axum's
//! [`FromRef`]): a feed handler cannot touch uploads, an upload handler cannot touch the hub.
//!
//! The caches only HTTP uses live here: the rendered feeds ([`FeedStore`]), `/media` lookups
//! ([`MediaCache`]), generated covers and the download counter ([`MediaFiles`]).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::extract::FromRef;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::conn::Limits;
use super::feed::FeedStore;
use super::media::MediaCache;
use crate::broadcast::{Hub, Mount, SessionLog, StationInfo};
use crate::catalog::Catalog;
use crate::feed::FeedRedirect;
use crate::feed::stats::{DownloadCounter, EpisodeFile, Served};
use crate::playout::{NowPlaying, PlayoutStatus, StatusSnapshot};
use crate::schedule::{Schedule, ScheduleState};

/// A callback from the runtime into blocking code or back (wake the ingest workers, tell the
/// feed refresh that the catalog changed).
pub type Notifier = Arc<dyn Fn() + Send + Sync>;

/// Everything the routes share; cheap to clone.
#[derive(Clone)]
pub struct HttpState {
    pub catalog: CatalogAccess,
    pub on_air: OnAir,
    pub feeds: Arc<FeedStore>,
    pub media: MediaFiles,
    pub config: Arc<HttpConfig>,
    pub process: Process,
    /// The live input: source clients on the daemon's port are handed to it, and
    /// `/api/status` shows it.
    pub live: LiveAccess,
    /// The HLS output's playlist and segments (`/hls/`), when the station has one.
    pub hls: super::hls::HlsAccess,
    /// The analysed loudness and airing gain of the media folder's files (`/api/library`).
    pub library: crate::playout::Levels,
    /// The operators' console: its sessions, the schedule it edits.
    pub console: super::console::Console,
}

/// The live input, when the station has one.
#[derive(Clone, Default)]
pub struct LiveAccess(pub Option<crate::input::LiveService>);

/// What the HTTP layer is configured with, built at the edge (the daemon) from the settings.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Absolute base URL, without a trailing slash.
    pub public_url: String,
    /// Catalog files (originals, renditions, side files, tus state).
    pub data_dir: PathBuf,
    /// Artwork named in the schedule resolves against it.
    pub media_dir: PathBuf,
    /// Largest accepted upload, bytes.
    pub upload_limit_bytes: u64,
    /// A resumable upload untouched this long is abandoned.
    pub upload_expiry: Duration,
    /// Connection limits and timeouts ([`super::serve`]).
    pub limits: Limits,
    /// Feeds that moved: their old paths answer 301.
    pub feed_redirects: Vec<FeedRedirect>,
    /// The live stream's bitrate (feeds' live items; download counting without a duration).
    pub stream_bitrate_kbps: u32,
    /// The port live sources connect to (`live_listen`'s, or the daemon's), for `/live`.
    pub live_port: u16,
    /// Who may frame `/embed/*` (a CSP `frame-ancestors` source list); other pages refuse.
    pub embed_ancestors: String,
    /// Where the page loads hls.js from (empty: native HLS only).
    pub hls_js_url: String,
}

/// The catalog, and who is told when it changes.
#[derive(Clone)]
pub struct CatalogAccess {
    catalog: Catalog,
    /// Bumped on every change (ingest done or failed, edits): wakes the feed refresh and
    /// invalidates `/media` lookups.
    generation: watch::Sender<u64>,
    /// Wakes the ingest workers (set once the daemon started them).
    ingest: Arc<OnceLock<Notifier>>,
}

impl CatalogAccess {
    pub fn new(catalog: Catalog) -> CatalogAccess {
        CatalogAccess {
            catalog,
            generation: watch::Sender::new(0),
            ingest: Arc::default(),
        }
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Runs a blocking catalog call off the async runtime.
    pub async fn with_catalog<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Catalog) -> crate::catalog::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let catalog = self.catalog.clone();
        Ok(tokio::task::spawn_blocking(move || f(&catalog)).await??)
    }

    /// Tells the feed refresh (and any other subscriber) that the catalog changed.
    pub fn changed(&self) {
        self.generation.send_modify(|g| *g += 1);
    }

    /// [`CatalogAccess::changed`] as a callback for blocking code (ingest workers).
    pub fn notifier(&self) -> Notifier {
        let tx = self.generation.clone();
        Arc::new(move || tx.send_modify(|g| *g += 1))
    }

    /// How many times the catalog changed.
    pub fn generation(&self) -> u64 {
        *self.generation.borrow()
    }

    /// Wakes on every change.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.generation.subscribe()
    }

    /// Hands over the ingest workers' wake-up (the daemon, once they run).
    pub fn set_ingest_waker(&self, wake: Notifier) {
        let _ = self.ingest.set(wake);
    }

    /// An episode was queued: wake the ingest workers (if they run yet).
    pub fn ingest_queued(&self) {
        if let Some(wake) = self.ingest.get() {
            wake();
        }
    }
}

/// What the upload routes (one-request and resumable) use: the catalog, the shows they may
/// target, and the size limit.
#[derive(Clone)]
pub struct Intake {
    catalog: CatalogAccess,
    on_air: OnAir,
    pub upload_limit_bytes: u64,
}

impl Intake {
    pub fn catalog(&self) -> &Catalog {
        self.catalog.catalog()
    }

    /// An episode was queued: wake the ingest workers.
    pub fn ingest_queued(&self) {
        self.catalog.ingest_queued();
    }

    /// The shows uploads may target: the schedule's.
    pub fn known_shows(&self) -> Option<Vec<String>> {
        Some(self.on_air.show_slugs())
    }
}

impl FromRef<HttpState> for Intake {
    fn from_ref(state: &HttpState) -> Intake {
        Intake {
            catalog: state.catalog.clone(),
            on_air: state.on_air.clone(),
            upload_limit_bytes: state.config.upload_limit_bytes,
        }
    }
}

/// What the artwork routes (`/cover.*`, `/shows/{slug}/cover.*`) use: the schedule's
/// artwork, files under the media folder, and the generated covers.
#[derive(Clone)]
pub struct Covers {
    pub on_air: OnAir,
    pub media: MediaFiles,
    pub media_dir: PathBuf,
    /// Generated covers change only with a title, i.e. at most once per start.
    pub started_at: jiff::Timestamp,
}

impl FromRef<HttpState> for Covers {
    fn from_ref(state: &HttpState) -> Covers {
        Covers {
            on_air: state.on_air.clone(),
            media: state.media.clone(),
            media_dir: state.config.media_dir.clone(),
            started_at: state.process.started_at,
        }
    }
}

/// What is on air: the schedule in force, the playout's now-playing and counters, and the
/// stream's mounts (each served to listeners at its paths).
#[derive(Clone)]
pub struct OnAir {
    schedule: watch::Receiver<ScheduleState>,
    now_playing: watch::Receiver<NowPlaying>,
    /// The playout's counters, once it runs.
    playout: Arc<OnceLock<Arc<PlayoutStatus>>>,
    /// The airplay log's counters, once it runs.
    airplay: Arc<OnceLock<Arc<crate::playout::airplay::AirplayCounters>>>,
    /// The audience writer's counters and the sessions' log (for those lost), once it runs.
    sessions: Arc<OnceLock<(Arc<crate::audience::writer::WriterStats>, SessionLog)>>,
    /// The first is the main stream (its hub's listeners are the ones counted).
    mounts: Arc<[Mount]>,
}

impl OnAir {
    pub fn new(
        schedule: watch::Receiver<ScheduleState>,
        now_playing: watch::Receiver<NowPlaying>,
        mounts: Vec<Mount>,
    ) -> OnAir {
        assert!(
            !mounts.is_empty(),
            "a station streams on at least one mount"
        );
        OnAir {
            schedule,
            now_playing,
            playout: Arc::default(),
            airplay: Arc::default(),
            sessions: Arc::default(),
            mounts: mounts.into(),
        }
    }

    /// The schedule in force and the last reload's outcome.
    pub fn schedule(&self) -> watch::Ref<'_, ScheduleState> {
        self.schedule.borrow()
    }

    /// Wakes on every reload (accepted or refused).
    pub fn schedule_changes(&self) -> watch::Receiver<ScheduleState> {
        let mut rx = self.schedule.clone();
        rx.mark_unchanged();
        rx
    }

    /// The schedule on air.
    pub fn current_schedule(&self) -> Arc<Schedule> {
        self.schedule.borrow().schedule.clone()
    }

    /// The slugs of the shows on the schedule in force.
    pub fn show_slugs(&self) -> Vec<String> {
        self.schedule.borrow().show_slugs()
    }

    /// The errors of the last refused reload (empty once a reload is accepted).
    pub fn schedule_errors(&self) -> Vec<String> {
        self.schedule.borrow().refused_errors()
    }

    /// What is on air now (idle until the playout starts).
    pub fn now_playing(&self) -> NowPlaying {
        self.now_playing.borrow().clone()
    }

    /// Hands over the running playout's counters (the daemon, once it runs).
    pub fn set_playout_status(&self, status: Arc<PlayoutStatus>) {
        let _ = self.playout.set(status);
    }

    pub fn set_airplay_counters(&self, counters: Arc<crate::playout::airplay::AirplayCounters>) {
        let _ = self.airplay.set(counters);
    }

    /// Hands over the audience writer's counters and the log its sessions come from.
    pub fn set_session_counters(
        &self,
        stats: Arc<crate::audience::writer::WriterStats>,
        log: SessionLog,
    ) {
        let _ = self.sessions.set((stats, log));
    }

    /// Listener sessions (written, lost because the writer lagged or a write failed); zero
    /// before the writer starts.
    pub fn session_counts(&self) -> [u64; 2] {
        use std::sync::atomic::Ordering::Relaxed;
        self.sessions.get().map_or([0; 2], |(stats, log)| {
            [
                stats.rows.load(Relaxed),
                log.lost() + stats.failed.load(Relaxed),
            ]
        })
    }

    /// The airplay log's (events sent, dropped, rows written, batches failed); zero before
    /// it starts.
    pub fn airplay_counts(&self) -> [u64; 4] {
        use std::sync::atomic::Ordering::Relaxed;
        self.airplay.get().map_or([0; 4], |c| {
            [
                c.sent.load(Relaxed),
                c.dropped.load(Relaxed),
                c.written.load(Relaxed),
                c.failed.load(Relaxed),
            ]
        })
    }

    /// The playout's counters and silence alarm (all zero before it starts).
    pub fn playout_status(&self) -> StatusSnapshot {
        self.playout.get().map(|s| s.snapshot()).unwrap_or_default()
    }

    /// The main stream's fan-out.
    pub fn hub(&self) -> &Hub {
        &self.mounts[0].hub
    }

    /// Every mount listeners can tune into.
    pub fn mounts(&self) -> &[Mount] {
        &self.mounts
    }

    /// Name, description and format announced to listeners of the main stream.
    pub fn station_info(&self) -> &StationInfo {
        &self.mounts[0].info
    }
}

/// Listener×episode pairs tracked per day before new ones are ignored (memory bound).
const MAX_TRACKED_DOWNLOADS: usize = 1_000_000;

/// Files served to podcast apps and browsers: `/media` lookups, generated covers, and the
/// download counter.
#[derive(Clone)]
pub struct MediaFiles(Arc<MediaInner>);

struct MediaInner {
    catalog: Catalog,
    data_dir: PathBuf,
    /// Bytes per second of an episode without a known duration (download counting).
    bitrate_kbps: u32,
    cache: MediaCache,
    /// Generated covers by title (rendering one takes a while; titles rarely change).
    covers: Mutex<HashMap<String, bytes::Bytes>>,
    downloads: Mutex<DownloadCounter>,
}

impl MediaFiles {
    /// `secret` salts listener hashes for the day (kept across restarts by the daemon).
    pub fn new(catalog: Catalog, secret: [u8; 32], bitrate_kbps: u32) -> MediaFiles {
        MediaFiles(Arc::new(MediaInner {
            data_dir: catalog.data_dir().to_path_buf(),
            catalog,
            bitrate_kbps,
            cache: MediaCache::default(),
            covers: Mutex::default(),
            downloads: Mutex::new(DownloadCounter::new(secret, MAX_TRACKED_DOWNLOADS)),
        }))
    }

    /// `/media` lookups, invalidated by every catalog change.
    pub fn cache(&self) -> &MediaCache {
        &self.0.cache
    }

    pub fn catalog(&self) -> &Catalog {
        &self.0.catalog
    }

    /// Where the catalog's files are.
    pub fn data_dir(&self) -> &std::path::Path {
        &self.0.data_dir
    }

    pub fn stream_bitrate_kbps(&self) -> u32 {
        self.0.bitrate_kbps
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
        let covers = || self.0.covers.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(png) = covers().get(title) {
            return png.clone();
        }
        let png = bytes::Bytes::from(crate::feed::cover_png(title));
        covers().insert(title.to_owned(), png.clone());
        png
    }
}

/// The process as HTTP sees it: when it started, its request counter, the shutdown that
/// ends open stream bodies, and the outcome of the scheduled backups.
#[derive(Clone)]
pub struct Process {
    pub started_at: jiff::Timestamp,
    started: tokio::time::Instant,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
    /// The scheduled backups' outcome (disabled when `backup_dir` is not set).
    pub backups: crate::backup::BackupLog,
    /// The last webhook deliveries of the alerts task.
    pub alerts: crate::alerts::DeliveryLog,
    /// Tokens refused since the alerts watcher last looked (revoked names, unknown secrets).
    pub refused: crate::alerts::RefusedNames,
}

/// Counters exported at `/metrics` that only HTTP keeps.
#[derive(Debug, Default)]
pub struct Metrics {
    pub http_requests: AtomicU64,
}

impl Process {
    pub fn new(shutdown: CancellationToken) -> Process {
        Process {
            started_at: jiff::Timestamp::now(),
            started: tokio::time::Instant::now(),
            metrics: Arc::default(),
            shutdown,
            backups: crate::backup::BackupLog::default(),
            alerts: crate::alerts::DeliveryLog::default(),
            refused: crate::alerts::RefusedNames::default(),
        }
    }

    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    pub fn count_request(&self) {
        self.metrics.http_requests.fetch_add(1, Ordering::Relaxed);
    }

    /// Cancelled when the daemon stops: stream bodies end on it.
    pub fn shutdown_token(&self) -> &CancellationToken {
        &self.shutdown
    }
}

macro_rules! substate {
    ($($field:ident: $ty:ty),* $(,)?) => {$(
        impl FromRef<HttpState> for $ty {
            fn from_ref(state: &HttpState) -> $ty {
                state.$field.clone()
            }
        }
    )*};
}

substate!(
    catalog: CatalogAccess,
    on_air: OnAir,
    feeds: Arc<FeedStore>,
    media: MediaFiles,
    config: Arc<HttpConfig>,
    process: Process,
    live: LiveAccess,
    hls: super::hls::HlsAccess,
    library: crate::playout::Levels,
);
