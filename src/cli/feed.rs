//! `antenne feed`: prints a podcast feed exactly as the daemon serves it (same builder, same
//! catalog and schedule), to check it or publish it as a static file.

use std::io::Write;

use anyhow::anyhow;

use crate::catalog::Catalog;
use crate::cli::CliError;
use crate::config::Settings;
use crate::feed::{FeedSource, STATION_FEED, build, page_key, show_feed_path};
use crate::http::refresh::feed_episodes;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A show's feed (its slug) instead of the whole station's
    #[arg(long, value_name = "SLUG")]
    pub show: Option<String>,
    /// Page of an RFC 5005 paged feed (the feed itself is page 1)
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub page: usize,
}

pub fn run(args: &Args, settings: &Settings, out: &mut dyn Write) -> Result<(), CliError> {
    let catalog = Catalog::open(&settings.process.data_dir)?;
    let now = jiff::Timestamp::now();
    let (schedule, _warnings) = crate::daemon::schedule::load(
        &settings.process.schedule,
        &settings.process.media_dir,
        &catalog,
        now,
    )
    .map_err(|errors| {
        CliError::User(anyhow!(
            "the schedule {} is invalid:\n{}",
            settings.process.schedule.display(),
            errors.join("\n")
        ))
    })?;
    let path = match &args.show {
        Some(slug) if schedule.show(slug).is_none() => {
            let known: Vec<&str> = schedule.shows().iter().map(|s| s.slug.as_str()).collect();
            return Err(CliError::user(format!(
                "no show {slug:?} in {} (shows: {})",
                settings.process.schedule.display(),
                known.join(", ")
            )));
        }
        Some(slug) => show_feed_path(slug),
        None => STATION_FEED.to_owned(),
    };
    let episodes = feed_episodes(&catalog)?;
    let src = FeedSource {
        schedule: &schedule,
        episodes: &episodes,
        public_url: &settings.process.public_url,
        stream_bitrate_kbps: settings.station.bitrate_kbps,
        redirects: &settings.station.feed_redirects,
    };
    let key = page_key(&path, args.page);
    let Some((_, channel)) = build(&src, now).into_iter().find(|(k, _)| *k == key) else {
        return Err(CliError::user(format!("{path} has no page {}", args.page)));
    };
    out.write_all(&crate::feed::render(&channel))
        .map_err(|e| CliError::Internal(e.into()))
}
