//! First-run seeding: a new station's empty catalog receives the demo episodes of
//! `media_dir/demo/<show>/` (each audio file with an optional `NAME.toml` sidecar of metadata),
//! so the demo station publishes a feed at once. A catalog with any episode is left alone.

use std::path::Path;

use crate::catalog::{Catalog, EpisodeQuery};
use crate::ingest::{Clock, IngestError, Submission, submit};

/// The sidecar's keys (the same a volunteer may drop beside a file in the watch folder).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Sidecar {
    title: Option<String>,
    description: Option<String>,
    date: Option<String>,
}

const AUDIO: &[&str] = &["mp3", "wav", "flac", "ogg", "m4a", "aac", "opus"];

/// Queues every demo episode when the catalog has no episode yet; returns how many.
pub fn seed_demo(
    catalog: &Catalog,
    media_dir: &Path,
    known_shows: &[String],
    clock: &Clock,
) -> Result<usize, IngestError> {
    let any = EpisodeQuery {
        include_unpublished: true,
        limit: Some(1),
        ..Default::default()
    };
    if !catalog
        .list_episodes(&any)
        .map_err(IngestError::from)?
        .is_empty()
    {
        return Ok(0);
    }
    let mut queued = 0;
    for show in known_shows {
        let dir = media_dir.join("demo").join(show);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| AUDIO.contains(&e.to_ascii_lowercase().as_str()))
            })
            .collect();
        files.sort();
        for file in files {
            let sidecar = read_sidecar(&file);
            let stem = file
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let sub = Submission {
                show: show.clone(),
                title: sidecar.title.unwrap_or(stem),
                description: sidecar.description.unwrap_or_default(),
                date: sidecar.date,
                original_name: file.file_name().map(|n| n.to_string_lossy().into_owned()),
            };
            match submit(catalog, &file, &sub, clock) {
                Ok(_) => queued += 1,
                Err(IngestError::Duplicate { .. }) => {}
                Err(e) => tracing::warn!("demo episode {}: {e}", file.display()),
            }
        }
    }
    Ok(queued)
}

fn read_sidecar(audio: &Path) -> Sidecar {
    let path = audio.with_extension("toml");
    match std::fs::read_to_string(&path) {
        Ok(text) => toml::from_str(&text).unwrap_or_else(|e| {
            tracing::warn!("{}: {e}", path.display());
            Sidecar::default()
        }),
        Err(_) => Sidecar::default(),
    }
}
