//! Hostile clients against the real server loop (`http::serve_with` on a loopback socket):
//! a thousand slow or idle connections, slowloris headers, stalled bodies, the connection
//! limit and the header size limit. Timeouts are shortened through `Limits`, never slept out.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use antenne::http::conn::{Limits, raise_fd_limit};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use crate::support;

struct Server {
    addr: SocketAddr,
    station: support::TestStation,
    stop: CancellationToken,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// A station served on loopback with `limits`, its hub fed with synthetic frames in real
/// time.
async fn server(limits: Limits) -> Server {
    let station = support::station().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    let signal = stop.clone();
    tokio::spawn(antenne::http::serve_with(
        listener,
        station.state.http(),
        async move { signal.cancelled().await },
        limits,
    ));
    let hub = station.state.hub().clone();
    let frames = support::mp3::synth_frames(380);
    let feeding = stop.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(26));
        for frame in frames.iter().cycle() {
            tokio::select! {
                () = feeding.cancelled() => return,
                _ = tick.tick() => hub.push(frame.clone()),
            }
        }
    });
    Server {
        addr,
        station,
        stop,
    }
}

/// One request on a fresh connection; the status and body (`Connection: close`).
async fn request(addr: SocketAddr, raw: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(raw.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
        .await
        .expect("answer in time")
        .unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    (status_of(&text), text)
}

fn status_of(response: &str) -> u16 {
    response
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: radio.test\r\nConnection: close\r\n\r\n")
}

/// Reads the stream until `n` body bytes arrived; the time to the first body byte.
async fn stream_bytes(addr: SocketAddr, n: usize) -> Duration {
    let started = Instant::now();
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(get("/stream").as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    let mut got = Vec::new();
    let mut first = None;
    while got.len() < n {
        let k = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
            .await
            .expect("stream bytes in time")
            .unwrap();
        assert!(k > 0, "stream ended");
        got.extend_from_slice(&buf[..k]);
        if let Some(end) = find(&got, b"\r\n\r\n") {
            assert!(got.starts_with(b"HTTP/1.1 200"), "{:?}", &got[..end]);
            if got.len() > end + 4 {
                first.get_or_insert_with(|| started.elapsed());
            }
        }
    }
    first.expect("body bytes")
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Waits until the peer closes `s` (EOF or reset); how long it took. Anything it sent first
/// is returned too.
async fn closed_within(s: &mut TcpStream, limit: Duration) -> (Duration, Vec<u8>) {
    let started = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(limit.saturating_sub(started.elapsed()), s.read(&mut buf)).await
        {
            Err(_) => panic!("still open after {limit:?}"),
            Ok(Ok(0)) | Ok(Err(_)) => return (started.elapsed(), got),
            Ok(Ok(k)) => got.extend_from_slice(&buf[..k]),
        }
    }
}

/// Hostile connections a test may open: each costs two descriptors in this process (client
/// and server side), and CI machines may run with `ulimit -n` 1024.
fn hostile_count(wanted: usize) -> usize {
    let nofile = raise_fd_limit().unwrap_or(1024) as usize;
    let n = wanted.min(nofile.saturating_sub(400) / 2);
    println!("RLIMIT_NOFILE {nofile}: {n} hostile connections");
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_slow_idle_and_non_reading_clients_do_not_stop_the_stream_or_the_api() {
    let n = hostile_count(1000);
    let srv = server(Limits {
        header_read: Duration::from_secs(60),
        max_connections: n + 20,
        ..Limits::default()
    })
    .await;
    let mut held = Vec::with_capacity(n);
    for i in 0..n {
        let mut s = TcpStream::connect(srv.addr).await.unwrap();
        match i % 3 {
            // Slowloris: a request that never finishes its headers.
            0 => s
                .write_all(b"GET /api/status HTTP/1.1\r\nHost: radio.test\r\nX-a: ")
                .await
                .unwrap(),
            // A listener that never reads.
            1 => s.write_all(get("/stream").as_bytes()).await.unwrap(),
            // Connected, silent.
            _ => {}
        }
        held.push(s);
    }
    // Every non-reader is admitted as a listener before the fresh client comes.
    let hub = srv.station.state.hub().clone();
    let readers = (0..n).filter(|i| i % 3 == 1).count();
    let deadline = Instant::now() + Duration::from_secs(10);
    while hub.listeners() < readers && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(hub.listeners(), readers);

    let started = Instant::now();
    let (code, body) = request(srv.addr, &get("/api/status")).await;
    let api = started.elapsed();
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("\"version\""), "{body}");
    let first_byte = stream_bytes(srv.addr, 32 * 1024).await;
    println!(
        "{n} hostile connections held ({} listeners); fresh client: /api/status in {api:?}, \
         first stream byte in {first_byte:?}",
        hub.listeners()
    );
    assert!(api < Duration::from_secs(5) && first_byte < Duration::from_secs(5));
    drop(held);
}

#[tokio::test]
async fn slowloris_idle_and_kept_alive_connections_are_closed_after_the_header_timeout() {
    let header_read = Duration::from_millis(400);
    let srv = server(Limits {
        header_read,
        ..Limits::default()
    })
    .await;
    // Headers one byte every 100 ms, never finished.
    let mut slow = TcpStream::connect(srv.addr).await.unwrap();
    let dripping = tokio::spawn({
        let started = Instant::now();
        async move {
            for b in
                b"GET /api/status HTTP/1.1\r\nHost: radio.test\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaa"
            {
                tokio::time::sleep(Duration::from_millis(100)).await;
                if slow.write_all(&[*b]).await.is_err() {
                    break;
                }
            }
            let (after, got) = closed_within(&mut slow, Duration::from_secs(5)).await;
            (started.elapsed().max(after), got)
        }
    });
    // Connected and silent.
    let mut idle = TcpStream::connect(srv.addr).await.unwrap();
    let (t, _) = closed_within(&mut idle, Duration::from_secs(5)).await;
    assert!(t >= header_read - Duration::from_millis(50), "{t:?}");
    // A kept-alive connection idle after its answer.
    let mut kept = TcpStream::connect(srv.addr).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: radio.test\r\n\r\n")
        .await
        .unwrap();
    let (t, got) = closed_within(&mut kept, Duration::from_secs(5)).await;
    assert!(got.starts_with(b"HTTP/1.1 200"), "{got:?}");
    assert!(t >= header_read - Duration::from_millis(50), "{t:?}");
    let (t, got) = dripping.await.unwrap();
    println!("slowloris closed after {t:?}");
    assert!(t < Duration::from_secs(3), "{t:?}");
    // Hyper answers a header timeout by closing; never with the request served.
    assert!(!got.starts_with(b"HTTP/1.1 200"), "{got:?}");
}

#[tokio::test]
async fn the_connection_limit_refuses_the_next_connection_and_frees_places() {
    let srv = server(Limits {
        max_connections: 20,
        header_read: Duration::from_secs(60),
        ..Limits::default()
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..20 {
        held.push(TcpStream::connect(srv.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut over = TcpStream::connect(srv.addr).await.unwrap();
    let _ = over.write_all(get("/healthz").as_bytes()).await;
    let (t, got) = closed_within(&mut over, Duration::from_secs(2)).await;
    let text = String::from_utf8_lossy(&got);
    println!("over the limit: closed in {t:?} with {text:?}");
    assert!(got.is_empty() || text.starts_with("HTTP/1.1 503"), "{text}");
    // A place freed is a place available.
    held.truncate(10);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (code, _) = request(srv.addr, &get("/healthz")).await;
    assert_eq!(code, 200);
}

#[tokio::test]
async fn oversized_headers_get_431() {
    let srv = server(Limits::default()).await;
    let big = "a".repeat(100 * 1024);
    let (code, _) = request(
        srv.addr,
        &format!("GET /healthz HTTP/1.1\r\nHost: radio.test\r\nX-Big: {big}\r\n\r\n"),
    )
    .await;
    assert_eq!(code, 431);
}

#[tokio::test]
async fn a_stalled_or_dragging_small_body_is_cut_off() {
    let srv = server(Limits {
        body_idle: Duration::from_millis(300),
        body_total: Duration::from_millis(600),
        ..Limits::default()
    })
    .await;
    let token = support::upload::token(&srv.station.state, "ops", &[]);
    let head = format!(
        "PATCH /api/episodes/nope HTTP/1.1\r\nHost: radio.test\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    );
    // Stalled after a few bytes.
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(b"{\"title\":").await.unwrap();
    let (t, got) = closed_within(&mut s, Duration::from_secs(3)).await;
    println!("stalled body: {t:?} {:?}", String::from_utf8_lossy(&got));
    assert!(t >= Duration::from_millis(250), "{t:?}");
    assert!(!got.starts_with(b"HTTP/1.1 2"), "{got:?}");
    // A byte every 100 ms: never idle, but past the total limit.
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let (reader, mut writer) = s.into_split();
    let drip = tokio::spawn(async move {
        for _ in 0..30 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if writer.write_all(b" ").await.is_err() {
                break;
            }
        }
    });
    let mut s = reader;
    let mut got = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(3), s.read_to_end(&mut got)).await;
    let t = started.elapsed();
    drip.abort();
    assert!(t < Duration::from_secs(2), "{t:?}");
    assert!(!got.starts_with(b"HTTP/1.1 2"), "{got:?}");
}

#[tokio::test]
async fn an_upload_may_be_slow_but_not_silent() {
    let srv = server(Limits {
        body_idle: Duration::from_millis(500),
        body_total: Duration::from_millis(300),
        ..Limits::default()
    })
    .await;
    let token = support::upload::token(&srv.station.state, "ops", &[]);
    let show = srv.station.state.http().on_air.show_slugs()[0].clone();
    let boundary = "XyZ";
    let head_part = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"show\"\r\n\r\n{show}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nSlow\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.mp3\"\r\n\
         Content-Type: audio/mpeg\r\n\r\n"
    );
    let tail = format!("\r\n--{boundary}--\r\n");
    let send = |stall: bool| {
        let head_part = head_part.clone();
        let tail = tail.clone();
        let token = token.clone();
        let addr = srv.addr;
        async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(
                format!(
                    "POST /api/episodes HTTP/1.1\r\nHost: radio.test\r\nAuthorization: Bearer {token}\r\n\
                     Content-Type: multipart/form-data; boundary={boundary}\r\n\
                     Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                )
                .as_bytes(),
            )
            .await
            .unwrap();
            let chunk = |data: &[u8]| {
                let mut c = format!("{:x}\r\n", data.len()).into_bytes();
                c.extend_from_slice(data);
                c.extend_from_slice(b"\r\n");
                c
            };
            s.write_all(&chunk(head_part.as_bytes())).await.unwrap();
            // Ten pieces 100 ms apart: 1 s in all, over `body_total`, never idle 500 ms.
            for _ in 0..10 {
                tokio::time::sleep(Duration::from_millis(100)).await;
                s.write_all(&chunk(&[0x55; 1000])).await.unwrap();
            }
            if !stall {
                s.write_all(&chunk(tail.as_bytes())).await.unwrap();
                s.write_all(b"0\r\n\r\n").await.unwrap();
            }
            let (t, got) = closed_within(&mut s, Duration::from_secs(5)).await;
            (t, String::from_utf8_lossy(&got).into_owned())
        }
    };
    // Not audio, so refused: but only once the whole body was read.
    let (_, answer) = send(false).await;
    assert_eq!(status_of(&answer), 422, "{answer}");
    assert!(answer.contains("file"), "{answer}");
    let (t, answer) = send(true).await;
    println!("silent upload cut off after {t:?}: {answer:?}");
    assert!(t >= Duration::from_millis(400), "{t:?}");
    assert_eq!(status_of(&answer), 400, "{answer}");
}
