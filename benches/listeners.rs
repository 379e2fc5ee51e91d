//! Listener load tool: N concurrent listeners on loopback against Antenne's `/stream` and
//! against Icecast 2 fed the same stream by Antenne's source client, in one run.
//!
//! `cargo bench --bench listeners` (release) runs everything:
//! 1. starts Icecast 2 on loopback when `icecast2` is installed;
//! 2. starts the server under test: by default the real daemon (`antenne serve`, the release
//!    binary) on a copy of the demo station, playout running, pushing its MP3 stream to Icecast
//!    (`[[icecast]]`), and waits until the demo episodes are ingested; with `SERVER=hub`, the
//!    stand-in of the first measurements instead: `serve` (this binary, a second process), the
//!    hub plus `http::stream` behind `axum::serve`, fed 30 s of LAME-encoded test audio looped
//!    at real-time pace;
//! 3. measures each server's CPU time over `SECS` with no listener (the playout, encoding and
//!    pushing cost, subtracted from the per-listener figure);
//! 4. for each N (default 1000 and 5000) and each target, connects N listeners, waits for the
//!    ramp and 5 s, then measures `SECS` (default 60): bytes per listener vs the real-time byte
//!    rate (16,000 B/s), the server's CPU seconds (utime + stime from /proc/PID/stat), its RSS
//!    (VmRSS/VmHWM from /proc/PID/status) and the kernel's TCP buffer memory (`/proc/net/sockstat`,
//!    both ends of every connection: the load tool's sockets are the same for both servers).
//!
//! Subcommands for manual use: `serve --port P --mp3 FILE [--icecast URL --password PW]
//! [--sessions DIR]` and `load --url URL -n N --secs S`. Environment: `LISTENERS=1000,5000`,
//! `SECS=60`, `SERVER=daemon|hub`, `RAMP=4` (handshakes in flight while listeners connect),
//! `DAEMON_PRELOAD=LIB` (the daemon alone runs with `LD_PRELOAD=LIB`, e.g. jemalloc). The
//! table reports the resident memory per listener both whole (`VmRSS`) and anonymous only
//! (`RssAnon`: heap and stacks, without code pages first touched under load), and the load
//! tool's own CPU (it shares the machine: a saturated tool would understate both servers).
//!
//! `RECORDING=1` measures instead the cost of recording listener sessions (issue 16): two
//! `serve` processes, one without and one with `--sessions DIR` (the hub's `SessionLog`, the
//! daemon's batching writer, a real catalog), measured one after the other `ROUNDS` times
//! (default 2, alternating) under the same load, with listeners that leave and come back
//! after a random `CHURN_S` × [0.5, 1.5) seconds (default 60: about N sessions a minute, each
//! one written). The recording server also keeps the airplay log as the daemon does
//! (`playout::AirplayWriter`, its tag reading, the same catalog): the looped file airs as
//! items of `ITEM_S` seconds (default 15: four a minute, several times a real programme's
//! pace), each one's start and end written. It reports CPU seconds and catalog writes
//! (transactions, sessions and airplay rows) per minute, read from the recording server's
//! `/bench/writes`.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use antenne::audience::writer::{self, WriterStats};
use antenne::broadcast::{FrameSplitter, Hub, HubConfig, SessionLog, StationInfo, icecast};
use antenne::catalog::AirKind;
use antenne::catalog::{Catalog, StreamKind};
use antenne::config::IcecastTarget;
use antenne::playout::airplay::{Aired, WriterConfig};
use antenne::playout::timeline::Airing;
use antenne::playout::{AirplayWriter, SystemClock};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

const RATE_BYTES_PER_S: f64 = 128_000.0 / 8.0;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let get = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    match args.first().map(String::as_str) {
        Some("serve") => serve(
            get("--port").expect("--port").parse().unwrap(),
            get("--mp3").expect("--mp3"),
            get("--icecast"),
            get("--password").unwrap_or_default(),
            get("--sessions"),
        ),
        Some("load") => {
            let rt = tokio::runtime::Runtime::new().unwrap();
            let report = rt.block_on(load(
                &get("--url").expect("--url"),
                get("-n").expect("-n").parse().unwrap(),
                Duration::from_secs(get("--secs").map_or(60, |s| s.parse().unwrap())),
                None,
                None,
            ));
            println!("{report:?}");
        }
        _ => orchestrate(),
    }
}

// ---------------------------------------------------------------------------------------
// serve: the hub and /stream, fed at real-time pace

