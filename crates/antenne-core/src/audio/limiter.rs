//! Look-ahead true-peak limiter on stereo frames.
//!
//! Detection: 4x oversampled peaks (windowed-sinc polyphase interpolation, the same idea as
//! BS.1770's true-peak meter), both channels linked. Gain: the required gain gets an instant
//! attack and an exponential release, then a sliding minimum over the look-ahead window and a
//! moving average of the same length. The average of minima never exceeds the required gain
//! at any frame, so the output never crosses the ceiling, and the gain moves as a smooth ramp
//! over the look-ahead time (no clicks), releasing slowly (no pumping on speech).
//! The output is delayed internally but frame-exact: `n` frames in, `n` frames out.

/// Taps of each interpolation phase (the detector looks `TAPS / 2` frames ahead).
const TAPS: usize = 16;
const PHASES: usize = 4;
const RING: usize = 4096; // > TAPS / 2 + 2 * max look-ahead
const MASK: usize = RING - 1;

/// The limiter's settings.
#[derive(Debug, Clone, Copy)]
pub struct LimiterParams {
    /// Ceiling on the oversampled peak, dBTP.
    pub ceiling_db: f64,
    pub lookahead_ms: f64,
    pub release_ms: f64,
}

impl Default for LimiterParams {
    fn default() -> Self {
        LimiterParams {
            ceiling_db: -1.5,
            lookahead_ms: 5.0,
            release_ms: 150.0,
        }
    }
}

/// Streaming limiter state.
pub struct Limiter {
    ceiling: f32,
    lookahead: usize,
    release: f64,
    coefs: [[f32; TAPS]; PHASES - 1],
    /// Input frames, ring-indexed by input frame number.
    x: Vec<[f32; 2]>,
    /// Sliding-minimum deque of (index, value) over the release-smoothed gain.
    mins: std::collections::VecDeque<(u64, f32)>,
    /// Last `lookahead` sliding minima and their sum (moving average).
    box_ring: Vec<f32>,
    box_sum: f64,
    /// Release state, in f64: in f32 the recursion stalls ~2e-4 short of unity (its step
    /// falls under an ulp), which would leave a permanent -0.002 dB after any limiting.
    r_prev: f64,
    t: u64,
    /// Loudest sample of the previous and current chunk, to skip interpolation when quiet.
    prev_chunk_max: f32,
    min_gain: f32,
    real_frames: u64,
    emitted: u64,
    /// Consecutive sliding minima at exactly unity: once it reaches the look-ahead, every
    /// stage is at rest and quiet input can pass straight through (see `process`).
    unity_run: usize,
}

impl Limiter {
    pub fn new(rate: u32, params: LimiterParams) -> Limiter {
        let lookahead = ((params.lookahead_ms * rate as f64 / 1000.0).round() as usize)
            .clamp(1, (RING - TAPS) / 2 - 1);
        let release = 1.0 - (-1.0 / (params.release_ms * rate as f64 / 1000.0)).exp();
        Limiter {
            ceiling: 10f64.powf(params.ceiling_db / 20.0) as f32,
            lookahead,
            release,
            coefs: interpolation_coefs(),
            x: vec![[0.0; 2]; RING],
            mins: std::collections::VecDeque::with_capacity(lookahead + 1),
            box_ring: vec![1.0; lookahead],
            box_sum: lookahead as f64,
            r_prev: 1.0,
            t: 0,
            prev_chunk_max: 0.0,
            min_gain: 1.0,
            real_frames: 0,
            emitted: 0,
            unity_run: 0,
        }
    }

    /// Frames of internal delay.
    fn delay(&self) -> u64 {
        (TAPS / 2 + self.lookahead - 1) as u64
    }

    /// Deepest gain reduction so far, dB (0 when the limiter never acted).
    pub fn max_reduction_db(&self) -> f64 {
        -20.0 * (self.min_gain as f64).log10()
    }

