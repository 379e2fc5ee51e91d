//! Resumable uploads: the [tus 1.0](https://tus.io/protocols/resumable-upload) core protocol
//! with the `creation` and `termination` extensions, under `/api/uploads`. A volunteer on a
//! weak connection sends a 500 MB file in pieces; after a cut, `HEAD` says how far the
//! server got and the next `PATCH` continues from there.
//!
//! - `POST /api/uploads` with `Upload-Length` and `Upload-Metadata` (tus' base64 pairs:
//!   `show`, `title`, `description`, `date`, `season`, `episode`, `filename`): the metadata is
//!   validated at once (`422` per field, `403` for another show's token, `413` beyond the
//!   limit), then `201` with `Location: /api/uploads/{uid}`.
//! - `HEAD /api/uploads/{uid}`: `Upload-Offset` and `Upload-Length`.
//! - `PATCH /api/uploads/{uid}` (`Content-Type: application/offset+octet-stream`, matching
//!   `Upload-Offset`, else `409`): the body is appended as it arrives and fsynced before the
//!   new offset is answered; bytes received before a cut connection are kept. The `PATCH`
//!   that completes the upload stores the episode (as `POST /api/episodes` does) and answers
//!   `204` with `Antenne-Episode: {id}` and `Location: /api/episodes/{id}`; a later `HEAD`
//!   answers the same headers, so a lost answer costs nothing.
//! - `DELETE /api/uploads/{uid}`: abandons the upload.
//!
//! Only the token that created an upload (or an operator) may touch it. Data lives in
//! `data_dir/uploads/{uid}.tus` with its state in `{uid}.json`.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use axum::extract::{Path as UrlPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::StreamExt;

use super::ApiError;
use super::auth::Auth;
use super::episodes::status_path;
use super::state::Intake;
use super::upload::{io_error, store_error};
use crate::ingest::intake::{self, Stored, UPLOADS_DIR};

const TUS_VERSION: &str = "1.0.0";
const OFFSET_CT: &str = "application/offset+octet-stream";

