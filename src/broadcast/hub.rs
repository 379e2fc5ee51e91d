//! The fan-out hub: one producer pushes whole frames (MP3 frames, Ogg pages), every listener
//! receives them.
//!
//! Frames travel as shared [`Bytes`] on a `tokio::sync::broadcast` ring, so a frame is stored
//! once whatever the audience. Consecutive frames are coalesced into chunks of at least
//! `chunk` of audio (default 400 ms, always whole frames) before they are published: every
//! published chunk costs each listener one wake-up and one socket write (most of a
//! listener's CPU is that write, in the kernel), so publishing 38 frames a second one by one
//! would cost several times the CPU for no gain a radio listener could hear, and 400 ms
//! chunks cost about half of 200 ms ones for 200 ms more delay behind the 2 s burst. The hub also keeps the last `burst` of frames (≥ the configured
//! duration, counted in samples) so a new listener starts on a frame boundary with enough audio
//! for its player to start at once. The producer never waits: a listener that falls more than
//! `backlog_bytes` behind the head (or off the ring) is dropped when it next wakes, and the
//! ring keeps no more than its fixed capacity whatever the slow listeners do.
//!
//! The now-playing title lives in a `watch` channel: the ICY interleaver reads it at each
//! metadata boundary and the Icecast pusher waits on its changes.
//!
//! An Ogg stream cannot be joined anywhere: a player needs the current logical stream's header
//! pages first. Its producer declares them with [`Hub::start_chain`]; a new listener gets them
//! before the burst, and the burst restarts with the new logical stream.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

use super::frames::Frame;
use super::icy;
use super::listener::{CountGuard, Listener};
use super::sessions::SessionLog;
use crate::catalog::{ClientFamily, StreamKind};

/// The smallest MPEG-1 Layer III frame (32 kbps at 48 kHz) and the lowest byte rate we size
/// for (32 kbps): they size the ring so that the byte backlog, not the ring, is what drops a
/// slow listener.
const MIN_FRAME_BYTES: usize = 96;
const MIN_BYTES_PER_S: f64 = 4_000.0;

/// Fan-out limits (the daemon builds them from its settings in `daemon::edge`).
#[derive(Debug, Clone, PartialEq)]
pub struct HubConfig {
    /// Audio sent at once to a new listener.
    pub burst: Duration,
    /// Least audio per published chunk (zero: publish every frame at once).
    pub chunk: Duration,
    /// Listeners beyond this get [`HubError::Full`].
    pub max_listeners: usize,
    /// Bytes a listener may lag behind the newest frame before it is dropped. Must exceed the
    /// burst in bytes, or every new listener would start already too late.
    pub backlog_bytes: usize,
}

impl Default for HubConfig {
    /// The settings' defaults: a 2 s burst, 400 ms chunks, 10,000 listeners, 256 KiB of
    /// backlog.
    fn default() -> Self {
        HubConfig {
            burst: Duration::from_secs(2),
            chunk: Duration::from_millis(400),
            max_listeners: 10_000,
            backlog_bytes: 256 * 1024,
        }
    }
}

/// Why a listener could not be admitted; the http layer maps both to 503.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HubError {
    #[error("listener limit reached ({limit})")]
    Full { limit: usize },
    #[error("the stream is shutting down")]
    ShuttingDown,
}

/// Whole frames on the ring, with the stream byte offset just past their end and the audio
/// time of their first sample (a frame index of the playout's time base).
#[derive(Debug, Clone)]
pub(super) struct Chunk {
    pub end: u64,
    pub bytes: Bytes,
    pub at: u64,
}

/// The now-playing title, with its pre-encoded ICY block (encoded once, shared by listeners).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title {
    pub text: String,
    /// Incremented at every change; lets a listener tell "changed" from "same as sent".
    pub version: u64,
    pub icy_block: Bytes,
}

