//! Tests of enclosure serving and the `/media` route.

use std::sync::{Arc, Mutex};

use axum::http::HeaderValue;
use http_body_util::BodyExt;

use super::*;

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    file: PathBuf,
    data: Vec<u8>,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("renditions");
    std::fs::create_dir(&root).unwrap();
    let data: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
    let file = root.join("ep-1.mp3");
    std::fs::write(&file, &data).unwrap();
    std::fs::write(dir.path().join("secret.txt"), b"no").unwrap();
    Fixture {
        root,
        file,
        data,
        _dir: dir,
    }
}

async fn get(
    f: &Fixture,
    method: Method,
    headers: &[(&'static str, &str)],
) -> (Response, Vec<u8>, Vec<Delivery>) {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        map.append(*k, HeaderValue::from_str(v).unwrap());
    }
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = log.clone();
    let resp = serve_file(&f.file, "audio/mpeg", &method, &map, move |d| {
        sink.lock().unwrap().push(d)
    })
    .await;
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes().to_vec();
    let deliveries = log.lock().unwrap().clone();
    (
        Response::from_parts(parts, Body::empty()),
        bytes,
        deliveries,
    )
}

fn h<'a>(r: &'a Response, name: &str) -> &'a str {
    r.headers().get(name).map_or("", |v| v.to_str().unwrap())
}

#[tokio::test]
async fn full_head_and_ranges() {
    let f = fixture();
    let (r, body, d) = get(&f, Method::GET, &[]).await;
    assert_eq!(
        (r.status(), body.as_slice()),
        (StatusCode::OK, f.data.as_slice())
    );
    assert_eq!(
        (h(&r, "accept-ranges"), h(&r, "content-length")),
        ("bytes", "1000")
    );
    assert_eq!(
        d,
        [Delivery {
            head: false,
            status: 200,
            start: 0,
            bytes: 1000
        }]
    );

    let (r, body, d) = get(&f, Method::HEAD, &[]).await;
    assert_eq!(
        (r.status(), body.len(), h(&r, "content-length")),
        (StatusCode::OK, 0, "1000")
    );
    assert!(d[0].head);

    let (r, body, d) = get(&f, Method::GET, &[("range", "bytes=0-1")]).await;
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        (h(&r, "content-range"), body.as_slice()),
        ("bytes 0-1/1000", &f.data[..2])
    );
    assert_eq!(
        d,
        [Delivery {
            head: false,
            status: 206,
            start: 0,
            bytes: 2
        }]
    );

    let (r, body, _) = get(&f, Method::GET, &[("range", "bytes=990-")]).await;
    assert_eq!(
        (h(&r, "content-range"), body.as_slice()),
        ("bytes 990-999/1000", &f.data[990..])
    );

    let (r, body, d) = get(&f, Method::GET, &[("range", "bytes=1000-")]).await;
    assert_eq!(
        (r.status(), h(&r, "content-range"), body.len()),
        (StatusCode::RANGE_NOT_SATISFIABLE, "bytes */1000", 0)
    );
    assert_eq!(d[0].status, 416);
}

