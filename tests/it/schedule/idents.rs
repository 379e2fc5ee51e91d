//! `[station] ident_every`: the marks fall on the same local wall times every day, across the
//! DST changes, and the new keys read as written.

use antenne::schedule::{NoFacts, Play, Schedule};
use jiff::{SignedDuration, Timestamp};

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn station(every: &str) -> Schedule {
    let text = format!(
        "[station]\nname = \"Test\"\ntimezone = \"Europe/Paris\"\nident_every = \"{every}\"\nident_at_show_start = true\n\n[fallback]\ncrossfade = \"1500ms\"\n\n[[show]]\nslug = \"m\"\ntitle = \"M\"\n\n[[slot]]\nshow = \"m\"\ndays = [\"mon\"]\nstart = \"20:00\"\nduration = \"1h\"\nplaylist = \"beds\"\n\n[[slot]]\nshow = \"m\"\ndays = [\"tue\"]\nstart = \"20:00\"\nduration = \"1h\"\nplaylist = \"beds\"\ncrossfade = \"0s\"\n"
    );
    Schedule::parse(&text, "t.toml", ts("2027-01-01T00:00:00Z"), &NoFacts)
        .unwrap_or_else(|d| panic!("{d:?}"))
        .0
}

/// The marks of the local day `date` (Paris), as local `HH:MM` strings.
fn local_marks(s: &Schedule, from: &str, to: &str) -> Vec<String> {
    s.ident_marks(ts(from), ts(to))
        .into_iter()
        .map(|t| {
            t.to_zoned_datetime(s.station().timezone.clone())
                .strftime("%H:%M")
                .to_string()
        })
        .collect()
}

#[test]
fn marks_fall_on_the_top_of_each_local_hour_across_dst() {
    let s = station("1h");
    assert_eq!(s.station().ident_every, Some(SignedDuration::from_hours(1)));
    assert!(s.station().ident_at_show_start);
    // An ordinary day: 24 marks, 00:00 to 23:00 local.
    let day = local_marks(&s, "2027-03-09T23:00:00Z", "2027-03-10T23:00:00Z");
    let expected: Vec<String> = (0..24).map(|h| format!("{h:02}:00")).collect();
    assert_eq!(day, expected);
    // Spring forward (28 March 2027, 02:00 → 03:00): a 23-hour day, 23 marks, no 02:00.
    let spring = local_marks(&s, "2027-03-27T23:00:00Z", "2027-03-28T22:00:00Z");
    assert_eq!(spring.len(), 23, "{spring:?}");
    assert!(!spring.contains(&"02:00".to_string()));
    // Fall back (31 October 2027, 03:00 → 02:00): a 25-hour day; 02:00 airs once, the first.
    let fall = s.ident_marks(ts("2027-10-30T22:00:00Z"), ts("2027-10-31T23:00:00Z"));
    assert_eq!(fall.len(), 24, "{fall:?}");
    assert!(fall.contains(&ts("2027-10-31T00:00:00Z")), "02:00 CEST");
    assert!(
        !fall.contains(&ts("2027-10-31T01:00:00Z")),
        "not 02:00 CET again"
    );
    // Every 30 minutes: twice as many; sorted, unique, inside the window.
    let half = station("30m");
    let marks = half.ident_marks(ts("2027-03-10T10:15:00Z"), ts("2027-03-10T12:15:00Z"));
    assert_eq!(
        marks,
        [
            ts("2027-03-10T10:30:00Z"),
            ts("2027-03-10T11:00:00Z"),
            ts("2027-03-10T11:30:00Z"),
            ts("2027-03-10T12:00:00Z"),
        ]
    );
}

#[test]
fn crossfades_read_per_playlist_with_a_3_s_default() {
    let s = station("1h");
    assert_eq!(s.fallback().crossfade, SignedDuration::from_millis(1500));
    let fades: Vec<SignedDuration> = s
        .slots()
        .iter()
        .map(|sl| match &sl.play {
            Play::Playlist { crossfade, .. } => *crossfade,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        fades,
        [antenne::schedule::DEFAULT_CROSSFADE, SignedDuration::ZERO]
    );
    assert_eq!(
        antenne::schedule::DEFAULT_CROSSFADE,
        SignedDuration::from_secs(3)
    );
    // No `ident_every`: no marks.
    let plain = Schedule::parse(
        "[station]\nname = \"T\"\n",
        "t.toml",
        ts("2027-01-01T00:00:00Z"),
        &NoFacts,
    )
    .unwrap()
    .0;
    assert!(
        plain
            .ident_marks(ts("2027-03-10T00:00:00Z"), ts("2027-03-11T00:00:00Z"))
            .is_empty()
    );
    assert!(!plain.station().ident_at_show_start);
}
