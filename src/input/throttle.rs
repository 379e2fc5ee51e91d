//! Repeated failed sign-ins from one address slow down: each failure doubles the wait before
//! that address's next answer (from [`FIRST_DELAY`] up to [`MAX_DELAY`]), and ten quiet
//! minutes forgive it. The answer stays the same bare `401`; only its timing changes, and
//! only for that address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const FIRST_DELAY: Duration = Duration::from_millis(250);
pub const MAX_DELAY: Duration = Duration::from_secs(8);
const FORGIVEN_AFTER: Duration = Duration::from_secs(600);
/// Addresses remembered at most (beyond it the oldest are forgotten).
const MAX_ADDRESSES: usize = 4096;

#[derive(Default)]
pub struct Throttle {
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl Throttle {
    /// How long to wait before answering `ip` now.
    pub fn delay(&self, ip: IpAddr, now: Instant) -> Duration {
        let map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(&ip) {
            Some(&(n, last)) if n > 0 && now.duration_since(last) < FORGIVEN_AFTER => FIRST_DELAY
                .saturating_mul(1 << (n - 1).min(10))
                .min(MAX_DELAY),
            _ => Duration::ZERO,
        }
    }

    pub fn failed(&self, ip: IpAddr, now: Instant) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_ADDRESSES && !map.contains_key(&ip) {
            map.retain(|_, (_, last)| now.duration_since(*last) < FORGIVEN_AFTER);
            if map.len() >= MAX_ADDRESSES {
                map.clear();
            }
        }
        let entry = map.entry(ip).or_insert((0, now));
        if now.duration_since(entry.1) >= FORGIVEN_AFTER {
            entry.0 = 0;
        }
        entry.0 = entry.0.saturating_add(1);
        entry.1 = now;
    }

    pub fn succeeded(&self, ip: IpAddr) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&ip);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_from_one_address_double_its_wait_up_to_a_bound_and_are_forgiven() {
        let t = Throttle::default();
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let now = Instant::now();
        assert_eq!(t.delay(a, now), Duration::ZERO);
        let waits: Vec<_> = (0..8)
            .map(|_| {
                t.failed(a, now);
                t.delay(a, now)
            })
            .collect();
        assert_eq!(waits[0], FIRST_DELAY);
        assert_eq!(waits[1], FIRST_DELAY * 2);
        assert_eq!(waits[7], MAX_DELAY);
        assert_eq!(
            t.delay(b, now),
            Duration::ZERO,
            "other addresses are not slowed"
        );
        assert_eq!(t.delay(a, now + FORGIVEN_AFTER), Duration::ZERO);
        t.failed(a, now);
        t.succeeded(a);
        assert_eq!(t.delay(a, now), Duration::ZERO);
    }
}
