//! Audio stages shared by ingest and playout: decode, analyse, normalise, encode. Sync code, no IO but the files it is handed.
//!
//! One stage per file: [`decode`] (symphonia) → [`downmix`] → [`resample`] (rubato) →
//! [`analyse`] (ebur128) → [`gain`] → [`limiter`] → [`trim`] → [`encode`] (LAME, with [`id3`]);
//! [`render`] chains them into the published episode, measured as it is written ([`verify`]).

pub mod analyse;
pub mod calibrate;
pub mod decode;
pub mod downmix;
pub mod drift;
pub mod encode;
pub mod gain;
mod halves;
pub mod id3;
pub mod lametag;
pub mod leveler;
pub mod limiter;
pub mod mp3frame;
mod normalise;
pub mod oggopus;
pub mod opus;
mod pass1;
pub mod pcmcache;
pub mod render;
pub mod resample;
pub mod silence;
pub mod sink;
pub mod source;
pub mod trim;
pub mod verify;

pub use analyse::LoudnessReport;
pub use decode::{ProbeInfo, open_pcm, open_source};
pub use encode::Mp3StreamEncoder;
pub use render::{
    RenderOptions, RenderReport, analyze_file, analyze_source, crashed, render_episode,
};
pub use silence::{SilenceDetector, SilenceEvent};
pub use sink::{FanOut, NullSink, PcmSink};
pub use source::{CHANNELS, PcmSource, count_frames};

/// Why an audio stage failed; each variant names the file or stage it concerns.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("cannot read {path}: {error}")]
    Io {
        path: std::path::PathBuf,
        error: std::io::Error,
    },
    #[error("{path}: {reason}")]
    Decode {
        path: std::path::PathBuf,
        reason: String,
    },
    /// The file decodes but is not acceptable as an episode (silent, absurdly long...).
    #[error("{path}: rejected: {reason}")]
    Rejected {
        path: std::path::PathBuf,
        reason: String,
    },
    #[error("cannot write {path}: {error}")]
    Write {
        path: std::path::PathBuf,
        error: std::io::Error,
    },
    #[error("{0}")]
    Stage(String),
}

impl AudioError {
    /// True when the input itself is at fault (bad file), not the machine.
    pub fn is_input_error(&self) -> bool {
        matches!(
            self,
            AudioError::Decode { .. } | AudioError::Rejected { .. }
        )
    }
}
