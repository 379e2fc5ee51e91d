//! `antenne analyze FILE [--json]`: decode a recording and print its loudness report.

use std::path::PathBuf;

use crate::audio::render::{analyze_file, contained};
use crate::audio::{AudioError, LoudnessReport};
use crate::cli::CliError;
use crate::config::Settings;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The recording to measure (any format symphonia decodes).
    pub file: PathBuf,
    /// Print the report as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// The JSON shape of a report (keys are a public contract).
pub fn report_json(r: &LoudnessReport) -> serde_json::Value {
    serde_json::json!({
        "integrated_lufs": r.integrated_lufs,
        "loudness_range_lu": r.loudness_range_lu,
        "true_peak_dbtp": finite(r.true_peak_dbtp),
        "sample_peak_dbfs": finite(r.sample_peak_dbfs),
        "duration_s": r.duration_s(),
        "sample_rate": r.sample_rate,
        "channels": r.channels,
        "codec": r.codec,
    })
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// Human-readable report lines.
pub fn report_text(r: &LoudnessReport) -> String {
    let db = |x: f64| {
        if x.is_finite() {
            format!("{x:.1}")
        } else {
            "-inf".into()
        }
    };
    let lufs = r
        .integrated_lufs
        .map(|l| format!("{l:.1} LUFS"))
        .unwrap_or_else(|| "silent".into());
    format!(
        "integrated loudness  {lufs}\nloudness range       {:.1} LU\ntrue peak            {} dBTP\nsample peak          {} dBFS\n\
         duration             {:.3} s\nsource               {}, {} Hz, {} ch\nleading silence      {:.3} s\ntrailing silence     {:.3} s\n",
        r.loudness_range_lu,
        db(r.true_peak_dbtp),
        db(r.sample_peak_dbfs),
        r.duration_s(),
        r.codec,
        r.sample_rate,
        r.channels,
        r.leading_silence_frames as f64 / r.analysis_rate as f64,
        r.trailing_silence_frames as f64 / r.analysis_rate as f64,
    )
}

/// Maps an audio failure to the CLI's exit codes: a bad file is the user's (1).
pub fn cli_error(e: AudioError) -> CliError {
    if e.is_input_error() {
        CliError::User(e.into())
    } else {
        CliError::Internal(e.into())
    }
}

pub fn run(args: &Args, settings: &Settings, out: &mut dyn std::io::Write) -> Result<(), CliError> {
    let path = args.file.clone();
    let rate = settings.station.sample_rate;
    let analysis = contained(&args.file, move || {
        analyze_file(&path, rate, false, 24.0 * 3600.0)
    })
    .map_err(cli_error)?;
    let r = &analysis.report;
    if r.duration_frames == 0 {
        return Err(CliError::User(anyhow::anyhow!(
            "{}: no audio frames (truncated or empty stream)",
            args.file.display()
        )));
    }
    let text = if args.json {
        format!("{}\n", report_json(r))
    } else {
        report_text(r)
    };
    out.write_all(text.as_bytes())
        .map_err(|e| CliError::Internal(e.into()))?;
    Ok(())
}
