//! The running station's state: the process (settings, tracked tasks, shutdown), the station
//! (catalog, schedule in force, hub, playout and ingest handles), and the HTTP layer's own
//! state, built here from them.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::broadcast::hls::HlsStore;
use crate::broadcast::{Encoding, Hub, Mount, SessionLog, StationInfo};
use crate::catalog::{Catalog, StreamKind};
use crate::config::Settings;
use crate::http::feed::FeedStore;
use crate::http::refresh;
use crate::http::{
    CatalogAccess, HlsAccess, HlsService, HttpState, LiveAccess, MediaFiles, OnAir, Process,
};
use crate::playout::NowPlaying;
use crate::schedule::ScheduleState;

type SessionReceiver = tokio::sync::mpsc::Receiver<crate::catalog::ListenerSession>;

/// The operators' console, validating edits as the reload does.
fn console(settings: &Settings, catalog: &Catalog) -> crate::http::console::Console {
    let (media_dir, catalog) = (settings.process.media_dir.clone(), catalog.clone());
    crate::http::console::Console::new(
        super::edge::console_config(settings),
        Arc::new(move |text, file, now| {
            super::schedule::validate(text, file, &media_dir, &catalog, now)
        }),
    )
}

/// The download counter's secret, in `data_dir`.
pub(crate) const SECRET_FILE: &str = "download-secret";

struct Inner {
    settings: Settings,
    catalog: Catalog,
    schedule: watch::Sender<ScheduleState>,
    /// The stream's mounts (one per encoding; the MP3 one first).
    mounts: Vec<Mount>,
    /// Live inputs, read by the playout's live segments.
    live: crate::playout::LiveInputs,
    /// The playout engine (its own threads), once started.
    playout: Mutex<Option<crate::playout::PlayoutHandle>>,
    /// What is on air, from the playout (idle until it starts).
    now_playing: watch::Sender<NowPlaying>,
    /// The ingest workers (blocking threads), once started.
    ingest: Mutex<Option<crate::ingest::IngestRunner>>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
    /// What the routes share (their own caches included).
    http: HttpState,
    /// Ended listener sessions and the counters of their writer, until it takes them.
    sessions: Mutex<Option<(SessionReceiver, Arc<crate::audience::writer::WriterStats>)>>,
}

