//! Where the station's incidents become alert signals: a watcher polls what the subsystems
//! already publish (the playout's silence alarm and frame counter, the schedule's refused
//! edit, the scheduled backups' outcome, free space on `data_dir`, the live input's source,
//! the tokens HTTP refused) once a second, follows
//! the title on air and the ingest jobs that fail; the alerts task de-duplicates and delivers. The audio path only writes
//! atomics and a watch channel, so nothing there waits for an alert.

use std::path::Path;

use tokio::sync::watch;
use tokio::time::{Duration, Instant, MissedTickBehavior};

use super::AppState;
use crate::alerts::{Alerts, Event, Input, LiveSeen, LiveWatch};
use crate::playout::NowPlaying;

/// How long a show's live source must be gone, in its slot, to be an incident (a blip the
/// source resumes within is not).
const LIVE_DROP_HOLD: jiff::SignedDuration = jiff::SignedDuration::from_secs(10);

/// How often free disk space is read.
pub const DISK_EVERY: Duration = Duration::from_secs(60);

/// What the watcher reads besides the station's state: the title on air and the free space
/// of `data_dir`. The daemon passes the playout's channel and `statvfs`; tests inject theirs.
pub struct WatchInputs {
    pub now_playing: watch::Receiver<NowPlaying>,
    /// Megabytes free on `data_dir` (`None`: unknown, nothing said).
    pub free_mb: Box<dyn Fn() -> Option<u64> + Send>,
}

/// Spawns the alerts task and its watchers; returns the sender for one-off events.
pub fn start(state: &AppState) -> Result<Alerts, super::StartError> {
    let (alerts, rx) = Alerts::channel();
    let config = super::edge::alerts_config(state.settings()).map_err(super::StartError)?;
    state.spawn(crate::alerts::task::run(
        config,
        rx,
        state.http().process.alerts.clone(),
        state.shutdown_token().clone(),
    ));
    let data_dir = state.settings().process.data_dir.clone();
    let inputs = WatchInputs {
        now_playing: state.now_playing_sender().subscribe(),
        free_mb: Box::new(move || free_mb(&data_dir)),
    };
    state.spawn(watch(state.clone(), alerts.clone(), inputs));
    state.spawn(watch_ingest(state.clone(), alerts.clone()));
    Ok(alerts)
}

