//! The decoded programme kept on disk for the render's later readers: the source decoded once.
//!
//! A render reads its source up to three times (pass 1, the limiter simulation, the encode),
//! and on a compressed input (MP3, AAC, FLAC...) decoding is most of each read: symphonia's MP3
//! decoder takes about a sixth of LAME's time. Pass 1 writes the station-format frames it
//! decodes to a [`CacheWriter`]; the later readers open a [`CachedSource`] on the finished
//! [`PcmCache`] instead of decoding again: the same samples (the cache holds the exact `f32`s
//! pass 1 metered), read back with `pread`, seekable to any frame.
//!
//! The file is created next to the output and unlinked at once, so it takes no name and
//! disappears when the last handle closes, crash included. It lives in the page cache and on
//! disk, never in the process's memory (a 60-minute programme is 1.27 GB of stereo `f32` at
//! 44.1 kHz). It is only made when the disk keeps [`SPARE_BYTES`] free beyond twice its size:
//! the catalog, uploads and live recordings share that disk, and a cache that filled it would
//! make them fail. Anything that goes wrong writing it (a full disk, a programme longer than
//! [`MAX_SECONDS`]) only drops the cache: the readers then decode the file as before.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{AudioError, PcmSource};

/// Longer programmes are decoded again rather than cached (3 h = 3.8 GB of disk).
pub const MAX_SECONDS: f64 = 3.0 * 3600.0;
/// What the disk must keep free beyond twice the cache's size for a cache to be made.
pub const SPARE_BYTES: u64 = 1 << 30;
/// Bytes gathered before each write.
const BATCH: usize = 1 << 20;
const FRAME_BYTES: usize = 8;

/// An unlinked temp file being filled with station-format frames, by one [`CacheWriter`] or
/// several (each from its own frame on: pass 1 decodes its two halves on two threads).
pub struct CacheFile {
    file: Arc<File>,
    max_frames: u64,
}

impl CacheFile {
    /// A cache in `dir` for a programme of `frames` frames (when known) at `rate`; `None` (no
    /// cache) when the file cannot be made there or the disk has too little room for it.
    pub fn create(dir: &Path, rate: u32, frames: Option<u64>) -> Option<CacheFile> {
        let max_frames = (MAX_SECONDS * rate as f64) as u64;
        let need = frames.unwrap_or(max_frames).min(max_frames) * FRAME_BYTES as u64;
        let free = rustix::fs::statvfs(dir).map(|fs| fs.f_bavail.saturating_mul(fs.f_frsize));
        if !free.is_ok_and(|free| free >= 2 * need + SPARE_BYTES) {
            tracing::debug!(dir = %dir.display(), need, ?free, "no PCM cache: too little room");
            return None;
        }
        static SERIAL: AtomicU64 = AtomicU64::new(0);
        let path = dir.join(format!(
            ".antenne-pcm-{}-{}.tmp",
            std::process::id(),
            SERIAL.fetch_add(1, Ordering::Relaxed)
        ));
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path);
        let file = match file {
            Ok(f) => f,
            Err(e) => {
                tracing::debug!(dir = %dir.display(), error = %e, "no PCM cache");
                return None;
            }
        };
        // Unlinked now: the open handle keeps the data; a crash leaves nothing behind.
        let _ = std::fs::remove_file(&path);
        Some(CacheFile {
            file: Arc::new(file),
            max_frames,
        })
    }

    /// A writer of the frames from `start` on.
    pub fn writer(&self, start: u64) -> CacheWriter {
        CacheWriter {
            file: Some(self.file.clone()),
            next: start,
            batch: Vec::with_capacity(BATCH),
            batch_at: start,
            max_frames: self.max_frames,
        }
    }

    /// The finished cache of `frames` frames (every writer finished, all of them written).
    pub fn finish(self, frames: u64) -> PcmCache {
        PcmCache {
            file: self.file,
            frames,
        }
    }
}

/// Writes consecutive frames into a [`CacheFile`] from a given frame on.
pub struct CacheWriter {
    /// `None` once anything failed: the cache is not to be used.
    file: Option<Arc<File>>,
    /// The frame after the last one added.
    next: u64,
    batch: Vec<u8>,
    /// The frame the batch starts at.
    batch_at: u64,
    max_frames: u64,
}

