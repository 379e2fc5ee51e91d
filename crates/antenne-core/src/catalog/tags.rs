//! The tags of each aired content (title, artist, album, composer, label, ISRC, year), read
//! once per SHA-256 by the airplay writer and kept here for the music declaration. A file
//! renamed or copied keeps its tags; one whose bytes change is a new content.

use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use super::{Catalog, Result};

/// What a file's tags say (every field optional: many files carry few of them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MediaTags {
    pub title: Option<String>,
    /// The performer.
    pub artist: Option<String>,
    pub album: Option<String>,
    /// Authors and composers, as the file gives them.
    pub composer: Option<String>,
    /// The label or publisher.
    pub publisher: Option<String>,
    pub isrc: Option<String>,
    pub year: Option<u32>,
    /// The file's own duration, when the container says.
    pub duration_ms: Option<u64>,
}

impl MediaTags {
    /// A declaration needs at least a title and a performer; without them the file is
    /// flagged for the operators to fix.
    pub fn is_tagged(&self) -> bool {
        let some = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
        some(&self.title) && some(&self.artist)
    }

    /// Reads the columns `title, artist, album, composer, publisher, isrc, year, duration_ms`
    /// from `first` on.
    pub(super) fn from_row(r: &Row<'_>, first: usize) -> rusqlite::Result<MediaTags> {
        Ok(MediaTags {
            title: r.get(first)?,
            artist: r.get(first + 1)?,
            album: r.get(first + 2)?,
            composer: r.get(first + 3)?,
            publisher: r.get(first + 4)?,
            isrc: r.get(first + 5)?,
            year: r.get::<_, Option<i64>>(first + 6)?.map(|y| y as u32),
            duration_ms: r.get::<_, Option<i64>>(first + 7)?.map(|d| d as u64),
        })
    }
}

impl Catalog {
    /// The tags recorded for content `sha256`, if it was read.
    pub fn media_tags(&self, sha256: &str) -> Result<Option<MediaTags>> {
        self.read(|c| {
            c.query_row(
                "SELECT title, artist, album, composer, publisher, isrc, year, duration_ms
                 FROM media_tags WHERE sha256 = ?1",
                [sha256],
                |r| MediaTags::from_row(r, 0),
            )
            .optional()
        })
    }

    /// Stores the tags of content `sha256` (replacing older ones), read at `now`.
    pub fn record_media_tags(
        &self,
        sha256: &str,
        tags: &MediaTags,
        now: jiff::Timestamp,
    ) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT OR REPLACE INTO media_tags
                 (sha256, title, artist, album, composer, publisher, isrc, year, duration_ms,
                  read_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    sha256,
                    tags.title,
                    tags.artist,
                    tags.album,
                    tags.composer,
                    tags.publisher,
                    tags.isrc,
                    tags.year.map(i64::from),
                    tags.duration_ms.map(|d| d as i64),
                    now.as_second()
                ],
            )?;
            Ok(())
        })
    }
}
