//! Download counting after the IAB Podcast Measurement Guidelines v2.x: probes, bots, byte
//! coverage, the daily window and the salted listener identity.

use std::net::IpAddr;

use antenne::feed::stats::{DownloadCounter, EpisodeFile, Served, is_bot};
use jiff::Timestamp;

const PLAYER: &str = "AntennaPod/3.5.0";
const SECRET: [u8; 32] = [7; 32];

/// A 128 kbps episode of 10 minutes with a 4 KB ID3 tag: the threshold is 4096 + 60 × 16000.
fn episode() -> EpisodeFile {
    EpisodeFile {
        id: "ep-1".into(),
        length: 4096 + 600 * 16_000,
        header_bytes: 4096,
        bytes_per_second: 16_000,
    }
}

const THRESHOLD: u64 = 4096 + 60 * 16_000;

/// One request: (head, status, start, bytes, ip, user agent, seconds after the base instant).
type Req = (bool, u16, u64, u64, &'static str, &'static str, i64);

fn get(start: u64, bytes: u64, at: i64) -> Req {
    (false, 206, start, bytes, "203.0.113.7", PLAYER, at)
}

/// Feeds `requests` in order and returns the indices of those that counted a download.
fn counted(file: &EpisodeFile, requests: &[Req]) -> Vec<usize> {
    let base: Timestamp = "2026-11-28T08:00:00Z".parse().unwrap();
    let mut counter = DownloadCounter::new(SECRET, 10_000);
    let mut hits = Vec::new();
    for (i, &(head, status, start, bytes, ip, ua, at)) in requests.iter().enumerate() {
        let ip: IpAddr = ip.parse().unwrap();
        let served = Served {
            head,
            status,
            start,
            bytes,
            ip,
            user_agent: ua,
        };
        let now = base + jiff::SignedDuration::from_secs(at);
        if let Some(d) = counter.observe(file, &served, now) {
            assert_eq!(d.episode, file.id);
            assert_eq!(d.at, now);
            hits.push(i);
        }
    }
    hits
}

fn check(name: &str, requests: &[Req], expected: &[usize]) {
    assert_eq!(counted(&episode(), requests), expected, "{name}");
}

#[test]
fn counting_rules() {
    let len = episode().length;
    check(
        "one full GET",
        &[(false, 200, 0, len, "203.0.113.7", PLAYER, 0)],
        &[0],
    );
    check("exactly the threshold", &[get(0, THRESHOLD, 0)], &[0]);
    check("one byte short", &[get(0, THRESHOLD - 1, 0)], &[]);
    check(
        "HEAD never counts",
        &[(true, 200, 0, len, "203.0.113.7", PLAYER, 0)],
        &[],
    );
    check(
        "304 never counts",
        &[(false, 304, 0, len, "203.0.113.7", PLAYER, 0)],
        &[],
    );
    check(
        "other statuses never count",
        &[(false, 416, 0, len, "203.0.113.7", PLAYER, 0)],
        &[],
    );
    check(
        "bytes=0-1 probes",
        &[get(0, 2, 0), get(0, 2, 1), get(0, 2, 2)],
        &[],
    );
    check(
        "a bot",
        &[(false, 200, 0, len, "203.0.113.7", "Googlebot/2.1", 0)],
        &[],
    );
    check(
        "no user agent",
        &[(false, 200, 0, len, "203.0.113.7", "", 0)],
        &[],
    );
    check(
        "consecutive ranges add up",
        &[
            get(0, 2, 0),
            get(0, 500_000, 1),
            get(500_000, 500_000, 2),
            get(1_000_000, 1_000_000, 3),
        ],
        &[2],
    );
    check(
        "out-of-order ranges add up",
        &[get(500_000, 600_000, 0), get(0, 500_000, 1)],
        &[1],
    );
    check(
        "a hole in the coverage does not count",
        &[get(0, 400_000, 0), get(500_000, 2_000_000, 1)],
        &[],
    );
    check(
        "audio without the ID3 header does not count",
        &[get(4096, 5_000_000, 0)],
        &[],
    );
    check(
        "once per day",
        &[get(0, len, 0), get(0, len, 60), get(0, len, 3600)],
        &[0],
    );
    check(
        "a new UTC day counts again (window aligned with the salt)",
        &[
            get(0, len, 0),
            get(0, len, 16 * 3600 - 1),
            get(0, len, 16 * 3600),
        ],
        &[0, 2],
    );
    check(
        "other listeners count separately",
        &[
            get(0, len, 0),
            (false, 206, 0, len, "203.0.113.8", PLAYER, 1),
            (false, 206, 0, len, "203.0.113.7", "Overcast/3.0", 2),
        ],
        &[0, 1, 2],
    );
    check(
        "IPv6 addresses of one /64 are one listener",
        &[
            (false, 206, 0, 600_000, "2001:db8:1:2::a", PLAYER, 0),
            (
                false,
                206,
                600_000,
                600_000,
                "2001:db8:1:2:ffff::1",
                PLAYER,
                1,
            ),
            (false, 206, 0, len, "2001:db8:1:3::a", PLAYER, 2),
        ],
        &[1, 2],
    );
    check(
        "IPv4-mapped IPv6 is the IPv4 client",
        &[
            get(0, 600_000, 0),
            (
                false,
                206,
                600_000,
                600_000,
                "::ffff:203.0.113.7",
                PLAYER,
                1,
            ),
        ],
        &[1],
    );
    check(
        "a range past the end is clipped",
        &[get(0, u64::MAX, 0)],
        &[0],
    );
}

