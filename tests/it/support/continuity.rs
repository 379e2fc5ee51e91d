//! A detector of clicks in a sine: a pure tone obeys `x[n] - 2cos(ω)·x[n-1] + x[n-2] = 0`
//! exactly, so the residual of that prediction measures how far each sample is from what the
//! two before it allow. A gap, a dropped or repeated block, a sample spike or a gain step
//! leaves a residual of the order of the tone's amplitude; a sine whose pitch moves by the
//! drift control's 1 % or whose gain rides by a few dB a second leaves one a thousand times
//! smaller. A residual over `tolerance × amplitude` is a discontinuity.
//!
//! The amplitude is followed from the signal (a peak follower that decays by 1 % a period), so
//! a leveler riding the gain does not count; stretches quieter than [`QUIET`] are not judged
//! (priming silence, an underrun's silence is judged at its edge, where the tone stops).

/// Below this amplitude the signal is taken as silence and not judged.
pub const QUIET: f64 = 1e-3;

/// Streaming detector over mono samples (feed one channel).
#[derive(Debug, Clone)]
pub struct SineContinuity {
    /// `2cos(ω)` at the nominal frequency.
    k: f64,
    /// Per-sample decay of the amplitude follower.
    decay: f64,
    /// The largest residual, relative to the amplitude, that is not a discontinuity.
    tolerance: f64,
    x1: Option<f64>,
    x2: Option<f64>,
    envelope: f64,
    /// Samples judged.
    pub samples: u64,
    /// Residuals over the tolerance.
    pub discontinuities: u64,
    /// The largest relative residual seen, and the sample it was at.
    pub worst: (f64, u64),
    /// The index of every discontinuity (the first 100), and of the last one.
    pub at: Vec<u64>,
    pub last: Option<u64>,
    index: u64,
}

impl SineContinuity {
    /// A detector for a tone of `freq` Hz at `rate`, allowing residuals up to `tolerance`
    /// times the amplitude (0.01: a phase break of about a hundredth of a radian).
    pub fn new(freq: f64, rate: f64, tolerance: f64) -> SineContinuity {
        let omega = std::f64::consts::TAU * freq / rate;
        SineContinuity {
            k: 2.0 * omega.cos(),
            decay: 0.99f64.powf(freq / rate),
            tolerance,
            x1: None,
            x2: None,
            envelope: 0.0,
            samples: 0,
            discontinuities: 0,
            worst: (0.0, 0),
            at: Vec::new(),
            last: None,
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
                let residual = (x - self.k * x1 + x2).abs() / self.envelope;
                self.samples += 1;
                if residual > self.worst.0 {
                    self.worst = (residual, self.index);
                }
                if residual > self.tolerance {
                    self.discontinuities += 1;
                    if self.at.len() < 100 {
                        self.at.push(self.index);
                    }
                    self.last = Some(self.index);
                }
            }
            (self.x2, self.x1) = (self.x1, Some(x));
            self.index += 1;
        }
    }
}
