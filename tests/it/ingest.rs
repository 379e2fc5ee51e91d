//! Ingest jobs against a real catalog in a temp folder: two workers, dedup, failures that name
//! the file and affect nothing else, recovery after a crash, and the two CLI commands.

use std::path::Path;

use antenne::catalog::{Catalog, EpisodeStatus};
use antenne::config::{ProcessSettings, Settings};
use antenne::ingest::{IngestError, Submission, drain_queue, recover, submit, system_clock};

fn tone_wav(path: &Path, secs: f64, freq: f32, amp: f32) {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 44_100,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..(secs * 44_100.0) as usize {
        let t = i as f32 / 44_100.0;
        let env = 0.6 + 0.4 * (2.0 * std::f32::consts::PI * 3.0 * t).sin();
        let s = (amp * env * (2.0 * std::f32::consts::PI * freq * t).sin() * 32_767.0) as i16;
        w.write_sample(s).unwrap();
        w.write_sample(s).unwrap();
    }
    w.finalize().unwrap();
}

fn setup() -> (tempfile::TempDir, Settings, Catalog) {
    let d = tempfile::tempdir().unwrap();
    let settings = Settings {
        process: ProcessSettings {
            data_dir: d.path().join("data"),
            ..Default::default()
        },
        ..Settings::default()
    };
    let catalog = Catalog::open(&settings.process.data_dir).unwrap();
    (d, settings, catalog)
}

fn sub(show: &str, title: &str) -> Submission {
    Submission {
        show: show.into(),
        title: title.into(),
        date: Some("2025-06-01".into()),
        ..Default::default()
    }
}

#[test]
fn two_queued_episodes_are_rendered_and_recorded() {
    let (d, settings, catalog) = setup();
    let clock = system_clock();
    let (a, b) = (d.path().join("a.wav"), d.path().join("b.wav"));
    tone_wav(&a, 1.5, 440.0, 0.1);
    tone_wav(&b, 1.5, 660.0, 0.5);
    let original = std::fs::read(&a).unwrap();
    let ea = submit(&catalog, &a, &sub("quartiers", "Épisode A"), &clock).unwrap();
    let eb = submit(&catalog, &b, &sub("quartiers", "Épisode B"), &clock).unwrap();
    assert_eq!(ea.status, EpisodeStatus::Queued);
    assert_eq!(
        drain_queue(&catalog, &settings.station.render_options(), 2, &clock).unwrap(),
        2
    );
    for id in [&ea.id, &eb.id] {
        let ep = catalog.episode(id).unwrap().unwrap();
        assert_eq!(ep.status, EpisodeStatus::Ready, "{:?}", ep.error);
        let rendition = settings
            .process
            .data_dir
            .join(ep.rendition_path.as_ref().unwrap());
        assert_eq!(
            std::fs::metadata(&rendition).unwrap().len(),
            ep.rendition_bytes.unwrap()
        );
        let after = ep.after.unwrap();
        assert!((after.integrated_lufs + 16.0).abs() <= 0.5, "{after:?}");
        assert!(after.true_peak_dbtp <= -1.2);
        assert!(ep.before.is_some() && ep.gain_db.is_some());
        assert!(ep.duration_ms.unwrap() > 1000);
    }
    // The original is kept byte for byte.
    let stored = catalog.episode(&ea.id).unwrap().unwrap().original_path;
    assert_eq!(
        std::fs::read(settings.process.data_dir.join(stored)).unwrap(),
        original
    );
}

#[test]
fn the_same_recording_is_not_ingested_twice() {
    let (d, _settings, catalog) = setup();
    let clock = system_clock();
    let a = d.path().join("a.wav");
    tone_wav(&a, 0.5, 440.0, 0.3);
    let first = submit(&catalog, &a, &sub("quartiers", "Un"), &clock).unwrap();
    let copy = d.path().join("copie.wav");
    std::fs::copy(&a, &copy).unwrap();
    match submit(&catalog, &copy, &sub("quartiers", "Deux"), &clock) {
        Err(IngestError::Duplicate { existing, .. }) => assert_eq!(existing, first.id),
        other => panic!("expected a duplicate, got {other:?}"),
    }
    let originals = std::fs::read_dir(catalog.data_dir().join("originals"))
        .unwrap()
        .count();
    assert_eq!(originals, 1);
}

