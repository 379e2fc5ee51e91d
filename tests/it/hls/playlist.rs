//! The playlist as written on disk: valid, dated by the frames' audio time, continued across a
//! restart, pruned at the window.

use antenne::broadcast::encoder::MP3_DELAY;
use antenne::broadcast::hls::program_date_time;
use antenne::broadcast::hls::segment::{read_timestamp, timestamp_90k};
use jiff::{SignedDuration, Timestamp};

use super::*;

/// A show starting at 18:00:00 exactly; the programme runs from 17:59:57.
fn show_start() -> (Timestamp, u64) {
    let t: Timestamp = "2026-12-06T18:00:00Z".parse().unwrap();
    (t, timebase().frame_at(t))
}

#[tokio::test]
async fn the_playlist_is_valid_and_dated_by_the_frames_instants() {
    let dir = tempfile::tempdir().unwrap();
    let (show, show_frame) = show_start();
    let first = show_frame - 3 * u64::from(RATE);
    let mut rig = Rig::start(config(dir.path(), 3600, 2.0), first).await;
    rig.feed(5.0, "Fond sonore").await;
    rig.feed(9.0, "La matinale - Épisode 1").await;
    let store = rig.stop().await;
    assert_eq!(store.dropped_total(), 0);

    let (text, p) = read_playlist(dir.path());
    assert!(text.starts_with("#EXTM3U\n#EXT-X-VERSION:3\n"), "{text}");
    assert!(!text.contains("#EXT-X-DISCONTINUITY\n"), "{text}");
    assert!(p.entries.len() >= 6, "{text}");
    let tb = timebase();
    // The first MP3 frame's first decoded sample is programme frame `first - MP3_DELAY`.
    let mut at = first - MP3_DELAY;
    assert_eq!(
        p.entries[0].seq,
        at / (2 * u64::from(RATE)),
        "sequence from audio time"
    );
    let mut covers_show = false;
    for (i, e) in p.entries.iter().enumerate() {
        assert_eq!(
            e.seq,
            p.entries[0].seq + i as u64,
            "consecutive media sequence"
        );
        let bytes = std::fs::read(dir.path().join(e.file_name())).unwrap();
        let samples = segment_samples(&bytes);
        // Every segment but the one cut at the stop is whole: about 2 s, on frame boundaries.
        if i + 1 < p.entries.len() {
            assert_eq!(samples, (2 * u64::from(RATE)).div_ceil(1152) * 1152);
        }
        let line = format!(
            "#EXT-X-PROGRAM-DATE-TIME:{}\n",
            program_date_time(tb.instant(at))
        );
        assert!(
            text.contains(&line),
            "segment {i} is not dated {line}{text}"
        );
        assert_eq!(
            read_timestamp(&bytes),
            Some(timestamp_90k(at, RATE)),
            "ID3 PRIV"
        );
        let extinf = e.duration.as_secs_f64();
        assert!((extinf - samples as f64 / f64::from(RATE)).abs() < 0.001);
        assert!(
            extinf.round() as u32 <= p.target,
            "EXTINF {extinf} over the target {}",
            p.target
        );
        if (at..at + samples).contains(&show_frame) {
            // The show's first frame is inside this segment: the segment's PROGRAM-DATE-TIME
            // as listed, plus the show's offset in samples, is the show's instant (to the
            // millisecond the tag carries).
            let offset = SignedDuration::from_secs_f64((show_frame - at) as f64 / f64::from(RATE));
            let listed = e.start + offset;
            assert!(
                listed.duration_since(show).abs() < SignedDuration::from_millis(1),
                "{listed} for {show}"
            );
            covers_show = true;
            assert!(e.title.starts_with("Fond sonore") || e.title.starts_with("La matinale"));
        }
        at += samples;
    }
    assert!(covers_show, "the show's start is in the window");
    let titles: Vec<&str> = p.entries.iter().map(|e| e.title.as_str()).collect();
    assert!(titles.contains(&"La matinale - Épisode 1"), "{titles:?}");
    let last = std::fs::read(dir.path().join(p.entries.back().unwrap().file_name())).unwrap();
    let tit2 = last.windows(4).any(|w| w == b"TIT2");
    assert!(
        tit2,
        "the title is timed metadata in the segment (ID3 TIT2)"
    );
}

#[tokio::test]
async fn a_restart_continues_the_media_sequence_after_a_discontinuity() {
    let dir = tempfile::tempdir().unwrap();
    let (_, show_frame) = show_start();
    let mut rig = Rig::start(config(dir.path(), 3600, 2.0), show_frame).await;
    rig.feed(6.0, "Avant").await;
    rig.stop().await;
    let (_, before) = read_playlist(dir.path());

    // A minute later, a new process on the same folder.
    let later = show_frame + 60 * u64::from(RATE);
    let mut rig = Rig::start(config(dir.path(), 3600, 2.0), later).await;
    rig.feed(6.0, "Après").await;
    rig.stop().await;
    let (text, after) = read_playlist(dir.path());

    assert_eq!(
        after.entries.front(),
        before.entries.front(),
        "the window is kept"
    );
    let n = before.entries.len();
    for (i, e) in after.entries.iter().enumerate() {
        assert_eq!(
            e.seq,
            after.entries[0].seq + i as u64,
            "no gap in the sequence: {text}"
        );
        assert_eq!(
            e.discontinuity,
            i == n,
            "one discontinuity, at the restart: {text}"
        );
    }
    assert!(after.entries.len() > n + 2);
    assert_eq!(text.matches("#EXT-X-DISCONTINUITY\n").count(), 1);
    let resumed = &after.entries[n];
    assert_eq!(
        program_date_time(resumed.start),
        program_date_time(timebase().instant(later - MP3_DELAY))
    );
    // Every listed segment is on disk.
    for e in &after.entries {
        assert!(dir.path().join(e.file_name()).is_file());
    }
}

#[tokio::test]
async fn segments_past_the_window_are_pruned() {
    let dir = tempfile::tempdir().unwrap();
    let (_, show_frame) = show_start();
    let mut rig = Rig::start(config(dir.path(), 6, 1.0), show_frame).await;
    rig.feed(60.0, "Longtemps").await;
    let store = rig.stop().await;
    let written = store.written_total();
    assert!(written >= 55, "{written} segments written");

    let (text, p) = read_playlist(dir.path());
    let first = p.entries.front().unwrap();
    let newest = p.entries.back().unwrap();
    let span = newest.end().duration_since(first.start);
    assert!(
        span <= jiff::SignedDuration::from_secs(6),
        "{span:?}: {text}"
    );
    assert!(p.entries.len() >= 5, "{text}");
    let initial = (show_frame - MP3_DELAY) / u64::from(RATE);
    assert!(first.seq > initial + 40, "the head moved on: {text}");
    // Pruned files go once no client can still be fetching them (3 target durations + 30 s).
    let files = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "mp3")
        })
        .count();
    assert!(
        files < 45 && files >= p.entries.len(),
        "{files} segment files on disk"
    );
    assert!(!dir.path().join(format!("{initial}.mp3")).exists());
}
