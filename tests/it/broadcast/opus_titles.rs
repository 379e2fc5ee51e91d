//! `/stream.opus` end to end (issue 15): playout renders the fallback, then a show; the Opus
//! encoding's listener receives a chained Ogg stream whose links each open with `OpusHead` and
//! an `OpusTags` titled with what is on air, as Icecast relays titles for Ogg.

use std::io::Cursor;

use antenne::broadcast::OpusSink;
use antenne::schedule::{NoFacts, Schedule};
use jiff::{SignedDuration, Timestamp};

use crate::support::onair::{Rendered, render_to_listener};
use crate::support::tones::sine_wav;

const RATE: u32 = 44_100;

const SCHEDULE: &str = r#"
[station]
name = "Test FM"
timezone = "Europe/Paris"

[fallback]
playlist = "beds"
shuffle = false

[[show]]
slug = "tunes"
title = "Tunes"

[[slot]]
id = "tunes"
show = "tunes"
days = ["mon"]
start = "12:00"
duration = "1h"
playlist = "music"
"#;

/// One logical stream of the chain: its serial, whether it opened with `OpusHead`, and the
/// `TITLE` of its `OpusTags`.
#[derive(Debug)]
struct Link {
    serial: u32,
    head: bool,
    title: Option<String>,
    packets: usize,
}

/// The `TITLE=` comment of an `OpusTags` packet (RFC 7845 §5.2).
fn title_of(tags: &[u8]) -> Option<String> {
    let u32_at = |at: usize| u32::from_le_bytes(tags[at..at + 4].try_into().unwrap()) as usize;
    assert_eq!(&tags[..8], b"OpusTags");
    let mut at = 8 + 4 + u32_at(8);
    let count = u32_at(at);
    at += 4;
    let mut title = None;
    for _ in 0..count {
        let len = u32_at(at);
        let comment = std::str::from_utf8(&tags[at + 4..at + 4 + len]).unwrap();
        if let Some(t) = comment.strip_prefix("TITLE=") {
            title = Some(t.to_owned());
        }
        at += 4 + len;
    }
    title
}

fn links(bytes: Vec<u8>) -> Vec<Link> {
    let mut reader = ogg::PacketReader::new(Cursor::new(bytes));
    let mut links: Vec<Link> = Vec::new();
    while let Some(p) = reader.read_packet().expect("well-formed Ogg pages") {
        if p.first_in_stream() {
            links.push(Link {
                serial: p.stream_serial(),
                head: p.data.starts_with(b"OpusHead"),
                title: None,
                packets: 0,
            });
            continue;
        }
        let link = links.last_mut().expect("a packet before any stream began");
        assert_eq!(
            link.serial,
            p.stream_serial(),
            "links are chained, not interleaved"
        );
        if p.data.starts_with(b"OpusTags") {
            link.title = title_of(&p.data);
        } else {
            link.packets += 1;
        }
    }
    links
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue15_the_opus_stream_titles_each_item_in_a_new_ogg_link() {
    let dir = tempfile::tempdir().unwrap();
    let media = dir.path().join("media");
    sine_wav(&media.join("beds/nappe.wav"), 220.0, 10.0, RATE);
    sine_wav(&media.join("music/chanson.wav"), 440.0, 10.0, RATE);
    let (schedule, _) = Schedule::parse(
        SCHEDULE,
        "t.toml",
        "2027-03-01T00:00:00Z".parse().unwrap(),
        &NoFacts,
    )
    .unwrap_or_else(|d| panic!("{d:?}"));
    // Monday 22 March 2027 12:00 Paris = 11:00Z; render 11:59:57 → 12:00:03.
    let show: Timestamp = "2027-03-22T11:00:00Z".parse().unwrap();
    let from = show - SignedDuration::from_secs(3);
    let to = show + SignedDuration::from_secs(3);

    let Rendered { bytes, hub, .. } =
        render_to_listener(schedule, media, RATE, (from, to), |hub| {
            Box::new(OpusSink::new(hub, "Test FM", RATE, 48).unwrap())
        })
        .await;

    let links = links(bytes);
    let titles: Vec<_> = links.iter().map(|l| l.title.as_deref()).collect();
    assert!(
        links.iter().all(|l| l.head),
        "every link opens with OpusHead: {links:?}"
    );
    let serials: std::collections::HashSet<_> = links.iter().map(|l| l.serial).collect();
    assert_eq!(serials.len(), links.len(), "each link has its own serial");
    // The fallback's bed, then the show's track: each title in a link of its own, carrying
    // audio (20 ms packets: 3 s of each is about 150).
    let bed = titles
        .iter()
        .position(|t| *t == Some("Test FM - nappe"))
        .unwrap_or_else(|| panic!("no link titled with the bed: {titles:?}"));
    let song = titles
        .iter()
        .position(|t| *t == Some("Tunes - chanson"))
        .unwrap_or_else(|| panic!("no link titled with the show's track: {titles:?}"));
    assert!(bed < song, "{titles:?}");
    assert!(links[song].packets >= 100, "{links:?}");
    assert_eq!(hub.title().text, "Tunes - chanson");
}
