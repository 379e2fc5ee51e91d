//! Standard crontab lines, translated for the `cron` crate.
//!
//! Operators write `minute hour day-of-month month day-of-week`, where 0 and 7 are Sunday and
//! 1 is Monday. The `cron` crate wants a seconds field first and counts weekdays 1 = Sunday, so a
//! line handed over verbatim would move every show by a day. We parse each field into a set
//! ourselves (which also gives precise errors), then hand the crate a canonical expression with
//! weekday *names*. A 6-field line (seconds first) is accepted with weekday names only.
//!
//! As in Vixie cron, when both day-of-month and day-of-week are restricted a day matches if
//! *either* does; the `cron` crate would require both, so that case becomes two expressions.

use std::collections::BTreeSet;
use std::ops::Range;
use std::str::FromStr;

/// A parsed crontab line: the set of each field, and the expressions for the `cron` crate.
#[derive(Debug, Clone)]
pub struct Crontab {
    pub seconds: BTreeSet<u32>,
    pub minutes: BTreeSet<u32>,
    pub hours: BTreeSet<u32>,
    pub days_of_month: BTreeSet<u32>,
    pub months: BTreeSet<u32>,
    /// 0 = Sunday … 6 = Saturday.
    pub weekdays: BTreeSet<u32>,
    pub dom_restricted: bool,
    pub dow_restricted: bool,
    /// One or two schedules whose union is the line.
    pub schedules: Vec<cron::Schedule>,
}

/// A problem in one field of the line: byte range inside the line, message, hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronError {
    pub range: Range<usize>,
    pub message: String,
    pub hint: Option<String>,
}

const DOW_NAMES: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTH_NAMES: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

#[derive(Clone, Copy)]
enum Kind {
    Second,
    Minute,
    Hour,
    Dom,
    Month,
    Dow { names_only: bool },
}

impl Kind {
    fn bounds(self) -> (u32, u32) {
        match self {
            Kind::Second | Kind::Minute => (0, 59),
            Kind::Hour => (0, 23),
            Kind::Dom => (1, 31),
            Kind::Month => (1, 12),
            // 7 is Sunday too; folded to 0 after expansion.
            Kind::Dow { .. } => (0, 7),
        }
    }
    fn name(self) -> &'static str {
        match self {
            Kind::Second => "second",
            Kind::Minute => "minute",
            Kind::Hour => "hour",
            Kind::Dom => "day-of-month",
            Kind::Month => "month",
            Kind::Dow { .. } => "day-of-week",
        }
    }
}

