//! Ingest benchmark: a generated N-minute stereo 44.1 kHz programme, as MP3 (192 kbps), AAC
//! (192 kbps, M4A, ffmpeg's native encoder), FLAC or WAV, rendered end to end by Antenne,
//! against the floor (ffmpeg decoding the input and encoding it with LAME at the station's
//! 128 kbps, no loudness work) and ffmpeg's two-pass loudnorm job, in the same run. Every job
//! runs as a child under `/usr/bin/time` (wall, user+sys CPU, peak RSS); the outputs are then
//! measured with ffmpeg's ebur128 filter.
//!
//!     cargo bench --bench ingest -- [--minutes 10,30,60] [--inputs mp3,aac,flac]
//!         [--runs 1] [--two-pass-max-minutes 10] [--dir /tmp/antenne-bench]
//!     cargo bench --bench ingest -- --memory-hours 3 [--dir /tmp/antenne-bench]
//!
//! The second form only renders a generated H-hour WAV with Antenne and reports its peak RSS
//! (the streaming bound: nothing holds the episode in memory). Inputs are generated on first use
//! and kept in `--dir`. Needs ffmpeg and GNU time. Results go to stdout as Markdown tables (see
//! BENCHMARKS.md); `RUST_LOG=antenne=debug` shows the render's phases.

use std::path::{Path, PathBuf};
use std::process::Command;

use antenne::audio::id3::EpisodeTags;
use antenne::audio::render_episode;

struct Run {
    wall: f64,
    cpu: f64,
    rss_mb: f64,
    stdout: String,
}

fn timed(label: &str, cmd: &mut Command) -> Run {
    let out_file = std::env::temp_dir().join(format!("antenne-bench-time-{}", std::process::id()));
    let mut full = Command::new("/usr/bin/time");
    full.arg("-f")
        .arg("%e %U %S %M")
        .arg("-o")
        .arg(&out_file)
        .arg(cmd.get_program())
        .args(cmd.get_args());
    let status = full.output().expect("run /usr/bin/time");
    if !status.status.success() {
        panic!(
            "{label} failed: {}",
            String::from_utf8_lossy(&status.stderr)
        );
    }
    let t = std::fs::read_to_string(&out_file).unwrap();
    let v: Vec<f64> = t
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    let r = Run {
        wall: v[0],
        cpu: v[1] + v[2],
        rss_mb: v[3] / 1024.0,
        stdout: String::from_utf8_lossy(&status.stdout).into_owned(),
    };
    eprintln!(
        "{label}: wall {:.1} s, cpu {:.1} s, rss {:.0} MB",
        r.wall, r.cpu, r.rss_mb
    );
    r
}

fn ffmpeg() -> Command {
    let mut c = Command::new("ffmpeg");
    c.args(["-hide_banner", "-nostdin", "-y", "-loglevel", "error"]);
    c
}

