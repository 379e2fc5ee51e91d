//! `antenne ingest FILE --show SLUG [...]`: store a recording, render it now, print the episode.

use std::path::PathBuf;

use crate::catalog::{Catalog, Episode, EpisodeStatus, Loudness};
use crate::cli::CliError;
use crate::config::Settings;
use crate::ingest::{IngestError, Submission, drain_queue, recover, submit, system_clock};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The recording: WAV, FLAC, Ogg, MP3, M4A, AIFF or Matroska, recognised from its bytes
    /// (as an upload is).
    pub file: PathBuf,
    /// The show's slug.
    #[arg(long)]
    pub show: String,
    #[arg(long)]
    pub title: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
    /// Broadcast or recording date, YYYY-MM-DD.
    #[arg(long)]
    pub date: Option<String>,
    /// Print the episode as JSON.
    #[arg(long)]
    pub json: bool,
}

fn loudness_json(l: &Option<Loudness>) -> serde_json::Value {
    match l {
        Some(l) => serde_json::json!({
            "integrated_lufs": l.integrated_lufs,
            "loudness_range_lu": l.loudness_range_lu,
            "true_peak_dbtp": l.true_peak_dbtp,
            "sample_peak_dbfs": l.sample_peak_dbfs,
        }),
        None => serde_json::Value::Null,
    }
}

fn episode_json(ep: &Episode, settings: &Settings) -> serde_json::Value {
    let abs = |p: &Option<String>| {
        p.as_ref()
            .map(|p| settings.process.data_dir.join(p).display().to_string())
    };
    serde_json::json!({
        "id": ep.id,
        "show": ep.show,
        "title": ep.title,
        "status": ep.status.as_str(),
        "error": ep.error,
        "original_path": settings.process.data_dir.join(&ep.original_path).display().to_string(),
        "rendition_path": abs(&ep.rendition_path),
        "rendition_bytes": ep.rendition_bytes,
        "duration_s": ep.duration_ms.map(|ms| ms as f64 / 1000.0),
        "gain_db": ep.gain_db,
        "before": loudness_json(&ep.before),
        "after": loudness_json(&ep.after),
    })
}

fn user(e: IngestError) -> CliError {
    match e {
        IngestError::Duplicate { .. }
        | IngestError::NotAudio { .. }
        | IngestError::Invalid(_)
        | IngestError::Read(..) => CliError::User(e.into()),
        other => CliError::Internal(other.into()),
    }
}

pub fn run(args: &Args, settings: &Settings, out: &mut dyn std::io::Write) -> Result<(), CliError> {
    let clock = system_clock();
    let catalog = Catalog::open(&settings.process.data_dir)?;
    recover(&catalog, &clock).map_err(user)?;
    let sub = Submission {
        show: args.show.clone(),
        title: args.title.clone().unwrap_or_default(),
        description: args.description.clone().unwrap_or_default(),
        date: args.date.clone(),
        original_name: None,
    };
    let ep = submit(&catalog, &args.file, &sub, &clock).map_err(user)?;
    // Two workers: this episode and anything else queued share both cores.
    drain_queue(&catalog, &settings.station.render_options(), 2, &clock).map_err(user)?;
    let ep = catalog
        .episode(&ep.id)?
        .ok_or_else(|| CliError::Internal(anyhow::anyhow!("episode {} vanished", ep.id)))?;
    let text = if args.json {
        format!("{}\n", episode_json(&ep, settings))
    } else {
        let a = ep
            .after
            .map(|l| {
                format!(
                    "{:.1} LUFS, {:.1} dBTP",
                    l.integrated_lufs, l.true_peak_dbtp
                )
            })
            .unwrap_or_default();
        format!(
            "episode {}  {}  {}\nrendition {}\n{a}\n",
            ep.id,
            ep.status.as_str(),
            ep.title,
            ep.rendition_path
                .as_deref()
                .map(|p| settings.process.data_dir.join(p).display().to_string())
                .unwrap_or_default()
        )
    };
    out.write_all(text.as_bytes())
        .map_err(|e| CliError::Internal(e.into()))?;
    if ep.status == EpisodeStatus::Failed {
        return Err(CliError::User(anyhow::anyhow!(
            "{}",
            ep.error.unwrap_or_else(|| "ingest failed".into())
        )));
    }
    Ok(())
}
