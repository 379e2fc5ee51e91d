//! Source clients' own conversations with the live input, byte for byte as the interop suite
//! saw them (`tests/interop/check-live-clients.sh` runs the programs themselves).
//!
//! libshout 2.4 (the library behind ices2, and Mixxx's) does not send its credentials first:
//! with TLS in "auto" mode it opens with `OPTIONS *` (asking for an upgrade to TLS), then
//! sends its `SOURCE` without credentials as a challenge, and only on the `401` sends them.
//! Each step is a new connection when the answer closes it.

use std::sync::Arc;
use std::time::Duration;

use antenne::catalog::{Catalog, Grant, hash_secret};
use antenne::clock::ManualClock;
use antenne::input::{LiveConfig, LiveService};
use antenne::playout::{LiveBuffer, LiveInputs};
use antenne::schedule::{NoFacts, Schedule, ScheduleState};
use base64::Engine as _;
use jiff::Timestamp;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use crate::support::mp3::lame_tone;

const SCHEDULE: &str = r#"
[station]
name = "Test"
timezone = "Europe/Paris"
language = "fr"

[[show]]
slug = "debat"
title = "Le débat des Ors"

[fallback]
playlist = "beds"
"#;

const OPS: &str = "ant_test_ops_0123456789abcdef";
const OPS2: &str = "ant_test_ops2_0123456789abcdef";

struct Input {
    _dir: tempfile::TempDir,
    inputs: LiveInputs,
    service: LiveService,
    addr: std::net::SocketAddr,
    shutdown: CancellationToken,
    _schedule: tokio::sync::watch::Sender<ScheduleState>,
}

