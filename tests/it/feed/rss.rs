//! Feeds parsed back: every rule of issue 6's "Feeds" section, checked on the rendered bytes.

use std::io::Read;

use antenne::feed::{
    self, Category, Channel, Item, LiveItem, LiveStatus, Location, Medium, Paging, ShowKind,
    Transcript, UpdateFrequency, live_item_guid, rrule, rss,
};
use jiff::Timestamp;
use jiff::civil::Weekday;
use jiff::tz::TimeZone;
use roxmltree::{Document, Node};

const ITUNES: &str = rss::NS_ITUNES;
const PODCAST: &str = rss::NS_PODCAST;
const ATOM: &str = rss::NS_ATOM;
const CONTENT: &str = rss::NS_CONTENT;

const FEED_URL: &str = "https://radio.example.org/shows/au-fil-des-quartiers/feed.xml";

fn ts(s: &str) -> Timestamp {
    s.parse().expect("test timestamp")
}

fn paris() -> TimeZone {
    TimeZone::get("Europe/Paris").expect("bundled tzdb")
}

fn item(n: u32) -> Item {
    Item {
        guid: format!("ep-{n:05}"),
        title: format!("Épisode {n}"),
        description: format!("Les nouvelles du quartier, numéro {n}."),
        content_html: Some(format!("<p>Épisode <b>{n}</b> &amp; invités</p>")),
        pub_date: ts("2026-01-03T09:00:00Z")
            + jiff::SignedDuration::from_hours(24 * 7 * i64::from(n)),
        enclosure_url: format!("https://radio.example.org/media/ep-{n:05}.mp3"),
        enclosure_length: 1_234_567 + u64::from(n),
        duration_s: 1800 + u64::from(n),
        season: Some(2026),
        episode: Some(n),
        image_url: None,
        transcript: None,
        chapters_url: None,
    }
}

fn live(status: LiveStatus, start: &str, end: &str) -> LiveItem {
    let start = ts(start).to_zoned_datetime(paris());
    let end = ts(end).to_zoned_datetime(paris());
    LiveItem {
        guid: live_item_guid(FEED_URL, start.timestamp()),
        title: "Au fil des quartiers (en direct)".into(),
        description: "L'émission en direct des trois centres sociaux.".into(),
        status,
        start,
        end,
        stream_url: "https://radio.example.org/live.mp3".into(),
        stream_bitrate_kbps: 128,
        content_link: "https://radio.example.org/".into(),
        content_link_label: "Écouter en direct".into(),
        image_url: None,
        recording: None,
    }
}

/// The demo show: three episodes (one with every optional field), three live items.
fn demo() -> Channel {
    let mut first = item(1);
    first.image_url = Some("https://radio.example.org/media/ep-00001.png".into());
    first.transcript = Some(Transcript {
        url: "https://radio.example.org/media/ep-00001.vtt".into(),
        mime: "text/vtt".into(),
    });
    first.chapters_url = Some("https://radio.example.org/media/ep-00001.chapters.json".into());
    first.enclosure_url = "https://radio.example.org/media/Été à la Monnaie.mp3".into();
    Channel {
        title: "Au fil des quartiers".into(),
        link: "https://radio.example.org/".into(),
        description: "La radio des centres sociaux de Romans-sur-Isère.".into(),
        language: "fr".into(),
        self_url: FEED_URL.into(),
        image_url: "https://radio.example.org/shows/au-fil-des-quartiers/cover.png".into(),
        categories: vec![
            Category {
                name: "Society & Culture".into(),
                sub: Some("Places & Travel".into()),
            },
            Category {
                name: "Society & Culture".into(),
                sub: Some("Documentary".into()),
            },
            Category {
                name: "News".into(),
                sub: None,
            },
        ],
        explicit: false,
        author: "Radio des quartiers".into(),
        owner_name: "Centre social de la Monnaie".into(),
        owner_email: "radio@example.org".into(),
        kind: ShowKind::Episodic,
        locked: true,
        medium: Medium::Podcast,
        update_frequency: Some(UpdateFrequency {
            label: "Chaque samedi à 10 h".into(),
            rrule: rrule::weekly(&[(Weekday::Saturday, jiff::civil::time(10, 0, 0, 0))]).unwrap(),
            dtstart: Some(ts("2026-01-03T09:00:00Z")),
        }),
        location: Some(Location {
            name: "Romans-sur-Isère".into(),
            geo: Some("geo:45.0434,5.0511".into()),
            osm: Some("R120965".into()),
        }),
        new_feed_url: None,
        paging: Paging::default(),
        last_build: Some(ts("2026-11-28T10:00:00Z")),
        items: vec![item(3), item(2), first],
        live_items: vec![
            live(
                LiveStatus::Ended,
                "2026-11-21T09:00:00Z",
                "2026-11-21T10:00:00Z",
            ),
            live(
                LiveStatus::Live,
                "2026-11-28T09:00:00Z",
                "2026-11-28T10:00:00Z",
            ),
            live(
                LiveStatus::Pending,
                "2026-12-05T09:00:00Z",
                "2026-12-05T10:00:00Z",
            ),
        ],
    }
}

