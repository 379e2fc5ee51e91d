//! The airplay writer: a thread of its own that turns [`Aired`] events into catalog rows.
//!
//! It waits for an event, gathers what else arrives within [`BATCH_WAIT`] (up to
//! [`BATCH_MAX`]), then for each new item finds the file's content hash (the media folder's
//! hash cache, or hashing it once) and its tags (read once per hash with lofty, kept in the
//! catalog), and writes the batch in one transaction. Hashing and tag reading happen here,
//! never on the render thread.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use lofty::prelude::*;
use sha2::{Digest, Sha256};

use super::{Aired, AirplayCounters, AirplayLog, QUEUE};
use crate::catalog::{AirEnd, AirStart, AirplayWrite, Catalog, FileStamp, MediaTags};
use crate::playout::Clock;

/// How long the writer gathers events into one transaction.
pub const BATCH_WAIT: Duration = Duration::from_millis(500);
/// The most events in one transaction.
pub const BATCH_MAX: usize = 256;

/// What the writer needs to name files and stamp tags.
#[derive(Clone)]
pub struct WriterConfig {
    pub sample_rate: u32,
    /// Files under it are named relative to it (and share the loudness cache's hashes).
    pub media_dir: PathBuf,
    /// Episodes' renditions are named relative to it.
    pub data_dir: PathBuf,
    pub clock: Arc<dyn Clock>,
}

/// The running writer. [`AirplayWriter::stop`] writes what is queued, then joins.
pub struct AirplayWriter {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl AirplayWriter {
    /// Starts the writer on `catalog`; the returned log is what playout sends on.
    pub fn start(
        catalog: Catalog,
        config: WriterConfig,
    ) -> std::io::Result<(AirplayLog, AirplayWriter)> {
        Self::start_with_queue(catalog, config, QUEUE)
    }

    /// [`Self::start`] with a queue of `queue` events (tests of a lagging writer).
    pub fn start_with_queue(
        catalog: Catalog,
        config: WriterConfig,
        queue: usize,
    ) -> std::io::Result<(AirplayLog, AirplayWriter)> {
        let (tx, rx) = sync_channel(queue);
        let counters = Arc::new(AirplayCounters::default());
        let stop = Arc::new(AtomicBool::new(false));
        let mut w = Writer {
            catalog,
            config,
            counters: counters.clone(),
            hashes: HashMap::new(),
            tagged: HashSet::new(),
            dropped_seen: 0,
        };
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("airplay-log".into())
            .spawn(move || w.run(&rx, &flag))?;
        let log = AirplayLog {
            tx: Some(tx),
            counters,
        };
        Ok((
            log,
            AirplayWriter {
                stop,
                thread: Some(thread),
            },
        ))
    }

    /// Writes every event already queued, then ends the thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for AirplayWriter {
    fn drop(&mut self) {
        self.shutdown();
    }
}

struct Writer {
    catalog: Catalog,
    config: WriterConfig,
    counters: Arc<AirplayCounters>,
    /// Hashes of files outside the media folder (renditions), by path, size and mtime.
    hashes: HashMap<(PathBuf, u64, i64), String>,
    /// Contents whose tags the catalog holds.
    tagged: HashSet<String>,
    /// Drops already warned about.
    dropped_seen: u64,
}

impl Writer {
    fn run(&mut self, rx: &Receiver<Aired>, stop: &AtomicBool) {
        let poll = Duration::from_millis(100);
        loop {
            let first = match rx.recv_timeout(poll) {
                Ok(e) => e,
                Err(RecvTimeoutError::Timeout) if stop.load(Ordering::Relaxed) => return,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => return,
            };
            let mut batch = vec![first];
            let until = Instant::now() + BATCH_WAIT;
            while batch.len() < BATCH_MAX {
                let left = until.saturating_duration_since(Instant::now());
                let next = if stop.load(Ordering::Relaxed) || left.is_zero() {
                    rx.try_recv().ok()
                } else {
                    rx.recv_timeout(left.min(poll)).ok()
                };
                match next {
                    Some(e) => batch.push(e),
                    None if stop.load(Ordering::Relaxed) || left.is_zero() => break,
                    None => {}
                }
            }
            self.write(batch);
            let dropped = self.counters.dropped.load(Ordering::Relaxed);
            if dropped > self.dropped_seen {
                tracing::warn!(
                    dropped = dropped - self.dropped_seen,
                    "airplay: the log fell behind; events were dropped"
                );
                self.dropped_seen = dropped;
            }
        }
    }

