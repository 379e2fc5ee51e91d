//! The upload API through the router: auth, size limit, field validation, storage layout,
//! duplicates, metadata edits and deletion.

use antenne::catalog::EpisodeStatus;
use antenne::daemon::AppState;
use axum::body::{Body, Bytes};
use axum::http::Request;

use crate::support;
use crate::support::upload::*;
use crate::support::{TestStation, send};

async fn station_with_limit(limit: u64) -> TestStation {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = support::settings(dir.path());
    settings.process.upload_limit_bytes = limit;
    let state = AppState::open(settings).await.unwrap();
    TestStation { dir, state }
}

fn data(st: &TestStation) -> std::path::PathBuf {
    st.state.settings().process.data_dir.clone()
}

async fn upload(
    state: &AppState,
    secret: Option<&str>,
    fields: &[(&str, &str)],
    file: Option<(&str, &[u8])>,
) -> (u16, serde_json::Value, Option<String>) {
    let body = form(fields, file);
    let len = body.len();
    let resp = send(state, upload_request(secret, Body::from(body), Some(len))).await;
    let loc = resp
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string());
    let (code, v) = json(resp).await;
    (code, v, loc)
}

const META: &[(&str, &str)] = &[("show", "la-matinale"), ("title", "Le marché du samedi")];