/// Parse a crontab line (5 fields, 6 with seconds first, or `@daily`-style shorthands).
pub fn parse(line: &str) -> Result<Crontab, Vec<CronError>> {
    let trimmed = line.trim();
    let expanded = match trimmed {
        "@yearly" | "@annually" => Some("0 0 1 1 *"),
        "@monthly" => Some("0 0 1 * *"),
        "@weekly" => Some("0 0 * * 0"),
        "@daily" | "@midnight" => Some("0 0 * * *"),
        "@hourly" => Some("0 * * * *"),
        _ => None,
    };
    if let Some(e) = expanded {
        return parse(e).map_err(|_| unreachable_err());
    }
    if trimmed.starts_with('@') {
        return Err(vec![CronError {
            range: 0..line.len(),
            message: format!("unknown cron shorthand `{trimmed}`"),
            hint: Some("use @yearly, @monthly, @weekly, @daily or @hourly".into()),
        }]);
    }
    let fields: Vec<(usize, &str)> = split_fields(line);
    let kinds: &[Kind] = match fields.len() {
        5 => &[
            Kind::Minute,
            Kind::Hour,
            Kind::Dom,
            Kind::Month,
            Kind::Dow { names_only: false },
        ],
        6 => &[
            Kind::Second,
            Kind::Minute,
            Kind::Hour,
            Kind::Dom,
            Kind::Month,
            Kind::Dow { names_only: true },
        ],
        n => {
            return Err(vec![CronError {
                range: 0..line.len(),
                message: format!("a cron line has 5 fields, this one has {n}"),
                hint: Some(
                    "minute hour day-of-month month day-of-week, e.g. \"30 18 * * 1-5\" (0 or 7 = Sunday)"
                        .into(),
                ),
            }]);
        }
    };
    let mut errors = Vec::new();
    let mut sets = Vec::new();
    let mut restricted = Vec::new();
    for (&(at, text), &kind) in fields.iter().zip(kinds) {
        match parse_field(text, kind) {
            Ok(set) => {
                // Vixie cron: a field starting with `*` (even `*/2`) is unrestricted.
                restricted.push(!text.starts_with('*'));
                sets.push(set);
            }
            Err((r, message, hint)) => {
                errors.push(CronError {
                    range: at + r.start..at + r.end,
                    message,
                    hint,
                });
                restricted.push(false);
                sets.push(BTreeSet::new());
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut sets = sets.into_iter();
    let seconds = if fields.len() == 6 {
        sets.next().expect("field")
    } else {
        BTreeSet::from([0])
    };
    let minutes = sets.next().expect("field");
    let hours = sets.next().expect("field");
    let days_of_month = sets.next().expect("field");
    let months = sets.next().expect("field");
    let weekdays: BTreeSet<u32> = sets
        .next()
        .expect("field")
        .into_iter()
        .map(|d| d % 7)
        .collect();
    let off = fields.len() - 5;
    let dom_restricted = restricted[off + 2];
    let dow_restricted = restricted[off + 4];

    let sec = list(&seconds, 0, 59);
    let min = list(&minutes, 0, 59);
    let hour = list(&hours, 0, 23);
    let dom = list(&days_of_month, 1, 31);
    let mon = list(&months, 1, 12);
    let dow = if weekdays.len() == 7 {
        "*".to_string()
    } else {
        weekdays
            .iter()
            .map(|&d| DOW_NAMES[d as usize])
            .collect::<Vec<_>>()
            .join(",")
    };
    let exprs = if dom_restricted && dow_restricted {
        vec![
            format!("{sec} {min} {hour} {dom} {mon} *"),
            format!("{sec} {min} {hour} * {mon} {dow}"),
        ]
    } else {
        vec![format!("{sec} {min} {hour} {dom} {mon} {dow}")]
    };
    let mut schedules = Vec::new();
    for e in exprs {
        match cron::Schedule::from_str(&e) {
            Ok(s) => schedules.push(s),
            Err(err) => {
                return Err(vec![CronError {
                    range: 0..line.len(),
                    message: format!("cron could not read `{e}`: {err}"),
                    hint: None,
                }]);
            }
        }
    }
    Ok(Crontab {
        seconds,
        minutes,
        hours,
        days_of_month,
        months,
        weekdays,
        dom_restricted,
        dow_restricted,
        schedules,
    })
}

fn unreachable_err() -> Vec<CronError> {
    vec![CronError {
        range: 0..0,
        message: "internal: shorthand expansion failed".into(),
        hint: None,
    }]
}

fn split_fields(line: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push((s, &line[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &line[s..]));
    }
    out
}

fn list(set: &BTreeSet<u32>, lo: u32, hi: u32) -> String {
    if set.len() as u32 == hi - lo + 1 {
        "*".into()
    } else {
        set.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
    }
}

type FieldError = (Range<usize>, String, Option<String>);

fn parse_field(text: &str, kind: Kind) -> Result<BTreeSet<u32>, FieldError> {
    let mut set = BTreeSet::new();
    let mut at = 0;
    for part in text.split(',') {
        let r = at..at + part.len();
        at += part.len() + 1;
        parse_part(part, kind, &mut set).map_err(|(m, h)| (r, m, h))?;
    }
    Ok(set)
}

fn parse_part(
    part: &str,
    kind: Kind,
    set: &mut BTreeSet<u32>,
) -> Result<(), (String, Option<String>)> {
    let (lo, hi) = kind.bounds();
    let (range, step) = match part.split_once('/') {
        Some((r, s)) => {
            let step: u32 =
                s.parse().ok().filter(|&n| n > 0).ok_or_else(|| {
                    (format!("bad step `{s}` in the {} field", kind.name()), None)
                })?;
            (r, step)
        }
        None => (part, 1),
    };
    let (a, b) = if range == "*" {
        (
            lo,
            if matches!(kind, Kind::Dow { .. }) {
                6
            } else {
                hi
            },
        )
    } else if let Some((x, y)) = range.split_once('-') {
        (value(x, kind)?, value(y, kind)?)
    } else {
        let v = value(range, kind)?;
        // `5/15` means from 5 to the end, every 15, as in Vixie cron.
        (v, if part.contains('/') { hi } else { v })
    };
    if a > b {
        return Err((
            format!(
                "range `{range}` runs backwards in the {} field",
                kind.name()
            ),
            Some("write the smaller value first, or split it into a list".into()),
        ));
    }
    let mut v = a;
    while v <= b {
        set.insert(v);
        v += step;
    }
    Ok(())
}

fn value(s: &str, kind: Kind) -> Result<u32, (String, Option<String>)> {
    let (lo, hi) = kind.bounds();
    let lower = s.to_ascii_lowercase();
    if let Kind::Dow { names_only } = kind {
        if let Some(i) = DOW_NAMES
            .iter()
            .position(|n| n.eq_ignore_ascii_case(&lower))
        {
            return Ok(i as u32);
        }
        if names_only && s.chars().all(|c| c.is_ascii_digit()) && !s.is_empty() {
            return Err((
                format!("weekday number `{s}` in a 6-field cron line"),
                Some(
                    "with a seconds field, write weekdays as names (Mon-Fri, Sun) so one convention holds"
                        .into(),
                ),
            ));
        }
    }
    if let Kind::Month = kind
        && let Some(i) = MONTH_NAMES.iter().position(|n| *n == lower)
    {
        return Ok(i as u32 + 1);
    }
    match s.parse::<u32>() {
        Ok(v) if (lo..=hi).contains(&v) => Ok(v),
        Ok(v) => Err((
            format!(
                "{v} is out of range for the {} field ({lo}-{hi})",
                kind.name()
            ),
            None,
        )),
        Err(_) => Err((
            format!("`{s}` is not a valid {} value", kind.name()),
            match kind {
                Kind::Dow { .. } => {
                    Some("use 0-7 (0 and 7 = Sunday, 1 = Monday) or sun-sat".into())
                }
                Kind::Month => Some("use 1-12 or jan-dec".into()),
                _ => None,
            },
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dows(line: &str) -> Vec<u32> {
        parse(line).unwrap().weekdays.into_iter().collect()
    }

    #[test]
    fn weekday_numbers_follow_crontab() {
        assert_eq!(dows("0 9 * * 1-5"), vec![1, 2, 3, 4, 5]);
        assert_eq!(dows("0 9 * * 0"), vec![0]);
        assert_eq!(dows("0 9 * * 7"), vec![0]);
        assert_eq!(dows("0 9 * * sat,sun"), vec![0, 6]);
        assert_eq!(dows("0 9 * * *").len(), 7);
    }

    #[test]
    fn six_fields_refuse_weekday_numbers() {
        let e = parse("0 0 9 * * 1").unwrap_err();
        assert!(e[0].message.contains("weekday number"));
        assert_eq!(e[0].range, 10..11);
        assert!(parse("0 0 9 * * Mon-Fri").is_ok());
    }

    #[test]
    fn errors_point_at_the_field() {
        let e = parse("0 25 * * *").unwrap_err();
        assert_eq!(e[0].range, 2..4);
        assert!(e[0].message.contains("out of range"));
    }
}
