//! Serving enclosures (episode MP3s): HEAD, `Accept-Ranges`, single ranges with 206 and
//! `Content-Range`, 416, ETag/Last-Modified/304, and a report of the bytes actually sent for
//! download counting (`feed::stats`).
//!
//! **Invariant:** a request never names a path. Routes select an episode by id and the caller
//! resolves it through the catalog; [`resolve_in`] then refuses anything that would leave the
//! media store (absolute paths, `..`, symlinks pointing out).

use std::collections::HashMap;
use std::io::{Read, Seek};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Component, Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Path as UrlPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use tokio::io::AsyncReadExt;
use tokio_util::io::ReaderStream;

use crate::catalog::EpisodeStatus;
use crate::daemon::AppState;
use crate::feed::conditional::{
    RangeOutcome, content_range, evaluate_range, file_etag, http_date, not_modified,
};
use crate::feed::stats::{EpisodeFile, Served};

/// Read size of streamed enclosure bodies: large reads keep the per-chunk overhead (a
/// blocking-pool hop each) small against the bytes moved.
const CHUNK: usize = 256 * 1024;

/// Bodies up to this size that are not in memory are read in one blocking-pool hop
/// (streaming costs a hop per chunk). Bounded memory: 1 MiB per request.
const READ_AT_ONCE: u64 = 1024 * 1024;

/// Files up to this size are kept whole in the `/media` lookup cache, within
/// [`CACHE_BUDGET`]: their requests do no file I/O and no blocking-pool hop at all.
pub const KEEP_WHOLE: u64 = 4 * 1024 * 1024;

/// Of larger files (a 30-minute episode at 128 kbps is 28.8 MB), the first bytes are kept:
/// `bytes=0-1` probes and the header reads players start with are answered from memory.
pub const KEEP_PREFIX: u64 = 64 * 1024;

/// Total file bytes the `/media` lookup cache keeps per catalog generation; past it, entries
/// keep their validators only and bodies are read from disk.
pub const CACHE_BUDGET: usize = 64 * 1024 * 1024;

/// Episode renditions never change in place (a re-ingest writes a new file), so clients and
/// proxies may keep them a day.
const CACHE_CONTROL: HeaderValue = HeaderValue::from_static("public, max-age=86400");
const BYTES: HeaderValue = HeaderValue::from_static("bytes");

/// What one response delivered, reported when its body ends or is dropped (client gone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    pub head: bool,
    pub status: u16,
    /// Offset of the first body byte.
    pub start: u64,
    /// Body bytes handed to the connection.
    pub bytes: u64,
}

/// `relative` inside `root`, or `None` if it is absolute, climbs out, or (after resolving
/// symlinks) lands outside `root` or on something other than a file.
pub fn resolve_in(root: &Path, relative: &str) -> Option<PathBuf> {
    let rel = Path::new(relative);
    if relative.is_empty() || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return None;
    }
    let root = root.canonicalize().ok()?;
    let full = root.join(rel).canonicalize().ok()?;
    (full.starts_with(&root) && full.is_file()).then_some(full)
}

/// A file's size, validators (as ready header values) and first bytes, read once.
#[derive(Debug, Clone)]
pub struct FileState {
    pub len: u64,
    pub modified: jiff::Timestamp,
    etag: HeaderValue,
    last_modified: HeaderValue,
    /// The first `kept.len()` bytes of the file: all of them for small files.
    kept: Bytes,
}

impl FileState {
    /// Reads the metadata of `file` (freshly opened, at offset 0) and keeps the whole file if
    /// it has at most `whole` bytes, else its first `prefix` bytes (blocking).
    fn read(file: &mut std::fs::File, whole: u64, prefix: u64) -> std::io::Result<Self> {
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(std::io::ErrorKind::NotFound.into());
        }
        let len = meta.len();
        let modified = modified_of(&meta);
        let keep = if len <= whole { len } else { prefix.min(len) };
        let mut data = vec![0; keep as usize];
        file.read_exact(&mut data)?;
        let invalid = |_| std::io::Error::from(std::io::ErrorKind::InvalidData);
        Ok(Self {
            len,
            modified,
            etag: HeaderValue::try_from(file_etag(len, modified)).map_err(invalid)?,
            last_modified: HeaderValue::try_from(http_date(modified)).map_err(invalid)?,
            kept: Bytes::from(data),
        })
    }

    /// The strong ETag (`"mtime-len"`, as nginx).
    pub fn etag(&self) -> &str {
        self.etag.to_str().unwrap_or("")
    }

    /// How many of the file's first bytes are in memory.
    pub fn kept(&self) -> usize {
        self.kept.len()
    }
}

