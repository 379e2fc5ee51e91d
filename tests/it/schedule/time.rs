//! Exact time semantics: wall-clock starts in the station's zone, elapsed durations, RFC 5545
//! rules at DST changes (Europe/Paris 2026 and 2027, Australia/Sydney), local weekdays.

use antenne::schedule::{NoFacts, Occurrence, Play, Schedule, WallShift, diff};
use jiff::{SignedDuration, Timestamp};

fn sched(tz: &str, body: &str) -> Schedule {
    let src = format!(
        "[station]\nname = \"T\"\ntimezone = \"{tz}\"\n\n[[show]]\nslug = \"a\"\ntitle = \"A\"\n\n[[show]]\nslug = \"b\"\ntitle = \"B\"\n\n{body}"
    );
    let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    match Schedule::parse(&src, "t.toml", now, &NoFacts) {
        Ok((s, _)) => s,
        Err(d) => panic!("{}", d.iter().map(|d| format!("{d}\n")).collect::<String>()),
    }
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// `start..end` of each occurrence in local time with offset.
fn local(s: &Schedule, occ: &[Occurrence]) -> Vec<String> {
    let tz = &s.station().timezone;
    occ.iter()
        .map(|o| {
            let a = o.start.to_zoned_datetime(tz.clone());
            let b = o.end.to_zoned_datetime(tz.clone());
            format!(
                "{} {}",
                a.strftime("%a %Y-%m-%d %H:%M%:z"),
                b.strftime("%H:%M%:z")
            )
        })
        .collect()
}

fn check(tz: &str, body: &str, from: &str, to: &str, expected: &[&str]) -> Vec<Occurrence> {
    let s = sched(tz, body);
    let occ = s.occurrences(ts(from), ts(to));
    assert_eq!(local(&s, &occ), expected);
    occ
}

const DAILY_0230: &str = "[[slot]]\nshow = \"a\"\ndays = [\"mon\",\"tue\",\"wed\",\"thu\",\"fri\",\"sat\",\"sun\"]\nstart = \"02:30\"\nduration = \"15m\"\n";

#[test]
fn paris_2026_spring_forward_moves_0230_to_0330_that_day_only() {
    let occ = check(
        "Europe/Paris",
        DAILY_0230,
        "2026-03-27T12:00:00Z",
        "2026-03-30T12:00:00Z",
        &[
            "Sat 2026-03-28 02:30+01:00 02:45+01:00",
            "Sun 2026-03-29 03:30+02:00 03:45+02:00",
            "Mon 2026-03-30 02:30+02:00 02:45+02:00",
        ],
    );
    assert_eq!(occ[1].shift, WallShift::Gap(SignedDuration::from_hours(1)));
    assert_eq!(occ[1].wall.to_string(), "2026-03-29T02:30:00");
    assert_eq!(occ[1].id, "a/2026-03-29T02:30");
}

#[test]
fn paris_2026_fall_back_airs_once_at_the_first_0230() {
    let occ = check(
        "Europe/Paris",
        DAILY_0230,
        "2026-10-24T12:00:00Z",
        "2026-10-26T12:00:00Z",
        &[
            "Sun 2026-10-25 02:30+02:00 02:45+02:00",
            "Mon 2026-10-26 02:30+01:00 02:45+01:00",
        ],
    );
    assert_eq!(occ[0].shift, WallShift::Fold);
    assert_eq!(occ[0].start, ts("2026-10-25T00:30:00Z"));
}

#[test]
fn paris_2027_changes() {
    check(
        "Europe/Paris",
        DAILY_0230,
        "2027-03-27T12:00:00Z",
        "2027-03-28T12:00:00Z",
        &["Sun 2027-03-28 03:30+02:00 03:45+02:00"],
    );
    check(
        "Europe/Paris",
        DAILY_0230,
        "2027-10-30T12:00:00Z",
        "2027-10-31T12:00:00Z",
        &["Sun 2027-10-31 02:30+02:00 02:45+02:00"],
    );
}

#[test]
fn sydney_changes_south_of_the_equator() {
    // Clocks go back on 5 April 2026 (03:00 AEDT -> 02:00 AEST), forward on 4 October 2026.
    let occ = check(
        "Australia/Sydney",
        DAILY_0230,
        "2026-04-04T00:00:00Z",
        "2026-04-05T12:00:00Z",
        &["Sun 2026-04-05 02:30+11:00 02:45+11:00"],
    );
    assert_eq!(occ[0].shift, WallShift::Fold);
    check(
        "Australia/Sydney",
        DAILY_0230,
        "2026-10-02T12:00:00Z",
        "2026-10-04T12:00:00Z",
        &[
            "Sat 2026-10-03 02:30+10:00 02:45+10:00",
            "Sun 2026-10-04 03:30+11:00 03:45+11:00",
        ],
    );
}

#[test]
fn weekdays_are_local_not_utc() {
    // Monday 08:00 in Sydney is Sunday 21:00 UTC.
    let occ = check(
        "Australia/Sydney",
        "[[slot]]\nshow = \"a\"\ndays = [\"mon\"]\nstart = \"08:00\"\nduration = \"1h\"\n",
        "2026-06-01T00:00:00Z",
        "2026-06-08T00:00:00Z",
        &["Mon 2026-06-08 08:00+10:00 09:00+10:00"],
    );
    assert_eq!(occ[0].start, ts("2026-06-07T22:00:00Z"));
    // An evening cron show in Montreal lands on the right local day too.
    check(
        "America/Montreal",
        "[[slot]]\nshow = \"a\"\ncron = \"0 21 * * 5\"\nduration = \"1h\"\n",
        "2026-06-01T00:00:00Z",
        "2026-06-08T00:00:00Z",
        &["Fri 2026-06-05 21:00-04:00 22:00-04:00"],
    );
}

#[test]
fn a_slot_spanning_midnight() {
    let s = sched(
        "Europe/Paris",
        "[[slot]]\nshow = \"a\"\ndays = [\"tue\"]\nstart = \"23:00\"\nduration = \"2h\"\n",
    );
    let on = s
        .slot_at(ts("2026-06-03T00:30:00+02:00"))
        .expect("on air after midnight");
    assert_eq!(on.wall.to_string(), "2026-06-02T23:00:00");
    assert_eq!(on.end, ts("2026-06-03T01:00:00+02:00"));
    assert_eq!(s.slot_at(ts("2026-06-03T01:00:00+02:00")), None);
    // A window that starts after midnight still sees the show that began the day before.
    let occ = s.occurrences(
        ts("2026-06-03T00:00:00+02:00"),
        ts("2026-06-03T02:00:00+02:00"),
    );
    assert_eq!(occ.len(), 1);
}

#[test]
fn a_slot_spanning_the_dst_change_lasts_its_elapsed_duration() {
    let body = "[[slot]]\nshow = \"a\"\ndays = [\"sat\"]\nstart = \"23:00\"\nduration = \"4h\"\n";
    // Spring: 4 elapsed hours end at 04:00 wall time (5 wall-clock hours).
    check(
        "Europe/Paris",
        body,
        "2026-03-28T12:00:00Z",
        "2026-03-29T12:00:00Z",
        &["Sat 2026-03-28 23:00+01:00 04:00+02:00"],
    );
    // Autumn: they end at 02:00 wall time, the second time round.
    let occ = check(
        "Europe/Paris",
        body,
        "2026-10-24T12:00:00Z",
        "2026-10-25T12:00:00Z",
        &["Sat 2026-10-24 23:00+02:00 02:00+01:00"],
    );
    assert_eq!(occ[0].duration(), SignedDuration::from_hours(4));
}

#[test]
fn cron_1_to_5_is_monday_to_friday() {
    let occ = check(
        "Europe/Paris",
        "[[slot]]\nshow = \"a\"\ncron = \"0 7 * * 1-5\"\nduration = \"1h\"\n",
        "2026-06-01T00:00:00+02:00",
        "2026-06-08T00:00:00+02:00",
        &[
            "Mon 2026-06-01 07:00+02:00 08:00+02:00",
            "Tue 2026-06-02 07:00+02:00 08:00+02:00",
            "Wed 2026-06-03 07:00+02:00 08:00+02:00",
            "Thu 2026-06-04 07:00+02:00 08:00+02:00",
            "Fri 2026-06-05 07:00+02:00 08:00+02:00",
        ],
    );
    assert_eq!(occ[0].id, "a/2026-06-01T07:00");
    for (line, day) in [
        ("0 7 * * 0", "Sun"),
        ("0 7 * * 7", "Sun"),
        ("0 7 * * 6", "Sat"),
        ("0 0 7 * * Sun", "Sun"),
    ] {
        let s = sched(
            "Europe/Paris",
            &format!("[[slot]]\nshow = \"a\"\ncron = \"{line}\"\nduration = \"1h\"\n"),
        );
        let occ = s.occurrences(
            ts("2026-06-01T00:00:00+02:00"),
            ts("2026-06-08T00:00:00+02:00"),
        );
        assert_eq!(local(&s, &occ)[0][..3], *day, "{line}");
        assert_eq!(occ.len(), 1, "{line}");
    }
}

#[test]
fn cron_day_of_month_or_day_of_week_like_vixie() {
    // The 13th, and every Friday: Friday 5, Friday 12, Saturday 13, Friday 19.
    let occ = check(
        "Europe/Paris",
        "[[slot]]\nshow = \"a\"\ncron = \"0 9 13 * 5\"\nduration = \"1h\"\n",
        "2026-06-05T00:00:00+02:00",
        "2026-06-20T00:00:00+02:00",
        &[
            "Fri 2026-06-05 09:00+02:00 10:00+02:00",
            "Fri 2026-06-12 09:00+02:00 10:00+02:00",
            "Sat 2026-06-13 09:00+02:00 10:00+02:00",
            "Fri 2026-06-19 09:00+02:00 10:00+02:00",
        ],
    );
    assert_eq!(occ.len(), 4);
}

#[test]
fn cron_half_hourly_through_the_gap_keeps_one_occurrence_per_instant() {
    let s = sched(
        "Europe/Paris",
        "[[slot]]\nshow = \"a\"\ncron = \"*/30 * * * *\"\nduration = \"30m\"\n",
    );
    let occ = s.occurrences(ts("2026-03-29T00:00:00Z"), ts("2026-03-29T02:00:00Z"));
    assert_eq!(
        local(&s, &occ),
        [
            "Sun 2026-03-29 01:00+01:00 01:30+01:00",
            "Sun 2026-03-29 01:30+01:00 03:00+02:00",
            "Sun 2026-03-29 03:00+02:00 03:30+02:00",
            "Sun 2026-03-29 03:30+02:00 04:00+02:00",
        ]
    );
}

#[test]
fn odd_iso_weeks() {
    let s = sched(
        "Europe/Paris",
        "[[slot]]\nshow = \"a\"\ndays = [\"thu\"]\nstart = \"18:30\"\nduration = \"45m\"\nweeks = \"odd\"\n",
    );
    let dates: Vec<String> = s
        .occurrences(ts("2026-01-01T00:00:00Z"), ts("2026-02-01T00:00:00Z"))
        .iter()
        .map(|o| o.wall.date().to_string())
        .collect();
    // 2026-01-01 is in ISO week 1.
    assert_eq!(dates, ["2026-01-01", "2026-01-15", "2026-01-29"]);
}

#[test]
fn every_two_weeks_from_an_anchor() {
    let s = sched(
        "Europe/Paris",
        "[[slot]]\nshow = \"b\"\ndays = [\"sat\"]\nstart = \"10:30\"\nduration = \"30m\"\nevery = \"2w\"\nanchor = 2026-01-10\n",
    );
    let dates: Vec<String> = s
        .occurrences(ts("2026-01-01T00:00:00Z"), ts("2026-02-15T00:00:00Z"))
        .iter()
        .map(|o| o.wall.date().to_string())
        .collect();
    assert_eq!(dates, ["2026-01-10", "2026-01-24", "2026-02-07"]);
}

#[test]
fn exceptions_cancel_replace_and_add() {
    let s = sched(
        "Europe/Paris",
        "[[slot]]\nid = \"m\"\nshow = \"a\"\ndays = [\"mon\",\"tue\"]\nstart = \"07:00\"\nduration = \"1h\"\n\n[[exception]]\nslot = \"m\"\ndate = 2026-07-13\ncancel = true\n\n[[exception]]\nslot = \"m\"\ndate = 2026-07-14\nshow = \"b\"\nfile = \"specials/bal.mp3\"\nduration = \"90m\"\n\n[[exception]]\nid = \"fete\"\nshow = \"b\"\ndate = 2026-07-14\nstart = \"15:00\"\nduration = \"2h\"\nplay = \"live\"\n",
    );
    let occ = s.occurrences(ts("2026-07-13T00:00:00Z"), ts("2026-07-15T00:00:00Z"));
    assert_eq!(occ.len(), 2);
    assert_eq!(occ[0].show, "b");
    assert_eq!(occ[0].play, Play::File("specials/bal.mp3".into()));
    assert_eq!(occ[0].duration(), SignedDuration::from_mins(90));
    assert!(occ[0].exceptional);
    assert_eq!(occ[1].id, "fete/2026-07-14T15:00");
    assert_eq!(occ[1].play, Play::Live);
}

#[test]
fn slot_at_and_next_change() {
    let s = sched(
        "Europe/Paris",
        "[[slot]]\nshow = \"a\"\ndays = [\"mon\"]\nstart = \"07:00\"\nduration = \"1h\"\n\n[[slot]]\nshow = \"b\"\ndays = [\"mon\"]\nstart = \"08:00\"\nduration = \"30m\"\n",
    );
    let t = ts("2026-06-01T06:59:59+02:00");
    assert_eq!(s.slot_at(t), None);
    assert_eq!(
        s.next_change_after(t),
        Some(ts("2026-06-01T07:00:00+02:00"))
    );
    let at7 = ts("2026-06-01T07:00:00+02:00");
    assert_eq!(s.slot_at(at7).unwrap().show, "a");
    assert_eq!(
        s.next_change_after(at7),
        Some(ts("2026-06-01T08:00:00+02:00"))
    );
    assert_eq!(
        s.slot_at(ts("2026-06-01T08:00:00+02:00")).unwrap().show,
        "b"
    );
    assert_eq!(
        s.next_change_after(ts("2026-06-01T08:00:00+02:00")),
        Some(ts("2026-06-01T08:30:00+02:00"))
    );
    assert_eq!(
        s.next_change_after(ts("2026-06-01T08:30:00+02:00")),
        Some(ts("2026-06-08T07:00:00+02:00"))
    );
}

#[test]
fn rrules_for_the_feed() {
    let s = sched(
        "Europe/Paris",
        "[[slot]]\nshow = \"a\"\ndays = [\"mon\",\"wed\"]\nstart = \"18:00\"\nduration = \"1h\"\n\n[[slot]]\nshow = \"a\"\ndays = [\"fri\"]\nstart = \"18:00\"\nduration = \"1h\"\n\n[[slot]]\nshow = \"b\"\ncron = \"30 7 * * 1-5\"\nduration = \"20m\"\n",
    );
    assert_eq!(
        s.rrule_for_show("a").unwrap(),
        "FREQ=WEEKLY;BYDAY=MO,WE,FR;BYHOUR=18;BYMINUTE=0"
    );
    assert_eq!(
        s.rrule_for_show("b").unwrap(),
        "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=7;BYMINUTE=30"
    );
    let s = sched(
        "Europe/Paris",
        "[[slot]]\nshow = \"a\"\ndays = [\"thu\"]\nstart = \"18:30\"\nduration = \"1h\"\nweeks = \"odd\"\n\n[[slot]]\nshow = \"b\"\ncron = \"0 10 1 * *\"\nduration = \"1h\"\n",
    );
    assert_eq!(
        s.rrule_for_show("a").unwrap(),
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH;BYHOUR=18;BYMINUTE=30"
    );
    assert_eq!(
        s.rrule_for_show("b").unwrap(),
        "FREQ=MONTHLY;BYMONTHDAY=1;BYHOUR=10;BYMINUTE=0"
    );
    assert_eq!(s.rrule_for_show("nope"), None);
}

#[test]
fn diff_lists_added_removed_and_moved() {
    let old = sched(
        "Europe/Paris",
        "[[slot]]\nid = \"m\"\nshow = \"a\"\ndays = [\"mon\"]\nstart = \"18:00\"\nduration = \"1h\"\n\n[[slot]]\nid = \"w\"\nshow = \"b\"\ndays = [\"wed\"]\nstart = \"18:00\"\nduration = \"1h\"\n",
    );
    let new = sched(
        "Europe/Paris",
        "[[slot]]\nid = \"m\"\nshow = \"a\"\ndays = [\"mon\"]\nstart = \"18:30\"\nduration = \"1h\"\n\n[[slot]]\nid = \"f\"\nshow = \"b\"\ndays = [\"fri\"]\nstart = \"18:00\"\nduration = \"1h\"\n",
    );
    let d = diff(
        &old,
        &new,
        ts("2026-06-01T00:00:00+02:00"),
        ts("2026-06-08T00:00:00+02:00"),
    );
    assert_eq!(d.moved.len(), 1);
    assert_eq!(d.moved[0].new.start, ts("2026-06-01T18:30:00+02:00"));
    assert!(d.moved[0].times_changed());
    assert_eq!(
        d.removed
            .iter()
            .map(|o| o.slot.as_str())
            .collect::<Vec<_>>(),
        ["w"]
    );
    assert_eq!(
        d.added.iter().map(|o| o.slot.as_str()).collect::<Vec<_>>(),
        ["f"]
    );
    assert!(
        diff(
            &old,
            &old,
            ts("2026-06-01T00:00:00Z"),
            ts("2026-07-01T00:00:00Z")
        )
        .is_empty()
    );
}
