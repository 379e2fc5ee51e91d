//! Snapshot tests of what `antenne check` prints for broken (and dubious) schedule files.

use std::path::Path;

use antenne::schedule::{Facts, NoFacts, PathFact, Schedule};
use jiff::{SignedDuration, Timestamp};

const HEAD: &str = "[station]\nname = \"Test\"\ntimezone = \"Europe/Paris\"\n\n[[show]]\nslug = \"matinale\"\ntitle = \"Matinale\"\n\n";

fn now() -> Timestamp {
    "2026-01-01T00:00:00Z".parse().unwrap()
}

/// Every diagnostic, rendered as `check` prints it, or "ok" followed by the warnings.
fn check_with(src: &str, facts: &dyn Facts) -> String {
    match Schedule::parse(src, "weekly.toml", now(), facts) {
        Ok((_, warnings)) => {
            let mut out = String::from("ok\n");
            for w in warnings {
                out.push_str(&format!("{w}\n"));
            }
            out
        }
        Err(diags) => diags.iter().map(|d| format!("{d}\n")).collect(),
    }
}

fn check(src: &str) -> String {
    check_with(src, &NoFacts)
}

const BROKEN: &[(&str, &str)] = &[
    ("syntax", "[station]\nname = \"Test\nlanguage = fr\n"),
    (
        "unknown_keys",
        "[station]\nname = \"Test\"\ntimezon = \"Europe/Paris\"\n\n[[show]]\nslug = \"matinale\"\ntitle = \"M\"\ncolour = \"red\"\n\n[[slot]]\nshow = \"matinale\"\ndays = [\"mon\"]\nstart = \"07:00\"\nduraton = \"1h\"\n\n[[slots]]\nshow = \"matinale\"\n",
    ),
    ("missing_station", "[[show]]\nslug = \"a\"\ntitle = \"A\"\n"),
    (
        "unknown_time_zone",
        "[station]\nname = \"Test\"\ntimezone = \"Europe/Pariss\"\n",
    ),
    (
        "unknown_show",
        "[[slot]]\nshow = \"matinal\"\ndays = [\"mon\"]\nstart = \"07:00\"\nduration = \"1h\"\n",
    ),
    (
        "bad_durations",
        "[[slot]]\nshow = \"matinale\"\ndays = [\"mon\"]\nstart = \"07:00\"\nduration = \"1 hour\"\n\n[[slot]]\nshow = \"matinale\"\ndays = [\"tue\"]\nstart = \"07:00\"\nduration = \"0m\"\n\n[[slot]]\nshow = \"matinale\"\ndays = [\"wed\"]\nstart = \"07:00\"\nduration = \"200h\"\n",
    ),
    (
        "bad_times_and_days",
        "[[slot]]\nshow = \"matinale\"\ndays = [\"mon\", \"funday\"]\nstart = \"7h\"\nduration = \"1h\"\n\n[[slot]]\nshow = \"matinale\"\nstart = \"07:00\"\nduration = \"1h\"\n\n[[slot]]\nshow = \"matinale\"\ndays = [\"mon\"]\nstart = \"09:00\"\ncron = \"0 9 * * 1\"\nduration = \"1h\"\n",
    ),
    (
        "overlap",
        "[[show]]\nslug = \"debat\"\ntitle = \"D\"\n\n[[slot]]\nid = \"matin\"\nshow = \"matinale\"\ncron = \"0 7 * * 1-5\"\nduration = \"1h\"\n\n[[slot]]\nid = \"debat\"\nshow = \"debat\"\ndays = [\"fri\"]\nstart = \"07:30\"\nduration = \"1h\"\n",
    ),
    (
        "overlap_through_dst_gap",
        "[[slot]]\nid = \"nuit\"\nshow = \"matinale\"\ndays = [\"mon\",\"tue\",\"wed\",\"thu\",\"fri\",\"sat\",\"sun\"]\nstart = \"02:30\"\nduration = \"1h\"\n\n[[slot]]\nid = \"aube\"\nshow = \"matinale\"\ndays = [\"sun\"]\nstart = \"03:45\"\nduration = \"1h\"\n",
    ),
    (
        "overlaps_itself",
        "[[slot]]\nshow = \"matinale\"\ndays = [\"mon\",\"tue\"]\nstart = \"07:00\"\nduration = \"25h\"\n",
    ),
    (
        "exceptions_refer_to_nothing",
        "[[slot]]\nid = \"matin\"\nshow = \"matinale\"\ndays = [\"mon\"]\nstart = \"07:00\"\nduration = \"1h\"\n\n[[exception]]\nslot = \"matn\"\ndate = 2026-07-13\ncancel = true\n\n[[exception]]\nslot = \"matin\"\ndate = 2026-07-14\ncancel = true\n\n[[exception]]\nslot = \"matin\"\ndate = \"14/07/2026\"\ncancel = true\n",
    ),
    (
        "bad_cron",
        "[[slot]]\nshow = \"matinale\"\ncron = \"0 25 * * 1-5\"\nduration = \"1h\"\n\n[[slot]]\nshow = \"matinale\"\ncron = \"0 0 9 * * 1\"\nduration = \"1h\"\n\n[[slot]]\nshow = \"matinale\"\ncron = \"0 9 * *\"\nduration = \"1h\"\n\n[[slot]]\nshow = \"matinale\"\ncron = \"0 9 * * lundi\"\nduration = \"1h\"\n",
    ),
    (
        "bad_play_and_paths",
        "[[slot]]\nshow = \"matinale\"\ndays = [\"mon\"]\nstart = \"07:00\"\nduration = \"1h\"\nplay = \"premier\"\n\n[[slot]]\nshow = \"matinale\"\ndays = [\"tue\"]\nstart = \"07:00\"\nduration = \"1h\"\nplaylist = \"../secrets\"\n\n[[slot]]\nshow = \"matinale\"\ndays = [\"wed\"]\nstart = \"07:00\"\nduration = \"1h\"\nplay = \"rerun\"\nplaylist = \"beds\"\noverrun = \"shrink\"\n",
    ),
    (
        "bad_weeks",
        "[[slot]]\nshow = \"matinale\"\ndays = [\"mon\"]\nstart = \"07:00\"\nduration = \"1h\"\nevery = \"2w\"\n\n[[slot]]\nshow = \"matinale\"\ndays = [\"tue\"]\nstart = \"07:00\"\nduration = \"1h\"\nweeks = \"impair\"\n",
    ),
    (
        "bad_exceptions",
        "[[slot]]\nid = \"matin\"\nshow = \"matinale\"\ndays = [\"mon\"]\nstart = \"07:00\"\nduration = \"1h\"\n\n[[exception]]\nslot = \"matin\"\ndate = 2026-07-13\n\n[[exception]]\nslot = \"matin\"\ndate = 2026-07-20\ncancel = true\nplay = \"rerun\"\n\n[[exception]]\nshow = \"matinale\"\ndate = 2026-07-14\n\n[[exception]]\nshow = \"matinale\"\ndate = 2026-07-13\nstart = \"07:30\"\nduration = \"1h\"\n",
    ),
    (
        "bad_station_idents_and_crossfades",
        "[station]\nname = \"Test\"\nident_every = \"7m\"\nident_at_show_start = \"yes\"\nident_evry = \"1h\"\n\n[fallback]\ncrossfade = \"3 seconds\"\n\n[[show]]\nslug = \"musique\"\ntitle = \"M\"\n\n[[slot]]\nshow = \"musique\"\ndays = [\"mon\"]\nstart = \"20:00\"\nduration = \"1h\"\nplaylist = \"beds\"\ncrossfade = \"45s\"\n\n[[slot]]\nshow = \"musique\"\ndays = [\"tue\"]\nstart = \"20:00\"\nduration = \"1h\"\ncrossfade = \"2s\"\n\n[[exception]]\nshow = \"musique\"\ndate = 2026-07-14\nstart = \"12:00\"\nduration = \"1h\"\nplaylist = \"beds\"\ncrossfade = \"-1s\"\n",
    ),
    (
        "station_ident_every_too_often",
        "[station]\nname = \"Test\"\nident_every = \"2m\"\n",
    ),
];

