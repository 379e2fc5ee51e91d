//! The real `antenne serve` on a temporary station, for fault tests (issue 8): start it, kill
//! it with SIGKILL, restart it; a minimal blocking HTTP/1.1 client; generated recordings; and
//! the invariants every restart must satisfy (the catalog opens, nothing ready without a
//! whole rendition, no orphan file).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use antenne::catalog::{Catalog, EpisodeQuery, EpisodeStatus};

/// The show every test uploads to.
pub const SHOW: &str = "atelier";

/// A small valid schedule: one show, fallback beds; `title` lets a test tell versions apart.
pub fn schedule_text(title: &str) -> String {
    format!(
        r#"[station]
name = "Radio test"
description = "Une station de test."
timezone = "Europe/Paris"
language = "fr"

[fallback]
playlist = "beds"
shuffle = false

[[show]]
slug = "{SHOW}"
title = "{title}"
description = "Atelier radio."
category = "Arts"

[[slot]]
id = "atelier"
show = "{SHOW}"
days = ["wed"]
start = "18:00"
duration = "1h"
play = "premiere"
"#
    )
}

/// A station folder: `data/`, `media/beds/` (generated), `weekly.toml`.
pub struct Station {
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub token: String,
    /// Extra `serve` arguments (e.g. `--upload-expiry`).
    pub extra: Vec<String>,
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A stereo 16-bit WAV of `seconds` at 44.1 kHz; `seed` makes it unique (a distinct tone).
pub fn wav_bytes(seed: u32, seconds: f32) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 44_100,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut cur = std::io::Cursor::new(Vec::new());
    {
        let mut w = hound::WavWriter::new(&mut cur, spec).unwrap();
        let f = 200.0 + (seed % 1000) as f32 * 1.37;
        let n = (44_100.0 * seconds) as u32;
        // The seed itself as the first frame: every seed is a distinct recording (sha256).
        w.write_sample(seed as u16 as i16).unwrap();
        w.write_sample((seed >> 16) as u16 as i16).unwrap();
        for i in 1..n {
            let t = i as f32 / 44_100.0;
            let v = (t * f * std::f32::consts::TAU).sin() * 0.3 * 32767.0;
            w.write_sample(v as i16).unwrap();
            w.write_sample((v * 0.8) as i16).unwrap();
        }
        w.finalize().unwrap();
    }
    cur.into_inner()
}

impl Station {
    pub fn new() -> Station {
        let dir = tempfile::tempdir().unwrap();
        let beds = dir.path().join("media/beds");
        std::fs::create_dir_all(&beds).unwrap();
        for i in 0..2 {
            std::fs::write(beds.join(format!("bed-{i}.wav")), wav_bytes(900 + i, 6.0)).unwrap();
        }
        std::fs::write(dir.path().join("weekly.toml"), schedule_text("Atelier")).unwrap();
        let mut st = Station {
            dir,
            port: free_port(),
            token: String::new(),
            extra: Vec::new(),
        };
        let out = Command::new(env!("CARGO_BIN_EXE_antenne"))
            .args(st.common_args())
            .args(["token", "add", "crash"])
            .env_remove("RUST_LOG")
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        st.token = String::from_utf8(out.stdout).unwrap().trim().to_string();
        st
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn media_dir(&self) -> PathBuf {
        self.dir.path().join("media")
    }

    pub fn schedule_path(&self) -> PathBuf {
        self.dir.path().join("weekly.toml")
    }

    fn common_args(&self) -> Vec<String> {
        let p = |x: PathBuf| x.to_string_lossy().into_owned();
        vec![
            "--data-dir".into(),
            p(self.data_dir()),
            "--media-dir".into(),
            p(self.media_dir()),
            "--schedule".into(),
            p(self.schedule_path()),
            "--listen".into(),
            format!("127.0.0.1:{}", self.port),
        ]
    }

    /// `antenne serve`, with `pre` run in the child before exec (resource limits); returns
    /// once it accepts connections.
    pub fn start_with(&self, configure: impl FnOnce(&mut Command)) -> Daemon {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("daemon.log"))
            .unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_antenne"));
        cmd.args(self.common_args())
            .arg("serve")
            .args(&self.extra)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log);
        configure(&mut cmd);
        let started = Instant::now();
        let child = cmd.spawn().unwrap();
        let d = Daemon {
            child,
            port: self.port,
            started,
        };
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "serve did not start:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        d
    }

    pub fn start(&self) -> Daemon {
        self.start_with(|_| {})
    }

    /// The daemon's log (every start appends to it).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("daemon.log")).unwrap_or_default()
    }

    pub fn auth(&self) -> String {
        format!("Authorization: Bearer {}\r\n", self.token)
    }
}

