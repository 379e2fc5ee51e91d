//! Levelling at playout: everything that airs and was not normalised at ingest (beds, idents,
//! `file =` specials, playlist and fallback tracks) plays with the gain that brings it to the
//! station's loudness target, through a true-peak limiter.
//!
//! [`Levels`] holds the analysed figures per file (filled by [`super::library`], in the
//! background); the renderer asks it for a segment's gain when it starts the segment's
//! decoder, and the decoder thread applies gain and limiter ([`Levelled`]), so the render
//! thread does no more work than before. Episodes stay at 0 dB: ingest normalised them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use crate::audio::gain::db_to_linear;
use crate::audio::limiter::{Limiter, LimiterParams};
use crate::audio::{AudioError, PcmSource};
use crate::catalog::MediaLoudness;

use super::media::Opener;
use super::timeline::{Kind, Segment};

/// How gains are chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LevelPolicy {
    /// The station's loudness, LUFS (the ingest's `loudness_target`).
    pub target_lufs: f64,
    /// The most a quiet file is raised, dB (the limiter catches the peaks).
    pub max_boost_db: f64,
    /// The gain of a file not analysed yet, dB: most music is mastered far above the target,
    /// so a cut is the safe guess; a quiet file plays quiet for the minutes it takes.
    pub unanalysed_db: f64,
    /// The limiter's ceiling, dBTP.
    pub ceiling_dbtp: f64,
}

impl Default for LevelPolicy {
    fn default() -> Self {
        LevelPolicy {
            target_lufs: -16.0,
            max_boost_db: 18.0,
            unanalysed_db: -6.0,
            ceiling_dbtp: -1.0,
        }
    }
}

/// One analysed file, as `/api/library` lists it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FileLevel {
    /// Relative to the media folder.
    pub path: String,
    pub sha256: String,
    #[serde(flatten)]
    pub loudness: MediaLoudness,
    /// The gain it airs with, dB.
    pub gain_db: f64,
}

/// The levels of the media folder's files; cheap to clone, shared by the analyser (writes),
/// the renderer and `/api/library` (read). Off (everything at 0 dB, no limiter) unless built
/// with [`Levels::new`].
#[derive(Clone, Default)]
pub struct Levels {
    policy: Option<LevelPolicy>,
    files: Arc<RwLock<HashMap<PathBuf, FileLevel>>>,
}

impl std::fmt::Debug for Levels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Levels")
            .field("policy", &self.policy)
            .finish()
    }
}

impl PartialEq for Levels {
    /// The same table (a clone).
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.files, &other.files) && self.policy == other.policy
    }
}

impl Levels {
    pub fn new(policy: LevelPolicy) -> Levels {
        Levels {
            policy: Some(policy),
            files: Arc::default(),
        }
    }

    pub fn policy(&self) -> Option<LevelPolicy> {
        self.policy
    }

    /// The gain that brings `loudness` to the target (0 dB for silence), capped.
    pub fn gain_for(&self, loudness: &MediaLoudness) -> f64 {
        let Some(p) = self.policy else { return 0.0 };
        match loudness.integrated_lufs {
            Some(lufs) => (p.target_lufs - lufs).min(p.max_boost_db),
            None => 0.0,
        }
    }

    /// Records the figures of the file at `path` (as the schedule resolves it).
    pub fn set(&self, path: PathBuf, level: FileLevel) {
        self.write().insert(path, level);
    }

    /// Forgets files no longer in the folder.
    pub fn retain(&self, keep: impl Fn(&Path) -> bool) {
        self.write().retain(|p, _| keep(p));
    }

    /// Every analysed file, by path.
    pub fn list(&self) -> Vec<FileLevel> {
        let files = self.files.read().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<FileLevel> = files.values().cloned().collect();
        out.sort_by(|a, b| a.path.cmp(&b.path));
        out
    }

    /// The gain segment `seg` airs with; `None`: untouched (levelling off, an episode, no file).
    pub fn segment_gain(&self, seg: &Segment, path: &Path) -> Option<f64> {
        let policy = self.policy?;
        let levelled = matches!(seg.kind, Kind::Show | Kind::Fallback | Kind::Ident)
            && seg.item.episode_id.is_none();
        if !levelled {
            return None;
        }
        let files = self.files.read().unwrap_or_else(|p| p.into_inner());
        Some(files.get(path).map_or(policy.unanalysed_db, |f| f.gain_db))
    }

