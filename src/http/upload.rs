//! `POST /api/episodes`: a multipart upload streamed to disk.
//!
//! Fields: `file` (the recording), `show`, `title`, optional `description`, `date`
//! (YYYY-MM-DD), `season`, `episode`, `transcript` (WebVTT or SRT), `chapters` (JSON chapters).
//! Send `show` before `file`: a token that may not upload to that show is then refused (`403`)
//! before a byte of audio is stored.
//!
//! - The size limit (`upload_limit_bytes`) applies to the recording; the other fields may add
//!   up to [`FORM_ALLOWANCE`]. A `Content-Length` beyond both is answered `413` before the
//!   body is read; a body without one (chunked) is cut off with `413` as soon as the
//!   recording passes the limit.
//! - The recording goes to disk chunk by chunk through a bounded pipe (memory stays flat
//!   whatever the size), hashed on the way ([`crate::ingest::intake`]).
//! - `202 Accepted`, `Location: /api/episodes/{id}` and `{"id", "status": "queued", ...}`.
//! - **Duplicates**: the same recording (sha256) uploaded again answers `200 OK` with the
//!   existing episode's `id`, `status` and `"duplicate": true` (so a volunteer retrying after a
//!   lost answer gets the same episode, not an error); `409 Conflict` with its `id` when that
//!   episode was deleted (its id is never reused) or belongs to a show this token may not use.

use axum::Json;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use serde_json::json;

use super::ApiError;
use super::auth::Auth;
use super::episodes::status_path;
use super::state::Intake;
use crate::catalog::Episode;
use crate::ingest::intake::{self, MAX_SIDE_FILE_BYTES, StagerHandle, StoreError, Stored};

/// Bytes the non-audio fields may add to a request on top of the recording.
pub const FORM_ALLOWANCE: u64 = 3 * MAX_SIDE_FILE_BYTES as u64;

/// `POST /api/episodes` (see the module doc).
pub async fn create(
    State(state): State<Intake>,
    auth: Auth,
    req: Request,
) -> Result<Response, ApiError> {
    let limit = state.upload_limit_bytes;
    if let Some(len) = content_length(req.headers())
        && len > limit.saturating_add(FORM_ALLOWANCE)
    {
        return Err(ApiError::TooLarge(limit));
    }
    let boundary = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| multer::parse_boundary(ct).ok())
        .ok_or_else(|| {
            ApiError::BadRequest("expected Content-Type: multipart/form-data; boundary=...".into())
        })?;
    let body = OneChunkAtATime::new(req.into_body().into_data_stream());
    let multipart = multer::Multipart::new(body, boundary);
    let mut stage = None;
    let received = receive(&state, &auth, multipart, limit, &mut stage).await;
    let (fields, original_name) = match received {
        Ok(r) => r,
        Err(e) => {
            if let Some(h) = stage.take() {
                h.abort().await;
            }
            return Err(e);
        }
    };
    let known = state.known_shows();
    let mut meta = intake::validate(&fields, known.as_deref());
    if stage.is_none() {
        let missing = ("file".to_string(), "required: the recording".to_string());
        meta = match meta {
            Ok(_) => Err(vec![missing]),
            Err(mut errs) => {
                errs.insert(0, missing);
                Err(errs)
            }
        };
    }
    let (mut meta, handle) = match (meta, stage) {
        (Ok(m), Some(h)) => (m, h),
        (Err(errs), h) => {
            if let Some(h) = h {
                h.abort().await;
            }
            return Err(ApiError::Invalid(errs));
        }
        (Ok(_), None) => unreachable!("a missing file is an error above"),
    };
    if let Err(e) = auth.require_show(&meta.show) {
        handle.abort().await;
        return Err(e);
    }
    meta.original_name = original_name;
    let staged = handle.finish().await.map_err(io_error)?;
    let catalog = state.catalog().clone();
    let stored = tokio::task::spawn_blocking(move || {
        intake::store(&catalog, staged, &meta, jiff::Timestamp::now())
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))?;
    match stored {
        Ok(Stored::Created(e)) => {
            state.ingest_queued();
            tracing::info!(episode = %e.id, show = %e.show, bytes = e.original_bytes, token = %auth.0.name, "upload stored");
            Ok(accepted(&e))
        }
        Ok(Stored::Duplicate(e)) => Ok(duplicate(&auth, &e)),
        Ok(Stored::Requeued(e)) => {
            state.ingest_queued();
            Ok(duplicate(&auth, &e))
        }
        Err(e) => Err(store_error(e)),
    }
}