#[test]
fn short_files_need_all_their_bytes() {
    let short = EpisodeFile {
        id: "jingle".into(),
        length: 300_000,
        header_bytes: 1000,
        bytes_per_second: 16_000,
    };
    assert_eq!(short.threshold(), 300_000);
    assert_eq!(counted(&short, &[get(0, 299_999, 0)]), Vec::<usize>::new());
    assert_eq!(
        counted(&short, &[get(0, 200_000, 0), get(200_000, 100_000, 1)]),
        vec![1]
    );
}

#[test]
fn listener_ids_are_salted_per_day_and_hide_the_ip() {
    let ip: IpAddr = "203.0.113.7".parse().unwrap();
    let day1: Timestamp = "2026-11-28T08:00:00Z".parse().unwrap();
    let day2: Timestamp = "2026-11-29T08:00:00Z".parse().unwrap();
    let file = episode();
    let served = Served {
        head: false,
        status: 200,
        start: 0,
        bytes: file.length,
        ip,
        user_agent: PLAYER,
    };
    let mut counter = DownloadCounter::new(SECRET, 10);
    let first = counter.observe(&file, &served, day1).unwrap().listener;
    let second = counter.observe(&file, &served, day2).unwrap().listener;
    assert_ne!(first, second, "the salt rotates daily");
    let mut other_secret = DownloadCounter::new([8; 32], 10);
    assert_ne!(
        other_secret.observe(&file, &served, day1).unwrap().listener,
        first
    );
    // The id holds no trace of the address bytes in clear.
    assert!(!first.0.windows(4).any(|w| w == [203, 0, 113, 7]));
}

#[test]
fn memory_is_bounded() {
    let file = episode();
    let now: Timestamp = "2026-11-28T08:00:00Z".parse().unwrap();
    let mut counter = DownloadCounter::new(SECRET, 3);
    for i in 0..10u8 {
        let ip = IpAddr::from([198, 51, 100, i]);
        let served = Served {
            head: false,
            status: 206,
            start: 0,
            bytes: 1000,
            ip,
            user_agent: PLAYER,
        };
        assert_eq!(counter.observe(&file, &served, now), None);
    }
    assert_eq!(counter.tracked(), 3);
}

#[test]
fn bots() {
    for (ua, bot) in [
        (
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            true,
        ),
        ("facebookexternalhit/1.1", true),
        ("curl/8.5.0", true),
        ("python-requests/2.31", true),
        ("Go-http-client/1.1", true),
        ("iTMS", true),
        ("", true),
        ("AntennaPod/3.5.0", false),
        (
            "AppleCoreMedia/1.0.0.21E236 (iPhone; U; CPU OS 17_4 like Mac OS X; fr_fr)",
            false,
        ),
        ("Podcasts/1.0 CFNetwork/1494.0.7 Darwin/23.4.0", false),
        (
            "PocketCasts/1.0 (Pocket Casts Feed Parser; +http://pocketcasts.com/)",
            false,
        ),
        ("gPodder/3.11.4 (+https://gpodder.github.io/) Linux", false),
        (
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
            false,
        ),
    ] {
        assert_eq!(is_bot(ua), bot, "{ua}");
    }
}
