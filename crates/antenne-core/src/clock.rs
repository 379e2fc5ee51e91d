//! Time as a parameter: the [`Clock`] sync code reads and sleeps against, the system's
//! ([`SystemClock`]) and a hand-driven one for tests and simulations ([`ManualClock`]).
//!
//! The playout engine paces itself against a clock; ingest stamps its jobs with one. Async
//! code uses tokio's clock instead (paused in tests).

use std::sync::{Condvar, Mutex};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

/// Where sync code reads the time; it takes a clock so tests can drive it.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;

    /// Blocks until `deadline` or for at most `max_wait` of real time, whichever comes first.
    /// Callers re-read [`Clock::now`] afterwards, so a spurious early return is harmless.
    fn sleep_until(&self, deadline: Timestamp, max_wait: Duration);
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }

    fn sleep_until(&self, deadline: Timestamp, max_wait: Duration) {
        let left = deadline.duration_since(Timestamp::now());
        if left.is_positive() {
            let left = Duration::try_from(left).unwrap_or(max_wait);
            std::thread::sleep(left.min(max_wait));
        }
    }
}

/// A clock that only moves when told to: [`ManualClock::set`] / [`ManualClock::advance`].
///
/// With `auto_advance`, sleeping jumps the clock to the deadline at once (like tokio's paused
/// clock): a simulated day of pacing runs as fast as the engine can render it.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<Timestamp>,
    changed: Condvar,
    auto_advance: bool,
}

impl ManualClock {
    pub fn new(start: Timestamp) -> ManualClock {
        ManualClock {
            now: Mutex::new(start),
            changed: Condvar::new(),
            auto_advance: false,
        }
    }

    /// A clock whose sleeps advance it to their deadline instantly.
    pub fn auto_advance(start: Timestamp) -> ManualClock {
        ManualClock {
            auto_advance: true,
            ..ManualClock::new(start)
        }
    }

    pub fn set(&self, t: Timestamp) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = t;
        self.changed.notify_all();
    }

    pub fn advance(&self, by: SignedDuration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now = now.checked_add(by).unwrap_or(Timestamp::MAX);
        self.changed.notify_all();
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn sleep_until(&self, deadline: Timestamp, max_wait: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        if self.auto_advance {
            *now = (*now).max(deadline);
            return;
        }
        if *now < deadline {
            // Woken by `set`/`advance`, or after `max_wait` so the caller can check for stop.
            let _ = self
                .changed
                .wait_timeout(now, max_wait)
                .unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// A shared clock is a clock (what `Arc<dyn Clock>` holders pass as `&dyn Clock`).
impl<C: Clock + ?Sized> Clock for std::sync::Arc<C> {
    fn now(&self) -> Timestamp {
        (**self).now()
    }

    fn sleep_until(&self, deadline: Timestamp, max_wait: Duration) {
        (**self).sleep_until(deadline, max_wait);
    }
}
