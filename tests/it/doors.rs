//! Every door into the catalog against one station: `antenne ingest`'s `submit` and uploads
//! through the router answer the same recording alike, and what intake stores is what the feed
//! announces and `/media` serves.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{Request, Response};
use http_body_util::BodyExt;

use antenne::catalog::EpisodeStatus;
use antenne::daemon::AppState;

use crate::support::{self, upload};
use antenne::ingest::{IngestError, Submission, drain_queue, submit, system_clock};

const SHOW: &str = "la-matinale";

struct Station {
    dir: tempfile::TempDir,
    state: AppState,
    secret: String,
}

/// A station on a temporary data folder with the repository's schedule and media, and an
/// upload token for [`SHOW`].
async fn station() -> Station {
    let support::TestStation { dir, state } = support::station().await;
    let secret = upload::token(&state, "volunteer", &[SHOW]);
    Station { dir, state, secret }
}

impl Station {
    fn data(&self, sub: &str) -> PathBuf {
        self.state.settings().process.data_dir.join(sub)
    }

    async fn get(&self, uri: &str) -> (Response<()>, Vec<u8>) {
        let req = Request::get(uri).body(Body::empty()).unwrap();
        let (parts, body) = support::send(&self.state, req).await.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes().to_vec();
        (Response::from_parts(parts, ()), bytes)
    }

    /// Runs the ingest jobs to completion, as the workers would, and rebuilds the feeds.
    async fn ingest_queued(&self) {
        let state = self.state.clone();
        tokio::task::spawn_blocking(move || {
            drain_queue(
                state.catalog(),
                &state.settings().station.render_options(),
                1,
                &system_clock(),
            )
            .unwrap()
        })
        .await
        .unwrap();
        self.state.rebuild_feeds().await;
    }

    /// `POST /api/episodes` with `fields` then the recording; the status and JSON answer.
    async fn upload(&self, fields: &[(&str, &str)], audio: &[u8]) -> (u16, serde_json::Value) {
        let body = upload::form(fields, Some(("rec.wav", audio)));
        let len = body.len();
        let req = upload::upload_request(Some(&self.secret), Body::from(body), Some(len));
        upload::json(support::send(&self.state, req).await).await
    }

    /// `antenne ingest`'s way in, on a blocking thread as the CLI runs it.
    async fn submit(
        &self,
        file: &Path,
        title: &str,
    ) -> Result<antenne::catalog::Episode, IngestError> {
        let (state, file) = (self.state.clone(), file.to_path_buf());
        let sub = Submission {
            show: SHOW.into(),
            title: title.into(),
            ..Default::default()
        };
        tokio::task::spawn_blocking(move || submit(state.catalog(), &file, &sub, &system_clock()))
            .await
            .unwrap()
    }

    /// Fails the next queued job, `id`'s (as a full disk would); the episode stays published.
    fn fail_next_job(&self, id: &str) {
        let catalog = self.state.catalog();
        let job = catalog
            .claim_next_job(jiff::Timestamp::now())
            .unwrap()
            .unwrap();
        assert_eq!(job.episode.id, id);
        catalog
            .fail_job(job.id, "disk full", jiff::Timestamp::now())
            .unwrap();
    }

    fn status(&self, id: &str) -> EpisodeStatus {
        self.state.catalog().episode(id).unwrap().unwrap().status
    }
}

/// A one-second mono WAV; `seed` changes its samples (and so its sha256).
fn wav(seed: u32) -> Vec<u8> {
    upload::wav(8000, seed)
}

fn duplicate_of(r: Result<antenne::catalog::Episode, IngestError>) -> String {
    match r {
        Err(IngestError::Duplicate { existing, .. }) => existing,
        other => panic!("expected a duplicate, got {other:?}"),
    }
}

const META: &[(&str, &str)] = &[("show", SHOW), ("title", "Le marché")];

