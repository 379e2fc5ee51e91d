//! Time for playout: the [`Timebase`] that maps frame indices to instants with integer
//! arithmetic (the engine paces itself against a core [`Clock`], re-exported here).
//!
//! Audio time is a frame index counted from an epoch (the Unix epoch for the live engine).
//! Frame `n` at rate `r` starts at `epoch + n·10⁹/r` ns, computed in `i128` every time and
//! never accumulated, so the stream cannot drift from the wall clock however long it runs:
//! the only error is the rounding of one conversion (< 1 frame).

use std::time::Duration;

use jiff::Timestamp;

pub use crate::clock::{Clock, ManualClock, SystemClock};

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

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::SignedDuration;
    use proptest::prelude::*;

    #[test]
    fn whole_seconds_map_to_exact_frames() {
        let tb = Timebase::unix(44_100);
        let t: Timestamp = "2027-03-28T01:00:00Z".parse().unwrap();
        let f = tb.frame_at(t);
        assert_eq!(f, t.as_second() as u64 * 44_100);
        assert_eq!(tb.instant(f), t);
        assert_eq!(tb.frame_containing(t), f);
    }

    #[test]
    fn no_drift_over_a_year_of_frames() {
        // One year of frames at 44.1 kHz lands on the exact instant: nothing accumulates.
        let start: Timestamp = "2027-01-01T00:00:00Z".parse().unwrap();
        let tb = Timebase::new(start, 44_100);
        let year = 365 * 86_400u64;
        assert_eq!(
            tb.instant(year * 44_100),
            start + SignedDuration::from_secs(year as i64)
        );
        // Mid-second: frame 1 at 44.1 kHz is 22675.73 µs, rounded down.
        assert_eq!(
            tb.instant(1).as_nanosecond() - start.as_nanosecond(),
            22_675
        );
    }

    #[test]
    fn auto_advance_clock_jumps_to_deadline() {
        let t0: Timestamp = "2027-01-01T00:00:00Z".parse().unwrap();
        let c = ManualClock::auto_advance(t0);
        let later = t0 + SignedDuration::from_secs(3600);
        c.sleep_until(later, Duration::from_secs(1));
        assert_eq!(c.now(), later);
        c.sleep_until(t0, Duration::from_secs(1));
        assert_eq!(c.now(), later, "never goes back");
    }

    proptest! {
        #[test]
        fn frame_and_instant_round_trip(
            frame in 0u64..(100 * 365 * 86_400 * 48_000),
            rate in prop::sample::select(vec![1_000u32, 8_000, 32_000, 44_100, 48_000]),
        ) {
            let tb = Timebase::unix(rate);
            let t = tb.instant(frame);
            prop_assert_eq!(tb.frame_at(t), frame);
            // The instant is within one frame period of the exact rational value.
            let exact = i128::from(frame) * NANOS;
            let got = t.as_nanosecond() * i128::from(rate);
            prop_assert!(exact - got >= 0 && exact - got < i128::from(rate));
        }
    }
}
