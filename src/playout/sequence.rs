//! Laying items out one after another inside a stretch of the programme: crossfades between
//! tracks, station idents at the schedule's marks and before a show starts.
//!
//! A stretch is a fallback gap (or an occurrence's underrun) or a playlist occurrence; its end
//! is a hard edge, usually a show start, that no item crosses (the last one is cut there with
//! the overrun fade). Inside it:
//!
//! - **Crossfades.** Two consecutive tracks (fallback or playlist items, never an episode nor
//!   an ident) overlap by the stretch's crossfade, shortened to half the shorter track: the
//!   outgoing track's fade-out and the incoming one's fade-in are complementary linear ramps
//!   (the two gains add up to exactly 1 on every frame), so the sum never rises above the
//!   louder of the two tracks, each of which has already passed the true-peak limiter. Tracks
//!   are laid out by their audible frames ([`Media::audible`]): silence at both ends is
//!   trimmed first. The two overlapping segments are whole segments of their own; the
//!   renderer mixes them.
//! - **Idents at marks** (`[station] ident_every`): on the mark, dry (no overlap: its words are
//!   never under music), then the next track. A track that would cross the mark is cut there
//!   with the overrun fade, unless it ends at most [`MARK_SLACK`] after the mark (the ident
//!   follows it) or starts at most that much before (the ident airs first): an ident is never
//!   more than that off the mark, and no track is cut to a few seconds. Never inside an
//!   episode or a live show, which are not tracks: the ident waits for the item's end.
//! - **An ident at the show start** (`ident_at_show_start`): when the stretch ends on an
//!   occurrence's start, the stretch's last ident-length is reserved for an ident that ends
//!   exactly on that frame; the filler before it is cut (with the overrun fade) where the
//!   ident begins.
//!
//! Everything here is a function of the stretch and the files, never of the planning window,
//! so re-planning from any frame gives the same segments.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::media::{Media, stable_hash};
use super::programme::Programme;
use super::timeline::{Airing, Kind, Next, Segment, Source};
use crate::schedule::{Occurrence, Overrun};

/// How far off its mark an ident may air rather than cut a track to a few seconds.
pub(super) const MARK_SLACK: std::time::Duration = std::time::Duration::from_secs(30);

/// One item to lay out: a file's frames `[offset, offset + len)`.
#[derive(Debug, Clone)]
pub(super) struct Cue {
    pub path: PathBuf,
    pub offset: u64,
    pub len: u64,
    pub kind: Kind,
    pub title: String,
    pub episode_id: Option<String>,
}

impl Cue {
    /// A track crossfades with its neighbours; an ident or an episode does not.
    fn is_track(&self) -> bool {
        matches!(self.kind, Kind::Fallback | Kind::Show) && self.episode_id.is_none()
    }
}

/// Whose items a stretch holds: decides their now-playing facts.
pub(super) enum Owner<'o> {
    /// The fallback chain: each item dated by itself.
    Chain { next: Option<Next> },
    /// An occurrence's own items.
    Occurrence {
        occ: &'o Occurrence,
        show_title: String,
        next: Option<Next>,
    },
}

/// Where the cues come from.
pub(super) enum Cues {
    /// An occurrence's items, in order.
    List(std::vec::IntoIter<Cue>),
    /// The fallback rotation, endless: tracks only, or (`with_idents`) an ident before each
    /// track, as before `ident_every` existed.
    Rotation {
        tracks: Vec<PathBuf>,
        idents: Vec<PathBuf>,
        with_idents: bool,
        turn: usize,
    },
}

impl Cues {
    /// The next playable cue; `None` when there is none (a rotation: a whole round of files
    /// found nothing playable).
    fn next(&mut self, media: &mut dyn Media) -> Option<Cue> {
        match self {
            Cues::List(items) => items.next(),
            Cues::Rotation {
                tracks,
                idents,
                with_idents,
                turn,
            } => {
                let round = tracks.len() + if *with_idents { idents.len() } else { 0 };
                for _ in 0..=round {
                    // Turns alternate ident, track when idents are in the rotation.
                    let (list, kind, k) = if *with_idents && !idents.is_empty() {
                        if *turn % 2 == 0 {
                            (&*idents, Kind::Ident, *turn / 2)
                        } else {
                            (&*tracks, Kind::Fallback, *turn / 2)
                        }
                    } else {
                        (&*tracks, Kind::Fallback, *turn)
                    };
                    *turn += 1;
                    if list.is_empty() {
                        continue;
                    }
                    let path = &list[k % list.len()];
                    if let Some(mut cue) = cue(media, path, kind) {
                        // An ident says what follows it: the track of its round.
                        if kind == Kind::Ident && !tracks.is_empty() {
                            cue.title = stem(&tracks[k % tracks.len()]);
                        }
                        return Some(cue);
                    }
                }
                None
            }
        }
    }
}

