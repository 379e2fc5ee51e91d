//! Trimming of leading and trailing digital silence, keeping a configurable margin, as a
//! frame range over the stream (integer sample time) and a streaming cutter.

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

#[cfg(test)]
mod tests {
    use super::*;

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
