//! Live audio as a timeline segment: a source (the live input) writes station-format PCM into
//! a named [`LiveInput`]; the planner lays out a `Source::Live` segment over a `play = "live"`
//! slot while the input is connected; the renderer reads it frame for frame.
//!
//! The buffer is bounded and neither side ever waits for the other: a source that runs ahead
//! loses its oldest frames (counted as overflow), a source that runs late leaves silence
//! (counted as underrun), so the programme stays on the station clock whatever the source
//! does. After a connection or an underrun the renderer reads silence until the buffer holds
//! its cushion again (`prime`, counted as waiting), so network jitter does not chop the audio
//! into bits. A connection or a disconnection bumps a generation the planner watches, so it
//! re-plans from the next block.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::audio::CHANNELS;

/// The live inputs a station has, by name (`live` for the mount volunteers connect to).
/// Cheap to clone; fixed at start.
#[derive(Clone, Default)]
pub struct LiveInputs {
    inputs: Arc<HashMap<String, LiveInput>>,
    /// Bumped at every connection and disconnection of any input.
    generation: Arc<AtomicU64>,
}

/// How much a live input buffers: at most `capacity_frames`, and `prime_frames` before the
/// renderer starts reading (the source-to-programme delay the drift control holds; the
/// source's pipeline moves it with the cushion its arrivals need, [`LiveWriter::set_cushion`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveBuffer {
    pub capacity_frames: usize,
    pub prime_frames: usize,
}

impl LiveBuffer {
    /// No cushion: frames are read as soon as they arrive (tests of the frame accounting).
    pub fn unprimed(capacity_frames: usize) -> LiveBuffer {
        LiveBuffer {
            capacity_frames,
            prime_frames: 0,
        }
    }
}

impl LiveInputs {
    /// Inputs named `names`, each buffering as `buffer` says.
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>, buffer: LiveBuffer) -> Self {
        let generation = Arc::new(AtomicU64::new(0));
        let inputs = names
            .into_iter()
            .map(|n| {
                let input = LiveInput {
                    ring: Arc::new(Mutex::new(Ring {
                        samples: VecDeque::new(),
                        capacity: buffer.capacity_frames.max(1) * CHANNELS,
                        prime: buffer.prime_frames.min(buffer.capacity_frames) * CHANNELS,
                        priming: true,
                        read: false,
                        connected: false,
                        title: None,
                        takeover: None,
                    })),
                    counters: Arc::new(LiveCounters::default()),
                    generation: generation.clone(),
                };
                (n.to_owned(), input)
            })
            .collect();
        LiveInputs {
            inputs: Arc::new(inputs),
            generation,
        }
    }

    pub fn get(&self, name: &str) -> Option<&LiveInput> {
        self.inputs.get(name)
    }

    /// Whether a source is connected to `name` now.
    pub fn is_connected(&self, name: &str) -> bool {
        self.get(name).is_some_and(LiveInput::is_connected)
    }

    /// Changes at every connection and disconnection (the planner re-plans on a change).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }
}

impl std::fmt::Debug for LiveInputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<_> = self.inputs.keys().collect();
        names.sort();
        f.debug_struct("LiveInputs")
            .field("inputs", &names)
            .finish()
    }
}

impl PartialEq for LiveInputs {
    /// The same inputs (a clone), not merely inputs with the same names.
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inputs, &other.inputs)
    }
}

/// One live input's buffer and counters.
#[derive(Clone)]
pub struct LiveInput {
    ring: Arc<Mutex<Ring>>,
    counters: Arc<LiveCounters>,
    generation: Arc<AtomicU64>,
}

struct Ring {
    /// Interleaved station-format samples, oldest first.
    samples: VecDeque<f32>,
    /// In samples.
    capacity: usize,
    /// The cushion read silence waits for, in samples.
    prime: usize,
    /// Waiting for the cushion (after a connection or an underrun).
    priming: bool,
    /// The renderer has read since the source connected: the slot is on air.
    read: bool,
    connected: bool,
    /// The now-playing title the source gave (stream name, metadata updates).
    title: Option<String>,
    /// An operator's override: on air from the first instant over whatever plays, until the
    /// second (or until the source disconnects).
    takeover: Option<Takeover>,
}

