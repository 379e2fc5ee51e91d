//! Generated programme material: sine tones as WAV files, for tests that need real audio of a
//! known pitch (no binary fixtures in the repository).

use std::path::Path;

/// A stereo 16-bit WAV at `rate` of a `hz` sine at -10.5 dBFS (0.3), `seconds` long; creates
/// the parent folders.
pub fn sine_wav(path: &Path, hz: f32, seconds: f32, rate: u32) {
    std::fs::create_dir_all(path.parent().expect("a file in a folder")).unwrap();
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for k in 0..(seconds * rate as f32) as u32 {
        let v = (k as f32 * hz * std::f32::consts::TAU / rate as f32).sin() * 0.3;
        w.write_sample((v * 32767.0) as i16).unwrap();
        w.write_sample((v * 32767.0) as i16).unwrap();
    }
    w.finalize().unwrap();
}