    fn write(&mut self, batch: Vec<Aired>) {
        let rate = self.config.sample_rate;
        let rows: Vec<AirplayWrite> = batch
            .into_iter()
            .map(|e| match e {
                Aired::Started {
                    frame,
                    kind,
                    item,
                    file,
                } => {
                    let (path, file_offset, sha256) = match &file {
                        Some((path, offset)) => {
                            let (name, hash) = self.identify(path);
                            (Some(name), Some(*offset), hash)
                        }
                        None => (None, None, None),
                    };
                    AirplayWrite::Start(AirStart {
                        start_frame: frame,
                        sample_rate: rate,
                        kind,
                        show: item.show.clone(),
                        show_title: item.show_title.clone(),
                        occurrence_id: item.occurrence.clone(),
                        episode_id: item.episode_id.clone(),
                        title: item.title.clone(),
                        path,
                        file_offset,
                        sha256,
                    })
                }
                Aired::Ended { frame, frames } => AirplayWrite::End(AirEnd {
                    start_frame: frame,
                    sample_rate: rate,
                    frames,
                }),
            })
            .collect();
        match self.catalog.record_airplay(&rows) {
            Ok(()) => {
                self.counters
                    .written
                    .fetch_add(rows.len() as u64, Ordering::Relaxed);
            }
            Err(e) => {
                self.counters.failed.fetch_add(1, Ordering::Relaxed);
                tracing::error!(error = %e, events = rows.len(), "airplay: could not write the log");
            }
        }
    }

    /// The file's name for the log and its content hash (read its tags if new).
    fn identify(&mut self, path: &Path) -> (String, Option<String>) {
        let (name, in_media) = match path.strip_prefix(&self.config.media_dir) {
            Ok(rel) => (rel.to_string_lossy().into_owned(), true),
            Err(_) => match path.strip_prefix(&self.config.data_dir) {
                Ok(rel) => (rel.to_string_lossy().into_owned(), false),
                Err(_) => (path.to_string_lossy().into_owned(), false),
            },
        };
        let hash = match self.hash(path, &name, in_media) {
            Ok(h) => h,
            Err(e) => {
                tracing::warn!(file = %name, error = %e, "airplay: cannot hash the file aired");
                return (name, None);
            }
        };
        if !self.tagged.contains(&hash) {
            if !matches!(self.catalog.media_tags(&hash), Ok(Some(_))) {
                let tags = read_tags(path);
                if !tags.is_tagged() {
                    tracing::info!(file = %name, "airplay: the file aired has no title or artist tag");
                }
                let now = self.config.clock.now();
                if let Err(e) = self.catalog.record_media_tags(&hash, &tags, now) {
                    tracing::warn!(file = %name, error = %e, "airplay: cannot keep the tags");
                }
            }
            self.tagged.insert(hash.clone());
        }
        (name, Some(hash))
    }

    fn hash(&mut self, path: &Path, name: &str, in_media: bool) -> Result<String, HashError> {
        let meta = std::fs::metadata(path)?;
        let mtime_ns = meta
            .modified()?
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i64);
        let stamp = FileStamp {
            size: meta.len(),
            mtime_ns,
        };
        if in_media {
            if let Some(h) = self.catalog.media_hash(name, stamp)? {
                return Ok(h);
            }
            let h = hash_file(path)?;
            self.catalog.record_media_hash(name, stamp, &h)?;
            return Ok(h);
        }
        let key = (path.to_path_buf(), stamp.size, stamp.mtime_ns);
        if let Some(h) = self.hashes.get(&key) {
            return Ok(h.clone());
        }
        let h = hash_file(path)?;
        self.hashes.insert(key, h.clone());
        Ok(h)
    }
}

#[derive(Debug, thiserror::Error)]
enum HashError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Catalog(#[from] crate::catalog::CatalogError),
}

fn hash_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// The declaration's fields from `path`'s tags (empty when it has none or cannot be read).
pub fn read_tags(path: &Path) -> MediaTags {
    let file = match lofty::read_from_path(path) {
        Ok(f) => f,
        Err(e) => {
            tracing::debug!(file = %path.display(), error = %e, "airplay: no readable tags");
            return MediaTags::default();
        }
    };
    let duration = file.properties().duration();
    let duration_ms = (!duration.is_zero()).then_some(duration.as_millis() as u64);
    let Some(tag) = file.primary_tag().or_else(|| file.first_tag()) else {
        return MediaTags {
            duration_ms,
            ..MediaTags::default()
        };
    };
    let text = |v: Option<std::borrow::Cow<'_, str>>| {
        v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
    };
    let key = |k: ItemKey| text(tag.get_string(k).map(std::borrow::Cow::Borrowed));
    MediaTags {
        title: text(tag.title()),
        artist: text(tag.artist()),
        album: text(tag.album()),
        composer: key(ItemKey::Composer).or_else(|| key(ItemKey::Lyricist)),
        publisher: key(ItemKey::Label).or_else(|| key(ItemKey::Publisher)),
        isrc: key(ItemKey::Isrc),
        year: tag.date().map(|d| u32::from(d.year)),
        duration_ms,
    }
}
