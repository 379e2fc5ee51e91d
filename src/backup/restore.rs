//! Restoring a backup: every file checked against the manifest first (size and SHA-256), and
//! nothing written unless all of them match; then the data into an empty folder, the
//! configuration into a folder where none of its files exists yet, and the catalog opened
//! (and migrated, for a backup of an older release).

use std::path::{Path, PathBuf};

use super::copy::{copy_hashed, hash_file, sync_tree};
use super::manifest::{MANIFEST, Manifest, Part};
use super::{BackupError, io};
use crate::catalog::{CATALOG_FILE, Catalog};

/// What a restore wrote.
#[derive(Debug, Clone)]
pub struct Restored {
    pub manifest: Manifest,
    /// Files written into the data folder.
    pub data_files: usize,
    /// Configuration files written (under the configuration folder).
    pub config_files: Vec<PathBuf>,
    /// Configuration files of the backup not restored (no configuration folder given).
    pub config_left: Vec<String>,
    /// The catalog's schema version after opening it (migrated when the backup was older).
    pub schema: u32,
}

/// Checks the backup at `src` against its manifest and restores it: its data into
/// `data_dir` (absent or empty), its configuration into `config_dir` when given.
pub fn restore(
    src: &Path,
    data_dir: &Path,
    config_dir: Option<&Path>,
) -> Result<Restored, BackupError> {
    let corrupted = |faults: Vec<String>| BackupError::Corrupted {
        src: src.to_path_buf(),
        faults,
    };
    if !src.is_dir() {
        return Err(BackupError::Refused(format!(
            "{} is not a folder: name a backup's folder (the one holding {MANIFEST})",
            src.display()
        )));
    }
    let manifest_path = src.join(MANIFEST);
    let bytes = match std::fs::read(&manifest_path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(corrupted(vec![format!(
                "{MANIFEST}: missing (is {} a backup folder?)",
                src.display()
            )]));
        }
        Err(e) => return Err(io(&manifest_path)(e)),
    };
    let manifest =
        Manifest::parse(&bytes).map_err(|e| corrupted(vec![format!("{MANIFEST}: {e}")]))?;

    // The targets first: refusing is cheaper than checking a large backup.
    if let Some(first) = std::fs::read_dir(data_dir)
        .ok()
        .and_then(|mut entries| entries.next())
    {
        let name = first.map(|e| e.file_name().to_string_lossy().into_owned());
        return Err(BackupError::Refused(format!(
            "{} is not empty ({}): a backup is restored into an empty folder only",
            data_dir.display(),
            name.unwrap_or_default()
        )));
    }
    if let Some(dir) = config_dir {
        for e in &manifest.files {
            if let Some((Part::Config, rest)) = e.place() {
                let target = dir.join(rest);
                if target.exists() {
                    return Err(BackupError::Refused(format!(
                        "{} already exists: move it away or restore the configuration elsewhere",
                        target.display()
                    )));
                }
            }
        }
    }

    // Every file, against the manifest; every fault at once.
    let mut faults = Vec::new();
    if !manifest
        .files
        .iter()
        .any(|e| e.path == format!("data/{CATALOG_FILE}"))
    {
        faults.push(format!("data/{CATALOG_FILE}: not in the manifest"));
    }
    for e in &manifest.files {
        if e.place().is_none() {
            faults.push(format!("{}: not a path a backup may hold", e.path));
            continue;
        }
        match hash_file(&src.join(&e.path)) {
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                faults.push(format!("{}: missing", e.path));
            }
            Err(err) => faults.push(format!("{}: cannot read it ({err})", e.path)),
            Ok(c) if c.bytes != e.bytes => faults.push(format!(
                "{}: {} bytes, the manifest says {}",
                e.path, c.bytes, e.bytes
            )),
            Ok(c) if c.sha256 != e.sha256 => {
                faults.push(format!("{}: SHA-256 differs from the manifest", e.path));
            }
            Ok(_) => {}
        }
    }
    if !faults.is_empty() {
        return Err(corrupted(faults));
    }

    std::fs::create_dir_all(data_dir).map_err(io(data_dir))?;
    let mut restored = Restored {
        manifest: manifest.clone(),
        data_files: 0,
        config_files: Vec::new(),
        config_left: Vec::new(),
        schema: 0,
    };
    for e in &manifest.files {
        let Some((part, rest)) = e.place() else {
            continue;
        };
        let target = match (part, config_dir) {
            (Part::Data, _) => data_dir.join(rest),
            (Part::Config, Some(dir)) => dir.join(rest),
            (Part::Config, None) => {
                restored.config_left.push(e.path.clone());
                continue;
            }
        };
        let from = src.join(&e.path);
        let c = copy_hashed(&from, &target).map_err(io(&target))?;
        // Read again while copying: a file changed since it was checked is caught here.
        if c.sha256 != e.sha256 {
            return Err(corrupted(vec![format!(
                "{}: changed while it was restored; {} is incomplete",
                e.path,
                data_dir.display()
            )]));
        }
        match part {
            Part::Data => restored.data_files += 1,
            Part::Config => restored.config_files.push(target),
        }
    }
    sync_tree(data_dir).map_err(io(data_dir))?;
    if let Some(dir) = config_dir
        && dir.exists()
    {
        sync_tree(dir).map_err(io(dir))?;
    }
    restored.schema = Catalog::open(data_dir)?.schema_version()?;
    Ok(restored)
}
