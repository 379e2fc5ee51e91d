//! Feeds and enclosures through the router of a real station state (issue 6): validators and
//! 304, an ingested episode in the station and show feeds with `length` = the bytes served,
//! ranges, hostile media paths, live items, `antenne feed` = the served body, guids stable
//! across a restart, IAB counting into `/metrics`, rebuild on a catalog change.

use std::time::Duration;

use antenne::daemon::AppState;
use antenne::ingest::{Submission, drain_queue, submit, system_clock};
use axum::body::Body;
use axum::http::{Request, Response};
use http_body_util::BodyExt;

use crate::support;
use crate::support::{TestStation, send, station};

const BASE: &str = "http://radio.test";

fn tone_wav(path: &std::path::Path, secs: f64) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 44_100,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..(secs * 44_100.0) as usize {
        let t = i as f32 / 44_100.0;
        let s = 0.3 * (2.0 * std::f32::consts::PI * 440.0 * t).sin();
        w.write_sample((s * 32_767.0) as i16).unwrap();
    }
    w.finalize().unwrap();
}

/// Ingests a short tone into `show` and re-renders the feeds; returns the episode id.
pub(super) async fn ingest(st: &TestStation, show: &str, title: &str) -> String {
    let id = ingest_behind_the_feeds(st, show, title, 2.0).await;
    st.state.rebuild_feeds().await;
    id
}

/// Ingests a `secs` long tone into `show` as `antenne ingest` would, without telling the
/// feeds; returns the episode id.
async fn ingest_behind_the_feeds(st: &TestStation, show: &str, title: &str, secs: f64) -> String {
    let wav = st.dir.path().join(format!("{title}.wav"));
    tone_wav(&wav, secs);
    let (state, sub) = (
        st.state.clone(),
        Submission {
            show: show.into(),
            title: title.into(),
            date: Some("2026-11-21".into()),
            ..Default::default()
        },
    );
    tokio::task::spawn_blocking(move || {
        let clock = system_clock();
        let ep = submit(state.catalog(), &wav, &sub, &clock).unwrap();
        let render = state.settings().station.render_options();
        drain_queue(state.catalog(), &render, 1, &clock).unwrap();
        ep.id
    })
    .await
    .unwrap()
}

async fn request(
    state: &AppState,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
) -> (Response<Body>, Vec<u8>) {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = send(state, req.body(Body::empty()).unwrap()).await;
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes().to_vec();
    (Response::from_parts(parts, Body::empty()), bytes)
}

fn h<'a>(r: &'a Response<Body>, name: &str) -> &'a str {
    r.headers().get(name).map_or("", |v| v.to_str().unwrap())
}

const ITUNES: &str = "http://www.itunes.com/dtds/podcast-1.0.dtd";
const PODCAST: &str = "https://podcastindex.org/namespace/1.0";

/// The child `(namespace, name)` of `node` ("" = no namespace).
fn child<'a>(
    node: roxmltree::Node<'a, 'a>,
    (ns, name): (&str, &str),
) -> Option<roxmltree::Node<'a, 'a>> {
    node.children().find(|c| {
        c.is_element()
            && c.tag_name().name() == name
            && c.tag_name().namespace().unwrap_or("") == ns
    })
}

/// (guid, enclosure url, enclosure length, itunes:duration) of each recorded item.
fn items(xml: &str) -> Vec<(String, String, u64, u64)> {
    let doc = roxmltree::Document::parse(xml).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("item"))
        .map(|item| {
            let child = |name: (&str, &str)| child(item, name);
            let enclosure = child(("", "enclosure")).unwrap();
            (
                child(("", "guid")).unwrap().text().unwrap().to_owned(),
                enclosure.attribute("url").unwrap().to_owned(),
                enclosure.attribute("length").unwrap().parse().unwrap(),
                child((ITUNES, "duration"))
                    .unwrap()
                    .text()
                    .unwrap()
                    .parse()
                    .unwrap(),
            )
        })
        .collect()
}