fn serve(
    port: u16,
    mp3: String,
    icecast_url: Option<String>,
    password: String,
    sessions: Option<String>,
) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        let token = CancellationToken::new();
        let config = HubConfig {
            max_listeners: 20_000,
            ..HubConfig::default()
        };
        let hub = Hub::new(config, token.clone());
        let info = StationInfo {
            name: "Antenne load test".into(),
            description: "looped test file".into(),
            genre: "Test".into(),
            url: "http://127.0.0.1".into(),
            bitrate_kbps: 128,
            sample_rate: 44_100,
        };
        let mut frames = Vec::new();
        let mut splitter = FrameSplitter::new();
        splitter.push(&std::fs::read(&mp3).expect("mp3 file"), &mut frames);
        splitter.finish(&mut frames);
        assert!(!frames.is_empty(), "no MP3 frames in {mp3}");

        // The airplay log, as the daemon keeps it (only when recording).
        let catalog = sessions
            .as_ref()
            .map(|dir| Catalog::open(std::path::Path::new(dir)).expect("catalog"));
        let airplay = catalog.as_ref().map(|c| {
            let file = std::path::Path::new(&mp3);
            AirplayWriter::start(
                c.clone(),
                WriterConfig {
                    sample_rate: 44_100,
                    media_dir: file.parent().unwrap().to_path_buf(),
                    data_dir: std::path::PathBuf::from(sessions.as_ref().unwrap()),
                    clock: Arc::new(SystemClock),
                },
            )
            .expect("airplay writer")
        });
        let airplay_log = airplay.as_ref().map(|(log, _)| log.clone());
        let item_frames = 44_100
            * std::env::var("ITEM_S")
                .ok()
                .map_or(15, |s| s.parse::<u64>().unwrap());
        let producer_hub = hub.clone();
        let file = std::path::PathBuf::from(&mp3);
        tokio::spawn(async move {
            let start = tokio::time::Instant::now();
            let mut samples: u64 = 0;
            let mut item_start: Option<u64> = None;
            for lap in 0u64.. {
                producer_hub.set_title(&format!("Load test - lap {lap}"));
                let lap_start = samples;
                for f in &frames {
                    let rate = u64::from(f.header.sample_rate);
                    tokio::time::sleep_until(
                        start + Duration::from_nanos(samples * 1_000_000_000 / rate),
                    )
                    .await;
                    if let Some(log) = &airplay_log
                        && item_start.is_none_or(|s| samples - s >= item_frames)
                    {
                        if let Some(s) = item_start {
                            log.send(Aired::Ended {
                                frame: s,
                                frames: samples - s,
                            });
                        }
                        item_start = Some(samples);
                        let now = jiff::Timestamp::now();
                        log.send(Aired::Started {
                            frame: samples,
                            kind: AirKind::Track,
                            item: Arc::new(Airing {
                                show: Some("bench".into()),
                                show_title: "Load test".into(),
                                title: format!("Load test - lap {lap}"),
                                episode_id: None,
                                occurrence: None,
                                started_at: now,
                                ends_at: now + jiff::SignedDuration::from_secs(15),
                                next: None,
                            }),
                            file: Some((file.clone(), samples - lap_start)),
                        });
                    }
                    samples += u64::from(f.header.samples());
                    producer_hub.push(f.clone());
                }
            }
        });
        if let Some(url) = icecast_url {
            let target = IcecastTarget {
                url,
                user: "source".into(),
                password,
                stream: "mp3".into(),
            };
            let endpoint = icecast::Endpoint::parse(&target).expect("icecast url");
            tokio::spawn(icecast::run(
                antenne::broadcast::Mount::mp3(hub.clone(), info.clone()),
                endpoint,
                token.clone(),
            ));
        }
        // Sessions as the daemon records them: the hub's log, the batching writer, a catalog.
        let stats = Arc::new(WriterStats::default());
        let mut lost = None;
        if let Some(catalog) = catalog {
            let (log, rx) = SessionLog::new(jiff::Timestamp::now());
            hub.record_sessions(log.clone(), StreamKind::Mp3);
            lost = Some(log);
            tokio::spawn(writer::run(
                rx,
                catalog,
                Duration::from_secs(1),
                stats.clone(),
                token.clone(),
            ));
        }
        let aired = airplay.as_ref().map(|(log, _)| log.counters().clone());
        let writes = move || {
            let (stats, lost, aired) = (stats.clone(), lost.clone(), aired.clone());
            async move {
                format!(
                    "{} {} {} {} {}",
                    stats.batches.load(Ordering::Relaxed),
                    stats.rows.load(Ordering::Relaxed),
                    lost.map_or(0, |l| l.lost()),
                    aired
                        .as_ref()
                        .map_or(0, |a| a.written.load(Ordering::Relaxed)),
                    aired
                        .as_ref()
                        .map_or(0, |a| a.dropped.load(Ordering::Relaxed)),
                )
            }
        };
        let router = antenne_testkit::stream::router(hub, info)
            .route("/bench/writes", axum::routing::get(writes));
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        eprintln!("serving on 127.0.0.1:{port}");
        axum::serve(listener, router).await.unwrap();
    });
}

