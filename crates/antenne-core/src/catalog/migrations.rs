//! Versioned schema migrations, applied in order at start (`PRAGMA user_version` holds the
//! version). Each migration runs in its own transaction with the version bump, so a crash
//! mid-migration leaves the previous version intact.

use std::path::Path;

use rusqlite::Connection;

use super::CatalogError;

/// Every migration, in order; index + 1 is the schema version it produces. Never edit a
/// published entry: append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: the first schema.
    "CREATE TABLE shows (
        slug TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE TABLE episodes (
        id TEXT PRIMARY KEY,
        show TEXT NOT NULL,
        title TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        date TEXT,
        season INTEGER,
        episode INTEGER,
        status TEXT NOT NULL CHECK (status IN ('queued', 'processing', 'ready', 'failed')),
        error TEXT,
        published INTEGER NOT NULL DEFAULT 1,
        original_sha256 TEXT NOT NULL UNIQUE,
        original_path TEXT NOT NULL,
        original_bytes INTEGER NOT NULL,
        original_name TEXT,
        rendition_path TEXT,
        rendition_bytes INTEGER,
        duration_ms INTEGER,
        before_lufs REAL, before_lra REAL, before_tp REAL, before_peak REAL,
        after_lufs REAL, after_lra REAL, after_tp REAL, after_peak REAL,
        gain_db REAL,
        transcript_path TEXT,
        transcript_type TEXT,
        chapters_path TEXT,
        artwork_path TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        ready_at INTEGER,
        CHECK (status != 'ready' OR (rendition_path IS NOT NULL AND rendition_bytes IS NOT NULL))
    );
    CREATE INDEX episodes_show ON episodes (show, status, published);
    CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        episode_id TEXT NOT NULL REFERENCES episodes (id),
        state TEXT NOT NULL CHECK (state IN ('queued', 'processing', 'done', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        progress REAL NOT NULL DEFAULT 0,
        error TEXT,
        created_at INTEGER NOT NULL,
        started_at INTEGER,
        finished_at INTEGER
    );
    CREATE INDEX jobs_state ON jobs (state, id);
    CREATE TABLE tokens (
        name TEXT PRIMARY KEY,
        hash TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
    );
    CREATE TABLE token_shows (
        token TEXT NOT NULL REFERENCES tokens (name),
        show TEXT NOT NULL,
        PRIMARY KEY (token, show)
    );
    CREATE TABLE airings (
        occurrence_id TEXT PRIMARY KEY,
        episode_id TEXT NOT NULL REFERENCES episodes (id),
        started_at INTEGER NOT NULL
    );
    CREATE TABLE downloads (
        episode_id TEXT NOT NULL REFERENCES episodes (id),
        listener TEXT NOT NULL,
        counted_at INTEGER NOT NULL
    );
    CREATE INDEX downloads_episode ON downloads (episode_id);",
    // 2: live sources (issue 14): tokens that may go on air, and the episode a live
    // occurrence was recorded as.
    "ALTER TABLE tokens ADD COLUMN live INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE episodes ADD COLUMN occurrence_id TEXT;
    CREATE UNIQUE INDEX episodes_occurrence ON episodes (occurrence_id)
        WHERE occurrence_id IS NOT NULL;",
    // 3: loudness of the media folder's files (issue 15), keyed by content hash, and the hash
    // of each file as last seen (redone when its size or mtime changes).
    "CREATE TABLE media_loudness (
        sha256 TEXT PRIMARY KEY,
        integrated_lufs REAL,
        true_peak_dbtp REAL NOT NULL,
        duration_ms INTEGER NOT NULL,
        analysed_at INTEGER NOT NULL
    );
    CREATE TABLE media_files (
        path TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        sha256 TEXT NOT NULL
    );",
    // 4: the airplay log (issue 16): every item that airs, exact in frames, and the tags of
    // each content (read once per SHA-256) for the music declaration.
    "CREATE TABLE airplay (
        id INTEGER PRIMARY KEY,
        start_frame INTEGER NOT NULL,
        sample_rate INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        ended_at INTEGER,
        frames INTEGER,
        kind TEXT NOT NULL
            CHECK (kind IN ('episode', 'track', 'bed', 'ident', 'live', 'special')),
        show TEXT,
        show_title TEXT NOT NULL,
        occurrence_id TEXT,
        episode_id TEXT,
        title TEXT NOT NULL,
        path TEXT,
        file_offset INTEGER,
        sha256 TEXT,
        UNIQUE (start_frame, sample_rate)
    );
    CREATE INDEX airplay_started ON airplay (started_at);
    CREATE TABLE media_tags (
        sha256 TEXT PRIMARY KEY,
        title TEXT,
        artist TEXT,
        album TEXT,
        composer TEXT,
        publisher TEXT,
        isrc TEXT,
        year INTEGER,
        duration_ms INTEGER,
        read_at INTEGER NOT NULL
    );",
    // 5: the operators' console (issue 17): every change made from it, who (the token's
    // name), when and what. Sessions stay in memory (`http::console::session`).
    "CREATE TABLE console_audit (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        who TEXT NOT NULL,
        action TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT ''
    );",
    // 6: listener sessions (issue 16): when, on which output, from which family of client.
    // Nothing identifies a person: no address, no user agent, no token; a session is only
    // written once it has ended.
    "CREATE TABLE listener_sessions (
        id INTEGER PRIMARY KEY,
        output TEXT NOT NULL CHECK (output IN ('mp3', 'opus', 'hls')),
        client TEXT NOT NULL
            CHECK (client IN ('browser', 'app', 'vlc', 'smart_speaker', 'other')),
        started_ms INTEGER NOT NULL,
        ended_ms INTEGER NOT NULL CHECK (ended_ms >= started_ms)
    );
    CREATE INDEX listener_sessions_end ON listener_sessions (ended_ms);
    CREATE INDEX downloads_counted ON downloads (counted_at);",
];

/// The schema version this build knows.
pub fn latest() -> u32 {
    MIGRATIONS.len() as u32
}

pub fn version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// Brings the schema up to [`latest`], one transaction per step.
pub fn apply(conn: &mut Connection, path: &Path) -> Result<(), CatalogError> {
    let sql = |source| CatalogError::Sqlite {
        path: path.to_path_buf(),
        error: source,
    };
    let found = version(conn).map_err(sql)?;
    if found > latest() {
        return Err(CatalogError::TooNew {
            path: path.to_path_buf(),
            found,
            known: latest(),
        });
    }
    for (i, step) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction().map_err(sql)?;
        tx.execute_batch(step).map_err(sql)?;
        tx.pragma_update(None, "user_version", i as u32 + 1)
            .map_err(sql)?;
        tx.commit().map_err(sql)?;
        tracing::info!(version = i + 1, "catalog migrated");
    }
    Ok(())
}
