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

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use mp3lame_encoder::{Encoder, FlushGap};

use super::AudioError;
use super::analyse::{Analyser, Measured};
use super::encode::{build, encode_into};
use super::id3::encode_tag;
use super::lametag::{StreamFacts, crc16, parse_info, rebuild_info, seek_table};
use super::limiter::LimiterParams;
use super::mp3frame::{FrameCutter, FrameLayout};
use super::normalise::Producer;
use super::render::{Encoded, RenderOptions, analyze_file};
use super::trim::TrimRange;
use super::verify::{DECODER_DELAY, LAME_DELAY, Metered, StreamMeter, Windows};

/// Samples per MPEG-1 Layer III frame.
const FS: u64 = 1152;
/// Decoded frames before programme frame 0 (LAME's delay and the decoder's).
const DELAY: u64 = LAME_DELAY + DECODER_DELAY;
/// Frames B encodes before its frames may replace A's (psychoacoustic and filterbank history).
const WARM_FRAMES: u64 = 40;
/// Frames searched for a splice point (~10 s).
const RANGE_FRAMES: u64 = 400;
/// Shorter programmes are encoded on one core.
const MIN_SECONDS: f64 = 60.0;
/// A's last frames are held back: their unused tails may receive B's reservoir bytes.
const HOLD: usize = 3;
/// Frames of PCM compared between the two readers before splicing.
const CHECK_FRAMES: u64 = 4096;
/// Largest sample difference accepted as "the same audio" (-80 dBFS; the readers' limiter
/// states differ by ~1e-7 after the warm-up).
const CHECK_TOLERANCE: f32 = 1e-4;

/// Where the halves meet, in MP3 frames.
#[derive(Debug, Clone, Copy)]
pub(super) struct Plan {
    /// A's audio frame at which B starts.
    s0: u64,
    warm: u64,
    range: u64,
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
struct Candidates {
    /// B's frames [`Plan::kept`], whole, with their layouts.
    frames: Vec<(FrameLayout, Vec<u8>)>,
    /// B's PCM over [`Plan::check_window`].
    check: Vec<f32>,
}

/// B's finished half.
struct HalfB {
    /// Offset of each of B's frames in its temp file.
    offsets: Vec<u64>,
    bytes: u64,
    metered: Metered,
    reduction_db: f64,
}

/// Appends the samples of `buf` (programme frames from `at`) that fall in `window`.
fn capture(window: &Range<u64>, at: u64, buf: &[f32], into: &mut Vec<f32>) {
    let end = at + buf.len() as u64 / 2;
    let lo = window.start.clamp(at, end);
    let hi = window.end.clamp(lo, end);
    into.extend_from_slice(&buf[(lo - at) as usize * 2..(hi - at) as usize * 2]);
}

fn write_err(path: &Path) -> impl Fn(std::io::Error) -> AudioError + '_ {
    move |error| AudioError::Write {
        path: path.to_path_buf(),
        error,
    }
}

fn lame_err(e: impl std::fmt::Display) -> AudioError {
    AudioError::Stage(format!("LAME: {e}"))
}

/// The inputs both halves share.
#[derive(Clone)]
struct Job {
    input: PathBuf,
    /// What B reads: the same file, except in tests of the fallback.
    input_b: PathBuf,
    rate: u32,
    kbps: u32,
    gain_db: f64,
    params: LimiterParams,
    trim: TrimRange,
    plan: Plan,
}

/// Encoder B's output as it goes.
struct OutB {
    file: BufWriter<File>,
    path: PathBuf,
    meter: StreamMeter,
    cutter: FrameCutter,
    offsets: Vec<u64>,
    bytes: u64,
    kept: Range<u64>,
    frames: Vec<(FrameLayout, Vec<u8>)>,
    check: Vec<f32>,
    report: Option<SyncSender<Candidates>>,
}

