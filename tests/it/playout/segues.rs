//! Segues and station IDs (issue 15): crossfades between playlist and fallback tracks, trimmed
//! of their silent ends, never louder than the ceiling; `ident_every` on the hour through a
//! simulated day; `ident_at_show_start` ending on the show's first frame; shows still starting
//! on their exact frame with all of it on.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use antenne::audio::gain::db_to_linear;
use antenne::playout::media::FsMedia;
use antenne::playout::programme::{Fades, Programme};
use antenne::playout::{
    Chosen, Episodes, Kind, LevelPolicy, Levels, ManualClock, PcmSink, PlayoutConfig, Segment,
    Source, Timebase, default_opener,
};
use antenne::schedule::{NoFacts, Occurrence, Schedule};
use antenne_testkit::playout::{R, identify, ts, wav};
use jiff::{SignedDuration, Timestamp};

const EDGE: u64 = 15; // 15 ms at 1 kHz
const OVERRUN: u64 = 3000; // 3 s at 1 kHz
/// How far off its mark an ident may air (`playout::sequence::MARK_SLACK`).
const MARK_SLACK_S: u64 = 30;
const CROSSFADE: u64 = 3000; // the default, 3 s

const BEDS: [u16; 3] = [1, 2, 3];
const IDENTS: [u16; 2] = [4, 5];
const EPISODE: u16 = 6;
const BED_SECONDS: u64 = 420;
const IDENT_FRAMES: u64 = 5 * R as u64;

/// A day's schedule: a premiere at 07:00 (a 50 min episode in a 1 h slot) and a playlist of
/// the beds at 18:00, fallback elsewhere; idents every hour, and before shows if asked.
fn day_schedule(at_show_start: bool) -> Arc<Schedule> {
    let text = format!(
        r#"
[station]
name = "Test FM"
timezone = "Europe/Paris"
ident_every = "1h"
ident_at_show_start = {at_show_start}

[fallback]
playlist = "beds"
ident = "idents"
shuffle = false

[[show]]
slug = "matinale"
title = "Matinale"

[[show]]
slug = "musique"
title = "Musique"

[[slot]]
id = "matinale"
show = "matinale"
days = ["wed"]
start = "07:00"
duration = "1h"
play = "premiere"

[[slot]]
id = "musique"
show = "musique"
days = ["wed"]
start = "18:00"
duration = "1h"
playlist = "beds"
"#
    );
    let (s, warnings) = Schedule::parse(&text, "t.toml", ts("2027-03-01T00:00:00Z"), &NoFacts)
        .unwrap_or_else(|d| panic!("{d:?}"));
    assert!(warnings.is_empty(), "{warnings:?}");
    Arc::new(s)
}

/// The one episode every premiere plays.
struct OneEpisode(PathBuf);

impl Episodes for OneEpisode {
    fn choose(&self, occ: &Occurrence) -> Option<Chosen> {
        occ.play.uses_episodes().then(|| Chosen {
            id: "e1".into(),
            title: "Épisode".into(),
            path: self.0.clone(),
        })
    }
}

struct Media {
    _dir: tempfile::TempDir,
    media: PathBuf,
    episode: PathBuf,
}

fn media() -> Media {
    let dir = tempfile::tempdir().unwrap();
    let media = dir.path().join("media");
    for (i, id) in BEDS.iter().enumerate() {
        wav(&media.join(format!("beds/bed-{i}.wav")), *id, BED_SECONDS);
    }
    for (i, id) in IDENTS.iter().enumerate() {
        wav(&media.join(format!("idents/ident-{i}.wav")), *id, 5);
    }
    let episode = dir.path().join("e1.wav");
    wav(&episode, EPISODE, 50 * 60);
    Media {
        _dir: dir,
        media,
        episode,
    }
}

