//! Alerts at daemon level (issue 16): a webhook endpoint that is down (nothing listens on its
//! port) gets its retries and its failed deliveries are logged, while the real daemon keeps
//! serving `/stream` at its rate the whole time.

use std::io::Read;
use std::time::{Duration, Instant};

use crate::support::{Station, connect, free_port, request};

#[test]
fn issue16_a_webhook_that_is_down_is_retried_and_logged_while_the_stream_plays() {
    let st = Station::new();
    // A port nobody listens on: every attempt is refused.
    let down = free_port();
    let config = st.dir.path().join("antenne.toml");
    std::fs::write(
        &config,
        format!(
            "[[webhook]]\nurl = \"http://127.0.0.1:{down}/hooks/antenne\"\nsecret = \"secret\"\n"
        ),
    )
    .unwrap();
    let d = st.start_with(|cmd| {
        cmd.arg("--config").arg(&config);
    });
    d.time_to_audio();
    // Alerts to deliver: an unknown token presented to the API (one incident), and each
    // title change of the beds (6 s each) is a now-playing delivery.
    let bad = request(
        st.port,
        "GET",
        "/api/reports/airplay?from=2027-01-01&to=2027-01-02",
        "Authorization: Bearer ant_not_a_token\r\n",
        b"",
    )
    .unwrap();
    assert_eq!(bad.status, 401);
    // Every delivery is tried 5 times over 30 s (2, 4, 8, 16 s apart): listen that long and
    // more, second by second. 128 kbps is 16 kB/s; the first second holds the burst.
    let mut s = connect(st.port);
    use std::io::Write;
    s.write_all(b"GET /stream HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    let start = Instant::now();
    let mut per_second = vec![0usize; 40];
    let mut buf = [0u8; 8192];
    while start.elapsed() < Duration::from_secs(40) {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "the stream closed:\n{}", st.log());
        let i = (start.elapsed().as_secs() as usize).min(39);
        per_second[i] += n;
    }
    // Bytes arrive in every second (the body is sent in ~1 s chunks: count pairs of seconds).
    for (i, pair) in per_second[1..39].chunks(2).enumerate() {
        let got: usize = pair.iter().sum();
        assert!(
            got > 16_000,
            "{got} bytes in seconds {}-{}: {per_second:?}",
            2 * i + 1,
            2 * i + 3
        );
    }
    let status = request(st.port, "GET", "/api/status", "", b"").unwrap();
    assert_eq!(status.status, 200);
    let deliveries = status.json()["alert_deliveries"]
        .as_array()
        .unwrap()
        .clone();
    let failed = |event: &str| {
        deliveries
            .iter()
            .filter(|d| d["event"] == event)
            .inspect(|d| {
                assert_eq!(d["ok"], false, "{d}");
                assert_eq!(d["attempts"], 5, "{d}");
                assert!(
                    d["url"].as_str().unwrap().contains(&down.to_string()),
                    "{d}"
                );
                assert!(d["error"].as_str().unwrap().contains("connect"), "{d}");
            })
            .count()
    };
    assert_eq!(failed("upload_unauthorised"), 1, "{deliveries:#?}");
    assert!(failed("now_playing") >= 1, "{deliveries:#?}");
    assert!(
        deliveries.iter().all(|d| d["ok"] == false),
        "{deliveries:#?}"
    );
    assert!(st.log().contains("webhook not delivered"));
    assert!(!st.log().contains("panicked"));
}