/// What is kept between requests about one upload.
#[cfg(test)]
mod tests {
    #[test]
    fn base64_decodes_tus_metadata() {
        assert_eq!(
            super::base64_decode("w6lwaXNvZGUgMQ==").unwrap(),
            "épisode 1".as_bytes()
        );
        assert_eq!(super::base64_decode("YQ").unwrap(), b"a");
        assert_eq!(super::base64_decode("").unwrap(), b"");
        assert!(super::base64_decode("a*b").is_none());
    }
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct UploadState {
    token: String,
    length: u64,
    fields: Vec<(String, String)>,
    original_name: Option<String>,
    /// Set once the upload is complete and stored.
    episode_id: Option<String>,
}

fn paths(data_dir: &Path, uid: &str) -> Option<(PathBuf, PathBuf)> {
    // The uid is ours (a UUID); anything else never reaches the file system.
    uuid::Uuid::parse_str(uid).ok()?;
    let dir = data_dir.join(UPLOADS_DIR);
    Some((
        dir.join(format!("{uid}.tus")),
        dir.join(format!("{uid}.json")),
    ))
}

fn tus_headers(h: &mut HeaderMap) {
    h.insert("tus-resumable", HeaderValue::from_static(TUS_VERSION));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

fn with_tus(mut resp: Response) -> Response {
    tus_headers(resp.headers_mut());
    resp
}

fn header_u64(h: &HeaderMap, name: &str) -> Option<u64> {
    h.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// `412` unless the client speaks tus 1.0.0.
fn version_refused(h: &HeaderMap) -> Option<Response> {
    match h.get("tus-resumable").and_then(|v| v.to_str().ok()) {
        Some(TUS_VERSION) => None,
        _ => {
            let mut resp = (
                StatusCode::PRECONDITION_FAILED,
                axum::Json(serde_json::json!({ "error": "send Tus-Resumable: 1.0.0" })),
            )
                .into_response();
            resp.headers_mut()
                .insert("tus-version", HeaderValue::from_static(TUS_VERSION));
            Some(with_tus(resp))
        }
    }
}

/// `OPTIONS /api/uploads`: what this server supports.
pub async fn options(State(state): State<Intake>) -> Response {
    let mut resp = StatusCode::NO_CONTENT.into_response();
    let h = resp.headers_mut();
    tus_headers(h);
    h.insert("tus-version", HeaderValue::from_static(TUS_VERSION));
    h.insert(
        "tus-extension",
        HeaderValue::from_static("creation,termination"),
    );
    h.insert("tus-max-size", HeaderValue::from(state.upload_limit_bytes));
    resp
}

/// Parses tus `Upload-Metadata`: `key base64value,key2 base64value2`. Public (as
/// `http::parse_tus_metadata`) so the fuzz targets feed it exactly what `POST /api/uploads` does.
pub fn parse_metadata(raw: &str) -> Result<Vec<(String, String)>, ApiError> {
    let mut out = Vec::new();
    for pair in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once(' ').unwrap_or((pair, ""));
        let bytes = base64_decode(v.trim())
            .ok_or(())
            .map_err(|_| ApiError::BadRequest(format!("Upload-Metadata: {k} is not base64")))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| ApiError::Invalid(vec![(k.to_string(), "must be UTF-8 text".into())]))?;
        out.push((k.to_string(), text));
    }
    Ok(out)
}

/// Standard base64 (padding optional), as tus metadata uses; `None` on a bad character.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes().filter(|&c| c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// `POST /api/uploads`: creates an upload (see the module doc).
pub async fn create(
    State(state): State<Intake>,
    auth: Auth,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(r) = version_refused(&headers) {
        return Ok(r);
    }
    let limit = state.upload_limit_bytes;
    let Some(length) = header_u64(&headers, "upload-length") else {
        return Err(ApiError::BadRequest(
            "Upload-Length is required (deferred length is not supported)".into(),
        ));
    };
    if length > limit {
        return Err(ApiError::TooLarge(limit));
    }
    let raw = headers
        .get("upload-metadata")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let fields = parse_metadata(raw)?;
    let mut errors = Vec::new();
    if length == 0 {
        errors.push(("file".to_string(), "the file is empty".to_string()));
    }
    let meta = intake::validate(&fields, state.known_shows().as_deref());
    match &meta {
        Err(e) => errors.extend(e.iter().cloned()),
        Ok(m) => auth.require_show(&m.show)?,
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let original_name = fields
        .iter()
        .find(|(k, _)| k == "filename")
        .map(|(_, v)| v.chars().filter(|c| !c.is_control()).take(255).collect());
    let uid = uuid::Uuid::new_v4().to_string();
    let (data, meta_path) = paths(state.catalog().data_dir(), &uid).expect("a fresh uuid");
    let st = UploadState {
        token: auth.0.name.clone(),
        length,
        fields,
        original_name,
        episode_id: None,
    };
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        std::fs::create_dir_all(data.parent().expect("under uploads"))?;
        let created = std::fs::File::create_new(&data)
            .and_then(|f| f.sync_all())
            .and_then(|()| save_state(&meta_path, &st));
        if created.is_err() {
            // A full disk: no half-created upload stays behind.
            let _ = std::fs::remove_file(&data);
            let _ = std::fs::remove_file(&meta_path);
        }
        created
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))?
    .map_err(io_error)?;
    let loc = format!("/api/uploads/{uid}");
    tracing::info!(upload = %uid, length, token = %auth.0.name, "resumable upload created");
    Ok(with_tus(
        (StatusCode::CREATED, [(header::LOCATION, loc)]).into_response(),
    ))
}

fn save_state(path: &Path, st: &UploadState) -> std::io::Result<()> {
    let json = serde_json::to_vec(st).map_err(std::io::Error::other)?;
    intake::write_durably(path, &json)
}

