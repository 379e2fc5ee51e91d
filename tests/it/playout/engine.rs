//! Playout: the demo schedule over a simulated week with a DST change (planner and engine),
//! joining mid-show, overrun/underrun policies, missing and vanishing files, pacing, reload.
//!
//! Test media are mono 16-bit WAV at 1 kHz whose samples say which file and which frame they
//! are (`id·2048 + frame mod 2048`), so the rendered PCM can be checked frame by frame.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use antenne::catalog::Catalog;
use antenne::playout::programme::{Fades, Programme};
use antenne::playout::{
    CatalogEpisodes, Clock, Kind, ManualClock, PcmSink, PlayoutConfig, Segment, Source, Timebase,
    default_opener, media::FsMedia,
};
use antenne::schedule::{NoFacts, Occurrence, Schedule};
use antenne_testkit::playout::{R, identify, ready_episode, ts, value, wav};
use jiff::{SignedDuration, Timestamp};

const EDGE: u64 = 15; // 15 ms at 1 kHz
const OVERRUN: u64 = 3000; // 3 s

// File ids.
const BEDS: [u16; 3] = [1, 2, 3];
const IDENTS: [u16; 2] = [4, 5];
const MATINALE_LONG: u16 = 6; // 61 min in a 1 h `cut` slot
const MATINALE_SHORT: u16 = 7; // 40 min
const CUISINES: u16 = 8; // 25 min in a 1 h slot
const REPORTERS: u16 = 9; // 20 min in a 30 min `underrun = silence` slot

struct Station {
    _dir: tempfile::TempDir,
    media: PathBuf,
    catalog: Catalog,
    schedule: Arc<Schedule>,
}

fn parse(text: &str) -> Arc<Schedule> {
    let (s, _) = Schedule::parse(text, "weekly.toml", ts("2027-03-01T00:00:00Z"), &NoFacts)
        .unwrap_or_else(|d| panic!("{d:?}"));
    Arc::new(s)
}

/// The repository's demo schedule, beds and idents generated, episodes in a catalog.
fn station() -> Station {
    let dir = tempfile::tempdir().unwrap();
    let media = dir.path().join("media");
    for (i, id) in BEDS.iter().enumerate() {
        wav(&media.join(format!("beds/bed-{i}.wav")), *id, 180);
    }
    for (i, id) in IDENTS.iter().enumerate() {
        wav(&media.join(format!("idents/ident-{i}.wav")), *id, 5);
    }
    let catalog = Catalog::open(&dir.path().join("data")).unwrap();
    ready_episode(
        &catalog,
        "m-long",
        "la-matinale",
        "2027-03-01",
        MATINALE_LONG,
        61,
    );
    ready_episode(
        &catalog,
        "m-short",
        "la-matinale",
        "2027-03-02",
        MATINALE_SHORT,
        40,
    );
    ready_episode(
        &catalog,
        "c1",
        "cuisines-du-monde",
        "2027-03-01",
        CUISINES,
        25,
    );
    ready_episode(
        &catalog,
        "r1",
        "les-petits-reporters",
        "2027-03-01",
        REPORTERS,
        20,
    );
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("schedules/weekly.toml"),
    )
    .unwrap();
    Station {
        media,
        catalog,
        schedule: parse(&text),
        _dir: dir,
    }
}

fn fades() -> Fades {
    Fades {
        edge: EDGE,
        overrun: OVERRUN,
    }
}

fn plan(st: &Station, from: Timestamp, to: Timestamp) -> Vec<Segment> {
    let tb = Timebase::unix(R);
    let mut media = FsMedia::new(default_opener(), R);
    let episodes = CatalogEpisodes::new(st.catalog.clone());
    Programme {
        schedule: &st.schedule,
        timebase: tb,
        media_dir: &st.media,
        media: &mut media,
        episodes: &episodes,
        fades: fades(),
        live: &Default::default(),
    }
    .plan(tb.frame_at(from), tb.frame_at(to))
}

fn file_id(seg: &Segment) -> Option<u16> {
    match &seg.source {
        Source::File { path, .. } => {
            let name = path.file_stem()?.to_str()?;
            Some(match name {
                "bed-0" => BEDS[0],
                "bed-1" => BEDS[1],
                "bed-2" => BEDS[2],
                "ident-0" => IDENTS[0],
                "ident-1" => IDENTS[1],
                "m-long" => MATINALE_LONG,
                "m-short" => MATINALE_SHORT,
                "c1" => CUISINES,
                "r1" => REPORTERS,
                other => panic!("unexpected file {other}"),
            })
        }
        Source::Silence | Source::Live { .. } => None,
    }
}

