//! Two clocks, one programme: a live source's sound card runs a little fast or slow against the
//! station clock, so the frames it delivers per station second differ from the station rate by
//! up to a few tenths of a percent. [`resampler`] converts the source's rate to the station
//! rate with a ratio that [`DriftControl`] nudges, so that the buffer between the
//! source and the programme stays near its target: never a click, a gap or a growing delay.
//!
//! The control is a slow PI loop on the buffer level (smoothed over [`LEVEL_SMOOTHING_S`]
//! seconds of audio, so the jitter of network bursts and of the renderer's blocks does not
//! move the ratio), bounded to ±[`MAX_CORRECTION`]: a 0.5 % drift is absorbed with room to
//! spare, and a 1 % pitch change is below what listeners notice on speech or music. Rubato
//! ramps each ratio change over a chunk, so the resampled signal stays continuous.
//!
//! The target itself adapts ([`Cushion`]): a steady source (ffmpeg or BUTT sending an MP3
//! frame every 26 ms) needs little buffer, a source that sends in bursts (an Ogg source sends
//! a whole page, a second of audio, at once) needs the burst's length. The cushion measures
//! how late each packet arrives against the audio delivered so far, and how far a burst runs
//! ahead of real time (a burst's audio is what the next one may keep the buffer waiting for:
//! known from the first page on, before any page has come late), holds the worst of both over
//! the last [`JITTER_WINDOW_S`] seconds, and sets the target to it plus a margin: it grows
//! at once when the arrivals need it and shrinks back slowly. The loop then moves the level to
//! the new target through the resampler (at most 1 % of pitch): no sample is dropped or
//! inserted for it.

use std::collections::VecDeque;

use super::resample::Resampler;

/// The largest relative correction of the ratio, either way.
pub const MAX_CORRECTION: f64 = 0.01;
/// Seconds of audio over which the buffer level is averaged before the loop reacts.
pub const LEVEL_SMOOTHING_S: f64 = 4.0;
/// Proportional gain: relative correction per second of buffer error (0.1 s off: 0.4 %).
const KP: f64 = 0.04;
/// Integral gain: relative correction per second of error, per second of audio; `KP² / 4`
/// damps the loop critically (no overshoot), settling a constant drift in a few minutes.
const KI: f64 = KP * KP / 4.0;

/// The PI loop on the buffer level; pure arithmetic, driven by what the source delivered.
#[derive(Debug, Clone)]
pub struct DriftControl {
    rate: f64,
    target_frames: f64,
    /// Smoothed buffer level, frames; `None` until the first observation.
    level: Option<f64>,
    integral: f64,
    correction: f64,
}

impl DriftControl {
    /// A loop holding the buffer near `target_frames` at the station `rate`.
    pub fn new(rate: u32, target_frames: u64) -> DriftControl {
        DriftControl {
            rate: f64::from(rate),
            target_frames: target_frames as f64,
            level: None,
            integral: 0.0,
            correction: 0.0,
        }
    }

    /// Takes the buffer level seen after `elapsed_frames` of audio went in, and returns the
    /// relative ratio to resample with (`< 1` when the buffer is too full: fewer frames out).
    pub fn observe(&mut self, buffered_frames: u64, elapsed_frames: u64) -> f64 {
        let dt = elapsed_frames as f64 / self.rate;
        let seen = buffered_frames as f64;
        let level = match self.level {
            None => seen,
            Some(l) => {
                let a = 1.0 - (-dt / LEVEL_SMOOTHING_S).exp();
                l + a * (seen - l)
            }
        };
        self.level = Some(level);
        let error_s = (level - self.target_frames) / self.rate;
        // Anti-windup: the integral only moves while the output is not pinned at a bound.
        let pinned = self.correction.abs() >= MAX_CORRECTION && error_s * self.correction > 0.0;
        if !pinned {
            self.integral += error_s * dt;
        }
        self.correction =
            (KP * error_s + KI * self.integral).clamp(-MAX_CORRECTION, MAX_CORRECTION);
        1.0 - self.correction
    }

    /// Moves the level the loop holds (the adaptive [`Cushion`]'s target).
    pub fn set_target(&mut self, target_frames: u64) {
        self.target_frames = target_frames as f64;
    }

    /// The level the loop holds, frames.
    pub fn target_frames(&self) -> u64 {
        self.target_frames as u64
    }

    /// The correction in force, relative (positive: the source runs fast).
    pub fn correction(&self) -> f64 {
        self.correction
    }

    /// The smoothed buffer level, frames.
    pub fn level_frames(&self) -> f64 {
        self.level.unwrap_or(0.0)
    }
}