fn modified_of(meta: &std::fs::Metadata) -> jiff::Timestamp {
    meta.modified()
        .ok()
        .and_then(|m| jiff::Timestamp::try_from(m).ok())
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

/// Serves `path` (already resolved with [`resolve_in`]) as `content_type`, calling `report`
/// once with what was delivered.
///
/// Opening, validating and (for bodies up to 1 MiB, such as `bytes=0-1` probes) reading
/// happen in one blocking-pool hop; larger bodies stream in 256 KiB chunks. Episode files go
/// through the `/media` route instead, which keeps this state between requests.
pub async fn serve_file(
    path: &Path,
    content_type: &'static str,
    method: &Method,
    headers: &HeaderMap,
    report: impl FnOnce(Delivery) + Send + 'static,
) -> Response {
    let Some(req) = Conditions::of(method, headers) else {
        return method_not_allowed();
    };
    // Validators and HEAD need no body: then only the metadata is read.
    let whole = if req.head || req.if_none_match.is_some() || req.if_modified_since.is_some() {
        0
    } else {
        READ_AT_ONCE
    };
    let owned = path.to_owned();
    let state = tokio::task::spawn_blocking(move || {
        FileState::read(&mut std::fs::File::open(&owned)?, whole, 0)
    })
    .await;
    let Ok(Ok(state)) = state else {
        return StatusCode::NOT_FOUND.into_response();
    };
    serve_state(path, &state, content_type, &req, report)
        .await
        .unwrap_or_else(|| StatusCode::NOT_FOUND.into_response())
}

fn method_not_allowed() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        [(header::ALLOW, "GET, HEAD")],
    )
        .into_response()
}

/// The request's method, validators and range.
struct Conditions<'a> {
    head: bool,
    if_none_match: Option<&'a str>,
    if_modified_since: Option<&'a str>,
    if_range: Option<&'a str>,
    range: Option<&'a str>,
}

impl<'a> Conditions<'a> {
    /// `None` for methods other than GET and HEAD.
    fn of(method: &Method, headers: &'a HeaderMap) -> Option<Self> {
        let head = method == Method::HEAD;
        if method != Method::GET && !head {
            return None;
        }
        let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
        Some(Self {
            head,
            if_none_match: text(header::IF_NONE_MATCH),
            if_modified_since: text(header::IF_MODIFIED_SINCE),
            if_range: text(header::IF_RANGE),
            range: text(header::RANGE),
        })
    }
}

/// What to answer, decided from the file's validators alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    NotModified,
    Unsatisfiable,
    /// 200 (whole file) or 206 with the bytes `start..=end`.
    Body {
        partial: bool,
        start: u64,
        end: u64,
    },
}

fn decide(file: &FileState, req: &Conditions<'_>) -> Answer {
    let etag = file.etag();
    if not_modified(
        req.if_none_match,
        req.if_modified_since,
        etag,
        file.modified,
    ) {
        return Answer::NotModified;
    }
    // If-Range: a range only applies to the representation the client validated.
    let range = match req.if_range {
        Some(tag) if tag.trim() != etag => None,
        _ => req.range,
    };
    match evaluate_range(range, file.len) {
        RangeOutcome::Full => Answer::Body {
            partial: false,
            start: 0,
            end: file.len.saturating_sub(1),
        },
        RangeOutcome::Partial { start, end } => Answer::Body {
            partial: true,
            start,
            end,
        },
        RangeOutcome::Unsatisfiable => Answer::Unsatisfiable,
    }
}