/// The burst ring (whole published frames covering at least the burst duration, each with
/// its sample count and audio time) and the frames waiting to complete the next chunk.
#[derive(Debug, Default)]
struct Burst {
    frames: VecDeque<(Bytes, u32, u64)>,
    samples: u64,
    pending: Vec<(Bytes, u32)>,
    pending_samples: u64,
    /// Audio time of the first pending frame.
    pending_at: u64,
    /// Audio time the next frame continues from.
    next_at: u64,
    /// Sample rate of the frames pushed (to size the burst).
    rate: u64,
    /// Sent to every new listener before the burst (an Ogg stream's header pages).
    prefix: Option<Bytes>,
}

/// `duration` in samples at `rate`, rounded down.
fn samples_in(duration: Duration, rate: u64) -> u64 {
    (duration.as_micros() as u64).saturating_mul(rate) / 1_000_000
}

pub(super) struct Shared {
    pub config: HubConfig,
    pub tx: broadcast::Sender<Chunk>,
    burst: Mutex<Burst>,
    /// Stream bytes pushed so far (the offset of the head).
    pub head: AtomicU64,
    pub listeners: AtomicUsize,
    pub dropped: AtomicU64,
    pub title: watch::Sender<Title>,
    pub shutdown: CancellationToken,
    /// Where listeners' sessions go when they end, once the daemon says so.
    sessions: OnceLock<(SessionLog, StreamKind)>,
}

/// Cheap to clone handle on the fan-out; see the module doc.
#[derive(Clone)]
pub struct Hub {
    shared: Arc<Shared>,
}

impl Hub {
    /// A hub whose listener streams all end when `shutdown` is cancelled.
    pub fn new(config: HubConfig, shutdown: CancellationToken) -> Hub {
        let min_chunk_bytes =
            (config.chunk.as_secs_f64() * MIN_BYTES_PER_S).max(MIN_FRAME_BYTES as f64);
        let capacity =
            ((config.backlog_bytes as f64 / min_chunk_bytes) as usize).clamp(16, 1 << 16);
        let (tx, _) = broadcast::channel(capacity);
        let title = Title {
            text: String::new(),
            version: 0,
            icy_block: icy::encode_block(""),
        };
        Hub {
            shared: Arc::new(Shared {
                config,
                tx,
                burst: Mutex::new(Burst::default()),
                head: AtomicU64::new(0),
                listeners: AtomicUsize::new(0),
                dropped: AtomicU64::new(0),
                title: watch::Sender::new(title),
                shutdown,
                sessions: OnceLock::new(),
            }),
        }
    }

    /// Publishes one whole frame (once `chunk` of audio has accumulated), continuing the
    /// audio time of the previous one. Never waits for a listener; callable from any thread.
    pub fn push(&self, frame: Frame) {
        self.push_at(frame, None);
    }

    /// [`Hub::push`] with the audio time of the frame's first sample (a frame index of the
    /// playout's time base), or `None` to continue from the previous frame. A frame that
    /// does not continue the pending ones closes their chunk first, so a chunk's frames are
    /// always contiguous in time.
    pub fn push_at(&self, frame: Frame, at: Option<u64>) {
        let (samples, rate) = (frame.header.samples(), frame.header.sample_rate);
        self.push_audio_at(frame.bytes, samples, rate, at);
    }

    /// Publishes one whole unit of audio of any format (an MP3 frame, an Ogg page) holding
    /// `samples` frames at `rate`, continuing the previous one's audio time.
    pub fn push_audio(&self, bytes: Bytes, samples: u32, rate: u32) {
        self.push_audio_at(bytes, samples, rate, None);
    }

    fn push_audio_at(&self, bytes: Bytes, samples: u32, rate: u32, at: Option<u64>) {
        let shared = &self.shared;
        let mut burst = shared.burst.lock().unwrap_or_else(|e| e.into_inner());
        burst.rate = u64::from(rate);
        let at = at.unwrap_or(burst.next_at);
        if at != burst.next_at && !burst.pending.is_empty() {
            self.publish(&mut burst);
        }
        if burst.pending.is_empty() {
            burst.pending_at = at;
        }
        burst.next_at = at + u64::from(samples);
        burst.pending_samples += u64::from(samples);
        burst.pending.push((bytes, samples));
        if burst.pending_samples >= samples_in(shared.config.chunk, burst.rate) {
            self.publish(&mut burst);
        }
    }