/// A programme-like signal: speech-like bursts over a bed, music-like passages, pauses, and
/// sparse sharp transients (a high peak-to-loudness ratio, so the limiter has work).
fn generate_wav(path: &Path, minutes: u32) {
    let tmp = path.with_extension("partial");
    let rate = 44_100u32;
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&tmp, spec).unwrap();
    let mut seed = 0x9e37_79b9u32;
    let (mut lp_l, mut lp_r) = (0.0f32, 0.0f32);
    let total = minutes as usize * 60 * rate as usize;
    for i in 0..total {
        let t = i as f32 / rate as f32;
        let section = (t / 40.0) as u32 % 3; // 40 s sections: speech, music, speech+music
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let n1 = (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let n2 = (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
        lp_l += 0.15 * (n1 - lp_l);
        lp_r += 0.15 * (n2 - lp_r);
        let syll = (0.5 + 0.5 * (2.0 * std::f32::consts::PI * 4.3 * t).sin()).powi(2);
        let pitch = 140.0 + 30.0 * (2.0 * std::f32::consts::PI * 0.7 * t).sin();
        let voice = syll * (0.5 * (2.0 * std::f32::consts::PI * pitch * t).sin() + 0.6 * lp_l);
        let music = 0.25 * (2.0 * std::f32::consts::PI * 220.0 * t).sin()
            + 0.15 * (2.0 * std::f32::consts::PI * 330.0 * t).sin()
            + 0.1
                * (2.0 * std::f32::consts::PI * 1_760.0 * t).sin()
                * (0.5 + 0.5 * (2.0 * std::f32::consts::PI * 2.0 * t).sin())
            + 0.08 * n1;
        let (l, r) = match section {
            0 => (0.12 * voice, 0.12 * voice),
            1 => (0.18 * music + 0.05 * lp_r, 0.18 * music - 0.05 * lp_r),
            _ => (
                0.1 * voice + 0.06 * music,
                0.1 * voice + 0.06 * music + 0.02 * lp_r,
            ),
        };
        // A sharp transient (door, mic bump) every 7 s.
        let click = if i % (7 * rate as usize) < 24 {
            if i % 2 == 0 { 0.9 } else { -0.9 }
        } else {
            0.0
        };
        w.write_sample(((l + click).clamp(-1.0, 1.0) * 32_000.0) as i16)
            .unwrap();
        w.write_sample(((r + click).clamp(-1.0, 1.0) * 32_000.0) as i16)
            .unwrap();
    }
    w.finalize().unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// ffmpeg's ebur128 filter on `path`: (integrated LUFS, true peak dBTP).
fn ffmpeg_measure(path: &Path) -> (f64, f64) {
    let out = ffmpeg()
        .args(["-loglevel", "info", "-i"])
        .arg(path)
        .args(["-af", "ebur128=peak=true", "-f", "null", "-"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    let summary = &text[text.rfind("Summary:").expect("ebur128 summary")..];
    let num = |key: &str| -> f64 {
        let at = summary.find(key).unwrap() + key.len();
        summary[at..]
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    (num("I:"), num("Peak:"))
}

fn loudnorm_pass1(path: &Path) -> serde_json::Value {
    let out = ffmpeg()
        .args(["-loglevel", "info", "-i"])
        .arg(path)
        .args([
            "-af",
            "loudnorm=I=-16:TP=-1:LRA=11:print_format=json",
            "-f",
            "null",
            "-",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    let start = text.rfind('{').unwrap();
    let end = text.rfind('}').unwrap();
    serde_json::from_str(&text[start..=end]).unwrap()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // Child mode: one render, so /usr/bin/time sees only it.
    if args.get(1).map(String::as_str) == Some("--render") {
        // Phase timings with RUST_LOG=antenne=debug.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .try_init();
        let opts = antenne::audio::RenderOptions {
            tags: EpisodeTags {
                title: "bench".into(),
                ..Default::default()
            },
            ..antenne::config::StationSettings::default().render_options()
        };
        let r = render_episode(Path::new(&args[2]), Path::new(&args[3]), &opts).expect("render");
        println!("{}", serde_json::to_string(&r).unwrap());
        return;
    }
    if args.get(1).map(String::as_str) == Some("--loudnorm-pass1") {
        println!("{}", loudnorm_pass1(Path::new(&args[2])));
        return;
    }
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let dir = PathBuf::from(flag("--dir").unwrap_or_else(|| {
        std::env::temp_dir()
            .join("antenne-bench")
            .display()
            .to_string()
    }));
    std::fs::create_dir_all(&dir).unwrap();
    let me = std::env::current_exe().unwrap();
    if let Some(hours) = flag("--memory-hours") {
        let hours: u32 = hours.parse().expect("--memory-hours N");
        memory_only(&me, &dir, hours);
        return;
    }
    let list = |name: &str, default: &str| -> Vec<String> {
        flag(name)
            .unwrap_or_else(|| default.into())
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let minutes: Vec<u32> = list("--minutes", "10,30,60")
        .iter()
        .map(|m| m.parse().expect("--minutes N[,N...]"))
        .collect();
    let inputs = list("--inputs", "mp3,aac,flac");
    let runs: u32 = flag("--runs").map(|r| r.parse().unwrap()).unwrap_or(1);
    // The two-pass job is 6-7x the others: by default only on the short programmes.
    let two_pass_max: u32 = flag("--two-pass-max-minutes")
        .map(|m| m.parse().unwrap())
        .unwrap_or(10);
    for &m in &minutes {
        for run in 1..=runs {
            one_length(&me, &dir, m, &inputs, m <= two_pass_max, run);
        }
    }
}

/// The input of `kind` (`wav`, `mp3`, `aac`, `flac`) for an `minutes`-minute programme, made
/// from the generated WAV on first use: MP3 192 kbps (LAME), AAC 192 kbps in M4A (ffmpeg's
/// native encoder), FLAC (ffmpeg's encoder, default level).
fn input(dir: &Path, minutes: u32, kind: &str) -> PathBuf {
    let wav = dir.join(format!("programme-{minutes}min.wav"));
    if !wav.exists() {
        eprintln!("generating {}", wav.display());
        generate_wav(&wav, minutes);
    }
    let (ext, codec): (&str, &[&str]) = match kind {
        "wav" => return wav,
        "mp3" => ("mp3", &["-c:a", "libmp3lame", "-b:a", "192k"]),
        "aac" => ("m4a", &["-c:a", "aac", "-b:a", "192k"]),
        "flac" => ("flac", &["-c:a", "flac"]),
        other => panic!("unknown input kind {other} (wav, mp3, aac, flac)"),
    };
    let path = dir.join(format!("programme-{minutes}min-{kind}.{ext}"));
    if !path.exists() {
        let partial = dir.join(format!("programme-{minutes}min-{kind}.partial.{ext}"));
        let ok = ffmpeg()
            .arg("-i")
            .arg(&wav)
            .args(codec)
            .arg(&partial)
            .status()
            .unwrap();
        assert!(ok.success(), "ffmpeg could not make the {kind} input");
        std::fs::rename(&partial, &path).unwrap();
    }
    path
}

/// One run over every input kind at one length: Antenne, the floor and (when `two_pass`)
/// ffmpeg's two-pass loudnorm job, back to back per input.
fn one_length(me: &Path, dir: &Path, minutes: u32, kinds: &[String], two_pass: bool, run: u32) {
    let inputs: Vec<(String, PathBuf)> = kinds
        .iter()
        .map(|k| (k.clone(), input(dir, minutes, k)))
        .collect();
    println!();
    println!(
        "### {minutes}-minute input, run {run}; load average before: {}",
        load_average()
    );
    println!();
    println!(
        "| input | job | wall s | CPU s | peak RSS MB | published I LUFS (ffmpeg) | TP dBTP (ffmpeg) | load (1 min) |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut ratios = Vec::new();
    for (kind, input) in &inputs {
        let ours_out = dir.join(format!("ours-{kind}.mp3"));
        let ours = timed(
            "antenne render",
            Command::new(me).arg("--render").arg(input).arg(&ours_out),
        );
        let (oi, otp) = ffmpeg_measure(&ours_out);
        println!(
            "| {kind} | antenne (end to end) | {:.1} | {:.1} | {:.0} | {oi:.2} | {otp:.2} | {} |",
            ours.wall,
            ours.cpu,
            ours.rss_mb,
            load_1()
        );
        let floor_out = dir.join(format!("floor-{kind}.mp3"));
        let floor = timed(
            "ffmpeg decode + LAME (floor)",
            ffmpeg()
                .arg("-i")
                .arg(input)
                .args(["-c:a", "libmp3lame", "-b:a", "128k", "-ar", "44100"])
                .arg(&floor_out),
        );
        println!(
            "| {kind} | ffmpeg decode + LAME 128k (floor) | {:.1} | {:.1} | {:.0} | — | — | {} |",
            floor.wall,
            floor.cpu,
            floor.rss_mb,
            load_1()
        );
        let two = two_pass.then(|| {
            let (two, fi, ftp) = two_pass_job(me, dir, kind, input);
            println!(
                "| {kind} | ffmpeg loudnorm two-pass | {:.1} | {:.1} | {:.0} | {fi:.2} | {ftp:.2} | {} |",
                two.wall,
                two.cpu,
                two.rss_mb,
                load_1()
            );
            two
        });
        ratios.push((kind.clone(), ours, two, floor));
    }
    let short = minutes <= 10;
    println!();
    println!(
        "| input | antenne / floor, wall (target <= {}) | antenne / floor, CPU | two-pass / antenne, wall (target >= 6 at 10 min) | two-pass / antenne, CPU |",
        if short { "1.1" } else { "1.0" }
    );
    println!("|---|---|---|---|---|");
    for (kind, ours, two, floor) in &ratios {
        let (tw, tc) = match two {
            Some(two) => (
                format!("{:.2}x", two.wall / ours.wall),
                format!("{:.2}x", two.cpu / ours.cpu),
            ),
            None => ("—".into(), "—".into()),
        };
        println!(
            "| {kind} | {:.2}x | {:.2}x | {tw} | {tc} |",
            ours.wall / floor.wall,
            ours.cpu / floor.cpu,
        );
    }
    println!();
    println!("load average after: {}", load_average());
}

/// ffmpeg's two-pass loudnorm job on `input`: the run (both passes summed) and the published
/// file's loudness and true peak.
fn two_pass_job(me: &Path, dir: &Path, kind: &str, input: &Path) -> (Run, f64, f64) {
    let p1 = timed(
        "ffmpeg loudnorm pass 1",
        Command::new(me).arg("--loudnorm-pass1").arg(input),
    );
    let m: serde_json::Value = serde_json::from_str(p1.stdout.trim()).expect("pass 1 JSON");
    let filter = format!(
        "loudnorm=I=-16:TP=-1:LRA=11:measured_I={}:measured_TP={}:measured_LRA={}:measured_thresh={}:offset={}:linear=true",
        m["input_i"].as_str().unwrap(),
        m["input_tp"].as_str().unwrap(),
        m["input_lra"].as_str().unwrap(),
        m["input_thresh"].as_str().unwrap(),
        m["target_offset"].as_str().unwrap()
    );
    let ff_out = dir.join(format!("ffmpeg-{kind}.mp3"));
    let p2 = timed(
        "ffmpeg loudnorm pass 2",
        ffmpeg()
            .arg("-i")
            .arg(input)
            .args([
                "-af",
                &filter,
                "-ar",
                "44100",
                "-c:a",
                "libmp3lame",
                "-b:a",
                "128k",
            ])
            .arg(&ff_out),
    );
    let (fi, ftp) = ffmpeg_measure(&ff_out);
    let two = Run {
        wall: p1.wall + p2.wall,
        cpu: p1.cpu + p2.cpu,
        rss_mb: p1.rss_mb.max(p2.rss_mb),
        stdout: String::new(),
    };
    (two, fi, ftp)
}

/// The 1-minute load average.
fn load_1() -> String {
    load_average()
        .split_whitespace()
        .next()
        .unwrap_or("?")
        .to_string()
}

/// The 1-, 5- and 15-minute load averages, as `uptime` shows them.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// Renders a generated `hours`-hour WAV and reports Antenne's peak RSS (target < 200 MB).
fn memory_only(me: &Path, dir: &Path, hours: u32) {
    let wav = dir.join(format!("programme-{}min.wav", hours * 60));
    if !wav.exists() {
        eprintln!("generating {}", wav.display());
        generate_wav(&wav, hours * 60);
    }
    let out = dir.join("ours-memory.mp3");
    println!("load average before: {}", load_average());
    let run = timed(
        "antenne render",
        Command::new(me).arg("--render").arg(&wav).arg(&out),
    );
    let (i, tp) = ffmpeg_measure(&out);
    println!();
    println!(
        "| input | wall s | CPU s | peak RSS MB (target < 200) | published I LUFS (ffmpeg) | TP dBTP (ffmpeg) |"
    );
    println!("|---|---|---|---|---|---|");
    println!(
        "| {hours} h WAV | {:.1} | {:.1} | {:.0} | {i:.2} | {tp:.2} |",
        run.wall, run.cpu, run.rss_mb
    );
    println!();
    println!("load average after: {}", load_average());
}
