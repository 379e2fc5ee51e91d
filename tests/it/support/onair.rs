//! Playout rendered on a manual clock into one encoding on a hub, and what a listener
//! subscribed from the first frame received: the end-to-end path of the stream tests.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use antenne::broadcast::{Hub, HubConfig};
use antenne::playout::{
    ManualClock, NoEpisodes, NowPlaying, PcmSink, PlayoutConfig, default_opener,
};
use antenne::schedule::Schedule;
use futures_util::StreamExt;
use jiff::Timestamp;

/// What a render left: every byte the listener received, what was on air last, the hub.
pub struct Rendered {
    pub bytes: Vec<u8>,
    pub now: NowPlaying,
    pub hub: Hub,
}

/// Renders `schedule` over `[from, to)` at `rate` with the media of `media_dir` into the
/// encoding `encoding` makes on a hub that publishes every frame at once (the default
/// coalesces 200 ms chunks), and collects what a listener subscribed before the first frame
/// received.
pub async fn render_to_listener(
    schedule: Schedule,
    media_dir: PathBuf,
    rate: u32,
    (from, to): (Timestamp, Timestamp),
    encoding: impl FnOnce(Hub) -> Box<dyn PcmSink>,
) -> Rendered {
    let shutdown = tokio_util::sync::CancellationToken::new();
    let config = HubConfig {
        chunk: Duration::ZERO,
        ..HubConfig::default()
    };
    let hub = Hub::new(config, shutdown.clone());
    let mut listener = hub.subscribe(false).unwrap();
    let config = PlayoutConfig {
        sample_rate: rate,
        media_dir,
        wait_for_data: true,
        run_until: Some(to),
        plan_ahead: Duration::from_secs(60),
        ..PlayoutConfig::default()
    };
    let (_tx, rx) = tokio::sync::watch::channel(Arc::new(schedule));
    let handle = antenne::playout::start_with(
        config,
        rx,
        Arc::new(NoEpisodes),
        default_opener(),
        encoding(hub.clone()),
        Arc::new(ManualClock::auto_advance(from)),
    )
    .unwrap();
    let now = handle.now_playing();
    tokio::task::spawn_blocking(move || handle.join())
        .await
        .unwrap();
    let total = hub.bytes_pushed();
    let mut bytes = Vec::new();
    while (bytes.len() as u64) < total {
        let chunk = tokio::time::timeout(Duration::from_secs(5), listener.next())
            .await
            .expect("the listener receives every byte")
            .expect("not dropped");
        bytes.extend_from_slice(&chunk);
    }
    shutdown.cancel();
    let now = now.borrow().clone();
    Rendered { bytes, now, hub }
}
