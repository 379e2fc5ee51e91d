//! "Upload token used from a revoked or unknown name": the HTTP layer notes each refused
//! token here ([`RefusedNames::note`]: a revoked token's name, or an empty name for a secret
//! no token has), and the daemon's watcher drains the names once a second into
//! [`super::Event::UploadUnauthorised`]. One alert per name and incident: the tracker mutes a
//! name for its quiet period, and at most [`PENDING`] distinct names wait between two
//! drains, so a flood of guesses is one alert, not thousands.

use std::sync::{Arc, Mutex};

/// Distinct names kept between two drains; more are counted, not kept.
pub const PENDING: usize = 32;

/// The refused names since the last drain; cheap to clone, never blocks for long.
#[derive(Debug, Clone, Default)]
pub struct RefusedNames(Arc<Mutex<Pending>>);

#[derive(Debug, Default)]
struct Pending {
    names: Vec<String>,
    overflow: u64,
}

impl RefusedNames {
    /// A request presented the token of `name` (revoked), or an unknown one (`""`).
    pub fn note(&self, name: &str) {
        let mut p = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if p.names.iter().any(|n| n == name) {
            return;
        }
        if p.names.len() >= PENDING {
            p.overflow += 1;
            return;
        }
        p.names.push(name.to_owned());
    }

    /// The names noted since the last call, and how many more did not fit.
    pub fn drain(&self) -> (Vec<String>, u64) {
        let mut p = self.0.lock().unwrap_or_else(|e| e.into_inner());
        (
            std::mem::take(&mut p.names),
            std::mem::take(&mut p.overflow),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_kept_once_each_and_bounded() {
        let r = RefusedNames::default();
        for _ in 0..3 {
            r.note("bob");
            r.note("");
        }
        assert_eq!(r.drain(), (vec!["bob".to_owned(), String::new()], 0));
        assert_eq!(r.drain(), (vec![], 0));
        for i in 0..PENDING + 5 {
            r.note(&format!("n{i}"));
        }
        let (names, overflow) = r.drain();
        assert_eq!((names.len(), overflow), (PENDING, 5));
    }
}
