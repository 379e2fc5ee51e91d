//! What playout publishes: [`NowPlaying`] (a `watch` channel, for `/api/now`, ICY and
//! Icecast titles) and [`PlayoutStatus`] counters (for `/api/status` and `/metrics`).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use jiff::Timestamp;

use super::timeline::{Airing, Kind, Next};

/// What is on air.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NowPlaying {
    /// The show's slug; `None` when the fallback rotation or dead air is on air.
    pub show: Option<String>,
    pub show_title: String,
    pub title: String,
    pub episode_id: Option<String>,
    pub started_at: Timestamp,
    pub ends_at: Timestamp,
    pub next: Option<Next>,
    /// `show`, `live`, `fallback`, `silence` (meant) or `dead_air`.
    pub kind: &'static str,
}

impl NowPlaying {
    /// Before the first block is rendered.
    pub fn idle() -> NowPlaying {
        NowPlaying {
            show: None,
            show_title: String::new(),
            title: String::new(),
            episode_id: None,
            started_at: Timestamp::UNIX_EPOCH,
            ends_at: Timestamp::UNIX_EPOCH,
            next: None,
            kind: "dead_air",
        }
    }

    pub(crate) fn of(item: &Airing, kind: Kind) -> NowPlaying {
        NowPlaying {
            show: item.show.clone(),
            show_title: item.show_title.clone(),
            title: item.title.clone(),
            episode_id: item.episode_id.clone(),
            started_at: item.started_at,
            ends_at: item.ends_at,
            next: item.next.clone(),
            kind: match kind {
                Kind::Show => "show",
                Kind::Live => "live",
                // An ident carries the title of the track it announces.
                Kind::Fallback | Kind::Ident => "fallback",
                Kind::MeantSilence => "silence",
                Kind::DeadAir => "dead_air",
            },
        }
    }

    /// `Show - Episode` for ICY and Icecast (either part alone when the other is empty).
    pub fn stream_title(&self) -> String {
        match (self.show_title.is_empty(), self.title.is_empty()) {
            (false, false) => format!("{} - {}", self.show_title, self.title),
            (false, true) => self.show_title.clone(),
            (true, false) => self.title.clone(),
            (true, true) => String::new(),
        }
    }
}

/// Live counters of the engine, shared with the daemon (all relaxed atomics).
#[derive(Debug, Default)]
pub struct PlayoutStatus {
    /// Frames rendered since start.
    pub frames_rendered: AtomicU64,
    /// The next frame to render (absolute, Unix-epoch time base).
    pub cursor: AtomicU64,
    /// Frames left silent because a decoder or the planner was late.
    pub late_frames: AtomicU64,
    /// Frames skipped because the engine fell more than the catch-up limit behind.
    pub skipped_frames: AtomicU64,
    /// Items that failed on air and were replaced by the fallback.
    pub failed_items: AtomicU64,
    /// Sustained silence on the output (> 30 s below -60 dBFS, outside meant silence).
    pub silence_alarm: AtomicBool,
    /// Silence alarms raised since the start: an alarm the fallback ends within a fraction
    /// of a second (a silent show item is replaced as it fires) is still seen by a watcher
    /// that polls once a second.
    pub silence_alarms: AtomicU64,
    /// Length of the current silent run, in frames.
    pub quiet_frames: AtomicU64,
    /// How far the rendered audio is ahead of the wall clock, ms (negative: behind).
    pub lead_ms: std::sync::atomic::AtomicI64,
}

/// A copy of [`PlayoutStatus`] at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatusSnapshot {
    pub frames_rendered: u64,
    pub cursor: u64,
    pub late_frames: u64,
    pub skipped_frames: u64,
    pub failed_items: u64,
    pub silence_alarm: bool,
    pub silence_alarms: u64,
    pub quiet_frames: u64,
    pub lead_ms: i64,
}

impl PlayoutStatus {
    pub fn snapshot(&self) -> StatusSnapshot {
        let r = Ordering::Relaxed;
        StatusSnapshot {
            frames_rendered: self.frames_rendered.load(r),
            cursor: self.cursor.load(r),
            late_frames: self.late_frames.load(r),
            skipped_frames: self.skipped_frames.load(r),
            failed_items: self.failed_items.load(r),
            silence_alarm: self.silence_alarm.load(r),
            silence_alarms: self.silence_alarms.load(r),
            quiet_frames: self.quiet_frames.load(r),
            lead_ms: self.lead_ms.load(r),
        }
    }
}