// issue 13
#[tokio::test]
async fn the_cli_and_an_upload_answer_a_repeated_recording_alike() {
    let st = station().await;
    let (a, b) = (wav(1), wav(2));
    let file_a = st.dir.path().join("le_marche.wav");
    std::fs::write(&file_a, &a).unwrap();
    // A copy under another name is the same recording.
    let copy_a = st.dir.path().join("copie.flac");
    std::fs::write(&copy_a, &a).unwrap();
    let file_b = st.dir.path().join("b.wav");
    std::fs::write(&file_b, &b).unwrap();

    // First time: a queued episode, the original stored under its id, sniffed as WAV.
    let ep_a = st.submit(&file_a, "").await.unwrap();
    assert_eq!(ep_a.status, EpisodeStatus::Queued);
    assert_eq!(ep_a.title, "le marche", "the title from the file name");
    assert_eq!(ep_a.original_path, format!("originals/{}.wav", ep_a.id));
    let (code, v) = st.upload(META, &b).await;
    assert_eq!(code, 202, "{v}");
    let id_b = v["id"].as_str().unwrap().to_string();
    let ep_b = st.state.catalog().episode(&id_b).unwrap().unwrap();
    assert_eq!(ep_b.original_path, format!("originals/{id_b}.wav"));

    // Again, by either door: the episode it already is, nothing stored.
    for file in [&file_a, &copy_a] {
        assert_eq!(duplicate_of(st.submit(file, "Deux").await), ep_a.id);
    }
    let (code, v) = st.upload(META, &a).await;
    assert_eq!(
        (code, v["id"].as_str(), v["duplicate"].as_bool()),
        (200, Some(ep_a.id.as_str()), Some(true))
    );
    assert_eq!(duplicate_of(st.submit(&file_b, "").await), id_b);
    let (code, v) = st.upload(META, &b).await;
    assert_eq!(
        (code, v["id"].as_str(), v["duplicate"].as_bool()),
        (200, Some(id_b.as_str()), Some(true))
    );
    assert_eq!(upload::files(&st.data("originals")), {
        let mut v = vec![format!("{}.wav", ep_a.id), format!("{id_b}.wav")];
        v.sort();
        v
    });
    assert_eq!(
        upload::files(&st.data("uploads")),
        Vec::<String>::new(),
        "no staging left"
    );
    let all = antenne::catalog::EpisodeQuery {
        include_unpublished: true,
        ..Default::default()
    };
    assert_eq!(st.state.catalog().list_episodes(&all).unwrap().len(), 2);

    // Sent again after its job failed: queued again (same id), by either door.
    st.fail_next_job(&ep_a.id);
    st.fail_next_job(&id_b);
    assert_eq!(st.status(&ep_a.id), EpisodeStatus::Failed);
    let again = st.submit(&copy_a, "").await.unwrap();
    assert_eq!(
        (again.id.as_str(), again.status),
        (ep_a.id.as_str(), EpisodeStatus::Queued)
    );
    let (code, v) = st.upload(META, &b).await;
    assert_eq!(
        (code, v["id"].as_str(), v["status"].as_str()),
        (200, Some(id_b.as_str()), Some("queued"))
    );
    assert_eq!(st.status(&id_b), EpisodeStatus::Queued);

    // Deleted: refused by either door, naming the episode whose id is not reused.
    let catalog = st.state.catalog();
    for id in [&ep_a.id, &id_b] {
        catalog.unpublish(id, jiff::Timestamp::now()).unwrap();
    }
    assert_eq!(duplicate_of(st.submit(&file_b, "").await), id_b);
    let (code, v) = st.upload(META, &a).await;
    assert_eq!((code, v["id"].as_str()), (409, Some(ep_a.id.as_str())));
    assert_eq!(upload::files(&st.data("originals")).len(), 2);
}

