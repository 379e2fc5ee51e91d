//! Tokens and episodes from the console: a volunteer's token created (secret shown once),
//! used to upload, revoked and refused; an episode's metadata edited, unpublished and
//! republished, a failed job retried; every change in the audit log.

use antenne::catalog::EpisodeStatus;
use axum::body::Body;

use super::{desk, operator};
use crate::support;
use crate::support::upload::{form, json, upload_request, wav};

async fn upload(state: &antenne::daemon::AppState, secret: &str) -> u16 {
    let body = form(
        &[("show", "la-matinale"), ("title", "Le marché")],
        Some(("marche.wav", &wav(4000, 3))),
    );
    let len = body.len();
    let resp = support::send(
        state,
        upload_request(Some(secret), Body::from(body), Some(len)),
    )
    .await;
    json(resp).await.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_is_created_used_then_revoked_and_refused() {
    let d = desk().await;
    let b = operator(&d).await;
    let tokens = b.get(&d.state, "/console/tokens").await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    let created = b
        .submit(
            &d.state,
            &tokens,
            "/console/tokens",
            &[("name", "Bea"), ("shows", "la-matinale"), ("live", "1")],
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let at = created.body.find("<code id=\"secret\">").unwrap() + 18;
    let secret = created.body[at..at + 68].to_owned();
    assert!(secret.starts_with("ant_"), "{secret}");
    // The instructions for the volunteer, in French, name the upload page and the live mount.
    assert!(created.body.contains("http://radio.test/upload"));
    assert!(created.body.contains("point de montage /live"));
    assert!(created.body.contains("data-copy=\"secret\""));
    // Shown once: the list never shows it.
    let list = b.get(&d.state, "/console/tokens").await;
    assert!(list.body.contains("Bea") && !list.body.contains(&secret));

    assert_eq!(upload(&d.state, &secret).await, 202);

    let revoked = b
        .submit(
            &d.state,
            &list,
            "/console/tokens/revoke",
            &[("name", "Bea")],
        )
        .await;
    assert_eq!(revoked.status, 303, "{}", revoked.body);
    assert_eq!(upload(&d.state, &secret).await, 401);
    let list = b.get(&d.state, "/console/tokens").await;
    assert!(list.body.contains("révoqué"));
    let home = b.get(&d.state, "/console").await;
    assert!(home.body.contains("jeton créé") && home.body.contains("jeton révoqué"));
    assert!(
        home.body.contains("Bea (la-matinale + live)"),
        "{}",
        home.body
    );

    // No show ticked, or a name taken: refused with the reason, nothing created.
    let p = b
        .submit(&d.state, &list, "/console/tokens", &[("name", "Carla")])
        .await;
    assert_eq!(p.status, 422);
    let p = b
        .submit(
            &d.state,
            &list,
            "/console/tokens",
            &[("name", "Bea"), ("shows", "la-matinale")],
        )
        .await;
    assert_eq!(p.status, 409);
    assert_eq!(d.state.catalog().list_tokens().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_episode_is_edited_unpublished_republished_and_its_failed_job_retried() {
    let d = desk().await;
    let b = operator(&d).await;
    let c = d.state.catalog();
    support::publish(
        c,
        &support::new_episode("ep-1", "la-matinale", "Avant"),
        "r/ep-1.mp3",
        61_000,
    );
    let now = jiff::Timestamp::now();
    c.create_episode(&support::new_episode("ep-2", "la-matinale", "Cassé"), now)
        .unwrap();
    let job = c.claim_next_job(now).unwrap().unwrap();
    c.fail_job(job.id, "cannot decode", now).unwrap();

    let list = b.get(&d.state, "/console/episodes?show=la-matinale").await;
    assert_eq!(list.status, 200);
    assert!(
        list.body.contains("Avant") && list.body.contains("échec"),
        "{}",
        list.body
    );
    let one = b.get(&d.state, "/console/episodes/ep-1").await;
    assert!(
        one.body.contains("-16.0 LUFS"),
        "the loudness report: {}",
        one.body
    );

    let p = b
        .submit(
            &d.state,
            &one,
            "/console/episodes/ep-1",
            &[
                ("title", "Après"),
                ("description", "Au marché"),
                ("date", "2026-03-15"),
                ("season", "2"),
                ("episode", "7"),
            ],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let e = c.episode("ep-1").unwrap().unwrap();
    assert_eq!(
        (e.title.as_str(), e.date.as_deref(), e.season, e.episode),
        ("Après", Some("2026-03-15"), Some(2), Some(7))
    );
    let bad = b
        .submit(
            &d.state,
            &one,
            "/console/episodes/ep-1",
            &[("title", "x"), ("date", "15/03/2026"), ("season", "deux")],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(c.episode("ep-1").unwrap().unwrap().title, "Après");

    let p = b
        .submit(
            &d.state,
            &one,
            "/console/episodes/ep-1/publish",
            &[("published", "0")],
        )
        .await;
    assert_eq!(p.status, 303);
    assert!(!c.episode("ep-1").unwrap().unwrap().published);
    let (code, _) = support::get(&d.state, "/api/episodes/ep-1").await;
    assert_eq!(code, 404, "unpublished: gone from the API");
    b.submit(
        &d.state,
        &one,
        "/console/episodes/ep-1/publish",
        &[("published", "1")],
    )
    .await;
    assert!(c.episode("ep-1").unwrap().unwrap().published);

    let failed = b.get(&d.state, "/console/episodes/ep-2").await;
    assert!(failed.body.contains("cannot decode"));
    let p = b
        .submit(&d.state, &failed, "/console/episodes/ep-2/retry", &[])
        .await;
    assert_eq!(p.status, 303);
    assert_eq!(
        c.episode("ep-2").unwrap().unwrap().status,
        EpisodeStatus::Queued
    );
    let home = b.get(&d.state, "/console").await;
    for action in [
        "épisode modifié",
        "épisode dépublié",
        "épisode republié",
        "traitement relancé",
    ] {
        assert!(home.body.contains(action), "{action}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_episode_s_recording_is_replaced_and_queued_again_under_the_same_id() {
    let d = desk().await;
    let b = operator(&d).await;
    let c = d.state.catalog();
    let data = c.data_dir().to_path_buf();
    std::fs::create_dir_all(data.join("originals")).unwrap();
    std::fs::write(data.join("originals/ep-1.wav"), b"old").unwrap();
    support::publish(
        c,
        &support::new_episode("ep-1", "la-matinale", "Avant"),
        "r/ep-1.mp3",
        61_000,
    );
    let one = b.get(&d.state, "/console/episodes/ep-1").await;
    assert!(one.body.contains("enctype=\"multipart/form-data\""));
    let audio = wav(4000, 9);

    // Without the CSRF token first: refused, nothing stored.
    let p = b
        .post_multipart(
            &d.state,
            "/console/episodes/ep-1/audio",
            &[],
            ("new.wav", &audio),
        )
        .await;
    assert_eq!(p.status, 403, "{}", p.body);
    // Not audio: refused.
    let csrf = one.csrf();
    let p = b
        .post_multipart(
            &d.state,
            "/console/episodes/ep-1/audio",
            &[("csrf", &csrf)],
            ("notes.txt", b"hello, not audio"),
        )
        .await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert_eq!(
        c.episode("ep-1").unwrap().unwrap().status,
        EpisodeStatus::Ready
    );

    let p = b
        .post_multipart(
            &d.state,
            "/console/episodes/ep-1/audio",
            &[("csrf", &csrf), ("lang", "fr")],
            ("new.wav", &audio),
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let e = c.episode("ep-1").unwrap().unwrap();
    assert_eq!(e.status, EpisodeStatus::Queued);
    assert_eq!(e.original_name.as_deref(), Some("new.wav"));
    assert_eq!(std::fs::read(data.join(&e.original_path)).unwrap(), audio);
    assert!(
        !data.join("originals/ep-1.wav").exists(),
        "the old original is gone"
    );
    let job = c.claim_next_job(jiff::Timestamp::now()).unwrap().unwrap();
    assert_eq!(job.episode.id, "ep-1");
    // While its job runs, another replacement waits.
    let p = b
        .post_multipart(
            &d.state,
            "/console/episodes/ep-1/audio",
            &[("csrf", &csrf)],
            ("again.wav", &wav(4000, 10)),
        )
        .await;
    assert_eq!(p.status, 409, "{}", p.body);
    let left: Vec<_> = std::fs::read_dir(data.join("originals")).unwrap().collect();
    assert_eq!(left.len(), 1, "nothing else kept: {left:?}");
    let home = b.get(&d.state, "/console").await;
    assert!(home.body.contains("enregistrement remplacé"));
}

/// The music declaration needs tags (issue 16): the console's home lists the aired files
/// that have none, so an operator sees which ones to fix.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_home_lists_aired_files_without_tags() {
    use antenne::catalog::{AirEnd, AirKind, AirStart, AirplayWrite};
    let d = desk().await;
    let b = operator(&d).await;
    let empty = b.get(&d.state, "/console").await;
    assert!(
        empty
            .body
            .contains("Tous les fichiers diffusés ont leurs tags."),
        "{}",
        empty.body
    );
    let frame = 1_796_000_000u64 * 44_100;
    let start = AirStart {
        start_frame: frame,
        sample_rate: 44_100,
        kind: AirKind::Track,
        show: None,
        show_title: "Au fil des quartiers".into(),
        occurrence_id: None,
        episode_id: None,
        title: "sans-titre".into(),
        path: Some("beds/sans-titre.mp3".into()),
        file_offset: Some(0),
        sha256: Some("ab".repeat(32)),
    };
    let end = AirEnd {
        start_frame: frame,
        sample_rate: 44_100,
        frames: 44_100 * 30,
    };
    d.state
        .catalog()
        .record_airplay(&[AirplayWrite::Start(start), AirplayWrite::End(end)])
        .unwrap();
    let home = b.get(&d.state, "/console").await;
    assert!(
        home.body
            .contains("<tr><td>beds/sans-titre.mp3</td><td>1</td>"),
        "{}",
        home.body
    );
    assert!(
        !home
            .body
            .contains("Tous les fichiers diffusés ont leurs tags.")
    );
}
