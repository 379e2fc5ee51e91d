//! A 4th-order Butterworth lowpass (two biquads) on stereo frames: predicts how much loudness
//! the MP3 encoder's own lowpass will remove, so the gain can aim at the published loudness.

/// One biquad section, direct form II transposed, per channel state.
#[derive(Debug, Clone)]
struct Biquad {
    b: [f64; 3],
    a: [f64; 2],
    z: [[f64; 2]; 2],
}

impl Biquad {
    fn lowpass(hz: f64, rate: f64, q: f64) -> Biquad {
        let w = 2.0 * std::f64::consts::PI * hz / rate;
        let (s, c) = w.sin_cos();
        let alpha = s / (2.0 * q);
        let a0 = 1.0 + alpha;
        let b1 = (1.0 - c) / a0;
        Biquad {
            b: [b1 / 2.0, b1, b1 / 2.0],
            a: [-2.0 * c / a0, (1.0 - alpha) / a0],
            z: [[0.0; 2]; 2],
        }
    }

    fn run(&mut self, ch: usize, x: f64) -> f64 {
        let z = &mut self.z[ch];
        let y = self.b[0] * x + z[0];
        z[0] = self.b[1] * x - self.a[0] * y + z[1];
        z[1] = self.b[2] * x - self.a[1] * y;
        y
    }
}

/// 4th-order Butterworth lowpass on interleaved stereo.
#[derive(Debug, Clone)]
pub struct Lowpass {
    stages: [Biquad; 2],
}

impl Lowpass {
    pub fn new(hz: f64, rate: f64) -> Lowpass {
        // Butterworth 4th order: two sections with Q = 0.5412 and 1.3066.
        Lowpass {
            stages: [
                Biquad::lowpass(hz, rate, 0.541_196),
                Biquad::lowpass(hz, rate, 1.306_563),
            ],
        }
    }

    pub fn process(&mut self, frames: &mut [f32]) {
        for frame in frames.chunks_exact_mut(2) {
            for (ch, s) in frame.iter_mut().enumerate() {
                let mut x = *s as f64;
                for st in self.stages.iter_mut() {
                    x = st.run(ch, x);
                }
                *s = x as f32;
            }
        }
    }
}
