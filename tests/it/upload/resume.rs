//! Resumable uploads (tus 1.0): create, a PATCH cut mid-body, HEAD, resume, completion.

use axum::body::{Body, Bytes};
use axum::http::{Request, Response};

use crate::support;
use crate::support::send;
use crate::support::upload::*;

fn b64(s: &str) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in s.as_bytes().chunks(3) {
        let n = c
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn header(resp: &Response<Body>, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
}

fn patch(secret: &str, uri: &str, offset: u64, body: Body) -> Request<Body> {
    Request::patch(uri)
        .header("authorization", format!("Bearer {secret}"))
        .header("tus-resumable", "1.0.0")
        .header("content-type", "application/offset+octet-stream")
        .header("upload-offset", offset)
        .body(body)
        .unwrap()
}

fn head(secret: &str, uri: &str) -> Request<Body> {
    Request::head(uri)
        .header("authorization", format!("Bearer {secret}"))
        .header("tus-resumable", "1.0.0")
        .body(Body::empty())
        .unwrap()
}

fn create(secret: &str, length: usize, metadata: &str) -> Request<Body> {
    Request::post("/api/uploads")
        .header("authorization", format!("Bearer {secret}"))
        .header("tus-resumable", "1.0.0")
        .header("upload-length", length)
        .header("upload-metadata", metadata)
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn an_upload_cut_mid_body_resumes_where_it_stopped() {
    let st = support::station().await;
    let alice = token(&st.state, "alice", &["la-matinale"]);
    let bob = token(&st.state, "bob", &["la-matinale"]);
    let audio = wav(40_000, 9);
    let meta = format!(
        "show {},title {},filename {}",
        b64("la-matinale"),
        b64("Reprise après coupure"),
        b64("reprise.wav")
    );

    let resp = send(
        &st.state,
        Request::options("/api/uploads")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(resp.status(), 204);
    assert_eq!(header(&resp, "tus-version").as_deref(), Some("1.0.0"));
    assert!(header(&resp, "tus-extension").unwrap().contains("creation"));

    let resp = send(&st.state, create(&alice, audio.len(), &meta)).await;
    assert_eq!(resp.status(), 201);
    let uri = header(&resp, "location").unwrap();
    assert!(uri.starts_with("/api/uploads/"), "{uri}");

    // First PATCH: 30 000 bytes arrive, then the connection breaks.
    let first = Bytes::copy_from_slice(&audio[..30_000]);
    let cut = futures_util::stream::iter(vec![
        Ok(first.slice(..20_000)),
        Ok(first.slice(20_000..)),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "cut",
        )),
    ]);
    let resp = send(&st.state, patch(&alice, &uri, 0, Body::from_stream(cut))).await;
    assert!(resp.status().is_client_error());
    let resp = send(&st.state, head(&alice, &uri)).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "upload-offset").as_deref(), Some("30000"));
    assert_eq!(
        header(&resp, "upload-length"),
        Some(audio.len().to_string())
    );
    // Another volunteer cannot see or touch it.
    assert_eq!(send(&st.state, head(&bob, &uri)).await.status(), 404);

    // A PATCH from the wrong offset is refused with the right one.
    let resp = send(&st.state, patch(&alice, &uri, 0, Body::from(audio.clone()))).await;
    assert_eq!(resp.status(), 409);
    assert_eq!(header(&resp, "upload-offset").as_deref(), Some("30000"));

    // Resume: the rest completes the upload and creates the episode.
    let rest = Body::from(audio[30_000..].to_vec());
    let resp = send(&st.state, patch(&alice, &uri, 30_000, rest)).await;
    assert_eq!(resp.status(), 204);
    assert_eq!(
        header(&resp, "upload-offset"),
        Some(audio.len().to_string())
    );
    let id = header(&resp, "antenne-episode").unwrap();
    assert_eq!(
        header(&resp, "location"),
        Some(format!("/api/episodes/{id}"))
    );
    let e = st.state.catalog().episode(&id).unwrap().unwrap();
    assert_eq!(e.title, "Reprise après coupure");
    assert_eq!(e.original_name.as_deref(), Some("reprise.wav"));
    let stored =
        std::fs::read(st.state.settings().process.data_dir.join(&e.original_path)).unwrap();
    assert!(stored == audio, "the stored original is the uploaded file");
    assert!(e.original_path.ends_with(".wav"));

    // The answer was lost? HEAD says the same.
    let resp = send(&st.state, head(&alice, &uri)).await;
    assert_eq!(header(&resp, "antenne-episode"), Some(id.clone()));
    assert_eq!(
        header(&resp, "upload-offset"),
        Some(audio.len().to_string())
    );
}

