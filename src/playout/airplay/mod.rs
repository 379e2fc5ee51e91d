//! The airplay hook: the render thread says, exact in frames, when each item goes on air and
//! how many frames of it aired ([`Aired`]); a writer thread of its own ([`writer`]) reads the
//! file's tags once per content and writes the log into the catalog in batches.
//!
//! The render thread only keeps the item it is airing ([`Tap`]) and `try_send`s on a bounded
//! channel: when the writer lags (a slow disk, a locked catalog), what does not fit is
//! dropped and counted ([`AirplayCounters::dropped`]); playout never waits for the log.
//!
//! One airing is the run of contiguous frames of one item: a file from the frame it joined
//! at (a takeover cutting it in two makes two airings), a live source for the time its
//! segment aired. Meant silence and dead air are not items. A crossfade's incoming track airs
//! under the outgoing one before it is the item on air ([`Tap::overlaid`]): its airing starts
//! at its first overlaid frame, so two airings overlap by the crossfade, as the two tracks do.

pub mod writer;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};

use super::timeline::{Airing, Kind, Segment, Source};
use crate::catalog::AirKind;

pub use writer::{AirplayWriter, WriterConfig};

/// Events the channel holds before the render thread drops them (about an hour of items at
/// one every few seconds: a writer that far behind is stuck, not slow).
pub const QUEUE: usize = 1024;

/// What the render thread reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Aired {
    /// An item's first frame on air is `frame` (the station's time base).
    Started {
        frame: u64,
        kind: AirKind,
        item: Arc<Airing>,
        /// The file and the file's frame aired at `frame`.
        file: Option<(PathBuf, u64)>,
    },
    /// The item that started at `frame` left the air after `frames`.
    Ended { frame: u64, frames: u64 },
}

/// Counts of the log (all relaxed atomics; `/api/status` and `/metrics`).
#[derive(Debug, Default)]
pub struct AirplayCounters {
    /// Events handed to the writer.
    pub sent: AtomicU64,
    /// Events dropped because the writer's queue was full.
    pub dropped: AtomicU64,
    /// Rows the writer committed (starts and ends).
    pub written: AtomicU64,
    /// Batches the catalog refused (logged; their events are lost).
    pub failed: AtomicU64,
}

/// The sending side of the log, given to playout in its config (`PlayoutConfig::airplay`).
/// Cheap to clone; the default records nothing.
#[derive(Clone, Default)]
pub struct AirplayLog {
    tx: Option<SyncSender<Aired>>,
    counters: Arc<AirplayCounters>,
}

impl std::fmt::Debug for AirplayLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AirplayLog")
            .field("enabled", &self.tx.is_some())
            .finish()
    }
}

impl PartialEq for AirplayLog {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.counters, &other.counters)
    }
}

impl AirplayLog {
    pub fn counters(&self) -> &Arc<AirplayCounters> {
        &self.counters
    }

    pub fn is_enabled(&self) -> bool {
        self.tx.is_some()
    }

    /// Hands `event` to the writer, or drops it (counted) when its queue is full.
    pub fn send(&self, event: Aired) {
        let Some(tx) = &self.tx else { return };
        match tx.try_send(event) {
            Ok(()) => {
                self.counters.sent.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Full(_)) => {
                self.counters.dropped.fetch_add(1, Ordering::Relaxed);
            }
            // The writer stopped (shutdown): nothing is recorded any more.
            Err(TrySendError::Disconnected(_)) => {}
        }
    }
}

/// What makes two frames the same airing: the kind, and where the frames come from.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ident {
    kind: Kind,
    /// A file with the frame its first frame would be at (`start - offset`, the same for
    /// both pieces of a segment re-planned around a takeover), or a live input with its
    /// segment's start.
    source: Source,
    anchor: u64,
}

struct Current {
    ident: Ident,
    start: u64,
    /// The frame after the last one aired.
    next: u64,
}

