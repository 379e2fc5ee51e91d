//! Configuration: `antenne.toml` < `ANTENNE_*` variables < flags, resolved into validated [`Settings`].
//!
//! Every subsystem receives the [`Settings`] it needs as a parameter; nothing reads the
//! environment or the file on its own.

use std::net::SocketAddr;
use std::path::PathBuf;

/// The validated configuration every subcommand runs with.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Address the daemon listens on.
    pub listen: SocketAddr,
    /// Absolute base URL for feed and stream links, without a trailing slash.
    pub public_url: String,
    /// Catalog and renditions.
    pub data_dir: PathBuf,
    /// Demo media, playlists, fallback rotation, watch folder; schedule paths resolve against it.
    pub media_dir: PathBuf,
    /// The weekly schedule file.
    pub schedule: PathBuf,
    /// Integrated loudness target, LUFS.
    pub loudness_target: f64,
    /// True-peak ceiling, dBTP.
    pub true_peak_ceiling: f64,
    /// MP3 bitrate of renditions and of the live stream, kbps (CBR).
    pub bitrate_kbps: u32,
    /// Station sample rate, Hz.
    pub sample_rate: u32,
    /// Leading/trailing silence kept when trimming an ingested episode, seconds.
    pub keep_silence_s: f64,
    /// Seconds of stream sent at once to a new listener.
    pub burst_s: f64,
    /// Listeners beyond this get 503.
    pub max_listeners: usize,
    /// Bytes a listener may lag behind before it is dropped.
    pub listener_backlog_bytes: usize,
    /// Largest accepted upload, bytes.
    pub upload_limit_bytes: u64,
    /// Icecast servers the live stream is pushed to.
    pub icecast: Vec<IcecastTarget>,
}

/// One Icecast 2 server Antenne pushes its stream to as a source client.
#[derive(Debug, Clone, PartialEq)]
pub struct IcecastTarget {
    /// e.g. `http://127.0.0.1:8000/live.mp3`
    pub url: String,
    pub user: String,
    pub password: String,
}

impl Default for Settings {
    fn default() -> Self {
        let listen: SocketAddr = "127.0.0.1:8080".parse().expect("valid literal");
        Settings {
            listen,
            public_url: format!("http://{listen}"),
            data_dir: PathBuf::from("data"),
            media_dir: PathBuf::from("media"),
            schedule: PathBuf::from("schedules/weekly.toml"),
            loudness_target: -16.0,
            true_peak_ceiling: -1.0,
            bitrate_kbps: 128,
            sample_rate: 44_100,
            keep_silence_s: 0.5,
            burst_s: 2.0,
            max_listeners: 10_000,
            listener_backlog_bytes: 256 * 1024,
            upload_limit_bytes: 2 * 1024 * 1024 * 1024,
            icecast: Vec::new(),
        }
    }
}
