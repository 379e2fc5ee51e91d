//! The HTTP rules of serving feeds and enclosures that need no HTTP library: byte ranges
//! (RFC 9110 section 14), conditional requests (section 13) and HTTP dates.
//!
//! `http` maps these outcomes onto axum responses; keeping them here makes every edge case a
//! plain function test.

use jiff::Timestamp;
use jiff::fmt::rfc2822::DateTimePrinter;

/// What to answer a `Range` header with, for a representation of `len` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeOutcome {
    /// No (usable) range: 200 with the whole body.
    Full,
    /// 206 with bytes `start..=end` (inclusive, as in `Content-Range`).
    Partial { start: u64, end: u64 },
    /// 416 with `Content-Range: bytes */len`.
    Unsatisfiable,
}

/// Evaluates one `Range` header value against a body of `len` bytes.
///
/// Only single ranges are honoured; a multi-range request gets the whole body (RFC 9110
/// allows ignoring `Range`), which every podcast client handles. A malformed header is
/// ignored too, as the RFC requires; a well-formed range past the end is 416.
pub fn evaluate_range(header: Option<&str>, len: u64) -> RangeOutcome {
    let Some(header) = header else {
        return RangeOutcome::Full;
    };
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
        return RangeOutcome::Full;
    };
    if spec.contains(',') {
        return RangeOutcome::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeOutcome::Full;
    };
    let (first, last) = (first.trim(), last.trim());
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match (digits(first), digits(last)) {
        // bytes=N-M and bytes=N-
        (true, _) if last.is_empty() || digits(last) => {
            let Ok(start) = first.parse::<u64>() else {
                return RangeOutcome::Unsatisfiable;
            };
            let end = if last.is_empty() {
                u64::MAX
            } else {
                last.parse::<u64>().unwrap_or(u64::MAX)
            };
            if end < start {
                RangeOutcome::Full
            } else if start >= len {
                RangeOutcome::Unsatisfiable
            } else {
                RangeOutcome::Partial {
                    start,
                    end: end.min(len - 1),
                }
            }
        }
        // bytes=-N: the last N bytes
        (false, true) if first.is_empty() => {
            let suffix = last.parse::<u64>().unwrap_or(u64::MAX);
            if suffix == 0 || len == 0 {
                RangeOutcome::Unsatisfiable
            } else {
                RangeOutcome::Partial {
                    start: len.saturating_sub(suffix),
                    end: len - 1,
                }
            }
        }
        _ => RangeOutcome::Full,
    }
}

/// Whether a GET/HEAD with these validators may be answered `304 Not Modified`.
///
/// `If-None-Match` wins when present (weak comparison, lists, `*`); otherwise
/// `If-Modified-Since` is compared at one-second precision. An unparsable date is ignored.
pub fn not_modified(
    if_none_match: Option<&str>,
    if_modified_since: Option<&str>,
    etag: &str,
    last_modified: Timestamp,
) -> bool {
    if let Some(inm) = if_none_match {
        let ours = strip_weak(etag);
        return inm
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || strip_weak(tag) == ours);
    }
    match if_modified_since.and_then(parse_http_date) {
        Some(since) => last_modified.as_second() <= since.as_second(),
        None => false,
    }
}

fn strip_weak(tag: &str) -> &str {
    tag.strip_prefix("W/").unwrap_or(tag)
}

/// An IMF-fixdate (`Sat, 28 Nov 2026 10:00:00 GMT`), as `Last-Modified` wants.
pub fn http_date(t: Timestamp) -> String {
    DateTimePrinter::new()
        .timestamp_to_rfc9110_string(&t)
        .expect("served files have 4-digit years")
}

/// Parses an HTTP date (IMF-fixdate, or any RFC 2822 date clients send).
pub fn parse_http_date(s: &str) -> Option<Timestamp> {
    jiff::fmt::rfc2822::parse(s.trim())
        .ok()
        .map(|z| z.timestamp())
}

/// `Content-Range` of a 206.
pub fn content_range(start: u64, end: u64, len: u64) -> String {
    format!("bytes {start}-{end}/{len}")
}

/// A strong ETag for a file from its size and modification time (what nginx does), so
/// serving an enclosure never reads the whole file to validate it.
pub fn file_etag(len: u64, modified: Timestamp) -> String {
    format!("\"{:x}-{:x}\"", modified.as_second(), len)
}
