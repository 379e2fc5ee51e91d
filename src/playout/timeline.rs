//! The timeline the engine renders: contiguous [`Segment`]s in absolute frames, each saying
//! what plays (a file from an offset, a live input, or silence), its fades and its now-playing facts.
//!
//! Contiguous, except for crossfades: a segment may start before the previous one ends (the
//! incoming track over the outgoing one's fade-out, [`Plan::overlays`]); the renderer mixes
//! the two. Segments are sorted by start and their ends never decrease, and no frame is under
//! more than two segments.
//!
//! Segments are planned whole (never clipped to a planning window), so planning the same
//! programme again from any frame yields identical segments: the engine recognises the one
//! it is playing by [`Segment::key`] and carries on without a glitch.

use std::path::PathBuf;
use std::sync::Arc;

use jiff::Timestamp;

/// What a segment's frames come from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Source {
    /// Frame `start + k` of the segment plays frame `offset + k` of the file.
    File {
        path: PathBuf,
        offset: u64,
    },
    Silence,
    /// The named live input's frames as they arrive ([`super::live`]); silence when it has
    /// none.
    Live {
        input: String,
    },
}

/// Why a segment is on air; decides how silence on it is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// An occurrence's own item (episode, playlist track, file).
    Show,
    /// A live source on air (a `play = "live"` occurrence, or an operator's override).
    Live,
    /// A track of the fallback rotation.
    Fallback,
    /// A station ident between fallback tracks.
    Ident,
    /// Silence the schedule asked for (underrun = silence): never an alarm.
    MeantSilence,
    /// Nothing playable anywhere: the silence detector will (rightly) raise the alarm.
    DeadAir,
}

/// The next occurrence, for now-playing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Next {
    pub show: String,
    pub show_title: String,
    pub starts_at: Timestamp,
}

/// Now-playing facts of a segment (shared by the segments of one item).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Airing {
    /// The show's slug; `None` for the fallback rotation.
    pub show: Option<String>,
    pub show_title: String,
    /// The episode's or track's title.
    pub title: String,
    pub episode_id: Option<String>,
    /// The occurrence id when the item belongs to one.
    pub occurrence: Option<String>,
    /// When the occurrence (or the fallback track) started and ends.
    pub started_at: Timestamp,
    pub ends_at: Timestamp,
    pub next: Option<Next>,
}

/// Frames `[start, end)` of the programme; see the module doc.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub start: u64,
    pub end: u64,
    pub source: Source,
    /// Fade-in length from `start`, frames.
    pub fade_in: u64,
    /// Fade-out length ending at `end`, frames.
    pub fade_out: u64,
    pub kind: Kind,
    pub item: Arc<Airing>,
}

/// What identifies a segment across re-plans.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub start: u64,
    pub end: u64,
    pub source: Source,
    pub fade_in: u64,
    pub fade_out: u64,
}

impl Segment {
    pub fn key(&self) -> Key {
        Key {
            start: self.start,
            end: self.end,
            source: self.source.clone(),
            fade_in: self.fade_in,
            fade_out: self.fade_out,
        }
    }

    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }

    /// Gain of the segment's fades at absolute frame `f` (linear ramps; 1.0 between them).
    pub fn gain(&self, f: u64) -> f32 {
        ramp(f - self.start, self.fade_in) * ramp(self.end - 1 - f, self.fade_out)
    }
}

/// A linear ramp over `len` frames: `k` frames into it (or before its end), never 0 or 1
/// exactly inside, 1.0 after it. Both edges of a cut reach at most `1/(len+1)`.
pub fn ramp(k: u64, len: u64) -> f32 {
    if k >= len {
        1.0
    } else {
        (k + 1) as f32 / (len + 1) as f32
    }
}

/// A planned stretch of the programme: contiguous segments from `start` to `end`.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub segments: Vec<Segment>,
    /// Incremented at every publication (for waiting on a re-plan).
    pub version: u64,
}

impl Plan {
    /// The segment holding frame `f` (during a crossfade, the outgoing one).
    pub fn at(&self, f: u64) -> Option<&Segment> {
        let i = self.segments.partition_point(|s| s.end <= f);
        self.segments.get(i).filter(|s| s.start <= f)
    }