fn render(c: &Channel) -> String {
    let bytes = feed::render(c);
    String::from_utf8(bytes.to_vec()).expect("feeds are UTF-8")
}

fn parse(xml: &str) -> Document<'_> {
    Document::parse(xml).unwrap_or_else(|e| panic!("not well-formed: {e}\n{xml}"))
}

fn channel<'a, 'i>(doc: &'a Document<'i>) -> Node<'a, 'i> {
    let rss = doc.root_element();
    assert_eq!(rss.tag_name().name(), "rss");
    assert_eq!(rss.attribute("version"), Some("2.0"));
    rss.children()
        .find(|n| n.has_tag_name("channel"))
        .expect("<channel>")
}

/// Children of `node` named `name` in namespace `ns` ("" for plain RSS).
fn all<'a, 'i>(node: Node<'a, 'i>, ns: &str, name: &str) -> Vec<Node<'a, 'i>> {
    node.children()
        .filter(|n| {
            n.is_element()
                && n.tag_name().name() == name
                && n.tag_name().namespace().unwrap_or("") == ns
        })
        .collect()
}

fn one<'a, 'i>(node: Node<'a, 'i>, ns: &str, name: &str) -> Node<'a, 'i> {
    let found = all(node, ns, name);
    assert_eq!(
        found.len(),
        1,
        "exactly one {ns}:{name} in <{}>",
        node.tag_name().name()
    );
    found[0]
}

fn text<'a>(node: Node<'a, '_>, ns: &str, name: &str) -> &'a str {
    one(node, ns, name).text().unwrap_or("")
}

fn attr<'a>(node: Node<'a, '_>, ns: &str, name: &str, attribute: &str) -> &'a str {
    one(node, ns, name)
        .attribute(attribute)
        .unwrap_or_else(|| panic!("{name}@{attribute}"))
}

#[test]
fn channel_elements() {
    let xml = render(&demo());
    let doc = parse(&xml);
    let ch = channel(&doc);
    assert_eq!(text(ch, "", "title"), "Au fil des quartiers");
    assert_eq!(text(ch, "", "link"), "https://radio.example.org/");
    assert_eq!(text(ch, "", "language"), "fr");
    assert_eq!(
        text(ch, "", "lastBuildDate"),
        "Sat, 28 Nov 2026 10:00:00 +0000"
    );
    let self_link = all(ch, ATOM, "link");
    assert_eq!(self_link.len(), 1, "no paging links on a single page");
    assert_eq!(self_link[0].attribute("rel"), Some("self"));
    assert_eq!(self_link[0].attribute("href"), Some(FEED_URL));
    assert_eq!(self_link[0].attribute("type"), Some("application/rss+xml"));
    assert_eq!(
        attr(ch, ITUNES, "image", "href"),
        "https://radio.example.org/shows/au-fil-des-quartiers/cover.png"
    );
    assert_eq!(
        text(one(ch, "", "image"), "", "url"),
        attr(ch, ITUNES, "image", "href")
    );
    assert_eq!(text(ch, ITUNES, "explicit"), "false");
    assert_eq!(text(ch, ITUNES, "author"), "Radio des quartiers");
    let owner = one(ch, ITUNES, "owner");
    assert_eq!(text(owner, ITUNES, "name"), "Centre social de la Monnaie");
    assert_eq!(text(owner, ITUNES, "email"), "radio@example.org");
    assert_eq!(text(ch, ITUNES, "type"), "episodic");
    assert_eq!(text(ch, PODCAST, "locked"), "yes");
    assert_eq!(attr(ch, PODCAST, "locked", "owner"), "radio@example.org");
    assert_eq!(text(ch, PODCAST, "medium"), "podcast");
    let freq = one(ch, PODCAST, "updateFrequency");
    assert_eq!(
        freq.attribute("rrule"),
        Some("FREQ=WEEKLY;BYDAY=SA;BYHOUR=10;BYMINUTE=0")
    );
    assert_eq!(freq.attribute("dtstart"), Some("2026-01-03T09:00:00Z"));
    assert_eq!(freq.text(), Some("Chaque samedi à 10 h"));
    let loc = one(ch, PODCAST, "location");
    assert_eq!(
        (loc.text(), loc.attribute("geo"), loc.attribute("osm")),
        (
            Some("Romans-sur-Isère"),
            Some("geo:45.0434,5.0511"),
            Some("R120965")
        )
    );
    assert!(all(ch, ITUNES, "new-feed-url").is_empty());
}