/// From Saturday 2027-03-20 to Monday 2027-03-29 (Paris): the DST change of Sunday 28 March
/// (02:00 CET → 03:00 CEST) and a `les-petits-reporters` Saturday.
const WEEK: (&str, &str) = ("2027-03-19T23:00:00Z", "2027-03-28T22:00:00Z");

#[test]
fn a_simulated_week_starts_every_occurrence_on_its_sample_and_fills_every_gap() {
    let st = station();
    let (from, to) = (ts(WEEK.0), ts(WEEK.1));
    let tb = Timebase::unix(R);
    let segs = plan(&st, from, to);
    // Contiguous: every frame of the week belongs to exactly one segment, but for the
    // crossfades between the beds of the fallback and of the night playlist (3 s), where two
    // overlap with complementary fades.
    assert!(segs[0].start <= tb.frame_at(from));
    assert!(segs.last().unwrap().end >= tb.frame_at(to));
    let mut crossfades = 0;
    for w in segs.windows(2) {
        assert!(w[0].start < w[0].end);
        if w[1].start < w[0].end {
            crossfades += 1;
            let x = w[0].end - w[1].start;
            assert_eq!((w[0].fade_out, w[1].fade_in), (x, x), "{w:?}");
            assert!(
                matches!(
                    (w[0].kind, w[1].kind),
                    (Kind::Show, Kind::Show) | (Kind::Fallback, Kind::Fallback)
                ),
                "{w:?}"
            );
            assert!(x <= OVERRUN, "{w:?}");
        } else {
            assert_eq!(w[0].end, w[1].start, "{:?} then {:?}", w[0], w[1]);
        }
    }
    assert!(crossfades > 0, "the beds crossfade");
    // The demo's `ident_at_show_start`: a 5 s ident ends on the first frame of every
    // occurrence that the fallback precedes.
    for occ in st.schedule.occurrences(from, to) {
        let s = tb.frame_at(occ.start);
        let Some(before) = segs.iter().find(|x| x.end == s) else {
            continue;
        };
        let after_show = st
            .schedule
            .occurrences(from, to)
            .iter()
            .any(|o| tb.frame_at(o.end) == s);
        if !after_show {
            assert_eq!(before.kind, Kind::Ident, "{}: {before:?}", occ.id);
            assert_eq!(before.len(), 5 * u64::from(R), "{}", occ.id);
        }
    }
    let all = st.schedule.occurrences(from, to);
    let occs: Vec<Occurrence> = all
        .clone()
        .into_iter()
        .filter(|o| o.start >= from && o.end <= to)
        .collect();
    assert!(occs.len() >= 20, "{} occurrences", occs.len());
    // Every occurrence starts on the exact frame of its instant, and its segments stay inside.
    for occ in &occs {
        let (s, e) = (tb.frame_at(occ.start), tb.frame_at(occ.end));
        assert_eq!(s, occ.start.as_second() as u64 * u64::from(R), "{}", occ.id);
        let first = segs
            .iter()
            .find(|x| x.start == s)
            .unwrap_or_else(|| panic!("no segment starts at {}", occ.id));
        assert!(
            // Its own item, or the fallback standing in for it.
            first.item.occurrence.as_deref() == Some(&occ.id)
                || matches!(first.kind, Kind::Ident | Kind::Fallback),
            "{}: {first:?}",
            occ.id
        );
        let inside: Vec<&Segment> = segs
            .iter()
            .filter(|x| x.start >= s && x.start < e)
            .collect();
        assert_eq!(
            inside.last().unwrap().end,
            e,
            "{} ends on its frame",
            occ.id
        );
    }
    // DST: the weekend rerun airs at 09:00 local both days, an hour apart in UTC.
    let rerun = |day: &str| {
        occs.iter()
            .find(|o| o.id == format!("matinale-rediffusion/{day}T09:00"))
            .unwrap()
            .start
    };
    assert_eq!(rerun("2027-03-27"), ts("2027-03-27T08:00:00Z"));
    assert_eq!(rerun("2027-03-28"), ts("2027-03-28T07:00:00Z"));
    // Outside occurrences only the fallback chain (never silence); ident before each track.
    let in_occ = |f: u64| {
        all.iter()
            .any(|o| tb.frame_at(o.start) <= f && f < tb.frame_at(o.end))
    };
    for seg in &segs {
        assert_ne!(seg.kind, Kind::DeadAir, "{seg:?}");
        if !in_occ(seg.start) {
            assert!(matches!(seg.kind, Kind::Fallback | Kind::Ident), "{seg:?}");
        }
    }
    let check = |occ_id: &str, expected: &[(Kind, Option<u16>, u64, u64, u64)]| {
        let occ = occs
            .iter()
            .find(|o| o.id == occ_id)
            .unwrap_or_else(|| panic!("{occ_id}"));
        let s = tb.frame_at(occ.start);
        let got: Vec<(Kind, Option<u16>, u64, u64, u64)> = segs
            .iter()
            .filter(|x| x.start >= s && x.start < tb.frame_at(occ.end))
            .take(expected.len())
            .map(|x| (x.kind, file_id(x), x.start - s, x.end - s, x.fade_out))
            .collect();
        assert_eq!(got, expected, "{occ_id}");
    };
    let min = 60_000;
    // Monday: the newest unaired matinale (40 min), then the fallback (a bed: idents air on
    // the hour).
    let mon = "matinale/2027-03-22T07:00";
    let first_fb = segs
        .iter()
        .find(|x| x.start == tb.frame_at(ts("2027-03-22T06:40:00Z")))
        .unwrap();
    assert_eq!(first_fb.kind, Kind::Fallback);
    check(
        mon,
        &[(Kind::Show, Some(MATINALE_SHORT), 0, 40 * min, EDGE)],
    );
    // Tuesday: the other one, 61 min, cut at the slot end with an edge fade only.
    check(
        "matinale/2027-03-23T07:00",
        &[(Kind::Show, Some(MATINALE_LONG), 0, 60 * min, EDGE)],
    );
    // Wednesday: nothing left to premiere: the fallback fills the whole slot, a bed first (the
    // ident before the slot stands for its hour's).
    let wed = segs
        .iter()
        .find(|x| x.start == tb.frame_at(ts("2027-03-24T06:00:00Z")))
        .unwrap();
    assert_eq!(wed.kind, Kind::Fallback);
    // Weekend rerun: the last premiered (Tuesday's), cut at 1 h with the 3 s fade (default).
    check(
        "matinale-rediffusion/2027-03-28T09:00",
        &[(Kind::Show, Some(MATINALE_LONG), 0, 60 * min, OVERRUN)],
    );
    // Reporters: 20 min then meant silence (`underrun = "silence"`).
    check(
        "reporters/2027-03-20T10:30",
        &[
            (Kind::Show, Some(REPORTERS), 0, 20 * min, EDGE),
            (Kind::MeantSilence, None, 20 * min, 30 * min, 0),
        ],
    );
    // Night playlist: the three beds (shuffled per occurrence), then the fallback.
    let nuit = occs
        .iter()
        .find(|o| o.id == "nuit/2027-03-27T23:00")
        .unwrap();
    let tracks: Vec<u16> = segs
        .iter()
        .filter(|x| x.item.occurrence.as_deref() == Some(&nuit.id))
        .filter_map(file_id)
        .collect();
    let mut sorted = tracks.clone();
    sorted.sort();
    assert_eq!(sorted, BEDS);
    // The plan does not depend on where it starts: re-planning from inside a show or a gap
    // gives the same segments there.
    for probe in [
        "2027-03-22T07:20:00Z",
        "2027-03-25T12:34:56Z",
        "2027-03-28T00:30:00Z",
    ] {
        let t = ts(probe);
        let again = plan(&st, t, t + SignedDuration::from_mins(30));
        let f = tb.frame_at(t);
        let original: Vec<&Segment> = segs
            .iter()
            .filter(|x| x.end > f && x.start < f + 30 * min)
            .collect();
        assert_eq!(again.iter().collect::<Vec<_>>(), original, "{probe}");
    }
}

