//! The daemon: builds the shared [`AppState`] (and from it the HTTP layer's state), owns
//! every long-lived task (ingest workers, playout, schedule reload, feed refresh, watch
//! folder, outputs, scheduled backups, alerts), serves HTTP, and shuts all of it down.
//!
//! **Invariant:** only this module spawns long-lived tasks; each is tracked by the
//! [`tokio_util::task::TaskTracker`] in the state and stops on its [`CancellationToken`].

pub mod alerts;
pub mod edge;
mod notify;
pub mod schedule;
mod seed;
mod state;

use std::future::Future;

use anyhow::Context;
use tokio::net::TcpListener;

pub use state::AppState;

use crate::config::Settings;

/// Runs `antenne serve` until `shutdown` resolves, then stops within a few seconds.
pub async fn run(
    mut settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let file_size_signal = survive_file_size_limit();
    let listener = TcpListener::bind(settings.process.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.process.listen))?;
    settings.process.bound_to(listener.local_addr()?);
    let state = AppState::open(settings).await?;
    if let Some(task) = file_size_signal {
        let shutdown = state.shutdown_token().clone();
        state.spawn(async move {
            tokio::select! {
                () = task => {}
                () = shutdown.cancelled() => {}
            }
        });
    }
    start_tasks(&state).await?;
    let base = &state.settings().process.public_url;
    println!("Antenne is on air.");
    println!("  page:   {base}/");
    println!("  stream: {base}/stream");
    println!("  feed:   {base}/feed.xml");
    // systemd: ready once listening and airing; the watchdog pinged while the playout runs.
    let notifier = std::sync::Arc::new(notify::Notifier::new(&state.settings().process.service));
    if let Some(every) = notifier.watchdog_every() {
        let on_air = state.http().on_air;
        state.spawn(notify::watchdog(
            notifier.clone(),
            every,
            move || on_air.playout_status().frames_rendered,
            state.shutdown_token().clone(),
        ));
    }
    notifier.notify("READY=1");
    let notify_stop = notifier.clone();
    let shutdown = async move {
        shutdown.await;
        notify_stop.notify("STOPPING=1");
    };
    crate::http::serve(listener, state.http(), shutdown).await?;
    state.stop().await;
    Ok(())
}

