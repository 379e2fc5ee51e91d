//! The airplay log: one row per item that aired (episode, playlist track, bed, ident, live
//! show, operator's special), written as it starts and completed as it ends, exact in frames
//! (`start_frame` on the station's time base, `frames` aired). The music declaration
//! ([`summarise`]) groups a period's airings per content.
//!
//! The playout's writer thread sends [`AirplayWrite`]s in batches, one transaction each.
//! A row without `frames` is on air (or was when the process stopped).

use std::collections::HashMap;

use jiff::Timestamp;
use rusqlite::params;
use serde::Serialize;

use super::tags::MediaTags;
use super::{Catalog, Result};

/// What aired, as the declaration sorts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AirKind {
    /// A show's episode (premiere, latest, rerun).
    Episode,
    /// A file of a show's slot that is not an episode (playlist track, `file = ...`).
    Track,
    /// A track of the fallback rotation.
    Bed,
    /// A station ident.
    Ident,
    /// A live source during its show's slot.
    Live,
    /// An operator's live override ("direct spécial").
    Special,
}

impl AirKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AirKind::Episode => "episode",
            AirKind::Track => "track",
            AirKind::Bed => "bed",
            AirKind::Ident => "ident",
            AirKind::Live => "live",
            AirKind::Special => "special",
        }
    }

    pub fn parse(s: &str) -> Option<AirKind> {
        [
            AirKind::Episode,
            AirKind::Track,
            AirKind::Bed,
            AirKind::Ident,
            AirKind::Live,
            AirKind::Special,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// An item going on air at `start_frame` (frames from the Unix epoch at `sample_rate`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AirStart {
    pub start_frame: u64,
    pub sample_rate: u32,
    pub kind: AirKind,
    pub show: Option<String>,
    pub show_title: String,
    pub occurrence_id: Option<String>,
    pub episode_id: Option<String>,
    /// The title on air (the file's name when it has no tags).
    pub title: String,
    /// The file, relative to the media folder (or the data folder for episodes).
    pub path: Option<String>,
    /// The file's first frame aired (joined mid-item after a start or a takeover).
    pub file_offset: Option<u64>,
    pub sha256: Option<String>,
}

/// The item that started at `start_frame` left the air after `frames`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AirEnd {
    pub start_frame: u64,
    pub sample_rate: u32,
    pub frames: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AirplayWrite {
    Start(AirStart),
    End(AirEnd),
}

/// One airing, as the log holds it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AirplayEntry {
    pub start_frame: u64,
    pub sample_rate: u32,
    pub started_at: Timestamp,
    /// `None` while on air (or when the process stopped before its end).
    pub ended_at: Option<Timestamp>,
    pub frames: Option<u64>,
    pub kind: AirKind,
    pub show: Option<String>,
    pub show_title: String,
    pub occurrence_id: Option<String>,
    pub episode_id: Option<String>,
    pub title: String,
    pub path: Option<String>,
    pub sha256: Option<String>,
    /// The content's tags, once read (`None`: no file, or not read yet).
    pub tags: Option<MediaTags>,
}

impl AirplayEntry {
    /// Seconds aired (0 for an airing without its end).
    pub fn seconds(&self) -> f64 {
        self.frames.unwrap_or(0) as f64 / f64::from(self.sample_rate.max(1))
    }

    /// Whether the declaration has what it needs (a title and a performer).
    pub fn is_tagged(&self) -> bool {
        self.tags.as_ref().is_some_and(MediaTags::is_tagged)
    }
}

fn ms_of(frame: u64, rate: u32) -> i64 {
    (u128::from(frame) * 1000 / u128::from(rate.max(1))) as i64
}

