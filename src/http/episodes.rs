//! The episodes API: `GET /api/episodes` (published episodes), `GET /api/episodes/{id}`
//! (status, progress, loudness report or error), `PATCH` (metadata edits) and `DELETE`
//! (unpublish; the id, which is the feed guid, is never reused). The upload itself
//! (`POST`) is in [`super::upload`].
//!
//! A token limited to some shows may edit and delete its shows' episodes; an operator token
//! any episode.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::ApiError;
use super::auth::Auth;
use super::state::CatalogAccess;
use crate::catalog::{Episode, EpisodeQuery, EpisodeStatus, Loudness, MetadataPatch};
use crate::ingest::intake;

/// Where an episode's published MP3 is served (the feed's enclosure URL path).
pub fn audio_path(id: &str) -> String {
    format!("/media/{id}.mp3")
}

/// Where an episode's status is (the upload's `Location`).
pub fn status_path(id: &str) -> String {
    format!("/api/episodes/{id}")
}

fn loudness_json(l: &Loudness) -> Value {
    json!({
        "integrated_lufs": l.integrated_lufs,
        "loudness_range_lu": l.loudness_range_lu,
        "true_peak_dbtp": l.true_peak_dbtp,
        "sample_peak_dbfs": l.sample_peak_dbfs,
    })
}

/// The JSON of one episode, as every endpoint answers it.
pub fn episode_json(e: &Episode, progress: Option<f64>) -> Value {
    let ready = e.status == EpisodeStatus::Ready;
    let progress = match e.status {
        EpisodeStatus::Ready => Some(1.0),
        EpisodeStatus::Queued => Some(0.0),
        _ => progress,
    };
    let loudness = match (&e.before, &e.after) {
        (Some(b), Some(a)) => json!({
            "before": loudness_json(b),
            "after": loudness_json(a),
            "gain_db": e.gain_db,
        }),
        _ => Value::Null,
    };
    json!({
        "id": e.id,
        "show": e.show,
        "title": e.title,
        "description": e.description,
        "date": e.date,
        "season": e.season,
        "episode": e.episode,
        "status": e.status.as_str(),
        "progress": progress,
        "error": e.error,
        "published": e.published,
        "original": {
            "name": e.original_name,
            "bytes": e.original_bytes,
            "sha256": e.original_sha256,
        },
        "duration_s": e.duration_ms.map(|ms| ms as f64 / 1000.0),
        "loudness": loudness,
        "audio_url": ready.then(|| audio_path(&e.id)),
        "audio_bytes": e.rendition_bytes,
        "has_transcript": e.transcript_path.is_some(),
        "has_chapters": e.chapters_path.is_some(),
        "created_at": e.created_at.to_string(),
        "updated_at": e.updated_at.to_string(),
        "ready_at": e.ready_at.map(|t| t.to_string()),
    })
}

#[derive(Debug, serde::Deserialize)]
pub struct ListQuery {
    show: Option<String>,
    status: Option<String>,
    limit: Option<u32>,
    offset: Option<u32>,
}

/// `GET /api/episodes?show=&status=&limit=&offset=`: published episodes, newest first.
pub async fn list(
    State(state): State<CatalogAccess>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some("queued") => Some(EpisodeStatus::Queued),
        Some("processing") => Some(EpisodeStatus::Processing),
        Some("ready") => Some(EpisodeStatus::Ready),
        Some("failed") => Some(EpisodeStatus::Failed),
        Some(other) => {
            return Err(ApiError::Invalid(vec![(
                "status".into(),
                format!("{other:?} is not one of queued, processing, ready, failed"),
            )]));
        }
    };
    let query = EpisodeQuery {
        show: q.show.filter(|s| !s.is_empty()),
        status,
        include_unpublished: false,
        limit: Some(q.limit.unwrap_or(100).min(1000)),
        offset: q.offset.unwrap_or(0),
    };
    let (episodes, downloads) = state
        .with_catalog(move |c| Ok((c.list_episodes(&query)?, c.download_counts()?)))
        .await?;
    let items: Vec<Value> = episodes
        .iter()
        .map(|e| {
            let mut v = episode_json(e, None);
            v["downloads"] = downloads.get(&e.id).copied().unwrap_or(0).into();
            v
        })
        .collect();
    Ok(Json(json!({ "episodes": items })))
}