/// Records what the engine writes, checking that blocks are contiguous.
#[derive(Default)]
struct Rec {
    first: Option<u64>,
    pcm: Vec<f32>,
    titles: Vec<(u64, String)>,
    finished: bool,
}

#[derive(Clone, Default)]
struct RecSink(Arc<Mutex<Rec>>);

impl PcmSink for RecSink {
    fn write(&mut self, first_frame: u64, pcm: &[f32]) {
        let mut r = self.0.lock().unwrap();
        let start = *r.first.get_or_insert(first_frame);
        assert_eq!(
            first_frame,
            start + (r.pcm.len() / 2) as u64,
            "blocks are contiguous"
        );
        r.pcm.extend_from_slice(pcm);
    }

    fn title(&mut self, title: &str) {
        let mut r = self.0.lock().unwrap();
        let at = r.first.unwrap_or(0) + (r.pcm.len() / 2) as u64;
        r.titles.push((at, title.to_owned()));
    }

    fn finish(&mut self) {
        self.0.lock().unwrap().finished = true;
    }
}

impl Rec {
    /// Left-channel sample of absolute frame `f`.
    fn at(&self, f: u64) -> f32 {
        let first = self.first.unwrap();
        self.pcm[2 * (f - first) as usize]
    }
}

fn sim_config(st: &Station, until: Timestamp) -> PlayoutConfig {
    PlayoutConfig {
        sample_rate: R,
        media_dir: st.media.clone(),
        block_frames: 256,
        plan_ahead: Duration::from_secs(120),
        edge_fade: Duration::from_millis(EDGE),
        overrun_fade: Duration::from_millis(OVERRUN),
        wait_for_data: true,
        run_until: Some(until),
        ..PlayoutConfig::default()
    }
}

