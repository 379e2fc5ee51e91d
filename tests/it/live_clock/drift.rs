//! Two clocks through the real pipeline (issue 14): a source whose sound card runs 0.5 % fast
//! or slow against the station clock, its 1 kHz tone pushed packet by packet through the
//! stages that run on air (`input::pipeline::Stages`: downmix → the rubato resampler steered
//! by the drift control → the leveler → the live input), the live input read by a consumer at
//! exactly the station rate in the renderer's blocks. Both clocks are simulated (the station
//! clock is a `ManualClock` set at every event), so a simulated hour takes seconds.
//!
//! Measured after the first fill: underruns, overflow, the buffer level (the input's share
//! of the latency) against its cushion, and the glitches (clicks, wobbles) the detector finds in what the
//! consumer read. `cargo test` simulates 90 s per case; the hour is
//! `ANTENNE_DRIFT_SECONDS=3600 cargo test --test it live_clock::drift -- --nocapture`
//! (figures in RELIABILITY.md).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use antenne::clock::ManualClock;
use antenne::input::pipeline::{Packet, PipelineConfig, Stages};
use antenne::playout::{LiveBuffer, LiveInputs};
use jiff::{SignedDuration, Timestamp};

use crate::support::continuity::{SineContinuity, WOBBLE};

const STATION: u32 = 44_100;
/// The renderer's block.
const BLOCK: usize = 4096;
/// An MP3 frame: what most sources deliver per packet.
const PACKET: usize = 1152;
const TONE: u32 = 1000;
/// -20 LUFS or so: the leveler rides it up by about 4 dB.
const AMPLITUDE: f64 = 0.1;
const PREROLL_S: f64 = 10.0;
/// The residual, relative to the tone's amplitude, that counts as a click: a phase break of
/// about 0.6°, far below audibility. A 1 % pitch change leaves 0.04 % at 1 kHz.
const TOLERANCE: f64 = 0.01;

/// What one simulated run measured.
#[derive(Debug)]
struct Run {
    frames_read: u64,
    underruns: u64,
    underrun_frames: u64,
    overflow_frames: u64,
    waiting_after_fill: u64,
    clicks: u64,
    worst_click: f64,
    wobbles: u64,
    worst_wobble: f64,
    /// The buffer level after each read, relative to the cushion, seconds: (min, max) over
    /// the whole show, after its first minute and after its first ten.
    deviation: (f64, f64),
    deviation_settled: (f64, f64),
    deviation_late: (f64, f64),
    correction: f64,
    /// The cushion the stages wanted after each read once on air, seconds: (on-air instant,
    /// cushion), one sample a second.
    cushions: Vec<(f64, f64)>,
    /// When each underrun happened, seconds on air, with the cushion and the level before.
    underrun_at: Vec<(f64, f64, f64)>,
}

/// When a source sends a packet due at `due` seconds (its audio's end, on its own clock),
/// the previous one having gone at `previous`: a steady source sends it at once.
type Sends = dyn Fn(f64, f64) -> f64;

