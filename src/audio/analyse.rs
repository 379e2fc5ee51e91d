//! Loudness analysis per ITU-R BS.1770-4 / EBU R128 (the ebur128 crate) of stereo station
//! frames: integrated loudness, loudness range, true and sample peak, duration and
//! leading/trailing digital silence. Also records the true peak of every block of
//! [`BLOCK_FRAMES`] so the limiter knows where it has work to do.

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

/// Streaming analyser: feed interleaved stereo frames, then [`Analyser::finish`].
pub struct Analyser {
    ebu: EbuR128,
    rate: u32,
    frames: u64,
    first_loud: Option<u64>,
    last_loud: u64,
    block_peaks: Vec<f32>,
    block_fill: usize,
}

fn ebu_err(e: ebur128::Error) -> AudioError {
    AudioError::Stage(format!("loudness analysis: {e}"))
}

impl Analyser {
    pub fn new(rate: u32) -> Result<Analyser, AudioError> {
        let ebu = EbuR128::new(
            2,
            rate,
            Mode::I | Mode::LRA | Mode::SAMPLE_PEAK | Mode::TRUE_PEAK,
        )
        .map_err(ebu_err)?;
        Ok(Analyser {
            ebu,
            rate,
            frames: 0,
            first_loud: None,
            last_loud: 0,
            block_peaks: Vec::new(),
            block_fill: 0,
        })
    }

    /// Frames seen so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    pub fn add(&mut self, mut frames: &[f32]) -> Result<(), AudioError> {
        // Digital silence at both ends, by frame index.
        if let Some(i) = frames.iter().position(|s| s.abs() > SILENCE) {
            let first = self.frames + (i / 2) as u64;
            self.first_loud.get_or_insert(first);
            let j = frames.iter().rposition(|s| s.abs() > SILENCE).unwrap_or(i);
            self.last_loud = self.frames + (j / 2) as u64;
        }
        self.frames += (frames.len() / 2) as u64;
        // Split at block boundaries so `prev_true_peak` is the peak of one block.
        while !frames.is_empty() {
            let take = (BLOCK_FRAMES - self.block_fill).min(frames.len() / 2);
            let (now, rest) = frames.split_at(take * 2);
            self.ebu.add_frames_f32(now).map_err(ebu_err)?;
            let peak = self
                .ebu
                .prev_true_peak(0)
                .map_err(ebu_err)?
                .max(self.ebu.prev_true_peak(1).map_err(ebu_err)?) as f32;
            if self.block_fill == 0 {
                self.block_peaks.push(peak);
            } else if let Some(last) = self.block_peaks.last_mut() {
                *last = last.max(peak);
            }
            self.block_fill = (self.block_fill + take) % BLOCK_FRAMES;
            frames = rest;
        }
        Ok(())
    }

    pub fn finish(self, facts: SourceFacts) -> Result<Analysis, AudioError> {
        let db = |x: f64| {
            if x > 0.0 {
                20.0 * x.log10()
            } else {
                f64::NEG_INFINITY
            }
        };
        let integrated = self.ebu.loudness_global().map_err(ebu_err)?;
        let tp = self
            .ebu
            .true_peak(0)
            .map_err(ebu_err)?
            .max(self.ebu.true_peak(1).map_err(ebu_err)?);
        let sp = self
            .ebu
            .sample_peak(0)
            .map_err(ebu_err)?
            .max(self.ebu.sample_peak(1).map_err(ebu_err)?);
        let (leading, trailing) = match self.first_loud {
            Some(first) => (first, self.frames - self.last_loud - 1),
            None => (self.frames, self.frames),
        };
        Ok(Analysis {
            report: LoudnessReport {
                integrated_lufs: Some(integrated).filter(|l| l.is_finite()),
                loudness_range_lu: self.ebu.loudness_range().map_err(ebu_err)?,
                true_peak_dbtp: db(tp),
                sample_peak_dbfs: db(sp),
                duration_frames: self.frames,
                analysis_rate: self.rate,
                sample_rate: facts.sample_rate,
                channels: facts.channels,
                codec: facts.codec,
                leading_silence_frames: leading,
                trailing_silence_frames: trailing,
            },
            block_peaks: self.block_peaks,
            excerpts: None,
        })
    }
}