// ---------------------------------------------------------------------------------------
// load: N listeners, bytes counted per listener

#[derive(Debug)]
struct LoadReport {
    connected: usize,
    window_s: f64,
    /// Share of listeners that received ≥ 99% of the real-time byte rate in the window.
    keeping_up: f64,
    min_ratio: f64,
    median_ratio: f64,
    /// Server CPU seconds during the window (when a pid was given).
    cpu_s: Option<f64>,
    rss_kib: Option<u64>,
    hwm_kib: Option<u64>,
    /// Anonymous resident memory (heap and stacks; `RssAnon`), KiB: what listeners add,
    /// without the binary's code pages first touched under load.
    anon_kib: Option<u64>,
    /// Seconds until every listener had its response head.
    ramp_s: f64,
    /// The load tool's own CPU seconds in the window (this process).
    tool_cpu_s: f64,
    /// A recording server's counts over the window (`/bench/writes`).
    writes: Option<Writes>,
    tcp_mem_kib: u64,
}

async fn listener_task(
    addr: SocketAddr,
    path: String,
    counter: Arc<AtomicU64>,
    connected: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    ramp: Arc<tokio::sync::Semaphore>,
    churn: Option<(Duration, u64)>,
) {
    // With churn, each connection lasts churn × [0.5, 1.5) (a per-listener LCG), then the
    // listener comes back at once: a new session.
    let mut seed = churn.map_or(0, |(_, s)| s);
    let mut life = move || {
        churn.map(|(mean, _)| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let f = 0.5 + (seed >> 11) as f64 / (1u64 << 53) as f64;
            mean.mul_f64(f)
        })
    };
    let mut attempt = 0;
    while attempt < 50 {
        attempt += 1;
        let deadline = life().map(|d| tokio::time::Instant::now() + d);
        if stop.load(Ordering::Relaxed) {
            return;
        }
        // Few handshakes in flight: Icecast listens with a backlog of 5, and an overflowing
        // accept queue would leave "connected" clients unserved for seconds.
        let mut permit = Some(ramp.clone().acquire_owned().await.unwrap());
        let Ok(mut s) = tokio::net::TcpStream::connect(addr).await else {
            tokio::time::sleep(Duration::from_millis(100 * (attempt + 1))).await;
            continue;
        };
        let req =
            format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\nUser-Agent: antenne-load\r\n\r\n");
        if s.write_all(req.as_bytes()).await.is_err() {
            continue;
        }
        // Skip the response head, then count body bytes.
        let mut buf = vec![0u8; 4096];
        let mut head = Vec::new();
        let mut in_body = false;
        let mut expired = false;
        loop {
            let read = match deadline {
                Some(d) => tokio::select! {
                    r = s.read(&mut buf) => r,
                    () = tokio::time::sleep_until(d) => { expired = true; break }
                },
                None => s.read(&mut buf).await,
            };
            let n = match read {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if stop.load(Ordering::Relaxed) {
                break;
            }
            if in_body {
                counter.fetch_add(n as u64, Ordering::Relaxed);
            } else {
                head.extend_from_slice(&buf[..n]);
                if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                    in_body = true;
                    permit.take();
                    connected.fetch_add(1, Ordering::Relaxed);
                    counter.fetch_add((head.len() - end - 4) as u64, Ordering::Relaxed);
                    head = Vec::new();
                }
            }
        }
        if in_body {
            connected.fetch_sub(1, Ordering::Relaxed);
            if expired && !stop.load(Ordering::Relaxed) {
                drop(s);
                attempt = 0;
                continue;
            }
            return;
        }
    }
}

fn proc_cpu_s(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields.get(11..13).map_or(0.0, |f| {
        f.iter().filter_map(|v| v.parse::<f64>().ok()).sum()
    });
    // USER_HZ is 100 on Linux.
    ticks / 100.0
}

