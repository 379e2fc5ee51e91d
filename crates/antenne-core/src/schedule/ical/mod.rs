//! The programme as an iCalendar (RFC 5545) feed: `/programme.ics` and `/shows/{slug}.ics`.
//!
//! Each slot becomes a recurring event: `DTSTART` with the station's `TZID` at its first
//! occurrence from the calendar's start, an exact `DURATION` (slots last elapsed time, so a
//! show crossing a DST change keeps its length), the slot's `RRULE`, and an `EXDATE` for every
//! date an `[[exception]]` cancels or replaces. Calendar apps expand a `TZID` rule with the
//! same rules as [`Schedule::occurrences`] (a time in a spring-forward gap moves forward, a
//! time in a fall-back fold airs at its first occurrence), so they show the same instants.
//!
//! What no rule expresses is listed occurrence by occurrence up to the calendar's end:
//! replacements and one-off specials (which carry their occurrence id as UID), and crontab
//! lines that restrict both day-of-month and day-of-week (cron airs on either). Odd and even
//! ISO weeks alternate only between two 53-week years, so such a slot is one event per run of
//! alternation, each bounded by `UNTIL`.
//!
//! UIDs are stable across regenerations (the slot's id, or the occurrence's); `DTSTAMP` is the
//! caller's (when the schedule was loaded), so the same schedule renders the same bytes.

mod lines;
mod vtimezone;

use jiff::civil::{Date, DateTime};
use jiff::{SignedDuration, Timestamp, ToSpan};

use super::recur::{resolve, walls, week_ok};
use super::types::{Occurrence, Slot, Weeks};
use super::{Schedule, rrule};
use lines::Lines;

/// `Content-Type` of the calendar.
pub const CALENDAR_CONTENT_TYPE: &str = "text/calendar; charset=utf-8";

/// What to put in a calendar.
#[derive(Debug, Clone)]
pub struct CalendarSpec<'a> {
    /// One show's events (`/shows/{slug}.ics`), or every show's.
    pub show: Option<&'a str>,
    /// Recurring events start at their first occurrence from here.
    pub from: Timestamp,
    /// Occurrences no rule expresses are listed up to here.
    pub until: Timestamp,
    /// Every event's `DTSTAMP`: when the schedule in force was loaded.
    pub stamp: Timestamp,
    /// The station's absolute base URL without a trailing slash: event URLs, and the UIDs'
    /// domain (its host).
    pub base_url: &'a str,
}

/// A stretch of local dates over which one RRULE holds (`last`: `None` for ever).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Run {
    first: Date,
    last: Option<Date>,
}

impl Schedule {
    /// The calendar `spec` asks for, as RFC 5545 text (CRLF lines, folded at 75 octets).
    pub fn calendar(&self, spec: &CalendarSpec<'_>) -> String {
        let tz = &self.station.timezone;
        let host = host_of(spec.base_url);
        let mut out = Lines::default();
        out.line("BEGIN", "VCALENDAR");
        out.line("VERSION", "2.0");
        out.line("PRODID", "-//Antenne//Programme//FR");
        out.line("CALSCALE", "GREGORIAN");
        out.line("METHOD", "PUBLISH");
        let name = match spec.show.and_then(|s| self.show(s)) {
            Some(show) => format!("{} · {}", show.title, self.station.name),
            None => self.station.name.clone(),
        };
        out.text("NAME", &name);
        out.text("X-WR-CALNAME", &name);
        if let Some(d) = &self.station.description {
            out.text("X-WR-CALDESC", d);
        }
        out.text("X-WR-TIMEZONE", &self.station.tz_name);
        out.line("REFRESH-INTERVAL;VALUE=DURATION", "P1D");
        out.line("X-PUBLISHED-TTL", "P1D");
        vtimezone::write(&mut out, tz, &self.station.tz_name, spec.from);

        let wanted = |show: &str| spec.show.is_none_or(|s| s == show);
        let from_date = tz.to_datetime(spec.from).date();
        let until_date = tz.to_datetime(spec.until).date();
        let mut listed: Vec<&str> = Vec::new();
        for (idx, slot) in self.slots.iter().enumerate() {
            if !wanted(&slot.show) {
                continue;
            }
            let Some(rule) = rrule::for_slot(slot) else {
                listed.push(&slot.id);
                continue;
            };
            for run in runs(slot.weeks, from_date, until_date) {
                self.series(&mut out, idx, slot, &rule, run, spec, &host);
            }
        }
        for o in self.occurrences(spec.from, spec.until) {
            if wanted(&o.show) && (o.exceptional || listed.contains(&o.slot.as_str())) {
                self.single(&mut out, &o, spec, &host);
            }
        }
        out.line("END", "VCALENDAR");
        out.finish()
    }

