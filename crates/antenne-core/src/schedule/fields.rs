//! Reading values out of the spanned TOML tree: typed getters that report, never stop.
//!
//! Every getter records a positioned diagnostic on a wrong type and returns `None`, so one pass
//! over the file reports every problem. Unknown keys are reported where the key is written.

use std::ops::Range;
use std::path::{Component, Path, PathBuf};

use jiff::SignedDuration;
use jiff::civil::{Date, Time};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::checks::human;
use super::diag::{Sink, WithHint};

pub(crate) type Value<'i> = Spanned<DeValue<'i>>;

/// One TOML table being read, with the keys it accepts.
pub(crate) struct Obj<'a, 'i> {
    pub(crate) table: &'a DeTable<'i>,
    pub(crate) span: Range<usize>,
    pub(crate) what: &'static str,
}

impl<'a, 'i> Obj<'a, 'i> {
    /// Checks that `value` is a table and that every key in it is known.
    pub(crate) fn new(
        sink: &mut Sink<'_>,
        value: &'a Value<'i>,
        what: &'static str,
        known: &[&str],
    ) -> Option<Self> {
        let DeValue::Table(table) = value.get_ref() else {
            sink.error(value.span(), format!("{what} must be a table"));
            return None;
        };
        for (k, _) in table.iter() {
            let key: &str = k.get_ref();
            if !known.contains(&key) {
                let d = sink.error(k.span(), format!("unknown key `{key}` in {what}"));
                match closest(key, known.iter().copied()) {
                    Some(c) => d.hint(format!("did you mean `{c}`?")),
                    None => d.hint(format!("known keys: {}", known.join(", "))),
                }
            }
        }
        Some(Obj {
            table,
            span: value.span(),
            what,
        })
    }

    pub(crate) fn get(&self, key: &str) -> Option<&'a Value<'i>> {
        self.table.get(key)
    }

    pub(crate) fn has(&self, key: &str) -> bool {
        self.table.contains_key(key)
    }

    /// The span of `key = value` from the key to the end of the value, or the table header.
    pub(crate) fn span_of(&self, key: &str) -> Range<usize> {
        self.get(key).map_or(self.span.clone(), |v| v.span())
    }

    pub(crate) fn string(&self, sink: &mut Sink<'_>, key: &str) -> Option<(String, Range<usize>)> {
        let v = self.get(key)?;
        match v.get_ref().as_str() {
            Some(s) => Some((s.to_string(), v.span())),
            None => {
                sink.error(v.span(), format!("`{key}` must be a string"));
                None
            }
        }
    }

    pub(crate) fn required_string(
        &self,
        sink: &mut Sink<'_>,
        key: &str,
    ) -> Option<(String, Range<usize>)> {
        if !self.has(key) {
            sink.error(self.span.clone(), format!("{} needs `{key}`", self.what));
            return None;
        }
        self.string(sink, key)
    }

    pub(crate) fn boolean(&self, sink: &mut Sink<'_>, key: &str) -> Option<bool> {
        let v = self.get(key)?;
        match v.get_ref().as_bool() {
            Some(b) => Some(b),
            None => {
                sink.error(v.span(), format!("`{key}` must be true or false"));
                None
            }
        }
    }

    pub(crate) fn strings(
        &self,
        sink: &mut Sink<'_>,
        key: &str,
    ) -> Option<Vec<(String, Range<usize>)>> {
        let v = self.get(key)?;
        let DeValue::Array(items) = v.get_ref() else {
            let d = sink.error(v.span(), format!("`{key}` must be an array of strings"));
            if let Some(s) = v.get_ref().as_str() {
                d.hint(format!("write {key} = [\"{s}\"]"));
            }
            return None;
        };
        let mut out = Vec::new();
        for item in items.iter() {
            match item.get_ref().as_str() {
                Some(s) => out.push((s.to_string(), item.span())),
                None => {
                    sink.error(item.span(), format!("`{key}` must hold strings only"));
                }
            }
        }
        Some(out)
    }

