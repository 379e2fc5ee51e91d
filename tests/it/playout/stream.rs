//! End to end: the engine's encoder sink feeds the broadcast hub, and what a listener
//! receives decodes with symphonia without a single error, with the now-playing title set.

use antenne::broadcast::EncoderSink;
use antenne::schedule::{NoFacts, Schedule};
use jiff::{SignedDuration, Timestamp};

use crate::support::mp3::decode_mp3_with_rate;
use crate::support::onair::{Rendered, render_to_listener};
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

    let Rendered { bytes, now, hub } =
        render_to_listener(schedule, media, RATE, (from, to), |hub| {
            Box::new(EncoderSink::new(hub, RATE, 128).unwrap())
        })
        .await;
    let total = bytes.len();
    assert!(
        total > 6 * 128_000 / 8 * 9 / 10,
        "about 6 s at 128 kbps: {total} bytes"
    );
    let (frames, rate) = decode_mp3_with_rate(bytes).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rate, Some(RATE));
    let frames = frames as u64;
    // 6 s of audio plus the encoder's padding, minus nothing.
    assert!(frames >= 6 * u64::from(RATE), "{frames} frames");
    assert!(frames < 6 * u64::from(RATE) + 3 * 1152, "{frames} frames");
    assert_eq!(hub.title().text, "Tunes - song");
    assert_eq!(now.show.as_deref(), Some("tunes"));
}