impl Catalog {
    /// Writes a batch of starts and ends in one transaction (an end without its start, whose
    /// start was dropped, changes nothing).
    pub fn record_airplay(&self, batch: &[AirplayWrite]) -> Result<()> {
        self.write(|tx| {
            for w in batch {
                match w {
                    AirplayWrite::Start(s) => {
                        tx.execute(
                            "INSERT OR REPLACE INTO airplay (start_frame, sample_rate, started_at,
                                 kind, show, show_title, occurrence_id, episode_id, title, path,
                                 file_offset, sha256)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                            params![
                                s.start_frame as i64,
                                s.sample_rate,
                                ms_of(s.start_frame, s.sample_rate),
                                s.kind.as_str(),
                                s.show,
                                s.show_title,
                                s.occurrence_id,
                                s.episode_id,
                                s.title,
                                s.path,
                                s.file_offset.map(|o| o as i64),
                                s.sha256
                            ],
                        )?;
                    }
                    AirplayWrite::End(e) => {
                        tx.execute(
                            "UPDATE airplay SET frames = ?3, ended_at = ?4
                             WHERE start_frame = ?1 AND sample_rate = ?2",
                            params![
                                e.start_frame as i64,
                                e.sample_rate,
                                e.frames as i64,
                                ms_of(e.start_frame + e.frames, e.sample_rate)
                            ],
                        )?;
                    }
                }
            }
            Ok(())
        })
    }

    /// Closes the airings still open that started before `frame` (at `sample_rate`) as
    /// having aired up to it: at shutdown, with the playout's last frame rendered.
    pub fn close_airplay(&self, frame: u64, sample_rate: u32) -> Result<usize> {
        self.write(|tx| {
            tx.execute(
                "UPDATE airplay SET frames = ?1 - start_frame,
                     ended_at = (?1 * 1000) / sample_rate
                 WHERE frames IS NULL AND sample_rate = ?2 AND start_frame < ?1",
                params![frame as i64, sample_rate],
            )
        })
    }

    /// The airings that started in `[from, to)`, in order, with their contents' tags.
    pub fn airplay_between(&self, from: Timestamp, to: Timestamp) -> Result<Vec<AirplayEntry>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT a.start_frame, a.sample_rate, a.started_at, a.ended_at, a.frames, a.kind,
                     a.show, a.show_title, a.occurrence_id, a.episode_id, a.title, a.path,
                     a.sha256, t.sha256,
                     t.title, t.artist, t.album, t.composer, t.publisher, t.isrc, t.year,
                     t.duration_ms
                 FROM airplay a LEFT JOIN media_tags t ON t.sha256 = a.sha256
                 WHERE a.started_at >= ?1 AND a.started_at < ?2
                 ORDER BY a.started_at, a.start_frame",
            )?;
            let ts = |ms: i64| Timestamp::from_millisecond(ms).unwrap_or_default();
            let rows =
                stmt.query_map(params![from.as_millisecond(), to.as_millisecond()], |r| {
                    let tagged: Option<String> = r.get(13)?;
                    Ok(AirplayEntry {
                        start_frame: r.get::<_, i64>(0)? as u64,
                        sample_rate: r.get(1)?,
                        started_at: ts(r.get(2)?),
                        ended_at: r.get::<_, Option<i64>>(3)?.map(ts),
                        frames: r.get::<_, Option<i64>>(4)?.map(|f| f as u64),
                        kind: AirKind::parse(&r.get::<_, String>(5)?).unwrap_or(AirKind::Track),
                        show: r.get(6)?,
                        show_title: r.get(7)?,
                        occurrence_id: r.get(8)?,
                        episode_id: r.get(9)?,
                        title: r.get(10)?,
                        path: r.get(11)?,
                        sha256: r.get(12)?,
                        tags: match tagged {
                            Some(_) => Some(MediaTags::from_row(r, 14)?),
                            None => None,
                        },
                    })
                })?;
            rows.collect()
        })
    }

    /// Every aired file whose tags lack a title or a performer (most recent airing's path
    /// first), for the operators to fix.
    pub fn untagged_media(&self) -> Result<Vec<Untagged>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT a.path, a.sha256, MAX(a.started_at), COUNT(*)
                 FROM airplay a LEFT JOIN media_tags t ON t.sha256 = a.sha256
                 WHERE a.path IS NOT NULL
                   AND (t.sha256 IS NULL OR COALESCE(TRIM(t.title), '') = ''
                        OR COALESCE(TRIM(t.artist), '') = '')
                 GROUP BY a.path ORDER BY MAX(a.started_at) DESC",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(Untagged {
                    path: r.get(0)?,
                    sha256: r.get(1)?,
                    last_aired: Timestamp::from_millisecond(r.get(2)?).unwrap_or_default(),
                    plays: r.get::<_, i64>(3)? as u64,
                })
            })?;
            rows.collect()
        })
    }
}

/// An aired file without the tags a declaration needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Untagged {
    pub path: String,
    pub sha256: Option<String>,
    pub last_aired: Timestamp,
    pub plays: u64,
}

/// One row of the music declaration: a content and how much of it aired in the period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrackSummary {
    pub title: String,
    pub performer: String,
    pub composers: String,
    pub publisher: String,
    pub isrc: String,
    pub album: String,
    pub year: Option<u32>,
    /// The file's own duration (its tags' or container's), seconds.
    pub duration_s: Option<f64>,
    pub plays: u64,
    pub seconds_aired: f64,
    pub kind: AirKind,
    /// The file (shown so an untagged one can be found and fixed).
    pub file: String,
    pub tagged: bool,
}

