//! The normalised programme: the source decoded at the station rate (or read back from pass 1's
//! [`PcmCache`], see [`Programme`]), the gain applied, the true-peak limiter run and the
//! silences trimmed, pulled chunk by chunk ([`Normalised`]); and the limiter simulation that
//! measures how much loudness the limiter takes ([`simulate`]).
//!
//! Both the simulation and the two-encoder render start a second reader half-way: it seeks to
//! [`WARM_UP_S`] before its first frame and runs the limiter over those frames without keeping
//! them, so by its first kept frame the limiter's state is the one-pass reader's (its release,
//! 150 ms, has decayed a hundred-fold many times over).

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, sync_channel};
use std::thread::JoinHandle;

use ebur128::EbuR128;

use super::AudioError;
use super::PcmSource;
use super::decode::open_station;
use super::gain::apply_db;
use super::limiter::{Limiter, LimiterParams};
use super::pcmcache::PcmCache;
use super::render::{CHUNK, RenderOptions};
use super::trim::{TrimRange, Trimmer};

/// Frames a reader started half-way runs through its limiter before its first kept frame.
const WARM_UP_S: f64 = 2.0;

/// Where a render's readers get the programme: decoded from the file, or read back from the
/// frames pass 1 decoded and cached.
#[derive(Debug, Clone)]
pub(super) struct Programme {
    pub(super) path: PathBuf,
    pub(super) cache: Option<PcmCache>,
}

impl Programme {
    /// The file, decoded by every reader.
    #[cfg(test)]
    pub(super) fn file(path: &std::path::Path) -> Programme {
        Programme {
            path: path.to_path_buf(),
            cache: None,
        }
    }

    /// A reader from frame 0, and the grain its seeks must keep to (see
    /// `StationSource::seek_grain`).
    fn open(&self, rate: u32) -> Result<(Box<dyn PcmSource>, u64), AudioError> {
        Ok(match &self.cache {
            Some(c) => (Box::new(c.reader()), 1),
            None => {
                let src = open_station(&self.path, rate)?;
                let grain = src.seek_grain().max(1);
                (Box::new(src), grain)
            }
        })
    }
}

/// The normalised, limited, trimmed stereo stream, pulled chunk by chunk.
pub(super) struct Normalised {
    src: Box<dyn PcmSource>,
    gain_db: f64,
    limiter: Limiter,
    trimmer: Trimmer,
    raw: Vec<f32>,
    limited: Vec<f32>,
    done: bool,
}

impl Normalised {
    /// The programme of `path` (frames `trim` of the decoded source), from programme frame
    /// `start` on. A reader that does not start at 0 seeks; where the source cannot, it
    /// decodes and limits from the start and drops the frames before `start` (slower, exact).
    #[cfg(test)]
    pub(super) fn open_at(
        path: &std::path::Path,
        rate: u32,
        gain_db: f64,
        params: LimiterParams,
        trim: TrimRange,
        start: u64,
    ) -> Result<Normalised, AudioError> {
        let programme = Programme::file(path);
        Normalised::open(&programme, rate, gain_db, params, trim, start)
    }

    /// [`Normalised::open_at`] on any [`Programme`].
    pub(super) fn open(
        programme: &Programme,
        rate: u32,
        gain_db: f64,
        params: LimiterParams,
        trim: TrimRange,
        start: u64,
    ) -> Result<Normalised, AudioError> {
        let (mut src, grain) = programme.open(rate)?;
        let first = trim.start + start;
        // A grain-aligned seek keeps a resampling reader on the one-pass reader's samples.
        let mut from = first.saturating_sub((WARM_UP_S * rate as f64) as u64) / grain * grain;
        if from > 0 && src.seek(from).is_err() {
            src = programme.open(rate)?.0;
            from = 0;
        }
        let range = TrimRange {
            start: first - from,
            end: trim.end - from,
        };
        Ok(Normalised::from_source(src, rate, gain_db, params, range))
    }

    /// `trim` counts frames from the source's current position.
    fn from_source(
        src: Box<dyn PcmSource>,
        rate: u32,
        gain_db: f64,
        params: LimiterParams,
        trim: TrimRange,
    ) -> Normalised {
        Normalised {
            src,
            gain_db,
            limiter: Limiter::new(rate, params),
            trimmer: Trimmer::new(trim),
            raw: Vec::with_capacity(CHUNK * 2),
            limited: Vec::with_capacity(CHUNK * 2),
            done: false,
        }
    }

