//! Pass 1 of a render: the source decoded once and measured (`analyse`), excerpts kept for the
//! encoder calibration (`calibrate`), and, on a compressed or resampled source, the decoded
//! frames kept in a [`PcmCache`] for the later readers.
//!
//! Decoding is the longest chain of pass 1 on a compressed source (the meters run beside it on
//! worker threads; symphonia's AAC decoder alone takes a third of LAME's time): a programme of
//! [`SPLIT_MIN_S`] or more whose length the container tells is decoded as two parts on two
//! threads. The second reader seeks [`WARM_UP_S`] before the middle and drops those frames (the
//! decoder and the resampler settle on them); the first reads a little past the middle, and
//! the two agree on that overlap or the cache is not used (a reader that seeked inexactly would
//! have put a seam in the programme). The parts' measurements are pooled
//! (`Measured::combine`), their frames written to the cache at their places.

use std::path::Path;

use super::analyse::{Analyser, Analysis, Measured, SourceFacts};
use super::calibrate::Excerpts;
use super::decode::{StationSource, open_station};
use super::pcmcache::{CacheFile, CacheWriter, PcmCache};
use super::render::CHUNK;
use super::{AudioError, PcmSource};

/// Shorter programmes are decoded on one thread.
pub const SPLIT_MIN_S: f64 = 120.0;
/// Frames the second reader decodes and drops before the middle.
const WARM_UP_S: f64 = 2.0;
/// Frames past the middle the first reader decodes to compare with the second's.
const OVERLAP: u64 = 4096;
/// Frames before the second part that fill its true-peak meter's history.
const PREROLL: usize = 64;
/// Largest sample difference over the overlap accepted as the same audio (-80 dBFS).
const TOLERANCE: f32 = 1e-4;

/// Which frames of a reader's output one part measures.
#[derive(Debug, Clone, Copy)]
pub(super) struct Span {
    /// Frames dropped first (the second part's warm-up).
    pub(super) skip: u64,
    /// Frames measured after them, at most (`u64::MAX`: to the end).
    pub(super) take: u64,
    /// Frames after those kept aside, unmeasured (the first part's overlap).
    pub(super) overlap: u64,
    /// Programme frame of the first measured frame.
    pub(super) at: u64,
}

impl Span {
    pub(super) const WHOLE: Span = Span {
        skip: 0,
        take: u64::MAX,
        overlap: 0,
        at: 0,
    };
}

/// What one part of pass 1 saw.
pub(super) struct Part {
    pub(super) measured: Measured,
    pub(super) excerpts: Option<Excerpts>,
    /// Frames past the measured ones (the overlap of the first part); the first frames measured
    /// (the overlap of the second part).
    pub(super) after: Vec<f32>,
    pub(super) head: Vec<f32>,
    /// The frame after the last one cached, when all of them were.
    pub(super) cached: Option<u64>,
    pub(super) channels: usize,
}

/// Decodes and measures `span` of `src`.
pub(super) fn measure_part(
    mut src: StationSource,
    path: &Path,
    rate: u32,
    span: Span,
    mut excerpts: Option<Excerpts>,
    max_duration_s: f64,
    mut cache: Option<CacheWriter>,
) -> Result<Part, AudioError> {
    let max_frames = (max_duration_s * rate as f64) as u64;
    let mut buf = Vec::with_capacity(CHUNK * 2);
    // The warm-up: its last frames become the true-peak meter's history; what follows it in
    // the last chunk read is the first chunk measured.
    let (mut skip, mut before) = (span.skip, Vec::new());
    while skip > 0 {
        buf.clear();
        if src.read(&mut buf, CHUNK)? == 0 {
            break;
        }
        let drop = skip.min(buf.len() as u64 / 2) as usize;
        skip -= drop as u64;
        before.extend_from_slice(&buf[..drop * 2]);
        before.drain(..before.len().saturating_sub(PREROLL * 2));
        buf.drain(..drop * 2);
    }
    let mut analyser = Analyser::after(rate, &before)?;
    let (mut after, mut head) = (Vec::new(), Vec::new());
    let want_head = if span.at > 0 { OVERLAP } else { 0 };
    loop {
        if buf.is_empty() && src.read(&mut buf, CHUNK)? == 0 {
            break;
        }
        let mut frames = &buf[..];
        let room = span.take - analyser.frames();
        if frames.len() as u64 / 2 > room {
            let (now, later) = frames.split_at(room as usize * 2);
            let more = (span.overlap as usize * 2).saturating_sub(after.len());
            after.extend_from_slice(&later[..more.min(later.len())]);
            frames = now;
        }
        if !frames.is_empty() {
            let more = (want_head as usize * 2).saturating_sub(head.len());
            head.extend_from_slice(&frames[..more.min(frames.len())]);
            analyser.add(frames)?;
            if let Some(c) = cache.as_mut() {
                c.add(frames);
            }
            if let Some(e) = excerpts.as_mut() {
                e.add_chunk(frames);
            }
        }
        buf.clear();
        if span.at + analyser.frames() > max_frames {
            return Err(AudioError::Rejected {
                path: path.to_path_buf(),
                reason: format!("longer than the {:.0} h limit", max_duration_s / 3600.0),
            });
        }
        if analyser.frames() == span.take && after.len() as u64 >= span.overlap * 2 {
            break;
        }
    }
    Ok(Part {
        measured: analyser.finish_part()?,
        excerpts,
        after,
        head,
        cached: cache.and_then(CacheWriter::finish),
        channels: src.info().channels,
    })
}

