//! Configuration: `antenne.toml` < `ANTENNE_*` variables < flags, resolved into validated [`Settings`].
//!
//! [`Settings`] has two parts: [`ProcessSettings`] (addresses, folders, limits) and
//! [`StationSettings`] (loudness, format, burst, outputs). Subsystems take their own small
//! configs, which the daemon builds from these at its edge; nothing else reads the environment
//! or the file.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub use crate::feed::FeedRedirect;

/// The validated configuration every subcommand runs with, in two parts: what the process
/// needs to run anywhere, and what the station is. Subsystems never read it: the daemon's
/// `edge` builds each one's own small config from it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Settings {
    pub process: ProcessSettings,
    pub station: StationSettings,
}

/// Where and within what limits this process runs: addresses, folders, resource limits.
/// Moving the station to another machine changes these and nothing of [`StationSettings`].
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessSettings {
    /// Address the daemon listens on.
    pub listen: SocketAddr,
    /// A second address for live sources only (e.g. open to the centres' networks while the
    /// main port stays behind a proxy); `None`: sources use the daemon's port.
    pub live_listen: Option<SocketAddr>,
    /// Absolute base URL for feed and stream links, without a trailing slash.
    pub public_url: String,
    /// Catalog and renditions.
    pub data_dir: PathBuf,
    /// Demo media, playlists, fallback rotation, watch folder; schedule paths resolve against it.
    pub media_dir: PathBuf,
    /// The weekly schedule file.
    pub schedule: PathBuf,
    /// Listeners beyond this get 503.
    pub max_listeners: usize,
    /// Bytes a listener may lag behind before it is dropped.
    pub listener_backlog_bytes: usize,
    /// Open HTTP connections at most (listeners included); more are answered 503 and closed.
    pub max_connections: usize,
    /// Largest accepted upload, bytes.
    pub upload_limit_bytes: u64,
    /// A resumable upload untouched this long (seconds) is abandoned: its partial file is
    /// removed by the periodic sweep.
    pub upload_expiry_s: u64,
    /// Who may frame `/embed/*`: a CSP `frame-ancestors` source list (`*`: any site). Every
    /// other page refuses framing.
    pub embed_ancestors: String,
    /// The settings file read, if any (backups keep a copy).
    pub config_file: Option<PathBuf>,
    /// Where the daemon writes its scheduled backups; `None`: no scheduled backups.
    pub backup_dir: Option<PathBuf>,
    /// Seconds between two scheduled backups.
    pub backup_every_s: u64,
    /// Scheduled backups kept (the oldest beyond are removed).
    pub backup_keep: usize,
    /// systemd's notification socket and watchdog, when it runs the daemon.
    pub service: ServiceManager,
}

/// What systemd tells a `Type=notify` service through its environment (`sd_notify(3)`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServiceManager {
    /// `NOTIFY_SOCKET`: a socket path, or `@name` (abstract namespace).
    pub notify_socket: Option<String>,
    /// `WATCHDOG_USEC`: the unit's `WatchdogSec`, microseconds.
    pub watchdog_usec: Option<u64>,
    /// `WATCHDOG_PID`: the process the watchdog is for.
    pub watchdog_pid: Option<u32>,
}

/// What the station is: how it sounds, what it streams, where the stream is pushed and where
/// its feeds moved. The same on any machine.
#[derive(Debug, Clone, PartialEq)]
pub struct StationSettings {
    /// Integrated loudness target, LUFS.
    pub loudness_target: f64,
    /// True-peak ceiling, dBTP.
    pub true_peak_ceiling: f64,
    /// MP3 bitrate of renditions and of the live stream, kbps (CBR).
    pub bitrate_kbps: u32,
    /// Station sample rate, Hz.
    pub sample_rate: u32,
    /// Bitrate of the Ogg Opus stream (`/stream.opus`), kbps; 0: no Opus stream.
    pub opus_bitrate_kbps: u32,
    /// Leading/trailing silence kept when trimming an ingested episode, seconds.
    pub keep_silence_s: f64,
    /// Seconds of stream sent at once to a new listener.
    pub burst_s: f64,
    /// Seconds before a live slot during which its source is taken (connected, not on air).
    pub live_preroll_s: u64,
    /// Seconds a dropped live source's place is kept: back within it, no switch on air.
    pub live_grace_s: f64,
    /// Icecast servers the live stream is pushed to.
    pub icecast: Vec<IcecastTarget>,
    /// Feeds that moved: the old path answers 301 and the feed at the new URL carries
    /// `itunes:new-feed-url`.
    pub feed_redirects: Vec<FeedRedirect>,
    /// How far back the HLS playlist reaches (the DVR window), seconds; 0: no HLS.
    pub hls_window_s: u64,
    /// About how long an HLS segment is, seconds.
    pub hls_segment_s: f64,
    /// Where the page loads hls.js from for "listen from the start" in browsers without
    /// native HLS (empty: only browsers with native HLS offer it).
    pub hls_js_url: String,
    /// Where alerts go and when they fire (`[alerts]`, `[[webhook]]`).
    pub alerts: AlertSettings,
}

