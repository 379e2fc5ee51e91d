//! "Live source dropped during its slot", from what the live input shows: a show's source
//! that stops streaming for [`LiveWatch`]'s `hold` while its slot runs raises
//! [`Event::LiveDropped`]; the incident resolves when the source streams again or when the
//! slot ends. An operator's override ("direct spécial") has no slot: its end is not a drop.
//! Pure: the daemon's watcher calls [`LiveWatch::observe`] once a second with the instant.

use jiff::{SignedDuration, Timestamp};

use super::{Event, Signal};

/// What the watcher sees of the live input (the daemon maps the input's status to it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveSeen {
    /// The show of the slot the source holds (`None`: an operator's override).
    pub show: Option<String>,
    pub occurrence: Option<String>,
    /// The slot's end.
    pub ends_at: Option<Timestamp>,
    /// `false` while the source is gone and its grace runs.
    pub streaming: bool,
}

#[derive(Debug)]
struct Watched {
    show: String,
    occurrence: String,
    ends_at: Option<Timestamp>,
    gone_since: Option<Timestamp>,
    raised: bool,
}

/// Follows the slot's source across ticks; see the module doc.
#[derive(Debug)]
pub struct LiveWatch {
    hold: SignedDuration,
    watched: Option<Watched>,
}

impl LiveWatch {
    /// A drop is an incident once the source has been gone for `hold` (a blip within it,
    /// resumed in the input's grace, is not).
    pub fn new(hold: SignedDuration) -> LiveWatch {
        LiveWatch {
            hold,
            watched: None,
        }
    }

    /// The signals of what the input shows at `now` (`None`: no source, no grace).
    pub fn observe(&mut self, seen: Option<&LiveSeen>, now: Timestamp) -> Vec<Signal> {
        let mut out = Vec::new();
        let slot = seen.and_then(|s| Some((s, s.show.as_ref()?, s.occurrence.as_ref()?)));
        if let Some((s, show, occurrence)) = slot
            && self
                .watched
                .as_ref()
                .is_none_or(|w| w.occurrence != *occurrence)
        {
            self.end(&mut out);
            self.watched = Some(Watched {
                show: show.clone(),
                occurrence: occurrence.clone(),
                ends_at: s.ends_at,
                gone_since: None,
                raised: false,
            });
        }
        let Some(w) = &mut self.watched else {
            return out;
        };
        if w.ends_at.is_some_and(|end| now >= end) {
            self.end(&mut out);
            return out;
        }
        let streaming = slot.is_some_and(|(s, _, o)| s.streaming && *o == w.occurrence);
        if streaming {
            w.gone_since = None;
            if std::mem::take(&mut w.raised) {
                out.push(Signal::Clear(key(&w.show)));
            }
            return out;
        }
        let since = *w.gone_since.get_or_insert(now);
        if !w.raised && now.duration_since(since) >= self.hold {
            w.raised = true;
            out.push(Signal::Raise(Event::LiveDropped {
                show: w.show.clone(),
            }));
        }
        out
    }

    /// The slot watched is over: its incident, if open, resolves.
    fn end(&mut self, out: &mut Vec<Signal>) {
        if let Some(w) = self.watched.take()
            && w.raised
        {
            out.push(Signal::Clear(key(&w.show)));
        }
    }
}

fn key(show: &str) -> String {
    Event::LiveDropped {
        show: show.to_owned(),
    }
    .key()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + s).unwrap()
    }

    fn slot(streaming: bool) -> LiveSeen {
        LiveSeen {
            show: Some("matin".into()),
            occurrence: Some("matin/1".into()),
            ends_at: Some(at(3600)),
            streaming,
        }
    }

    fn kinds(v: Vec<Signal>) -> Vec<&'static str> {
        v.into_iter()
            .map(|s| match s {
                Signal::Raise(_) => "raise",
                Signal::Clear(_) => "clear",
            })
            .collect()
    }

    #[test]
    fn a_drop_fires_after_the_hold_once_and_resolves_when_the_source_is_back() {
        let mut w = LiveWatch::new(SignedDuration::from_secs(10));
        let on = slot(true);
        let grace = slot(false);
        assert!(w.observe(Some(&on), at(0)).is_empty());
        // A blip shorter than the hold is not an incident.
        assert!(w.observe(Some(&grace), at(5)).is_empty());
        assert!(w.observe(Some(&on), at(8)).is_empty());
        assert!(w.observe(Some(&grace), at(20)).is_empty());
        assert!(w.observe(None, at(29)).is_empty());
        let raised = w.observe(None, at(30));
        assert_eq!(
            raised,
            [Signal::Raise(Event::LiveDropped {
                show: "matin".into()
            })]
        );
        for t in 31..40 {
            assert!(w.observe(None, at(t)).is_empty(), "once per incident");
        }
        assert_eq!(
            w.observe(Some(&on), at(40)),
            [Signal::Clear("live_dropped:matin".into())]
        );
        assert!(w.observe(Some(&on), at(41)).is_empty(), "resolved once");
    }

    #[test]
    fn a_drop_resolves_when_the_slot_ends_and_an_override_is_never_watched() {
        let mut w = LiveWatch::new(SignedDuration::from_secs(10));
        w.observe(Some(&slot(true)), at(0));
        assert_eq!(kinds(w.observe(None, at(100))), Vec::<&str>::new());
        assert_eq!(kinds(w.observe(None, at(110))), ["raise"]);
        assert_eq!(kinds(w.observe(None, at(3599))), Vec::<&str>::new());
        assert_eq!(kinds(w.observe(None, at(3600))), ["clear"]);
        assert!(w.observe(None, at(3700)).is_empty());
        let special = LiveSeen {
            show: None,
            occurrence: None,
            ends_at: None,
            streaming: true,
        };
        let mut w = LiveWatch::new(SignedDuration::from_secs(10));
        w.observe(Some(&special), at(0));
        assert!(w.observe(None, at(100)).is_empty());
    }
}
