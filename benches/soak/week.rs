//! Part 1 of the soak: the demo schedule played out over a simulated week (with the March DST
//! change) on a virtual clock that runs as fast as the engine renders, through the public
//! playout API, with schedule reloads sent while it plays. The same approach as
//! `tests/it/playout/engine.rs`: generated 1 kHz WAV media and episodes in a temporary catalog.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use antenne::catalog::Catalog;
use antenne::playout::{ManualClock, PcmSink, PlayoutConfig, Timebase};
use antenne::schedule::{NoFacts, Schedule};

use antenne_testkit::playout::{R, ready_episode, ts, wav};

/// Saturday 2027-03-20 00:00 to Monday 2027-03-29 00:00, Paris: nine days across the DST
/// change of Sunday 28 March.
const FROM: &str = "2027-03-19T23:00:00Z";
const TO: &str = "2027-03-28T22:00:00Z";

/// What the simulated week found.
pub struct WeekReport {
    pub frames: u64,
    pub expected_frames: u64,
    pub discontinuities: u64,
    pub titles: u64,
    pub reloads: u64,
    pub wall: Duration,
    pub rss_start_kib: u64,
    pub rss_end_kib: u64,
}

impl WeekReport {
    pub fn ok(&self) -> bool {
        self.frames == self.expected_frames && self.discontinuities == 0
    }
}

/// Counts frames and checks that every block follows the previous one exactly.
#[derive(Default)]
struct Count {
    next: Option<u64>,
    frames: u64,
    discontinuities: u64,
    titles: u64,
}

#[derive(Clone, Default)]
struct CountSink(Arc<Mutex<Count>>);

impl PcmSink for CountSink {
    fn write(&mut self, first_frame: u64, pcm: &[f32]) {
        let mut c = self.0.lock().unwrap();
        if let Some(next) = c.next
            && next != first_frame
        {
            c.discontinuities += 1;
        }
        let n = (pcm.len() / 2) as u64;
        c.next = Some(first_frame + n);
        c.frames += n;
    }

    fn title(&mut self, _title: &str) {
        self.0.lock().unwrap().titles += 1;
    }
}

pub fn run(repo: &Path, rss: impl Fn() -> u64) -> WeekReport {
    let dir = tempfile::tempdir().unwrap();
    let media = dir.path().join("media");
    for (i, id) in [1u16, 2, 3].iter().enumerate() {
        wav(&media.join(format!("beds/bed-{i}.wav")), *id, 180);
    }
    for (i, id) in [4u16, 5].iter().enumerate() {
        wav(&media.join(format!("idents/ident-{i}.wav")), *id, 5);
    }
    let catalog = Catalog::open(&dir.path().join("data")).unwrap();
    ready_episode(&catalog, "m-long", "la-matinale", "2027-03-01", 6, 61);
    ready_episode(&catalog, "m-short", "la-matinale", "2027-03-02", 7, 40);
    ready_episode(&catalog, "c1", "cuisines-du-monde", "2027-03-01", 8, 25);
    ready_episode(&catalog, "r1", "les-petits-reporters", "2027-03-01", 9, 20);
    let text = std::fs::read_to_string(repo.join("schedules/weekly.toml")).unwrap();
    let parse = |text: &str| {
        let (s, _) = Schedule::parse(text, "weekly.toml", ts("2027-03-01T00:00:00Z"), &NoFacts)
            .unwrap_or_else(|d| panic!("{d:?}"));
        Arc::new(s)
    };
    let (from, to) = (ts(FROM), ts(TO));
    let rss_start_kib = rss();
    let started = Instant::now();
    let (tx, rx) = tokio::sync::watch::channel(parse(&text));
    let sink = CountSink::default();
    let config = PlayoutConfig {
        sample_rate: R,
        media_dir: media,
        block_frames: 1024,
        plan_ahead: Duration::from_secs(600),
        wait_for_data: true,
        run_until: Some(to),
        ..PlayoutConfig::default()
    };
    let handle = antenne::playout::start(
        config,
        rx,
        catalog,
        Box::new(sink.clone()),
        Arc::new(ManualClock::auto_advance(from)),
    )
    .unwrap();
    // Operators' edits while the week plays: a description changed every 200 ms of wall time.
    let reloads = Arc::new(AtomicU64::new(0));
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reloader = {
        let (reloads, done) = (Arc::clone(&reloads), Arc::clone(&done));
        std::thread::spawn(move || {
            while !done.load(Ordering::Acquire) {
                std::thread::sleep(Duration::from_millis(200));
                let n = reloads.fetch_add(1, Ordering::AcqRel) + 1;
                let edited = text.replacen(
                    "chaque matin de semaine.",
                    &format!("chaque matin de semaine (relecture {n})."),
                    1,
                );
                let _ = tx.send(parse(&edited));
            }
        })
    };
    handle.join();
    done.store(true, Ordering::Release);
    reloader.join().unwrap();
    let tb = Timebase::unix(R);
    let c = sink.0.lock().unwrap();
    WeekReport {
        frames: c.frames,
        expected_frames: tb.frame_at(to) - tb.frame_at(from),
        discontinuities: c.discontinuities,
        titles: c.titles,
        reloads: reloads.load(Ordering::Acquire),
        wall: started.elapsed(),
        rss_start_kib,
        rss_end_kib: rss(),
    }
}
