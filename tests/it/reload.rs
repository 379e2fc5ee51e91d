//! Live reload of the schedule (issue 4): a valid edit takes effect within 2 s, a broken one
//! is refused and the last good schedule stays on air, with its errors in /api/status.

use std::time::Duration;

use antenne::daemon::AppState;

use crate::support;

async fn wait_for(state: &AppState, what: &str, f: impl Fn(&AppState) -> bool) {
    let start = std::time::Instant::now();
    while !f(state) {
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "not within 2 s: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_4_accepts_valid_edits_and_refuses_broken_ones() {
    let dir = tempfile::tempdir().unwrap();
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let file = dir.path().join("weekly.toml");
    let original = std::fs::read_to_string(repo.join("schedules/weekly.toml")).unwrap();
    std::fs::write(&file, &original).unwrap();
    let mut settings = support::settings(dir.path());
    settings.process.schedule = file.clone();
    let state = AppState::open(settings).await.unwrap();
    let task = tokio::spawn(antenne::daemon::schedule::reload_task(
        state.schedule_sender().clone(),
        state.settings().process.media_dir.clone(),
        state.catalog().clone(),
        state.shutdown_token().clone(),
    ));
    tokio::time::sleep(Duration::from_millis(100)).await;

    // A valid edit: a new title, written by renaming a temporary file over the original (as
    // editors do).
    let edited = original.replace("La matinale des quartiers", "La matinale du quartier");
    std::fs::write(dir.path().join(".weekly.tmp"), &edited).unwrap();
    std::fs::rename(dir.path().join(".weekly.tmp"), &file).unwrap();
    wait_for(&state, "edit applied", |s| {
        s.schedule().schedule.show("la-matinale").unwrap().title == "La matinale du quartier"
    })
    .await;

    // A broken edit, written in place: refused, the edited schedule stays on air.
    std::fs::write(
        &file,
        edited.replace("duration = \"1h\"", "duration = \"une heure\""),
    )
    .unwrap();
    wait_for(&state, "edit refused", |s| s.schedule().refused.is_some()).await;
    assert_eq!(
        state.schedule().schedule.show("la-matinale").unwrap().title,
        "La matinale du quartier"
    );
    let (code, body) = support::get(&state, "/api/status").await;
    assert_eq!(code, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let errors = v["schedule"]["refused"]["errors"].as_array().unwrap();
    assert!(!errors.is_empty());
    assert!(
        errors[0].as_str().unwrap().contains("weekly.toml:"),
        "{errors:?}"
    );

    // The file deleted: still on air. Then fixed: accepted again, the refusal cleared.
    std::fs::remove_file(&file).unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(state.schedule().schedule.show("la-matinale").is_some());
    std::fs::write(&file, &original).unwrap();
    wait_for(&state, "fix applied", |s| {
        s.schedule().refused.is_none()
            && s.schedule().schedule.show("la-matinale").unwrap().title
                == "La matinale des quartiers"
    })
    .await;
    state.shutdown_token().cancel();
    task.await.unwrap();
}

#[tokio::test]
async fn api_schedule_and_now() {
    let st = support::station().await;
    let (code, body) = support::get(&st.state, "/api/schedule?from=2026-11-30&to=2026-12-01").await;
    assert_eq!(code, 200, "{body}");
    let list: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap();
    let matinale = list
        .iter()
        .find(|o| o["show"] == "la-matinale")
        .expect("Monday's matinale");
    assert_eq!(matinale["start"], "2026-11-30T07:00:00+01:00");
    assert_eq!(matinale["end"], "2026-11-30T08:00:00+01:00");
    assert_eq!(matinale["play"], "premiere");
    let (code, body) = support::get(&st.state, "/api/schedule?from=yesterday").await;
    assert_eq!(code, 422, "{body}");
    let (code, body) = support::get(&st.state, "/api/now").await;
    assert_eq!(code, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(v["next"]["start"].is_string(), "{v}");
}
