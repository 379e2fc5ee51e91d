//! `GET /api/schedule` (occurrences between two instants) and `GET /api/now` (what is on air
//! and what comes next).

use axum::Json;
use axum::extract::{Query, State};
use jiff::{SignedDuration, Timestamp};

use super::hls::HlsAccess;
use super::state::OnAir;
use super::{ApiError, wire};

/// Longest interval one request may expand (a year, as the schedule's own checks).
const MAX_SPAN: SignedDuration = SignedDuration::from_hours(24 * 366);

#[derive(Debug, serde::Deserialize)]
pub struct Range {
    from: Option<String>,
    to: Option<String>,
}

/// `from`/`to` as RFC 3339 instants or local dates (`2026-12-01`, midnight in the station's
/// zone); default: now to seven days later.
pub async fn schedule(
    State(on_air): State<OnAir>,
    Query(q): Query<Range>,
) -> Result<Json<Vec<serde_json::Value>>, ApiError> {
    let schedule = on_air.current_schedule();
    let tz = schedule.station().timezone.clone();
    let from = match &q.from {
        Some(s) => {
            parse_instant(s, &tz).map_err(|e| ApiError::Invalid(vec![("from".into(), e)]))?
        }
        None => Timestamp::now(),
    };
    let to = match &q.to {
        Some(s) => parse_instant(s, &tz).map_err(|e| ApiError::Invalid(vec![("to".into(), e)]))?,
        None => from + SignedDuration::from_hours(24 * 7),
    };
    if to <= from || to.duration_since(from) > MAX_SPAN {
        return Err(ApiError::Invalid(vec![(
            "to".into(),
            "must be after `from`, at most 366 days later".into(),
        )]));
    }
    let list = schedule
        .occurrences(from, to)
        .iter()
        .map(|o| wire::occurrence(&schedule, o))
        .collect();
    Ok(Json(list))
}

/// What is on air now (from the playout: the show and episode, or the fallback), the next
/// scheduled occurrence, and the listener count.
pub async fn now(
    State(on_air): State<OnAir>,
    State(hls): State<HlsAccess>,
) -> Json<serde_json::Value> {
    let schedule = on_air.current_schedule();
    let tz = &schedule.station().timezone;
    let t = Timestamp::now();
    let np = on_air.now_playing();
    // Before the engine renders its first block there is nothing on air yet.
    let now = (np.started_at != Timestamp::UNIX_EPOCH).then(|| {
        serde_json::json!({
            "show": np.show,
            "show_title": np.show_title,
            "title": np.stream_title(),
            "episode_id": np.episode_id,
            "kind": np.kind,
            "start": wire::rfc3339(tz, np.started_at),
            "end": wire::rfc3339(tz, np.ends_at),
        })
    });
    let next = schedule
        .occurrences(t, t + SignedDuration::from_hours(24 * 15))
        .into_iter()
        .find(|o| o.start > t)
        .map(|o| wire::occurrence(&schedule, &o));
    Json(serde_json::json!({
        "station": schedule.station().name,
        "time": wire::rfc3339(tz, t),
        "now": now,
        "next": next,
        "listeners": on_air.hub().listeners(),
        "listeners_by_output": listeners_by_output(&on_air, &hls),
        "hls": hls.0.as_ref().map(|_| "/hls/live.m3u8"),
    }))
}

/// Listeners per output: each mount's (by its name) and HLS sessions (estimated from playlist
/// fetches, `http::hls`).
pub fn listeners_by_output(
    on_air: &OnAir,
    hls: &HlsAccess,
) -> serde_json::Map<String, serde_json::Value> {
    let mut by = serde_json::Map::new();
    for mount in on_air.mounts() {
        by.insert(mount.name.clone(), mount.hub.listeners().into());
    }
    if let Some(hls) = &hls.0 {
        by.insert("hls".into(), hls.sessions().into());
    }
    by
}

fn parse_instant(s: &str, tz: &jiff::tz::TimeZone) -> Result<Timestamp, String> {
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(t);
    }
    let date: jiff::civil::Date = s
        .parse()
        .map_err(|_| format!("{s:?} is neither an RFC 3339 instant nor a date (YYYY-MM-DD)"))?;
    tz.to_ambiguous_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
        .compatible()
        .map_err(|e| e.to_string())
}
