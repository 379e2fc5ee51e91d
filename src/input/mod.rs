//! The live input: volunteers go on air from the software they already use (BUTT, Mixxx,
//! ffmpeg's `icecast://`, Liquidsoap's `output.icecast`, darkice, ices), which speaks the
//! Icecast source protocol to the mount `/live`, and every live show is kept as a podcast
//! episode.
//!
//! - [`protocol`]: the request heads and answers of source clients.
//! - [`access`]: who may go live and when (live tokens, the show's `play = "live"` slot and
//!   its pre-roll, an operator's override).
//! - [`session`]: one connection: credentials, admission, the bytes into the pipeline, the
//!   grace after a drop.
//! - [`pipeline`]: the audio, on a thread of its own: decode, downmix, drift resampling to the
//!   station rate, level, into the playout's [`crate::playout::LiveInput`].
//! - [`record`]: the bytes as received, kept crash-safely and handed to ingest when the show
//!   is over.
//!
//! Source connections arrive on the daemon's port (the HTTP server hands them over before
//! hyper reads them: [`protocol::opening`]) or on a `live_listen` address of their own
//! ([`serve`]).

pub mod access;
pub mod mp3sync;
pub mod pipeline;
pub mod protocol;
pub mod record;
pub mod session;
pub mod status;
pub mod throttle;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::catalog::Catalog;
use crate::clock::Clock;
use crate::playout::{LiveInput, LiveInputs, LiveWriter};
use crate::schedule::ScheduleState;
use status::{Connected, InputCounters, SourceStats};

/// The mount volunteers connect to (what BUTT and Mixxx call the mount point).
pub const MOUNT: &str = "/live";

/// The live input's settings, built at the daemon's edge.
#[derive(Debug, Clone)]
pub struct LiveConfig {
    pub station_rate: u32,
    pub target_lufs: f64,
    pub ceiling_dbtp: f64,
    /// The buffer level the drift control holds for a steady source (the input's share of
    /// the latency); a source whose packets arrive in bursts gets more, up to `max_cushion`.
    pub cushion: Duration,
    pub max_cushion: Duration,
    /// How long before its slot a show's source is taken (connected, not yet on air).
    pub preroll: Duration,
    /// How long a dropped source's place is kept: back within it, it resumes without a switch.
    pub grace: Duration,
    /// A source silent this long (no bytes, connection open) is dropped and its place freed
    /// at once (no grace): the slot's underrun airs instead of more dead air.
    pub stall: Duration,
    /// Time to send the request head.
    pub head_timeout: Duration,
    pub data_dir: PathBuf,
    /// Keep every live show as an episode.
    pub record: bool,
}

impl Default for LiveConfig {
    fn default() -> Self {
        LiveConfig {
            station_rate: 44_100,
            target_lufs: -16.0,
            ceiling_dbtp: -1.0,
            cushion: Duration::from_millis(350),
            max_cushion: Duration::from_millis(2500),
            preroll: Duration::from_secs(600),
            grace: Duration::from_secs(5),
            stall: Duration::from_secs(5),
            head_timeout: Duration::from_secs(15),
            data_dir: PathBuf::from("data"),
            record: true,
        }
    }
}

/// What the live input shares between its connections. Cheap to clone.
#[derive(Clone)]
pub struct LiveService(Arc<Inner>);

struct Inner {
    config: LiveConfig,
    catalog: Catalog,
    schedule: watch::Receiver<ScheduleState>,
    input: LiveInput,
    clock: Arc<dyn Clock>,
    throttle: throttle::Throttle,
    current: Mutex<Option<Current>>,
    /// The last [`Current::generation`] given: unique across sources, so the grace timer of
    /// a source another one replaced never ends the newcomer.
    generations: std::sync::atomic::AtomicU64,
    counters: InputCounters,
    /// Called when a recording was handed to ingest (wakes the workers).
    on_recorded: Arc<dyn Fn() + Send + Sync>,
    tasks: TaskTracker,
    shutdown: CancellationToken,
}

/// The source holding the input: streaming, or dropped and within its grace.
struct Current {
    connected: Connected,
    stats: Arc<SourceStats>,
    /// New at every (re)connection, never reused: a grace timer only ends the connection it
    /// was for.
    generation: u64,
    /// Held here while the source is gone (its grace); with the pipeline while it streams.
    held: Option<LiveWriter>,
    recording: Option<record::Recording>,
}

/// A snapshot for `/api/status` and `/metrics`.
#[derive(Debug, Clone)]
pub struct LiveSnapshot {
    pub connected: Option<Connected>,
    pub format: Option<status::SourceFormat>,
    pub buffered_ms: u64,
    /// The buffer level the drift control holds now (it follows the source's jitter).
    pub cushion_ms: u64,
    pub drift_ppm: f64,
    pub gain_db: f64,
    pub source_lufs: Option<f64>,
    pub bytes: u64,
    pub connections: u64,
    pub reconnects: u64,
    pub refused: u64,
    pub unauthorized: u64,
    pub undecodable: u64,
    pub recordings: u64,
    pub underruns: u64,
    pub overflow_frames: u64,
}

