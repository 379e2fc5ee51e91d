//! A simulated day: generated media (1 kHz WAVs whose samples name their file and frame),
//! some tagged with lofty, an episode, a playlist and the fallback rotation; the engine runs
//! the day on a virtual clock with the airplay writer on. The log must hold exactly the items
//! of the programme, each with its first frame and the number of frames it aired, and the
//! rendered PCM must be, between each airing's edges, the file the log names.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use antenne::catalog::{AirKind, AirplayEntry, Catalog};
use antenne::playout::airplay::{AirplayWriter, WriterConfig};
use antenne::playout::programme::{Fades, Programme};
use antenne::playout::{
    CatalogEpisodes, ManualClock, PcmSink, PlayoutConfig, Source, Timebase, default_opener,
    media::FsMedia,
};
use antenne::schedule::{NoFacts, Schedule};
use antenne_testkit::playout::{R, identify, ready_episode, ts, wav};
use jiff::Timestamp;
use lofty::config::WriteOptions;
use lofty::prelude::*;
use lofty::tag::{Tag, TagType};

pub const EDGE: u64 = 15;

/// Wednesday 3 March 2027, midnight to midnight in Paris.
pub const DAY: (&str, &str) = ("2027-03-02T23:00:00Z", "2027-03-03T23:00:00Z");

pub const SCHEDULE: &str = r#"
[station]
name = "Radio test"
description = "Une journée simulée."
timezone = "Europe/Paris"
language = "fr"

[fallback]
playlist = "beds"
ident = "idents"
shuffle = false

[[show]]
slug = "le-matin"
title = "Le matin"

[[show]]
slug = "musiques"
title = "Musiques"

[[slot]]
id = "matin"
show = "le-matin"
days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
start = "07:00"
duration = "1h"
play = "latest"

[[slot]]
id = "soir"
show = "musiques"
days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
start = "20:00"
duration = "30m"
playlist = "music"
"#;

/// A file of the station: its path under the media folder, its id in the samples, seconds.
pub struct File {
    pub rel: &'static str,
    pub id: u16,
    pub seconds: u64,
    /// (title, artist, composer, ISRC) written with lofty; `None`: untagged.
    pub tags: Option<(&'static str, &'static str, &'static str, &'static str)>,
}

pub const FILES: &[File] = &[
    File {
        rel: "beds/bed-a.wav",
        id: 1,
        seconds: 170,
        tags: Some((
            "Nappe du matin",
            "Ensemble Rive",
            "Léa Martin",
            "FRZ039800001",
        )),
    },
    File {
        rel: "beds/bed-b.wav",
        id: 2,
        seconds: 230,
        tags: None,
    },
    File {
        rel: "idents/ident.wav",
        id: 3,
        seconds: 5,
        tags: Some(("Indicatif", "Radio test", "Paul Durand", "")),
    },
    File {
        rel: "music/01-chanson.wav",
        id: 4,
        seconds: 200,
        tags: Some((
            "Chanson, \"douce\"",
            "Amélie & les Quartiers",
            "Amélie Roux; Karim Benali",
            "FRZ039800212",
        )),
    },
    File {
        rel: "music/02-sans-tags.wav",
        id: 5,
        seconds: 150,
        tags: None,
    },
];

/// The episode's file id and length.
pub const EPISODE: (u16, u64) = (6, 25);

/// Writes `tags` into `path` with lofty (an ID3v2 chunk in the WAV).
pub fn tag(path: &Path, tags: (&str, &str, &str, &str)) {
    let mut tag = Tag::new(TagType::Id3v2);
    tag.set_title(tags.0.into());
    tag.set_artist(tags.1.into());
    tag.set_album("Les quartiers chantent".into());
    tag.insert_text(ItemKey::Composer, tags.2.into());
    if !tags.3.is_empty() {
        tag.insert_text(ItemKey::Isrc, tags.3.into());
    }
    tag.insert_text(ItemKey::Label, "Label associatif".into());
    tag.insert_text(ItemKey::RecordingDate, "2024".into());
    tag.save_to_path(path, WriteOptions::default()).unwrap();
}

