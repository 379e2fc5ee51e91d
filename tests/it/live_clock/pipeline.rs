//! Faults in a source's bytes, through the real pipeline (`input::pipeline::run`: the decoder
//! reading the bytes as they arrive, then the stages that run on air): a stream cut in the
//! middle of an MP3 frame ends on its last whole frame, without a click; garbage in the
//! middle of a stream airs as a short burst of noise at most (RELIABILITY.md: a finding).

use std::sync::Arc;

use antenne::clock::ManualClock;
use antenne::input::pipeline::{self, Ended, PipelineConfig};
use antenne::input::status::SourceStats;
use antenne::playout::{LiveBuffer, LiveInputs};
use bytes::Bytes;

use crate::support::continuity::SineContinuity;
use crate::support::mp3::lame_tone;

const STATION: u32 = 44_100;

/// Runs `bytes` through the pipeline, on air, in pieces of 4 KiB; returns how it ended and
/// every frame it wrote to the live input (left channel).
fn through_pipeline(bytes: &[u8]) -> (Ended, Vec<f32>) {
    let inputs = LiveInputs::new(
        ["live"],
        LiveBuffer {
            capacity_frames: 30 * STATION as usize,
            prime_frames: 0,
        },
    );
    let input = inputs.get("live").unwrap().clone();
    let writer = input.connect().unwrap();
    let now = "2026-12-05T09:00:00Z".parse().unwrap();
    let config = PipelineConfig {
        station_rate: STATION,
        target_lufs: -16.0,
        ceiling_dbtp: -1.0,
        // A cushion over what is sent: the drift control stays out of the way.
        cushion_frames: 30 * u64::from(STATION),
        on_air_at: now,
        clock: Arc::new(ManualClock::new(now)),
        name: "live.mp3".into(),
    };
    let (tx, rx) = tokio::sync::mpsc::channel(1024);
    for piece in bytes.chunks(4096) {
        tx.try_send(Bytes::copy_from_slice(piece)).unwrap();
    }
    drop(tx);
    let stats = Arc::new(SourceStats::default());
    let (ended, _) = pipeline::run(&config, rx, None, &writer, &stats);
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

// issue 14
#[test]
fn garbage_in_the_middle_of_a_stream_is_a_short_burst_and_the_tone_comes_back() {
    let mp3 = lame_tone(3.0);
    let garbage: Vec<u8> = (0..20_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let half = mp3.len() / 2;
    let bytes = [&mp3[..half], &garbage[..], &mp3[half..]].concat();
    let (ended, left) = through_pipeline(&bytes);
    assert_eq!(ended, Ended::Closed, "the stream goes on after the garbage");
    let onset = left.iter().position(|s| s.abs() > 0.05).unwrap() + STATION as usize / 10;
    let d = glitches(&left);
    let rate = f64::from(STATION);
    let burst_ms = d.wobbles.span_ms(rate).max(d.clicks.span_ms(rate));
    let peak = left.iter().fold(0.0f32, |m, s| m.max(s.abs()));
    let tone_peak = left[onset..onset + STATION as usize / 2]
        .iter()
        .fold(0.0f32, |m, s| m.max(s.abs()));
    eprintln!(
        "garbage mid-stream: {} clicks and {} wobbles over {burst_ms:.0} ms, peak {:.1} dB \
         over the tone's",
        d.clicks.count,
        d.wobbles.count,
        20.0 * (peak / tone_peak).log10()
    );
    // What the decoder makes of 20 KB of garbage (symphonia takes the odd false frame sync
    // for a frame: a burst of smooth noise) lasts a few frames, under the limiter's ceiling
    // (-1.5 dBTP), and the tone after it airs intact to the end.
    assert!(d.glitches() > 0, "the detector sees the burst");
    assert!(burst_ms < 150.0, "{burst_ms} ms of noise");
    assert!(peak < 10f32.powf(-1.5 / 20.0), "{peak}");
    let last = d.wobbles.last.max(d.clicks.last).unwrap() as usize;
    let after = onset + last + STATION as usize / 100;
    assert!(
        left.len() - after > 2 * STATION as usize / 3,
        "the second half airs"
    );
    let mut d = SineContinuity::new(440.0, rate, 0.01);
    d.push(left[after..].iter().copied());
    assert_eq!(d.glitches(), 0, "the tone after the garbage: {d:?}");
}