/// An operator's live override ("direct spécial").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Takeover {
    pub since: jiff::Timestamp,
    pub until: Option<jiff::Timestamp>,
}

/// What went wrong on an input since start, in frames.
#[derive(Debug, Default)]
pub struct LiveCounters {
    /// Frames the renderer needed and the source had not delivered (played as silence).
    pub underrun_frames: AtomicU64,
    /// Frames the source delivered beyond the buffer (the oldest were dropped).
    pub overflow_frames: AtomicU64,
    /// Frames read as silence while the buffer built its cushion.
    pub waiting_frames: AtomicU64,
    /// Underruns: times the buffer ran dry while on air with the source connected (each one
    /// a gap a listener hears; the end of a source's audio after it left is not one).
    pub underruns: AtomicU64,
}

impl LiveInput {
    fn ring(&self) -> MutexGuard<'_, Ring> {
        self.ring.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn is_connected(&self) -> bool {
        self.ring().connected
    }

    pub fn counters(&self) -> &LiveCounters {
        &self.counters
    }

    /// Frames buffered now.
    pub fn buffered_frames(&self) -> usize {
        self.ring().samples.len() / CHANNELS
    }

    /// The cushion the renderer waits for after a connection or an underrun, frames (the
    /// source's pipeline sets it from the jitter of its arrivals).
    pub fn cushion_frames(&self) -> u64 {
        (self.ring().prime / CHANNELS) as u64
    }

    /// Whether the renderer is reading the source's audio (on air, cushion reached): the drift
    /// control steers from then on.
    pub fn is_reading(&self) -> bool {
        let ring = self.ring();
        ring.read && !ring.priming
    }

    /// The title the connected source gave, if any.
    pub fn title(&self) -> Option<String> {
        self.ring().title.clone()
    }

    /// The override in force, if the connected source is an operator's.
    pub fn takeover(&self) -> Option<Takeover> {
        let ring = self.ring();
        ring.takeover.filter(|_| ring.connected)
    }

