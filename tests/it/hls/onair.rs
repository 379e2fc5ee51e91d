//! HLS fed by the real playout: a schedule airs a show at an instant, and the segment the
//! playlist dates around that instant holds the show's audio at the offset its
//! `#EXT-X-PROGRAM-DATE-TIME` says.

use std::sync::Arc;

use antenne::broadcast::hls::program_date_time;
use antenne::playout::{Clock, ManualClock, NoEpisodes, PlayoutConfig, default_opener};
use antenne::schedule::{NoFacts, Schedule};
use jiff::{SignedDuration, Timestamp};

use super::*;
use crate::live::tone_share;
use crate::support::tones::sine_wav;

/// The fallback's bed is a 220 Hz tone, the show's playlist an 880 Hz one.
const BED_HZ: f64 = 220.0;
const SHOW_HZ: f64 = 880.0;

const SCHEDULE: &str = r#"
[station]
name = "Test FM"
timezone = "Europe/Paris"

[fallback]
playlist = "beds"
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

// issue 15
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_segment_dated_at_a_show_start_holds_the_show_at_that_offset() {
    let dir = tempfile::tempdir().unwrap();
    let media = dir.path().join("media");
    sine_wav(&media.join("beds/bed.wav"), BED_HZ as f32, 30.0, RATE);
    sine_wav(&media.join("music/song.wav"), SHOW_HZ as f32, 30.0, RATE);
    let (schedule, _) = Schedule::parse(
        SCHEDULE,
        "t.toml",
        "2027-03-01T00:00:00Z".parse().unwrap(),
        &NoFacts,
    )
    .unwrap_or_else(|d| panic!("{d:?}"));
    // Monday 22 March 2027 12:00 Paris = 11:00Z. With 6 s segments from 8.6 s before, the
    // show starts inside the second segment, not on a segment boundary.
    let show: Timestamp = "2027-03-22T11:00:00Z".parse().unwrap();
    let from = show - SignedDuration::from_millis(8_600);
    let to = show + SignedDuration::from_secs(6);

    let hls_dir = dir.path().join("hls");
    let shutdown = CancellationToken::new();
    let hub = Hub::new(HubConfig::default(), shutdown.clone());
    let store = HlsStore::new(hls_dir.clone());
    let output: Box<dyn Output> = Box::new(HlsOutput {
        config: config(&hls_dir, 3600, 6.0),
        store: store.clone(),
    });
    let task = tokio::spawn(output.run(Mount::mp3(hub.clone(), info()), shutdown.clone()));
    tokio::time::sleep(Duration::from_millis(50)).await;

    // The playout on a clock the test moves a quarter second at a time, so that the output
    // keeps up (what is tested is where the audio lands, not a machine's speed); an engine
    // left behind by a loaded machine catches up rather than skipping ahead.
    let clock = Arc::new(ManualClock::new(from));
    let playout = PlayoutConfig {
        sample_rate: RATE,
        media_dir: media,
        wait_for_data: true,
        run_until: Some(to),
        plan_ahead: Duration::from_secs(60),
        catch_up_limit: Duration::from_secs(3600),
        ..PlayoutConfig::default()
    };
    let (_tx, rx) = tokio::sync::watch::channel(Arc::new(schedule));
    let handle = antenne::playout::start_with(
        playout,
        rx,
        Arc::new(NoEpisodes),
        default_opener(),
        Box::new(EncoderSink::new(hub.clone(), RATE, 128).unwrap()),
        clock.clone(),
    )
    .unwrap();
    while clock.now() < to + SignedDuration::from_secs(1) {
        clock.advance(SignedDuration::from_millis(250));
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    tokio::task::spawn_blocking(move || handle.join())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    shutdown.cancel();
    task.await.unwrap();
    assert_eq!(store.dropped_total(), 0);

    let (text, p) = read_playlist(&hls_dir);
    assert!(!text.contains("#EXT-X-DISCONTINUITY\n"), "{text}");
    let i = p
        .entries
        .iter()
        .position(|e| e.start <= show && show < e.end())
        .unwrap_or_else(|| panic!("no segment is dated around {show}:\n{text}"));
    assert!(i > 0, "the show starts past the first segment:\n{text}");
    let e = &p.entries[i];
    assert!(
        text.contains(&format!(
            "#EXT-X-PROGRAM-DATE-TIME:{}\n",
            program_date_time(e.start)
        )),
        "{text}"
    );
    // Where the playlist says the show starts in this segment (to the millisecond of
    // PROGRAM-DATE-TIME), in samples.
    let offset = show.duration_since(e.start).as_secs_f64();
    assert!(offset > 0.5, "{offset} s into the segment:\n{text}");
    let offset = (offset * f64::from(RATE)).round() as usize;

    // The segment alone, decoded as a player starting there would.
    let bytes = std::fs::read(hls_dir.join(e.file_name())).unwrap();
    let pcm = decode_segment(&bytes);
    assert_eq!(pcm.len() as u64, segment_samples(&bytes));
    let rate = f64::from(RATE);
    let window = RATE as usize / 10;
    let margin = RATE as usize / 20;
    let before = &pcm[offset - margin - window..offset - margin];
    let after = &pcm[offset + margin..offset + margin + window];
    assert!(
        tone_share(before, rate, BED_HZ) > 0.9,
        "the bed airs before"
    );
    assert!(tone_share(before, rate, SHOW_HZ) < 0.05, "not the show yet");
    assert!(
        tone_share(after, rate, SHOW_HZ) > 0.9,
        "the show airs after"
    );
    assert!(
        tone_share(after, rate, BED_HZ) < 0.05,
        "not the bed any more"
    );
    // The change itself: the first 10 ms window where the show's tone outweighs the bed's is
    // centred within 10 ms of the offset (edge fades of 15 ms on both sides of the start;
    // MP3 smears by a granule).
    let short = RATE as usize / 100;
    let change = (offset - margin - window..offset + margin)
        .step_by(RATE as usize / 1000)
        .find(|&s| {
            let w = &pcm[s..s + short];
            tone_share(w, rate, SHOW_HZ) > tone_share(w, rate, BED_HZ)
        })
        .expect("the tone changes")
        + short / 2;
    assert!(
        change.abs_diff(offset) <= short,
        "the show starts at sample {change} of segment {}, the playlist says {offset}",
        e.seq
    );
}

/// The left channel of a segment decoded by symphonia on its own (ID3 tag skipped), a frame
/// that does not decode (its bit reservoir is in the previous segment) counted as silence, so
/// that sample `k` is the segment's `k`-th.
fn decode_segment(bytes: &[u8]) -> Vec<f32> {
    use symphonia::core::codecs::audio::AudioDecoderOptions;
    use symphonia::core::formats::probe::Hint;
    use symphonia::core::formats::{FormatOptions, TrackType};
    use symphonia::core::io::MediaSourceStream;
    use symphonia::core::meta::MetadataOptions;

    let size = bytes[6..10]
        .iter()
        .fold(0usize, |acc, b| (acc << 7) | usize::from(b & 0x7F));
    let frames = bytes[10 + size..].to_vec();
    let mss = MediaSourceStream::new(Box::new(std::io::Cursor::new(frames)), Default::default());
    let mut hint = Hint::new();
    hint.with_extension("mp3");
    let mut format = symphonia::default::get_probe()
        .probe(
            &hint,
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .unwrap();
    let track = format.default_track(TrackType::Audio).unwrap();
    let params = track
        .codec_params
        .as_ref()
        .unwrap()
        .audio()
        .unwrap()
        .clone();
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .unwrap();
    let (mut pcm, mut scratch, mut failed) = (Vec::new(), Vec::new(), 0);
    while let Some(packet) = format.next_packet().unwrap() {
        match decoder.decode(&packet) {
            Ok(buf) => {
                let channels = buf.spec().channels().count();
                buf.copy_to_vec_interleaved(&mut scratch);
                pcm.extend(scratch.chunks_exact(channels).map(|f: &[f32]| f[0]));
            }
            Err(_) => {
                failed += 1;
                pcm.extend(std::iter::repeat_n(0.0, 1152));
            }
        }
    }
    assert!(failed <= 1, "{failed} frames did not decode");
    pcm
}
