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
    antenne::http::router(state.http())
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

/// Log output captured in memory, through the daemon's own one-line writer: tests read back
/// what an operator's log would hold.
#[derive(Clone, Default)]
pub struct LogCapture(pub std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogCapture {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogCapture {
    /// A `MakeWriter` for `tracing_subscriber::fmt().with_writer(..)` that appends here.
    pub fn writer(
        &self,
    ) -> antenne::log_line::OneLine<impl Fn() -> LogCapture + Clone + Send + Sync + 'static> {
        let cap = self.clone();
        antenne::log_line::OneLine(move || cap.clone())
    }

    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}
