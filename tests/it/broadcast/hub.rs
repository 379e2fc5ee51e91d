//! The broadcast fan-out: frame splitting, burst, ICY metadata, slow listeners, limits, shutdown.

use std::time::Duration;

use antenne::broadcast::icy::{self, METAINT};
use antenne::broadcast::{FrameHeader, FrameSplitter, Hub, HubConfig, HubError};
use futures_util::{FutureExt, StreamExt};
use proptest::prelude::*;
use tokio_util::sync::CancellationToken;

use crate::support::mp3::*;

fn hub(burst_ms: u64, max_listeners: usize, backlog_bytes: usize) -> (Hub, CancellationToken) {
    let token = CancellationToken::new();
    let config = HubConfig {
        burst: Duration::from_millis(burst_ms),
        chunk: Duration::ZERO,
        max_listeners,
        backlog_bytes,
    };
    (Hub::new(config, token.clone()), token)
}

/// Everything the listener has ready now, without waiting (and without tokio's cooperative
/// budget turning "ready" into "pending" in a test that never yields).
fn drain(listener: &mut antenne::broadcast::Listener) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(Some(bytes)) = tokio::task::unconstrained(listener.next()).now_or_never() {
        out.extend_from_slice(&bytes);
    }
    out
}

proptest! {
    #[test]
    fn frames_survive_arbitrary_chunking(
        pads in prop::collection::vec(any::<bool>(), 1..40),
        garbage in prop::collection::vec(0u8..0xFF, 0..300),
        tag in prop::collection::vec(any::<u8>(), 0..200),
        cuts in prop::collection::vec(1usize..900, 1..40),
    ) {
        let frames: Vec<Vec<u8>> = pads.iter().enumerate().map(|(i, &p)| synth_frame(p, (i % 200) as u8 + 1)).collect();
        // An ID3v2 tag whose body may contain sync-like bytes, then garbage, then the frames.
        let mut input = b"ID3\x04\x00\x00".to_vec();
        let size = tag.len();
        input.extend([(size >> 21) as u8 & 0x7F, (size >> 14) as u8 & 0x7F, (size >> 7) as u8 & 0x7F, size as u8 & 0x7F]);
        input.extend(&tag);
        input.extend(&garbage);
        input.extend(frames.concat());

        let mut splitter = FrameSplitter::new();
        let mut out = Vec::new();
        let mut rest = &input[..];
        for cut in cuts.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (piece, tail) = rest.split_at((*cut).min(rest.len()));
            splitter.push(piece, &mut out);
            rest = tail;
        }
        splitter.finish(&mut out);
        let got: Vec<Vec<u8>> = out.iter().map(|f| f.bytes.to_vec()).collect();
        prop_assert_eq!(got, frames);
        prop_assert_eq!(splitter.discarded() as usize, 10 + tag.len() + garbage.len());
    }
}

#[test]
fn lame_output_splits_into_decodable_frames_without_its_info_tag() {
    let mp3 = lame_tone(1.0);
    let frames = split_all(&mp3);
    assert!(frames.len() >= 38, "{} frames", frames.len());
    assert!(
        frames
            .iter()
            .all(|f| f.header.bitrate_kbps == 128 && f.header.sample_rate == 44_100)
    );
    let first = &frames[0].bytes[..];
    assert!(
        !first.windows(4).any(|w| w == b"Info" || w == b"Xing"),
        "the Info tag frame is dropped"
    );
    let audio = concat(&frames);
    assert!(
        audio.len() + 418 >= mp3.len(),
        "only the tag frame was dropped"
    );
    let decoded = decode_mp3(audio).expect("decodes");
    assert!(decoded >= 44_100, "{decoded} frames decoded");
}

