//! Accepting a recording: copy it untouched under `data_dir/originals/<sha256>.<ext>` (hashing
//! while copying; temp file, fsync, rename) and queue its episode in the catalog.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{Clock, IngestError};
use crate::catalog::{Catalog, CatalogError, Episode, NewEpisode};

/// Folder of originals inside `data_dir`.
pub const ORIGINALS: &str = "originals";

/// What a volunteer says about the recording.
#[derive(Debug, Clone, Default)]
pub struct Submission {
    pub show: String,
    pub title: String,
    pub description: String,
    /// `YYYY-MM-DD`.
    pub date: Option<String>,
    /// The name the file had when uploaded.
    pub original_name: Option<String>,
}

fn validate(s: &Submission) -> Result<(), IngestError> {
    let slug_ok = !s.show.is_empty()
        && s.show.len() <= 64
        && s.show
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !slug_ok {
        return Err(IngestError::Invalid {
            field: "show",
            reason: format!("{:?} is not a show slug (a-z, 0-9, -)", s.show),
        });
    }
    if let Some(d) = &s.date
        && d.parse::<jiff::civil::Date>().is_err()
    {
        return Err(IngestError::Invalid {
            field: "date",
            reason: format!("{d:?} is not a YYYY-MM-DD date"),
        });
    }
    Ok(())
}

/// Copies `src` into the originals folder and queues its episode. A recording whose sha256 is
/// already in the catalog is refused with [`IngestError::Duplicate`] and nothing is stored.
pub fn submit(
    catalog: &Catalog,
    src: &Path,
    sub: &Submission,
    clock: &Clock,
) -> Result<Episode, IngestError> {
    validate(sub)?;
    let dir = catalog.data_dir().join(ORIGINALS);
    std::fs::create_dir_all(&dir).map_err(|e| IngestError::Store(dir.clone(), e))?;
    let tmp = dir.join(format!(".upload-{}.tmp", uuid::Uuid::new_v4()));
    let stored = copy_hashing(src, &tmp);
    let (sha, bytes) = match stored {
        Ok(v) => v,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    };
    if let Some(existing) = catalog.find_by_sha256(&sha)? {
        let _ = std::fs::remove_file(&tmp);
        return Err(IngestError::Duplicate {
            path: src.to_path_buf(),
            existing: existing.id,
        });
    }
    let ext = src
        .extension()
        .and_then(|e| e.to_str())
        .filter(|e| e.len() <= 8 && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(|e| format!(".{}", e.to_ascii_lowercase()))
        .unwrap_or_default();
    let rel = format!("{ORIGINALS}/{sha}{ext}");
    let dest = catalog.data_dir().join(&rel);
    std::fs::rename(&tmp, &dest).map_err(|e| IngestError::Store(dest.clone(), e))?;
    sync_dir(&dir).map_err(|e| IngestError::Store(dir.clone(), e))?;
    let new = NewEpisode {
        id: uuid::Uuid::new_v4().to_string(),
        show: sub.show.clone(),
        title: if sub.title.is_empty() {
            default_title(src)
        } else {
            sub.title.clone()
        },
        description: sub.description.clone(),
        date: sub.date.clone(),
        season: None,
        episode: None,
        original_sha256: sha,
        original_path: rel,
        original_bytes: bytes,
        original_name: sub
            .original_name
            .clone()
            .or_else(|| src.file_name().map(|n| n.to_string_lossy().into_owned())),
        transcript_path: None,
        transcript_type: None,
        chapters_path: None,
        artwork_path: None,
    };
    match catalog.create_episode(&new, clock()) {
        Ok(ep) => Ok(ep),
        Err(CatalogError::Duplicate(existing)) => Err(IngestError::Duplicate {
            path: src.to_path_buf(),
            existing,
        }),
        Err(e) => Err(e.into()),
    }
}

fn default_title(src: &Path) -> String {
    src.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "Sans titre".into())
}

fn copy_hashing(src: &Path, tmp: &Path) -> Result<(String, u64), IngestError> {
    let mut input = File::open(src).map_err(|e| IngestError::Read(src.to_path_buf(), e))?;
    let mut out = File::create(tmp).map_err(|e| IngestError::Store(tmp.to_path_buf(), e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = input
            .read(&mut buf)
            .map_err(|e| IngestError::Read(src.to_path_buf(), e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n])
            .map_err(|e| IngestError::Store(tmp.to_path_buf(), e))?;
        total += n as u64;
    }
    out.sync_all()
        .map_err(|e| IngestError::Store(tmp.to_path_buf(), e))?;
    Ok((hex::encode(hasher.finalize()), total))
}

pub(crate) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Absolute path of a catalog-relative path.
pub fn resolve(data_dir: &Path, rel: &str) -> PathBuf {
    data_dir.join(rel)
}
