//! Keeping the rendered feeds current: every feed is rendered (off the runtime) from the
//! catalog and the schedule in force ([`crate::feed::build`] decides what each contains) and
//! swapped into the [`FeedStore`] when the catalog or the schedule changes, or when a
//! broadcast starts or ends (live item statuses depend on the time).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

use super::HttpState;
use super::feed::{FeedSnapshot, FeedStore};
use super::state::HttpConfig;
use crate::catalog::{Catalog, Episode, EpisodeQuery, EpisodeStatus};
use crate::feed::{FeedRedirect, FeedSource, build, next_boundary};
use crate::schedule::Schedule;

/// Rebuild at least this often: catalog writes from another process (`antenne ingest` on the
/// same data folder) send no notification.
const POLL: Duration = Duration::from_secs(60);

/// The episodes that go in feeds: ready and published, newest first.
pub fn feed_episodes(catalog: &Catalog) -> crate::catalog::Result<Vec<Episode>> {
    catalog.list_episodes(&EpisodeQuery {
        status: Some(EpisodeStatus::Ready),
        ..Default::default()
    })
}

/// Every feed rendered from `catalog` and `schedule` at `now` (blocking: reads the catalog).
pub fn render_all(
    catalog: &Catalog,
    schedule: &Schedule,
    config: &HttpConfig,
    now: Timestamp,
) -> crate::catalog::Result<Vec<(String, FeedSnapshot)>> {
    let episodes = feed_episodes(catalog)?;
    let src = FeedSource {
        schedule,
        episodes: &episodes,
        public_url: &config.public_url,
        stream_bitrate_kbps: config.stream_bitrate_kbps,
        redirects: &config.feed_redirects,
    };
    Ok(build(&src, now)
        .into_iter()
        .map(|(path, channel)| (path, FeedSnapshot::render(&channel, now)))
        .collect())
}

/// Swaps freshly rendered feeds into `store`. A feed whose bytes did not change keeps its
/// snapshot (and so its `Last-Modified`); a changed one is stamped `now`.
pub fn install(
    store: &FeedStore,
    rendered: Vec<(String, FeedSnapshot)>,
    redirects: &[FeedRedirect],
) {
    let feeds: HashMap<String, Arc<FeedSnapshot>> = rendered
        .into_iter()
        .map(|(path, fresh)| {
            let kept = store
                .get(&path)
                .filter(|old| old.feed.etag == fresh.feed.etag);
            (path, kept.unwrap_or_else(|| Arc::new(fresh)))
        })
        .collect();
    let moved = redirects
        .iter()
        .map(|r| (r.from.clone(), r.to.clone()))
        .collect();
    store.replace(feeds, moved);
}

/// Renders every feed off the runtime and installs them; returns the next status boundary.
pub async fn rebuild(state: &HttpState, now: Timestamp) -> Option<Timestamp> {
    let schedule = state.on_air.current_schedule();
    let catalog = state.catalog.catalog().clone();
    let config = state.config.clone();
    let s = schedule.clone();
    let rendered =
        tokio::task::spawn_blocking(move || render_all(&catalog, &s, &config, now)).await;
    match rendered {
        Ok(Ok(feeds)) => install(&state.feeds, feeds, &state.config.feed_redirects),
        Ok(Err(e)) => tracing::error!("rendering the feeds: {e}"),
        Err(e) => tracing::error!("rendering the feeds: {e}"),
    }
    next_boundary(&schedule, now)
}

/// Keeps the feeds current until shutdown (the daemon spawns it).
pub async fn refresh_task(state: HttpState) {
    let mut catalog = state.catalog.changes();
    let mut schedule = state.on_air.schedule_changes();
    let shutdown = state.process.shutdown_token().clone();
    loop {
        let now = Timestamp::now();
        let next = rebuild(&state, now).await;
        let wait = next
            .and_then(|t| Duration::try_from(now.duration_until(t)).ok())
            .map_or(POLL, |d| d.min(POLL));
        tokio::select! {
            () = shutdown.cancelled() => return,
            r = catalog.changed() => if r.is_err() { return },
            r = schedule.changed() => if r.is_err() { return },
            // A little after the boundary, so `now` is past it.
            () = tokio::time::sleep(wait + Duration::from_millis(5)) => {}
        }
    }
}
