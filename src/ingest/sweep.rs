//! Housekeeping of `data_dir`'s files: what a crash or an abandoned upload leaves behind.
//!
//! - [`sweep_orphans`] runs once at start-up, before anything writes (no upload, job or watch
//!   folder is running yet): every file under `originals/`, `renditions/` and `meta/` that no
//!   episode refers to is removed (a crash between a rename and its catalog commit, a
//!   rendition of a job that is rendered again), and so are staging files (`uploads/*.part`,
//!   `*.tmp`) and the halves of resumable uploads a crash split (data without state, state
//!   without data). **Never** a file the catalog refers to.
//! - [`expire_uploads`] runs periodically: a resumable upload nobody touched for
//!   `upload_expiry_s` is abandoned; its partial data and state are removed.
//!
//! Every removal is logged with its reason.

use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::intake::{META_DIR, ORIGINALS_DIR, UPLOADS_DIR};
use super::job::RENDITIONS;
use crate::catalog::Catalog;

/// What a sweep removed, relative to `data_dir`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Swept {
    pub removed: Vec<String>,
}

fn remove(data_dir: &Path, rel: String, why: &str, out: &mut Swept) {
    match std::fs::remove_file(data_dir.join(&rel)) {
        Ok(()) => {
            tracing::info!(file = %rel, reason = why, "swept");
            out.removed.push(rel);
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!(file = %rel, error = %e, "cannot remove {why}"),
    }
}

/// Regular files of `dir` (names only); empty when it does not exist.
fn files(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<String> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    out.sort();
    out
}

/// Removes the files a crash left that the catalog does not refer to (see the module doc).
/// Call it only while nothing else writes to `data_dir`.
pub fn sweep_orphans(catalog: &Catalog) -> Result<Swept, crate::catalog::CatalogError> {
    let referenced: HashSet<String> = catalog.referenced_files()?;
    let data_dir = catalog.data_dir();
    let mut out = Swept::default();
    for sub in [ORIGINALS_DIR, RENDITIONS, META_DIR] {
        for name in files(&data_dir.join(sub)) {
            let rel = format!("{sub}/{name}");
            if !referenced.contains(&rel) {
                remove(data_dir, rel, "orphan file no episode refers to", &mut out);
            }
        }
    }
    let uploads = data_dir.join(UPLOADS_DIR);
    let names = files(&uploads);
    let has = |n: &str| names.iter().any(|x| x == n);
    for name in &names {
        let rel = format!("{UPLOADS_DIR}/{name}");
        if name.ends_with(".part") || name.ends_with(".tmp") {
            remove(
                data_dir,
                rel,
                "staging file of an interrupted upload",
                &mut out,
            );
        } else if let Some(uid) = name.strip_suffix(".tus") {
            if !has(&format!("{uid}.json")) {
                remove(
                    data_dir,
                    rel,
                    "resumable upload data without its state",
                    &mut out,
                );
            }
        } else if let Some(uid) = name.strip_suffix(".json")
            && !has(&format!("{uid}.tus"))
            && !upload_completed(&uploads.join(name))
        {
            // The data was stored as an episode (or lost) before the state said so: a client
            // resuming gets 404, uploads again and is answered with the same episode.
            remove(
                data_dir,
                rel,
                "resumable upload state without its data",
                &mut out,
            );
        }
    }
    Ok(out)
}

/// Whether a resumable upload's state file records a stored episode.
fn upload_completed(state: &Path) -> bool {
    std::fs::read(state)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .is_some_and(|v| v.get("episode_id").is_some_and(|id| id.is_string()))
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Removes resumable uploads (and stray staging files) untouched for `max_age`: their data and
/// state, whether finished or not. `max_age` zero keeps everything.
pub fn expire_uploads(data_dir: &Path, max_age: Duration, now: SystemTime) -> Swept {
    let mut out = Swept::default();
    if max_age.is_zero() {
        return out;
    }
    let uploads = data_dir.join(UPLOADS_DIR);
    let stale = |paths: &[PathBuf]| {
        let newest = paths.iter().filter_map(|p| modified(p)).max();
        newest.is_some_and(|t| now.duration_since(t).unwrap_or_default() > max_age)
    };
    for name in files(&uploads) {
        let rel = format!("{UPLOADS_DIR}/{name}");
        if let Some(uid) = name.strip_suffix(".json") {
            let (state, data) = (uploads.join(&name), uploads.join(format!("{uid}.tus")));
            if stale(&[state, data]) {
                // Data first: a state without data is a finished or broken upload, never one
                // that looks resumable with missing bytes.
                remove(
                    data_dir,
                    format!("{UPLOADS_DIR}/{uid}.tus"),
                    "abandoned resumable upload",
                    &mut out,
                );
                remove(data_dir, rel, "abandoned resumable upload", &mut out);
            }
        } else if (name.ends_with(".part") || name.ends_with(".tus"))
            && stale(&[uploads.join(&name)])
        {
            let state = name.strip_suffix(".tus").map(|u| format!("{u}.json"));
            if state.is_none_or(|s| !uploads.join(s).exists()) {
                remove(data_dir, rel, "abandoned staging file", &mut out);
            }
        }
    }
    out
}

/// The daemon's periodic expiry of abandoned uploads (every quarter of the expiry time, at
/// most hourly, at least every second).
pub async fn run_upload_expiry(
    data_dir: PathBuf,
    expiry: Duration,
    shutdown: tokio_util::sync::CancellationToken,
) {
    if expiry.is_zero() {
        return;
    }
    let period = (expiry / 4).clamp(Duration::from_secs(1), Duration::from_secs(3600));
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let dir = data_dir.clone();
        let swept =
            tokio::task::spawn_blocking(move || expire_uploads(&dir, expiry, SystemTime::now()))
                .await;
        if let Ok(s) = swept
            && !s.removed.is_empty()
        {
            tracing::info!(files = s.removed.len(), "expired abandoned uploads");
        }
    }
}