    /// Makes the connected source an override (the planner re-plans at once).
    pub fn set_takeover(&self, takeover: Option<Takeover>) {
        let mut ring = self.ring();
        if ring.connected {
            ring.takeover = takeover;
            drop(ring);
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// Sets the now-playing title while a source is connected (`None`: the show's own).
    pub fn set_title(&self, title: Option<String>) {
        let mut ring = self.ring();
        if ring.connected {
            ring.title = title;
        }
    }

    /// Connects a source; `None` when one is already connected (one source per input).
    pub fn connect(&self) -> Option<LiveWriter> {
        let mut ring = self.ring();
        if ring.connected {
            return None;
        }
        ring.connected = true;
        ring.samples.clear();
        ring.priming = true;
        ring.read = false;
        ring.title = None;
        ring.takeover = None;
        drop(ring);
        self.generation.fetch_add(1, Ordering::AcqRel);
        Some(LiveWriter(self.clone()))
    }

    /// Fills `out` (interleaved stereo) with the oldest buffered frames, each sample scaled by
    /// `gain(k)` for the `k`-th frame; what the source has not delivered is left as silence
    /// and counted. Returns the frames read.
    pub fn read(&self, out: &mut [f32], gain: impl Fn(usize) -> f32) -> usize {
        let frames = out.len() / CHANNELS;
        let mut ring = self.ring();
        ring.read = true;
        if ring.priming {
            if ring.samples.len() < ring.prime.max(1) {
                drop(ring);
                out.fill(0.0);
                self.counters
                    .waiting_frames
                    .fetch_add(frames as u64, Ordering::Relaxed);
                return 0;
            }
            ring.priming = false;
        }
        let have = (ring.samples.len() / CHANNELS).min(frames);
        // Running dry after the source left is the end of its audio (the grace period then
        // decides what airs), not a gap in it: only a connected source's counts.
        let underrun = have < frames && ring.connected;
        if have < frames {
            // Ran dry: build the cushion again before reading on.
            ring.priming = true;
        }
        if underrun {
            self.counters.underruns.fetch_add(1, Ordering::Relaxed);
        }
        for (k, frame) in out.chunks_exact_mut(CHANNELS).take(have).enumerate() {
            let g = gain(k);
            for s in frame {
                *s = ring.samples.pop_front().unwrap_or(0.0) * g;
            }
        }
        drop(ring);
        out[have * CHANNELS..].fill(0.0);
        if underrun {
            self.counters
                .underrun_frames
                .fetch_add((frames - have) as u64, Ordering::Relaxed);
        }
        have
    }
}

/// A connected source's handle: writes its PCM; dropping it disconnects the source.
pub struct LiveWriter(LiveInput);

impl LiveWriter {
    /// Appends interleaved stereo frames at the station rate; never waits. When the buffer is
    /// full the oldest frames go (counted): a source running fast cannot grow the delay.
    pub fn write(&self, pcm: &[f32]) {
        let mut ring = self.0.ring();
        ring.samples.extend(pcm);
        let excess = ring.samples.len().saturating_sub(ring.capacity);
        let excess = excess.next_multiple_of(CHANNELS).min(ring.samples.len());
        ring.samples.drain(..excess);
        drop(ring);
        if excess > 0 {
            self.0
                .counters
                .overflow_frames
                .fetch_add((excess / CHANNELS) as u64, Ordering::Relaxed);
        }
    }

    /// Before the slot starts (pre-roll): keeps only the newest cushion's worth of frames, so
    /// the show starts with the delay it will keep, and nothing counts as overflow. Once the
    /// renderer reads (it renders a little ahead of the clock), this is [`LiveWriter::write`].
    pub fn write_preroll(&self, pcm: &[f32]) {
        let mut ring = self.0.ring();
        if ring.read {
            drop(ring);
            return self.write(pcm);
        }
        ring.samples.extend(pcm);
        let keep = ring.prime.max(CHANNELS);
        let len = ring.samples.len();
        let excess = len.saturating_sub(keep).next_multiple_of(CHANNELS).min(len);
        ring.samples.drain(..excess);
        ring.priming = true;
    }

    pub fn input(&self) -> &LiveInput {
        &self.0
    }

    /// Sets the cushion the renderer waits for after a connection or an underrun (and the
    /// pre-roll keeps): what the source's arrivals need now, at most the buffer's capacity.
    pub fn set_cushion(&self, frames: u64) {
        let mut ring = self.0.ring();
        ring.prime = (frames as usize).min(ring.capacity / CHANNELS) * CHANNELS;
    }
}

impl Drop for LiveWriter {
    fn drop(&mut self) {
        let mut ring = self.0.ring();
        ring.connected = false;
        ring.title = None;
        ring.takeover = None;
        drop(ring);
        self.0.generation.fetch_add(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> (LiveInputs, LiveInput) {
        let inputs = LiveInputs::new(["live"], LiveBuffer::unprimed(4));
        let input = inputs.get("live").unwrap().clone();
        (inputs, input)
    }

    /// Issue 14: the latency benchmark reported an underrun for every run, which was the
    /// source's last frames draining after it hung up.
    #[test]
    fn the_audio_left_after_a_disconnection_plays_out_without_counting_an_underrun() {
        let (_, input) = input();
        let w = input.connect().unwrap();
        w.write(&[0.1, 0.1, 0.2, 0.2]);
        drop(w);
        let mut out = [9.0; 8];
        assert_eq!(input.read(&mut out, |_| 1.0), 2);
        assert_eq!(out, [0.1, 0.1, 0.2, 0.2, 0.0, 0.0, 0.0, 0.0]);
        let c = input.counters();
        assert_eq!(c.underruns.load(Ordering::Relaxed), 0);
        assert_eq!(c.underrun_frames.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn frames_come_out_in_order_and_missing_ones_are_silence_counted_as_underrun() {
        let (_, input) = input();
        let w = input.connect().unwrap();
        w.write(&[0.1, 0.1, 0.2, 0.2, 0.3, 0.3]);
        let mut out = [9.0; 8];
        assert_eq!(input.read(&mut out, |_| 1.0), 3);
        assert_eq!(out, [0.1, 0.1, 0.2, 0.2, 0.3, 0.3, 0.0, 0.0]);
        assert_eq!(input.counters().underrun_frames.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn a_source_running_ahead_loses_its_oldest_frames_never_grows_the_delay() {
        let (_, input) = input();
        let w = input.connect().unwrap();
        let pcm: Vec<f32> = (0..12).map(|i| (i / 2) as f32).collect(); // 6 frames, capacity 4
        w.write(&pcm);
        assert_eq!(input.buffered_frames(), 4);
        assert_eq!(input.counters().overflow_frames.load(Ordering::Relaxed), 2);
        let mut out = [0.0; 8];
        input.read(&mut out, |_| 1.0);
        assert_eq!(out, [2.0, 2.0, 3.0, 3.0, 4.0, 4.0, 5.0, 5.0]);
    }

    #[test]
    fn one_source_per_input_and_each_change_is_a_new_generation() {
        let (inputs, input) = input();
        let g0 = inputs.generation();
        assert!(!inputs.is_connected("live"));
        let w = input.connect().unwrap();
        assert!(inputs.is_connected("live"));
        assert!(input.connect().is_none(), "a second source is refused");
        let g1 = inputs.generation();
        assert!(g1 > g0);
        drop(w);
        assert!(!inputs.is_connected("live"));
        assert!(inputs.generation() > g1);
        assert!(input.connect().is_some(), "free again after the drop");
        assert!(!inputs.is_connected("other"));
    }

    #[test]
    fn the_gain_applies_per_frame() {
        let (_, input) = input();
        let w = input.connect().unwrap();
        w.write(&[1.0, 1.0, 1.0, 1.0]);
        let mut out = [0.0; 4];
        input.read(&mut out, |k| if k == 0 { 0.5 } else { 1.0 });
        assert_eq!(out, [0.5, 0.5, 1.0, 1.0]);
    }

    #[test]
    fn reading_waits_for_the_cushion_after_a_connection_and_after_an_underrun() {
        let buffer = LiveBuffer {
            capacity_frames: 8,
            prime_frames: 3,
        };
        let inputs = LiveInputs::new(["live"], buffer);
        let input = inputs.get("live").unwrap().clone();
        let w = input.connect().unwrap();
        w.write(&[1.0; 4]); // 2 frames: under the cushion
        let mut out = [9.0; 4];
        assert_eq!(input.read(&mut out, |_| 1.0), 0);
        assert_eq!(out, [0.0; 4], "silence while priming");
        w.write(&[2.0; 2]); // 3 frames: the cushion
        assert_eq!(input.read(&mut out, |_| 1.0), 2);
        assert_eq!(out, [1.0; 4]);
        // One frame left, two asked: an underrun, then priming again.
        assert_eq!(input.read(&mut out, |_| 1.0), 1);
        assert_eq!(input.counters().underruns.load(Ordering::Relaxed), 1);
        w.write(&[3.0; 2]);
        assert_eq!(input.read(&mut out, |_| 1.0), 0, "priming again");
        assert_eq!(input.counters().waiting_frames.load(Ordering::Relaxed), 4);
    }

    #[test]
    fn the_pre_roll_keeps_the_newest_cushion_without_counting_overflow() {
        let buffer = LiveBuffer {
            capacity_frames: 8,
            prime_frames: 2,
        };
        let inputs = LiveInputs::new(["live"], buffer);
        let input = inputs.get("live").unwrap().clone();
        let w = input.connect().unwrap();
        let pcm: Vec<f32> = (0..20).map(|i| (i / 2) as f32).collect(); // frames 0..10
        w.write_preroll(&pcm);
        assert_eq!(input.buffered_frames(), 2);
        assert_eq!(input.counters().overflow_frames.load(Ordering::Relaxed), 0);
        let mut out = [0.0; 4];
        input.read(&mut out, |_| 1.0);
        assert_eq!(out, [8.0, 8.0, 9.0, 9.0], "the newest frames");
        input.set_title(Some("Fête des Ors".into()));
        assert_eq!(input.title().as_deref(), Some("Fête des Ors"));
        drop(w);
        assert_eq!(input.title(), None);
    }
}
