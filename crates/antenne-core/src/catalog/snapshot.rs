//! A consistent copy of the catalog taken while the station runs (SQLite's online backup),
//! and the list of the files that copy refers to: what a backup must hold for the copy to be
//! a working station.

use std::path::Path;

use rusqlite::{Connection, OpenFlags, backup::StepResult};

use super::{Catalog, CatalogError, Result};

/// What a snapshot holds: its schema version and the files it refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub schema: u32,
    /// Sorted by path.
    pub files: Vec<FileRef>,
}

/// A file of `data_dir` a catalog snapshot refers to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FileRef {
    /// Relative to `data_dir` (`renditions/ID.mp3`).
    pub path: String,
    /// Its size as the catalog records it (originals and renditions), to tell a file that
    /// was replaced after the snapshot from the one it describes.
    pub bytes: Option<u64>,
}

impl Catalog {
    /// Writes a consistent copy of the catalog to `dest` (a new, self-contained file: no WAL)
    /// and returns what that copy holds.
    ///
    /// The copy is read through a connection of its own, in one read transaction: writers
    /// (uploads, jobs) go on meanwhile (WAL) and are in the copy or not, whole.
    pub fn snapshot(&self, dest: &Path) -> Result<Snapshot> {
        let at = |path: &Path| {
            let path = path.to_path_buf();
            move |error| CatalogError::Sqlite { path, error }
        };
        let source = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(at(&self.path))?;
        source
            .busy_timeout(std::time::Duration::from_secs(5))
            .map_err(at(&self.path))?;
        let mut copy = Connection::open(dest).map_err(at(dest))?;
        {
            let backup = rusqlite::backup::Backup::new(&source, &mut copy).map_err(at(dest))?;
            // Every page in one step: one read transaction, so one instant of the catalog.
            let mut tries = 0;
            loop {
                match backup.step(-1).map_err(at(dest))? {
                    StepResult::Done => break,
                    StepResult::More | StepResult::Busy | StepResult::Locked if tries < 50 => {
                        tries += 1;
                        std::thread::sleep(std::time::Duration::from_millis(100));
                    }
                    _ => {
                        return Err(CatalogError::Sqlite {
                            path: self.path.clone(),
                            error: rusqlite::Error::SqliteFailure(
                                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                                Some("the catalog stayed locked during the backup".into()),
                            ),
                        });
                    }
                }
            }
        }
        // One file that opens anywhere; `Catalog::open` turns WAL back on.
        copy.pragma_update(None, "journal_mode", "DELETE")
            .map_err(at(dest))?;
        let files = referenced(&copy).map_err(at(dest))?;
        let schema = super::migrations::version(&copy).map_err(at(dest))?;
        copy.close().map_err(|(_, e)| at(dest)(e))?;
        Ok(Snapshot { schema, files })
    }
}

/// Every file the episodes of `conn` name, with the sizes it records.
fn referenced(conn: &Connection) -> rusqlite::Result<Vec<FileRef>> {
    let mut stmt = conn.prepare(
        "SELECT original_path, original_bytes, rendition_path, rendition_bytes,
                transcript_path, chapters_path, artwork_path
         FROM episodes",
    )?;
    let mut out = Vec::new();
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let sized = |p: usize, b: usize| -> rusqlite::Result<Option<FileRef>> {
            Ok(row.get::<_, Option<String>>(p)?.map(|path| FileRef {
                path,
                bytes: row
                    .get::<_, Option<i64>>(b)
                    .ok()
                    .flatten()
                    .map(|b| b as u64),
            }))
        };
        out.extend(sized(0, 1)?);
        out.extend(sized(2, 3)?);
        for i in 4..7 {
            if let Some(path) = row.get::<_, Option<String>>(i)? {
                out.push(FileRef { path, bytes: None });
            }
        }
    }
    out.sort();
    out.dedup_by(|a, b| a.path == b.path);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::NewEpisode;

    fn new_episode(title: &str, sha: &str) -> NewEpisode {
        NewEpisode {
            id: format!("ep-{sha}"),
            show: "la-matinale".into(),
            title: title.into(),
            original_sha256: sha.into(),
            original_path: format!("originals/ep-{sha}.wav"),
            original_bytes: 1234,
            ..NewEpisode::default()
        }
    }

    #[test]
    fn a_snapshot_opens_as_a_catalog_and_names_its_files() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = Catalog::open(&dir.path().join("data")).unwrap();
        let now = jiff::Timestamp::from_second(1_800_000_000).unwrap();
        let ep = catalog
            .create_episode(&new_episode("Un", "abc"), now)
            .unwrap();
        let copy_dir = dir.path().join("copy");
        std::fs::create_dir(&copy_dir).unwrap();
        let snap = catalog
            .snapshot(&copy_dir.join(crate::catalog::CATALOG_FILE))
            .unwrap();
        assert_eq!(snap.schema, super::super::migrations::latest());
        assert_eq!(
            snap.files,
            [FileRef {
                path: ep.original_path.clone(),
                bytes: Some(ep.original_bytes)
            }]
        );
        // Written after the snapshot: not in it.
        catalog
            .create_episode(&new_episode("Deux", "def"), now)
            .unwrap();
        let names: Vec<_> = std::fs::read_dir(&copy_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(
            names,
            [crate::catalog::CATALOG_FILE],
            "no WAL beside the copy"
        );
        let copy = Catalog::open(&copy_dir).unwrap();
        let all = copy
            .list_episodes(&crate::catalog::EpisodeQuery::default())
            .unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].id, ep.id);
    }
}
