//! The daemon writes every listener's session for the audience figures and counts what it
//! wrote in `/metrics` (issue 16).

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use crate::support::{Station, connect, request};

/// The value of the unlabelled metric `name` in a Prometheus text answer.
fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

// issue 16
#[test]
fn issue16_a_listener_who_leaves_is_a_session_written_and_counted_in_metrics() {
    let st = Station::new();
    let d = st.start();
    d.time_to_audio();
    let metrics = || {
        let a = request(st.port, "GET", "/metrics", "", b"").unwrap();
        String::from_utf8(a.body).unwrap()
    };
    let count = |text: &str| metric(text, "antenne_listener_sessions_total");
    // Waiting for the first audio was a listener too: its session is written within the
    // writer's second (batches, at most one transaction a second).
    let start = Instant::now();
    while count(&metrics()) != Some(1.0) {
        assert!(start.elapsed() < Duration::from_secs(10), "{}", metrics());
        std::thread::sleep(Duration::from_millis(100));
    }
    for _ in 0..2 {
        let mut s = connect(st.port);
        s.write_all(
            b"GET /stream HTTP/1.1\r\nHost: t\r\nUser-Agent: VLC/3.0.20 LibVLC/3.0.20\r\n\r\n",
        )
        .unwrap();
        let mut buf = [0u8; 4096];
        assert!(s.read(&mut buf).unwrap() > 0);
    }
    // Both connections are dropped: the writer commits them within its second.
    let start = Instant::now();
    loop {
        let text = metrics();
        if count(&text) == Some(3.0) {
            assert_eq!(
                metric(&text, "antenne_listener_sessions_lost_total"),
                Some(0.0)
            );
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "sessions not counted:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