/// Runs the engine on a virtual clock over `[from, to)` and returns what it wrote.
fn render(st: &Station, schedule: Arc<Schedule>, from: Timestamp, to: Timestamp) -> Rec {
    let sink = RecSink::default();
    let (_tx, rx) = tokio::sync::watch::channel(schedule);
    let clock = Arc::new(ManualClock::auto_advance(from));
    let handle = antenne::playout::start(
        sim_config(st, to),
        rx,
        st.catalog.clone(),
        Box::new(sink.clone()),
        clock,
    )
    .unwrap();
    handle.join();
    let rec = std::mem::take(&mut *sink.0.lock().unwrap());
    let tb = Timebase::unix(R);
    assert_eq!(rec.first, Some(tb.frame_at(from)));
    assert_eq!(
        rec.pcm.len() as u64 / 2,
        tb.frame_at(to) - tb.frame_at(from),
        "every frame exactly once"
    );
    assert!(rec.finished);
    rec
}

/// Asserts frames `[from, from + n)` play file `id` from frame `pos`, unfaded.
fn assert_plays(rec: &Rec, from: u64, n: u64, id: u16, pos: u64) {
    for k in 0..n {
        let v = rec.at(from + k);
        assert_eq!(
            identify(v),
            (id, (pos + k) % 2048),
            "frame {} (+{k}): {v}",
            from
        );
        assert_eq!(v, value(id, pos + k));
    }
}

/// Asserts a cut at frame `b`: both sides faded to near zero, nothing louder than full scale.
fn assert_soft_edge(rec: &Rec, b: u64) {
    let max = 1.0; // full scale
    assert!(
        rec.at(b - 1).abs() <= max / EDGE as f32,
        "before the edge: {}",
        rec.at(b - 1)
    );
    assert!(
        rec.at(b).abs() <= max / EDGE as f32,
        "after the edge: {}",
        rec.at(b)
    );
}

#[test]
fn every_occurrence_of_the_week_switches_on_its_exact_frame() {
    let st = station();
    let tb = Timebase::unix(R);
    // Occurrences are rendered in air order, so premieres and reruns are decided as live.
    let occs = st.schedule.occurrences(ts(WEEK.0), ts(WEEK.1));
    for occ in &occs {
        let s = tb.frame_at(occ.start);
        let rec = render(
            &st,
            st.schedule.clone(),
            occ.start - SignedDuration::from_secs(2),
            occ.start + SignedDuration::from_secs(2),
        );
        assert_soft_edge(&rec, s);
        // `ident_at_show_start`: the ident's last frames end on the start frame.
        let (before, _) = identify(rec.at(s - EDGE - 1));
        assert!(
            IDENTS.contains(&before) || !after_fallback(&st, occ),
            "{}: an ident before the show, got {before}",
            occ.id
        );
        let (id, pos) = identify(rec.at(s + EDGE + 5));
        match expected_first(occ) {
            Expect::File(e) => assert_eq!(
                (id, pos),
                (e, EDGE + 5),
                "{} starts its item at frame 0",
                occ.id
            ),
            Expect::AnyBed => {
                assert!(
                    BEDS.contains(&id),
                    "{}: a bed of the playlist, got {id}",
                    occ.id
                );
                assert_eq!(pos, EDGE + 5);
            }
            Expect::Fallback => assert!(
                BEDS.contains(&id),
                "{}: the fallback stands in, a bed first after the show's ident, got {id}",
                occ.id
            ),
        }
        if !matches!(expected_first(occ), Expect::Fallback) {
            let show = &st.schedule.show(&occ.show).unwrap().title;
            let title = rec
                .titles
                .iter()
                .find(|(f, _)| *f + 256 > s)
                .map(|(_, t)| t.clone())
                .unwrap();
            assert!(title.starts_with(show.as_str()), "{}: {title}", occ.id);
        }
    }
}

