//! `/programme.ics` and `/shows/{slug}.ics`: the programme as an iCalendar subscription
//! (text built by [`crate::schedule::CalendarSpec`]), with an ETag, Last-Modified and 304
//! like the feeds.
//!
//! The calendar starts on the Monday a week before today (so last week's shows stay visible)
//! and lists occurrences that no rule expresses for 430 days from there: the bytes change
//! when the schedule is reloaded or when that Monday moves, and Last-Modified is the later of
//! the two.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::{SignedDuration, Timestamp, ToSpan};

use super::state::{HttpConfig, OnAir};
use crate::feed::conditional::{http_date, not_modified};
use crate::schedule::{CALENDAR_CONTENT_TYPE, CalendarSpec, Schedule};

/// Calendar apps refresh subscriptions every few hours at most; an hour keeps proxies useful.
const CACHE_CONTROL: &str = "public, max-age=3600";

/// How far ahead occurrences without a rule are listed, from the calendar's first day.
const LISTED_DAYS: i64 = 430;

/// `GET|HEAD /programme.ics`: every show.
pub async fn programme(
    State(on_air): State<OnAir>,
    State(config): State<Arc<HttpConfig>>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    respond(&on_air, &config, None, &method, &headers).await
}

/// The calendar of one show (`Some(slug)`, from `/shows/{slug}.ics`) or of every show.
pub async fn respond(
    on_air: &OnAir,
    config: &HttpConfig,
    show: Option<String>,
    method: &Method,
    headers: &HeaderMap,
) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET, HEAD")],
        )
            .into_response();
    }
    let (schedule, loaded_at) = {
        let s = on_air.schedule();
        (s.schedule.clone(), s.loaded_at)
    };
    if show.as_deref().is_some_and(|s| schedule.show(s).is_none()) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let from = first_day(&schedule, Timestamp::now());
    let base = config.public_url.clone();
    let rendered = tokio::task::spawn_blocking(move || {
        let spec = CalendarSpec {
            show: show.as_deref(),
            from,
            until: from
                .saturating_add(SignedDuration::from_hours(24 * LISTED_DAYS))
                .unwrap_or(from),
            stamp: loaded_at,
            base_url: &base,
        };
        schedule.calendar(&spec)
    })
    .await;
    let Ok(body) = rendered else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let etag = crate::feed::etag(body.as_bytes());
    let modified = loaded_at.max(from);
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let builder = Response::builder()
        .header(header::ETAG, &etag)
        .header(header::LAST_MODIFIED, http_date(modified))
        .header(header::CACHE_CONTROL, CACHE_CONTROL);
    let response = if not_modified(
        text(header::IF_NONE_MATCH),
        text(header::IF_MODIFIED_SINCE),
        &etag,
        modified,
    ) {
        builder.status(StatusCode::NOT_MODIFIED).body(Body::empty())
    } else {
        builder
            .header(header::CONTENT_TYPE, CALENDAR_CONTENT_TYPE)
            .header(header::CONTENT_LENGTH, body.len())
            .body(if method == Method::HEAD {
                Body::empty()
            } else {
                Body::from(body)
            })
    };
    response.unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// Local midnight of the Monday a week before `now`'s local date.
fn first_day(schedule: &Schedule, now: Timestamp) -> Timestamp {
    let tz = &schedule.station().timezone;
    let today = tz.to_datetime(now).date();
    let back = i64::from(today.weekday().to_monday_zero_offset()) + 7;
    today
        .saturating_sub(back.days())
        .to_zoned_datetime(tz.clone())
        .map_or(now, |z| z.timestamp())
}