#[tokio::test]
async fn creation_checks_metadata_auth_and_size_first() {
    let st = support::station().await;
    let alice = token(&st.state, "alice", &["la-matinale"]);
    let meta = format!("show {},title {}", b64("cuisines-du-monde"), b64("x"));
    assert_eq!(
        send(&st.state, create(&alice, 100, &meta)).await.status(),
        403
    );
    let resp = send(
        &st.state,
        create(&alice, 100, &format!("show {}", b64("la-matinale"))),
    )
    .await;
    let (code, v) = json(resp).await;
    assert_eq!((code, &v["fields"]["title"]), (422, &"required".into()));
    let limit = st.state.settings().process.upload_limit_bytes as usize;
    let meta = format!("show {},title {}", b64("la-matinale"), b64("x"));
    assert_eq!(
        send(&st.state, create(&alice, limit + 1, &meta))
            .await
            .status(),
        413
    );
    assert_eq!(
        send(&st.state, create("ant_wrong", 100, &meta))
            .await
            .status(),
        401
    );
    let no_version = Request::post("/api/uploads")
        .header("authorization", format!("Bearer {alice}"))
        .header("upload-length", 100)
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&st.state, no_version).await.status(), 412);

    // Not audio: the completing PATCH says so, and the upload is gone.
    let resp = send(&st.state, create(&alice, 11, &meta)).await;
    let uri = header(&resp, "location").unwrap();
    let resp = send(&st.state, patch(&alice, &uri, 0, Body::from("hello world"))).await;
    let (code, v) = json(resp).await;
    assert_eq!(code, 422, "{v}");
    assert!(
        v["fields"]["file"]
            .as_str()
            .unwrap()
            .contains("not a recognised audio file")
    );
    assert_eq!(send(&st.state, head(&alice, &uri)).await.status(), 404);
    assert!(files(&st.state.settings().process.data_dir.join("uploads")).is_empty());
}

/// An upload sent whole in one PATCH is hashed while it is written (no read-back): its sha256
/// is the one the catalog dedups on, so the same bytes sent again in one request are the same
/// episode.
#[tokio::test]
async fn a_single_patch_upload_is_hashed_on_the_way() {
    let st = support::station().await;
    let alice = token(&st.state, "alice", &["la-matinale"]);
    let audio = wav(20_000, 4);
    let meta = format!(
        "show {},title {}",
        b64("la-matinale"),
        b64("D'un seul trait")
    );
    let resp = send(&st.state, create(&alice, audio.len(), &meta)).await;
    let uri = header(&resp, "location").unwrap();
    let resp = send(&st.state, patch(&alice, &uri, 0, Body::from(audio.clone()))).await;
    assert_eq!(resp.status(), 204);
    let id = header(&resp, "antenne-episode").unwrap();
    let e = st.state.catalog().episode(&id).unwrap().unwrap();
    use sha2::Digest;
    assert_eq!(e.original_sha256, hex::encode(sha2::Sha256::digest(&audio)));
    assert!(
        e.original_path.ends_with(".wav"),
        "sniffed from the first bytes"
    );
    assert_eq!(e.original_bytes, audio.len() as u64);
}
