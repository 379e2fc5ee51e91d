//! Alerts (issue 16): a webhook endpoint started by the test verifies each POST's signature
//! (recomputed here from the HMAC definition, not with the daemon's code); each incident is
//! one alert and one "resolved"; an endpoint that is down gets its bounded retries while
//! senders never wait.

mod watcher;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use antenne::alerts::task::run;
use antenne::alerts::{Alerts, AlertsConfig, DeliveryLog, Endpoint, Event, Retry};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

const SECRET: &str = "le secret de la station";

/// HMAC-SHA256 by its definition (RFC 2104): H((K ^ opad) || H((K ^ ipad) || m)).
fn hmac_sha256(key: &[u8], message: &[u8]) -> String {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |b: u8| k.iter().map(|x| x ^ b).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    let outer = Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize();
    hex::encode(outer)
}

/// One received POST: its headers (lower-case names) and body.
#[derive(Debug, Clone)]
struct Received {
    headers: Vec<(String, String)>,
    body: String,
    at: std::time::Instant,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("JSON body")
    }
}

/// A minimal HTTP/1.1 endpoint that records every request and answers 204.
async fn endpoint() -> (String, Arc<Mutex<Vec<Received>>>) {
    slow_endpoint(Duration::ZERO).await
}

/// [`endpoint`], answering each request `delay` after it arrived.
async fn slow_endpoint(delay: Duration) -> (String, Arc<Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks/antenne", listener.local_addr().unwrap());
    let got = Arc::new(Mutex::new(Vec::new()));
    let seen = got.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let (head_end, length) = loop {
                    let n = sock.read(&mut chunk).await.unwrap();
                    assert!(n > 0, "connection closed mid-request");
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..i]).to_lowercase();
                        let length = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .map(|v| v.trim().parse::<usize>().unwrap())
                            .unwrap_or(0);
                        break (i + 4, length);
                    }
                };
                while buf.len() < head_end + length {
                    let n = sock.read(&mut chunk).await.unwrap();
                    buf.extend_from_slice(&chunk[..n]);
                }
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let headers = head
                    .lines()
                    .skip(1)
                    .filter_map(|l| l.split_once(':'))
                    .map(|(n, v)| (n.trim().to_lowercase(), v.trim().to_string()))
                    .collect();
                let body = String::from_utf8(buf[head_end..head_end + length].to_vec()).unwrap();
                let at = std::time::Instant::now();
                seen.lock().unwrap().push(Received { headers, body, at });
                tokio::time::sleep(delay).await;
                sock.write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")
                    .await
                    .unwrap();
            });
        }
    });
    (url, got)
}

fn config(url: &str, events: &[&str], retry: Retry) -> AlertsConfig {
    AlertsConfig {
        station: "http://radio.example".into(),
        webhooks: vec![Endpoint {
            url: url.parse().unwrap(),
            secret: SECRET.into(),
            events: events.iter().map(|e| e.to_string()).collect(),
        }],
        mail: None,
        retry,
        quiet: Duration::from_secs(600),
    }
}

