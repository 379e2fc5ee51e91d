//! Encoder B: the programme from the plan's start to the end, into a temp file of its own,
//! telling encoder A about its frames around the search range as soon as it has them.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;

use mp3lame_encoder::FlushGap;

use super::{Candidates, DELAY, FS, HalfB, Job, capture, lame_err, write_err};
use crate::audio::AudioError;
use crate::audio::encode::{build, encode_into};
use crate::audio::mp3frame::{FrameCutter, FrameLayout};
use crate::audio::normalise::Producer;
use crate::audio::verify::{StreamMeter, Windows};

/// Encoder B's output as it goes.
pub(super) struct OutB {
    pub(super) file: BufWriter<File>,
    pub(super) path: PathBuf,
    pub(super) meter: StreamMeter,
    pub(super) cutter: FrameCutter,
    pub(super) offsets: Vec<u64>,
    pub(super) bytes: u64,
    pub(super) kept: Range<u64>,
    pub(super) frames: Vec<(FrameLayout, Vec<u8>)>,
    pub(super) check: Vec<f32>,
    pub(super) report: Option<SyncSender<Candidates>>,
}

impl OutB {
    pub(super) fn take(&mut self, out: &[u8]) -> Result<(), AudioError> {
        self.file.write_all(out).map_err(write_err(&self.path))?;
        self.meter.push(out);
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
pub(super) fn run_b(
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
