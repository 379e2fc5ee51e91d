//! What the live input shows operators (`/api/status`, `/metrics`): who is connected and since
//! when, the source's format, the buffer, the drift, the level, and the counts of
//! connections, reconnections and refusals.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use jiff::Timestamp;

/// Counters of one connected source, written by its pipeline thread.
#[derive(Debug, Default)]
pub struct SourceStats {
    pub bytes: AtomicU64,
    /// Frames decoded, at the source's rate.
    pub frames_in: AtomicU64,
    format: Mutex<Option<SourceFormat>>,
    /// f64 bits of the drift correction (relative), the leveler's gain (dB), the source's
    /// short-term loudness (LUFS, NaN before 3 s) and the buffer level (frames).
    correction: AtomicU64,
    gain_db: AtomicU64,
    shortterm: AtomicU64,
    buffered: AtomicU64,
}

/// What the decoder found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFormat {
    pub codec: String,
    pub sample_rate: u32,
    pub channels: usize,
}

impl SourceStats {
    pub fn set_format(&self, codec: &str, sample_rate: u32, channels: usize) {
        *self.format.lock().unwrap_or_else(|e| e.into_inner()) = Some(SourceFormat {
            codec: codec.to_owned(),
            sample_rate,
            channels,
        });
    }

    pub fn format(&self) -> Option<SourceFormat> {
        self.format
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn record_levels(
        &self,
        correction: f64,
        gain_db: f64,
        shortterm: Option<f64>,
        buffered: u64,
    ) {
        self.correction
            .store(correction.to_bits(), Ordering::Relaxed);
        self.gain_db.store(gain_db.to_bits(), Ordering::Relaxed);
        let s = shortterm.unwrap_or(f64::NAN);
        self.shortterm.store(s.to_bits(), Ordering::Relaxed);
        self.buffered.store(buffered, Ordering::Relaxed);
    }

    /// The drift correction in parts per million (positive: the source's clock runs fast).
    pub fn drift_ppm(&self) -> f64 {
        f64::from_bits(self.correction.load(Ordering::Relaxed)) * 1e6
    }

    pub fn gain_db(&self) -> f64 {
        f64::from_bits(self.gain_db.load(Ordering::Relaxed))
    }

    /// The source's own short-term loudness, LUFS.
    pub fn shortterm_lufs(&self) -> Option<f64> {
        Some(f64::from_bits(self.shortterm.load(Ordering::Relaxed))).filter(|l| l.is_finite())
    }

    pub fn buffered_frames(&self) -> u64 {
        self.buffered.load(Ordering::Relaxed)
    }
}

/// The source on air (or in its pre-roll, or in its grace after a drop).
#[derive(Debug, Clone)]
pub struct Connected {
    /// The token's name (never its secret).
    pub token: String,
    /// The show, or `None` for an operator's override.
    pub show: Option<String>,
    pub occurrence: Option<String>,
    pub since: Timestamp,
    /// When it goes on air (the slot's start) and when it must end (the slot's, the
    /// override's), if set.
    pub on_air_at: Timestamp,
    pub ends_at: Option<Timestamp>,
    /// Source software (`User-Agent`), for the operator.
    pub software: Option<String>,
    /// `false` while the source is gone but its grace runs.
    pub streaming: bool,
}

/// Counts since start.
#[derive(Debug, Default)]
pub struct InputCounters {
    pub connections: AtomicU64,
    /// Connections that resumed a dropped source within its grace.
    pub reconnects: AtomicU64,
    /// Valid credentials refused (outside the slot, no live scope, another source on air).
    pub refused: AtomicU64,
    /// Missing, wrong or revoked credentials.
    pub unauthorized: AtomicU64,
    /// Sources whose bytes were not audio.
    pub undecodable: AtomicU64,
    /// Live occurrences recorded and handed to ingest.
    pub recordings: AtomicU64,
}