/// The state of an upload this token may touch, and its data file's current length.
async fn load(
    state: &Intake,
    auth: &Auth,
    uid: &str,
) -> Result<(UploadState, PathBuf, PathBuf, u64), ApiError> {
    let (data, meta) = paths(state.catalog().data_dir(), uid).ok_or(ApiError::NotFound)?;
    let (st, offset) = {
        let (data, meta) = (data.clone(), meta.clone());
        tokio::task::spawn_blocking(move || -> std::io::Result<Option<(UploadState, u64)>> {
            let bytes = match std::fs::read(&meta) {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(e),
            };
            let st: UploadState = serde_json::from_slice(&bytes).map_err(std::io::Error::other)?;
            let offset = match std::fs::metadata(&data) {
                Ok(m) => m.len(),
                // Completed: the data moved to the originals.
                Err(_) if st.episode_id.is_some() => st.length,
                // A crash between storing the episode and saving its id (or a swept upload):
                // gone. Uploading again is answered with the stored episode (a duplicate).
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(e),
            };
            Ok(Some((st, offset)))
        })
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
        .map_err(io_error)?
        .ok_or(ApiError::NotFound)?
    };
    if st.token != auth.0.name && !auth.0.is_operator() {
        return Err(ApiError::NotFound);
    }
    Ok((st, data, meta, offset))
}

fn offset_headers(resp: &mut Response, st: &UploadState, offset: u64) {
    let h = resp.headers_mut();
    tus_headers(h);
    h.insert("upload-offset", HeaderValue::from(offset));
    h.insert("upload-length", HeaderValue::from(st.length));
    if let Some(id) = &st.episode_id {
        if let Ok(v) = HeaderValue::from_str(id) {
            h.insert("antenne-episode", v);
        }
        if let Ok(v) = HeaderValue::from_str(&status_path(id)) {
            h.insert(header::LOCATION, v);
        }
    }
}

/// `HEAD /api/uploads/{uid}`: how far the upload got.
pub async fn head(
    State(state): State<Intake>,
    auth: Auth,
    UrlPath(uid): UrlPath<String>,
) -> Result<Response, ApiError> {
    let (mut st, data, meta_path, offset) = load(&state, &auth, &uid).await?;
    if st.episode_id.is_none() && offset == st.length {
        // Every byte arrived but a crash cut the completion short: a client seeing the full
        // offset sends nothing more, so complete it now.
        let _writing = Writing::claim(&uid)
            .ok_or_else(|| ApiError::Conflict("another request is writing this upload".into()))?;
        complete(&state, &auth, &mut st, &data, &meta_path, None).await?;
    }
    let mut resp = StatusCode::OK.into_response();
    offset_headers(&mut resp, &st, offset);
    Ok(resp)
}

/// Uploads being written right now: one `PATCH` at a time per upload.
static WRITING: Mutex<Option<HashSet<String>>> = Mutex::new(None);

struct Writing(String);

impl Writing {
    fn claim(uid: &str) -> Option<Writing> {
        let mut set = WRITING.lock().unwrap_or_else(|p| p.into_inner());
        set.get_or_insert_with(HashSet::new)
            .insert(uid.to_string())
            .then(|| Writing(uid.to_string()))
    }
}

impl Drop for Writing {
    fn drop(&mut self) {
        let mut set = WRITING.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = set.as_mut() {
            s.remove(&self.0);
        }
    }
}

