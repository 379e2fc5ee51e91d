//! The Opus output (issue 15) as a listener and an operator meet it: a `/stream.opus`
//! listener gets the current stream's headers and the burst at once, is counted under `opus`
//! in `/api/now` and `/metrics`, and the next one past `max_listeners` is answered 503; the
//! settings `opus_bitrate` and `[[icecast]] stream` refuse what cannot work, naming the key.

use std::io::Cursor;
use std::net::SocketAddr;
use std::time::Duration;

use antenne::audio::PcmSink;
use antenne::broadcast::OpusSink;
use antenne::config::{Overrides, Settings};
use antenne::daemon::AppState;
use antenne::http::conn::Limits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use crate::support::{self, get};

const RATE: u32 = 44_100;

/// `seconds` of a 440 Hz stereo tone from programme frame `at`.
fn tone(at: u64, seconds: f64) -> Vec<f32> {
    let n = (seconds * f64::from(RATE)) as u64;
    (at..at + n)
        .flat_map(|k| {
            let s = (k as f64 * 440.0 * std::f64::consts::TAU / f64::from(RATE)).sin() as f32;
            [s * 0.3, s * 0.3]
        })
        .collect()
}

/// Reads what arrives on `s` until it has been quiet for 500 ms; the head and the body.
async fn read_quiet(s: &mut TcpStream) -> (String, Vec<u8>) {
    let mut got = Vec::new();
    let mut buf = [0u8; 16_384];
    while let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(500), s.read(&mut buf)).await {
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    let end = got
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a whole head");
    (
        String::from_utf8_lossy(&got[..end]).into_owned(),
        got[end + 4..].to_vec(),
    )
}

async fn request(addr: SocketAddr, path: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: radio.test\r\nUser-Agent: VLC/3.0.20\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    s
}

// issue 15
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opus_listener_gets_the_burst_is_counted_and_the_limit_holds() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = support::settings(dir.path());
    settings.process.max_listeners = 1;
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
    let mount = state
        .mounts()
        .iter()
        .find(|m| m.name == "opus")
        .expect("an Opus mount by default")
        .clone();
    assert_eq!(mount.paths[0], "/stream.opus");

    // Five seconds encoded before anyone listens, then nothing more: what a listener gets is
    // the stream's headers and the burst (2 s by default).
    let mut sink = OpusSink::new(mount.hub.clone(), "Test FM", RATE, 48).unwrap();
    sink.title("Le marché");
    for i in 0..50u64 {
        let at = i * u64::from(RATE) / 10;
        sink.write(at, &tone(at, 0.1));
    }
    let mut first = request(addr, "/stream.opus").await;
    let (head, body) = read_quiet(&mut first).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: audio/ogg"),
        "{head}"
    );
    let mut reader = ogg::PacketReader::new(Cursor::new(body.clone()));
    let mut packets = Vec::new();
    while let Some(p) = reader.read_packet().expect("whole Ogg pages") {
        packets.push(p);
    }
    assert!(packets.len() > 2, "{} packets", packets.len());
    assert!(
        packets[0].data.starts_with(b"OpusHead"),
        "the burst opens the stream"
    );
    assert!(packets[1].data.starts_with(b"OpusTags"));
    assert!(
        packets[1]
            .data
            .windows(b"TITLE=Le march".len())
            .any(|w| w == b"TITLE=Le march"),
        "titled"
    );
    // 20 ms per audio packet: about the 2 s burst, far less than the 5 s encoded.
    let audio = (packets.len() - 2) as f64 * 0.02;
    assert!((1.5..=3.0).contains(&audio), "{audio} s of burst");

    // Counted under `opus`, not `mp3`, in /api/now and /metrics.
    assert_eq!(mount.hub.listeners(), 1);
    let (_, now) = get(&state, "/api/now").await;
    let now: serde_json::Value = serde_json::from_str(&now).unwrap();
    assert_eq!(now["listeners_by_output"]["opus"], 1, "{now}");
    assert_eq!(now["listeners_by_output"]["mp3"], 0, "{now}");
    let (_, metrics) = get(&state, "/metrics").await;
    assert!(
        metrics.contains("antenne_output_listeners{output=\"opus\"} 1\n"),
        "{metrics}"
    );
    assert!(metrics.contains("antenne_output_listeners{output=\"mp3\"} 0\n"));

    // Past max_listeners (1): 503, and the listener in is still the only one.
    let mut second = request(addr, "/stream.opus").await;
    let (head, body) = read_quiet(&mut second).await;
    assert!(head.starts_with("HTTP/1.1 503"), "{head}");
    assert!(
        String::from_utf8_lossy(&body).contains("listener limit reached (1)"),
        "{head}"
    );
    assert_eq!(mount.hub.listeners(), 1);
    // The limit is per output: the MP3 stream still takes its own listener.
    let mut mp3 = request(addr, "/stream").await;
    let mut start = [0u8; 12];
    tokio::time::timeout(Duration::from_secs(5), mp3.read_exact(&mut start))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&start, b"HTTP/1.1 200");
    drop((first, mp3));
    stop.cancel();
}