/// The kernel's TCP buffer memory, KiB (`mem` of `/proc/net/sockstat` is in pages).
fn tcp_mem_kib() -> u64 {
    let stat = std::fs::read_to_string("/proc/net/sockstat").unwrap_or_default();
    let pages = stat
        .lines()
        .find(|l| l.starts_with("TCP:"))
        .and_then(|l| {
            let fields: Vec<&str> = l.split_whitespace().collect();
            let i = fields.iter().position(|f| *f == "mem")?;
            fields.get(i + 1)?.parse::<u64>().ok()
        })
        .unwrap_or(0);
    pages * 4
}

/// Handshakes in flight while listeners connect (`RAMP`, default 4): Icecast listens with a
/// backlog of 5.
fn ramp_width() -> usize {
    std::env::var("RAMP")
        .ok()
        .map_or(4, |s| s.parse().expect("RAMP: a number"))
}

/// The resident memory by kind (`/proc/PID/smaps_rollup`), for the log.
fn memory_breakdown(pid: u32) -> String {
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    let keys = [
        "Rss:",
        "Anonymous:",
        "Private_Dirty:",
        "Shared_Clean:",
        "Private_Clean:",
    ];
    let mut out = Vec::new();
    for line in rollup.lines() {
        if let Some(k) = keys.iter().find(|k| line.starts_with(**k)) {
            let v = line[k.len()..].trim();
            out.push(format!("{k} {v}"));
        }
    }
    out.join(", ")
}

fn proc_status_kib(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

async fn load(
    url: &str,
    n: usize,
    window: Duration,
    pid: Option<u32>,
    churn: Option<Duration>,
) -> LoadReport {
    let writes_port = churn.and(pid).and_then(|_| {
        url.strip_prefix("http://127.0.0.1:")
            .and_then(|r| r.split('/').next())
            .and_then(|p| p.parse::<u16>().ok())
    });
    let rest = url.strip_prefix("http://").expect("http:// URL");
    let (authority, path) = rest.split_at(rest.find('/').expect("path"));
    let addr: SocketAddr = authority.parse().expect("ip:port");
    let stop = Arc::new(AtomicBool::new(false));
    let connected = Arc::new(AtomicU64::new(0));
    let counters: Vec<Arc<AtomicU64>> = (0..n).map(|_| Arc::new(AtomicU64::new(0))).collect();
    let ramp = Arc::new(tokio::sync::Semaphore::new(ramp_width()));
    let tasks: Vec<_> = counters
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let task = listener_task(
                addr,
                path.to_owned(),
                c.clone(),
                connected.clone(),
                stop.clone(),
                ramp.clone(),
                churn.map(|d| (d, i as u64 + 1)),
            );
            tokio::spawn(task)
        })
        .collect();
    let ramp_start = Instant::now();
    while (connected.load(Ordering::Relaxed) as usize) < n
        && ramp_start.elapsed() < Duration::from_secs(1200)
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "{url}: {} of {n} listeners streaming after {:.1} s",
        connected.load(Ordering::Relaxed),
        ramp_start.elapsed().as_secs_f64()
    );
    let ramp_s = ramp_start.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let before: Vec<u64> = counters.iter().map(|c| c.load(Ordering::Relaxed)).collect();
    let cpu_before = pid.map(proc_cpu_s);
    let tool_before = proc_cpu_s(std::process::id());
    let writes_before = match writes_port {
        Some(p) => Some(writes(p).await),
        None => None,
    };
    let t0 = Instant::now();
    tokio::time::sleep(window).await;
    let elapsed = t0.elapsed().as_secs_f64();
    let writes_delta = match (writes_port, writes_before) {
        (Some(p), Some(b)) => {
            let a = writes(p).await;
            Some(Writes(std::array::from_fn(|i| a.0[i] - b.0[i])))
        }
        _ => None,
    };
    let after: Vec<u64> = counters.iter().map(|c| c.load(Ordering::Relaxed)).collect();
    let cpu = pid.map(|p| proc_cpu_s(p) - cpu_before.unwrap_or(0.0));
    let rss_kib = pid.and_then(|p| proc_status_kib(p, "VmRSS:"));
    let tcp_mem_kib = tcp_mem_kib();
    let hwm_kib = pid.and_then(|p| proc_status_kib(p, "VmHWM:"));
    let anon_kib = pid.and_then(|p| proc_status_kib(p, "RssAnon:"));
    let tool_cpu_s = proc_cpu_s(std::process::id()) - tool_before;
    if let Some(p) = pid {
        eprintln!("{url}: {n} listeners, {}", memory_breakdown(p));
    }
    let connected_now = connected.load(Ordering::Relaxed) as usize;
    stop.store(true, Ordering::Relaxed);
    for t in &tasks {
        t.abort();
    }
    let mut ratios: Vec<f64> = before
        .iter()
        .zip(&after)
        .map(|(b, a)| (a - b) as f64 / elapsed / RATE_BYTES_PER_S)
        .collect();
    ratios.sort_by(f64::total_cmp);
    LoadReport {
        connected: connected_now,
        window_s: elapsed,
        keeping_up: ratios.iter().filter(|r| **r >= 0.99).count() as f64 / n as f64,
        min_ratio: ratios.first().copied().unwrap_or(0.0),
        median_ratio: ratios.get(n / 2).copied().unwrap_or(0.0),
        cpu_s: cpu,
        rss_kib,
        hwm_kib,
        anon_kib,
        ramp_s,
        tool_cpu_s,
        writes: writes_delta,
        tcp_mem_kib,
    }
}

