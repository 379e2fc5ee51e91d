//! Audio time: the [`Timebase`] that maps frame indices to instants with integer arithmetic.
//!
//! Audio time is a frame index counted from an epoch (the Unix epoch for the live engine).
//! Frame `n` at rate `r` starts at `epoch + n·10⁹/r` ns, computed in `i128` every time and
//! never accumulated, so the stream cannot drift from the wall clock however long it runs:
//! the only error is the rounding of one conversion (< 1 frame). The playout renders on it
//! and the broadcast stamps its HLS segments with it, so both agree to the frame.

use std::time::Duration;

use jiff::Timestamp;

const NANOS: i128 = 1_000_000_000;

/// Frame index ⇄ instant at a fixed rate from a fixed epoch; see the module doc.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timebase {
    epoch: Timestamp,
    rate: u32,
}

impl Timebase {
    /// Frames counted from the Unix epoch: the live engine's time base.
    pub fn unix(rate: u32) -> Timebase {
        Timebase::new(Timestamp::UNIX_EPOCH, rate)
    }

    pub fn new(epoch: Timestamp, rate: u32) -> Timebase {
        assert!(rate > 0, "a sample rate is positive");
        Timebase { epoch, rate }
    }

    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// The instant frame `n` starts: `epoch + n·10⁹/rate` ns, rounded down.
    pub fn instant(&self, frame: u64) -> Timestamp {
        let ns = i128::from(frame) * NANOS / i128::from(self.rate);
        let ns = self.epoch.as_nanosecond() + ns;
        Timestamp::from_nanosecond(ns).unwrap_or(Timestamp::MAX)
    }

    /// The first frame starting at or after `t` (before the epoch: frame 0). For any instant
    /// that is a whole number of frame periods from the epoch (every whole second at every
    /// integer rate), `instant(frame_at(t)) == t` exactly.
    pub fn frame_at(&self, t: Timestamp) -> u64 {
        let ns = t.as_nanosecond() - self.epoch.as_nanosecond();
        if ns <= 0 {
            return 0;
        }
        let rate = i128::from(self.rate);
        let frame = (ns * rate + NANOS - 1) / NANOS;
        u64::try_from(frame).unwrap_or(u64::MAX)
    }

    /// The frame containing `t` (the last frame starting at or before `t`).
    pub fn frame_containing(&self, t: Timestamp) -> u64 {
        let ns = t.as_nanosecond() - self.epoch.as_nanosecond();
        if ns <= 0 {
            return 0;
        }
        u64::try_from(ns * i128::from(self.rate) / NANOS).unwrap_or(u64::MAX)
    }

    /// Frames in a duration, rounded down (for offsets and fade lengths).
    pub fn frames_in(&self, d: Duration) -> u64 {
        u64::try_from(d.as_nanos() * u128::from(self.rate) / NANOS as u128).unwrap_or(u64::MAX)
    }

    /// The duration of `frames`, rounded down to the nanosecond.
    pub fn duration_of(&self, frames: u64) -> Duration {
        let ns = u128::from(frames) * NANOS as u128 / u128::from(self.rate);
        Duration::from_nanos(u64::try_from(ns).unwrap_or(u64::MAX))
    }
}