#[test]
fn broken_files() {
    for (name, body) in BROKEN {
        let src = if name.starts_with("syntax")
            || name.contains("station")
            || name.contains("time_zone")
            || *name == "unknown_keys"
        {
            body.to_string()
        } else {
            format!("{HEAD}{body}")
        };
        let out = check(&src);
        assert!(!out.starts_with("ok"), "{name} should fail:\n{out}");
        insta::assert_snapshot!(*name, out);
    }
}

#[test]
fn dst_warnings() {
    let src = format!(
        "{HEAD}[[slot]]\nid = \"nuit\"\nshow = \"matinale\"\ndays = [\"sun\"]\nstart = \"02:30\"\nduration = \"15m\"\n"
    );
    insta::assert_snapshot!(check(&src));
}

struct Fake;

impl Facts for Fake {
    fn episode_count(&self, _show: &str) -> Option<usize> {
        Some(0)
    }
    fn newest_episode_duration(&self, _show: &str) -> Option<SignedDuration> {
        Some(SignedDuration::from_secs(3725))
    }
    fn path(&self, p: &Path) -> Option<PathFact> {
        match p.to_str()? {
            "beds" => Some(PathFact::Folder { entries: 0 }),
            "idents" => Some(PathFact::Folder { entries: 3 }),
            _ => Some(PathFact::Missing),
        }
    }
}

