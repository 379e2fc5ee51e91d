//! Range, conditional-request and date rules for feeds and enclosures (RFC 9110).

use antenne::feed::conditional::{
    RangeOutcome, content_range, evaluate_range, file_etag, http_date, not_modified,
    parse_http_date,
};
use jiff::Timestamp;

fn check_range(header: Option<&str>, len: u64, expected: RangeOutcome) {
    assert_eq!(
        evaluate_range(header, len),
        expected,
        "{header:?} over {len} bytes"
    );
}

#[test]
fn ranges() {
    use RangeOutcome::*;
    let len = 1000;
    check_range(None, len, Full);
    check_range(Some("bytes=0-1"), len, Partial { start: 0, end: 1 });
    check_range(Some("bytes=0-"), len, Partial { start: 0, end: 999 });
    check_range(
        Some("bytes=500-"),
        len,
        Partial {
            start: 500,
            end: 999,
        },
    );
    check_range(
        Some("bytes=999-999"),
        len,
        Partial {
            start: 999,
            end: 999,
        },
    );
    check_range(
        Some("bytes=990-5000"),
        len,
        Partial {
            start: 990,
            end: 999,
        },
    );
    check_range(
        Some("bytes=-100"),
        len,
        Partial {
            start: 900,
            end: 999,
        },
    );
    check_range(Some("bytes=-5000"), len, Partial { start: 0, end: 999 });
    check_range(
        Some(" bytes= 10 - 20 "),
        len,
        Partial { start: 10, end: 20 },
    );
    check_range(Some("bytes=1000-"), len, Unsatisfiable);
    check_range(Some("bytes=1000-1001"), len, Unsatisfiable);
    check_range(Some("bytes=-0"), len, Unsatisfiable);
    check_range(Some("bytes=0-1"), 0, Unsatisfiable);
    check_range(Some("bytes=99999999999999999999999-"), len, Unsatisfiable);
    check_range(
        Some("bytes=0-99999999999999999999999"),
        len,
        Partial { start: 0, end: 999 },
    );
    // Ignored, as RFC 9110 requires of what it cannot honour: whole body.
    check_range(Some("bytes=20-10"), len, Full);
    check_range(Some("bytes=0-1,5-6"), len, Full);
    check_range(Some("items=0-1"), len, Full);
    check_range(Some("bytes=abc"), len, Full);
    check_range(Some("bytes=-"), len, Full);
    check_range(Some("bytes=1-x"), len, Full);
    assert_eq!(content_range(0, 1, 1000), "bytes 0-1/1000");
}

#[test]
fn conditionals() {
    let modified: Timestamp = "2026-11-28T10:00:00Z".parse().unwrap();
    let etag = "\"abc\"";
    for (inm, ims, expected) in [
        (Some("\"abc\""), None, true),
        (Some("W/\"abc\""), None, true),
        (Some("\"x\", \"abc\""), None, true),
        (Some("*"), None, true),
        (Some("\"abd\""), None, false),
        // If-None-Match wins over a matching If-Modified-Since.
        (
            Some("\"abd\""),
            Some("Sat, 28 Nov 2026 10:00:00 GMT"),
            false,
        ),
        (None, Some("Sat, 28 Nov 2026 10:00:00 GMT"), true),
        (None, Some("Sat, 28 Nov 2026 11:00:00 GMT"), true),
        (None, Some("Sat, 28 Nov 2026 09:59:59 GMT"), false),
        (None, Some("Sat, 28 Nov 2026 11:00:00 +0100"), true),
        (None, Some("not a date"), false),
        (None, None, false),
    ] {
        assert_eq!(
            not_modified(inm, ims, etag, modified),
            expected,
            "{inm:?} {ims:?}"
        );
    }
    // Sub-second modification times compare at HTTP's one-second precision.
    let fractional: Timestamp = "2026-11-28T10:00:00.7Z".parse().unwrap();
    assert!(not_modified(
        None,
        Some(&http_date(fractional)),
        etag,
        fractional
    ));
}

#[test]
fn dates_and_etags() {
    let t: Timestamp = "2026-11-28T10:00:00Z".parse().unwrap();
    assert_eq!(http_date(t), "Sat, 28 Nov 2026 10:00:00 GMT");
    assert_eq!(parse_http_date(&http_date(t)), Some(t));
    assert_eq!(file_etag(1000, t), format!("\"{:x}-3e8\"", t.as_second()));
    assert_ne!(file_etag(1000, t), file_etag(1001, t));
}