/// Seconds over which the worst arrival lateness is held before the cushion may shrink.
pub const JITTER_WINDOW_S: f64 = 30.0;
/// What the cushion keeps beyond the worst lateness seen: the renderer takes its blocks of
/// 4,096 frames (93 ms at 44.1 kHz) at once, and a loaded machine schedules threads late.
pub const CUSHION_MARGIN_S: f64 = 0.25;
/// How fast the cushion shrinks once the jitter has gone, seconds per second (0.2 %: a
/// second of cushion goes in about eight minutes, far below what the loop can follow).
pub const CUSHION_SHRINK: f64 = 0.002;
/// How fast the reference of "on time" may move later, seconds per second: faster than any
/// sound card drifts (a slow source arrives later and later, which is no jitter), slower
/// than a burst (a packet held back a second is).
const BASELINE_CLIMB: f64 = 2.0 * MAX_CORRECTION;

/// The cushion a live source needs, from when its packets arrive. A packet's lateness is its
/// arrival instant minus the audio delivered up to its end; a perfectly steady source keeps it
/// constant. The earliest lateness is the reference ("on time", allowed to drift slowly with
/// the source's clock); how far a packet comes after it is the jitter the buffer must cover.
/// A burst's depth is the mirror image: how far the packets run ahead of the latest recent
/// lateness (the burst's top, allowed to drift down as slowly). A source that sends a second
/// of audio at once will leave the buffer waiting up to a second for the next: the first
/// burst shows it, where lateness alone would wait for the second burst to come (by then a
/// renderer started on the first one's cushion has run dry).
#[derive(Debug, Clone)]
pub struct Cushion {
    rate: f64,
    min_s: f64,
    max_s: f64,
    /// The arrival instant of the first packet, seconds (the origin of the others).
    origin: Option<f64>,
    /// Audio delivered so far, seconds.
    delivered_s: f64,
    /// The reference lateness and the instant it was last moved.
    baseline: Option<(f64, f64)>,
    /// The top of the current burst: the latest recent lateness before a packet's audio, and
    /// the instant it was last moved.
    top: Option<(f64, f64)>,
    /// The worst jitter per second of arrivals, over the window: (second, jitter).
    worst: VecDeque<(i64, f64)>,
    target_s: f64,
    last_at: f64,
}

impl Cushion {
    /// A cushion between `min_frames` (a steady source's) and `max_frames`, at `rate`.
    pub fn new(rate: u32, min_frames: u64, max_frames: u64) -> Cushion {
        let rate = f64::from(rate);
        let min_s = min_frames as f64 / rate;
        Cushion {
            rate,
            min_s,
            max_s: (max_frames as f64 / rate).max(min_s),
            origin: None,
            delivered_s: 0.0,
            baseline: None,
            top: None,
            worst: VecDeque::new(),
            target_s: min_s,
            last_at: 0.0,
        }
    }

    /// Takes a packet of `audio_s` seconds that arrived at `at_s` (any origin, seconds), and
    /// returns the target, frames.
    pub fn arrived(&mut self, at_s: f64, audio_s: f64) -> u64 {
        let origin = *self.origin.get_or_insert(at_s);
        let t = at_s - origin;
        let before = t - self.delivered_s;
        self.delivered_s += audio_s;
        let lateness = t - self.delivered_s;
        let baseline = match self.baseline {
            None => lateness,
            Some((b, since)) => lateness.min(b + BASELINE_CLIMB * (t - since).max(0.0)),
        };
        self.baseline = Some((baseline, t));
        let top = match self.top {
            None => before,
            Some((b, since)) => before.max(b - BASELINE_CLIMB * (t - since).max(0.0)),
        };
        self.top = Some((top, t));
        let jitter = (lateness - baseline).max(top - before);
        let second = t.floor() as i64;
        match self.worst.back_mut() {
            Some((s, j)) if *s == second => *j = j.max(jitter),
            _ => self.worst.push_back((second, jitter)),
        }
        while self
            .worst
            .front()
            .is_some_and(|(s, _)| (second - s) as f64 >= JITTER_WINDOW_S)
        {
            self.worst.pop_front();
        }
        let worst = self.worst.iter().fold(0.0f64, |m, (_, j)| m.max(*j));
        let wanted = (worst + CUSHION_MARGIN_S).clamp(self.min_s, self.max_s);
        let dt = (t - self.last_at).max(0.0);
        self.last_at = t;
        self.target_s = if wanted >= self.target_s {
            wanted
        } else {
            (self.target_s - CUSHION_SHRINK * dt).max(wanted)
        };
        self.target_frames()
    }