impl OutB {
    fn take(&mut self, out: &[u8]) -> Result<(), AudioError> {
        self.file.write_all(out).map_err(write_err(&self.path))?;
        self.meter.feed(out);
        let (kept, offsets, bytes, frames) = (
            &self.kept,
            &mut self.offsets,
            &mut self.bytes,
            &mut self.frames,
        );
        self.cutter
            .push(out, |frame| {
                if kept.contains(&(offsets.len() as u64)) {
                    let layout = FrameLayout::parse(frame).ok_or("not a Layer III frame")?;
                    frames.push((layout, frame.to_vec()));
                }
                offsets.push(*bytes);
                *bytes += frame.len() as u64;
                Ok(())
            })
            .map_err(|e| AudioError::Stage(format!("encoder B: {e}")))?;
        if self.offsets.len() as u64 > self.kept.end
            && let Some(tx) = self.report.take()
        {
            let candidates = Candidates {
                frames: std::mem::take(&mut self.frames),
                check: std::mem::take(&mut self.check),
            };
            // An A that stopped listening has spliced already or gone on alone.
            let _ = tx.send(candidates);
        }
        Ok(())
    }
}

/// Encoder B: programme frames from the plan's start to the end, into `tmp_b`.
fn run_b(
    job: Job,
    tmp_b: PathBuf,
    stop: Arc<AtomicBool>,
    report: SyncSender<Candidates>,
) -> Result<HalfB, AudioError> {
    let plan = job.plan;
    let n = job.trim.len();
    let s = plan.start();
    let meter = StreamMeter::spawn(
        &tmp_b,
        job.rate,
        Windows {
            held: plan.warm * FS..(plan.warm + plan.range) * FS,
            live: (plan.warm + plan.range) * FS..n - s + DELAY,
        },
    )?;
    let mut enc = build(job.rate, job.kbps, false)?;
    let file = File::create(&tmp_b).map_err(write_err(&tmp_b))?;
    let mut b = OutB {
        file: BufWriter::with_capacity(1 << 20, file),
        path: tmp_b.clone(),
        meter,
        cutter: FrameCutter::default(),
        offsets: Vec::new(),
        bytes: 0,
        kept: plan.kept(),
        frames: Vec::new(),
        check: Vec::new(),
        report: Some(report),
    };
    let producer = Producer::spawn(&job.input_b, job.rate, job.gain_db, job.params, job.trim, s)?;
    let window = plan.check_window();
    let mut at = s;
    let mut out = Vec::new();
    for buf in producer.chunks.iter() {
        if stop.load(Ordering::Relaxed) {
            return Err(AudioError::Stage("encoder B was not needed".into()));
        }
        capture(&window, at, &buf, &mut b.check);
        at += buf.len() as u64 / 2;
        out.clear();
        encode_into(&mut enc, &buf, &mut out)?;
        b.take(&out)?;
    }
    out.clear();
    enc.flush_to_vec::<FlushGap>(&mut out).map_err(lame_err)?;
    b.take(&out)?;
    b.file.flush().map_err(write_err(&tmp_b))?;
    let reduction_db = producer.finish()?;
    Ok(HalfB {
        offsets: b.offsets,
        bytes: b.bytes,
        metered: b.meter.finish()?,
        reduction_db,
    })
}

/// Encoder A's output: the episode file up to the splice (or to the end).
struct HalfA {
    file: BufWriter<File>,
    path: PathBuf,
    tag_len: u64,
    enc: Encoder,
    meter: StreamMeter,
    /// Batch of accepted frames for the meter.
    metered: Vec<u8>,
    /// Stream bytes accepted (tag frame included).
    stream_bytes: u64,
    /// Stream offset of each accepted audio frame.
    offsets: Vec<u64>,
    music_crc: u16,
    /// Accepted audio frames not yet written.
    held: VecDeque<(FrameLayout, Vec<u8>)>,
    /// Main-data bytes of the accepted frames' areas, and where the last one's data ends.
    areas: u64,
    data_end: u64,
    /// Block types of the last accepted frame's second granule.
    last_blocks: [u8; 2],
    tag_frame_seen: bool,
}

