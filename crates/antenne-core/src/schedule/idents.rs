//! When station identification is due: the instants of `[station] ident_every`, on the same
//! wall times every day in the station's zone.
//!
//! The marks are local midnight plus whole multiples of the interval (`1h`: the top of every
//! hour). A mark whose wall time falls in a spring-forward gap moves forward by the gap, one in
//! a fall-back fold is taken once, at its first occurrence, as slot starts are (RFC 5545); two
//! marks landing on one instant count once.

use jiff::civil::DateTime;
use jiff::{SignedDuration, Timestamp, ToSpan};

use super::Schedule;
use super::recur;

impl Schedule {
    /// The instants in `[from, to)` at which an ident is due, sorted; none without
    /// `ident_every`.
    pub fn ident_marks(&self, from: Timestamp, to: Timestamp) -> Vec<Timestamp> {
        let Some(every) = self.station.ident_every else {
            return Vec::new();
        };
        let secs = every.as_secs();
        if secs <= 0 || from >= to {
            return Vec::new();
        }
        let tz = &self.station.timezone;
        let first = tz.to_datetime(from).date().saturating_sub(1.days());
        let last = tz.to_datetime(to).date().saturating_add(1.days());
        let per_day = 86_400 / secs;
        let mut out = Vec::new();
        let mut day = first;
        while day <= last {
            let midnight = DateTime::from_parts(day, jiff::civil::Time::midnight());
            for k in 0..per_day {
                let Ok(wall) = midnight.checked_add(SignedDuration::from_secs(k * secs)) else {
                    continue;
                };
                if let Some((t, _)) = recur::resolve(tz, wall)
                    && t >= from
                    && t < to
                {
                    out.push(t);
                }
            }
            let Ok(next) = day.tomorrow() else { break };
            day = next;
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}
