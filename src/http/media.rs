//! Serving enclosures (episode MP3s): HEAD, `Accept-Ranges`, single ranges with 206 and
//! `Content-Range`, 416, ETag/Last-Modified/304, and a report of the bytes actually sent for
//! download counting (`feed::stats`).
//!
//! **Invariant:** a request never names a path. Routes select an episode by id and the caller
//! resolves it through the catalog; [`resolve_in`] then refuses anything that would leave the
//! media store (absolute paths, `..`, symlinks pointing out).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Component, Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Path as UrlPath, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
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

/// Read size of enclosure bodies: large reads keep the per-chunk overhead (a blocking-pool hop
/// each) small against the bytes moved.
const CHUNK: usize = 256 * 1024;

/// Bodies up to this size are read in the same blocking-pool hop that opens the file
/// (streaming costs a hop per chunk: 4 for a 1 MB file). Bounded memory: 1 MiB per request.
const READ_AT_ONCE: u64 = 1024 * 1024;

/// Episode renditions never change in place (a re-ingest writes a new file), so clients and
/// proxies may keep them a day.
const CACHE_CONTROL: &str = "public, max-age=86400";

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

/// Serves `path` (already resolved with [`resolve_in`]) as `content_type`, calling `report`
/// once with what was delivered.
///
/// Opening, validating and (for bodies up to [`READ_AT_ONCE`], such as `bytes=0-1` probes)
/// reading happen in one blocking-pool hop; larger bodies stream in [`CHUNK`]s.
pub async fn serve_file(
    path: &Path,
    content_type: &'static str,
    method: &Method,
    headers: &HeaderMap,
    report: impl FnOnce(Delivery) + Send + 'static,
) -> Response {
    let head = method == Method::HEAD;
    if method != Method::GET && !head {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET, HEAD")],
        )
            .into_response();
    }
    let text = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let request = Conditions {
        head,
        if_none_match: text(header::IF_NONE_MATCH),
        if_modified_since: text(header::IF_MODIFIED_SINCE),
        if_range: text(header::IF_RANGE),
        range: text(header::RANGE),
    };
    let path = path.to_owned();
    let Ok(Ok(plan)) = tokio::task::spawn_blocking(move || plan(&path, &request)).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let base = Response::builder()
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::ETAG, &plan.etag)
        .header(header::LAST_MODIFIED, http_date(plan.modified))
        .header(header::CACHE_CONTROL, CACHE_CONTROL);
    let delivery = Delivery {
        head,
        status: plan.status.as_u16(),
        start: plan.start,
        bytes: 0,
    };
    match plan.body {
        PlannedBody::NotModified => {
            report(delivery);
            finish(base.status(StatusCode::NOT_MODIFIED).body(Body::empty()))
        }
        PlannedBody::Unsatisfiable => {
            report(delivery);
            finish(
                base.status(StatusCode::RANGE_NOT_SATISFIABLE)
                    .header(header::CONTENT_RANGE, format!("bytes */{}", plan.len))
                    .body(Body::empty()),
            )
        }
        body => {
            let mut builder = base
                .status(plan.status)
                .header(header::CONTENT_TYPE, content_type)
                .header(header::CONTENT_LENGTH, plan.count);
            if plan.status == StatusCode::PARTIAL_CONTENT {
                builder = builder.header(
                    header::CONTENT_RANGE,
                    content_range(plan.start, plan.end, plan.len),
                );
            }
            let body = match body {
                PlannedBody::Read(data) => {
                    report(Delivery {
                        bytes: data.len() as u64,
                        ..delivery
                    });
                    Body::from(data)
                }
                PlannedBody::Stream(file) => {
                    let stream = ReaderStream::with_capacity(
                        tokio::fs::File::from_std(file).take(plan.count),
                        CHUNK,
                    );
                    Body::from_stream(Counted {
                        inner: stream,
                        sent: 0,
                        delivery,
                        report: Some(Box::new(report)),
                    })
                }
                _ => {
                    report(delivery);
                    Body::empty()
                }
            };
            finish(builder.body(body))
        }
    }
}

/// The request's validators and range, owned so they can cross into the blocking pool.
struct Conditions {
    head: bool,
    if_none_match: Option<String>,
    if_modified_since: Option<String>,
    if_range: Option<String>,
    range: Option<String>,
}

/// What to answer, decided next to the file.
struct Plan {
    status: StatusCode,
    len: u64,
    modified: jiff::Timestamp,
    etag: String,
    start: u64,
    end: u64,
    count: u64,
    body: PlannedBody,
}

enum PlannedBody {
    NotModified,
    Unsatisfiable,
    /// HEAD or an empty range: headers only.
    Empty,
    /// A small body, already read.
    Read(Bytes),
    /// A large body: the file, positioned at `start`.
    Stream(std::fs::File),
}