pub struct Station {
    pub _dir: tempfile::TempDir,
    pub media: PathBuf,
    pub catalog: Catalog,
    pub schedule: Arc<Schedule>,
}

pub fn station() -> Station {
    let dir = tempfile::tempdir().unwrap();
    let media = dir.path().join("media");
    for f in FILES {
        let path = media.join(f.rel);
        wav(&path, f.id, f.seconds);
        if let Some(t) = f.tags {
            tag(&path, t);
        }
    }
    let catalog = Catalog::open(&dir.path().join("data")).unwrap();
    ready_episode(
        &catalog,
        "m1",
        "le-matin",
        "2027-03-01",
        EPISODE.0,
        EPISODE.1,
    );
    tag(
        &catalog.data_dir().join("renditions/m1.wav"),
        (
            "Le matin du 1er mars",
            "Équipe du matin",
            "Équipe du matin",
            "",
        ),
    );
    let (schedule, _) = Schedule::parse(SCHEDULE, "day.toml", ts(DAY.0), &NoFacts)
        .unwrap_or_else(|d| panic!("{d:?}"));
    Station {
        _dir: dir,
        media,
        catalog,
        schedule: Arc::new(schedule),
    }
}

/// Runs of identified samples: `(first frame, file id)`, id 0 for anything unidentifiable
/// (fades, silence); a day at 1 kHz stays small.
#[derive(Default)]
pub struct Runs {
    pub first: Option<u64>,
    pub frames: u64,
    pub runs: Vec<(u64, u16)>,
}

#[derive(Clone, Default)]
pub struct RunSink(pub Arc<Mutex<Runs>>);

impl PcmSink for RunSink {
    fn write(&mut self, first_frame: u64, pcm: &[f32]) {
        let mut r = self.0.lock().unwrap();
        let start = *r.first.get_or_insert(first_frame);
        assert_eq!(first_frame, start + r.frames, "blocks are contiguous");
        for (k, s) in pcm.chunks_exact(2).enumerate() {
            let f = first_frame + k as u64;
            let (id, pos) = identify(s[0]);
            // An unfaded sample is exactly a file's value: anything else is 0.
            let exact = antenne_testkit::playout::value(id, pos) == s[0] && s[0] == s[1];
            let id = if exact && s[0] != 0.0 { id } else { 0 };
            if r.runs.last().is_none_or(|&(_, last)| last != id) {
                r.runs.push((f, id));
            }
        }
        r.frames += (pcm.len() / 2) as u64;
    }
}

impl Runs {
    /// The ids of frames `[from, to)`.
    pub fn ids(&self, from: u64, to: u64) -> Vec<u16> {
        let i = self.runs.partition_point(|&(f, _)| f <= from) - 1;
        let mut out = vec![self.runs[i].1];
        for &(f, id) in &self.runs[i + 1..] {
            if f >= to {
                break;
            }
            out.push(id);
        }
        out
    }
}

/// An airing as the programme says it must be: (first frame, frames, file, kind).
pub type Expected = (u64, u64, Option<String>, AirKind);

/// The airings of `[from, to)` according to the planner (independently of the engine).
pub fn expected(st: &Station, from: Timestamp, to: Timestamp) -> Vec<Expected> {
    let tb = Timebase::unix(R);
    let (f0, f1) = (tb.frame_at(from), tb.frame_at(to));
    let mut media = FsMedia::new(default_opener(), R);
    let episodes = CatalogEpisodes::new(st.catalog.clone());
    let segs = Programme {
        schedule: &st.schedule,
        timebase: tb,
        media_dir: &st.media,
        media: &mut media,
        episodes: &episodes,
        fades: Fades {
            edge: EDGE,
            overrun: 3000,
        },
        live: &Default::default(),
    }
    .plan(f0, f1);
    segs.iter()
        .filter_map(|s| {
            let Source::File { path, .. } = &s.source else {
                return None;
            };
            let (a, b) = (s.start.max(f0), s.end.min(f1));
            let name = path
                .strip_prefix(&st.media)
                .or_else(|_| path.strip_prefix(st.catalog.data_dir()))
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let kind = match s.kind {
                antenne::playout::Kind::Ident => AirKind::Ident,
                antenne::playout::Kind::Fallback => AirKind::Bed,
                _ if s.item.episode_id.is_some() => AirKind::Episode,
                _ => AirKind::Track,
            };
            Some((a, b - a, Some(name), kind))
        })
        .collect()
}