    /// Appends the next normalised frames to `out` (possibly none); false at the end.
    pub(super) fn next(&mut self, out: &mut Vec<f32>) -> Result<bool, AudioError> {
        if self.done || self.trimmer.done() {
            return Ok(false);
        }
        self.raw.clear();
        self.limited.clear();
        if self.src.read(&mut self.raw, CHUNK)? == 0 {
            self.limiter.finish(&mut self.limited);
            self.done = true;
        } else {
            apply_db(&mut self.raw, self.gain_db);
            self.limiter.process(&self.raw, &mut self.limited);
        }
        self.trimmer.process(&self.limited, out);
        Ok(true)
    }

    /// The deepest gain reduction the limiter applied, dB.
    pub(super) fn reduction_db(&self) -> f64 {
        self.limiter.max_reduction_db()
    }
}

/// A [`Normalised`] reader on its own thread, handing out chunks: the render pipelines
/// decoding and limiting on one core with encoding on another.
pub(super) struct Producer {
    pub(super) chunks: Receiver<Vec<f32>>,
    handle: JoinHandle<Result<f64, AudioError>>,
    path: PathBuf,
}

impl Producer {
    /// Starts reading the programme from programme frame `start` (see [`Normalised::open_at`]).
    pub(super) fn spawn(
        programme: &Programme,
        rate: u32,
        gain_db: f64,
        params: LimiterParams,
        trim: TrimRange,
        start: u64,
    ) -> Result<Producer, AudioError> {
        let (tx, chunks) = sync_channel::<Vec<f32>>(8);
        let owned = programme.clone();
        let handle = std::thread::Builder::new()
            .name("render-pcm".into())
            .spawn(move || -> Result<f64, AudioError> {
                let mut norm = Normalised::open(&owned, rate, gain_db, params, trim, start)?;
                loop {
                    let mut buf = Vec::with_capacity(CHUNK * 2);
                    // A receiver gone means the consumer has what it needs.
                    if !norm.next(&mut buf)? || tx.send(buf).is_err() {
                        return Ok(norm.reduction_db());
                    }
                }
            })
            .map_err(|e| AudioError::Stage(format!("cannot start render thread: {e}")))?;
        Ok(Producer {
            chunks,
            handle,
            path: programme.path.clone(),
        })
    }

    /// Waits for the reader (drop the chunks first to stop it early); returns the deepest gain
    /// reduction the limiter applied, dB.
    pub(super) fn finish(self) -> Result<f64, AudioError> {
        drop(self.chunks);
        self.handle.join().unwrap_or_else(|panic| {
            Err(AudioError::Decode {
                path: self.path,
                reason: super::render::crashed(panic.as_ref()),
            })
        })
    }
}

/// Integrated loudness of the normalised (limited) stream, without encoding.
///
/// The two halves run on two threads, the second started half-way (see the module doc); their
/// gating blocks are pooled into one measurement.
pub(super) fn simulate(
    programme: &Programme,
    opts: &RenderOptions,
    gain_db: f64,
    params: LimiterParams,
    trim: TrimRange,
) -> Result<f64, AudioError> {
    let rate = opts.rate;
    let warm = (WARM_UP_S * rate as f64) as u64;
    let half = trim.len() / 2;
    let open = |start: u64| Normalised::open(programme, rate, gain_db, params, trim, start);
    let run = |mut norm: Normalised, frames: u64| -> Result<EbuR128, AudioError> {
        let mut meter = EbuR128::new(2, rate, ebur128::Mode::I).map_err(sim_err)?;
        let mut buf = Vec::with_capacity(CHUNK * 2);
        let mut left = frames;
        while left > 0 && norm.next(&mut buf)? {
            let take = (buf.len() as u64 / 2).min(left);
            meter
                .add_frames_f32(&buf[..take as usize * 2])
                .map_err(sim_err)?;
            left -= take;
            buf.clear();
        }
        Ok(meter)
    };
    let parallel = trim.len() > 4 * warm;
    let (a, b) = std::thread::scope(|s| {
        let b = parallel.then(|| s.spawn(|| run(open(half)?, u64::MAX)));
        let a = open(0).and_then(|n| run(n, if parallel { half } else { u64::MAX }));
        let b = match b.map(|h| h.join()) {
            None => None,
            Some(Ok(r)) => Some(r),
            Some(Err(_)) => Some(Err(AudioError::Stage(
                "the limiter simulation crashed".into(),
            ))),
        };
        (a, b)
    });
    let a = a?;
    let loudness = match b.transpose()? {
        Some(b) => EbuR128::loudness_global_multiple([&a, &b].into_iter()),
        None => a.loudness_global(),
    };
    loudness.map_err(sim_err)
}

