//! The demo schedule is valid and airs what its comments say.

use antenne::schedule::{NoFacts, Play, Schedule};
use jiff::Timestamp;

fn demo() -> Schedule {
    let text = std::fs::read_to_string("schedules/weekly.toml").unwrap();
    let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    match Schedule::parse(&text, "schedules/weekly.toml", now, &NoFacts) {
        Ok((s, warnings)) => {
            assert!(warnings.is_empty(), "{}", render(&warnings));
            s
        }
        Err(d) => panic!("{}", render(&d)),
    }
}

fn render(d: &[antenne::schedule::Diagnostic]) -> String {
    d.iter().map(|d| format!("{d}\n")).collect()
}

#[test]
fn demo_schedule_is_valid() {
    let s = demo();
    assert_eq!(s.station().name, "Au fil des quartiers");
    assert_eq!(s.station().tz_name, "Europe/Paris");
    assert_eq!(s.station().language, "fr");
    assert_eq!(s.shows().len(), 5);
    assert_eq!(s.fallback().playlist, std::path::PathBuf::from("beds"));
    assert_eq!(s.fallback().ident, std::path::PathBuf::from("idents"));
    // Idents on the hour and before every show, 3 s crossfades between beds.
    assert_eq!(
        s.station().ident_every,
        Some(jiff::SignedDuration::from_hours(1))
    );
    assert!(s.station().ident_at_show_start);
    assert_eq!(s.fallback().crossfade, jiff::SignedDuration::from_secs(3));
}

#[test]
fn demo_week_in_july_2026() {
    let s = demo();
    let from: Timestamp = "2026-07-13T00:00:00+02:00".parse().unwrap();
    let to: Timestamp = "2026-07-20T00:00:00+02:00".parse().unwrap();
    let occ = s.occurrences(from, to);
    for o in &occ {
        eprintln!("{} {} {} {} {}", o.start, o.end, o.show, o.slot, o.play);
    }
    // The matinale is cancelled on 14 July, a special airs instead at 15:00.
    let matinales: Vec<_> = occ.iter().filter(|o| o.slot == "matinale").collect();
    assert_eq!(matinales.len(), 4);
    assert!(
        occ.iter()
            .any(|o| o.slot == "fete-des-ors" && o.play == Play::Live)
    );
}
