//! Serving rendered feeds: one [`FeedSnapshot`] per feed path, rendered when the catalog or the
//! schedule changes, answered to every request without rendering (ETag, Last-Modified, 304,
//! pre-compressed gzip, `application/rss+xml`, Cache-Control), plus 301 for moved feeds.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;

use crate::catalog::{Episode, EpisodeStatus};
use crate::feed::conditional::{http_date, not_modified};
use crate::feed::{CONTENT_TYPE, Channel, Item, RenderedFeed, Transcript};

/// Podcast apps poll every few minutes to hours; five minutes keeps proxies useful and live
/// item statuses fresh.
const CACHE_CONTROL: &str = "public, max-age=300";

/// One feed ready to serve.
#[derive(Debug, Clone)]
pub struct FeedSnapshot {
    pub feed: RenderedFeed,
    /// When its content last changed (the catalog or schedule change that triggered it).
    pub last_modified: Timestamp,
}

impl FeedSnapshot {
    pub fn render(channel: &Channel, last_modified: Timestamp) -> Self {
        FeedSnapshot {
            feed: RenderedFeed::new(channel),
            last_modified,
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

/// The feed item of a catalog episode, or `None` while it is not a published, ready rendition.
///
/// URLs follow the media routes: `{base}/media/{id}.mp3` (ASCII by construction: the id is a
/// UUID), `{id}.vtt`/`{id}.srt`, `{id}.chapters.json`, `{id}.jpg`/`.png`. The date is the one the
/// volunteer gave (noon in `tz`), else the upload time: both survive re-ingest, unlike
/// `ready_at`.
pub fn item_from_episode(ep: &Episode, base: &str, tz: &jiff::tz::TimeZone) -> Option<Item> {
    if ep.status != EpisodeStatus::Ready || !ep.published {
        return None;
    }
    let length = ep.rendition_bytes?;
    let id = &ep.id;
    let pub_date = ep
        .date
        .as_deref()
        .and_then(|d| d.parse::<jiff::civil::Date>().ok())
        .and_then(|d| d.at(12, 0, 0, 0).to_zoned_datetime(tz.clone()).ok())
        .map_or(ep.created_at, |z| z.timestamp());
    let transcript = ep.transcript_type.as_deref().map(|mime| {
        let ext = if mime == "application/x-subrip" {
            "srt"
        } else {
            "vtt"
        };
        Transcript {
            url: format!("{base}/media/{id}.{ext}"),
            mime: mime.to_owned(),
        }
    });
    let image_url = ep.artwork_path.as_deref().map(|p| {
        let ext = if p.to_ascii_lowercase().ends_with(".png") {
            "png"
        } else {
            "jpg"
        };
        format!("{base}/media/{id}.{ext}")
    });
    Some(Item {
        guid: id.clone(),
        title: ep.title.clone(),
        description: ep.description.clone(),
        content_html: None,
        pub_date,
        enclosure_url: format!("{base}/media/{id}.mp3"),
        enclosure_length: length,
        duration_s: ep.duration_ms.map_or(0, |ms| (ms + 500) / 1000),
        season: ep.season,
        episode: ep.episode,
        image_url,
        transcript,
        chapters_url: ep
            .chapters_path
            .as_ref()
            .map(|_| format!("{base}/media/{id}.chapters.json")),
    })
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

/// The response to a GET or HEAD of `snapshot`.
pub fn respond(snapshot: &FeedSnapshot, method: &Method, headers: &HeaderMap) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET, HEAD")],
        )
            .into_response();
    }
    let feed = &snapshot.feed;
    let gzip = accepts_gzip(headers);
    let (body, etag) = if gzip {
        (&feed.gzip, &feed.etag_gzip)
    } else {
        (&feed.body, &feed.etag)
    };
    let last_modified = http_date(snapshot.last_modified);
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

    let mut builder = Response::builder()
        .header(header::ETAG, etag.as_str())
        .header(header::LAST_MODIFIED, last_modified)
        .header(header::CACHE_CONTROL, CACHE_CONTROL)
        .header(header::VARY, "Accept-Encoding");
    if fresh {
        builder = builder.status(StatusCode::NOT_MODIFIED);
        return builder
            .body(Body::empty())
            .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response());
    }
    builder = builder
        .header(header::CONTENT_TYPE, CONTENT_TYPE)
        .header(header::CONTENT_LENGTH, body.len());
    if gzip {
        builder = builder.header(header::CONTENT_ENCODING, "gzip");
    }
    let body = if method == Method::HEAD {
        Body::empty()
    } else {
        Body::from(body.clone())
    };
    builder
        .body(body)
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
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
    fn items_from_catalog_episodes() {
        let created: Timestamp = "2026-11-20T15:30:00Z".parse().unwrap();
        let mut ep = Episode {
            id: "0b8f2a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b".into(),
            show: "au-fil-des-quartiers".into(),
            title: "Le marché".into(),
            description: "Reportage.".into(),
            date: Some("2026-11-21".into()),
            season: None,
            episode: Some(12),
            status: EpisodeStatus::Ready,
            error: None,
            published: true,
            original_sha256: String::new(),
            original_path: "originals/x.wav".into(),
            original_bytes: 1,
            original_name: None,
            rendition_path: Some("renditions/x.mp3".into()),
            rendition_bytes: Some(28_800_417),
            duration_ms: Some(1_799_600),
            before: None,
            after: None,
            gain_db: None,
            transcript_path: Some("t/x.srt".into()),
            transcript_type: Some("application/x-subrip".into()),
            chapters_path: None,
            artwork_path: Some("art/x.PNG".into()),
            created_at: created,
            updated_at: created,
            ready_at: Some(created),
        };
        let tz = jiff::tz::TimeZone::get("Europe/Paris").unwrap();
        let item = item_from_episode(&ep, "https://radio.example.org", &tz).unwrap();
        assert_eq!(item.guid, ep.id);
        assert_eq!(
            item.enclosure_url,
            format!("https://radio.example.org/media/{}.mp3", ep.id)
        );
        assert_eq!((item.enclosure_length, item.duration_s), (28_800_417, 1800));
        assert_eq!(
            item.pub_date,
            "2026-11-21T11:00:00Z".parse().unwrap(),
            "noon in Paris"
        );
        assert_eq!(
            item.transcript.unwrap().url,
            format!("https://radio.example.org/media/{}.srt", ep.id)
        );
        assert_eq!(
            item.image_url,
            Some(format!("https://radio.example.org/media/{}.png", ep.id))
        );
        assert_eq!(item.chapters_url, None);
        ep.date = None;
        assert_eq!(item_from_episode(&ep, "", &tz).unwrap().pub_date, created);
        ep.published = false;
        assert_eq!(item_from_episode(&ep, "", &tz), None);
        ep.published = true;
        ep.status = EpisodeStatus::Processing;
        assert_eq!(item_from_episode(&ep, "", &tz), None);
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
