//! The schedule on air: loaded at start, reloaded when the file changes (watcher) or on
//! SIGHUP. A refused edit keeps the last good schedule on air; its errors are kept for
//! `/api/status` and the operators' page.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::watch;

use crate::catalog::{Catalog, EpisodeQuery, EpisodeStatus};
use crate::schedule::{Facts, PathFact, Refused, Schedule, ScheduleState};

/// Media facts plus what the catalog knows about episodes, for the schedule's warnings.
struct StationFacts<'a> {
    media: MediaFacts,
    catalog: &'a Catalog,
}

impl Facts for StationFacts<'_> {
    /// Episodes ready or on their way (queued, processing): an episode being ingested, as
    /// on a first start just after the demo seeding, is not "no episodes yet".
    fn episode_count(&self, show: &str) -> Option<usize> {
        let q = EpisodeQuery {
            show: Some(show.into()),
            ..Default::default()
        };
        let episodes = self.catalog.list_episodes(&q).ok()?;
        Some(
            episodes
                .iter()
                .filter(|e| e.status != EpisodeStatus::Failed)
                .count(),
        )
    }

    fn newest_episode_duration(&self, show: &str) -> Option<jiff::SignedDuration> {
        let q = EpisodeQuery {
            show: Some(show.into()),
            status: Some(EpisodeStatus::Ready),
            limit: Some(1),
            ..Default::default()
        };
        let e = self.catalog.list_episodes(&q).ok()?.into_iter().next()?;
        Some(jiff::SignedDuration::from_millis(e.duration_ms? as i64))
    }

    fn path(&self, relative: &Path) -> Option<PathFact> {
        self.media.path(relative)
    }
}

/// Validates a schedule's text with the facts the reload uses (media folder, catalog): the
/// operators' console checks an edit with it before saving (blocking IO).
pub fn validate(
    text: &str,
    file: &str,
    media_dir: &Path,
    catalog: &Catalog,
    now: Timestamp,
) -> Result<(Schedule, Vec<crate::schedule::Diagnostic>), Vec<crate::schedule::Diagnostic>> {
    let facts = StationFacts {
        media: MediaFacts {
            media_dir: media_dir.to_path_buf(),
        },
        catalog,
    };
    Schedule::parse(text, file, now, &facts)
}

/// Reads and validates the schedule file (blocking IO).
/// `Err` carries every rendered error (or the read error).
pub fn load(
    path: &Path,
    media_dir: &Path,
    catalog: &Catalog,
    now: Timestamp,
) -> Result<(Schedule, Vec<String>), Vec<String>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| vec![format!("cannot read schedule {}: {e}", path.display())])?;
    let facts = StationFacts {
        media: MediaFacts {
            media_dir: media_dir.to_path_buf(),
        },
        catalog,
    };
    let render =
        |d: Vec<crate::schedule::Diagnostic>| d.iter().map(|d| d.to_string()).collect::<Vec<_>>();
    match Schedule::parse(&text, &path.display().to_string(), now, &facts) {
        Ok((s, warnings)) => {
            let shows: Vec<(String, String)> = s
                .shows()
                .iter()
                .map(|sh| (sh.slug.clone(), sh.title.clone()))
                .collect();
            if let Err(e) = catalog.sync_shows(&shows, now) {
                tracing::error!("cannot record the schedule's shows in the catalog: {e}");
            }
            Ok((s, render(warnings)))
        }
        Err(diags) => Err(render(diags.into_iter().filter(|d| d.is_error()).collect())),
    }
}

/// Loads the schedule at start: without a valid schedule the station does not start.
/// Its warnings are kept in the state, not logged (see [`super::start_tasks`]).
pub fn initial(
    path: &Path,
    media_dir: &Path,
    catalog: &Catalog,
) -> Result<ScheduleState, super::StartError> {
    let now = Timestamp::now();
    match load(path, media_dir, catalog, now) {
        // The warnings are logged once the station has started (`start_tasks`): a first run
        // seeds the demo episodes after this load, which answers some of them.
        Ok((schedule, warnings)) => Ok(ScheduleState {
            schedule: Arc::new(schedule),
            path: path.to_path_buf(),
            loaded_at: now,
            warnings,
            refused: None,
        }),
        Err(errors) => Err(super::StartError(format!(
            "the schedule {} is invalid:\n{}",
            path.display(),
            errors.join("\n")
        ))),
    }
}

