//! Start-up and idle memory of the real daemon on a full station (issue 18).
//!
//! `cargo bench --bench startup` (release) builds a station in a temporary folder:
//! - a catalog of `EPISODES` (default 1,000) ready episodes over 10 shows, written through the
//!   catalog's own API (rows and rendition files, no render: each rendition is a copy of one
//!   short MP3), plus the same count of originals' rows;
//! - a playlist folder of `TRACKS` (default 500) distinct short MP3s, the schedule's fallback
//!   (so the media library measures all of them in the background after start);
//! - a schedule of 10 shows with a daily 2-hour slot each from 04:00 (`play = "rerun"`).
//!
//! Then it starts `antenne serve` (the release binary) `RUNS` times (default 3) and measures the
//! time from spawn to the first MP3 frame header on `/stream`; the last run stays on air with no
//! listener for `SECS` (default 60) seconds, sampling its RSS (`VmRSS`) every `EVERY` seconds.
//! It prints markdown tables for `BENCHMARKS.md`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use antenne::catalog::{Catalog, Completed, Loudness, NewEpisode};

const SHOWS: usize = 10;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `seconds` of a tone at `freq` Hz, 128 kbps CBR at 44.1 kHz.
fn mp3(freq: f32, seconds: f32) -> Vec<u8> {
    use mp3lame_encoder::{Bitrate, Builder, FlushNoGap, InterleavedPcm, Mode, Quality};
    let mut b = Builder::new().unwrap();
    b.set_num_channels(2).unwrap();
    b.set_sample_rate(44_100).unwrap();
    b.set_brate(Bitrate::Kbps128).unwrap();
    b.set_mode(Mode::JointStereo).unwrap();
    b.set_quality(Quality::Decent).unwrap();
    let mut enc = b.build().unwrap();
    let frames = (seconds * 44_100.0) as usize;
    let pcm: Vec<f32> = (0..frames)
        .flat_map(|i| {
            let s = 0.2 * (freq * i as f32 / 44_100.0 * std::f32::consts::TAU).sin();
            [s, s * 0.8]
        })
        .collect();
    let mut out = Vec::with_capacity(mp3lame_encoder::max_required_buffer_size(frames));
    enc.encode_to_vec(InterleavedPcm(&pcm), &mut out).unwrap();
    enc.flush_to_vec::<FlushNoGap>(&mut out).unwrap();
    out
}

fn schedule() -> String {
    let mut s = String::from(
        "[station]\nname = \"Bench\"\ndescription = \"Start-up bench.\"\n\
         timezone = \"Europe/Paris\"\nlanguage = \"fr\"\n\n\
         [fallback]\nplaylist = \"music\"\nshuffle = true\n\n",
    );
    for i in 0..SHOWS {
        s += &format!(
            "[[show]]\nslug = \"show-{i}\"\ntitle = \"Show {i}\"\ndescription = \"Show {i}.\"\n\
             category = \"Arts\"\n\n[[slot]]\nid = \"slot-{i}\"\nshow = \"show-{i}\"\n\
             days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\", \"sat\", \"sun\"]\n\
             start = \"{:02}:00\"\nduration = \"2h\"\nplay = \"rerun\"\n\n",
            4 + 2 * i
        );
    }
    s
}

fn loud() -> Loudness {
    Loudness {
        integrated_lufs: -16.0,
        loudness_range_lu: 5.0,
        true_peak_dbtp: -1.0,
        sample_peak_dbfs: -1.0,
    }
}