pub struct Daemon {
    pub child: Child,
    pub port: u16,
    pub started: Instant,
}

impl Daemon {
    /// SIGKILL: no shutdown code runs, as in a power cut of the process.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Time from spawn until `/stream` delivered its first MP3 frame header.
    pub fn time_to_audio(&self) -> Duration {
        let mut s = connect(self.port);
        s.write_all(b"GET /stream HTTP/1.1\r\nHost: t\r\n\r\n")
            .unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = s.read(&mut buf).expect("the stream answers");
            assert!(
                n > 0,
                "the stream closed: {:?}",
                String::from_utf8_lossy(&got)
            );
            got.extend_from_slice(&buf[..n]);
            if let Some(h) = find(&got, b"\r\n\r\n") {
                assert!(got.starts_with(b"HTTP/1.1 200"), "{:?}", &got[..h]);
                let body = &got[h + 4..];
                if body.windows(2).any(|w| w[0] == 0xFF && w[1] & 0xE0 == 0xE0) {
                    return self.started.elapsed();
                }
            }
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

pub fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// One request on its own connection (`Connection: close`); `Err` when the connection broke
/// (a killed daemon).
pub fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &str,
    body: &[u8],
) -> std::io::Result<Answer> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: {}\r\n{headers}\r\n",
        body.len()
    )?;
    s.write_all(body)?;
    read_answer(&mut s, method == "HEAD")
}

/// Reads a whole answer (the server closes after it).
pub fn read_answer(s: &mut TcpStream, head_only: bool) -> std::io::Result<Answer> {
    let mut got = Vec::new();
    s.read_to_end(&mut got)?;
    let h = find(&got, b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no complete answer (connection cut)"))?;
    let head = String::from_utf8_lossy(&got[..h]).into_owned();
    let status = head
        .get(9..12)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line: {head}")))?;
    let mut a = Answer {
        status,
        head,
        body: got[h + 4..].to_vec(),
    };
    if !head_only
        && let Some(len) = a
            .header("content-length")
            .and_then(|l| l.parse::<usize>().ok())
    {
        if a.body.len() < len {
            return Err(std::io::Error::other("answer body cut"));
        }
        a.body.truncate(len);
    }
    Ok(a)
}

/// A multipart body for `POST /api/episodes`.
pub fn multipart(title: &str, audio: &[u8]) -> (String, Vec<u8>) {
    let b = "XbOuNdArYx";
    let mut body = Vec::new();
    for (k, v) in [("show", SHOW), ("title", title)] {
        write!(
            body,
            "--{b}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        )
        .unwrap();
    }
    write!(
        body,
        "--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"r.wav\"\r\nContent-Type: audio/wav\r\n\r\n"
    )
    .unwrap();
    body.extend_from_slice(audio);
    write!(body, "\r\n--{b}--\r\n").unwrap();
    (
        format!("Content-Type: multipart/form-data; boundary={b}\r\n"),
        body,
    )
}

/// tus metadata for a new resumable upload.
pub fn tus_metadata(title: &str) -> String {
    let b64 = |s: &str| {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for c in s.as_bytes().chunks(3) {
            let n = c.iter().fold(0u32, |acc, &b| acc << 8 | u32::from(b)) << (8 * (3 - c.len()));
            for i in 0..=c.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            }
            out.push_str(&"=".repeat(3 - c.len()));
        }
        out
    };
    format!("show {},title {}", b64(SHOW), b64(title))
}

/// Every episode, published or not.
pub fn all_episodes(catalog: &Catalog) -> Vec<antenne::catalog::Episode> {
    catalog
        .list_episodes(&EpisodeQuery {
            include_unpublished: true,
            ..Default::default()
        })
        .unwrap()
}

/// An MP3 file walks from its ID3v2 tag to its end in whole MPEG-1 Layer III frames (an
/// optional 128-byte ID3v1 tag at the end). `Err` says where it breaks.
pub fn whole_frames(bytes: &[u8]) -> Result<usize, String> {
    let mut i = 0;
    if bytes.starts_with(b"ID3") && bytes.len() >= 10 {
        let size = bytes[6..10]
            .iter()
            .fold(0usize, |acc, &b| acc << 7 | usize::from(b & 0x7F));
        i = 10 + size;
    }
    let mut frames = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        if rest.len() == 128 && rest.starts_with(b"TAG") {
            return Ok(frames);
        }
        if rest.len() < 4 {
            return Err(format!("{} stray bytes at the end", rest.len()));
        }
        let h = &rest[..4];
        if h[0] != 0xFF || h[1] & 0xFE != 0xFA {
            return Err(format!("no MPEG-1 Layer III frame at byte {i}"));
        }
        const KBPS: [u32; 16] = [
            0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0,
        ];
        const RATES: [u32; 4] = [44_100, 48_000, 32_000, 0];
        let (kbps, rate) = (
            KBPS[usize::from(h[2] >> 4)],
            RATES[usize::from(h[2] >> 2 & 3)],
        );
        if kbps == 0 || rate == 0 {
            return Err(format!("bad frame header at byte {i}"));
        }
        let len = (144_000 * kbps / rate + u32::from(h[2] >> 1 & 1)) as usize;
        if len > rest.len() {
            return Err(format!(
                "the last frame (byte {i}) is cut: {} of {len} bytes",
                rest.len()
            ));
        }
        i += len;
        frames += 1;
    }
    Ok(frames)
}