    /// One slot over one run: a recurring event.
    #[allow(clippy::too_many_arguments)]
    fn series(
        &self,
        out: &mut Lines,
        idx: usize,
        slot: &Slot,
        rule: &str,
        run: Run,
        spec: &CalendarSpec<'_>,
        host: &str,
    ) {
        let tz = &self.station.timezone;
        let Some(first) = self.first_wall(slot, run, spec) else {
            return;
        };
        let mut rrule = rule.to_owned();
        if rule.contains("INTERVAL=") {
            rrule.push_str(";WKST=MO");
        }
        let uid = match run.last {
            None => format!("{}@{host}", slot.id),
            Some(last) => {
                // UNTIL is inclusive and in UTC: the last second of the run's last local day.
                let end = last
                    .saturating_add(1.day())
                    .to_datetime(jiff::civil::Time::midnight());
                let until = resolve(tz, end)
                    .map(|(t, _)| t - SignedDuration::from_secs(1))
                    .unwrap_or(spec.until);
                rrule.push_str(&format!(";UNTIL={}", lines::utc(until)));
                format!("{}/{last}@{host}", slot.id)
            }
        };
        let mut exdates: Vec<DateTime> = Vec::new();
        let mut day = Vec::new();
        for &(i, date) in self.overrides.keys() {
            if i != idx || date < first.date() || run.last.is_some_and(|l| date > l) {
                continue;
            }
            day.clear();
            walls(&slot.recurrence, slot.weeks, date, date, &mut day);
            exdates.extend(day.iter().copied());
        }
        exdates.sort_unstable();
        self.event_head(out, &uid, &slot.show, first, slot.duration, spec);
        out.line("RRULE", &rrule);
        if !exdates.is_empty() {
            let list: Vec<String> = exdates.into_iter().map(lines::local).collect();
            out.line(&self.tzid("EXDATE"), &list.join(","));
        }
        out.line("END", "VEVENT");
    }

    /// An occurrence on its own: a replacement, a special, or a slot no rule expresses.
    fn single(&self, out: &mut Lines, o: &Occurrence, spec: &CalendarSpec<'_>, host: &str) {
        let start = self.station.timezone.to_datetime(o.start);
        let uid = format!("{}@{host}", o.id);
        self.event_head(out, &uid, &o.show, start, o.duration(), spec);
        out.line("END", "VEVENT");
    }

    /// `BEGIN:VEVENT` and the properties every event has.
    fn event_head(
        &self,
        out: &mut Lines,
        uid: &str,
        show: &str,
        start: DateTime,
        duration: SignedDuration,
        spec: &CalendarSpec<'_>,
    ) {
        out.line("BEGIN", "VEVENT");
        out.text("UID", uid);
        out.line("DTSTAMP", &lines::utc(spec.stamp));
        out.line(&self.tzid("DTSTART"), &lines::local(start));
        out.line("DURATION", &lines::duration(duration));
        match self.show(show) {
            Some(s) => {
                out.text("SUMMARY", &s.title);
                if let Some(d) = &s.description {
                    out.text("DESCRIPTION", d);
                }
            }
            None => out.text("SUMMARY", show),
        }
        out.text("LOCATION", &self.station.name);
        out.line("URL", &format!("{}/shows/{show}", spec.base_url));
        // A programme to follow, not time the subscriber is busy.
        out.line("TRANSP", "TRANSPARENT");
    }

