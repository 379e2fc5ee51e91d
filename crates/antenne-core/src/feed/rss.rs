//! The RSS 2.0 writer (itunes, podcast, atom and content namespaces) over quick-xml.
//!
//! Every value goes through [`super::text`] (XML 1.0 characters, byte limits, ASCII URLs) and
//! then quick-xml's escaping; nothing is spliced into markup by hand.

use std::io;

use jiff::fmt::rfc2822::DateTimePrinter;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ZonedDateTime};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use super::ids::podcast_guid;
use super::model::{Category, Channel, Item, LiveItem};
use super::text::{DESCRIPTION_LIMIT, ascii_url, clean, one_line, truncate, truncate_html};

pub const NS_ITUNES: &str = "http://www.itunes.com/dtds/podcast-1.0.dtd";
pub const NS_PODCAST: &str = "https://podcastindex.org/namespace/1.0";
pub const NS_ATOM: &str = "http://www.w3.org/2005/Atom";
pub const NS_CONTENT: &str = "http://purl.org/rss/1.0/modules/content/";

/// MIME type of every enclosure: renditions and the live stream are MP3.
const AUDIO_MPEG: &str = "audio/mpeg";

type W = Writer<Vec<u8>>;

/// The feed document for `channel`, UTF-8.
pub fn write(channel: &Channel) -> Vec<u8> {
    // A rough size guess (about 1.2 KB per item) saves the Vec's regrowth copies.
    let capacity = 4096 + 1200 * channel.items.len() + 1500 * channel.live_items.len();
    let mut w = Writer::new_with_indent(Vec::with_capacity(capacity), b' ', 1);
    write_document(&mut w, channel).expect("writing into a Vec cannot fail");
    let mut bytes = w.into_inner();
    bytes.push(b'\n');
    bytes
}

fn write_document(w: &mut W, c: &Channel) -> io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let rss = BytesStart::new("rss").with_attributes([
        ("version", "2.0"),
        ("xmlns:itunes", NS_ITUNES),
        ("xmlns:podcast", NS_PODCAST),
        ("xmlns:atom", NS_ATOM),
        ("xmlns:content", NS_CONTENT),
    ]);
    w.write_event(Event::Start(rss))?;
    w.write_event(Event::Start(BytesStart::new("channel")))?;
    write_channel_head(w, c)?;
    for live in &c.live_items {
        write_live_item(w, live)?;
    }
    for item in &c.items {
        write_item(w, item)?;
    }
    w.write_event(Event::End(BytesEnd::new("channel")))?;
    w.write_event(Event::End(BytesEnd::new("rss")))?;
    Ok(())
}