fn plan(m: &Media, schedule: &Schedule, from: Timestamp, to: Timestamp) -> Vec<Segment> {
    let tb = Timebase::unix(R);
    let mut fs = FsMedia::new(default_opener(), R);
    Programme {
        schedule,
        timebase: tb,
        media_dir: &m.media,
        media: &mut fs,
        episodes: &OneEpisode(m.episode.clone()),
        fades: Fades {
            edge: EDGE,
            overrun: OVERRUN,
        },
        live: &Default::default(),
    }
    .plan(tb.frame_at(from), tb.frame_at(to))
}

fn file_id(seg: &Segment) -> Option<u16> {
    let Source::File { path, .. } = &seg.source else {
        return None;
    };
    let name = path.file_stem()?.to_str()?;
    Some(match name {
        "bed-0" => BEDS[0],
        "bed-1" => BEDS[1],
        "bed-2" => BEDS[2],
        "ident-0" => IDENTS[0],
        "ident-1" => IDENTS[1],
        "e1" => EPISODE,
        other => panic!("unexpected file {other}"),
    })
}

/// Wednesday 10 March 2027 in Paris (UTC+1, no DST change).
const DAY: (&str, &str) = ("2027-03-09T23:00:00Z", "2027-03-10T23:00:00Z");

#[test]
fn ident_every_airs_on_the_hour_cutting_a_bed_but_never_the_episode() {
    let m = media();
    let schedule = day_schedule(false);
    let tb = Timebase::unix(R);
    let (from, to) = (ts(DAY.0), ts(DAY.1));
    let segs = plan(&m, &schedule, from, to);
    let marks: Vec<u64> = schedule
        .ident_marks(from, to)
        .into_iter()
        .map(|t| tb.frame_at(t))
        .collect();
    assert_eq!(marks.len(), 24, "the top of each local hour");
    assert_eq!(
        tb.instant(marks[0]),
        ts("2027-03-09T23:00:00Z"),
        "00:00 Paris"
    );
    let idents: Vec<&Segment> = segs
        .iter()
        .filter(|s| s.kind == Kind::Ident && s.start >= marks[0] && s.start < tb.frame_at(to))
        .collect();
    // The 07:00 mark falls on the episode: no ident cuts into it; every other hour has one.
    let episode = (
        tb.frame_at(ts("2027-03-10T06:00:00Z")),
        tb.frame_at(ts("2027-03-10T06:50:00Z")),
    );
    assert_eq!(idents.len(), 23, "{:#?}", idents);
    for (h, &mark) in marks.iter().enumerate() {
        let next = marks.get(h + 1).copied().unwrap_or(tb.frame_at(to));
        let this_hour: Vec<&&Segment> = idents
            .iter()
            .filter(|s| s.start >= mark && s.start < next)
            .collect();
        if mark == episode.0 {
            assert!(this_hour.is_empty(), "07:00: {this_hour:?}");
            continue;
        }
        assert_eq!(this_hour.len(), 1, "hour {h}: {this_hour:?}");
        let ident = this_hour[0];
        // On the mark (issue 15: "at the top of the hour"): the bed crossing it is cut there,
        // unless that would leave it, or what remains of it, under the slack.
        let slack = MARK_SLACK_S * u64::from(R);
        assert!(
            ident.start.abs_diff(mark) <= slack,
            "hour {h}: {} s off the mark",
            ident.start.abs_diff(mark) / u64::from(R)
        );
        assert_eq!(ident.len(), IDENT_FRAMES, "whole, dry");
        assert_eq!((ident.fade_in, ident.fade_out), (EDGE, EDGE));
        // Dry: nothing overlaps it.
        assert!(
            segs.iter()
                .filter(|s| *s != *ident)
                .all(|s| s.end <= ident.start || s.start >= ident.end),
            "hour {h}"
        );
        // Nothing but the ident between the item before it (not planned for the first hour,
        // whose mark is where the plan starts) and the one after.
        assert!(
            ident.start == marks[0] || segs.iter().any(|s| s.end == ident.start),
            "hour {h}"
        );
        // A bed cut on the mark fades out with the overrun fade.
        if let Some(cut) = segs.iter().find(|s| s.end == ident.start && s.end == mark) {
            assert_eq!(cut.fade_out, OVERRUN, "hour {h}");
        }
        assert!(segs.iter().any(|s| s.start == ident.end), "hour {h}");
    }
    // Most hours exactly on the mark (a 7-minute bed is rarely within the slack of it).
    let exact = idents.iter().filter(|s| marks.contains(&s.start)).count();
    assert!(exact >= 18, "{exact} of 23 idents exactly on the hour");
    // Where a stretch of fallback or playlist starts on the hour, the ident opens it.
    for t in [
        "2027-03-10T07:00:00Z",
        "2027-03-10T17:00:00Z",
        "2027-03-10T18:00:00Z",
    ] {
        let f = tb.frame_at(ts(t));
        assert!(idents.iter().any(|s| s.start == f), "{t}");
    }
    // Nothing but the episode between its first and last frame.
    assert!(
        segs.iter()
            .filter(|s| s.start < episode.1 && s.end > episode.0)
            .all(|s| file_id(s) == Some(EPISODE)),
        "the episode is never cut"
    );
    // Between idents, the fallback beds crossfade by 3 s.
    let fades: Vec<u64> = segs
        .windows(2)
        .filter(|w| w[1].start < w[0].end)
        .map(|w| w[0].end - w[1].start)
        .collect();
    assert!(fades.len() > 100, "{} crossfades", fades.len());
    assert!(fades.iter().all(|&x| x == CROSSFADE));
    // Re-planned from anywhere after the matinale (the chain's anchor; inside a crossfade, an
    // ident, the playlist), the same segments.
    let inside_a_crossfade = segs
        .windows(2)
        .find(|w| w[1].start < w[0].end && w[1].start > tb.frame_at(ts("2027-03-10T12:00:00Z")))
        .map(|w| tb.instant(w[1].start + CROSSFADE / 2))
        .unwrap();
    for t in [
        ts("2027-03-10T09:00:02Z"),
        inside_a_crossfade,
        ts("2027-03-10T17:20:00Z"),
        ts("2027-03-10T21:59:59Z"),
    ] {
        let probe = t.to_string();
        let f = tb.frame_at(t);
        let again = plan(&m, &schedule, t, t + SignedDuration::from_mins(10));
        let original: Vec<&Segment> = segs
            .iter()
            .filter(|x| x.end > f && x.start < f + 600 * u64::from(R))
            .collect();
        assert_eq!(again.iter().collect::<Vec<_>>(), original, "{probe}");
    }
}