/// The event kinds of alerts, as written in a webhook's `events = [...]`.
pub const ALERT_EVENTS: &[&str] = &[
    "dead_air",
    "stream_down",
    "live_dropped",
    "ingest_failed",
    "schedule_refused",
    "disk_low",
    "upload_unauthorised",
    "backup_failed",
    "now_playing",
];

/// `[alerts]` and the `[[webhook]]`s: who hears about incidents and when.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertSettings {
    /// Seconds without a rendered frame before "stream down".
    pub stream_down_s: u64,
    /// Free megabytes on `data_dir` under which "disk low" fires; 0: no check.
    pub disk_min_mb: u64,
    /// Seconds a repeated one-off failure (same file, same name) stays one incident.
    pub quiet_s: u64,
    pub webhooks: Vec<WebhookSettings>,
    /// E-mail to the operators, when `[smtp]` is set.
    pub smtp: Option<SmtpSettings>,
}

/// `[smtp]` in `antenne.toml`: where alert e-mails go.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: String,
    /// Default: 25, 587 or 465 for `tls` = `none`, `starttls` or `tls`.
    pub port: Option<u16>,
    /// `none`, `starttls` (the default) or `tls`.
    #[serde(default = "starttls")]
    pub tls: String,
    pub user: Option<String>,
    pub password: Option<String>,
    pub from: String,
    pub to: Vec<String>,
}

fn starttls() -> String {
    "starttls".into()
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            stream_down_s: 10,
            disk_min_mb: 1024,
            quiet_s: 600,
            webhooks: Vec::new(),
            smtp: None,
        }
    }
}

/// `[[webhook]]` in `antenne.toml`.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// `http://host:port/path` (plain HTTP).
    pub url: String,
    /// The HMAC-SHA256 key of `X-Antenne-Signature`.
    pub secret: String,
    /// Event kinds sent (`dead_air`, ..., `now_playing`); empty or absent: all of them.
    #[serde(default)]
    pub events: Vec<String>,
}

/// `[alerts]` in `antenne.toml`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileAlerts {
    pub stream_down: Option<u64>,
    pub disk_min_mb: Option<u64>,
    pub quiet: Option<u64>,
}

/// One Icecast 2 server Antenne pushes its stream to as a source client.
#[derive(Debug, Clone, PartialEq)]
pub struct IcecastTarget {
    /// e.g. `http://127.0.0.1:8000/live.mp3`
    pub url: String,
    pub user: String,
    pub password: String,
    /// The mount pushed: `mp3` or `opus`.
    pub stream: String,
}

impl Default for ProcessSettings {
    fn default() -> Self {
        let listen: SocketAddr = "127.0.0.1:8080".parse().expect("valid literal");
        ProcessSettings {
            listen,
            live_listen: None,
            public_url: derived_public_url(listen),
            data_dir: PathBuf::from("data"),
            media_dir: PathBuf::from("media"),
            schedule: PathBuf::from("schedules/weekly.toml"),
            max_listeners: 10_000,
            listener_backlog_bytes: 256 * 1024,
            max_connections: 10_240,
            upload_limit_bytes: 2 * 1024 * 1024 * 1024,
            upload_expiry_s: 24 * 3600,
            embed_ancestors: "*".into(),
            config_file: None,
            backup_dir: None,
            backup_every_s: 24 * 3600,
            backup_keep: 7,
            service: ServiceManager::default(),
        }
    }
}