// issue 13
#[tokio::test]
async fn the_cli_refuses_what_an_upload_refuses() {
    let st = station().await;
    let notes = st.dir.path().join("notes.mp3");
    std::fs::write(&notes, "pas de l'audio ".repeat(100)).unwrap();
    let err = st.submit(&notes, "Notes").await.unwrap_err();
    assert!(matches!(err, IngestError::NotAudio { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("notes.mp3") && msg.contains("not a recognised audio file"),
        "{msg}"
    );
    let (code, v) = st
        .upload(META, "pas de l'audio ".repeat(100).as_bytes())
        .await;
    assert_eq!(code, 422, "{v}");
    assert!(v.to_string().contains("not a recognised audio file"), "{v}");
    // Bad fields: every one at once, as an upload reports them.
    let bad = Submission {
        show: "La Matinale".into(),
        title: "x".into(),
        date: Some("14/03/2026".into()),
        ..Default::default()
    };
    let file = st.dir.path().join("a.wav");
    std::fs::write(&file, wav(3)).unwrap();
    match submit(st.state.catalog(), &file, &bad, &system_clock()) {
        Err(e @ IngestError::Invalid(_)) => {
            let msg = e.to_string();
            assert!(
                msg.contains("invalid show") && msg.contains("invalid date"),
                "{msg}"
            );
        }
        other => panic!("expected invalid fields, got {other:?}"),
    }
    assert_eq!(upload::files(&st.data("originals")), Vec::<String>::new());
    assert_eq!(upload::files(&st.data("uploads")), Vec::<String>::new());
}

/// The `podcast:transcript` of episode `id` in `xml`: its `url` and `type`.
fn announced_transcript(xml: &str, id: &str) -> Option<(String, String)> {
    let doc = roxmltree::Document::parse(xml).unwrap();
    let item = doc.descendants().find(|n| {
        n.has_tag_name("item")
            && n.children()
                .any(|c| c.has_tag_name("guid") && c.text() == Some(id))
    })?;
    let t = item
        .children()
        .find(|c| c.tag_name().name() == "transcript")?;
    Some((
        t.attribute("url")?.to_string(),
        t.attribute("type")?.to_string(),
    ))
}

/// Uploads a recording with `transcript`, ingests it, and follows the show feed's
/// `podcast:transcript` to `/media`: the type announced, and the answer's status, body and
/// Content-Type.
async fn upload_and_follow_the_feed(transcript: &str) -> (String, String, u16, Vec<u8>, String) {
    let st = station().await;
    let mut fields = META.to_vec();
    fields.push(("transcript", transcript));
    let (code, v) = st.upload(&fields, &wav(4)).await;
    assert_eq!(code, 202, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    st.ingest_queued().await;
    assert_eq!(st.status(&id), EpisodeStatus::Ready);
    let (resp, xml) = st.get(&format!("/shows/{SHOW}/feed.xml")).await;
    assert_eq!(resp.status(), 200);
    let xml = String::from_utf8(xml).unwrap();
    let (url, mime) = announced_transcript(&xml, &id)
        .unwrap_or_else(|| panic!("no podcast:transcript for {id} in {xml}"));
    let path = url
        .strip_prefix("http://radio.test")
        .unwrap_or_else(|| panic!("{url} is not on the station"));
    assert_eq!(
        path,
        format!("/media/{id}.{}", url.rsplit('.').next().unwrap())
    );
    let (resp, body) = st.get(path).await;
    let content_type = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (url, mime, resp.status().as_u16(), body, content_type)
}

// issue 13
#[tokio::test]
async fn srt_transcript_is_served_where_the_feed_says() {
    let srt = "1\n00:00:00,000 --> 00:00:00,800\nBonjour à toutes et à tous\n\n\
               2\n00:00:00,800 --> 00:00:01,000\nLe marché ouvre à huit heures.\n";
    let (url, mime, status, body, content_type) = upload_and_follow_the_feed(srt).await;
    assert!(url.ends_with(".srt"), "{url}");
    assert_eq!(mime, "application/x-subrip");
    assert_eq!(status, 200, "{url}");
    assert_eq!(body, srt.as_bytes(), "the transcript as uploaded");
    assert_eq!(content_type, mime);
}

// issue 13
#[tokio::test]
async fn webvtt_transcript_is_served_where_the_feed_says() {
    let vtt = "WEBVTT\n\n00:00.000 --> 00:00.800\n<v Fatima>Bonjour à toutes et à tous\n";
    let (url, mime, status, body, content_type) = upload_and_follow_the_feed(vtt).await;
    assert!(url.ends_with(".vtt"), "{url}");
    assert_eq!(mime, "text/vtt");
    assert_eq!(status, 200, "{url}");
    assert_eq!(body, vtt.as_bytes(), "the transcript as uploaded");
    assert_eq!(content_type, mime);
}