/// The render thread's side: follows the item on air, frame by frame.
pub struct Tap {
    log: AirplayLog,
    current: Option<Current>,
    /// The incoming track of a crossfade and its first overlaid frame.
    overlaid: Option<(Ident, u64)>,
}

impl Tap {
    pub fn new(log: AirplayLog) -> Tap {
        Tap {
            log,
            current: None,
            overlaid: None,
        }
    }

    /// Frames from `from` of `seg`, a crossfade's incoming track, went to the output under
    /// the item on air; its airing begins at the first of them when it becomes the item on air.
    pub fn overlaid(&mut self, seg: &Segment, from: u64) {
        if !self.log.is_enabled() {
            return;
        }
        let Some((_, source, anchor, _)) = describe(seg, from) else {
            return;
        };
        let ident = Ident {
            kind: seg.kind,
            source,
            anchor,
        };
        if !matches!(&self.overlaid, Some((i, _)) if *i == ident) {
            self.overlaid = Some((ident, from));
        }
    }

    /// Frames `[from, to)` of `seg` went to the output.
    pub fn aired(&mut self, seg: &Segment, from: u64, to: u64) {
        if !self.log.is_enabled() || to <= from {
            return;
        }
        let Some((kind, source, anchor, file)) = describe(seg, from) else {
            self.finish();
            return;
        };
        let ident = Ident {
            kind: seg.kind,
            source,
            anchor,
        };
        if let Some(c) = &mut self.current
            && c.ident == ident
            && c.next == from
        {
            c.next = to;
            return;
        }
        self.finish();
        // Its crossfade-in aired already: the airing starts there.
        let (start, file) = match self.overlaid.take() {
            Some((i, first)) if i == ident && first < from => {
                (first, describe(seg, first).and_then(|d| d.3))
            }
            _ => (from, file),
        };
        self.log.send(Aired::Started {
            frame: start,
            kind,
            item: seg.item.clone(),
            file,
        });
        self.current = Some(Current {
            ident,
            start,
            next: to,
        });
    }

    /// The item on air ended (the engine stops, or silence follows).
    pub fn finish(&mut self) {
        if let Some(c) = self.current.take() {
            self.log.send(Aired::Ended {
                frame: c.start,
                frames: c.next - c.start,
            });
        }
    }
}

type Described = (AirKind, Source, u64, Option<(PathBuf, u64)>);

