//! HLS with a DVR window: the MP3 mount's frames cut into packed-audio segments on disk
//! (`data_dir/hls/`), listed by a live playlist (`live.m3u8`) that keeps `hls_window` of them.
//!
//! Why packed MP3 (RFC 8216 §3.4) rather than MPEG-TS or fMP4: the segments are the very
//! frames `/stream` sends (encoded once, no second encoder, no remuxing), MP3 plays
//! wherever HLS does (Safari natively, hls.js through MSE `audio/mpeg`), and a packed
//! segment is just an ID3 tag and the frames, so a plain static server can serve the folder.
//!
//! [`HlsOutput`] is an [`Output`]: one more subscriber of the mount's hub
//! ([`crate::broadcast::Hub::subscribe_timed`], which carries each frame's audio time). The
//! task cuts segments ([`segment`]) and hands each to a writer thread ([`disk`]) through a
//! short queue: when the disk is slow and the queue full, the segment is dropped (counted;
//! the next one carries `#EXT-X-DISCONTINUITY`), so neither the hub nor the task ever waits
//! for the disk. [`HlsStore`] is what HTTP serves from: the playlist and the newest segments
//! in memory, older ones from the folder (the last ones read kept in memory too).
//!
//! **Invariant:** a segment's `#EXT-X-PROGRAM-DATE-TIME` is the time-base instant of its first
//! sample's frame index, so it matches the schedule's instants to the frame (and its ID3
//! timestamp is the same index at 90 kHz).

pub mod disk;
pub mod playlist;
pub mod segment;

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio_util::sync::CancellationToken;

use super::hub::FeedEnd;
use super::output::{Mount, Output, OutputTask};
pub use playlist::{PLAYLIST, Playlist, program_date_time};
pub use segment::{Cut, Segmenter};

/// Segments waiting for the writer at most; one more is dropped.
const QUEUE: usize = 4;
/// Newest segments kept in memory for HTTP (about 10 minutes of 6 s segments).
const RECENT: usize = 100;
/// Older segments kept in memory once read from disk (listeners starting "from the start"
/// of the same show fetch the same ones).
const OLDER: usize = 100;

/// Where and how the HLS output writes (built by `daemon::edge` from the settings).
#[derive(Debug, Clone, PartialEq)]
pub struct HlsConfig {
    /// The folder of segments and playlist (`data_dir/hls`).
    pub dir: PathBuf,
    /// How far back the playlist reaches (the DVR window).
    pub window: Duration,
    /// About how long a segment is (cut on the next frame boundary).
    pub segment: Duration,
    /// The station rate (the stream's).
    pub rate: u32,
}

impl HlsConfig {
    /// `#EXT-X-TARGETDURATION`: the longest segment's duration, rounded (RFC 8216 §4.3.3.1).
    pub fn target_duration(&self) -> u32 {
        let samples = (self.segment.as_secs_f64() * f64::from(self.rate)) as u64;
        let longest = samples.div_ceil(1152).max(1) * 1152;
        ((longest as f64 / f64::from(self.rate)).round() as u32).max(1)
    }
}

/// What HTTP serves: the playlist and the newest segments (older ones are read from the
/// folder), plus the output's counters. Cheap to clone.
#[derive(Clone)]
pub struct HlsStore(Arc<StoreInner>);

struct StoreInner {
    dir: PathBuf,
    playlist: Mutex<Option<Bytes>>,
    /// `(seq, bytes)`, consecutive sequence numbers, oldest first.
    recent: Mutex<VecDeque<(u64, Bytes)>>,
    /// Segments read back from disk, first read first evicted.
    older: Mutex<(HashMap<u64, Bytes>, VecDeque<u64>)>,
    target: AtomicU32,
    written: AtomicU64,
    dropped: AtomicU64,
}

impl HlsStore {
    pub fn new(dir: PathBuf) -> HlsStore {
        HlsStore(Arc::new(StoreInner {
            dir,
            playlist: Mutex::default(),
            recent: Mutex::default(),
            older: Mutex::default(),
            target: AtomicU32::new(6),
            written: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        }))
    }

    /// The folder the segments are in.
    pub fn dir(&self) -> &std::path::Path {
        &self.0.dir
    }