    /// Feeds interleaved stereo frames; appends the limited frames that are ready.
    pub fn process(&mut self, input: &[f32], out: &mut Vec<f32>) {
        self.real_frames += (input.len() / 2) as u64;
        let chunk_max = input.iter().fold(0.0f32, |m, s| m.max(s.abs()));
        let quiet = chunk_max.max(self.prev_chunk_max) < 0.5 * self.ceiling;
        self.prev_chunk_max = chunk_max;
        if quiet && self.at_rest() {
            // Every gain is exactly 1 and stays so on quiet input: only the delay line runs.
            // This is most of a programme, so it matters for speed.
            for f in input.chunks_exact(2) {
                self.pass_through([f[0], f[1]], out);
            }
            return;
        }
        for f in input.chunks_exact(2) {
            self.step([f[0], f[1]], quiet, out);
        }
    }

    /// True when the release, the sliding minimum and the moving average all sit at unity.
    fn at_rest(&self) -> bool {
        self.r_prev == 1.0 && self.unity_run >= self.lookahead
    }

    /// [`Limiter::step`] when at rest on quiet input: the same output (the frame delayed, gain
    /// 1) and the same state, without the detector.
    fn pass_through(&mut self, frame: [f32; 2], out: &mut Vec<f32>) {
        let t = self.t;
        self.x[t as usize & MASK] = frame;
        self.t += 1;
        let d = t - (TAPS / 2) as u64;
        // The minimum of a window of ones is the newest one; the average of ones is exact.
        self.mins.clear();
        self.mins.push_back((d, 1.0));
        self.box_ring[(d % self.lookahead as u64) as usize] = 1.0;
        self.box_sum = self.lookahead as f64;
        let o = d + 1 - self.lookahead as u64;
        if o < self.real_frames {
            let xo = self.x[o as usize & MASK];
            out.extend_from_slice(&xo);
            self.emitted += 1;
        }
    }

    /// Flushes the delay line: after this exactly as many frames came out as went in.
    pub fn finish(&mut self, out: &mut Vec<f32>) {
        let tail = self.prev_chunk_max;
        while self.emitted < self.real_frames {
            self.step([0.0, 0.0], tail < 0.5 * self.ceiling, out);
        }
    }

    fn step(&mut self, frame: [f32; 2], quiet: bool, out: &mut Vec<f32>) {
        let t = self.t;
        self.x[t as usize & MASK] = frame;
        self.t += 1;
        let half = (TAPS / 2) as u64;
        if t < half {
            return;
        }
        // 1. Required gain at frame d from its oversampled peak.
        let d = t - half;
        let xd = self.x[d as usize & MASK];
        let mut peak = xd[0].abs().max(xd[1].abs());
        if !quiet {
            for phase in &self.coefs {
                let (mut l, mut r) = (0.0f32, 0.0f32);
                for (k, c) in phase.iter().enumerate() {
                    // Wrapping: before the first frames the ring still holds zeros.
                    let s = self.x[(d + k as u64 + 1).wrapping_sub(half) as usize & MASK];
                    l += c * s[0];
                    r += c * s[1];
                }
                peak = peak.max(l.abs()).max(r.abs());
            }
        }
        let g_req = if peak > self.ceiling {
            self.ceiling / peak
        } else {
            1.0
        };
        // 2. Instant attack, exponential release (snapped to unity once within 1e-6 of it: -0.00001 dB).
        let mut released = self.r_prev + (1.0 - self.r_prev) * self.release;
        if released > 1.0 - 1e-6 {
            released = 1.0;
        }
        let r_wide = (g_req as f64).min(released);
        self.r_prev = r_wide;
        let r = r_wide as f32;
        // 3. Sliding minimum over the look-ahead window.
        while self.mins.back().is_some_and(|&(_, v)| v >= r) {
            self.mins.pop_back();
        }
        self.mins.push_back((d, r));
        let l = self.lookahead as u64;
        while self.mins.front().is_some_and(|&(i, _)| i + l <= d) {
            self.mins.pop_front();
        }
        let m = self.mins.front().map(|&(_, v)| v).unwrap_or(1.0);
        self.unity_run = if m == 1.0 { self.unity_run + 1 } else { 0 };
        // 4. Moving average of the minima: a smooth ramp that still meets every requirement.
        let slot = (d % l) as usize;
        self.box_sum += m as f64 - self.box_ring[slot] as f64;
        self.box_ring[slot] = m;
        if d + 1 < l {
            return;
        }
        let gain = (self.box_sum / l as f64).min(1.0) as f32;
        let o = d + 1 - l;
        if o >= self.real_frames {
            return;
        }
        self.min_gain = self.min_gain.min(gain);
        let xo = self.x[o as usize & MASK];
        out.push(xo[0] * gain);
        out.push(xo[1] * gain);
        self.emitted += 1;
        debug_assert_eq!(t - o, self.delay());
    }
}

