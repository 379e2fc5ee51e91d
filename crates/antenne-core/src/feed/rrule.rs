//! RFC 5545 recurrence rules for `podcast:updateFrequency`, derived from a show's weekly slots.

use jiff::civil::{Time, Weekday};

/// The rule for a show airing weekly at `slots` (weekday, local start time), or `None`
/// when it has no slot.
///
/// Days are listed Monday first and deduplicated. The hour and minute are included only when
/// every slot starts at the same time: RFC 5545 combines `BYDAY` and `BYHOUR` as a cartesian
/// product, so mixed times can only be described by day.
pub fn weekly(slots: &[(Weekday, Time)]) -> Option<String> {
    let first = slots.first()?;
    let mut days: Vec<Weekday> = slots.iter().map(|&(d, _)| d).collect();
    days.sort_by_key(|d| d.to_monday_zero_offset());
    days.dedup();
    let mut rule = if days.len() == 7 {
        "FREQ=DAILY".to_owned()
    } else {
        let names: Vec<&str> = days.iter().map(|&d| day_code(d)).collect();
        format!("FREQ=WEEKLY;BYDAY={}", names.join(","))
    };
    if slots
        .iter()
        .all(|&(_, t)| t.hour() == first.1.hour() && t.minute() == first.1.minute())
    {
        rule.push_str(&format!(
            ";BYHOUR={};BYMINUTE={}",
            first.1.hour(),
            first.1.minute()
        ));
    }
    Some(rule)
}

fn day_code(d: Weekday) -> &'static str {
    match d {
        Weekday::Monday => "MO",
        Weekday::Tuesday => "TU",
        Weekday::Wednesday => "WE",
        Weekday::Thursday => "TH",
        Weekday::Friday => "FR",
        Weekday::Saturday => "SA",
        Weekday::Sunday => "SU",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::time;

    fn check(slots: &[(Weekday, Time)], expected: Option<&str>) {
        assert_eq!(weekly(slots).as_deref(), expected, "{slots:?}");
    }

    #[test]
    fn rules() {
        use Weekday::*;
        check(&[], None);
        check(
            &[(Saturday, time(10, 0, 0, 0))],
            Some("FREQ=WEEKLY;BYDAY=SA;BYHOUR=10;BYMINUTE=0"),
        );
        check(
            &[
                (Wednesday, time(18, 30, 0, 0)),
                (Monday, time(18, 30, 0, 0)),
            ],
            Some("FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=18;BYMINUTE=30"),
        );
        check(
            &[(Friday, time(9, 0, 0, 0)), (Friday, time(21, 0, 0, 0))],
            Some("FREQ=WEEKLY;BYDAY=FR"),
        );
        let every_day: Vec<_> = [
            Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday,
        ]
        .map(|d| (d, time(7, 0, 0, 0)))
        .into();
        check(&every_day, Some("FREQ=DAILY;BYHOUR=7;BYMINUTE=0"));
    }
}
