//! The station's feeds from its schedule and catalog: which feeds exist (`/feed.xml`, one
//! `/shows/{slug}/feed.xml` per show, and their RFC 5005 pages), what goes in each, and the
//! task that re-renders them when the catalog or the schedule changes, or a broadcast starts
//! or ends (live item statuses depend on the time).
//!
//! [`build`] is pure (data and an instant in, channels out): the daemon and `antenne feed`
//! call it with the same inputs and so produce the same bytes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use crate::catalog::{Catalog, Episode, EpisodeQuery, EpisodeStatus};
use crate::config::Settings;
use crate::feed::paging::{PAGE_SIZE, page};
use crate::feed::{
    Category, Channel, LiveItem, LiveStatus, Location, Medium, ShowKind, UpdateFrequency,
    live_item_guid, validate_category,
};
use crate::http::feed::{FeedSnapshot, FeedStore, item_from_episode};
use crate::schedule::{Occurrence, Schedule, Show};

use super::AppState;

/// How far ahead scheduled broadcasts are announced.
const LIVE_AHEAD_DAYS: i64 = 7;
/// How far back the last ended broadcast is looked for (monthly slots included).
const LIVE_BEHIND_DAYS: i64 = 35;
/// Rebuild at least this often: catalog writes from another process (`antenne ingest` on the
/// same data folder) send no notification.
const POLL: Duration = Duration::from_secs(60);

/// Elapsed days (timestamps take no calendar units).
fn days(n: i64) -> SignedDuration {
    SignedDuration::from_hours(24 * n)
}

/// The station feed's path.
pub const STATION_FEED: &str = "/feed.xml";

/// A show feed's path.
pub fn show_feed_path(slug: &str) -> String {
    format!("/shows/{slug}/feed.xml")
}

/// The store key of page `n` of the feed at `path` (page 1 is the feed itself).
pub fn page_key(path: &str, n: usize) -> String {
    if n <= 1 {
        path.to_owned()
    } else {
        format!("{path}?page={n}")
    }
}

/// Everything a feed is built from.
pub struct FeedSource<'a> {
    pub schedule: &'a Schedule,
    /// Ready, published episodes, newest first.
    pub episodes: &'a [Episode],
    /// Absolute base URL, without a trailing slash.
    pub public_url: &'a str,
    pub stream_bitrate_kbps: u32,
    /// Feeds that moved (settings' `feed_redirect`).
    pub redirects: &'a [crate::config::FeedRedirect],
}

