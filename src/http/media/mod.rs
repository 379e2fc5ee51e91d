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

use super::splice::{FileBytes, MIN_SPLICE};
use super::state::{CatalogAccess, MediaFiles};
use crate::catalog::EpisodeStatus;
use crate::feed::conditional::{
    RangeOutcome, content_range, evaluate_range, file_etag, http_date, not_modified,
};
use crate::feed::stats::{EpisodeFile, Served};

/// Read size of streamed enclosure bodies: large reads keep the per-chunk overhead (a
/// blocking-pool hop each) small against the bytes moved.
const CHUNK: usize = 256 * 1024;

/// Chunk of a mapped rendition's body: each costs hyper a poll and our count an update,
/// and bounds how much a listener who leaves can be counted for beyond what they took.
const MAPPED_CHUNK: usize = 1024 * 1024;

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
    /// The file they were read from, open, when bodies of kept bytes may be sent from it
    /// with `sendfile` (renditions: never changed in place; see `http::splice`).
    source: Option<Arc<std::fs::File>>,
    /// With `source`, for a rendition past [`KEEP_WHOLE`]: the whole file mapped, so that
    /// bodies past the kept bytes are views of it the connection sends from the file. The
    /// pages are the kernel's page cache, which the connection never reads: not part of
    /// the cache budget.
    mapped: Option<Bytes>,
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
            source: None,
            mapped: None,
        })
    }

    /// Marks the bodies of this file as sendable from `file`, the open file it was read
    /// from, which must never change in place (renditions): the kept bytes, and for a file
    /// past them the whole file, mapped (blocking). A file that cannot be mapped keeps the
    /// kept bytes' `sendfile` and reads the rest.
    pub fn send_from(&mut self, file: std::fs::File) {
        if self.len > self.kept.len() as u64 {
            // SAFETY: a mapped file changed or truncated by another process shows the change
            // or faults when read. Renditions are written once under a new name and never
            // changed in place, and the connection never reads the mapping: its bodies go
            // out with `sendfile` or fail (`splice::FileBytes::mapped`).
            let mapped = unsafe { memmap2::Mmap::map(&file) };
            self.mapped = mapped
                .ok()
                .filter(|m| m.len() as u64 == self.len)
                .map(Bytes::from_owner);
        }
        self.source = Some(Arc::new(file));
    }

    /// Bodies go out from memory from now on (the number of open files is bounded).
    pub fn send_from_memory(&mut self) {
        self.source = None;
        self.mapped = None;
    }

    /// The strong ETag (`"mtime-len"`, as nginx).
    pub fn etag(&self) -> &str {
        self.etag.to_str().unwrap_or("")
    }

    /// How many of the file's first bytes are in memory.
    pub fn kept(&self) -> usize {
        self.kept.len()
    }

    /// Whether bodies of kept bytes are sent from the open file.
    pub fn spliced(&self) -> bool {
        self.source.is_some()
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
    let mut mark = None;
    let body = if matches!(answer, Answer::Body { .. }) && !req.head && count > 0 {
        let end = start + count;
        if end <= state.kept.len() as u64 {
            report(Delivery {
                bytes: count,
                ..delivery
            });
            let bytes = state.kept.slice(start as usize..end as usize);
            if let Some(file) = state.source.as_ref().filter(|_| bytes.len() >= MIN_SPLICE) {
                mark = Some(FileBytes::new(bytes.clone(), file.clone(), start));
            }
            Body::from(bytes)
        } else if let (Some(file), Some(mapped)) = (&state.source, &state.mapped) {
            // A large rendition: views of its mapping, which the connection sends from the
            // file, in chunks that count what went out (a listener may leave halfway).
            let bytes = mapped.slice(start as usize..end as usize);
            mark = Some(FileBytes::mapped(bytes.clone(), file.clone(), start));
            let chunks = (0..bytes.len())
                .step_by(MAPPED_CHUNK)
                .map(move |at| Ok(bytes.slice(at..(at + MAPPED_CHUNK).min(bytes.len()))));
            Body::from_stream(Counted {
                inner: futures_util::stream::iter(chunks),
                sent: 0,
                delivery,
                report: Some(Box::new(report)),
            })
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
    if let Some(mark) = mark {
        response.extensions_mut().insert(mark);
    }
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

mod route;
#[cfg(test)]
mod tests;

pub use route::{
    CACHE_TTL, Located, MediaCache, MediaKind, id3_size, id3_size_of, media, parse_media_name,
};
