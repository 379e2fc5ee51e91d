//! Sample-rate conversion of stereo frames with rubato, streamed chunk by chunk, with the
//! resampler's delay removed so output frame `k` is input time `k / rate_out` (integer sample
//! time is preserved across the conversion). Files use the synchronous FFT resampler
//! ([`Resampler::new`]); live sources an asynchronous sinc one whose ratio the drift control
//! nudges ([`Resampler::adjustable`], [`super::drift`]).

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{
    Async, Fft, FixedAsync, FixedSync, Indexing, SincInterpolationParameters,
    SincInterpolationType, WindowFunction,
};

const CHANNELS: usize = 2;
const CHUNK: usize = 1024;

/// Stereo interleaved `f32` from `rate_in` to `rate_out`.
pub struct Resampler {
    inner: Box<dyn rubato::Resampler<f32>>,
    rate_in: u64,
    rate_out: u64,
    pending: Vec<f32>,
    out_buf: Vec<f32>,
    /// Output frames still to drop (the resampler's delay, or a seek remainder).
    drop: usize,
    frames_in: u64,
    frames_out: u64,
}

impl Resampler {
    pub fn new(rate_in: u32, rate_out: u32) -> Result<Resampler, String> {
        let inner = Fft::<f32>::new(
            rate_in as usize,
            rate_out as usize,
            CHUNK,
            CHANNELS,
            FixedSync::Input,
        )
        .map_err(|e| format!("cannot resample {rate_in} Hz to {rate_out} Hz: {e}"))?;
        Ok(Resampler::with(Box::new(inner), rate_in, rate_out))
    }

    /// A resampler whose ratio can move by up to `max_relative` either way
    /// ([`Resampler::set_relative`]), for a source whose clock is not the station's.
    pub fn adjustable(rate_in: u32, rate_out: u32, max_relative: f64) -> Result<Resampler, String> {
        let params = SincInterpolationParameters {
            sinc_len: 64,
            f_cutoff: None,
            interpolation: SincInterpolationType::Linear,
            oversampling_factor: 128,
            window: WindowFunction::BlackmanHarris2,
        };
        let inner = Async::<f32>::new_sinc(
            f64::from(rate_out) / f64::from(rate_in),
            1.0 + 2.0 * max_relative,
            &params,
            256,
            CHANNELS,
            FixedAsync::Input,
        )
        .map_err(|e| format!("cannot resample {rate_in} Hz to {rate_out} Hz: {e}"))?;
        Ok(Resampler::with(Box::new(inner), rate_in, rate_out))
    }

    fn with(inner: Box<dyn rubato::Resampler<f32>>, rate_in: u32, rate_out: u32) -> Resampler {
        let drop = inner.output_delay();
        let max = inner.output_frames_max();
        Resampler {
            inner,
            rate_in: rate_in as u64,
            rate_out: rate_out as u64,
            pending: Vec::new(),
            out_buf: vec![0.0; max * CHANNELS],
            drop,
            frames_in: 0,
            frames_out: 0,
        }
    }

    /// Sets the ratio relative to the nominal one, ramped over the next chunk (an
    /// [`Resampler::adjustable`] one; others ignore it).
    pub fn set_relative(&mut self, relative: f64) {
        if let Some(a) = self.inner.as_adjustable() {
            // Out of the bounds given at construction: the ratio stays as it is.
            let _ = a.set_resample_ratio_relative(relative, true);
        }
    }

    /// Input frames between positions from which a reset resampler produces the same output as
    /// one that read from the start (after its first chunk): its chunk boundaries, at input
    /// positions that map to whole output frames.
    pub fn input_grain(&self) -> u64 {
        let gcd = |mut a: u64, mut b: u64| {
            while b != 0 {
                (a, b) = (b, a % b);
            }
            a
        };
        let step = self.rate_in / gcd(self.rate_in, self.rate_out);
        let chunk = self.inner.input_frames_next() as u64;
        chunk / gcd(chunk, step) * step
    }

    /// Input rate and output rate.
    pub fn rates(&self) -> (u64, u64) {
        (self.rate_in, self.rate_out)
    }

