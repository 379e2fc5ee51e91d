//! Loudness analysis per ITU-R BS.1770-4 / EBU R128 (the ebur128 crate) of stereo station
//! frames: integrated loudness, loudness range, true and sample peak, duration and
//! leading/trailing digital silence. Also records the true peak of every block of
//! [`BLOCK_FRAMES`] so the limiter knows where it has work to do. The two costly meters
//! (K-weighted loudness; 4x oversampled true peak) each run on a worker thread.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use ebur128::{EbuR128, Mode};

use super::AudioError;

/// Granularity of the per-block true-peak map.
pub const BLOCK_FRAMES: usize = 4096;

/// Below this, a sample counts as digital silence (-70 dBFS: dithered silence included).
const SILENCE: f32 = 3.162e-4;

/// The loudness report of one stream, as stored in the catalog and printed by `analyze`.
///
/// Frame counts (`duration_frames`, silences) are at `analysis_rate`, the station rate the
/// stream was analysed at; `sample_rate`, `channels` and `codec` describe the source file.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LoudnessReport {
    /// LUFS; `-inf` for silence is reported as `None`.
    pub integrated_lufs: Option<f64>,
    pub loudness_range_lu: f64,
    pub true_peak_dbtp: f64,
    pub sample_peak_dbfs: f64,
    pub duration_frames: u64,
    pub analysis_rate: u32,
    pub sample_rate: u32,
    pub channels: usize,
    pub codec: String,
    pub leading_silence_frames: u64,
    pub trailing_silence_frames: u64,
}

impl LoudnessReport {
    pub fn duration_s(&self) -> f64 {
        self.duration_frames as f64 / self.analysis_rate as f64
    }
}

/// Facts about the source the analyser cannot see in PCM.
#[derive(Debug, Clone)]
pub struct SourceFacts {
    pub sample_rate: u32,
    pub channels: usize,
    pub codec: String,
}

/// Everything one analysis pass learned.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub report: LoudnessReport,
    /// Linear true peak (max of both channels) of each block of [`BLOCK_FRAMES`].
    pub block_peaks: Vec<f32>,
    /// Excerpts kept for the encoder calibration (see `calibrate`), when requested.
    pub excerpts: Option<super::calibrate::Excerpts>,
}

/// A stage fed with shared chunks on its own thread; its result comes back at [`Worker::join`].
pub(crate) struct Worker<T> {
    tx: Option<SyncSender<Arc<Vec<f32>>>>,
    handle: Option<JoinHandle<Result<T, AudioError>>>,
}

impl<T: Send + 'static> Worker<T> {
    /// Starts `f` on a thread named `name`; it reads chunks until the sender is dropped.
    pub(crate) fn spawn(
        name: &str,
        f: impl FnOnce(Receiver<Arc<Vec<f32>>>) -> Result<T, AudioError> + Send + 'static,
    ) -> Result<Worker<T>, AudioError> {
        let (tx, rx) = sync_channel(QUEUE);
        let handle = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || f(rx))
            .map_err(|e| AudioError::Stage(format!("cannot start {name} thread: {e}")))?;
        Ok(Worker {
            tx: Some(tx),
            handle: Some(handle),
        })
    }

    /// Hands a chunk over; false when the worker has stopped (its error comes at `join`).
    pub(crate) fn send(&self, chunk: Arc<Vec<f32>>) -> bool {
        self.tx.as_ref().is_some_and(|tx| tx.send(chunk).is_ok())
    }

    /// Ends the input and waits for the result; a panic becomes an error.
    pub(crate) fn join(mut self) -> Result<T, AudioError> {
        self.tx = None;
        match self.handle.take().map(|h| h.join()) {
            Some(Ok(r)) => r,
            _ => Err(AudioError::Stage("an audio worker thread crashed".into())),
        }
    }
}

impl<T> Drop for Worker<T> {
    fn drop(&mut self) {
        // Dropping the sender ends the worker's loop; detach it (it finishes on its own).
        self.tx = None;
    }
}

/// Chunks waiting for a worker; bounds memory (a few hundred KB each).
const QUEUE: usize = 4;

/// What the peak worker measured.
struct Peaks {
    true_peak: f64,
    sample_peak: f64,
    block_peaks: Vec<f32>,
}

