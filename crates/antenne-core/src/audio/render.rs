//! The episode render: analyse → gain → limit → trim → encode → measure the MP3 → publish.
//!
//! Pass 1 (`pass1`) analyses the source (loudness, peaks, silence, and — from encoded excerpts —
//! the loudness the MP3 encoder will leave), its meters on two worker threads, and keeps a
//! compressed source's decoded frames on disk so that no later reader decodes it again. When the gain would
//! push peaks over the ceiling, one simulation (no encoding, two halves on two threads) finds the
//! gain that lands on target after the limiter. The encode pass runs decode/normalise on one
//! thread, LAME on another, and decodes and meters the encoded bytes on a third as they are
//! written (`verify`): the published file is measured without a pass of its own, and re-rendered
//! with a corrected gain in the rare case it missed. A programme of a minute or more is encoded
//! as two halves, each with those three threads, spliced into one stream (`halves`). The file appears at `output` only once
//! complete: temp file in the same folder, fsync, rename, fsync of the folder.
//!
//! Costs, for the record (CPU, 10-minute WAV): LAME ~5 s, pass 1 ~1.5 s, calibration ~0.4 s,
//! simulation ~0.7 s, decode/limiter/metering beside LAME ~3 s.

use std::path::{Path, PathBuf};

use super::analyse::{Analysis, LoudnessReport, Measured, SourceFacts};
use super::calibrate::Excerpts;
use super::decode::open_station;
use super::encode::Mp3FileWriter;
use super::halves::{Plan, encode_halves};
use super::id3::EpisodeTags;
use super::limiter::LimiterParams;
use super::normalise::{Producer, Programme, simulate};
use super::pass1::{Span, analyze_for_render, measure_part};
use super::trim::TrimRange;
use super::verify::TeeMeter;
use super::{AudioError, PcmSource};

/// Frames read from the decoder at a time.
pub(super) const CHUNK: usize = 16_384;
/// Below this integrated loudness a programme counts as silent.
const SILENT_LUFS: f64 = -70.0;
/// Allowed distance from target on the published file before a corrective re-render.
const LOUDNESS_TOLERANCE_LU: f64 = 0.3;
/// The crate reads true peak up to ~0.1 dB lower than ffmpeg: aim this far under the ceiling.
const TP_MARGIN_DB: f64 = 0.2;
/// Head-room the limiter leaves for the MP3 encoder's own overshoot.
const ENCODER_HEADROOM_DB: f64 = 0.5;
/// Added to the encoder overshoot seen on the calibration excerpts: a whole programme has more
/// peaks than its excerpts, and a worse one among them.
const OVERSHOOT_MARGIN_DB: f64 = 0.4;

/// How to render an episode; the daemon's `Settings::render_options` fills it from the
/// configuration.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    pub target_lufs: f64,
    pub ceiling_dbtp: f64,
    pub rate: u32,
    pub bitrate_kbps: u32,
    pub keep_silence_s: f64,
    pub tags: EpisodeTags,
    /// Longer inputs are rejected.
    pub max_duration_s: f64,
}

/// What the render did, for the catalog and the CLI.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RenderReport {
    pub before: LoudnessReport,
    /// Measured on the published MP3, decoded back.
    pub after: LoudnessReport,
    pub gain_db: f64,
    pub limited: bool,
    pub limiter_reduction_db: f64,
    /// Frames kept, at the station rate: the published file decodes to exactly this many.
    pub trim_start_frames: u64,
    pub trim_end_frames: u64,
    pub output_bytes: u64,
    /// Encode passes (1 unless the first file missed the target).
    pub encode_passes: u32,
    /// LAME encoders whose streams make the file: 2 when it was encoded on both cores.
    #[serde(default = "one")]
    pub encoders: u32,
}

fn one() -> u32 {
    1
}

fn facts(info: &super::ProbeInfo) -> SourceFacts {
    SourceFacts {
        sample_rate: info.sample_rate,
        channels: info.channels,
        codec: info.codec.clone(),
    }
}

/// Decodes `path` at `rate` and measures it (pass 1, or the check of a published file).
pub fn analyze_file(
    path: &Path,
    rate: u32,
    keep_excerpts: bool,
    max_duration_s: f64,
) -> Result<Analysis, AudioError> {
    analyze_station(
        open_station(path, rate)?,
        path,
        rate,
        keep_excerpts,
        max_duration_s,
    )
}

/// [`analyze_file`] over any byte source (`label` names it in errors and gives the format
/// hint): the same decode, downmix, resample and analysis. The fuzz targets feed hostile bytes
/// through it, inside [`contained`], as an ingest job does.
pub fn analyze_source(
    source: Box<dyn symphonia::core::io::MediaSource>,
    label: &Path,
    rate: u32,
    keep_excerpts: bool,
    max_duration_s: f64,
) -> Result<Analysis, AudioError> {
    let src = super::decode::open_station_source(source, label, rate)?;
    analyze_station(src, label, rate, keep_excerpts, max_duration_s)
}