#[tokio::test]
async fn an_upload_is_stored_under_its_id_and_queued() {
    let st = station_with_limit(10 << 20).await;
    let secret = token(&st.state, "alice", &["la-matinale"]);
    let audio = wav(4000, 1);
    let fields = [
        ("show", "la-matinale"),
        ("title", "Le marché du samedi"),
        ("description", "Rencontres <b>au marché</b>"),
        ("date", "2026-03-14"),
        ("season", "2"),
        ("episode", "7"),
        ("transcript", "WEBVTT\n\n00:00.000 --> 00:01.000\nBonjour\n"),
        (
            "chapters",
            r#"{"version":"1.2.0","chapters":[{"startTime":0,"title":"Intro"}]}"#,
        ),
    ];
    // The client's name is display-only: never a path, never the extension.
    let (code, v, loc) = upload(
        &st.state,
        Some(&secret),
        &fields,
        Some(("../../x.mp3", &audio)),
    )
    .await;
    assert_eq!(code, 202, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    assert_eq!(v["status"], "queued");
    assert_eq!(loc.as_deref(), Some(format!("/api/episodes/{id}").as_str()));

    let d = data(&st);
    assert_eq!(files(&d.join("originals")), vec![format!("{id}.wav")]);
    assert_eq!(
        std::fs::read(d.join(format!("originals/{id}.wav"))).unwrap(),
        audio
    );
    assert!(files(&d.join("uploads")).is_empty(), "nothing left staged");
    let e = st.state.catalog().episode(&id).unwrap().unwrap();
    assert_eq!(e.status, EpisodeStatus::Queued);
    assert_eq!(e.original_path, format!("originals/{id}.wav"));
    assert_eq!(e.original_name.as_deref(), Some("../../x.mp3"));
    assert_eq!(e.original_bytes, audio.len() as u64);
    use sha2::Digest;
    assert_eq!(e.original_sha256, hex::encode(sha2::Sha256::digest(&audio)));
    assert_eq!(
        (e.season, e.episode, e.date.as_deref()),
        (Some(2), Some(7), Some("2026-03-14"))
    );
    assert_eq!(
        e.transcript_type,
        Some(antenne::catalog::TranscriptKind::WebVtt)
    );
    let t = std::fs::read_to_string(d.join(e.transcript_path.unwrap())).unwrap();
    assert!(t.contains("Bonjour"));
    assert!(d.join(e.chapters_path.unwrap()).is_file());
    assert!(
        st.state
            .catalog()
            .claim_next_job(jiff::Timestamp::now())
            .unwrap()
            .is_some()
    );

    let (code, body) = support::get(&st.state, &format!("/api/episodes/{id}")).await;
    assert_eq!(code, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["status"], "processing");
    assert_eq!(v["title"], "Le marché du samedi");
    let (code, body) = support::get(&st.state, "/api/episodes?show=la-matinale").await;
    assert_eq!(code, 200);
    assert!(body.contains(&id), "{body}");
}

#[tokio::test]
async fn missing_wrong_revoked_and_other_show_tokens_are_refused() {
    let st = station_with_limit(10 << 20).await;
    let alice = token(&st.state, "alice", &["la-matinale"]);
    let bob = token(&st.state, "bob", &["cuisines-du-monde"]);
    let audio = wav(800, 2);
    let file = Some(("a.wav", audio.as_slice()));
    for secret in [None, Some("ant_nope"), Some("")] {
        let resp = send(
            &st.state,
            upload_request(secret, Body::from(form(META, file)), None),
        )
        .await;
        assert_eq!(resp.status(), 401);
        assert!(resp.headers().contains_key("www-authenticate"));
        let (_, v) = json(resp).await;
        assert_eq!(v["error"], "authentication required");
    }
    let (code, _, _) = upload(&st.state, Some(&bob), META, file).await;
    assert_eq!(code, 403);
    // `file` before `show`: still refused, and nothing is left behind.
    let body = {
        let mut b = form(&[], file);
        b.truncate(b.len() - tail().len());
        b.extend_from_slice(&form(META, None));
        b
    };
    let resp = send(
        &st.state,
        upload_request(Some(&bob), Body::from(body), None),
    )
    .await;
    assert_eq!(resp.status(), 403);
    let d = data(&st);
    assert!(files(&d.join("originals")).is_empty());
    assert!(files(&d.join("uploads")).is_empty());

    st.state
        .catalog()
        .revoke_token("alice", jiff::Timestamp::now())
        .unwrap();
    let (code, _, _) = upload(&st.state, Some(&alice), META, file).await;
    assert_eq!(code, 401);
}

#[tokio::test]
async fn a_declared_size_over_the_limit_gets_413_before_the_body_is_read() {
    let st = station_with_limit(1 << 20).await;
    let secret = token(&st.state, "alice", &[]);
    let body = Body::from_stream(futures_util::stream::poll_fn(
        |_| -> std::task::Poll<Option<Result<Bytes, std::io::Error>>> {
            panic!("the body was read")
        },
    ));
    let resp = send(
        &st.state,
        upload_request(Some(&secret), body, Some(100 << 20)),
    )
    .await;
    let (code, v) = json(resp).await;
    assert_eq!(code, 413);
    assert_eq!(
        v["error"],
        "the upload is larger than the limit of 1048576 bytes"
    );
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_is_cut_off_with_413_and_nothing_kept() {
    let st = station_with_limit(100_000).await;
    let secret = token(&st.state, "alice", &[]);
    let mut head = form(META, None);
    head.truncate(head.len() - tail().len());
    head.extend_from_slice(file_head("big.wav").as_bytes());
    let chunks = std::iter::once(Ok::<_, std::io::Error>(Bytes::from(head)))
        .chain((0..100).map(|_| Ok(Bytes::from(vec![7u8; 16 * 1024]))));
    let body = Body::from_stream(futures_util::stream::iter(chunks));
    let resp = send(&st.state, upload_request(Some(&secret), body, None)).await;
    let (code, v) = json(resp).await;
    assert_eq!(code, 413, "{v}");
    let d = data(&st);
    assert!(files(&d.join("uploads")).is_empty());
    assert!(files(&d.join("originals")).is_empty());
}

#[tokio::test]
async fn bad_fields_get_422_with_a_message_per_field() {
    let st = station_with_limit(10 << 20).await;
    let secret = token(&st.state, "alice", &[]);
    let audio = wav(800, 3);
    let fields = [
        ("show", "La Monnaie"),
        ("date", "14/03/2026"),
        ("season", "deux"),
        ("episode", "0"),
        ("transcript", "just some words"),
        ("chapters", "[1, 2"),
    ];
    let (code, v, _) = upload(&st.state, Some(&secret), &fields, Some(("a.wav", &audio))).await;
    assert_eq!(code, 422, "{v}");
    let f = &v["fields"];
    let mut keys: Vec<&String> = f.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "chapters",
            "date",
            "episode",
            "season",
            "show",
            "title",
            "transcript"
        ]
    );
    assert_eq!(f["title"], "required");
    assert_eq!(f["date"], "\"14/03/2026\" is not a date as YYYY-MM-DD");
    assert!(
        f["show"].as_str().unwrap().contains("not a show slug"),
        "{f}"
    );
    // No file, and a file that is not audio.
    let (code, v, _) = upload(&st.state, Some(&secret), META, None).await;
    assert_eq!(
        (code, &v["fields"]["file"]),
        (422, &"required: the recording".into())
    );
    let (code, v, _) = upload(
        &st.state,
        Some(&secret),
        META,
        Some(("a.wav", b"<html>hello</html>")),
    )
    .await;
    assert_eq!(code, 422);
    assert!(
        v["fields"]["file"]
            .as_str()
            .unwrap()
            .starts_with("not a recognised audio file"),
        "{v}"
    );
    // A slug that is not one of the schedule's shows.
    let fields = [("show", "radio-inconnue"), ("title", "x")];
    let (code, v, _) = upload(&st.state, Some(&secret), &fields, Some(("a.wav", &audio))).await;
    assert_eq!(code, 422);
    let msg = v["fields"]["show"].as_str().unwrap();
    assert!(
        msg.starts_with("no show named \"radio-inconnue\"; the shows are: la-matinale"),
        "{msg}"
    );
    let d = data(&st);
    assert!(files(&d.join("uploads")).is_empty());
    assert!(files(&d.join("originals")).is_empty());
}

