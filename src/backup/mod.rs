//! Backups that restore: a consistent snapshot of a running station ([`take`]), its check and
//! restoration into an empty folder ([`restore`]), and the daemon's scheduled backups with
//! rotation and their outcome ([`scheduled`]).
//!
//! A backup is a folder: `manifest.json` (every file's relative path, size and SHA-256),
//! `data/` (the catalog, copied with SQLite's online backup, and the files of `data_dir` that
//! copy refers to, plus the live recordings and the download counter's secret) and `config/`
//! (the settings file, the schedule and its saved versions, in their layout relative to the
//! settings file). It is written to a hidden temporary folder beside its destination, fsynced,
//! then renamed: a folder with a manifest is a whole backup.

mod copy;
pub mod manifest;
pub mod restore;
pub mod scheduled;
mod take;

use std::path::PathBuf;

pub use restore::{Restored, restore};
pub use scheduled::{BackupLog, BackupOutcome};
pub use take::{Taken, take};

/// What a backup holds, resolved from the settings by the daemon's edge.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupConfig {
    /// The catalog and the files it refers to.
    pub data_dir: PathBuf,
    /// Folders of `data_dir` kept whole (the live recordings not yet episodes).
    pub data_folders: Vec<String>,
    /// Single files of `data_dir` kept when present (the download counter's secret).
    pub data_files: Vec<String>,
    /// The settings file, when the station has one.
    pub settings_file: Option<PathBuf>,
    /// The schedule file.
    pub schedule: PathBuf,
    /// The schedule's saved versions, when the folder exists.
    pub schedule_history: PathBuf,
}

/// Why a backup or a restore failed.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The destination, the source or the target is not what it must be (exit 1).
    #[error("{0}")]
    Refused(String),
    /// The backup does not match its manifest: every faulty file, one per line (exit 1).
    #[error("the backup {src} is corrupted, nothing was restored:\n{}", .faults.join("\n"))]
    Corrupted { src: PathBuf, faults: Vec<String> },
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error(transparent)]
    Catalog(#[from] crate::catalog::CatalogError),
}

impl BackupError {
    /// The operator's input (a destination that exists, a corrupted backup) rather than a fault.
    pub fn is_user_error(&self) -> bool {
        matches!(
            self,
            BackupError::Refused(_) | BackupError::Corrupted { .. }
        )
    }
}

pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |error| BackupError::Io {
        path: path.to_path_buf(),
        error,
    }
}