/// Starts every long-lived task of the station.
pub async fn start_tasks(state: &AppState) -> anyhow::Result<()> {
    // Ingest: recover jobs a crash left in `processing`, seed a new demo station, then start
    // the workers (at background priority, one per two cores: the playout wins).
    let (catalog, settings) = (state.catalog().clone(), state.settings().clone());
    let render = edge::render_options(&settings);
    // Each finished job re-renders the feeds.
    let on_done = state.http().catalog.notifier();
    let shows: Vec<String> = state
        .schedule()
        .schedule
        .shows()
        .iter()
        .map(|s| s.slug.clone())
        .collect();
    let runner = tokio::task::spawn_blocking(
        move || -> anyhow::Result<(crate::ingest::IngestRunner, Option<Vec<String>>)> {
            let clock = crate::ingest::system_clock();
            let r = crate::ingest::recover(&catalog, &clock)?;
            if r.requeued + r.failed > 0 {
                tracing::warn!(
                    requeued = r.requeued,
                    failed = r.failed,
                    "recovered interrupted ingest jobs"
                );
            }
            // Nothing writes yet: files a crash left without a catalog row go now.
            let swept = crate::ingest::sweep::sweep_orphans(&catalog)?;
            if !swept.removed.is_empty() {
                tracing::warn!(
                    files = swept.removed.len(),
                    "removed files a crash left behind"
                );
            }
            let seeded = seed::seed_demo(&catalog, &settings.process.media_dir, &shows, &clock)?;
            // The schedule's warnings (episodes, media files) as they stand after seeding.
            let mut warnings = None;
            if seeded > 0 {
                tracing::info!(episodes = seeded, "seeded the demo episodes");
                let (path, media) = (&settings.process.schedule, &settings.process.media_dir);
                warnings = schedule::load(path, media, &catalog, jiff::Timestamp::now())
                    .ok()
                    .map(|(_, w)| w);
            }
            let workers = crate::ingest::runner::workers_beside_playout();
            let runner = crate::ingest::IngestRunner::start_notifying(
                catalog, render, workers, clock, on_done,
            );
            Ok((runner, warnings))
        },
    )
    .await??;
    let (runner, warnings) = runner;
    state.set_ingest(runner);
    if let Some(w) = warnings {
        state.schedule_sender().send_modify(|s| s.warnings = w);
    }
    for w in &state.schedule().warnings {
        tracing::warn!("{w}");
    }

    start_playout(state)?;
    // Alerts: the watcher reads what the playout publishes, so it starts after it.
    let _alerts = alerts::start(state)?;

    // The watch folder: media_dir/inbox/SHOW/ (its own polling; the ingest workers poll the
    // queue too, so what it stores is picked up without a wake-up).
    let on_air = state.http().on_air;
    state.spawn(crate::ingest::watch::run_watch_folder(
        state.catalog().clone(),
        state.settings().process.media_dir.clone(),
        move || Some(on_air.show_slugs()),
        state.shutdown_token().clone(),
    ));

    // Pushed outputs (Icecast relays): each one more subscriber of its mount's hub.
    for (name, output) in edge::outputs(state.settings()).map_err(StartError)? {
        tracing::info!(output = %output.describe(), stream = %name, "starting output");
        let mount = state.mounts().iter().find(|m| m.name == name).cloned();
        let mount = mount.ok_or_else(|| StartError(format!("no {name} stream to push")))?;
        state.spawn(output.run(mount, state.shutdown_token().clone()));
    }

    // HLS with its DVR window: one more subscriber of the main mount, serving through http.
    if let Some(hls) = state.http().hls.0 {
        let output = crate::broadcast::hls::HlsOutput {
            config: hls.config,
            store: hls.store,
        };
        let output: Box<dyn crate::broadcast::Output> = Box::new(output);
        tracing::info!(output = %output.describe(), "starting output");
        state.spawn(output.run(state.mounts()[0].clone(), state.shutdown_token().clone()));
    }

    // Audience figures: ended sessions written in batches, at most one transaction a second;
    // HLS sessions end when their player stops fetching the playlist, noticed by a sweep.
    if let Some((sessions, stats)) = state.take_sessions() {
        state.spawn(crate::audience::writer::run(
            sessions,
            state.catalog().clone(),
            std::time::Duration::from_secs(1),
            stats,
            state.shutdown_token().clone(),
        ));
    }
    if let Some(hls) = state.http().hls.0 {
        let shutdown = state.shutdown_token().clone();
        state.spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(10));
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    _ = every.tick() => { hls.sessions(); }
                }
            }
            hls.end_sessions();
        });
    }

    state.spawn(schedule::reload_task(
        state.schedule_sender().clone(),
        state.settings().process.media_dir.clone(),
        state.catalog().clone(),
        state.shutdown_token().clone(),
    ));
    state.spawn(crate::http::refresh::refresh_task(state.http()));
    if let Some(live) = state.live() {
        // Live shows over (or left by a crash) become episodes; checked every 30 s.
        state.spawn(
            live.clone()
                .run_recordings(std::time::Duration::from_secs(30)),
        );
        if let Some(addr) = state.settings().process.live_listen {
            let listener = TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr} (live_listen)"))?;
            tracing::info!(%addr, "live sources also accepted on live_listen");
            state.spawn(crate::input::serve(listener, live.clone()));
        }
    }
    if let Some(plan) = edge::backup_plan(state.settings()) {
        tracing::info!(
            dir = %plan.dir.display(),
            every_s = plan.every.as_secs(),
            keep = plan.keep,
            "scheduled backups"
        );
        state.spawn(crate::backup::scheduled::run(
            state.catalog().clone(),
            edge::backup_config(state.settings()),
            plan,
            state.http().process.backups.clone(),
            state.shutdown_token().clone(),
        ));
    }
    state.spawn(crate::ingest::sweep::run_upload_expiry(
        state.settings().process.data_dir.clone(),
        std::time::Duration::from_secs(state.settings().process.upload_expiry_s),
        state.shutdown_token().clone(),
    ));
    state.spawn(release_freed_memory_now_and_then(
        state.shutdown_token().clone(),
    ));
    Ok(())
}

/// Playout decodes each item on a thread of its own and the media library measures files on
/// another; glibc keeps what those threads freed in their malloc arenas, so a daemon airing a
/// rotation of many short files grew by megabytes an hour with nothing on air to show for it
/// (issue 18: RSS after an hour with no listener). Once a minute the free pages go back.
async fn release_freed_memory_now_and_then(shutdown: tokio_util::sync::CancellationToken) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = every.tick() => {
                let _ = tokio::task::spawn_blocking(crate::ingest::runner::release_freed_memory).await;
            }
        }
    }
}

