//! Path traversal through the router: whatever a URL holds (`..`, `%2e%2e`, `%2f`, absolute
//! paths, backslashes, NUL), and whatever the media store holds (a symlink pointing out, a
//! catalog path climbing out), nothing outside the store is ever served.

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;

use crate::support;

const SECRET: &str = "TOP-SECRET: outside the media store";

/// A ready, published episode whose rendition is `rendition` (relative to the data folder).
fn ready(st: &support::TestStation, id: &str, rendition: &str) {
    let episode = support::new_episode(id, "la-matinale", &format!("Épisode {id}"));
    support::publish(st.state.catalog(), &episode, rendition, 60_000);
}

/// Sends `GET url` through the router; the status and body. A URL `http::Uri` refuses never
/// reaches a handler (hyper answers 400 on the wire): reported as 400.
async fn fetch(state: &antenne::daemon::AppState, url: &str) -> (u16, Vec<u8>) {
    let Ok(req) = Request::get(url).body(Body::empty()) else {
        return (400, Vec::new());
    };
    let resp = support::send(state, req).await;
    let code = resp.status().as_u16();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (code, body.to_vec())
}

#[tokio::test]
async fn no_url_reaches_outside_the_media_store() {
    let st = support::station().await;
    let data = st.state.settings().process.data_dir.clone();
    let outside = st.dir.path().join("secret.txt");
    std::fs::write(&outside, SECRET).unwrap();
    std::fs::create_dir_all(data.join("episodes")).unwrap();
    std::fs::write(data.join("episodes/ep-1.mp3"), b"ID3 the real episode").unwrap();
    ready(&st, "ep-1", "episodes/ep-1.mp3");
    // A symlink inside the store pointing out of it.
    std::os::unix::fs::symlink(&outside, data.join("episodes/ep-2.mp3")).unwrap();
    ready(&st, "ep-2", "episodes/ep-2.mp3");
    // Catalog records that climb out or are absolute (a damaged or hostile catalog).
    ready(&st, "ep-3", "../secret.txt");
    ready(&st, "ep-4", outside.to_str().unwrap());

    let check = |url: &'static str, expected: u16| {
        let state = st.state.clone();
        async move {
            let (code, body) = fetch(&state, url).await;
            assert_eq!(code, expected, "{url}: {}", String::from_utf8_lossy(&body));
            let text = String::from_utf8_lossy(&body);
            assert!(!text.contains("TOP-SECRET"), "{url} leaked the secret");
            assert!(!text.contains("[package]"), "{url} leaked Cargo.toml");
            assert!(!text.contains("root:"), "{url} leaked /etc/passwd");
        }
    };
    // Controls: the routes do serve what they should.
    check("/media/ep-1.mp3", 200).await;
    check("/shows/la-matinale/cover.png", 200).await;
    check("/shows/la-matinale/feed.xml", 200).await;
    // Symlinks and catalog paths out of the store.
    check("/media/ep-2.mp3", 404).await;
    check("/media/ep-3.mp3", 404).await;
    check("/media/ep-4.mp3", 404).await;
    // `..`, raw and encoded, in every route that takes a name.
    for url in [
        "/media/../secret.txt",
        "/media/..%2fsecret.txt",
        "/media/%2e%2e%2fsecret.txt",
        "/media/%2E%2E%2F%2E%2E%2FCargo.toml",
        "/media/%2e%2e",
        "/media/..",
        "/media/.%2e/.%2e/Cargo.toml",
        "/media/%252e%252e%252fsecret.txt",
        "/media/ep-1.mp3/../../../Cargo.toml",
        "/media/..%5c..%5cCargo.toml",
        "/media/%5c..%5csecret.txt",
        "/media/%2fetc%2fpasswd",
        "/media//etc/passwd",
        "/media/%2Fetc%2Fpasswd",
        "/media/C:%5cWindows%5cwin.ini",
        "/media/ep-1.mp3%00",
        "/media/ep-1%00.mp3",
        "/media/%00",
        "/media/ep-1.mp3%00.png",
        "/shows/la-matinale/..%2f..%2fCargo.toml",
        "/shows/la-matinale/%2e%2e%2f%2e%2e%2fCargo.toml",
        "/shows/..%2f..%2fCargo.toml/feed.xml",
        "/shows/%2e%2e/cover.png",
        "/shows/..%2fmedia/cover.png",
        "/shows/la-matinale/cover.png%00.txt",
        "/shows/la-matinale/cover.png%2f..%2f..%2fCargo.toml",
        "/shows/%2fetc/cover.png",
        "/static/..%2f..%2fCargo.toml",
        "/static/%2e%2e/%2e%2e/Cargo.toml",
        "/../Cargo.toml",
        "/%2e%2e/Cargo.toml",
        "/feed.xml/../Cargo.toml",
        "/cover.png/..%2f..%2fCargo.toml",
        "/etc/passwd",
        "//etc/passwd",
        "/media/..\\..\\Cargo.toml",
        "/shows/la-matinale/..\\..\\Cargo.toml",
    ] {
        check(url, 404).await;
    }
    // A raw NUL is not even a URI.
    check("/media/ep-1.mp3\0", 400).await;
}
