//! Helpers shared by the integration tests: a station state on a temporary folder, requests
//! through the router, captured logs, and running a test alone in its own process. Upload
//! material is in [`upload`], MP3 material in [`mp3`], sine-tone WAV files in [`tones`],
//! playout rendered to a listener in [`onair`], the click detector of the live tests in
//! [`continuity`].

pub mod continuity;
pub mod mp3;
pub mod onair;
pub mod sources;
pub mod tones;
pub mod upload;

use antenne::config::{ProcessSettings, Settings};
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
        process: ProcessSettings {
            listen: "127.0.0.1:0".parse().unwrap(),
            public_url: "http://radio.test".into(),
            data_dir: dir.join("data"),
            media_dir: repo.join("media"),
            schedule: repo.join("schedules/weekly.toml"),
            ..Default::default()
        },
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

/// A new episode of `show` titled `title`, as an upload would describe it (original not
/// stored: for tests that go straight through the catalog).
pub fn new_episode(id: &str, show: &str, title: &str) -> antenne::catalog::NewEpisode {
    antenne::catalog::NewEpisode {
        id: id.into(),
        show: show.into(),
        title: title.into(),
        date: Some("2026-03-14".into()),
        original_sha256: format!("sha-{id}"),
        original_path: format!("originals/{id}.wav"),
        original_bytes: 10,
        ..Default::default()
    }
}

/// Creates `episode` and completes its job as the ingest worker would, with `rendition`
/// (relative to `data_dir`, not checked) lasting `duration_ms`, at -16 LUFS.
pub fn publish(
    catalog: &antenne::catalog::Catalog,
    episode: &antenne::catalog::NewEpisode,
    rendition: &str,
    duration_ms: u64,
) {
    let now = jiff::Timestamp::now();
    catalog.create_episode(episode, now).unwrap();
    let job = catalog.claim_next_job(now).unwrap().unwrap();
    assert_eq!(job.episode.id, episode.id, "another job was queued first");
    complete(catalog, &job, rendition, duration_ms);
}

/// Completes `job` with `rendition` lasting `duration_ms`, at -16 LUFS, gain 0.
pub fn complete(
    catalog: &antenne::catalog::Catalog,
    job: &antenne::catalog::Job,
    rendition: &str,
    duration_ms: u64,
) {
    let l = antenne::catalog::Loudness {
        integrated_lufs: -16.0,
        loudness_range_lu: 4.0,
        true_peak_dbtp: -1.2,
        sample_peak_dbfs: -1.5,
    };
    let done = antenne::catalog::Completed {
        rendition_path: rendition.into(),
        rendition_bytes: 1000,
        duration_ms,
        before: l,
        after: l,
        gain_db: 0.0,
    };
    catalog
        .complete_job(job.id, &done, jiff::Timestamp::now())
        .unwrap();
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

/// Runs the calling test alone in a process of its own, for a test that measures or sets
/// something process-wide (peak RSS, the global tracing subscriber) while other tests run
/// beside it in this binary. `module` is the test's `module_path!()`, `name` its function.
///
/// In the child (this test binary started again with only that test) it returns `true`: run
/// the body. Otherwise it starts that child, passes its output on, asserts it ran the test
/// and passed, and returns `false`: the caller returns at once.
pub fn alone(module: &str, name: &str) -> bool {
    const VAR: &str = "ANTENNE_TEST_ALONE";
    // libtest names a test by its path without the crate (`it::`).
    let test = match module.split_once("::") {
        Some((_, path)) => format!("{path}::{name}"),
        None => name.to_string(),
    };
    if std::env::var(VAR).is_ok_and(|v| v == test) {
        return true;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([&test, "--exact", "--test-threads=1", "--nocapture"])
        .env(VAR, &test)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    print!("{stdout}");
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{test} failed in its own process");
    assert!(
        stdout.contains("test result: ok. 1 passed"),
        "{test} did not run in its own process"
    );
    false
}