impl Default for StationSettings {
    fn default() -> Self {
        StationSettings {
            loudness_target: -16.0,
            true_peak_ceiling: -1.0,
            bitrate_kbps: 128,
            sample_rate: 44_100,
            opus_bitrate_kbps: 48,
            keep_silence_s: 0.5,
            burst_s: 2.0,
            live_preroll_s: 600,
            live_grace_s: 5.0,
            icecast: Vec::new(),
            feed_redirects: Vec::new(),
            hls_window_s: 3 * 3600,
            hls_segment_s: 6.0,
            hls_js_url: String::new(),
            alerts: AlertSettings::default(),
        }
    }
}

/// The keys of `antenne.toml`; every one optional. Unknown keys are errors.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub live_listen: Option<String>,
    pub live_preroll: Option<u64>,
    pub live_grace: Option<f64>,
    pub public_url: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub media_dir: Option<PathBuf>,
    pub schedule: Option<PathBuf>,
    pub loudness_target: Option<f64>,
    pub true_peak_ceiling: Option<f64>,
    pub bitrate: Option<u32>,
    pub sample_rate: Option<u32>,
    pub opus_bitrate: Option<u32>,
    pub keep_silence: Option<f64>,
    pub burst_seconds: Option<f64>,
    pub max_listeners: Option<usize>,
    pub listener_backlog: Option<usize>,
    pub max_connections: Option<usize>,
    pub upload_limit: Option<u64>,
    pub upload_expiry: Option<u64>,
    pub embed_ancestors: Option<String>,
    pub backup_dir: Option<PathBuf>,
    pub backup_every: Option<u64>,
    pub backup_keep: Option<usize>,
    pub hls_window: Option<u64>,
    pub hls_segment: Option<f64>,
    pub hls_js_url: Option<String>,
    #[serde(default)]
    pub icecast: Vec<FileIcecast>,
    #[serde(default)]
    pub feed_redirect: Vec<FeedRedirect>,
    #[serde(default)]
    pub alerts: FileAlerts,
    #[serde(default)]
    pub webhook: Vec<WebhookSettings>,
    pub smtp: Option<SmtpSettings>,
}

/// `[[icecast]]` in `antenne.toml`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileIcecast {
    pub url: String,
    #[serde(default = "source_user")]
    pub user: String,
    pub password: String,
    /// Which stream is pushed: `mp3` (the default) or `opus`.
    #[serde(default = "mp3_stream")]
    pub stream: String,
}

fn mp3_stream() -> String {
    "mp3".into()
}

fn source_user() -> String {
    "source".into()
}