/// Whether fallback airtime comes right before `occ` (no show ends on its start).
fn after_fallback(st: &Station, occ: &Occurrence) -> bool {
    let day = SignedDuration::from_hours(24);
    !st.schedule
        .occurrences(occ.start - day, occ.start)
        .iter()
        .any(|o| o.end == occ.start)
}

enum Expect {
    File(u16),
    AnyBed,
    Fallback,
}

/// What an occurrence of the test week opens with.
fn expected_first(occ: &Occurrence) -> Expect {
    match occ.id.as_str() {
        "matinale/2027-03-22T07:00" => Expect::File(MATINALE_SHORT),
        "matinale/2027-03-23T07:00" => Expect::File(MATINALE_LONG),
        // Before the week's first premiere, there is nothing to rerun.
        "matinale-rediffusion/2027-03-20T09:00" | "matinale-rediffusion/2027-03-21T09:00" => {
            Expect::Fallback
        }
        "cuisines-rediffusion/2027-03-21T12:00" => Expect::Fallback,
        id if id.starts_with("matinale-rediffusion/") => Expect::File(MATINALE_LONG),
        "cuisines/2027-03-24T18:00" => Expect::File(CUISINES),
        id if id.starts_with("cuisines-rediffusion/") => Expect::File(CUISINES),
        "reporters/2027-03-20T10:30" => Expect::File(REPORTERS),
        id if id.starts_with("nuit/") => Expect::AnyBed,
        _ => Expect::Fallback,
    }
}

#[test]
fn a_daemon_started_at_18_20_joins_the_18_00_show_20_minutes_in() {
    let st = station();
    let tb = Timebase::unix(R);
    // Wednesday 24 March, 18:20 Paris (CET): the cuisines premiere started at 17:00Z.
    let join = ts("2027-03-24T17:20:00Z");
    let rec = render(
        &st,
        st.schedule.clone(),
        join,
        join + SignedDuration::from_secs(2),
    );
    let f = tb.frame_at(join);
    // A short fade-in from the join, then the episode exactly 20 minutes in.
    assert!(rec.at(f).abs() < value(CUISINES, 0) / EDGE as f32 * 2.0);
    let pos = 20 * 60 * u64::from(R);
    assert_plays(&rec, f + EDGE, 1000, CUISINES, pos + EDGE);
    assert_eq!(rec.titles[0].1, "Cuisines du monde - Épisode c1");
}

#[test]
fn overrun_cut_and_fade_and_underrun_fallback_and_silence_as_rendered() {
    let st = station();
    let tb = Timebase::unix(R);
    let _ = plan(&st, ts("2027-03-22T00:00:00Z"), ts("2027-03-24T00:00:00Z"));
    let around = |t: &str| {
        let t = ts(t);
        (
            render(
                &st,
                st.schedule.clone(),
                t - SignedDuration::from_secs(4),
                t + SignedDuration::from_secs(2),
            ),
            tb.frame_at(t),
        )
    };
    // Tuesday's 61 min matinale in a 1 h `cut` slot: full level until the edge fade.
    let (rec, end) = around("2027-03-23T07:00:00Z");
    let pos = 60 * 60 * u64::from(R);
    assert_plays(&rec, end - 1000, 1000 - EDGE, MATINALE_LONG, pos - 1000);
    assert_soft_edge(&rec, end);
    // The same episode rerun on Sunday 28 (overrun = fade): a 3 s fade ending at 10:00 CEST.
    let _ = plan(&st, ts("2027-03-27T00:00:00Z"), ts("2027-03-29T00:00:00Z"));
    let (rec, end) = around("2027-03-28T08:00:00Z");
    let gain = |f: u64| rec.at(f) / value(MATINALE_LONG, pos - (end - f));
    assert!((gain(end - 3500) - 1.0).abs() < 1e-6);
    assert!(
        (gain(end - 1500) - 0.5).abs() < 0.01,
        "{}",
        gain(end - 1500)
    );
    assert!(gain(end - 1) < 0.001);
    let mut last = 1.0;
    for f in end - OVERRUN..end {
        assert!(gain(f) <= last + 1e-6, "monotonic fade");
        last = gain(f);
    }
    // Monday's 40 min matinale: underrun = fallback: a bed follows at once.
    let (rec, end) = around("2027-03-22T06:40:00Z");
    assert_plays(
        &rec,
        end - 1000,
        1000 - EDGE,
        MATINALE_SHORT,
        40 * 60 * u64::from(R) - 1000,
    );
    assert_soft_edge(&rec, end);
    assert!(BEDS.contains(&identify(rec.at(end + EDGE + 1)).0));
    // Saturday's reporters (underrun = silence): exact silence after the episode.
    let _ = plan(&st, ts("2027-03-20T00:00:00Z"), ts("2027-03-21T00:00:00Z"));
    let (rec, end) = around("2027-03-20T09:50:00Z");
    assert_plays(
        &rec,
        end - 1000,
        1000 - EDGE,
        REPORTERS,
        20 * 60 * u64::from(R) - 1000,
    );
    assert!((end..end + 2000).all(|f| rec.at(f) == 0.0));
}

