//! The crash-safe catalog (SQLite): shows, episodes, ingest jobs, upload tokens, airings and
//! download counters, the loudness of the media folder's files, the airplay log with the
//! tags of what aired, the operators' console's audit log, and listener sessions.
//!
//! SQLite in WAL mode with `synchronous = FULL`: every write is one transaction, so a crash or a
//! power cut at any instant leaves either the old or the new state. Files (originals,
//! renditions) live beside it in `data_dir`; the catalog stores their paths relative to it, and
//! an episode is only marked `ready` after its rendition is fsynced and renamed into place.
//!
//! Time is a parameter: every method that stamps a row takes `now`.

mod airplay;
mod audience;
mod audit;
mod downloads;
mod episodes;
mod jobs;
mod media;
mod migrations;
mod snapshot;
mod tags;
mod tokens;
mod transcript;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::Connection;

pub use airplay::{
    AirEnd, AirKind, AirStart, AirplayEntry, AirplayWrite, TrackSummary, Untagged, summarise,
};
pub use audience::{ClientFamily, DownloadRecord, ListenerSession, StreamKind};
pub use audit::AuditEntry;
pub use episodes::{
    Episode, EpisodeQuery, EpisodeStatus, Loudness, MetadataPatch, NewEpisode, NewOriginal,
};
pub use jobs::{Completed, Job, Recovery};
pub use media::{FileStamp, MediaLoudness};
pub use snapshot::{FileRef, Snapshot};
pub use tags::MediaTags;
pub use tokens::{Grant, TokenRecord, hash_secret, new_secret, secret_digest};
pub use transcript::TranscriptKind;

/// The catalog's file name inside `data_dir`.
pub const CATALOG_FILE: &str = "catalog.sqlite3";

/// Why a catalog operation failed.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("cannot create the data folder {0}: {1}")]
    DataDir(PathBuf, std::io::Error),
    #[error("catalog {path}: {error}")]
    Sqlite {
        path: PathBuf,
        error: rusqlite::Error,
    },
    #[error(
        "catalog {path} was written by a newer Antenne (schema {found}, this one knows {known})"
    )]
    TooNew {
        path: PathBuf,
        found: u32,
        known: u32,
    },
    #[error("this recording was already uploaded as episode {0}")]
    Duplicate(String),
    #[error("no such {what}: {id}")]
    NotFound { what: &'static str, id: String },
    #[error("{0} already exists")]
    Exists(String),
}

pub type Result<T, E = CatalogError> = std::result::Result<T, E>;

impl CatalogError {
    /// SQLite could not write because the disk (or the file size limit) is full.
    pub fn is_disk_full(&self) -> bool {
        matches!(
            self,
            CatalogError::Sqlite {
                error: rusqlite::Error::SqliteFailure(e, _),
                ..
            } if e.code == rusqlite::ErrorCode::DiskFull
        )
    }
}

/// A handle on the catalog; cheap to clone, safe to share between threads.
///
/// Methods are blocking (short SQLite transactions): async callers wrap them in
/// `spawn_blocking`.
#[derive(Clone)]
pub struct Catalog {
    conn: Arc<Mutex<Connection>>,
    data_dir: PathBuf,
    path: PathBuf,
}

/// Row counts for `/api/status` and `/metrics`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub shows: u64,
    pub queued: u64,
    pub processing: u64,
    pub ready: u64,
    pub failed: u64,
    pub tokens: u64,
}

impl Catalog {
    /// Opens (creating if needed) the catalog under `data_dir` and applies pending migrations.
    pub fn open(data_dir: &Path) -> Result<Catalog> {
        std::fs::create_dir_all(data_dir).map_err(|e| CatalogError::DataDir(data_dir.into(), e))?;
        let path = data_dir.join(CATALOG_FILE);
        let sql = |source| CatalogError::Sqlite {
            path: path.clone(),
            error: source,
        };
        let mut conn = Connection::open(&path).map_err(sql)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(sql)?;
        // WAL: readers never block the writer; FULL: a committed transaction survives a power cut.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sql)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(sql)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(sql)?;
        migrations::apply(&mut conn, &path)?;
        Ok(Catalog {
            conn: Arc::new(Mutex::new(conn)),
            data_dir: data_dir.to_path_buf(),
            path,
        })
    }

    /// The folder holding the catalog, originals and renditions.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The schema version in force.
    pub fn schema_version(&self) -> Result<u32> {
        let conn = self.lock();
        migrations::version(&conn).map_err(|e| self.err(e))
    }

    /// Makes the catalog's show list match the schedule's (title updates, new shows).
    pub fn sync_shows(&self, shows: &[(String, String)], now: jiff::Timestamp) -> Result<()> {
        self.write(|tx| {
            for (slug, title) in shows {
                tx.execute(
                    "INSERT INTO shows (slug, title, updated_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT(slug) DO UPDATE SET title = excluded.title, updated_at = excluded.updated_at",
                    rusqlite::params![slug, title, now.as_second()],
                )?;
            }
            Ok(())
        })
    }

    /// Counts for status pages.
    pub fn counts(&self) -> Result<Counts> {
        let conn = self.lock();
        let one = |sql: &str| -> rusqlite::Result<u64> {
            conn.query_row(sql, [], |r| r.get::<_, i64>(0))
                .map(|n| n as u64)
        };
        let by_status = |s: &str| -> rusqlite::Result<u64> {
            conn.query_row(
                "SELECT COUNT(*) FROM episodes WHERE status = ?1 AND published = 1",
                [s],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
        };
        (|| {
            Ok(Counts {
                shows: one("SELECT COUNT(*) FROM shows")?,
                queued: by_status("queued")?,
                processing: by_status("processing")?,
                ready: by_status("ready")?,
                failed: by_status("failed")?,
                tokens: one("SELECT COUNT(*) FROM tokens WHERE revoked_at IS NULL")?,
            })
        })()
        .map_err(|e| self.err(e))
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written (transactions roll
        // back on drop), so a poisoned lock is still a usable connection.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn err(&self, source: rusqlite::Error) -> CatalogError {
        CatalogError::Sqlite {
            path: self.path.clone(),
            error: source,
        }
    }

    /// Runs `f` in one IMMEDIATE transaction: all of it is committed, or none.
    fn write<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<T>,
    ) -> Result<T> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        let out = f(&tx).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(out)
    }

    fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        let conn = self.lock();
        f(&conn).map_err(|e| self.err(e))
    }
}