    fn tzid(&self, name: &str) -> String {
        format!("{name};TZID={}", lines::param(&self.station.tz_name))
    }

    /// The slot's first declared start in `run` that airs at or after `spec.from` (and, for
    /// an open run, before `spec.until`).
    fn first_wall(&self, slot: &Slot, run: Run, spec: &CalendarSpec<'_>) -> Option<DateTime> {
        let tz = &self.station.timezone;
        let limit = run
            .last
            .unwrap_or_else(|| tz.to_datetime(spec.until).date());
        let mut day = run.first;
        let mut found = Vec::new();
        while day <= limit {
            let to = day.saturating_add(31.days()).min(limit);
            found.clear();
            walls(&slot.recurrence, slot.weeks, day, to, &mut found);
            if let Some(&w) = found
                .iter()
                .find(|&&w| resolve(tz, w).is_some_and(|(t, _)| t >= spec.from))
            {
                return Some(w);
            }
            day = to.saturating_add(1.day());
        }
        None
    }
}

/// The runs over which a slot's weeks alternate regularly, from `from` until the first run
/// that starts after `until`. Every week, and every n-th week from an anchor, is one open run;
/// odd and even ISO weeks break at each 53-week year (week 53 and week 1 are both odd).
fn runs(weeks: Weeks, from: Date, until: Date) -> Vec<Run> {
    if !matches!(weeks, Weeks::Odd | Weeks::Even) {
        return vec![Run {
            first: from,
            last: None,
        }];
    }
    let monday = from.saturating_sub(i64::from(from.weekday().to_monday_zero_offset()).days());
    let mut out = Vec::new();
    let mut current: Option<(Date, Date)> = None;
    // Ten years always hold a 53-week year; past them the run stays open.
    for k in 0..(53 * 10 + 60) {
        let week = monday.saturating_add((7 * k).days());
        if !week_ok(weeks, week) {
            continue;
        }
        match current {
            Some((start, prev)) if week == prev.saturating_add(14.days()) => {
                current = Some((start, week));
            }
            Some((start, prev)) => {
                out.push(Run {
                    first: start.max(from),
                    last: Some(prev.saturating_add(6.days())),
                });
                if week > until {
                    return out;
                }
                current = Some((week, week));
            }
            None => current = Some((week, week)),
        }
    }
    if let Some((start, _)) = current {
        out.push(Run {
            first: start.max(from),
            last: None,
        });
    }
    out
}

/// The host (with its port) of a base URL, for UIDs: `radio.example.org`.
fn host_of(base_url: &str) -> String {
    let rest = base_url
        .split_once("://")
        .map_or(base_url, |(_, rest)| rest);
    let host = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    if host.is_empty() {
        "antenne".to_owned()
    } else {
        host.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn odd_weeks_break_at_53_week_years() {
        // 2026 has 53 ISO weeks: week 53 (28 Dec) and week 1 of 2027 (4 Jan) are both odd.
        let r = runs(Weeks::Odd, date(2026, 12, 1), date(2027, 12, 31));
        assert_eq!(
            r[0],
            Run {
                first: date(2026, 12, 1),
                last: Some(date(2027, 1, 3))
            }
        );
        assert_eq!(r[1].first, date(2027, 1, 4));
        // The next 53-week year is 2032.
        assert_eq!(r[1].last, Some(date(2033, 1, 2)));
        assert_eq!(r.len(), 2);
        let e = runs(Weeks::Even, date(2026, 12, 1), date(2027, 12, 31));
        assert_eq!(e[0].last, Some(date(2026, 12, 27)));
        assert_eq!(e[1].first, date(2027, 1, 11));
    }

    #[test]
    fn hosts() {
        assert_eq!(host_of("https://radio.example.org"), "radio.example.org");
        assert_eq!(host_of("http://127.0.0.1:8000/x"), "127.0.0.1:8000");
        assert_eq!(host_of(""), "antenne");
    }
}