impl HalfA {
    /// Creates the episode file for a programme of `n` frames and writes its ID3v2 tag.
    fn create(path: &Path, opts: &RenderOptions, n: u64) -> Result<HalfA, AudioError> {
        let werr = write_err(path);
        let mut file = BufWriter::with_capacity(1 << 20, File::create(path).map_err(&werr)?);
        let tag = encode_tag(&opts.tags);
        file.write_all(&tag).map_err(&werr)?;
        let lead = FS + DELAY;
        Ok(HalfA {
            file,
            path: path.to_path_buf(),
            tag_len: tag.len() as u64,
            enc: build(opts.rate, opts.bitrate_kbps, true)?,
            meter: StreamMeter::spawn(
                path,
                opts.rate,
                Windows {
                    live: lead..lead + n,
                    held: 0..0,
                },
            )?,
            metered: Vec::new(),
            stream_bytes: 0,
            offsets: Vec::new(),
            music_crc: 0,
            held: VecDeque::new(),
            areas: 0,
            data_end: 0,
            last_blocks: [0; 2],
            tag_frame_seen: false,
        })
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), AudioError> {
        self.file.write_all(bytes).map_err(write_err(&self.path))
    }

    /// Takes the next frame of A's stream (the Info placeholder first).
    fn accept(&mut self, frame: &[u8], layout: Option<FrameLayout>) -> Result<(), AudioError> {
        self.metered.extend_from_slice(frame);
        if !self.tag_frame_seen {
            self.tag_frame_seen = true;
            self.stream_bytes += frame.len() as u64;
            return self.write(frame);
        }
        let layout =
            layout.ok_or_else(|| AudioError::Stage("encoder A: not a Layer III frame".into()))?;
        self.offsets.push(self.stream_bytes);
        self.stream_bytes += frame.len() as u64;
        let start = self
            .areas
            .saturating_sub(layout.side.main_data_begin as u64);
        self.data_end = start + layout.side.data_bytes as u64;
        self.areas += layout.area_len() as u64;
        self.last_blocks = layout.side.block_types[1];
        self.held.push_back((layout, frame.to_vec()));
        while self.held.len() > HOLD {
            self.write_held()?;
        }
        Ok(())
    }

    fn write_held(&mut self) -> Result<(), AudioError> {
        if let Some((_, frame)) = self.held.pop_front() {
            self.music_crc = crc16(self.music_crc, &frame);
            self.write(&frame)?;
        }
        Ok(())
    }

    /// Whether B's frame `b` (and all after it) can follow A's accepted frames.
    fn can_splice(&self, cands: &Candidates, kept_from: u64, b: u64) -> bool {
        let Some(k) = b.checked_sub(kept_from).map(|k| k as usize) else {
            return false;
        };
        let (Some((next, _)), Some((prev, _))) = (
            cands.frames.get(k),
            k.checked_sub(1).and_then(|p| cands.frames.get(p)),
        ) else {
            return false;
        };
        let need = next.side.main_data_begin;
        let donor: usize = cands.frames[k.saturating_sub(HOLD)..k]
            .iter()
            .map(|(l, _)| l.area_len())
            .sum();
        let room: usize = self.held.iter().map(|(l, _)| l.area_len()).sum();
        self.areas - self.data_end >= need as u64
            && need <= donor.min(room)
            && self.held.len() == HOLD
            && self.last_blocks == prev.side.block_types[1]
    }

    /// Copies the last `main_data_begin` bytes of B's reservoir before its frame `k` over the
    /// unused tail of the held frames' main data.
    fn splice_reservoir(&mut self, cands: &Candidates, k: usize) {
        let need = cands.frames[k].0.side.main_data_begin;
        let donor: Vec<u8> = cands.frames[k.saturating_sub(HOLD)..k]
            .iter()
            .flat_map(|(l, f)| f[l.area_start..].iter().copied())
            .collect();
        let mut src = &donor[donor.len() - need..];
        for (l, f) in self.held.iter_mut().rev() {
            let area = &mut f[l.area_start..];
            let take = src.len().min(area.len());
            let (rest, tail) = src.split_at(src.len() - take);
            let len = area.len();
            area[len - take..].copy_from_slice(tail);
            src = rest;
            if src.is_empty() {
                break;
            }
        }
    }

