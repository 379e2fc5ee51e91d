"""Checks one iCalendar file against `antenne schedule --json` (run by check-ical.sh).

Usage: ical.py OCCURRENCES.json CALENDAR.ics FROM DAYS [SHOW]

The calendar is parsed by `icalendar` and expanded with `recurring-ical-events` over
[FROM, FROM + DAYS days); every occurrence (start instant, end instant, show) must equal one
of `antenne schedule`'s for the same period, and the other way round (SHOW: only that show's).
Occurrences are compared by their start in the window, on both sides. Also checks the text
itself: CRLF line ends and no line over 75 octets. Prints a summary; exits 1 on a mismatch.
"""
import datetime as dt
import json
import sys

import icalendar
import recurring_ical_events

UTC = dt.timezone.utc


def text_checks(raw):
    assert raw.endswith(b"\r\n"), "the calendar does not end with CRLF"
    lines = raw.split(b"\r\n")[:-1]
    for i, line in enumerate(lines, 1):
        assert b"\n" not in line and b"\r" not in line, f"line {i}: a bare LF or CR"
        assert len(line) <= 75, f"line {i} has {len(line)} octets (over 75): {line[:80]!r}"
    return len(lines)


def show_of(event):
    url = str(event.get("URL", ""))
    return url.rstrip("/").rsplit("/shows/", 1)[-1]


def main():
    occ_path, ics_path, start, days = sys.argv[1:5]
    only = sys.argv[5] if len(sys.argv) > 5 else None
    raw = open(ics_path, "rb").read()
    n_lines = text_checks(raw)
    cal = icalendar.Calendar.from_ical(raw)
    begin = dt.datetime.fromisoformat(start).astimezone(UTC)
    end = begin + dt.timedelta(days=int(days))

    want = set()
    for o in json.load(open(occ_path)):
        s = dt.datetime.fromisoformat(o["start"]).astimezone(UTC)
        e = dt.datetime.fromisoformat(o["end"]).astimezone(UTC)
        if begin <= s < end and (only is None or o["show"] == only):
            want.add((s, e, o["show"]))

    got = set()
    rules = 0
    durations = {}
    for ev in cal.walk("VEVENT"):
        rules += "RRULE" in ev
        assert "DURATION" in ev, f"event {ev['UID']} has no DURATION"
        durations[str(ev["UID"])] = ev.decoded("DURATION")
    for ev in recurring_ical_events.of(cal).between(begin, end):
        s = ev.decoded("DTSTART")
        assert isinstance(s, dt.datetime) and s.tzinfo is not None, f"floating DTSTART {s!r}"
        s = s.astimezone(UTC)
        # DURATION is exact (elapsed) time (RFC 5545 3.3.6): the end is the start instant plus
        # it. recurring-ical-events replaces it with a DTEND reckoned on the wall clock, which
        # is an hour off across a DST change, so take the event's own DURATION.
        e = s + durations[str(ev["UID"])]
        if begin <= s < end:
            got.add((s, e, show_of(ev)))

    missing = sorted(want - got)
    extra = sorted(got - want)
    for what, items in (("missing from the calendar", missing), ("not in antenne schedule", extra)):
        for s, e, show in items[:10]:
            print(f"  {what}: {s.isoformat()} – {e.isoformat()} {show}")
    name = only or "every show"
    print(
        f"  {ics_path.rsplit('/', 1)[-1]} ({name}): {len(got)} occurrences from "
        f"{sum(1 for _ in cal.walk('VEVENT'))} events ({rules} with RRULE), {n_lines} lines; "
        f"antenne schedule: {len(want)}"
    )
    if missing or extra or not want:
        sys.exit(1)


if __name__ == "__main__":
    main()
