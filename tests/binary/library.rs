//! The daemon measures the media folder in the background and lists it at `/api/library`
//! (issue 15).

use std::time::{Duration, Instant};

use crate::support::{Station, request, wav_bytes};

#[test]
fn issue15_the_media_folder_is_analysed_in_the_background_and_listed() {
    let st = Station::new();
    let d = st.start();
    d.time_to_audio();
    let start = Instant::now();
    let files = loop {
        let a = request(st.port, "GET", "/api/library", "", b"").unwrap();
        let body = a.json();
        let files = body["files"].as_array().cloned().unwrap_or_default();
        if files.len() == 2 {
            assert_eq!(body["target_lufs"], -16.0);
            break files;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the two beds are not analysed: {body}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    for f in &files {
        let lufs = f["integrated_lufs"].as_f64().expect("a measured loudness");
        let gain = f["gain_db"].as_f64().unwrap();
        assert!((gain - (-16.0 - lufs).min(18.0)).abs() < 1e-9, "{f}");
        assert!(f["path"].as_str().unwrap().starts_with("beds/"), "{f}");
        assert_eq!(f["sha256"].as_str().unwrap().len(), 64);
        assert!(f["duration_ms"].as_u64().unwrap() >= 5_900, "{f}");
    }
    // A bed added while on air is analysed at once (the folder is watched; the rescan is 60 s).
    std::fs::write(st.media_dir().join("beds/new.wav"), wav_bytes(7, 2.0)).unwrap();
    let start = Instant::now();
    loop {
        let a = request(st.port, "GET", "/api/library", "", b"").unwrap();
        let body = a.json();
        if body["files"].as_array().is_some_and(|f| f.len() == 3) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the new bed is not analysed: {body}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
