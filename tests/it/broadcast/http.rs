//! `GET`/`HEAD /stream` through axum: headers, ICY, limit, shutdown, and decodable bytes.

use std::time::Duration;

use antenne::broadcast::{FrameSplitter, Hub, HubConfig, StationInfo, icy};
use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::support::mp3::*;

fn app(max_listeners: usize) -> (Router, Hub, CancellationToken) {
    let token = CancellationToken::new();
    let config = HubConfig {
        burst: Duration::from_secs(2),
        chunk: Duration::ZERO,
        max_listeners,
        backlog_bytes: 256 * 1024,
    };
    let hub = Hub::new(config, token.clone());
    let info = StationInfo {
        name: "Au fil des quartiers".into(),
        description: "Radio de quartier".into(),
        genre: "Community".into(),
        url: "http://radio.example".into(),
        bitrate_kbps: 128,
        sample_rate: 44_100,
    };
    (
        antenne_testkit::stream::router(hub.clone(), info),
        hub,
        token,
    )
}

fn request(method: Method, uri: &str, icy: bool) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(uri);
    if icy {
        builder = builder.header("Icy-MetaData", "1");
    }
    builder.body(Body::empty()).unwrap()
}

/// Reads at least `n` body bytes.
async fn read_body(body: &mut Body, n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    while out.len() < n {
        let frame = tokio::time::timeout(Duration::from_secs(5), body.frame())
            .await
            .expect("body stalled");
        let frame = frame.expect("body ended").expect("body error");
        out.extend_from_slice(frame.data_ref().expect("data frame"));
    }
    out
}

fn push_mp3(hub: &Hub, mp3: &[u8]) {
    let mut splitter = FrameSplitter::new();
    let mut frames = Vec::new();
    splitter.push(mp3, &mut frames);
    splitter.finish(&mut frames);
    for f in frames {
        hub.push(f);
    }
}

#[tokio::test]
async fn stream_headers_and_a_decodable_burst() {
    let (app, hub, _token) = app(10);
    push_mp3(&hub, &lame_tone(3.0));
    let response = app
        .oneshot(request(Method::GET, "/stream", false))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let h = response.headers();
    assert_eq!(h["content-type"], "audio/mpeg");
    assert!(h.get("content-length").is_none());
    assert!(h["cache-control"].to_str().unwrap().contains("no-cache"));
    assert_eq!(h["icy-name"], "Au fil des quartiers");
    assert_eq!(h["icy-description"], "Radio de quartier");
    assert_eq!(h["icy-genre"], "Community");
    assert_eq!(h["icy-url"], "http://radio.example");
    assert_eq!(h["icy-br"], "128");
    assert!(h.get("icy-metaint").is_none(), "no metadata unless asked");
    assert_eq!(hub.listeners(), 1);
    let mut body = response.into_body();
    let bytes = read_body(&mut body, 2 * 16_000).await;
    let decoded = decode_mp3(bytes).expect("the stream decodes with symphonia");
    assert!(
        decoded >= 88_200,
        "{decoded} frames: at least the 2 s burst"
    );
    drop(body);
    assert_eq!(hub.listeners(), 0, "a closed body frees its place");
}

#[tokio::test]
async fn icy_listeners_get_metaint_and_titles() {
    let (app, hub, _token) = app(10);
    hub.set_title("Les voisins - Épisode 3");
    push_mp3(&hub, &lame_tone(3.0));
    let response = app
        .oneshot(request(Method::GET, "/stream.mp3", true))
        .await
        .unwrap();
    assert_eq!(response.headers()["icy-metaint"], "16000");
    let mut body = response.into_body();
    let mut reader = icy::Reader::new();
    reader.push(&read_body(&mut body, 16_000 + 64).await);
    let titles: Vec<_> = reader
        .blocks
        .iter()
        .map(|(at, p)| (*at, icy::stream_title(p).unwrap().to_owned()))
        .collect();
    assert_eq!(titles, [(16_000, "Les voisins - Épisode 3".to_owned())]);
    decode_mp3(reader.audio).expect("audio without the metadata decodes");
}

#[tokio::test]
async fn head_opens_no_stream_and_the_limit_answers_503() {
    let (app, hub, _token) = app(1);
    let head = app
        .clone()
        .oneshot(request(Method::HEAD, "/stream", true))
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(head.headers()["content-type"], "audio/mpeg");
    assert_eq!(head.headers()["icy-metaint"], "16000");
    assert_eq!(hub.listeners(), 0);
    let first = app
        .clone()
        .oneshot(request(Method::GET, "/stream", false))
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let second = app
        .clone()
        .oneshot(request(Method::GET, "/stream", false))
        .await
        .unwrap();
    assert_eq!(second.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(second.headers().contains_key("retry-after"));
    let head = app
        .clone()
        .oneshot(request(Method::HEAD, "/stream", false))
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::SERVICE_UNAVAILABLE);
    drop(first);
    let third = app
        .oneshot(request(Method::GET, "/stream", false))
        .await
        .unwrap();
    assert_eq!(third.status(), StatusCode::OK);
}

#[tokio::test]
async fn shutdown_ends_the_body() {
    let (app, hub, token) = app(10);
    push_mp3(&hub, &lame_tone(1.0));
    let response = app
        .oneshot(request(Method::GET, "/stream", false))
        .await
        .unwrap();
    let mut body = response.into_body();
    read_body(&mut body, 1).await;
    token.cancel();
    let end = tokio::time::timeout(Duration::from_secs(5), body.frame())
        .await
        .expect("body ends promptly");
    assert!(end.is_none());
}
