//! Where the configuration meets the subsystems: each one's small config is built here from
//! the [`Settings`], so that `http`, `playout`, `ingest` and `broadcast` never read the
//! settings themselves (and tests build those configs directly).

use std::time::Duration;

use crate::broadcast::HubConfig;
use crate::config::Settings;
use crate::http::HttpConfig;
use crate::http::conn::Limits;

/// The HTTP layer's addresses, limits and paths.
pub fn http_config(settings: &Settings) -> HttpConfig {
    HttpConfig {
        public_url: settings.public_url.clone(),
        data_dir: settings.data_dir.clone(),
        media_dir: settings.media_dir.clone(),
        upload_limit_bytes: settings.upload_limit_bytes,
        upload_expiry: Duration::from_secs(settings.upload_expiry_s),
        limits: Limits {
            max_connections: settings.max_connections,
            ..Limits::default()
        },
        feed_redirects: settings.feed_redirects.clone(),
        stream_bitrate_kbps: settings.bitrate_kbps,
    }
}

/// The live stream's fan-out limits.
pub fn hub_config(settings: &Settings) -> HubConfig {
    HubConfig::from_settings(settings)
}
