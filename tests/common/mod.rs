//! Helpers shared by the integration tests: a station state on a temporary folder, and
//! requests through the router.
#![allow(dead_code)]

use antenne::config::Settings;
use antenne::daemon::AppState;
use axum::body::Body;
use axum::http::{Request, Response};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// A station on a temporary data folder, with the repository's schedule and media.
pub struct TestStation {
    pub dir: tempfile::TempDir,
    pub state: AppState,
}

pub fn settings(dir: &std::path::Path) -> Settings {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        public_url: "http://radio.test".into(),
        data_dir: dir.join("data"),
        media_dir: repo.join("media"),
        schedule: repo.join("schedules/weekly.toml"),
        ..Settings::default()
    }
}

pub async fn station() -> TestStation {
    let dir = tempfile::tempdir().unwrap();
    let state = AppState::open(settings(dir.path())).await.unwrap();
    TestStation { dir, state }
}

/// Sends one request through the router.
pub async fn send(state: &AppState, req: Request<Body>) -> Response<Body> {
    antenne::http::router(state.clone())
        .oneshot(req)
        .await
        .unwrap()
}

pub async fn get(state: &AppState, uri: &str) -> (u16, String) {
    let resp = send(state, Request::get(uri).body(Body::empty()).unwrap()).await;
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}
