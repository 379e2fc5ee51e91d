//! Predicts how much loudness the MP3 encoder will take away, before the real encode.
//!
//! LAME's lowpass, its quantisation and its absolute threshold of hearing remove energy that
//! K-weighting counts (0.5 LU and more on noisy material, more at low levels), so the gain must
//! aim at the encoded loudness. Pass 1 keeps excerpts of the programme (ten runs of ~3 s spread
//! over the file, all of it when short; ~10 MB at most); once the gain is known they are
//! normalised and limited like the real thing, encoded with the station's encoder, decoded and
//! measured against themselves unencoded. The difference is the shift the real encode will show,
//! at ~1% of its cost.

use std::io::Cursor;
use std::path::Path;

use ebur128::{EbuR128, Mode};

use super::AudioError;
use super::decode::Decoder;
use super::encode::Mp3StreamEncoder;
use super::gain::apply_db;
use super::limiter::{Limiter, LimiterParams};

/// Consecutive chunks per excerpt.
const RUN: u64 = 8;
const EXCERPTS: u64 = 10;

/// Excerpts of a programme, collected chunk by chunk during pass 1.
#[derive(Clone)]
pub struct Excerpts {
    stride: u64,
    index: u64,
    frames: Vec<f32>,
}

impl std::fmt::Debug for Excerpts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Excerpts({} frames)", self.frames.len() / 2)
    }
}

fn err(e: ebur128::Error) -> AudioError {
    AudioError::Stage(format!("loudness calibration: {e}"))
}

impl Excerpts {
    /// `total_chunks`: how many chunks the stream will have, when known.
    pub fn new(total_chunks: Option<u64>) -> Excerpts {
        let stride = total_chunks
            .map(|n| (n / EXCERPTS).max(RUN))
            .unwrap_or(10 * RUN);
        Excerpts {
            stride,
            index: 0,
            frames: Vec::new(),
        }
    }

    /// Excerpts of the part of a stream that starts at chunk `index` (pass 1 decoding the
    /// second half on its own thread); [`Excerpts::append`] joins it to the first part's.
    pub fn starting_at(total_chunks: Option<u64>, index: u64) -> Excerpts {
        Excerpts {
            index,
            ..Excerpts::new(total_chunks)
        }
    }

    /// Adds the excerpts of the part of the stream that follows this one.
    pub fn append(&mut self, later: Excerpts) {
        self.frames.extend_from_slice(&later.frames);
    }

    /// Offers the next chunk of interleaved stereo frames; some are kept.
    pub fn add_chunk(&mut self, frames: &[f32]) {
        let take = self.index % self.stride < RUN;
        self.index += 1;
        if take {
            self.frames.extend_from_slice(frames);
        }
    }

    /// Encoded minus unencoded loudness of the excerpts after `gain_db` and the limiter, LU;
    /// also how far the encoded excerpts' true peak went over the limiter's ceiling.
    ///
    /// The two halves of the excerpts are encoded on two threads (both cores) and their
    /// gating blocks pooled, as one measurement.
    pub fn encoder_shift(
        &self,
        rate: u32,
        bitrate_kbps: u32,
        gain_db: f64,
        params: LimiterParams,
    ) -> Result<Option<Calibration>, AudioError> {
        if self.frames.is_empty() {
            return Ok(None);
        }
        // Split between two excerpts when there are several, else in the middle.
        let run = (RUN as usize * 16_384 * 2).min(self.frames.len());
        let half = (self.frames.len() / 2).div_ceil(run) * run;
        let (a, b) = self.frames.split_at(half.min(self.frames.len()));
        let measure = |x: &[f32]| measure_excerpts(x, rate, bitrate_kbps, gain_db, params);
        let (ra, rb) = std::thread::scope(|s| {
            let other = s.spawn(|| measure(b));
            let ra = measure(a);
            (ra, other.join())
        });
        let rb = rb.map_err(|_| AudioError::Stage("loudness calibration crashed".into()))?;
        let parts: Vec<(EbuR128, EbuR128)> = [ra?, rb?].into_iter().flatten().collect();
        if parts.is_empty() {
            return Ok(None);
        }
        let before = EbuR128::loudness_global_multiple(parts.iter().map(|p| &p.0)).map_err(err)?;
        let after = EbuR128::loudness_global_multiple(parts.iter().map(|p| &p.1)).map_err(err)?;
        let mut peak = 0.0f64;
        for p in &parts {
            peak = peak.max(
                p.1.true_peak(0)
                    .map_err(err)?
                    .max(p.1.true_peak(1).map_err(err)?),
            );
        }
        let overshoot_db = if peak > 0.0 {
            20.0 * peak.log10() - params.ceiling_db
        } else {
            f64::NEG_INFINITY
        };
        Ok(
            (before.is_finite() && after.is_finite()).then_some(Calibration {
                shift_lu: after - before,
                overshoot_db,
            }),
        )
    }
}

/// What the excerpts predict about the real encode.
#[derive(Debug, Clone, Copy)]
pub struct Calibration {
    /// Encoded minus unencoded integrated loudness, LU.
    pub shift_lu: f64,
    /// Encoded true peak minus the limiter's ceiling, dB (negative: stayed under it).
    pub overshoot_db: f64,
}

/// Meters `frames` after gain and limiter (the master), then encoded and decoded back.
fn measure_excerpts(
    frames: &[f32],
    rate: u32,
    bitrate_kbps: u32,
    gain_db: f64,
    params: LimiterParams,
) -> Result<Option<(EbuR128, EbuR128)>, AudioError> {
    if frames.is_empty() {
        return Ok(None);
    }
    let mut x = frames.to_vec();
    apply_db(&mut x, gain_db);
    let mut limited = Vec::with_capacity(x.len());
    let mut lim = Limiter::new(rate, params);
    lim.process(&x, &mut limited);
    lim.finish(&mut limited);
    let mut master = EbuR128::new(2, rate, Mode::I).map_err(err)?;
    master.add_frames_f32(&limited).map_err(err)?;
    let mut enc = Mp3StreamEncoder::new(rate, bitrate_kbps)?;
    let mut mp3 = Vec::new();
    enc.encode(&limited, &mut mp3)?;
    enc.flush(&mut mp3)?;
    if mp3.is_empty() {
        return Ok(None);
    }
    let mut dec = Decoder::from_source(Path::new("calibration.mp3"), Box::new(Cursor::new(mp3)))?;
    let mut after = EbuR128::new(2, rate, Mode::I | Mode::TRUE_PEAK).map_err(err)?;
    let mut buf = Vec::new();
    while dec.next_frames(&mut buf)? > 0 {
        after.add_frames_f32(&buf).map_err(err)?;
        buf.clear();
    }
    Ok(Some((master, after)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_spread_and_measured() {
        let tone: Vec<f32> = (0..44_100 * 4)
            .flat_map(|i| {
                let s = 0.3 * (i as f32 * 0.0627).sin();
                [s, s]
            })
            .collect();
        let mut e = Excerpts::new(Some(11));
        for chunk in tone.chunks(2 * 16_384) {
            e.add_chunk(chunk);
        }
        // 11 chunks, stride 8: chunks 0-7 and 8-10 are all kept.
        assert_eq!(e.frames.len(), tone.len());
        let c = e
            .encoder_shift(44_100, 128, 0.0, LimiterParams::default())
            .unwrap()
            .expect("a shift");
        assert!(c.shift_lu.abs() < 1.0, "{c:?}");
        // A 0.3 tone stays far under the -1.5 dBTP ceiling after encoding.
        assert!(c.overshoot_db < -5.0, "{c:?}");
    }
}