    fn feed_meter(&mut self) {
        self.meter.feed(&self.metered);
        self.metered.clear();
    }
}

/// Encodes the normalised programme on both cores (see the module doc) into `tmp`.
pub(super) fn encode_halves(
    input: &Path,
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
    input: &Path,
    input_b: &Path,
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
        input: input.to_path_buf(),
        input_b: input_b.to_path_buf(),
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

/// A's work: where it spliced (`None`: it encoded everything).
struct EndOfA {
    half: HalfA,
    splice: Option<(u64, Candidates)>,
    reduction_db: f64,
}

/// What A knows of B while it looks for the splice point.
struct Search<'a> {
    plan: Plan,
    rx: Receiver<Candidates>,
    stop: &'a AtomicBool,
    /// A's PCM over the check window.
    check: Vec<f32>,
    cands: Option<Candidates>,
    b_usable: bool,
    splice: Option<u64>,
}

impl Search<'_> {
    /// Whether A should end before audio frame `a` and let B's stream go on from there.
    fn splice_before(&mut self, half: &HalfA, a: u64) -> bool {
        let range = self.plan.candidates();
        if !self.b_usable || a < range.start {
            return false;
        }
        if a >= range.end {
            tracing::info!("no splice point in the range: encoding on one core");
            self.b_usable = false;
            self.stop.store(true, Ordering::Relaxed);
            return false;
        }
        if self.cands.is_none() {
            self.cands = self.rx.recv().ok();
            self.b_usable = match &self.cands {
                Some(c) => same_audio(&self.check, &c.check),
                None => false,
            };
            if !self.b_usable {
                tracing::info!("the halves' audio differs: encoding on one core");
                self.stop.store(true, Ordering::Relaxed);
                return false;
            }
        }
        let found = self
            .cands
            .as_ref()
            .is_some_and(|c| half.can_splice(c, self.plan.kept().start, a - self.plan.s0));
        if found {
            self.splice = Some(a);
        }
        found
    }
}

/// Cuts A's latest output into frames and accepts them, up to the splice point.
fn take_a(
    half: &mut HalfA,
    search: &mut Search,
    cutter: &mut FrameCutter,
    out: &[u8],
) -> Result<(), AudioError> {
    let mut err = None;
    cutter
        .push(out, |frame| {
            if search.splice.is_some() || err.is_some() {
                return Ok(());
            }
            let a = half.offsets.len() as u64;
            if half.tag_frame_seen && search.splice_before(half, a) {
                return Ok(());
            }
            if let Err(e) = half.accept(frame, FrameLayout::parse(frame)) {
                err = Some(e);
            }
            Ok(())
        })
        .map_err(|e| AudioError::Stage(format!("encoder A: {e}")))?;
    half.feed_meter();
    err.map_or(Ok(()), Err)
}

fn run_a(
    job: &Job,
    tmp: &Path,
    opts: &RenderOptions,
    rx: Receiver<Candidates>,
    stop: &AtomicBool,
) -> Result<EndOfA, AudioError> {
    let mut half = HalfA::create(tmp, opts, job.trim.len())?;
    let producer = Producer::spawn(&job.input, job.rate, job.gain_db, job.params, job.trim, 0)?;
    let window = job.plan.check_window();
    let mut search = Search {
        plan: job.plan,
        rx,
        stop,
        check: Vec::new(),
        cands: None,
        b_usable: true,
        splice: None,
    };
    let mut cutter = FrameCutter::default();
    let mut at = 0;
    let mut out = Vec::new();
    for buf in producer.chunks.iter() {
        capture(&window, at, &buf, &mut search.check);
        at += buf.len() as u64 / 2;
        out.clear();
        encode_into(&mut half.enc, &buf, &mut out)?;
        take_a(&mut half, &mut search, &mut cutter, &out)?;
        if search.splice.is_some() {
            break;
        }
    }
    if search.splice.is_none() {
        out.clear();
        half.enc
            .flush_to_vec::<FlushGap>(&mut out)
            .map_err(lame_err)?;
        take_a(&mut half, &mut search, &mut cutter, &out)?;
    }
    let reduction_db = producer.finish()?;
    let splice = match (search.splice, search.cands) {
        (Some(j), Some(c)) => Some((j, c)),
        _ => None,
    };
    Ok(EndOfA {
        half,
        splice,
        reduction_db,
    })
}

