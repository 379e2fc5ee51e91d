//! Checks that need the built schedule: overlaps over the next 366 days, exceptions that refer
//! to nothing, DST warnings, and the warnings that depend on the caller's [`Facts`].

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::build::Spans;
use super::diag::{Sink, WithHint};
use super::types::*;
use super::{CHECK_HORIZON_DAYS, Schedule};

pub(crate) fn run(
    s: &Schedule,
    spans: &Spans,
    now: Timestamp,
    facts: &dyn Facts,
    sink: &mut Sink<'_>,
) {
    let horizon = now
        .saturating_add(SignedDuration::from_hours(24 * CHECK_HORIZON_DAYS))
        .unwrap_or(now);
    let occ = s.occurrences(now, horizon);
    let where_ = Locator::new(s, spans);
    overlaps(s, &occ, &where_, sink);
    dst(s, &occ, spans, sink);
    with_facts(s, spans, facts, sink);
}

/// Maps an occurrence back to the place in the file that made it.
struct Locator<'a> {
    slots: HashMap<&'a str, usize>,
    specials: HashMap<&'a str, Range<usize>>,
    spans: &'a Spans,
}

impl<'a> Locator<'a> {
    fn new(s: &'a Schedule, spans: &'a Spans) -> Self {
        let slots = s
            .slots
            .iter()
            .enumerate()
            .map(|(i, sl)| (sl.id.as_str(), i))
            .collect();
        let mut specials = HashMap::new();
        for (sp, span) in s.specials.iter().zip(&spans.specials) {
            specials
                .entry(sp.id.as_str())
                .or_insert_with(|| span.clone());
        }
        Locator {
            slots,
            specials,
            spans,
        }
    }

    fn span(&self, o: &Occurrence) -> Range<usize> {
        if let Some(&i) = self.slots.get(o.slot.as_str()) {
            if o.exceptional
                && let Some(sp) = self.spans.overrides.get(&(i, o.wall.date()))
            {
                return sp.clone();
            }
            return self.spans.slots[i].header.clone();
        }
        self.specials.get(o.slot.as_str()).cloned().unwrap_or(0..0)
    }
}

fn local(tz: &TimeZone, t: Timestamp) -> String {
    t.to_zoned_datetime(tz.clone())
        .strftime("%a %Y-%m-%d %H:%M %:z")
        .to_string()
}

fn hm(tz: &TimeZone, t: Timestamp) -> String {
    t.to_zoned_datetime(tz.clone())
        .strftime("%H:%M")
        .to_string()
}

fn overlaps(s: &Schedule, occ: &[Occurrence], at: &Locator<'_>, sink: &mut Sink<'_>) {
    let tz = &s.station.timezone;
    let mut seen: HashSet<(String, String)> = HashSet::new();
    let mut holder: Option<&Occurrence> = None;
    for o in occ {
        if let Some(h) = holder
            && o.start < h.end
        {
            let key = if h.slot <= o.slot {
                (h.slot.clone(), o.slot.clone())
            } else {
                (o.slot.clone(), h.slot.clone())
            };
            if seen.insert(key) {
                let msg = if h.slot == o.slot {
                    format!(
                        "slot `{}` overlaps its own next occurrence: the one of {} runs until {}",
                        o.slot,
                        local(tz, h.start),
                        hm(tz, h.end)
                    )
                } else {
                    format!(
                        "slot `{}` overlaps slot `{}`: first on {}, while `{}` runs {}–{}",
                        o.slot,
                        h.slot,
                        local(tz, o.start),
                        h.slot,
                        hm(tz, h.start),
                        hm(tz, h.end)
                    )
                };
                let d = sink.error(at.span(o), msg);
                let shifted = [h, o].into_iter().find_map(|x| match x.shift {
                    WallShift::Gap(g) => Some((x, g)),
                    _ => None,
                });
                match shifted {
                    Some((x, g)) => d.hint(format!(
                        "`{}` is declared at {}, which does not exist on {} in {}: it moves forward by {} (RFC 5545)",
                        x.slot,
                        x.wall.strftime("%H:%M"),
                        x.wall.date(),
                        s.station.tz_name,
                        human(g)
                    )),
                    None => d.hint(
                        "move or shorten one of them, or cancel one on that date with an [[exception]]",
                    ),
                }
            }
        }
        if holder.is_none_or(|h| o.end > h.end) {
            holder = Some(o);
        }
    }
}

