//! The demo station of the quick start: its schedule is valid, every demo media file decodes,
//! and a new station seeds its catalog with the demo episodes.

use std::path::Path;

use antenne::daemon::schedule::MediaFacts;
use antenne::schedule::{Play, Schedule};

use crate::support;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_demo_schedule_is_valid_and_its_folders_exist() {
    let text = std::fs::read_to_string(repo().join("schedules/weekly.toml")).unwrap();
    let facts = MediaFacts {
        media_dir: repo().join("media"),
    };
    let (schedule, _warnings) = Schedule::parse(
        &text,
        "schedules/weekly.toml",
        jiff::Timestamp::now(),
        &facts,
    )
    .unwrap_or_else(|d| {
        panic!(
            "{}",
            d.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        )
    });
    let fallback = schedule.fallback();
    let mut folders = vec![fallback.playlist.clone(), fallback.ident.clone()];
    for slot in schedule.slots() {
        if let Play::Playlist { folder, .. } = &slot.play {
            folders.push(folder.clone());
        }
    }
    for f in folders {
        let n = std::fs::read_dir(repo().join("media").join(&f))
            .unwrap()
            .count();
        assert!(n > 0, "{} is empty", f.display());
    }
}

#[test]
fn every_demo_media_file_decodes() {
    let mut files = Vec::new();
    let mut stack = vec![repo().join("media")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "mp3") {
                files.push(p);
            }
        }
    }
    assert!(files.len() >= 10, "{files:?}");
    let total: u64 = files.iter().map(|f| f.metadata().unwrap().len()).sum();
    assert!(
        total < 3_000_000,
        "demo media must stay under 3 MB, is {total}"
    );
    for f in files {
        let mut src =
            antenne::audio::open_pcm(&f, 44_100).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let mut buf = Vec::new();
        let mut frames = 0u64;
        loop {
            buf.clear();
            let n = src.read(&mut buf, 8192).unwrap();
            if n == 0 {
                break;
            }
            frames += n as u64;
        }
        assert!(frames > 44_100 * 3, "{}: only {frames} frames", f.display());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_station_seeds_the_demo_episodes_once() {
    let st = support::station().await;
    antenne::daemon::start_tasks(&st.state).await.unwrap();
    let all = antenne::catalog::EpisodeQuery {
        include_unpublished: true,
        ..Default::default()
    };
    let episodes = st.state.catalog().list_episodes(&all).unwrap();
    let mut shows: Vec<&str> = episodes.iter().map(|e| e.show.as_str()).collect();
    shows.sort();
    assert_eq!(
        shows,
        [
            "cuisines-du-monde",
            "la-matinale",
            "les-petits-reporters",
            "paroles-d-anciens"
        ]
    );
    assert!(
        episodes.iter().any(|e| e.title == "La matinale du lundi"),
        "sidecar titles are used"
    );
    st.state.stop().await;
    // A second start on the same catalog seeds nothing more.
    let again = antenne::daemon::AppState::open(support::settings(st.dir.path()))
        .await
        .unwrap();
    antenne::daemon::start_tasks(&again).await.unwrap();
    assert_eq!(again.catalog().list_episodes(&all).unwrap().len(), 4);
    again.stop().await;
}

/// The quick start's promise: a new demo station is on air at once, and what `/stream` sends
/// decodes as MP3.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_station_streams_at_once() {
    use futures_util::StreamExt;
    let st = support::station().await;
    antenne::daemon::start_tasks(&st.state).await.unwrap();
    let resp = support::send(
        &st.state,
        axum::http::Request::get("/stream")
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "audio/mpeg");
    let mut body = resp.into_body().into_data_stream();
    let mut mp3 = Vec::new();
    // 1.5 s of audio at 128 kbps: the burst plus what playout renders meanwhile.
    while mp3.len() < 24_000 {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), body.next())
            .await
            .expect("the stream keeps coming")
            .expect("the stream does not end")
            .unwrap();
        mp3.extend_from_slice(&chunk);
    }
    assert_eq!(
        &mp3[..2],
        &[0xFF, 0xFB],
        "starts on an MPEG-1 Layer III frame header"
    );
    let mut pcm = antenne::audio::open_source(
        Box::new(std::io::Cursor::new(mp3)),
        Path::new("stream.mp3"),
        44_100,
    )
    .unwrap();
    let (mut buf, mut frames) = (Vec::new(), 0);
    loop {
        buf.clear();
        match pcm.read(&mut buf, 4096).unwrap() {
            0 => break,
            n => frames += n,
        }
    }
    assert!(frames > 44_100, "{frames} frames decoded");
    let (code, now) = support::get(&st.state, "/api/now").await;
    assert_eq!(code, 200);
    let kind = serde_json::from_str::<serde_json::Value>(&now).unwrap()["now"]["kind"].clone();
    assert!(
        ["fallback", "show", "silence"].contains(&kind.as_str().unwrap_or("")),
        "{now}"
    );
    st.state.stop().await;
}