pub struct Day {
    pub st: Station,
    pub runs: Runs,
    pub log: Vec<AirplayEntry>,
    pub dropped: u64,
    pub late: u64,
}

/// Runs the engine over `DAY` with the airplay writer on.
pub fn run_day() -> Day {
    run_day_with(true).0
}

/// Runs the engine over `DAY`, the airplay writer on or off; and the wall time it took.
pub fn run_day_with(record: bool) -> (Day, Duration) {
    let st = station();
    let (from, to) = (ts(DAY.0), ts(DAY.1));
    let clock = Arc::new(ManualClock::auto_advance(from));
    let (airplay, writer) = AirplayWriter::start(
        st.catalog.clone(),
        WriterConfig {
            sample_rate: R,
            media_dir: st.media.clone(),
            data_dir: st.catalog.data_dir().to_path_buf(),
            clock: clock.clone(),
        },
    )
    .unwrap();
    let counters = airplay.counters().clone();
    let airplay = if record { airplay } else { Default::default() };
    let started = std::time::Instant::now();
    let sink = RunSink::default();
    let (_tx, rx) = tokio::sync::watch::channel(st.schedule.clone());
    let config = PlayoutConfig {
        sample_rate: R,
        media_dir: st.media.clone(),
        block_frames: 4096,
        plan_ahead: Duration::from_secs(1800),
        edge_fade: Duration::from_millis(EDGE),
        overrun_fade: Duration::from_secs(3),
        wait_for_data: true,
        run_until: Some(to),
        airplay,
        ..PlayoutConfig::default()
    };
    let handle = antenne::playout::start(
        config,
        rx,
        st.catalog.clone(),
        Box::new(sink.clone()),
        clock,
    )
    .unwrap();
    let status = handle.status();
    handle.join();
    writer.stop();
    let took = started.elapsed();
    let late = status
        .late_frames
        .load(std::sync::atomic::Ordering::Relaxed);
    let runs = std::mem::take(&mut *sink.0.lock().unwrap());
    let log = st.catalog.airplay_between(from, to).unwrap();
    let dropped = counters.dropped.load(std::sync::atomic::Ordering::Relaxed);
    let day = Day {
        st,
        runs,
        log,
        dropped,
        late,
    };
    (day, took)
}

/// The cost of the log (not a test: a measurement for BENCHMARKS.md):
/// `cargo test --release --test it airplay::day::cost -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, run by hand"]
fn cost() {
    let mut off = Vec::new();
    let mut on = Vec::new();
    let mut rows = 0;
    for _ in 0..3 {
        off.push(run_day_with(false).1.as_secs_f64());
        let (day, took) = run_day_with(true);
        on.push(took.as_secs_f64());
        rows = day.log.len();
    }
    let best = |v: &[f64]| v.iter().cloned().fold(f64::MAX, f64::min);
    println!(
        "simulated day ({rows} airings): without the log {:.2} s, with it {:.2} s, ratio {:.3}",
        best(&off),
        best(&on),
        best(&on) / best(&off)
    );
}