// ---------------------------------------------------------------------------------------
// orchestrate: one run, both targets

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `cmd` in a session of its own, as a service runs: with the kernel's autogroup
/// scheduling, a session shares the CPU fairly with every other session of the machine, so
/// each server (and the load tool, run with `setsid`) gets its own share on a machine where
/// other work runs.
fn own_session(mut cmd: Command) -> Command {
    use std::os::unix::process::CommandExt;
    // SAFETY: setsid is async-signal-safe; it only makes the child a session leader.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    cmd
}

/// The 1-minute load average (`/proc/loadavg`).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_default()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn test_mp3(path: &std::path::Path) {
    use mp3lame_encoder::{Bitrate, Builder, FlushNoGap, InterleavedPcm, Mode, Quality};
    let mut b = Builder::new().unwrap();
    b.set_num_channels(2).unwrap();
    b.set_sample_rate(44_100).unwrap();
    b.set_brate(Bitrate::Kbps128).unwrap();
    b.set_mode(Mode::JointStereo).unwrap();
    b.set_quality(Quality::Good).unwrap();
    let mut enc = b.build().unwrap();
    // 30 s of a chord that moves every second plus a little noise: real work for LAME.
    let frames = 30 * 44_100;
    let mut seed = 1u32;
    let pcm: Vec<f32> = (0..frames)
        .flat_map(|i| {
            let t = i as f32 / 44_100.0;
            let base = 220.0 * (1.0 + (i / 44_100 % 5) as f32 / 4.0);
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let noise = (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
            let s = 0.2 * (base * t * std::f32::consts::TAU).sin()
                + 0.1 * (base * 1.5 * t * std::f32::consts::TAU).sin()
                + 0.02 * noise;
            [s, s * 0.9]
        })
        .collect();
    let mut out = Vec::with_capacity(mp3lame_encoder::max_required_buffer_size(frames));
    enc.encode_to_vec(InterleavedPcm(&pcm), &mut out).unwrap();
    enc.flush_to_vec::<FlushNoGap>(&mut out).unwrap();
    std::fs::write(path, out).unwrap();
}

fn start_icecast(
    dir: &std::path::Path,
    port: u16,
    password: &str,
    max_clients: usize,
) -> Option<Killed> {
    let bin = ["/usr/bin/icecast2", "/usr/local/bin/icecast2"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())?;
    let log = dir.join("icecast-log");
    std::fs::create_dir_all(&log).unwrap();
    // Icecast refuses to run as root without <changeowner>; its log dir must be writable then.
    let _ = Command::new("chmod")
        .args(["-R", "a+rwx"])
        .arg(dir)
        .status();
    let (user, group) = ("nobody", "nogroup");
    let conf = format!(
        r#"<icecast>
  <limits><clients>{clients}</clients><sources>4</sources><queue-size>524288</queue-size>
    <client-timeout>30</client-timeout><header-timeout>15</header-timeout><source-timeout>10</source-timeout>
    <burst-on-connect>1</burst-on-connect><burst-size>65535</burst-size></limits>
  <authentication><source-password>{password}</source-password><relay-password>{password}</relay-password>
    <admin-user>admin</admin-user><admin-password>{password}</admin-password></authentication>
  <hostname>127.0.0.1</hostname>
  <listen-socket><port>{port}</port><bind-address>127.0.0.1</bind-address></listen-socket>
  <fileserve>1</fileserve>
  <paths><basedir>/usr/share/icecast2</basedir><logdir>{log}</logdir><webroot>/usr/share/icecast2/web</webroot>
    <adminroot>/usr/share/icecast2/admin</adminroot><pidfile>{log}/icecast.pid</pidfile></paths>
  <logging><accesslog>access.log</accesslog><errorlog>error.log</errorlog><loglevel>2</loglevel></logging>
  <security><chroot>0</chroot><changeowner><user>{user}</user><group>{group}</group></changeowner></security>
</icecast>
"#,
        clients = max_clients + 100,
        log = log.display(),
    );
    let path = dir.join("icecast.xml");
    std::fs::write(&path, conf).unwrap();
    let child = own_session(Command::new(bin))
        .arg("-c")
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    Some(Killed(child))
}