#[test]
fn ident_at_show_start_ends_on_the_show_start_frame_and_the_filler_makes_room() {
    let m = media();
    let schedule = day_schedule(true);
    let tb = Timebase::unix(R);
    let (from, to) = (ts(DAY.0), ts(DAY.1));
    let segs = plan(&m, &schedule, from, to);
    for occ in schedule.occurrences(from, to) {
        let s = tb.frame_at(occ.start);
        assert_eq!(s, occ.start.as_second() as u64 * u64::from(R));
        let first = segs.iter().find(|x| x.start == s && x.kind != Kind::Ident);
        let first = first.unwrap_or_else(|| panic!("nothing starts at {}", occ.id));
        assert_eq!(first.item.occurrence.as_deref(), Some(occ.id.as_str()));
        let before: Vec<&Segment> = segs.iter().filter(|x| x.end == s).collect();
        assert_eq!(before.len(), 1, "{}: {before:?}", occ.id);
        let ident = before[0];
        assert_eq!(ident.kind, Kind::Ident, "{}", occ.id);
        assert_eq!(
            ident.start,
            s - IDENT_FRAMES,
            "{}: whole, ending on the start",
            occ.id
        );
        // The show's title is what the ident announces.
        let title = &schedule.show(&occ.show).unwrap().title;
        assert_eq!(&ident.item.title, title);
        // The filler before it was cut where the ident begins, with the overrun fade.
        let filler = segs.iter().find(|x| x.end == ident.start).unwrap();
        assert!(matches!(filler.kind, Kind::Fallback | Kind::Show));
        assert_eq!(filler.fade_out, OVERRUN, "{}: {filler:?}", occ.id);
        assert!(
            segs.iter()
                .all(|x| x == ident || x.end <= ident.start || x.start >= s),
            "{}: nothing overlaps the ident",
            occ.id
        );
        // The show does not open with the hour's ident too: the one before it stands for it.
        assert_ne!(first.kind, Kind::Ident);
    }
}