#[test]
fn categories_nest_subcategories_with_apple_spelling() {
    let xml = render(&demo());
    let doc = parse(&xml);
    let cats = all(channel(&doc), ITUNES, "category");
    let got: Vec<(String, Vec<String>)> = cats
        .iter()
        .map(|c| {
            let subs = all(*c, ITUNES, "category")
                .iter()
                .map(|s| s.attribute("text").unwrap().to_owned())
                .collect();
            (c.attribute("text").unwrap().to_owned(), subs)
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "Society & Culture".to_owned(),
                vec!["Places & Travel".to_owned(), "Documentary".to_owned()]
            ),
            ("News".to_owned(), vec![]),
        ]
    );
    for (name, subs) in &got {
        feed::validate_category(name, None).unwrap();
        for sub in subs {
            feed::validate_category(name, Some(sub)).unwrap();
        }
    }
}

/// The published examples of the podcast namespace's `guid` tag (and Python's
/// `uuid.uuid5(NS, "radio.example.org/feed.xml")`, run once, for the last one).
#[test]
fn podcast_guid_matches_published_values() {
    let cases = [
        (
            "https://mp3s.nashownotes.com/pc20rss.xml",
            "917393e3-1b1e-5cef-ace4-edaa54e1f810",
        ),
        ("podnews.net/rss", "9b024349-ccf0-5f69-a609-6b82873eab3c"),
        (
            "https://podnews.net/rss/",
            "9b024349-ccf0-5f69-a609-6b82873eab3c",
        ),
        (
            "http://podnews.net/rss////",
            "9b024349-ccf0-5f69-a609-6b82873eab3c",
        ),
        (
            "https://radio.example.org/feed.xml",
            "6da98a19-621b-5722-8ab1-cae40d0d2b9a",
        ),
    ];
    for (url, expected) in cases {
        assert_eq!(feed::podcast_guid(url).to_string(), expected, "{url}");
        let mut c = demo();
        c.self_url = url.into();
        let xml = render(&c);
        assert_eq!(
            text(channel(&parse(&xml)), PODCAST, "guid"),
            expected,
            "{url}"
        );
    }
}