fn write_channel_head(w: &mut W, c: &Channel) -> io::Result<()> {
    let title = one_line(&c.title);
    let link = ascii_url(&c.link);
    let self_url = ascii_url(&c.self_url);
    let image = ascii_url(&c.image_url);
    text(w, "title", &title)?;
    text(w, "link", &link)?;
    text(
        w,
        "description",
        &truncate(&c.description, DESCRIPTION_LIMIT),
    )?;
    text(w, "language", &one_line(&c.language))?;
    if let Some(t) = c.last_build {
        text(w, "lastBuildDate", &rfc2822(t))?;
    }
    text(
        w,
        "generator",
        concat!("Antenne ", env!("CARGO_PKG_VERSION")),
    )?;
    empty(
        w,
        "atom:link",
        &[
            ("href", &self_url),
            ("rel", "self"),
            ("type", "application/rss+xml"),
        ],
    )?;
    let pages = [
        ("first", &c.paging.first),
        ("previous", &c.paging.previous),
        ("next", &c.paging.next),
        ("last", &c.paging.last),
    ];
    for (rel, href) in pages {
        if let Some(href) = href {
            empty(
                w,
                "atom:link",
                &[
                    ("href", &ascii_url(href)),
                    ("rel", rel),
                    ("type", "application/rss+xml"),
                ],
            )?;
        }
    }
    if let Some(url) = &c.new_feed_url {
        text(w, "itunes:new-feed-url", &ascii_url(url))?;
    }
    // The plain RSS image too: simple clients (and feedparser's `feed.image`) read only that.
    w.create_element("image").write_inner_content(|w| {
        text(w, "url", &image)?;
        text(w, "title", &title)?;
        text(w, "link", &link)?;
        Ok(())
    })?;
    empty(w, "itunes:image", &[("href", &image)])?;
    write_categories(w, &c.categories)?;
    text(
        w,
        "itunes:explicit",
        if c.explicit { "true" } else { "false" },
    )?;
    text(w, "itunes:author", &one_line(&c.author))?;
    w.create_element("itunes:owner").write_inner_content(|w| {
        text(w, "itunes:name", &one_line(&c.owner_name))?;
        text(w, "itunes:email", &one_line(&c.owner_email))?;
        Ok(())
    })?;
    text(w, "itunes:type", c.kind.as_str())?;
    text(w, "podcast:guid", &podcast_guid(&self_url).to_string())?;
    let locked = if c.locked { "yes" } else { "no" };
    let owner = one_line(&c.owner_email);
    if owner.is_empty() {
        text(w, "podcast:locked", locked)?;
    } else {
        text_attrs(w, "podcast:locked", &[("owner", &owner)], locked)?;
    }
    text(w, "podcast:medium", c.medium.as_str())?;
    if let Some(f) = &c.update_frequency {
        let dtstart = f.dtstart.map(|t| t.to_string());
        let mut attrs = vec![("rrule", f.rrule.as_str())];
        if let Some(d) = &dtstart {
            attrs.push(("dtstart", d));
        }
        text_attrs(w, "podcast:updateFrequency", &attrs, &one_line(&f.label))?;
    }
    if let Some(loc) = &c.location {
        let mut attrs = Vec::new();
        if let Some(geo) = &loc.geo {
            attrs.push(("geo", geo.as_str()));
        }
        if let Some(osm) = &loc.osm {
            attrs.push(("osm", osm.as_str()));
        }
        // The tag's text is limited to 128 characters.
        text_attrs(
            w,
            "podcast:location",
            &attrs,
            &truncate(&one_line(&loc.name), 128),
        )?;
    }
    Ok(())
}

/// Apple nests a subcategory in its category; consecutive entries of one category share it.
fn write_categories(w: &mut W, categories: &[Category]) -> io::Result<()> {
    let mut rest = categories;
    while let Some(first) = rest.first() {
        let same = rest.iter().take_while(|c| c.name == first.name).count();
        let (group, tail) = rest.split_at(same);
        rest = tail;
        let name = clean(&first.name);
        let subs: Vec<&str> = group.iter().filter_map(|c| c.sub.as_deref()).collect();
        let element = w
            .create_element("itunes:category")
            .with_attribute(("text", &*name));
        if subs.is_empty() {
            element.write_empty()?;
        } else {
            element.write_inner_content(|w| {
                for sub in &subs {
                    empty(w, "itunes:category", &[("text", &clean(sub))])?;
                }
                Ok(())
            })?;
        }
    }
    Ok(())
}

fn write_item(w: &mut W, item: &Item) -> io::Result<()> {
    w.create_element("item").write_inner_content(|w| {
        text_attrs(
            w,
            "guid",
            &[("isPermaLink", "false")],
            &one_line(&item.guid),
        )?;
        text(w, "title", &one_line(&item.title))?;
        text(
            w,
            "description",
            &truncate(&item.description, DESCRIPTION_LIMIT),
        )?;
        if let Some(html) = &item.content_html {
            text(
                w,
                "content:encoded",
                &truncate_html(html, DESCRIPTION_LIMIT),
            )?;
        }
        text(w, "pubDate", &rfc2822(item.pub_date))?;
        let length = item.enclosure_length.to_string();
        let url = ascii_url(&item.enclosure_url);
        empty(
            w,
            "enclosure",
            &[("url", &url), ("length", &length), ("type", AUDIO_MPEG)],
        )?;
        text(w, "itunes:duration", &item.duration_s.to_string())?;
        if let Some(season) = item.season {
            text(w, "itunes:season", &season.to_string())?;
        }
        if let Some(episode) = item.episode {
            text(w, "itunes:episode", &episode.to_string())?;
        }
        if let Some(image) = &item.image_url {
            empty(w, "itunes:image", &[("href", &ascii_url(image))])?;
        }
        if let Some(t) = &item.transcript {
            empty(
                w,
                "podcast:transcript",
                &[("url", &ascii_url(&t.url)), ("type", &one_line(&t.mime))],
            )?;
        }
        if let Some(chapters) = &item.chapters_url {
            empty(
                w,
                "podcast:chapters",
                &[
                    ("url", &ascii_url(chapters)),
                    ("type", "application/json+chapters"),
                ],
            )?;
        }
        Ok(())
    })?;
    Ok(())
}

