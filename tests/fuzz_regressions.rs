//! Issue #8, hostile input: every fuzz finding as a regression test, and the committed fuzz
//! corpus (`fuzz/corpus/<target>/`) replayed through the very functions the libFuzzer targets
//! call (`fuzz/src/checks.rs`), so CI exercises them without nightly or cargo-fuzz.
//! See RELIABILITY.md, "Fuzzing".

#[path = "../fuzz/src/checks.rs"]
mod checks;

use std::path::Path;

/// Feeds every file of `fuzz/corpus/<target>/` to `check`; returns how many there were.
fn replay(target: &str, check: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in &files {
        let data = std::fs::read(f).unwrap();
        // A failing input names itself before the check's own message.
        eprintln!("replaying {}", f.display());
        check(&data);
    }
    assert!(!files.is_empty(), "empty corpus for {target}");
    files.len()
}

#[test]
fn fuzz_corpus_schedule() {
    replay("schedule", checks::schedule);
}

#[test]
fn fuzz_corpus_upload_meta() {
    replay("upload_meta", checks::upload_meta);
}

#[test]
fn fuzz_corpus_http_headers() {
    replay("http_headers", checks::http_headers);
}

#[test]
fn fuzz_corpus_decode() {
    replay("decode", checks::decode);
}

/// Found by `http_headers` in its first seconds: an Icecast URL whose mount held a CR (and a
/// host with a NUL) went verbatim into the `PUT` request head, so a configuration value could
/// inject header lines or break the request line. `Endpoint::parse` now refuses anything but
/// visible ASCII in host and mount.
#[test]
fn issue8_icecast_url_cannot_inject_header_lines() {
    use antenne::broadcast::icecast::Endpoint;
    use antenne::config::IcecastTarget;
    let parse = |url: &str| {
        Endpoint::parse(&IcecastTarget {
            url: url.into(),
            user: String::new(),
            password: "hackme".into(),
        })
    };
    for url in [
        "http://127.0.0.1:8000/live\r\nX-Injected: 1",
        "http://127.0.0.1:8000/live\r.mp3",
        "http://icecast\0.test:8000/live.mp3",
        "http://icecast.test:8000/live mp3",
        "http://ic\u{e9}cast.test:8000/live.mp3",
        "http://icecast.test:8000/\u{e9}t\u{e9}",
    ] {
        assert!(parse(url).is_err(), "{url:?} accepted");
    }
    assert!(parse("http://127.0.0.1:8000/live.mp3").is_ok());
    // The fuzz input that found it, through the target's own check (one request head).
    checks::http_headers(b"\x03http://127.0.0.1:8000/\xc3\xa9\r HTTP/1.1\nL'heure\npw");
    checks::http_headers(b"\x03http://127\x00.0.0.1/live\nL'heure\npw");
}