/// The real daemon on a copy of the demo station (playout running), pushing its MP3 stream
/// to Icecast when `icecast` names it; returns once its demo episodes are ingested.
fn start_daemon(
    dir: &std::path::Path,
    port: u16,
    icecast: Option<(u16, &str)>,
    max: usize,
) -> Killed {
    let repo = antenne_testkit::repo();
    let station = dir.join("station");
    std::fs::create_dir_all(&station).unwrap();
    let copied = Command::new("cp")
        .arg("-r")
        .arg(repo.join("media"))
        .arg(station.join("media"))
        .status()
        .unwrap();
    assert!(copied.success());
    std::fs::copy(
        repo.join("schedules/weekly.toml"),
        station.join("weekly.toml"),
    )
    .unwrap();
    let mut config = String::new();
    if let Some((ice_port, password)) = icecast {
        config += &format!(
            "[[icecast]]\nurl = \"http://127.0.0.1:{ice_port}/live.mp3\"\npassword = \"{password}\"\n"
        );
    }
    std::fs::write(station.join("antenne.toml"), config).unwrap();
    let p = |x: &str| station.join(x).to_string_lossy().into_owned();
    let mut cmd = own_session(Command::new(env!("CARGO_BIN_EXE_antenne")));
    // `DAEMON_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2`: the daemon alone with
    // another malloc, to see what the allocator does to memory per listener.
    if let Ok(lib) = std::env::var("DAEMON_PRELOAD") {
        cmd.env("LD_PRELOAD", lib);
    }
    let child = cmd
        .args(["--config", &p("antenne.toml"), "--data-dir", &p("data")])
        .args(["--media-dir", &p("media"), "--schedule", &p("weekly.toml")])
        .args(["--listen", &format!("127.0.0.1:{port}"), "serve"])
        .args(["--max-listeners", &(max + 100).to_string()])
        .args(["--max-connections", &(max + 200).to_string()])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("daemon.log")).unwrap())
        .spawn()
        .unwrap();
    let daemon = Killed(child);
    // Until the demo episodes are ingested: their render is not what is measured.
    let started = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let status = http_get(port, "/api/status").unwrap_or_default();
        if status.contains("\"processing\":0") && status.contains("\"queued\":0") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "the daemon did not settle: {status}"
        );
    }
    daemon
}

