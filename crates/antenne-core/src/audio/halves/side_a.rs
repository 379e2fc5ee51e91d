//! Encoder A: the episode file from the start, each frame checked, from the search range on,
//! for whether B's stream can take over there.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;

use mp3lame_encoder::{Encoder, FlushGap};

use super::{Candidates, DELAY, FS, HOLD, Job, Plan, capture, lame_err, same_audio, write_err};
use crate::audio::AudioError;
use crate::audio::encode::{build, create_with_tag, encode_into};
use crate::audio::lametag::crc16;
use crate::audio::mp3frame::{FrameCutter, FrameLayout};
use crate::audio::normalise::Producer;
use crate::audio::render::RenderOptions;
use crate::audio::verify::{StreamMeter, Windows};

/// Encoder A's output: the episode file up to the splice (or to the end).
pub(super) struct HalfA {
    pub(super) file: BufWriter<File>,
    pub(super) path: PathBuf,
    pub(super) tag_len: u64,
    pub(super) enc: Encoder,
    pub(super) meter: StreamMeter,
    /// Batch of accepted frames for the meter.
    pub(super) metered: Vec<u8>,
    /// Stream bytes accepted (tag frame included).
    pub(super) stream_bytes: u64,
    /// Stream offset of each accepted audio frame.
    pub(super) offsets: Vec<u64>,
    pub(super) music_crc: u16,
    /// Accepted audio frames not yet written.
    pub(super) held: VecDeque<(FrameLayout, Vec<u8>)>,
    /// Main-data bytes of the accepted frames' areas, and where the last one's data ends.
    pub(super) areas: u64,
    pub(super) data_end: u64,
    /// Block types of the last accepted frame's second granule.
    pub(super) last_blocks: [u8; 2],
    pub(super) tag_frame_seen: bool,
}

impl HalfA {
    /// Creates the episode file for a programme of `n` frames and writes its ID3v2 tag.
    pub(super) fn create(path: &Path, opts: &RenderOptions, n: u64) -> Result<HalfA, AudioError> {
        let (file, tag_len) = create_with_tag(path, &opts.tags)?;
        let lead = FS + DELAY;
        Ok(HalfA {
            file,
            path: path.to_path_buf(),
            tag_len,
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

    pub(super) fn write(&mut self, bytes: &[u8]) -> Result<(), AudioError> {
        self.file.write_all(bytes).map_err(write_err(&self.path))
    }

    /// Takes the next frame of A's stream (the Info placeholder first).
    pub(super) fn accept(
        &mut self,
        frame: &[u8],
        layout: Option<FrameLayout>,
    ) -> Result<(), AudioError> {
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

    pub(super) fn write_held(&mut self) -> Result<(), AudioError> {
        if let Some((_, frame)) = self.held.pop_front() {
            self.music_crc = crc16(self.music_crc, &frame);
            self.write(&frame)?;
        }
        Ok(())
    }

    /// Whether B's frame `b` (and all after it) can follow A's accepted frames.
    pub(super) fn can_splice(&self, cands: &Candidates, kept_from: u64, b: u64) -> bool {
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
    pub(super) fn splice_reservoir(&mut self, cands: &Candidates, k: usize) {
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

    pub(super) fn meter_written(&mut self) {
        self.meter.push(&self.metered);
        self.metered.clear();
    }
}

/// A's work: where it spliced (`None`: it encoded everything).
pub(super) struct EndOfA {
    pub(super) half: HalfA,
    pub(super) splice: Option<(u64, Candidates)>,
    pub(super) reduction_db: f64,
}

/// What A knows of B while it looks for the splice point.
pub(super) struct Search<'a> {
    pub(super) plan: Plan,
    pub(super) rx: Receiver<Candidates>,
    pub(super) stop: &'a AtomicBool,
    /// A's PCM over the check window.
    pub(super) check: Vec<f32>,
    pub(super) cands: Option<Candidates>,
    pub(super) b_usable: bool,
    pub(super) splice: Option<u64>,
}

impl Search<'_> {
    /// Whether A should end before audio frame `a` and let B's stream go on from there.
    pub(super) fn splice_before(&mut self, half: &HalfA, a: u64) -> bool {
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
pub(super) fn take_a(
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
    half.meter_written();
    err.map_or(Ok(()), Err)
}

pub(super) fn run_a(
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