    /// A `HH:MM[:SS]` string or a TOML local time.
    pub(crate) fn time(&self, sink: &mut Sink<'_>, key: &str) -> Option<(Time, Range<usize>)> {
        let v = self.get(key)?;
        let parsed = match v.get_ref() {
            DeValue::String(s) => parse_time(s),
            DeValue::Datetime(dt) if dt.date.is_none() && dt.offset.is_none() => {
                dt.time.and_then(|t| {
                    Time::new(t.hour as i8, t.minute as i8, t.second.unwrap_or(0) as i8, 0).ok()
                })
            }
            _ => None,
        };
        if parsed.is_none() {
            sink.error(
                v.span(),
                format!("`{key}` must be a local time like \"18:00\""),
            )
            .hint("24-hour clock, HH:MM or HH:MM:SS, in the station's time zone");
        }
        parsed.map(|t| (t, v.span()))
    }

    /// A `YYYY-MM-DD` string or a TOML local date.
    pub(crate) fn date(&self, sink: &mut Sink<'_>, key: &str) -> Option<(Date, Range<usize>)> {
        let v = self.get(key)?;
        date_value(sink, key, v).map(|d| (d, v.span()))
    }

    pub(crate) fn duration(
        &self,
        sink: &mut Sink<'_>,
        key: &str,
    ) -> Option<(SignedDuration, Range<usize>)> {
        let (s, span) = self.string(sink, key)?;
        match parse_duration(&s) {
            Some(d) if d.is_zero() => {
                sink.error(span, format!("`{key}` is zero: a slot must last"));
                None
            }
            Some(d) if d > SignedDuration::from_hours(24 * 7) => {
                sink.error(span, format!("`{key}` = \"{s}\" is longer than a week"));
                None
            }
            Some(d) => Some((d, span)),
            None => {
                sink.error(span, format!("bad duration \"{s}\"")).hint(
                    "write hours, minutes and seconds like \"1h\", \"45m\", \"1h30m\" or \"90s\"",
                );
                None
            }
        }
    }

    /// A length that may be zero (a crossfade, an interval): `"3s"`, `"1500ms"`, `"1h"`, at
    /// most `max`.
    pub(crate) fn length(
        &self,
        sink: &mut Sink<'_>,
        key: &str,
        max: SignedDuration,
    ) -> Option<(SignedDuration, Range<usize>)> {
        let (s, span) = self.string(sink, key)?;
        let parsed = match s.trim().strip_suffix("ms") {
            Some(n) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                n.parse::<i64>().ok().map(SignedDuration::from_millis)
            }
            _ => parse_duration(&s),
        };
        match parsed {
            Some(d) if d > max => {
                sink.error(
                    span,
                    format!("`{key}` = \"{s}\" is longer than {}", human(max)),
                );
                None
            }
            Some(d) => Some((d, span)),
            None => {
                sink.error(span, format!("bad duration \"{s}\" for `{key}`"))
                    .hint("write seconds or minutes like \"3s\", \"1500ms\", \"30m\" or \"1h\"");
                None
            }
        }
    }

    /// A path relative to `media_dir`.
    pub(crate) fn media_path(
        &self,
        sink: &mut Sink<'_>,
        key: &str,
    ) -> Option<(PathBuf, Range<usize>)> {
        let (s, span) = self.string(sink, key)?;
        match media_path(&s) {
            Ok(p) => Some((p, span)),
            Err(msg) => {
                sink.error(span, msg)
                    .hint("paths are relative to media_dir, e.g. \"beds\" for media/beds/");
                None
            }
        }
    }
}

pub(crate) fn date_value(sink: &mut Sink<'_>, key: &str, v: &Value<'_>) -> Option<Date> {
    let parsed = match v.get_ref() {
        DeValue::String(s) => s.parse::<Date>().ok().filter(|_| s.len() == 10),
        DeValue::Datetime(dt) if dt.time.is_none() => dt
            .date
            .and_then(|d| Date::new(d.year as i16, d.month as i8, d.day as i8).ok()),
        _ => None,
    };
    if parsed.is_none() {
        sink.error(v.span(), format!("`{key}` must be a date like 2026-07-14"));
    }
    parsed
}

