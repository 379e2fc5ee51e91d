//! Taking a backup of a running station: the catalog as of one instant (SQLite's online
//! backup), then exactly the files that instant refers to.
//!
//! Renditions and originals are written to a temporary file and renamed, so a file the
//! snapshot names is whole whenever it is read. A file deleted or replaced between the
//! snapshot and its copy (an episode rendered again) would make the backup disagree with its
//! catalog: the copy is then started over from a new snapshot, a few times at most.

use std::path::{Component, Path, PathBuf};

use super::copy::{copy_hashed, copy_settled, files_under, sync_tree};
use super::manifest::{Entry, FORMAT, MANIFEST, Manifest, VERSION};
use super::{BackupConfig, BackupError, io};
use crate::catalog::{CATALOG_FILE, Catalog};

/// Attempts at a backup whose catalog and files agree before giving up.
const ATTEMPTS: u32 = 3;

/// A backup written and renamed into place.
#[derive(Debug, Clone)]
pub struct Taken {
    pub path: PathBuf,
    pub manifest: Manifest,
    /// How many snapshots it took (more than one: the catalog changed under the first).
    pub attempts: u32,
}

/// Writes a backup of the station to `dest`, a folder that must not exist yet.
pub fn take(
    catalog: &Catalog,
    config: &BackupConfig,
    dest: &Path,
    now: jiff::Timestamp,
) -> Result<Taken, BackupError> {
    if dest.exists() {
        return Err(BackupError::Refused(format!(
            "{} already exists: a backup goes into a new folder",
            dest.display()
        )));
    }
    let name = dest
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| BackupError::Refused(format!("{} is not a folder name", dest.display())))?;
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(io(&parent))?;
    let tmp = parent.join(format!(".{name}.partial-{}", std::process::id()));
    let result = (|| {
        let mut attempt = 1;
        loop {
            if tmp.exists() {
                std::fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
            }
            std::fs::create_dir_all(&tmp).map_err(io(&tmp))?;
            match write_once(catalog, config, &tmp, now)? {
                Ok(manifest) => return Ok((manifest, attempt)),
                Err(changed) if attempt < ATTEMPTS => {
                    tracing::info!(file = %changed, attempt, "changed during the backup; again");
                    attempt += 1;
                }
                Err(changed) => {
                    return Err(BackupError::Refused(format!(
                        "the station kept changing during {ATTEMPTS} attempts ({changed}); try again"
                    )));
                }
            }
        }
    })();
    let (manifest, attempts) = match result {
        Ok(ok) => ok,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e);
        }
    };
    let finish = || -> Result<(), BackupError> {
        sync_tree(&tmp).map_err(io(&tmp))?;
        std::fs::rename(&tmp, dest).map_err(io(dest))?;
        std::fs::File::open(&parent)
            .and_then(|d| d.sync_all())
            .map_err(io(&parent))
    };
    if let Err(e) = finish() {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    Ok(Taken {
        path: dest.to_path_buf(),
        manifest,
        attempts,
    })
}

/// One attempt: `Ok(Err(file))` when `file` changed after the snapshot.
fn write_once(
    catalog: &Catalog,
    config: &BackupConfig,
    tmp: &Path,
    now: jiff::Timestamp,
) -> Result<Result<Manifest, String>, BackupError> {
    let data = tmp.join("data");
    std::fs::create_dir_all(&data).map_err(io(&data))?;
    let mut files = Vec::new();
    let catalog_copy = data.join(CATALOG_FILE);
    let snapshot = catalog.snapshot(&catalog_copy)?;
    // The snapshot is a file of the backup like any other: hashed as it is read back.
    let c = super::copy::hash_file(&catalog_copy).map_err(io(&catalog_copy))?;
    files.push(Entry {
        path: format!("data/{CATALOG_FILE}"),
        bytes: c.bytes,
        sha256: c.sha256,
    });
    // `expect`: the size the catalog records; `settled`: a small file edited in place.
    let mut add = |rel: String,
                   from: &Path,
                   expect: Option<u64>,
                   settled: bool|
     -> Result<Option<()>, BackupError> {
        let to = tmp.join(&rel);
        let copied = if settled {
            copy_settled(from, &to)
        } else {
            copy_hashed(from, &to)
        };
        match copied {
            Ok(c) if expect.is_some_and(|b| b != c.bytes) => Ok(None),
            Ok(c) => {
                files.push(Entry {
                    path: rel,
                    bytes: c.bytes,
                    sha256: c.sha256,
                });
                Ok(Some(()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(from)(e)),
        }
    };
    let data_dir = &config.data_dir;
    for r in snapshot.files {
        if !safe_relative(&r.path) {
            tracing::warn!(file = %r.path, "the catalog names a file outside data_dir; not backed up");
            continue;
        }
        if add(
            format!("data/{}", r.path),
            &data_dir.join(&r.path),
            r.bytes,
            false,
        )?
        .is_none()
        {
            return Ok(Err(r.path));
        }
    }
    for folder in &config.data_folders {
        let dir = data_dir.join(folder);
        for rel in files_under(&dir).map_err(io(&dir))? {
            // A recording handed to ingest meanwhile is gone: it is in the catalog's next
            // snapshot, not this one's.
            add(format!("data/{folder}/{rel}"), &dir.join(&rel), None, false)?;
        }
    }
    for file in &config.data_files {
        add(format!("data/{file}"), &data_dir.join(file), None, false)?;
    }
    // The configuration, laid out as it is around the settings file.
    let base = config.settings_file.as_ref().and_then(|f| f.parent());
    let place = |path: &Path, fallback: &str| -> String {
        base.and_then(|b| relative(path, b))
            .unwrap_or_else(|| fallback.to_string())
    };
    if let Some(settings) = &config.settings_file {
        let name = file_name(settings);
        add(format!("config/{name}"), settings, None, true)?;
    }
    let schedule_rel = place(&config.schedule, &file_name(&config.schedule));
    if add(
        format!("config/{schedule_rel}"),
        &config.schedule,
        None,
        true,
    )?
    .is_none()
    {
        return Err(BackupError::Refused(format!(
            "the schedule {} does not exist",
            config.schedule.display()
        )));
    }
    let history = &config.schedule_history;
    let history_rel = place(history, "history");
    for rel in files_under(history).map_err(io(history))? {
        add(
            format!("config/{history_rel}/{rel}"),
            &history.join(&rel),
            None,
            false,
        )?;
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let manifest = Manifest {
        format: FORMAT.into(),
        version: VERSION,
        antenne: env!("CARGO_PKG_VERSION").into(),
        created_at: now,
        catalog_schema: snapshot.schema,
        files,
    };
    let path = tmp.join(MANIFEST);
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&path).map_err(io(&path))?;
        f.write_all(&manifest.to_json()).map_err(io(&path))?;
        f.sync_all().map_err(io(&path))?;
    }
    Ok(Ok(manifest))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "schedule.toml".into())
}

/// `path` relative to `base` with `/` separators, when it is inside it.
fn relative(path: &Path, base: &Path) -> Option<String> {
    let rest = path.strip_prefix(base).ok()?;
    let parts: Option<Vec<&str>> = rest
        .components()
        .map(|c| match c {
            Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect();
    let parts = parts?;
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// A catalog path that stays inside `data_dir`.
fn safe_relative(rel: &str) -> bool {
    !rel.is_empty()
        && Path::new(rel)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}
