//! From programme PCM to every listener: the encodings, the fan-out of whole frames, ICY
//! metadata, and the outputs.
//!
//! Data flow: PCM → [`EncoderSink`] (LAME) → [`Publisher`] ([`FrameSplitter`] →
//! [`Hub::push`]), and PCM → [`OpusSink`] (libopus, Ogg pages) → [`Hub::push_audio`]; then
//! one [`Listener`] stream per HTTP client (burst, live frames, ICY blocks; its session
//! reported to a [`SessionLog`] when it ends) and one per pushed
//! [`Output`] ([`icecast`]; [`hls`], which cuts the frames into HLS segments by their audio
//! time). A [`Mount`] is one encoding and its hub.
//! No axum here: `http::stream` turns a [`Listener`] into a response.
//!
//! **Invariant:** the producer never waits for a consumer. Frames are shared `Bytes` on a
//! bounded ring; a consumer that falls behind is dropped, never waited for.

pub mod cancel;
pub mod encoder;
pub mod frames;
pub mod hls;
pub mod hub;
pub mod icecast;
pub mod icy;
pub mod listener;
pub mod opus;
pub mod output;
pub mod pieces;
pub mod publisher;
pub mod sessions;

pub use encoder::EncoderSink;
pub use frames::{Frame, FrameHeader, FrameSplitter};
pub use hub::{FeedEnd, Hub, HubConfig, HubError, Timed, TimedFeed, Title};
pub use listener::Listener;
pub use opus::OpusSink;
pub use output::{Encoding, Mount, Output, OutputTask};
pub use pieces::Pieces;
pub use publisher::Publisher;
pub use sessions::{OpenSession, SessionLog};

/// How the station presents itself to listeners (`icy-*` headers) and to Icecast (`ice-*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StationInfo {
    pub name: String,
    pub description: String,
    pub genre: String,
    /// The station's web page.
    pub url: String,
    /// Nominal stream bitrate, kbps (`icy-br`).
    pub bitrate_kbps: u32,
    /// Stream sample rate, Hz (`ice-audio-info`).
    pub sample_rate: u32,
}

impl StationInfo {
    /// The station's identity from the schedule's `[station]`, its page at `public_url`
    /// (no trailing slash), the stream's format.
    pub fn new(
        station: &crate::schedule::Station,
        public_url: &str,
        bitrate_kbps: u32,
        sample_rate: u32,
    ) -> StationInfo {
        StationInfo {
            name: station.name.clone(),
            description: station.description.clone().unwrap_or_default(),
            genre: "Community radio".to_owned(),
            url: format!("{public_url}/"),
            bitrate_kbps,
            sample_rate,
        }
    }
}
