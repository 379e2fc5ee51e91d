//! Linear gain: the one number that moves a programme to the loudness target.

/// Gain in dB needed to move `measured` LUFS to `target` LUFS.
pub fn gain_to_target(measured_lufs: f64, target_lufs: f64) -> f64 {
    target_lufs - measured_lufs
}

/// Multiplies interleaved samples in place by `db` decibels.
pub fn apply_db(frames: &mut [f32], db: f64) {
    let g = db_to_linear(db);
    if g != 1.0 {
        for s in frames {
            *s *= g;
        }
    }
}

pub fn db_to_linear(db: f64) -> f32 {
    10f64.powf(db / 20.0) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_db_doubles() {
        let mut x = [0.25f32, -0.25];
        apply_db(&mut x, 20.0 * 2f64.log10());
        assert!((x[0] - 0.5).abs() < 1e-6 && (x[1] + 0.5).abs() < 1e-6);
        assert_eq!(gain_to_target(-23.0, -16.0), 7.0);
    }
}