/// `n` ready episodes, spread over the shows, each rendition a copy of `rendition`.
fn catalog(data: &Path, n: usize, rendition: &[u8]) {
    let cat = Catalog::open(data).unwrap();
    std::fs::create_dir_all(data.join("renditions")).unwrap();
    std::fs::create_dir_all(data.join("originals")).unwrap();
    let t: jiff::Timestamp = "2026-11-01T00:00:00Z".parse().unwrap();
    for i in 0..n {
        let id = format!("bench{i:05}");
        let original = format!("originals/{id}.mp3");
        std::fs::write(data.join(&original), rendition).unwrap();
        let day = 1 + i % 28;
        cat.create_episode(
            &NewEpisode {
                id: id.clone(),
                show: format!("show-{}", i % SHOWS),
                title: format!("Épisode {i}"),
                description: "Une émission du banc d'essai.".into(),
                date: Some(format!("2026-{:02}-{day:02}", 1 + i % 11)),
                original_sha256: format!("{i:064x}"),
                original_path: original,
                original_bytes: rendition.len() as u64,
                ..Default::default()
            },
            t,
        )
        .unwrap();
        let job = cat.claim_next_job(t).unwrap().unwrap();
        let rel = format!("renditions/{id}.mp3");
        std::fs::write(data.join(&rel), rendition).unwrap();
        let done = Completed {
            rendition_path: rel,
            rendition_bytes: rendition.len() as u64,
            duration_ms: 5_000,
            before: loud(),
            after: loud(),
            gain_db: 0.0,
        };
        cat.complete_job(job.id, &done, t).unwrap();
    }
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

/// Starts the daemon and returns it with the time to the first MP3 frame on `/stream`.
fn start(dir: &Path, port: u16) -> (Killed, Duration) {
    let p = |x: &str| dir.join(x).to_string_lossy().into_owned();
    let started = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_antenne"))
        .args(["--data-dir", &p("data"), "--media-dir", &p("media")])
        .args(["--schedule", &p("weekly.toml")])
        .args(["--listen", &format!("127.0.0.1:{port}"), "serve"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("daemon.log")).unwrap())
        .spawn()
        .unwrap();
    let daemon = Killed(child);
    let mut s = loop {
        if let Ok(s) = TcpStream::connect(("127.0.0.1", port)) {
            break s;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "no listener");
        std::thread::sleep(Duration::from_millis(2));
    };
    s.write_all(b"GET /stream HTTP/1.1\r\nHost: bench\r\n\r\n")
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let log = || std::fs::read_to_string(dir.join("daemon.log")).unwrap_or_default();
    loop {
        let n = s.read(&mut buf).unwrap_or(0);
        assert!(n > 0, "the stream closed: {}", log());
        got.extend_from_slice(&buf[..n]);
        if let Some(h) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            let body = &got[h + 4..];
            if body.windows(2).any(|w| w[0] == 0xFF && w[1] & 0xE0 == 0xE0) {
                return (daemon, started.elapsed());
            }
        }
    }
}

fn main() {
    let episodes = env_or("EPISODES", 1000) as usize;
    let tracks = env_or("TRACKS", 500) as usize;
    let runs = env_or("RUNS", 3).max(1);
    let secs = env_or("SECS", 60);
    let every = env_or("EVERY", 10).max(1);
    // `STATION=DIR` keeps the station there (built once, reused by later runs).
    let kept = std::env::var_os("STATION").map(std::path::PathBuf::from);
    let temp = tempfile::tempdir().unwrap();
    let dir = kept.as_deref().unwrap_or(temp.path());
    if !dir.join("weekly.toml").exists() {
        let music = dir.join("media/music");
        std::fs::create_dir_all(&music).unwrap();
        let t = Instant::now();
        for i in 0..tracks {
            let bytes = mp3(200.0 + i as f32 * 1.7, 3.0);
            std::fs::write(music.join(format!("track-{i:03}.mp3")), bytes).unwrap();
        }
        catalog(&dir.join("data"), episodes, &mp3(440.0, 5.0));
        std::fs::write(dir.join("weekly.toml"), schedule()).unwrap();
        eprintln!(
            "station built in {:.1} s: {episodes} episodes, {tracks} tracks",
            t.elapsed().as_secs_f64()
        );
    }
    println!("| run | spawn to first MP3 frame on /stream | RSS then |");
    println!("|---|---|---|");
    let mut last = None;
    for run in 1..=runs {
        let port = free_port();
        let (daemon, took) = start(dir, port);
        println!(
            "| {run} | {:.0} ms | {:.1} MiB |",
            took.as_secs_f64() * 1000.0,
            rss_kib(daemon.0.id()) as f64 / 1024.0
        );
        if run == runs {
            last = Some(daemon);
        } else {
            drop(daemon);
            std::thread::sleep(Duration::from_millis(500));
        }
    }
    let daemon = last.unwrap();
    let pid = daemon.0.id();
    println!("\n| on air, no listener | RSS |");
    println!("|---|---|");
    let t0 = Instant::now();
    loop {
        let at = t0.elapsed().as_secs();
        println!("| {at} s | {:.1} MiB |", rss_kib(pid) as f64 / 1024.0);
        if at >= secs {
            break;
        }
        std::thread::sleep(Duration::from_secs(every.min(secs - at)));
    }
    let log = std::fs::read_to_string(dir.join("daemon.log")).unwrap_or_default();
    let warnings: Vec<&str> = log.lines().filter(|l| l.contains("WARN")).take(5).collect();
    if !warnings.is_empty() {
        eprintln!("daemon warnings (first 5):\n{}", warnings.join("\n"));
    }
}