#[test]
fn a_bad_file_fails_its_job_only() {
    let (d, settings, catalog) = setup();
    let clock = system_clock();
    let bad = d.path().join("interview.mp3");
    // An ID3 header, then garbage: it sniffs as audio (so every way in accepts it, as an
    // upload would) and fails in the job. Plain text is refused at the door (issue 13).
    let mut bytes = b"ID3\x04\x00\x00\x00\x00\x00\x00".to_vec();
    bytes.extend("not audio at all ".repeat(100).as_bytes());
    std::fs::write(&bad, bytes).unwrap();
    let good = d.path().join("good.wav");
    tone_wav(&good, 1.0, 440.0, 0.2);
    let eb = submit(&catalog, &bad, &sub("quartiers", "Cassé"), &clock).unwrap();
    let eg = submit(&catalog, &good, &sub("quartiers", "Bon"), &clock).unwrap();
    drain_queue(&catalog, &settings.station.render_options(), 2, &clock).unwrap();
    let failed = catalog.episode(&eb.id).unwrap().unwrap();
    assert_eq!(failed.status, EpisodeStatus::Failed);
    let reason = failed.error.unwrap();
    assert!(
        reason.contains("interview.mp3") && reason.contains("not a recognised audio file"),
        "{reason}"
    );
    assert!(failed.rendition_path.is_none());
    assert_eq!(
        catalog.episode(&eg.id).unwrap().unwrap().status,
        EpisodeStatus::Ready
    );
    assert!(
        !settings
            .process
            .data_dir
            .join(format!("renditions/{}.mp3", eb.id))
            .exists()
    );
}

#[test]
fn interrupted_jobs_are_retried_after_restart() {
    let (d, settings, catalog) = setup();
    let clock = system_clock();
    let a = d.path().join("a.wav");
    tone_wav(&a, 1.0, 440.0, 0.2);
    let ep = submit(&catalog, &a, &sub("quartiers", "Crash"), &clock).unwrap();
    // A worker claimed it and the process died mid-render, leaving a temp file.
    catalog.claim_next_job(clock.now()).unwrap().unwrap();
    let renditions = settings.process.data_dir.join("renditions");
    std::fs::create_dir_all(&renditions).unwrap();
    let tmp = renditions.join(format!(".{}.mp3.999.tmp", ep.id));
    std::fs::write(&tmp, b"half").unwrap();
    assert_eq!(
        catalog.episode(&ep.id).unwrap().unwrap().status,
        EpisodeStatus::Processing
    );
    let catalog = Catalog::open(&settings.process.data_dir).unwrap();
    let r = recover(&catalog, &clock).unwrap();
    assert_eq!(r.requeued, 1);
    assert!(!tmp.exists());
    assert_eq!(
        catalog.episode(&ep.id).unwrap().unwrap().status,
        EpisodeStatus::Queued
    );
    drain_queue(&catalog, &settings.station.render_options(), 2, &clock).unwrap();
    assert_eq!(
        catalog.episode(&ep.id).unwrap().unwrap().status,
        EpisodeStatus::Ready
    );
}

#[test]
fn cli_analyze_json_and_rejection() {
    let (d, settings, _catalog) = setup();
    let a = d.path().join("a.wav");
    tone_wav(&a, 1.0, 440.0, 0.2);
    let args = antenne::cli::analyze::Args {
        file: a,
        json: true,
    };
    let mut out = Vec::new();
    antenne::cli::analyze::run(&args, &settings, &mut out).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let mut keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "channels",
            "codec",
            "duration_s",
            "integrated_lufs",
            "loudness_range_lu",
            "sample_peak_dbfs",
            "sample_rate",
            "true_peak_dbtp"
        ]
    );
    assert_eq!(v["sample_rate"], 44_100);
    assert!((v["duration_s"].as_f64().unwrap() - 1.0).abs() < 0.001);

    let bad = d.path().join("bad.flac");
    std::fs::write(&bad, b"fLaC but not really").unwrap();
    let args = antenne::cli::analyze::Args {
        file: bad,
        json: true,
    };
    let err = antenne::cli::analyze::run(&args, &settings, &mut Vec::new()).unwrap_err();
    assert_eq!(err.exit_code(), 1);
}

#[test]
fn cli_ingest_prints_the_episode() {
    let (d, settings, _catalog) = setup();
    let a = d.path().join("a.wav");
    tone_wav(&a, 1.0, 440.0, 0.2);
    let args = antenne::cli::ingest::Args {
        file: a.clone(),
        show: "quartiers".into(),
        title: Some("Le marché".into()),
        description: None,
        date: Some("2025-06-01".into()),
        json: true,
    };
    let mut out = Vec::new();
    antenne::cli::ingest::run(&args, &settings, &mut out).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["status"], "ready");
    assert!(Path::new(v["rendition_path"].as_str().unwrap()).exists());
    // Twice: rejected as a duplicate, exit 1.
    let err = antenne::cli::ingest::run(&args, &settings, &mut Vec::new()).unwrap_err();
    assert_eq!(err.exit_code(), 1);
}