#[test]
fn a_missing_episode_is_skipped_and_the_fallback_plays() {
    let st = station();
    let tb = Timebase::unix(R);
    // Monday's premiere would be m-short: its rendition has vanished.
    std::fs::remove_file(st.catalog.data_dir().join("renditions/m-short.wav")).unwrap();
    let t = ts("2027-03-22T06:00:00Z");
    let rec = render(
        &st,
        st.schedule.clone(),
        t - SignedDuration::from_secs(1),
        t + SignedDuration::from_secs(2),
    );
    let (id, _) = identify(rec.at(tb.frame_at(t) + EDGE + 1));
    assert!(BEDS.contains(&id), "the fallback chain, got file {id}");
}

/// Opens like the daemon, but a path fails from its `n`-th opening on (a file vanishing or
/// going bad after it was planned).
fn failing_after(path: PathBuf, n: usize) -> antenne::playout::Opener {
    let count = Arc::new(Mutex::new(0usize));
    Arc::new(move |p: &Path, rate| {
        if p == path {
            let mut c = count.lock().unwrap();
            *c += 1;
            if *c >= n {
                return Err(antenne::audio::AudioError::Io {
                    path: p.to_path_buf(),
                    error: std::io::Error::from(std::io::ErrorKind::NotFound),
                });
            }
        }
        antenne::audio::open_pcm(p, rate)
    })
}

#[test]
fn a_file_failing_on_air_is_replaced_by_the_fallback_without_a_gap_in_frames() {
    let st = station();
    let tb = Timebase::unix(R);
    let t = ts("2027-03-24T17:00:00Z");
    // Probing succeeds (1st open); the decoder's open fails.
    let opener = failing_after(st.catalog.data_dir().join("renditions/c1.wav"), 2);
    let sink = RecSink::default();
    let (_tx, rx) = tokio::sync::watch::channel(st.schedule.clone());
    let handle = antenne::playout::start_with(
        sim_config(&st, t + SignedDuration::from_secs(3)),
        rx,
        Arc::new(CatalogEpisodes::new(st.catalog.clone())),
        opener,
        Box::new(sink.clone()),
        Arc::new(ManualClock::auto_advance(t - SignedDuration::from_secs(1))),
    )
    .unwrap();
    let status = handle.status();
    handle.join();
    assert_eq!(status.snapshot().failed_items, 1);
    let rec = sink.0.lock().unwrap();
    assert_eq!(rec.pcm.len() as u64 / 2, 4 * u64::from(R));
    let (id, _) = identify(rec.at(tb.frame_at(t) + 100));
    assert!(BEDS.contains(&id), "the fallback plays instead, got {id}");
}