/// The same keys, from flags and `ANTENNE_*` variables (clap merges those two, flag first).
#[derive(Debug, Default, Clone, clap::Args)]
pub struct Overrides {
    /// Configuration file [default: ./antenne.toml when it exists]
    #[arg(long, global = true, env = "ANTENNE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, global = true, env = "ANTENNE_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,
    /// A second address for live sources only [default: none: the daemon's port]
    #[arg(long, global = true, env = "ANTENNE_LIVE_LISTEN", value_name = "ADDR")]
    pub live_listen: Option<String>,
    /// Absolute base URL of feed and stream links [default: http://LISTEN]
    #[arg(long, global = true, env = "ANTENNE_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// Catalog and renditions [default: data]
    #[arg(long, global = true, env = "ANTENNE_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Media folder; schedule paths resolve against it [default: media]
    #[arg(long, global = true, env = "ANTENNE_MEDIA_DIR", value_name = "DIR")]
    pub media_dir: Option<PathBuf>,
    /// Weekly schedule file [default: schedules/weekly.toml]
    #[arg(long, global = true, env = "ANTENNE_SCHEDULE", value_name = "FILE")]
    pub schedule: Option<PathBuf>,
    /// Integrated loudness target, LUFS [default: -16]
    #[arg(
        long,
        global = true,
        env = "ANTENNE_LOUDNESS_TARGET",
        allow_negative_numbers = true,
        value_name = "LUFS"
    )]
    pub loudness_target: Option<f64>,
    /// True-peak ceiling, dBTP [default: -1]
    #[arg(
        long,
        global = true,
        env = "ANTENNE_TRUE_PEAK_CEILING",
        allow_negative_numbers = true,
        value_name = "DBTP"
    )]
    pub true_peak_ceiling: Option<f64>,
    /// MP3 bitrate of renditions and stream, kbps [default: 128]
    #[arg(long, global = true, env = "ANTENNE_BITRATE", value_name = "KBPS")]
    pub bitrate: Option<u32>,
    /// Station sample rate, Hz [default: 44100]
    #[arg(long, global = true, env = "ANTENNE_SAMPLE_RATE", value_name = "HZ")]
    pub sample_rate: Option<u32>,
    /// Leading/trailing silence kept by ingest, seconds [default: 0.5]
    #[arg(long, global = true, env = "ANTENNE_KEEP_SILENCE", value_name = "S")]
    pub keep_silence: Option<f64>,
    /// Seconds of audio a new listener receives at once [default: 2]
    #[arg(long, global = true, env = "ANTENNE_BURST_SECONDS", value_name = "S")]
    pub burst_seconds: Option<f64>,
    /// Most simultaneous listeners; more get 503 [default: 10000]
    #[arg(long, global = true, env = "ANTENNE_MAX_LISTENERS", value_name = "N")]
    pub max_listeners: Option<usize>,
    /// Bytes a listener may lag before it is dropped [default: 262144]
    #[arg(
        long,
        global = true,
        env = "ANTENNE_LISTENER_BACKLOG",
        value_name = "BYTES"
    )]
    pub listener_backlog: Option<usize>,
    /// Most open HTTP connections, listeners included; more get 503 [default: 10240]
    #[arg(long, global = true, env = "ANTENNE_MAX_CONNECTIONS", value_name = "N")]
    pub max_connections: Option<usize>,
    /// Largest upload, bytes [default: 2147483648]
    #[arg(
        long,
        global = true,
        env = "ANTENNE_UPLOAD_LIMIT",
        value_name = "BYTES"
    )]
    pub upload_limit: Option<u64>,
    /// Seconds an unfinished resumable upload is kept without news [default: 86400]
    #[arg(
        long,
        global = true,
        env = "ANTENNE_UPLOAD_EXPIRY",
        value_name = "SECONDS"
    )]
    pub upload_expiry: Option<u64>,
    /// Folder of the daemon's scheduled backups [default: none: no scheduled backups]
    #[arg(long, global = true, env = "ANTENNE_BACKUP_DIR", value_name = "DIR")]
    pub backup_dir: Option<PathBuf>,
    /// Seconds between two scheduled backups [default: 86400]
    #[arg(
        long,
        global = true,
        env = "ANTENNE_BACKUP_EVERY",
        value_name = "SECONDS"
    )]
    pub backup_every: Option<u64>,
    /// Scheduled backups kept, the oldest removed [default: 7]
    #[arg(long, global = true, env = "ANTENNE_BACKUP_KEEP", value_name = "N")]
    pub backup_keep: Option<usize>,
    /// Set by systemd for a `Type=notify` service.
    #[arg(long, global = true, env = "NOTIFY_SOCKET", hide = true)]
    pub notify_socket: Option<String>,
    #[arg(long, global = true, env = "WATCHDOG_USEC", hide = true)]
    pub watchdog_usec: Option<u64>,
    #[arg(long, global = true, env = "WATCHDOG_PID", hide = true)]
    pub watchdog_pid: Option<u32>,
}

/// Why the configuration could not be built; a user error (exit 1).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("{file}:{line}:{col}: error: {message}")]
    Syntax {
        file: PathBuf,
        line: usize,
        col: usize,
        message: String,
    },
    #[error("{key}: {message}")]
    Invalid { key: &'static str, message: String },
}

/// A flag (or its variable) over the file's key over the default.
fn pick<T>(flag: Option<T>, file: Option<T>, default: T) -> T {
    flag.or(file).unwrap_or(default)
}

/// The configuration file to read: `--config`, else `./antenne.toml` when it exists.
fn config_path(o: &Overrides, cwd: &Path) -> Option<PathBuf> {
    match &o.config {
        Some(p) => Some(p.clone()),
        None => Some(cwd.join("antenne.toml")).filter(|p| p.is_file()),
    }
}

