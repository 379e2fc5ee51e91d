//! First-run seeding: a new station's empty catalog receives the demo episodes of
//! `media_dir/demo/<show>/` (each audio file with an optional `NAME.toml` sidecar of metadata),
//! so the demo station publishes a feed at once. A catalog with any episode is left alone.

use std::path::Path;

use crate::catalog::{Catalog, EpisodeQuery};
use crate::clock::Clock;
use crate::ingest::IngestError;
use crate::ingest::intake::{self, Stored};
use crate::ingest::watch::recording_metadata;

const AUDIO: &[&str] = &["mp3", "wav", "flac", "ogg", "m4a", "aac", "opus"];

/// Queues every demo episode when the catalog has no episode yet; returns how many. Each file
/// goes in as a file dropped in the watch folder does: the same sidecar (capped and
/// validated), the same intake. A file that cannot be taken is logged and skipped.
pub fn seed_demo(
    catalog: &Catalog,
    media_dir: &Path,
    known_shows: &[String],
    clock: &dyn Clock,
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
            let meta = match recording_metadata(show, &file, Some(known_shows)) {
                Ok(m) => m,
                Err(reasons) => {
                    tracing::warn!("demo episode {}: {}", file.display(), reasons.join("; "));
                    continue;
                }
            };
            match intake::store_file(catalog, &file, &meta, clock.now()) {
                Ok(Stored::Created(_) | Stored::Requeued(_)) => queued += 1,
                Ok(Stored::Duplicate(_)) => {}
                Err(e) => tracing::warn!("demo episode {}: {e}", file.display()),
            }
        }
    }
    Ok(queued)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::watch::MAX_SIDECAR_BYTES;

    fn wav(path: &Path, seed: u32) {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        for i in 0..800 {
            w.write_sample(((i * (seed + 1)) % 2000) as i16).unwrap();
        }
        w.finalize().unwrap();
    }

    // issue 13
    #[test]
    fn demo_sidecars_are_read_as_the_watch_folders_are() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = Catalog::open(&dir.path().join("data")).unwrap();
        let media = dir.path().join("media");
        let show = media.join("demo/la-matinale");
        std::fs::create_dir_all(&show).unwrap();
        wav(&show.join("a.wav"), 1);
        std::fs::write(
            show.join("a.toml"),
            "title = \"Le marché\"\nseason = 2\nepisode = 7\n",
        )
        .unwrap();
        // The same recording again, a sidecar over the cap, one with an unknown key, and a
        // file that is not audio: each skipped, none stored.
        std::fs::copy(show.join("a.wav"), show.join("b.wav")).unwrap();
        wav(&show.join("c.wav"), 2);
        let huge = format!("title = \"{}\"\n", "x".repeat(MAX_SIDECAR_BYTES as usize));
        std::fs::write(show.join("c.toml"), huge).unwrap();
        wav(&show.join("d.wav"), 3);
        std::fs::write(show.join("d.toml"), "titre = \"Faute de frappe\"\n").unwrap();
        std::fs::write(show.join("e.mp3"), "pas de l'audio ".repeat(50)).unwrap();
        let shows = vec!["la-matinale".to_string()];
        let queued = seed_demo(&catalog, &media, &shows, &crate::ingest::system_clock()).unwrap();
        assert_eq!(queued, 1);
        let all = EpisodeQuery {
            include_unpublished: true,
            ..Default::default()
        };
        let episodes = catalog.list_episodes(&all).unwrap();
        assert_eq!(episodes.len(), 1);
        let ep = &episodes[0];
        assert_eq!(
            (ep.title.as_str(), ep.season, ep.episode),
            ("Le marché", Some(2), Some(7))
        );
        assert_eq!(ep.original_path, format!("originals/{}.wav", ep.id));
        assert_eq!(
            std::fs::read_dir(catalog.data_dir().join("originals"))
                .unwrap()
                .count(),
            1
        );
    }
}