#[test]
fn fact_warnings() {
    let src = format!(
        "{HEAD}[fallback]\nplaylist = \"media/beds\"\nident = \"idents\"\n\n[[slot]]\nshow = \"matinale\"\ndays = [\"mon\"]\nstart = \"07:00\"\nduration = \"1h\"\n\n[[slot]]\nshow = \"matinale\"\ndays = [\"tue\"]\nstart = \"07:00\"\nduration = \"1h\"\nplaylist = \"jingles\"\n"
    );
    insta::assert_snapshot!(check_with(&src, &Fake));
}

/// Apple's category spelling is checked where operators write it, not when the feed is
/// rejected by a podcast app.
#[test]
fn show_categories_must_be_apples() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schedules/weekly.toml"
    ))
    .unwrap()
    .replace("category = \"History\"", "category = \"Histoire\"")
    .replace("subcategory = \"Food\"", "subcategory = \"Cooking\"");
    let parsed = antenne::schedule::Schedule::parse(
        &text,
        "weekly.toml",
        jiff::Timestamp::UNIX_EPOCH,
        &antenne::schedule::NoFacts,
    );
    let Err(errs) = parsed else {
        panic!("a schedule with misspelled categories was accepted");
    };
    let all: Vec<String> = errs
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.to_string())
        .collect();
    assert_eq!(all.len(), 2, "{all:#?}");
    assert!(all.iter().any(|e| e.contains("Histoire")), "{all:#?}");
    assert!(all.iter().any(|e| e.contains("Cooking")), "{all:#?}");
}

/// Idents that are on need files to air: the check says so where the setting is written.
#[test]
fn ident_folder_missing_when_idents_are_on() {
    struct NoIdents;
    impl Facts for NoIdents {
        fn path(&self, p: &Path) -> Option<PathFact> {
            match p.to_str()? {
                "jingles" => Some(PathFact::Missing),
                _ => Some(PathFact::Folder { entries: 4 }),
            }
        }
    }
    let src = "[station]\nname = \"Test\"\nident_every = \"1h\"\nident_at_show_start = true\n\n[fallback]\nident = \"jingles\"\ncrossfade = \"1500ms\"\n";
    insta::assert_snapshot!(check_with(src, &NoIdents));
    // With the folder there, the same file is fine; crossfades of zero and idents off too.
    assert_eq!(
        check_with(&src.replace("jingles", "idents"), &NoIdents),
        "ok\n"
    );
    let off = "[station]\nname = \"Test\"\nident_at_show_start = false\n\n[fallback]\nident = \"jingles\"\ncrossfade = \"0s\"\n";
    assert!(check_with(off, &NoIdents).starts_with("ok\n"));
}
