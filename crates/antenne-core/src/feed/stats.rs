//! Download counting after the IAB Podcast Measurement Technical Guidelines v2.x, as a pure
//! state machine: the HTTP layer reports what it served, [`DownloadCounter::observe`] says
//! when that makes a download.
//!
//! Rules implemented (and declared, as the guidelines ask):
//! - `HEAD`, `304`, any status other than 200/206, `Range: bytes=0-1` probes (any request of
//!   two bytes or fewer) and known bots (see [`is_bot`]) never count and leave no state;
//! - a listener is a salted SHA-256 of the client's IP (IPv6 reduced to its /64) and user
//!   agent; the salt is derived from a secret and the UTC day, so it rotates every day and
//!   no raw IP is kept;
//! - the bytes served to one listener for one episode are merged as intervals; a download
//!   counts once they cover the ID3 header plus 60 s of audio (or the whole file if shorter);
//! - the window is the UTC calendar day, aligned with the salt rotation: a listener counts at
//!   most once per episode per day, and the whole state is dropped when the day changes.

use std::collections::HashMap;
use std::net::IpAddr;

use jiff::Timestamp;
use sha2::{Digest, Sha256};

/// Seconds of audio a listener must have received (after the ID3 header) for a download.
pub const MIN_AUDIO_SECONDS: u64 = 60;

/// What the server knows about an episode file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpisodeFile {
    /// The catalog id.
    pub id: String,
    /// Size of the file served, bytes.
    pub length: u64,
    /// Size of the leading ID3v2 tag, bytes (0 without one).
    pub header_bytes: u64,
    /// Audio bytes per second (CBR bitrate / 8).
    pub bytes_per_second: u64,
}

impl EpisodeFile {
    /// The bytes `[0, threshold)` a listener must have received.
    pub fn threshold(&self) -> u64 {
        (self.header_bytes + MIN_AUDIO_SECONDS * self.bytes_per_second).min(self.length)
    }
}

/// One finished (or aborted) response for an enclosure, as the HTTP layer saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served<'a> {
    pub head: bool,
    pub status: u16,
    /// Offset of the first byte of the body (0 for a 200).
    pub start: u64,
    /// Bytes of body actually written to the client.
    pub bytes: u64,
    pub ip: IpAddr,
    pub user_agent: &'a str,
}

/// A salted listener identity (first 16 bytes of the hash), meaningful within one UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ListenerId(pub [u8; 16]);

/// A download that just counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountedDownload {
    pub episode: String,
    pub listener: ListenerId,
    pub at: Timestamp,
}

/// Per-day counting state.
#[derive(Debug)]
pub struct DownloadCounter {
    secret: [u8; 32],
    /// UTC day (days since the epoch) the state and the salt belong to.
    day: i64,
    salt: [u8; 32],
    progress: HashMap<(ListenerId, String), Progress>,
    /// Beyond this many listener×episode pairs a day, new pairs are not tracked (a bound on
    /// memory against floods of forged user agents).
    max_pairs: usize,
}

#[derive(Debug, Default)]
struct Progress {
    /// Disjoint, sorted, half-open byte intervals served.
    covered: Vec<(u64, u64)>,
    counted: bool,
}

impl DownloadCounter {
    /// `secret` should be random and kept private; persisting it lets counting survive a
    /// restart within the day without double counts.
    pub fn new(secret: [u8; 32], max_pairs: usize) -> Self {
        DownloadCounter {
            secret,
            day: i64::MIN,
            salt: [0; 32],
            progress: HashMap::new(),
            max_pairs,
        }
    }

