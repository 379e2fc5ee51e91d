//! End to end: the engine's encoder sink feeds the broadcast hub, and what a listener
//! receives decodes with symphonia without a single error, with the now-playing title set.

use std::sync::Arc;
use std::time::Duration;

use antenne::broadcast::EncoderSink;
use antenne::broadcast::{Hub, HubConfig};
use antenne::playout::{ManualClock, NoEpisodes, PlayoutConfig, default_opener};
use antenne::schedule::{NoFacts, Schedule};
use futures_util::StreamExt;
use jiff::{SignedDuration, Timestamp};

use crate::support::mp3::decode_mp3_with_rate;
use crate::support::tones::sine_wav;

const RATE: u32 = 44_100;

const SCHEDULE: &str = r#"
[station]
name = "Test FM"
timezone = "Europe/Paris"

[fallback]
playlist = "beds"
ident = "idents"
shuffle = false

[[show]]
slug = "tunes"
title = "Tunes"

[[slot]]
id = "tunes"
show = "tunes"
days = ["mon"]
start = "12:00"
duration = "1h"
playlist = "music"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_encoded_stream_decodes_without_error_across_a_show_change() {
    let dir = tempfile::tempdir().unwrap();
    let media = dir.path().join("media");
    sine_wav(&media.join("beds/bed.wav"), 220.0, 10.0, RATE);
    sine_wav(&media.join("idents/id.wav"), 880.0, 0.5, RATE);
    sine_wav(&media.join("music/song.wav"), 440.0, 10.0, RATE);
    let (schedule, _) = Schedule::parse(
        SCHEDULE,
        "t.toml",
        "2027-03-01T00:00:00Z".parse().unwrap(),
        &NoFacts,
    )
    .unwrap_or_else(|d| panic!("{d:?}"));
    // Monday 22 March 2027 12:00 Paris = 11:00Z; render 11:59:57 → 12:00:03.
    let show: Timestamp = "2027-03-22T11:00:00Z".parse().unwrap();
    let from = show - SignedDuration::from_secs(3);
    let to = show + SignedDuration::from_secs(3);

    let shutdown = tokio_util::sync::CancellationToken::new();
    // Publish every frame at once (the default coalesces 200 ms chunks).
    let config = HubConfig {
        chunk: Duration::ZERO,
        ..HubConfig::default()
    };
    let hub = Hub::new(config, shutdown.clone());
    let mut listener = hub.subscribe(false).unwrap();
    let sink = EncoderSink::new(hub.clone(), RATE, 128).unwrap();
    let config = PlayoutConfig {
        sample_rate: RATE,
        media_dir: media,
        wait_for_data: true,
        run_until: Some(to),
        plan_ahead: Duration::from_secs(60),
        ..PlayoutConfig::default()
    };
    let (_tx, rx) = tokio::sync::watch::channel(Arc::new(schedule));
    let handle = antenne::playout::start_with(
        config,
        rx,
        Arc::new(NoEpisodes),
        default_opener(),
        Box::new(sink),
        Arc::new(ManualClock::auto_advance(from)),
    )
    .unwrap();
    let now = handle.now_playing();
    tokio::task::spawn_blocking(move || handle.join())
        .await
        .unwrap();

    let total = hub.bytes_pushed();
    assert!(
        total > 6 * 128_000 / 8 * 9 / 10,
        "about 6 s at 128 kbps: {total} bytes"
    );
    let mut bytes = Vec::new();
    while (bytes.len() as u64) < total {
        let chunk = tokio::time::timeout(Duration::from_secs(5), listener.next())
            .await
            .expect("the listener receives every frame")
            .expect("not dropped");
        bytes.extend_from_slice(&chunk);
    }
    shutdown.cancel();
    let (frames, rate) = decode_mp3_with_rate(bytes).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rate, Some(RATE));
    let frames = frames as u64;
    // 6 s of audio plus the encoder's padding, minus nothing.
    assert!(frames >= 6 * u64::from(RATE), "{frames} frames");
    assert!(frames < 6 * u64::from(RATE) + 3 * 1152, "{frames} frames");
    assert_eq!(hub.title().text, "Tunes - song");
    assert_eq!(now.borrow().show.as_deref(), Some("tunes"));
}
