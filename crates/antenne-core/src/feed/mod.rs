//! Podcast feeds (RSS 2.0 + itunes + podcast namespaces), pure: view model in, bytes out.
//!
//! [`station`] fills a [`Channel`] per feed from the schedule and the catalog's episodes; the
//! daemon does so whenever either changes, calls [`render`] once, and serves the resulting
//! [`RenderedFeed`] to every request (ETag, pre-compressed gzip). Nothing here does IO or
//! reads a clock: episodes and times come in as parameters.

pub mod conditional;
pub mod cover;
pub mod ids;
pub mod model;
pub mod paging;
pub mod rrule;
pub mod rss;
pub mod station;
pub mod stats;
pub mod text;

use std::io::Write;

use bytes::Bytes;
use sha2::{Digest, Sha256};

pub use crate::schedule::categories::{self, validate_category};
pub use cover::cover_png;
pub use ids::{live_item_guid, podcast_guid};
pub use model::{
    Category, Channel, Item, LiveItem, LiveRecording, LiveStatus, Location, Medium, Paging,
    ShowKind, Transcript, UpdateFrequency,
};
pub use station::{
    ArtworkFormat, FeedRedirect, FeedSource, STATION_FEED, build, item_from_episode, next_boundary,
    page_key, show_feed_path,
};

/// `Content-Type` of a feed.
pub const CONTENT_TYPE: &str = "application/rss+xml; charset=utf-8";

/// The feed document for `channel`.
pub fn render(channel: &Channel) -> Bytes {
    Bytes::from(rss::write(channel))
}

/// A strong ETag for `body`: a quoted SHA-256 prefix (changes whenever one byte does).
pub fn etag(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    format!("\"{}\"", hex::encode(&digest[..16]))
}

/// `body` gzip-compressed (compressed once per change, not per request).
pub fn gzip(body: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4),
        flate2::Compression::default(),
    );
    encoder
        .write_all(body)
        .expect("writing into a Vec cannot fail");
    encoder.finish().expect("writing into a Vec cannot fail")
}

/// One rendered feed, ready to serve.
#[derive(Debug, Clone)]
pub struct RenderedFeed {
    pub body: Bytes,
    pub gzip: Bytes,
    /// Strong ETag of `body`; the gzip variant is served with `etag_gzip`.
    pub etag: String,
    /// `etag` with a `-gzip` suffix inside the quotes (a different representation needs a
    /// different strong validator).
    pub etag_gzip: String,
}

impl RenderedFeed {
    pub fn new(channel: &Channel) -> Self {
        let body = render(channel);
        let gzip = Bytes::from(gzip(&body));
        let etag = etag(&body);
        let etag_gzip = format!("{}-gzip\"", etag.trim_end_matches('"'));
        RenderedFeed {
            body,
            gzip,
            etag,
            etag_gzip,
        }
    }
}
