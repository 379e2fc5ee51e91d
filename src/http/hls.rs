//! `GET /hls/{file}`: the HLS playlist and segments ([`crate::broadcast::hls`]), with the
//! caching a CDN needs (the playlist for a second, a segment forever: its name is never
//! reused), and the estimate of HLS listeners.
//!
//! Listeners are counted from playlist fetches, never from addresses: a player the page
//! starts adds a random `?s=` token to the playlist URL, and the sessions are the distinct
//! tokens seen in the last 30 s (only a keyed hash of each is held, in memory). A fetch
//! without a token (ffmpeg, VLC, a podcast app) counts as a fraction of a session: a player
//! reloads the playlist about once per target duration, so `fetches × target / 30 s`.
//!
//! The audience figures take their HLS sessions from the same tokens: a token first seen at
//! `t0` and last at `t1` is a session from `t0` to `t1` plus one target duration (what the
//! player had still to play), sent to the [`SessionLog`] with the family of the first fetch's
//! user agent once it has not been seen for 30 s. Fetches without a token make no session.

use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::time::Instant;

use crate::broadcast::SessionLog;
use crate::broadcast::hls::{HlsConfig, HlsStore, PLAYLIST};
use crate::catalog::{ClientFamily, StreamKind};

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
    /// Where ended sessions go (the audience figures), when recorded.
    log: Option<SessionLog>,
}

impl HlsService {
    pub fn new(config: HlsConfig, store: HlsStore) -> HlsService {
        HlsService {
            config,
            store,
            sessions: Arc::default(),
            log: None,
        }
    }

    /// Sends each tokened session to `log` once it ends; see the module doc.
    pub fn with_sessions(mut self, log: SessionLog) -> HlsService {
        self.log = Some(log);
        self
    }

    /// Ends every session now (shutdown), sending them to the log.
    pub fn end_sessions(&self) {
        let mut s = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let tail = self.tail();
        for (_, seen) in s.seen.drain() {
            self.ended(&seen, tail);
        }
    }

    /// Audio a player still had to play after its last playlist fetch.
    fn tail(&self) -> Duration {
        Duration::from_secs(u64::from(self.store.target_duration()))
    }

    fn ended(&self, seen: &Seen, tail: Duration) {
        if let Some(log) = &self.log {
            log.ended(StreamKind::Hls, seen.client, seen.first, seen.last + tail);
        }
    }

    /// Estimated HLS listeners now; see the module doc.
    pub fn sessions(&self) -> usize {
        let target = self.store.target_duration();
        let mut s = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        self.expire(&mut s, Instant::now());
        let anonymous =
            (s.anonymous.len() as u64 * u64::from(target)).div_ceil(SESSION_SPAN.as_secs());
        s.seen.len() + anonymous as usize
    }

    fn fetched(&self, token: Option<&str>, client: ClientFamily) {
        let now = Instant::now();
        let mut s = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        self.expire(&mut s, now);
        match token {
            Some(t) => {
                let key = s.keys.hash_one(t);
                if let Some(seen) = s.seen.get_mut(&key) {
                    seen.last = now;
                } else if s.seen.len() < MAX_SESSIONS {
                    let seen = Seen {
                        first: now,
                        last: now,
                        client,
                    };
                    s.seen.insert(key, seen);
                }
            }
            None if s.anonymous.len() < MAX_SESSIONS => s.anonymous.push_back(now),
            None => {}
        }
    }
}

/// One token's fetches.
struct Seen {
    first: Instant,
    last: Instant,
    client: ClientFamily,
}

/// Playlist fetches of the last [`SESSION_SPAN`].
#[derive(Default)]
struct Sessions {
    /// Keyed hashes of the tokens (random key per process).
    seen: HashMap<u64, Seen>,
    keys: std::collections::hash_map::RandomState,
    /// Fetches without a token.
    anonymous: VecDeque<Instant>,
    last_expiry: Option<Instant>,
}

impl HlsService {
    fn expire(&self, s: &mut Sessions, now: Instant) {
        while s
            .anonymous
            .front()
            .is_some_and(|t| now.duration_since(*t) > SESSION_SPAN)
        {
            s.anonymous.pop_front();
        }
        // The map is swept at most once a second.
        if s.last_expiry
            .is_some_and(|t| now.duration_since(t) < Duration::from_secs(1))
        {
            return;
        }
        s.last_expiry = Some(now);
        let tail = self.tail();
        s.seen.retain(|_, seen| {
            let live = now.duration_since(seen.last) <= SESSION_SPAN;
            if !live {
                self.ended(seen, tail);
            }
            live
        });
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
    headers: HeaderMap,
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
        let client = headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map_or(ClientFamily::Other, ClientFamily::from_user_agent);
        hls.fetched(token, client);
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
