//! A detector of glitches in a sine, with two measures.
//!
//! - **Clicks.** A pure tone obeys `x[n] - 2cos(ω)·x[n-1] + x[n-2] = 0` exactly, so the
//!   residual of that prediction measures how far each sample is from what the two before it
//!   allow. A gap, a dropped or repeated block, a sample spike or a gain step leaves a
//!   residual of the order of the tone's amplitude; a sine whose pitch moves by the drift
//!   control's 1 % or whose gain rides by a few dB a second leaves one a thousand times
//!   smaller. A residual over `tolerance × amplitude` is a discontinuity.
//! - **Wobbles.** Its amplitude, `√(x[n]² + ((x[n+1] - x[n-1]) / 2sin ω)²)`, is constant for a
//!   pure tone (within 1 % for one 1 % off pitch). Smooth but wrong audio (what a decoder makes
//!   of garbage: band-limited, so no click) makes it jump: an amplitude more than
//!   [`WOBBLE`] away from its 5 ms average is a wobble.
//!
//! The amplitude a click is judged against is followed from the signal (a peak follower that
//! decays by 1 % a period), so a leveler riding the gain does not count; stretches quieter
//! than [`QUIET`] are not judged (priming silence; an underrun's silence is judged at its
//! edge, where the tone stops).

/// Below this amplitude the signal is taken as silence and not judged.
pub const QUIET: f64 = 1e-3;
/// The relative distance of the amplitude from its 5 ms average that is a wobble.
pub const WOBBLE: f64 = 0.05;

/// Where a kind of glitch was found.
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub count: u64,
    /// The largest relative measure seen, and the sample it was at.
    pub worst: (f64, u64),
    /// The first and the last sample found.
    pub first: Option<u64>,
    pub last: Option<u64>,
}

impl Found {
    fn judge(&mut self, measure: f64, limit: f64, index: u64) {
        if measure > self.worst.0 {
            self.worst = (measure, index);
        }
        if measure > limit {
            self.count += 1;
            self.first.get_or_insert(index);
            self.last = Some(index);
        }
    }

    /// Milliseconds from the first to the last one found at `rate`.
    pub fn span_ms(&self, rate: f64) -> f64 {
        match (self.first, self.last) {
            (Some(a), Some(b)) => (b - a + 1) as f64 * 1000.0 / rate,
            _ => 0.0,
        }
    }
}

/// Streaming detector over mono samples (feed one channel).
#[derive(Debug, Clone)]
pub struct SineContinuity {
    /// `2cos(ω)` and `2sin(ω)` at the nominal frequency.
    k: f64,
    two_sin: f64,
    /// Per-sample decay of the peak follower, and the weight of the amplitude's 5 ms average.
    decay: f64,
    smoothing: f64,
    /// The largest residual, relative to the amplitude, that is not a discontinuity.
    tolerance: f64,
    x1: Option<f64>,
    x2: Option<f64>,
    envelope: f64,
    /// The amplitude's average; `None` until it has a period's worth.
    average: Option<f64>,
    warmup: u64,
    /// Samples judged.
    pub samples: u64,
    pub clicks: Found,
    pub wobbles: Found,
    index: u64,
}

impl SineContinuity {
    /// A detector for a tone of `freq` Hz at `rate`, allowing click residuals up to
    /// `tolerance` times the amplitude (0.01: a phase break of about a hundredth of a radian).
    pub fn new(freq: f64, rate: f64, tolerance: f64) -> SineContinuity {
        let omega = std::f64::consts::TAU * freq / rate;
        SineContinuity {
            k: 2.0 * omega.cos(),
            two_sin: 2.0 * omega.sin(),
            decay: 0.99f64.powf(freq / rate),
            smoothing: 1.0 - (-1.0 / (0.005 * rate)).exp(),
            tolerance,
            x1: None,
            x2: None,
            envelope: 0.0,
            average: None,
            warmup: (rate / freq) as u64,
            samples: 0,
            clicks: Found::default(),
            wobbles: Found::default(),
            index: 0,
        }
    }

    /// Judges the next samples.
    pub fn push(&mut self, samples: impl IntoIterator<Item = f32>) {
        for x in samples {
            let x = f64::from(x);
            self.envelope = (self.envelope * self.decay).max(x.abs());
            if let (Some(x1), Some(x2)) = (self.x1, self.x2)
                && self.envelope > QUIET
            {
                self.samples += 1;
                let residual = (x - self.k * x1 + x2).abs() / self.envelope;
                self.clicks.judge(residual, self.tolerance, self.index);
                // The amplitude at the sample before this one.
                let slope = (x - x2) / self.two_sin;
                let amplitude = (x1 * x1 + slope * slope).sqrt();
                let average = self.average.unwrap_or(amplitude);
                if self.warmup == 0 {
                    let distance = (amplitude - average).abs() / average.max(QUIET);
                    self.wobbles.judge(distance, WOBBLE, self.index - 1);
                } else {
                    self.warmup -= 1;
                }
                self.average = Some(average + self.smoothing * (amplitude - average));
            }
            (self.x2, self.x1) = (self.x1, Some(x));
            self.index += 1;
        }
    }

    /// Clicks and wobbles together.
    pub fn glitches(&self) -> u64 {
        self.clicks.count + self.wobbles.count
    }
}
