//! Who may go live, and when: a pure decision on a token, the user name a source client sent,
//! the schedule and an instant.
//!
//! - A token without the live scope never goes live.
//! - A show's token is taken during one of its shows' `play = "live"` occurrences, and during
//!   the pre-roll before it (connected, not yet on air); the user name is the show's slug, or
//!   anything else (`source`, BUTT's default) to mean "the live slot now".
//! - An operator token takes a live slot like a show's token; outside any live slot it takes
//!   the air over whatever plays ("direct spécial") until it disconnects or until the end it
//!   gave (`?until=HH:MM` on the mount, station time).

use jiff::{SignedDuration, Timestamp};

use crate::catalog::TokenRecord;
use crate::schedule::{Occurrence, Play, Schedule};

/// How far ahead a refusal looks for the next live slot to name.
const LOOK_AHEAD: SignedDuration = SignedDuration::from_hours(24 * 14);

/// A source let in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// For a live occurrence: on air from its start (or at once, when connected late).
    Slot(Occurrence),
    /// An operator's override, on air at once until the source disconnects or until `until`.
    Override { until: Option<Timestamp> },
}

/// Why a source with valid credentials is not let in (the 403's text).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("this token may not go live (create one with `antenne token add NAME --live`)")]
    NotLive,
    #[error("this token may not go live for {0}")]
    NotYourShow(String),
    #[error("no live slot for your shows now{}", next_text(.next))]
    NoSlot {
        /// The next live occurrence this token could take, with its show's title.
        next: Option<(Timestamp, String)>,
    },
    #[error("the override's end {0} is not in the future")]
    PastEnd(String),
}

fn next_text(next: &Option<(Timestamp, String)>) -> String {
    match next {
        Some((at, show)) => {
            format!("; the next one: {show}, {at} (connect up to the pre-roll before)")
        }
        None => String::new(),
    }
}

/// Decides whether `token`, connecting as `user` at `now`, may go live.
pub fn admit(
    token: &TokenRecord,
    user: &str,
    schedule: &Schedule,
    now: Timestamp,
    preroll: SignedDuration,
    until: Option<Timestamp>,
) -> Result<Admission, Refusal> {
    if !token.live {
        return Err(Refusal::NotLive);
    }
    let named = schedule.show(user).map(|s| s.slug.clone());
    if let Some(show) = &named
        && !token.may_use(show)
    {
        return Err(Refusal::NotYourShow(show.clone()));
    }
    let fits = |o: &Occurrence| {
        o.play == Play::Live
            && token.may_use(&o.show)
            && named.as_ref().is_none_or(|s| *s == o.show)
    };
    let soon = now.saturating_add(preroll).unwrap_or(now);
    let window = schedule.occurrences(
        now,
        soon.saturating_add(SignedDuration::from_secs(1))
            .unwrap_or(soon),
    );
    if let Some(occ) = window.into_iter().find(|o| {
        fits(o) && o.end > now && o.start.saturating_sub(preroll).unwrap_or(o.start) <= now
    }) {
        return Ok(Admission::Slot(occ));
    }
    if token.is_operator() && named.is_none() {
        if let Some(end) = until
            && end <= now
        {
            return Err(Refusal::PastEnd(end.to_string()));
        }
        return Ok(Admission::Override { until });
    }
    let horizon = now.saturating_add(LOOK_AHEAD).unwrap_or(now);
    let next = schedule
        .occurrences(now, horizon)
        .into_iter()
        .find(|o| fits(o) && o.start > now)
        .map(|o| {
            let title = schedule
                .show(&o.show)
                .map_or(o.show.clone(), |s| s.title.clone());
            (o.start, title)
        });
    Err(Refusal::NoSlot { next })
}

