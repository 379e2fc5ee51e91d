//! Fan-out of the encoded live stream: whole MP3 frames to every listener, ICY metadata,
//! Icecast push, and the output silence detector.
//!
//! Data flow: encoder bytes → [`Feeder`] ([`FrameSplitter`] → [`Hub::push`]) → one [`Listener`] stream per
//! HTTP client (burst, live frames, ICY blocks) and one per Icecast server ([`icecast`]).
//! No axum here: `http::stream` turns a [`Listener`] into a response.
//!
//! **Invariant:** the producer never waits for a consumer. Frames are shared `Bytes` on a
//! bounded ring; a consumer that falls behind is dropped, never waited for.

pub mod feed;
pub mod frames;
pub mod hub;
pub mod icecast;
pub mod icy;
pub mod listener;
pub mod silence;

pub use feed::Feeder;
pub use frames::{Frame, FrameHeader, FrameSplitter};
pub use hub::{Hub, HubConfig, HubError, Title};
pub use listener::Listener;
pub use silence::{SilenceDetector, SilenceEvent};

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
    /// The station's identity from the schedule's `[station]`, its addresses and format from
    /// the settings.
    pub fn new(
        station: &crate::schedule::Station,
        settings: &crate::config::Settings,
    ) -> StationInfo {
        StationInfo {
            name: station.name.clone(),
            description: station.description.clone().unwrap_or_default(),
            genre: "Community radio".to_owned(),
            url: format!("{}/", settings.public_url),
            bitrate_kbps: settings.bitrate_kbps,
            sample_rate: settings.sample_rate,
        }
    }
}