/// Every feed page, keyed by request path (see [`page_key`]), as seen at `now`.
pub fn build(src: &FeedSource<'_>, now: Timestamp) -> Vec<(String, Channel)> {
    let station = src.schedule.station();
    let occurrences = src
        .schedule
        .occurrences(now - days(LIVE_BEHIND_DAYS), now + days(LIVE_AHEAD_DAYS));
    let mut out = Vec::new();

    let mut categories: Vec<Category> = Vec::new();
    for show in src.schedule.shows() {
        if let Some(c) = show_category(show)
            && !categories.contains(&c)
            && categories.len() < 3
        {
            categories.push(c);
        }
    }
    let station_author = station
        .author
        .clone()
        .unwrap_or_else(|| station.name.clone());
    let station_image = image_url(src.public_url, station.artwork.as_deref(), "/cover");
    let station_channel = Channel {
        title: station.name.clone(),
        link: link(src),
        description: station
            .description
            .clone()
            .unwrap_or_else(|| station.name.clone()),
        language: station.language.clone(),
        self_url: format!("{}{STATION_FEED}", src.public_url),
        image_url: station_image.clone(),
        categories,
        explicit: src.schedule.shows().iter().any(|s| s.explicit),
        author: station_author.clone(),
        owner_name: station_author.clone(),
        owner_email: station.email.clone().unwrap_or_default(),
        kind: ShowKind::Episodic,
        locked: true,
        medium: Medium::Podcast,
        update_frequency: None,
        location: location(src.schedule),
        new_feed_url: None,
        paging: Default::default(),
        last_build: None,
        items: Vec::new(),
        live_items: Vec::new(),
    };
    let all: Vec<&Episode> = src.episodes.iter().collect();
    let live = live_items(src, &occurrences, None, now);
    push_pages(&mut out, STATION_FEED, station_channel, &all, live, src);

    for show in src.schedule.shows() {
        let path = show_feed_path(&show.slug);
        let author = if show.hosts.is_empty() {
            station_author.clone()
        } else {
            show.hosts.join(", ")
        };
        let channel = Channel {
            title: show.title.clone(),
            link: link(src),
            description: show
                .description
                .clone()
                .or_else(|| station.description.clone())
                .unwrap_or_else(|| show.title.clone()),
            language: show.language.clone(),
            self_url: format!("{}{path}", src.public_url),
            image_url: image_url(
                src.public_url,
                show.artwork.as_deref(),
                &format!("/shows/{}/cover", show.slug),
            ),
            categories: show_category(show).into_iter().collect(),
            explicit: show.explicit,
            author,
            owner_name: station_author.clone(),
            owner_email: station.email.clone().unwrap_or_default(),
            kind: match show.kind {
                crate::schedule::ShowKind::Episodic => ShowKind::Episodic,
                crate::schedule::ShowKind::Serial => ShowKind::Serial,
            },
            locked: true,
            medium: Medium::Podcast,
            update_frequency: src.schedule.rrule_for_show(&show.slug).map(|rrule| {
                UpdateFrequency {
                    label: if rrule.starts_with("FREQ=DAILY") {
                        "Chaque jour".into()
                    } else {
                        "Chaque semaine".into()
                    },
                    rrule,
                    dtstart: None,
                }
            }),
            location: location(src.schedule),
            new_feed_url: None,
            paging: Default::default(),
            last_build: None,
            items: Vec::new(),
            live_items: Vec::new(),
        };
        let episodes: Vec<&Episode> = src
            .episodes
            .iter()
            .filter(|e| e.show == show.slug)
            .collect();
        let live = live_items(src, &occurrences, Some(show), now);
        push_pages(&mut out, &path, channel, &episodes, live, src);
    }
    // A feed that moved here announces its new address to apps that followed the 301.
    for (_, channel) in &mut out {
        if src.redirects.iter().any(|r| r.to == channel.self_url) {
            channel.new_feed_url = Some(channel.self_url.clone());
        }
    }
    out
}

/// Splits `episodes` into pages of `channel`; live items go on page 1 only. `lastBuildDate`
/// is derived from the content (the newest episode change, the latest broadcast start or end
/// already passed), so that two builds of the same data agree to the byte.
fn push_pages(
    out: &mut Vec<(String, Channel)>,
    path: &str,
    channel: Channel,
    episodes: &[&Episode],
    live: Vec<LiveItem>,
    src: &FeedSource<'_>,
) {
    let tz = src.schedule.station().timezone.clone();
    let items: Vec<_> = episodes
        .iter()
        .filter_map(|e| item_from_episode(e, src.public_url, &tz))
        .collect();
    let changed = episodes.iter().map(|e| e.updated_at).max();
    let aired = live
        .iter()
        .filter_map(|l| match l.status {
            LiveStatus::Pending => None,
            LiveStatus::Live => Some(l.start.timestamp()),
            LiveStatus::Ended => Some(l.end.timestamp()),
        })
        .max();
    let last_build = changed.max(aired);
    let url_of = |n: usize| format!("{}{}", src.public_url, page_key(path, n));
    let mut n = 1;
    while let Some((range, paging)) = page(items.len(), n, PAGE_SIZE, url_of) {
        let mut c = channel.clone();
        c.items = items[range].to_vec();
        c.paging = paging;
        c.last_build = last_build;
        if n == 1 {
            c.live_items = live.clone();
        }
        out.push((page_key(path, n), c));
        n += 1;
    }
}