    /// Feeds one served response; returns the download it completes, if any.
    pub fn observe(
        &mut self,
        file: &EpisodeFile,
        served: &Served<'_>,
        now: Timestamp,
    ) -> Option<CountedDownload> {
        if served.head
            || !matches!(served.status, 200 | 206)
            || served.bytes <= 2
            || is_bot(served.user_agent)
        {
            return None;
        }
        self.roll_day(now);
        let listener = self.listener(served.ip, served.user_agent);
        let key = (listener, file.id.clone());
        if !self.progress.contains_key(&key) && self.progress.len() >= self.max_pairs {
            return None;
        }
        let progress = self.progress.entry(key).or_default();
        if progress.counted {
            return None;
        }
        let end = served.start.saturating_add(served.bytes).min(file.length);
        insert_interval(&mut progress.covered, served.start.min(end), end);
        if covers(&progress.covered, file.threshold()) {
            progress.covered = Vec::new();
            progress.counted = true;
            return Some(CountedDownload {
                episode: file.id.clone(),
                listener,
                at: now,
            });
        }
        None
    }

    /// The salted identity of a client today (exposed for the HTTP layer's unique counts).
    pub fn listener(&self, ip: IpAddr, user_agent: &str) -> ListenerId {
        let mut h = Sha256::new();
        h.update(self.salt);
        match canonical_ip(ip) {
            IpAddr::V4(v4) => h.update(v4.octets()),
            IpAddr::V6(v6) => h.update(&v6.octets()[..8]),
        }
        h.update([0]);
        h.update(user_agent.as_bytes());
        let full: [u8; 32] = h.finalize().into();
        let mut id = [0; 16];
        id.copy_from_slice(&full[..16]);
        ListenerId(id)
    }

    /// Tracked listener×episode pairs today.
    pub fn tracked(&self) -> usize {
        self.progress.len()
    }

    fn roll_day(&mut self, now: Timestamp) {
        let day = now.as_second().div_euclid(86_400);
        if day != self.day {
            self.day = day;
            self.progress.clear();
            let mut h = Sha256::new();
            h.update(self.secret);
            h.update(day.to_be_bytes());
            self.salt = h.finalize().into();
        }
    }
}

/// IPv4-mapped IPv6 addresses are the IPv4 client.
fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Adds `[start, end)` to sorted disjoint intervals, merging overlaps and neighbours.
fn insert_interval(intervals: &mut Vec<(u64, u64)>, start: u64, end: u64) {
    if start >= end {
        return;
    }
    let (mut s, mut e) = (start, end);
    let mut kept = Vec::with_capacity(intervals.len() + 1);
    for &(a, b) in intervals.iter() {
        if b < s || a > e {
            kept.push((a, b));
        } else {
            s = s.min(a);
            e = e.max(b);
        }
    }
    kept.push((s, e));
    kept.sort_unstable();
    *intervals = kept;
}

/// Whether `[0, threshold)` is entirely covered.
fn covers(intervals: &[(u64, u64)], threshold: u64) -> bool {
    threshold == 0
        || intervals
            .first()
            .is_some_and(|&(a, b)| a == 0 && b >= threshold)
}

/// Case-insensitive fragments of user agents that are not listeners: crawlers, link
/// previewers, validators and generic HTTP libraries (after the OPAWG podcast user-agent list
/// and the IAB's guidance to exclude known bots). An empty user agent is a bot too.
const BOT_FRAGMENTS: &[&str] = &[
    "bot",
    "crawl",
    "spider",
    "slurp",
    "facebookexternalhit",
    "embedly",
    "preview",
    "validator",
    "itms",
    "curl/",
    "wget/",
    "python-requests",
    "python-urllib",
    "aiohttp",
    "go-http-client",
    "libwww-perl",
    "httpie",
    "headlesschrome",
    "phantomjs",
    "lighthouse",
    "pingdom",
    "uptimerobot",
    "monitor",
];

/// Whether `user_agent` belongs to a known bot or tool.
pub fn is_bot(user_agent: &str) -> bool {
    let ua = user_agent.trim().to_ascii_lowercase();
    ua.is_empty() || BOT_FRAGMENTS.iter().any(|f| ua.contains(f))
}