/// `PATCH /api/uploads/{uid}`: appends the body at `Upload-Offset`.
pub async fn patch(
    State(state): State<Intake>,
    auth: Auth,
    UrlPath(uid): UrlPath<String>,
    req: Request,
) -> Result<Response, ApiError> {
    if let Some(r) = version_refused(req.headers()) {
        return Ok(r);
    }
    let ct = req.headers().get(header::CONTENT_TYPE);
    if ct.and_then(|v| v.to_str().ok()) != Some(OFFSET_CT) {
        return Ok(with_tus(
            (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                axum::Json(
                    serde_json::json!({ "error": format!("send Content-Type: {OFFSET_CT}") }),
                ),
            )
                .into_response(),
        ));
    }
    let claimed = header_u64(req.headers(), "upload-offset")
        .ok_or_else(|| ApiError::BadRequest("Upload-Offset is required".into()))?;
    let (mut st, data, meta_path, offset) = load(&state, &auth, &uid).await?;
    let _writing = Writing::claim(&uid)
        .ok_or_else(|| ApiError::Conflict("another request is writing this upload".into()))?;
    if claimed != offset {
        let mut resp = ApiError::Conflict(format!(
            "Upload-Offset is {claimed} but the server has {offset} bytes: resume from there"
        ))
        .into_response();
        offset_headers(&mut resp, &st, offset);
        return Ok(resp);
    }
    if st.episode_id.is_none() {
        let mut hashed = None;
        if offset < st.length {
            let room = st.length - offset;
            if header_u64(req.headers(), "content-length").is_some_and(|n| n > room) {
                return Err(ApiError::BadRequest(format!(
                    "the body goes past Upload-Length: {room} bytes remain"
                )));
            }
            // An upload sent in one PATCH from its first byte is hashed as it is written, so
            // completing it does not read the whole file back.
            let written =
                append(&data, req.into_body().into_data_stream(), room, offset == 0).await?;
            let new_offset = offset + written.bytes;
            if let Some(e) = written.error {
                // A cut connection: what arrived is kept (and fsynced) for the next PATCH.
                tracing::info!(upload = %uid, offset = new_offset, error = %e, "upload interrupted");
                let mut resp = ApiError::BadRequest(e).into_response();
                offset_headers(&mut resp, &st, new_offset);
                return Ok(resp);
            }
            if new_offset < st.length {
                let mut resp = StatusCode::NO_CONTENT.into_response();
                offset_headers(&mut resp, &st, new_offset);
                return Ok(resp);
            }
            hashed = written.hashed;
        }
        // Complete: store it as an episode (also when every byte arrived before a crash cut
        // the completion short).
        complete(&state, &auth, &mut st, &data, &meta_path, hashed).await?;
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    offset_headers(&mut resp, &st, st.length);
    Ok(resp)
}

/// Stores a complete upload as an episode and records its id in the upload's state.
async fn complete(
    state: &Intake,
    auth: &Auth,
    st: &mut UploadState,
    data: &Path,
    meta_path: &Path,
    hashed: Option<(String, Vec<u8>)>,
) -> Result<(), ApiError> {
    let episode = match finish(state, auth, st, data, hashed).await {
        Ok(e) => e,
        Err(e) => {
            // Refused (not audio, gone from the show...): the upload is over either way.
            let _ = tokio::fs::remove_file(data).await;
            let _ = tokio::fs::remove_file(meta_path).await;
            return Err(e);
        }
    };
    st.episode_id = Some(episode);
    let (meta_path, saved) = (meta_path.to_path_buf(), st.clone());
    tokio::task::spawn_blocking(move || save_state(&meta_path, &saved))
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
        .map_err(io_error)
}

/// Hashes, sniffs and stores a complete upload; the episode's id.
async fn finish(
    state: &Intake,
    auth: &Auth,
    st: &UploadState,
    data: &Path,
    hashed: Option<(String, Vec<u8>)>,
) -> Result<String, ApiError> {
    let mut meta =
        intake::validate(&st.fields, state.known_shows().as_deref()).map_err(ApiError::Invalid)?;
    auth.require_show(&meta.show)?;
    meta.original_name = st.original_name.clone();
    let catalog = state.catalog().clone();
    let data = data.to_path_buf();
    let stored = tokio::task::spawn_blocking(move || {
        let staged = match hashed {
            Some((sha256, head)) => intake::Staged {
                bytes: std::fs::metadata(&data)?.len(),
                path: data,
                sha256,
                container: intake::Container::sniff(&head),
            },
            None => intake::stage_existing(&data)?,
        };
        intake::store(&catalog, staged, &meta, jiff::Timestamp::now())
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))?;
    match stored.map_err(store_error)? {
        Stored::Created(e) => {
            state.ingest_queued();
            tracing::info!(episode = %e.id, show = %e.show, bytes = e.original_bytes, token = %auth.0.name, "resumable upload stored");
            Ok(e.id)
        }
        Stored::Requeued(e) if auth.0.may_use(&e.show) => {
            state.ingest_queued();
            Ok(e.id)
        }
        Stored::Duplicate(e) if e.published && auth.0.may_use(&e.show) => Ok(e.id),
        Stored::Duplicate(e) | Stored::Requeued(e) => Err(ApiError::Conflict(format!(
            "this recording was already uploaded as episode {} (deleted or another show's)",
            e.id
        ))),
    }
}

struct Appended {
    bytes: u64,
    error: Option<String>,
    /// The whole file's sha256 and first bytes, when it was written from offset 0.
    hashed: Option<(String, Vec<u8>)>,
}

/// Appends a body to `path` on a blocking thread, at most `room` bytes; fsyncs before
/// returning, whether the body ended or broke.
async fn append(
    path: &Path,
    mut body: axum::body::BodyDataStream,
    room: u64,
    from_start: bool,
) -> Result<Appended, ApiError> {
    use sha2::Digest;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(8);
    let path = path.to_path_buf();
    type Written = (u64, Option<(String, Vec<u8>)>);
    let writer = tokio::task::spawn_blocking(move || -> std::io::Result<Written> {
        let mut f = std::fs::OpenOptions::new().append(true).open(&path)?;
        let mut n = 0u64;
        let mut hash =
            from_start.then(|| (sha2::Sha256::new(), Vec::with_capacity(intake::SNIFF_LEN)));
        while let Some(chunk) = rx.blocking_recv() {
            f.write_all(&chunk)?;
            if let Some((h, head)) = hash.as_mut() {
                h.update(&chunk);
                let k = (intake::SNIFF_LEN - head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..k]);
            }
            n += chunk.len() as u64;
        }
        f.sync_data()?;
        Ok((n, hash.map(|(h, head)| (hex::encode(h.finalize()), head))))
    });
    let mut sent = 0u64;
    let mut error = None;
    while let Some(chunk) = body.next().await {
        match chunk {
            Ok(mut c) => {
                if sent + c.len() as u64 > room {
                    c.truncate((room - sent) as usize);
                    error = Some(format!(
                        "the body goes past Upload-Length: {room} bytes remained"
                    ));
                }
                sent += c.len() as u64;
                if tx.send(c).await.is_err() || error.is_some() {
                    break;
                }
            }
            Err(e) => {
                error = Some(format!("the connection broke: {e}"));
                break;
            }
        }
    }
    drop(tx);
    let (bytes, hashed) = writer
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
        .map_err(io_error)?;
    let hashed = hashed.filter(|_| error.is_none());
    Ok(Appended {
        bytes,
        error,
        hashed,
    })
}

/// `DELETE /api/uploads/{uid}`: abandons an upload (tus termination).
pub async fn terminate(
    State(state): State<Intake>,
    auth: Auth,
    UrlPath(uid): UrlPath<String>,
) -> Result<Response, ApiError> {
    let (_, data, meta, _) = load(&state, &auth, &uid).await?;
    let _writing = Writing::claim(&uid)
        .ok_or_else(|| ApiError::Conflict("another request is writing this upload".into()))?;
    let _ = tokio::fs::remove_file(&data).await;
    let _ = tokio::fs::remove_file(&meta).await;
    Ok(with_tus(StatusCode::NO_CONTENT.into_response()))
}
