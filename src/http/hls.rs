//! `GET /hls/{file}`: the HLS playlist and segments ([`crate::broadcast::hls`]), with the
//! caching a CDN needs (the playlist for a second, a segment forever: its name is never
//! reused), and the estimate of HLS listeners.
//!
//! Listeners are counted from playlist fetches, never from addresses: a player the page
//! starts adds a random `?s=` token to the playlist URL, and the sessions are the distinct
//! tokens seen in the last 30 s (only a keyed hash of each is held, in memory). A fetch
//! without a token (ffmpeg, VLC, a podcast app) counts as a fraction of a session: a player
//! reloads the playlist about once per target duration, so `fetches × target / 30 s`.

use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::time::Instant;

use crate::broadcast::hls::{HlsConfig, HlsStore, PLAYLIST};

/// A session not seen for this long has left.
const SESSION_SPAN: Duration = Duration::from_secs(30);
/// Distinct sessions tracked at most (memory bound); more are not counted.
const MAX_SESSIONS: usize = 100_000;

/// The HLS output as HTTP sees it, when the station has one.
#[derive(Clone, Default)]
pub struct HlsAccess(pub Option<HlsService>);

/// The output's configuration and store, and the sessions seen.
#[derive(Clone)]
pub struct HlsService {
    pub config: HlsConfig,
    pub store: HlsStore,
    sessions: Arc<Mutex<Sessions>>,
}

impl HlsService {
    pub fn new(config: HlsConfig, store: HlsStore) -> HlsService {
        HlsService {
            config,
            store,
            sessions: Arc::default(),
        }
    }

    /// Estimated HLS listeners now; see the module doc.
    pub fn sessions(&self) -> usize {
        let target = self.store.target_duration();
        let mut s = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        s.expire(Instant::now());
        let anonymous =
            (s.anonymous.len() as u64 * u64::from(target)).div_ceil(SESSION_SPAN.as_secs());
        s.seen.len() + anonymous as usize
    }

    fn fetched(&self, token: Option<&str>) {
        let now = Instant::now();
        let mut s = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        s.expire(now);
        match token {
            Some(t) => {
                let key = s.keys.hash_one(t);
                if s.seen.len() < MAX_SESSIONS || s.seen.contains_key(&key) {
                    s.seen.insert(key, now);
                }
            }
            None if s.anonymous.len() < MAX_SESSIONS => s.anonymous.push_back(now),
            None => {}
        }
    }
}

/// Playlist fetches of the last [`SESSION_SPAN`].
#[derive(Default)]
struct Sessions {
    /// Keyed hashes of the tokens (random key per process), last seen.
    seen: HashMap<u64, Instant>,
    keys: std::collections::hash_map::RandomState,
    /// Fetches without a token.
    anonymous: VecDeque<Instant>,
    last_expiry: Option<Instant>,
}

impl Sessions {
    fn expire(&mut self, now: Instant) {
        while self
            .anonymous
            .front()
            .is_some_and(|t| now.duration_since(*t) > SESSION_SPAN)
        {
            self.anonymous.pop_front();
        }
        // The map is swept at most once a second.
        if self
            .last_expiry
            .is_some_and(|t| now.duration_since(t) < Duration::from_secs(1))
        {
            return;
        }
        self.last_expiry = Some(now);
        self.seen
            .retain(|_, seen| now.duration_since(*seen) <= SESSION_SPAN);
    }
}

#[derive(Debug, serde::Deserialize)]
pub struct Session {
    s: Option<String>,
}

/// `GET /hls/{file}`: `live.m3u8` or a segment `{seq}.mp3`.
pub async fn file(
    State(hls): State<HlsAccess>,
    Path(file): Path<String>,
    Query(session): Query<Session>,
) -> Response {
    let Some(hls) = hls.0 else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if file == PLAYLIST {
        let Some(text) = hls.store.playlist() else {
            // The first segment is still being cut.
            return not_yet();
        };
        let token = session
            .s
            .as_deref()
            .filter(|t| !t.is_empty() && t.len() <= 64);
        hls.fetched(token);
        return answer(
            Body::from(text),
            "application/vnd.apple.mpegurl",
            "public, max-age=1",
        );
    }
    let Some(seq) = file
        .strip_suffix(".mp3")
        .filter(|n| !n.is_empty() && n.len() <= 20 && n.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.parse::<u64>().ok())
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let bytes = match hls.store.cached(seq) {
        Some(b) => b,
        None => match tokio::fs::read(hls.store.dir().join(&file)).await {
            Ok(b) => {
                let b = bytes::Bytes::from(b);
                hls.store.remember(seq, b.clone());
                b
            }
            Err(_) => return StatusCode::NOT_FOUND.into_response(),
        },
    };
    answer(
        Body::from(bytes),
        "audio/mpeg",
        "public, max-age=31536000, immutable",
    )
}

fn answer(body: Body, content_type: &'static str, cache: &'static str) -> Response {
    let mut r = Response::new(body);
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    // Players on other sites (and hls.js served from elsewhere) may fetch it.
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    r
}

fn not_yet() -> Response {
    let mut r = (StatusCode::SERVICE_UNAVAILABLE, "no HLS segment yet\n").into_response();
    let h = r.headers_mut();
    h.insert(header::RETRY_AFTER, HeaderValue::from_static("6"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}