/// The shared state of a running station: the process (settings, tasks, shutdown), the
/// station (catalog, schedule, hub, playout, ingest) and the HTTP layer's state built from
/// them. Cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl AppState {
    /// Opens the catalog (creating it on first run) and loads the schedule: the station does
    /// not start without a valid one ([`crate::daemon::StartError`]).
    pub async fn open(settings: Settings) -> anyhow::Result<AppState> {
        let s = settings.clone();
        let http_config = Arc::new(super::edge::http_config(&settings));
        let c = http_config.clone();
        let (catalog, schedule, secret, feeds) =
            tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
                let catalog = Catalog::open(&s.process.data_dir)?;
                let schedule = crate::daemon::schedule::initial(
                    &s.process.schedule,
                    &s.process.media_dir,
                    &catalog,
                )?;
                let secret = load_secret(&s.process.data_dir.join(SECRET_FILE))?;
                // Feeds answer from the first request on.
                let feeds =
                    refresh::render_all(&catalog, &schedule.schedule, &c, jiff::Timestamp::now())?;
                Ok((catalog, schedule, secret, feeds))
            })
            .await
            .context("start-up task")??;
        let store = Arc::new(FeedStore::default());
        refresh::install(&store, feeds, &settings.station.feed_redirects);
        let shutdown = CancellationToken::new();
        let station_info = super::edge::station_info(schedule.schedule.station(), &settings);
        let mut mounts = vec![Mount::mp3(
            Hub::new(super::edge::hub_config(&settings), shutdown.clone()),
            station_info.clone(),
        )];
        if settings.station.opus_bitrate_kbps > 0 {
            let info = StationInfo {
                bitrate_kbps: settings.station.opus_bitrate_kbps,
                sample_rate: crate::audio::opus::OPUS_RATE,
                ..station_info
            };
            let hub = Hub::new(super::edge::hub_config(&settings), shutdown.clone());
            mounts.push(Mount::opus(hub, info));
        }
        // Every listener's session, on every output, goes to the audience writer.
        let (session_log, sessions) = SessionLog::new(jiff::Timestamp::now());
        for mount in &mounts {
            let kind = match mount.encoding {
                Encoding::Mp3 => StreamKind::Mp3,
                Encoding::Opus => StreamKind::Opus,
            };
            mount.hub.record_sessions(session_log.clone(), kind);
        }
        let live = super::edge::live_inputs(&settings);
        let levels = super::edge::levels(&settings);
        let schedule = watch::Sender::new(schedule);
        let now_playing = watch::Sender::new(NowPlaying::idle());
        let catalog_access = CatalogAccess::new(catalog.clone());
        let recorded = catalog_access.clone();
        let live_service = crate::input::LiveService::new(
            super::edge::live_config(&settings),
            catalog.clone(),
            schedule.subscribe(),
            &live,
            Arc::new(crate::clock::SystemClock),
            // A live show handed to ingest: wake the workers, refresh the feeds.
            Arc::new(move || {
                recorded.ingest_queued();
                recorded.changed();
            }),
            shutdown.clone(),
        );
        let http = HttpState {
            catalog: catalog_access,
            on_air: OnAir::new(
                schedule.subscribe(),
                now_playing.subscribe(),
                mounts.clone(),
            ),
            feeds: store,
            media: MediaFiles::new(catalog.clone(), secret, settings.station.bitrate_kbps),
            config: http_config,
            process: Process::new(shutdown.clone()),
            live: LiveAccess(live_service),
            hls: HlsAccess(super::edge::hls_config(&settings).map(|config| {
                let store = HlsStore::new(config.dir.clone());
                HlsService::new(config, store).with_sessions(session_log.clone())
            })),
            library: levels,
            console: console(&settings, &catalog),
        };
        let session_stats = Arc::new(crate::audience::writer::WriterStats::default());
        http.on_air
            .set_session_counters(session_stats.clone(), session_log.clone());
        Ok(AppState(Arc::new(Inner {
            settings,
            catalog,
            schedule,
            mounts,
            live,
            ingest: Mutex::new(None),
            playout: Mutex::new(None),
            now_playing,
            shutdown,
            tasks: TaskTracker::new(),
            http,
            sessions: Mutex::new(Some((sessions, session_stats))),
        })))
    }

    pub fn settings(&self) -> &Settings {
        &self.0.settings
    }

    pub fn catalog(&self) -> &Catalog {
        &self.0.catalog
    }

    /// The HTTP layer's state (what [`crate::http::router`] and [`crate::http::serve`] take).
    pub fn http(&self) -> HttpState {
        self.0.http.clone()
    }

    /// The schedule in force and the last reload's outcome.
    pub fn schedule(&self) -> watch::Ref<'_, ScheduleState> {
        self.0.schedule.borrow()
    }

    /// The schedule on air.
    pub fn current_schedule(&self) -> Arc<crate::schedule::Schedule> {
        self.0.schedule.borrow().schedule.clone()
    }

    /// The sender side, for the reload task and tests.
    pub fn schedule_sender(&self) -> &watch::Sender<ScheduleState> {
        &self.0.schedule
    }

    /// The live stream's fan-out.
    pub fn hub(&self) -> &Hub {
        &self.0.mounts[0].hub
    }

    /// The stream's mounts, the main (MP3) one first.
    pub fn mounts(&self) -> &[Mount] {
        &self.0.mounts
    }

    /// The media folder's loudness levels (filled by the analyser, read by the playout).
    pub fn levels(&self) -> &crate::playout::Levels {
        &self.0.http.library
    }

    /// The live inputs sources connect to.
    pub fn live_inputs(&self) -> &crate::playout::LiveInputs {
        &self.0.live
    }

    /// The live input's service (source connections, recordings).
    pub fn live(&self) -> Option<&crate::input::LiveService> {
        self.0.http.live.0.as_ref()
    }

    /// Re-renders every feed now (the refresh task does this on every change; tests call it
    /// after writing to the catalog).
    pub async fn rebuild_feeds(&self) {
        refresh::rebuild(&self.0.http, jiff::Timestamp::now()).await;
    }

    /// Tells the feed refresh (and any other subscriber) that the catalog changed.
    pub fn catalog_changed(&self) {
        self.0.http.catalog.changed();
    }

    /// What is on air now (from the playout engine).
    pub fn now_playing(&self) -> NowPlaying {
        self.0.now_playing.borrow().clone()
    }

    /// The playout's counters and silence alarm (all zero before it starts).
    pub fn playout_status(&self) -> crate::playout::StatusSnapshot {
        self.0.http.on_air.playout_status()
    }

    /// Cancelled when the daemon stops: stream bodies and tasks end on it.
    pub fn shutdown_token(&self) -> &CancellationToken {
        &self.0.shutdown
    }

    /// Hands the ingest workers to the state; uploads wake them from now on.
    pub(crate) fn set_ingest(&self, runner: crate::ingest::IngestRunner) {
        let waker = runner.waker();
        self.0.http.catalog.set_ingest_waker(waker);
        *self.0.ingest.lock().unwrap_or_else(|p| p.into_inner()) = Some(runner);
    }

    /// Hands the running playout to the state; its counters are published to HTTP.
    pub(crate) fn set_playout(&self, handle: crate::playout::PlayoutHandle) {
        self.0.http.on_air.set_playout_status(handle.status());
        *self.0.playout.lock().unwrap_or_else(|p| p.into_inner()) = Some(handle);
    }

    pub(crate) fn now_playing_sender(&self) -> &watch::Sender<NowPlaying> {
        &self.0.now_playing
    }

    /// The channel of ended listener sessions and the counters `/metrics` reads (once: the
    /// audience writer's).
    pub(crate) fn take_sessions(
        &self,
    ) -> Option<(SessionReceiver, Arc<crate::audience::writer::WriterStats>)> {
        self.0
            .sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
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
