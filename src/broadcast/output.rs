//! The output contract: where an encoded stream goes once it is on a [`Mount`].
//!
//! A mount is one encoding of the programme (MP3 at the station bitrate, Ogg Opus) published on
//! its own [`Hub`]. Every output reads a mount's hub as one more subscriber, so an output can
//! fall behind and be dropped but can never make the programme wait:
//!
//! - the HTTP listeners: `http` serves every mount at its [`Mount::paths`] (no code here:
//!   a mount is served as soon as the daemon lists it);
//! - pushed outputs implement [`Output`] (an Icecast relay, [`super::icecast::IcecastPush`];
//!   HLS segments on disk, [`super::hls::HlsOutput`], which reads the frames with their audio
//!   time), and the daemon starts each one as a tracked task (`daemon::edge::outputs`, and
//!   HLS from its settings).

use std::future::Future;
use std::pin::Pin;

use tokio_util::sync::CancellationToken;

use super::{Hub, StationInfo};

/// What a mount's bytes are; the daemon builds the matching encoder for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// MP3 at the station rate and bitrate ([`super::EncoderSink`]).
    Mp3,
    /// Ogg Opus at 48 kHz ([`super::OpusSink`]).
    Opus,
}

/// One encoding of the programme and the hub its frames are published on.
#[derive(Clone)]
pub struct Mount {
    /// A short name for logs and status (`mp3`).
    pub name: String,
    /// The request paths listeners use (the first is the canonical one).
    pub paths: Vec<String>,
    pub encoding: Encoding,
    /// The stream's MIME type (`audio/mpeg`).
    pub content_type: &'static str,
    pub hub: Hub,
    /// How the station presents itself on this mount (`icy-*`, `ice-*`).
    pub info: StationInfo,
    /// Whether listeners may ask for ICY metadata blocks (MP3); an Ogg stream carries its
    /// titles in its own comment headers.
    pub icy: bool,
}

impl Mount {
    /// The MP3 stream at `/stream` (and `/stream.mp3`, which some players need to guess the
    /// format from the URL).
    pub fn mp3(hub: Hub, info: StationInfo) -> Mount {
        Mount {
            name: "mp3".into(),
            paths: vec!["/stream".into(), "/stream.mp3".into()],
            encoding: Encoding::Mp3,
            content_type: "audio/mpeg",
            hub,
            info,
            icy: true,
        }
    }

    /// The Ogg Opus stream at `/stream.opus` (and `/stream.ogg`).
    pub fn opus(hub: Hub, info: StationInfo) -> Mount {
        Mount {
            name: "opus".into(),
            paths: vec!["/stream.opus".into(), "/stream.ogg".into()],
            encoding: Encoding::Opus,
            content_type: "audio/ogg",
            hub,
            info,
            icy: false,
        }
    }
}

/// A task's future, boxed so outputs of different kinds sit in one list.
pub type OutputTask = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A pushed output: a task that subscribes to a mount's hub and delivers it somewhere,
/// until `shutdown`. It must never block the hub (subscribe as a relay and accept being
/// dropped when it falls behind) and should reconnect on its own after a failure.
pub trait Output: Send {
    /// What it is, for logs (`icecast http://relay:8000/antenne.mp3`).
    fn describe(&self) -> String;

    /// The delivery task; the daemon spawns and tracks it.
    fn run(self: Box<Self>, mount: Mount, shutdown: CancellationToken) -> OutputTask;
}
