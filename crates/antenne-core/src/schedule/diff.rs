//! What an edit changes: occurrences added, removed, moved or changed between two schedules.
//!
//! Occurrences are paired by slot id and declared local date (the n-th airing of a slot on a
//! day pairs with the n-th), so moving a slot from 18:00 to 18:30 reads as "moved", not as one
//! removal and one addition.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;

use super::{Occurrence, Schedule};

/// One occurrence in both schedules that differs in time or content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub old: Occurrence,
    pub new: Occurrence,
}

impl Moved {
    /// Whether the start or end instant changed (otherwise only show or play did).
    pub fn times_changed(&self) -> bool {
        self.old.start != self.new.start || self.old.end != self.new.end
    }
}

/// The difference between two schedules over a window, each list sorted by start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diff {
    pub added: Vec<Occurrence>,
    pub removed: Vec<Occurrence>,
    /// Paired occurrences whose times, show, or what plays changed.
    pub moved: Vec<Moved>,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.moved.is_empty()
    }
}

/// Compares the occurrences of `old` and `new` that intersect `[from, to)`.
pub fn diff(old: &Schedule, new: &Schedule, from: Timestamp, to: Timestamp) -> Diff {
    let group = |occ: Vec<Occurrence>| {
        let mut m: BTreeMap<(String, Date), Vec<Occurrence>> = BTreeMap::new();
        for o in occ {
            m.entry((o.slot.clone(), o.wall.date()))
                .or_default()
                .push(o);
        }
        m
    };
    let mut a = group(old.occurrences(from, to));
    let mut b = group(new.occurrences(from, to));
    let mut d = Diff::default();
    for (key, olds) in std::mem::take(&mut a) {
        let mut news = b.remove(&key).unwrap_or_default().into_iter();
        for o in olds {
            match news.next() {
                Some(n) => {
                    let same = o.start == n.start
                        && o.end == n.end
                        && o.show == n.show
                        && o.play == n.play
                        && o.overrun == n.overrun
                        && o.underrun == n.underrun;
                    if !same {
                        d.moved.push(Moved { old: o, new: n });
                    }
                }
                None => d.removed.push(o),
            }
        }
        d.added.extend(news);
    }
    d.added.extend(b.into_values().flatten());
    d.added.sort_by_key(|o| o.start);
    d.removed.sort_by_key(|o| o.start);
    d.moved.sort_by_key(|m| m.new.start);
    d
}