    /// The first frame the plan does not cover after its first segment's start.
    pub fn end(&self) -> u64 {
        self.segments.last().map_or(0, |s| s.end)
    }

    /// The segments that start before the previous one ends (a crossfade's incoming track)
    /// and overlap it within `[from, to)`, each with the frame where that overlap ends (the
    /// outgoing segment's end). [`Plan::at`] answers the outgoing one there.
    pub fn overlays(&self, from: u64, to: u64) -> Vec<(&Segment, u64)> {
        let i = self.segments.partition_point(|s| s.end <= from);
        self.segments[i..]
            .windows(2)
            .take_while(|w| w[0].start < to)
            .filter(|w| w[1].start < w[0].end && w[1].start < to)
            .map(|w| (&w[1], w[0].end))
            .collect()
    }

    /// Whether the plan holds the segment of `key`.
    pub fn holds(&self, key: &Key) -> bool {
        let i = self.segments.partition_point(|s| s.start < key.start);
        self.segments[i..]
            .iter()
            .take_while(|s| s.start == key.start)
            .any(|s| s.key() == *key)
    }

    /// Segments starting in `[from, to)`.
    pub fn starting_in(&self, from: u64, to: u64) -> impl Iterator<Item = &Segment> {
        let i = self.segments.partition_point(|s| s.start < from);
        self.segments[i..].iter().take_while(move |s| s.start < to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(start: u64, end: u64, fade_in: u64, fade_out: u64) -> Segment {
        let t = Timestamp::UNIX_EPOCH;
        Segment {
            start,
            end,
            source: Source::Silence,
            fade_in,
            fade_out,
            kind: Kind::Show,
            item: Arc::new(Airing {
                show: None,
                show_title: String::new(),
                title: String::new(),
                episode_id: None,
                occurrence: None,
                started_at: t,
                ends_at: t,
                next: None,
            }),
        }
    }

    #[test]
    fn fades_reach_unity_and_stay_small_at_edges() {
        let s = seg(100, 200, 4, 10);
        assert_eq!(s.gain(100), 0.2);
        assert_eq!(s.gain(103), 0.8);
        assert_eq!(s.gain(104), 1.0);
        assert_eq!(s.gain(189), 1.0);
        assert_eq!(s.gain(199), 1.0 / 11.0);
    }

    #[test]
    fn plan_lookup() {
        let plan = Plan {
            segments: vec![seg(0, 10, 0, 0), seg(10, 30, 0, 0), seg(30, 31, 0, 0)],
            version: 1,
        };
        assert_eq!(plan.at(9).unwrap().start, 0);
        assert_eq!(plan.at(10).unwrap().start, 10);
        assert_eq!(plan.at(30).unwrap().start, 30);
        assert!(plan.at(31).is_none());
        let starts: Vec<u64> = plan.starting_in(5, 31).map(|s| s.start).collect();
        assert_eq!(starts, [10, 30]);
        assert!(plan.overlays(0, 31).is_empty());
        assert!(plan.holds(&seg(10, 30, 0, 0).key()));
        assert!(!plan.holds(&seg(10, 29, 0, 0).key()));
    }

    #[test]
    fn a_crossfade_is_an_overlay_of_the_outgoing_segment() {
        // 0..100 fades out over its last 20 frames; 80..200 fades in over its first 20.
        let plan = Plan {
            segments: vec![seg(0, 100, 0, 20), seg(80, 200, 20, 0), seg(200, 300, 0, 0)],
            version: 1,
        };
        assert_eq!(plan.at(90).unwrap().start, 0, "the outgoing one");
        let o = plan.overlays(0, 85);
        assert_eq!(o.len(), 1);
        assert_eq!((o[0].0.start, o[0].1), (80, 100));
        assert!(plan.overlays(0, 80).is_empty());
        assert!(plan.overlays(100, 300).is_empty());
        assert_eq!(plan.overlays(99, 100).len(), 1);
        // Complementary ramps: the two gains add up to 1 on every frame of the overlap.
        let (a, b) = (&plan.segments[0], &plan.segments[1]);
        for f in 80..100 {
            assert!((a.gain(f) + b.gain(f) - 1.0).abs() < 1e-6, "frame {f}");
        }
    }
}