    /// Publishes the pending frames as one chunk and trims the burst.
    fn publish(&self, burst: &mut Burst) {
        let shared = &self.shared;
        let frames = std::mem::take(&mut burst.pending);
        burst.pending_samples = 0;
        let chunk = if frames.len() == 1 {
            frames[0].0.clone()
        } else {
            let mut joined = bytes::BytesMut::with_capacity(frames.iter().map(|f| f.0.len()).sum());
            for (bytes, _) in &frames {
                joined.extend_from_slice(bytes);
            }
            joined.freeze()
        };
        // The burst keeps each frame as a zero-copy slice of the chunk.
        let (mut offset, mut at) = (0, burst.pending_at);
        for (bytes, samples) in &frames {
            let len = bytes.len();
            burst
                .frames
                .push_back((chunk.slice(offset..offset + len), *samples, at));
            burst.samples += u64::from(*samples);
            offset += len;
            at += u64::from(*samples);
        }
        let burst_samples = samples_in(shared.config.burst, burst.rate);
        while let Some(&(_, first, _)) = burst.frames.front() {
            if burst.samples - u64::from(first) < burst_samples {
                break;
            }
            burst.samples -= u64::from(first);
            burst.frames.pop_front();
        }
        self.send(chunk, burst.pending_at);
    }

    fn send(&self, bytes: Bytes, at: u64) {
        let len = bytes.len() as u64;
        let end = self.shared.head.fetch_add(len, Ordering::AcqRel) + len;
        // An error only means nobody listens right now.
        let _ = self.shared.tx.send(Chunk { end, bytes, at });
    }

    /// A new logical Ogg stream begins with `headers` (its header pages): what is pending of
    /// the previous one goes out first, then the headers; new listeners get the headers before
    /// a burst that holds only the new stream.
    pub fn start_chain(&self, headers: Bytes) {
        let mut burst = self.shared.burst.lock().unwrap_or_else(|e| e.into_inner());
        if !burst.pending.is_empty() {
            self.publish(&mut burst);
        }
        burst.frames.clear();
        burst.samples = 0;
        burst.prefix = Some(headers.clone());
        self.send(headers, burst.next_at);
    }

    /// Sets the now-playing title; listeners see it at their next ICY block.
    pub fn set_title(&self, text: &str) {
        self.shared.title.send_if_modified(|t| {
            if t.text == text {
                return false;
            }
            *t = Title {
                text: text.to_owned(),
                version: t.version + 1,
                icy_block: icy::encode_block(text),
            };
            true
        });
    }

    /// The current title.
    pub fn title(&self) -> Title {
        self.shared.title.borrow().clone()
    }

    /// A receiver notified at every title change.
    pub fn watch_title(&self) -> watch::Receiver<Title> {
        self.shared.title.subscribe()
    }

    /// Listeners currently connected (relays excluded).
    pub fn listeners(&self) -> usize {
        self.shared.listeners.load(Ordering::Acquire)
    }

