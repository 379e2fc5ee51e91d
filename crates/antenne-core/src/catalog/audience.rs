//! Listener sessions and the download log as the audience figures read them (issue 16).
//!
//! A [`ListenerSession`] is written once it has ended, with its output and the family of its
//! client ([`ClientFamily`], from a small fixed mapping of the user agent): the schema has no
//! column for an address, a user agent or a token, so nothing that identifies a person can be
//! kept (`tests/it/audience/` checks the schema). Sessions arrive in batches from the
//! daemon's writer, one transaction per batch.

use rusqlite::params;

use super::{Catalog, Result};

/// Which output a listener listened on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamKind {
    /// `/stream` (MP3).
    Mp3,
    /// `/stream.opus` (Ogg Opus).
    Opus,
    /// `/hls/live.m3u8`, sessions estimated from playlist fetches.
    Hls,
}

impl StreamKind {
    pub const ALL: [StreamKind; 3] = [StreamKind::Mp3, StreamKind::Opus, StreamKind::Hls];

    /// The name stored in the catalog and shown in reports.
    pub fn name(self) -> &'static str {
        match self {
            StreamKind::Mp3 => "mp3",
            StreamKind::Opus => "opus",
            StreamKind::Hls => "hls",
        }
    }

    pub fn from_name(name: &str) -> Option<StreamKind> {
        StreamKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// The kind of program a listener used, and nothing more of its user agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientFamily {
    /// A web browser (the station's page, an embed, a web radio directory).
    Browser,
    /// A podcast or radio app on a phone (AntennaPod, Overcast, TuneIn, Radioplayer...).
    App,
    /// VLC or another libVLC player.
    Vlc,
    /// A smart speaker or a cast device (Alexa, Sonos, Chromecast, HomePod...).
    SmartSpeaker,
    /// Anything else (ffmpeg, curl, a hardware radio, no user agent).
    Other,
}

/// Lower-case fragments of user agents, checked in this order: the first family with a
/// matching fragment wins. Speakers come first because a Chromecast says `Mozilla/5.0` too;
/// robots before browsers for the same reason.
const FAMILIES: &[(ClientFamily, &[&str])] = &[
    (
        ClientFamily::SmartSpeaker,
        &[
            "alexa",
            "echo/",
            "sonos",
            "crkey",
            "googlecast",
            "google-home",
            "googlehome",
            "homepod",
            "audioaccessory",
            "bose",
            "roku",
        ],
    ),
    (
        ClientFamily::Other,
        &["bot", "crawler", "spider", "curl/", "wget/"],
    ),
    (ClientFamily::Vlc, &["vlc", "libvlc"]),
    (
        ClientFamily::App,
        &[
            "podcast",
            "antennapod",
            "overcast",
            "pocketcasts",
            "pocket casts",
            "castbox",
            "castro",
            "podbean",
            "player fm",
            "tunein",
            "radioplayer",
            "radio.garden",
            "radiogarden",
            "radiodroid",
            "transistor",
            "streamfurious",
        ],
    ),
    (
        ClientFamily::Browser,
        &[
            "mozilla/",
            "applewebkit",
            "gecko",
            "chrome/",
            "firefox/",
            "safari/",
            "opera",
        ],
    ),
];

impl ClientFamily {
    pub const ALL: [ClientFamily; 5] = [
        ClientFamily::Browser,
        ClientFamily::App,
        ClientFamily::Vlc,
        ClientFamily::SmartSpeaker,
        ClientFamily::Other,
    ];

    /// The family of a `User-Agent` header (absent or empty: [`ClientFamily::Other`]).
    pub fn from_user_agent(user_agent: &str) -> ClientFamily {
        let ua = user_agent.to_ascii_lowercase();
        FAMILIES
            .iter()
            .find(|(_, fragments)| fragments.iter().any(|f| ua.contains(f)))
            .map_or(ClientFamily::Other, |(family, _)| *family)
    }

    /// The name stored in the catalog and shown in reports.
    pub fn name(self) -> &'static str {
        match self {
            ClientFamily::Browser => "browser",
            ClientFamily::App => "app",
            ClientFamily::Vlc => "vlc",
            ClientFamily::SmartSpeaker => "smart_speaker",
            ClientFamily::Other => "other",
        }
    }

    pub fn from_name(name: &str) -> Option<ClientFamily> {
        ClientFamily::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// One listener's time on one output, once it has ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenerSession {
    pub output: StreamKind,
    pub client: ClientFamily,
    pub start: jiff::Timestamp,
    pub end: jiff::Timestamp,
}

/// One counted download (the IAB counter's), with its episode's show and title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadRecord {
    pub episode: String,
    pub show: String,
    pub title: String,
    pub at: jiff::Timestamp,
}

impl Catalog {
    /// Writes ended sessions in one transaction (a session ending before it starts is
    /// written as zero-length).
    pub fn record_sessions(&self, sessions: &[ListenerSession]) -> Result<()> {
        if sessions.is_empty() {
            return Ok(());
        }
        self.write(|tx| {
            let mut insert = tx.prepare_cached(
                "INSERT INTO listener_sessions (output, client, started_ms, ended_ms)
                 VALUES (?1, ?2, ?3, ?4)",
            )?;
            for s in sessions {
                let start = s.start.as_millisecond();
                insert.execute(params![
                    s.output.name(),
                    s.client.name(),
                    start,
                    s.end.as_millisecond().max(start)
                ])?;
            }
            Ok(())
        })
    }

    /// Sessions that overlap `[from, to)`, by start.
    pub fn sessions_between(
        &self,
        from: jiff::Timestamp,
        to: jiff::Timestamp,
    ) -> Result<Vec<ListenerSession>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT output, client, started_ms, ended_ms FROM listener_sessions
                 WHERE ended_ms > ?1 AND started_ms < ?2 ORDER BY started_ms, id",
            )?;
            let rows =
                stmt.query_map(params![from.as_millisecond(), to.as_millisecond()], |r| {
                    let ms = |i| -> rusqlite::Result<jiff::Timestamp> {
                        jiff::Timestamp::from_millisecond(r.get(i)?)
                            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
                    };
                    Ok(ListenerSession {
                        output: StreamKind::from_name(&r.get::<_, String>(0)?)
                            .unwrap_or(StreamKind::Mp3),
                        client: ClientFamily::from_name(&r.get::<_, String>(1)?)
                            .unwrap_or(ClientFamily::Other),
                        start: ms(2)?,
                        end: ms(3)?,
                    })
                })?;
            rows.collect()
        })
    }

    /// Downloads counted in `[from, to)`, by instant.
    pub fn downloads_between(
        &self,
        from: jiff::Timestamp,
        to: jiff::Timestamp,
    ) -> Result<Vec<DownloadRecord>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT d.episode_id, e.show, e.title, d.counted_at
                 FROM downloads d JOIN episodes e ON e.id = d.episode_id
                 WHERE d.counted_at >= ?1 AND d.counted_at < ?2 ORDER BY d.counted_at",
            )?;
            let rows = stmt.query_map(params![from.as_second(), to.as_second()], |r| {
                Ok(DownloadRecord {
                    episode: r.get(0)?,
                    show: r.get(1)?,
                    title: r.get(2)?,
                    at: jiff::Timestamp::from_second(r.get(3)?)
                        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?,
                })
            })?;
            rows.collect()
        })
    }
}
