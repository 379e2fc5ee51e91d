//! The audience figures, computed from plain values: the sessions that overlap a period, the
//! schedule's occurrences in it, the downloads counted in it. No IO, no clock.
//!
//! Per occurrence, each session is clipped to the occurrence's span:
//! - **peak**: the most sessions open at one instant (a session ending at `t` and another
//!   starting at `t` never count together);
//! - **average**: listening time within the occurrence ÷ the occurrence's duration;
//! - **listening hours**: the sum of the clipped sessions;
//! - **sessions** with any time in the occurrence, and those with at least a minute of it.
//!
//! Per show, over its occurrences: the highest peak, the sums, and the average weighted by
//! time on air (total listening ÷ total time on air).

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::catalog::{ClientFamily, DownloadRecord, ListenerSession, StreamKind};
use crate::schedule::{Occurrence, Schedule};

/// A session counts as "over a minute" for an occurrence once it has this much of it.
pub const MIN_SESSION_MS: i64 = 60_000;

/// The instants a report covers, `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Period {
    pub from: Timestamp,
    pub to: Timestamp,
}

impl Period {
    /// The local days `first..=last` of `tz`: from the first's midnight to the midnight after
    /// the last (a DST day is 23 or 25 hours long).
    pub fn days(first: Date, last: Date, tz: &TimeZone) -> Option<Period> {
        let from = first.to_zoned_datetime(tz.clone()).ok()?.timestamp();
        let to = last
            .tomorrow()
            .ok()?
            .to_zoned_datetime(tz.clone())
            .ok()?
            .timestamp();
        (from < to).then_some(Period { from, to })
    }

    /// The `span` of local days that ends with `last` (a week: 7 days; a month and a season:
    /// since the same day one and three months before, the next day), ending no later than
    /// `now`.
    pub fn ending(span: Span, last: Date, tz: &TimeZone, now: Timestamp) -> Option<Period> {
        let first = match span {
            Span::Week => last.checked_sub(jiff::Span::new().days(6)).ok()?,
            Span::Month => last
                .checked_sub(jiff::Span::new().months(1))
                .ok()?
                .tomorrow()
                .ok()?,
            Span::Season => last
                .checked_sub(jiff::Span::new().months(3))
                .ok()?
                .tomorrow()
                .ok()?,
        };
        let mut p = Period::days(first, last, tz)?;
        p.to = p.to.min(now);
        (p.from < p.to).then_some(p)
    }
}

/// How far back the audience page looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    Week,
    Month,
    Season,
}

impl Span {
    pub const ALL: [Span; 3] = [Span::Week, Span::Month, Span::Season];

    pub fn name(self) -> &'static str {
        match self {
            Span::Week => "week",
            Span::Month => "month",
            Span::Season => "season",
        }
    }

    pub fn from_name(name: &str) -> Option<Span> {
        Span::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// One occurrence's figures.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OccurrenceFigures {
    /// The schedule's occurrence id (`SLOT/YYYY-MM-DDTHH:MM`).
    pub occurrence: String,
    pub show: String,
    pub start: Timestamp,
    pub end: Timestamp,
    pub peak: u32,
    /// Mean concurrent listeners over the occurrence.
    pub average: f64,
    pub listening_ms: i64,
    pub sessions: u32,
    pub sessions_over_minute: u32,
}

/// One show's figures over the period.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ShowFigures {
    pub show: String,
    pub title: String,
    pub occurrences: u32,
    pub on_air_ms: i64,
    pub peak: u32,
    pub average: f64,
    pub listening_ms: i64,
    pub sessions: u32,
    pub sessions_over_minute: u32,
}

/// Downloads of one episode on one day of the station's calendar.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DayDownloads {
    pub date: Date,
    pub episode: String,
    pub show: String,
    pub title: String,
    pub downloads: u64,
}

/// Sessions and listening time within the period, by output or client family.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Totals {
    pub sessions: u32,
    pub listening_ms: i64,
}

/// Everything a report shows.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Figures {
    pub period: Period,
    pub occurrences: Vec<OccurrenceFigures>,
    pub shows: Vec<ShowFigures>,
    pub downloads: Vec<DayDownloads>,
    pub by_output: BTreeMap<StreamKind, Totals>,
    pub by_client: BTreeMap<ClientFamily, Totals>,
}

/// Listening hours of a duration in milliseconds.
pub fn hours(ms: i64) -> f64 {
    ms as f64 / 3_600_000.0
}

fn overlap_ms(s: &ListenerSession, from: Timestamp, to: Timestamp) -> i64 {
    let start = s.start.max(from);
    let end = s.end.min(to);
    (end.as_millisecond() - start.as_millisecond()).max(0)
}