/// Answers `req` for the file at `path` whose `state` was read before: bodies within the
/// kept bytes come from memory, others from the file. `None` (and no report) when the file no
/// longer matches `state` or cannot be read.
async fn serve_state(
    path: &Path,
    state: &FileState,
    content_type: &'static str,
    req: &Conditions<'_>,
    report: impl FnOnce(Delivery) + Send + 'static,
) -> Option<Response> {
    let answer = decide(state, req);
    let (status, start, count) = match answer {
        Answer::NotModified => (StatusCode::NOT_MODIFIED, 0, 0),
        Answer::Unsatisfiable => (StatusCode::RANGE_NOT_SATISFIABLE, 0, 0),
        Answer::Body {
            partial,
            start,
            end,
        } => {
            let status = if partial {
                StatusCode::PARTIAL_CONTENT
            } else {
                StatusCode::OK
            };
            // An empty file has no bytes to send (end saturates at 0).
            (status, start, (end + 1 - start).min(state.len))
        }
    };
    let delivery = Delivery {
        head: req.head,
        status: status.as_u16(),
        start,
        bytes: 0,
    };
    let body = if matches!(answer, Answer::Body { .. }) && !req.head && count > 0 {
        let end = start + count;
        if end <= state.kept.len() as u64 {
            report(Delivery {
                bytes: count,
                ..delivery
            });
            Body::from(state.kept.slice(start as usize..end as usize))
        } else {
            match fetch(path, state, start, count).await? {
                Fetched::Read(data) => {
                    report(Delivery {
                        bytes: data.len() as u64,
                        ..delivery
                    });
                    Body::from(data)
                }
                Fetched::Stream(file) => Body::from_stream(Counted {
                    inner: ReaderStream::with_capacity(
                        tokio::fs::File::from_std(file).take(count),
                        CHUNK,
                    ),
                    sent: 0,
                    delivery,
                    report: Some(Box::new(report)),
                }),
            }
        }
    } else {
        report(delivery);
        Body::empty()
    };

    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::ACCEPT_RANGES, BYTES);
    headers.insert(header::ETAG, state.etag.clone());
    headers.insert(header::LAST_MODIFIED, state.last_modified.clone());
    headers.insert(header::CACHE_CONTROL, CACHE_CONTROL);
    match answer {
        Answer::NotModified => {}
        Answer::Unsatisfiable => {
            let range = HeaderValue::try_from(format!("bytes */{}", state.len)).ok()?;
            headers.insert(header::CONTENT_RANGE, range);
        }
        Answer::Body { partial, end, .. } => {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(count));
            if partial {
                let range = HeaderValue::try_from(content_range(start, end, state.len)).ok()?;
                headers.insert(header::CONTENT_RANGE, range);
            }
        }
    }
    Some(response)
}

/// A body read from disk.
enum Fetched {
    /// Up to [`READ_AT_ONCE`] bytes, read.
    Read(Bytes),
    /// More: the file, positioned at the first byte.
    Stream(std::fs::File),
}

/// `count` bytes from `start` of the file at `path`, if it still is the file `state` describes
/// (one blocking-pool hop).
async fn fetch(path: &Path, state: &FileState, start: u64, count: u64) -> Option<Fetched> {
    let (path, len, modified) = (path.to_owned(), state.len, state.modified);
    let fetched = tokio::task::spawn_blocking(move || -> std::io::Result<Option<Fetched>> {
        let mut file = std::fs::File::open(path)?;
        let meta = file.metadata()?;
        if meta.len() != len || modified_of(&meta) != modified {
            return Ok(None);
        }
        if start > 0 {
            file.seek(std::io::SeekFrom::Start(start))?;
        }
        Ok(Some(if count <= READ_AT_ONCE {
            let mut data = vec![0; count as usize];
            file.read_exact(&mut data)?;
            Fetched::Read(Bytes::from(data))
        } else {
            Fetched::Stream(file)
        }))
    })
    .await;
    fetched.ok()?.ok()?
}

type Report = Box<dyn FnOnce(Delivery) + Send>;

/// A body stream that counts the bytes it yields and reports them when dropped (end of body,
/// or the client went away mid-download).
struct Counted<S> {
    inner: S,
    sent: u64,
    delivery: Delivery,
    report: Option<Report>,
}

impl<S: Stream<Item = std::io::Result<Bytes>> + Unpin> Stream for Counted<S> {
    type Item = std::io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = Pin::new(&mut self.inner).poll_next(cx);
        if let Poll::Ready(Some(Ok(chunk))) = &polled {
            // A chunk handed to hyper is as delivered as we can know without socket acks.
            self.sent += chunk.len() as u64;
        }
        polled
    }
}

impl<S> Drop for Counted<S> {
    fn drop(&mut self) {
        if let Some(report) = self.report.take() {
            report(Delivery {
                bytes: self.sent,
                ..self.delivery
            });
        }
    }
}