impl CacheWriter {
    /// Appends interleaved stereo frames; on any failure the cache is dropped, silently.
    pub fn add(&mut self, frames: &[f32]) {
        if self.file.is_none() {
            return;
        }
        let n = (frames.len() / 2) as u64;
        if self.next + n > self.max_frames {
            self.file = None;
            return;
        }
        for s in &frames[..n as usize * 2] {
            self.batch.extend_from_slice(&s.to_le_bytes());
        }
        self.next += n;
        if self.batch.len() >= BATCH {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if let Some(file) = &self.file
            && let Err(e) = file.write_all_at(&self.batch, self.batch_at * FRAME_BYTES as u64)
        {
            tracing::debug!(error = %e, "PCM cache dropped: write failed");
            self.file = None;
        }
        self.batch.clear();
        self.batch_at = self.next;
    }

    /// The frame after the last one written, if every frame made it to the file.
    pub fn finish(mut self) -> Option<u64> {
        self.flush();
        self.file.map(|_| self.next)
    }
}

/// A finished cache: cheap to clone, read by any number of [`CachedSource`]s at once.
#[derive(Clone)]
pub struct PcmCache {
    file: Arc<File>,
    frames: u64,
}

impl std::fmt::Debug for PcmCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PcmCache({} frames)", self.frames)
    }
}

impl PcmCache {
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// A reader from frame 0.
    pub fn reader(&self) -> CachedSource {
        CachedSource {
            cache: self.clone(),
            pos: 0,
            bytes: Vec::new(),
        }
    }
}

/// The cached programme as a [`PcmSource`]; seeks are exact and free.
pub struct CachedSource {
    cache: PcmCache,
    pos: u64,
    bytes: Vec<u8>,
}

impl PcmSource for CachedSource {
    fn read(&mut self, out: &mut Vec<f32>, max_frames: usize) -> Result<usize, AudioError> {
        let n = (self.cache.frames.saturating_sub(self.pos)).min(max_frames as u64) as usize;
        if n == 0 {
            return Ok(0);
        }
        self.bytes.resize(n * FRAME_BYTES, 0);
        self.cache
            .file
            .read_exact_at(&mut self.bytes, self.pos * FRAME_BYTES as u64)
            .map_err(|e| AudioError::Stage(format!("reading the decoded programme back: {e}")))?;
        out.reserve(n * 2);
        out.extend(
            self.bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        );
        self.pos += n as u64;
        Ok(n)
    }

    fn seek(&mut self, frame: u64) -> Result<(), AudioError> {
        self.pos = frame.min(self.cache.frames);
        Ok(())
    }

    fn len_frames(&self) -> Option<u64> {
        Some(self.cache.frames)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cache that would leave the disk short for the catalog and the recordings is not
    /// made: the render decodes again instead.
    #[test]
    fn no_cache_when_the_disk_has_too_little_room_for_it() {
        let dir = tempfile::tempdir().unwrap();
        // 2^40 frames at 8 bytes: 8 TiB, more than any test machine has free.
        assert!(CacheFile::create(dir.path(), u32::MAX, Some(1 << 40)).is_none());
        assert!(CacheFile::create(dir.path(), 44_100, Some(44_100)).is_some());
    }

    #[test]
    fn frames_come_back_exactly_from_any_position() {
        let dir = tempfile::tempdir().unwrap();
        let file = CacheFile::create(dir.path(), 44_100, Some(44_100)).expect("a cache");
        let frames: Vec<f32> = (0..100_000)
            .map(|i| (i as f32 * 0.013).sin() * 1.3)
            .collect();
        // Written in two parts, the second first, as pass 1's two threads may.
        let mut b = file.writer(20_000);
        for chunk in frames[40_000..].chunks(2 * 777) {
            b.add(chunk);
        }
        assert_eq!(b.finish(), Some(50_000));
        let mut a = file.writer(0);
        for chunk in frames[..40_000].chunks(2 * 777) {
            a.add(chunk);
        }
        assert_eq!(a.finish(), Some(20_000));
        let cache = file.finish(50_000);
        assert_eq!(cache.frames(), 50_000);
        // The file has no name: nothing is left in the folder.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let mut all = Vec::new();
        let mut r = cache.reader();
        while r.read(&mut all, 4096).unwrap() > 0 {}
        assert_eq!(all, frames);
        let mut r = cache.reader();
        r.seek(12_345).unwrap();
        let mut some = Vec::new();
        assert_eq!(r.read(&mut some, 10).unwrap(), 10);
        assert_eq!(some, frames[24_690..24_710]);
    }

    #[test]
    fn a_programme_over_the_limit_is_not_cached() {
        let dir = tempfile::tempdir().unwrap();
        let file = CacheFile::create(dir.path(), 1, Some(1)).expect("a cache");
        let mut w = file.writer(0);
        w.max_frames = 10;
        w.add(&[0.0; 16]);
        w.add(&[0.0; 16]);
        assert!(w.finish().is_none());
    }
}
