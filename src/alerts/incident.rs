//! De-duplication: one alert when an incident starts, one "resolved" when it ends.
//!
//! A condition (dead air, stream down, disk low, a live source dropped) is open from its first
//! [`Signal::Raise`] until a [`Signal::Clear`] of its key; raising it again while open says
//! nothing. A one-off failure has no end: it alerts once, then the same key is muted for
//! `quiet` (a failing upload retried every minute is one incident, not sixty e-mails). Time
//! is a parameter (tokio's clock: paused in tests).

use std::collections::HashMap;

use serde::Serialize;
use tokio::time::{Duration, Instant};

use super::Event;

/// What the daemon's watchers tell the tracker.
#[derive(Debug, Clone, PartialEq)]
pub enum Signal {
    /// The event is happening (again).
    Raise(Event),
    /// The condition with this key (see [`Event::key`]) is over.
    Clear(String),
}

/// Whether an alert opens or closes its incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    Firing,
    Resolved,
}

/// One message to deliver.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub event: Event,
    pub state: AlertState,
}

/// The open incidents and the muted one-off keys.
#[derive(Debug)]
pub struct Tracker {
    quiet: Duration,
    open: HashMap<String, Event>,
    muted: HashMap<String, Instant>,
}

impl Tracker {
    /// A tracker muting repeats of a one-off failure for `quiet`.
    pub fn new(quiet: Duration) -> Self {
        Self {
            quiet,
            open: HashMap::new(),
            muted: HashMap::new(),
        }
    }

    /// The alert `signal` gives at `now`, if any.
    pub fn signal(&mut self, signal: Signal, now: Instant) -> Option<Alert> {
        match signal {
            Signal::Raise(event) if event.is_condition() => {
                let key = event.key();
                if self.open.contains_key(&key) {
                    return None;
                }
                self.open.insert(key, event.clone());
                Some(Alert {
                    event,
                    state: AlertState::Firing,
                })
            }
            Signal::Raise(event) => {
                self.muted.retain(|_, until| *until > now);
                let key = event.key();
                if self.muted.contains_key(&key) {
                    return None;
                }
                self.muted.insert(key, now + self.quiet);
                Some(Alert {
                    event,
                    state: AlertState::Firing,
                })
            }
            Signal::Clear(key) => self.open.remove(&key).map(|event| Alert {
                event,
                state: AlertState::Resolved,
            }),
        }
    }

    /// The conditions open now (for the status page).
    pub fn open(&self) -> impl Iterator<Item = &Event> {
        self.open.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn states(t: &mut Tracker, signals: Vec<Signal>) -> Vec<Option<AlertState>> {
        signals
            .into_iter()
            .map(|s| t.signal(s, Instant::now()).map(|a| a.state))
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn a_condition_fires_once_and_resolves_once() {
        let mut t = Tracker::new(Duration::from_secs(600));
        let got = states(
            &mut t,
            vec![
                Signal::Clear("dead_air".into()),
                Signal::Raise(Event::DeadAir),
                Signal::Raise(Event::DeadAir),
                Signal::Raise(Event::DeadAir),
                Signal::Clear("dead_air".into()),
                Signal::Clear("dead_air".into()),
                Signal::Raise(Event::DeadAir),
            ],
        );
        use AlertState::{Firing, Resolved};
        assert_eq!(
            got,
            [
                None,
                Some(Firing),
                None,
                None,
                Some(Resolved),
                None,
                Some(Firing)
            ]
        );
        assert_eq!(t.open().count(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn conditions_of_different_kinds_are_separate_incidents() {
        let mut t = Tracker::new(Duration::from_secs(600));
        let down = Event::StreamDown { seconds: 10 };
        assert!(
            t.signal(Signal::Raise(Event::DeadAir), Instant::now())
                .is_some()
        );
        assert!(
            t.signal(Signal::Raise(down.clone()), Instant::now())
                .is_some()
        );
        let resolved = t.signal(Signal::Clear(down.key()), Instant::now()).unwrap();
        assert_eq!(
            (resolved.event, resolved.state),
            (down, AlertState::Resolved)
        );
        assert_eq!(t.open().collect::<Vec<_>>(), [&Event::DeadAir]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_repeated_failure_is_muted_for_the_quiet_period() {
        let mut t = Tracker::new(Duration::from_secs(600));
        let bad = Event::UploadUnauthorised { name: "bob".into() };
        let other = Event::UploadUnauthorised { name: "eve".into() };
        assert!(
            t.signal(Signal::Raise(bad.clone()), Instant::now())
                .is_some()
        );
        tokio::time::advance(Duration::from_secs(599)).await;
        assert!(
            t.signal(Signal::Raise(bad.clone()), Instant::now())
                .is_none()
        );
        assert!(t.signal(Signal::Raise(other), Instant::now()).is_some());
        tokio::time::advance(Duration::from_secs(1)).await;
        let again = t
            .signal(Signal::Raise(bad.clone()), Instant::now())
            .unwrap();
        assert_eq!(again.state, AlertState::Firing);
        // A one-off failure never has a "resolved".
        assert!(t.signal(Signal::Clear(bad.key()), Instant::now()).is_none());
    }

    #[test]
    fn every_event_has_a_french_and_an_english_text() {
        let all = [
            Event::DeadAir,
            Event::StreamDown { seconds: 5 },
            Event::LiveDropped {
                show: "Matin".into(),
            },
            Event::IngestFailed {
                file: "a.mp3".into(),
                error: "x".into(),
            },
            Event::ScheduleRefused {
                errors: "weekly.toml:3: x".into(),
            },
            Event::DiskLow {
                free_mb: 1,
                threshold_mb: 2,
            },
            Event::UploadUnauthorised { name: "bob".into() },
            Event::BackupFailed { error: "x".into() },
        ];
        for e in &all {
            let (fr, en) = (
                e.text(super::super::Lang::Fr),
                e.text(super::super::Lang::En),
            );
            assert!(!fr.is_empty() && !en.is_empty() && fr != en, "{e:?}");
            assert!(super::super::KINDS.contains(&e.kind()));
        }
        assert!(
            Event::DeadAir
                .text(super::super::Lang::Fr)
                .contains("Blanc d'antenne")
        );
    }
}