impl Drop for Input {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A live input on loopback with an operator token (`OPS`): no live slot, so a source is
/// an override, on air at once.
async fn input() -> Input {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(&dir.path().join("data")).unwrap();
    let now: Timestamp = "2026-12-05T10:00:00+01:00".parse().unwrap();
    catalog
        .add_token("ops", &hash_secret(OPS), &Grant::live(&[]), now)
        .unwrap();
    catalog
        .add_token("ops2", &hash_secret(OPS2), &Grant::live(&[]), now)
        .unwrap();
    let schedule = Schedule::parse(SCHEDULE, "test.toml", now, &NoFacts)
        .unwrap()
        .0;
    let (schedule_tx, rx) = tokio::sync::watch::channel(ScheduleState {
        schedule: Arc::new(schedule),
        path: "test.toml".into(),
        loaded_at: now,
        warnings: vec![],
        refused: None,
    });
    let inputs = LiveInputs::new(
        ["live"],
        LiveBuffer {
            capacity_frames: 4 * 44_100,
            prime_frames: 44_100 / 2,
        },
    );
    let shutdown = CancellationToken::new();
    let config = LiveConfig {
        grace: Duration::from_millis(400),
        stall: Duration::from_secs(1),
        head_timeout: Duration::from_secs(2),
        data_dir: dir.path().join("data"),
        ..LiveConfig::default()
    };
    let service = LiveService::new(
        config,
        catalog,
        rx,
        &inputs,
        Arc::new(ManualClock::new(now)),
        Arc::new(|| {}),
        shutdown.clone(),
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(antenne::input::serve(listener, service.clone()));
    Input {
        _dir: dir,
        inputs,
        service,
        addr,
        shutdown,
        _schedule: schedule_tx,
    }
}

/// Sends `request` on a new connection; returns the connection and the whole answer when it
/// is closed (or its head alone when the connection stays open for audio).
async fn ask(addr: std::net::SocketAddr, request: &str) -> (TcpStream, String) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    let read = async {
        loop {
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
            if buf.starts_with(b"HTTP/1.0 200 OK\r\n") && buf.ends_with(b"\r\n\r\n") {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .unwrap();
    (s, String::from_utf8_lossy(&buf).into_owned())
}

// issue 14: ices2 (libshout 2.4.6) failed with "Login failed" before the first byte.
#[tokio::test]
async fn libshout_asks_options_then_challenges_then_streams() {
    let live = input().await;
    // 1. OPTIONS *, offering TLS: any 2xx without `Upgrade` keeps libshout in plain text.
    let (_, answer) = ask(
        live.addr,
        "OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: IceS 2.0.3\r\n\
         Connection: Upgrade\r\nUpgrade: TLS/1.0, HTTP/1.1\r\n\r\n",
    )
    .await;
    assert!(
        answer.starts_with("HTTP/1.0 204 No Content\r\n"),
        "{answer}"
    );
    assert!(answer.contains("Connection: close\r\n"), "{answer}");
    assert!(!answer.to_ascii_lowercase().contains("upgrade"), "{answer}");
    // 2. The challenge: SOURCE without credentials.
    let started = std::time::Instant::now();
    let head = "SOURCE /live HTTP/1.0\r\nHost: 127.0.0.1:8080\r\nUser-Agent: IceS 2.0.3\r\n\
                Content-Type: application/ogg\r\nice-public: 0\r\nice-name: ices2 test\r\n";
    let (_, answer) = ask(
        live.addr,
        &format!("{head}Content-Length: 0\r\nConnection: Keep-Alive\r\n\r\n"),
    )
    .await;
    assert!(
        answer.starts_with("HTTP/1.0 401 Unauthorized\r\n"),
        "{answer}"
    );
    // 3. The same with credentials: taken at once, the challenge counted as no failure.
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("source:{OPS}"));
    let (mut s, answer) = ask(
        live.addr,
        &format!(
            "SOURCE /live HTTP/1.0\r\nAuthorization: Basic {auth}\r\n{}\r\n",
            &head["SOURCE /live HTTP/1.0\r\n".len()..]
        ),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.0 200 OK\r\n"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_millis(250),
        "the challenge slowed the source down: {:?}",
        started.elapsed()
    );
    assert_eq!(live.service.status().unauthorized, 0);
    assert!(live.inputs.is_connected("live"));
    for chunk in lame_tone(1.0).chunks(4096) {
        s.write_all(chunk).await.unwrap();
    }
    let input = live.inputs.get("live").unwrap().clone();
    for _ in 0..400 {
        if input.buffered_frames() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(
        input.buffered_frames() > 0,
        "the source's audio never arrived"
    );
}

// issue 14
#[tokio::test]
async fn wrong_credentials_after_a_challenge_are_still_counted() {
    let live = input().await;
    let (_, answer) = ask(live.addr, "SOURCE /live HTTP/1.0\r\n\r\n").await;
    assert!(
        answer.starts_with("HTTP/1.0 401 Unauthorized\r\n"),
        "{answer}"
    );
    let auth = base64::engine::general_purpose::STANDARD.encode("source:ant_wrong");
    let (_, answer) = ask(
        live.addr,
        &format!("SOURCE /live HTTP/1.0\r\nAuthorization: Basic {auth}\r\n\r\n"),
    )
    .await;
    assert!(
        answer.starts_with("HTTP/1.0 401 Unauthorized\r\n"),
        "{answer}"
    );
    // The same bare answer either way; only the guess is counted.
    assert!(answer.ends_with("\r\n\r\nUnauthorized\n"), "{answer}");
    assert_eq!(live.service.status().unauthorized, 1);
}

/// A source as ffmpeg and Liquidsoap send one: `SOURCE` with credentials, then audio.
async fn stream_as(live: &Input, password: &str) -> TcpStream {
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("source:{password}"));
    let (mut s, answer) = ask(
        live.addr,
        &format!(
            "SOURCE /live HTTP/1.0\r\nAuthorization: Basic {auth}\r\n\
             Content-Type: audio/mpeg\r\n\r\n"
        ),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.0 200 OK\r\n"), "{answer}");
    s.write_all(&lame_tone(0.5)).await.unwrap();
    s
}

// issue 14: in the interop suite, Liquidsoap's Ogg override was cut to a 1 s episode.
#[tokio::test]
async fn a_source_that_replaces_one_in_its_grace_outlives_the_old_grace() {
    let live = input().await;
    // One operator's override ends; within its grace (400 ms) another operator takes the air.
    let first = stream_as(&live, OPS).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(first);
    for _ in 0..100 {
        if live
            .service
            .status()
            .connected
            .is_some_and(|c| !c.streaming)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut second = stream_as(&live, OPS2).await;
    // Past the first one's grace, the second still holds the input (and so its recording is
    // not taken for a finished show's).
    tokio::time::sleep(Duration::from_millis(900)).await;
    second.write_all(&lame_tone(0.2)).await.unwrap();
    let connected = live
        .service
        .status()
        .connected
        .expect("the second source was ended by the first's grace");
    assert_eq!(connected.token, "ops2");
    assert!(connected.streaming);
}
