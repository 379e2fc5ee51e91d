//! Sessions from the hub to the catalog on a paused clock, and the figures computed from them
//! exactly: listeners join and leave around the demo schedule's Wednesday `cuisines`
//! occurrence (2026-12-02, 18:00–19:00 in Paris, 17:00–18:00 UTC) and the `nuit` one that
//! follows (23:00 Paris, 22:00 UTC).

use std::sync::Arc;
use std::time::Duration;

use antenne::audience::writer::{self, WriterStats};
use antenne::audience::{Period, figures};
use antenne::broadcast::{Hub, HubConfig, SessionLog};
use antenne::catalog::{Catalog, ClientFamily, ListenerSession, StreamKind};
use antenne::schedule::{NoFacts, Schedule};
use jiff::Timestamp;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

fn demo() -> Schedule {
    let text = std::fs::read_to_string("schedules/weekly.toml").unwrap();
    let now = "2026-12-01T00:00:00Z".parse().unwrap();
    Schedule::parse(&text, "schedules/weekly.toml", now, &NoFacts)
        .unwrap()
        .0
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

#[tokio::test(start_paused = true)]
async fn sessions_from_the_hub_give_exact_figures() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(dir.path()).unwrap();
    let anchor = ts("2026-12-02T16:50:00Z");
    let (log, rx) = SessionLog::new(anchor);
    let origin = Instant::now();
    let at = |t: &str| {
        origin + Duration::from_millis((ts(t).as_millisecond() - anchor.as_millisecond()) as u64)
    };
    let shutdown = CancellationToken::new();
    let stats = Arc::new(WriterStats::default());
    let writing = tokio::spawn(writer::run(
        rx,
        catalog.clone(),
        Duration::from_secs(1),
        stats.clone(),
        shutdown.clone(),
    ));
    let hub = Hub::new(HubConfig::default(), CancellationToken::new());
    hub.record_sessions(log.clone(), StreamKind::Mp3);

    // A from before the start to 17:30; B 17:10–17:40; D 17:20 to after the end; C starts
    // the instant A leaves and stays 30 s; E spans the start of `nuit` by a minute each side.
    let a = hub.subscribe_from(false, ClientFamily::Browser).unwrap();
    tokio::time::sleep_until(at("2026-12-02T17:10:00Z")).await;
    let b = hub.subscribe_from(true, ClientFamily::App).unwrap();
    tokio::time::sleep_until(at("2026-12-02T17:20:00Z")).await;
    let d = hub.subscribe_from(false, ClientFamily::Vlc).unwrap();
    tokio::time::sleep_until(at("2026-12-02T17:30:00Z")).await;
    drop(a);
    let c = hub
        .subscribe_from(false, ClientFamily::SmartSpeaker)
        .unwrap();
    tokio::time::sleep_until(at("2026-12-02T17:30:30Z")).await;
    drop(c);
    tokio::time::sleep_until(at("2026-12-02T17:40:00Z")).await;
    drop(b);
    tokio::time::sleep_until(at("2026-12-02T18:20:00Z")).await;
    drop(d);
    tokio::time::sleep_until(at("2026-12-02T21:59:00Z")).await;
    let e = hub.subscribe_from(false, ClientFamily::Other).unwrap();
    tokio::time::sleep_until(at("2026-12-02T22:01:00Z")).await;
    drop(e);
    tokio::time::sleep(Duration::from_secs(2)).await;
    shutdown.cancel();
    writing.await.unwrap();

    assert_eq!(log.lost(), 0);
    assert_eq!(stats.rows.load(std::sync::atomic::Ordering::Relaxed), 5);
    let day = Period {
        from: ts("2026-12-01T23:00:00Z"),
        to: ts("2026-12-02T23:00:00Z"),
    };
    let sessions = catalog.sessions_between(day.from, day.to).unwrap();
    assert_eq!(sessions.len(), 5);
    assert_eq!(
        sessions[0],
        ListenerSession {
            output: StreamKind::Mp3,
            client: ClientFamily::Browser,
            start: ts("2026-12-02T16:50:00Z"),
            end: ts("2026-12-02T17:30:00Z"),
        }
    );

    let f = figures(&demo(), day, &sessions, &[]);
    let cuisines = f
        .occurrences
        .iter()
        .find(|o| o.show == "cuisines-du-monde")
        .unwrap();
    assert_eq!(
        (cuisines.start, cuisines.end),
        (ts("2026-12-02T17:00:00Z"), ts("2026-12-02T18:00:00Z"))
    );
    // A, B and D together from 17:20 to 17:30; C replaces A at 17:30 exactly (never four).
    assert_eq!(cuisines.peak, 3);
    // 30 + 30 + 0.5 + 40 minutes.
    assert_eq!(cuisines.listening_ms, 6_030_000);
    assert_eq!(cuisines.average, 6_030_000.0 / 3_600_000.0);
    assert_eq!(cuisines.sessions, 4);
    assert_eq!(cuisines.sessions_over_minute, 3);

    // The 2nd's `nuit` starts at 22:00 UTC and E has exactly one minute of it, which counts
    // as a minute.
    let nuit = f
        .occurrences
        .iter()
        .find(|o| o.show == "musiques-des-quartiers" && o.start == ts("2026-12-02T22:00:00Z"))
        .unwrap();
    assert_eq!(
        (nuit.peak, nuit.listening_ms, nuit.sessions_over_minute),
        (1, 60_000, 1)
    );
    assert_eq!(nuit.average, 60_000.0 / 7_200_000.0);

    // Per show: one occurrence each here; the morning show aired with nobody listening.
    let show = f
        .shows
        .iter()
        .find(|s| s.show == "cuisines-du-monde")
        .unwrap();
    assert_eq!(
        (show.occurrences, show.peak, show.listening_ms),
        (1, 3, 6_030_000)
    );
    assert_eq!(show.on_air_ms, 3_600_000);
    let matinale = f.shows.iter().find(|s| s.show == "la-matinale").unwrap();
    assert_eq!(
        (matinale.peak, matinale.listening_ms, matinale.sessions),
        (0, 0, 0)
    );
    // The whole day, by family: E's two minutes are all "other".
    assert_eq!(f.by_client[&ClientFamily::Other].listening_ms, 120_000);
    assert_eq!(f.by_output[&StreamKind::Mp3].sessions, 5);
}

