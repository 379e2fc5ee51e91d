//! Serving rendered feeds: one [`FeedSnapshot`] per feed path, rendered when the catalog or the
//! schedule changes, answered to every request without rendering (ETag, Last-Modified, 304,
//! pre-compressed gzip, `application/rss+xml`, Cache-Control), plus 301 for moved feeds.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::body::Body;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;

use super::media::{resolve_in, serve_file};
use super::splice::{FileBytes, Sealed, sealed_copy};
use super::state::Covers;
use crate::feed::conditional::{http_date, not_modified};
use crate::feed::{
    ArtworkFormat, CONTENT_TYPE, Channel, RenderedFeed, STATION_FEED, page_key, show_feed_path,
};

/// Podcast apps poll every few minutes to hours; five minutes keeps proxies useful and live
/// item statuses fresh.
const CACHE_CONTROL: &str = "public, max-age=300";

/// One feed ready to serve.
#[derive(Debug, Clone)]
pub struct FeedSnapshot {
    pub feed: RenderedFeed,
    /// When its content last changed (the catalog or schedule change that triggered it).
    pub last_modified: Timestamp,
    /// Its header values, built once: a request only clones them.
    heads: Heads,
}

/// The header values of a snapshot's answers (a request costs no formatting, parsing or
/// validation of header text).
#[derive(Debug, Clone)]
struct Heads {
    etag: HeaderValue,
    etag_gzip: HeaderValue,
    last_modified: HeaderValue,
    len: HeaderValue,
    len_gzip: HeaderValue,
    /// The body and the gzip body in sealed memfds, sent from there with `sendfile`
    /// (`http::splice`), when large enough and where memfds exist.
    body_file: Option<Arc<Sealed>>,
    gzip_file: Option<Arc<Sealed>>,
}

impl FeedSnapshot {
    pub fn render(channel: &Channel, last_modified: Timestamp) -> Self {
        let feed = RenderedFeed::new(channel);
        let text = |s: &str| HeaderValue::from_str(s).unwrap_or(HeaderValue::from_static(""));
        let heads = Heads {
            etag: text(&feed.etag),
            etag_gzip: text(&feed.etag_gzip),
            last_modified: text(&http_date(last_modified)),
            len: HeaderValue::from(feed.body.len()),
            len_gzip: HeaderValue::from(feed.gzip.len()),
            body_file: sealed_copy(&feed.body),
            gzip_file: sealed_copy(&feed.gzip),
        };
        FeedSnapshot {
            feed,
            last_modified,
            heads,
        }
    }
}

/// Every feed by request path (`/feed.xml`, `/shows/{slug}/feed.xml`, with `?page=N` pages
/// keyed as `/feed.xml?page=2`), and the moved ones' new absolute URLs.
#[derive(Debug, Default)]
pub struct FeedStore {
    feeds: RwLock<HashMap<String, Arc<FeedSnapshot>>>,
    moved: RwLock<HashMap<String, String>>,
}

impl FeedStore {
    /// Replaces every feed at once (the rebuild after a change renders them all, off the
    /// runtime, then swaps here).
    pub fn replace(
        &self,
        feeds: HashMap<String, Arc<FeedSnapshot>>,
        moved: HashMap<String, String>,
    ) {
        *self.feeds.write().unwrap_or_else(|e| e.into_inner()) = feeds;
        *self.moved.write().unwrap_or_else(|e| e.into_inner()) = moved;
    }

    pub fn get(&self, path: &str) -> Option<Arc<FeedSnapshot>> {
        self.feeds
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(path)
            .cloned()
    }

    /// Answers a request for `path` (with its query string, if any).
    pub fn respond(&self, path: &str, method: &Method, headers: &HeaderMap) -> Response {
        if let Some(to) = self
            .moved
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(path)
        {
            return moved_permanently(to);
        }
        match self.get(path) {
            Some(snapshot) => respond(&snapshot, method, headers),
            None => StatusCode::NOT_FOUND.into_response(),
        }
    }
}