fn resolve(dir: &std::path::Path, text: &str) -> Result<Settings, String> {
    std::fs::write(dir.join("antenne.toml"), text).unwrap();
    Settings::resolve(&Overrides::default(), dir).map_err(|e| e.to_string())
}

// issue 15
#[test]
fn opus_settings_refuse_what_cannot_stream() {
    let dir = tempfile::tempdir().unwrap();
    let s = resolve(dir.path(), "").unwrap();
    assert_eq!(s.station.opus_bitrate_kbps, 48, "on by default, 48 kbps");
    let s = resolve(dir.path(), "opus_bitrate = 96\n").unwrap();
    assert_eq!(s.station.opus_bitrate_kbps, 96);
    let s = resolve(dir.path(), "opus_bitrate = 0\n").unwrap();
    assert_eq!(s.station.opus_bitrate_kbps, 0, "0: no Opus stream");
    for bad in [5, 257, 100_000] {
        let err = resolve(dir.path(), &format!("opus_bitrate = {bad}\n")).unwrap_err();
        assert!(
            err.starts_with("opus_bitrate") && err.contains(&format!("{bad} kbps: use 6 to 256")),
            "{bad}: {err}"
        );
    }
    // Not a number: the file, line and column of the value.
    let err = resolve(dir.path(), "opus_bitrate = \"48k\"\n").unwrap_err();
    assert!(
        err.contains("antenne.toml:1:16: error: invalid type: string \"48k\", expected u32"),
        "{err}"
    );

    let target = |stream: &str| {
        format!(
            "[[icecast]]\nurl = \"http://127.0.0.1:8000/live.opus\"\npassword = \"hackme\"\nstream = \"{stream}\"\n"
        )
    };
    let s = resolve(dir.path(), &target("opus")).unwrap();
    assert_eq!(s.station.icecast[0].stream, "opus");
    let s = resolve(dir.path(), &target("mp3")).unwrap();
    assert_eq!(s.station.icecast[0].stream, "mp3");
    let s = resolve(
        dir.path(),
        "[[icecast]]\nurl = \"http://127.0.0.1:8000/live.mp3\"\npassword = \"hackme\"\n",
    )
    .unwrap();
    assert_eq!(s.station.icecast[0].stream, "mp3", "MP3 by default");
    for (text, why) in [
        (target("ogg"), "\"ogg\": use \"mp3\" or \"opus\""),
        (target("OPUS"), "\"OPUS\": use \"mp3\" or \"opus\""),
        (
            format!("opus_bitrate = 0\n{}", target("opus")),
            "(with opus_bitrate above 0)",
        ),
    ] {
        let err = resolve(dir.path(), &text).unwrap_err();
        assert!(
            err.starts_with("icecast.stream") && err.contains(why),
            "{text}: {err}"
        );
    }
}
