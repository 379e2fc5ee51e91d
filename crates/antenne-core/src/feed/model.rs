//! The feed view model: plain structs [`super::station`] fills from the catalog and the
//! schedule, and [`super::render`] turns into bytes.
//!
//! Values here are raw text (unescaped, possibly hostile); the writer sanitises and escapes
//! every one of them. URLs are absolute.

use jiff::{Timestamp, ZonedDateTime};

pub use crate::schedule::ShowKind;

/// One podcast feed: a show's, or the whole station's.
#[derive(Debug, Clone, PartialEq)]
pub struct Channel {
    pub title: String,
    /// The station's (or the show's) web page.
    pub link: String,
    /// Plain text; truncated to 4000 bytes when written.
    pub description: String,
    /// ISO 639 code, e.g. `fr`.
    pub language: String,
    /// The absolute URL this feed is served at (`atom:link rel="self"`, `podcast:guid`).
    pub self_url: String,
    /// Square artwork, 1400-3000 px (a generated [`super::cover`] when the show has none).
    pub image_url: String,
    /// Apple categories, in order; several subcategories of one category may repeat the name.
    pub categories: Vec<Category>,
    pub explicit: bool,
    pub author: String,
    pub owner_name: String,
    pub owner_email: String,
    pub kind: ShowKind,
    /// `podcast:locked`: other platforms may not import this feed.
    pub locked: bool,
    pub medium: Medium,
    pub update_frequency: Option<UpdateFrequency>,
    pub location: Option<Location>,
    /// Set on the feed at the new address after a move (`itunes:new-feed-url`).
    pub new_feed_url: Option<String>,
    /// RFC 5005 paged-feed links.
    pub paging: Paging,
    /// `lastBuildDate`: when the catalog or the schedule last changed (the caller's clock).
    pub last_build: Option<Timestamp>,
    /// Recorded episodes, newest first.
    pub items: Vec<Item>,
    /// Scheduled broadcasts (`podcast:liveItem`), in start order.
    pub live_items: Vec<LiveItem>,
}

/// One Apple category, with an optional subcategory (see [`super::categories`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    pub name: String,
    pub sub: Option<String>,
}

/// `podcast:medium` (the values a radio station can mean).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Medium {
    #[default]
    Podcast,
    Music,
    Audiobook,
    Mixed,
}

impl Medium {
    pub fn as_str(self) -> &'static str {
        match self {
            Medium::Podcast => "podcast",
            Medium::Music => "music",
            Medium::Audiobook => "audiobook",
            Medium::Mixed => "mixed",
        }
    }
}

/// `podcast:updateFrequency`: a human label plus an RFC 5545 recurrence rule.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateFrequency {
    /// e.g. `Chaque samedi à 10 h`.
    pub label: String,
    /// e.g. `FREQ=WEEKLY;BYDAY=SA` (see [`super::rrule`]).
    pub rrule: String,
    /// First occurrence, when known.
    pub dtstart: Option<Timestamp>,
}

/// `podcast:location`.
#[derive(Debug, Clone, PartialEq)]
pub struct Location {
    /// Human-readable place, e.g. `Romans-sur-Isère`.
    pub name: String,
    /// RFC 5870 geo URI, e.g. `geo:45.0434,5.0511`.
    pub geo: Option<String>,
    /// OpenStreetMap id, e.g. `R120965`.
    pub osm: Option<String>,
}

/// RFC 5005 section 3 (paged feeds): absolute URLs of the neighbouring pages.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Paging {
    pub first: Option<String>,
    pub next: Option<String>,
    pub previous: Option<String>,
    pub last: Option<String>,
}

/// One recorded episode.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The catalog id: permanent, never changed by re-ingest or edits.
    pub guid: String,
    pub title: String,
    /// Plain text; truncated to 4000 bytes when written.
    pub description: String,
    /// Rich show notes (`content:encoded`), HTML.
    pub content_html: Option<String>,
    pub pub_date: Timestamp,
    /// Absolute URL of the MP3 rendition.
    pub enclosure_url: String,
    /// The exact byte size served at `enclosure_url`.
    pub enclosure_length: u64,
    /// Whole seconds of the rendition.
    pub duration_s: u64,
    pub season: Option<u32>,
    pub episode: Option<u32>,
    pub image_url: Option<String>,
    pub transcript: Option<Transcript>,
    /// JSON chapters (`application/json+chapters`).
    pub chapters_url: Option<String>,
}

/// `podcast:transcript`.
#[derive(Debug, Clone, PartialEq)]
pub struct Transcript {
    pub url: String,
    /// The `type` attribute: a [`TranscriptKind`](crate::catalog::TranscriptKind)'s MIME type
    /// (`text/vtt` or `application/x-subrip`), the Content-Type `url` is served with.
    pub mime: String,
}

/// One scheduled broadcast announced as a `podcast:liveItem`.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveItem {
    /// Stable per occurrence, distinct from recorded items' guids (see [`super::live_item_guid`]).
    pub guid: String,
    pub title: String,
    pub description: String,
    pub status: LiveStatus,
    /// Written as ISO 8601 with the zone's offset at that instant.
    pub start: ZonedDateTime,
    pub end: ZonedDateTime,
    /// The live MP3 stream.
    pub stream_url: String,
    /// Stream bitrate, kbps (for `podcast:alternateEnclosure`).
    pub stream_bitrate_kbps: u32,
    /// The station's listening page (`podcast:contentLink`).
    pub content_link: String,
    /// Text of the content link, e.g. `Écouter en direct`.
    pub content_link_label: String,
    pub image_url: Option<String>,
    /// Once the broadcast ended and its recording is published: the episode's audio, which
    /// the item's enclosure then points to instead of the stream.
    pub recording: Option<LiveRecording>,
}

/// The published recording of an ended live broadcast.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveRecording {
    pub url: String,
    pub length: u64,
}

/// `podcast:liveItem status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveStatus {
    Pending,
    Live,
    Ended,
}

impl LiveStatus {
    /// The status of a broadcast running over `[start, end)` seen at `now`.
    pub fn at(start: Timestamp, end: Timestamp, now: Timestamp) -> LiveStatus {
        if now < start {
            LiveStatus::Pending
        } else if now < end {
            LiveStatus::Live
        } else {
            LiveStatus::Ended
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LiveStatus::Pending => "pending",
            LiveStatus::Live => "live",
            LiveStatus::Ended => "ended",
        }
    }
}
