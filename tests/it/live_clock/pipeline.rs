//! Faults in a source's bytes, through the real pipeline (`input::pipeline::run`: the decoder
//! reading the bytes as they arrive, then the stages that run on air): a stream cut in the
//! middle of an MP3 frame ends on its last whole frame, without a click; garbage in the
//! middle of an MP3 stream airs no noise, only a gap where the frames it cut were.

use std::sync::Arc;

use antenne::clock::ManualClock;
use antenne::input::pipeline::{self, Ended, PipelineConfig};
use antenne::input::status::SourceStats;
use antenne::playout::{LiveBuffer, LiveInputs};
use bytes::Bytes;

use crate::support::continuity::SineContinuity;
use crate::support::mp3::lame_tone;

const STATION: u32 = 44_100;

/// A live input of 30 s, on air, and the pipeline's settings for it.
fn on_air() -> (LiveInputs, PipelineConfig) {
    let inputs = LiveInputs::new(
        ["live"],
        LiveBuffer {
            capacity_frames: 30 * STATION as usize,
            prime_frames: 0,
        },
    );
    let now = "2026-12-05T09:00:00Z".parse().unwrap();
    let config = PipelineConfig {
        station_rate: STATION,
        target_lufs: -16.0,
        ceiling_dbtp: -1.0,
        // A cushion over what is sent: the drift control stays out of the way.
        cushion_frames: 30 * u64::from(STATION),
        max_cushion_frames: 30 * u64::from(STATION),
        on_air_at: now,
        clock: Arc::new(ManualClock::new(now)),
        name: "live.mp3".into(),
    };
    (inputs, config)
}

/// Runs `bytes` through the pipeline, on air, in pieces of 4 KiB; returns how it ended and
/// every frame it wrote to the live input (left channel).
fn through_pipeline(bytes: &[u8]) -> (Ended, Vec<f32>) {
    let (inputs, config) = on_air();
    let input = inputs.get("live").unwrap().clone();
    let writer = input.connect().unwrap();
    let (tx, rx) = tokio::sync::mpsc::channel(1024);
    for piece in bytes.chunks(4096) {
        tx.try_send(Bytes::copy_from_slice(piece)).unwrap();
    }
    drop(tx);
    let stats = Arc::new(SourceStats::default());
    let (ended, _) = pipeline::run(&config, rx, None, &writer, &stats);
    // Everything it wrote, at once.
    writer.set_cushion(0);
    let mut out = vec![0.0f32; 2 * input.buffered_frames()];
    input.read(&mut out, |_| 1.0);
    (ended, out.chunks_exact(2).map(|f| f[0]).collect())
}

/// Glitches in the tone of `lame_tone` (440 Hz), from 100 ms after it starts (the encoder's
/// own onset) to its end.
fn glitches(left: &[f32]) -> SineContinuity {
    let onset = left.iter().position(|s| s.abs() > 0.05).expect("a tone");
    let mut d = SineContinuity::new(440.0, f64::from(STATION), 0.01);
    d.push(left[onset + STATION as usize / 10..].iter().copied());
    d
}

// issue 14
#[test]
fn a_source_cut_mid_frame_ends_on_its_last_whole_frame_without_a_click() {
    let mp3 = lame_tone(3.0);
    let (ended, whole) = through_pipeline(&mp3);
    assert_eq!(ended, Ended::Closed);
    for cut in [217, 1000, 2000] {
        let (ended, left) = through_pipeline(&mp3[..mp3.len() - cut]);
        assert_eq!(ended, Ended::Closed, "a cut is an end, not an error");
        let d = glitches(&left);
        assert_eq!(d.glitches(), 0, "cut {cut} bytes before the end: {d:?}");
        // What aired is the whole stream's audio up to the last whole frame, sample for
        // sample: the partial frame added nothing (no zeros, no noise).
        let frames_lost = whole.len() - left.len();
        let frame_bytes = 418;
        assert!(
            frames_lost <= (cut / frame_bytes + 2) * 1152,
            "cut {cut}: {frames_lost} frames lost"
        );
        assert_eq!(left[..], whole[..left.len()], "cut {cut}");
    }
}

/// Milliseconds of noise in `left` from `from` on: 1 ms windows whose residual of the
/// 440 Hz tone's two-sample prediction (a notch at the tone: what is left is everything that
/// is not the tone) has an RMS over 5 % of the tone's amplitude. A gap's two edges are a
/// sample each (a window or two); a decoder's take on junk is broadband and lasts its frames.
fn noise_ms(left: &[f32], from: usize, tone_amplitude: f32) -> usize {
    let k = 2.0 * (std::f64::consts::TAU * 440.0 / f64::from(STATION)).cos();
    let residual: Vec<f64> = left[from..]
        .windows(3)
        .map(|w| f64::from(w[2]) - k * f64::from(w[1]) + f64::from(w[0]))
        .collect();
    let window = STATION as usize / 1000;
    residual
        .chunks(window)
        .filter(|c| {
            let rms = (c.iter().map(|r| r * r).sum::<f64>() / c.len() as f64).sqrt();
            rms > 0.05 * f64::from(tone_amplitude)
        })
        .count()
}

