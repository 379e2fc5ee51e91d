//! Episodes: one recording a volunteer sent, its metadata, its processing status and its
//! published rendition. The id is a UUID fixed at creation: it is the feed guid forever.

use rusqlite::{OptionalExtension, Row, params};

use super::{Catalog, CatalogError, Result, TranscriptKind};

/// Where an episode is in the ingest pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpisodeStatus {
    Queued,
    Processing,
    Ready,
    Failed,
}

impl EpisodeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EpisodeStatus::Queued => "queued",
            EpisodeStatus::Processing => "processing",
            EpisodeStatus::Ready => "ready",
            EpisodeStatus::Failed => "failed",
        }
    }

    fn parse(s: &str) -> EpisodeStatus {
        match s {
            "queued" => EpisodeStatus::Queued,
            "processing" => EpisodeStatus::Processing,
            "ready" => EpisodeStatus::Ready,
            // The CHECK constraint admits nothing else.
            _ => EpisodeStatus::Failed,
        }
    }
}

/// A loudness measurement as stored (the full report lives in `audio`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Loudness {
    pub integrated_lufs: f64,
    pub loudness_range_lu: f64,
    pub true_peak_dbtp: f64,
    pub sample_peak_dbfs: f64,
}

/// One episode row.
#[derive(Debug, Clone, PartialEq)]
pub struct Episode {
    pub id: String,
    pub show: String,
    pub title: String,
    pub description: String,
    /// The date the volunteer gave (`YYYY-MM-DD`), if any.
    pub date: Option<String>,
    pub season: Option<u32>,
    pub episode: Option<u32>,
    pub status: EpisodeStatus,
    pub error: Option<String>,
    pub published: bool,
    pub original_sha256: String,
    /// Relative to `data_dir`.
    pub original_path: String,
    pub original_bytes: u64,
    /// The name the client gave, for display only (never used as a path).
    pub original_name: Option<String>,
    /// Relative to `data_dir`; set once ready.
    pub rendition_path: Option<String>,
    pub rendition_bytes: Option<u64>,
    pub duration_ms: Option<u64>,
    pub before: Option<Loudness>,
    pub after: Option<Loudness>,
    pub gain_db: Option<f64>,
    /// Relative to `data_dir`.
    pub transcript_path: Option<String>,
    /// Stored as its MIME type; a stored type no [`TranscriptKind`] reads is no transcript.
    pub transcript_type: Option<TranscriptKind>,
    pub chapters_path: Option<String>,
    pub artwork_path: Option<String>,
    pub created_at: jiff::Timestamp,
    pub updated_at: jiff::Timestamp,
    pub ready_at: Option<jiff::Timestamp>,
    /// The live occurrence this episode is the recording of ([`Catalog::set_occurrence`]).
    pub occurrence_id: Option<String>,
}

/// What an uploader or `antenne ingest` provides for a new episode; its original is already
/// stored (fsynced) at `original_path` under `data_dir`.
#[derive(Debug, Clone, Default)]
pub struct NewEpisode {
    pub id: String,
    pub show: String,
    pub title: String,
    pub description: String,
    pub date: Option<String>,
    pub season: Option<u32>,
    pub episode: Option<u32>,
    pub original_sha256: String,
    pub original_path: String,
    pub original_bytes: u64,
    pub original_name: Option<String>,
    pub transcript_path: Option<String>,
    pub transcript_type: Option<TranscriptKind>,
    pub chapters_path: Option<String>,
    pub artwork_path: Option<String>,
}

/// Metadata edits (`PATCH`); `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct MetadataPatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub date: Option<Option<String>>,
    pub season: Option<Option<u32>>,
    pub episode: Option<Option<u32>>,
}

/// A new recording for an existing episode ([`Catalog::replace_original`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOriginal {
    pub sha256: String,
    /// Relative to `data_dir`.
    pub path: String,
    pub bytes: u64,
    /// The client's file name, if any.
    pub name: Option<String>,
}

/// Which episodes to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct EpisodeQuery {
    pub show: Option<String>,
    pub status: Option<EpisodeStatus>,
    /// Include unpublished (deleted) episodes.
    pub include_unpublished: bool,
    pub limit: Option<u32>,
    pub offset: u32,
}