#[tokio::test]
async fn validators() {
    let f = fixture();
    let (r, _, _) = get(&f, Method::GET, &[]).await;
    let etag = h(&r, "etag").to_owned();
    let (r, body, d) = get(&f, Method::GET, &[("if-none-match", &etag)]).await;
    assert_eq!(
        (r.status(), body.len(), d[0].status),
        (StatusCode::NOT_MODIFIED, 0, 304)
    );
    // If-Range with a stale validator: the whole (new) file, not a range of it.
    let (r, body, _) = get(
        &f,
        Method::GET,
        &[("range", "bytes=0-1"), ("if-range", "\"stale\"")],
    )
    .await;
    assert_eq!((r.status(), body.len()), (StatusCode::OK, 1000));
    let (r, _, _) = get(
        &f,
        Method::GET,
        &[("range", "bytes=0-1"), ("if-range", &etag)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
}

/// Serves `f` from a state read once that keeps `whole`/`prefix` bytes in memory.
async fn get_kept(
    f: &Fixture,
    state: &FileState,
    headers: &[(&'static str, &str)],
) -> Option<(StatusCode, String, Vec<u8>, Vec<Delivery>)> {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        map.append(*k, HeaderValue::from_str(v).unwrap());
    }
    let req = Conditions::of(&Method::GET, &map).unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = log.clone();
    let resp = serve_state(&f.file, state, "audio/mpeg", &req, move |d| {
        sink.lock().unwrap().push(d)
    })
    .await?;
    let range = h(&resp, "content-range").to_owned();
    let status = resp.status();
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    let deliveries = log.lock().unwrap().clone();
    Some((status, range, body, deliveries))
}

#[tokio::test]
async fn kept_bytes_and_disk_agree() {
    let f = fixture();
    let open = || std::fs::File::open(&f.file).unwrap();
    let whole = FileState::read(&mut open(), KEEP_WHOLE, KEEP_PREFIX).unwrap();
    assert_eq!((whole.len, whole.kept()), (1000, 1000));
    let prefix = FileState::read(&mut open(), 100, 16).unwrap();
    assert_eq!(prefix.kept(), 16);
    let bare = FileState::read(&mut open(), 0, 0).unwrap();
    assert_eq!(bare.kept(), 0);
    assert_eq!((whole.etag(), prefix.etag()), (bare.etag(), bare.etag()));
    // A rendition past what memory keeps: the rest of its bodies from its mapping.
    let mut mapped = FileState::read(&mut open(), 100, 16).unwrap();
    mapped.send_from(open());
    assert!(mapped.spliced() && mapped.mapped.is_some());
    for state in [&whole, &prefix, &bare, &mapped] {
        let (status, _, body, d) = get_kept(&f, state, &[]).await.unwrap();
        assert_eq!(
            (status, body.as_slice()),
            (StatusCode::OK, f.data.as_slice())
        );
        assert_eq!(d[0].bytes, 1000);
        for (range, from, to) in [
            ("bytes=0-1", 0, 2),
            ("bytes=10-20", 10, 21),
            ("bytes=-5", 995, 1000),
        ] {
            let (status, content_range, body, d) =
                get_kept(&f, state, &[("range", range)]).await.unwrap();
            assert_eq!(status, StatusCode::PARTIAL_CONTENT);
            assert_eq!(content_range, format!("bytes {from}-{}/1000", to - 1));
            assert_eq!(body.as_slice(), &f.data[from..to], "{range}");
            assert_eq!((d[0].start, d[0].bytes), (from as u64, (to - from) as u64));
        }
    }
    // A mapped file is never changed in place (renditions): let the mapping go first.
    drop(mapped);
    // The file changed since its state was read: no answer from that state (the route
    // looks the file up again), unless the body is in memory already.
    std::fs::write(&f.file, b"shorter").unwrap();
    assert!(get_kept(&f, &bare, &[]).await.is_none());
    assert!(
        get_kept(&f, &prefix, &[("range", "bytes=500-")])
            .await
            .is_none()
    );
    let (_, _, body, _) = get_kept(&f, &prefix, &[("range", "bytes=0-1")])
        .await
        .unwrap();
    assert_eq!(body.as_slice(), &f.data[..2]);
}

#[test]
fn cache_budget_and_generations() {
    let f = fixture();
    let located = |kept: usize| Located {
        path: f.file.clone(),
        mime: "audio/mpeg",
        episode: None,
        file: FileState {
            kept: Bytes::from(vec![7; kept]),
            ..FileState::read(&mut std::fs::File::open(&f.file).unwrap(), 0, 0).unwrap()
        },
    };
    let cache = MediaCache::default();
    assert!(cache.get("a.mp3", 1).is_none());
    let big = CACHE_BUDGET - 1000;
    assert_eq!(cache.put("a.mp3".into(), 1, located(big)).file.kept(), big);
    assert_eq!(cache.get("a.mp3", 1).unwrap().file.kept(), big);
    // Over budget: a prefix if it fits, else nothing; the lookup is kept either way.
    let b = cache.put("b.mp3".into(), 1, located(2000));
    assert_eq!(b.file.kept(), 0);
    assert!(cache.get("b.mp3", 1).is_some());
    cache.remove("a.mp3");
    assert_eq!(cache.kept_bytes(), 0);
    let p = KEEP_PREFIX as usize;
    assert_eq!(cache.put("c.mp3".into(), 1, located(big)).file.kept(), big);
    assert_eq!(cache.put("d.mp3".into(), 1, located(p * 3)).file.kept(), 0);
    // Replacing an entry returns its bytes to the budget.
    assert_eq!(cache.put("c.mp3".into(), 1, located(10)).file.kept(), 10);
    assert_eq!(
        cache.put("d.mp3".into(), 1, located(p * 3)).file.kept(),
        p * 3
    );
    assert_eq!(cache.kept_bytes(), 10 + p * 3);
    // A new catalog generation forgets everything; a lookup made under the old one is
    // served but not kept.
    assert!(cache.get("c.mp3", 2).is_none());
    assert_eq!(cache.kept_bytes(), 0);
    cache.put("e.mp3".into(), 1, located(10));
    assert!(cache.get("e.mp3", 2).is_none());
}

#[test]
fn nothing_outside_the_store() {
    let f = fixture();
    assert_eq!(
        resolve_in(&f.root, "ep-1.mp3"),
        Some(f.file.canonicalize().unwrap())
    );
    for hostile in [
        "",
        "../secret.txt",
        "/etc/passwd",
        "a/../../secret.txt",
        ".",
        "./ep-1.mp3",
        "nope.mp3",
    ] {
        assert_eq!(resolve_in(&f.root, hostile), None, "{hostile}");
    }
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(
            f.root.parent().unwrap().join("secret.txt"),
            f.root.join("link.mp3"),
        )
        .unwrap();
        assert_eq!(
            resolve_in(&f.root, "link.mp3"),
            None,
            "symlink out of the store"
        );
    }
}

#[test]
fn id3_sizes() {
    let tag = |flags: u8, size: [u8; 4]| {
        let mut h = *b"ID3\x04\x00\x00\x00\x00\x00\x00";
        h[5] = flags;
        h[6..].copy_from_slice(&size);
        h
    };
    assert_eq!(id3_size_of(&tag(0, [0, 0, 0, 0])), Some(10));
    assert_eq!(id3_size_of(&tag(0, [0, 0, 2, 1])), Some(10 + 257));
    assert_eq!(id3_size_of(&tag(0x10, [0, 0, 0, 5])), Some(25), "footer");
    assert_eq!(id3_size_of(&tag(0, [0, 0, 0x80, 0])), None, "not syncsafe");
    assert_eq!(
        id3_size_of(b"\xff\xfb\x90\x00\x00\x00\x00\x00\x00\x00"),
        None
    );
}

#[test]
fn media_names() {
    use crate::catalog::TranscriptKind;
    use MediaKind::*;
    let id = "0b8f2a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
    for (name, expected) in [
        (format!("{id}.mp3"), Some((id, Audio))),
        (
            format!("{id}.vtt"),
            Some((id, Transcript(TranscriptKind::WebVtt))),
        ),
        (
            format!("{id}.srt"),
            Some((id, Transcript(TranscriptKind::Srt))),
        ),
        (format!("{id}.txt"), None),
        (format!("{id}.chapters.json"), Some((id, Chapters))),
        (format!("{id}.png"), Some((id, Png))),
        (format!("{id}.jpg"), Some((id, Jpg))),
        (format!("{id}.mp3.mp3"), None),
        (format!("{id}.wav"), None),
        ("..".into(), None),
        ("..%2f.mp3".into(), None),
        ("../catalog.sqlite3".into(), None),
        (".mp3".into(), None),
        ("a/b.mp3".into(), None),
    ] {
        assert_eq!(parse_media_name(&name), expected, "{name}");
    }
}
