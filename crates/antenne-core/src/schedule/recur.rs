//! Recurrence expansion: wall-clock starts of a slot between two local dates, then instants.
//!
//! Expansion happens entirely in naive wall-clock time (the `cron` crate iterates over
//! `chrono::Utc` used as a naive calendar), and only then is each wall time resolved in the
//! station's zone with RFC 5545 rules (jiff's `compatible`): a time in a spring-forward gap moves
//! forward by the gap, a time in a fall-back fold takes its first occurrence. Weekdays are
//! therefore always the station's local weekdays.

use chrono::{Datelike, TimeZone as _, Timelike};
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Timestamp};

use super::types::{Recurrence, WallShift, Weeks};

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
pub(crate) fn day_number(d: Date) -> i64 {
    let (y, m, day) = (
        i64::from(d.year()),
        i64::from(d.month()),
        i64::from(d.day()),
    );
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Whether a local date lies in a week the slot airs in.
pub(crate) fn week_ok(weeks: Weeks, date: Date) -> bool {
    match weeks {
        Weeks::All => true,
        Weeks::Odd => date.iso_week_date().week() % 2 == 1,
        Weeks::Even => date.iso_week_date().week() % 2 == 0,
        Weeks::Every { n, anchor } => {
            let monday = |d: Date| day_number(d) - i64::from(d.weekday().to_monday_zero_offset());
            ((monday(date) - monday(anchor)) / 7).rem_euclid(i64::from(n)) == 0
        }
    }
}

/// Appends the declared wall-clock starts whose date lies in `from..=to`, in order.
pub(crate) fn walls(rec: &Recurrence, weeks: Weeks, from: Date, to: Date, out: &mut Vec<DateTime>) {
    match rec {
        Recurrence::Weekly { days, start } => {
            let mut d = from;
            while d <= to {
                if days[d.weekday().to_monday_zero_offset() as usize] && week_ok(weeks, d) {
                    out.push(d.to_datetime(*start));
                }
                match d.tomorrow() {
                    Ok(next) => d = next,
                    Err(_) => break,
                }
            }
        }
        Recurrence::Cron { tab, .. } => {
            let first = out.len();
            let Some(begin) = naive(from) else { return };
            let begin = chrono::Utc.from_utc_datetime(&begin) - chrono::Duration::seconds(1);
            for sched in &tab.schedules {
                for t in sched.after(&begin) {
                    let n = t.naive_utc();
                    let Ok(date) = Date::new(n.year() as i16, n.month() as i8, n.day() as i8)
                    else {
                        break;
                    };
                    if date > to {
                        break;
                    }
                    if week_ok(weeks, date) {
                        let time =
                            Time::constant(n.hour() as i8, n.minute() as i8, n.second() as i8, 0);
                        out.push(date.to_datetime(time));
                    }
                }
            }
            if tab.schedules.len() > 1 {
                out[first..].sort_unstable();
                let mut tail = out.split_off(first);
                tail.dedup();
                out.extend(tail);
            }
        }
    }
}

fn naive(d: Date) -> Option<chrono::NaiveDateTime> {
    chrono::NaiveDate::from_ymd_opt(i32::from(d.year()), d.month() as u32, d.day() as u32)?
        .and_hms_opt(0, 0, 0)
}

/// The instant a declared wall time airs at, RFC 5545 style, and how it was shifted.
pub(crate) fn resolve(tz: &TimeZone, wall: DateTime) -> Option<(Timestamp, WallShift)> {
    let amb = tz.to_ambiguous_timestamp(wall);
    let shift = match amb.offset() {
        AmbiguousOffset::Unambiguous { .. } => WallShift::None,
        AmbiguousOffset::Gap { before, after } => WallShift::Gap(SignedDuration::from_secs(
            i64::from(after.seconds() - before.seconds()),
        )),
        AmbiguousOffset::Fold { .. } => WallShift::Fold,
    };
    amb.compatible().ok().map(|t| (t, shift))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn day_numbers() {
        assert_eq!(day_number(date(1970, 1, 1)), 0);
        assert_eq!(day_number(date(2026, 3, 29)), 20541);
        assert_eq!(day_number(date(1969, 12, 31)), -1);
    }

    #[test]
    fn every_two_weeks_from_anchor() {
        let w = Weeks::Every {
            n: 2,
            anchor: date(2026, 1, 7),
        };
        assert!(week_ok(w, date(2026, 1, 5)));
        assert!(!week_ok(w, date(2026, 1, 12)));
        assert!(week_ok(w, date(2026, 1, 25)));
        assert!(week_ok(w, date(2025, 12, 22)));
        assert!(!week_ok(w, date(2025, 12, 29)));
    }
}
