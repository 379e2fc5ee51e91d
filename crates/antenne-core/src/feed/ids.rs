//! Stable identifiers: the Podcasting 2.0 feed guid and the per-occurrence live item guid.

use jiff::Timestamp;
use uuid::Uuid;

/// The Podcast Index namespace for `podcast:guid` (podcast namespace, `guid` tag).
pub const PODCAST_GUID_NAMESPACE: Uuid = Uuid::from_u128(0xead4c236_bf58_58c6_a2c6_a6b28d128cb6);

/// `podcast:guid`: UUIDv5 of the feed URL without its scheme and trailing slashes.
pub fn podcast_guid(feed_url: &str) -> Uuid {
    let trimmed = feed_url.trim();
    let without_scheme = trimmed.split_once("://").map_or(trimmed, |(_, rest)| rest);
    let key = without_scheme.trim_end_matches('/');
    Uuid::new_v5(&PODCAST_GUID_NAMESPACE, key.as_bytes())
}

/// The guid of one scheduled broadcast: stable across restarts and re-renders (it depends only
/// on the feed and the occurrence's start instant), and never equal to a recorded item's guid
/// (those are catalog ids, not `live:`-prefixed UUIDs).
pub fn live_item_guid(feed_url: &str, start: Timestamp) -> String {
    let feed = podcast_guid(feed_url);
    let occurrence = Uuid::new_v5(&feed, start.as_second().to_string().as_bytes());
    format!("live:{occurrence}")
}
