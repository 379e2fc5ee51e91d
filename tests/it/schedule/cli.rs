//! `antenne check` exit codes and `antenne schedule` output, through the commands' `run`.

use antenne::cli::{CliError, check, schedule};
use antenne::config::{ProcessSettings, Settings};
use clap::Parser;

#[derive(Parser, Debug)]
struct Check {
    #[command(flatten)]
    args: check::Args,
}

#[derive(Parser, Debug)]
struct Sched {
    #[command(flatten)]
    args: schedule::Args,
}

fn settings(dir: &std::path::Path) -> Settings {
    Settings {
        process: ProcessSettings {
            media_dir: dir.join("media"),
            schedule: "schedules/weekly.toml".into(),
            ..Default::default()
        },
        ..Settings::default()
    }
}

fn run_check(argv: &[&str], s: &Settings) -> (Result<(), CliError>, String) {
    let a = Check::try_parse_from(std::iter::once("check").chain(argv.iter().copied())).unwrap();
    let mut out = Vec::new();
    let r = check::run(&a.args, s, &mut out);
    (r, String::from_utf8(out).unwrap())
}

fn run_schedule(argv: &[&str], s: &Settings) -> (Result<(), CliError>, String) {
    let a = Sched::try_parse_from(std::iter::once("schedule").chain(argv.iter().copied())).unwrap();
    let mut out = Vec::new();
    let r = schedule::run(&a.args, s, &mut out);
    (r, String::from_utf8(out).unwrap())
}

#[test]
fn check_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("media/beds")).unwrap();
    std::fs::write(dir.path().join("media/beds/a.mp3"), b"x").unwrap();
    let s = settings(dir.path());

    // The demo schedule: valid; the missing idents folder is a warning (exit 0).
    let (r, out) = run_check(&[], &s);
    assert!(r.is_ok(), "{out}");
    assert!(
        out.contains("warning: folder `idents` does not exist in media_dir"),
        "{out}"
    );
    assert!(
        out.contains("schedules/weekly.toml: ok (5 shows, 7 slots"),
        "{out}"
    );

    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[station]\nname = \"x\"\ntimezone = \"Mars/Olympus\"\n",
    )
    .unwrap();
    let (r, out) = run_check(&[bad.to_str().unwrap()], &s);
    let err = r.unwrap_err();
    assert_eq!(err.exit_code(), 1);
    assert!(matches!(err, CliError::User(_)));
    assert!(
        out.contains(":3:12: error: unknown time zone `Mars/Olympus`"),
        "{out}"
    );

    let (r, _) = run_check(&[dir.path().join("missing.toml").to_str().unwrap()], &s);
    assert_eq!(r.unwrap_err().exit_code(), 1);
}

#[test]
fn schedule_json_has_show_start_end_play() {
    let dir = tempfile::tempdir().unwrap();
    let s = settings(dir.path());
    let (r, out) = run_schedule(&["--from", "2026-03-28", "--days", "2", "--json"], &s);
    assert!(r.is_ok(), "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let items = v.as_array().unwrap();
    assert!(!items.is_empty());
    for it in items {
        for k in ["show", "start", "end", "play", "slot", "id"] {
            assert!(it.get(k).is_some(), "{k} missing in {it}");
        }
        let start = it["start"].as_str().unwrap();
        assert!(start.parse::<jiff::Timestamp>().is_ok(), "{start}");
        assert!(
            start.ends_with("+01:00") || start.ends_with("+02:00"),
            "{start}"
        );
    }
    // Saturday 28 March 2026: the night show ends at 01:00, before clocks go forward at 02:00.
    let nuit = items
        .iter()
        .find(|i| i["slot"] == "nuit" && i["start"] == "2026-03-28T23:00:00+01:00")
        .expect("night show");
    assert_eq!(nuit["end"], "2026-03-29T01:00:00+01:00");
    assert_eq!(nuit["play"], "playlist");
    assert_eq!(nuit["path"], "beds");
    assert!(items.iter().any(|i| i["play"] == "rerun"));
}

#[test]
fn schedule_timeline_and_diff() {
    let dir = tempfile::tempdir().unwrap();
    let s = settings(dir.path());
    let (r, out) = run_schedule(&["--from", "2026-06-01T00:00", "--days", "1"], &s);
    assert!(r.is_ok(), "{out}");
    assert!(
        out.contains("Mon 2026-06-01 07:00 +02:00 – 08:00 +02:00  la-matinale"),
        "{out}"
    );

    let new = dir.path().join("new.toml");
    let demo = std::fs::read_to_string("schedules/weekly.toml").unwrap();
    std::fs::write(&new, demo.replace("start = \"18:00\"", "start = \"18:15\"")).unwrap();
    let (r, out) = run_schedule(
        &[
            "diff",
            "schedules/weekly.toml",
            new.to_str().unwrap(),
            "--from",
            "2026-06-01",
            "--days",
            "7",
        ],
        &s,
    );
    assert!(r.is_ok(), "{out}");
    assert!(
        out.contains("0 added, 0 removed, 1 moved or changed"),
        "{out}"
    );
    assert!(out.contains("~ Wed 2026-06-03 18:00 +02:00"), "{out}");
}
