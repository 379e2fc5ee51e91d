//! The programme: schedule occurrences + catalog choices → the [`Segment`]s of an interval.
//!
//! Pure apart from its two narrow inputs, [`Media`] (file lengths, folder listings) and
//! [`Episodes`] (catalog choices). Every occurrence is laid out from its own start whatever
//! the planning window, so a daemon started at 18:20 joins the 18:00 show 20 minutes in, and
//! re-planning from any frame yields the same segments.
//!
//! - An occurrence's items play back to back from its start (a playlist's tracks overlap by
//!   its crossfade, [`super::sequence`]). An item running past the end
//!   follows `overrun`: `fade` (a fade-out ending at the slot end) or `cut` (an edge fade).
//!   When the items end early, `underrun` decides: the fallback chain fills the rest, or
//!   meant silence. With nothing to play at all, the fallback chain fills the whole slot.
//! - Every gap between occurrences is filled by the fallback chain from the gap's start:
//!   ident, track, ident, track... (idents from the ident folder, tracks from the fallback
//!   folder in name order from a rotating start, or shuffled, seeded by the gap's start).
//!   Only when neither folder has a playable file does the gap become dead air. With
//!   `[station] ident_every`, the chain is tracks only, crossfaded, and idents air at the
//!   schedule's marks; with `ident_at_show_start`, an ident ends on the next show's first
//!   frame ([`super::sequence`] lays all of this out).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use super::clock::Timebase;
use super::live::LiveInputs;
use super::media::{Media, shuffle, stable_hash};
use super::picks::{Chosen, Episodes};
use super::sequence::{Cue, Cues, Owner, Stretch, cue, stem};
use super::timeline::{Airing, Kind, Next, Segment, Source};
use crate::schedule::{Occurrence, Overrun, Play, Schedule, Underrun};

/// Fade lengths, in frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fades {
    /// At every edge, against clicks (≈ 10-20 ms).
    pub edge: u64,
    /// The `overrun = "fade"` fade-out, also used when a fallback track gives way to a show.
    pub overrun: u64,
}

/// How far back the planner looks for the end of the previous occurrence, which anchors the
/// fallback chain of the gap it opens.
const LOOKBACK: SignedDuration = SignedDuration::from_hours(48);

/// How far ahead it looks for the occurrence closing a gap.
const LOOKAHEAD: SignedDuration = SignedDuration::from_hours(48);

/// Plans the programme; see the module doc.
pub struct Programme<'a> {
    pub schedule: &'a Schedule,
    pub timebase: Timebase,
    pub media_dir: &'a Path,
    pub media: &'a mut dyn Media,
    pub episodes: &'a dyn Episodes,
    pub fades: Fades,
    /// Live inputs: a `play = "live"` slot airs [`LIVE_INPUT`] while a source is connected.
    pub live: &'a LiveInputs,
}

/// The input a `play = "live"` slot airs.
pub const LIVE_INPUT: &str = "live";

