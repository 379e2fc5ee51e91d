//! The end of a two-encoder render: B's frames appended after the seam, the Info frame rebuilt
//! for the whole stream, the file fsynced, and the meters' parts pooled into its report.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use super::side_a::EndOfA;
use super::{FS, HalfB, Job, write_err};
use crate::audio::analyse::{Analyser, Measured, SourceFacts};
use crate::audio::encode::{close_with_info, lame_tag};
use crate::audio::lametag::{StreamFacts, crc16, parse_info, rebuild_info, seek_table};
use crate::audio::render::{Encoded, RenderOptions, analyze_file};
use crate::audio::verify::LAME_DELAY;
use crate::audio::{AudioError, LoudnessReport};

/// Writes the rest of the file (B's frames after the splice, then the Info frame), fsyncs it,
/// and pools the meters' parts into its report.
pub(super) fn finish(
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
        let bytes = close_with_info(half.file, half.tag_len, &info, tmp)?;
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
    let file_bytes = close_with_info(half.file, half.tag_len, &info, tmp)?;
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

/// The report from the meters' `parts` when they cover exactly the `n` programme frames
/// (trimming the last part's padding), else from decoding the finished file.
pub(super) fn measured_or_file(
    tmp: &Path,
    opts: &RenderOptions,
    parts: Option<Vec<Measured>>,
    n: u64,
    facts: SourceFacts,
) -> Result<LoudnessReport, AudioError> {
    if let Some(parts) = parts
        && parts.iter().map(Measured::frames).sum::<u64>() == n
    {
        return Ok(Measured::combine(&parts, facts)?.report);
    }
    tracing::info!(file = %tmp.display(), "measuring the published file after encoding");
    Ok(analyze_file(tmp, opts.rate, false, opts.max_duration_s + 60.0)?.report)
}