/// The airplay kind, identity and file of `seg` joined at `from`; `None` for silence.
fn describe(seg: &Segment, from: u64) -> Option<Described> {
    match &seg.source {
        Source::Silence => None,
        Source::Live { input } => {
            let kind = if seg.item.occurrence.is_some() {
                AirKind::Live
            } else {
                AirKind::Special
            };
            let source = Source::Live {
                input: input.clone(),
            };
            Some((kind, source, seg.start, None))
        }
        Source::File { path, offset } => {
            let kind = match seg.kind {
                Kind::Ident => AirKind::Ident,
                Kind::Fallback => AirKind::Bed,
                _ if seg.item.episode_id.is_some() => AirKind::Episode,
                _ => AirKind::Track,
            };
            let source = Source::File {
                path: path.clone(),
                offset: 0,
            };
            let anchor = seg.start.wrapping_sub(*offset);
            let file = Some((path.clone(), offset + (from - seg.start)));
            Some((kind, source, anchor, file))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc::sync_channel;

    use jiff::Timestamp;

    use super::*;

    fn seg(start: u64, end: u64, source: Source, kind: Kind) -> Segment {
        Segment {
            start,
            end,
            source,
            fade_in: 0,
            fade_out: 0,
            kind,
            item: Arc::new(Airing {
                show: None,
                show_title: "Station".into(),
                title: "x".into(),
                episode_id: None,
                occurrence: None,
                started_at: Timestamp::UNIX_EPOCH,
                ends_at: Timestamp::UNIX_EPOCH,
                next: None,
            }),
        }
    }

    fn file(path: &str, offset: u64) -> Source {
        Source::File {
            path: path.into(),
            offset,
        }
    }

    /// (started frame or ended (frame, frames)) of each event.
    fn events(rx: &std::sync::mpsc::Receiver<Aired>) -> Vec<(char, u64, u64)> {
        rx.try_iter()
            .map(|e| match e {
                Aired::Started { frame, file, .. } => ('s', frame, file.map_or(0, |f| f.1)),
                Aired::Ended { frame, frames } => ('e', frame, frames),
            })
            .collect()
    }

    #[test]
    fn an_item_is_one_airing_across_blocks_and_re_plans_and_two_around_a_takeover() {
        let (tx, rx) = sync_channel(64);
        let log = AirplayLog {
            tx: Some(tx),
            counters: Arc::default(),
        };
        let mut tap = Tap::new(log);
        let bed = seg(0, 1000, file("bed.wav", 0), Kind::Fallback);
        tap.aired(&bed, 0, 256);
        tap.aired(&bed, 256, 512);
        // A re-plan cuts the bed at 600 for a takeover: the same airing goes on.
        let cut = seg(0, 600, file("bed.wav", 0), Kind::Fallback);
        tap.aired(&cut, 512, 600);
        let live = seg(
            600,
            800,
            Source::Live {
                input: "live".into(),
            },
            Kind::Live,
        );
        tap.aired(&live, 600, 800);
        // The bed's rest after the takeover is an airing of its own, from its frame 800.
        let rest = seg(800, 1000, file("bed.wav", 800), Kind::Fallback);
        tap.aired(&rest, 800, 1000);
        let silence = seg(1000, 1100, Source::Silence, Kind::MeantSilence);
        tap.aired(&silence, 1000, 1100);
        tap.finish();
        assert_eq!(
            events(&rx),
            [
                ('s', 0, 0),
                ('e', 0, 600),
                ('s', 600, 0),
                ('e', 600, 200),
                ('s', 800, 800),
                ('e', 800, 200),
            ]
        );
    }

    #[test]
    fn a_crossfaded_track_airs_from_its_first_overlaid_frame() {
        let (tx, rx) = sync_channel(64);
        let log = AirplayLog {
            tx: Some(tx),
            counters: Arc::default(),
        };
        let mut tap = Tap::new(log);
        let a = seg(0, 1000, file("a.wav", 0), Kind::Fallback);
        // b starts at 700 under a (a 300-frame crossfade), trimmed of 50 frames of silence.
        let b = seg(700, 2000, file("b.wav", 50), Kind::Fallback);
        tap.aired(&a, 0, 512);
        tap.overlaid(&b, 700);
        tap.aired(&a, 512, 1000);
        tap.overlaid(&b, 1000);
        tap.aired(&b, 1000, 1024);
        tap.aired(&b, 1024, 2000);
        tap.finish();
        assert_eq!(
            events(&rx),
            [
                ('s', 0, 0),
                ('e', 0, 1000),
                ('s', 700, 50),
                ('e', 700, 1300),
            ]
        );
    }

    #[test]
    fn a_full_queue_drops_and_counts_and_never_blocks_the_render_thread() {
        let (tx, rx) = sync_channel(2);
        let log = AirplayLog {
            tx: Some(tx),
            counters: Arc::default(),
        };
        let mut tap = Tap::new(log.clone());
        // Nobody reads: ten items, twenty events, two fit.
        for i in 0..10 {
            let s = seg(
                i * 10,
                i * 10 + 10,
                file(&format!("{i}.wav"), 0),
                Kind::Show,
            );
            tap.aired(&s, i * 10, i * 10 + 10);
        }
        tap.finish();
        let c = log.counters();
        assert_eq!(c.sent.load(Ordering::Relaxed), 2);
        assert_eq!(c.dropped.load(Ordering::Relaxed), 18);
        assert_eq!(events(&rx).len(), 2);
        // Disabled (the default): nothing is counted.
        let mut off = Tap::new(AirplayLog::default());
        off.aired(&seg(0, 10, file("a.wav", 0), Kind::Show), 0, 10);
        off.finish();
    }
}
