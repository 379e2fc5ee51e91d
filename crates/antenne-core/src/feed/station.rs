//! What each of the station's feeds contains, computed in one pure place: which feeds exist
//! (`/feed.xml`, one `/shows/{slug}/feed.xml` per show, and their RFC 5005 pages), the channel
//! of each from the schedule, its items from the catalog's episodes, and the live items of the
//! scheduled broadcasts around `now`.
//!
//! [`build`] takes data and an instant and returns channels: the daemon's feed refresh and
//! `antenne feed` call it with the same inputs and so produce the same bytes.

use jiff::{SignedDuration, Timestamp};

use super::paging::{PAGE_SIZE, page};
use super::text::long_day;
use super::{
    Category, Channel, Item, LiveItem, LiveRecording, LiveStatus, Location, Medium, ShowKind,
    Transcript, UpdateFrequency, live_item_guid, validate_category,
};
use crate::catalog::{Episode, EpisodeStatus};
use crate::schedule::{Occurrence, Schedule, Show};

/// `[[feed_redirect]]`: a feed path of this station that moved to a new absolute URL.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedRedirect {
    /// e.g. `/shows/la-matinale/feed.xml`
    pub from: String,
    /// e.g. `https://radio.example/shows/matinale/feed.xml`
    pub to: String,
}

/// How an artwork file is served: the one rule for station, show and episode artwork (the
/// feed's URL and the `/media` or cover route that answers it must agree).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArtworkFormat {
    Jpeg,
    Png,
}

impl ArtworkFormat {
    /// By the file's extension: `.png` is PNG, anything else (`.jpg`, `.jpeg`) JPEG, the
    /// format intake and the schedule check accept besides PNG.
    pub fn of(path: &str) -> ArtworkFormat {
        if path.to_ascii_lowercase().ends_with(".png") {
            ArtworkFormat::Png
        } else {
            ArtworkFormat::Jpeg
        }
    }

    /// The extension of its URL.
    pub fn ext(self) -> &'static str {
        match self {
            ArtworkFormat::Jpeg => "jpg",
            ArtworkFormat::Png => "png",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            ArtworkFormat::Jpeg => "image/jpeg",
            ArtworkFormat::Png => "image/png",
        }
    }
}

/// How far ahead scheduled broadcasts are announced.
const LIVE_AHEAD_DAYS: i64 = 7;
/// How far back the last ended broadcast is looked for (monthly slots included).
const LIVE_BEHIND_DAYS: i64 = 35;
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
    pub redirects: &'a [FeedRedirect],
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
    // What every show's channel shares with the station's (owner, location, medium...).
    let shared = station_channel.clone();
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
            kind: show.kind,
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
            ..shared.clone()
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
                recording: (o.end <= now)
                    .then(|| {
                        src.episodes
                            .iter()
                            .find(|e| e.occurrence_id.as_deref() == Some(o.id.as_str()))
                    })
                    .flatten()
                    .and_then(|e| {
                        Some(LiveRecording {
                            url: format!("{}/media/{}.mp3", src.public_url, e.id),
                            length: e.rendition_bytes?,
                        })
                    }),
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
    let day = long_day(t.date(), false);
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
        Some(a) => format!("{base}{route}.{}", ArtworkFormat::of(a).ext()),
        None => format!("{base}{route}.png"),
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