/// Hostile values: what goes in, what a parser must read back.
#[test]
fn hostile_values_are_escaped() {
    let cases = [
        ("<script>alert(1)</script>", "<script>alert(1)</script>"),
        ("Tom & Jerry &amp; co", "Tom & Jerry &amp; co"),
        (
            "\"guillemets\" et 'apostrophes'",
            "\"guillemets\" et 'apostrophes'",
        ),
        ("]]> fin de CDATA", "]]> fin de CDATA"),
        ("Émission 🎙️📻 ça marche", "Émission 🎙️📻 ça marche"),
        ("bip\u{0}\u{7}\u{1b}[31mrouge\u{7f}\u{85}", "bip[31mrouge"),
        ("deux\nlignes\r\n\tet tab", "deux lignes et tab"),
        ("\u{FFFE}\u{FFFF}fin", "fin"),
    ];
    for (hostile, expected) in cases {
        let mut c = demo();
        c.title = hostile.into();
        c.author = hostile.into();
        c.categories[0].name = hostile.into();
        c.items[0].title = hostile.into();
        c.items[0].guid = hostile.into();
        c.items[0].content_html = Some(hostile.into());
        c.live_items[0].title = hostile.into();
        c.location.as_mut().unwrap().name = hostile.into();
        let xml = render(&c);
        let doc = parse(&xml);
        let ch = channel(&doc);
        assert_eq!(text(ch, "", "title"), expected, "{hostile:?}");
        assert_eq!(text(ch, ITUNES, "author"), expected, "{hostile:?}");
        assert_eq!(text(ch, PODCAST, "location"), expected, "{hostile:?}");
        let cat = all(ch, ITUNES, "category")[0].attribute("text").unwrap();
        assert_eq!(
            cat.split_whitespace().collect::<Vec<_>>().join(" "),
            expected,
            "{hostile:?}"
        );
        let first = all(ch, "", "item")[0];
        assert_eq!(text(first, "", "title"), expected, "{hostile:?}");
        assert_eq!(text(first, "", "guid"), expected, "{hostile:?}");
        let content = text(first, CONTENT, "encoded");
        assert_eq!(
            content.split_whitespace().collect::<Vec<_>>().join(" "),
            expected,
            "{hostile:?}"
        );
        assert_eq!(
            text(all(ch, PODCAST, "liveItem")[0], "", "title"),
            expected,
            "{hostile:?}"
        );
    }
}

#[test]
fn descriptions_stay_within_4000_bytes() {
    for (input, limit_hit) in [
        ("é".repeat(2500), true),   // 5000 bytes of two-byte chars
        ("🎙".repeat(1001), true),   // 4004 bytes of four-byte chars
        ("a".repeat(4000), false),  // exactly the limit
        ("<&>".repeat(1500), true), // escaping must not count (the text is 4500 bytes)
        ("court".to_owned(), false),
    ] {
        let mut c = demo();
        c.description = input.clone();
        c.items[0].description = input.clone();
        c.items[0].content_html = Some(input.clone());
        let xml = render(&c);
        let doc = parse(&xml);
        let ch = channel(&doc);
        let first = all(ch, "", "item")[0];
        for got in [
            text(ch, "", "description"),
            text(first, "", "description"),
            text(first, CONTENT, "encoded"),
        ] {
            assert!(got.len() <= 4000, "{} bytes", got.len());
            if limit_hit {
                let kept = got
                    .strip_suffix('…')
                    .expect("a cut text ends with an ellipsis");
                assert!(input.starts_with(kept.trim_end()) || input.contains(kept.trim_end()));
                assert!(got.len() > 3900, "cut too short: {}", got.len());
            } else {
                assert_eq!(got, input);
            }
        }
    }
}

#[test]
fn items_carry_every_field() {
    let c = demo();
    let xml = render(&c);
    let doc = parse(&xml);
    let items = all(channel(&doc), "", "item");
    assert_eq!(items.len(), c.items.len());
    for (node, model) in items.iter().zip(&c.items) {
        let guid = one(*node, "", "guid");
        assert_eq!(
            (guid.text(), guid.attribute("isPermaLink")),
            (Some(model.guid.as_str()), Some("false"))
        );
        assert_eq!(text(*node, "", "title"), model.title);
        assert_eq!(text(*node, "", "description"), model.description);
        assert_eq!(
            Some(text(*node, CONTENT, "encoded")),
            model.content_html.as_deref()
        );
        let date = jiff::fmt::rfc2822::parse(text(*node, "", "pubDate")).expect("RFC 2822 pubDate");
        assert_eq!(date.timestamp(), model.pub_date);
        let enclosure = one(*node, "", "enclosure");
        let url = enclosure.attribute("url").unwrap();
        assert!(
            url.is_ascii() && !url.contains(' ') && url.ends_with(".mp3"),
            "{url}"
        );
        assert_eq!(
            enclosure.attribute("length"),
            Some(model.enclosure_length.to_string().as_str())
        );
        assert_eq!(enclosure.attribute("type"), Some("audio/mpeg"));
        assert_eq!(
            text(*node, ITUNES, "duration"),
            model.duration_s.to_string()
        );
        assert_eq!(text(*node, ITUNES, "season"), "2026");
        assert_eq!(
            text(*node, ITUNES, "episode"),
            model.episode.unwrap().to_string()
        );
    }
    let first = items[2];
    assert_eq!(
        one(first, "", "enclosure").attribute("url"),
        Some("https://radio.example.org/media/%C3%89t%C3%A9%20%C3%A0%20la%20Monnaie.mp3")
    );
    assert_eq!(
        attr(first, ITUNES, "image", "href"),
        "https://radio.example.org/media/ep-00001.png"
    );
    assert_eq!(
        attr(first, PODCAST, "transcript", "url"),
        "https://radio.example.org/media/ep-00001.vtt"
    );
    assert_eq!(attr(first, PODCAST, "transcript", "type"), "text/vtt");
    assert_eq!(
        attr(first, PODCAST, "chapters", "type"),
        "application/json+chapters"
    );
    for optional in [
        (ITUNES, "image"),
        (PODCAST, "transcript"),
        (PODCAST, "chapters"),
    ] {
        assert!(
            all(items[0], optional.0, optional.1).is_empty(),
            "{optional:?} only when set"
        );
    }
}

