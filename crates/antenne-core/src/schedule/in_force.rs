//! The schedule on air and the outcome of its last reload: plain data the daemon's reload
//! task writes and every reader (HTTP status, the page, playout) reads.

use std::path::PathBuf;
use std::sync::Arc;

use jiff::Timestamp;

use super::Schedule;

/// The schedule in force and the outcome of the last reload.
#[derive(Debug, Clone)]
pub struct ScheduleState {
    pub schedule: Arc<Schedule>,
    pub path: PathBuf,
    pub loaded_at: Timestamp,
    /// Rendered warnings of the schedule in force.
    pub warnings: Vec<String>,
    /// The last refused edit, if it came after the schedule in force.
    pub refused: Option<Refused>,
}

/// An edit that was refused: when, and every error, rendered `FILE:LINE:COL: error: …`.
#[derive(Debug, Clone)]
pub struct Refused {
    pub at: Timestamp,
    pub errors: Vec<String>,
}

impl ScheduleState {
    /// The slugs of the shows on the schedule in force.
    pub fn show_slugs(&self) -> Vec<String> {
        self.schedule
            .shows()
            .iter()
            .map(|sh| sh.slug.clone())
            .collect()
    }

    /// The errors of the last refused reload (empty once a reload is accepted).
    pub fn refused_errors(&self) -> Vec<String> {
        self.refused
            .as_ref()
            .map(|r| r.errors.clone())
            .unwrap_or_default()
    }
}