/// A write past the process's file size limit (`RLIMIT_FSIZE`, e.g. systemd's `LimitFSIZE=`)
/// raises `SIGXFSZ`, whose default action kills the process: handled, the write fails with
/// `EFBIG` instead, answered like a full disk (`507`, a failed job), and the stream plays on.
///
/// The handler is installed at once (before anything writes); the returned task, which logs
/// the first occurrence, is spawned on the tracked task set once the state exists.
fn survive_file_size_limit() -> Option<impl Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::from_raw(libc::SIGXFSZ)) {
        Ok(mut sig) => Some(async move {
            // Once: the log itself may be the file over the limit.
            if sig.recv().await.is_some() {
                tracing::warn!("a write went past the file size limit (RLIMIT_FSIZE)");
            }
            while sig.recv().await.is_some() {}
        }),
        Err(e) => {
            tracing::warn!("cannot handle SIGXFSZ: {e}");
            None
        }
    }
}

/// Starts the playout engine on its own threads, fed by the schedule in force (live reload)
/// and encoding into the hub; its now-playing is republished in the state.
fn start_playout(state: &AppState) -> anyhow::Result<()> {
    use crate::broadcast::{EncoderSink, Encoding, OpusSink};
    use crate::playout::{FanOut, PcmSink, SystemClock};
    let settings = state.settings();
    let (schedule_tx, schedule_rx) = tokio::sync::watch::channel(state.current_schedule());
    let mut reloads = state.schedule_sender().subscribe();
    let shutdown = state.shutdown_token().clone();
    state.spawn(async move {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                changed = reloads.changed() => if changed.is_err() { return },
            }
            let next = reloads.borrow_and_update().schedule.clone();
            // A refused edit changes the state but not the schedule: nothing to replan.
            schedule_tx.send_if_modified(|s| {
                let new = !std::sync::Arc::ptr_eq(s, &next);
                *s = next;
                new
            });
        }
    });
    // One encoding per mount, all fed the same PCM.
    let mut encodings: Vec<Box<dyn PcmSink>> = Vec::new();
    for mount in state.mounts() {
        let hub = mount.hub.clone();
        let (rate, kbps) = (settings.station.sample_rate, mount.info.bitrate_kbps);
        encodings.push(match mount.encoding {
            Encoding::Opus => Box::new(
                OpusSink::new(hub, &mount.info.name, rate, kbps).map_err(anyhow::Error::msg)?,
            ),
            Encoding::Mp3 => Box::new(EncoderSink::new(hub, rate, kbps)?),
        });
    }
    let sink = FanOut::new(encodings);
    let mut config = edge::playout_config(
        settings,
        state.live_inputs().clone(),
        state.levels().clone(),
    );
    let (airplay, writer) = crate::playout::AirplayWriter::start(
        state.catalog().clone(),
        edge::airplay_config(settings, std::sync::Arc::new(SystemClock)),
    )?;
    state
        .http()
        .on_air
        .set_airplay_counters(airplay.counters().clone());
    config.airplay = airplay;
    let handle = crate::playout::start(
        config,
        schedule_rx,
        state.catalog().clone(),
        Box::new(sink),
        std::sync::Arc::new(SystemClock),
    )?;
    let mut now_rx = handle.now_playing();
    // At shutdown the airplay log is written out and the item on air closed at the last
    // frame rendered.
    let (status, catalog, rate) = (
        handle.status(),
        state.catalog().clone(),
        settings.station.sample_rate,
    );
    let token = state.shutdown_token().clone();
    state.spawn(async move {
        token.cancelled().await;
        let _ = tokio::task::spawn_blocking(move || {
            writer.stop();
            let end = status.cursor.load(std::sync::atomic::Ordering::Relaxed);
            if let Err(e) = catalog.close_airplay(end, rate) {
                tracing::warn!(error = %e, "airplay: cannot close the item on air");
            }
        })
        .await;
    });
    state.set_playout(handle);
    // The media folder's loudness, measured in the background (one thread, lowest priority).
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    crate::playout::library::spawn(
        edge::library_config(settings),
        state.catalog().clone(),
        crate::playout::default_opener(),
        state.levels().clone(),
        std::sync::Arc::new(SystemClock),
        stop.clone(),
    )?;
    let token = state.shutdown_token().clone();
    state.spawn(async move {
        token.cancelled().await;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    let (tx, shutdown) = (
        state.now_playing_sender().clone(),
        state.shutdown_token().clone(),
    );
    state.spawn(async move {
        loop {
            let now = now_rx.borrow_and_update().clone();
            tx.send_replace(now);
            tokio::select! {
                () = shutdown.cancelled() => return,
                changed = now_rx.changed() => if changed.is_err() { return },
            }
        }
    });
    Ok(())
}

/// The station cannot start because of its input (e.g. the schedule is invalid): exit 1.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StartError(pub String);