/// True and sample peaks, and the per-block true-peak map (the costly part: 4x oversampling).
///
/// With `preroll`, the first chunk only fills the interpolator's history (the frames just
/// before a part that does not start the stream): its peaks are not counted.
fn measure_peaks(
    rx: Receiver<Arc<Vec<f32>>>,
    rate: u32,
    mut preroll: bool,
) -> Result<Peaks, AudioError> {
    let mut ebu = EbuR128::new(2, rate, Mode::SAMPLE_PEAK | Mode::TRUE_PEAK).map_err(ebu_err)?;
    let mut block_peaks = Vec::new();
    let mut block_fill = 0;
    let (mut true_peak, mut sample_peak) = (0.0f64, 0.0f64);
    let both = |f: &dyn Fn(u32) -> Result<f64, ebur128::Error>| -> Result<f64, AudioError> {
        Ok(f(0).map_err(ebu_err)?.max(f(1).map_err(ebu_err)?))
    };
    for chunk in rx {
        if std::mem::take(&mut preroll) {
            ebu.add_frames_f32(&chunk).map_err(ebu_err)?;
            continue;
        }
        let mut frames: &[f32] = &chunk;
        // Split at block boundaries so `prev_true_peak` is the peak of one block.
        while !frames.is_empty() {
            let take = (BLOCK_FRAMES - block_fill).min(frames.len() / 2);
            let (now, rest) = frames.split_at(take * 2);
            ebu.add_frames_f32(now).map_err(ebu_err)?;
            let peak = both(&|c| ebu.prev_true_peak(c))?;
            true_peak = true_peak.max(peak);
            sample_peak = sample_peak.max(both(&|c| ebu.prev_sample_peak(c))?);
            let peak = peak as f32;
            if block_fill == 0 {
                block_peaks.push(peak);
            } else if let Some(last) = block_peaks.last_mut() {
                *last = last.max(peak);
            }
            block_fill = (block_fill + take) % BLOCK_FRAMES;
            frames = rest;
        }
    }
    Ok(Peaks {
        true_peak,
        sample_peak,
        block_peaks,
    })
}

/// Integrated loudness and loudness range (K-weighting and gating).
fn measure_loudness(
    rx: Receiver<Arc<Vec<f32>>>,
    rate: u32,
    mode: Mode,
) -> Result<EbuR128, AudioError> {
    let mut ebu = EbuR128::new(2, rate, mode).map_err(ebu_err)?;
    for chunk in rx {
        ebu.add_frames_f32(&chunk).map_err(ebu_err)?;
    }
    Ok(ebu)
}

/// Integrated loudness (`None` for silence), true peak (dBTP) and length in frames of a whole
/// source, metered on the caller's thread only (the background analysis of the media folder
/// must take one core at most). `between` runs after every chunk: the caller yields there.
pub fn meter_source(
    src: &mut dyn super::PcmSource,
    rate: u32,
    mut between: impl FnMut(),
) -> Result<(Option<f64>, f64, u64), AudioError> {
    let mut ebu = EbuR128::new(2, rate, Mode::I | Mode::TRUE_PEAK).map_err(ebu_err)?;
    let mut buf = Vec::with_capacity(2 * BLOCK_FRAMES);
    let mut frames = 0u64;
    loop {
        buf.clear();
        let n = src.read(&mut buf, BLOCK_FRAMES)?;
        if n == 0 {
            break;
        }
        frames += n as u64;
        ebu.add_frames_f32(&buf).map_err(ebu_err)?;
        between();
    }
    let lufs = ebu.loudness_global().map_err(ebu_err)?;
    let peak = (0..2)
        .map(|c| ebu.true_peak(c).unwrap_or(0.0))
        .fold(0.0f64, f64::max);
    let lufs = lufs.is_finite().then_some(lufs);
    let dbtp = if peak > 0.0 {
        20.0 * peak.log10()
    } else {
        -144.0
    };
    Ok((lufs, dbtp, frames))
}

/// Streaming analyser: feed interleaved stereo frames, then [`Analyser::finish`].
///
/// The caller's thread only scans for silence; loudness (K-weighting, gating) and peaks (4x
/// oversampled) are metered on two worker threads, so analysis uses both cores.
pub struct Analyser {
    rate: u32,
    frames: u64,
    first_loud: Option<u64>,
    last_loud: u64,
    loudness: Worker<EbuR128>,
    peaks: Worker<Peaks>,
}

fn ebu_err(e: ebur128::Error) -> AudioError {
    AudioError::Stage(format!("loudness analysis: {e}"))
}

impl Analyser {
    pub fn new(rate: u32) -> Result<Analyser, AudioError> {
        Analyser::after(rate, &[])
    }