    /// Listeners dropped so far because they fell too far behind.
    pub fn dropped_total(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Stream bytes published so far.
    pub fn bytes_pushed(&self) -> u64 {
        self.shared.head.load(Ordering::Acquire)
    }

    pub fn config(&self) -> &HubConfig {
        &self.shared.config
    }

    /// Whether one more listener would be admitted (for `HEAD`, which opens no stream).
    pub fn has_room(&self) -> bool {
        !self.shared.shutdown.is_cancelled() && self.listeners() < self.shared.config.max_listeners
    }

    /// From now on, every listener's session is sent to `log` as `output` when it ends
    /// (the first call wins; relays are not listeners).
    pub fn record_sessions(&self, log: SessionLog, output: StreamKind) {
        let _ = self.shared.sessions.set((log, output));
    }

    /// Admits a listener: its stream starts with the burst, on a frame boundary. With `icy`,
    /// ICY metadata blocks are interleaved every [`icy::METAINT`] audio bytes.
    pub fn subscribe(&self, icy: bool) -> Result<Listener, HubError> {
        self.subscribe_from(icy, ClientFamily::Other)
    }

    /// [`Hub::subscribe`] for a listener whose player is of `client`'s family (recorded with
    /// its session, see [`Hub::record_sessions`]).
    pub fn subscribe_from(&self, icy: bool, client: ClientFamily) -> Result<Listener, HubError> {
        if self.shared.shutdown.is_cancelled() {
            return Err(HubError::ShuttingDown);
        }
        let limit = self.shared.config.max_listeners;
        self.shared
            .listeners
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < limit).then_some(n + 1)
            })
            .map_err(|_| HubError::Full { limit })?;
        let session = (self.shared.sessions.get()).map(|(log, output)| log.open(*output, client));
        let guard = CountGuard::new(Arc::clone(&self.shared), session);
        Ok(self.open(icy, Some(guard)))
    }

    /// A subscription for a relay (the Icecast push): same stream and lag policy, not counted as a
    /// listener and not subject to the limit.
    pub fn subscribe_relay(&self) -> Result<Listener, HubError> {
        if self.shared.shutdown.is_cancelled() {
            return Err(HubError::ShuttingDown);
        }
        Ok(self.open(false, None))
    }

    fn open(&self, icy: bool, guard: Option<CountGuard>) -> Listener {
        // Under the burst lock, so every frame is either in the burst or on the receiver.
        let burst = self.shared.burst.lock().unwrap_or_else(|e| e.into_inner());
        let rx = self.shared.tx.subscribe();
        let pending: VecDeque<Bytes> = (burst.prefix.iter().cloned())
            .chain(burst.frames.iter().map(|(b, ..)| b.clone()))
            .collect();
        drop(burst);
        Listener::new(Arc::clone(&self.shared), rx, pending, icy, guard)
    }

    /// A relay subscription that keeps the audio time (the HLS segmenter): the burst, then
    /// every chunk, as [`Timed`] whole frames. Not counted as a listener.
    pub fn subscribe_timed(&self) -> Result<TimedFeed, HubError> {
        if self.shared.shutdown.is_cancelled() {
            return Err(HubError::ShuttingDown);
        }
        let burst = self.shared.burst.lock().unwrap_or_else(|e| e.into_inner());
        let rx = self.shared.tx.subscribe();
        let pending = burst
            .frames
            .iter()
            .map(|(bytes, _, at)| Timed {
                at: *at,
                bytes: bytes.clone(),
            })
            .collect();
        drop(burst);
        Ok(TimedFeed {
            shared: Arc::clone(&self.shared),
            rx,
            pending,
        })
    }
}

/// Whole MP3 frames and the audio time of their first sample (a frame index of the
/// playout's time base, counted from the Unix epoch at the station rate).
#[derive(Debug, Clone)]
pub struct Timed {
    pub at: u64,
    pub bytes: Bytes,
}

/// Why a [`TimedFeed`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedEnd {
    /// The stream is shutting down.
    Closed,
    /// The subscriber fell too far behind: subscribe again (audio was lost).
    Lagged,
}

/// See [`Hub::subscribe_timed`].
pub struct TimedFeed {
    shared: Arc<Shared>,
    rx: broadcast::Receiver<Chunk>,
    pending: VecDeque<Timed>,
}

impl TimedFeed {
    /// The next frames, or why the feed ended. Never makes the hub wait: a subscriber that
    /// falls behind the ring gets [`FeedEnd::Lagged`].
    pub async fn next(&mut self) -> Result<Timed, FeedEnd> {
        if let Some(t) = self.pending.pop_front() {
            return Ok(t);
        }
        let received = tokio::select! {
            biased;
            () = self.shared.shutdown.cancelled() => return Err(FeedEnd::Closed),
            received = self.rx.recv() => received,
        };
        match received {
            Ok(chunk) => Ok(Timed {
                at: chunk.at,
                bytes: chunk.bytes,
            }),
            Err(broadcast::error::RecvError::Lagged(_)) => Err(FeedEnd::Lagged),
            Err(broadcast::error::RecvError::Closed) => Err(FeedEnd::Closed),
        }
    }
}