/// Coefficients of the three fractional phases (1/4, 2/4, 3/4) of a Blackman-windowed sinc.
fn interpolation_coefs() -> [[f32; TAPS]; PHASES - 1] {
    let mut c = [[0.0f32; TAPS]; PHASES - 1];
    for (p, phase) in c.iter_mut().enumerate() {
        let frac = (p + 1) as f64 / PHASES as f64;
        let mut sum = 0.0;
        let mut h = [0.0f64; TAPS];
        for (k, hk) in h.iter_mut().enumerate() {
            // Tap k multiplies x[d + k + 1 - TAPS/2]; its distance from the point d + frac:
            let u = (k as f64 + 1.0 - (TAPS / 2) as f64) - frac;
            let sinc = if u == 0.0 {
                1.0
            } else {
                (std::f64::consts::PI * u).sin() / (std::f64::consts::PI * u)
            };
            let w_pos = (u + TAPS as f64 / 2.0) / TAPS as f64; // 0..1 across the span
            let pi2 = 2.0 * std::f64::consts::PI * w_pos;
            let window = 0.42 - 0.5 * pi2.cos() + 0.08 * (2.0 * pi2).cos();
            *hk = sinc * window;
            sum += *hk;
        }
        for (k, hk) in h.iter().enumerate() {
            phase[k] = (hk / sum) as f32;
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &[f32], params: LimiterParams) -> (Vec<f32>, Limiter) {
        let mut lim = Limiter::new(44_100, params);
        let mut out = Vec::new();
        for chunk in input.chunks(2 * 1000) {
            lim.process(chunk, &mut out);
        }
        lim.finish(&mut out);
        (out, lim)
    }

    #[test]
    fn frame_exact_and_transparent_below_ceiling() {
        let input: Vec<f32> = (0..44_100 * 2)
            .map(|i| 0.2 * ((i / 2) as f32 * 0.05).sin())
            .collect();
        let (out, lim) = run(&input, LimiterParams::default());
        assert_eq!(out.len(), input.len());
        assert_eq!(out, input);
        assert_eq!(lim.max_reduction_db(), 0.0);
    }

    #[test]
    fn loud_burst_never_crosses_ceiling() {
        // Quiet tone, then a sudden full-scale burst near fs/4 (large inter-sample peaks).
        let mut input = Vec::new();
        for i in 0..44_100usize {
            let a = if (20_000..30_000).contains(&i) {
                1.0
            } else {
                0.1
            };
            let s = a * (i as f32 * std::f32::consts::FRAC_PI_2 + 0.785).sin();
            input.extend([s, -s]);
        }
        let params = LimiterParams::default();
        let (out, lim) = run(&input, params);
        assert_eq!(out.len(), input.len());
        let ceiling = 10f32.powf(params.ceiling_db as f32 / 20.0);
        let peak = out.iter().fold(0.0f32, |m, s| m.max(s.abs()));
        assert!(peak <= ceiling, "sample peak {peak} over {ceiling}");
        assert!(lim.max_reduction_db() > 1.0);
        // The quiet part well before the burst is untouched.
        assert_eq!(&out[..2 * 10_000], &input[..2 * 10_000]);
    }

    #[test]
    fn returns_to_exact_pass_through_after_limiting() {
        // A burst over the ceiling, then 4 s of quiet tone: the limiter acts, releases, and
        // comes back to rest, where quiet input passes bit for bit.
        let mut input = Vec::new();
        for i in 0..44_100 * 4 {
            let a = if (1_000..3_000).contains(&i) {
                1.0
            } else {
                0.2
            };
            let s = a * (i as f32 * 0.07).sin();
            input.extend([s, 0.5 * s]);
        }
        let params = LimiterParams::default();
        let (out, lim) = run(&input, params);
        assert_eq!(out.len(), input.len());
        assert!(lim.max_reduction_db() > 1.0);
        let tail = 3 * 44_100 * 2;
        assert_eq!(&out[tail..], &input[tail..]);
        let ceiling = 10f32.powf(params.ceiling_db as f32 / 20.0);
        assert!(out.iter().all(|s| s.abs() <= ceiling));
    }
}