/// `301` to a feed's new address (its new feed carries `itunes:new-feed-url`).
pub fn moved_permanently(to: &str) -> Response {
    match HeaderValue::from_str(to) {
        Ok(location) => (
            StatusCode::MOVED_PERMANENTLY,
            [(header::LOCATION, location)],
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The response to a GET or HEAD of `snapshot`: header values cloned from the snapshot, the
/// body a reference to its bytes (hyper writes it with the head in one vectored write).
pub fn respond(snapshot: &FeedSnapshot, method: &Method, headers: &HeaderMap) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET, HEAD")],
        )
            .into_response();
    }
    let (feed, heads) = (&snapshot.feed, &snapshot.heads);
    let gzip = accepts_gzip(headers);
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let inm = text(header::IF_NONE_MATCH);
    // Either representation's validator means the client has the current version.
    let fresh = not_modified(
        inm,
        text(header::IF_MODIFIED_SINCE),
        &feed.etag,
        snapshot.last_modified,
    ) || inm
        .is_some_and(|inm| not_modified(Some(inm), None, &feed.etag_gzip, snapshot.last_modified));

    let (body, etag, len, file) = if gzip {
        (
            &feed.gzip,
            &heads.etag_gzip,
            &heads.len_gzip,
            &heads.gzip_file,
        )
    } else {
        (&feed.body, &heads.etag, &heads.len, &heads.body_file)
    };
    let sent = !fresh && method != Method::HEAD;
    let mut response = Response::new(if sent {
        Body::from(body.clone())
    } else {
        Body::empty()
    });
    if let Some(file) = file.as_ref().filter(|_| sent) {
        let mark = FileBytes::new(body.clone(), file.clone(), 0);
        response.extensions_mut().insert(mark);
    }
    let h = response.headers_mut();
    h.reserve(10);
    h.insert(header::ETAG, etag.clone());
    h.insert(header::LAST_MODIFIED, heads.last_modified.clone());
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if fresh {
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        return response;
    }
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    h.insert(header::CONTENT_LENGTH, len.clone());
    if gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    response
}

/// Whether `Accept-Encoding` admits gzip (`gzip` or `*`, with a non-zero quality).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or("");
            let zero_q = parts.any(|p| {
                p.strip_prefix("q=")
                    .is_some_and(|q| q.trim().parse::<f32>() == Ok(0.0))
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !zero_q
        })
}

/// `GET|HEAD /feed.xml[?page=N]`.
///
/// The request is taken whole so that its headers are read in place, not copied.
pub async fn station_feed(State(feeds): State<Arc<FeedStore>>, request: Request) -> Response {
    feed_page(
        &feeds,
        STATION_FEED,
        request.uri().query(),
        request.method(),
        request.headers(),
    )
}

/// `GET|HEAD /shows/{slug}/feed.xml[?page=N]` and `/shows/{slug}/cover.{png,jpg}`.
pub async fn show_file(
    State(feeds): State<Arc<FeedStore>>,
    State(covers): State<Covers>,
    Path((slug, file)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    method: Method,
    headers: HeaderMap,
) -> Response {
    if file == "feed.xml" {
        return feed_page(
            &feeds,
            &show_feed_path(&slug),
            query.as_deref(),
            &method,
            &headers,
        );
    }
    let Some(ext) = file.strip_prefix("cover.") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (title, artwork) = {
        let s = covers.on_air.schedule();
        match s.schedule.show(&slug) {
            Some(show) => (show.title.clone(), show.artwork.clone()),
            None => return StatusCode::NOT_FOUND.into_response(),
        }
    };
    cover(&covers, &title, artwork, ext, &method, &headers).await
}

/// `GET|HEAD /cover.{png,jpg}`: the station's artwork.
pub async fn station_cover(
    State(covers): State<Covers>,
    uri: axum::http::Uri,
    method: Method,
    headers: HeaderMap,
) -> Response {
    let Some(ext) = uri.path().strip_prefix("/cover.") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (title, artwork) = {
        let s = covers.on_air.schedule();
        let station = s.schedule.station();
        (station.name.clone(), station.artwork.clone())
    };
    cover(&covers, &title, artwork, ext, &method, &headers).await
}

/// The store key of the page a query asks for (`page=1` is the feed itself), or `None` for a
/// page number that is not one.
fn page_path<'a>(path: &'a str, query: Option<&str>) -> Option<Cow<'a, str>> {
    let page = query
        .unwrap_or("")
        .split('&')
        .find_map(|kv| kv.strip_prefix("page="));
    match page {
        None => Some(Cow::Borrowed(path)),
        Some(n) => n
            .parse::<usize>()
            .ok()
            .map(|n| Cow::Owned(page_key(path, n))),
    }
}

