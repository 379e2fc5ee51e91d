//! The daemon's watcher (`daemon::alerts`), driven through its inputs on a paused clock: the
//! playout's counters, the free space it reads, the catalog's failed ingest jobs and the title
//! on air become signals, which the tracker (as the alerts task does) turns into one alert per
//! incident and one "resolved" when a condition ends.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use antenne::alerts::{AlertState, Alerts, Event, Input, Tracker};
use antenne::daemon::alerts::{WatchInputs, watch, watch_ingest};
use antenne::playout::{NowPlaying, PlayoutStatus};
use tokio::sync::{mpsc, watch as channel};
use tokio::time::{Duration, Instant};

use crate::support::{self, TestStation};

/// 1 s of audio at the station's rate.
const SECOND: u64 = 44_100;

/// A station whose watchers run on injected inputs.
struct Watched {
    st: TestStation,
    rx: mpsc::Receiver<Input>,
    status: Arc<PlayoutStatus>,
    titles: channel::Sender<NowPlaying>,
    free_mb: Arc<AtomicU64>,
    tracker: Tracker,
}

async fn watched() -> Watched {
    let st = support::station().await;
    let status = Arc::new(PlayoutStatus::default());
    st.state.http().on_air.set_playout_status(status.clone());
    let (titles, now_playing) = channel::channel(NowPlaying::idle());
    let free_mb = Arc::new(AtomicU64::new(50_000));
    let free = free_mb.clone();
    let (alerts, rx) = Alerts::channel();
    let inputs = WatchInputs {
        now_playing,
        free_mb: Box::new(move || Some(free.load(Ordering::Relaxed))),
    };
    tokio::spawn(watch(st.state.clone(), alerts.clone(), inputs));
    tokio::spawn(watch_ingest(st.state.clone(), alerts));
    Watched {
        st,
        rx,
        status,
        titles,
        free_mb,
        tracker: Tracker::new(Duration::from_secs(600)),
    }
}