/// `GET|HEAD /media/{file}`: `{id}.mp3` (the rendition), `{id}.vtt`/`{id}.srt` (transcript),
/// `{id}.chapters.json`, `{id}.png`/`{id}.jpg` (artwork) of a ready, published episode. The
/// name only selects an episode; its files come from the catalog record.
///
/// A cached lookup ([`MediaCache`]) carries the file's validators and bytes, so a repeated
/// request does no catalog read, no file I/O and no blocking-pool hop unless its body lies
/// beyond the bytes kept in memory.
pub async fn media(
    State(state): State<AppState>,
    UrlPath(file): UrlPath<String>,
    request: Request,
) -> Response {
    let Some((id, kind)) = parse_media_name(&file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (parts, _) = request.into_parts();
    let Some(req) = Conditions::of(&parts.method, &parts.headers) else {
        return method_not_allowed();
    };
    let ip = parts
        .extensions
        .get::<ConnectInfo<super::conn::PeerAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.0.ip());
    let user_agent = parts.headers.get(header::USER_AGENT).cloned();
    // The second round follows a file that changed under a cached lookup.
    for fresh in [false, true] {
        let generation = state.catalog_generation();
        let cached = (!fresh)
            .then(|| state.media_cache().get(&file, generation))
            .flatten();
        let found = match cached {
            Some(found) => found,
            None => {
                let (id, st) = (id.to_owned(), state.clone());
                let found = tokio::task::spawn_blocking(move || locate(&st, &id, kind)).await;
                let Ok(Some(found)) = found else {
                    return StatusCode::NOT_FOUND.into_response();
                };
                state.media_cache().put(file.clone(), generation, found)
            }
        };
        let report = {
            let (state, found, user_agent) = (state.clone(), found.clone(), user_agent.clone());
            move |d: Delivery| {
                let Some(file) = &found.episode else { return };
                let user_agent = user_agent.as_ref().and_then(|v| v.to_str().ok());
                state.observe_download(
                    file,
                    &Served {
                        head: d.head,
                        status: d.status,
                        start: d.start,
                        bytes: d.bytes,
                        ip,
                        user_agent: user_agent.unwrap_or(""),
                    },
                );
            }
        };
        if let Some(response) =
            serve_state(&found.path, &found.file, found.mime, &req, report).await
        {
            return response;
        }
        state.media_cache().remove(&file);
    }
    StatusCode::NOT_FOUND.into_response()
}

/// A located episode file: its path and type, for audio what download counting needs, and the
/// file's state as read when it was located.
#[derive(Debug)]
pub struct Located {
    pub path: PathBuf,
    pub mime: &'static str,
    pub episode: Option<EpisodeFile>,
    pub file: FileState,
}

/// Lookups of `/media` names with the files' validators and (within [`CACHE_BUDGET`]) bytes,
/// kept until the catalog changes (in-process changes clear it at once; [`CACHE_TTL`] bounds
/// staleness after writes from another process). Only files that exist are kept, so unknown
/// names cannot grow it.
#[derive(Debug, Default)]
pub struct MediaCache {
    inner: Mutex<CacheInner>,
}

#[derive(Debug, Default)]
struct CacheInner {
    /// The catalog generation the entries belong to.
    generation: u64,
    /// File bytes held by the entries.
    kept: usize,
    /// Lookups by media name, with when each was made.
    entries: HashMap<String, (Arc<Located>, Instant)>,
}

impl CacheInner {
    fn remove(&mut self, name: &str) {
        if let Some((old, _)) = self.entries.remove(name) {
            self.kept -= old.file.kept();
        }
    }
}

/// How long a cached lookup is trusted without a catalog notification.
pub const CACHE_TTL: Duration = Duration::from_secs(60);