/// A published episode, or 404.
async fn published(state: &CatalogAccess, id: String) -> Result<Episode, ApiError> {
    state
        .with_catalog(move |c| c.episode(&id))
        .await?
        .filter(|e| e.published)
        .ok_or(ApiError::NotFound)
}

/// `GET /api/episodes/{id}`: status, progress and the loudness report or the error.
pub async fn get_one(
    State(state): State<CatalogAccess>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let e = published(&state, id).await?;
    let progress = if e.status == EpisodeStatus::Processing {
        let id = e.id.clone();
        state.with_catalog(move |c| c.job_progress(&id)).await?
    } else {
        None
    };
    Ok(Json(episode_json(&e, progress)))
}

/// `PATCH /api/episodes/{id}` with a JSON object of `title`, `description`, `date`, `season`,
/// `episode` (`null` clears the optional ones).
pub async fn patch(
    State(state): State<CatalogAccess>,
    auth: Auth,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let e = published(&state, id).await?;
    auth.require_show(&e.show)?;
    let patch = parse_patch(&body).map_err(ApiError::Invalid)?;
    let id = e.id.clone();
    let updated = state
        .with_catalog(move |c| c.update_metadata(&id, &patch, jiff::Timestamp::now()))
        .await?
        .ok_or(ApiError::NotFound)?;
    // Feeds and the enclosure lookup follow the catalog.
    state.changed();
    Ok(Json(episode_json(&updated, None)))
}

/// Validates a PATCH body with the same rules as an upload; every bad field reported at once.
fn parse_patch(body: &[u8]) -> Result<MetadataPatch, Vec<(String, String)>> {
    let one = |m: &str| vec![("body".to_string(), m.to_string())];
    let v: Value = serde_json::from_slice(body).map_err(|e| one(&format!("not JSON: {e}")))?;
    let Some(obj) = v.as_object() else {
        return Err(one("expected a JSON object of the fields to change"));
    };
    let mut errors = Vec::new();
    let mut patch = MetadataPatch::default();
    let mut fields = Vec::new();
    for (k, v) in obj {
        let text = match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Null => None,
            _ => {
                errors.push((k.clone(), "must be text, a number or null".into()));
                continue;
            }
        };
        match (k.as_str(), text) {
            ("title" | "description", None) => {
                errors.push((k.clone(), "cannot be null".into()));
            }
            ("title" | "description" | "date" | "season" | "episode", Some(t)) => {
                fields.push((k.clone(), t));
            }
            ("date", None) => patch.date = Some(None),
            ("season", None) => patch.season = Some(None),
            ("episode", None) => patch.episode = Some(None),
            _ => errors.push((
                k.clone(),
                "unknown field (known: title, description, date, season, episode)".into(),
            )),
        }
    }
    // Validate against the upload rules with a placeholder show and title where absent.
    let mut probe = vec![
        ("show".to_string(), "x".to_string()),
        ("title".to_string(), "x".to_string()),
    ];
    probe.extend(fields.iter().cloned());
    match intake::validate(&probe, None) {
        Ok(m) => {
            for (k, _) in &fields {
                match k.as_str() {
                    "title" => patch.title = Some(m.title.clone()),
                    "description" => patch.description = Some(m.description.clone()),
                    "date" => patch.date = Some(m.date.clone()),
                    "season" => patch.season = Some(m.season),
                    "episode" => patch.episode = Some(m.episode),
                    _ => {}
                }
            }
        }
        Err(errs) => errors.extend(errs),
    }
    // An empty title is "absent" to the upload rules; here it is an error.
    for (k, t) in &fields {
        if k == "title" && t.trim().is_empty() {
            errors.push(("title".into(), "cannot be empty".into()));
        }
    }
    if errors.is_empty() {
        Ok(patch)
    } else {
        Err(errors)
    }
}

/// `DELETE /api/episodes/{id}`: unpublishes (leaves the feeds and listings); `204`.
pub async fn delete(
    State(state): State<CatalogAccess>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let e = published(&state, id).await?;
    auth.require_show(&e.show)?;
    let id = e.id.clone();
    let done = state
        .with_catalog(move |c| c.unpublish(&id, jiff::Timestamp::now()))
        .await?;
    if !done {
        return Err(ApiError::NotFound);
    }
    state.changed();
    tracing::info!(episode = %e.id, token = %auth.0.name, "episode unpublished");
    Ok(StatusCode::NO_CONTENT.into_response())
}