const FAST: Retry = Retry {
    attempts: 3,
    first_backoff: Duration::from_millis(20),
    timeout: Duration::from_secs(2),
};

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn each_incident_fires_once_and_resolves_once_with_a_valid_signature() {
    let (url, got) = endpoint().await;
    let (alerts, rx) = Alerts::channel();
    let (log, cancel) = (DeliveryLog::default(), CancellationToken::new());
    let task = tokio::spawn(run(
        config(&url, &[], FAST),
        rx,
        log.clone(),
        cancel.clone(),
    ));

    // Dead air seen by the watcher on three ticks, then cleared on two.
    for _ in 0..3 {
        alerts.raise(Event::DeadAir);
    }
    alerts.clear("dead_air");
    alerts.clear("dead_air");
    // The same unknown name twice: one incident; another name: another.
    let bob = Event::UploadUnauthorised { name: "bob".into() };
    alerts.raise(bob.clone());
    alerts.raise(bob);
    alerts.raise(Event::UploadUnauthorised { name: "eve".into() });
    wait_for("four deliveries", || log.snapshot().len() == 4).await;
    // Nothing more arrives.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 4, "{got:#?}");

    for r in &got {
        let ts = r.header("x-antenne-timestamp").expect("timestamp header");
        let expected = hmac_sha256(SECRET.as_bytes(), format!("{ts}.{}", r.body).as_bytes());
        assert_eq!(
            r.header("x-antenne-signature"),
            Some(format!("sha256={expected}").as_str())
        );
        let age = jiff::Timestamp::now().as_second() - ts.parse::<i64>().unwrap();
        assert!((0..60).contains(&age), "timestamp {ts} is {age} s old");
        assert_eq!(r.header("content-type"), Some("application/json"));
    }
    // Deliveries run side by side: compare as a set.
    let mut seen: Vec<(String, String, String)> = got
        .iter()
        .map(|r| {
            let j = r.json();
            (
                j["incident"].as_str().unwrap().to_string(),
                j["state"].as_str().unwrap().to_string(),
                j["text"]["fr"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    seen.sort();
    let states: Vec<(&str, &str)> = seen
        .iter()
        .map(|(i, s, _)| (i.as_str(), s.as_str()))
        .collect();
    assert_eq!(
        states,
        [
            ("dead_air", "firing"),
            ("dead_air", "resolved"),
            ("upload_unauthorised:bob", "firing"),
            ("upload_unauthorised:eve", "firing"),
        ]
    );
    assert!(seen[0].2.starts_with("Blanc d'antenne"), "{}", seen[0].2);
    assert!(seen[1].2.starts_with("Résolu"), "{}", seen[1].2);
    assert!(
        log.snapshot()
            .iter()
            .all(|d| d.ok && d.attempts == 1 && d.status == Some(204))
    );

    cancel.cancel();
    task.await.unwrap();
}

#[tokio::test]
async fn a_webhook_wants_only_its_events_and_gets_title_changes() {
    let (url, got) = endpoint().await;
    let (alerts, rx) = Alerts::channel();
    let (log, cancel) = (DeliveryLog::default(), CancellationToken::new());
    let task = tokio::spawn(run(
        config(&url, &["now_playing"], FAST),
        rx,
        log.clone(),
        cancel.clone(),
    ));
    alerts.raise(Event::DeadAir);
    alerts.send(antenne::alerts::Input::NowPlaying {
        title: "Matinale - Épisode 3".into(),
        kind: "show".into(),
    });
    wait_for("the title change", || log.snapshot().len() == 1).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    let j = got[0].json();
    assert_eq!(
        (j["event"].as_str(), j["title"].as_str()),
        (Some("now_playing"), Some("Matinale - Épisode 3"))
    );
    cancel.cancel();
    task.await.unwrap();
}

#[tokio::test]
async fn an_endpoint_that_is_down_gets_bounded_retries_and_nobody_waits() {
    // A port nobody listens on.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", closed.local_addr().unwrap());
    drop(closed);
    let (alerts, rx) = Alerts::channel();
    let (log, cancel) = (DeliveryLog::default(), CancellationToken::new());
    let task = tokio::spawn(run(
        config(&url, &[], FAST),
        rx,
        log.clone(),
        cancel.clone(),
    ));

    alerts.raise(Event::DeadAir);
    wait_for("the failed delivery of dead air", || {
        !log.snapshot().is_empty()
    })
    .await;
    let d = log.snapshot().remove(0);
    assert_eq!(d.event, "dead_air");
    assert!(!d.ok);
    assert_eq!(d.attempts, 3, "{d:?}");
    assert!(
        d.error.as_deref().unwrap_or("").contains("connect"),
        "{d:?}"
    );

    // Senders never wait, even far beyond the queue: a flood returns at once.
    let started = std::time::Instant::now();
    for i in 0..10_000 {
        alerts.raise(Event::IngestFailed {
            file: format!("{i}.mp3"),
            error: "x".into(),
        });
    }
    assert!(started.elapsed() < Duration::from_secs(2), "senders waited");
    // The delivery log stays bounded.
    wait_for("more deliveries", || log.snapshot().len() >= 50).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(log.snapshot().len(), 50);
    cancel.cancel();
    task.await.unwrap();
}

#[tokio::test]
async fn an_incidents_resolved_leaves_only_after_its_alert() {
    // Dead air raised and cleared on the same tick, to an endpoint slow to answer.
    let (url, got) = slow_endpoint(Duration::from_millis(300)).await;
    let (alerts, rx) = Alerts::channel();
    let (log, cancel) = (DeliveryLog::default(), CancellationToken::new());
    let task = tokio::spawn(run(
        config(&url, &[], FAST),
        rx,
        log.clone(),
        cancel.clone(),
    ));
    alerts.raise(Event::DeadAir);
    alerts.clear("dead_air");
    alerts.raise(Event::UploadUnauthorised { name: "bob".into() });
    wait_for("three deliveries", || log.snapshot().len() == 3).await;
    let got = got.lock().unwrap().clone();
    let state = |r: &Received| {
        let j = r.json();
        format!(
            "{} {}",
            j["incident"].as_str().unwrap(),
            j["state"].as_str().unwrap()
        )
    };
    let firing = got.iter().find(|r| state(r) == "dead_air firing").unwrap();
    let resolved = got
        .iter()
        .find(|r| state(r) == "dead_air resolved")
        .unwrap();
    let other = got
        .iter()
        .find(|r| state(r) == "upload_unauthorised:bob firing")
        .unwrap();
    // The resolved waited for the alert's answer; another incident did not.
    assert!(
        resolved.at >= firing.at + Duration::from_millis(300),
        "{:?}",
        resolved.at - firing.at
    );
    assert!(other.at < firing.at + Duration::from_millis(250));
    cancel.cancel();
    task.await.unwrap();
}
