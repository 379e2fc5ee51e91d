//! The `VTIMEZONE` of the station's zone (RFC 5545 section 3.6.5), derived from the time-zone
//! database jiff reads, so it holds for any zone, not only Europe/Paris.
//!
//! Transitions from a year before the calendar's first event to ten years after are grouped
//! by what they change (offset from, offset to, DST, abbreviation). A group whose transitions
//! all fall on the same rule (month, n-th or last weekday, local time) and that still applies
//! at the end becomes one observance with a yearly RRULE; any other group lists its dates
//! (RDATE). Clients that know the IANA name use their own database; the others read this.

use jiff::civil::{DateTime, Weekday};
use jiff::tz::{Offset, TimeZone};
use jiff::{SignedDuration, Timestamp};

use super::lines::{self, Lines};

const DAYS: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

/// One transition: when (local, in the offset before it) and what it changes to.
#[derive(Debug, Clone)]
struct Change {
    at: Timestamp,
    wall: DateTime,
    from: Offset,
    to: Offset,
    dst: bool,
    name: String,
}

/// The yearly rule a transition's local time follows: month, weekday, which one (1..4, or -1
/// for the last), time of day.
fn rule_of(wall: DateTime) -> (i8, Weekday, i8, jiff::civil::Time) {
    let d = wall.date();
    let nth = if d.day() + 7 > d.days_in_month() {
        -1
    } else {
        (d.day() - 1) / 7 + 1
    };
    (d.month(), d.weekday(), nth, wall.time())
}

/// Writes the `VTIMEZONE` block for `tz` (named `tz_name`), valid from `from` on.
pub(crate) fn write(out: &mut Lines, tz: &TimeZone, tz_name: &str, from: Timestamp) {
    let start = from
        .checked_sub(SignedDuration::from_hours(24 * 366))
        .unwrap_or(from);
    let end = from
        .checked_add(SignedDuration::from_hours(24 * 3653))
        .unwrap_or(from);
    let changes: Vec<Change> = tz
        .following(start)
        .take_while(|t| t.timestamp() < end)
        .take(200)
        .map(|t| {
            let before = tz.to_offset(t.timestamp() - SignedDuration::from_secs(1));
            Change {
                at: t.timestamp(),
                wall: before.to_datetime(t.timestamp()),
                from: before,
                to: t.offset(),
                dst: t.dst().is_dst(),
                name: t.abbreviation().to_owned(),
            }
        })
        .collect();
    out.line("BEGIN", "VTIMEZONE");
    out.line("TZID", &lines::text(tz_name));
    // Before the first listed transition (or for a zone without any), the offset in force.
    if changes.first().is_none_or(|c| c.at > from) {
        let info = tz.to_offset_info(start);
        let kind = if info.dst().is_dst() {
            "DAYLIGHT"
        } else {
            "STANDARD"
        };
        out.line("BEGIN", kind);
        out.line("DTSTART", "19700101T000000");
        out.line("TZOFFSETFROM", &lines::offset(info.offset()));
        out.line("TZOFFSETTO", &lines::offset(info.offset()));
        out.text("TZNAME", info.abbreviation());
        out.line("END", kind);
    }
    let mut groups: Vec<Vec<&Change>> = Vec::new();
    for c in &changes {
        match groups.iter_mut().find(|g| {
            let k = g[0];
            (k.from, k.to, k.dst, &k.name) == (c.from, c.to, c.dst, &c.name)
        }) {
            Some(g) => g.push(c),
            None => groups.push(vec![c]),
        }
    }
    let recent = end
        .checked_sub(SignedDuration::from_hours(24 * 400))
        .unwrap_or(end);
    for g in &groups {
        let first = g[0];
        let kind = if first.dst { "DAYLIGHT" } else { "STANDARD" };
        out.line("BEGIN", kind);
        out.line("DTSTART", &lines::local(first.wall));
        let rule = rule_of(first.wall);
        let yearly = g.len() > 1
            && g.iter().all(|c| rule_of(c.wall) == rule)
            && g.last().is_some_and(|c| c.at >= recent);
        if yearly {
            let (month, weekday, nth, _) = rule;
            out.line(
                "RRULE",
                &format!(
                    "FREQ=YEARLY;BYMONTH={month};BYDAY={nth}{}",
                    DAYS[weekday.to_monday_zero_offset() as usize]
                ),
            );
        } else if g.len() > 1 {
            let dates: Vec<String> = g[1..].iter().map(|c| lines::local(c.wall)).collect();
            out.line("RDATE", &dates.join(","));
        }
        out.line("TZOFFSETFROM", &lines::offset(first.from));
        out.line("TZOFFSETTO", &lines::offset(first.to));
        out.text("TZNAME", &first.name);
        out.line("END", kind);
    }
    out.line("END", "VTIMEZONE");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(name: &str) -> String {
        let tz = TimeZone::get(name).unwrap();
        let mut l = Lines::default();
        write(&mut l, &tz, name, "2026-12-01T00:00:00Z".parse().unwrap());
        l.finish()
    }

    #[test]
    fn paris_is_two_yearly_rules() {
        let text = render("Europe/Paris");
        assert!(text.contains(
            "BEGIN:DAYLIGHT\r\nDTSTART:20260329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n\
             TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nEND:DAYLIGHT"
        ));
        assert!(text.contains(
            "BEGIN:STANDARD\r\nDTSTART:20261025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n\
             TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nEND:STANDARD"
        ));
        assert_eq!(text.matches("BEGIN:").count(), 3, "{text}");
    }

    #[test]
    fn new_york_second_sunday() {
        let text = render("America/New_York");
        assert!(
            text.contains("RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU"),
            "{text}"
        );
        assert!(
            text.contains("RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU"),
            "{text}"
        );
    }

    #[test]
    fn zone_without_dst_is_one_observance() {
        let text = render("Asia/Tokyo");
        assert!(text.contains(
            "BEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:+0900\r\nTZOFFSETTO:+0900\r\n"
        ));
        assert_eq!(text.matches("BEGIN:").count(), 2, "{text}");
    }
}
