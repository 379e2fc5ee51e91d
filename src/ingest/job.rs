//! One ingest job: render the claimed episode's original into its rendition and record the
//! outcome in one catalog transaction. The render runs on its own thread so a decoder panic on
//! hostile bytes becomes a failed job naming the file.

use crate::audio::id3::EpisodeTags;
use crate::audio::render::{RenderReport, contained, render_episode};
use crate::audio::{LoudnessReport, RenderOptions};
use crate::catalog::{Catalog, Completed, Job, Loudness};

use super::IngestError;
use crate::clock::Clock;

/// Folder of published MP3s inside `data_dir`.
pub const RENDITIONS: &str = "renditions";

fn loudness(r: &LoudnessReport) -> Loudness {
    let finite = |x: f64| if x.is_finite() { x } else { -200.0 };
    Loudness {
        integrated_lufs: r.integrated_lufs.unwrap_or(-200.0),
        loudness_range_lu: r.loudness_range_lu,
        true_peak_dbtp: finite(r.true_peak_dbtp),
        sample_peak_dbfs: finite(r.sample_peak_dbfs),
    }
}

/// Renders `job` at the station's loudness and format (`render`, whose tags are replaced by
/// the episode's) and marks it ready, or failed with the reason. Errors returned here are the
/// catalog's own (the job's outcome is already recorded when it is the input's fault).
pub fn process_job(
    catalog: &Catalog,
    render: &RenderOptions,
    job: &Job,
    clock: &dyn Clock,
) -> Result<Option<RenderReport>, IngestError> {
    let ep = &job.episode;
    let input = catalog.data_dir().join(&ep.original_path);
    let rel = format!("{RENDITIONS}/{}.mp3", ep.id);
    let output = catalog.data_dir().join(&rel);
    let dir = catalog.data_dir().join(RENDITIONS);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        catalog.fail_job(
            job.id,
            &format!("cannot create {}: {e}", dir.display()),
            clock.now(),
        )?;
        return Ok(None);
    }
    let tags = EpisodeTags {
        title: ep.title.clone(),
        show: ep.show.clone(),
        date: ep.date.clone().unwrap_or_default(),
        description: ep.description.clone(),
        artwork: ep
            .artwork_path
            .as_ref()
            .and_then(|p| std::fs::read(catalog.data_dir().join(p)).ok()),
    };
    let opts = RenderOptions {
        tags,
        ..render.clone()
    };
    let (i, o) = (input.clone(), output.clone());
    let shown = ep
        .original_name
        .clone()
        .unwrap_or_else(|| ep.original_path.clone());
    match contained(&input, move || render_episode(&i, &o, &opts)) {
        Ok(report) => {
            let done = Completed {
                rendition_path: rel,
                rendition_bytes: report.output_bytes,
                duration_ms: report.after.duration_frames * 1000
                    / report.after.analysis_rate as u64,
                before: loudness(&report.before),
                after: loudness(&report.after),
                gain_db: report.gain_db,
            };
            catalog.complete_job(job.id, &done, clock.now())?;
            Ok(Some(report))
        }
        Err(e) => {
            // Name the file the volunteer knows, not our sha256 path.
            let reason = match &e {
                crate::audio::AudioError::Write { error, .. } if super::is_disk_full(error) => {
                    format!("disk full while writing the rendition of {shown}")
                }
                _ => e.to_string().replace(&input.display().to_string(), &shown),
            };
            tracing::warn!(episode = %ep.id, "ingest failed: {reason}");
            let _ = std::fs::remove_file(&output);
            catalog.fail_job(job.id, &reason, clock.now())?;
            Ok(None)
        }
    }
}
