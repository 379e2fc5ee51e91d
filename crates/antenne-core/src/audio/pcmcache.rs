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
//! disk, never in the process's memory (a 60-minute programme is 635 MB of `f32`). Anything
//! that goes wrong writing it (a full disk, a programme longer than [`MAX_SECONDS`]) only
//! drops the cache: the readers then decode the file as before.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

use super::{AudioError, PcmSource};

/// Longer programmes are decoded again rather than cached (3 h = 1.9 GB of disk).
pub const MAX_SECONDS: f64 = 3.0 * 3600.0;
/// Bytes gathered before each write.
const BATCH: usize = 1 << 20;
const FRAME_BYTES: usize = 8;

/// Station-format frames being written to an unlinked temp file.
pub struct CacheWriter {
    file: Option<std::io::BufWriter<File>>,
    frames: u64,
    max_frames: u64,
}

impl CacheWriter {
    /// A cache in `dir` for a programme at `rate`; `None` (no cache) when the file cannot be
    /// made there.
    pub fn create(dir: &Path, rate: u32) -> Option<CacheWriter> {
        let path = dir.join(format!(
            ".antenne-pcm-{}-{:?}.tmp",
            std::process::id(),
            std::thread::current().id()
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
        Some(CacheWriter {
            file: Some(std::io::BufWriter::with_capacity(BATCH, file)),
            frames: 0,
            max_frames: (MAX_SECONDS * rate as f64) as u64,
        })
    }

    /// Appends interleaved stereo frames; on any failure the cache is dropped, silently.
    pub fn add(&mut self, frames: &[f32]) {
        let Some(file) = self.file.as_mut() else {
            return;
        };
        let n = (frames.len() / 2) as u64;
        if self.frames + n > self.max_frames {
            self.file = None;
            return;
        }
        let mut bytes = [0u8; 4 * 512];
        let mut ok = true;
        for chunk in frames[..n as usize * 2].chunks(512) {
            for (b, s) in bytes.chunks_exact_mut(4).zip(chunk) {
                b.copy_from_slice(&s.to_le_bytes());
            }
            if file.write_all(&bytes[..chunk.len() * 4]).is_err() {
                ok = false;
                break;
            }
        }
        if ok {
            self.frames += n;
        } else {
            tracing::debug!("PCM cache dropped: write failed");
            self.file = None;
        }
    }

    /// The finished cache, if every frame made it to the file.
    pub fn finish(self) -> Option<PcmCache> {
        let file = self.file?.into_inner().ok()?;
        Some(PcmCache {
            file: Arc::new(file),
            frames: self.frames,
        })
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

    #[test]
    fn frames_come_back_exactly_from_any_position() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = CacheWriter::create(dir.path(), 44_100).expect("a cache");
        let frames: Vec<f32> = (0..100_000)
            .map(|i| (i as f32 * 0.013).sin() * 1.3)
            .collect();
        for chunk in frames.chunks(2 * 777) {
            w.add(chunk);
        }
        let cache = w.finish().expect("finished");
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
        let mut w = CacheWriter::create(dir.path(), 1).expect("a cache");
        w.max_frames = 10;
        w.add(&[0.0; 16]);
        w.add(&[0.0; 16]);
        assert!(w.finish().is_none());
    }
}