impl MediaCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, CacheInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The lookup of media name `name` made under catalog `generation`, if still fresh.
    pub fn get(&self, name: &str, generation: u64) -> Option<Arc<Located>> {
        let mut inner = self.lock();
        if inner.generation != generation {
            *inner = CacheInner {
                generation,
                ..CacheInner::default()
            };
            return None;
        }
        match inner.entries.get(name) {
            Some((found, at)) if at.elapsed() < CACHE_TTL => Some(found.clone()),
            _ => None,
        }
    }

    /// Keeps `found` for `name` (when `generation` is still current), with as many of its
    /// bytes as the budget allows, and returns it.
    pub fn put(&self, name: String, generation: u64, mut found: Located) -> Arc<Located> {
        let mut inner = self.lock();
        if inner.generation != generation {
            return Arc::new(found);
        }
        inner.remove(&name);
        if inner.kept + found.file.kept() > CACHE_BUDGET {
            // Expired lookups give their bytes back first (misses only: at most one per name
            // per TTL).
            inner.entries.retain(|_, (_, at)| at.elapsed() < CACHE_TTL);
            inner.kept = inner.entries.values().map(|(f, _)| f.file.kept()).sum();
        }
        let room = CACHE_BUDGET.saturating_sub(inner.kept);
        let kept = &found.file.kept;
        if kept.len() > room {
            // A copy, so that the larger buffer is freed.
            let prefix = (KEEP_PREFIX as usize).min(kept.len());
            found.file.kept = if prefix <= room {
                Bytes::copy_from_slice(&kept[..prefix])
            } else {
                Bytes::new()
            };
        }
        inner.kept += found.file.kept();
        let found = Arc::new(found);
        inner.entries.insert(name, (found.clone(), Instant::now()));
        found
    }

    /// Forgets the lookup of `name`.
    pub fn remove(&self, name: &str) {
        self.lock().remove(name);
    }

    /// File bytes held in memory.
    pub fn kept_bytes(&self) -> usize {
        self.lock().kept
    }
}

/// Which file of an episode a media name asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    Audio,
    Vtt,
    Srt,
    Chapters,
    Png,
    Jpg,
}

/// `{id}.{ext}` with an id of ASCII letters, digits and dashes (catalog ids are UUIDs), or
/// `None`: nothing else is ever looked up.
pub fn parse_media_name(name: &str) -> Option<(&str, MediaKind)> {
    let (id, kind) = if let Some(id) = name.strip_suffix(".chapters.json") {
        (id, MediaKind::Chapters)
    } else {
        let (id, ext) = name.split_once('.')?;
        let kind = match ext {
            "mp3" => MediaKind::Audio,
            "vtt" => MediaKind::Vtt,
            "srt" => MediaKind::Srt,
            "png" => MediaKind::Png,
            "jpg" => MediaKind::Jpg,
            _ => return None,
        };
        (id, kind)
    };
    let valid = !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    valid.then_some((id, kind))
}

/// The file (inside the data folder) and type of `kind` for episode `id`, and for audio what
/// download counting needs; `None` when there is no such ready, published file (blocking).
fn locate(state: &AppState, id: &str, kind: MediaKind) -> Option<Located> {
    let ep = state.catalog().episode(id).ok()??;
    if ep.status != EpisodeStatus::Ready || !ep.published {
        return None;
    }
    let transcript = |want: &str| {
        (ep.transcript_type.as_deref() == Some(want))
            .then_some(ep.transcript_path.as_deref())
            .flatten()
    };
    let artwork = |want: &str| {
        ep.artwork_path
            .as_deref()
            .filter(|p| crate::daemon::feeds::artwork_ext(p) == want)
    };
    let (rel, mime) = match kind {
        MediaKind::Audio => (ep.rendition_path.as_deref()?, "audio/mpeg"),
        MediaKind::Vtt => (transcript("text/vtt")?, "text/vtt; charset=utf-8"),
        MediaKind::Srt => (transcript("application/x-subrip")?, "application/x-subrip"),
        MediaKind::Chapters => (ep.chapters_path.as_deref()?, "application/json+chapters"),
        MediaKind::Png => (artwork("png")?, "image/png"),
        MediaKind::Jpg => (artwork("jpg")?, "image/jpeg"),
    };
    let path = resolve_in(&state.settings().data_dir, rel)?;
    let mut opened = std::fs::File::open(&path).ok()?;
    let file = FileState::read(&mut opened, KEEP_WHOLE, KEEP_PREFIX).ok()?;
    let episode = (kind == MediaKind::Audio).then(|| {
        let length = file.len;
        let header_bytes = match file.kept.get(..10) {
            Some(first) => first.try_into().ok().and_then(id3_size_of),
            None => None,
        };
        let header_bytes = header_bytes.unwrap_or(0).min(length);
        let audio = length - header_bytes;
        let bytes_per_second = match ep.duration_ms {
            Some(ms) if ms >= 1000 => audio * 1000 / ms,
            _ => u64::from(state.settings().bitrate_kbps) * 125,
        };
        EpisodeFile {
            id: ep.id.clone(),
            length,
            header_bytes,
            bytes_per_second: bytes_per_second.max(1),
        }
    });
    Some(Located {
        path,
        mime,
        episode,
        file,
    })
}