    /// The current playlist, once there is one.
    pub fn playlist(&self) -> Option<Bytes> {
        self.0
            .playlist
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Segment `seq` if it is in memory: among the newest, or read from disk lately (else
    /// read it from [`HlsStore::dir`] and hand it to [`HlsStore::remember`]).
    pub fn cached(&self, seq: u64) -> Option<Bytes> {
        let newest = {
            let recent = self.0.recent.lock().unwrap_or_else(|p| p.into_inner());
            recent.front().and_then(|(first, _)| {
                let (s, bytes) = recent.get(usize::try_from(seq.checked_sub(*first)?).ok()?)?;
                (*s == seq).then(|| bytes.clone())
            })
        };
        newest.or_else(|| {
            let older = self.0.older.lock().unwrap_or_else(|p| p.into_inner());
            older.0.get(&seq).cloned()
        })
    }

    /// Keeps segment `seq`, just read from disk, in memory (segments never change).
    pub fn remember(&self, seq: u64, bytes: Bytes) {
        let mut older = self.0.older.lock().unwrap_or_else(|p| p.into_inner());
        let (map, order) = &mut *older;
        if map.insert(seq, bytes).is_none() {
            order.push_back(seq);
        }
        while order.len() > OLDER {
            if let Some(gone) = order.pop_front() {
                map.remove(&gone);
            }
        }
    }

    /// `#EXT-X-TARGETDURATION`, seconds (listener estimates).
    pub fn target_duration(&self) -> u32 {
        self.0.target.load(Ordering::Relaxed)
    }

    /// Segments written since start.
    pub fn written_total(&self) -> u64 {
        self.0.written.load(Ordering::Relaxed)
    }

    /// Segments dropped since start because the disk was behind.
    pub fn dropped_total(&self) -> u64 {
        self.0.dropped.load(Ordering::Relaxed)
    }

    fn set_playlist(&self, text: Bytes) {
        *self.0.playlist.lock().unwrap_or_else(|p| p.into_inner()) = Some(text);
    }

    fn set_target(&self, seconds: u32) {
        self.0.target.store(seconds, Ordering::Relaxed);
    }

    /// A segment is on disk and listed by `playlist`.
    fn publish(&self, seq: u64, segment: Bytes, playlist: Bytes) {
        {
            let mut recent = self.0.recent.lock().unwrap_or_else(|p| p.into_inner());
            if recent.back().is_some_and(|(s, _)| s + 1 != seq) {
                recent.clear();
            }
            recent.push_back((seq, segment));
            while recent.len() > RECENT {
                recent.pop_front();
            }
        }
        self.set_playlist(playlist);
        self.0.written.fetch_add(1, Ordering::Relaxed);
    }
}

/// The HLS output of a mount; see the module doc.
pub struct HlsOutput {
    pub config: HlsConfig,
    pub store: HlsStore,
}

impl Output for HlsOutput {
    fn describe(&self) -> String {
        format!(
            "hls {} ({} s segments, {} s window)",
            self.config.dir.display(),
            self.config.segment.as_secs_f64(),
            self.config.window.as_secs()
        )
    }

    fn run(self: Box<Self>, mount: Mount, shutdown: CancellationToken) -> OutputTask {
        Box::pin(async move {
            let HlsOutput { config, store } = *self;
            let (tx, rx) = std::sync::mpsc::sync_channel::<Cut>(QUEUE);
            let writer = {
                let (config, store) = (config.clone(), store.clone());
                std::thread::Builder::new()
                    .name("hls-writer".into())
                    .spawn(move || write_segments(config, store, rx))
            };
            let writer = match writer {
                Ok(w) => w,
                Err(e) => {
                    tracing::error!("hls: cannot start the writer thread: {e}");
                    return;
                }
            };
            cut_segments(&mount, &config, &store, &tx, &shutdown).await;
            drop(tx);
            // The writer finishes the queue (a few segments) and stops.
            let _ = tokio::task::spawn_blocking(move || writer.join()).await;
        })
    }
}

/// Reads the mount's frames and queues each finished segment, until shutdown (then the
/// segment in progress is queued too).
async fn cut_segments(
    mount: &Mount,
    config: &HlsConfig,
    store: &HlsStore,
    tx: &std::sync::mpsc::SyncSender<Cut>,
    shutdown: &CancellationToken,
) {
    let mut segmenter = Segmenter::new(config.segment.as_secs_f64(), config.rate);
    let send = |cut: Cut| match tx.try_send(cut) {
        Ok(()) => true,
        Err(std::sync::mpsc::TrySendError::Full(cut)) => {
            let n = store.0.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                tracing::warn!(
                    dropped = n,
                    at = cut.at,
                    "hls: the disk is behind; segment dropped"
                );
            }
            true
        }
        Err(std::sync::mpsc::TrySendError::Disconnected(_)) => false,
    };
    'subscribe: while !shutdown.is_cancelled() {
        let Ok(mut feed) = mount.hub.subscribe_timed() else {
            break;
        };
        loop {
            let next = tokio::select! {
                () = shutdown.cancelled() => break 'subscribe,
                next = feed.next() => next,
            };
            match next {
                Ok(frames) => {
                    let title = mount.hub.title().text;
                    for cut in segmenter.push(frames.at, &frames.bytes, &title) {
                        if !send(cut) {
                            tracing::error!("hls: the writer stopped");
                            return;
                        }
                    }
                }
                Err(FeedEnd::Lagged) => {
                    tracing::warn!("hls: fell behind the stream; subscribing again");
                    continue 'subscribe;
                }
                Err(FeedEnd::Closed) => break 'subscribe,
            }
        }
    }
    if let Some(cut) = segmenter.finish() {
        send(cut);
    }
}

/// The writer thread: each queued segment to disk, until the queue closes.
fn write_segments(config: HlsConfig, store: HlsStore, rx: std::sync::mpsc::Receiver<Cut>) {
    let dir = config.dir.clone();
    let mut disk = match disk::Disk::open(config, store) {
        Ok(d) => d,
        Err(e) => {
            tracing::error!("hls: cannot use {}: {e}; no HLS this run", dir.display());
            for _ in rx {}
            return;
        }
    };
    let mut failing = false;
    for cut in rx {
        match disk.append(&cut) {
            Ok(()) => failing = false,
            Err(e) => {
                if !failing {
                    tracing::error!("hls: writing a segment in {}: {e}", dir.display());
                }
                failing = true;
            }
        }
    }
}
