//! The daemon's scheduled backups: one every `backup_every` into `backup_dir`, the newest
//! `backup_keep` kept, and the outcome of the last ones for `/api/status` and `/metrics`.
//!
//! A failed backup is logged as an error and recorded in the [`BackupLog`], which the daemon's
//! alerts read: a new failure is a `backup_failed` alert (`daemon::alerts`). The log is also a
//! watch channel ([`BackupLog::subscribe`]) for whoever wants each change as it happens.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::{BackupConfig, take};
use crate::catalog::Catalog;

/// Backup folders are `antenne-` and the UTC instant they were taken.
const PREFIX: &str = "antenne-";
const STAMP: &str = "%Y%m%dT%H%M%SZ";

/// When and where the daemon backs up, and how many backups it keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupPlan {
    pub dir: PathBuf,
    pub every: Duration,
    pub keep: usize,
}

/// The outcome of the scheduled backups so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BackupOutcome {
    /// Scheduled backups are configured (`backup_dir` set).
    pub enabled: bool,
    pub dir: Option<PathBuf>,
    pub every_s: u64,
    pub keep: usize,
    pub last_success: Option<jiff::Timestamp>,
    /// The last successful backup's folder, files, bytes and duration.
    pub last_path: Option<PathBuf>,
    pub last_files: usize,
    pub last_bytes: u64,
    pub last_duration_ms: u64,
    pub last_failure: Option<jiff::Timestamp>,
    /// Why the last failed backup failed.
    pub last_error: Option<String>,
    pub succeeded: u64,
    pub failed: u64,
    pub next_at: Option<jiff::Timestamp>,
}

/// The shared outcome; cheap to clone.
#[derive(Clone)]
pub struct BackupLog(Arc<watch::Sender<BackupOutcome>>);

impl Default for BackupLog {
    fn default() -> Self {
        BackupLog(Arc::new(watch::Sender::new(BackupOutcome::default())))
    }
}

impl BackupLog {
    pub fn snapshot(&self) -> BackupOutcome {
        self.0.borrow().clone()
    }

    /// Changes of the outcome (each backup, each failure): where an alert hooks in.
    pub fn subscribe(&self) -> watch::Receiver<BackupOutcome> {
        self.0.subscribe()
    }

    fn update(&self, f: impl FnOnce(&mut BackupOutcome)) {
        self.0.send_modify(f);
    }
}

/// Runs the scheduled backups until `shutdown`. The first one is due one interval after the
/// newest backup already in the folder (at once, within a minute, when there is none or it is
/// overdue), so a daemon restarted more often than `every` still backs up.
pub async fn run(
    catalog: Catalog,
    config: BackupConfig,
    plan: BackupPlan,
    log: BackupLog,
    shutdown: CancellationToken,
) {
    log.update(|o| {
        o.enabled = true;
        o.dir = Some(plan.dir.clone());
        o.every_s = plan.every.as_secs();
        o.keep = plan.keep;
    });
    let now = jiff::Timestamp::now();
    let first = plan.every.min(Duration::from_secs(60));
    let mut wait = match newest(&plan.dir) {
        Some(t) => {
            let since = Duration::try_from(now.duration_since(t)).unwrap_or(Duration::ZERO);
            plan.every.saturating_sub(since).max(first)
        }
        None => first,
    };
    loop {
        let next = jiff::Timestamp::now()
            .checked_add(jiff::SignedDuration::try_from(wait).unwrap_or_default())
            .ok();
        log.update(|o| o.next_at = next);
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
        let (catalog, config, plan2) = (catalog.clone(), config.clone(), plan.clone());
        let started = std::time::Instant::now();
        let result = tokio::task::spawn_blocking(move || once(&catalog, &config, &plan2)).await;
        let at = jiff::Timestamp::now();
        match result {
            Ok(Ok(taken)) => {
                tracing::info!(
                    backup = %taken.path.display(),
                    files = taken.manifest.files.len(),
                    bytes = taken.manifest.total_bytes(),
                    "backup taken"
                );
                log.update(|o| {
                    o.last_success = Some(at);
                    o.last_path = Some(taken.path.clone());
                    o.last_files = taken.manifest.files.len();
                    o.last_bytes = taken.manifest.total_bytes();
                    o.last_duration_ms = started.elapsed().as_millis() as u64;
                    o.succeeded += 1;
                });
            }
            Ok(Err(e)) => failed(&log, at, e.to_string()),
            Err(e) => failed(&log, at, format!("the backup task failed: {e}")),
        }
        wait = plan.every;
    }
}