/// The instant `HH:MM` (station time) next reaches after `now`: the end an operator gives an
/// override with `?until=HH:MM`.
pub fn until_from_clock(text: &str, schedule: &Schedule, now: Timestamp) -> Option<Timestamp> {
    let time: jiff::civil::Time = format!("{text}:00").parse().ok()?;
    let tz = &schedule.station().timezone;
    let today = tz.to_datetime(now).date();
    [today, today.tomorrow().ok()?]
        .into_iter()
        .find_map(|date| {
            let t = tz
                .to_ambiguous_timestamp(date.to_datetime(time))
                .compatible()
                .ok()?;
            (t > now).then_some(t)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEDULE: &str = r#"
[station]
name = "Test"
timezone = "Europe/Paris"
language = "fr"

[[show]]
slug = "debat"
title = "Le débat des Ors"

[[show]]
slug = "musique"
title = "Musiques"

[[slot]]
id = "debat-live"
show = "debat"
days = ["sat"]
start = "10:00"
duration = "1h"
play = "live"

[[slot]]
id = "musique"
show = "musique"
days = ["sat"]
start = "11:00"
duration = "1h"
play = "latest"

[fallback]
playlist = "beds"
"#;

    fn schedule() -> Schedule {
        let facts = crate::schedule::NoFacts;
        Schedule::parse(SCHEDULE, "test.toml", at("00:00"), &facts)
            .unwrap_or_else(|e| panic!("{e:?}"))
            .0
    }

    fn token(shows: &[&str], live: bool) -> TokenRecord {
        TokenRecord {
            name: "t".into(),
            shows: shows.iter().map(|s| s.to_string()).collect(),
            live,
            created_at: Timestamp::UNIX_EPOCH,
            revoked: false,
        }
    }

    /// Saturday 2026-12-05, Paris time (UTC+1).
    fn at(hm: &str) -> Timestamp {
        // December: Paris is UTC+1.
        format!("2026-12-05T{hm}:00+01:00").parse().unwrap()
    }

    fn check(token: &TokenRecord, user: &str, hm: &str, expected: Result<&str, &str>) {
        let preroll = SignedDuration::from_mins(10);
        let got = admit(token, user, &schedule(), at(hm), preroll, None);
        let got = match &got {
            Ok(Admission::Slot(o)) => Ok(o.id.clone()),
            Ok(Admission::Override { .. }) => Ok("override".to_owned()),
            Err(e) => Err(e.to_string()),
        };
        match (got, expected) {
            (Ok(id), Ok(want)) => assert_eq!(id, want, "{user} at {hm}"),
            (Err(why), Err(want)) => assert!(why.contains(want), "{user} at {hm}: {why}"),
            (got, want) => panic!("{user} at {hm}: got {got:?}, expected {want:?}"),
        }
    }

    #[test]
    fn a_show_goes_live_in_its_slot_and_its_pre_roll_only() {
        let debat = token(&["debat"], true);
        let slot = "debat-live/2026-12-05T10:00";
        check(&debat, "source", "10:00", Ok(slot));
        check(&debat, "debat", "10:59", Ok(slot));
        check(&debat, "source", "09:50", Ok(slot));
        check(
            &debat,
            "source",
            "09:49",
            Err("no live slot for your shows now; the next one: Le débat des Ors"),
        );
        check(
            &debat,
            "source",
            "11:00",
            Err("the next one: Le débat des Ors, 2026-12-12T09:00:00Z"),
        );
        check(
            &debat,
            "musique",
            "10:00",
            Err("may not go live for musique"),
        );
        check(
            &token(&["debat"], false),
            "source",
            "10:00",
            Err("may not go live (create one"),
        );
        // Another show's token, in this slot: refused, and told nothing is coming for it.
        check(
            &token(&["musique"], true),
            "source",
            "10:30",
            Err("no live slot for your shows now"),
        );
    }

    #[test]
    fn an_operator_takes_a_live_slot_or_overrides_outside_one() {
        let ops = token(&[], true);
        check(&ops, "source", "10:30", Ok("debat-live/2026-12-05T10:00"));
        check(&ops, "source", "11:30", Ok("override"));
        // Naming a show outside its live slot is not an override.
        check(&ops, "musique", "11:30", Err("no live slot"));
        let s = schedule();
        let until = until_from_clock("12:15", &s, at("11:30")).unwrap();
        assert_eq!(until, at("12:15"));
        let tomorrow = until_from_clock("01:00", &s, at("11:30")).unwrap();
        assert_eq!(tomorrow.to_string(), "2026-12-06T00:00:00Z");
        assert_eq!(until_from_clock("25:99", &s, at("11:30")), None);
        let past = admit(
            &ops,
            "source",
            &s,
            at("11:30"),
            SignedDuration::ZERO,
            Some(at("11:00")),
        );
        assert!(matches!(past, Err(Refusal::PastEnd(_))));
    }
}