/// The declaration of `airings`: one row per content (per file when its hash is unknown), in
/// order of first airing; live items, which have no file, are left to the detailed log.
pub fn summarise(airings: &[AirplayEntry]) -> Vec<TrackSummary> {
    let mut rows: Vec<TrackSummary> = Vec::new();
    // Frames aired per row and rate: summed exactly, converted to seconds once.
    let mut frames: Vec<HashMap<u32, u64>> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for a in airings {
        let Some(path) = &a.path else { continue };
        let key = a.sha256.clone().unwrap_or_else(|| format!("path:{path}"));
        let i = *index.entry(key).or_insert_with(|| {
            let t = a.tags.clone().unwrap_or_default();
            let text = |v: Option<String>| v.unwrap_or_default().trim().to_owned();
            rows.push(TrackSummary {
                title: t
                    .title
                    .clone()
                    .filter(|s| !s.trim().is_empty())
                    .unwrap_or_else(|| a.title.clone()),
                performer: text(t.artist.clone()),
                composers: text(t.composer.clone()),
                publisher: text(t.publisher.clone()),
                isrc: text(t.isrc.clone()),
                album: text(t.album.clone()),
                year: t.year,
                duration_s: t.duration_ms.map(|d| d as f64 / 1000.0),
                plays: 0,
                seconds_aired: 0.0,
                kind: a.kind,
                file: path.clone(),
                tagged: a.is_tagged(),
            });
            frames.push(HashMap::new());
            rows.len() - 1
        });
        rows[i].plays += 1;
        *frames[i].entry(a.sample_rate.max(1)).or_default() += a.frames.unwrap_or(0);
    }
    for (row, per_rate) in rows.iter_mut().zip(&frames) {
        row.seconds_aired = per_rate
            .iter()
            .map(|(rate, f)| *f as f64 / f64::from(*rate))
            .sum();
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(frame: u64, path: &str, sha: &str) -> AirplayWrite {
        AirplayWrite::Start(AirStart {
            start_frame: frame,
            sample_rate: 44_100,
            kind: AirKind::Bed,
            show: None,
            show_title: "Station".into(),
            occurrence_id: None,
            episode_id: None,
            title: path.trim_end_matches(".mp3").into(),
            path: Some(path.into()),
            file_offset: Some(0),
            sha256: Some(sha.into()),
        })
    }

    fn end(frame: u64, frames: u64) -> AirplayWrite {
        AirplayWrite::End(AirEnd {
            start_frame: frame,
            sample_rate: 44_100,
            frames,
        })
    }

    #[test]
    fn the_log_sums_plays_and_frames_per_content_and_flags_untagged_files() {
        let dir = tempfile::tempdir().unwrap();
        let c = Catalog::open(dir.path()).unwrap();
        let t0 = 1_780_000_000u64 * 44_100;
        c.record_airplay(&[start(t0, "a.mp3", "aa"), end(t0, 44_100 * 3)])
            .unwrap();
        c.record_airplay(&[
            start(t0 + 44_100 * 3, "b.mp3", "bb"),
            end(t0 + 44_100 * 3, 22_050),
            start(t0 + 44_100 * 4, "a-copy.mp3", "aa"),
            // Still on air: counted as a play, with no seconds yet.
            start(t0 + 44_100 * 9, "b.mp3", "bb"),
        ])
        .unwrap();
        c.record_airplay(&[end(t0 + 44_100 * 4, 44_100 * 5)])
            .unwrap();
        let tags = MediaTags {
            title: Some("Chanson".into()),
            artist: Some("Interprète".into()),
            composer: Some("Autrice".into()),
            isrc: Some("FRZ039800212".into()),
            ..MediaTags::default()
        };
        c.record_media_tags("aa", &tags, Timestamp::UNIX_EPOCH)
            .unwrap();
        assert_eq!(c.media_tags("aa").unwrap(), Some(tags));
        let from = Timestamp::from_second(1_780_000_000).unwrap();
        let to = Timestamp::from_second(1_780_000_060).unwrap();
        let log = c.airplay_between(from, to).unwrap();
        assert_eq!(log.len(), 4);
        assert_eq!(
            log[0].ended_at,
            Some(Timestamp::from_second(1_780_000_003).unwrap())
        );
        assert_eq!(log[3].frames, None);
        let rows = summarise(&log);
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].title.as_str(), rows[0].plays), ("Chanson", 2));
        assert_eq!(rows[0].seconds_aired, 8.0);
        assert!(rows[0].tagged);
        assert_eq!((rows[1].file.as_str(), rows[1].plays), ("b.mp3", 2));
        assert_eq!(rows[1].seconds_aired, 0.5);
        assert!(!rows[1].tagged);
        let untagged = c.untagged_media().unwrap();
        assert_eq!(untagged.len(), 1);
        assert_eq!((untagged[0].path.as_str(), untagged[0].plays), ("b.mp3", 2));
        assert!(c.airplay_between(to, to).unwrap().is_empty());
    }
}