/// Records what the engine writes.
#[derive(Default)]
struct Rec {
    first: Option<u64>,
    pcm: Vec<f32>,
}

#[derive(Clone, Default)]
struct RecSink(Arc<Mutex<Rec>>);

impl PcmSink for RecSink {
    fn write(&mut self, first_frame: u64, pcm: &[f32]) {
        let mut r = self.0.lock().unwrap();
        let start = *r.first.get_or_insert(first_frame);
        assert_eq!(first_frame, start + (r.pcm.len() / 2) as u64);
        r.pcm.extend_from_slice(pcm);
    }
    fn title(&mut self, _title: &str) {}
    fn finish(&mut self) {}
}

impl Rec {
    fn at(&self, f: u64) -> f32 {
        self.pcm[2 * (f - self.first.unwrap()) as usize]
    }
}

/// Runs the engine on a virtual clock over `[from, to)`.
fn render(
    config: PlayoutConfig,
    schedule: Arc<Schedule>,
    episodes: Arc<dyn Episodes>,
    from: Timestamp,
    to: Timestamp,
) -> Rec {
    let rate = config.sample_rate;
    let sink = RecSink::default();
    let (_tx, rx) = tokio::sync::watch::channel(schedule);
    let handle = antenne::playout::start_with(
        PlayoutConfig {
            wait_for_data: true,
            run_until: Some(to),
            ..config
        },
        rx,
        episodes,
        default_opener(),
        Box::new(sink.clone()),
        Arc::new(ManualClock::auto_advance(from)),
    )
    .unwrap();
    handle.join();
    let rec = std::mem::take(&mut *sink.0.lock().unwrap());
    let tb = Timebase::unix(rate);
    assert_eq!(
        rec.pcm.len() as u64 / 2,
        tb.frame_at(to) - tb.frame_at(from),
        "every frame once"
    );
    rec
}

fn sim(m: &Media) -> PlayoutConfig {
    PlayoutConfig {
        sample_rate: R,
        media_dir: m.media.clone(),
        block_frames: 256,
        plan_ahead: Duration::from_secs(120),
        edge_fade: Duration::from_millis(EDGE),
        overrun_fade: Duration::from_millis(OVERRUN),
        ..PlayoutConfig::default()
    }
}

