//! The programme as iCalendar (`Schedule::calendar`): the demo schedule's calendar as a
//! snapshot, a schedule crossing both 2027 DST changes, EXDATEs for cancelled dates, and the
//! text rules (CRLF, 75-octet lines). The same instants as `antenne schedule` in a real
//! calendar library: tests/interop/check-ical.sh.

use antenne::schedule::{CalendarSpec, NoFacts, Schedule};
use jiff::{SignedDuration, Timestamp};

fn parse(path: &str, now: &str) -> Schedule {
    let text = std::fs::read_to_string(path).unwrap();
    let (s, _) = Schedule::parse(&text, path, now.parse().unwrap(), &NoFacts).unwrap();
    s
}

fn calendar(s: &Schedule, show: Option<&str>, from: &str) -> String {
    let from: Timestamp = from.parse().unwrap();
    s.calendar(&CalendarSpec {
        show,
        from,
        until: from + SignedDuration::from_hours(24 * 430),
        stamp: "2026-06-30T08:00:00Z".parse().unwrap(),
        base_url: "https://radio.example.org",
    })
}

/// Every physical line ends with CRLF and holds at most 75 octets; returns the unfolded text
/// with LF endings.
fn unfold(text: &str) -> String {
    assert!(text.ends_with("\r\n"));
    let body = text.strip_suffix("\r\n").unwrap();
    for line in body.split("\r\n") {
        assert!(!line.contains('\n') && !line.contains('\r'), "{line:?}");
        assert!(line.len() <= 75, "{} octets: {line}", line.len());
    }
    body.replace("\r\n ", "").replace("\r\n", "\n")
}

#[test]
fn demo_calendar() {
    let s = parse("schedules/weekly.toml", "2026-07-01T00:00:00Z");
    let text = calendar(&s, None, "2026-07-06T00:00:00+02:00");
    let lines = unfold(&text);
    // 14 July: the matinale is cancelled (EXDATE) and the live special is an event of its own.
    assert!(
        lines.contains("EXDATE;TZID=Europe/Paris:20260714T070000,20261225T070000,20270101T070000")
    );
    assert!(lines.contains("UID:fete-des-ors/2026-07-14T15:00@radio.example.org"));
    insta::assert_snapshot!(text.replace("\r\n", "\n"));
}

#[test]
fn one_show_has_only_its_events() {
    let s = parse("schedules/weekly.toml", "2026-07-01T00:00:00Z");
    let lines = unfold(&calendar(
        &s,
        Some("paroles-d-anciens"),
        "2026-07-06T00:00:00+02:00",
    ));
    assert!(lines.contains("NAME:Paroles d'anciens · Au fil des quartiers"));
    // Its slot on odd weeks (two runs: 2026 has 53 ISO weeks) and the 14 July special.
    assert_eq!(lines.matches("BEGIN:VEVENT").count(), 3, "{lines}");
    assert!(!lines.contains("SUMMARY:La matinale"));
    assert!(lines.contains(
        "RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TH;BYHOUR=18;BYMINUTE=30;WKST=MO;UNTIL=20270103T225959Z"
    ));
}

#[test]
fn a_show_across_both_2027_dst_changes() {
    let s = parse("tests/interop/dst-2027.toml", "2026-12-01T00:00:00Z");
    let lines = unfold(&calendar(&s, None, "2026-11-30T00:00:00+01:00"));
    // The night show: a TZID start and an exact duration, so 01:00 + 3 h is 05:00 on the
    // morning clocks go forward and 03:00 on the morning they go back.
    assert!(lines.contains(
        "DTSTART;TZID=Europe/Paris:20270117T010000\nDURATION:PT3H\nSUMMARY:Nuit blanche\\; à deux heures\\, avec \\\\ et des virgules"
    ), "{lines}");
    let at = |t: &str| t.parse::<Timestamp>().unwrap();
    let nuit: Vec<_> = s
        .occurrences(at("2027-03-27T00:00:00Z"), at("2027-03-29T00:00:00Z"))
        .into_iter()
        .filter(|o| o.slot == "nuit")
        .collect();
    assert_eq!(nuit.len(), 1);
    assert_eq!(nuit[0].start, at("2027-03-28T00:00:00Z"));
    assert_eq!(nuit[0].end, at("2027-03-28T03:00:00Z"));
    // The fold: 02:30 airs at its first occurrence (CEST), for an hour.
    assert!(lines.contains("DTSTART;TZID=Europe/Paris:20270110T023000\nDURATION:PT1H"));
    let double: Vec<_> = s
        .occurrences(at("2027-10-30T00:00:00Z"), at("2027-11-01T00:00:00Z"))
        .into_iter()
        .filter(|o| o.slot == "double")
        .collect();
    assert_eq!(double[0].start, at("2027-10-31T00:30:00Z"));
    // The zone's rules, for clients without a time-zone database.
    assert!(lines.contains(
        "BEGIN:DAYLIGHT\nDTSTART:20260329T020000\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU"
    ));
    assert!(lines.contains(
        "BEGIN:STANDARD\nDTSTART:20261025T030000\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU"
    ));
}

#[test]
fn cancelled_dates_are_exdates_and_unruly_slots_are_listed() {
    let s = parse("tests/interop/dst-2027.toml", "2026-12-01T00:00:00Z");
    let lines = unfold(&calendar(&s, None, "2026-11-30T00:00:00+01:00"));
    assert!(lines.contains("EXDATE;TZID=Europe/Paris:20270411T010000,20271107T010000"));
    // "0 12 1 * 1" airs on Mondays and on the 1st: one event per occurrence, the cancelled
    // 1 February 2027 left out; the one-off special keeps its occurrence id.
    assert!(lines.contains("UID:premier/2027-01-04T12:00@radio.example.org"));
    assert!(lines.contains("UID:premier/2027-03-01T12:00@radio.example.org"));
    assert!(!lines.contains("UID:premier/2027-02-01T12:00"));
    assert!(lines.contains(
        "UID:veillee-de-printemps/2027-03-27T20:00@radio.example.org\nDTSTAMP:20260630T080000Z\nDTSTART;TZID=Europe/Paris:20270327T200000\nDURATION:PT4H"
    ));
    // Stable: the same schedule and window render the same bytes.
    assert_eq!(
        calendar(&s, None, "2026-11-30T00:00:00+01:00"),
        calendar(&s, None, "2026-11-30T00:00:00+01:00")
    );
}
