//! `/hls/` through the router: caching headers, names, and HLS sessions in `/api/now` and
//! `/metrics`.

use antenne::broadcast::hls::HlsConfig;
use axum::body::Body;
use axum::http::Request;

use super::*;
use crate::support::{get, send, station};

async fn fetch(state: &antenne::daemon::AppState, uri: &str) -> axum::http::Response<Body> {
    send(state, Request::get(uri).body(Body::empty()).unwrap()).await
}

fn header<'a>(r: &'a axum::http::Response<Body>, name: &str) -> &'a str {
    r.headers().get(name).map_or("", |v| v.to_str().unwrap())
}

#[tokio::test]
async fn playlist_and_segments_are_served_with_their_caching() {
    let s = station().await;
    let state = &s.state;
    let hls = state.http().hls.0.expect("HLS is on by default");
    assert_eq!(
        hls.config.window,
        Duration::from_secs(3 * 3600),
        "default window"
    );
    assert_eq!(
        fetch(state, "/hls/live.m3u8").await.status(),
        503,
        "no segment yet"
    );

    // The station's own store and mount, with 1 s segments to keep the test short.
    let config = HlsConfig {
        segment: Duration::from_secs(1),
        ..hls.config.clone()
    };
    let shutdown = state.shutdown_token().clone();
    let first = timebase().frame_at(jiff::Timestamp::now());
    let mount = state.mounts()[0].clone();
    let mut rig = Rig::on(mount, config, hls.store.clone(), shutdown, first).await;
    rig.feed(4.0, "Essai").await;

    let r = fetch(state, "/hls/live.m3u8?s=first-player").await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-type"), "application/vnd.apple.mpegurl");
    assert_eq!(header(&r, "cache-control"), "public, max-age=1");
    let (_, text) = get(state, "/hls/live.m3u8?s=second-player").await;
    let playlist = antenne::broadcast::hls::Playlist::parse(&text).unwrap();
    let seg = playlist.entries.back().unwrap().file_name();
    let on_disk = std::fs::read(hls.config.dir.join(&seg)).unwrap();

    let r = fetch(state, &format!("/hls/{seg}")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-type"), "audio/mpeg");
    assert_eq!(
        header(&r, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    let body = http_body_util::BodyExt::collect(r.into_body())
        .await
        .unwrap();
    assert_eq!(body.to_bytes(), on_disk, "memory and disk agree");
    // An older segment (not in memory after a restart) is read from the folder.
    let oldest = playlist.entries.front().unwrap().file_name();
    assert_eq!(fetch(state, &format!("/hls/{oldest}")).await.status(), 200);
    for bad in [
        "/hls/..%2Fcatalog.sqlite3",
        "/hls/99.mp3",
        "/hls/x.mp3",
        "/hls/live.m3u",
    ] {
        assert_eq!(fetch(state, bad).await.status(), 404, "{bad}");
    }

    // Two players with tokens, each fetching twice: two sessions.
    get(state, "/hls/live.m3u8?s=first-player").await;
    get(state, "/hls/live.m3u8?s=second-player").await;
    let (_, now) = get(state, "/api/now").await;
    let now: serde_json::Value = serde_json::from_str(&now).unwrap();
    assert_eq!(now["listeners_by_output"]["hls"], 2, "{now}");
    assert_eq!(now["listeners_by_output"]["mp3"], 0, "{now}");
    assert_eq!(now["hls"], "/hls/live.m3u8");
    let (_, metrics) = get(state, "/metrics").await;
    assert!(
        metrics.contains("antenne_output_listeners{output=\"hls\"} 2\n"),
        "{metrics}"
    );
    assert!(metrics.contains("antenne_output_listeners{output=\"mp3\"} 0\n"));
    assert!(metrics.contains("antenne_hls_segments_dropped_total 0\n"));
    // A player without a token counts for a share of a session (reloads per 30 s).
    get(state, "/hls/live.m3u8").await;
    let (_, now) = get(state, "/api/now").await;
    assert!(now.contains("\"hls\":3"), "{now}");
    rig.stop().await;
}