/// (status, guid, enclosure url, contentLink href) of each live item.
fn live_items(xml: &str) -> Vec<(String, String, String, String)> {
    let doc = roxmltree::Document::parse(xml).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name((PODCAST, "liveItem")))
        .map(|live| {
            let child = |name: (&str, &str)| child(live, name).unwrap();
            (
                live.attribute("status").unwrap().to_owned(),
                child(("", "guid")).text().unwrap().to_owned(),
                child(("", "enclosure"))
                    .attribute("url")
                    .unwrap()
                    .to_owned(),
                child((PODCAST, "contentLink"))
                    .attribute("href")
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect()
}

fn podcast_guid(xml: &str) -> String {
    let doc = roxmltree::Document::parse(xml).unwrap();
    let n = doc
        .descendants()
        .find(|n| n.has_tag_name((PODCAST, "guid")))
        .unwrap();
    n.text().unwrap().to_owned()
}

#[tokio::test]
async fn feeds_answer_with_validators_and_304() {
    let st = station().await;
    for path in [
        "/feed.xml",
        "/shows/la-matinale/feed.xml",
        "/feed.xml?page=1",
    ] {
        let (r, body) = request(&st.state, "GET", path, &[]).await;
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(h(&r, "content-type"), "application/rss+xml; charset=utf-8");
        assert!(h(&r, "cache-control").contains("max-age"));
        let etag = h(&r, "etag").to_owned();
        assert!(etag.starts_with('"'), "{path}: {etag}");
        roxmltree::Document::parse(std::str::from_utf8(&body).unwrap()).unwrap();
        let (r, body) = request(&st.state, "GET", path, &[("if-none-match", &etag)]).await;
        assert_eq!((r.status().as_u16(), body.len()), (304, 0), "{path}");
        let modified = h(&r, "last-modified").to_owned();
        let (r, _) = request(&st.state, "GET", path, &[("if-modified-since", &modified)]).await;
        assert_eq!(r.status(), 304, "{path}");
        let (r, body) = request(&st.state, "HEAD", path, &[]).await;
        assert_eq!((r.status().as_u16(), body.len()), (200, 0));
        let (r, gz) = request(&st.state, "GET", path, &[("accept-encoding", "gzip")]).await;
        assert_eq!(
            (r.status().as_u16(), h(&r, "content-encoding")),
            (200, "gzip")
        );
        assert_eq!(gz[..2], [0x1f, 0x8b]);
    }
    for path in [
        "/shows/nope/feed.xml",
        "/feed.xml?page=2",
        "/feed.xml?page=x",
        "/shows/la-matinale/other.xml",
    ] {
        assert_eq!(
            request(&st.state, "GET", path, &[]).await.0.status(),
            404,
            "{path}"
        );
    }
    // Generated covers, the size Apple asks for.
    let (r, png) = request(&st.state, "GET", "/shows/la-matinale/cover.png", &[]).await;
    assert_eq!(
        (r.status().as_u16(), h(&r, "content-type")),
        (200, "image/png")
    );
    assert_eq!(png[..8], *b"\x89PNG\r\n\x1a\n");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    assert!(width >= 1400, "{width}");
    let etag = h(&r, "etag").to_owned();
    let (r, _) = request(
        &st.state,
        "GET",
        "/shows/la-matinale/cover.png",
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(r.status(), 304);
    assert_eq!(
        request(&st.state, "GET", "/shows/la-matinale/cover.jpg", &[])
            .await
            .0
            .status(),
        404
    );
}

#[tokio::test]
async fn ingested_episode_is_in_both_feeds_with_the_served_length() {
    let st = station().await;
    let id = ingest(
        &st,
        "la-matinale",
        "Le marché <couvert> & \"les\" 🎙 voisins",
    )
    .await;
    let ep = st.state.catalog().episode(&id).unwrap().unwrap();
    let url = format!("{BASE}/media/{id}.mp3");
    let path = format!("/media/{id}.mp3");

    let (r, body) = request(&st.state, "GET", &path, &[]).await;
    assert_eq!(
        (r.status().as_u16(), h(&r, "content-type")),
        (200, "audio/mpeg")
    );
    assert_eq!(h(&r, "accept-ranges"), "bytes");
    let served = body.len() as u64;
    assert_eq!(h(&r, "content-length"), served.to_string());
    assert_eq!(&body[..3], b"ID3", "the rendition is tagged");

    for feed in ["/feed.xml", "/shows/la-matinale/feed.xml"] {
        let (_, xml) = request(&st.state, "GET", feed, &[]).await;
        let xml = String::from_utf8(xml).unwrap();
        assert!(
            xml.contains("Le marché &lt;couvert&gt; &amp;"),
            "escaped title in {feed}"
        );
        let found = items(&xml);
        let (guid, enclosure, length, duration) = found.iter().find(|i| i.0 == id).unwrap().clone();
        assert_eq!(
            (guid, enclosure, length),
            (id.clone(), url.clone(), served),
            "{feed}"
        );
        let exact_s = ep.duration_ms.unwrap() as f64 / 1000.0;
        assert!(
            (duration as f64 - exact_s).abs() <= 1.0,
            "{duration} vs {exact_s}"
        );
    }
    let (_, other) = request(&st.state, "GET", "/shows/cuisines-du-monde/feed.xml", &[]).await;
    assert!(items(&String::from_utf8(other).unwrap()).is_empty());

    // HEAD, probes, ranges, validators.
    let (r, body) = request(&st.state, "HEAD", &path, &[]).await;
    assert_eq!((r.status().as_u16(), body.len()), (200, 0));
    assert_eq!(h(&r, "content-length"), served.to_string());
    let (r, body) = request(&st.state, "GET", &path, &[("range", "bytes=0-1")]).await;
    assert_eq!((r.status().as_u16(), body.len()), (206, 2));
    assert_eq!(h(&r, "content-range"), format!("bytes 0-1/{served}"));
    let (r, body) = request(
        &st.state,
        "GET",
        &path,
        &[("range", &format!("bytes={}-", served - 10))],
    )
    .await;
    assert_eq!((r.status().as_u16(), body.len()), (206, 10));
    let (r, _) = request(
        &st.state,
        "GET",
        &path,
        &[("range", &format!("bytes={served}-"))],
    )
    .await;
    assert_eq!(r.status(), 416);
    assert_eq!(h(&r, "content-range"), format!("bytes */{served}"));
    let etag = h(&request(&st.state, "HEAD", &path, &[]).await.0, "etag").to_owned();
    let (r, _) = request(&st.state, "GET", &path, &[("if-none-match", &etag)]).await;
    assert_eq!(r.status(), 304);
}

#[tokio::test]
async fn nothing_but_episode_files_under_media() {
    let st = station().await;
    let id = ingest(&st, "la-matinale", "Épisode").await;
    assert!(
        st.state
            .settings()
            .process
            .data_dir
            .join("catalog.sqlite3")
            .exists()
    );
    for path in [
        "/media/../catalog.sqlite3".to_owned(),
        "/media/%2e%2e".to_owned(),
        "/media/%2e%2e%2fcatalog.sqlite3".to_owned(),
        "/media/..%2Fcatalog.sqlite3".to_owned(),
        "/media/catalog.sqlite3".to_owned(),
        "/media/download-secret".to_owned(),
        "/media/0b8f2a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b.mp3".to_owned(),
        format!("/media/{id}.wav"),
        format!("/media/{id}.vtt"),
        format!("/media/{id}.chapters.json"),
        format!("/media/{id}.png"),
        format!("/media/{id}"),
    ] {
        let (r, _) = request(&st.state, "GET", &path, &[]).await;
        assert_eq!(r.status(), 404, "{path}");
    }
    // Unpublished: gone from the feed and from /media (whose lookups were cached).
    let (r, _) = request(&st.state, "HEAD", &format!("/media/{id}.mp3"), &[]).await;
    assert_eq!(r.status(), 200);
    st.state
        .catalog()
        .unpublish(&id, jiff::Timestamp::now())
        .unwrap();
    st.state.catalog_changed();
    st.state.rebuild_feeds().await;
    let (r, _) = request(&st.state, "GET", &format!("/media/{id}.mp3"), &[]).await;
    assert_eq!(r.status(), 404);
    let (_, xml) = request(&st.state, "GET", "/feed.xml", &[]).await;
    assert!(items(&String::from_utf8(xml).unwrap()).is_empty());
}

#[tokio::test]
async fn live_items_announce_the_week_with_statuses() {
    let st = station().await;
    let (_, xml) = request(&st.state, "GET", "/feed.xml", &[]).await;
    let live = live_items(&String::from_utf8(xml).unwrap());
    // The demo week has a dozen broadcasts or more; the last ended one comes first.
    assert!(live.len() >= 10, "{}", live.len());
    assert_eq!(live[0].0, "ended");
    assert!(live[1..].iter().all(|l| l.0 == "pending" || l.0 == "live"));
    for (_, guid, enclosure, link) in &live {
        assert!(guid.starts_with("live:"), "{guid}");
        assert_eq!(enclosure, &format!("{BASE}/stream"));
        assert_eq!(link, &format!("{BASE}/"));
    }
    let mut guids: Vec<_> = live.iter().map(|l| &l.1).collect();
    guids.sort();
    guids.dedup();
    assert_eq!(guids.len(), live.len(), "one guid per occurrence");

    // At a fixed instant: Monday 07:30 in Paris, the morning show is on air.
    let schedule = st.state.schedule().schedule.clone();
    let now: jiff::Timestamp = "2026-11-30T06:30:00Z".parse().unwrap();
    let src = antenne::feed::FeedSource {
        schedule: &schedule,
        episodes: &[],
        public_url: BASE,
        stream_bitrate_kbps: 128,
        redirects: &[],
    };
    let feeds = antenne::feed::build(&src, now);
    let (_, matinale) = feeds
        .iter()
        .find(|(k, _)| k == "/shows/la-matinale/feed.xml")
        .unwrap();
    let statuses: Vec<_> = matinale
        .live_items
        .iter()
        .map(|l| (l.status.as_str(), l.start.to_string()))
        .collect();
    assert_eq!(statuses[0].0, "ended", "{statuses:?}");
    assert_eq!(
        statuses[1],
        ("live", "2026-11-30T07:00:00+01:00[Europe/Paris]".into()),
        "{statuses:?}"
    );
    assert!(statuses[2..].iter().all(|s| s.0 == "pending"));
    assert!(
        matinale
            .live_items
            .iter()
            .all(|l| l.title.starts_with("La matinale des quartiers"))
    );
    assert_eq!(
        matinale.update_frequency.as_ref().map(|f| f.rrule.as_str()),
        schedule.rrule_for_show("la-matinale").as_deref()
    );
    assert_eq!(
        antenne::feed::next_boundary(&schedule, now),
        Some("2026-11-30T07:00:00Z".parse().unwrap()),
        "the end of the broadcast on air"
    );
}

#[tokio::test]
async fn antenne_feed_prints_the_served_bytes() {
    let st = station().await;
    ingest(&st, "cuisines-du-monde", "Le couscous").await;
    for (show, path) in [
        (None, "/feed.xml".to_owned()),
        (
            Some("cuisines-du-monde"),
            "/shows/cuisines-du-monde/feed.xml".to_owned(),
        ),
    ] {
        let args = antenne::cli::feed::Args {
            show: show.map(str::to_owned),
            page: 1,
        };
        let mut out = Vec::new();
        antenne::cli::feed::run(&args, st.state.settings(), &mut out).unwrap();
        let (_, served) = request(&st.state, "GET", &path, &[]).await;
        assert_eq!(
            String::from_utf8(out).unwrap(),
            String::from_utf8(served).unwrap(),
            "{path}"
        );
    }
    let args = antenne::cli::feed::Args {
        show: Some("nope".into()),
        page: 1,
    };
    let err = antenne::cli::feed::run(&args, st.state.settings(), &mut Vec::new()).unwrap_err();
    assert_eq!(err.exit_code(), 1);
}

#[tokio::test]
async fn guids_survive_a_restart() {
    let st = station().await;
    let id = ingest(&st, "la-matinale", "Épisode stable").await;
    let (_, before) = request(&st.state, "GET", "/shows/la-matinale/feed.xml", &[]).await;
    let before = String::from_utf8(before).unwrap();
    let secret_path = st.state.settings().process.data_dir.join("download-secret");
    let secret = std::fs::read(&secret_path).unwrap();
    assert_eq!(secret.len(), 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secret_path)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let settings = st.state.settings().clone();
    st.state.stop().await;
    let reopened = AppState::open(settings).await.unwrap();
    let (_, after) = request(&reopened, "GET", "/shows/la-matinale/feed.xml", &[]).await;
    let after = String::from_utf8(after).unwrap();
    assert_eq!(items(&after)[0].0, id);
    assert_eq!(items(&before), items(&after));
    assert_eq!(podcast_guid(&before), podcast_guid(&after));
    let guids = |xml: &str| live_items(xml).into_iter().map(|l| l.1).collect::<Vec<_>>();
    assert_eq!(guids(&before), guids(&after));
    assert_eq!(std::fs::read(&secret_path).unwrap(), secret, "same secret");
}

#[tokio::test]
async fn downloads_are_counted_once_and_exported() {
    let st = station().await;
    let id = ingest(&st, "la-matinale", "Compté").await;
    let path = format!("/media/{id}.mp3");
    let count = |st: &TestStation| {
        st.state
            .catalog()
            .download_counts()
            .unwrap()
            .get(&id)
            .copied()
            .unwrap_or(0)
    };
    // Probes never count.
    request(
        &st.state,
        "HEAD",
        &path,
        &[("user-agent", "AntennaPod/3.4")],
    )
    .await;
    request(
        &st.state,
        "GET",
        &path,
        &[("user-agent", "AntennaPod/3.4"), ("range", "bytes=0-1")],
    )
    .await;
    request(&st.state, "GET", &path, &[("user-agent", "Googlebot/2.1")]).await;
    // The whole (short) file counts once, however many times it is fetched today.
    for _ in 0..2 {
        request(&st.state, "GET", &path, &[("user-agent", "AntennaPod/3.4")]).await;
    }
    let mut n = 0;
    for _ in 0..100 {
        n = count(&st);
        if n > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!((n, count(&st)), (1, 1));
    let (_, metrics) = request(&st.state, "GET", "/metrics", &[]).await;
    let metrics = String::from_utf8(metrics).unwrap();
    assert!(
        metrics.contains(&format!(
            "antenne_episode_downloads_total{{episode=\"{id}\"}} 1\n"
        )),
        "{metrics}"
    );
    // And per episode in the API's listing.
    let (_, list) = request(&st.state, "GET", "/api/episodes", &[]).await;
    let list: serde_json::Value = serde_json::from_slice(&list).unwrap();
    let ep = list["episodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id.as_str())
        .unwrap();
    assert_eq!(ep["downloads"], 1, "{ep}");
}

#[tokio::test]
async fn the_rebuild_task_follows_catalog_changes() {
    let st = station().await;
    tokio::spawn(antenne::http::refresh::refresh_task(st.state.http()));
    // Written behind the state's back (as `antenne ingest` would), then announced.
    let id = ingest_behind_the_feeds(&st, "paroles-d-anciens", "Tard", 1.0).await;
    st.state.catalog_changed();
    let mut seen = false;
    for _ in 0..100 {
        let (_, xml) = request(&st.state, "GET", "/shows/paroles-d-anciens/feed.xml", &[]).await;
        if items(&String::from_utf8(xml).unwrap())
            .iter()
            .any(|i| i.0 == id)
        {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(seen, "the feed was re-rendered after the notification");
    st.state.shutdown_token().cancel();
}

pub(super) fn episode(n: usize, show: &str) -> antenne::catalog::Episode {
    let at: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    let at = at + jiff::SignedDuration::from_hours(n as i64);
    antenne::catalog::Episode {
        id: format!("00000000-0000-4000-8000-{n:012}"),
        show: show.into(),
        title: format!("Épisode {n}"),
        description: String::new(),
        date: None,
        season: None,
        episode: None,
        status: antenne::catalog::EpisodeStatus::Ready,
        error: None,
        published: true,
        original_sha256: String::new(),
        original_path: String::new(),
        original_bytes: 1,
        original_name: None,
        rendition_path: Some(format!("renditions/{n}.mp3")),
        rendition_bytes: Some(1_000 + n as u64),
        duration_ms: Some(60_000),
        before: None,
        after: None,
        gain_db: None,
        transcript_path: None,
        transcript_type: None,
        chapters_path: None,
        artwork_path: None,
        created_at: at,
        updated_at: at,
        ready_at: Some(at),
        occurrence_id: None,
    }
}

#[tokio::test]
async fn large_catalogs_are_paged_300_at_a_time() {
    let st = station().await;
    let schedule = st.state.schedule().schedule.clone();
    // Newest first, as the catalog lists them.
    let episodes: Vec<_> = (0..650)
        .rev()
        .map(|n| {
            episode(
                n,
                if n % 2 == 0 {
                    "la-matinale"
                } else {
                    "paroles-d-anciens"
                },
            )
        })
        .collect();
    let src = antenne::feed::FeedSource {
        schedule: &schedule,
        episodes: &episodes,
        public_url: BASE,
        stream_bitrate_kbps: 128,
        redirects: &[],
    };
    let feeds: std::collections::HashMap<_, _> =
        antenne::feed::build(&src, "2026-11-30T06:30:00Z".parse().unwrap())
            .into_iter()
            .collect();
    let station = |k: &str| feeds.get(k).unwrap();
    let (p1, p2, p3) = (
        station("/feed.xml"),
        station("/feed.xml?page=2"),
        station("/feed.xml?page=3"),
    );
    assert!(!feeds.contains_key("/feed.xml?page=4"));
    assert_eq!(
        (p1.items.len(), p2.items.len(), p3.items.len()),
        (300, 300, 50)
    );
    assert_eq!(p1.items[0].title, "Épisode 649", "newest first");
    assert_eq!(p3.items[49].title, "Épisode 0");
    assert_eq!(
        p1.paging.next.as_deref(),
        Some("http://radio.test/feed.xml?page=2")
    );
    assert_eq!(
        p2.paging.previous.as_deref(),
        Some("http://radio.test/feed.xml")
    );
    assert_eq!(p3.paging.next, None);
    assert!(
        !p1.live_items.is_empty() && p2.live_items.is_empty(),
        "live items on page 1 only"
    );
    assert!(
        p1.last_build.unwrap() >= episodes[0].updated_at,
        "lastBuildDate covers the newest edit"
    );
    // 325 episodes per show: two pages each.
    assert_eq!(feeds["/shows/la-matinale/feed.xml"].items.len(), 300);
    assert_eq!(feeds["/shows/la-matinale/feed.xml?page=2"].items.len(), 25);
    assert!(feeds["/shows/cuisines-du-monde/feed.xml"].items.is_empty());
    // Rendered, the pages carry RFC 5005 links.
    let xml = String::from_utf8(antenne::feed::render(p2).to_vec()).unwrap();
    assert!(
        xml.contains(r#"href="http://radio.test/feed.xml?page=3" rel="next""#)
            || xml.contains(r#"rel="next" href="http://radio.test/feed.xml?page=3""#),
        "{}",
        &xml[..2000]
    );
}

/// Moving a feed (issue 6): the configured old path answers 301 to the new address, and the
/// feed served there carries `itunes:new-feed-url`, so apps update their subscription.
#[tokio::test]
async fn a_moved_feed_redirects_and_announces_its_new_url() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = support::settings(dir.path());
    let new_url = format!("{}/shows/la-matinale/feed.xml", settings.process.public_url);
    settings.station.feed_redirects = vec![antenne::config::FeedRedirect {
        from: "/shows/matinale/feed.xml".into(),
        to: new_url.clone(),
    }];
    let state = AppState::open(settings).await.unwrap();
    let (resp, _) = request(&state, "GET", "/shows/matinale/feed.xml", &[]).await;
    assert_eq!(resp.status(), 301);
    assert_eq!(h(&resp, "location"), new_url);
    let (resp, body) = request(&state, "GET", "/shows/la-matinale/feed.xml", &[]).await;
    assert_eq!(resp.status(), 200);
    let xml = String::from_utf8(body).unwrap();
    assert!(
        xml.contains(&format!(
            "<itunes:new-feed-url>{new_url}</itunes:new-feed-url>"
        )),
        "{xml}"
    );
    // Other feeds do not claim to have moved.
    let (_, body) = request(&state, "GET", "/feed.xml", &[]).await;
    assert!(!String::from_utf8(body).unwrap().contains("new-feed-url"));
}