fn analyze_station(
    src: super::decode::StationSource,
    path: &Path,
    rate: u32,
    keep_excerpts: bool,
    max_duration_s: f64,
) -> Result<Analysis, AudioError> {
    let facts = facts(src.info());
    let excerpts =
        keep_excerpts.then(|| Excerpts::new(src.len_frames().map(|n| n.div_ceil(CHUNK as u64))));
    let part = measure_part(src, path, rate, Span::WHOLE, excerpts, max_duration_s, None)?;
    let facts = SourceFacts {
        channels: part.channels.max(facts.channels),
        ..facts
    };
    let mut analysis = Measured::combine(&[part.measured], facts)?;
    analysis.excerpts = part.excerpts;
    Ok(analysis)
}

/// Rejects what cannot be an episode; returns the integrated loudness.
fn check_usable(path: &Path, report: &LoudnessReport) -> Result<f64, AudioError> {
    let reject = |reason: &str| AudioError::Rejected {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    if report.duration_frames == 0 {
        return Err(reject("no audio frames (truncated or empty stream)"));
    }
    match report.integrated_lufs {
        Some(l) if l > SILENT_LUFS => Ok(l),
        _ => Err(reject("silent (no programme above -70 LUFS)")),
    }
}

/// Runs `f` on its own thread so a panicking decoder on hostile bytes becomes an error naming
/// `path` instead of taking the process down.
pub fn contained<T: Send + 'static>(
    path: &Path,
    f: impl FnOnce() -> Result<T, AudioError> + Send + 'static,
) -> Result<T, AudioError> {
    let handle = std::thread::Builder::new()
        .name("audio-job".into())
        .spawn(f)
        .map_err(|e| AudioError::Stage(format!("cannot start audio thread: {e}")))?;
    handle.join().unwrap_or_else(|panic| {
        Err(AudioError::Decode {
            path: path.to_path_buf(),
            reason: crashed(panic.as_ref()),
        })
    })
}

/// The reason given for a decoder that panicked: "the decoder crashed on this file (MESSAGE)".
/// Shared by [`contained`] jobs and playout's decode-ahead threads.
pub fn crashed(panic: &(dyn std::any::Any + Send)) -> String {
    let msg = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    format!("the decoder crashed on this file ({msg})")
}

/// What one encode pass produced.
pub(super) struct Encoded {
    pub(super) bytes: u64,
    pub(super) limiter_reduction_db: f64,
    /// The published file's loudness report, measured while it was written.
    pub(super) after: LoudnessReport,
    /// The audio frame where a two-encoder render spliced B's stream in.
    pub(super) seam: Option<u64>,
}

/// Encodes the normalised stream into `tmp` and measures the result: decode/normalise on a
/// helper thread, LAME here, and the encoded bytes decoded and metered on a third thread as
/// they are written (see `verify`).
pub(super) fn encode_pass(
    input: &Programme,
    tmp: &Path,
    opts: &RenderOptions,
    gain_db: f64,
    params: LimiterParams,
    trim: TrimRange,
) -> Result<Encoded, AudioError> {
    let mut writer = Mp3FileWriter::create(tmp, opts.rate, opts.bitrate_kbps, &opts.tags)?;
    let meter = TeeMeter::spawn(tmp, opts.rate, trim.len())?;
    writer.set_tap(meter.tap());
    let producer = Producer::spawn(input, opts.rate, gain_db, params, trim, 0)?;
    let mut result = Ok(());
    for buf in producer.chunks.iter() {
        result = writer.encode(&buf);
        if result.is_err() {
            break;
        }
    }
    let reduction = producer.finish()?;
    result?;
    let done = writer.finish_with_info()?;
    let after = match meter.finish(&done.info)? {
        Some(a) => a.report,
        None => {
            // The stream did not look as the meter assumed: measure the finished file.
            tracing::info!(file = %tmp.display(), "measuring the published file after encoding");
            analyze_file(tmp, opts.rate, false, opts.max_duration_s + 60.0)?.report
        }
    };
    Ok(Encoded {
        bytes: done.bytes,
        limiter_reduction_db: reduction,
        after,
        seam: None,
    })
}

fn temp_path(output: &Path) -> PathBuf {
    let name = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "episode.mp3".into());
    output.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// Renders `input` into the published MP3 `output` and reports loudness before and after.