    /// An analyser of a part of a stream that does not start it: `before` (the frames just
    /// before the part, a few dozen suffice) fills the true-peak interpolator's history, so the
    /// part's first frames are not read as a jump from silence.
    pub fn after(rate: u32, before: &[f32]) -> Result<Analyser, AudioError> {
        // Fail here, not on a worker, if the rate is unusable.
        EbuR128::new(2, rate, Mode::I).map_err(ebu_err)?;
        let preroll = before.len() >= 2;
        let analyser = Analyser {
            rate,
            frames: 0,
            first_loud: None,
            last_loud: 0,
            loudness: Worker::spawn("loudness", move |rx| {
                measure_loudness(rx, rate, Mode::I | Mode::LRA)
            })?,
            peaks: Worker::spawn("true-peak", move |rx| measure_peaks(rx, rate, preroll))?,
        };
        if preroll {
            analyser
                .peaks
                .send(Arc::new(before[..before.len() / 2 * 2].to_vec()));
        }
        Ok(analyser)
    }

    /// Frames seen so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    pub fn add(&mut self, frames: &[f32]) -> Result<(), AudioError> {
        let frames = &frames[..frames.len() / 2 * 2];
        if frames.is_empty() {
            return Ok(());
        }
        // Digital silence at both ends, by frame index.
        if let Some(i) = frames.iter().position(|s| s.abs() > SILENCE) {
            let first = self.frames + (i / 2) as u64;
            self.first_loud.get_or_insert(first);
            let j = frames.iter().rposition(|s| s.abs() > SILENCE).unwrap_or(i);
            self.last_loud = self.frames + (j / 2) as u64;
        }
        self.frames += (frames.len() / 2) as u64;
        let chunk = Arc::new(frames.to_vec());
        // A worker that stopped has an error to tell; `finish` reports it.
        self.loudness.send(chunk.clone());
        self.peaks.send(chunk);
        Ok(())
    }

    pub fn finish(self, facts: SourceFacts) -> Result<Analysis, AudioError> {
        Measured::combine(&[self.finish_part()?], facts)
    }

    /// The measurements so far, kept poolable: a stream metered in consecutive parts (the two
    /// halves of a two-encoder render) is reported with [`Measured::combine`].
    pub fn finish_part(self) -> Result<Measured, AudioError> {
        let loud = self.loudness.join();
        let peaks = self.peaks.join()?;
        Ok(Measured {
            loudness: loud?,
            true_peak: peaks.true_peak,
            sample_peak: peaks.sample_peak,
            block_peaks: peaks.block_peaks,
            rate: self.rate,
            frames: self.frames,
            loud: self.first_loud.map(|first| (first, self.last_loud)),
        })
    }
}

/// One part of a stream, measured: what [`Analyser::finish_part`] returns.
pub struct Measured {
    loudness: EbuR128,
    true_peak: f64,
    sample_peak: f64,
    block_peaks: Vec<f32>,
    rate: u32,
    frames: u64,
    /// First and last frame above digital silence.
    loud: Option<(u64, u64)>,
}

impl Measured {
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// The report of the stream made of `parts` back to back: their gating blocks pooled (the
    /// few blocks that would straddle a seam are not measured), peaks and silences joined.
    pub fn combine(parts: &[Measured], facts: SourceFacts) -> Result<Analysis, AudioError> {
        let db = |x: f64| {
            if x > 0.0 {
                20.0 * x.log10()
            } else {
                f64::NEG_INFINITY
            }
        };
        let first = parts
            .first()
            .ok_or_else(|| AudioError::Stage("nothing was measured".into()))?;
        let meters = || parts.iter().map(|p| &p.loudness);
        let integrated = EbuR128::loudness_global_multiple(meters()).map_err(ebu_err)?;
        let range = EbuR128::loudness_range_multiple(meters()).map_err(ebu_err)?;
        let (mut frames, mut first_loud, mut last_loud) = (0u64, None, None);
        for p in parts {
            if let Some((a, b)) = p.loud {
                first_loud.get_or_insert(frames + a);
                last_loud = Some(frames + b);
            }
            frames += p.frames;
        }
        let (leading, trailing) = match (first_loud, last_loud) {
            (Some(a), Some(b)) => (a, frames - b - 1),
            _ => (frames, frames),
        };
        let peak = |f: fn(&Measured) -> f64| parts.iter().map(f).fold(0.0, f64::max);
        Ok(Analysis {
            report: LoudnessReport {
                integrated_lufs: Some(integrated).filter(|l| l.is_finite()),
                loudness_range_lu: range,
                true_peak_dbtp: db(peak(|p| p.true_peak)),
                sample_peak_dbfs: db(peak(|p| p.sample_peak)),
                duration_frames: frames,
                analysis_rate: first.rate,
                sample_rate: facts.sample_rate,
                channels: facts.channels,
                codec: facts.codec,
                leading_silence_frames: leading,
                trailing_silence_frames: trailing,
            },
            block_peaks: parts.iter().flat_map(|p| p.block_peaks.clone()).collect(),
            excerpts: None,
        })
    }
}