    /// Feeds interleaved stereo `input`; appends whatever output is ready to `out`.
    pub fn process(&mut self, input: &[f32], out: &mut Vec<f32>) {
        self.frames_in += (input.len() / CHANNELS) as u64;
        self.pending.extend_from_slice(input);
        let mut offset = 0;
        loop {
            let need = self.inner.input_frames_next();
            let have = self.pending.len() / CHANNELS - offset;
            if have < need {
                break;
            }
            let produced = self.run(offset, None);
            self.emit(produced, out);
            offset += need;
        }
        self.pending.drain(..offset * CHANNELS);
    }

    /// Flushes the tail: after this, `out` has received exactly `ceil(frames_in * ratio)` frames.
    pub fn finish(&mut self, out: &mut Vec<f32>) {
        let expected = (self.frames_in * self.rate_out).div_ceil(self.rate_in);
        let mut guard = 0;
        while self.frames_out < expected && guard < 64 {
            let have = self.pending.len() / CHANNELS;
            let need = self.inner.input_frames_next();
            self.pending.resize(need.max(have) * CHANNELS, 0.0);
            let produced = self.run(0, Some(have.min(need)));
            self.pending.clear();
            let keep = produced.min((expected - self.frames_out) as usize + self.drop);
            self.emit(keep, out);
            guard += 1;
        }
        self.pending.clear();
    }

    pub fn reset(&mut self) {
        self.inner.reset();
        self.pending.clear();
        self.drop = self.inner.output_delay();
        self.frames_in = 0;
        self.frames_out = 0;
    }

    /// Drops the next `frames` output frames (used to land exactly on a seek target).
    pub fn skip_output(&mut self, frames: u64) {
        self.drop += frames as usize;
    }

    fn run(&mut self, offset: usize, partial: Option<usize>) -> usize {
        let frames = self.pending.len() / CHANNELS;
        let input =
            InterleavedSlice::new(&self.pending[..], CHANNELS, frames).expect("interleaved input");
        let cap = self.out_buf.len() / CHANNELS;
        let mut output = InterleavedSlice::new_mut(&mut self.out_buf[..], CHANNELS, cap)
            .expect("interleaved output");
        let mut indexing = Indexing::new().input_offset(offset);
        if let Some(n) = partial {
            indexing = indexing.partial_len(n);
        }
        match self
            .inner
            .process_into_buffer(&input, &mut output, Some(&indexing))
        {
            Ok((_, produced)) => produced,
            Err(e) => {
                tracing::warn!("resampler chunk failed: {e}");
                0
            }
        }
    }

    fn emit(&mut self, produced: usize, out: &mut Vec<f32>) {
        let skip = self.drop.min(produced);
        self.drop -= skip;
        out.extend_from_slice(&self.out_buf[skip * CHANNELS..produced * CHANNELS]);
        self.frames_out += (produced - skip) as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_length_is_exact_and_delay_removed() {
        for (rin, rout) in [
            (48_000u32, 44_100u32),
            (22_050, 44_100),
            (8_000, 44_100),
            (192_000, 44_100),
        ] {
            let mut r = Resampler::new(rin, rout).unwrap();
            let n = rin as usize / 2 + 17;
            // An impulse at frame rin/4 must come out at frame rout/4.
            let mut input = vec![0.0f32; n * 2];
            input[(rin as usize / 4) * 2] = 1.0;
            let mut out = Vec::new();
            for chunk in input.chunks(2 * 777) {
                r.process(chunk, &mut out);
            }
            r.finish(&mut out);
            assert_eq!(
                out.len() / 2,
                (n as u64 * rout as u64).div_ceil(rin as u64) as usize,
                "{rin}->{rout}"
            );
            let peak = out
                .iter()
                .step_by(2)
                .enumerate()
                .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
                .unwrap()
                .0;
            assert!(
                (peak as i64 - rout as i64 / 4).abs() <= 1,
                "{rin}->{rout}: impulse at {peak}"
            );
        }
    }
}