pub fn render_episode(
    input: &Path,
    output: &Path,
    opts: &RenderOptions,
) -> Result<RenderReport, AudioError> {
    let started = std::time::Instant::now();
    let cache_dir = output
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let (analysis, cache) = analyze_for_render(input, opts.rate, opts.max_duration_s, cache_dir)?;
    tracing::debug!(elapsed = ?started.elapsed(), cpu_s = process_cpu_s(), cached = cache.is_some(), "render: analysed");
    // Every later reader reads the frames pass 1 decoded, when they were kept.
    let programme = Programme {
        path: input.to_path_buf(),
        cache,
    };
    let before = analysis.report.clone();
    let integrated = check_usable(input, &before)?;
    let keep = (opts.keep_silence_s.max(0.0) * opts.rate as f64) as u64;
    let trim = TrimRange::new(
        before.duration_frames,
        before.leading_silence_frames,
        before.trailing_silence_frames,
        keep,
    );

    // The gain aims at the loudness the encoded file will have (see `calibrate`).
    let mut gain_db = opts.target_lufs - integrated;
    let mut params = LimiterParams {
        ceiling_db: opts.ceiling_dbtp - TP_MARGIN_DB - ENCODER_HEADROOM_DB,
        ..Default::default()
    };
    let calibration = match &analysis.excerpts {
        Some(e) => e.encoder_shift(opts.rate, opts.bitrate_kbps, gain_db, params)?,
        None => None,
    };
    let shift = calibration.map(|c| c.shift_lu).unwrap_or(0.0);
    if let Some(c) = calibration {
        // Where the excerpts' encoded peaks went further over the limiter's ceiling than the
        // head-room allows, lower the ceiling now rather than re-encode after the check.
        let headroom = c.overshoot_db + OVERSHOOT_MARGIN_DB;
        if headroom > ENCODER_HEADROOM_DB {
            params.ceiling_db = opts.ceiling_dbtp - TP_MARGIN_DB - headroom;
        }
    }
    gain_db -= shift;
    tracing::debug!(elapsed = ?started.elapsed(), cpu_s = process_cpu_s(), shift, ceiling = params.ceiling_db, "render: encoder calibrated");
    let ceiling_lin = 10f64.powf(params.ceiling_db / 20.0);
    let loudest_block = analysis.block_peaks.iter().fold(0.0f32, |m, p| m.max(*p)) as f64;
    let needs_limiter = loudest_block * 10f64.powf(gain_db / 20.0) > ceiling_lin;
    if needs_limiter {
        // The limiter lowers loudness a little, almost independently of the gain: one
        // simulation (no encoding) measures how much, and the gain makes up for it.
        let got = simulate(&programme, opts, gain_db, params, trim)? + shift;
        let err = opts.target_lufs - got;
        if err.is_finite() && err.abs() >= 0.05 {
            gain_db += err;
        }
        tracing::debug!(elapsed = ?started.elapsed(), cpu_s = process_cpu_s(), err, "render: limiter simulated");
    }

    let tmp = temp_path(output);
    let cleanup = |e: AudioError| {
        let _ = std::fs::remove_file(&tmp);
        e
    };
    let mut passes = 0;
    loop {
        passes += 1;
        let Encoded {
            bytes,
            limiter_reduction_db: reduction,
            after,
            seam,
        } = match Plan::for_programme(trim.len(), opts.rate) {
            Some(plan) => encode_halves(&programme, &tmp, opts, gain_db, params, trim, plan),
            None => encode_pass(&programme, &tmp, opts, gain_db, params, trim),
        }
        .map_err(cleanup)?;
        tracing::debug!(elapsed = ?started.elapsed(), cpu_s = process_cpu_s(), passes, ?seam, "render: encoded and measured");
        let loud = after.integrated_lufs.unwrap_or(f64::NEG_INFINITY);
        let tp_excess = after.true_peak_dbtp - (opts.ceiling_dbtp - TP_MARGIN_DB);
        let off = opts.target_lufs - loud;
        if passes >= 3 || (off.abs() <= LOUDNESS_TOLERANCE_LU && tp_excess <= 0.0) {
            if off.abs() > 0.5 || tp_excess > TP_MARGIN_DB {
                tracing::warn!(file = %input.display(), loud, tp = after.true_peak_dbtp, "published file misses the loudness bounds");
            }
            publish(&tmp, output).map_err(cleanup)?;
            return Ok(RenderReport {
                before,
                after,
                gain_db,
                limited: reduction > 0.01,
                limiter_reduction_db: reduction,
                trim_start_frames: trim.start,
                trim_end_frames: trim.end,
                output_bytes: bytes,
                encode_passes: passes,
                encoders: if seam.is_some() { 2 } else { 1 },
            });
        }
        tracing::info!(file = %input.display(), off, tp_excess, "correcting the render after measuring the MP3");
        gain_db += off;
        if tp_excess > 0.0 {
            params.ceiling_db -= tp_excess + 0.1;
        }
    }
}