/// The scheduled broadcasts of `show` (or of the station): every one not yet ended that starts
/// within [`LIVE_AHEAD_DAYS`], and the last one ended.
fn live_items(
    src: &FeedSource<'_>,
    occurrences: &[Occurrence],
    show: Option<&Show>,
    now: Timestamp,
) -> Vec<LiveItem> {
    let ahead = now + days(LIVE_AHEAD_DAYS);
    let mine: Vec<&Occurrence> = occurrences
        .iter()
        .filter(|o| show.is_none_or(|s| s.slug == o.show))
        .collect();
    let last_ended = mine.iter().rev().find(|o| o.end <= now);
    let upcoming = mine.iter().filter(|o| o.end > now && o.start < ahead);
    let station = src.schedule.station();
    let self_url = match show {
        Some(s) => format!("{}{}", src.public_url, show_feed_path(&s.slug)),
        None => format!("{}{STATION_FEED}", src.public_url),
    };
    last_ended
        .into_iter()
        .chain(upcoming)
        .map(|o| {
            let shown = src.schedule.show(&o.show);
            let title = shown.map_or(station.name.as_str(), |s| s.title.as_str());
            let start = o.start.to_zoned_datetime(station.timezone.clone());
            let end = o.end.to_zoned_datetime(station.timezone.clone());
            LiveItem {
                guid: live_item_guid(&self_url, o.start),
                title: format!("{title} — en direct {}", french_when(&start)),
                description: shown
                    .and_then(|s| s.description.clone())
                    .or_else(|| station.description.clone())
                    .unwrap_or_else(|| title.to_owned()),
                status: LiveStatus::at(o.start, o.end, now),
                start,
                end,
                stream_url: format!("{}/stream", src.public_url),
                stream_bitrate_kbps: src.stream_bitrate_kbps,
                content_link: format!("{}/", src.public_url),
                content_link_label: "Écouter en direct".into(),
                image_url: shown.map(|s| {
                    image_url(
                        src.public_url,
                        s.artwork.as_deref(),
                        &format!("/shows/{}/cover", s.slug),
                    )
                }),
            }
        })
        .collect()
}

/// e.g. `le lundi 2 mars à 7 h 00` (the page's French dates).
fn french_when(t: &jiff::ZonedDateTime) -> String {
    let day = crate::http::web::Lang::Fr.day(t.date());
    format!("le {day} à {} h {:02}", t.hour(), t.minute())
}

fn link(src: &FeedSource<'_>) -> String {
    src.schedule
        .station()
        .website
        .clone()
        .unwrap_or_else(|| format!("{}/", src.public_url))
}

/// Artwork given as an absolute URL is used as is; a file (relative to the media folder) is
/// served at `{base}{route}.{ext}`, and no artwork means the generated cover at
/// `{base}{route}.png`.
fn image_url(base: &str, artwork: Option<&str>, route: &str) -> String {
    match artwork {
        Some(a) if a.starts_with("https://") || a.starts_with("http://") => a.to_owned(),
        Some(a) => format!("{base}{route}.{}", artwork_ext(a)),
        None => format!("{base}{route}.png"),
    }
}

/// The served extension of an artwork file: `jpg` for JPEG, else `png`.
pub fn artwork_ext(path: &str) -> &'static str {
    let lower = path.to_ascii_lowercase();
    if lower.ends_with(".jpg") || lower.ends_with(".jpeg") {
        "jpg"
    } else {
        "png"
    }
}

fn show_category(show: &Show) -> Option<Category> {
    let name = show.category.as_deref()?;
    match validate_category(name, show.subcategory.as_deref()) {
        Ok(()) => Some(Category {
            name: name.to_owned(),
            sub: show.subcategory.clone(),
        }),
        Err(e) => {
            tracing::warn!(show = show.slug, "category left out of the feed: {e}");
            None
        }
    }
}

fn location(schedule: &Schedule) -> Option<Location> {
    schedule.station().location.as_ref().map(|name| Location {
        name: name.clone(),
        geo: None,
        osm: None,
    })
}