#[test]
fn pacing_stays_a_bounded_lead_ahead_of_a_manual_clock() {
    let st = station();
    let tb = Timebase::unix(R);
    let t0 = ts("2027-03-25T10:00:00Z");
    let clock = Arc::new(ManualClock::new(t0));
    let config = PlayoutConfig {
        wait_for_data: false,
        run_until: None,
        ..sim_config(&st, t0)
    };
    let (_tx, rx) = tokio::sync::watch::channel(st.schedule.clone());
    let handle = antenne::playout::start(
        config,
        rx,
        st.catalog.clone(),
        Box::new(RecSink::default()),
        clock.clone(),
    )
    .unwrap();
    let lead = 200; // frames at 1 kHz
    let block = 256;
    let wait_for = |frame: u64| {
        for _ in 0..400 {
            if handle.snapshot().cursor >= frame {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    for step in 0..20u64 {
        let now = tb.frame_at(clock.now());
        wait_for(now + lead);
        std::thread::sleep(Duration::from_millis(20));
        let cursor = handle.snapshot().cursor;
        assert!(
            cursor >= now + lead,
            "step {step}: {cursor} < {}",
            now + lead
        );
        assert!(
            cursor < now + lead + block,
            "step {step}: never more than lead + one block ahead"
        );
        clock.advance(SignedDuration::from_millis(150));
    }
    let s = handle.snapshot();
    assert_eq!(s.skipped_frames, 0);
    assert_eq!(s.frames_rendered, s.cursor - tb.frame_at(t0));
    handle.stop();
}

#[test]
fn a_schedule_reload_takes_effect_at_the_next_frames_without_interrupting_the_stream() {
    let st = station();
    let tb = Timebase::unix(R);
    // Thursday 25 March 10:00Z: a gap in the demo schedule. The new schedule adds a special
    // playing a bed from 10:00:05Z.
    let t0 = ts("2027-03-25T10:00:00Z");
    let clock = Arc::new(ManualClock::new(t0));
    let sink = RecSink::default();
    let config = PlayoutConfig {
        run_until: Some(t0 + SignedDuration::from_secs(8)),
        ..sim_config(&st, t0)
    };
    let (tx, rx) = tokio::sync::watch::channel(st.schedule.clone());
    let handle = antenne::playout::start(
        config,
        rx,
        st.catalog.clone(),
        Box::new(sink.clone()),
        clock.clone(),
    )
    .unwrap();
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("schedules/weekly.toml"),
    )
    .unwrap();
    let special = format!(
        "{text}\n[[exception]]\nid = \"special\"\nshow = \"cuisines-du-monde\"\ndate = 2027-03-25\nstart = \"11:00:05\"\nduration = \"10m\"\nfile = \"beds/bed-0.wav\"\n"
    );
    // Two seconds on air, then the reload, then the rest.
    for _ in 0..20 {
        clock.advance(SignedDuration::from_millis(100));
        std::thread::sleep(Duration::from_millis(5));
    }
    tx.send(parse(&special)).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    for _ in 0..70 {
        clock.advance(SignedDuration::from_millis(100));
        std::thread::sleep(Duration::from_millis(5));
    }
    handle.join();
    let rec = sink.0.lock().unwrap();
    assert_eq!(
        rec.pcm.len() as u64 / 2,
        8 * u64::from(R),
        "every frame once"
    );
    let s = tb.frame_at(t0 + SignedDuration::from_secs(5));
    assert_soft_edge(&rec, s);
    assert_plays(&rec, s + EDGE, 1000, BEDS[0], EDGE);
}

/// The plan of frames `[from, to)` with these live inputs (the demo media, the catalog's
/// episodes).
fn plan_live(
    st: &Station,
    schedule: &Schedule,
    inputs: &antenne::playout::LiveInputs,
    (from, to): (u64, u64),
) -> Vec<antenne::playout::Segment> {
    let mut media = FsMedia::new(default_opener(), R);
    let episodes = CatalogEpisodes::new(st.catalog.clone());
    Programme {
        schedule,
        timebase: Timebase::unix(R),
        media_dir: &st.media,
        media: &mut media,
        episodes: &episodes,
        fades: fades(),
        live: inputs,
    }
    .plan(from, to)
}

/// A live slot airs the connected source, frame for frame, and what the source has not
/// delivered is silence counted as underrun; with no source connected the slot is planned as
/// before a live input existed (the fallback). Issue 13: the live segment seam.
#[test]
fn a_live_slot_airs_the_connected_source_and_the_fallback_without_one() {
    let st = station();
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("schedules/weekly.toml"),
    )
    .unwrap();
    let live_text = text.replacen(
        "start = \"18:00\"\nduration = \"1h\"\nplay = \"premiere\"",
        "start = \"18:00\"\nduration = \"1h\"\nplay = \"live\"",
        1,
    );
    assert_ne!(live_text, text, "the cuisines slot is now live");
    let schedule = parse(&live_text);
    let buffer = antenne::playout::LiveBuffer::unprimed(3 * R as usize);
    let inputs = antenne::playout::LiveInputs::new(["live"], buffer);
    let tb = Timebase::unix(R);
    // Wednesday 24 March, 18:20 Paris: 20 minutes into the live slot.
    let join = ts("2027-03-24T17:20:00Z");
    let f = tb.frame_at(join);
    let plan_with = |inputs: &antenne::playout::LiveInputs| {
        plan_live(&st, &schedule, inputs, (f, f + 2 * u64::from(R)))
    };
    let off_air = plan_with(&inputs);
    assert!(
        off_air
            .iter()
            .all(|s| !matches!(s.source, Source::Live { .. })),
        "no source: the fallback plays the slot"
    );
    assert!(
        off_air
            .iter()
            .any(|s| file_id(s).is_some_and(|id| BEDS.contains(&id)))
    );

    let writer = inputs.get("live").unwrap().connect().unwrap();
    let on_air = plan_with(&inputs);
    let seg = on_air.iter().find(|s| s.start <= f && f < s.end).unwrap();
    assert_eq!(
        seg.source,
        Source::Live {
            input: "live".into()
        }
    );
    assert_eq!(
        seg.start,
        tb.frame_at(ts("2027-03-24T17:00:00Z")),
        "the whole slot"
    );
    assert_eq!(seg.end, tb.frame_at(ts("2027-03-24T18:00:00Z")));

    // One second of source audio, then nothing: rendered over two seconds.
    writer.write(&vec![0.25; 2 * R as usize]);
    let sink = RecSink::default();
    let (_tx, rx) = tokio::sync::watch::channel(schedule.clone());
    let config = PlayoutConfig {
        live: inputs.clone(),
        ..sim_config(&st, join + SignedDuration::from_secs(2))
    };
    let handle = antenne::playout::start(
        config,
        rx,
        st.catalog.clone(),
        Box::new(sink.clone()),
        Arc::new(ManualClock::auto_advance(join)),
    )
    .unwrap();
    handle.join();
    let rec = std::mem::take(&mut *sink.0.lock().unwrap());
    assert!(
        rec.at(f).abs() < 0.25 / EDGE as f32 * 2.0,
        "a fade-in from the join"
    );
    for k in EDGE..u64::from(R) {
        assert_eq!(rec.at(f + k), 0.25, "frame +{k} is the source's");
    }
    for k in u64::from(R)..2 * u64::from(R) {
        assert_eq!(rec.at(f + k), 0.0, "frame +{k}: underrun is silence");
    }
    let input = inputs.get("live").unwrap();
    let n = |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed);
    let c = input.counters();
    // The block that ran dry counts its missing frames as underrun; after it the input
    // waits for its cushion again (counted as waiting): one second of silence in all.
    assert_eq!(
        n(&c.underrun_frames) + n(&c.waiting_frames),
        u64::from(R),
        "one second of underrun counted"
    );
    assert_eq!(n(&c.underruns), 1, "one underrun");
    assert_eq!(rec.titles[0].1, "Cuisines du monde - En direct");
    drop(writer);
    assert!(!inputs.is_connected("live"));
}

