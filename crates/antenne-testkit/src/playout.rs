//! Playout fixtures shared by `tests/it/playout/engine.rs` and the soak bench
//! (`benches/soak/week.rs`): generated 1 kHz WAV media whose every sample names its file and
//! position, and ready episodes in a temporary catalog.

use std::path::Path;

use antenne::catalog::{Catalog, Completed, Loudness, NewEpisode};
use jiff::Timestamp;

/// Media sample rate: 1 kHz keeps a simulated week small and fast.
pub const R: u32 = 1000;

pub fn ts(s: &str) -> Timestamp {
    s.parse().expect("a valid instant")
}

/// The sample value of frame `k` of file `id`.
pub fn value(id: u16, k: u64) -> f32 {
    (i32::from(id) * 2048 + (k % 2048) as i32) as f32 / 32768.0
}

/// (file id, frame mod 2048) of an unfaded sample.
pub fn identify(v: f32) -> (u16, u64) {
    let i = (v * 32768.0).round() as i32;
    ((i / 2048) as u16, (i % 2048) as u64)
}

/// A mono WAV of `seconds` at [`R`] whose frame `k` is [`value`]`(id, k)`.
pub fn wav(path: &Path, id: u16, seconds: u64) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: R,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for k in 0..seconds * u64::from(R) {
        w.write_sample((i32::from(id) * 2048 + (k % 2048) as i32) as i16)
            .unwrap();
    }
    w.finalize().unwrap();
}

pub fn loud() -> Loudness {
    Loudness {
        integrated_lufs: -16.0,
        loudness_range_lu: 5.0,
        true_peak_dbtp: -1.0,
        sample_peak_dbfs: -1.0,
    }
}

/// A ready episode of `show` dated `date` whose rendition is file `file`, `minutes` long.
pub fn ready_episode(cat: &Catalog, id: &str, show: &str, date: &str, file: u16, minutes: u64) {
    let rendition = format!("renditions/{id}.wav");
    wav(&cat.data_dir().join(&rendition), file, minutes * 60);
    let t = ts("2027-01-01T00:00:00Z");
    cat.create_episode(
        &NewEpisode {
            id: id.into(),
            show: show.into(),
            title: format!("Épisode {id}"),
            date: Some(date.into()),
            original_sha256: format!("sha-{id}"),
            original_path: format!("originals/{id}.wav"),
            original_bytes: 1,
            ..Default::default()
        },
        t,
    )
    .unwrap();
    let job = cat.claim_next_job(t).unwrap().unwrap();
    let done = Completed {
        rendition_path: rendition,
        rendition_bytes: 1,
        duration_ms: minutes * 60_000,
        before: loud(),
        after: loud(),
        gain_db: 0.0,
    };
    cat.complete_job(job.id, &done, t).unwrap();
}