/// A body over plain HTTP/1.0 (`None` when the server does not answer).
fn http_get(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: bench\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

fn orchestrate() {
    if std::env::var("RECORDING").is_ok_and(|v| v == "1") {
        return recording();
    }
    let sizes: Vec<usize> = std::env::var("LISTENERS")
        .unwrap_or_else(|_| "1000,5000".into())
        .split(',')
        .map(|s| s.trim().parse().unwrap())
        .collect();
    let secs: u64 = std::env::var("SECS")
        .ok()
        .map_or(60, |s| s.parse().unwrap());
    let hub_only = std::env::var("SERVER").is_ok_and(|s| s == "hub");
    // Every listener is a descriptor here and in the server (the servers inherit the limit).
    let nofile = antenne::http::conn::raise_fd_limit().unwrap_or(1024);
    let max = *sizes.iter().max().unwrap();
    assert!(
        nofile as usize > max + 500,
        "ulimit -n is {nofile}: raise the hard limit above {max} listeners"
    );
    let dir = tempfile::tempdir().unwrap();
    let password = "load-test";
    let ice_port = free_port();
    let icecast = start_icecast(dir.path(), ice_port, password, max);
    std::thread::sleep(Duration::from_secs(1));
    let port = free_port();
    let antenne = if hub_only {
        let mp3 = dir.path().join("loop.mp3");
        test_mp3(&mp3);
        let exe = std::env::current_exe().unwrap();
        let mut serve = own_session(Command::new(exe));
        serve.args([
            "serve",
            "--port",
            &port.to_string(),
            "--mp3",
            mp3.to_str().unwrap(),
        ]);
        if icecast.is_some() {
            serve.args([
                "--icecast",
                &format!("http://127.0.0.1:{ice_port}/live.mp3"),
                "--password",
                password,
            ]);
        }
        let child = Killed(serve.stdout(Stdio::null()).spawn().unwrap());
        std::thread::sleep(Duration::from_secs(4));
        child
    } else {
        let pushed = icecast.as_ref().map(|_| (ice_port, password));
        start_daemon(dir.path(), port, pushed, max)
    };

    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut targets = vec![(
        if hub_only { "Antenne (hub)" } else { "Antenne" },
        format!("http://127.0.0.1:{port}/stream"),
        antenne.0.id(),
    )];
    match &icecast {
        Some(ice) => {
            // Icecast re-execs nothing: its pid is the child's after changeowner.
            targets.push((
                "Icecast",
                format!("http://127.0.0.1:{ice_port}/live.mp3"),
                ice.0.id(),
            ));
        }
        None => eprintln!("icecast2 not installed: measuring Antenne only"),
    }
    // What each server costs with nobody listening (playout, encoders, the push).
    let idle_cpu: Vec<f64> = {
        let before: Vec<f64> = targets.iter().map(|t| proc_cpu_s(t.2)).collect();
        let t0 = Instant::now();
        std::thread::sleep(Duration::from_secs(secs.min(30)));
        let elapsed = t0.elapsed().as_secs_f64();
        (targets.iter().zip(before))
            .map(|(t, b)| (proc_cpu_s(t.2) - b) / elapsed)
            .collect()
    };
    for ((name, _, pid), cpu) in targets.iter().zip(&idle_cpu) {
        eprintln!(
            "{name}: {:.1}% of a core with no listener, RSS {} KiB",
            cpu * 100.0,
            proc_status_kib(*pid, "VmRSS:").unwrap_or(0)
        );
    }
    println!(
        "| server | listeners | connected (ramp) | keeping up (>= 99% of 16,000 B/s) | min / median ratio | CPU s per listener-minute (less idle) | RSS during load | RSS per listener | anonymous RSS per listener | kernel TCP memory per listener (both ends) | load tool CPU | load average |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for &n in &sizes {
        for ((name, url, pid), idle) in targets.iter().zip(&idle_cpu) {
            let rss_idle = proc_status_kib(*pid, "VmRSS:").unwrap_or(0);
            let anon_idle = proc_status_kib(*pid, "RssAnon:").unwrap_or(0);
            eprintln!("{name}: before {n} listeners, {}", memory_breakdown(*pid));
            let tcp_idle = tcp_mem_kib();
            let r = rt.block_on(load(url, n, Duration::from_secs(secs), Some(*pid), None));
            let cpu = r.cpu_s.unwrap_or(0.0);
            let net = (cpu - idle * r.window_s).max(0.0);
            let listener_minutes = n as f64 * r.window_s / 60.0;
            let rss = r.rss_kib.unwrap_or(0);
            println!(
                "| {name} | {n} | {} ({:.1} s) | {:.1}% | {:.3} / {:.3} | {:.5} ({cpu:.1} s, {net:.1} s less idle) | {} MiB (peak {} MiB) | {:.2} KiB | {:.2} KiB | {:.2} KiB | {:.0}% of a core | {} |",
                r.connected,
                r.ramp_s,
                r.keeping_up * 100.0,
                r.min_ratio,
                r.median_ratio,
                net / listener_minutes,
                rss / 1024,
                r.hwm_kib.unwrap_or(0) / 1024,
                rss.saturating_sub(rss_idle) as f64 / n as f64,
                r.anon_kib.unwrap_or(0).saturating_sub(anon_idle) as f64 / n as f64,
                r.tcp_mem_kib.saturating_sub(tcp_idle) as f64 / n as f64,
                r.tool_cpu_s / r.window_s * 100.0,
                load_average(),
            );
            // Let closed connections drain before the next round.
            std::thread::sleep(Duration::from_secs(5));
        }
    }
    if let Ok(log) = std::fs::read_to_string(dir.path().join("icecast-log/error.log")) {
        let tail: Vec<&str> = log.lines().rev().take(15).collect();
        eprintln!(
            "icecast error.log (last lines, newest first):\n{}",
            tail.join("\n")
        );
    }
    if let Ok(log) = std::fs::read_to_string(dir.path().join("daemon.log")) {
        let tail: Vec<&str> = log.lines().rev().take(10).collect();
        eprintln!(
            "daemon log (last lines, newest first):\n{}",
            tail.join("\n")
        );
    }
    drop(antenne);
    drop(icecast);
}

// ---------------------------------------------------------------------------------------
// recording: the cost of listener sessions, with vs without, in one run

/// A recording server's counts: session batches (catalog transactions), sessions written,
/// sessions lost, airplay rows written, airplay events dropped.
#[derive(Debug, Default, Clone, Copy)]
struct Writes([u64; 5]);

async fn writes(port: u16) -> Writes {
    let Ok(mut s) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
        return Writes::default();
    };
    let req = "GET /bench/writes HTTP/1.0\r\nHost: bench\r\n\r\n";
    let _ = s.write_all(req.as_bytes()).await;
    let mut text = String::new();
    let _ = s.read_to_string(&mut text).await;
    let body = text.rsplit("\r\n\r\n").next().unwrap_or("");
    let v: Vec<u64> = body
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    Writes(std::array::from_fn(|i| v.get(i).copied().unwrap_or(0)))
}