pub(super) const COLUMNS: &str =
    "id, show, title, description, date, season, episode, status, error, published,
    original_sha256, original_path, original_bytes, original_name, rendition_path, rendition_bytes,
    duration_ms, before_lufs, before_lra, before_tp, before_peak, after_lufs, after_lra, after_tp,
    after_peak, gain_db, transcript_path, transcript_type, chapters_path, artwork_path, created_at,
    updated_at, ready_at, occurrence_id";

fn ts(secs: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(secs).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

fn loudness(row: &Row<'_>, first: usize) -> rusqlite::Result<Option<Loudness>> {
    let v: [Option<f64>; 4] = [
        row.get(first)?,
        row.get(first + 1)?,
        row.get(first + 2)?,
        row.get(first + 3)?,
    ];
    Ok(match v {
        [Some(i), Some(l), Some(t), Some(p)] => Some(Loudness {
            integrated_lufs: i,
            loudness_range_lu: l,
            true_peak_dbtp: t,
            sample_peak_dbfs: p,
        }),
        _ => None,
    })
}

pub(super) fn from_row(row: &Row<'_>) -> rusqlite::Result<Episode> {
    Ok(Episode {
        id: row.get(0)?,
        show: row.get(1)?,
        title: row.get(2)?,
        description: row.get(3)?,
        date: row.get(4)?,
        season: row.get(5)?,
        episode: row.get(6)?,
        status: EpisodeStatus::parse(&row.get::<_, String>(7)?),
        error: row.get(8)?,
        published: row.get(9)?,
        original_sha256: row.get(10)?,
        original_path: row.get(11)?,
        original_bytes: row.get::<_, i64>(12)? as u64,
        original_name: row.get(13)?,
        rendition_path: row.get(14)?,
        rendition_bytes: row.get::<_, Option<i64>>(15)?.map(|n| n as u64),
        duration_ms: row.get::<_, Option<i64>>(16)?.map(|n| n as u64),
        before: loudness(row, 17)?,
        after: loudness(row, 21)?,
        gain_db: row.get(25)?,
        transcript_path: row.get(26)?,
        transcript_type: row
            .get::<_, Option<String>>(27)?
            .as_deref()
            .and_then(TranscriptKind::from_mime),
        chapters_path: row.get(28)?,
        artwork_path: row.get(29)?,
        created_at: ts(row.get(30)?),
        updated_at: ts(row.get(31)?),
        ready_at: row.get::<_, Option<i64>>(32)?.map(ts),
        occurrence_id: row.get(33)?,
    })
}

impl Catalog {
    /// The episode whose original has this sha256, if it was uploaded before.
    pub fn find_by_sha256(&self, sha256: &str) -> Result<Option<Episode>> {
        self.read(|c| {
            c.query_row(
                &format!("SELECT {COLUMNS} FROM episodes WHERE original_sha256 = ?1"),
                [sha256],
                from_row,
            )
            .optional()
        })
    }

    /// Inserts a queued episode and its ingest job in one transaction.
    ///
    /// Fails with [`CatalogError::Duplicate`] when the same original (sha256) exists.
    pub fn create_episode(&self, new: &NewEpisode, now: jiff::Timestamp) -> Result<Episode> {
        if let Some(existing) = self.find_by_sha256(&new.original_sha256)? {
            return Err(CatalogError::Duplicate(existing.id));
        }
        let t = now.as_second();
        self.write(|tx| {
            tx.execute(
                "INSERT INTO episodes (id, show, title, description, date, season, episode, status,
                    original_sha256, original_path, original_bytes, original_name, transcript_path,
                    transcript_type, chapters_path, artwork_path, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'queued', ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?16)",
                params![
                    new.id,
                    new.show,
                    new.title,
                    new.description,
                    new.date,
                    new.season,
                    new.episode,
                    new.original_sha256,
                    new.original_path,
                    new.original_bytes as i64,
                    new.original_name,
                    new.transcript_path,
                    new.transcript_type,
                    new.chapters_path,
                    new.artwork_path,
                    t
                ],
            )?;
            tx.execute(
                "INSERT INTO jobs (episode_id, state, created_at) VALUES (?1, 'queued', ?2)",
                params![new.id, t],
            )?;
            tx.query_row(
                &format!("SELECT {COLUMNS} FROM episodes WHERE id = ?1"),
                [&new.id],
                from_row,
            )
        })
    }

    /// One episode by id, published or not.
    pub fn episode(&self, id: &str) -> Result<Option<Episode>> {
        self.read(|c| {
            c.query_row(
                &format!("SELECT {COLUMNS} FROM episodes WHERE id = ?1"),
                [id],
                from_row,
            )
            .optional()
        })
    }

    /// Episodes matching `q`, newest first (by the volunteer's date, then creation).
    pub fn list_episodes(&self, q: &EpisodeQuery) -> Result<Vec<Episode>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM episodes
                 WHERE (?1 IS NULL OR show = ?1) AND (?2 IS NULL OR status = ?2)
                   AND (?3 OR published = 1)
                 ORDER BY COALESCE(date, '') DESC, created_at DESC, id
                 LIMIT ?4 OFFSET ?5"
            ))?;
            let rows = stmt.query_map(
                params![
                    q.show,
                    q.status.map(EpisodeStatus::as_str),
                    q.include_unpublished,
                    q.limit.map(i64::from).unwrap_or(-1),
                    q.offset
                ],
                from_row,
            )?;
            rows.collect()
        })
    }

    /// Applies a metadata edit; `None` when there is no such episode.
    pub fn update_metadata(
        &self,
        id: &str,
        patch: &MetadataPatch,
        now: jiff::Timestamp,
    ) -> Result<Option<Episode>> {
        self.write(|tx| {
            let Some(mut e) = tx
                .query_row(
                    &format!("SELECT {COLUMNS} FROM episodes WHERE id = ?1"),
                    [id],
                    from_row,
                )
                .optional()?
            else {
                return Ok(None);
            };
            if let Some(t) = &patch.title {
                e.title = t.clone();
            }
            if let Some(d) = &patch.description {
                e.description = d.clone();
            }
            if let Some(d) = &patch.date {
                e.date = d.clone();
            }
            if let Some(s) = patch.season {
                e.season = s;
            }
            if let Some(n) = patch.episode {
                e.episode = n;
            }
            e.updated_at = now;
            tx.execute(
                "UPDATE episodes SET title = ?2, description = ?3, date = ?4, season = ?5,
                    episode = ?6, updated_at = ?7 WHERE id = ?1",
                params![
                    id,
                    e.title,
                    e.description,
                    e.date,
                    e.season,
                    e.episode,
                    now.as_second()
                ],
            )?;
            Ok(Some(e))
        })
    }

    /// Unpublishes an episode: it leaves feeds and listings, its id is never reused.
    /// Returns false when there is no such episode.
    pub fn unpublish(&self, id: &str, now: jiff::Timestamp) -> Result<bool> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE episodes SET published = 0, updated_at = ?2 WHERE id = ?1",
                params![id, now.as_second()],
            )?;
            Ok(n == 1)
        })
    }

    /// Replaces a ready or failed episode's recording (the console's "replace the audio"):
    /// the new original's hash, path, size and name, and the episode queued again with a new
    /// job (same id, same feed guid). Returns the old original's path, or `None` when there is
    /// no such episode or its job is queued or running (it would render the old one).
    /// [`CatalogError::Duplicate`] when another episode already has this recording.
    pub fn replace_original(
        &self,
        id: &str,
        original: &NewOriginal,
        now: jiff::Timestamp,
    ) -> Result<Option<String>> {
        if let Some(other) = self.find_by_sha256(&original.sha256)?
            && other.id != id
        {
            return Err(CatalogError::Duplicate(other.id));
        }
        self.write(|tx| {
            let old: Option<String> = tx
                .query_row(
                    "SELECT original_path FROM episodes WHERE id = ?1 AND status IN ('ready', 'failed')",
                    [id],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(old) = old else { return Ok(None) };
            let t = now.as_second();
            tx.execute(
                "UPDATE episodes SET original_sha256 = ?2, original_path = ?3, original_bytes = ?4,
                    original_name = ?5, status = 'queued', error = NULL, updated_at = ?6
                 WHERE id = ?1",
                params![
                    id,
                    original.sha256,
                    original.path,
                    original.bytes as i64,
                    original.name,
                    t
                ],
            )?;
            tx.execute(
                "INSERT INTO jobs (episode_id, state, created_at) VALUES (?1, 'queued', ?2)",
                params![id, t],
            )?;
            Ok(Some(old))
        })
    }

    /// Publishes an unpublished episode again (the console's "republish"); false when there
    /// is no such episode.
    pub fn republish(&self, id: &str, now: jiff::Timestamp) -> Result<bool> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE episodes SET published = 1, updated_at = ?2 WHERE id = ?1",
                params![id, now.as_second()],
            )?;
            Ok(n == 1)
        })
    }

    /// Records that episode `id` is the recording of live occurrence `occurrence` (its feed
    /// item, once the occurrence has ended, points to the episode). An occurrence has one
    /// recording: a second episode for it is refused.
    pub fn set_occurrence(&self, id: &str, occurrence: &str, now: jiff::Timestamp) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE episodes SET occurrence_id = ?2, updated_at = ?3 \
                 WHERE id = ?1 AND (occurrence_id IS NULL OR occurrence_id = ?2)",
                params![id, occurrence, now.as_second()],
            )?;
            Ok(())
        })
    }

    /// The episode recorded from live occurrence `occurrence`, if any.
    pub fn episode_of_occurrence(&self, occurrence: &str) -> Result<Option<String>> {
        self.read(|c| {
            c.query_row(
                "SELECT id FROM episodes WHERE occurrence_id = ?1",
                [occurrence],
                |r| r.get(0),
            )
            .optional()
        })
    }

    /// Records which episode an occurrence of the schedule plays, once: the first choice
    /// stands, so a restart mid-show plays the same episode. Returns the episode chosen.
    pub fn airing_for(
        &self,
        occurrence_id: &str,
        choose: Option<&str>,
        now: jiff::Timestamp,
    ) -> Result<Option<String>> {
        self.write(|tx| {
            if let Some(id) = choose {
                tx.execute(
                    "INSERT OR IGNORE INTO airings (occurrence_id, episode_id, started_at)
                     VALUES (?1, ?2, ?3)",
                    params![occurrence_id, id, now.as_second()],
                )?;
            }
            tx.query_row(
                "SELECT episode_id FROM airings WHERE occurrence_id = ?1",
                [occurrence_id],
                |r| r.get(0),
            )
            .optional()
        })
    }

    /// Ready, published episodes of `show` that never aired, newest first.
    pub fn unaired_ready(&self, show: &str) -> Result<Vec<Episode>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM episodes e
                 WHERE show = ?1 AND status = 'ready' AND published = 1
                   AND NOT EXISTS (SELECT 1 FROM airings a WHERE a.episode_id = e.id)
                 ORDER BY COALESCE(date, '') DESC, created_at DESC"
            ))?;
            let rows = stmt.query_map([show], from_row)?;
            rows.collect()
        })
    }

    /// The ready, published episode of `show` whose first airing is the most recent.
    pub fn last_premiered(&self, show: &str) -> Result<Option<Episode>> {
        self.read(|c| {
            c.query_row(
                &format!(
                    "SELECT {COLUMNS} FROM episodes e
                     JOIN (SELECT episode_id, MIN(started_at) AS first FROM airings GROUP BY episode_id) a
                       ON a.episode_id = e.id
                     WHERE show = ?1 AND status = 'ready' AND published = 1
                     ORDER BY a.first DESC LIMIT 1"
                ),
                [show],
                from_row,
            )
            .optional()
        })
    }
}

impl Catalog {
    /// Every file path (relative to `data_dir`) an episode refers to, published or not: what a
    /// sweep of orphan files must never remove.
    pub fn referenced_files(&self) -> Result<std::collections::HashSet<String>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT original_path, rendition_path, transcript_path, chapters_path, artwork_path
                 FROM episodes",
            )?;
            let mut out = std::collections::HashSet::new();
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                for i in 0..5 {
                    if let Some(p) = row.get::<_, Option<String>>(i)? {
                        out.insert(p);
                    }
                }
            }
            Ok(out)
        })
    }
}
