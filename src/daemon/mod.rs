//! The daemon: builds the shared [`AppState`], owns every long-lived task (ingest workers,
//! playout, schedule reload, Icecast push), serves HTTP, and shuts all of it down.
//!
//! **Invariant:** only this module spawns long-lived tasks; each is tracked by the
//! [`tokio_util::task::TaskTracker`] in the state and stops on its [`CancellationToken`].

pub mod schedule;
mod seed;
mod state;

use std::future::Future;

use anyhow::Context;
use tokio::net::TcpListener;

pub use state::{AppState, Metrics};

use crate::config::Settings;

/// Runs `antenne serve` until `shutdown` resolves, then stops within a few seconds.
pub async fn run(
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener = TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    let state = AppState::open(settings).await?;
    start_tasks(&state).await?;
    let base = &state.settings().public_url;
    println!("Antenne is on air.");
    println!("  page:   {base}/");
    println!("  stream: {base}/stream");
    println!("  feed:   {base}/feed.xml");
    crate::http::serve(listener, state.clone(), shutdown).await?;
    state.stop().await;
    Ok(())
}

/// Starts every long-lived task of the station.
pub async fn start_tasks(state: &AppState) -> anyhow::Result<()> {
    // Ingest: recover jobs a crash left in `processing`, seed a new demo station, then start
    // the workers (two: one episode per core).
    let (catalog, settings) = (state.catalog().clone(), state.settings().clone());
    let shows: Vec<String> = state
        .schedule()
        .schedule
        .shows()
        .iter()
        .map(|s| s.slug.clone())
        .collect();
    let runner =
        tokio::task::spawn_blocking(move || -> anyhow::Result<crate::ingest::IngestRunner> {
            let clock = crate::ingest::system_clock();
            let r = crate::ingest::recover(&catalog, &clock)?;
            if r.requeued + r.failed > 0 {
                tracing::warn!(
                    requeued = r.requeued,
                    failed = r.failed,
                    "recovered interrupted ingest jobs"
                );
            }
            let seeded = seed::seed_demo(&catalog, &settings.media_dir, &shows, &clock)?;
            if seeded > 0 {
                tracing::info!(episodes = seeded, "seeded the demo episodes");
            }
            Ok(crate::ingest::IngestRunner::start(
                catalog, settings, 2, clock,
            ))
        })
        .await??;
    state.set_ingest(runner);

    // The watch folder: media_dir/inbox/SHOW/ (its own polling; the ingest workers poll the
    // queue too, so what it stores is picked up without a wake-up).
    state.spawn(crate::ingest::watch::run_watch_folder(state.clone()));

    // Icecast relays: each is one more subscriber of the hub, reconnecting with backoff.
    for target in &state.settings().icecast {
        match crate::broadcast::icecast::Endpoint::parse(target) {
            Ok(endpoint) => state.spawn(crate::broadcast::icecast::run(
                state.hub().clone(),
                endpoint,
                state.station_info().clone(),
                state.shutdown_token().clone(),
            )),
            Err(e) => return Err(StartError(format!("icecast {}: {e}", target.url)).into()),
        }
    }

    state.spawn(schedule::reload_task(
        state.schedule_sender().clone(),
        state.settings().media_dir.clone(),
        state.catalog().clone(),
        state.shutdown_token().clone(),
    ));
    Ok(())
}

/// The station cannot start because of its input (e.g. the schedule is invalid): exit 1.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StartError(pub String);
