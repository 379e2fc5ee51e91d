//! Encoding an episode on both cores: two LAME encoders on the two halves of the programme,
//! spliced into one MP3 stream at a frame boundary.
//!
//! LAME is single-threaded and is half of a render's CPU time. Encoder A takes the programme
//! from the start; encoder B starts at an MP3-frame boundary `s0` near the middle (its reader
//! seeks there, the limiter warmed up on the two seconds before), so B's frame `b` encodes the
//! same samples as A's frame `s0 + b`. Once B has settled (`warm` frames) the two streams are
//! interchangeable frame for frame, except for one thing: a Layer III frame's data may begin up
//! to 511 bytes back, in the tail of earlier frames (the bit reservoir). The splice is made at
//! the first frame `j` of a search range where
//! - A's unused reservoir before `j` is at least the `main_data_begin` of B's frame `j`: those
//!   bytes of B's reservoir are copied over A's unused tail, so B's frame `j` and every later
//!   B frame find their data where B put it, and A's frames before `j` lose nothing;
//! - A's and B's frames `j - 1` end with the same block types, so the window sequence the
//!   decoder overlaps across the seam is a valid one.
//!
//! Before splicing, A compares the PCM it encoded with B's over a window ahead of the range: a
//! reader that seeked inexactly (or resampled on another grid) would splice two different
//! timelines, so then, or when no frame of the range qualifies, A simply encodes to the end and
//! B's work is dropped: slower, never wrong. The spliced file gets an Info frame rebuilt for
//! the whole stream (counts, seek table, padding, LAME's CRCs; see `lametag`).
//!
//! Each encoder's output is decoded and metered as it is written (see `verify`): A's meter up
//! to the seam; B's from the end of the search range live, and the range itself kept as PCM
//! until the seam is known. The three parts are pooled into the published file's report.

mod side_a;
mod side_b;
mod splice;
#[cfg(test)]
mod tests;

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::sync_channel;

use super::AudioError;
use super::limiter::LimiterParams;
use super::mp3frame::FrameLayout;
use super::normalise::Programme;
use super::render::{Encoded, RenderOptions};
use super::trim::TrimRange;
use super::verify::{DECODER_DELAY, LAME_DELAY, Metered};
use side_a::run_a;
use side_b::run_b;
use splice::finish;

/// Samples per MPEG-1 Layer III frame.
pub(super) const FS: u64 = 1152;
/// Decoded frames before programme frame 0 (LAME's delay and the decoder's).
pub(super) const DELAY: u64 = LAME_DELAY + DECODER_DELAY;
/// Frames B encodes before its frames may replace A's (psychoacoustic and filterbank history).
pub(super) const WARM_FRAMES: u64 = 40;
/// Frames searched for a splice point (~10 s).
pub(super) const RANGE_FRAMES: u64 = 400;
/// Shorter programmes are encoded on one core.
pub(super) const MIN_SECONDS: f64 = 60.0;
/// A's last frames are held back: their unused tails may receive B's reservoir bytes.
pub(super) const HOLD: usize = 3;
/// Frames of PCM compared between the two readers before splicing.
pub(super) const CHECK_FRAMES: u64 = 4096;
/// Largest sample difference accepted as "the same audio" (-80 dBFS; the readers' limiter
/// states differ by ~1e-7 after the warm-up).
pub(super) const CHECK_TOLERANCE: f32 = 1e-4;

/// Where the halves meet, in MP3 frames.
#[derive(Debug, Clone, Copy)]
pub(super) struct Plan {
    /// A's audio frame at which B starts.
    s0: u64,
    pub(super) warm: u64,
    pub(super) range: u64,
}

impl Plan {
    /// The plan for a programme of `frames` at `rate`; `None` when it should be encoded on one
    /// core (short, or a rate whose frames are not MPEG-1 Layer III).
    pub(super) fn for_programme(frames: u64, rate: u32) -> Option<Plan> {
        if (frames as f64) < MIN_SECONDS * rate as f64 {
            return None;
        }
        Plan::with(frames, rate, WARM_FRAMES, RANGE_FRAMES)
    }

    fn with(frames: u64, rate: u32, warm: u64, range: u64) -> Option<Plan> {
        if !(32_000..=48_000).contains(&rate) || warm < 16 || range == 0 {
            return None;
        }
        // A does s0 + warm + (a little of the range) frames, B the rest: about half each.
        let s0 = (frames / FS / 2).checked_sub(warm / 2 + range / 4)?;
        // B must run well past the last candidate.
        if (s0 + warm + range + 8) * FS + DELAY > frames {
            return None;
        }
        Some(Plan { s0, warm, range })
    }

    /// The programme frame B starts at.
    fn start(&self) -> u64 {
        self.s0 * FS
    }

