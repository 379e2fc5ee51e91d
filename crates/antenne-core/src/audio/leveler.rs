//! Real-time loudness for live audio: a quiet microphone or a hot mixer is brought to the
//! station's loudness while it airs, then through the true-peak limiter, so a live show sits
//! with the rest of the programme. Episodes get the exact two-pass treatment at ingest; live
//! audio cannot wait for its end, so its gain rides slowly toward the target instead.
//!
//! Time constants (the README's "live" section quotes them):
//! - loudness is the EBU R128 short-term value (3 s window), read every [`UPDATE_MS`] ms,
//!   gated by the momentary one (400 ms);
//! - the gain moves toward `target - short-term`, at most [`CUT_DB_PER_S`] dB/s down (a
//!   mixer pushed too hot comes down within seconds) and [`BOOST_DB_PER_S`] dB/s up (a
//!   pause or a quiet guest is not pumped up at once);
//! - it stays within ±[`MAX_GAIN_DB`] dB and holds while the short-term loudness is under
//!   [`GATE_LUFS`] (silence between two songs is not boosted into noise);
//! - the limiter (5 ms look-ahead, 150 ms release) catches what the slow gain lets through.
//!
//! Input and output are interleaved stereo frames at the station rate; the limiter delays the
//! audio by a few milliseconds, frame-exact (`n` frames in, `n` out after [`Leveler::finish`]).

use ebur128::{EbuR128, Mode};

use super::limiter::{Limiter, LimiterParams};
use super::{AudioError, CHANNELS};

pub const UPDATE_MS: u32 = 100;
pub const CUT_DB_PER_S: f64 = 3.0;
pub const BOOST_DB_PER_S: f64 = 0.75;
pub const MAX_GAIN_DB: f64 = 15.0;
pub const GATE_LUFS: f64 = -45.0;
/// Headroom kept under the ceiling for the MP3 encoder's overshoot, as ingest does.
const CEILING_MARGIN_DB: f64 = 0.5;

/// The gain rider and its limiter.
pub struct Leveler {
    target_lufs: f64,
    meter: EbuR128,
    /// Frames between two gain updates.
    update: usize,
    /// Frames since the last update.
    since: usize,
    /// Gain in force at the end of the current update period, and at its start.
    gain_db: f64,
    from_db: f64,
    shortterm: Option<f64>,
    limiter: Limiter,
    gained: Vec<f32>,
}

impl Leveler {
    pub fn new(rate: u32, target_lufs: f64, ceiling_dbtp: f64) -> Result<Leveler, AudioError> {
        let meter = EbuR128::new(CHANNELS as u32, rate, Mode::M | Mode::S)
            .map_err(|e| AudioError::Stage(format!("loudness meter: {e}")))?;
        let params = LimiterParams {
            ceiling_db: ceiling_dbtp - CEILING_MARGIN_DB,
            ..LimiterParams::default()
        };
        Ok(Leveler {
            target_lufs,
            meter,
            update: (rate * UPDATE_MS / 1000).max(1) as usize,
            since: 0,
            gain_db: 0.0,
            from_db: 0.0,
            shortterm: None,
            limiter: Limiter::new(rate, params),
            gained: Vec::new(),
        })
    }

    /// The gain applied now, dB.
    pub fn gain_db(&self) -> f64 {
        self.gain_db
    }

    /// The source's own short-term loudness (before the gain), LUFS; `None` before 3 s.
    pub fn shortterm_lufs(&self) -> Option<f64> {
        self.shortterm
    }

    /// Levels interleaved stereo `input`; appends what the limiter lets out to `out`.
    pub fn process(&mut self, input: &[f32], out: &mut Vec<f32>) {
        self.gained.clear();
        for frame in input.chunks_exact(CHANNELS) {
            if self.since == self.update {
                self.next_gain();
            }
            // The gain moves linearly across the update period: no steps, no zipper noise.
            let x = self.since as f64 / self.update as f64;
            let db = self.from_db + (self.gain_db - self.from_db) * x;
            let g = 10f64.powf(db / 20.0) as f32;
            self.gained.extend(frame.iter().map(|s| s * g));
            self.since += 1;
        }
        // Metering the source itself: the gain must not measure its own effect.
        let _ = self.meter.add_frames_f32(input);
        self.limiter.process(&self.gained, out);
    }