impl LiveService {
    /// The live input of `inputs` named `live`, which `play = "live"` slots air.
    pub fn new(
        config: LiveConfig,
        catalog: Catalog,
        schedule: watch::Receiver<ScheduleState>,
        inputs: &LiveInputs,
        clock: Arc<dyn Clock>,
        on_recorded: Arc<dyn Fn() + Send + Sync>,
        shutdown: CancellationToken,
    ) -> Option<LiveService> {
        let input = inputs.get(crate::playout::programme::LIVE_INPUT)?.clone();
        Some(LiveService(Arc::new(Inner {
            config,
            catalog,
            schedule,
            input,
            clock,
            throttle: throttle::Throttle::default(),
            current: Mutex::new(None),
            generations: std::sync::atomic::AtomicU64::new(0),
            counters: InputCounters::default(),
            on_recorded,
            tasks: TaskTracker::new(),
            shutdown,
        })))
    }

    pub fn config(&self) -> &LiveConfig {
        &self.0.config
    }

    pub fn status(&self) -> LiveSnapshot {
        let current = self.0.current.lock().unwrap_or_else(|e| e.into_inner());
        let c = &self.0.counters;
        let n = |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed);
        let stats = current.as_ref().map(|c| c.stats.clone());
        let rate = u64::from(self.0.config.station_rate.max(1));
        LiveSnapshot {
            connected: current.as_ref().map(|c| c.connected.clone()),
            format: stats.as_ref().and_then(|s| s.format()),
            buffered_ms: self.0.input.buffered_frames() as u64 * 1000 / rate,
            cushion_ms: self.0.input.cushion_frames() * 1000 / rate,
            drift_ppm: stats.as_ref().map_or(0.0, |s| s.drift_ppm()),
            gain_db: stats.as_ref().map_or(0.0, |s| s.gain_db()),
            source_lufs: stats.as_ref().and_then(|s| s.shortterm_lufs()),
            bytes: stats.as_ref().map_or(0, |s| n(&s.bytes)),
            connections: n(&c.connections),
            reconnects: n(&c.reconnects),
            refused: n(&c.refused),
            unauthorized: n(&c.unauthorized),
            undecodable: n(&c.undecodable),
            recordings: n(&c.recordings),
            underruns: n(&self.0.input.counters().underruns),
            overflow_frames: n(&self.0.input.counters().overflow_frames),
        }
    }

    /// Hands the live recordings whose show is over to ingest (at start: those a crash or a
    /// stop left), and returns the earliest end of those still to come. Blocking: run it off
    /// the runtime.
    pub fn finish_recordings(&self) -> Option<jiff::Timestamp> {
        let now = self.0.clock.now();
        let active = self
            .0
            .current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .and_then(|c| c.recording.as_ref().map(|r| r.dir().to_path_buf()));
        let mut next_end: Option<jiff::Timestamp> = None;
        for recording in record::pending(&self.0.config.data_dir) {
            // A recording whose meta cannot be read is due: ingest says what is wrong.
            let end = recording.meta().ok().and_then(|m| m.ends_at);
            if active.as_deref() == Some(recording.dir()) || end.is_some_and(|e| e > now) {
                next_end = match (next_end, end) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                continue;
            }
            match record::finish(
                &self.0.catalog,
                &recording,
                self.0.config.station_rate,
                self.0.clock.as_ref(),
            ) {
                Ok(Some(ep)) => {
                    self.0
                        .counters
                        .recordings
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    tracing::info!(episode = %ep.id, show = %ep.show, "live show recorded: queued as an episode");
                    (self.0.on_recorded)();
                }
                Ok(None) => {}
                Err(e) => tracing::error!("{e}"),
            }
        }
        next_end
    }

    /// Finishes due recordings until shutdown: at start (those a crash left), then at each
    /// recording's end, and every `every` (a show whose source dropped for good).
    pub async fn run_recordings(self, every: Duration) {
        loop {
            let s = self.clone();
            let next = tokio::task::spawn_blocking(move || s.finish_recordings())
                .await
                .ok()
                .flatten();
            let until_next = next
                .map(|end| end.duration_since(self.0.clock.now()))
                .and_then(|d| Duration::try_from(d).ok())
                .map_or(every, |d| (d + Duration::from_millis(200)).min(every));
            tokio::select! {
                () = tokio::time::sleep(until_next) => {}
                () = self.0.shutdown.cancelled() => break,
            }
        }
        self.0.tasks.close();
        self.0.tasks.wait().await;
    }
}

/// Serves source clients on a listener of their own (`live_listen`): nothing but the live
/// input answers there.
pub async fn serve(listener: TcpListener, service: LiveService) {
    let shutdown = service.0.shutdown.clone();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            () = shutdown.cancelled() => break,
        };
        match accepted {
            Ok((stream, peer)) => {
                let s = service.clone();
                service.0.tasks.spawn(session::handle(s, stream, peer));
            }
            Err(e) => {
                tracing::warn!("live input: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}