fn dst(s: &Schedule, occ: &[Occurrence], spans: &Spans, sink: &mut Sink<'_>) {
    let tz = &s.station.timezone;
    let mut warned = HashSet::new();
    for o in occ {
        if o.shift == WallShift::None || o.exceptional {
            continue;
        }
        let Some(idx) = s.slots.iter().position(|sl| sl.id == o.slot) else {
            continue;
        };
        if !warned.insert(idx) {
            continue;
        }
        let span = spans.slots[idx].when.clone();
        let day = o.wall.strftime("%a %Y-%m-%d");
        let wall = o.wall.strftime("%H:%M");
        let zone = &s.station.tz_name;
        match o.shift {
            WallShift::Gap(g) => {
                sink.warning(
                    span,
                    format!(
                        "on {day}, {wall} does not exist in {zone} (clocks go forward {}); slot `{}` starts at {} instead",
                        human(g),
                        o.slot,
                        local(tz, o.start)
                    ),
                )
                .hint("pick a start outside the change hour to keep the same time every day");
            }
            WallShift::Fold => {
                sink.warning(
                    span,
                    format!(
                        "on {day}, {wall} happens twice in {zone} (clocks go back); slot `{}` airs once, at the first ({})",
                        o.slot,
                        local(tz, o.start)
                    ),
                );
            }
            WallShift::None => {}
        }
    }
}

fn with_facts(s: &Schedule, spans: &Spans, facts: &dyn Facts, sink: &mut Sink<'_>) {
    for (show, span) in s.shows.iter().zip(&spans.shows) {
        let plays_episodes = s
            .slots
            .iter()
            .any(|sl| sl.show == show.slug && sl.play.uses_episodes());
        if plays_episodes && facts.episode_count(&show.slug) == Some(0) {
            sink.warning(
                span.clone(),
                format!("show `{}` has no episodes yet", show.slug),
            )
            .hint("its slots play the fallback until an episode is ready");
        }
    }
    for (slot, sp) in s.slots.iter().zip(&spans.slots) {
        if slot.play != Play::Premiere {
            continue;
        }
        if let Some(d) = facts.newest_episode_duration(&slot.show)
            && d > slot.duration
        {
            let what = match slot.overrun {
                Overrun::Fade => "it will fade out at the end of the slot",
                Overrun::Cut => "it will be cut at the end of the slot",
            };
            sink.warning(
                sp.duration.clone(),
                format!(
                    "the newest episode of `{}` lasts {}, longer than this {} premiere slot",
                    slot.show,
                    human(d),
                    human(slot.duration)
                ),
            )
            .hint(what);
        }
    }
    idents(s, spans, facts, sink);
    for (path, span, folder) in &spans.paths {
        let shown = path.display();
        let msg = match (facts.path(path), folder) {
            (Some(PathFact::Missing), true) => {
                format!("folder `{shown}` does not exist in media_dir")
            }
            (Some(PathFact::Missing), false) => {
                format!("file `{shown}` does not exist in media_dir")
            }
            (Some(PathFact::Folder { entries: 0 }), true) => format!("folder `{shown}` is empty"),
            (Some(PathFact::File), true) => format!("`{shown}` is a file, not a folder"),
            (Some(PathFact::Folder { .. }), false) => format!("`{shown}` is a folder, not a file"),
            _ => continue,
        };
        let hint = if *folder {
            "an empty or missing folder airs the fallback rotation (or silence) instead"
        } else {
            "a missing file airs the fallback rotation instead"
        };
        sink.warning(span.clone(), msg).hint(hint);
    }
}

/// An ident setting that is on needs files in the ident folder.
fn idents(s: &Schedule, spans: &Spans, facts: &dyn Facts, sink: &mut Sink<'_>) {
    let folder = &s.fallback().ident;
    let shown = folder.display();
    let why = match facts.path(folder) {
        Some(PathFact::Missing) => format!("folder `{shown}` does not exist in media_dir"),
        Some(PathFact::Folder { entries: 0 }) => format!("folder `{shown}` is empty"),
        Some(PathFact::File) => format!("`{shown}` is a file, not a folder"),
        _ => return,
    };
    for (key, span) in &spans.idents {
        sink.warning(
            span.clone(),
            format!("`{key}` is on, but the ident {why}: no ident will air"),
        )
        .hint(format!(
            "put the station's idents in media_dir/{shown}/ or name their folder with [fallback] ident = \"...\""
        ));
    }
}

/// `1h30m`, `45m`, `90s`-style rendering of a duration.
pub(crate) fn human(d: SignedDuration) -> String {
    let secs = d.as_secs().abs();
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}
