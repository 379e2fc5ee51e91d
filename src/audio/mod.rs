//! Audio stages shared by ingest and playout: decode, analyse, normalise, encode. Sync code, no IO but the files it is handed.

pub mod source;

pub use source::{CHANNELS, PcmSource};

/// Why an audio stage failed; each variant names the file or stage it concerns.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    Decode {
        path: std::path::PathBuf,
        reason: String,
    },
    #[error("{0}")]
    Stage(String),
}