fn feed_page(
    feeds: &FeedStore,
    path: &str,
    query: Option<&str>,
    method: &Method,
    headers: &HeaderMap,
) -> Response {
    match page_path(path, query) {
        Some(key) => feeds.respond(&key, method, headers),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Artwork: a file from the media folder (named in the schedule), else the generated cover.
/// The extension must be the one the feed advertises.
async fn cover(
    covers: &Covers,
    title: &str,
    artwork: Option<String>,
    ext: &str,
    method: &Method,
    headers: &HeaderMap,
) -> Response {
    match artwork {
        Some(a) if a.starts_with("http://") || a.starts_with("https://") => {
            StatusCode::NOT_FOUND.into_response()
        }
        Some(a) => {
            let served = ArtworkFormat::of(&a);
            if ext != served.ext() {
                return StatusCode::NOT_FOUND.into_response();
            }
            let media = covers.media_dir.clone();
            let Ok(Some(path)) = tokio::task::spawn_blocking(move || resolve_in(&media, &a)).await
            else {
                return StatusCode::NOT_FOUND.into_response();
            };
            serve_file(&path, served.mime(), method, headers, |_| {}).await
        }
        None if ext == "png" => {
            let (media, title) = (covers.media.clone(), title.to_owned());
            let Ok(png) = tokio::task::spawn_blocking(move || media.cover(&title)).await else {
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            };
            let etag = crate::feed::etag(&png);
            let inm = headers
                .get(header::IF_NONE_MATCH)
                .and_then(|v| v.to_str().ok());
            let builder = Response::builder()
                .header(header::ETAG, &etag)
                .header(header::CACHE_CONTROL, "public, max-age=86400");
            let r =
                if inm.is_some_and(|inm| not_modified(Some(inm), None, &etag, covers.started_at)) {
                    builder.status(StatusCode::NOT_MODIFIED).body(Body::empty())
                } else {
                    let builder = builder
                        .header(header::CONTENT_TYPE, "image/png")
                        .header(header::CONTENT_LENGTH, png.len());
                    builder.body(if method == Method::HEAD {
                        Body::empty()
                    } else {
                        Body::from(png)
                    })
                };
            r.unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::{Medium, Paging, ShowKind};

    fn snapshot() -> FeedSnapshot {
        let channel = Channel {
            title: "Au fil des quartiers".into(),
            link: "https://radio.example.org/".into(),
            description: "La radio des quartiers.".into(),
            language: "fr".into(),
            self_url: "https://radio.example.org/feed.xml".into(),
            image_url: "https://radio.example.org/cover.png".into(),
            categories: vec![],
            explicit: false,
            author: "Radio".into(),
            owner_name: "Radio".into(),
            owner_email: "radio@example.org".into(),
            kind: ShowKind::Episodic,
            locked: false,
            medium: Medium::Podcast,
            update_frequency: None,
            location: None,
            new_feed_url: None,
            paging: Paging::default(),
            last_build: None,
            items: vec![],
            live_items: vec![],
        };
        FeedSnapshot::render(&channel, "2026-11-28T10:00:00Z".parse().unwrap())
    }

    fn request(method: Method, headers: &[(&'static str, &str)]) -> Response {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.append(*k, HeaderValue::from_str(v).unwrap());
        }
        respond(&snapshot(), &method, &map)
    }

    fn h<'a>(r: &'a Response, name: &str) -> &'a str {
        r.headers().get(name).map_or("", |v| v.to_str().unwrap())
    }

    #[test]
    fn ok_headers() {
        let s = snapshot();
        let r = request(Method::GET, &[]);
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(h(&r, "content-type"), "application/rss+xml; charset=utf-8");
        assert_eq!(h(&r, "etag"), s.feed.etag);
        assert_eq!(h(&r, "last-modified"), "Sat, 28 Nov 2026 10:00:00 GMT");
        assert_eq!(h(&r, "cache-control"), CACHE_CONTROL);
        assert_eq!(h(&r, "content-length"), s.feed.body.len().to_string());
        assert_eq!(h(&r, "content-encoding"), "");
    }

    #[test]
    fn gzip_when_accepted() {
        let s = snapshot();
        for (accept, gzip) in [
            ("gzip, deflate, br", true),
            ("br;q=1.0, gzip;q=0.8", true),
            ("*", true),
            ("gzip;q=0", false),
            ("identity", false),
            ("deflate", false),
        ] {
            let r = request(Method::GET, &[("accept-encoding", accept)]);
            assert_eq!(h(&r, "content-encoding") == "gzip", gzip, "{accept}");
            let len = if gzip {
                s.feed.gzip.len()
            } else {
                s.feed.body.len()
            };
            assert_eq!(h(&r, "content-length"), len.to_string(), "{accept}");
        }
    }

    #[test]
    fn not_modified_paths() {
        let s = snapshot();
        for (headers, status) in [
            (
                vec![("if-none-match", s.feed.etag.as_str())],
                StatusCode::NOT_MODIFIED,
            ),
            (
                vec![
                    ("if-none-match", s.feed.etag_gzip.as_str()),
                    ("accept-encoding", "gzip"),
                ],
                StatusCode::NOT_MODIFIED,
            ),
            (vec![("if-none-match", "\"old\"")], StatusCode::OK),
            (
                vec![("if-modified-since", "Sat, 28 Nov 2026 10:00:00 GMT")],
                StatusCode::NOT_MODIFIED,
            ),
            (
                vec![("if-modified-since", "Fri, 27 Nov 2026 10:00:00 GMT")],
                StatusCode::OK,
            ),
        ] {
            let r = request(Method::GET, &headers);
            assert_eq!(r.status(), status, "{headers:?}");
            assert!(!h(&r, "etag").is_empty());
        }
    }

    #[test]
    fn head_and_other_methods() {
        let r = request(Method::HEAD, &[]);
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            h(&r, "content-length"),
            snapshot().feed.body.len().to_string()
        );
        assert_eq!(
            request(Method::POST, &[]).status(),
            StatusCode::METHOD_NOT_ALLOWED
        );
    }

    #[test]
    fn store_routes_and_redirects() {
        let store = FeedStore::default();
        let feeds = HashMap::from([("/feed.xml".to_owned(), Arc::new(snapshot()))]);
        let moved = HashMap::from([(
            "/old.xml".to_owned(),
            "https://radio.example.org/feed.xml".to_owned(),
        )]);
        store.replace(feeds, moved);
        let empty = HeaderMap::new();
        assert_eq!(
            store.respond("/feed.xml", &Method::GET, &empty).status(),
            StatusCode::OK
        );
        assert_eq!(
            store.respond("/nope.xml", &Method::GET, &empty).status(),
            StatusCode::NOT_FOUND
        );
        let r = store.respond("/old.xml", &Method::GET, &empty);
        assert_eq!(r.status(), StatusCode::MOVED_PERMANENTLY);
        assert_eq!(h(&r, "location"), "https://radio.example.org/feed.xml");
    }
}
