//! Where the configuration meets the subsystems: each one's small config is built here from
//! the [`Settings`], so that `http`, `playout`, `ingest` and `broadcast` never read the settings
//! themselves (and tests build those configs directly). The lists of the station's outputs
//! and live inputs are here too: adding one is a line in [`outputs`] or [`LIVE_INPUTS`].

use std::time::Duration;

use crate::audio::RenderOptions;
use crate::broadcast::hls::HlsConfig;
use crate::broadcast::icecast::{Endpoint, IcecastPush};
use crate::broadcast::{HubConfig, Output, StationInfo};
use crate::config::Settings;
use crate::http::HttpConfig;
use crate::http::conn::Limits;
use crate::input::LiveConfig;
use crate::playout::library::LibraryConfig;
use crate::playout::{LevelPolicy, Levels, LiveBuffer, LiveInputs, PlayoutConfig};
use crate::schedule::Station;

/// The live inputs sources connect to (the playout's `play = "live"` slots air `live`).
pub const LIVE_INPUTS: &[&str] = &[crate::playout::programme::LIVE_INPUT];

/// How much live audio is buffered at most between a source and the programme.
const LIVE_BUFFER: Duration = Duration::from_secs(4);
/// The cushion a steady live source keeps ahead of the programme (its share of the latency):
/// the drift control holds the buffer there. It adapts to the source: one whose packets
/// arrive in bursts or late (an Ogg source sends a page, often a second, at once) gets its
/// worst lateness of the last half-minute plus a margin, up to [`LIVE_CUSHION_MAX`]
/// (`audio::drift::Cushion`).
pub const LIVE_CUSHION: Duration = Duration::from_millis(350);
/// The most the cushion grows to for a bursty or late source (under the buffer's capacity,
/// so that the drift control keeps room to absorb a fast clock).
pub const LIVE_CUSHION_MAX: Duration = Duration::from_millis(2500);

/// The HTTP layer's addresses, limits and paths.
pub fn http_config(settings: &Settings) -> HttpConfig {
    HttpConfig {
        public_url: settings.process.public_url.clone(),
        data_dir: settings.process.data_dir.clone(),
        media_dir: settings.process.media_dir.clone(),
        upload_limit_bytes: settings.process.upload_limit_bytes,
        upload_expiry: Duration::from_secs(settings.process.upload_expiry_s),
        limits: Limits {
            max_connections: settings.process.max_connections,
            ..Limits::default()
        },
        feed_redirects: settings.station.feed_redirects.clone(),
        stream_bitrate_kbps: settings.station.bitrate_kbps,
        live_port: live_port(settings),
        embed_ancestors: settings.process.embed_ancestors.clone(),
        hls_js_url: settings.station.hls_js_url.clone(),
    }
}

/// Where the operators' console finds the schedule it edits and its saved versions.
pub fn console_config(settings: &Settings) -> crate::http::console::ConsoleConfig {
    crate::http::console::ConsoleConfig {
        schedule: settings.process.schedule.clone(),
        history: settings.process.schedule_history(),
    }
}

/// The port live sources connect to: `live_listen`'s, else the public URL's (explicit, or
/// its scheme's).
fn live_port(settings: &Settings) -> u16 {
    let p = &settings.process;
    if let Some(addr) = p.live_listen {
        return addr.port();
    }
    let url = &p.public_url;
    let authority = url
        .split("://")
        .nth(1)
        .unwrap_or(url)
        .split('/')
        .next()
        .unwrap_or("");
    match authority
        .rsplit_once(':')
        .and_then(|(_, port)| port.parse().ok())
    {
        Some(port) => port,
        None if url.starts_with("https://") => 443,
        None => 80,
    }
}

/// The HLS output's folder, window and segment length (`None`: `hls_window = 0`, no HLS).
pub fn hls_config(settings: &Settings) -> Option<HlsConfig> {
    let st = &settings.station;
    (st.hls_window_s > 0).then(|| HlsConfig {
        dir: settings.process.data_dir.join("hls"),
        window: Duration::from_secs(st.hls_window_s),
        segment: Duration::from_secs_f64(st.hls_segment_s),
        rate: st.sample_rate,
    })
}

/// A mount's fan-out limits.
pub fn hub_config(settings: &Settings) -> HubConfig {
    HubConfig {
        burst: Duration::from_secs_f64(settings.station.burst_s.max(0.0)),
        max_listeners: settings.process.max_listeners,
        backlog_bytes: settings.process.listener_backlog_bytes,
        ..HubConfig::default()
    }
}

/// How the station presents itself on its MP3 mount.
pub fn station_info(station: &Station, settings: &Settings) -> StationInfo {
    StationInfo::new(
        station,
        &settings.process.public_url,
        settings.station.bitrate_kbps,
        settings.station.sample_rate,
    )
}

/// The station's live inputs, empty until a source connects.
pub fn live_inputs(settings: &Settings) -> LiveInputs {
    let frames = |d: Duration| (d.as_secs_f64() * f64::from(settings.station.sample_rate)) as usize;
    let buffer = LiveBuffer {
        capacity_frames: frames(LIVE_BUFFER),
        prime_frames: frames(LIVE_CUSHION),
    };
    LiveInputs::new(LIVE_INPUTS.iter().copied(), buffer)
}

/// How ingest renders every episode: the station's loudness, ceiling and format.
pub fn render_options(settings: &Settings) -> RenderOptions {
    settings.station.render_options()
}