/// CPU time of this process so far (user + system), for the debug log of the render's phases.
fn process_cpu_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name: state is field 3; utime and stime are fields 14 and 15.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// fsync the finished temp file's folder entry: rename into place, then fsync the folder.
fn publish(tmp: &Path, output: &Path) -> Result<(), AudioError> {
    let werr = |source| AudioError::Write {
        path: output.to_path_buf(),
        error: source,
    };
    std::fs::rename(tmp, output).map_err(werr)?;
    if let Some(dir) = output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(werr)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::Mp3StreamEncoder;

    /// An MP3 of `secs` seconds of a tone with noise, from the station's own encoder.
    fn mp3(path: &Path, rate: u32, secs: f64) {
        let mut seed = 7u32;
        let pcm: Vec<f32> = (0..(secs * rate as f64) as usize)
            .flat_map(|i| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let noise = (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
                let s = 0.3 * (i as f32 * 0.031).sin() + 0.05 * noise;
                [s, -s]
            })
            .collect();
        let mut enc = Mp3StreamEncoder::new(rate, 128).unwrap();
        let mut bytes = Vec::new();
        enc.encode(&pcm, &mut bytes).unwrap();
        enc.flush(&mut bytes).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    #[test]
    fn pass_one_keeps_exactly_the_frames_a_fresh_decode_gives() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.mp3");
        let rate = 44_100;
        mp3(&input, rate, 5.0);
        let cache_dir = dir.path().join("out");
        std::fs::create_dir(&cache_dir).unwrap();
        let (analysis, cache) = analyze_for_render(&input, rate, 3600.0, &cache_dir).unwrap();
        let cache = cache.expect("a compressed input is cached");
        assert_eq!(cache.frames(), analysis.report.duration_frames);
        // Nothing named is left in the folder.
        assert_eq!(std::fs::read_dir(&cache_dir).unwrap().count(), 0);
        let read = |src: &mut dyn PcmSource| {
            let mut all = Vec::new();
            while src.read(&mut all, 10_000).unwrap() > 0 {}
            all
        };
        let cached = read(&mut cache.reader());
        let fresh = read(&mut open_station(&input, rate).unwrap());
        assert_eq!(cached.len(), fresh.len());
        assert!(
            cached == fresh,
            "the cache holds the decoded samples bit for bit"
        );
    }

    #[test]
    fn a_long_programme_decoded_in_two_parts_is_the_programme_decoded_in_one() {
        let dir = tempfile::tempdir().unwrap();
        let station = 44_100;
        for source in [44_100, 48_000] {
            let input = dir.path().join(format!("long-{source}.mp3"));
            mp3(&input, source, super::super::pass1::SPLIT_MIN_S + 10.0);
            let (two, cache) = analyze_for_render(&input, station, 3600.0, dir.path()).unwrap();
            let cache = cache.expect("cached");
            let one = analyze_file(&input, station, false, 3600.0).unwrap().report;
            assert_eq!(
                two.report.duration_frames, one.duration_frames,
                "{source} Hz"
            );
            let (a, b) = (
                two.report.integrated_lufs.unwrap(),
                one.integrated_lufs.unwrap(),
            );
            assert!((a - b).abs() < 0.01, "{source} Hz: {a} vs {b}");
            assert_eq!(two.report.true_peak_dbtp, one.true_peak_dbtp);
            let mut cached = Vec::new();
            let mut r = cache.reader();
            while r.read(&mut cached, 65_536).unwrap() > 0 {}
            let mut fresh = Vec::new();
            let mut src = open_station(&input, station).unwrap();
            while src.read(&mut fresh, 65_536).unwrap() > 0 {}
            assert_eq!(cached.len(), fresh.len());
            let worst = cached
                .iter()
                .zip(&fresh)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0, f32::max);
            assert!(worst < 1e-5, "{source} Hz: the parts differ by {worst}");
        }
    }

    #[test]
    fn a_pcm_file_at_the_station_rate_is_read_again_not_cached() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.wav");
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 44_100,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(&input, spec).unwrap();
        for i in 0..44_100 {
            let s = (8_000.0 * (i as f32 * 0.05).sin()) as i16;
            w.write_sample(s).unwrap();
            w.write_sample(s).unwrap();
        }
        w.finalize().unwrap();
        let (_, cache) = analyze_for_render(&input, 44_100, 3600.0, dir.path()).unwrap();
        assert!(cache.is_none());
        let (_, cache) = analyze_for_render(&input, 48_000, 3600.0, dir.path()).unwrap();
        assert!(cache.is_some(), "a resampled source is cached");
    }
}
