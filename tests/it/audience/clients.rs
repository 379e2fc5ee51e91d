//! The user-agent mapping: a table of real user agents and the family each one gets.

use antenne::catalog::ClientFamily::{self, App, Browser, Other, SmartSpeaker, Vlc};

fn check(input: &str, expected: ClientFamily) {
    assert_eq!(
        ClientFamily::from_user_agent(input),
        expected,
        "user agent {input:?}"
    );
}

#[test]
fn user_agents_map_to_their_family() {
    for (ua, family) in [
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
            Browser,
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
            Browser,
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
            Browser,
        ),
        ("VLC/3.0.21 LibVLC/3.0.21", Vlc),
        ("vlc/3.0.18", Vlc),
        ("AntennaPod/3.5.0", App),
        ("Overcast/3.0 (+http://overcast.fm/; iOS podcast app)", App),
        ("Pocket Casts", App),
        ("Podcasts/1.0 CFNetwork/1498.700.2 Darwin/23.6.0", App),
        ("TuneIn Radio/29.0.0; Android 14", App),
        ("RadioDroid2/0.86", App),
        (
            "AlexaMediaPlayer/2.1.4546.0 (Linux;Android 6.0.1) ExoPlayerLib/1.5.9",
            SmartSpeaker,
        ),
        ("Sonos/80.1-55014 (ZPS33)", SmartSpeaker),
        (
            "Mozilla/5.0 (X11; Linux armv7l) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Safari/537.36 CrKey/1.56.500000",
            SmartSpeaker,
        ),
        (
            "AppleCoreMedia/1.0.0.22A3354 (HomePod; U; CPU OS 18_0 like Mac OS X; fr_fr)",
            SmartSpeaker,
        ),
        (
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            Other,
        ),
        ("Lavf/61.7.100", Other),
        ("curl/8.11.0", Other),
        ("", Other),
        ("NSPlayer/12.00", Other),
    ] {
        check(ua, family);
    }
}

#[test]
fn names_round_trip() {
    for f in ClientFamily::ALL {
        assert_eq!(ClientFamily::from_name(f.name()), Some(f));
    }
}