/// Re-ingest changes the file, edits change the title: the guid (the catalog id) stays, and the
/// same model renders the same bytes after a restart.
#[test]
fn guids_are_stable() {
    let before = render(&demo());
    assert_eq!(before, render(&demo()), "rendering is deterministic");
    let mut edited = demo();
    edited.items[0].title = "Nouveau titre".into();
    edited.items[0].enclosure_length += 1000;
    edited.items[0].duration_s += 2;
    let after = render(&edited);
    let guids = |xml: &str| -> Vec<String> {
        let doc = parse(xml);
        all(channel(&doc), "", "item")
            .iter()
            .map(|i| text(*i, "", "guid").to_owned())
            .collect()
    };
    assert_eq!(guids(&before), guids(&after));
    assert_eq!(guids(&before), vec!["ep-00003", "ep-00002", "ep-00001"]);
}

#[test]
fn live_items() {
    let c = demo();
    let xml = render(&c);
    let doc = parse(&xml);
    let ch = channel(&doc);
    let lives = all(ch, PODCAST, "liveItem");
    assert_eq!(lives.len(), 3);
    let item_guids: Vec<&str> = all(ch, "", "item")
        .iter()
        .map(|i| text(*i, "", "guid"))
        .collect();
    let mut live_guids = Vec::new();
    for (node, model) in lives.iter().zip(&c.live_items) {
        assert_eq!(node.attribute("status"), Some(model.status.as_str()));
        let start = node.attribute("start").unwrap();
        let end = node.attribute("end").unwrap();
        // ISO 8601 with the offset of Paris in winter.
        assert!(
            start.ends_with("+01:00") && end.ends_with("+01:00"),
            "{start} {end}"
        );
        assert_eq!(start.parse::<Timestamp>().unwrap(), model.start.timestamp());
        assert_eq!(end.parse::<Timestamp>().unwrap(), model.end.timestamp());
        let guid = text(*node, "", "guid");
        assert!(!item_guids.contains(&guid));
        assert_eq!(
            guid,
            live_item_guid(FEED_URL, model.start.timestamp()),
            "stable per occurrence"
        );
        live_guids.push(guid);
        let enclosure = one(*node, "", "enclosure");
        assert_eq!(
            enclosure.attribute("url"),
            Some("https://radio.example.org/live.mp3")
        );
        assert_eq!(enclosure.attribute("type"), Some("audio/mpeg"));
        let alt = one(*node, PODCAST, "alternateEnclosure");
        assert_eq!(alt.attribute("type"), Some("audio/mpeg"));
        assert_eq!(alt.attribute("bitrate"), Some("128000"));
        assert_eq!(
            attr(alt, PODCAST, "source", "uri"),
            "https://radio.example.org/live.mp3"
        );
        let link = one(*node, PODCAST, "contentLink");
        assert_eq!(link.attribute("href"), Some("https://radio.example.org/"));
        assert_eq!(link.text(), Some("Écouter en direct"));
    }
    live_guids.sort();
    live_guids.dedup();
    assert_eq!(live_guids.len(), 3, "one guid per occurrence");
    let statuses: Vec<&str> = lives
        .iter()
        .map(|n| n.attribute("status").unwrap())
        .collect();
    assert_eq!(statuses, ["ended", "live", "pending"]);
}

