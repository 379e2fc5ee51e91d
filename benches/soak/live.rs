//! Part 2 of the soak: the real `antenne serve` on a temporary data folder with the demo
//! schedule and media, for N real minutes, with listeners joining and leaving (some stalling
//! on purpose), a schedule edit every few minutes and uploads in between.
//!
//! Every listener that keeps reading checks its stream: MP3 frame sync continuity (each frame
//! header exactly where the previous frame ends), no pause longer than 1.5 s between reads,
//! and audio received keeping up with the wall clock. Stallers read a little, stop reading
//! (small receive buffer), and are expected to be dropped by the server.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use antenne::broadcast::FrameHeader;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

pub struct LiveConfig {
    pub bin: PathBuf,
    pub repo: PathBuf,
    pub duration: Duration,
    /// The same load before the measured `duration` starts: the start RSS is taken once every
    /// path (ingest workers, reloads, stallers being dropped, code pages) has run.
    pub warmup: Duration,
    /// Listeners reading at any time.
    pub readers: usize,
}

#[derive(Debug, Default)]
pub struct LiveReport {
    pub rss_launch_kib: u64,
    pub rss_start_kib: u64,
    pub rss_end_kib: u64,
    pub rss_max_kib: u64,
    /// Heap and other anonymous memory (`RssAnon`) at start and end: what a leak would grow.
    pub anon_start_kib: u64,
    pub anon_end_kib: u64,
    pub sessions: u64,
    pub readers_dropped: u64,
    pub stallers: u64,
    pub stallers_dropped: u64,
    pub discontinuities: u64,
    pub read_gaps: u64,
    pub behind_clock: u64,
    pub audio_seconds: f64,
    pub reloads_made: u64,
    pub reloads_seen: u64,
    pub uploads_accepted: u64,
    pub uploads_ready: u64,
    pub uploads_failed: u64,
    pub metrics: Vec<(String, f64)>,
    pub exit_ok: bool,
    /// The upload token's secret appears in the daemon's log.
    pub token_logged: bool,
}

impl LiveReport {
    pub fn rss_growth(&self) -> f64 {
        self.rss_end_kib as f64 / self.rss_start_kib.max(1) as f64 - 1.0
    }

    pub fn ok(&self) -> bool {
        self.rss_growth() <= 0.10
            && self.readers_dropped == 0
            && self.discontinuities == 0
            && self.read_gaps == 0
            && self.behind_clock == 0
            && self.uploads_failed == 0
            && self.reloads_seen >= self.reloads_made
            && self.exit_ok
            && !self.token_logged
    }
}

#[derive(Default)]
struct Counters {
    sessions: AtomicU64,
    readers_dropped: AtomicU64,
    stallers: AtomicU64,
    stallers_dropped: AtomicU64,
    discontinuities: AtomicU64,
    read_gaps: AtomicU64,
    behind_clock: AtomicU64,
    audio_ms: AtomicU64,
}

/// A `/proc/PID/status` figure in KiB (`VmRSS`, `RssAnon`, `RssFile`).
fn status_kib(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key) && l[key.len()..].starts_with(':'))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn rss_kib(pid: u32) -> u64 {
    status_kib(pid, "VmRSS")
}

struct Daemon {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.0 exchange (the answer is close-delimited, never chunked): status and body.
async fn http(addr: SocketAddr, head: &str, body: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
    let mut s = TcpStream::connect(addr).await?;
    s.write_all(head.as_bytes()).await?;
    s.write_all(body).await?;
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), s.read_to_end(&mut out))
        .await
        .map_err(|_| std::io::Error::other("no answer in 60 s"))??;
    let end = find(&out, b"\r\n\r\n").map_or(out.len(), |e| e + 4);
    let status = std::str::from_utf8(&out[..end])
        .ok()
        .and_then(|h| h.split(' ').nth(1)?.parse().ok())
        .unwrap_or(0);
    Ok((status, out[end..].to_vec()))
}

