//! Playout wins over background work (issue 18): a fresh station that starts on air while its
//! first episodes are being ingested airs every frame.

use std::time::{Duration, Instant};

use crate::support::{SHOW, Station, request, wav_bytes};

/// `GET /api/status` as JSON.
fn status(st: &Station) -> serde_json::Value {
    request(st.port, "GET", "/api/status", "", b"")
        .unwrap()
        .json()
}

// issue 18
#[test]
fn issue18_playout_starting_beside_two_ingest_jobs_airs_no_late_frame() {
    let st = Station::new();
    // Two long recordings seeded on first start, as the demo episodes are: their jobs are
    // queued before the playout starts, and ingest works on them for seconds after.
    let demo = st.media_dir().join("demo").join(SHOW);
    std::fs::create_dir_all(&demo).unwrap();
    for seed in 0..2 {
        let file = demo.join(format!("long-{seed}.wav"));
        std::fs::write(file, wav_bytes(7_000 + seed, 90.0)).unwrap();
    }
    let d = st.start();
    d.time_to_audio();
    let on_air = status(&st);
    let episodes = &on_air["catalog"]["episodes"];
    let busy = episodes["queued"].as_u64().unwrap() + episodes["processing"].as_u64().unwrap();
    assert!(
        busy > 0,
        "the ingest jobs were over before the stream started: {on_air}"
    );
    // Until both jobs are done, and a little after.
    let started = Instant::now();
    let last = loop {
        let s = status(&st);
        if s["catalog"]["episodes"]["ready"].as_u64() == Some(2) {
            std::thread::sleep(Duration::from_secs(1));
            break status(&st);
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the two jobs did not finish: {s}\n{}",
            st.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let air = &last["on_air"];
    assert_eq!(air["skipped_frames"], 0, "{last}");
    assert_eq!(
        air["late_frames"], 0,
        "the playout aired silence while ingest ran: {last}"
    );
    assert_eq!(air["failed_items"], 0, "{last}");
}