/// The feed item of a catalog episode, or `None` while it is not a published, ready rendition.
///
/// URLs follow the media routes: `{base}/media/{id}.mp3` (ASCII by construction: the id is a
/// UUID), `{id}.{ext}` of its [`TranscriptKind`](crate::catalog::TranscriptKind) with that
/// kind's type, `{id}.chapters.json`, `{id}.jpg`/`.png`. The date is the one the
/// volunteer gave (noon in `tz`), else the upload time: both survive re-ingest, unlike
/// `ready_at`.
pub fn item_from_episode(ep: &Episode, base: &str, tz: &jiff::tz::TimeZone) -> Option<Item> {
    if ep.status != EpisodeStatus::Ready || !ep.published {
        return None;
    }
    let length = ep.rendition_bytes?;
    let id = &ep.id;
    let pub_date = ep
        .date
        .as_deref()
        .and_then(|d| d.parse::<jiff::civil::Date>().ok())
        .and_then(|d| d.at(12, 0, 0, 0).to_zoned_datetime(tz.clone()).ok())
        .map_or(ep.created_at, |z| z.timestamp());
    let transcript = ep.transcript_type.map(|kind| Transcript {
        url: format!("{base}/media/{id}.{}", kind.ext()),
        mime: kind.mime().to_owned(),
    });
    let image_url = ep
        .artwork_path
        .as_deref()
        .map(|p| format!("{base}/media/{id}.{}", ArtworkFormat::of(p).ext()));
    Some(Item {
        guid: id.clone(),
        title: ep.title.clone(),
        description: ep.description.clone(),
        content_html: None,
        pub_date,
        enclosure_url: format!("{base}/media/{id}.mp3"),
        enclosure_length: length,
        duration_s: ep.duration_ms.map_or(0, |ms| (ms + 500) / 1000),
        season: ep.season,
        episode: ep.episode,
        image_url,
        transcript,
        chapters_url: ep
            .chapters_path
            .as_ref()
            .map(|_| format!("{base}/media/{id}.chapters.json")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_from_catalog_episodes() {
        let created: Timestamp = "2026-11-20T15:30:00Z".parse().unwrap();
        let mut ep = Episode {
            id: "0b8f2a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b".into(),
            show: "au-fil-des-quartiers".into(),
            title: "Le marché".into(),
            description: "Reportage.".into(),
            date: Some("2026-11-21".into()),
            season: None,
            episode: Some(12),
            status: EpisodeStatus::Ready,
            error: None,
            published: true,
            original_sha256: String::new(),
            original_path: "originals/x.wav".into(),
            original_bytes: 1,
            original_name: None,
            rendition_path: Some("renditions/x.mp3".into()),
            rendition_bytes: Some(28_800_417),
            duration_ms: Some(1_799_600),
            before: None,
            after: None,
            gain_db: None,
            transcript_path: Some("t/x.srt".into()),
            transcript_type: Some(crate::catalog::TranscriptKind::Srt),
            chapters_path: None,
            artwork_path: Some("art/x.PNG".into()),
            created_at: created,
            updated_at: created,
            ready_at: Some(created),
            occurrence_id: None,
        };
        let tz = jiff::tz::TimeZone::get("Europe/Paris").unwrap();
        let item = item_from_episode(&ep, "https://radio.example.org", &tz).unwrap();
        assert_eq!(item.guid, ep.id);
        assert_eq!(
            item.enclosure_url,
            format!("https://radio.example.org/media/{}.mp3", ep.id)
        );
        assert_eq!((item.enclosure_length, item.duration_s), (28_800_417, 1800));
        assert_eq!(
            item.pub_date,
            "2026-11-21T11:00:00Z".parse().unwrap(),
            "noon in Paris"
        );
        assert_eq!(
            item.transcript,
            Some(Transcript {
                url: format!("https://radio.example.org/media/{}.srt", ep.id),
                mime: "application/x-subrip".into(),
            })
        );
        assert_eq!(
            item.image_url,
            Some(format!("https://radio.example.org/media/{}.png", ep.id))
        );
        assert_eq!(item.chapters_url, None);
        ep.date = None;
        assert_eq!(item_from_episode(&ep, "", &tz).unwrap().pub_date, created);
        ep.published = false;
        assert_eq!(item_from_episode(&ep, "", &tz), None);
        ep.published = true;
        ep.status = EpisodeStatus::Processing;
        assert_eq!(item_from_episode(&ep, "", &tz), None);
    }
}