    /// The opener for segment `seg`'s file: `base`, wrapped in gain and limiter when levelled.
    pub fn opener_for(&self, base: &Opener, seg: &Segment, path: &Path) -> Opener {
        let (Some(db), Some(policy)) = (self.segment_gain(seg, path), self.policy) else {
            return base.clone();
        };
        let base = base.clone();
        Arc::new(move |p: &Path, rate| {
            let inner = base(p, rate)?;
            Ok(Box::new(Levelled::new(inner, rate, db, policy.ceiling_dbtp)) as Box<dyn PcmSource>)
        })
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<PathBuf, FileLevel>> {
        self.files.write().unwrap_or_else(|p| p.into_inner())
    }
}

/// A source played `db` louder through a true-peak limiter; frame-exact (the limiter's delay
/// is absorbed by reading ahead of the inner source).
pub struct Levelled {
    inner: Box<dyn PcmSource>,
    rate: u32,
    gain: f32,
    params: LimiterParams,
    limiter: Limiter,
    ready: Vec<f32>,
    pos: usize,
    ended: bool,
    scratch: Vec<f32>,
}

impl Levelled {
    pub fn new(inner: Box<dyn PcmSource>, rate: u32, db: f64, ceiling_dbtp: f64) -> Levelled {
        let params = LimiterParams {
            ceiling_db: ceiling_dbtp,
            ..LimiterParams::default()
        };
        Levelled {
            inner,
            rate,
            gain: db_to_linear(db),
            params,
            limiter: Limiter::new(rate, params),
            ready: Vec::new(),
            pos: 0,
            ended: false,
            scratch: Vec::new(),
        }
    }
}

impl PcmSource for Levelled {
    fn read(&mut self, out: &mut Vec<f32>, max: usize) -> Result<usize, AudioError> {
        while (self.ready.len() - self.pos) / 2 < max && !self.ended {
            if self.pos > 0 {
                self.ready.drain(..self.pos);
                self.pos = 0;
            }
            self.scratch.clear();
            if self.inner.read(&mut self.scratch, max.max(1024))? == 0 {
                self.limiter.finish(&mut self.ready);
                self.ended = true;
                break;
            }
            for s in &mut self.scratch {
                *s *= self.gain;
            }
            self.limiter.process(&self.scratch, &mut self.ready);
        }
        let n = ((self.ready.len() - self.pos) / 2).min(max);
        out.extend_from_slice(&self.ready[self.pos..self.pos + 2 * n]);
        self.pos += 2 * n;
        Ok(n)
    }

    fn seek(&mut self, frame: u64) -> Result<(), AudioError> {
        self.inner.seek(frame)?;
        self.limiter = Limiter::new(self.rate, self.params);
        self.ready.clear();
        self.pos = 0;
        self.ended = false;
        Ok(())
    }

    fn len_frames(&self) -> Option<u64> {
        self.inner.len_frames()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `left` frames of a constant.
    struct Constant(usize, f32);

    impl PcmSource for Constant {
        fn read(&mut self, out: &mut Vec<f32>, max: usize) -> Result<usize, AudioError> {
            let n = self.0.min(max).min(1000);
            out.extend(std::iter::repeat_n(self.1, 2 * n));
            self.0 -= n;
            Ok(n)
        }
        fn seek(&mut self, _: u64) -> Result<(), AudioError> {
            Ok(())
        }
        fn len_frames(&self) -> Option<u64> {
            None
        }
    }

    #[test]
    fn levelled_is_frame_exact_and_applies_its_gain_under_the_ceiling() {
        let mut src = Levelled::new(Box::new(Constant(10_000, 0.1)), 44_100, 6.0, -1.0);
        let mut out = Vec::new();
        let mut total = 0;
        for want in [1usize, 7, 300, 4096].iter().cycle() {
            let n = src.read(&mut out, *want).unwrap();
            if n == 0 {
                break;
            }
            assert!(n <= *want);
            total += n;
        }
        assert_eq!(total, 10_000, "as many frames out as in");
        assert!((out[2 * 5000] - 0.1 * db_to_linear(6.0)).abs() < 1e-4);
        // +20 dB on 0.1 would reach 1.0: the limiter holds it at -1 dBTP.
        let mut src = Levelled::new(Box::new(Constant(10_000, 0.1)), 44_100, 20.0, -1.0);
        let mut out = Vec::new();
        while src.read(&mut out, 4096).unwrap() > 0 {}
        let peak = out.iter().fold(0f32, |m, s| m.max(s.abs()));
        assert!(peak <= db_to_linear(-1.0) + 1e-3, "{peak}");
    }

    fn segment(kind: Kind, episode: Option<&str>) -> Segment {
        let t = jiff::Timestamp::UNIX_EPOCH;
        Segment {
            start: 0,
            end: 100,
            source: super::super::timeline::Source::Silence,
            fade_in: 0,
            fade_out: 0,
            kind,
            item: Arc::new(super::super::timeline::Airing {
                show: None,
                show_title: String::new(),
                title: String::new(),
                episode_id: episode.map(str::to_owned),
                occurrence: None,
                started_at: t,
                ends_at: t,
                next: None,
            }),
        }
    }

    #[test]
    fn episodes_stay_at_0_db_and_unanalysed_files_get_the_default() {
        let levels = Levels::new(LevelPolicy::default());
        let bed = Path::new("media/beds/a.wav");
        assert_eq!(
            levels.segment_gain(&segment(Kind::Fallback, None), bed),
            Some(-6.0)
        );
        assert_eq!(
            levels.segment_gain(&segment(Kind::Ident, None), bed),
            Some(-6.0)
        );
        assert_eq!(
            levels.segment_gain(&segment(Kind::Show, Some("e1")), bed),
            None
        );
        assert_eq!(levels.segment_gain(&segment(Kind::Live, None), bed), None);
        let measured = MediaLoudness {
            integrated_lufs: Some(-40.0),
            true_peak_dbtp: -20.0,
            duration_ms: 1000,
            analysed_at: 0,
        };
        // 24 dB too quiet: raised by the cap only.
        assert_eq!(levels.gain_for(&measured), 18.0);
        levels.set(
            bed.to_path_buf(),
            FileLevel {
                path: "beds/a.wav".into(),
                sha256: String::new(),
                gain_db: levels.gain_for(&measured),
                loudness: measured,
            },
        );
        assert_eq!(
            levels.segment_gain(&segment(Kind::Show, None), bed),
            Some(18.0)
        );
        // Off: nothing is touched.
        let off = Levels::default();
        assert_eq!(off.segment_gain(&segment(Kind::Fallback, None), bed), None);
    }
}
