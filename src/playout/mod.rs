//! Playout: renders the schedule as continuous PCM at the station rate, paced by the clock.
//!
//! schedule → [`programme`] (occurrences + catalog choices → timeline [`Segment`]s) →
//! [`engine`] (planner thread + render thread, decode-ahead [`prefetch`]es, [`live`] inputs,
//! fades, pacing against a [`Clock`]) → a [`PcmSink`] (the daemon gives it a [`FanOut`] of
//! the broadcast's encodings; playout knows none of them).
//!
//! Audio time is a frame index from the Unix epoch at the station rate ([`Timebase`]): an
//! occurrence starting at a whole second starts at an exact frame, and nothing drifts.
//!
//! The daemon starts it with [`start`]:
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use antenne::playout::{self, FanOut, NullSink, PcmSink, PlayoutConfig, SystemClock};
//! # fn example(
//! #     catalog: antenne::catalog::Catalog,
//! #     schedule_rx: tokio::sync::watch::Receiver<Arc<antenne::schedule::Schedule>>,
//! # ) -> std::io::Result<()> {
//! # let mp3_encoding = NullSink;
//! let encodings: Vec<Box<dyn PcmSink>> = vec![Box::new(mp3_encoding)]; // any `PcmSink`s
//! let playout = playout::start(
//!     PlayoutConfig::default(), // sample rate, media folder, live inputs...
//!     schedule_rx,              // the schedule in force, swapped on reload
//!     catalog.clone(),
//!     Box::new(FanOut::new(encodings)),
//!     Arc::new(SystemClock),
//! )?;
//! let now_rx = playout.now_playing(); // watch::Receiver<NowPlaying> for /api/now
//! let status = playout.status(); // Arc<PlayoutStatus> for /api/status and /metrics
//! // at shutdown:
//! playout.stop();
//! # Ok(())
//! # }
//! ```

pub mod airplay;
pub mod clock;
pub mod engine;
pub mod level;
pub mod library;
pub mod live;
pub mod media;
pub mod now;
pub mod picks;
pub mod prefetch;
pub mod programme;
mod sequence;
pub mod timeline;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use crate::audio::{FanOut, NullSink, PcmSink};
pub use airplay::{AirplayLog, AirplayWriter};
pub use clock::{Clock, ManualClock, SystemClock, Timebase};
pub use engine::{PlayoutHandle, start_with};
pub use level::{FileLevel, LevelPolicy, Levels};
pub use live::{LiveBuffer, LiveInput, LiveInputs, LiveWriter, Takeover};
pub use media::{Opener, default_opener};
pub use now::{NowPlaying, PlayoutStatus, StatusSnapshot};
pub use picks::{CatalogEpisodes, Chosen, Episodes, NoEpisodes};
pub use timeline::{Kind, Plan, Segment, Source};

use crate::catalog::Catalog;
use crate::schedule::Schedule;

/// Engine parameters (the daemon builds its own in `daemon::edge`).
#[derive(Debug, Clone, PartialEq)]
pub struct PlayoutConfig {
    pub sample_rate: u32,
    /// Playlist, file and fallback paths of the schedule resolve against it.
    pub media_dir: PathBuf,
    /// Frames per rendered block.
    pub block_frames: usize,
    /// How far the rendered audio stays ahead of the clock (bounded by `lead + block`).
    pub lead: Duration,
    /// How far ahead the programme is planned.
    pub plan_ahead: Duration,
    /// How long before an item is due its decoder starts.
    pub prefetch: Duration,
    /// Decoded chunks (4096 frames each) buffered ahead per item.
    pub decode_chunks: usize,
    /// Fade at every edge, against clicks.
    pub edge_fade: Duration,
    /// Fade-out of an item cut by its slot's end with `overrun = "fade"`.
    pub overrun_fade: Duration,
    /// Behind the clock by more than this (a stall), the engine skips ahead to stay clock-true.
    pub catch_up_limit: Duration,
    /// Output below this level for `silence_hold` raises the silence alarm.
    pub silence_threshold_dbfs: f64,
    pub silence_hold: Duration,
    /// The live inputs `play = "live"` slots air while a source is connected (none: the
    /// fallback plays them, as before a live input existed).
    pub live: LiveInputs,
    /// The gains of non-episode files (off by default; the daemon turns it on).
    pub levels: Levels,
    /// Where the render thread reports what airs (the default records nothing).
    pub airplay: AirplayLog,
    /// Simulation: wait for the planner and decoders instead of rendering silence (only
    /// sensible with a virtual clock).
    pub wait_for_data: bool,
    /// Simulation: stop after rendering up to this instant.
    pub run_until: Option<jiff::Timestamp>,
}

impl Default for PlayoutConfig {
    fn default() -> Self {
        PlayoutConfig {
            sample_rate: 44_100,
            media_dir: PathBuf::from("media"),
            block_frames: 4096,
            lead: Duration::from_millis(200),
            plan_ahead: Duration::from_secs(600),
            prefetch: Duration::from_secs(5),
            decode_chunks: 16,
            edge_fade: Duration::from_millis(15),
            overrun_fade: Duration::from_secs(3),
            catch_up_limit: Duration::from_secs(5),
            silence_threshold_dbfs: -60.0,
            silence_hold: Duration::from_secs(30),
            live: LiveInputs::default(),
            levels: Levels::default(),
            airplay: AirplayLog::default(),
            wait_for_data: false,
            run_until: None,
        }
    }
}

/// Starts the engine on its own threads: the programme of `schedule` (latest value, live
/// reload), episodes chosen in `catalog`, files decoded with `audio::open_pcm`, output to
/// `sink`, paced by `clock`. Call [`PlayoutHandle::stop`] at shutdown.
pub fn start(
    config: PlayoutConfig,
    schedule: tokio::sync::watch::Receiver<Arc<Schedule>>,
    catalog: Catalog,
    sink: Box<dyn PcmSink>,
    clock: Arc<dyn Clock>,
) -> std::io::Result<PlayoutHandle> {
    start_with(
        config,
        schedule,
        Arc::new(CatalogEpisodes::new(catalog)),
        default_opener(),
        sink,
        clock,
    )
}
