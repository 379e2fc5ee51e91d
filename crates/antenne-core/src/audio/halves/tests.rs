//! Two-encoder renders against one encoder, and the fallback to one.

use super::*;
use crate::audio::analyze_file;
use crate::audio::id3::encode_tag;
use crate::audio::lametag::parse_info;

use crate::audio::PcmSource;
use crate::audio::decode::open_station;
use crate::audio::id3::EpisodeTags;
use crate::audio::render::encode_pass;

const RATE: u32 = 44_100;

fn opts() -> RenderOptions {
    RenderOptions {
        target_lufs: -16.0,
        ceiling_dbtp: -1.0,
        rate: RATE,
        bitrate_kbps: 128,
        keep_silence_s: 0.5,
        tags: EpisodeTags::default(),
        max_duration_s: 3600.0,
    }
}

/// Programme-like stereo: a drifting chord, noise bursts and a click every 1.3 s, so LAME
/// switches block types and drains its reservoir now and then. `shift` delays it.
fn programme(path: &Path, seconds: f64, shift: usize) -> Vec<f32> {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let mut seed = 11u32;
    let frames = (seconds * RATE as f64) as usize;
    let mut pcm = Vec::with_capacity(frames * 2);
    for i in 0..frames {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let noise = (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
        let t = i.saturating_sub(shift) as f32 / RATE as f32;
        let burst = if (t * 0.7).fract() < 0.3 { 0.25 } else { 0.02 };
        let mut l = 0.2 * (t * 220.0 * std::f32::consts::TAU).sin()
            + 0.1 * (t * (330.0 + 40.0 * (t * 0.3).sin()) * std::f32::consts::TAU).sin()
            + burst * noise;
        let mut r = 0.8 * l - 0.1 * noise;
        if i % (RATE as usize * 13 / 10) == 300 {
            (l, r) = (0.7, -0.6);
        }
        for s in [l, r] {
            let v = (s * 32_767.0) as i16;
            w.write_sample(v).unwrap();
            pcm.push(v as f32 / 32_768.0);
        }
    }
    w.finalize().unwrap();
    pcm
}

fn decode(path: &Path) -> Vec<f32> {
    let mut src = open_station(path, RATE).unwrap();
    let mut out = Vec::new();
    while src.read(&mut out, 1 << 16).unwrap() > 0 {}
    out
}

/// RMS of `a - b` over MP3-frame-sized windows.
fn window_errors(a: &[f32], b: &[f32]) -> Vec<f64> {
    let w = FS as usize * 2;
    a.chunks(w)
        .zip(b.chunks(w))
        .map(|(x, y)| {
            let e: f64 = x.iter().zip(y).map(|(p, q)| ((p - q) as f64).powi(2)).sum();
            (e / x.len() as f64).sqrt()
        })
        .collect()
}

/// Unity gain and a limiter that never acts: the programme is the WAV itself.
fn pass_through() -> (f64, LimiterParams) {
    let params = LimiterParams {
        ceiling_db: 0.0,
        ..Default::default()
    };
    (0.0, params)
}

#[test]
fn plans() {
    let min = |s: f64| (s * RATE as f64) as u64;
    assert!(
        Plan::for_programme(min(59.0), RATE).is_none(),
        "short: one core"
    );
    assert!(
        Plan::for_programme(min(3600.0), 22_050).is_none(),
        "MPEG-2 frames"
    );
    let p = Plan::for_programme(min(3600.0), RATE).unwrap();
    let total = min(3600.0) / FS;
    // The seam search starts about half-way and stays well inside the programme.
    assert!(p.candidates().start.abs_diff(total / 2) < 100, "{p:?}");
    assert!(p.check_window().end <= (p.candidates().start - 1) * FS - DELAY);
    assert!(p.kept().start + HOLD as u64 == p.warm);
    assert!(
        Plan::with(min(2.0), RATE, 16, 40).is_none(),
        "too short for the range"
    );
}

#[test]
fn spliced_stream_decodes_like_one_encoder() {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("in.wav");
    let pcm = programme(&wav, 12.0, 0);
    let n = pcm.len() as u64 / 2;
    let trim = TrimRange { start: 0, end: n };
    let (gain, params) = pass_through();
    let plan = Plan::with(n, RATE, 16, 60).unwrap();
    let (two, one) = (dir.path().join("two.mp3"), dir.path().join("one.mp3"));
    let spliced = encode_halves(
        &Programme::file(&wav),
        &two,
        &opts(),
        gain,
        params,
        trim,
        plan,
    )
    .unwrap();
    let single = encode_pass(&Programme::file(&wav), &one, &opts(), gain, params, trim).unwrap();
    let seam = spliced.seam.expect("the halves were spliced");
    assert!(plan.candidates().contains(&seam));
    assert!(
        !dir.path()
            .read_dir()
            .unwrap()
            .any(|e| { e.unwrap().file_name().to_string_lossy().ends_with(".tmp") })
    );

    // Gapless: the Info frame is consistent and the file decodes to the programme's length.
    let file = std::fs::read(&two).unwrap();
    let tag_len = encode_tag(&EpisodeTags::default()).len();
    let info = parse_info(&file[tag_len..]).expect("an Info frame");
    assert_eq!(info.frames * FS, LAME_DELAY + n + info.padding);
    assert_eq!(info.bytes, (file.len() - tag_len) as u64);
    let (a, b) = (decode(&two), decode(&one));
    assert_eq!(a.len() as u64, n * 2);
    assert_eq!(b.len() as u64, n * 2);

    // Before the seam the file is the one encoder's, sample for sample.
    let before = ((seam * FS - DELAY) * 2) as usize;
    assert_eq!(a[..before], b[..before]);
    // Around the seam, no error beyond the encoder's own anywhere in the file.
    let (ea, eb) = (window_errors(&a, &pcm), window_errors(&b, &pcm));
    let worst_single = eb.iter().copied().fold(0.0, f64::max);
    let at = (seam * FS - DELAY) as usize / FS as usize;
    for (i, e) in ea.iter().enumerate().take(at + 4).skip(at - 4) {
        assert!(
            *e <= worst_single * 1.5 + 1e-4,
            "window {i}: {e} vs {worst_single}"
        );
    }
    let worst_spliced = ea.iter().copied().fold(0.0, f64::max);
    assert!(worst_spliced <= worst_single * 1.5 + 1e-4);

    // The meters' pooled report is the finished file's, measured afresh, but for the few
    // gating blocks straddling the two seams between meters (~5% of this 12 s file's, a
    // thousandth of an hour's).
    let file_report = analyze_file(&two, RATE, false, 3600.0).unwrap().report;
    let r = &spliced.after;
    assert_eq!(r.duration_frames, file_report.duration_frames);
    let (li, lf) = (
        r.integrated_lufs.unwrap(),
        file_report.integrated_lufs.unwrap(),
    );
    assert!((li - lf).abs() < 0.05, "{li} vs {lf}");
    assert!((r.true_peak_dbtp - file_report.true_peak_dbtp).abs() < 0.1);
    assert!((r.loudness_range_lu - file_report.loudness_range_lu).abs() < 0.2);
    assert_eq!(r.sample_peak_dbfs, file_report.sample_peak_dbfs);
    assert!((li - single.after.integrated_lufs.unwrap()).abs() < 0.05);
}

#[test]
fn halves_that_differ_are_not_spliced() {
    let dir = tempfile::tempdir().unwrap();
    let (wav, shifted) = (dir.path().join("in.wav"), dir.path().join("shifted.wav"));
    let pcm = programme(&wav, 8.0, 0);
    // B reads the programme 3 samples late: a seek that missed.
    programme(&shifted, 8.0, 3);
    let n = pcm.len() as u64 / 2;
    let trim = TrimRange { start: 0, end: n };
    let (gain, params) = pass_through();
    let plan = Plan::with(n, RATE, 16, 40).unwrap();
    let (two, one) = (dir.path().join("two.mp3"), dir.path().join("one.mp3"));
    let got = encode_halves_from(
        &Programme::file(&wav),
        &Programme::file(&shifted),
        &two,
        &opts(),
        gain,
        params,
        trim,
        plan,
    )
    .unwrap();
    assert_eq!(got.seam, None);
    let single = encode_pass(&Programme::file(&wav), &one, &opts(), gain, params, trim).unwrap();
    // A went on alone: the very file one encoder writes.
    assert_eq!(std::fs::read(&two).unwrap(), std::fs::read(&one).unwrap());
    assert_eq!(got.after, single.after);
    assert!(!dir.path().join("two.mp3.b.tmp").exists());
}