/// Parses `antenne.toml` text; errors point at `file:line:col`.
pub fn parse_file(text: &str, file: &Path) -> Result<FileConfig, ConfigError> {
    toml::from_str(text).map_err(|e| {
        let (line, col) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
        ConfigError::Syntax {
            file: file.to_path_buf(),
            line,
            col,
            message: e.message().to_string(),
        }
    })
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

impl Settings {
    /// Resolves defaults < file < environment < flags (`o` already holds env and flags).
    /// Relative paths from the file resolve against the file's folder, others against `cwd`.
    pub fn resolve(o: &Overrides, cwd: &Path) -> Result<Settings, ConfigError> {
        let mut config_file = None;
        let (file, base) = match config_path(o, cwd) {
            Some(path) => {
                let path = cwd.join(path);
                // `/dev/null` and the like: no settings file to keep.
                config_file = Some(path.clone()).filter(|p| p.is_file());
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| ConfigError::Read(path.clone(), e))?;
                let base = path
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| cwd.into());
                (parse_file(&text, &path)?, base)
            }
            None => (FileConfig::default(), cwd.to_path_buf()),
        };
        let (d, ds) = (ProcessSettings::default(), StationSettings::default());
        let path =
            |flag: &Option<PathBuf>, key: &Option<PathBuf>, default: PathBuf| match (flag, key) {
                (Some(p), _) => cwd.join(p),
                (None, Some(p)) => base.join(p),
                (None, None) => cwd.join(default),
            };
        let listen_text = o.listen.clone().or(file.listen.clone());
        let listen = match listen_text {
            Some(s) => s.parse::<SocketAddr>().map_err(|e| ConfigError::Invalid {
                key: "listen",
                message: format!("{s:?} is not an address like 127.0.0.1:8080 ({e})"),
            })?,
            None => d.listen,
        };
        let live_listen = match o.live_listen.clone().or(file.live_listen.clone()) {
            Some(s) => Some(s.parse::<SocketAddr>().map_err(|e| ConfigError::Invalid {
                key: "live_listen",
                message: format!("{s:?} is not an address like 0.0.0.0:8001 ({e})"),
            })?),
            None => None,
        };
        let public_url = match o.public_url.clone().or(file.public_url.clone()) {
            Some(u) => {
                if !(u.starts_with("http://") || u.starts_with("https://")) {
                    return Err(ConfigError::Invalid {
                        key: "public_url",
                        message: format!("{u:?} must be an absolute http:// or https:// URL"),
                    });
                }
                u.trim_end_matches('/').to_string()
            }
            None => derived_public_url(listen),
        };
        let embed_ancestors = match file.embed_ancestors.clone() {
            Some(a) => embed_ancestors(&a)?,
            None => d.embed_ancestors.clone(),
        };
        let s = Settings {
            process: ProcessSettings {
                listen,
                live_listen,
                public_url,
                data_dir: path(&o.data_dir, &file.data_dir, d.data_dir),
                media_dir: path(&o.media_dir, &file.media_dir, d.media_dir),
                schedule: path(&o.schedule, &file.schedule, d.schedule),
                max_listeners: pick(o.max_listeners, file.max_listeners, d.max_listeners),
                listener_backlog_bytes: pick(
                    o.listener_backlog,
                    file.listener_backlog,
                    d.listener_backlog_bytes,
                ),
                max_connections: pick(o.max_connections, file.max_connections, d.max_connections),
                upload_limit_bytes: pick(o.upload_limit, file.upload_limit, d.upload_limit_bytes),
                upload_expiry_s: pick(o.upload_expiry, file.upload_expiry, d.upload_expiry_s),
                embed_ancestors,
                config_file,
                backup_dir: match (&o.backup_dir, &file.backup_dir) {
                    (Some(p), _) => Some(cwd.join(p)),
                    (None, Some(p)) => Some(base.join(p)),
                    (None, None) => None,
                },
                backup_every_s: pick(o.backup_every, file.backup_every, d.backup_every_s),
                backup_keep: pick(o.backup_keep, file.backup_keep, d.backup_keep),
                service: ServiceManager {
                    notify_socket: o.notify_socket.clone(),
                    watchdog_usec: o.watchdog_usec,
                    watchdog_pid: o.watchdog_pid,
                },
            },
            station: StationSettings {
                loudness_target: pick(o.loudness_target, file.loudness_target, ds.loudness_target),
                true_peak_ceiling: pick(
                    o.true_peak_ceiling,
                    file.true_peak_ceiling,
                    ds.true_peak_ceiling,
                ),
                bitrate_kbps: pick(o.bitrate, file.bitrate, ds.bitrate_kbps),
                sample_rate: pick(o.sample_rate, file.sample_rate, ds.sample_rate),
                opus_bitrate_kbps: file.opus_bitrate.unwrap_or(ds.opus_bitrate_kbps),
                keep_silence_s: pick(o.keep_silence, file.keep_silence, ds.keep_silence_s),
                burst_s: pick(o.burst_seconds, file.burst_seconds, ds.burst_s),
                live_preroll_s: file.live_preroll.unwrap_or(ds.live_preroll_s),
                live_grace_s: file.live_grace.unwrap_or(ds.live_grace_s),
                icecast: file
                    .icecast
                    .into_iter()
                    .map(|i| IcecastTarget {
                        url: i.url,
                        user: i.user,
                        password: i.password,
                        stream: i.stream,
                    })
                    .collect(),
                feed_redirects: file.feed_redirect,
                hls_window_s: file.hls_window.unwrap_or(ds.hls_window_s),
                hls_segment_s: file.hls_segment.unwrap_or(ds.hls_segment_s),
                hls_js_url: file.hls_js_url.unwrap_or(ds.hls_js_url),
                alerts: AlertSettings {
                    stream_down_s: file.alerts.stream_down.unwrap_or(ds.alerts.stream_down_s),
                    disk_min_mb: file.alerts.disk_min_mb.unwrap_or(ds.alerts.disk_min_mb),
                    quiet_s: file.alerts.quiet.unwrap_or(ds.alerts.quiet_s),
                    webhooks: file.webhook,
                    smtp: file.smtp,
                },
            },
        };
        s.station.validate()?;
        s.process.validate()?;
        Ok(s)
    }
}