fn sim_err(e: ebur128::Error) -> AudioError {
    AudioError::Stage(format!("limiter simulation: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::id3::EpisodeTags;
    use std::path::Path;

    /// 12 s of tone and noise with a full-scale click every second (work for the limiter).
    fn clicky_wav(path: &Path, rate: u32) {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        let mut seed = 3u32;
        for i in 0..rate as usize * 12 {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let noise = (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
            let mut s = 0.1 * (i as f32 * 0.05).sin() + 0.05 * noise;
            if i % rate as usize == 500 {
                s = 0.99;
            }
            let v = (s * 32_000.0) as i16;
            w.write_sample(v).unwrap();
            w.write_sample(v).unwrap();
        }
        w.finalize().unwrap();
    }

    #[test]
    fn simulation_in_two_halves_matches_one_pass() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clicks.wav");
        // A low rate keeps this debug-build test fast.
        let rate = 16_000;
        clicky_wav(&path, rate);
        // The station defaults (`Settings::render_options`), at this test's rate.
        let opts = RenderOptions {
            target_lufs: -16.0,
            ceiling_dbtp: -1.0,
            rate,
            bitrate_kbps: 128,
            keep_silence_s: 0.5,
            tags: EpisodeTags::default(),
            max_duration_s: 12.0 * 3600.0,
        };
        let params = LimiterParams::default();
        let trim = TrimRange {
            start: 1000,
            end: rate as u64 * 12 - 500,
        };
        let gain = 12.0;
        let halves = simulate(&Programme::file(&path), &opts, gain, params, trim).unwrap();
        // The same stream in one pass, metered in line.
        let mut norm = Normalised::open_at(&path, rate, gain, params, trim, 0).unwrap();
        let mut meter = EbuR128::new(2, rate, ebur128::Mode::I).unwrap();
        let mut buf = Vec::new();
        let mut frames = 0;
        while norm.next(&mut buf).unwrap() {
            frames += buf.len() / 2;
            meter.add_frames_f32(&buf).unwrap();
            buf.clear();
        }
        assert_eq!(frames as u64, trim.len());
        assert!(norm.reduction_db() > 3.0, "the limiter worked");
        let one = meter.loudness_global().unwrap();
        assert!(
            (halves - one).abs() < 0.02,
            "halves {halves} vs one pass {one}"
        );
    }

    /// Frames `from..from + len` of the programme read from the start, and read by a reader
    /// started at `from`.
    fn both_ways(path: &Path, station: u32, from: u64, len: usize) -> (Vec<f32>, Vec<f32>) {
        let params = LimiterParams::default();
        let n = station as u64 * 12 - 2000;
        let trim = TrimRange { start: 700, end: n };
        let read = |mut norm: Normalised, skip: u64| {
            let mut all = Vec::new();
            while (all.len() as u64) < (skip + len as u64) * 2 && norm.next(&mut all).unwrap() {}
            all[skip as usize * 2..(skip as usize + len) * 2].to_vec()
        };
        let one = read(
            Normalised::open_at(path, station, 12.0, params, trim, 0).unwrap(),
            from,
        );
        let late = read(
            Normalised::open_at(path, station, 12.0, params, trim, from).unwrap(),
            0,
        );
        (one, late)
    }

    #[test]
    fn a_reader_started_half_way_reads_the_same_samples() {
        let dir = tempfile::tempdir().unwrap();
        for source_rate in [44_100, 48_000, 22_050] {
            let path = dir.path().join(format!("clicks-{source_rate}.wav"));
            clicky_wav(&path, source_rate);
            // The limiter works hard (+12 dB into clicks at full scale) on both readers.
            let (one, late) = both_ways(&path, 44_100, 44_100 * 5 + 333, 8192);
            let worst = one
                .iter()
                .zip(&late)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            assert!(worst < 1e-5, "{source_rate} Hz: readers differ by {worst}");
        }
    }
}
