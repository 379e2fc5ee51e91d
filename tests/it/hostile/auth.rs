//! Tokens and request sizes: a wrong, malformed, missing or revoked token gets the same bare
//! `401`, another show's token `403`; no secret ever reaches the log (every event captured at
//! TRACE level); JSON bodies are limited (`413`). The upload limits (with and without
//! `Content-Length`) are in `upload::api` and `upload::resume`.

use std::sync::OnceLock;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;

use crate::support;
use crate::support::upload::{form, token, upload_request, wav};

/// Every event of this process, from every thread, at TRACE level (the global subscriber: a
/// test using it runs alone in its own process, see `support::alone`).
fn log() -> &'static support::LogCapture {
    static CAPTURE: OnceLock<support::LogCapture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let cap = support::LogCapture::default();
        let writer = cap.writer();
        tracing::subscriber::set_global_default(
            tracing_subscriber::fmt()
                .with_writer(writer)
                .with_ansi(false)
                .with_env_filter(tracing_subscriber::EnvFilter::new("trace"))
                .finish(),
        )
        .unwrap();
        cap
    })
}

async fn call(
    state: &antenne::daemon::AppState,
    req: Request<Body>,
) -> (u16, Option<String>, String) {
    let resp = support::send(state, req).await;
    let code = resp.status().as_u16();
    let www = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string());
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (code, www, String::from_utf8_lossy(&body).into_owned())
}

fn upload_with(auth: Option<&str>, show: &str, seed: u32) -> Request<Body> {
    let body = form(
        &[("show", show), ("title", "Essai")],
        Some(("a.wav", &wav(800, seed))),
    );
    let len = body.len();
    let mut req = upload_request(None, Body::from(body), Some(len));
    if let Some(a) = auth {
        req.headers_mut()
            .insert("authorization", a.parse().unwrap());
    }
    req
}

#[tokio::test]
async fn wrong_tokens_get_a_bare_401_and_no_secret_is_ever_logged() {
    if !support::alone(
        module_path!(),
        "wrong_tokens_get_a_bare_401_and_no_secret_is_ever_logged",
    ) {
        return; // it ran in a process of its own
    }
    let log = log();
    let st = support::station().await;
    let good = token(&st.state, "matinale", &["la-matinale"]);
    let revoked = token(&st.state, "old", &[]);
    st.state
        .catalog()
        .revoke_token("old", jiff::Timestamp::now())
        .unwrap();
    let near_miss = format!("{}x", &good[..good.len() - 1]);
    let mut refusals = Vec::new();
    for auth in [
        None,
        Some("Bearer ant_wrong_0123456789abcdef".to_string()),
        Some(format!("Bearer {near_miss}")),
        Some(format!("Bearer {revoked}")),
        Some(format!("Basic {good}")),
        Some("Bearer ".to_string()),
        Some(format!("Bearer {}", "a".repeat(300))),
    ] {
        let (code, www, body) =
            call(&st.state, upload_with(auth.as_deref(), "la-matinale", 1)).await;
        assert_eq!(code, 401, "{auth:?}: {body}");
        assert!(www.is_some_and(|w| w.starts_with("Bearer")), "{auth:?}");
        refusals.push(body);
    }
    // All alike: nothing tells a near miss or a revoked token from garbage.
    assert!(refusals.windows(2).all(|w| w[0] == w[1]), "{refusals:?}");
    assert!(!refusals[0].contains("ant_"), "{}", refusals[0]);
    // Another show: 403, naming no token.
    let bearer = format!("Bearer {good}");
    let (code, _, body) = call(
        &st.state,
        upload_with(Some(&bearer), "cuisines-du-monde", 2),
    )
    .await;
    assert_eq!(code, 403, "{body}");
    assert!(
        !body.contains(&good) && !body.contains("matinale\""),
        "{body}"
    );
    // The right one works (and its use is logged by name only).
    let (code, _, body) = call(&st.state, upload_with(Some(&bearer), "la-matinale", 3)).await;
    assert_eq!(code, 202, "{body}");
    let (code, _, _) = call(
        &st.state,
        Request::patch("/api/episodes/nope")
            .header("authorization", format!("Bearer {near_miss}"))
            .body(Body::from("{}"))
            .unwrap(),
    )
    .await;
    assert_eq!(code, 401);

    let logged = log.text();
    assert!(
        logged.contains("upload stored"),
        "the capture works: {logged}"
    );
    for secret in [&good, &revoked, &near_miss, &"ant_wrong".to_string()] {
        assert!(
            !logged.contains(secret.as_str()),
            "{secret} logged:\n{logged}"
        );
    }
    let hash = antenne::catalog::hash_secret(&good);
    assert!(!logged.contains(&hash), "hash logged");
}

#[tokio::test]
async fn json_bodies_are_limited() {
    let st = support::station().await;
    let ops = token(&st.state, "ops", &[]);
    let big = format!("{{\"title\":\"{}\"}}", "a".repeat(3 * 1024 * 1024));
    for chunked in [false, true] {
        let mut req = Request::patch("/api/episodes/some-id")
            .header("authorization", format!("Bearer {ops}"))
            .header("content-type", "application/json");
        let body = if chunked {
            let chunks: Vec<Result<Vec<u8>, std::io::Error>> = big
                .as_bytes()
                .chunks(64 * 1024)
                .map(|c| Ok(c.to_vec()))
                .collect();
            Body::from_stream(futures_util::stream::iter(chunks))
        } else {
            req = req.header("content-length", big.len());
            Body::from(big.clone())
        };
        let (code, _, body) = call(&st.state, req.body(body).unwrap()).await;
        assert_eq!(code, 413, "chunked {chunked}: {body}");
    }
}