/// A `frame-ancestors` source list: `*`, `'none'`, `'self'`, schemes and host sources
/// separated by spaces; nothing that could end the directive or the header.
fn embed_ancestors(value: &str) -> Result<String, ConfigError> {
    let list = value.split_whitespace().collect::<Vec<_>>().join(" ");
    let ok = !list.is_empty()
        && list
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b" *:/.-_'[]".contains(&b));
    if ok {
        Ok(list)
    } else {
        Err(ConfigError::Invalid {
            key: "embed_ancestors",
            message: format!(
                "{value:?} is not a frame-ancestors source list, e.g. \"*\" or \"'self' https://example.org\""
            ),
        })
    }
}

/// The public URL when none is set: the listen address, `localhost` for a wildcard one.
fn derived_public_url(listen: SocketAddr) -> String {
    if listen.ip().is_unspecified() {
        format!("http://localhost:{}", listen.port())
    } else {
        format!("http://{listen}")
    }
}

impl ProcessSettings {
    /// After binding: with `--listen …:0` the kernel picked a free port, which replaces the 0
    /// in [`Self::listen`] and in a public URL derived from it (so what the daemon prints and
    /// links is reachable). Scripts and tests use it to run a daemon without racing other
    /// programs for a port.
    pub fn bound_to(&mut self, bound: SocketAddr) {
        if self.listen.port() != 0 {
            return;
        }
        if self.public_url == derived_public_url(self.listen) {
            self.public_url = derived_public_url(bound);
        }
        self.listen = bound;
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.backup_every_s == 0 || self.backup_keep == 0 {
            return Err(ConfigError::Invalid {
                key: "backup_every/backup_keep",
                message: "must be at least 1 (second / backup)".into(),
            });
        }
        Ok(())
    }

    /// The folder of the schedule's saved versions: `history/` beside the schedule file
    /// (backups keep it with the schedule).
    pub fn schedule_history(&self) -> PathBuf {
        self.schedule
            .parent()
            .unwrap_or_else(|| Path::new("."))
            .join("history")
    }
}