fn seconds_simulated() -> f64 {
    std::env::var("ANTENNE_DRIFT_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(90.0)
}

/// A stereo source at `rate` Hz whose clock runs `drift` fast (relative), connected
/// `PREROLL_S` before its slot, on air for `seconds` of station time, sending steadily.
fn simulate(rate: u32, drift: f64, seconds: f64) -> Run {
    simulate_sending(rate, drift, seconds, &|due, _| due)
}

/// The same, the source sending each packet when `sends` says (seconds since it connected).
fn simulate_sending(rate: u32, drift: f64, seconds: f64, sends: &Sends) -> Run {
    let on_air_at: Timestamp = "2026-12-05T09:00:00Z".parse().unwrap();
    let t0 = on_air_at - SignedDuration::from_secs_f64(PREROLL_S);
    let clock = Arc::new(ManualClock::new(t0));
    // The daemon's: a steady source (packets at exact instants) keeps the smallest cushion.
    let cushion =
        antenne::daemon::edge::LIVE_CUSHION.as_millis() as u64 * u64::from(STATION) / 1000;
    let inputs = LiveInputs::new(
        ["live"],
        LiveBuffer {
            capacity_frames: 4 * STATION as usize,
            prime_frames: cushion as usize,
        },
    );
    let input = inputs.get("live").unwrap().clone();
    let writer = input.connect().unwrap();
    let config = PipelineConfig {
        station_rate: STATION,
        target_lufs: -16.0,
        ceiling_dbtp: -1.0,
        cushion_frames: cushion,
        max_cushion_frames: antenne::daemon::edge::LIVE_CUSHION_MAX.as_millis() as u64
            * u64::from(STATION)
            / 1000,
        on_air_at,
        clock: clock.clone(),
        name: "live.mp3".into(),
    };
    let mut stages = Stages::new(&config, rate, 2, None).unwrap();
    let source_rate = f64::from(rate) * (1.0 + drift);
    let station = f64::from(STATION);
    let end = PREROLL_S + seconds;
    let mut detector = SineContinuity::new(f64::from(TONE), station, TOLERANCE);
    let (mut packets, mut reads, mut sample) = (0u64, 0u64, 0usize);
    let mut pcm = Vec::with_capacity(2 * PACKET);
    // One whole number of the tone's periods, repeated: the phase is exact at every sample.
    let period = (rate / gcd(rate, TONE)) as usize;
    let tone: Vec<f32> = (0..period)
        .map(|i| {
            let phase = (i as u64 * u64::from(TONE) % u64::from(rate)) as f64 / f64::from(rate);
            (AMPLITUDE * (std::f64::consts::TAU * phase).sin()) as f32
        })
        .collect();
    let mut block = vec![0.0f32; 2 * BLOCK];
    let mut fill: Option<(u64, u64)> = None; // counters at the first fill: waiting, reads
    let widen = |(lo, hi): (f64, f64), x: f64| (lo.min(x), hi.max(x));
    let none = (f64::MAX, f64::MIN);
    let (mut deviation, mut settled, mut late) = (none, none, none);
    let counters = input.counters();
    let n = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    let mut cushions = Vec::new();
    let mut underrun_at = Vec::new();
    let mut sent = 0.0;
    loop {
        // Both clocks from counts, not sums: no rounding drift of their own.
        let next_packet = sends((packets + 1) as f64 * PACKET as f64 / source_rate, sent);
        let next_read = PREROLL_S + reads as f64 * BLOCK as f64 / station;
        if next_read >= end && next_packet >= end {
            break;
        }
        if next_packet < next_read {
            clock.set(t0 + SignedDuration::from_secs_f64(next_packet));
            pcm.clear();
            for _ in 0..PACKET {
                let s = tone[sample % period];
                pcm.extend([s, s]);
                sample += 1;
            }
            let packet = Packet {
                pcm: &pcm,
                rate,
                channels: 2,
                layout: None,
            };
            stages.push(&packet, &writer).unwrap();
            packets += 1;
            sent = next_packet;
        } else {
            clock.set(t0 + SignedDuration::from_secs_f64(next_read));
            let before = input.buffered_frames() as f64 / station;
            let underruns = n(&counters.underruns);
            let got = input.read(&mut block, |_| 1.0);
            if n(&counters.underruns) > underruns {
                underrun_at.push((
                    next_read - PREROLL_S,
                    stages.cushion_frames() as f64 / station,
                    before,
                ));
            }
            reads += 1;
            if fill.is_none() && got > 0 {
                fill = Some((n(&counters.waiting_frames), reads - 1));
            }
            if fill.is_some() {
                detector.push(block.chunks_exact(2).map(|f| f[0]));
                let on_air = next_read - PREROLL_S;
                if cushions.last().is_none_or(|(t, _)| on_air - t >= 1.0) {
                    cushions.push((on_air, stages.cushion_frames() as f64 / station));
                }
                let level =
                    (input.buffered_frames() as f64 - stages.cushion_frames() as f64) / station;
                deviation = widen(deviation, level);
                if next_read - PREROLL_S >= 60.0 {
                    settled = widen(settled, level);
                }
                if next_read - PREROLL_S >= 600.0 {
                    late = widen(late, level);
                }
            }
        }
    }
    let (waiting_at_fill, reads_before_fill) = fill.expect("the buffer filled");
    assert_eq!(reads_before_fill, 0, "on air from the slot's first block");
    Run {
        frames_read: reads * BLOCK as u64,
        underruns: n(&counters.underruns),
        underrun_frames: n(&counters.underrun_frames),
        overflow_frames: n(&counters.overflow_frames),
        waiting_after_fill: n(&counters.waiting_frames) - waiting_at_fill,
        clicks: detector.clicks.count,
        worst_click: detector.clicks.worst.0,
        wobbles: detector.wobbles.count,
        worst_wobble: detector.wobbles.worst.0,
        deviation,
        deviation_settled: settled,
        deviation_late: late,
        correction: stages.correction(),
        cushions,
        underrun_at,
    }
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

fn check(rate: u32, drift: f64) {
    let seconds = seconds_simulated();
    let started = std::time::Instant::now();
    let run = simulate(rate, drift, seconds);
    eprintln!(
        "source {rate} Hz, clock {:+.1} %, {:.0} s on air in {:.1} s: {run:?}",
        drift * 100.0,
        seconds,
        started.elapsed().as_secs_f64()
    );
    let expected = (seconds * f64::from(STATION) / BLOCK as f64).ceil() as u64 * BLOCK as u64;
    assert_eq!(
        run.frames_read, expected,
        "the consumer read at the station rate"
    );
    assert_eq!(
        (run.underruns, run.underrun_frames, run.overflow_frames),
        (0, 0, 0),
        "no underrun or overflow"
    );
    assert_eq!(
        run.waiting_after_fill, 0,
        "never waited for the cushion again"
    );
    assert_eq!(
        (run.clicks, run.wobbles),
        (0, 0),
        "glitches in what aired: worst {} and {}",
        run.worst_click,
        run.worst_wobble
    );
    // The level never strays far from the cushion (a 4096-frame block alone is 93 ms),
    // and the loop found the source's clock.
    assert!(
        run.deviation.0 > -0.4 && run.deviation.1 < 0.4,
        "buffer {:?} s off its cushion",
        run.deviation
    );
    if seconds > 60.0 {
        assert!(
            run.deviation_settled.0 > -0.25 && run.deviation_settled.1 < 0.25,
            "buffer {:?} s off its cushion after a minute",
            run.deviation_settled
        );
        if seconds > 900.0 {
            // Settled: only the renderer's blocks (93 ms) and the packets move the level.
            assert!(
                run.deviation_late.0 > -0.15 && run.deviation_late.1 < 0.15,
                "buffer {:?} s off its cushion after ten minutes",
                run.deviation_late
            );
        }
        assert!(
            (run.correction - drift).abs() < 0.001,
            "correction {} for a drift of {drift}",
            run.correction
        );
    }
}

// issue 14
#[test]
fn a_source_half_a_percent_fast_at_48_khz_airs_without_clicks_or_growing_delay() {
    check(48_000, 0.005);
}

// issue 14
#[test]
fn a_source_half_a_percent_slow_at_44_1_khz_airs_without_clicks_or_growing_delay() {
    check(44_100, -0.005);
}

/// The detector finds what it is for: a tone whose pitch moves by 1 % and whose gain rides
/// by 3 dB/s passes; the same with a dropped block, a gap of silence, a one-sample spike or
/// a 1 dB step does not.
#[test]
fn the_click_detector_passes_a_gliding_tone_and_catches_real_clicks() {
    let rate = 44_100.0;
    let tone = |n: usize| -> Vec<f32> {
        let mut phase = 0.0f64;
        (0..n)
            .map(|i| {
                // Pitch swinging ±1 % once a second, gain rising 3 dB/s.
                let t = i as f64 / rate;
                let f = 1000.0 * (1.0 + 0.01 * (std::f64::consts::TAU * t).sin());
                phase += std::f64::consts::TAU * f / rate;
                let gain = 10f64.powf(3.0 * t / 20.0);
                (0.1 * gain * phase.sin()) as f32
            })
            .collect()
    };
    let clean = tone(3 * 44_100);
    let count = |pcm: &[f32]| {
        let mut d = SineContinuity::new(1000.0, rate, TOLERANCE);
        d.push(pcm.iter().copied());
        d
    };
    let count_detail = count;
    let d = count_detail(&clean);
    assert_eq!(d.glitches(), 0, "a clean gliding tone: {d:?}");
    assert!(d.clicks.worst.0 < TOLERANCE / 5.0, "{d:?}");
    assert!(d.wobbles.worst.0 < WOBBLE / 2.0, "{d:?}");
    let count = |pcm: &[f32]| count(pcm).glitches();

    let mut dropped = clean.clone();
    dropped.drain(50_000..50_037); // 37 samples lost: a phase break
    assert!(count(&dropped) >= 1, "a dropped block");
    let mut gap = clean.clone();
    gap[60_000..60_441].fill(0.0); // 10 ms of underrun
    assert!(count(&gap) >= 2, "a gap: its start and its end");
    let mut spike = clean.clone();
    spike[70_011] += 0.01; // a tenth of the tone's amplitude for one sample
    assert!(count(&spike) >= 1, "a spike");
    let mut step = clean.clone();
    let up = 10f32.powf(1.0 / 20.0);
    step[80_011..].iter_mut().for_each(|s| *s *= up); // +1 dB at once
    assert!(count(&step) >= 1, "a gain step");
    // Smooth but wrong audio (a decoder's take on garbage): 20 ms of band-limited noise.
    let mut noise = clean.clone();
    let mut seed = 12_345u32;
    let mut lcg = move || {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        f32::from((seed >> 16) as u16) / 32768.0 - 1.0
    };
    let white: Vec<f32> = (0..900).map(|_| 0.1 * lcg()).collect();
    for (k, s) in noise[90_000..90_882].iter_mut().enumerate() {
        *s = white[k..k + 18].iter().sum::<f32>() / 18.0 * 4.0;
    }
    let d = count_detail(&noise);
    assert!(d.wobbles.count >= 1, "band-limited noise: {d:?}");
}

/// Asserts what no source may cause, bursty or not: the consumer read at the station rate,
/// and after the first fill no underrun, no overflow, no wait, no glitch.
fn assert_clean(run: &Run, seconds: f64) {
    let expected = (seconds * f64::from(STATION) / BLOCK as f64).ceil() as u64 * BLOCK as u64;
    assert_eq!(run.frames_read, expected);
    assert_eq!(
        (
            run.underruns,
            run.underrun_frames,
            run.overflow_frames,
            run.waiting_after_fill
        ),
        (0, 0, 0, 0),
        "no underrun, overflow or wait; underruns at (s on air, cushion, level before): {:?}",
        run.underrun_at
    );
    assert_eq!(
        (run.clicks, run.wobbles),
        (0, 0),
        "glitches in what aired: worst {} and {}",
        run.worst_click,
        run.worst_wobble
    );
}

/// The cushion at `t` seconds on air.
fn cushion_at(run: &Run, t: f64) -> f64 {
    run.cushions
        .iter()
        .rev()
        .find(|(at, _)| *at <= t)
        .map(|(_, c)| *c)
        .unwrap()
}

// issue 14
#[test]
fn an_ogg_source_sending_a_second_at_once_gets_its_cushion_then_gives_it_back_slowly() {
    // Pages of a second (ffmpeg's default page duration) from the connection to a minute
    // into the show; then packets one by one. A packet goes with the last of its page.
    let bursts_until = PREROLL_S + 60.0;
    let sends = move |due: f64, _: f64| {
        if due <= bursts_until {
            (due - 1e-9).ceil()
        } else {
            due
        }
    };
    let seconds = 360.0;
    let run = simulate_sending(48_000, 0.001, seconds, &sends);
    eprintln!(
        "Ogg pages then steady: cushion {:?} s at 0, 30, 59, 85, 200, 359 s; {run:?}",
        [0.0, 30.0, 59.0, 85.0, 200.0, 359.0].map(|t| cushion_at(&run, t))
    );
    assert_clean(&run, seconds);
    // Learned in the pre-roll, so on air from the first block with no gap: a page (less the
    // packet that opens it) plus the margin.
    for t in [0.0, 30.0, 59.0, 85.0] {
        let c = cushion_at(&run, t);
        assert!((1.15..1.3).contains(&c), "{c} s at {t} s");
    }
    // The bursts over, the cushion is held for the jitter window, then shrinks by 0.2 % a
    // second at most (back to a steady source's 0.35 s in about seven minutes).
    let fastest = run
        .cushions
        .windows(2)
        .map(|w| (w[0].1 - w[1].1) / (w[1].0 - w[0].0))
        .fold(0.0f64, f64::max);
    assert!(fastest <= 0.002 + 1e-4, "shrank by {fastest} s a second");
    let c = cushion_at(&run, 300.0);
    assert!((0.7..0.9).contains(&c), "{c} s at 300 s");
    assert!(cushion_at(&run, seconds - 1.0) < c - 0.1);
}

// issue 14
#[test]
fn jitter_growing_mid_show_grows_the_cushion_without_a_gap() {
    // Steady for a minute; then packets late by up to 0.2 s (a congested uplink: they come
    // in clumps), the bound growing over three minutes; then steady. (Jitter that grows
    // faster than the level can follow, at most 1 % of a second per second, or jumps at once
    // beyond what the cushion's margin covers, 0.1 s or so, is an underrun, after which the
    // input primes the grown cushion.)
    let late = |due: f64| {
        let mut x = (due * 1e6) as u64 ^ 0x9E37_79B9_7F4A_7C15;
        x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x ^= x >> 31;
        let bound = 0.2 * ((due - PREROLL_S - 60.0) / 180.0).clamp(0.0, 1.0);
        bound * (x % 1000) as f64 / 1000.0
    };
    let until = PREROLL_S + 240.0;
    let sends = move |due: f64, previous: f64| {
        let at = if due < until { due + late(due) } else { due };
        at.max(previous)
    };
    let seconds = 300.0;
    let run = simulate_sending(44_100, -0.002, seconds, &sends);
    eprintln!(
        "jitter mid-show: cushion {:?} s at 59, 150, 239, 299 s; {run:?}",
        [59.0, 150.0, 239.0, 299.0].map(|t| cushion_at(&run, t))
    );
    assert_clean(&run, seconds);
    assert!((cushion_at(&run, 59.0) - 0.35).abs() < 1e-3);
    // Up to the worst lateness plus the margin, as the jitter grows.
    let grown = cushion_at(&run, 239.0);
    assert!((0.4..0.46).contains(&grown), "{grown} s");
    // Held for the window after the jitter ends, shrinking after.
    let end = cushion_at(&run, 299.0);
    assert!(
        (grown - 0.08..grown - 0.03).contains(&end),
        "{end} s at the end"
    );
}