impl Watched {
    /// Lets `secs` seconds pass, a second at a time, the playout rendering a second of audio
    /// in each while `playing`; returns the alerts (incident key, state, when, in seconds from
    /// the call) that the tracker made of what the watcher sent, and the titles it sent.
    async fn run(
        &mut self,
        secs: u64,
        playing: bool,
    ) -> (Vec<(String, AlertState, u64)>, Vec<String>) {
        let t0 = Instant::now();
        let (mut alerts, mut titles) = (Vec::new(), Vec::new());
        for _ in 0..secs {
            if playing {
                self.status
                    .frames_rendered
                    .fetch_add(SECOND, Ordering::Relaxed);
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
            // The ingest watcher reads the catalog on a blocking thread.
            for _ in 0..20 {
                tokio::task::yield_now().await;
            }
            while let Ok(input) = self.rx.try_recv() {
                match input {
                    Input::Signal(s) => {
                        if let Some(a) = self.tracker.signal(s, Instant::now()) {
                            let at = (Instant::now() - t0).as_secs();
                            alerts.push((a.event.key(), a.state, at));
                        }
                    }
                    Input::NowPlaying { title, kind } => titles.push(format!("{kind}: {title}")),
                }
            }
        }
        (alerts, titles)
    }
}

fn keys(alerts: &[(String, AlertState, u64)]) -> Vec<(&str, AlertState)> {
    alerts.iter().map(|(k, s, _)| (k.as_str(), *s)).collect()
}

#[tokio::test(start_paused = true)]
async fn frames_that_stop_are_one_stream_down_and_one_resolved_per_incident() {
    use AlertState::{Firing, Resolved};
    let mut w = watched().await;
    let (alerts, _) = w.run(30, true).await;
    assert!(alerts.is_empty(), "{alerts:?}");
    // No frame for 40 s: stream down after `stream_down` (10 s), once.
    let (alerts, _) = w.run(40, false).await;
    assert_eq!(keys(&alerts), [("stream_down", Firing)]);
    assert!((9..=12).contains(&alerts[0].2), "{alerts:?}");
    let (alerts, _) = w.run(20, true).await;
    assert_eq!(keys(&alerts), [("stream_down", Resolved)]);
    assert!(alerts[0].2 <= 2, "{alerts:?}");
    // A stall shorter than the threshold is no incident; a second long one is a second.
    let (alerts, _) = w.run(5, false).await;
    assert!(alerts.is_empty(), "{alerts:?}");
    let (alerts, _) = w.run(5, true).await;
    assert!(alerts.is_empty(), "{alerts:?}");
    let (alerts, _) = w.run(15, false).await;
    assert_eq!(keys(&alerts), [("stream_down", Firing)]);
    // The silence alarm the engine raises is dead air, once, resolved once when it clears.
    let (alerts, _) = w.run(5, true).await;
    assert_eq!(keys(&alerts), [("stream_down", Resolved)]);
    w.status.silence_alarm.store(true, Ordering::Relaxed);
    let (alerts, _) = w.run(30, true).await;
    assert_eq!(keys(&alerts), [("dead_air", Firing)]);
    w.status.silence_alarm.store(false, Ordering::Relaxed);
    let (alerts, _) = w.run(5, true).await;
    assert_eq!(keys(&alerts), [("dead_air", Resolved)]);
}

#[tokio::test(start_paused = true)]
async fn an_alarm_over_between_two_ticks_is_still_dead_air_and_resolved() {
    use AlertState::{Firing, Resolved};
    let mut w = watched().await;
    let (alerts, _) = w.run(5, true).await;
    assert!(alerts.is_empty(), "{alerts:?}");
    // The engine raises the alarm and, the silent item replaced by the fallback, clears it
    // a few milliseconds later: the watcher never sees the flag up, only the count.
    w.status.silence_alarms.fetch_add(1, Ordering::Relaxed);
    let (alerts, _) = w.run(5, true).await;
    assert_eq!(
        keys(&alerts),
        [("dead_air", Firing), ("dead_air", Resolved)]
    );
    assert_eq!(alerts[0].2, alerts[1].2, "on the same tick");
}

#[tokio::test(start_paused = true)]
async fn free_space_under_the_threshold_is_one_disk_low_and_one_resolved() {
    use AlertState::{Firing, Resolved};
    let mut w = watched().await;
    let threshold = w.st.state.settings().station.alerts.disk_min_mb;
    assert!(threshold > 100);
    let (alerts, _) = w.run(30, true).await;
    assert!(alerts.is_empty(), "{alerts:?}");
    w.free_mb.store(100, Ordering::Relaxed);
    // Read once a minute: within 60 s, then not again for the same incident.
    let (alerts, _) = w.run(300, true).await;
    assert_eq!(keys(&alerts), [("disk_low", Firing)]);
    assert!(alerts[0].2 <= 61, "{alerts:?}");
    w.free_mb.store(threshold + 1, Ordering::Relaxed);
    let (alerts, _) = w.run(120, true).await;
    assert_eq!(keys(&alerts), [("disk_low", Resolved)]);
    assert!(alerts[0].2 <= 61, "{alerts:?}");
}

#[tokio::test(start_paused = true)]
async fn each_failed_ingest_job_is_one_alert_naming_the_file() {
    let mut w = watched().await;
    let catalog = w.st.state.catalog().clone();
    let (alerts, _) = w.run(3, true).await;
    assert!(alerts.is_empty(), "{alerts:?}");
    let fail = |id: &str, name: &str, reason: &str| {
        let mut e = support::new_episode(id, "la-matinale", "Reportage");
        e.original_name = Some(name.into());
        let now = jiff::Timestamp::now();
        catalog.create_episode(&e, now).unwrap();
        let job = catalog.claim_next_job(now).unwrap().unwrap();
        catalog.fail_job(job.id, reason, now).unwrap();
    };
    fail("ep1", "reportage-marche.mp3", "not an audio file");
    w.st.state.http().catalog.changed();
    let (alerts, _) = w.run(3, true).await;
    assert_eq!(
        keys(&alerts),
        [("ingest_failed:reportage-marche.mp3", AlertState::Firing)]
    );
    // Other catalog changes do not repeat it; another failed file is another alert.
    w.st.state.http().catalog.changed();
    let (alerts, _) = w.run(3, true).await;
    assert!(alerts.is_empty(), "{alerts:?}");
    fail("ep2", "interview.wav", "decoding failed");
    w.st.state.http().catalog.changed();
    let (alerts, _) = w.run(3, true).await;
    assert_eq!(
        keys(&alerts),
        [("ingest_failed:interview.wav", AlertState::Firing)]
    );
    let text = Event::IngestFailed {
        file: "interview.wav".into(),
        error: "decoding failed".into(),
    }
    .text(antenne::alerts::Lang::Fr);
    assert_eq!(text, "Échec de l'import de interview.wav : decoding failed");
}

#[tokio::test(start_paused = true)]
async fn each_new_title_on_air_is_one_now_playing() {
    let mut w = watched().await;
    let on_air = |show: &str, title: &str, kind: &'static str, s: i64| NowPlaying {
        show_title: show.into(),
        title: title.into(),
        kind,
        started_at: jiff::Timestamp::from_second(1_800_000_000 + s).unwrap(),
        ..NowPlaying::idle()
    };
    let (_, titles) = w.run(1, true).await;
    assert!(titles.is_empty(), "{titles:?}");
    w.titles
        .send_replace(on_air("La matinale", "Épisode 3", "show", 0));
    let (_, titles) = w.run(2, true).await;
    assert_eq!(titles, ["show: La matinale - Épisode 3"]);
    // The same title again (another item, same words), then nothing on air: no message.
    w.titles
        .send_replace(on_air("La matinale", "Épisode 3", "show", 60));
    let (_, titles) = w.run(1, true).await;
    assert!(titles.is_empty(), "{titles:?}");
    w.titles.send_replace(on_air("", "", "dead_air", 90));
    let (_, titles) = w.run(1, true).await;
    assert!(titles.is_empty(), "{titles:?}");
    w.titles.send_replace(on_air("", "Bed 2", "fallback", 120));
    let (_, titles) = w.run(1, true).await;
    assert_eq!(titles, ["fallback: Bed 2"]);
}