impl StationSettings {
    fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key, message: String| Err(ConfigError::Invalid { key, message });
        if !(-70.0..=0.0).contains(&self.loudness_target) {
            return bad(
                "loudness_target",
                format!("{} LUFS is outside -70..0", self.loudness_target),
            );
        }
        if !(-20.0..=0.0).contains(&self.true_peak_ceiling) {
            return bad(
                "true_peak_ceiling",
                format!("{} dBTP is outside -20..0", self.true_peak_ceiling),
            );
        }
        // LAME's CBR bitrates valid at 32/44.1/48 kHz.
        const BITRATES: [u32; 14] = [
            32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
        ];
        if !BITRATES.contains(&self.bitrate_kbps) {
            return bad(
                "bitrate",
                format!(
                    "{} kbps is not an MP3 bitrate ({BITRATES:?})",
                    self.bitrate_kbps
                ),
            );
        }
        if ![32_000, 44_100, 48_000].contains(&self.sample_rate) {
            return bad(
                "sample_rate",
                format!("{} Hz: use 32000, 44100 or 48000", self.sample_rate),
            );
        }
        if self.opus_bitrate_kbps != 0 && !(6..=256).contains(&self.opus_bitrate_kbps) {
            return bad(
                "opus_bitrate",
                format!(
                    "{} kbps: use 6 to 256, or 0 for no Opus stream",
                    self.opus_bitrate_kbps
                ),
            );
        }
        for hook in &self.alerts.webhooks {
            let url = hook.url.parse::<hyper::Uri>();
            if !hook.url.starts_with("http://") || url.map(|u| u.host().is_none()).unwrap_or(true) {
                return bad(
                    "webhook.url",
                    format!("{:?} must be a plain http://host:port/path URL", hook.url),
                );
            }
            if let Some(e) = hook
                .events
                .iter()
                .find(|e| !ALERT_EVENTS.contains(&e.as_str()))
            {
                return bad(
                    "webhook.events",
                    format!("{e:?} is not one of {ALERT_EVENTS:?}"),
                );
            }
        }
        if let Some(smtp) = &self.alerts.smtp {
            if !["none", "starttls", "tls"].contains(&smtp.tls.as_str()) {
                return bad(
                    "smtp.tls",
                    format!("{:?}: use \"none\", \"starttls\" or \"tls\"", smtp.tls),
                );
            }
            if smtp.to.is_empty() || smtp.user.is_some() != smtp.password.is_some() {
                return bad(
                    "smtp",
                    "give at least one address in `to`, and `user` with `password`".into(),
                );
            }
        }
        for target in &self.icecast {
            if !["mp3", "opus"].contains(&target.stream.as_str())
                || (target.stream == "opus" && self.opus_bitrate_kbps == 0)
            {
                return bad(
                    "icecast.stream",
                    format!(
                        "{:?}: use \"mp3\" or \"opus\" (with opus_bitrate above 0)",
                        target.stream
                    ),
                );
            }
        }
        if self.live_preroll_s > 3600 || !(0.0..=60.0).contains(&self.live_grace_s) {
            return bad(
                "live_preroll/live_grace",
                "must be between 0 and 3600 / 60 seconds".into(),
            );
        }
        if !(0.0..=60.0).contains(&self.keep_silence_s) || !(0.0..=30.0).contains(&self.burst_s) {
            return bad(
                "keep_silence/burst_seconds",
                "must be between 0 and 60 / 30 seconds".into(),
            );
        }
        if !(1.0..=30.0).contains(&self.hls_segment_s)
            || (self.hls_window_s != 0 && (self.hls_window_s as f64) < self.hls_segment_s * 3.0)
            || self.hls_window_s > 7 * 86_400
        {
            return bad(
                "hls_segment/hls_window",
                "a segment of 1 to 30 s; a window of 0 (no HLS) or 3 segments to 7 days".into(),
            );
        }
        if !(self.hls_js_url.is_empty() || self.hls_js_url.starts_with('/')) {
            return bad(
                "hls_js_url",
                format!(
                    "{:?}: a path on the station's own site (the page's Content-Security-Policy \
                     allows scripts from there only)",
                    self.hls_js_url
                ),
            );
        }
        for r in &self.feed_redirects {
            if !r.from.starts_with('/')
                || !(r.to.starts_with("http://") || r.to.starts_with("https://"))
            {
                return bad(
                    "feed_redirect",
                    format!(
                        "{:?} -> {:?}: `from` is a path (/...), `to` an absolute URL",
                        r.from, r.to
                    ),
                );
            }
        }
        for i in &self.icecast {
            if !i.url.starts_with("http://") {
                return bad(
                    "icecast.url",
                    format!("{:?} must start with http://", i.url),
                );
            }
        }
        Ok(())
    }

    /// How ingest renders an episode at this station's loudness and format (the episode's own
    /// tags go in `tags`, empty here).
    pub fn render_options(&self) -> crate::audio::RenderOptions {
        crate::audio::RenderOptions {
            target_lufs: self.loudness_target,
            ceiling_dbtp: self.true_peak_ceiling,
            rate: self.sample_rate,
            bitrate_kbps: self.bitrate_kbps,
            keep_silence_s: self.keep_silence_s,
            tags: crate::audio::id3::EpisodeTags::default(),
            max_duration_s: 12.0 * 3600.0,
        }
    }
}