/// The next instant a live item changes status (a broadcast starts or ends), if any within
/// the announced window.
pub fn next_boundary(schedule: &Schedule, now: Timestamp) -> Option<Timestamp> {
    schedule
        .occurrences(now, now + days(LIVE_AHEAD_DAYS + 1))
        .iter()
        .flat_map(|o| [o.start, o.end])
        .filter(|&t| t > now)
        .min()
}

/// The episodes that go in feeds: ready and published, newest first.
pub fn feed_episodes(catalog: &Catalog) -> crate::catalog::Result<Vec<Episode>> {
    catalog.list_episodes(&EpisodeQuery {
        status: Some(EpisodeStatus::Ready),
        ..Default::default()
    })
}

/// Every feed rendered from `catalog` and `schedule` at `now` (blocking: reads the catalog).
pub fn render_all(
    catalog: &Catalog,
    schedule: &Schedule,
    settings: &Settings,
    now: Timestamp,
) -> crate::catalog::Result<Vec<(String, FeedSnapshot)>> {
    let episodes = feed_episodes(catalog)?;
    let src = FeedSource {
        schedule,
        episodes: &episodes,
        public_url: &settings.public_url,
        stream_bitrate_kbps: settings.bitrate_kbps,
        redirects: &settings.feed_redirects,
    };
    Ok(build(&src, now)
        .into_iter()
        .map(|(path, channel)| (path, FeedSnapshot::render(&channel, now)))
        .collect())
}

/// Swaps freshly rendered feeds into `store`. A feed whose bytes did not change keeps its
/// snapshot (and so its `Last-Modified`); a changed one is stamped `now`.
pub fn install(
    store: &FeedStore,
    rendered: Vec<(String, FeedSnapshot)>,
    redirects: &[crate::config::FeedRedirect],
) {
    let feeds: HashMap<String, Arc<FeedSnapshot>> = rendered
        .into_iter()
        .map(|(path, fresh)| {
            let kept = store
                .get(&path)
                .filter(|old| old.feed.etag == fresh.feed.etag);
            (path, kept.unwrap_or_else(|| Arc::new(fresh)))
        })
        .collect();
    let moved = redirects
        .iter()
        .map(|r| (r.from.clone(), r.to.clone()))
        .collect();
    store.replace(feeds, moved);
}

/// Renders every feed off the runtime and installs them; returns the next status boundary.
pub async fn rebuild(state: &AppState, now: Timestamp) -> Option<Timestamp> {
    let schedule = state.schedule().schedule.clone();
    let catalog = state.catalog().clone();
    let settings = state.settings().clone();
    let s = schedule.clone();
    let rendered =
        tokio::task::spawn_blocking(move || render_all(&catalog, &s, &settings, now)).await;
    match rendered {
        Ok(Ok(feeds)) => install(state.feeds(), feeds, &state.settings().feed_redirects),
        Ok(Err(e)) => tracing::error!("rendering the feeds: {e}"),
        Err(e) => tracing::error!("rendering the feeds: {e}"),
    }
    next_boundary(&schedule, now)
}

/// Keeps the feeds current until shutdown.
pub async fn rebuild_task(state: AppState) {
    let mut catalog = state.catalog_changes();
    let mut schedule = state.schedule_sender().subscribe();
    let shutdown = state.shutdown_token().clone();
    loop {
        let now = Timestamp::now();
        let next = rebuild(&state, now).await;
        let wait = next
            .and_then(|t| Duration::try_from(now.duration_until(t)).ok())
            .map_or(POLL, |d| d.min(POLL));
        tokio::select! {
            () = shutdown.cancelled() => return,
            r = catalog.changed() => if r.is_err() { return },
            r = schedule.changed() => if r.is_err() { return },
            // A little after the boundary, so `now` is past it.
            () = tokio::time::sleep(wait + Duration::from_millis(5)) => {}
        }
    }
}