    /// The cushion wanted now, frames.
    pub fn target_frames(&self) -> u64 {
        (self.target_s * self.rate).round() as u64
    }

    /// The worst jitter over the window, seconds.
    pub fn jitter_s(&self) -> f64 {
        self.worst.iter().fold(0.0f64, |m, (_, j)| m.max(*j))
    }
}

/// The resampler a live source goes through: the source's rate to the station's, its ratio
/// adjustable within ±[`MAX_CORRECTION`] (ramped over a chunk at each change).
pub fn resampler(rate_in: u32, rate_out: u32) -> Result<Resampler, String> {
    Resampler::adjustable(rate_in, rate_out, MAX_CORRECTION)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A source `drift` fast (or slow) for `seconds` of station time, delivering packets of
    /// 1152 frames, read by a renderer in blocks of 4096 frames, the loop driving an ideal
    /// resampler. Returns (underruns, overflows, max level seen after the first minute, final
    /// correction), levels in frames.
    fn simulate(drift: f64, seconds: u64) -> (u64, u64, f64, f64) {
        const RATE: u32 = 44_100;
        let target = u64::from(RATE); // 1 s
        let capacity = 3 * u64::from(RATE);
        let mut control = DriftControl::new(RATE, target);
        let mut buffered = target as f64;
        let (mut underruns, mut overflows, mut max_after_settle) = (0, 0, 0.0f64);
        let mut ratio = 1.0;
        let source_rate = f64::from(RATE) * (1.0 + drift);
        let (mut t_source, mut t_read) = (0.0f64, 0.0f64);
        let end = seconds as f64;
        while t_read < end {
            let next_packet = t_source + 1152.0 / source_rate;
            let next_read = t_read + 4096.0 / f64::from(RATE);
            if next_packet <= next_read {
                t_source = next_packet;
                buffered += 1152.0 * ratio;
                if buffered > capacity as f64 {
                    overflows += 1;
                    buffered = capacity as f64;
                }
                ratio = control.observe(buffered as u64, 1152);
            } else {
                t_read = next_read;
                buffered -= 4096.0;
                if buffered < 0.0 {
                    underruns += 1;
                    buffered = 0.0;
                }
            }
            if t_read > 60.0 {
                max_after_settle = max_after_settle.max((buffered - target as f64).abs());
            }
        }
        (underruns, overflows, max_after_settle, control.correction())
    }

    #[test]
    fn half_a_percent_of_drift_for_an_hour_keeps_the_delay_bounded_without_glitches() {
        for drift in [0.005, -0.005, 0.0, 0.001] {
            let (underruns, overflows, deviation, correction) = simulate(drift, 3600);
            assert_eq!((underruns, overflows), (0, 0), "drift {drift}");
            eprintln!("drift {drift}: {:.3} s off at most", deviation / 44_100.0);
            // Within a quarter of a second of the target after the first minute (blocks of
            // 4096 frames alone swing the level by 93 ms).
            assert!(
                deviation < 0.25 * 44_100.0,
                "drift {drift}: {deviation} frames off"
            );
            // The loop found the source's clock.
            assert!(
                (correction - drift).abs() < 0.0005,
                "drift {drift}: {correction}"
            );
        }
    }

    /// Packets of `packet_s` seconds, sent `burst` at a time (the source waits for a whole
    /// burst before sending it), for `seconds`; returns the target after each burst, seconds.
    fn targets(
        cushion: &mut Cushion,
        packet_s: f64,
        burst: usize,
        seconds: f64,
        t0: f64,
    ) -> Vec<f64> {
        let mut out = Vec::new();
        let bursts = (seconds / (packet_s * burst as f64)) as usize;
        for b in 1..=bursts {
            let at = t0 + b as f64 * packet_s * burst as f64;
            for _ in 0..burst {
                cushion.arrived(at, packet_s);
            }
            out.push(cushion.target_frames() as f64 / 48_000.0);
        }
        out
    }

    #[test]
    fn the_cushion_stays_small_for_a_steady_source_and_covers_a_bursty_one() {
        let mut c = Cushion::new(48_000, 16_800, 120_000); // 0.35 s .. 2.5 s
        let steady = targets(&mut c, 0.024, 1, 60.0, 0.0);
        assert!(
            steady.iter().all(|&t| (t - 0.35).abs() < 1e-3),
            "{steady:?}"
        );
        // Ogg pages of a second: the cushion covers a page (but its first packet) plus the
        // margin, at the first one.
        let paged = targets(&mut c, 0.02, 50, 60.0, 60.0);
        assert!((paged[0] - 1.23).abs() < 0.01, "{:?}", &paged[..3]);
        assert!(paged.iter().all(|&t| (t - 1.23).abs() < 0.01), "{paged:?}");
        // Steady again: held for the window, then shrinking by 0.2 % a second.
        let after = targets(&mut c, 0.024, 1, 600.0, 120.0);
        let at = |s: f64| after[(s / 0.024) as usize];
        assert!((at(29.0) - 1.23).abs() < 0.01, "{}", at(29.0));
        assert!((at(130.0) - (1.23 - 0.2)).abs() < 0.02, "{}", at(130.0));
        assert!((at(599.0) - 0.35).abs() < 1e-3, "{}", at(599.0));
        assert!(
            after.windows(2).all(|w| w[1] <= w[0] + 1e-9),
            "never grows back"
        );
    }

    /// Issue 14: a source whose first Ogg page arrives at once (ffmpeg, BUTT) and the next a
    /// second later underran right after connecting: the cushion only learnt the page's length
    /// from the second page, and the renderer had started on the first with 0.35 s.
    #[test]
    fn the_first_burst_sets_the_cushion_before_the_second_arrives() {
        let mut c = Cushion::new(48_000, 16_800, 120_000);
        let mut seen = Vec::new();
        for _ in 0..50 {
            seen.push(c.arrived(10.0, 0.02) as f64 / 48_000.0);
        }
        // Packet by packet the cushion stays ahead of what the burst delivered so far, so a
        // renderer waiting for the cushion never starts inside the burst...
        for (k, t) in seen.iter().enumerate() {
            let delivered = 0.02 * (k + 1) as f64;
            assert!(*t >= delivered.min(2.5) + 0.2, "packet {k}: {t} s");
        }
        // ...and at its end it covers the second the next page may take.
        assert!((seen[49] - 1.23).abs() < 0.01, "{}", seen[49]);
    }

    #[test]
    fn a_source_clock_half_a_percent_off_is_not_jitter() {
        for drift in [0.005, -0.005] {
            let mut c = Cushion::new(44_100, 15_435, 110_250);
            // Packets of 1152 frames at a rate `drift` off: each arrives 1152 / rate late.
            for k in 1..100_000 {
                let at = k as f64 * 1152.0 / (44_100.0 * (1.0 + drift));
                c.arrived(at, 1152.0 / 44_100.0);
            }
            assert!(c.jitter_s() < 0.001, "drift {drift}: {}", c.jitter_s());
            assert_eq!(c.target_frames(), 15_435);
        }
    }

    #[test]
    fn the_correction_never_exceeds_its_bound() {
        let mut c = DriftControl::new(48_000, 48_000);
        for _ in 0..10_000 {
            let r = c.observe(3 * 48_000, 1024);
            assert!((1.0 - MAX_CORRECTION..=1.0 + MAX_CORRECTION).contains(&r));
        }
        assert_eq!(c.correction(), MAX_CORRECTION);
        // And it comes back once the buffer is at its target again (no wound-up integral).
        for _ in 0..2_000 {
            c.observe(48_000 / 2, 1024);
        }
        assert!(c.correction() < MAX_CORRECTION);
    }

    #[test]
    fn a_changing_ratio_keeps_a_sine_continuous() {
        // 1 kHz at 48 kHz resampled to 44.1 kHz while the ratio swings over its whole range:
        // the output never jumps further between two frames than a 1 kHz sine can.
        let mut r = resampler(48_000, 44_100).unwrap();
        let mut out = Vec::new();
        let mut phase = 0.0f64;
        for chunk in 0..400 {
            let rel = 1.0 + MAX_CORRECTION * ((chunk as f64) / 20.0).sin();
            r.set_relative(rel);
            let input: Vec<f32> = (0..480)
                .flat_map(|_| {
                    phase += std::f64::consts::TAU * 1000.0 / 48_000.0;
                    let s = (0.5 * phase.sin()) as f32;
                    [s, s]
                })
                .collect();
            r.process(&input, &mut out);
        }
        assert!(out.len() / 2 > 170_000, "{} frames", out.len() / 2);
        let max_step = 0.5 * std::f64::consts::TAU * 1000.0 / 44_100.0 * 1.02 + 0.01;
        let worst = out
            .chunks_exact(2)
            .map(|f| f[0])
            .collect::<Vec<_>>()
            .windows(2)
            .skip(1000)
            .map(|w| (w[1] - w[0]).abs() as f64)
            .fold(0.0, f64::max);
        assert!(
            worst < max_step,
            "a step of {worst} (a sine allows {max_step})"
        );
    }
}