/// Decodes a file to its end; the number of station-rate frames.
pub fn decode_all(path: &Path) -> Result<u64, String> {
    let mut src = antenne::audio::open_pcm(path, 44_100).map_err(|e| e.to_string())?;
    antenne::audio::count_frames(src.as_mut()).map_err(|e| e.to_string())
}

/// The catalog's invariants, checked with the daemon stopped: it opens, and every ready
/// episode has its whole rendition (size as recorded, whole frames, decodes to its end, not a
/// temp file). Returns the catalog for more checks.
pub fn check_catalog(data_dir: &Path) -> Catalog {
    let catalog = Catalog::open(data_dir).expect("the catalog opens after a crash");
    for e in all_episodes(&catalog) {
        let original = data_dir.join(&e.original_path);
        let len = std::fs::metadata(&original)
            .unwrap_or_else(|err| panic!("episode {}: original {original:?}: {err}", e.id))
            .len();
        assert_eq!(len, e.original_bytes, "episode {}: original size", e.id);
        if e.status != EpisodeStatus::Ready {
            continue;
        }
        let rel = e.rendition_path.clone().expect("ready has a rendition");
        let name = Path::new(&rel).file_name().unwrap().to_string_lossy();
        assert!(
            !name.starts_with('.') && !name.ends_with(".tmp"),
            "episode {}: a temp file as rendition: {rel}",
            e.id
        );
        let bytes = std::fs::read(data_dir.join(&rel))
            .unwrap_or_else(|err| panic!("episode {} is ready without {rel}: {err}", e.id));
        assert_eq!(
            Some(bytes.len() as u64),
            e.rendition_bytes,
            "episode {}: rendition size",
            e.id
        );
        whole_frames(&bytes).unwrap_or_else(|err| panic!("episode {}: {rel}: {err}", e.id));
        let frames = decode_all(&data_dir.join(&rel))
            .unwrap_or_else(|err| panic!("episode {}: {rel} does not decode: {err}", e.id));
        assert!(frames > 0, "episode {}: empty rendition", e.id);
    }
    catalog
}

/// No file under `originals/`, `renditions/`, `meta/` that the catalog does not refer to (a
/// rendition temp of the running daemon `pid` excepted), no staging file in `uploads/`.
pub fn check_no_orphans(data_dir: &Path, catalog: &Catalog, pid: Option<u32>) {
    let referenced = catalog.referenced_files().unwrap();
    for sub in ["originals", "renditions", "meta"] {
        let Ok(entries) = std::fs::read_dir(data_dir.join(sub)) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let rel = format!("{sub}/{name}");
            // A job of the running daemon may be writing (or publishing) its rendition now.
            let ours = pid.is_some_and(|p| name.ends_with(&format!(".{p}.tmp")));
            let publishing = pid.is_some()
                && sub == "renditions"
                && name.strip_suffix(".mp3").is_some_and(|id| {
                    catalog.episode(id).ok().flatten().is_some_and(|e| {
                        matches!(e.status, EpisodeStatus::Queued | EpisodeStatus::Processing)
                    })
                });
            assert!(
                referenced.contains(&rel) || ours || publishing,
                "orphan file left: {rel}"
            );
        }
    }
}

/// Waits until no episode is queued or processing (the daemon is running).
pub fn wait_for_idle_queue(data_dir: &Path, limit: Duration) {
    let start = Instant::now();
    loop {
        let catalog = Catalog::open(data_dir).unwrap();
        let busy = all_episodes(&catalog)
            .into_iter()
            .any(|e| matches!(e.status, EpisodeStatus::Queued | EpisodeStatus::Processing));
        if !busy {
            return;
        }
        assert!(
            start.elapsed() < limit,
            "jobs still queued or processing after {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