fn failed(log: &BackupLog, at: jiff::Timestamp, reason: String) {
    // The error log, and the alerts that watch the count of failures (`backup_failed`).
    tracing::error!(reason = %reason, "scheduled backup failed");
    log.update(|o| {
        o.last_failure = Some(at);
        o.last_error = Some(reason);
        o.failed += 1;
    });
}

/// One scheduled backup, then the rotation.
fn once(
    catalog: &Catalog,
    config: &BackupConfig,
    plan: &BackupPlan,
) -> Result<super::Taken, super::BackupError> {
    let now = jiff::Timestamp::now();
    let name = format!("{PREFIX}{}", now.strftime(STAMP));
    let taken = take(catalog, config, &plan.dir.join(name), now)?;
    rotate(&plan.dir, plan.keep).map_err(super::io(&plan.dir))?;
    Ok(taken)
}

/// The complete backups of `dir` (a folder named by its instant, with a manifest), oldest
/// first.
pub fn backups(dir: &Path) -> Vec<(jiff::Timestamp, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<(jiff::Timestamp, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let stamp = name.strip_prefix(PREFIX)?;
            let civil = jiff::fmt::strtime::parse(STAMP, stamp)
                .ok()?
                .to_datetime()
                .ok()?;
            let t = jiff::tz::TimeZone::UTC.to_timestamp(civil).ok()?;
            e.path()
                .join(super::manifest::MANIFEST)
                .is_file()
                .then(|| (t, e.path()))
        })
        .collect();
    out.sort();
    out
}

fn newest(dir: &Path) -> Option<jiff::Timestamp> {
    backups(dir).last().map(|(t, _)| *t)
}

/// Keeps the newest `keep` backups of `dir` and removes the others, and the temporary folders
/// of backups a crash interrupted (over an hour old).
pub fn rotate(dir: &Path, keep: usize) -> std::io::Result<Vec<PathBuf>> {
    let all = backups(dir);
    let mut removed = Vec::new();
    for (_, path) in all.iter().take(all.len().saturating_sub(keep.max(1))) {
        std::fs::remove_dir_all(path)?;
        tracing::info!(backup = %path.display(), "old backup removed (backup_keep)");
        removed.push(path.clone());
    }
    let hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
    for e in std::fs::read_dir(dir)?.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let stale = e
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t < hour_ago);
        if name.starts_with(&format!(".{PREFIX}")) && name.contains(".partial-") && stale {
            std::fs::remove_dir_all(e.path())?;
            removed.push(e.path());
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_keeps_the_newest_complete_backups() {
        let dir = tempfile::tempdir().unwrap();
        for stamp in ["20261201T000000Z", "20261202T000000Z", "20261203T000000Z"] {
            let b = dir.path().join(format!("{PREFIX}{stamp}"));
            std::fs::create_dir(&b).unwrap();
            std::fs::write(b.join(super::super::manifest::MANIFEST), "{}").unwrap();
        }
        // Not a backup: no manifest, or not our name.
        std::fs::create_dir(dir.path().join(format!("{PREFIX}20261130T000000Z"))).unwrap();
        std::fs::create_dir(dir.path().join("photos")).unwrap();
        let removed = rotate(dir.path(), 2).unwrap();
        assert_eq!(
            removed,
            [dir.path().join(format!("{PREFIX}20261201T000000Z"))]
        );
        let left: Vec<_> = backups(dir.path())
            .into_iter()
            .map(|(t, _)| t.to_string())
            .collect();
        assert_eq!(left, ["2026-12-02T00:00:00Z", "2026-12-03T00:00:00Z"]);
        assert!(dir.path().join("photos").exists());
    }
}