fn write_live_item(w: &mut W, live: &LiveItem) -> io::Result<()> {
    let start = iso8601(&live.start);
    let end = iso8601(&live.end);
    let attrs = [
        ("status", live.status.as_str()),
        ("start", start.as_str()),
        ("end", end.as_str()),
    ];
    w.create_element("podcast:liveItem")
        .with_attributes(attrs)
        .write_inner_content(|w| {
            text_attrs(
                w,
                "guid",
                &[("isPermaLink", "false")],
                &one_line(&live.guid),
            )?;
            text(w, "title", &one_line(&live.title))?;
            text(
                w,
                "description",
                &truncate(&live.description, DESCRIPTION_LIMIT),
            )?;
            let page = ascii_url(&live.content_link);
            text(w, "link", &page)?;
            if let Some(image) = &live.image_url {
                empty(w, "itunes:image", &[("href", &ascii_url(image))])?;
            }
            let stream = ascii_url(&live.stream_url);
            let bitrate = (u64::from(live.stream_bitrate_kbps) * 1000).to_string();
            let alt = [
                ("type", AUDIO_MPEG),
                ("bitrate", bitrate.as_str()),
                ("default", "true"),
            ];
            w.create_element("podcast:alternateEnclosure")
                .with_attributes(alt)
                .write_inner_content(|w| {
                    empty(w, "podcast:source", &[("uri", &stream)])?;
                    Ok(())
                })?;
            // A stream has no length; the RSS Advisory Board's rule for an unknown size is 0.
            match &live.recording {
                // Ended and recorded: the episode, as a recorded item's enclosure.
                Some(r) => {
                    let length = r.length.to_string();
                    empty(
                        w,
                        "enclosure",
                        &[
                            ("url", &ascii_url(&r.url)),
                            ("length", &length),
                            ("type", AUDIO_MPEG),
                        ],
                    )?;
                }
                None => empty(
                    w,
                    "enclosure",
                    &[("url", &stream), ("length", "0"), ("type", AUDIO_MPEG)],
                )?,
            }
            text_attrs(
                w,
                "podcast:contentLink",
                &[("href", &page)],
                &one_line(&live.content_link_label),
            )?;
            Ok(())
        })?;
    Ok(())
}

/// `<name>value</name>`.
fn text(w: &mut W, name: &str, value: &str) -> io::Result<()> {
    w.create_element(name)
        .write_text_content(BytesText::new(value))?;
    Ok(())
}

/// `<name a="..">value</name>`.
fn text_attrs(w: &mut W, name: &str, attrs: &[(&str, &str)], value: &str) -> io::Result<()> {
    w.create_element(name)
        .with_attributes(attrs.iter().copied())
        .write_text_content(BytesText::new(value))?;
    Ok(())
}

/// `<name a=".."/>`.
fn empty(w: &mut W, name: &str, attrs: &[(&str, &str)]) -> io::Result<()> {
    w.create_element(name)
        .with_attributes(attrs.iter().copied())
        .write_empty()?;
    Ok(())
}

/// RFC 2822 in UTC (`Sat, 28 Nov 2026 09:00:00 +0000`), as `pubDate` wants.
pub fn rfc2822(t: Timestamp) -> String {
    let utc = t.to_zoned_datetime(TimeZone::UTC);
    DateTimePrinter::new()
        .zoned_datetime_to_string(&utc)
        .expect("catalog dates lie within RFC 2822's years")
}

/// ISO 8601 with the zone's offset at that instant (`2026-11-28T10:00:00+01:00`).
pub fn iso8601(z: &ZonedDateTime) -> String {
    z.timestamp().display_with_offset(z.offset()).to_string()
}