/// An operator's override ("direct spécial", issue 14) airs the live input over whatever was
/// planned, from its start to its end, and the programme resumes after it; cut around it, the
/// items before and after keep their frames.
#[test]
fn an_override_airs_the_live_input_over_the_programme_between_its_bounds() {
    let st = station();
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("schedules/weekly.toml"),
    )
    .unwrap();
    let schedule = parse(&text);
    let buffer = antenne::playout::LiveBuffer::unprimed(R as usize);
    let inputs = antenne::playout::LiveInputs::new(["live"], buffer);
    let tb = Timebase::unix(R);
    // Thursday 25 March 2027, 14:00 Paris: the fallback rotation plays.
    let since = ts("2027-03-25T13:00:00Z");
    let until = ts("2027-03-25T13:00:30Z");
    let (s, e) = (tb.frame_at(since), tb.frame_at(until));
    let plan_with = |inputs: &antenne::playout::LiveInputs| {
        plan_live(
            &st,
            &schedule,
            inputs,
            (s - 10 * u64::from(R), e + 10 * u64::from(R)),
        )
    };
    let before = plan_with(&inputs);
    let writer = inputs.get("live").unwrap().connect().unwrap();
    let input = inputs.get("live").unwrap();
    let g = inputs.generation();
    input.set_takeover(Some(antenne::playout::Takeover {
        since,
        until: Some(until),
    }));
    assert!(inputs.generation() > g, "the planner re-plans at once");
    let during = plan_with(&inputs);
    let live: Vec<_> = during
        .iter()
        .filter(|x| matches!(x.source, Source::Live { .. }))
        .collect();
    assert_eq!(live.len(), 1, "{during:?}");
    assert_eq!(
        (live[0].start, live[0].end, live[0].kind),
        (s, e, Kind::Live)
    );
    // Contiguous, and what was planned outside the override is unchanged.
    for w in during.windows(2) {
        assert_eq!(w[0].end, w[1].start, "{during:?}");
    }
    let outside = |plan: &[antenne::playout::Segment]| -> Vec<(u64, u64)> {
        let mut v = Vec::new();
        for x in plan
            .iter()
            .filter(|x| !matches!(x.source, Source::Live { .. }))
        {
            if x.start < s {
                v.push((x.start, x.end.min(s)));
            }
            if x.end > e {
                v.push((x.start.max(e), x.end));
            }
        }
        v
    };
    assert_eq!(outside(&before), outside(&during));
    drop(writer);
    assert!(input.takeover().is_none(), "gone with its source");
    let after = plan_with(&inputs);
    assert!(
        after
            .iter()
            .all(|x| !matches!(x.source, Source::Live { .. }))
    );
}
