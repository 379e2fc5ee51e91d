//! The loudness cache of the media folder (beds, idents, specials, playlist tracks): figures
//! per content hash (SHA-256), so a file renamed or copied is not analysed again, and the hash
//! of each path as last seen with its size and mtime, so an unchanged file is not hashed again.

use rusqlite::{OptionalExtension, params};

use super::{Catalog, Result};

/// What a file looked like when it was hashed: a different size or mtime means new content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    pub size: u64,
    pub mtime_ns: i64,
}

/// The analysed figures of one content.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MediaLoudness {
    /// LUFS; `None` for digital silence.
    pub integrated_lufs: Option<f64>,
    pub true_peak_dbtp: f64,
    pub duration_ms: u64,
    /// Unix seconds.
    pub analysed_at: i64,
}

impl Catalog {
    /// The hash recorded for `path` if the file still has `stamp`.
    pub fn media_hash(&self, path: &str, stamp: FileStamp) -> Result<Option<String>> {
        self.read(|c| {
            c.query_row(
                "SELECT sha256 FROM media_files WHERE path = ?1 AND size = ?2 AND mtime_ns = ?3",
                params![path, stamp.size as i64, stamp.mtime_ns],
                |r| r.get(0),
            )
            .optional()
        })
    }

    /// Records that `path`, as `stamp`, holds the content `sha256`.
    pub fn record_media_hash(&self, path: &str, stamp: FileStamp, sha256: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO media_files (path, size, mtime_ns, sha256) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(path) DO UPDATE SET size = excluded.size,
                     mtime_ns = excluded.mtime_ns, sha256 = excluded.sha256",
                params![path, stamp.size as i64, stamp.mtime_ns, sha256],
            )?;
            Ok(())
        })
    }

    /// The figures of content `sha256`, if it was analysed.
    pub fn media_loudness(&self, sha256: &str) -> Result<Option<MediaLoudness>> {
        self.read(|c| {
            c.query_row(
                "SELECT integrated_lufs, true_peak_dbtp, duration_ms, analysed_at
                 FROM media_loudness WHERE sha256 = ?1",
                [sha256],
                |r| {
                    Ok(MediaLoudness {
                        integrated_lufs: r.get(0)?,
                        true_peak_dbtp: r.get(1)?,
                        duration_ms: r.get::<_, i64>(2)? as u64,
                        analysed_at: r.get(3)?,
                    })
                },
            )
            .optional()
        })
    }

    /// Stores the figures of content `sha256` (replacing older ones).
    pub fn record_media_loudness(&self, sha256: &str, l: &MediaLoudness) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT OR REPLACE INTO media_loudness
                 (sha256, integrated_lufs, true_peak_dbtp, duration_ms, analysed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    sha256,
                    l.integrated_lufs,
                    l.true_peak_dbtp,
                    l.duration_ms as i64,
                    l.analysed_at
                ],
            )?;
            Ok(())
        })
    }

    /// How many contents have figures (tests, status).
    pub fn media_analysed(&self) -> Result<u64> {
        self.read(|c| {
            c.query_row("SELECT COUNT(*) FROM media_loudness", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| n as u64)
        })
    }
}