/// One occurrence's figures from the sessions (any order; those outside it are ignored).
pub fn occurrence_figures<'a>(
    occurrence: &Occurrence,
    sessions: impl IntoIterator<Item = &'a ListenerSession>,
) -> OccurrenceFigures {
    let (from, to) = (occurrence.start, occurrence.end);
    // (instant, +1 / -1); at one instant ends sort before starts.
    let mut edges: Vec<(i64, i32)> = Vec::new();
    let (mut listening_ms, mut count, mut over) = (0i64, 0u32, 0u32);
    for s in sessions {
        let ms = overlap_ms(s, from, to);
        if ms == 0 {
            continue;
        }
        listening_ms += ms;
        count += 1;
        over += u32::from(ms >= MIN_SESSION_MS);
        let start = s.start.max(from).as_millisecond();
        edges.push((start, 1));
        edges.push((start + ms, -1));
    }
    edges.sort_unstable();
    let (mut open, mut peak) = (0i32, 0i32);
    for (_, delta) in edges {
        open += delta;
        peak = peak.max(open);
    }
    let duration_ms = (to.as_millisecond() - from.as_millisecond()).max(1);
    OccurrenceFigures {
        occurrence: occurrence.id.clone(),
        show: occurrence.show.clone(),
        start: from,
        end: to,
        peak: peak as u32,
        average: listening_ms as f64 / duration_ms as f64,
        listening_ms,
        sessions: count,
        sessions_over_minute: over,
    }
}

/// The figures of `period`: every occurrence that starts in it (in order), every show that
/// had one, downloads per day (in the schedule's time zone) per episode, and totals by output
/// and by client family (sessions clipped to the period).
pub fn figures(
    schedule: &Schedule,
    period: Period,
    sessions: &[ListenerSession],
    downloads: &[DownloadRecord],
) -> Figures {
    let mut occurrences: Vec<Occurrence> = schedule
        .occurrences(period.from, period.to)
        .into_iter()
        .filter(|o| o.start >= period.from && o.start < period.to)
        .collect();
    occurrences.sort_by_key(|o| o.start);
    let per_occurrence = by_occurrence(&occurrences, sessions);

    let mut shows: BTreeMap<String, ShowFigures> = BTreeMap::new();
    for f in &per_occurrence {
        let title = schedule
            .show(&f.show)
            .map_or_else(|| f.show.clone(), |s| s.title.clone());
        let entry = shows.entry(f.show.clone()).or_insert_with(|| ShowFigures {
            show: f.show.clone(),
            title,
            occurrences: 0,
            on_air_ms: 0,
            peak: 0,
            average: 0.0,
            listening_ms: 0,
            sessions: 0,
            sessions_over_minute: 0,
        });
        entry.occurrences += 1;
        entry.on_air_ms += f.end.as_millisecond() - f.start.as_millisecond();
        entry.peak = entry.peak.max(f.peak);
        entry.listening_ms += f.listening_ms;
        entry.sessions += f.sessions;
        entry.sessions_over_minute += f.sessions_over_minute;
    }
    let mut shows: Vec<ShowFigures> = shows.into_values().collect();
    for s in &mut shows {
        s.average = s.listening_ms as f64 / s.on_air_ms.max(1) as f64;
    }
    // Most listened first.
    shows.sort_by(|a, b| {
        b.listening_ms
            .cmp(&a.listening_ms)
            .then(a.show.cmp(&b.show))
    });

    let mut by_output: BTreeMap<StreamKind, Totals> = BTreeMap::new();
    let mut by_client: BTreeMap<ClientFamily, Totals> = BTreeMap::new();
    for s in sessions {
        let ms = overlap_ms(s, period.from, period.to);
        if ms == 0 {
            continue;
        }
        for t in [
            by_output.entry(s.output).or_default(),
            by_client.entry(s.client).or_default(),
        ] {
            t.sessions += 1;
            t.listening_ms += ms;
        }
    }

    Figures {
        period,
        occurrences: per_occurrence,
        shows,
        downloads: downloads_per_day(downloads, &schedule.station().timezone),
        by_output,
        by_client,
    }
}

/// Each occurrence's figures. Occurrences are sorted by start and never overlap (the
/// schedule refuses overlaps), so a session that ended before one starts cannot touch a
/// later one: one pass over the sessions sorted by start, holding only those still open.
fn by_occurrence(
    occurrences: &[Occurrence],
    sessions: &[ListenerSession],
) -> Vec<OccurrenceFigures> {
    let mut sorted: Vec<&ListenerSession> = sessions.iter().collect();
    sorted.sort_by_key(|s| s.start);
    let mut next = 0;
    let mut open: Vec<&ListenerSession> = Vec::new();
    let mut out = Vec::with_capacity(occurrences.len());
    for o in occurrences {
        while next < sorted.len() && sorted[next].start < o.end {
            open.push(sorted[next]);
            next += 1;
        }
        open.retain(|s| s.end > o.start);
        out.push(occurrence_figures(o, open.iter().copied()));
    }
    out
}

/// Downloads grouped by the local date of `tz` and episode, by date then episode.
pub fn downloads_per_day(downloads: &[DownloadRecord], tz: &TimeZone) -> Vec<DayDownloads> {
    let mut days: BTreeMap<(Date, &str), DayDownloads> = BTreeMap::new();
    for d in downloads {
        let date = tz.to_datetime(d.at).date();
        days.entry((date, &d.episode))
            .or_insert_with(|| DayDownloads {
                date,
                episode: d.episode.clone(),
                show: d.show.clone(),
                title: d.title.clone(),
                downloads: 0,
            })
            .downloads += 1;
    }
    days.into_values().collect()
}
