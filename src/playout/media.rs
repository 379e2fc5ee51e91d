//! What the planner may ask of the disk: an item's length and a folder's audio files.
//!
//! [`FsMedia`] answers from the filesystem through an [`Opener`] and caches lengths by
//! (path, size, mtime), so re-planning every few seconds costs one `stat` per item. A file
//! that cannot be opened, or that failed while playing ([`Media::mark_bad`]), is unplayable
//! until it changes on disk; the reason is logged once. [`Media::audible`] finds the silence
//! at both ends of a track (reading at most 10 s of each end, once per file version), so the
//! planner can trim it before a crossfade.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use crate::audio::trim::{EDGE_SCAN_SECONDS, TrimRange, audible_range};
use crate::audio::{AudioError, PcmSource};

/// Below this a track's first and last frames are silence to trim (dBFS).
pub const TRIM_THRESHOLD_DBFS: f64 = -50.0;

/// Opens a file as station-rate PCM: `audio::open_pcm` in the daemon, anything in tests.
pub type Opener = Arc<dyn Fn(&Path, u32) -> Result<Box<dyn PcmSource>, AudioError> + Send + Sync>;

/// The daemon's opener.
pub fn default_opener() -> Opener {
    Arc::new(crate::audio::open_pcm)
}

/// File extensions a playlist or fallback folder contributes.
const AUDIO_EXTENSIONS: [&str; 11] = [
    "mp3", "wav", "flac", "ogg", "oga", "opus", "m4a", "aac", "aif", "aiff", "mp2",
];

/// The planner's view of the disk.
pub trait Media {
    /// Length of a file in frames at the station rate; `None` when it cannot be played.
    fn length(&mut self, path: &Path) -> Option<u64>;

    /// The frames of a file between its leading and trailing silence; `None` when it cannot
    /// be played. Without a scan of its own, the whole file.
    fn audible(&mut self, path: &Path) -> Option<TrimRange> {
        self.length(path).map(|n| TrimRange { start: 0, end: n })
    }

    /// Audio files of a folder, sorted by name; empty when it is missing.
    fn list(&mut self, folder: &Path) -> Vec<PathBuf>;

    /// A file failed while playing: treat it as unplayable until it changes.
    fn mark_bad(&mut self, path: &Path, reason: &str);
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
}

/// See the module doc.
pub struct FsMedia {
    opener: Opener,
    rate: u32,
    lengths: HashMap<PathBuf, (Stamp, Result<u64, String>)>,
    /// Audible ranges, by the file version they were scanned from.
    audible: HashMap<PathBuf, (Stamp, TrimRange)>,
}

impl FsMedia {
    pub fn new(opener: Opener, rate: u32) -> FsMedia {
        FsMedia {
            opener,
            rate,
            lengths: HashMap::new(),
            audible: HashMap::new(),
        }
    }

    fn scan(&self, path: &Path, total: u64) -> Result<TrimRange, String> {
        let mut src = (self.opener)(path, self.rate).map_err(|e| e.to_string())?;
        let max = EDGE_SCAN_SECONDS * u64::from(self.rate);
        audible_range(src.as_mut(), total, TRIM_THRESHOLD_DBFS, max).map_err(|e| e.to_string())
    }

    fn probe(&self, path: &Path) -> Result<u64, String> {
        let mut src = (self.opener)(path, self.rate).map_err(|e| e.to_string())?;
        if let Some(n) = src.len_frames() {
            return Ok(n);
        }
        // No length in the container (e.g. an MP3 without Xing header): count by decoding,
        // once, on the planner thread.
        crate::audio::count_frames(src.as_mut()).map_err(|e| e.to_string())
    }
}

fn stamp(path: &Path) -> Result<Stamp, String> {
    let meta =
        std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(Stamp {
        len: meta.len(),
        modified: meta.modified().ok(),
    })
}