    /// A's audio frames at which the splice may be made.
    fn candidates(&self) -> Range<u64> {
        self.s0 + self.warm..self.s0 + self.warm + self.range
    }

    /// Programme frames whose PCM both readers must agree on; A has encoded them before its
    /// first candidate frame comes out.
    fn check_window(&self) -> Range<u64> {
        let from = self.start() + self.warm / 2 * FS;
        from..from + CHECK_FRAMES
    }

    /// B's frames sent to A: those a splice may copy reservoir bytes from, and the candidates.
    fn kept(&self) -> Range<u64> {
        self.warm - HOLD as u64..self.warm + self.range
    }
}

/// What B tells A once it has encoded past the search range.
pub(super) struct Candidates {
    /// B's frames [`Plan::kept`], whole, with their layouts.
    pub(super) frames: Vec<(FrameLayout, Vec<u8>)>,
    /// B's PCM over [`Plan::check_window`].
    pub(super) check: Vec<f32>,
}

/// B's finished half.
pub(super) struct HalfB {
    /// Offset of each of B's frames in its temp file.
    pub(super) offsets: Vec<u64>,
    pub(super) bytes: u64,
    pub(super) metered: Metered,
    pub(super) reduction_db: f64,
}

/// Appends the samples of `buf` (programme frames from `at`) that fall in `window`.
pub(super) fn capture(window: &Range<u64>, at: u64, buf: &[f32], into: &mut Vec<f32>) {
    let end = at + buf.len() as u64 / 2;
    let lo = window.start.clamp(at, end);
    let hi = window.end.clamp(lo, end);
    into.extend_from_slice(&buf[(lo - at) as usize * 2..(hi - at) as usize * 2]);
}

pub(super) fn write_err(path: &Path) -> impl Fn(std::io::Error) -> AudioError + '_ {
    move |error| AudioError::Write {
        path: path.to_path_buf(),
        error,
    }
}

pub(super) fn lame_err(e: impl std::fmt::Display) -> AudioError {
    AudioError::Stage(format!("LAME: {e}"))
}

/// The inputs both halves share.
#[derive(Clone)]
pub(super) struct Job {
    pub(super) input: Programme,
    /// What B reads: the same programme, except in tests of the fallback.
    pub(super) input_b: Programme,
    pub(super) rate: u32,
    pub(super) kbps: u32,
    pub(super) gain_db: f64,
    pub(super) params: LimiterParams,
    pub(super) trim: TrimRange,
    pub(super) plan: Plan,
}

/// Encodes the normalised programme on both cores (see the module doc) into `tmp`.
pub(super) fn encode_halves(
    input: &Programme,
    tmp: &Path,
    opts: &RenderOptions,
    gain_db: f64,
    params: LimiterParams,
    trim: TrimRange,
    plan: Plan,
) -> Result<Encoded, AudioError> {
    encode_halves_from(input, input, tmp, opts, gain_db, params, trim, plan)
}

#[allow(clippy::too_many_arguments)]
fn encode_halves_from(
    input: &Programme,
    input_b: &Programme,
    tmp: &Path,
    opts: &RenderOptions,
    gain_db: f64,
    params: LimiterParams,
    trim: TrimRange,
    plan: Plan,
) -> Result<Encoded, AudioError> {
    let tmp_b = tmp.with_file_name(format!(
        "{}.b.tmp",
        tmp.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    ));
    let job = Job {
        input: input.clone(),
        input_b: input_b.clone(),
        rate: opts.rate,
        kbps: opts.bitrate_kbps,
        gain_db,
        params,
        trim,
        plan,
    };
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = sync_channel(1);
    let b = {
        let (job, tmp_b, stop) = (job.clone(), tmp_b.clone(), stop.clone());
        std::thread::Builder::new()
            .name("render-b".into())
            .spawn(move || run_b(job, tmp_b, stop, tx))
            .map_err(|e| AudioError::Stage(format!("cannot start encoder B: {e}")))?
    };
    let a = run_a(&job, tmp, opts, rx, &stop);
    // B goes on only if A spliced; otherwise it stops at its next chunk.
    stop.store(
        !matches!(&a, Ok(a) if a.splice.is_some()),
        Ordering::Relaxed,
    );
    let b = b.join().unwrap_or_else(|panic| {
        Err(AudioError::Stage(format!(
            "encoder B crashed: {}",
            super::render::crashed(panic.as_ref())
        )))
    });
    let result = a.and_then(|a| finish(&job, tmp, &tmp_b, opts, a, b));
    let _ = std::fs::remove_file(&tmp_b);
    result
}

/// Whether the two readers produced the same samples over the check window.
pub(super) fn same_audio(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len()
        && a.len() as u64 == CHECK_FRAMES * 2
        && a.iter()
            .zip(b)
            .all(|(x, y)| (x - y).abs() <= CHECK_TOLERANCE)
}
