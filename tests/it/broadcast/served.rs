//! `/stream` through the real server loop (`http::serve_with`), where listeners are served
//! without hyper (issue 18): the same answer as through the router, a close-delimited body,
//! ICY blocks where asked, the listener limit, and every other request on the port still
//! served by hyper from its first byte.

use std::net::SocketAddr;
use std::time::Duration;

use antenne::config::Settings;
use antenne::daemon::AppState;
use antenne::http::conn::Limits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use crate::support;

struct Served {
    addr: SocketAddr,
    state: AppState,
    stop: CancellationToken,
    _dir: tempfile::TempDir,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// A station with `max_listeners`, served on loopback, its hub fed synthetic frames.
async fn served(max_listeners: usize) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let mut settings: Settings = support::settings(dir.path());
    settings.process.max_listeners = max_listeners;
    let state = AppState::open(settings).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    let signal = stop.clone();
    tokio::spawn(antenne::http::serve_with(
        listener,
        state.http(),
        async move { signal.cancelled().await },
        Limits::default(),
    ));
    let hub = state.hub().clone();
    hub.set_title("Le marché");
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
    Served {
        addr,
        state,
        stop,
        _dir: dir,
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Sends `request` and reads until the head and `body` bytes of body arrived (or the end);
/// the head and the body.
async fn exchange(s: &mut TcpStream, request: &str, body: usize) -> (String, Vec<u8>) {
    s.write_all(request.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        if let Some(end) = find(&got, b"\r\n\r\n")
            && got.len() >= end + 4 + body
        {
            let head = String::from_utf8_lossy(&got[..end]).into_owned();
            return (head, got[end + 4..].to_vec());
        }
        let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
            .await
            .expect("bytes in time")
            .unwrap();
        if n == 0 {
            let end = find(&got, b"\r\n\r\n").expect("a whole head");
            let head = String::from_utf8_lossy(&got[..end]).into_owned();
            return (head, got[end + 4..].to_vec());
        }
        got.extend_from_slice(&buf[..n]);
    }
}

// issue 18
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue18_listeners_get_the_routers_answer_without_hyper() {
    let srv = served(10).await;
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    let request =
        "GET /stream.mp3?player=web HTTP/1.1\r\nHost: radio.test\r\nIcy-MetaData: 1\r\n\r\n";
    let (head, mut body) = exchange(&mut s, request, 16_000 + 1).await;
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    let lower = head.to_ascii_lowercase();
    for expected in [
        "content-type: audio/mpeg",
        "cache-control: no-cache, no-store",
        "icy-metaint: 16000",
        "icy-br: 128",
        "icy-name: ",
        "x-frame-options: deny",
        "content-security-policy: frame-ancestors 'none'",
        "connection: close",
        "date: ",
    ] {
        assert!(lower.contains(expected), "{expected} missing from\n{head}");
    }
    // Close-delimited, not chunked: the body is the stream itself, from a frame header.
    assert!(!lower.contains("transfer-encoding"), "{head}");
    assert!(
        body[0] == 0xFF && body[1] & 0xE0 == 0xE0,
        "{:x?}",
        &body[..4]
    );
    // The title's ICY block right after METAINT audio bytes.
    let len = usize::from(body[16_000]) * 16;
    let mut more = vec![0u8; (16_001 + len).saturating_sub(body.len())];
    s.read_exact(&mut more).await.unwrap();
    body.extend_from_slice(&more);
    let text = String::from_utf8_lossy(&body[16_001..16_001 + len]).into_owned();
    assert!(text.starts_with("StreamTitle='Le marché';"), "{text:?}");
    assert_eq!(srv.state.hub().listeners(), 1);
    drop(s);

    // An HTTP/1.0 player is answered in its version.
    let mut old = TcpStream::connect(srv.addr).await.unwrap();
    let (head, _) = exchange(&mut old, "GET /stream HTTP/1.0\r\n\r\n", 4).await;
    assert!(head.starts_with("HTTP/1.0 200 OK\r\n"), "{head}");
    assert!(!head.to_ascii_lowercase().contains("icy-metaint"), "{head}");
}

// issue 18
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue18_every_other_request_is_hyper_s_from_its_first_byte() {
    let srv = served(1).await;
    // A kept-alive connection whose first request only looked like a stream's.
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    let (head, body) = exchange(
        &mut s,
        "GET /streams HTTP/1.1\r\nHost: radio.test\r\n\r\n",
        0,
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(str::to_owned)
        })
        .and_then(|v| v.trim().parse().ok())
        .unwrap();
    let mut rest = vec![0u8; len.saturating_sub(body.len())];
    s.read_exact(&mut rest).await.unwrap();
    let (head, body) = exchange(
        &mut s,
        "GET /healthz HTTP/1.1\r\nHost: radio.test\r\n\r\n",
        3,
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(&body[..3], b"ok\n");
    // HEAD stays hyper's, and opens no stream.
    let mut h = TcpStream::connect(srv.addr).await.unwrap();
    let (head, _) = exchange(
        &mut h,
        "HEAD /stream HTTP/1.1\r\nHost: radio.test\r\nConnection: close\r\n\r\n",
        0,
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(srv.state.hub().listeners(), 0);

    // The limit: one listener in, the next answered 503.
    let mut first = TcpStream::connect(srv.addr).await.unwrap();
    let (head, _) = exchange(&mut first, "GET /stream HTTP/1.1\r\nHost: t\r\n\r\n", 1).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let mut second = TcpStream::connect(srv.addr).await.unwrap();
    let (head, body) = exchange(&mut second, "GET /stream HTTP/1.1\r\nHost: t\r\n\r\n", 0).await;
    assert!(head.starts_with("HTTP/1.1 503"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("retry-after: 30"),
        "{head}"
    );
    let mut rest = Vec::new();
    second.read_to_end(&mut rest).await.unwrap();
    let text = String::from_utf8_lossy(&[body, rest].concat()).into_owned();
    assert!(text.contains("listener limit reached (1)"), "{text}");
    // A listener gone frees its place.
    drop(first);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while srv.state.hub().listeners() > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the place was not freed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A listener served without hyper is one audience session like any other (issues 16 and 18):
/// when it leaves, its session reaches the log with its output and its player's family, read
/// from the `User-Agent` (which is not kept).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_served_without_hyper_is_an_audience_session_with_its_player() {
    use antenne::broadcast::{Hub, HubConfig, Mount, SessionLog, StationInfo};
    use antenne::catalog::{ClientFamily, StreamKind};
    use antenne::http::stream::{FirstRequest, Taken, take_listener};

    let stop = CancellationToken::new();
    let hub = Hub::new(HubConfig::default(), stop.clone());
    let (log, mut sessions) = SessionLog::new(jiff::Timestamp::now());
    hub.record_sessions(log, StreamKind::Mp3);
    let info = StationInfo {
        name: "Au fil des quartiers".into(),
        description: String::new(),
        genre: "Community".into(),
        url: "http://radio.test/".into(),
        bitrate_kbps: 128,
        sample_rate: 44_100,
    };
    let mounts = vec![Mount::mp3(hub.clone(), info)];
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    let serving = tokio::spawn(async move {
        let (conn, _) = socket.accept().await.unwrap();
        let limits = FirstRequest {
            header_read: Duration::from_secs(5),
            max_header_bytes: 16 * 1024,
            write_stall: Duration::from_secs(5),
        };
        matches!(
            take_listener(conn, &mounts, &limits, || ()).await,
            Taken::Done
        )
    });
    let mut s = TcpStream::connect(addr).await.unwrap();
    // The programme, a frame every 26 ms.
    let feeding = hub.clone();
    let fed = stop.clone();
    tokio::spawn(async move {
        let frames = support::mp3::synth_frames(40);
        let mut tick = tokio::time::interval(Duration::from_millis(26));
        for frame in frames.iter().cycle() {
            tokio::select! {
                () = fed.cancelled() => return,
                _ = tick.tick() => feeding.push(frame.clone()),
            }
        }
    });
    let request =
        "GET /stream HTTP/1.1\r\nHost: radio.test\r\nUser-Agent: VLC/3.0.20 LibVLC/3.0.20\r\n\r\n";
    let (head, _) = exchange(&mut s, request, 1).await;
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert_eq!(hub.listeners(), 1);
    drop(s);
    // The next chunk finds the socket closed; the listener leaves.
    let session = tokio::time::timeout(Duration::from_secs(10), sessions.recv())
        .await
        .expect("the session ends once the listener is gone")
        .expect("a session");
    assert!(serving.await.unwrap(), "the connection was a listener's");
    assert_eq!(
        (session.output, session.client),
        (StreamKind::Mp3, ClientFamily::Vlc)
    );
    assert!(session.end >= session.start);
    stop.cancel();
}

/// A listener served on its own (`take_listener`, as the server loop does) from `hub`; the
/// client's socket.
async fn take_one(
    hub: &antenne::broadcast::Hub,
    request: &str,
) -> (TcpStream, tokio::task::JoinHandle<bool>) {
    use antenne::broadcast::{Mount, StationInfo};
    use antenne::http::stream::{FirstRequest, Taken, take_listener};

    let info = StationInfo {
        name: "Antenne".into(),
        description: String::new(),
        genre: String::new(),
        url: "http://radio.test/".into(),
        bitrate_kbps: 128,
        sample_rate: 44_100,
    };
    let mounts = vec![Mount::mp3(hub.clone(), info)];
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    let serving = tokio::spawn(async move {
        let (conn, _) = socket.accept().await.unwrap();
        let limits = FirstRequest {
            header_read: Duration::from_secs(5),
            max_header_bytes: 16 * 1024,
            write_stall: Duration::from_secs(5),
        };
        matches!(
            take_listener(conn, &mounts, &limits, || ()).await,
            Taken::Done
        )
    });
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    (s, serving)
}

/// Issue 18: a listener that reads late gets what was published meanwhile in few writes, every
/// audio byte in order with its ICY blocks where they belong; and it ends, its socket closed,
/// when the hub shuts down (the listener's task waits for that without a lock per chunk).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue18_a_late_reader_gets_every_byte_with_its_blocks_and_shutdown_ends_it() {
    use antenne::broadcast::icy::{self, METAINT};
    use antenne::broadcast::{Hub, HubConfig};

    let stop = CancellationToken::new();
    let config = HubConfig {
        burst: Duration::ZERO,
        chunk: Duration::ZERO,
        ..HubConfig::default()
    };
    let hub = Hub::new(config, stop.clone());
    hub.set_title("Première");
    let (mut s, serving) = take_one(
        &hub,
        "GET /stream HTTP/1.1\r\nHost: t\r\nIcy-MetaData: 1\r\n\r\n",
    )
    .await;
    // Once the listener is on the ring, frames published one by one while the client does
    // not read: the listener finds several chunks at once.
    while hub.listeners() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let frames = support::mp3::synth_frames(200);
    for (i, frame) in frames.iter().enumerate() {
        hub.push(frame.clone());
        if i % 40 == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let audio = support::mp3::concat(&frames);
    let (mut got, mut reader, mut in_body) = (Vec::new(), icy::Reader::new(), false);
    let mut buf = [0u8; 4096];
    while reader.audio.len() < audio.len() {
        let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
            .await
            .expect("bytes in time")
            .unwrap();
        assert!(n > 0, "the stream ended early");
        if in_body {
            reader.push(&buf[..n]);
        } else {
            got.extend_from_slice(&buf[..n]);
            if let Some(end) = find(&got, b"\r\n\r\n") {
                in_body = true;
                reader.push(&got[end + 4..]);
            }
        }
    }
    assert!(reader.audio == audio, "every audio byte, in order");
    assert!(audio.len() > 4 * METAINT);
    let titles: Vec<&str> = (reader.blocks.iter())
        .filter_map(|(_, b)| icy::stream_title(b))
        .collect();
    assert_eq!(
        titles,
        ["Première"],
        "the title once, at the first boundary"
    );
    assert_eq!(reader.blocks[0].0, METAINT);

    stop.cancel();
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if s.read(&mut buf).await.unwrap_or(0) == 0 {
                break;
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the socket closes on shutdown");
    assert!(serving.await.unwrap());
    assert_eq!(hub.listeners(), 0);
}

/// Issue 18: memory per listener is mostly its task, whose size is fixed at spawn by the
/// largest state of its future: the whole listener (socket, place on the ring, ICY state, the
/// pieces in flight) stays small. Printed for `BENCHMARKS.md` (`--nocapture`).
#[tokio::test]
async fn issue18_a_listener_s_task_is_small() {
    use antenne::broadcast::{Hub, HubConfig, Mount, StationInfo};
    use antenne::http::stream::{FirstRequest, take_listener};

    let hub = Hub::new(HubConfig::default(), CancellationToken::new());
    let info = StationInfo {
        name: String::new(),
        description: String::new(),
        genre: String::new(),
        url: String::new(),
        bitrate_kbps: 128,
        sample_rate: 44_100,
    };
    let mounts = vec![Mount::mp3(hub, info)];
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(socket.local_addr().unwrap());
    let (conn, _) = tokio::join!(socket.accept(), client);
    let limits = FirstRequest {
        header_read: Duration::from_secs(5),
        max_header_bytes: 16 * 1024,
        write_stall: Duration::from_secs(5),
    };
    let task = take_listener(conn.unwrap().0, &mounts, &limits, || ());
    let size = std::mem::size_of_val(&task);
    println!("take_listener's future: {size} bytes");
    // 872 bytes unoptimised when written (1,768 before the work was stored once and the
    // pieces were four); the hyper connection (several KiB) must never be part of it.
    assert!(size <= 1024, "a listener's future is {size} bytes");
}