#[tokio::test]
async fn a_new_listener_starts_on_a_frame_with_the_burst() {
    let (hub, _token) = hub(2_000, 10, 256 * 1024);
    let frames = synth_frames(300);
    for f in &frames[..200] {
        hub.push(f.clone());
    }
    let mut listener = hub.subscribe(false).unwrap();
    let burst = drain(&mut listener);
    assert!(
        FrameHeader::parse(burst[..4].try_into().unwrap()).is_some(),
        "starts on a header"
    );
    let burst_frames = split_all(&burst);
    let samples: u64 = burst_frames
        .iter()
        .map(|f| u64::from(f.header.samples()))
        .sum();
    // At least 2 s, and less than one frame more.
    assert!(
        (88_200..88_200 + 1152).contains(&samples),
        "{samples} samples"
    );
    assert!(
        burst == concat(&frames[200 - burst_frames.len()..200]),
        "the latest frames, in order"
    );
    for f in &frames[200..] {
        hub.push(f.clone());
    }
    assert!(
        drain(&mut listener) == concat(&frames[200..]),
        "then every live frame"
    );
}

#[tokio::test]
async fn icy_blocks_parse_and_the_title_changes_at_the_next_block() {
    let (hub, _token) = hub(0, 10, 1 << 20);
    hub.set_title("Show - Episode 1");
    let mut listener = hub.subscribe(true).unwrap();
    let frames = synth_frames(200); // ~83 kB: five metadata intervals
    let mut reader = icy::Reader::new();
    let mut change_at = 0;
    for (i, f) in frames.iter().enumerate() {
        if i == 100 {
            hub.set_title("L'Écho - Épisode 2");
            change_at = reader.audio.len();
        }
        hub.push(f.clone());
        reader.push(&drain(&mut listener));
    }
    let expected = concat(&frames);
    assert!(
        reader.audio == expected,
        "audio passes through untouched: {} vs {} bytes",
        reader.audio.len(),
        expected.len()
    );
    let titles: Vec<(usize, &str)> = reader
        .blocks
        .iter()
        .map(|(at, p)| (*at, icy::stream_title(p).unwrap()))
        .collect();
    let next_boundary = change_at.next_multiple_of(METAINT);
    assert_eq!(
        titles,
        [
            (METAINT, "Show - Episode 1"),
            (next_boundary, "L\u{2019}Écho - Épisode 2")
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_stalled_listener_is_dropped_while_a_healthy_one_keeps_real_time() {
    let (hub, token) = hub(2_000, 10, 64 * 1024);
    let frames = synth_frames(2_300); // one minute at 44.1 kHz
    let mut stalled = hub.subscribe(false).unwrap();
    let healthy = hub.subscribe(false).unwrap();
    let consumer = tokio::spawn(async move {
        let mut healthy = healthy;
        let mut received = Vec::new();
        while let Some(bytes) = healthy.next().await {
            received.extend_from_slice(&bytes);
        }
        received
    });
    let producer = {
        let hub = hub.clone();
        let frames = frames.clone();
        tokio::spawn(async move {
            // Real-time pace: one frame per 1152 samples at 44.1 kHz.
            let mut clock = tokio::time::interval(Duration::from_micros(1_152_000_000 / 44_100));
            for f in frames {
                clock.tick().await;
                hub.push(f);
            }
        })
    };
    producer.await.unwrap();
    assert_eq!(hub.listeners(), 2);
    // The stalled listener wakes up: it is told nothing stale, its stream just ends.
    assert!(stalled.next().await.is_none());
    assert_eq!(hub.dropped_total(), 1);
    drop(stalled);
    assert_eq!(hub.listeners(), 1);
    token.cancel();
    let received = consumer.await.unwrap();
    assert!(
        received == concat(&frames),
        "the healthy listener got every frame: {} bytes",
        received.len()
    );
    assert_eq!(hub.dropped_total(), 1);
}

#[tokio::test]
async fn a_listener_behind_by_more_than_the_backlog_is_dropped() {
    // Fewer frames than the ring holds, more bytes than the backlog: the byte bound decides.
    let (hub, _token) = hub(0, 10, 16 * 1024);
    let mut slow = hub.subscribe(false).unwrap();
    for f in synth_frames(100) {
        hub.push(f);
    }
    assert!(slow.next().await.is_none());
    assert_eq!(hub.dropped_total(), 1);
}

#[tokio::test]
async fn the_listener_limit_is_a_typed_error_and_places_are_freed() {
    let (hub, _token) = hub(2_000, 2, 256 * 1024);
    let a = hub.subscribe(false).unwrap();
    let _b = hub.subscribe(true).unwrap();
    assert_eq!(
        hub.subscribe(false).unwrap_err(),
        HubError::Full { limit: 2 }
    );
    assert!(!hub.has_room());
    let _relay = hub.subscribe_relay().expect("relays are not counted");
    drop(a);
    assert_eq!(hub.listeners(), 1);
    assert!(hub.subscribe(false).is_ok());
}

#[tokio::test]
async fn shutdown_ends_listener_streams() {
    let (hub, token) = hub(2_000, 10, 256 * 1024);
    for f in synth_frames(100) {
        hub.push(f);
    }
    let mut with_burst = hub.subscribe(false).unwrap();
    let mut waiting = hub.subscribe(true).unwrap();
    drain(&mut waiting);
    let pending = tokio::spawn(async move { waiting.next().await });
    tokio::task::yield_now().await;
    token.cancel();
    assert!(
        pending.await.unwrap().is_none(),
        "a listener waiting for frames ends"
    );
    assert!(
        with_burst.next().await.is_none(),
        "unsent burst is not sent after shutdown"
    );
    assert_eq!(hub.subscribe(false).unwrap_err(), HubError::ShuttingDown);
}

#[tokio::test]
async fn title_changes_are_notified() {
    let (hub, _token) = hub(2_000, 10, 256 * 1024);
    let mut titles = hub.watch_title();
    hub.set_title("A");
    titles.changed().await.unwrap();
    assert_eq!(titles.borrow_and_update().text, "A");
    hub.set_title("A");
    assert!(
        !titles.has_changed().unwrap(),
        "the same title is not a change"
    );
    hub.set_title("B");
    assert_eq!((hub.title().text.as_str(), hub.title().version), ("B", 2));
}

#[tokio::test]
async fn frames_are_published_in_chunks_of_whole_frames() {
    let token = CancellationToken::new();
    let config = HubConfig {
        burst: Duration::from_secs(2),
        chunk: Duration::from_millis(200),
        max_listeners: 10,
        backlog_bytes: 256 * 1024,
    };
    let hub = Hub::new(config, token);
    let frames = synth_frames(16);
    let mut listener = hub.subscribe(false).unwrap();
    for f in &frames[..7] {
        hub.push(f.clone());
    }
    assert!(
        drain(&mut listener).is_empty(),
        "7 frames (183 ms) wait for the chunk"
    );
    hub.push(frames[7].clone());
    let first = tokio::task::unconstrained(listener.next())
        .now_or_never()
        .flatten()
        .unwrap();
    assert!(
        first == concat(&frames[..8]),
        "8 frames (209 ms) go out as one chunk"
    );
    for f in &frames[8..] {
        hub.push(f.clone());
    }
    // A newcomer's burst is whole frames of published chunks only.
    let mut newcomer = hub.subscribe(false).unwrap();
    assert!(
        drain(&mut newcomer) == concat(&frames),
        "16 frames published, none pending"
    );
}

#[tokio::test]
async fn encoder_output_in_any_chunking_reaches_listeners_as_decodable_frames() {
    let (hub, _token) = hub(2_000, 10, 256 * 1024);
    let mut listener = hub.subscribe(false).unwrap();
    let mut publisher = antenne::broadcast::Publisher::new(hub.clone());
    let mp3 = lame_tone(1.0);
    let mut pushed = 0;
    for piece in mp3.chunks(777) {
        pushed += publisher.publish(piece);
    }
    let received = drain(&mut listener);
    assert_eq!(split_all(&received).len(), pushed);
    assert!(decode_mp3(received).unwrap() >= 44_100 - 1152);
}