/// Whether the two readers produced the same samples over the check window.
fn same_audio(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len()
        && a.len() as u64 == CHECK_FRAMES * 2
        && a.iter()
            .zip(b)
            .all(|(x, y)| (x - y).abs() <= CHECK_TOLERANCE)
}

/// Writes the rest of the file (B's frames after the splice, then the Info frame), fsyncs it,
/// and pools the meters' parts into its report.
fn finish(
    job: &Job,
    tmp: &Path,
    tmp_b: &Path,
    opts: &RenderOptions,
    end: EndOfA,
    b: Result<HalfB, AudioError>,
) -> Result<Encoded, AudioError> {
    let EndOfA {
        mut half,
        splice,
        reduction_db,
    } = end;
    let n = job.trim.len();
    let werr = write_err(tmp);
    let Some((j, cands)) = splice else {
        // One encoder did it all: LAME's own Info frame is right.
        if let Err(e) = &b {
            tracing::debug!(error = %e, "encoder B stopped");
        }
        while !half.held.is_empty() {
            half.write_held()?;
        }
        let info = lame_tag(&half.enc);
        let metered = half.meter.finish()?;
        let frames = half.offsets.len() as u64;
        let padding = parse_info(&info).map(|t| t.padding);
        let bytes = close(half.file, half.tag_len, &info, tmp)?;
        let consistent =
            metered.decoded == FS + frames * FS && padding == Some(frames * FS - LAME_DELAY - n);
        let parts = consistent.then(|| vec![metered.part]);
        let after = measured_or_file(tmp, opts, parts, n, metered.facts)?;
        return Ok(Encoded {
            bytes,
            limiter_reduction_db: reduction_db,
            after,
            seam: None,
        });
    };
    let b = b?;
    let jb = j - job.plan.s0;
    let k = (jb - job.plan.kept().start) as usize;
    half.splice_reservoir(&cands, k);
    while !half.held.is_empty() {
        half.write_held()?;
    }
    let template = lame_tag(&half.enc);
    // B's frames from the seam on, after A's.
    let a_bytes = half.stream_bytes;
    let b_from = b.offsets[jb as usize];
    let mut src = File::open(tmp_b).map_err(write_err(tmp_b))?;
    src.seek(SeekFrom::Start(b_from))
        .map_err(write_err(tmp_b))?;
    let mut crc = half.music_crc;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let got = src.read(&mut buf).map_err(write_err(tmp_b))?;
        if got == 0 {
            break;
        }
        crc = crc16(crc, &buf[..got]);
        half.file.write_all(&buf[..got]).map_err(&werr)?;
    }
    let frames = j + b.offsets.len() as u64 - jb;
    let bytes = a_bytes + b.bytes - b_from;
    let padding = (frames * FS).checked_sub(LAME_DELAY + n);
    let a_offsets = &half.offsets;
    let offset = |f: u64| match f.checked_sub(j) {
        None => a_offsets[f as usize],
        Some(i) => a_bytes + b.offsets[(jb + i) as usize] - b_from,
    };
    let facts = StreamFacts {
        frames,
        bytes,
        padding: padding.unwrap_or(0),
        music_crc: crc,
        toc: seek_table(frames, bytes, offset),
    };
    let info = rebuild_info(&template, &facts)
        .filter(|i| i.len() as u64 == a_offsets.first().copied().unwrap_or(0))
        .ok_or_else(|| {
            AudioError::Stage("cannot rebuild the Info frame of the spliced stream".into())
        })?;
    tracing::debug!(seam = j, frames, "spliced the two encoders' streams");
    let metered_a = half.meter.finish()?;
    let file_bytes = close(half.file, half.tag_len, &info, tmp)?;
    // B's part before the end of the range was kept as PCM: measure it from the seam on.
    let held = &b.metered.held;
    let from = ((jb - job.plan.warm) * FS * 2) as usize;
    let seam_part = match held.get(from..) {
        Some(pcm) if held.len() as u64 == job.plan.range * FS * 2 => {
            let mut analyser = Analyser::new(job.rate)?;
            analyser.add(pcm)?;
            Some(analyser.finish_part()?)
        }
        _ => None,
    };
    let consistent = padding.is_some_and(|p| p <= 0xFFF)
        && metered_a.decoded == FS + j * FS
        && b.metered.decoded == b.offsets.len() as u64 * FS
        && seam_part.is_some();
    let parts = seam_part
        .filter(|_| consistent)
        .map(|seam| vec![metered_a.part, seam, b.metered.part]);
    let after = measured_or_file(tmp, opts, parts, n, metered_a.facts)?;
    Ok(Encoded {
        bytes: file_bytes,
        limiter_reduction_db: reduction_db.max(b.reduction_db),
        after,
        seam: Some(j),
    })
}