#[test]
fn shows_start_on_their_exact_frame_with_idents_and_crossfades_on() {
    let m = media();
    let schedule = day_schedule(true);
    let tb = Timebase::unix(R);
    let episodes: Arc<dyn Episodes> = Arc::new(OneEpisode(m.episode.clone()));
    for (start, first) in [
        ("2027-03-10T06:00:00Z", EPISODE),
        ("2027-03-10T17:00:00Z", BEDS[0]),
    ] {
        let t = ts(start);
        let rec = render(
            sim(&m),
            schedule.clone(),
            episodes.clone(),
            t - SignedDuration::from_secs(8),
            t + SignedDuration::from_secs(2),
        );
        let s = tb.frame_at(t);
        // The ident's last unfaded frame just before the start, the show's first just after.
        let (id, pos) = identify(rec.at(s - EDGE - 1));
        assert!(
            IDENTS.contains(&id),
            "{start}: ident before the show, got {id}"
        );
        assert_eq!(
            pos,
            (IDENT_FRAMES - EDGE - 1) % 2048,
            "{start}: its last frames"
        );
        assert_eq!(identify(rec.at(s + EDGE + 5)), (first, EDGE + 5), "{start}");
        // Both sides of the start faded to near zero: a clean edge on the exact frame.
        assert!(rec.at(s - 1).abs() < 1.0 / EDGE as f32, "{start}");
        assert!(rec.at(s).abs() < 1.0 / EDGE as f32, "{start}");
        // And the ident whole before it: its first frame 5 s earlier.
        let (id0, pos0) = identify(rec.at(s - IDENT_FRAMES + EDGE + 1));
        assert_eq!((id0, pos0), (id, EDGE + 1), "{start}");
    }
    // An hourly ident at 10:00 Paris (mid-fallback), on the mark: on air where the plan says.
    let (from, to) = (ts(DAY.0), ts(DAY.1));
    let segs = plan(&m, &schedule, from, to);
    let mark = tb.frame_at(ts("2027-03-10T09:00:00Z"));
    let ident = segs
        .iter()
        .find(|s| s.kind == Kind::Ident && s.start.abs_diff(mark) <= MARK_SLACK_S * u64::from(R))
        .unwrap();
    // The bed before it, up to its fade-out (the overrun fade when it was cut on the mark).
    let before = segs.iter().find(|s| s.end == ident.start).unwrap();
    let at = tb.instant(ident.start);
    let rec = render(
        sim(&m),
        schedule.clone(),
        episodes,
        at - SignedDuration::from_secs(4),
        at + SignedDuration::from_secs(6),
    );
    let (id, pos) = identify(rec.at(ident.start + EDGE + 1));
    assert!(IDENTS.contains(&id));
    assert_eq!(pos, EDGE + 1);
    let (bed, _) = identify(rec.at(ident.start - before.fade_out - 1));
    assert!(BEDS.contains(&bed), "a bed ends right before it, got {bed}");
}

// ---- Crossfade on real tones, levelled through the limiter ----

const RATE: u32 = 16_000;
const A_HZ: f32 = 500.0;
const B_HZ: f32 = 1_250.0;

/// A stereo 16-bit WAV at [`RATE`]: `lead` s of silence, `tone` s of a cosine at `hz` (loud
/// from its first frame), `tail` s of silence.
fn tone(path: &Path, hz: f32, lead: f32, tone: f32, tail: f32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let n = |s: f32| (s * RATE as f32) as usize;
    for _ in 0..n(lead) {
        w.write_sample(0i16).unwrap();
        w.write_sample(0i16).unwrap();
    }
    for k in 0..n(tone) {
        let v = (k as f32 / RATE as f32 * hz * std::f32::consts::TAU).cos() * 0.8;
        let s = (v * 32767.0) as i16;
        w.write_sample(s).unwrap();
        w.write_sample(s).unwrap();
    }
    for _ in 0..n(tail) {
        w.write_sample(0i16).unwrap();
        w.write_sample(0i16).unwrap();
    }
    w.finalize().unwrap();
}