/// The live input's parameters (the mount volunteers connect to is [`crate::input::MOUNT`]).
pub fn live_config(settings: &Settings) -> LiveConfig {
    let st = &settings.station;
    LiveConfig {
        station_rate: st.sample_rate,
        target_lufs: st.loudness_target,
        ceiling_dbtp: st.true_peak_ceiling,
        cushion: LIVE_CUSHION,
        max_cushion: LIVE_CUSHION_MAX,
        preroll: Duration::from_secs(st.live_preroll_s),
        grace: Duration::from_secs_f64(st.live_grace_s),
        data_dir: settings.process.data_dir.clone(),
        ..LiveConfig::default()
    }
}

/// The playout engine's parameters.
pub fn playout_config(settings: &Settings, live: LiveInputs, levels: Levels) -> PlayoutConfig {
    PlayoutConfig {
        sample_rate: settings.station.sample_rate,
        media_dir: settings.process.media_dir.clone(),
        live,
        levels,
        ..PlayoutConfig::default()
    }
}

/// The airplay writer's names and clock.
pub fn airplay_config(
    settings: &Settings,
    clock: std::sync::Arc<dyn crate::playout::Clock>,
) -> crate::playout::airplay::WriterConfig {
    crate::playout::airplay::WriterConfig {
        sample_rate: settings.station.sample_rate,
        media_dir: settings.process.media_dir.clone(),
        data_dir: settings.process.data_dir.clone(),
        clock,
    }
}

/// Levelling on: non-episode files air at the ingest's loudness target, under its ceiling.
pub fn levels(settings: &Settings) -> Levels {
    Levels::new(LevelPolicy {
        target_lufs: settings.station.loudness_target,
        ceiling_dbtp: settings.station.true_peak_ceiling,
        ..LevelPolicy::default()
    })
}

/// The background analyser of the media folder.
pub fn library_config(settings: &Settings) -> LibraryConfig {
    LibraryConfig {
        media_dir: settings.process.media_dir.clone(),
        sample_rate: settings.station.sample_rate,
        rescan: std::time::Duration::from_secs(60),
    }
}

/// A pushed output and the name of the mount it pushes (`mp3`, `opus`).
pub type MountOutput = (String, Box<dyn Output>);

/// The pushed outputs, in the settings' order, each with its mount (HTTP listeners need none:
/// `http` serves every mount).
pub fn outputs(settings: &Settings) -> Result<Vec<MountOutput>, String> {
    let mut outputs: Vec<MountOutput> = Vec::new();
    for target in &settings.station.icecast {
        let endpoint =
            Endpoint::parse(target).map_err(|e| format!("icecast {}: {e}", target.url))?;
        outputs.push((target.stream.clone(), Box::new(IcecastPush { endpoint })));
    }
    Ok(outputs)
}

/// What a backup holds: the catalog and its files, the live recordings, the download
/// counter's secret, the settings file, the schedule and its saved versions.
pub fn backup_config(settings: &Settings) -> crate::backup::BackupConfig {
    let p = &settings.process;
    crate::backup::BackupConfig {
        data_dir: p.data_dir.clone(),
        data_folders: vec![crate::input::record::LIVE_DIR.into()],
        data_files: vec![super::state::SECRET_FILE.into()],
        settings_file: p.config_file.clone(),
        schedule: p.schedule.clone(),
        schedule_history: p.schedule_history(),
    }
}

/// The scheduled backups, when `backup_dir` is set.
pub fn backup_plan(settings: &Settings) -> Option<crate::backup::scheduled::BackupPlan> {
    let p = &settings.process;
    p.backup_dir
        .as_ref()
        .map(|dir| crate::backup::scheduled::BackupPlan {
            dir: dir.clone(),
            every: Duration::from_secs(p.backup_every_s),
            keep: p.backup_keep,
        })
}

/// The alerts task's webhooks, e-mail and de-duplication window.
pub fn alerts_config(settings: &Settings) -> Result<crate::alerts::AlertsConfig, String> {
    use crate::alerts::{Mailer, SmtpConfig, SmtpTls};
    let a = &settings.station.alerts;
    let mail = match &a.smtp {
        None => None,
        Some(s) => {
            let tls = match s.tls.as_str() {
                "none" => SmtpTls::None,
                "tls" => SmtpTls::Tls,
                _ => SmtpTls::StartTls,
            };
            let port = s.port.unwrap_or(match tls {
                SmtpTls::None => 25,
                SmtpTls::StartTls => 587,
                SmtpTls::Tls => 465,
            });
            Some(Mailer::new(&SmtpConfig {
                host: s.host.clone(),
                port,
                tls,
                credentials: s.user.clone().zip(s.password.clone()),
                from: s.from.clone(),
                to: s.to.clone(),
            })?)
        }
    };
    Ok(crate::alerts::AlertsConfig {
        mail,
        station: settings.process.public_url.clone(),
        webhooks: a
            .webhooks
            .iter()
            // Validated with the settings.
            .filter_map(|w| {
                Some(crate::alerts::Endpoint {
                    url: w.url.parse().ok()?,
                    secret: w.secret.clone(),
                    events: w.events.clone(),
                })
            })
            .collect(),
        retry: crate::alerts::Retry::default(),
        quiet: Duration::from_secs(a.quiet_s),
    })
}