/// LAME's Info frame for what `enc` has encoded so far.
fn lame_tag(enc: &Encoder) -> Vec<u8> {
    // The crate writes into the vector's spare capacity.
    let mut info = Vec::with_capacity(enc.lame_tag_size().max(1024));
    enc.lame_tag_encode_to_vec(&mut info);
    info
}

/// Writes the Info frame back after the ID3v2 tag and fsyncs; returns the file size.
fn close(file: BufWriter<File>, tag_len: u64, info: &[u8], path: &Path) -> Result<u64, AudioError> {
    let werr = write_err(path);
    let mut file = file.into_inner().map_err(|e| werr(e.into_error()))?;
    let size = file.stream_position().map_err(&werr)?;
    if !info.is_empty() {
        file.seek(SeekFrom::Start(tag_len)).map_err(&werr)?;
        file.write_all(info).map_err(&werr)?;
    }
    file.sync_all().map_err(&werr)?;
    Ok(size)
}

/// The report from the meters' `parts` when they cover exactly the `n` programme frames
/// (trimming the last part's padding), else from decoding the finished file.
fn measured_or_file(
    tmp: &Path,
    opts: &RenderOptions,
    parts: Option<Vec<Measured>>,
    n: u64,
    facts: super::analyse::SourceFacts,
) -> Result<super::LoudnessReport, AudioError> {
    if let Some(parts) = parts
        && parts.iter().map(Measured::frames).sum::<u64>() == n
    {
        return Ok(Measured::combine(&parts, facts)?.report);
    }
    tracing::info!(file = %tmp.display(), "measuring the published file after encoding");
    Ok(analyze_file(tmp, opts.rate, false, opts.max_duration_s + 60.0)?.report)
}

#[cfg(test)]
mod tests {
    use super::*;
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
        let spliced = encode_halves(&wav, &two, &opts(), gain, params, trim, plan).unwrap();
        let single = encode_pass(&wav, &one, &opts(), gain, params, trim).unwrap();
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
        let got =
            encode_halves_from(&wav, &shifted, &two, &opts(), gain, params, trim, plan).unwrap();
        assert_eq!(got.seam, None);
        let single = encode_pass(&wav, &one, &opts(), gain, params, trim).unwrap();
        // A went on alone: the very file one encoder writes.
        assert_eq!(std::fs::read(&two).unwrap(), std::fs::read(&one).unwrap());
        assert_eq!(got.after, single.after);
        assert!(!dir.path().join("two.mp3.b.tmp").exists());
    }
}
