//! The weekly schedule: parse with spans, validate into [`Schedule`], pure queries of an instant. No IO, no clock.
//!
//! Slot times are wall-clock times in the station's zone; durations are elapsed time. A start
//! inside a spring-forward gap moves forward by the gap; a start inside a fall-back fold airs
//! once, at its first occurrence (RFC 5545). Weekdays are the station's local weekdays.
//!
//! A [`Schedule`] only exists validated: no overlaps in the 366 days after the reference
//! instant, every show and slot reference resolved. Queries take the instant as a parameter.

mod build;
pub mod categories;
mod checks;
pub mod crontab;
mod diag;
mod diff;
mod fields;
mod ical;
mod idents;
mod in_force;
mod recur;
mod rrule;
mod types;

use std::collections::HashMap;

use diag::WithHint as _;
use jiff::civil::{Date, DateTime};
use jiff::{SignedDuration, Timestamp, ToSpan};

pub use diag::{Diagnostic, Severity};
pub use diff::{Diff, Moved, diff};
pub use fields::parse_duration;
pub use ical::{CALENDAR_CONTENT_TYPE, CalendarSpec};
pub use in_force::{Refused, ScheduleState};
pub use types::*;

/// A validated weekly schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    station: Station,
    shows: Vec<Show>,
    slots: Vec<Slot>,
    /// `[[exception]]` entries on a slot, keyed by slot index and local date.
    overrides: HashMap<(usize, Date), Override>,
    /// `[[exception]]` entries without a slot: one-off broadcasts.
    specials: Vec<Special>,
    fallback: Fallback,
    /// The longest duration anywhere, to widen query windows backwards.
    longest: SignedDuration,
}

#[derive(Debug, Clone)]
pub(crate) enum Override {
    Cancel,
    Replace {
        show: String,
        play: Play,
        duration: SignedDuration,
        overrun: Overrun,
        underrun: Underrun,
        record: bool,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Special {
    pub(crate) id: String,
    pub(crate) show: String,
    pub(crate) wall: DateTime,
    pub(crate) duration: SignedDuration,
    pub(crate) play: Play,
    pub(crate) overrun: Overrun,
    pub(crate) underrun: Underrun,
    pub(crate) record: bool,
}

/// How far [`Schedule::parse`] looks for overlaps and DST warnings after `now`.
pub const CHECK_HORIZON_DAYS: i64 = 366;

impl Schedule {
    /// Parses and validates a schedule file. `Ok` carries the warnings; `Err` every problem
    /// (errors and warnings), in file order. `now` anchors the 366-day overlap check.
    pub fn parse(
        text: &str,
        file_name: &str,
        now: Timestamp,
        facts: &dyn Facts,
    ) -> Result<(Schedule, Vec<Diagnostic>), Vec<Diagnostic>> {
        let mut sink = diag::Sink::new(text, file_name);
        let (root, errors) = toml::de::DeTable::parse_recoverable(text);
        if !errors.is_empty() {
            for e in errors {
                let span = e.span().unwrap_or(text.len()..text.len());
                let msg = e.message().trim_end();
                let d = sink.error(span, format!("TOML syntax: {msg}"));
                if msg.contains("boolean") || msg.contains("invalid") && msg.contains("expected") {
                    d.hint("text values are written in double quotes, e.g. language = \"fr\"");
                }
            }
            return Err(sink.finish());
        }
        let Some((schedule, spans)) = build::build(&mut sink, root.get_ref()) else {
            return Err(sink.finish());
        };
        checks::run(&schedule, &spans, now, facts, &mut sink);
        let failed = sink.has_errors();
        let diags = sink.finish();
        if failed {
            Err(diags)
        } else {
            Ok((schedule, diags))
        }
    }

    pub fn station(&self) -> &Station {
        &self.station
    }

    pub fn shows(&self) -> &[Show] {
        &self.shows
    }

    pub fn show(&self, slug: &str) -> Option<&Show> {
        self.shows.iter().find(|s| s.slug == slug)
    }

    pub fn slots(&self) -> &[Slot] {
        &self.slots
    }

    pub fn fallback(&self) -> &Fallback {
        &self.fallback
    }

    /// Occurrences that intersect `[from, to)` (one that started before `from` and is still on
    /// air is included), exceptions applied, sorted by start.
    pub fn occurrences(&self, from: Timestamp, to: Timestamp) -> Vec<Occurrence> {
        let mut out = Vec::new();
        if from >= to {
            return out;
        }
        let tz = &self.station.timezone;
        // Widen by the longest duration (an occurrence started earlier may still run) and a
        // day each side (wall dates and instants disagree by the UTC offset and DST shifts).
        let back = self.longest.as_secs() / 86_400 + 2;
        let first = tz.to_datetime(from).date().saturating_sub(back.days());
        let last = tz.to_datetime(to).date().saturating_add(1.days());
        let mut walls = Vec::new();
        let mut starts: Vec<(Timestamp, bool, DateTime, WallShift)> = Vec::new();
        for (idx, slot) in self.slots.iter().enumerate() {
            walls.clear();
            recur::walls(&slot.recurrence, slot.weeks, first, last, &mut walls);
            starts.clear();
            starts.extend(walls.iter().filter_map(|&wall| {
                let (start, shift) = recur::resolve(tz, wall)?;
                Some((start, shift != WallShift::None, wall, shift))
            }));
            // Wall times in a gap can land on an instant that also exists as a real wall time
            // (02:00 and 03:00 on a spring-forward day): RFC 5545 keeps one, the real one.
            starts.sort_unstable_by_key(|&(start, shifted, ..)| (start, shifted));
            starts.dedup_by_key(|x| x.0);
            for &(start, _, wall, shift) in &starts {
                let (show, play, duration, overrun, underrun, record, exceptional) =
                    match self.overrides.get(&(idx, wall.date())) {
                        Some(Override::Cancel) => continue,
                        Some(Override::Replace {
                            show,
                            play,
                            duration,
                            overrun,
                            underrun,
                            record,
                        }) => (show, play, *duration, *overrun, *underrun, *record, true),
                        None => (
                            &slot.show,
                            &slot.play,
                            slot.duration,
                            slot.overrun,
                            slot.underrun,
                            slot.record,
                            false,
                        ),
                    };
                let end = start.saturating_add(duration).unwrap_or(start);
                if start < to && end > from {
                    out.push(Occurrence {
                        id: occurrence_id(&slot.id, wall),
                        show: show.clone(),
                        slot: slot.id.clone(),
                        start,
                        end,
                        wall,
                        shift,
                        play: play.clone(),
                        overrun,
                        underrun,
                        record,
                        exceptional,
                    });
                }
            }
        }
        for sp in &self.specials {
            let Some((start, shift)) = recur::resolve(tz, sp.wall) else {
                continue;
            };
            let end = start.saturating_add(sp.duration).unwrap_or(start);
            if start < to && end > from {
                out.push(Occurrence {
                    id: occurrence_id(&sp.id, sp.wall),
                    show: sp.show.clone(),
                    slot: sp.id.clone(),
                    start,
                    end,
                    wall: sp.wall,
                    shift,
                    play: sp.play.clone(),
                    overrun: sp.overrun,
                    underrun: sp.underrun,
                    record: sp.record,
                    exceptional: true,
                });
            }
        }
        out.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.slot.cmp(&b.slot)));
        out
    }

