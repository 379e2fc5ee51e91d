//! Channel layout to stereo: mono duplicated, stereo untouched, multichannel folded down with
//! the ITU-R BS.775 coefficients (centre and surrounds at -3 dB, LFE dropped).

use symphonia::core::audio::{Channels, Position};

/// -3 dB, the BS.775 weight of centre and surround channels in a stereo fold-down.
const MINUS_3DB: f32 = std::f32::consts::FRAC_1_SQRT_2;

/// A fixed matrix from `n` input channels to two.
#[derive(Debug, Clone)]
pub struct Downmix {
    channels: usize,
    /// Per input channel: weight into left, weight into right.
    weights: Vec<(f32, f32)>,
}

impl Downmix {
    /// Builds the matrix for `channels` inputs; `layout` names their positions when known,
    /// otherwise the WAV/SMPTE order (FL FR FC LFE BL BR SL SR) is assumed.
    pub fn new(channels: usize, layout: Option<&Channels>) -> Downmix {
        let positions: Vec<Position> = match layout {
            Some(Channels::Positioned(p)) if p.bits().count_ones() as usize == channels => {
                p.iter().collect()
            }
            _ => default_order(channels),
        };
        let weights = positions.iter().map(|p| weight(*p)).collect();
        Downmix { channels, weights }
    }

    pub fn input_channels(&self) -> usize {
        self.channels
    }

    /// Appends the stereo version of interleaved `input` to `out`.
    pub fn process(&self, input: &[f32], out: &mut Vec<f32>) {
        match self.channels {
            1 => {
                out.reserve(input.len() * 2);
                for &s in input {
                    out.push(s);
                    out.push(s);
                }
            }
            2 => out.extend_from_slice(input),
            n => {
                out.reserve(input.len() / n * 2);
                for frame in input.chunks_exact(n) {
                    let (mut l, mut r) = (0.0f32, 0.0f32);
                    for (s, (wl, wr)) in frame.iter().zip(&self.weights) {
                        l += s * wl;
                        r += s * wr;
                    }
                    out.push(l);
                    out.push(r);
                }
            }
        }
    }
}

fn default_order(channels: usize) -> Vec<Position> {
    const ORDER: [Position; 8] = [
        Position::FRONT_LEFT,
        Position::FRONT_RIGHT,
        Position::FRONT_CENTER,
        Position::LFE1,
        Position::REAR_LEFT,
        Position::REAR_RIGHT,
        Position::SIDE_LEFT,
        Position::SIDE_RIGHT,
    ];
    (0..channels)
        .map(|i| ORDER.get(i).copied().unwrap_or(Position::empty()))
        .collect()
}

/// BS.775 stereo fold-down weights of one speaker position.
fn weight(p: Position) -> (f32, f32) {
    if p == Position::FRONT_LEFT
        || p == Position::FRONT_LEFT_WIDE
        || p == Position::FRONT_LEFT_CENTER
    {
        (1.0, 0.0)
    } else if p == Position::FRONT_RIGHT
        || p == Position::FRONT_RIGHT_WIDE
        || p == Position::FRONT_RIGHT_CENTER
    {
        (0.0, 1.0)
    } else if p == Position::FRONT_CENTER || p == Position::REAR_CENTER {
        (MINUS_3DB, MINUS_3DB)
    } else if p == Position::REAR_LEFT || p == Position::SIDE_LEFT {
        (MINUS_3DB, 0.0)
    } else if p == Position::REAR_RIGHT || p == Position::SIDE_RIGHT {
        (0.0, MINUS_3DB)
    } else {
        // LFE is not part of the BS.775 fold-down; unknown or height channels are dropped too.
        (0.0, 0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(channels: usize, frame: &[f32], expected: [f32; 2]) {
        let mut out = Vec::new();
        Downmix::new(channels, None).process(frame, &mut out);
        assert!(
            (out[0] - expected[0]).abs() < 1e-6 && (out[1] - expected[1]).abs() < 1e-6,
            "{out:?}"
        );
    }

    #[test]
    fn layouts_fold_to_stereo() {
        check(1, &[0.5], [0.5, 0.5]);
        check(2, &[0.1, 0.2], [0.1, 0.2]);
        // 5.1: FL FR FC LFE BL BR
        check(6, &[1.0, 0.0, 0.0, 0.0, 0.0, 0.0], [1.0, 0.0]);
        check(6, &[0.0, 0.0, 1.0, 0.0, 0.0, 0.0], [MINUS_3DB, MINUS_3DB]);
        check(6, &[0.0, 0.0, 0.0, 1.0, 0.0, 0.0], [0.0, 0.0]);
        check(6, &[0.0, 0.0, 0.0, 0.0, 0.0, 1.0], [0.0, MINUS_3DB]);
    }
}