#[test]
fn a_simulated_day_is_logged_frame_for_frame() {
    let day = run_day();
    let tb = Timebase::unix(R);
    let (f0, f1) = (tb.frame_at(ts(DAY.0)), tb.frame_at(ts(DAY.1)));
    assert_eq!(day.runs.first, Some(f0));
    assert_eq!(
        day.runs.frames,
        f1 - f0,
        "every frame of the day rendered once"
    );
    assert_eq!((day.dropped, day.late), (0, 0));
    let got: Vec<Expected> = day
        .log
        .iter()
        .map(|a| (a.start_frame, a.frames.unwrap(), a.path.clone(), a.kind))
        .collect();
    let want = expected(&day.st, ts(DAY.0), ts(DAY.1));
    assert!(want.len() > 500, "{} airings", want.len());
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g, w);
    }
    // Nothing but silence-free files today: the airings cover the day without a gap, and a
    // track overlaps the one before by its crossfade (3 s) at most.
    let crossfade = 3 * u64::from(R);
    assert_eq!(got[0].0, f0);
    for w in got.windows(2) {
        let end = w[0].0 + w[0].1;
        assert!(w[1].0 <= end && end - w[1].0 <= crossfade, "{w:?}");
    }
    assert_eq!(got.last().map(|g| g.0 + g.1), Some(f1));
    // Between each airing's fades, the output is exactly the file the log names.
    let id_of = |name: &str| {
        FILES
            .iter()
            .find(|f| f.rel == name)
            .map_or(EPISODE.0, |f| f.id)
    };
    for a in &day.log {
        let id = id_of(a.path.as_deref().unwrap());
        let (s, e) = (a.start_frame, a.start_frame + a.frames.unwrap());
        // A track crossfades in over 3 s; a bed cut by a show fades out over 3 s.
        let (inner_s, inner_e) = (s + crossfade + EDGE + 1, e - 3001);
        if inner_s < inner_e {
            assert_eq!(day.runs.ids(inner_s, inner_e), [id], "{a:?}");
        }
        assert!(a.sample_rate == R && a.ended_at.is_some() && a.sha256.is_some());
    }
    // The kinds of the day: the episode at 07:00 sharp, the playlist at 20:00, beds, idents.
    let at = |t: &str| tb.frame_at(ts(t));
    let episode = day.log.iter().find(|a| a.kind == AirKind::Episode).unwrap();
    assert_eq!(episode.start_frame, at("2027-03-03T06:00:00Z"));
    assert_eq!(episode.frames, Some(EPISODE.1 * 60 * u64::from(R)));
    assert_eq!(episode.episode_id.as_deref(), Some("m1"));
    assert_eq!(
        episode.occurrence_id.as_deref(),
        Some("matin/2027-03-03T07:00")
    );
    let tracks: Vec<&AirplayEntry> = day
        .log
        .iter()
        .filter(|a| a.kind == AirKind::Track)
        .collect();
    assert_eq!(tracks.len(), 2);
    assert_eq!(tracks[0].start_frame, at("2027-03-03T19:00:00Z"));
    assert_eq!(tracks[0].show.as_deref(), Some("musiques"));
    let t = tracks[0].tags.as_ref().unwrap();
    assert_eq!(t.title.as_deref(), Some("Chanson, \"douce\""));
    assert_eq!(t.composer.as_deref(), Some("Amélie Roux; Karim Benali"));
    assert_eq!(t.isrc.as_deref(), Some("FRZ039800212"));
    assert_eq!(t.publisher.as_deref(), Some("Label associatif"));
    assert_eq!(t.year, Some(2024));
    assert!(tracks[0].is_tagged() && !tracks[1].is_tagged());
    assert!(day.log.iter().any(|a| a.kind == AirKind::Ident));
    assert!(day.log.iter().any(|a| a.kind == AirKind::Bed));
    // Untagged files are listed for the operators, by name.
    let untagged: Vec<String> = day
        .st
        .catalog
        .untagged_media()
        .unwrap()
        .into_iter()
        .map(|u| u.path)
        .collect();
    let mut sorted = untagged.clone();
    sorted.sort();
    assert_eq!(sorted, ["beds/bed-b.wav", "music/02-sans-tags.wav"]);
    super::report::the_summary_sums_plays_and_seconds_per_track(&day);
}