/// A file as a cue: its audible frames for a track or an ident, the whole of anything else.
pub(super) fn cue(media: &mut dyn Media, path: &Path, kind: Kind) -> Option<Cue> {
    let range = media.audible(path)?;
    if range.is_empty() {
        return None;
    }
    Some(Cue {
        path: path.to_path_buf(),
        offset: range.start,
        len: range.len(),
        kind,
        title: stem(path),
        episode_id: None,
    })
}

/// A stretch to fill; see the module doc.
pub(super) struct Stretch {
    pub start: u64,
    pub end: u64,
    /// Overlap between consecutive tracks, frames (0: back to back).
    pub crossfade: u64,
    /// Idents at the schedule's marks inside the stretch.
    pub marks: bool,
    /// An occurrence starts at `end`: with `ident_at_show_start`, an ident ends there.
    pub show_at_end: bool,
    /// The stretch is a show that starts at `start`, right after its own ident
    /// (`ident_at_show_start`): a mark on that frame is served by it.
    pub opens_show: bool,
}

/// The previous item laid out, for the one that follows it.
struct Prev {
    /// Its index in `out`, when it was kept (it may end before the planning window).
    index: Option<usize>,
    end: u64,
    len: u64,
    /// A track that ended on its own (not cut at the stretch end).
    crossfades: bool,
}