impl Programme<'_> {
    /// The segments intersecting frames `[from, to)`, contiguous, whole (the first may start
    /// before `from`, the last end after `to`).
    pub fn plan(&mut self, from: u64, to: u64) -> Vec<Segment> {
        let tb = self.timebase;
        let t_from = tb.instant(from);
        let t_to = tb.instant(to);
        let occs = self
            .schedule
            .occurrences(sub(t_from, LOOKBACK), add(t_to, LOOKAHEAD));
        // The gap anchor: the end of the last occurrence before `from`, or midnight UTC of
        // `from`'s day when none is that recent (a deterministic choice either way).
        let before = occs.iter().rev().find(|o| tb.frame_at(o.end) <= from);
        let mut cursor = match before {
            Some(o) => tb.frame_at(o.end),
            None => {
                let day = 86_400 * u64::from(tb.rate());
                from / day * day
            }
        };
        let mut out = Vec::new();
        let window = (from, to);
        let anchor = cursor;
        let mut upcoming = occs
            .iter()
            .filter(|o| tb.frame_at(o.end) > anchor)
            .peekable();
        while cursor < to {
            let Some(occ) = upcoming.next() else {
                // No occurrence in sight: the chain runs to the end of the look-ahead.
                let end = tb.frame_at(add(t_to, LOOKAHEAD)).max(to);
                self.fallback(cursor, (end, false), false, None, window, &mut out);
                break;
            };
            let (s, e) = (tb.frame_at(occ.start), tb.frame_at(occ.end));
            if s > cursor {
                let next = Some(next_of(self.schedule, occ));
                self.fallback(cursor, (s, true), false, next, window, &mut out);
            }
            let next = upcoming.peek().map(|o| next_of(self.schedule, o));
            let show_at_end = upcoming.peek().is_some_and(|o| tb.frame_at(o.start) == e);
            self.occurrence(occ, s.max(cursor), e, next, show_at_end, window, &mut out);
            cursor = e.max(cursor);
        }
        out.retain(|s| s.end > from && s.start < to);
        if let Some(t) = self.live.get(LIVE_INPUT).and_then(|l| l.takeover()) {
            self.take_over(t, from, to, &mut out);
        }
        out
    }

    /// An operator's override: a live segment over `[since, until)` (12 hours when open-ended:
    /// the source's disconnection re-plans), whatever was planned there cut around it.
    fn take_over(&self, t: super::live::Takeover, from: u64, to: u64, out: &mut Vec<Segment>) {
        let tb = self.timebase;
        let s = tb.frame_at(t.since);
        let e = match t.until {
            Some(u) => tb.frame_at(u),
            None => s + tb.frames_in(std::time::Duration::from_secs(12 * 3600)),
        };
        if e <= from || s >= to || e <= s {
            return;
        }
        let edge = self.fades.edge;
        let mut kept = Vec::with_capacity(out.len() + 2);
        for seg in out.drain(..) {
            if seg.end <= s || seg.start >= e {
                kept.push(seg);
                continue;
            }
            if seg.start < s {
                kept.push(Segment {
                    end: s,
                    fade_out: edge.min(s - seg.start),
                    ..seg.clone()
                });
            }
            if seg.end > e {
                let source = match &seg.source {
                    Source::File { path, offset } => Source::File {
                        path: path.clone(),
                        offset: offset + (e - seg.start),
                    },
                    other => other.clone(),
                };
                kept.push(Segment {
                    start: e,
                    source,
                    fade_in: edge.min(seg.end - e),
                    ..seg
                });
            }
        }
        kept.push(Segment {
            start: s,
            end: e,
            source: Source::Live {
                input: LIVE_INPUT.to_owned(),
            },
            fade_in: edge,
            fade_out: edge,
            kind: Kind::Live,
            item: Arc::new(Airing {
                show: None,
                show_title: self.schedule.station().name.clone(),
                title: "Direct spécial".to_owned(),
                episode_id: None,
                occurrence: None,
                started_at: t.since,
                ends_at: t.until.unwrap_or(tb.instant(e)),
                next: None,
            }),
        });
        kept.sort_by_key(|seg| seg.start);
        *out = kept;
    }

    /// Lays out `occ` over `[s, e)` (`s` is its start unless a previous occurrence overran);
    /// `show_at_end`: another occurrence starts at `e`.
    #[allow(clippy::too_many_arguments)]
    fn occurrence(
        &mut self,
        occ: &Occurrence,
        s: u64,
        e: u64,
        next: Option<Next>,
        show_at_end: bool,
        window: (u64, u64),
        out: &mut Vec<Segment>,
    ) {
        let show_title = self
            .schedule
            .show(&occ.show)
            .map_or_else(|| occ.show.clone(), |s| s.title.clone());
        if occ.play == Play::Live && self.live.is_connected(LIVE_INPUT) {
            // One segment for the whole slot: re-plans while the source stays connected
            // yield the same segment, so the renderer carries on reading it.
            out.push(Segment {
                start: s,
                end: e,
                source: Source::Live {
                    input: LIVE_INPUT.to_owned(),
                },
                fade_in: self.fades.edge.min(e - s),
                // A live show running over its slot ends as any item does: cut or faded.
                fade_out: match occ.overrun {
                    Overrun::Fade => self.fades.overrun,
                    Overrun::Cut => self.fades.edge,
                }
                .min(e - s),
                kind: Kind::Live,
                item: Arc::new(Airing {
                    show: Some(occ.show.clone()),
                    show_title,
                    title: "En direct".to_owned(),
                    episode_id: None,
                    occurrence: Some(occ.id.clone()),
                    started_at: occ.start,
                    ends_at: occ.end,
                    next,
                }),
            });
            return;
        }
        let entries = self.entries(occ);
        if entries.is_empty() {
            tracing::debug!(occurrence = %occ.id, "playout: nothing to play; the fallback fills the slot");
            let opens = s == self.timebase.frame_at(occ.start);
            self.fallback(s, (e, show_at_end), opens, next, window, out);
            return;
        }
        // A playlist is airtime between shows: crossfades, idents. An episode or a file is not.
        let st = match &occ.play {
            Play::Playlist { crossfade, .. } => Stretch {
                start: s,
                end: e,
                crossfade: self.timebase.frames_in(crossfade.unsigned_abs()),
                marks: true,
                show_at_end,
                opens_show: s == self.timebase.frame_at(occ.start),
            },
            _ => Stretch {
                start: s,
                end: e,
                crossfade: 0,
                marks: false,
                show_at_end: false,
                opens_show: false,
            },
        };
        let closing = self.closing_ident(&st);
        let fill_end = e - closing.as_ref().map_or(0, |c| c.len);
        let owner = Owner::Occurrence {
            occ,
            show_title: show_title.clone(),
            next: next.clone(),
        };
        let p = self.lay(
            &st,
            fill_end,
            &mut Cues::List(entries.into_iter()),
            &owner,
            window,
            out,
        );
        if p < fill_end {
            match occ.underrun {
                // The chain lays out its own closing ident (the same one).
                Underrun::Fallback => {
                    return self.fallback(p, (e, show_at_end), false, next, window, out);
                }
                Underrun::Silence => out.push(Segment {
                    start: p,
                    end: fill_end,
                    source: Source::Silence,
                    fade_in: 0,
                    fade_out: 0,
                    kind: Kind::MeantSilence,
                    item: Arc::new(Airing {
                        show: Some(occ.show.clone()),
                        show_title,
                        title: String::new(),
                        episode_id: None,
                        occurrence: Some(occ.id.clone()),
                        started_at: occ.start,
                        ends_at: occ.end,
                        next: next.clone(),
                    }),
                }),
            }
        }
        if let Some(ident) = closing {
            self.close(&ident, e, &owner, window, out);
        }
    }

    /// The playable items of an occurrence, in order; unplayable ones are skipped (logged by
    /// [`Media`]). Playlist tracks are trimmed of their silent ends.
    fn entries(&mut self, occ: &Occurrence) -> Vec<Cue> {
        let (files, trim): (Vec<(PathBuf, Option<Chosen>)>, bool) = match &occ.play {
            Play::Premiere | Play::Latest | Play::Rerun => match self.episodes.choose(occ) {
                Some(c) => (vec![(c.path.clone(), Some(c))], false),
                None => (Vec::new(), false),
            },
            Play::Playlist {
                folder,
                shuffle: mix,
                ..
            } => {
                let mut files = self.media.list(&self.media_dir.join(folder));
                if *mix {
                    shuffle(&mut files, stable_hash(&occ.id));
                }
                (files.into_iter().map(|p| (p, None)).collect(), true)
            }
            Play::File(path) => (vec![(self.media_dir.join(path), None)], false),
            Play::Live => {
                tracing::debug!(occurrence = %occ.id, "playout: no live source connected; the slot's underrun plays");
                (Vec::new(), false)
            }
        };
        files
            .into_iter()
            .filter_map(|(path, episode)| {
                if trim {
                    return cue(self.media, &path, Kind::Show);
                }
                let len = self.media.length(&path)?;
                let (episode_id, title) = match episode {
                    Some(c) => (Some(c.id), c.title),
                    None => (None, stem(&path)),
                };
                Some(Cue {
                    path,
                    offset: 0,
                    len,
                    kind: Kind::Show,
                    title,
                    episode_id,
                })
            })
            .collect()
    }

    /// Fills `[s, e)` with the fallback chain anchored at `s`. `show_at_end`: an occurrence
    /// starts at `e`; `opens_show`: the chain stands in for a show starting at `s`.
    fn fallback(
        &mut self,
        s: u64,
        (e, show_at_end): (u64, bool),
        opens_show: bool,
        next: Option<Next>,
        window: (u64, u64),
        out: &mut Vec<Segment>,
    ) {
        let fb = self.schedule.fallback().clone();
        let seed = s / u64::from(self.timebase.rate());
        let mut tracks = self.media.list(&self.media_dir.join(&fb.playlist));
        let idents = self.media.list(&self.media_dir.join(&fb.ident));
        if fb.shuffle {
            shuffle(&mut tracks, stable_hash(&format!("fallback/{seed}")));
        } else if !tracks.is_empty() {
            let start = (stable_hash(&format!("fallback/{seed}")) % tracks.len() as u64) as usize;
            tracks.rotate_left(start);
        }
        let st = Stretch {
            start: s,
            end: e,
            crossfade: self.timebase.frames_in(fb.crossfade.unsigned_abs()),
            marks: true,
            show_at_end,
            opens_show,
        };
        // Without `ident_every`, an ident before every track, as always; with it, idents air
        // at its marks only.
        let mut cues = Cues::Rotation {
            tracks,
            idents,
            with_idents: self.schedule.station().ident_every.is_none(),
            // Standing in for a show that its own ident opened: a track first.
            turn: usize::from(opens_show && self.schedule.station().ident_at_show_start),
        };
        let closing = self.closing_ident(&st);
        let fill_end = e - closing.as_ref().map_or(0, |c| c.len);
        let owner = Owner::Chain { next: next.clone() };
        let p = self.lay(&st, fill_end, &mut cues, &owner, window, out);
        if p < fill_end {
            tracing::debug!("playout: no playable fallback file; dead air");
            let tb = self.timebase;
            out.push(Segment {
                start: p,
                end: fill_end,
                source: Source::Silence,
                fade_in: 0,
                fade_out: 0,
                kind: Kind::DeadAir,
                item: Arc::new(Airing {
                    show: None,
                    show_title: String::new(),
                    title: String::new(),
                    episode_id: None,
                    occurrence: None,
                    started_at: tb.instant(p),
                    ends_at: tb.instant(fill_end),
                    next,
                }),
            });
        }
        if let Some(ident) = closing {
            self.close(&ident, e, &owner, window, out);
        }
    }
}

fn next_of(schedule: &Schedule, occ: &Occurrence) -> Next {
    Next {
        show: occ.show.clone(),
        show_title: schedule
            .show(&occ.show)
            .map_or_else(|| occ.show.clone(), |s| s.title.clone()),
        starts_at: occ.start,
    }
}

fn add(t: Timestamp, d: SignedDuration) -> Timestamp {
    t.checked_add(d).unwrap_or(Timestamp::MAX)
}

fn sub(t: Timestamp, d: SignedDuration) -> Timestamp {
    t.checked_sub(d).unwrap_or(Timestamp::MIN)
}
