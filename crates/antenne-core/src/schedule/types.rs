//! The validated domain types of a schedule: station, shows, slots, occurrences, and the facts the caller supplies.

use std::path::{Path, PathBuf};

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::crontab::Crontab;

/// `[station]`: who broadcasts, and in which time zone the schedule's wall times are read.
#[derive(Debug, Clone)]
pub struct Station {
    pub name: String,
    pub description: Option<String>,
    pub timezone: TimeZone,
    /// The IANA name as written, e.g. `Europe/Paris`.
    pub tz_name: String,
    /// ISO 639 code, e.g. `fr`.
    pub language: String,
    pub website: Option<String>,
    pub artwork: Option<String>,
    pub author: Option<String>,
    pub email: Option<String>,
    pub location: Option<String>,
    /// `ident_every`: an ident at each multiple of this interval from local midnight (the top
    /// of each hour for `1h`) during fallback and playlist airtime, at the first item boundary.
    pub ident_every: Option<SignedDuration>,
    /// `ident_at_show_start`: an ident ending exactly on each occurrence's start frame, when
    /// fallback or playlist airtime comes before it.
    pub ident_at_show_start: bool,
}

/// Podcast ordering of a show's episodes (`itunes:type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ShowKind {
    #[default]
    Episodic,
    Serial,
}

impl ShowKind {
    /// The `itunes:type` value.
    pub fn as_str(self) -> &'static str {
        match self {
            ShowKind::Episodic => "episodic",
            ShowKind::Serial => "serial",
        }
    }
}

/// `[[show]]`: a programme with its own feed.
#[derive(Debug, Clone)]
pub struct Show {
    pub slug: String,
    pub title: String,
    pub description: Option<String>,
    pub hosts: Vec<String>,
    pub artwork: Option<String>,
    pub category: Option<String>,
    pub subcategory: Option<String>,
    pub explicit: bool,
    /// The show's language, defaulting to the station's.
    pub language: String,
    pub kind: ShowKind,
}

/// What an occurrence puts on air. Paths are relative to `media_dir`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Play {
    /// The newest ready episode of the show that has not aired yet.
    Premiere,
    /// The newest ready episode, aired or not.
    Latest,
    /// The episode that premiered most recently.
    Rerun,
    /// A folder of audio files, in name order or shuffled, each item overlapping the next by
    /// `crossfade` (zero: back to back).
    Playlist {
        folder: PathBuf,
        shuffle: bool,
        crossfade: SignedDuration,
    },
    /// Reserved for a live input.
    Live,
    /// One file, from an exception (a special broadcast).
    File(PathBuf),
}

impl Play {
    /// `premiere`, `latest`, `rerun`, `playlist`, `live` or `file`.
    pub fn kind(&self) -> &'static str {
        match self {
            Play::Premiere => "premiere",
            Play::Latest => "latest",
            Play::Rerun => "rerun",
            Play::Playlist { .. } => "playlist",
            Play::Live => "live",
            Play::File(_) => "file",
        }
    }

    /// The folder or file, relative to `media_dir`, when there is one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Play::Playlist { folder, .. } => Some(folder),
            Play::File(p) => Some(p),
            _ => None,
        }
    }

    /// Whether this plays the show's episodes from the catalog.
    pub fn uses_episodes(&self) -> bool {
        matches!(self, Play::Premiere | Play::Latest | Play::Rerun)
    }
}

impl std::fmt::Display for Play {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Play::Playlist {
                folder, shuffle, ..
            } => {
                write!(f, "playlist {}", folder.display())?;
                if *shuffle {
                    f.write_str(" (shuffled)")?;
                }
                Ok(())
            }
            Play::File(p) => write!(f, "file {}", p.display()),
            other => f.write_str(other.kind()),
        }
    }
}

/// When the item is longer than the slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overrun {
    /// Fade out over the last seconds of the slot.
    Fade,
    Cut,
}

/// When the item is shorter than the slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Underrun {
    /// Fill the rest with the fallback rotation.
    Fallback,
    Silence,
}

/// `[fallback]`: what airs when nothing is scheduled. Folders are relative to `media_dir`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fallback {
    pub playlist: PathBuf,
    pub ident: PathBuf,
    pub shuffle: bool,
    /// How long two consecutive tracks overlap (zero: back to back).
    pub crossfade: SignedDuration,
}

/// The crossfade between playlist and fallback tracks when the schedule does not say.
pub const DEFAULT_CROSSFADE: SignedDuration = SignedDuration::from_secs(3);

/// How a slot recurs, in the station's wall-clock time.
#[derive(Debug, Clone)]
pub enum Recurrence {
    /// `days` + `start`. `days[0]` is Monday.
    Weekly { days: [bool; 7], start: Time },
    /// A crontab line.
    Cron { line: String, tab: Box<Crontab> },
}

/// Which weeks a slot airs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weeks {
    All,
    /// ISO week number odd (a 53-week year is followed by week 1: two odd weeks in a row).
    Odd,
    Even,
    /// Every `n` weeks, counting from the week holding `anchor`.
    Every {
        n: u32,
        anchor: Date,
    },
}

/// `[[slot]]`: a recurring place in the week for a show.
#[derive(Debug, Clone)]
pub struct Slot {
    pub id: String,
    pub show: String,
    pub recurrence: Recurrence,
    pub weeks: Weeks,
    /// Elapsed time, not wall-clock time.
    pub duration: SignedDuration,
    pub play: Play,
    pub overrun: Overrun,
    pub underrun: Underrun,
    /// A live slot's show is kept as an episode (`record`, true by default).
    pub record: bool,
}

/// How a declared wall time became an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WallShift {
    /// The wall time exists once.
    None,
    /// The wall time fell in a spring-forward gap and moved forward by this much.
    Gap(SignedDuration),
    /// The wall time happens twice; the first occurrence was taken.
    Fold,
}

/// One concrete airing: a slot (or a one-off special) on one date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    /// Stable per occurrence: `SLOT/YYYY-MM-DDTHH:MM` with the declared local start.
    pub id: String,
    /// The show's slug.
    pub show: String,
    /// The slot id (or the exception's id for a special).
    pub slot: String,
    pub start: Timestamp,
    pub end: Timestamp,
    /// The declared local start; the actual local start differs only by [`WallShift::Gap`].
    pub wall: DateTime,
    pub shift: WallShift,
    pub play: Play,
    pub overrun: Overrun,
    pub underrun: Underrun,
    /// A live occurrence is kept as an episode.
    pub record: bool,
    /// Changed or added by an `[[exception]]`.
    pub exceptional: bool,
}

impl Occurrence {
    pub fn duration(&self) -> SignedDuration {
        self.end.duration_since(self.start)
    }
}

/// What exists on disk or in the catalog, as far as the caller knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathFact {
    Missing,
    File,
    Folder { entries: usize },
}

/// IO-dependent facts used for warnings. `None` means unknown: that warning is skipped.
pub trait Facts {
    /// Episodes of a show that are ready or being ingested.
    fn episode_count(&self, _show: &str) -> Option<usize> {
        None
    }
    /// Duration of the newest ready episode of a show.
    fn newest_episode_duration(&self, _show: &str) -> Option<SignedDuration> {
        None
    }
    /// A path relative to `media_dir`.
    fn path(&self, _relative: &Path) -> Option<PathFact> {
        None
    }
}

/// Knows nothing: every IO-dependent warning is skipped.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoFacts;

impl Facts for NoFacts {}
