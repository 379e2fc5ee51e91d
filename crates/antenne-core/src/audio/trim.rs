//! Trimming of leading and trailing digital silence, keeping a configurable margin, as a
//! frame range over the stream (integer sample time) and a streaming cutter; and
//! [`audible_range`], which finds the silence at both ends of a source by reading only its
//! ends (playout trims fallback and playlist tracks before crossfading them).

use super::{AudioError, CHANNELS, PcmSource};

/// The frames `[start, end)` of a stream that are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrimRange {
    pub start: u64,
    pub end: u64,
}

impl TrimRange {
    /// Keeps at most `keep` frames of the `leading`/`trailing` silence of a `total`-frame stream.
    pub fn new(total: u64, leading: u64, trailing: u64, keep: u64) -> TrimRange {
        if leading >= total {
            return TrimRange { start: 0, end: 0 };
        }
        let start = leading.saturating_sub(keep);
        let end = total - trailing.saturating_sub(keep);
        TrimRange {
            start,
            end: end.max(start),
        }
    }

    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

/// Streaming cutter: passes through only frames inside the range.
pub struct Trimmer {
    range: TrimRange,
    pos: u64,
}

impl Trimmer {
    pub fn new(range: TrimRange) -> Trimmer {
        Trimmer { range, pos: 0 }
    }

    /// True once the stream has passed the end of the range: nothing more will be kept.
    pub fn done(&self) -> bool {
        self.pos >= self.range.end
    }

    /// Appends the part of `frames` (interleaved stereo, following the previous call) that lies
    /// inside the range.
    pub fn process(&mut self, frames: &[f32], out: &mut Vec<f32>) {
        let n = (frames.len() / 2) as u64;
        let from = self.range.start.clamp(self.pos, self.pos + n) - self.pos;
        let to = self.range.end.clamp(self.pos, self.pos + n) - self.pos;
        out.extend_from_slice(&frames[from as usize * 2..to as usize * 2]);
        self.pos += n;
    }
}

/// Frames read at most from each end of a source by [`audible_range`]: silence longer than
/// this is the item's own business (a hidden track), not a gap between items.
pub const EDGE_SCAN_SECONDS: u64 = 10;

/// The frames `[start, end)` of a `total`-frame source between its first and last frame with a
/// sample at or above `threshold_dbfs`, looking at most `max_scan` frames into each end (head
/// from the start, tail after one seek). A source silent all through its scanned head keeps
/// `max_scan` of it trimmed; an all-silent short source gives an empty range.
pub fn audible_range(
    src: &mut dyn PcmSource,
    total: u64,
    threshold_dbfs: f64,
    max_scan: u64,
) -> Result<TrimRange, AudioError> {
    let threshold = 10f64.powf(threshold_dbfs / 20.0) as f32;
    let loud = |frame: &[f32]| frame.iter().any(|s| s.abs() >= threshold);
    let mut buf = Vec::new();
    // Head: the first loud frame.
    let head_limit = max_scan.min(total);
    let mut pos = 0u64;
    let mut start = None;
    while pos < head_limit && start.is_none() {
        buf.clear();
        let want = (head_limit - pos).min(16_384) as usize;
        let n = src.read(&mut buf, want)?;
        if n == 0 {
            break;
        }
        start = buf
            .chunks_exact(CHANNELS)
            .position(loud)
            .map(|i| pos + i as u64);
        pos += n as u64;
    }
    let start = start.unwrap_or(head_limit);
    if start >= total {
        return Ok(TrimRange { start: 0, end: 0 });
    }
    // Tail: backwards from the end, a tenth of the scan at a time (one seek each), so a track
    // that is loud to its last second costs one short read.
    let floor = total.saturating_sub(max_scan).max(start);
    let step = (max_scan / 10).max(1);
    let mut hi = total;
    while hi > floor {
        let lo = hi.saturating_sub(step).max(floor);
        if lo != pos {
            src.seek(lo)?;
        }
        pos = lo;
        let mut last = None;
        while pos < hi {
            buf.clear();
            let want = (hi - pos).min(16_384) as usize;
            let n = src.read(&mut buf, want)?;
            if n == 0 {
                break;
            }
            if let Some(i) = buf[..2 * n].chunks_exact(CHANNELS).rposition(loud) {
                last = Some(pos + i as u64);
            }
            pos += n as u64;
        }
        if let Some(l) = last {
            return Ok(TrimRange { start, end: l + 1 });
        }
        hi = lo;
    }
    // Nothing loud in the scanned tail: the sound ends before it.
    Ok(TrimRange {
        start,
        end: floor.max(start + 1).min(total),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Interleaved stereo frames from a list of left-channel values.
    struct Frames(Vec<f32>, usize);

    impl PcmSource for Frames {
        fn read(&mut self, out: &mut Vec<f32>, max: usize) -> Result<usize, AudioError> {
            let n = max.min(self.0.len() - self.1).min(1000);
            for v in &self.0[self.1..self.1 + n] {
                out.extend([*v, 0.0]);
            }
            self.1 += n;
            Ok(n)
        }
        fn seek(&mut self, frame: u64) -> Result<(), AudioError> {
            self.1 = frame as usize;
            Ok(())
        }
        fn len_frames(&self) -> Option<u64> {
            Some(self.0.len() as u64)
        }
    }

    #[test]
    fn audible_range_skips_quiet_ends_within_the_scan() {
        // 500 silent, 3000 loud, 100 at -60 dBFS, 400 silent.
        let mut v = vec![0.0; 500];
        v.extend(vec![0.5; 3000]);
        v.extend(vec![0.001; 100]);
        v.extend(vec![0.0; 400]);
        let total = v.len() as u64;
        let r = audible_range(&mut Frames(v.clone(), 0), total, -50.0, 2000).unwrap();
        assert_eq!((r.start, r.end), (500, 3500));
        // A scan shorter than the silence trims what it saw only.
        let r = audible_range(&mut Frames(v.clone(), 0), total, -50.0, 200).unwrap();
        assert_eq!((r.start, r.end), (200, 3800));
        // Nothing loud at all.
        let r = audible_range(&mut Frames(vec![0.0; 300], 0), 300, -50.0, 2000).unwrap();
        assert!(r.is_empty());
        // Loud from the first frame to the last.
        let r = audible_range(&mut Frames(vec![0.5; 300], 0), 300, -50.0, 2000).unwrap();
        assert_eq!((r.start, r.end), (0, 300));
    }

    fn check(total: u64, leading: u64, trailing: u64, keep: u64, expected: (u64, u64)) {
        let r = TrimRange::new(total, leading, trailing, keep);
        assert_eq!((r.start, r.end), expected);
        let input: Vec<f32> = (0..total * 2).map(|i| i as f32).collect();
        let mut t = Trimmer::new(r);
        let mut out = Vec::new();
        for c in input.chunks(14) {
            t.process(c, &mut out);
        }
        assert_eq!(out, input[r.start as usize * 2..r.end as usize * 2]);
    }

    #[test]
    fn ranges() {
        check(100, 0, 0, 5, (0, 100));
        check(100, 20, 30, 5, (15, 75));
        check(100, 3, 2, 5, (0, 100));
        check(100, 100, 100, 5, (0, 0));
    }
}