    /// Flushes the limiter's look-ahead.
    pub fn finish(&mut self, out: &mut Vec<f32>) {
        self.limiter.finish(out);
    }

    fn next_gain(&mut self) {
        self.since = 0;
        self.from_db = self.gain_db;
        let dt = f64::from(UPDATE_MS) / 1000.0;
        self.shortterm = self
            .meter
            .loudness_shortterm()
            .ok()
            .filter(|l| l.is_finite());
        // Silence or a pause: hold. The momentary loudness (400 ms) tells at once; the
        // short-term one would still be falling for 3 s, and pull the gain up meanwhile.
        let momentary = self.meter.loudness_momentary().unwrap_or(f64::NEG_INFINITY);
        let Some(loudness) = self
            .shortterm
            .filter(|l| *l > GATE_LUFS && momentary > GATE_LUFS)
        else {
            return;
        };
        let want = (self.target_lufs - loudness).clamp(-MAX_GAIN_DB, MAX_GAIN_DB);
        let step = (want - self.gain_db).clamp(-CUT_DB_PER_S * dt, BOOST_DB_PER_S * dt);
        self.gain_db += step;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(amplitude: f32, seconds: f64, rate: u32) -> Vec<f32> {
        let n = (seconds * f64::from(rate)) as usize;
        (0..n)
            .flat_map(|i| {
                let s = amplitude * (i as f32 * 440.0 * std::f32::consts::TAU / rate as f32).sin();
                [s, s]
            })
            .collect()
    }

    fn loudness(pcm: &[f32], rate: u32) -> f64 {
        let mut m = EbuR128::new(2, rate, Mode::I | Mode::TRUE_PEAK).unwrap();
        m.add_frames_f32(pcm).unwrap();
        m.loudness_global().unwrap()
    }

    fn level(input: &[f32], rate: u32) -> (Vec<f32>, Leveler) {
        let mut l = Leveler::new(rate, -16.0, -1.0).unwrap();
        let mut out = Vec::new();
        for chunk in input.chunks(2 * 1152) {
            l.process(chunk, &mut out);
        }
        l.finish(&mut out);
        (out, l)
    }

    #[test]
    fn a_quiet_microphone_is_brought_up_to_the_target_slowly() {
        let rate = 44_100;
        // About -30 LUFS: 14 dB under the target.
        let input = tone(0.035, 60.0, rate);
        let (out, l) = level(&input, rate);
        assert_eq!(out.len(), input.len(), "frame-exact");
        // The last 20 s sit near the target; the gain rose no faster than its rate.
        let tail = &out[out.len() - 20 * 2 * rate as usize..];
        let lufs = loudness(tail, rate);
        assert!((lufs - -16.0).abs() < 1.0, "{lufs} LUFS");
        let first_second = loudness(&out[..2 * rate as usize], rate);
        assert!(
            first_second < -29.0,
            "no jump at the start: {first_second} LUFS"
        );
        assert!(l.gain_db() > 13.0 && l.gain_db() <= MAX_GAIN_DB);
    }

    #[test]
    fn a_hot_mixer_comes_down_and_never_crosses_the_ceiling() {
        let rate = 48_000;
        let input = tone(0.99, 20.0, rate);
        let (out, l) = level(&input, rate);
        let peak = out.iter().fold(0.0f32, |m, s| m.max(s.abs()));
        assert!(20.0 * f64::from(peak).log10() <= -1.4, "peak {peak}");
        assert!(l.gain_db() < -5.0, "gain {}", l.gain_db());
        let tail = &out[out.len() - 5 * 2 * rate as usize..];
        assert!((loudness(tail, rate) - -16.0).abs() < 1.0);
    }

    #[test]
    fn silence_is_not_boosted() {
        let rate = 44_100;
        let mut input = tone(0.2, 10.0, rate);
        input.extend(std::iter::repeat_n(0.0, 2 * 30 * rate as usize));
        let (_, l) = level(&input, rate);
        let (_, before) = level(&tone(0.2, 10.0, rate), rate);
        assert!(
            (l.gain_db() - before.gain_db()).abs() < 0.6,
            "held through silence"
        );
    }
}