async fn get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, Vec<u8>)> {
    http(
        addr,
        &format!("GET {path} HTTP/1.0\r\nHost: soak\r\n\r\n"),
        &[],
    )
    .await
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Reads the stream until `until`, checking continuity; counts a drop when the server ends it.
async fn reader(addr: SocketAddr, until: Instant, counters: Arc<Counters>) {
    counters.sessions.fetch_add(1, Ordering::Relaxed);
    let Ok(mut s) = TcpStream::connect(addr).await else {
        counters.readers_dropped.fetch_add(1, Ordering::Relaxed);
        return;
    };
    let _ = s
        .write_all(b"GET /stream HTTP/1.0\r\nHost: soak\r\n\r\n")
        .await;
    let mut buf = vec![0u8; 64 * 1024];
    let mut pending: Vec<u8> = Vec::new();
    let mut in_body = false;
    let mut samples = 0u64;
    let mut rate = 44_100u64;
    let mut first_byte: Option<Instant> = None;
    let mut last_read = Instant::now();
    let mut synced = true;
    loop {
        let now = Instant::now();
        if now >= until {
            break;
        }
        let read = tokio::time::timeout(until - now, s.read(&mut buf)).await;
        let n = match read {
            Err(_) => break, // time to leave
            Ok(Ok(0)) | Ok(Err(_)) => {
                counters.readers_dropped.fetch_add(1, Ordering::Relaxed);
                eprintln!("soak: a reading listener was dropped by the server");
                break;
            }
            Ok(Ok(n)) => n,
        };
        let now = Instant::now();
        if first_byte.is_some() && now - last_read > Duration::from_millis(1500) {
            counters.read_gaps.fetch_add(1, Ordering::Relaxed);
            eprintln!("soak: {:?} without stream bytes", now - last_read);
        }
        last_read = now;
        pending.extend_from_slice(&buf[..n]);
        if !in_body {
            let Some(end) = find(&pending, b"\r\n\r\n") else {
                continue;
            };
            assert!(
                pending.starts_with(b"HTTP/1.0 200") || pending.starts_with(b"HTTP/1.1 200"),
                "{}",
                String::from_utf8_lossy(&pending[..end])
            );
            pending.drain(..end + 4);
            in_body = true;
        }
        first_byte.get_or_insert(now);
        // Whole frames, each header exactly where the previous frame ended.
        let mut at = 0;
        while pending.len() >= at + 4 {
            let head = [
                pending[at],
                pending[at + 1],
                pending[at + 2],
                pending[at + 3],
            ];
            match FrameHeader::parse(head) {
                Some(h) => {
                    let len = h.frame_len();
                    if pending.len() < at + len {
                        break;
                    }
                    samples += u64::from(h.samples());
                    rate = u64::from(h.sample_rate);
                    at += len;
                    synced = true;
                }
                None => {
                    if synced {
                        counters.discontinuities.fetch_add(1, Ordering::Relaxed);
                        eprintln!("soak: frame sync lost");
                        synced = false;
                    }
                    at += 1;
                }
            }
        }
        pending.drain(..at);
    }
    if let Some(first) = first_byte {
        let elapsed = first.elapsed().as_secs_f64();
        let audio = samples as f64 / rate as f64;
        counters
            .audio_ms
            .fetch_add((audio * 1000.0) as u64, Ordering::Relaxed);
        // The burst (2 s) is ahead of the clock; publishing in 200 ms chunks may lag a bit.
        if audio + 1.0 < elapsed {
            counters.behind_clock.fetch_add(1, Ordering::Relaxed);
            eprintln!("soak: {audio:.1} s of audio in {elapsed:.1} s");
        }
    }
}

/// Reads a little, then stops reading for `hold`; then finds out whether the server closed
/// the connection meanwhile.
async fn staller(addr: SocketAddr, hold: Duration, counters: Arc<Counters>) {
    counters.stallers.fetch_add(1, Ordering::Relaxed);
    let socket = TcpSocket::new_v4().unwrap();
    let _ = socket.set_recv_buffer_size(4096);
    let Ok(mut s) = socket.connect(addr).await else {
        return;
    };
    let _ = s
        .write_all(b"GET /stream HTTP/1.0\r\nHost: soak\r\n\r\n")
        .await;
    let mut buf = vec![0u8; 32 * 1024];
    let _ = s.read(&mut buf).await;
    tokio::time::sleep(hold).await;
    // Drain what the kernel kept; an end of stream means the server let go of us.
    loop {
        match tokio::time::timeout(Duration::from_millis(500), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                counters.stallers_dropped.fetch_add(1, Ordering::Relaxed);
                return;
            }
            Ok(Ok(_)) => continue,
            Err(_) => return, // still open: it was never dropped
        }
    }
}