impl Media for FsMedia {
    fn length(&mut self, path: &Path) -> Option<u64> {
        let stamp = match stamp(path) {
            Ok(s) => s,
            Err(reason) => {
                // Log a vanished file once, not at every re-plan.
                let known = matches!(self.lengths.get(path), Some((_, Err(r))) if *r == reason);
                if !known {
                    tracing::warn!(path = %path.display(), %reason, "playout: skipping unreadable item");
                    let none = Stamp {
                        len: 0,
                        modified: None,
                    };
                    self.lengths.insert(path.to_path_buf(), (none, Err(reason)));
                }
                return None;
            }
        };
        if let Some((s, result)) = self.lengths.get(path)
            && *s == stamp
        {
            return result.as_ref().ok().copied().filter(|&n| n > 0);
        }
        let result = self.probe(path);
        match &result {
            Ok(0) => tracing::warn!(path = %path.display(), "playout: skipping empty item"),
            Ok(_) => {}
            Err(reason) => {
                tracing::warn!(path = %path.display(), %reason, "playout: skipping unplayable item")
            }
        }
        self.lengths
            .insert(path.to_path_buf(), (stamp, result.clone()));
        result.ok().filter(|&n| n > 0)
    }

    fn audible(&mut self, path: &Path) -> Option<TrimRange> {
        let total = self.length(path)?;
        let (stamp, _) = self.lengths.get(path)?.clone();
        if let Some((s, r)) = self.audible.get(path)
            && *s == stamp
        {
            return Some(*r);
        }
        let range = match self.scan(path, total) {
            // Too little sound to trim around: the file as it is.
            Ok(r) if r.is_empty() => TrimRange {
                start: 0,
                end: total,
            },
            Ok(r) => r,
            Err(reason) => {
                tracing::warn!(path = %path.display(), %reason, "playout: cannot scan an item's ends; not trimmed");
                TrimRange {
                    start: 0,
                    end: total,
                }
            }
        };
        self.audible.insert(path.to_path_buf(), (stamp, range));
        Some(range)
    }

    fn list(&mut self, folder: &Path) -> Vec<PathBuf> {
        list_audio(folder)
    }

    fn mark_bad(&mut self, path: &Path, reason: &str) {
        tracing::warn!(path = %path.display(), %reason, "playout: item failed on air; the fallback plays");
        let stamp = stamp(path).unwrap_or(Stamp {
            len: 0,
            modified: None,
        });
        self.lengths
            .insert(path.to_path_buf(), (stamp, Err(reason.to_owned())));
    }
}

/// Audio files of `folder` (not recursive, hidden files skipped), sorted by file name.
pub fn list_audio(folder: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            let hidden = p
                .file_name()
                .and_then(|n| n.to_str())
                .is_none_or(|n| n.starts_with('.'));
            let audio = p
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
            !hidden && audio && p.is_file()
        })
        .collect();
    files.sort();
    files
}

/// FNV-1a: a hash that is stable across Rust versions, so orders survive an upgrade.
pub fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Fisher–Yates with splitmix64 seeded by `seed`: the same seed gives the same order forever.
pub fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    for i in (1..items.len()).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffle_is_deterministic_and_a_permutation() {
        let mut a: Vec<u32> = (0..20).collect();
        let mut b = a.clone();
        shuffle(&mut a, stable_hash("slot/2027-03-28T18:00"));
        shuffle(&mut b, stable_hash("slot/2027-03-28T18:00"));
        assert_eq!(a, b);
        assert_ne!(a, (0..20).collect::<Vec<_>>());
        let mut c = a.clone();
        c.sort();
        assert_eq!(c, (0..20).collect::<Vec<_>>());
        let mut d: Vec<u32> = (0..20).collect();
        shuffle(&mut d, stable_hash("slot/2027-04-04T18:00"));
        assert_ne!(a, d, "another occurrence, another order");
    }

    #[test]
    fn lists_audio_files_by_name() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.mp3", "a.WAV", ".hidden.mp3", "notes.txt", "c.flac"] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        std::fs::create_dir(dir.path().join("sub.mp3")).unwrap();
        let names: Vec<String> = list_audio(dir.path())
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.WAV", "b.mp3", "c.flac"]);
        assert!(list_audio(&dir.path().join("missing")).is_empty());
    }
}
