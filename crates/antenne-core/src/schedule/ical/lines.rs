//! RFC 5545 content lines: `NAME;PARAM=V:VALUE`, TEXT escaping (section 3.3.11), folding at
//! 75 octets without splitting a UTF-8 character (3.1), CRLF endings, and the value formats
//! the calendar writes (local and UTC date-times, exact durations, UTC offsets).

use jiff::civil::DateTime;
use jiff::tz::Offset;
use jiff::{SignedDuration, Timestamp};

/// The longest content line, in octets, CRLF excluded.
const FOLD_AT: usize = 75;

/// A calendar being written, one content line at a time.
#[derive(Debug, Default)]
pub(crate) struct Lines {
    out: String,
}

impl Lines {
    /// One content line; `value` is written as given (escape TEXT with [`text`] first).
    pub(crate) fn line(&mut self, name_and_params: &str, value: &str) {
        let mut line = String::with_capacity(name_and_params.len() + value.len() + 1);
        line.push_str(name_and_params);
        line.push(':');
        line.push_str(value);
        fold_into(&line, &mut self.out);
    }

    /// A TEXT property: escaped, control characters dropped.
    pub(crate) fn text(&mut self, name: &str, value: &str) {
        self.line(name, &text(value));
    }

    pub(crate) fn finish(self) -> String {
        self.out
    }
}

/// Writes `line` folded: at most 75 octets per physical line, continuations start with one
/// space, every physical line ends with CRLF.
fn fold_into(line: &str, out: &mut String) {
    let mut budget = FOLD_AT;
    let mut used = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if used + n > budget {
            out.push_str("\r\n ");
            // The leading space counts toward the next line's 75 octets.
            budget = FOLD_AT - 1;
            used = 0;
        }
        out.push(c);
        used += n;
    }
    out.push_str("\r\n");
}

/// A TEXT value: `\`, `;`, `,` escaped, line breaks as `\n`, other controls dropped.
pub(crate) fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push_str("\\n");
                }
            }
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A parameter value: quoted when it holds `:`, `;` or `,`; `"` and controls dropped.
pub(crate) fn param(s: &str) -> String {
    let clean: String = s.chars().filter(|&c| c != '"' && !c.is_control()).collect();
    if clean.contains([':', ';', ',']) {
        format!("\"{clean}\"")
    } else {
        clean
    }
}

/// A local DATE-TIME (form 3, with `TZID`): `20261207T070000`.
pub(crate) fn local(dt: DateTime) -> String {
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

/// A UTC DATE-TIME (form 2): `20261207T060000Z`.
pub(crate) fn utc(t: Timestamp) -> String {
    format!("{}Z", local(Offset::UTC.to_datetime(t)))
}

/// An exact DURATION (`PT1H30M`): elapsed time, which is what a slot's duration is
/// (a nominal `P1D` would follow wall-clock days across DST).
pub(crate) fn duration(d: SignedDuration) -> String {
    let secs = d.as_secs().max(0);
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = String::from("PT");
    if h > 0 {
        out.push_str(&format!("{h}H"));
        if m > 0 || s > 0 {
            out.push_str(&format!("{m}M"));
        }
        if s > 0 {
            out.push_str(&format!("{s}S"));
        }
    } else if m > 0 {
        out.push_str(&format!("{m}M"));
        if s > 0 {
            out.push_str(&format!("{s}S"));
        }
    } else {
        out.push_str(&format!("{s}S"));
    }
    out
}

/// A UTC-OFFSET: `+0100`, `-0330`, `+053045` with seconds.
pub(crate) fn offset(o: Offset) -> String {
    let secs = o.seconds();
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.unsigned_abs();
    let (h, m, s) = (a / 3600, a / 60 % 60, a % 60);
    if s == 0 {
        format!("{sign}{h:02}{m:02}")
    } else {
        format!("{sign}{h:02}{m:02}{s:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text() {
        assert_eq!(
            text("a,b;c\\d\ne\r\nf\rg\u{7}"),
            "a\\,b\\;c\\\\d\\ne\\nf\\ng"
        );
    }

    #[test]
    fn folds_at_75_octets_on_char_boundaries() {
        let mut l = Lines::default();
        let value = "é".repeat(100);
        l.line("SUMMARY", &value);
        let out = l.finish();
        assert!(out.ends_with("\r\n"));
        let physical: Vec<&str> = out.trim_end_matches("\r\n").split("\r\n").collect();
        assert!(physical.len() > 2);
        for p in &physical {
            assert!(p.len() <= 75, "{} octets: {p}", p.len());
        }
        assert!(physical[1..].iter().all(|p| p.starts_with(' ')));
        let unfolded: String = physical
            .iter()
            .enumerate()
            .map(|(i, p)| if i == 0 { *p } else { &p[1..] })
            .collect();
        assert_eq!(unfolded, format!("SUMMARY:{value}"));
    }

    #[test]
    fn short_lines_stay_whole() {
        let mut l = Lines::default();
        l.line("VERSION", "2.0");
        assert_eq!(l.finish(), "VERSION:2.0\r\n");
    }

    #[test]
    fn durations_and_offsets() {
        let d = |s| duration(SignedDuration::from_secs(s));
        assert_eq!(d(3600), "PT1H");
        assert_eq!(d(2700), "PT45M");
        assert_eq!(d(5400), "PT1H30M");
        assert_eq!(d(3630), "PT1H0M30S");
        assert_eq!(d(90_000), "PT25H");
        assert_eq!(d(0), "PT0S");
        assert_eq!(offset(Offset::from_seconds(3600).unwrap()), "+0100");
        assert_eq!(offset(Offset::from_seconds(-12_600).unwrap()), "-0330");
        assert_eq!(param("Europe/Paris"), "Europe/Paris");
        assert_eq!(param("a:b"), "\"a:b\"");
    }
}
