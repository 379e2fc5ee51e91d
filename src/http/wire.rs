//! Wire types shared by the JSON API and the CLI's `--json` output: one definition of how a
//! schedule occurrence or an instant looks on the wire.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::schedule::{Occurrence, Play, Schedule};

/// RFC 3339 with the station's offset, to the second.
pub fn rfc3339(tz: &TimeZone, t: Timestamp) -> String {
    t.to_zoned_datetime(tz.clone())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// An occurrence as JSON: `id`, `show`, `title`, `slot`, `start`, `end` (RFC 3339 with
/// offset), `play`, and `path`/`shuffle` when it plays a folder or file.
pub fn occurrence(s: &Schedule, o: &Occurrence) -> serde_json::Value {
    let tz = &s.station().timezone;
    let mut v = serde_json::json!({
        "id": o.id,
        "show": o.show,
        "title": s.show(&o.show).map(|sh| sh.title.as_str()),
        "slot": o.slot,
        "start": rfc3339(tz, o.start),
        "end": rfc3339(tz, o.end),
        "play": o.play.kind(),
        "exception": o.exceptional,
    });
    if let Some(p) = o.play.path() {
        v["path"] = p.display().to_string().into();
    }
    if let Play::Playlist { shuffle, .. } = &o.play {
        v["shuffle"] = (*shuffle).into();
    }
    v
}