/// Size of the leading ID3v2 tag of the file at `path` (header, syncsafe size, footer), or
/// `None` without one.
pub fn id3_size(path: &Path) -> Option<u64> {
    use std::io::Read;
    let mut header = [0u8; 10];
    std::fs::File::open(path)
        .ok()?
        .read_exact(&mut header)
        .ok()?;
    id3_size_of(&header)
}

/// [`id3_size`] of a file's first ten bytes.
pub fn id3_size_of(header: &[u8; 10]) -> Option<u64> {
    if &header[..3] != b"ID3" || header[6..].iter().any(|b| b & 0x80 != 0) {
        return None;
    }
    let size = header[6..]
        .iter()
        .fold(0u64, |acc, &b| (acc << 7) | u64::from(b));
    let footer = if header[5] & 0x10 != 0 { 10 } else { 0 };
    Some(10 + size + footer)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::http::HeaderValue;
    use http_body_util::BodyExt;

    use super::*;

    struct Fixture {
        _dir: tempfile::TempDir,
        root: PathBuf,
        file: PathBuf,
        data: Vec<u8>,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("renditions");
        std::fs::create_dir(&root).unwrap();
        let data: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
        let file = root.join("ep-1.mp3");
        std::fs::write(&file, &data).unwrap();
        std::fs::write(dir.path().join("secret.txt"), b"no").unwrap();
        Fixture {
            root,
            file,
            data,
            _dir: dir,
        }
    }

    async fn get(
        f: &Fixture,
        method: Method,
        headers: &[(&'static str, &str)],
    ) -> (Response, Vec<u8>, Vec<Delivery>) {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.append(*k, HeaderValue::from_str(v).unwrap());
        }
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = log.clone();
        let resp = serve_file(&f.file, "audio/mpeg", &method, &map, move |d| {
            sink.lock().unwrap().push(d)
        })
        .await;
        let (parts, body) = resp.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes().to_vec();
        let deliveries = log.lock().unwrap().clone();
        (
            Response::from_parts(parts, Body::empty()),
            bytes,
            deliveries,
        )
    }

    fn h<'a>(r: &'a Response, name: &str) -> &'a str {
        r.headers().get(name).map_or("", |v| v.to_str().unwrap())
    }

    #[tokio::test]
    async fn full_head_and_ranges() {
        let f = fixture();
        let (r, body, d) = get(&f, Method::GET, &[]).await;
        assert_eq!(
            (r.status(), body.as_slice()),
            (StatusCode::OK, f.data.as_slice())
        );
        assert_eq!(
            (h(&r, "accept-ranges"), h(&r, "content-length")),
            ("bytes", "1000")
        );
        assert_eq!(
            d,
            [Delivery {
                head: false,
                status: 200,
                start: 0,
                bytes: 1000
            }]
        );

        let (r, body, d) = get(&f, Method::HEAD, &[]).await;
        assert_eq!(
            (r.status(), body.len(), h(&r, "content-length")),
            (StatusCode::OK, 0, "1000")
        );
        assert!(d[0].head);

        let (r, body, d) = get(&f, Method::GET, &[("range", "bytes=0-1")]).await;
        assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(
            (h(&r, "content-range"), body.as_slice()),
            ("bytes 0-1/1000", &f.data[..2])
        );
        assert_eq!(
            d,
            [Delivery {
                head: false,
                status: 206,
                start: 0,
                bytes: 2
            }]
        );

        let (r, body, _) = get(&f, Method::GET, &[("range", "bytes=990-")]).await;
        assert_eq!(
            (h(&r, "content-range"), body.as_slice()),
            ("bytes 990-999/1000", &f.data[990..])
        );

        let (r, body, d) = get(&f, Method::GET, &[("range", "bytes=1000-")]).await;
        assert_eq!(
            (r.status(), h(&r, "content-range"), body.len()),
            (StatusCode::RANGE_NOT_SATISFIABLE, "bytes */1000", 0)
        );
        assert_eq!(d[0].status, 416);
    }

    #[tokio::test]
    async fn validators() {
        let f = fixture();
        let (r, _, _) = get(&f, Method::GET, &[]).await;
        let etag = h(&r, "etag").to_owned();
        let (r, body, d) = get(&f, Method::GET, &[("if-none-match", &etag)]).await;
        assert_eq!(
            (r.status(), body.len(), d[0].status),
            (StatusCode::NOT_MODIFIED, 0, 304)
        );
        // If-Range with a stale validator: the whole (new) file, not a range of it.
        let (r, body, _) = get(
            &f,
            Method::GET,
            &[("range", "bytes=0-1"), ("if-range", "\"stale\"")],
        )
        .await;
        assert_eq!((r.status(), body.len()), (StatusCode::OK, 1000));
        let (r, _, _) = get(
            &f,
            Method::GET,
            &[("range", "bytes=0-1"), ("if-range", &etag)],
        )
        .await;
        assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    }

    /// Serves `f` from a state read once that keeps `whole`/`prefix` bytes in memory.
    async fn get_kept(
        f: &Fixture,
        state: &FileState,
        headers: &[(&'static str, &str)],
    ) -> Option<(StatusCode, String, Vec<u8>, Vec<Delivery>)> {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.append(*k, HeaderValue::from_str(v).unwrap());
        }
        let req = Conditions::of(&Method::GET, &map).unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = log.clone();
        let resp = serve_state(&f.file, state, "audio/mpeg", &req, move |d| {
            sink.lock().unwrap().push(d)
        })
        .await?;
        let range = h(&resp, "content-range").to_owned();
        let status = resp.status();
        let body = resp
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        let deliveries = log.lock().unwrap().clone();
        Some((status, range, body, deliveries))
    }

    #[tokio::test]
    async fn kept_bytes_and_disk_agree() {
        let f = fixture();
        let open = || std::fs::File::open(&f.file).unwrap();
        let whole = FileState::read(&mut open(), KEEP_WHOLE, KEEP_PREFIX).unwrap();
        assert_eq!((whole.len, whole.kept()), (1000, 1000));
        let prefix = FileState::read(&mut open(), 100, 16).unwrap();
        assert_eq!(prefix.kept(), 16);
        let bare = FileState::read(&mut open(), 0, 0).unwrap();
        assert_eq!(bare.kept(), 0);
        assert_eq!((whole.etag(), prefix.etag()), (bare.etag(), bare.etag()));
        for state in [&whole, &prefix, &bare] {
            let (status, _, body, d) = get_kept(&f, state, &[]).await.unwrap();
            assert_eq!(
                (status, body.as_slice()),
                (StatusCode::OK, f.data.as_slice())
            );
            assert_eq!(d[0].bytes, 1000);
            for (range, from, to) in [
                ("bytes=0-1", 0, 2),
                ("bytes=10-20", 10, 21),
                ("bytes=-5", 995, 1000),
            ] {
                let (status, content_range, body, d) =
                    get_kept(&f, state, &[("range", range)]).await.unwrap();
                assert_eq!(status, StatusCode::PARTIAL_CONTENT);
                assert_eq!(content_range, format!("bytes {from}-{}/1000", to - 1));
                assert_eq!(body.as_slice(), &f.data[from..to], "{range}");
                assert_eq!((d[0].start, d[0].bytes), (from as u64, (to - from) as u64));
            }
        }
        // The file changed since its state was read: no answer from that state (the route
        // looks the file up again), unless the body is in memory already.
        std::fs::write(&f.file, b"shorter").unwrap();
        assert!(get_kept(&f, &bare, &[]).await.is_none());
        assert!(
            get_kept(&f, &prefix, &[("range", "bytes=500-")])
                .await
                .is_none()
        );
        let (_, _, body, _) = get_kept(&f, &prefix, &[("range", "bytes=0-1")])
            .await
            .unwrap();
        assert_eq!(body.as_slice(), &f.data[..2]);
    }

    #[test]
    fn cache_budget_and_generations() {
        let f = fixture();
        let located = |kept: usize| Located {
            path: f.file.clone(),
            mime: "audio/mpeg",
            episode: None,
            file: FileState {
                kept: Bytes::from(vec![7; kept]),
                ..FileState::read(&mut std::fs::File::open(&f.file).unwrap(), 0, 0).unwrap()
            },
        };
        let cache = MediaCache::default();
        assert!(cache.get("a.mp3", 1).is_none());
        let big = CACHE_BUDGET - 1000;
        assert_eq!(cache.put("a.mp3".into(), 1, located(big)).file.kept(), big);
        assert_eq!(cache.get("a.mp3", 1).unwrap().file.kept(), big);
        // Over budget: a prefix if it fits, else nothing; the lookup is kept either way.
        let b = cache.put("b.mp3".into(), 1, located(2000));
        assert_eq!(b.file.kept(), 0);
        assert!(cache.get("b.mp3", 1).is_some());
        cache.remove("a.mp3");
        assert_eq!(cache.kept_bytes(), 0);
        let p = KEEP_PREFIX as usize;
        assert_eq!(cache.put("c.mp3".into(), 1, located(big)).file.kept(), big);
        assert_eq!(cache.put("d.mp3".into(), 1, located(p * 3)).file.kept(), 0);
        // Replacing an entry returns its bytes to the budget.
        assert_eq!(cache.put("c.mp3".into(), 1, located(10)).file.kept(), 10);
        assert_eq!(
            cache.put("d.mp3".into(), 1, located(p * 3)).file.kept(),
            p * 3
        );
        assert_eq!(cache.kept_bytes(), 10 + p * 3);
        // A new catalog generation forgets everything; a lookup made under the old one is
        // served but not kept.
        assert!(cache.get("c.mp3", 2).is_none());
        assert_eq!(cache.kept_bytes(), 0);
        cache.put("e.mp3".into(), 1, located(10));
        assert!(cache.get("e.mp3", 2).is_none());
    }

    #[test]
    fn nothing_outside_the_store() {
        let f = fixture();
        assert_eq!(
            resolve_in(&f.root, "ep-1.mp3"),
            Some(f.file.canonicalize().unwrap())
        );
        for hostile in [
            "",
            "../secret.txt",
            "/etc/passwd",
            "a/../../secret.txt",
            ".",
            "./ep-1.mp3",
            "nope.mp3",
        ] {
            assert_eq!(resolve_in(&f.root, hostile), None, "{hostile}");
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(
                f.root.parent().unwrap().join("secret.txt"),
                f.root.join("link.mp3"),
            )
            .unwrap();
            assert_eq!(
                resolve_in(&f.root, "link.mp3"),
                None,
                "symlink out of the store"
            );
        }
    }

    #[test]
    fn id3_sizes() {
        let tag = |flags: u8, size: [u8; 4]| {
            let mut h = *b"ID3\x04\x00\x00\x00\x00\x00\x00";
            h[5] = flags;
            h[6..].copy_from_slice(&size);
            h
        };
        assert_eq!(id3_size_of(&tag(0, [0, 0, 0, 0])), Some(10));
        assert_eq!(id3_size_of(&tag(0, [0, 0, 2, 1])), Some(10 + 257));
        assert_eq!(id3_size_of(&tag(0x10, [0, 0, 0, 5])), Some(25), "footer");
        assert_eq!(id3_size_of(&tag(0, [0, 0, 0x80, 0])), None, "not syncsafe");
        assert_eq!(
            id3_size_of(b"\xff\xfb\x90\x00\x00\x00\x00\x00\x00\x00"),
            None
        );
    }

    #[test]
    fn media_names() {
        use MediaKind::*;
        let id = "0b8f2a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
        for (name, expected) in [
            (format!("{id}.mp3"), Some((id, Audio))),
            (format!("{id}.vtt"), Some((id, Vtt))),
            (format!("{id}.srt"), Some((id, Srt))),
            (format!("{id}.chapters.json"), Some((id, Chapters))),
            (format!("{id}.png"), Some((id, Png))),
            (format!("{id}.jpg"), Some((id, Jpg))),
            (format!("{id}.mp3.mp3"), None),
            (format!("{id}.wav"), None),
            ("..".into(), None),
            ("..%2f.mp3".into(), None),
            ("../catalog.sqlite3".into(), None),
            (".mp3".into(), None),
            ("a/b.mp3".into(), None),
        ] {
            assert_eq!(parse_media_name(&name), expected, "{name}");
        }
    }
}