/// A show's average is weighted by time on air, and its peak is its best occurrence's.
#[test]
fn show_figures_sum_their_occurrences() {
    let s = demo();
    let session = |from: &str, to: &str| ListenerSession {
        output: StreamKind::Opus,
        client: ClientFamily::Browser,
        start: ts(from),
        end: ts(to),
    };
    // La matinale, Monday 30 Nov and Tuesday 1 Dec, 06:00–07:00 UTC.
    let sessions = [
        session("2026-11-30T06:00:00Z", "2026-11-30T07:00:00Z"),
        session("2026-11-30T06:15:00Z", "2026-11-30T06:45:00Z"),
        session("2026-12-01T05:00:00Z", "2026-12-01T06:30:00Z"),
    ];
    let period = Period {
        from: ts("2026-11-29T23:00:00Z"),
        to: ts("2026-12-01T23:00:00Z"),
    };
    let f = figures(&s, period, &sessions, &[]);
    let m = f.shows.iter().find(|x| x.show == "la-matinale").unwrap();
    assert_eq!(m.occurrences, 2);
    assert_eq!(m.peak, 2);
    assert_eq!(m.listening_ms, (60 + 30 + 30) * 60_000);
    assert_eq!(m.on_air_ms, 2 * 3_600_000);
    assert_eq!(m.average, 120.0 / 120.0);
    assert_eq!((m.sessions, m.sessions_over_minute), (3, 3));
    // Most listened first.
    assert_eq!(f.shows[0].show, "la-matinale");
}

/// Downloads are counted per local day: 23:30 UTC on 1 Dec is 2 Dec in Paris.
#[test]
fn downloads_group_by_local_day() {
    use antenne::catalog::DownloadRecord;
    let s = demo();
    let dl = |ep: &str, at: &str| DownloadRecord {
        episode: ep.into(),
        show: "cuisines-du-monde".into(),
        title: format!("Épisode {ep}"),
        at: ts(at),
    };
    let downloads = [
        dl("ep1", "2026-12-01T10:00:00Z"),
        dl("ep1", "2026-12-01T23:30:00Z"),
        dl("ep1", "2026-12-02T08:00:00Z"),
        dl("ep2", "2026-12-02T09:00:00Z"),
    ];
    let period = Period {
        from: ts("2026-11-30T23:00:00Z"),
        to: ts("2026-12-02T23:00:00Z"),
    };
    let f = figures(&s, period, &[], &downloads);
    let rows: Vec<(String, &str, u64)> = f
        .downloads
        .iter()
        .map(|d| (d.date.to_string(), d.episode.as_str(), d.downloads))
        .collect();
    assert_eq!(
        rows,
        [
            ("2026-12-01".to_string(), "ep1", 1),
            ("2026-12-02".to_string(), "ep1", 2),
            ("2026-12-02".to_string(), "ep2", 1),
        ]
    );
}