impl Programme<'_> {
    /// The ident that ends a stretch on a show start, when `ident_at_show_start` asks for one
    /// and it fits in the stretch.
    pub(super) fn closing_ident(&mut self, st: &Stretch) -> Option<Cue> {
        if !st.show_at_end || !self.idents_at_show_start() {
            return None;
        }
        let cue = self.pick_ident(st.end)?;
        (cue.len <= st.end - st.start).then_some(cue)
    }

    fn idents_at_show_start(&self) -> bool {
        self.schedule.station().ident_at_show_start
    }

    /// An ident for the instant at frame `at`, chosen from the ident folder by that instant
    /// (so the same every re-plan), skipping unplayable files.
    fn pick_ident(&mut self, at: u64) -> Option<Cue> {
        let folder = self.media_dir.join(&self.schedule.fallback().ident);
        let idents = self.media.list(&folder);
        if idents.is_empty() {
            return None;
        }
        let seconds = at / u64::from(self.timebase.rate());
        let first = (stable_hash(&format!("ident/{seconds}")) % idents.len() as u64) as usize;
        (0..idents.len()).find_map(|k| {
            let path = &idents[(first + k) % idents.len()];
            cue(self.media, path, Kind::Ident)
        })
    }

    /// Lays `cues` out over the stretch (less a closing ident, which the caller places), keeping
    /// what overlaps `window`; returns the frame where the items stopped (the stretch's end, or
    /// earlier when the cues ran out). It stops probing files once past the window.
    pub(super) fn lay(
        &mut self,
        st: &Stretch,
        end: u64,
        cues: &mut Cues,
        owner: &Owner<'_>,
        window: (u64, u64),
        out: &mut Vec<Segment>,
    ) -> u64 {
        let tb = self.timebase;
        let mut marks: Vec<u64> = if st.marks && st.start < end {
            self.schedule
                .ident_marks(tb.instant(st.start), tb.instant(end))
                .into_iter()
                .map(|t| tb.frame_at(t))
                .filter(|&m| !(st.opens_show && m == st.start && self.idents_at_show_start()))
                .collect()
        } else {
            Vec::new()
        };
        marks.reverse(); // popped from the back, earliest first
        // Tracks are cut for a mark only when there is an ident to air on it.
        let idents_on_marks = !marks.is_empty() && self.pick_ident(st.start).is_some();
        let slack = (MARK_SLACK.as_secs() * u64::from(tb.rate())).max(1);
        let mut prev: Option<Prev> = None;
        let mut p = st.start;
        while p < end {
            let mut due = marks.last().is_some_and(|&m| m <= p);
            while marks.last().is_some_and(|&m| m <= p) {
                marks.pop();
            }
            let Some(next) = cues.next(self.media) else {
                break;
            };
            // A track starting just before a mark and crossing it: the ident airs first.
            if idents_on_marks
                && !due
                && next.is_track()
                && let Some(&m) = marks.last()
                && m < end
                && m - p <= slack
                && p + next.len > m + slack
            {
                due = true;
                marks.pop();
            }
            if due && let Some(ident) = self.pick_ident(p) {
                // Past the planning window nothing more of the stretch is kept, so nothing
                // more is probed (the item before ends dry, whatever follows the ident).
                if p >= window.1 {
                    return end;
                }
                let title = next.title.clone();
                let placed = self.place(&ident, p, end, 0, Some(title), owner, window, out);
                p = placed.end;
                prev = Some(placed);
                if p >= end {
                    break;
                }
            }
            // Overlap the previous track when both are tracks and it ended on its own.
            let x = match &prev {
                Some(pr) if pr.crossfades && next.is_track() && st.crossfade > 0 => {
                    st.crossfade.min(pr.len / 2).min(next.len / 2)
                }
                _ => 0,
            };
            let start = p - x;
            if x > 0
                && let Some(i) = prev.as_ref().and_then(|pr| pr.index)
            {
                out[i].fade_out = x;
            }
            // Likewise, once the item before knows how it ends.
            if start >= window.1 {
                return end;
            }
            // A track crossing the next mark by more than the slack is cut on it for the ident.
            let on_mark = marks.last().copied().filter(|&m| {
                idents_on_marks && next.is_track() && m < end && start + next.len > m + slack
            });
            let placed = self.place(
                &next,
                start,
                on_mark.unwrap_or(end),
                x,
                None,
                owner,
                window,
                out,
            );
            if on_mark.is_some()
                && let Some(i) = placed.index
            {
                out[i].fade_out = self.fades.overrun.min(out[i].len() / 2);
            }
            p = placed.end;
            prev = Some(placed);
        }
        p.min(end)
    }

    /// Pushes `cue` from `start` (cut at `end`), fading in over `fade_in` (0: the edge fade).
    #[allow(clippy::too_many_arguments)]
    fn place(
        &self,
        cue: &Cue,
        start: u64,
        end: u64,
        fade_in: u64,
        title: Option<String>,
        owner: &Owner<'_>,
        window: (u64, u64),
        out: &mut Vec<Segment>,
    ) -> Prev {
        let natural = start + cue.len;
        let stop = natural.min(end);
        let cut = natural > end;
        let mut index = None;
        if stop > window.0 {
            let fade_out = if cut {
                match owner {
                    Owner::Occurrence { occ, .. } if occ.overrun == Overrun::Cut => self.fades.edge,
                    _ => self.fades.overrun,
                }
            } else {
                self.fades.edge
            };
            let fade_in = if fade_in > 0 {
                fade_in
            } else {
                self.fades.edge
            };
            index = Some(out.len());
            out.push(Segment {
                start,
                end: stop,
                source: Source::File {
                    path: cue.path.clone(),
                    offset: cue.offset,
                },
                fade_in: fade_in.min(stop - start),
                fade_out: fade_out.min(stop - start),
                kind: cue.kind,
                item: self.airing(owner, cue, start, stop, title),
            });
        }
        Prev {
            index,
            end: stop,
            len: cue.len,
            crossfades: !cut && cue.is_track(),
        }
    }

    /// Places the closing ident of a stretch: it ends on `end`, the show's first frame.
    pub(super) fn close(
        &self,
        ident: &Cue,
        end: u64,
        owner: &Owner<'_>,
        window: (u64, u64),
        out: &mut Vec<Segment>,
    ) {
        let title = match owner {
            Owner::Chain { next } | Owner::Occurrence { next, .. } => {
                next.as_ref().map(|n| n.show_title.clone())
            }
        };
        self.place(ident, end - ident.len, end, 0, title, owner, window, out);
    }

    fn airing(
        &self,
        owner: &Owner<'_>,
        cue: &Cue,
        start: u64,
        stop: u64,
        title: Option<String>,
    ) -> Arc<Airing> {
        let tb = self.timebase;
        let title = title.unwrap_or_else(|| cue.title.clone());
        Arc::new(match owner {
            Owner::Chain { next } => Airing {
                show: None,
                show_title: self.schedule.station().name.clone(),
                title,
                episode_id: None,
                occurrence: None,
                started_at: tb.instant(start),
                ends_at: tb.instant(stop),
                next: next.clone(),
            },
            Owner::Occurrence {
                occ,
                show_title,
                next,
            } => Airing {
                show: Some(occ.show.clone()),
                show_title: show_title.clone(),
                title,
                episode_id: cue.episode_id.clone(),
                occurrence: Some(occ.id.clone()),
                started_at: occ.start,
                ends_at: occ.end,
                next: next.clone(),
            },
        })
    }
}

/// A file's name without folder and extension, as a fallback title.
pub(super) fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}
