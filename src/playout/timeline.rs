//! The timeline the engine renders: contiguous [`Segment`]s in absolute frames, each saying
//! what plays (a file from an offset, a live input, or silence), its fades and its now-playing facts.
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
    /// The segment holding frame `f`.
    pub fn at(&self, f: u64) -> Option<&Segment> {
        let i = self.segments.partition_point(|s| s.end <= f);
        self.segments.get(i).filter(|s| s.start <= f)
    }

    /// The first frame the plan does not cover after its first segment's start.
    pub fn end(&self) -> u64 {
        self.segments.last().map_or(0, |s| s.end)
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
    }
}