#[test]
fn live_status_follows_the_clock() {
    let (start, end) = (ts("2026-11-28T09:00:00Z"), ts("2026-11-28T10:00:00Z"));
    for (now, expected) in [
        ("2026-11-28T08:59:59Z", LiveStatus::Pending),
        ("2026-11-28T09:00:00Z", LiveStatus::Live),
        ("2026-11-28T09:59:59Z", LiveStatus::Live),
        ("2026-11-28T10:00:00Z", LiveStatus::Ended),
    ] {
        assert_eq!(LiveStatus::at(start, end, ts(now)), expected, "{now}");
    }
    // Summer time: the offset written is the one in force at that instant.
    let summer = ts("2026-07-04T08:00:00Z").to_zoned_datetime(paris());
    assert_eq!(rss::iso8601(&summer), "2026-07-04T10:00:00+02:00");
}

#[test]
fn paging_and_moved_feeds() {
    let all_items: Vec<Item> = (1..=650).rev().map(item).collect();
    let url_of = |p: usize| {
        if p == 1 {
            FEED_URL.to_owned()
        } else {
            format!("{FEED_URL}?page={p}")
        }
    };
    let (range, paging) =
        feed::paging::page(all_items.len(), 1, feed::paging::PAGE_SIZE, url_of).unwrap();
    let mut c = demo();
    c.items = all_items[range].to_vec();
    c.paging = paging;
    c.new_feed_url = Some("https://radio.example.net/feed.xml".into());
    let xml = render(&c);
    let doc = parse(&xml);
    let ch = channel(&doc);
    assert_eq!(all(ch, "", "item").len(), 300);
    assert_eq!(
        text(all(ch, "", "item")[0], "", "guid"),
        "ep-00650",
        "newest first"
    );
    let links: Vec<(&str, &str)> = all(ch, ATOM, "link")
        .iter()
        .map(|l| (l.attribute("rel").unwrap(), l.attribute("href").unwrap()))
        .collect();
    let next = format!("{FEED_URL}?page=2");
    let last = format!("{FEED_URL}?page=3");
    assert_eq!(
        links,
        [
            ("self", FEED_URL),
            ("first", FEED_URL),
            ("next", next.as_str()),
            ("last", last.as_str())
        ]
    );
    assert_eq!(
        text(ch, ITUNES, "new-feed-url"),
        "https://radio.example.net/feed.xml"
    );
}

#[test]
fn thousand_items_render_and_parse() {
    let mut c = demo();
    c.items = (1..=1000).rev().map(item).collect();
    let xml = render(&c);
    let doc = parse(&xml);
    assert_eq!(all(channel(&doc), "", "item").len(), 1000);
}

#[test]
fn etag_and_gzip() {
    let c = demo();
    let a = feed::RenderedFeed::new(&c);
    let b = feed::RenderedFeed::new(&c);
    assert_eq!(a.etag, b.etag);
    assert!(
        a.etag.starts_with('"') && a.etag.ends_with('"') && a.etag.len() == 34,
        "{}",
        a.etag
    );
    assert_eq!(a.etag_gzip, format!("{}-gzip\"", &a.etag[..33]));
    let mut changed = demo();
    changed.items[0].enclosure_length += 1;
    assert_ne!(feed::RenderedFeed::new(&changed).etag, a.etag);
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&a.gzip[..])
        .read_to_end(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, a.body);
    assert!(a.gzip.len() < a.body.len());
}

/// Writes the demo feed for the interop suite (`tests/interop/feeds.sh`): to
/// `$ANTENNE_FEED_FIXTURE` when set, else under Cargo's test temp dir.
#[test]
fn write_fixture() {
    let path = std::env::var_os("ANTENNE_FEED_FIXTURE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("feed-fixture.xml")
        });
    let body = feed::render(&demo());
    std::fs::write(&path, &body).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(std::fs::read(&path).unwrap(), body);
}
