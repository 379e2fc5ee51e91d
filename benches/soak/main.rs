//! Soak bench (not part of `cargo test`): `cargo bench --bench soak -- --minutes 30`.
//!
//! 1. A simulated week (nine days across a DST change) played out in accelerated time
//!    through the public playout API, with schedule reloads while it plays
//!    ([`week`]): every frame exactly once, no discontinuity.
//! 2. The real `antenne serve` for `--minutes` real minutes with listeners joining and
//!    leaving (some stalling on purpose), a schedule edit every few minutes and uploads in
//!    between ([`live`]): RSS at start and end (medians of the first and last minute of the
//!    measured part, after a warm-up under the same load; growth <= 10 %), dropped listeners (only
//!    stallers may be), stream discontinuities (zero).
//!
//! Options: `--minutes M` (default 30), `--warmup-minutes W` (same load before the measured
//! minutes; default M/4, at most 6), `--readers N` (default 16), `--skip-week`,
//! `--skip-live`, `--bin PATH` (default: the `antenne` built with this bench). Exits non-zero
//! when a check fails. Figures go to RELIABILITY.md (`## Soak`).

mod live;
mod week;

use std::path::PathBuf;
use std::time::Duration;

fn self_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let mut minutes = 30.0f64;
    let mut readers = 16usize;
    let mut warmup: Option<f64> = None;
    let mut bin = PathBuf::from(env!("CARGO_BIN_EXE_antenne"));
    let (mut do_week, mut do_live) = (true, true);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--minutes" => {
                minutes = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--minutes M")
            }
            "--warmup-minutes" => {
                warmup = Some(
                    args.next()
                        .and_then(|v| v.parse().ok())
                        .expect("--warmup-minutes M"),
                )
            }
            "--readers" => {
                readers = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--readers N")
            }
            "--bin" => bin = args.next().expect("--bin PATH").into(),
            "--skip-week" => do_week = false,
            "--skip-live" => do_live = false,
            "--bench" => {} // passed by `cargo bench`
            other => panic!("unknown argument {other:?}"),
        }
    }
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut ok = true;
    if do_week {
        let w = week::run(&repo, self_rss_kib);
        println!(
            "week: {} of {} frames (1 kHz) in {:.1} s wall, {} discontinuities, {} titles, \
             {} reloads; bench RSS {} -> {} MiB",
            w.frames,
            w.expected_frames,
            w.wall.as_secs_f64(),
            w.discontinuities,
            w.titles,
            w.reloads,
            w.rss_start_kib / 1024,
            w.rss_end_kib / 1024
        );
        ok &= w.ok();
    }
    if do_live {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let r = rt.block_on(live::run(live::LiveConfig {
            bin,
            repo,
            duration: Duration::from_secs_f64(minutes * 60.0),
            // Long enough for the first stallers to be dropped (their 330 s hold).
            warmup: Duration::from_secs_f64(warmup.unwrap_or((minutes / 4.0).min(6.0)) * 60.0),
            readers,
        }));
        println!(
            "live: {minutes} min; RSS launch {} MiB, start {:.1} MiB, end {:.1} MiB ({:+.1} %), \
             max {:.1} MiB; of which anonymous {:.1} -> {:.1} MiB",
            r.rss_launch_kib / 1024,
            r.rss_start_kib as f64 / 1024.0,
            r.rss_end_kib as f64 / 1024.0,
            r.rss_growth() * 100.0,
            r.rss_max_kib as f64 / 1024.0,
            r.anon_start_kib as f64 / 1024.0,
            r.anon_end_kib as f64 / 1024.0
        );
        println!(
            "live: {} listener sessions ({:.0} s of audio checked), {} dropped while reading; \
             {} stallers, {} dropped by the server",
            r.sessions, r.audio_seconds, r.readers_dropped, r.stallers, r.stallers_dropped
        );
        println!(
            "live: {} frame-sync losses, {} read gaps > 1.5 s, {} sessions behind the clock",
            r.discontinuities, r.read_gaps, r.behind_clock
        );
        println!(
            "live: {} schedule edits, {} reloads logged; {} uploads accepted, {} ready, {} failed; \
             clean exit on SIGTERM: {}; token in the log: {}",
            r.reloads_made,
            r.reloads_seen,
            r.uploads_accepted,
            r.uploads_ready,
            r.uploads_failed,
            r.exit_ok,
            r.token_logged
        );
        for (k, v) in &r.metrics {
            println!("live: {k} {v}");
        }
        ok &= r.ok();
    }
    println!("soak: {}", if ok { "PASS" } else { "FAIL" });
    if !ok {
        std::process::exit(1);
    }
}