/// The watcher: once a second, what the subsystems publish becomes signals on `tx` (raised
/// on every tick while a condition lasts: the alerts task keeps one alert per incident);
/// each new title on air is a now-playing input. Runs until the daemon stops.
pub async fn watch(st: AppState, tx: Alerts, inputs: WatchInputs) {
    let a = &st.settings().station.alerts;
    let (stream_down, disk_min_mb) = (Duration::from_secs(a.stream_down_s), a.disk_min_mb);
    let WatchInputs {
        now_playing: mut now_rx,
        free_mb,
    } = inputs;
    let cancel = st.shutdown_token().clone();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut title = now_rx.borrow_and_update().stream_title();
    let (mut frames, mut frames_at) = (st.playout_status().frames_rendered, Instant::now());
    let mut alarms = st.playout_status().silence_alarms;
    let mut refused_at = st.schedule().refused.as_ref().map(|r| r.at);
    let mut backups_failed = st.http().process.backups.snapshot().failed;
    let mut disk_at: Option<Instant> = None;
    let mut live = LiveWatch::new(LIVE_DROP_HOLD);
    let refused_tokens = st.http().process.refused.clone();
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            changed = now_rx.changed() => {
                if changed.is_err() { return }
                let now = now_rx.borrow_and_update().clone();
                let t = now.stream_title();
                if t != title && !t.is_empty() {
                    tx.send(Input::NowPlaying { title: t.clone(), kind: now.kind.to_string() });
                }
                title = t;
                continue;
            }
            _ = tick.tick() => {}
        }
        let p = st.playout_status();
        // An alarm raised since the last tick is dead air even if sound is already back
        // (the fallback replaces a silent show item as the alarm fires): it fires, then
        // resolves on the same tick.
        if p.silence_alarm || p.silence_alarms != alarms {
            tx.raise(Event::DeadAir);
        }
        alarms = p.silence_alarms;
        if !p.silence_alarm {
            tx.clear("dead_air");
        }
        if p.frames_rendered != frames {
            (frames, frames_at) = (p.frames_rendered, Instant::now());
            tx.clear("stream_down");
        } else if frames_at.elapsed() >= stream_down {
            tx.raise(Event::StreamDown {
                seconds: frames_at.elapsed().as_secs(),
            });
        }
        let refused = st.schedule().refused.clone();
        if let Some(r) = refused.filter(|r| Some(r.at) != refused_at) {
            refused_at = Some(r.at);
            tx.raise(Event::ScheduleRefused {
                errors: r.errors.join("\n"),
            });
        }
        let b = st.http().process.backups.snapshot();
        if b.failed > backups_failed {
            backups_failed = b.failed;
            tx.raise(Event::BackupFailed {
                error: b.last_error.unwrap_or_default(),
            });
        }
        let seen = st
            .http()
            .live
            .0
            .as_ref()
            .and_then(|l| l.status().connected)
            .map(|c| LiveSeen {
                show: c.show,
                occurrence: c.occurrence,
                ends_at: c.ends_at,
                streaming: c.streaming,
            });
        for signal in live.observe(seen.as_ref(), jiff::Timestamp::now()) {
            tx.send(Input::Signal(signal));
        }
        let (names, more) = refused_tokens.drain();
        if more > 0 {
            tracing::warn!(names = more, "alerts: more refused token names than kept");
        }
        for name in names {
            tx.raise(Event::UploadUnauthorised { name });
        }
        if disk_min_mb > 0 && disk_at.is_none_or(|at| at.elapsed() >= DISK_EVERY) {
            disk_at = Some(Instant::now());
            match free_mb() {
                Some(free) if free < disk_min_mb => tx.raise(Event::DiskLow {
                    free_mb: free,
                    threshold_mb: disk_min_mb,
                }),
                Some(_) => tx.clear("disk_low"),
                None => {}
            }
        }
    }
}

/// Ingest jobs that failed since the start: looked up each time the catalog changes (a
/// finished job, failed or not, changes it), each new one an [`Event::IngestFailed`].
pub async fn watch_ingest(st: AppState, tx: Alerts) {
    use crate::catalog::{EpisodeQuery, EpisodeStatus};
    let failed = |catalog: crate::catalog::Catalog| async move {
        tokio::task::spawn_blocking(move || {
            catalog.list_episodes(&EpisodeQuery {
                status: Some(EpisodeStatus::Failed),
                include_unpublished: true,
                limit: Some(200),
                ..EpisodeQuery::default()
            })
        })
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default()
    };
    let http = st.http();
    let mut changes = http.catalog.changes();
    let mut seen: std::collections::HashSet<String> = failed(st.catalog().clone())
        .await
        .into_iter()
        .map(|e| e.id)
        .collect();
    let cancel = st.shutdown_token().clone();
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            changed = changes.changed() => if changed.is_err() { return },
        }
        changes.borrow_and_update();
        for e in failed(st.catalog().clone()).await {
            if seen.insert(e.id.clone()) {
                tx.raise(Event::IngestFailed {
                    file: e.original_name.clone().unwrap_or(e.id),
                    error: e.error.unwrap_or_default(),
                });
            }
        }
    }
}

/// Megabytes available to the daemon on the file system of `dir` (`statvfs(3)`).
fn free_mb(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `path` is a valid C string and `s` a writable statvfs.
    if unsafe { libc::statvfs(path.as_ptr(), &mut s) } != 0 {
        return None;
    }
    Some((s.f_bavail as u64).saturating_mul(s.f_frsize as u64) / (1024 * 1024))
}
