//! Loudness at playout (issue 15): beds made far too hot and far too quiet air at the
//! station's target, measured on the PCM the engine writes to its sink; the catalog analyses
//! one content once.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use antenne::audio::analyse::meter_source;
use antenne::audio::{AudioError, PcmSource};
use antenne::catalog::Catalog;
use antenne::playout::library::{self, LibraryConfig};
use antenne::playout::{
    LevelPolicy, Levels, ManualClock, NoEpisodes, PcmSink, PlayoutConfig, SystemClock,
    default_opener,
};
use antenne::schedule::{NoFacts, Schedule};
use jiff::{SignedDuration, Timestamp};

const RATE: u32 = 44_100;
const TARGET: f64 = -16.0;

/// A stereo bed of two tones and a little noise at `lufs` (measured, then scaled exactly).
fn bed(path: &Path, hz: f32, seconds: u32, lufs: f64) {
    let n = (seconds * RATE) as usize;
    let mut seed = 0x2545_f491u32;
    let mut pcm = Vec::with_capacity(2 * n);
    for k in 0..n {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let noise = (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
        let t = k as f32 / RATE as f32;
        let v = (t * hz * std::f32::consts::TAU).sin() * 0.5
            + (t * 3.1 * hz * std::f32::consts::TAU).sin() * 0.2
            + noise * 0.1;
        pcm.extend([v, v]);
    }
    let (measured, _, _) = meter_source(&mut VecSource(pcm.clone(), 0), RATE, || {}).unwrap();
    let g = 10f64.powf((lufs - measured.unwrap()) / 20.0) as f32;
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for s in pcm {
        let v = (s * g).clamp(-1.0, 1.0);
        w.write_sample((v * 32767.0) as i16).unwrap();
    }
    w.finalize().unwrap();
}

/// PCM in memory, as a source for the meter.
struct VecSource(Vec<f32>, usize);

impl PcmSource for VecSource {
    fn read(&mut self, out: &mut Vec<f32>, max: usize) -> Result<usize, AudioError> {
        let n = ((self.0.len() - self.1) / 2).min(max);
        out.extend_from_slice(&self.0[self.1..self.1 + 2 * n]);
        self.1 += 2 * n;
        Ok(n)
    }
    fn seek(&mut self, _: u64) -> Result<(), AudioError> {
        Ok(())
    }
    fn len_frames(&self) -> Option<u64> {
        None
    }
}

fn lufs_of(pcm: &[f32]) -> f64 {
    meter_source(&mut VecSource(pcm.to_vec(), 0), RATE, || {})
        .unwrap()
        .0
        .unwrap()
}

const SCHEDULE: &str = r#"
[station]
name = "Test FM"
timezone = "Europe/Paris"

[fallback]
playlist = "beds"
ident = "idents"
shuffle = false
# Each item metered whole: no overlap with the next.
crossfade = "0s"

[[show]]
slug = "tunes"
title = "Tunes"

[[slot]]
id = "tunes"
show = "tunes"
days = ["sun"]
start = "12:00"
duration = "1h"
playlist = "beds"
"#;

#[derive(Default)]
struct Rec {
    pcm: Vec<f32>,
    titles: Vec<(usize, String)>,
}

#[derive(Clone, Default)]
struct RecSink(Arc<Mutex<Rec>>);

impl PcmSink for RecSink {
    fn write(&mut self, _first_frame: u64, pcm: &[f32]) {
        self.0.lock().unwrap().pcm.extend_from_slice(pcm);
    }
    fn title(&mut self, title: &str) {
        let mut r = self.0.lock().unwrap();
        let at = r.pcm.len() / 2;
        r.titles.push((at, title.to_owned()));
    }
    fn finish(&mut self) {}
}

fn library_config(media: &Path) -> LibraryConfig {
    LibraryConfig {
        media_dir: media.to_path_buf(),
        sample_rate: RATE,
        rescan: Duration::from_secs(60),
    }
}

#[test]
fn issue15_beds_10_db_hot_and_15_db_quiet_air_within_1_lu_of_the_target() {
    let dir = tempfile::tempdir().unwrap();
    let media = dir.path().join("media");
    bed(&media.join("beds/a-hot.wav"), 440.0, 8, TARGET + 10.0);
    bed(&media.join("beds/b-quiet.wav"), 700.0, 8, TARGET - 15.0);
    let catalog = Catalog::open(&dir.path().join("data")).unwrap();
    let levels = Levels::new(LevelPolicy {
        target_lufs: TARGET,
        ..LevelPolicy::default()
    });
    let stop = AtomicBool::new(false);
    library::scan(
        &library_config(&media),
        &catalog,
        &default_opener(),
        &levels,
        &SystemClock,
        &stop,
    );
    let listed = levels.list();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!((listed[0].gain_db + 10.0).abs() < 0.2, "{listed:?}");
    assert!((listed[1].gain_db - 15.0).abs() < 0.2, "{listed:?}");

    let (schedule, _) = Schedule::parse(
        SCHEDULE,
        "t.toml",
        "2027-03-01T00:00:00Z".parse().unwrap(),
        &NoFacts,
    )
    .unwrap_or_else(|d| panic!("{d:?}"));
    let from: Timestamp = "2027-03-22T11:00:00Z".parse().unwrap();
    let to = from + SignedDuration::from_secs(24);
    let sink = RecSink::default();
    let config = PlayoutConfig {
        sample_rate: RATE,
        media_dir: media,
        wait_for_data: true,
        run_until: Some(to),
        plan_ahead: Duration::from_secs(60),
        levels,
        ..PlayoutConfig::default()
    };
    let (_tx, rx) = tokio::sync::watch::channel(Arc::new(schedule));
    let handle = antenne::playout::start_with(
        config,
        rx,
        Arc::new(NoEpisodes),
        default_opener(),
        Box::new(sink.clone()),
        Arc::new(ManualClock::auto_advance(from)),
    )
    .unwrap();
    handle.join();
    let rec = std::mem::take(&mut *sink.0.lock().unwrap());
    assert_eq!(rec.pcm.len(), 2 * 24 * RATE as usize);
    // Each item whole on air: meter it between its title change and the next, edges aside.
    let mut bounds: Vec<(usize, String)> = rec.titles.clone();
    bounds.push((rec.pcm.len() / 2, String::new()));
    let mut metered = Vec::new();
    for w in bounds.windows(2) {
        let (a, b) = (w[0].0, w[1].0);
        if b - a < 4 * RATE as usize {
            continue;
        }
        let margin = RATE as usize / 2;
        let lufs = lufs_of(&rec.pcm[2 * (a + margin)..2 * (b - margin)]);
        metered.push((w[0].1.clone(), lufs));
    }
    eprintln!("metered on the sink: {metered:?}");
    let aired = |name: &str| metered.iter().any(|(t, _)| t.contains(name));
    assert!(
        aired("hot") && aired("quiet"),
        "{:?} {metered:?}",
        rec.titles
    );
    for (title, lufs) in &metered {
        assert!(
            (lufs - TARGET).abs() <= 1.0,
            "{title} airs at {lufs:.2} LUFS, target {TARGET}: {metered:?}"
        );
    }
    let peak = rec.pcm.iter().fold(0f32, |m, s| m.max(s.abs()));
    assert!(peak < 1.0, "no clipping: {peak}");
}

#[test]
fn issue15_one_content_is_analysed_once_and_again_when_it_changes() {
    let dir = tempfile::tempdir().unwrap();
    let media = dir.path().join("media");
    bed(&media.join("beds/one.wav"), 440.0, 2, -20.0);
    std::fs::create_dir_all(media.join("idents")).unwrap();
    std::fs::copy(media.join("beds/one.wav"), media.join("idents/copy.wav")).unwrap();
    let catalog = Catalog::open(&dir.path().join("data")).unwrap();
    let levels = Levels::new(LevelPolicy::default());
    let stop = AtomicBool::new(false);
    let config = library_config(&media);
    library::scan(
        &config,
        &catalog,
        &default_opener(),
        &levels,
        &SystemClock,
        &stop,
    );
    assert_eq!(
        catalog.media_analysed().unwrap(),
        1,
        "same content: one analysis"
    );
    let listed = levels.list();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].sha256, listed[1].sha256);
    let first = listed[0].loudness.analysed_at;
    assert!((listed[0].gain_db - 4.0).abs() < 0.2, "{listed:?}");

    // Scanning again analyses nothing new.
    library::scan(
        &config,
        &catalog,
        &default_opener(),
        &levels,
        &SystemClock,
        &stop,
    );
    assert_eq!(catalog.media_analysed().unwrap(), 1);
    assert_eq!(levels.list()[0].loudness.analysed_at, first);

    // New content under the same name: hashed and analysed again.
    bed(&media.join("idents/copy.wav"), 440.0, 3, -30.0);
    library::scan(
        &config,
        &catalog,
        &default_opener(),
        &levels,
        &SystemClock,
        &stop,
    );
    assert_eq!(catalog.media_analysed().unwrap(), 2);
    let copy = levels
        .list()
        .into_iter()
        .find(|f| f.path.ends_with("copy.wav"))
        .unwrap();
    assert!((copy.gain_db - 14.0).abs() < 0.2, "{copy:?}");

    // A file removed from the folder leaves the listing.
    std::fs::remove_file(media.join("beds/one.wav")).unwrap();
    library::scan(
        &config,
        &catalog,
        &default_opener(),
        &levels,
        &SystemClock,
        &stop,
    );
    assert_eq!(levels.list().len(), 1);
}