/// Pass 1 of a render: the analysis with excerpts, and the decoded frames kept in a
/// [`PcmCache`] in `cache_dir` when decoding is what a second read would cost (a compressed or
/// resampled source; not a PCM file at the station rate).
pub(super) fn analyze_for_render(
    path: &Path,
    rate: u32,
    max_duration_s: f64,
    cache_dir: &Path,
) -> Result<(Analysis, Option<PcmCache>), AudioError> {
    let src = open_station(path, rate)?;
    let info = src.info().clone();
    let facts = SourceFacts {
        sample_rate: info.sample_rate,
        channels: info.channels,
        codec: info.codec.clone(),
    };
    let plain = info.codec.starts_with("pcm") && info.sample_rate == rate;
    let file = (!plain)
        .then(|| CacheFile::create(cache_dir, rate, src.len_frames()))
        .flatten();
    let total_chunks = src.len_frames().map(|n| n.div_ceil(CHUNK as u64));
    let grain = src.seek_grain().max(1);
    let warm = (WARM_UP_S * rate as f64) as u64;
    // The middle, on a chunk (the excerpts' index) and the seek grain.
    let mid = src
        .len_frames()
        .filter(|&n| !plain && n as f64 >= SPLIT_MIN_S * rate as f64)
        .map(|n| n / 2 / CHUNK as u64 * CHUNK as u64);
    let whole = |src: StationSource, file: Option<&CacheFile>| {
        measure_part(
            src,
            path,
            rate,
            Span::WHOLE,
            Some(Excerpts::new(total_chunks)),
            max_duration_s,
            file.map(|f| f.writer(0)),
        )
    };
    let Some(mid) = mid else {
        let part = whole(src, file.as_ref())?;
        return finish(vec![part], facts, file);
    };
    let from = mid.saturating_sub(warm) / grain * grain;
    let second = || -> Result<Part, AudioError> {
        let mut src = open_station(path, rate)?;
        src.seek(from)?;
        let span = Span {
            skip: mid - from,
            take: u64::MAX,
            overlap: 0,
            at: mid,
        };
        let excerpts = Excerpts::starting_at(total_chunks, mid / CHUNK as u64);
        measure_part(
            src,
            path,
            rate,
            span,
            Some(excerpts),
            max_duration_s,
            file.as_ref().map(|f| f.writer(mid)),
        )
    };
    let first_span = Span {
        skip: 0,
        take: mid,
        overlap: OVERLAP,
        at: 0,
    };
    let (a, b) = std::thread::scope(|s| {
        let b = std::thread::Builder::new()
            .name("pass1-b".into())
            .spawn_scoped(s, second);
        let a = measure_part(
            src,
            path,
            rate,
            first_span,
            Some(Excerpts::new(total_chunks)),
            max_duration_s,
            file.as_ref().map(|f| f.writer(0)),
        );
        let b = match b {
            Ok(h) => h.join().unwrap_or_else(|panic| {
                Err(AudioError::Decode {
                    path: path.to_path_buf(),
                    reason: super::render::crashed(panic.as_ref()),
                })
            }),
            Err(e) => Err(AudioError::Stage(format!(
                "cannot start pass 1's reader: {e}"
            ))),
        };
        (a, b)
    });
    let a = a?;
    let b = match b {
        Ok(b) => b,
        // Too long is too long; anything else (a seek past the end of a file shorter than its
        // header says, a bad packet after the middle) is for the one-thread pass to meet.
        Err(e @ AudioError::Rejected { .. }) => return Err(e),
        Err(e) => {
            tracing::debug!(file = %path.display(), error = %e, "pass 1 on one thread");
            return finish(vec![whole(open_station(path, rate)?, None)?], facts, None);
        }
    };
    let agree = a.measured.frames() == mid
        && a.after.len() == b.head.len()
        && a.after
            .iter()
            .zip(&b.head)
            .all(|(x, y)| (x - y).abs() <= TOLERANCE);
    if !agree {
        // The second reader is not on the first one's timeline: measure in one pass.
        tracing::info!(file = %path.display(), "pass 1's readers disagree; decoding on one thread");
        return finish(vec![whole(open_station(path, rate)?, None)?], facts, None);
    }
    finish(vec![a, b], facts, file)
}

/// Pools the parts' measurements; the cache is used when it holds every frame measured.
fn finish(
    parts: Vec<Part>,
    facts: SourceFacts,
    file: Option<CacheFile>,
) -> Result<(Analysis, Option<PcmCache>), AudioError> {
    let facts = SourceFacts {
        channels: parts
            .iter()
            .map(|p| p.channels)
            .fold(facts.channels, usize::max),
        ..facts
    };
    let mut excerpts: Option<Excerpts> = None;
    let mut measured = Vec::with_capacity(parts.len());
    let mut cached = true;
    let mut end = 0;
    for p in parts {
        end += p.measured.frames();
        cached &= p.cached == Some(end);
        match (excerpts.as_mut(), p.excerpts) {
            (Some(all), Some(e)) => all.append(e),
            (None, e) => excerpts = e,
            _ => {}
        }
        measured.push(p.measured);
    }
    let mut analysis = Measured::combine(&measured, facts)?;
    analysis.excerpts = excerpts;
    let cache = file
        .filter(|_| cached)
        .map(|f| f.finish(analysis.report.duration_frames));
    Ok((analysis, cache))
}