    /// The occurrence on air at `t`, if any (start inclusive, end exclusive).
    pub fn slot_at(&self, t: Timestamp) -> Option<Occurrence> {
        let next = t.saturating_add(SignedDuration::from_nanos(1)).ok()?;
        self.occurrences(t, next)
            .into_iter()
            .find(|o| o.start <= t && t < o.end)
    }

    /// The first instant after `t` at which an occurrence starts or ends (looks up to two years ahead).
    pub fn next_change_after(&self, t: Timestamp) -> Option<Timestamp> {
        let week = SignedDuration::from_hours(24 * 8);
        let mut from = t;
        for _ in 0..92 {
            let to = from.saturating_add(week).ok()?;
            let best = self
                .occurrences(from, to)
                .iter()
                .flat_map(|o| [o.start, o.end])
                .filter(|&x| x > t)
                .min();
            if best.is_some() {
                return best;
            }
            from = to;
        }
        None
    }

    /// An RFC 5545 RRULE describing the show's slots (`podcast:updateFrequency`), or `None` if
    /// the show has no slot.
    pub fn rrule_for_show(&self, slug: &str) -> Option<String> {
        rrule::for_slots(self.slots.iter().filter(|s| s.show == slug))
    }
}

/// `SLOT/YYYY-MM-DDTHH:MM[:SS]`: the declared local start, stable whatever DST does.
fn occurrence_id(slot: &str, wall: DateTime) -> String {
    let t = wall.time();
    if t.second() == 0 {
        format!(
            "{slot}/{:04}-{:02}-{:02}T{:02}:{:02}",
            wall.year(),
            wall.month(),
            wall.day(),
            t.hour(),
            t.minute()
        )
    } else {
        format!(
            "{slot}/{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            wall.year(),
            wall.month(),
            wall.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }
}