// issue 14: garbage bytes in the middle of an MP3 source aired ~39 ms of noise (symphonia
// took false frame syncs in the junk, and the frames after it, whose main data began in
// frames that never came, for audio); the frame check drops the junk and the frame it cut,
// and makes the decoder clear its bit reservoir.
#[test]
fn garbage_in_the_middle_of_an_mp3_source_airs_no_noise_and_the_tone_comes_back() {
    let mp3 = lame_tone(3.0);
    let garbage: Vec<u8> = (0..20_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let half = mp3.len() / 2;
    let bytes = [&mp3[..half], &garbage[..], &mp3[half..]].concat();
    let (ended, left) = through_pipeline(&bytes);
    assert_eq!(ended, Ended::Closed, "the stream goes on after the garbage");
    let onset = left.iter().position(|s| s.abs() > 0.05).unwrap() + STATION as usize / 10;
    let tone_peak = left[onset..onset + STATION as usize / 2]
        .iter()
        .fold(0.0f32, |m, s| m.max(s.abs()));
    let peak = left[onset..].iter().fold(0.0f32, |m, s| m.max(s.abs()));
    let clean = through_pipeline(&mp3).1;
    let clean_peak = clean[onset..].iter().fold(0.0f32, |m, s| m.max(s.abs()));
    let noise = noise_ms(&left, onset, tone_peak);
    let d = glitches(&left);
    let rate = f64::from(STATION);
    eprintln!(
        "garbage mid-stream: {noise} ms of noise; {} clicks and {} wobbles over {:.0} ms; \
         peak {:.1} dB over the tone's first half-second; {} of {} frames aired",
        d.clicks.count,
        d.wobbles.count,
        d.wobbles.span_ms(rate).max(d.clicks.span_ms(rate)),
        20.0 * (peak / tone_peak).log10(),
        left.len(),
        clean.len(),
    );
    // The metric sees noise: 20 ms of band-limited noise at the tone's level is 20 ms of it.
    let mut noisy = left.clone();
    let mut seed = 12_345u32;
    let at = onset + STATION as usize / 5;
    for s in &mut noisy[at..at + 882] {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        *s = tone_peak * (f32::from((seed >> 16) as u16) / 32768.0 - 1.0);
    }
    assert!(
        noise_ms(&noisy, onset, tone_peak) >= noise + 19,
        "the metric"
    );
    // What airs around the junk: the tone, a gap (the frames lost), the tone; its edges are
    // all the noise there is.
    assert!(noise <= 3, "{noise} ms of noise");
    // (The leveler rides the tone up as it goes: the clean stream's peak is the reference;
    // after the gap it rides a little higher.)
    assert!(
        peak <= clean_peak * 10f32.powf(0.5 / 20.0),
        "nothing louder than the tone: {peak} vs {clean_peak}"
    );
    // The tone after the gap airs intact to the end.
    let last = d.wobbles.last.max(d.clicks.last).unwrap_or(0) as usize;
    let after = onset + last + STATION as usize / 100;
    assert!(
        left.len() - after > 2 * STATION as usize / 3,
        "the second half airs"
    );
    let mut d = SineContinuity::new(440.0, rate, 0.01);
    d.push(left[after..].iter().copied());
    assert_eq!(d.glitches(), 0, "the tone after the garbage: {d:?}");
}

/// Issue 14: the disk under the recording stalling (an `fsync` taking seconds while other
/// programs write) never holds up the live audio. The recording goes into a pipe nobody reads
/// yet, which blocks its writes once 64 KiB are in it: every frame of 10 s of MP3 (160 KB)
/// still reaches the live input; once the pipe is read, the recording holds every byte sent.
#[cfg(target_os = "linux")]
#[test]
fn a_stalled_recording_disk_never_holds_up_the_live_audio() {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    use std::time::{Duration, Instant};

    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("001.mp3");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    // The reading end first (without it, opening the writing end waits), left unread.
    let mut reader = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo)
        .unwrap();
    let file = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    let recorder = antenne::input::record::Recorder::new(file, fifo.clone());

    let bytes = lame_tone(10.0);
    assert!(bytes.len() > 128 * 1024, "more than a pipe holds");
    let (inputs, config) = on_air();
    let input = inputs.get("live").unwrap().clone();
    let writer = input.connect().unwrap();
    let (tx, rx) = tokio::sync::mpsc::channel(1024);
    for piece in bytes.chunks(4096) {
        tx.try_send(Bytes::copy_from_slice(piece)).unwrap();
    }
    drop(tx);
    let pipeline = std::thread::spawn(move || {
        let stats = Arc::new(SourceStats::default());
        let (ended, recorder) = pipeline::run(&config, rx, Some(recorder), &writer, &stats);
        // Closing the piece ends the pipe for its reader.
        drop(recorder);
        ended
    });
    let started = Instant::now();
    while input.buffered_frames() < 9 * STATION as usize {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the audio waited for the recording: {} frames buffered",
            input.buffered_frames()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(!pipeline.is_finished(), "the recording is still blocked");
    let mut recorded = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => recorded.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(pipeline.join().unwrap(), Ended::Closed);
    assert!(recorded == bytes, "the recording holds every byte sent");
}