fn plan(path: &Path, req: &Conditions) -> std::io::Result<Plan> {
    use std::io::{Read, Seek};
    let mut file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::ErrorKind::NotFound.into());
    }
    let len = meta.len();
    let modified = meta
        .modified()
        .ok()
        .and_then(|m| jiff::Timestamp::try_from(m).ok())
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let etag = file_etag(len, modified);
    let mut plan = Plan {
        status: StatusCode::OK,
        len,
        modified,
        etag,
        start: 0,
        end: 0,
        count: 0,
        body: PlannedBody::Empty,
    };
    if not_modified(
        req.if_none_match.as_deref(),
        req.if_modified_since.as_deref(),
        &plan.etag,
        modified,
    ) {
        plan.status = StatusCode::NOT_MODIFIED;
        plan.body = PlannedBody::NotModified;
        return Ok(plan);
    }
    // If-Range: a range only applies to the representation the client validated.
    let range = match req.if_range.as_deref() {
        Some(tag) if tag.trim() != plan.etag => None,
        _ => req.range.as_deref(),
    };
    match evaluate_range(range, len) {
        RangeOutcome::Full => {
            plan.end = len.saturating_sub(1);
            plan.count = len;
        }
        RangeOutcome::Partial { start, end } => {
            plan.status = StatusCode::PARTIAL_CONTENT;
            (plan.start, plan.end, plan.count) = (start, end, end - start + 1);
        }
        RangeOutcome::Unsatisfiable => {
            plan.status = StatusCode::RANGE_NOT_SATISFIABLE;
            plan.body = PlannedBody::Unsatisfiable;
            return Ok(plan);
        }
    }
    if req.head || plan.count == 0 {
        return Ok(plan);
    }
    if plan.start > 0 {
        file.seek(std::io::SeekFrom::Start(plan.start))?;
    }
    plan.body = if plan.count <= READ_AT_ONCE {
        let mut data = vec![0; plan.count as usize];
        file.read_exact(&mut data)?;
        PlannedBody::Read(Bytes::from(data))
    } else {
        PlannedBody::Stream(file)
    };
    Ok(plan)
}

fn finish(r: Result<Response, axum::http::Error>) -> Response {
    r.unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
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
pub async fn media(
    State(state): State<AppState>,
    UrlPath(file): UrlPath<String>,
    request: Request,
) -> Response {
    let Some((id, kind)) = parse_media_name(&file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let generation = state.catalog_generation();
    let key = (id.to_owned(), kind);
    let cached = state.media_cache().get(&key, generation);
    let (path, mime, episode_file) = match cached {
        Some(found) => found,
        None => {
            let (id, st) = (id.to_owned(), state.clone());
            let found = tokio::task::spawn_blocking(move || locate(&st, &id, kind)).await;
            let Ok(Some(found)) = found else {
                return StatusCode::NOT_FOUND.into_response();
            };
            state.media_cache().put(key, generation, found.clone());
            found
        }
    };
    let (parts, _) = request.into_parts();
    let ip = parts
        .extensions
        .get::<ConnectInfo<super::conn::PeerAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.0.ip());
    let user_agent = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let report = move |d: Delivery| {
        if let Some(file) = episode_file {
            state.observe_download(
                &file,
                &Served {
                    head: d.head,
                    status: d.status,
                    start: d.start,
                    bytes: d.bytes,
                    ip,
                    user_agent: &user_agent,
                },
            );
        }
    };
    serve_file(&path, mime, &parts.method, &parts.headers, report).await
}

/// A located episode file: its path, type, and for audio what download counting needs.
pub type Located = (PathBuf, &'static str, Option<EpisodeFile>);

/// Lookups of `/media` names, kept until the catalog changes (in-process changes clear it at
/// once; [`CACHE_TTL`] bounds staleness after writes from another process). Only files that
/// exist are kept, so unknown names cannot grow it.
#[derive(Debug, Default)]
pub struct MediaCache {
    /// The catalog generation the entries belong to, and the entries.
    inner: std::sync::Mutex<(u64, CacheMap)>,
}

/// Lookups by name, with when each was made.
type CacheMap = HashMap<(String, MediaKind), (Located, std::time::Instant)>;

/// How long a cached lookup is trusted without a catalog notification.
pub const CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(60);

impl MediaCache {
    pub fn get(&self, key: &(String, MediaKind), generation: u64) -> Option<Located> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if inner.0 != generation {
            *inner = (generation, HashMap::new());
            return None;
        }
        match inner.1.get(key) {
            Some((found, at)) if at.elapsed() < CACHE_TTL => Some(found.clone()),
            _ => None,
        }
    }

    pub fn put(&self, key: (String, MediaKind), generation: u64, found: Located) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if inner.0 == generation {
            inner.1.insert(key, (found, std::time::Instant::now()));
        }
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
    let file = (kind == MediaKind::Audio).then(|| {
        let length = std::fs::metadata(&path).map_or(0, |m| m.len());
        let header_bytes = id3_size(&path).unwrap_or(0).min(length);
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
    Some((path, mime, file))
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
