//! The daemon: builds the shared [`AppState`], owns every long-lived task (ingest workers,
//! playout, schedule reload, Icecast push), serves HTTP, and shuts all of it down.
//!
//! **Invariant:** only this module spawns long-lived tasks; each is tracked by the
//! [`tokio_util::task::TaskTracker`] in the state and stops on its [`CancellationToken`].

pub mod feeds;
pub mod schedule;
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
    start_tasks(&state);
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
fn start_tasks(state: &AppState) {
    state.spawn(schedule::reload_task(
        state.schedule_sender().clone(),
        state.settings().media_dir.clone(),
        state.catalog().clone(),
        state.shutdown_token().clone(),
    ));
    state.spawn(feeds::rebuild_task(state.clone()));
}

/// The station cannot start because of its input (e.g. the schedule is invalid): exit 1.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StartError(pub String);
