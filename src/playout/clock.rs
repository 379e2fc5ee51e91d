//! Time for playout: the [`Timebase`] that maps frame indices to instants (the core's, shared
//! with the broadcast's HLS timestamps) and the [`Clock`] the engine paces itself against,
//! both re-exported here.

pub use crate::clock::{Clock, ManualClock, SystemClock};
pub use crate::timebase::Timebase;

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use jiff::Timestamp;

    use super::*;

    const NANOS: i128 = 1_000_000_000;
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
