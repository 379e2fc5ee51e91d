//! Serving enclosures (episode MP3s): HEAD, `Accept-Ranges`, single ranges with 206 and
//! `Content-Range`, 416, ETag/Last-Modified/304, and a report of the bytes actually sent for
//! download counting (`feed::stats`).
//!
//! **Invariant:** a request never names a path. Routes select an episode by id and the caller
//! resolves it through the catalog; [`resolve_in`] then refuses anything that would leave the
//! media store (absolute paths, `..`, symlinks pointing out).

use std::path::{Component, Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use tokio::io::AsyncReadExt;
use tokio_util::io::ReaderStream;

use crate::feed::conditional::{
    RangeOutcome, content_range, evaluate_range, file_etag, http_date, not_modified,
};

/// Read size of enclosure bodies: large reads keep the per-chunk overhead (a blocking-pool hop
/// each) small against the bytes moved.
const CHUNK: usize = 256 * 1024;

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
/// Opening, validating and (for bodies up to one chunk, such as `bytes=0-1` probes) reading
/// happen in one blocking-pool hop; larger bodies stream in [`CHUNK`]s.
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
    plan.body = if plan.count <= CHUNK as u64 {
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
}