fn recording() {
    let sizes: Vec<usize> = std::env::var("LISTENERS")
        .unwrap_or_else(|_| "5000".into())
        .split(',')
        .map(|s| s.trim().parse().unwrap())
        .collect();
    let secs: u64 = std::env::var("SECS")
        .ok()
        .map_or(60, |s| s.parse().unwrap());
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .map_or(2, |s| s.parse().unwrap());
    let churn = Duration::from_secs(
        std::env::var("CHURN_S")
            .ok()
            .map_or(60, |s| s.parse().unwrap()),
    );
    let dir = tempfile::tempdir().unwrap();
    let mp3 = dir.path().join("loop.mp3");
    test_mp3(&mp3);
    let exe = std::env::current_exe().unwrap();
    let start = |sessions: Option<&std::path::Path>| {
        let port = free_port();
        let mut cmd = Command::new(&exe);
        cmd.args([
            "serve",
            "--port",
            &port.to_string(),
            "--mp3",
            mp3.to_str().unwrap(),
        ]);
        if let Some(d) = sessions {
            cmd.arg("--sessions").arg(d);
        }
        (port, Killed(cmd.stdout(Stdio::null()).spawn().unwrap()))
    };
    let catalog_dir = dir.path().join("catalog");
    let plain = start(None);
    let recorded = start(Some(&catalog_dir));
    std::thread::sleep(Duration::from_secs(4));
    let rt = tokio::runtime::Runtime::new().unwrap();
    println!(
        "| sessions and airplay recorded | listeners | round | keeping up | CPU s in the window | CPU s per listener-minute | session transactions per minute | sessions written per minute | airplay rows per minute | lost sessions / airplay events |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let mut totals = [0.0f64; 2];
    for &n in &sizes {
        for round in 0..rounds {
            // Alternate which goes first, so a drift in the machine's load hits both.
            let order: [usize; 2] = if round % 2 == 0 { [0, 1] } else { [1, 0] };
            for which in order {
                let (port, child) = if which == 0 { &plain } else { &recorded };
                let url = format!("http://127.0.0.1:{port}/stream");
                let r = rt.block_on(load(
                    &url,
                    n,
                    Duration::from_secs(secs),
                    Some(child.0.id()),
                    Some(churn),
                ));
                let cpu = r.cpu_s.unwrap_or(0.0);
                totals[which] += cpu;
                let Writes([batches, rows, lost, aired, dropped]) = r.writes.unwrap_or_default();
                let per_min = |v: u64| format!("{:.0}", v as f64 * 60.0 / r.window_s);
                let recorded = [
                    per_min(batches),
                    per_min(rows),
                    per_min(aired),
                    format!("{lost} / {dropped}"),
                ];
                let cells = if which == 1 {
                    recorded.join(" | ")
                } else {
                    ["-"; 4].join(" | ")
                };
                println!(
                    "| {} | {n} | {} | {:.1}% | {cpu:.2} | {:.5} | {cells} |",
                    if which == 1 { "yes" } else { "no" },
                    round + 1,
                    r.keeping_up * 100.0,
                    cpu / (n as f64 * r.window_s / 60.0),
                );
                std::thread::sleep(Duration::from_secs(3));
            }
        }
    }
    println!(
        "\nCPU with recording / without, all rounds: {:.3} ({:.2} s / {:.2} s)",
        totals[1] / totals[0].max(1e-9),
        totals[1],
        totals[0]
    );
    drop(plain);
    drop(recorded);
}