/// Amplitude of the `hz` component of the left channel over `frames` (Goertzel).
fn amplitude(pcm: &[f32], hz: f32) -> f32 {
    let n = pcm.len() / 2;
    let w = std::f32::consts::TAU * hz / RATE as f32;
    let (mut s1, mut s2) = (0f32, 0f32);
    for k in 0..n {
        let s = pcm[2 * k] + 2.0 * w.cos() * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    let power = s1 * s1 + s2 * s2 - 2.0 * w.cos() * s1 * s2;
    2.0 * power.max(0.0).sqrt() / n as f32
}

#[test]
fn a_crossfade_overlaps_the_trimmed_tracks_for_its_time_under_the_ceiling() {
    let dir = tempfile::tempdir().unwrap();
    let media = dir.path().join("media");
    // A: 9 s of tone then 1 s of silence; B: 0.5 s of silence then 9.5 s of tone.
    tone(&media.join("music/a.wav"), A_HZ, 0.0, 9.0, 1.0);
    tone(&media.join("music/b.wav"), B_HZ, 0.5, 9.5, 0.0);
    let text = r#"
[station]
name = "Test FM"
timezone = "UTC"

[[show]]
slug = "musique"
title = "Musique"

[[slot]]
show = "musique"
days = ["wed"]
start = "12:00"
duration = "1h"
playlist = "music"
crossfade = "3s"
underrun = "silence"
"#;
    let (schedule, _) = Schedule::parse(text, "t.toml", ts("2027-03-01T00:00:00Z"), &NoFacts)
        .unwrap_or_else(|d| panic!("{d:?}"));
    let schedule = Arc::new(schedule);
    let t0 = ts("2027-03-10T12:00:00Z");
    let tb = Timebase::unix(RATE);
    let s = tb.frame_at(t0);
    let sec = |x: f32| (x * RATE as f32) as u64;

    // Planned: A's audible 9 s from the start; B from its first sound, 3 s before A ends.
    let mut fs = FsMedia::new(default_opener(), RATE);
    let segs = Programme {
        schedule: &schedule,
        timebase: tb,
        media_dir: &media,
        media: &mut fs,
        episodes: &antenne::playout::NoEpisodes,
        fades: Fades {
            edge: sec(0.015),
            overrun: sec(3.0),
        },
        live: &Default::default(),
    }
    .plan(s, s + sec(30.0));
    let (a, b) = (&segs[0], &segs[1]);
    assert_eq!((a.start, a.end, a.fade_out), (s, s + sec(9.0), sec(3.0)));
    assert_eq!((b.start, b.fade_in), (s + sec(6.0), sec(3.0)));
    assert_eq!(b.end, s + sec(15.5), "B's 9.5 s of sound");
    assert!(matches!(&b.source, Source::File { offset, .. } if *offset == sec(0.5)));

    // Rendered with both tracks pushed 6 dB into the true-peak limiter.
    let ceiling = -1.0;
    let config = PlayoutConfig {
        sample_rate: RATE,
        media_dir: media.clone(),
        plan_ahead: Duration::from_secs(60),
        levels: Levels::new(LevelPolicy {
            unanalysed_db: 6.0,
            ceiling_dbtp: ceiling,
            ..LevelPolicy::default()
        }),
        ..PlayoutConfig::default()
    };
    let rec = render(
        config,
        schedule.clone(),
        Arc::new(antenne::playout::NoEpisodes),
        t0,
        t0 + SignedDuration::from_secs(17),
    );
    let peak = rec.pcm.iter().fold(0f32, |m, v| m.max(v.abs()));
    assert!(
        peak <= db_to_linear(ceiling) * 1.001,
        "nothing above the ceiling: {peak}"
    );
    // Metered in 100 ms windows: which tone is present where.
    let win = sec(0.1);
    let level = |at: u64, hz: f32| {
        let i = 2 * (at - s) as usize;
        amplitude(&rec.pcm[i..i + 2 * win as usize], hz)
    };
    let present = 0.05;
    let mut both = Vec::new();
    for k in 0..160u64 {
        let at = s + k * win;
        let (la, lb) = (level(at, A_HZ), level(at, B_HZ));
        if la > present && lb > present {
            both.push(k);
        }
        if k < 59 {
            assert!(lb < 0.01, "window {k}: B before its time ({lb})");
            assert!(la > 0.5, "window {k}: A at full level ({la})");
        }
        if (90..150).contains(&k) {
            assert!(la < 0.01, "window {k}: A after its end ({la})");
            assert!(lb > 0.5, "window {k}: B at full level ({lb})");
        }
        if (61..89).contains(&k) {
            // Inside the overlap the two gains add up to 1.
            assert!(
                la + lb > 0.7 * db_to_linear(ceiling),
                "window {k}: {la} + {lb}"
            );
        }
    }
    // Both tones together for the 3 s of the crossfade (windows 60..90, give or take the
    // windows where one of them is below the presence threshold).
    let (first, last) = (both[0], *both.last().unwrap());
    eprintln!(
        "crossfade: both tones in windows {first}..={last} (100 ms each), peak {peak:.4} \
         ({:.2} dBFS), ceiling {ceiling} dBTP",
        20.0 * peak.log10()
    );
    assert!(
        (60..=62).contains(&first),
        "overlap starts at window {first}"
    );
    assert!((87..=89).contains(&last), "overlap ends at window {last}");
    assert_eq!(both.len() as u64, last - first + 1, "one stretch");
}