#[tokio::test]
async fn the_same_recording_twice_answers_the_existing_episode() {
    let st = station_with_limit(10 << 20).await;
    let secret = token(&st.state, "alice", &["la-matinale"]);
    let audio = wav(1200, 4);
    let (code, first, _) = upload(&st.state, Some(&secret), META, Some(("a.wav", &audio))).await;
    assert_eq!(code, 202);
    let (code, again, loc) = upload(&st.state, Some(&secret), META, Some(("b.wav", &audio))).await;
    assert_eq!(code, 200, "{again}");
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["duplicate"], true);
    assert_eq!(
        loc.unwrap(),
        format!("/api/episodes/{}", first["id"].as_str().unwrap())
    );
    assert_eq!(files(&data(&st).join("originals")).len(), 1);
}

async fn patch(state: &AppState, secret: &str, id: &str, body: &str) -> (u16, serde_json::Value) {
    let req = Request::patch(format!("/api/episodes/{id}"))
        .header("authorization", format!("Bearer {secret}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    json(send(state, req).await).await
}

async fn delete(state: &AppState, secret: &str, id: &str) -> u16 {
    let req = Request::delete(format!("/api/episodes/{id}"))
        .header("authorization", format!("Bearer {secret}"))
        .body(Body::empty())
        .unwrap();
    send(state, req).await.status().as_u16()
}

#[tokio::test]
async fn patch_edits_metadata_with_the_upload_rules() {
    let st = station_with_limit(10 << 20).await;
    let alice = token(&st.state, "alice", &["la-matinale"]);
    let bob = token(&st.state, "bob", &["cuisines-du-monde"]);
    let op = token(&st.state, "operator", &[]);
    let fields = [
        ("show", "la-matinale"),
        ("title", "Avant"),
        ("date", "2026-01-01"),
    ];
    let (_, v, _) = upload(
        &st.state,
        Some(&alice),
        &fields,
        Some(("a.wav", &wav(900, 5))),
    )
    .await;
    let id = v["id"].as_str().unwrap();

    let (code, v) = patch(
        &st.state,
        &alice,
        id,
        r#"{"title":"Après","date":null,"season":3}"#,
    )
    .await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(
        (&v["title"], &v["date"], &v["season"]),
        (&"Après".into(), &serde_json::Value::Null, &3.into())
    );
    let e = st.state.catalog().episode(id).unwrap().unwrap();
    assert_eq!(
        (e.title.as_str(), e.date, e.season),
        ("Après", None, Some(3))
    );

    let (code, v) = patch(
        &st.state,
        &alice,
        id,
        r#"{"title":"","date":"demain","colour":"red"}"#,
    )
    .await;
    assert_eq!(code, 422);
    let mut keys: Vec<_> = v["fields"].as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["colour", "date", "title"]);
    assert_eq!(patch(&st.state, &bob, id, r#"{"title":"x"}"#).await.0, 403);
    assert_eq!(
        patch(&st.state, &op, id, r#"{"description":"par l'opérateur"}"#)
            .await
            .0,
        200
    );
    assert_eq!(
        patch(&st.state, &op, "no-such-id", r#"{"title":"x"}"#)
            .await
            .0,
        404
    );
    assert_eq!(
        st.state.catalog().episode(id).unwrap().unwrap().title,
        "Après"
    );
}

#[tokio::test]
async fn delete_unpublishes_and_the_id_is_never_reused() {
    let st = station_with_limit(10 << 20).await;
    let alice = token(&st.state, "alice", &["la-matinale"]);
    let bob = token(&st.state, "bob", &["cuisines-du-monde"]);
    let audio = wav(1000, 6);
    let (_, v, _) = upload(&st.state, Some(&alice), META, Some(("a.wav", &audio))).await;
    let id = v["id"].as_str().unwrap().to_string();

    assert_eq!(delete(&st.state, &bob, &id).await, 403);
    assert_eq!(delete(&st.state, &alice, &id).await, 204);
    assert_eq!(delete(&st.state, &alice, &id).await, 404);
    assert_eq!(
        support::get(&st.state, &format!("/api/episodes/{id}"))
            .await
            .0,
        404
    );
    let (_, list) = support::get(&st.state, "/api/episodes").await;
    assert!(!list.contains(&id), "{list}");
    // The row stays (the guid is retired, not freed): the same file is refused...
    assert!(!st.state.catalog().episode(&id).unwrap().unwrap().published);
    let (code, v, _) = upload(&st.state, Some(&alice), META, Some(("a.wav", &audio))).await;
    assert_eq!((code, v["id"].as_str()), (409, Some(id.as_str())), "{v}");
    // ...and a new recording gets a new id.
    let (code, v, _) = upload(
        &st.state,
        Some(&alice),
        META,
        Some(("a.wav", &wav(1000, 7))),
    )
    .await;
    assert_eq!(code, 202);
    assert_ne!(v["id"].as_str().unwrap(), id);
}