/// `seconds` of a stereo 44.1 kHz tone whose pitch depends on `n` (no two uploads alike).
fn wav_bytes(n: u64, seconds: u32) -> Vec<u8> {
    let mut cursor = std::io::Cursor::new(Vec::new());
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 44_100,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::new(&mut cursor, spec).unwrap();
    let f = 220.0 + 7.0 * n as f64;
    for k in 0..44_100 * seconds {
        let v = (f * k as f64 / 44_100.0 * std::f64::consts::TAU).sin() * 8000.0;
        w.write_sample(v as i16).unwrap();
        w.write_sample(v as i16).unwrap();
    }
    w.finalize().unwrap();
    cursor.into_inner()
}

/// Uploads one generated recording; the episode id when accepted.
async fn upload(addr: SocketAddr, token: &str, n: u64) -> Option<String> {
    let boundary = "soakBoundary7f3a";
    let mut body = Vec::new();
    for (k, v) in [
        ("show", "la-matinale".to_string()),
        ("title", format!("Soak {n} <script>&'\"]]>")),
        (
            "description",
            format!("Upload {n} of the soak run.\nLine two."),
        ),
    ] {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"soak-{n}.wav\"\r\nContent-Type: audio/wav\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(&wav_bytes(n, 15));
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let head = format!(
        "POST /api/episodes HTTP/1.0\r\nHost: soak\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    match http(addr, &head, &body).await {
        Ok((202, answer)) => {
            let v: serde_json::Value = serde_json::from_slice(&answer).ok()?;
            Some(v["id"].as_str()?.to_string())
        }
        Ok((code, answer)) => {
            eprintln!(
                "soak: upload {n}: {code} {}",
                String::from_utf8_lossy(&answer)
            );
            None
        }
        Err(e) => {
            eprintln!("soak: upload {n}: {e}");
            None
        }
    }
}

async fn episode_status(addr: SocketAddr, id: &str) -> String {
    match get(addr, &format!("/api/episodes/{id}")).await {
        Ok((200, body)) => serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["status"].as_str().map(str::to_string))
            .unwrap_or_default(),
        _ => String::new(),
    }
}

fn free_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

fn start_daemon(cfg: &LiveConfig, dir: &Path) -> Daemon {
    let addr = free_port();
    let log = std::fs::File::create(dir.join("daemon.log")).unwrap();
    let child = Command::new(&cfg.bin)
        .arg("serve")
        .args(["--listen", &addr.to_string()])
        .args(["--public-url", &format!("http://{addr}")])
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--media-dir")
        .arg(cfg.repo.join("media"))
        .arg("--schedule")
        .arg(dir.join("weekly.toml"))
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start antenne serve");
    Daemon { child, addr }
}

fn edit_schedule(path: &Path, original: &str, n: u64) {
    let edited = original.replacen(
        "chaque matin de semaine.",
        &format!("chaque matin de semaine (relecture {n})."),
        1,
    );
    std::fs::write(path, edited).unwrap();
}

