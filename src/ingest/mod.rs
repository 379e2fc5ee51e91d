//! Ingest jobs: a recording in, a normalised MP3 episode in the catalog out, on blocking threads.
//!
//! [`intake`] is the one way in, whatever the door (upload, resumable upload, watch folder,
//! `antenne ingest`, demo seeding): it keeps the original untouched under
//! `data_dir/originals/<id>.<ext>` (never twice: the same sha256 is answered with the episode
//! it already is) and queues the episode; [`job`] renders one claimed job into
//! `data_dir/renditions` (temp + fsync + rename, then one catalog transaction); [`runner`]
//! runs jobs on worker threads (two: two queued episodes use both cores) and recovers jobs a
//! crash left in `processing`.

pub mod intake;
pub mod job;
pub mod runner;
pub mod sweep;
pub mod watch;

use std::sync::Arc;

use crate::clock::Clock;

pub use intake::{Submission, submit};
pub use job::process_job;
pub use runner::{IngestRunner, OnDone, drain_queue, recover};

/// The wall clock, as ingest takes its time (a parameter, so tests control it).
pub fn system_clock() -> Arc<dyn Clock> {
    Arc::new(crate::clock::SystemClock)
}

/// Whether an IO error means "no room left": a full disk or quota (`ENOSPC`, `EDQUOT`) or the
/// process's file size limit (`EFBIG`; the daemon ignores `SIGXFSZ` so a write over
/// `RLIMIT_FSIZE` fails instead of killing it). All answer `507` and fail jobs the same way.
pub fn is_disk_full(e: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        e.kind(),
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded | ErrorKind::FileTooLarge
    )
}

/// Why an ingest step failed.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot read {0}: {1}")]
    Read(std::path::PathBuf, std::io::Error),
    #[error("cannot store the original under {0}: {1}")]
    Store(std::path::PathBuf, std::io::Error),
    #[error("{path}: this recording was already uploaded as episode {existing}")]
    Duplicate {
        path: std::path::PathBuf,
        existing: String,
    },
    /// Refused before anything was stored (see [`intake::StoreError`]).
    #[error("{path}: {reason}")]
    NotAudio {
        path: std::path::PathBuf,
        reason: intake::StoreError,
    },
    /// Every bad field at once, as [`intake::validate`] reports them.
    #[error("{}", invalid_fields(.0))]
    Invalid(Vec<intake::FieldError>),
    #[error("an ingest worker panicked")]
    WorkerPanicked,
    #[error(transparent)]
    Catalog(#[from] crate::catalog::CatalogError),
    #[error(transparent)]
    Audio(#[from] crate::audio::AudioError),
}

fn invalid_fields(errors: &[intake::FieldError]) -> String {
    errors
        .iter()
        .map(|(field, reason)| format!("invalid {field}: {reason}"))
        .collect::<Vec<_>>()
        .join("; ")
}