/// Reads every field; the recording is staged as it arrives. Returns the text fields and the
/// client's file name.
async fn receive(
    state: &Intake,
    auth: &Auth,
    mut multipart: multer::Multipart<'static>,
    limit: u64,
    stage: &mut Option<StagerHandle>,
) -> Result<(Vec<(String, String)>, Option<String>), ApiError> {
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut original_name = None;
    let interrupted = |e: multer::Error| {
        ApiError::BadRequest(format!("the upload was interrupted or malformed: {e}"))
    };
    while let Some(mut field) = multipart.next_field().await.map_err(interrupted)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            if stage.is_some() {
                return Err(ApiError::Invalid(vec![(
                    "file".into(),
                    "send one recording per upload".into(),
                )]));
            }
            // Refuse another show's upload before storing its audio, when `show` came first.
            if let Some((_, show)) = fields.iter().rev().find(|(k, _)| k == "show") {
                auth.require_show(show.trim())?;
            }
            original_name = field
                .file_name()
                .map(|n| n.chars().filter(|c| !c.is_control()).take(255).collect());
            let handle = intake::spawn_stager(state.catalog().data_dir()).map_err(io_error)?;
            let handle = stage.insert(handle);
            let mut bytes = 0u64;
            while let Some(chunk) = field.chunk().await.map_err(interrupted)? {
                bytes += chunk.len() as u64;
                if bytes > limit {
                    return Err(ApiError::TooLarge(limit));
                }
                if handle.send(chunk).await.is_err() {
                    // The writer stopped: its error says why.
                    let h = stage.take().expect("inserted above");
                    return Err(match h.finish().await {
                        Err(e) => io_error(e),
                        Ok(_) => ApiError::Internal(anyhow::anyhow!("staging stopped")),
                    });
                }
            }
        } else {
            let mut text = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(interrupted)? {
                if text.len() + chunk.len() > MAX_SIDE_FILE_BYTES {
                    return Err(ApiError::Invalid(vec![(
                        name,
                        format!("larger than {MAX_SIDE_FILE_BYTES} bytes"),
                    )]));
                }
                text.extend_from_slice(&chunk);
            }
            let text = String::from_utf8(text).map_err(|_| {
                ApiError::Invalid(vec![(name.clone(), "must be UTF-8 text".into())])
            })?;
            fields.push((name, text));
        }
    }
    Ok((fields, original_name))
}

/// Hands the multipart parser one chunk per poll. multer reads every chunk that is ready into
/// its buffer before parsing any: a body that is always ready (a fast client on loopback, a
/// generated stream) would otherwise be buffered whole in memory.
struct OneChunkAtATime<S> {
    inner: S,
    yielded: bool,
}

impl<S> OneChunkAtATime<S> {
    fn new(inner: S) -> Self {
        OneChunkAtATime {
            inner,
            yielded: false,
        }
    }
}

impl<S: Stream + Unpin> Stream for OneChunkAtATime<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        if self.yielded {
            self.yielded = false;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let next = Pin::new(&mut self.inner).poll_next(cx);
        if matches!(next, Poll::Ready(Some(_))) {
            self.yielded = true;
        }
        next
    }
}

fn content_length(h: &HeaderMap) -> Option<u64> {
    h.get(header::CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}

/// `202` with the episode's status location.
pub(super) fn accepted(e: &Episode) -> Response {
    let loc = status_path(&e.id);
    (
        StatusCode::ACCEPTED,
        [(header::LOCATION, loc.clone())],
        Json(json!({
            "id": e.id,
            "status": e.status.as_str(),
            "show": e.show,
            "title": e.title,
            "location": loc,
        })),
    )
        .into_response()
}

/// The same recording again: `200` with the existing episode, or `409` (see the module doc).
pub(super) fn duplicate(auth: &Auth, e: &Episode) -> Response {
    let loc = status_path(&e.id);
    if e.published && auth.0.may_use(&e.show) {
        (
            StatusCode::OK,
            [(header::LOCATION, loc.clone())],
            Json(json!({
                "id": e.id,
                "status": e.status.as_str(),
                "duplicate": true,
                "location": loc,
            })),
        )
            .into_response()
    } else {
        let why = if e.published {
            "this recording was already uploaded to another show"
        } else {
            "this recording was already uploaded, then deleted; its episode id is not reused"
        };
        (
            StatusCode::CONFLICT,
            Json(json!({ "error": why, "id": e.id })),
        )
            .into_response()
    }
}

pub(super) fn io_error(e: std::io::Error) -> ApiError {
    if crate::ingest::is_disk_full(&e) {
        ApiError::InsufficientStorage
    } else {
        ApiError::Internal(anyhow::Error::new(e).context("staging an upload"))
    }
}

pub(super) fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::NotAudio | StoreError::Empty => {
            ApiError::Invalid(vec![("file".into(), e.to_string())])
        }
        StoreError::Io(io) => io_error(io),
        // Uploads are staged from the request, never read from a file of their own.
        StoreError::Source(io) => ApiError::Internal(io.into()),
        StoreError::Catalog(c) if c.is_disk_full() => ApiError::InsufficientStorage,
        StoreError::Catalog(c) => ApiError::Internal(c.into()),
    }
}