pub async fn run(cfg: LiveConfig) -> LiveReport {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let schedule_path = dir.join("weekly.toml");
    let original = std::fs::read_to_string(cfg.repo.join("schedules/weekly.toml")).unwrap();
    std::fs::write(&schedule_path, &original).unwrap();
    let mut daemon = start_daemon(&cfg, dir);
    let addr = daemon.addr;
    let pid = daemon.child.id();
    let t0 = Instant::now();
    while !matches!(get(addr, "/healthz").await, Ok((200, _))) {
        assert!(t0.elapsed() < Duration::from_secs(30), "daemon not up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!("live: daemon up in {:?} on {addr}", t0.elapsed());
    let mut report = LiveReport {
        rss_launch_kib: rss_kib(pid),
        ..LiveReport::default()
    };
    let token = Command::new(&cfg.bin)
        .args(["token", "add", "soak"])
        .arg("--data-dir")
        .arg(dir.join("data"))
        .stderr(Stdio::null())
        .output()
        .expect("antenne token add");
    let token = String::from_utf8(token.stdout).unwrap().trim().to_string();
    assert!(token.starts_with("ant_"), "token: {token:?}");

    let counters = Arc::new(Counters::default());
    let warm_end = Instant::now() + cfg.warmup;
    let end = warm_end + cfg.duration;
    // Listeners: `readers` at a time, each staying 20 s to 4 min, then replaced.
    let readers = {
        let counters = Arc::clone(&counters);
        let n = cfg.readers;
        tokio::spawn(async move {
            let mut set = tokio::task::JoinSet::new();
            loop {
                while set.len() < n && Instant::now() + Duration::from_secs(5) < end {
                    let stay = Duration::from_secs(rand::random_range(20..240));
                    set.spawn(reader(
                        addr,
                        (Instant::now() + stay).min(end),
                        Arc::clone(&counters),
                    ));
                    tokio::time::sleep(Duration::from_millis(rand::random_range(100..2000))).await;
                }
                if set.join_next().await.is_none() {
                    break;
                }
            }
        })
    };
    // A staller every 40 s, each holding its connection without reading. The server's socket
    // buffer may grow to 4 MiB (tcp_wmem) before its writes block: 4+ minutes of stream, then
    // the 30 s stall limit; a 330 s hold sees the drop.
    let hold = (cfg.duration / 4).clamp(Duration::from_secs(60), Duration::from_secs(330));
    let stallers = {
        let counters = Arc::clone(&counters);
        tokio::spawn(async move {
            let mut set = tokio::task::JoinSet::new();
            while Instant::now() + hold + Duration::from_secs(10) < end {
                set.spawn(staller(addr, hold, Arc::clone(&counters)));
                tokio::time::sleep(Duration::from_secs(40)).await;
            }
            while set.join_next().await.is_some() {}
        })
    };
    // The first upload ingested and the first schedule edit loaded at once; the warm-up runs
    // on under the same load as the measured part.
    let mut uploads = Vec::new();
    let mut n_upload = 0;
    let mut n_reload = 0;
    edit_schedule(&schedule_path, &original, {
        n_reload += 1;
        n_reload
    });
    if let Some(id) = upload(addr, &token, n_upload).await {
        uploads.push(id.clone());
        let deadline = Instant::now() + Duration::from_secs(120);
        while !matches!(episode_status(addr, &id).await.as_str(), "ready" | "failed")
            && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    n_upload += 1;
    let mut warm = false;
    // (when, VmRSS, RssAnon) every second of the measured part. Start and end are the medians
    // of its first and last minute: a single reading would land on an ingest's transient peak
    // (a render holds tens of MiB for seconds) or on a trough after the allocator trimmed.
    let mut samples: Vec<(Instant, u64, u64)> = Vec::new();
    let reload_every = (cfg.duration / 8).clamp(Duration::from_secs(20), Duration::from_secs(180));
    let upload_every = (cfg.duration / 12).clamp(Duration::from_secs(15), Duration::from_secs(120));
    let mut next_reload = Instant::now() + reload_every;
    let mut next_upload = Instant::now() + upload_every / 2;
    let mut next_report = Instant::now() + Duration::from_secs(60);
    while Instant::now() + Duration::from_secs(5) < end {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = Instant::now();
        if !warm && now >= warm_end {
            warm = true;
            println!(
                "live: warm after {:.0} s; RSS {:.1} MiB; measuring for {:?}",
                t0.elapsed().as_secs_f64(),
                rss_kib(pid) as f64 / 1024.0,
                cfg.duration
            );
        }
        if warm {
            let (rss, anon) = (rss_kib(pid), status_kib(pid, "RssAnon"));
            report.rss_max_kib = report.rss_max_kib.max(rss);
            samples.push((now, rss, anon));
        }
        if now >= next_reload {
            n_reload += 1;
            edit_schedule(&schedule_path, &original, n_reload);
            next_reload = now + reload_every;
        }
        if now >= next_upload {
            if let Some(id) = upload(addr, &token, n_upload).await {
                uploads.push(id);
            }
            n_upload += 1;
            next_upload = now + upload_every;
        }
        if now >= next_report {
            println!(
                "live: {:>4.0} s, RSS {} MiB, {} sessions, {} stallers ({} dropped), {} uploads",
                t0.elapsed().as_secs_f64(),
                rss_kib(pid) / 1024,
                counters.sessions.load(Ordering::Relaxed),
                counters.stallers.load(Ordering::Relaxed),
                counters.stallers_dropped.load(Ordering::Relaxed),
                uploads.len()
            );
            next_report = now + Duration::from_secs(60);
        }
    }
    // The last upload gets time to finish before the end measurement.
    for id in &uploads {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match episode_status(addr, id).await.as_str() {
                "ready" => {
                    report.uploads_ready += 1;
                    break;
                }
                "failed" => break,
                _ if Instant::now() > deadline => break,
                _ => tokio::time::sleep(Duration::from_millis(500)).await,
            }
        }
    }
    let window = Duration::from_secs(60).min(cfg.duration / 4);
    let median = |pick: &dyn Fn(&(Instant, u64, u64)) -> bool,
                  field: fn(&(Instant, u64, u64)) -> u64| {
        let mut v: Vec<u64> = samples.iter().filter(|s| pick(s)).map(field).collect();
        v.sort_unstable();
        v.get(v.len() / 2).copied().unwrap_or(0)
    };
    if let (Some(&(first, ..)), Some(&(last, ..))) = (samples.first(), samples.last()) {
        let head = |s: &(Instant, u64, u64)| s.0 <= first + window;
        let tail = |s: &(Instant, u64, u64)| s.0 + window >= last;
        report.rss_start_kib = median(&head, |s| s.1);
        report.anon_start_kib = median(&head, |s| s.2);
        report.rss_end_kib = median(&tail, |s| s.1);
        report.anon_end_kib = median(&tail, |s| s.2);
    }
    readers.await.unwrap();
    stallers.abort();
    if let Ok((200, body)) = get(addr, "/metrics").await {
        for line in String::from_utf8_lossy(&body).lines() {
            for name in [
                "antenne_listeners_dropped_total",
                "antenne_playout_late_frames_total",
                "antenne_playout_failed_items_total",
                "antenne_playout_frames_total",
                "antenne_stream_bytes_total",
            ] {
                if let Some(v) = line.strip_prefix(name).and_then(|r| r.trim().parse().ok()) {
                    report.metrics.push((name.to_string(), v));
                }
            }
        }
    }
    // SIGTERM: the daemon stops cleanly.
    // SAFETY: plain kill(2) on our own child's pid.
    unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    let t = Instant::now();
    loop {
        if let Ok(Some(status)) = daemon.child.try_wait() {
            report.exit_ok = status.success();
            break;
        }
        if t.elapsed() > Duration::from_secs(10) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log = std::fs::read_to_string(dir.join("daemon.log")).unwrap_or_default();
    report.reloads_seen = log.matches("schedule reloaded").count() as u64;
    report.token_logged = log.contains(&token);
    report.reloads_made = n_reload;
    report.uploads_accepted = uploads.len() as u64;
    report.uploads_failed =
        n_upload - report.uploads_accepted + (report.uploads_accepted - report.uploads_ready);
    let c = &counters;
    report.sessions = c.sessions.load(Ordering::Relaxed);
    report.readers_dropped = c.readers_dropped.load(Ordering::Relaxed);
    report.stallers = c.stallers.load(Ordering::Relaxed);
    report.stallers_dropped = c.stallers_dropped.load(Ordering::Relaxed);
    report.discontinuities = c.discontinuities.load(Ordering::Relaxed);
    report.read_gaps = c.read_gaps.load(Ordering::Relaxed);
    report.behind_clock = c.behind_clock.load(Ordering::Relaxed);
    report.audio_seconds = c.audio_ms.load(Ordering::Relaxed) as f64 / 1000.0;
    if !report.ok() {
        let keep = std::env::temp_dir().join("antenne-soak.log");
        let _ = std::fs::write(&keep, &log);
        println!("live: daemon log kept at {}", keep.display());
    }
    report
}
