//! HLS sessions from playlist fetches: one per `?s=` token, with the family of its player,
//! from its first fetch to its last plus one target duration; fetches without a token make
//! none.

use std::time::Duration;

use antenne::broadcast::SessionLog;
use antenne::catalog::{ClientFamily, StreamKind};
use antenne::http::{HlsAccess, HlsService};
use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::routing::get;
use tower::ServiceExt;

use crate::hls::{Rig, config, timebase};

#[tokio::test]
async fn playlist_tokens_become_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let first = timebase().frame_at(jiff::Timestamp::now());
    let mut rig = Rig::start(config(dir.path(), 60, 1.0), first).await;
    rig.feed(3.0, "Essai").await;
    let (log, mut rx) = SessionLog::new(jiff::Timestamp::now());
    let hls = HlsService::new(rig.config.clone(), rig.store.clone()).with_sessions(log);
    let router = Router::new()
        .route("/hls/{file}", get(antenne::http::hls::file))
        .with_state(HlsAccess(Some(hls.clone())));
    let fetch = |uri: &str, ua: &str| {
        let req = Request::get(uri)
            .header("user-agent", ua)
            .body(Body::empty())
            .unwrap();
        router.clone().oneshot(req)
    };
    assert_eq!(
        fetch("/hls/live.m3u8?s=a", "VLC/3.0.21 LibVLC/3.0.21")
            .await
            .unwrap()
            .status(),
        200
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    fetch("/hls/live.m3u8?s=a", "VLC/3.0.21 LibVLC/3.0.21")
        .await
        .unwrap();
    fetch(
        "/hls/live.m3u8?s=b",
        "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
    )
    .await
    .unwrap();
    fetch("/hls/live.m3u8", "Lavf/61.7.100").await.unwrap();
    assert_eq!(
        hls.sessions(),
        2 + 1,
        "two players and a fraction of an anonymous one"
    );
    hls.end_sessions();
    let tail = Duration::from_secs(u64::from(rig.store.target_duration()));
    let mut got = Vec::new();
    while let Ok(s) = rx.try_recv() {
        got.push(s);
    }
    got.sort_by_key(|s| s.client);
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.iter().all(|s| s.output == StreamKind::Hls));
    assert_eq!(
        got.iter().map(|s| s.client).collect::<Vec<_>>(),
        [ClientFamily::Browser, ClientFamily::Vlc]
    );
    let vlc = &got[1];
    let span = vlc.end.duration_since(vlc.start);
    assert!(
        span >= jiff::SignedDuration::try_from(tail + Duration::from_millis(200)).unwrap(),
        "first to last fetch plus a target duration: {span:?}"
    );
    rig.stop().await;
}