/// Reloads into `tx` when the file's content changes or on SIGHUP, until `shutdown`.
pub async fn reload_task(
    tx: watch::Sender<ScheduleState>,
    media_dir: PathBuf,
    catalog: Catalog,
    shutdown: tokio_util::sync::CancellationToken,
) {
    let path = tx.borrow().path.clone();
    let (events_tx, mut events) = tokio::sync::mpsc::channel::<()>(16);
    // Editors save by writing in place or by renaming a temporary file over the original:
    // watch the folder, not the file, so both are seen.
    let _watcher = watch_folder(&path, events_tx);
    let mut hup = sighup();
    let mut last = std::fs::read(&path).ok();
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            Some(()) = events.recv() => {
                // Let a burst of events (write, rename, chmod) settle.
                tokio::time::sleep(Duration::from_millis(200)).await;
                while events.try_recv().is_ok() {}
            }
            () = recv_hup(&mut hup) => tracing::info!("SIGHUP: reloading the schedule"),
            // A safety net for filesystems without change notification.
            () = tokio::time::sleep(Duration::from_secs(5)) => {}
        }
        let current = tokio::fs::read(&path).await.ok();
        if current == last && current.is_some() {
            continue;
        }
        last = current;
        let (p, m, c) = (path.clone(), media_dir.clone(), catalog.clone());
        let now = Timestamp::now();
        let Ok(result) = tokio::task::spawn_blocking(move || load(&p, &m, &c, now)).await else {
            continue;
        };
        apply(&tx, result, now);
    }
}

/// Swaps a good schedule in, or records a refused one (the good one stays on air).
pub fn apply(
    tx: &watch::Sender<ScheduleState>,
    result: Result<(Schedule, Vec<String>), Vec<String>>,
    now: Timestamp,
) {
    match result {
        Ok((schedule, warnings)) => {
            tracing::info!(slots = schedule.slots().len(), "schedule reloaded");
            for w in &warnings {
                tracing::warn!("{w}");
            }
            tx.send_modify(|s| {
                s.schedule = Arc::new(schedule);
                s.loaded_at = now;
                s.warnings = warnings;
                s.refused = None;
            });
        }
        Err(errors) => {
            tracing::error!(
                "schedule edit refused, the previous schedule stays on air:\n{}",
                errors.join("\n")
            );
            tx.send_modify(|s| s.refused = Some(Refused { at: now, errors }));
        }
    }
}

fn watch_folder(
    path: &Path,
    events: tokio::sync::mpsc::Sender<()>,
) -> Option<notify::RecommendedWatcher> {
    use notify::Watcher;
    let name = path.file_name()?.to_os_string();
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(ev) = res
            && ev.paths.iter().any(|p| p.file_name() == Some(&name))
        {
            let _ = events.try_send(());
        }
    })
    .map_err(|e| tracing::warn!("cannot watch the schedule for changes ({e}); polling instead"))
    .ok()?;
    watcher
        .watch(&folder, notify::RecursiveMode::NonRecursive)
        .map_err(|e| tracing::warn!("cannot watch {} ({e}); polling instead", folder.display()))
        .ok()?;
    Some(watcher)
}

#[cfg(unix)]
type Hup = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hup = ();

fn sighup() -> Hup {
    #[cfg(unix)]
    {
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok()
    }
}

async fn recv_hup(h: &mut Hup) {
    #[cfg(unix)]
    if let Some(s) = h {
        s.recv().await;
        return;
    }
    let _ = h;
    std::future::pending::<()>().await
}

/// Facts read from `media_dir`: whether a folder exists and how many files it holds.
/// Episode facts need the catalog and stay unknown here.
#[derive(Debug, Clone)]
pub struct MediaFacts {
    pub media_dir: PathBuf,
}

impl Facts for MediaFacts {
    fn path(&self, relative: &Path) -> Option<PathFact> {
        let full = self.media_dir.join(relative);
        let meta = match std::fs::metadata(&full) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Some(PathFact::Missing),
            Err(_) => return None,
        };
        if meta.is_file() {
            return Some(PathFact::File);
        }
        let entries = std::fs::read_dir(&full)
            .ok()?
            .filter_map(Result::ok)
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .count();
        Some(PathFact::Folder { entries })
    }
}