fn parse_time(s: &str) -> Option<Time> {
    let mut parts = s.split(':');
    let mut num = |max: i8| -> Option<i8> {
        let p = parts.next()?;
        if p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        p.parse::<i8>().ok().filter(|&n| n <= max)
    };
    let h = num(23)?;
    let m = num(59)?;
    let sec = if s.len() > 5 { num(59)? } else { 0 };
    if parts.next().is_some() {
        return None;
    }
    Time::new(h, m, sec, 0).ok()
}

/// `"1h"`, `"45m"`, `"1h30m"`, `"90s"`, `"1h 30m 15s"`.
pub fn parse_duration(s: &str) -> Option<SignedDuration> {
    let mut total: i64 = 0;
    let mut num: Option<i64> = None;
    let mut any = false;
    for c in s.trim().chars() {
        match c {
            '0'..='9' => {
                let d = i64::from(c as u8 - b'0');
                num = Some(num.unwrap_or(0).checked_mul(10)?.checked_add(d)?);
            }
            'h' | 'm' | 's' => {
                let n = num.take()?;
                let unit = match c {
                    'h' => 3600,
                    'm' => 60,
                    _ => 1,
                };
                total = total.checked_add(n.checked_mul(unit)?)?;
                any = true;
            }
            ' ' if num.is_none() => {}
            _ => return None,
        }
    }
    if num.is_some() || !any {
        return None;
    }
    Some(SignedDuration::from_secs(total))
}

/// A relative path inside `media_dir`; a leading `media/` is accepted and dropped.
pub(crate) fn media_path(s: &str) -> Result<PathBuf, String> {
    let p = Path::new(s.trim_end_matches('/'));
    if s.trim().is_empty() {
        return Err("empty path".into());
    }
    let mut out = PathBuf::new();
    for (i, c) in p.components().enumerate() {
        match c {
            Component::Normal(n) if i == 0 && n == "media" && p.components().count() > 1 => {}
            Component::Normal(n) => out.push(n),
            Component::CurDir => {}
            _ => return Err(format!("path \"{s}\" leaves media_dir")),
        }
    }
    if out.as_os_str().is_empty() {
        return Err(format!("path \"{s}\" names media_dir itself"));
    }
    Ok(out)
}

/// The known word nearest to `word`, if it is close enough to be a typo.
pub(crate) fn closest<'k>(word: &str, known: impl Iterator<Item = &'k str>) -> Option<&'k str> {
    known
        .map(|k| (levenshtein(word, k), k))
        .filter(|&(d, k)| d <= 2.max(k.len() / 3))
        .min_by_key(|&(d, _)| d)
        .map(|(_, k)| k)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1h"), Some(SignedDuration::from_hours(1)));
        assert_eq!(parse_duration("1h30m"), Some(SignedDuration::from_mins(90)));
        assert_eq!(
            parse_duration("1h 30m 15s"),
            Some(SignedDuration::from_secs(5415))
        );
        assert_eq!(parse_duration("45"), None);
        assert_eq!(parse_duration("1x"), None);
        assert_eq!(parse_duration(""), None);
    }

    #[test]
    fn times() {
        assert_eq!(parse_time("02:30"), Some(Time::constant(2, 30, 0, 0)));
        assert_eq!(parse_time("23:59:59"), Some(Time::constant(23, 59, 59, 0)));
        assert_eq!(parse_time("24:00"), None);
        assert_eq!(parse_time("7:00"), None);
    }

    #[test]
    fn media_paths() {
        assert_eq!(media_path("beds"), Ok(PathBuf::from("beds")));
        assert_eq!(media_path("media/beds/"), Ok(PathBuf::from("beds")));
        assert!(media_path("../etc").is_err());
        assert!(media_path("/etc").is_err());
        assert!(media_path("media").is_ok());
    }
}
