//! End-to-end checks of the audio stages: inputs generated with hound (and with our own MP3
//! encoder), rendered to published MP3s, decoded back and measured.

use std::path::{Path, PathBuf};

use antenne::audio::analyse::LoudnessReport;
use antenne::audio::encode::Mp3FileWriter;
use antenne::audio::id3::EpisodeTags;
use antenne::audio::render::analyze_file;
use antenne::audio::{AudioError, RenderOptions, open_pcm, render_episode};

/// A programme-like signal: tones and noise under a syllabic (4 Hz) envelope.
fn programme(rate: u32, channels: usize, secs: f64, amp: f32) -> Vec<f32> {
    let n = (secs * rate as f64) as usize;
    let mut seed = 0x1234_5678u32;
    let mut out = Vec::with_capacity(n * channels);
    for i in 0..n {
        let t = i as f32 / rate as f32;
        let env = 0.55 + 0.45 * (2.0 * std::f32::consts::PI * 4.0 * t).sin();
        for c in 0..channels {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let noise = (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
            let tone = (2.0 * std::f32::consts::PI * (220.0 + 110.0 * c as f32) * t).sin();
            out.push(amp * env * (0.7 * tone + 0.3 * noise));
        }
    }
    out
}

fn silence(rate: u32, channels: usize, secs: f64) -> Vec<f32> {
    vec![0.0; (secs * rate as f64) as usize * channels]
}

#[derive(Clone, Copy)]
enum Fmt {
    Int(u16),
    Float,
}

fn write_wav(path: &Path, rate: u32, channels: usize, fmt: Fmt, samples: &[f32]) {
    let (bits, format) = match fmt {
        Fmt::Int(b) => (b, hound::SampleFormat::Int),
        Fmt::Float => (32, hound::SampleFormat::Float),
    };
    let spec = hound::WavSpec {
        channels: channels as u16,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: format,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &s in samples {
        let s = s.clamp(-1.0, 1.0);
        match fmt {
            Fmt::Float => w.write_sample(s).unwrap(),
            Fmt::Int(8) => w.write_sample((s * 127.0) as i8).unwrap(),
            Fmt::Int(16) => w.write_sample((s * 32_767.0) as i16).unwrap(),
            Fmt::Int(b) => w
                .write_sample((s as f64 * ((1i64 << (b - 1)) - 1) as f64) as i32)
                .unwrap(),
        }
    }
    w.finalize().unwrap();
}

fn opts() -> RenderOptions {
    let mut o = antenne::config::StationSettings::default().render_options();
    o.tags = EpisodeTags {
        title: "Épisode test".into(),
        show: "Au fil des quartiers".into(),
        date: "2025-06-01".into(),
        ..Default::default()
    };
    o
}

/// Renders `input` and checks the published file: loudness, true peak, exact trimmed length.
fn check_render(input: &Path, expected_kept_s: f64) -> antenne::audio::RenderReport {
    let out = input.with_extension("out.mp3");
    let o = opts();
    let report =
        render_episode(input, &out, &o).unwrap_or_else(|e| panic!("{}: {e}", input.display()));
    // Measure independently of the report: decode the published file again.
    let after = analyze_file(&out, o.rate, false, 3600.0).unwrap().report;
    let lufs = after.integrated_lufs.unwrap();
    assert!(
        (lufs - o.target_lufs).abs() <= 0.5,
        "{}: published at {lufs:.2} LUFS",
        input.display()
    );
    assert!(
        after.true_peak_dbtp <= o.ceiling_dbtp - 0.2,
        "{}: true peak {:.2} dBTP",
        input.display(),
        after.true_peak_dbtp
    );
    let kept = report.trim_end_frames - report.trim_start_frames;
    assert_eq!(
        after.duration_frames,
        kept,
        "{}: gapless length",
        input.display()
    );
    let kept_s = kept as f64 / o.rate as f64;
    assert!(
        (kept_s - expected_kept_s).abs() <= 0.05,
        "{}: kept {kept_s:.3} s, expected {expected_kept_s:.3}",
        input.display()
    );
    if report.encoders == 1 {
        assert_eq!(report.after, after);
    } else {
        // Two encoders' meters, pooled: all but the few gating blocks across their seams.
        let (r, f) = (&report.after, &after);
        let lufs_r = r.integrated_lufs.unwrap();
        assert!((lufs_r - lufs).abs() < 0.02, "{lufs_r} vs {lufs}");
        assert!((r.loudness_range_lu - f.loudness_range_lu).abs() < 0.1);
        assert!((r.true_peak_dbtp - f.true_peak_dbtp).abs() < 0.05);
        assert_eq!(r.duration_frames, f.duration_frames);
        assert_eq!(r.leading_silence_frames, f.leading_silence_frames);
        assert_eq!(r.trailing_silence_frames, f.trailing_silence_frames);
    }
    // No temp file left behind.
    let leftovers: Vec<_> = std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
    report
}

/// 0.8 s of silence, `secs` of programme, 0.7 s of silence; keep 0.5 s each side.
fn padded(rate: u32, channels: usize, secs: f64, amp: f32) -> (Vec<f32>, f64) {
    let mut v = silence(rate, channels, 0.8);
    v.extend(programme(rate, channels, secs, amp));
    v.extend(silence(rate, channels, 0.7));
    (v, secs + 1.0)
}

fn dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn check_wav(rate: u32, ch: usize, fmt: Fmt) {
    let d = dir();
    let (samples, kept) = padded(rate, ch, 1.0, 0.1);
    let path = d.path().join(format!("in-{rate}-{ch}.wav"));
    write_wav(&path, rate, ch, fmt, &samples);
    let r = check_render(&path, kept);
    assert_eq!(r.before.sample_rate, rate);
    assert_eq!(r.before.channels, ch);
}

#[test]
fn wav_16bit_44k_stereo() {
    check_wav(44_100, 2, Fmt::Int(16));
}

#[test]
fn wav_24bit_48k_mono_field_recorder() {
    check_wav(48_000, 1, Fmt::Int(24));
}

#[test]
fn wav_8bit_22k_old_mixer() {
    check_wav(22_050, 2, Fmt::Int(8));
}

#[test]
fn wav_float_96k_5_1_downmixed() {
    check_wav(96_000, 6, Fmt::Float);
}

#[test]
fn wav_32bit_8k_mono() {
    check_wav(8_000, 1, Fmt::Int(32));
}

#[test]
fn wav_24bit_192k_stereo() {
    check_wav(192_000, 2, Fmt::Int(24));
}

#[test]
fn very_quiet_and_clipped_material() {
    let d = dir();
    // Very quiet: ~ -50 LUFS, needs +34 dB and the limiter on its peaks.
    let (quiet, kept) = padded(44_100, 2, 3.0, 0.004);
    let p = d.path().join("quiet.wav");
    write_wav(&p, 44_100, 2, Fmt::Int(24), &quiet);
    check_render(&p, kept);
    // Clipped: driven 4x into full scale, square-ish with peaks at 0 dBFS.
    let loud: Vec<f32> = programme(44_100, 2, 3.0, 4.0)
        .into_iter()
        .map(|s| s.clamp(-1.0, 1.0))
        .collect();
    let p = d.path().join("loud.wav");
    write_wav(&p, 44_100, 2, Fmt::Int(16), &loud);
    let r = check_render(&p, 3.0);
    assert!(r.before.sample_peak_dbfs > -0.1);
    assert!(r.gain_db < 0.0);
}

#[test]
fn high_peak_to_loudness_needs_the_limiter() {
    // Quiet speech-like bed with sharp full-scale clicks: gain alone would break the ceiling.
    let d = dir();
    let mut s = programme(44_100, 2, 4.0, 0.05);
    for k in 0..8 {
        let at = (k * 20_000 + 5_000) * 2;
        for j in 0..40 {
            s[at + 2 * j] = if j % 2 == 0 { 0.95 } else { -0.95 };
            s[at + 2 * j + 1] = s[at + 2 * j];
        }
    }
    let p = d.path().join("clicks.wav");
    write_wav(&p, 44_100, 2, Fmt::Int(16), &s);
    let r = check_render(&p, 4.0);
    assert!(r.limited, "{r:?}");
}

/// Issue 3 (performance): past 8 s the limiter simulation runs in two halves on two threads, the
/// second seeking to its start; the published file must land on target all the same.
#[test]
fn issue_3_long_inputs_with_the_limiter_split_in_halves() {
    let d = dir();
    let mut s = programme(22_050, 2, 9.0, 0.05);
    for k in 0..9 {
        let at = (k * 22_050 + 3_000) * 2;
        for j in 0..30 {
            s[at + 2 * j] = if j % 2 == 0 { 0.95 } else { -0.95 };
            s[at + 2 * j + 1] = s[at + 2 * j];
        }
    }
    let wav = d.path().join("long-clicks.wav");
    write_wav(&wav, 22_050, 2, Fmt::Int(16), &s);
    let r = check_render(&wav, 9.0);
    assert!(r.limited, "{r:?}");
    assert_eq!(r.encode_passes, 1, "{r:?}");
}

/// Issue 3 (performance): a programme of a minute or more is encoded by two LAME encoders, one
/// per core, spliced at a frame; the published file meets the same bounds, gapless.
#[test]
fn issue_3_a_minute_long_programme_is_encoded_on_both_cores() {
    let d = dir();
    // 32 kHz: the lowest rate with MPEG-1 frames, the cheapest to render in a debug build.
    let rate = 32_000;
    let mut s = programme(rate, 2, 62.0, 0.05);
    for k in 0..62 {
        let at = (k * rate as usize + 3_000) * 2;
        for j in 0..30 {
            s[at + 2 * j] = if j % 2 == 0 { 0.95 } else { -0.95 };
            s[at + 2 * j + 1] = s[at + 2 * j];
        }
    }
    let wav = d.path().join("minute.wav");
    write_wav(&wav, rate, 2, Fmt::Int(16), &s);
    let r = check_render(&wav, 62.0);
    assert_eq!((r.encoders, r.encode_passes), (2, 1), "{r:?}");
    assert!(r.limited, "{r:?}");
}

#[test]
fn mp3_input_from_our_encoder() {
    let d = dir();
    let (samples, kept) = padded(44_100, 2, 3.0, 0.3);
    let p = d.path().join("src.mp3");
    let mut w = Mp3FileWriter::create(&p, 44_100, 128, &EpisodeTags::default()).unwrap();
    for c in samples.chunks(4096) {
        w.encode(c).unwrap();
    }
    w.finish().unwrap();
    // Gapless: our own MP3 decodes to the exact frame count.
    let a = analyze_file(&p, 44_100, false, 3600.0).unwrap().report;
    assert_eq!(a.duration_frames, samples.len() as u64 / 2);
    assert_eq!(a.codec, "mp3");
    check_render(&p, kept);
}

fn expect_rejected(path: &Path, needle: &str) {
    let out = path.with_extension("never.mp3");
    let err = render_episode(path, &out, &opts()).expect_err("must be rejected");
    let msg = err.to_string();
    assert!(
        msg.contains(&path.display().to_string()),
        "message must name the file: {msg}"
    );
    assert!(msg.contains(needle), "{msg:?} should mention {needle:?}");
    assert!(
        matches!(err, AudioError::Decode { .. } | AudioError::Rejected { .. }),
        "{err:?}"
    );
    assert!(!out.exists());
}

#[test]
fn bad_inputs_give_clear_errors() {
    let d = dir();
    let empty = d.path().join("empty.wav");
    std::fs::write(&empty, b"").unwrap();
    expect_rejected(&empty, "empty file");

    let text = d.path().join("notes.mp3");
    std::fs::write(
        &text,
        "Bonjour, ceci n'est pas un fichier audio.\n".repeat(50),
    )
    .unwrap();
    expect_rejected(&text, "not a recognised audio file");

    let silent = d.path().join("silent.wav");
    write_wav(&silent, 44_100, 2, Fmt::Int(16), &silence(44_100, 2, 2.0));
    expect_rejected(&silent, "silent");

    // Truncated: the header promises 3 s but the data stops after 40 bytes.
    let full = d.path().join("full.wav");
    write_wav(
        &full,
        44_100,
        2,
        Fmt::Int(16),
        &programme(44_100, 2, 3.0, 0.3),
    );
    let bytes = std::fs::read(&full).unwrap();
    let cut = d.path().join("cut.wav");
    std::fs::write(&cut, &bytes[..84]).unwrap();
    expect_rejected(&cut, "cut.wav");

    let garbage = d.path().join("noise.bin");
    let mut seed = 7u32;
    let junk: Vec<u8> = (0..50_000)
        .map(|_| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (seed >> 16) as u8
        })
        .collect();
    std::fs::write(&garbage, junk).unwrap();
    expect_rejected(&garbage, "noise.bin");
}

fn read_all(path: &Path, from: Option<u64>) -> Vec<f32> {
    let mut src = open_pcm(path, 44_100).unwrap();
    if let Some(f) = from {
        src.seek(f).unwrap();
    }
    let mut out = Vec::new();
    while src.read(&mut out, 3000).unwrap() > 0 {}
    out
}

#[test]
fn seeking_lands_on_the_exact_frame() {
    let d = dir();
    let samples = programme(44_100, 2, 3.0, 0.3);
    let wav = d.path().join("seek.wav");
    write_wav(&wav, 44_100, 2, Fmt::Float, &samples);
    let all = read_all(&wav, None);
    assert_eq!(all.len(), samples.len());
    let from = 50_001u64;
    assert_eq!(read_all(&wav, Some(from)), all[from as usize * 2..]);

    let mp3 = d.path().join("seek.mp3");
    let mut w = Mp3FileWriter::create(&mp3, 44_100, 128, &EpisodeTags::default()).unwrap();
    w.encode(&samples).unwrap();
    w.finish().unwrap();
    let all = read_all(&mp3, None);
    let tail = read_all(&mp3, Some(from));
    assert_eq!(tail.len(), all.len() - from as usize * 2);
    // MP3 decoding after a seek converges once the bit reservoir and overlap are primed.
    let diff = tail[4096..]
        .iter()
        .zip(&all[from as usize * 2 + 4096..])
        .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(diff < 1e-3, "max difference after seek {diff}");
}

#[test]
fn resampled_source_reports_station_length() {
    let d = dir();
    let wav = d.path().join("r48.wav");
    write_wav(
        &wav,
        48_000,
        2,
        Fmt::Int(16),
        &programme(48_000, 2, 2.0, 0.3),
    );
    let src = open_pcm(&wav, 44_100).unwrap();
    assert_eq!(src.len_frames(), Some(88_200));
    assert_eq!(read_all(&wav, None).len(), 88_200 * 2);
}

#[test]
fn report_serialises() {
    let r = LoudnessReport {
        integrated_lufs: Some(-16.0),
        loudness_range_lu: 3.0,
        true_peak_dbtp: -1.5,
        sample_peak_dbfs: -2.0,
        duration_frames: 44_100,
        analysis_rate: 44_100,
        sample_rate: 48_000,
        channels: 1,
        codec: "pcm_s24le".into(),
        leading_silence_frames: 0,
        trailing_silence_frames: 0,
    };
    assert_eq!(r.duration_s(), 1.0);
    let _: PathBuf = PathBuf::new();
}
