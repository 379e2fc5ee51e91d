//! Intake: what every new recording goes through before the ingest workers see it, whichever
//! door it came in by (multipart upload, resumable upload, watch folder, `antenne ingest`, the
//! demo seeding).
//!
//! 1. the bytes are *staged* under `data_dir/uploads/` while their sha256 is computed on the
//!    fly ([`Stager`]; memory stays flat whatever the size); a recording already on disk is
//!    copied there first ([`store_file`]: the original stays where it was);
//! 2. the metadata is validated into [`Metadata`], every bad field reported at once;
//! 3. [`store`] sniffs the container from the first bytes (never from the client's name),
//!    refuses a recording already in the catalog, fsyncs and renames the staged file to
//!    `data_dir/originals/<id>.<ext>`, writes transcript and chapters beside it, and creates
//!    the queued episode and its job in one catalog transaction.
//!
//! A crash before the catalog commit leaves at most an orphan file, never a row without its
//! original.
//!
//! **The same recording twice** (same sha256, whatever its name or door) is never stored
//! twice: [`store`] answers [`Stored::Duplicate`] with the episode it already is, or, when that
//! episode was published and failed, queues it again ([`Stored::Requeued`]: sending it again is
//! how a volunteer retries). Each door says so its own way: an upload answers `200` with that
//! episode (`409` when it was deleted or belongs to another show), the watch folder moves the
//! file to `failed/` naming it, `antenne ingest` exits 1 naming it ([`submit`]), the demo
//! seeding skips it.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::IngestError;
use crate::catalog::{Catalog, CatalogError, Episode, NewEpisode, TranscriptKind};

/// Staged uploads (`*.part`), relative to `data_dir`.
pub const UPLOADS_DIR: &str = "uploads";
/// Stored originals, relative to `data_dir`.
pub const ORIGINALS_DIR: &str = "originals";
/// Transcripts and chapters, relative to `data_dir`.
pub const META_DIR: &str = "meta";

/// A container recognised from its first bytes; gives the stored file its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    Wav,
    Flac,
    Ogg,
    Mp3,
    Mp4,
    Aiff,
    Matroska,
    /// Raw AAC in ADTS frames (what a live source or an `.aac` file sends).
    Adts,
}

impl Container {
    pub fn ext(self) -> &'static str {
        match self {
            Container::Wav => "wav",
            Container::Flac => "flac",
            Container::Ogg => "ogg",
            Container::Mp3 => "mp3",
            Container::Mp4 => "m4a",
            Container::Aiff => "aiff",
            Container::Matroska => "mka",
            Container::Adts => "aac",
        }
    }

    /// Recognises a container from the first [`SNIFF_LEN`] bytes of a file.
    pub fn sniff(head: &[u8]) -> Option<Container> {
        let at = |i: usize, m: &[u8]| head.get(i..i + m.len()) == Some(m);
        if (at(0, b"RIFF") || at(0, b"RF64") || at(0, b"BW64")) && at(8, b"WAVE") {
            Some(Container::Wav)
        } else if at(0, b"fLaC") {
            Some(Container::Flac)
        } else if at(0, b"OggS") {
            Some(Container::Ogg)
        } else if at(4, b"ftyp") {
            Some(Container::Mp4)
        } else if at(0, b"FORM") && (at(8, b"AIFF") || at(8, b"AIFC")) {
            Some(Container::Aiff)
        } else if at(0, &[0x1A, 0x45, 0xDF, 0xA3]) {
            Some(Container::Matroska)
        } else if at(0, b"ID3") || is_mpeg_audio_frame(head) {
            Some(Container::Mp3)
        } else if is_adts_frame(head) {
            Some(Container::Adts)
        } else {
            None
        }
    }
}

/// An MPEG audio frame header: 11 sync bits, a valid version, layer, bitrate and rate.
fn is_mpeg_audio_frame(h: &[u8]) -> bool {
    h.len() >= 4
        && h[0] == 0xFF
        && h[1] & 0xE0 == 0xE0
        && (h[1] >> 3) & 3 != 1
        && (h[1] >> 1) & 3 != 0
        && h[2] >> 4 != 0xF
        && (h[2] >> 2) & 3 != 3
}

/// An ADTS header: 12 sync bits, layer 0, a valid sampling frequency index.
fn is_adts_frame(h: &[u8]) -> bool {
    h.len() >= 7 && h[0] == 0xFF && h[1] & 0xF6 == 0xF0 && (h[2] >> 2) & 0xF < 13
}

/// Bytes kept from the start of a staged file for [`Container::sniff`].
pub const SNIFF_LEN: usize = 64;

/// A file being staged: written and hashed as its bytes arrive. Blocking IO; async callers
/// use [`spawn_stager`].
pub struct Stager {
    file: File,
    path: PathBuf,
    hasher: Sha256,
    bytes: u64,
    head: Vec<u8>,
}

/// A complete, fsynced staged file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staged {
    pub path: PathBuf,
    pub sha256: String,
    pub bytes: u64,
    pub container: Option<Container>,
}

impl Stager {
    /// A new empty staging file with a random name under `data_dir/uploads/`.
    pub fn create(data_dir: &Path) -> io::Result<Stager> {
        let dir = data_dir.join(UPLOADS_DIR);
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{}.part", uuid::Uuid::new_v4()));
        let file = File::create_new(&path)?;
        Ok(Stager {
            file,
            path,
            hasher: Sha256::new(),
            bytes: 0,
            head: Vec::with_capacity(SNIFF_LEN),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn write(&mut self, buf: &[u8]) -> io::Result<()> {
        if self.head.len() < SNIFF_LEN {
            let n = (SNIFF_LEN - self.head.len()).min(buf.len());
            self.head.extend_from_slice(&buf[..n]);
        }
        self.hasher.update(buf);
        self.file.write_all(buf)?;
        self.bytes += buf.len() as u64;
        Ok(())
    }

    /// Flushes the file to disk and returns what was staged.
    pub fn finish(self) -> io::Result<Staged> {
        if let Err(e) = self.file.sync_all() {
            // A full disk can surface only here: nothing partial stays behind.
            let _ = std::fs::remove_file(&self.path);
            return Err(e);
        }
        Ok(Staged {
            container: Container::sniff(&self.head),
            sha256: hex::encode(self.hasher.finalize()),
            bytes: self.bytes,
            path: self.path,
        })
    }

    /// Gives up: the staged file is removed.
    pub fn abort(self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Copies a recording already on disk into the staging area, hashing it on the way (the
/// watch folder's inbox may be on another disk; `antenne ingest` leaves its file alone).
/// Reading `file` fails with [`StoreError::Source`], writing the copy with [`StoreError::Io`].
pub fn stage_copy(data_dir: &Path, file: &Path) -> Result<Staged, StoreError> {
    use std::io::Read;
    let mut src = File::open(file).map_err(StoreError::Source)?;
    let mut stager = Stager::create(data_dir)?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match src.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                stager.abort();
                return Err(StoreError::Source(e));
            }
        };
        if let Err(e) = stager.write(&buf[..n]) {
            stager.abort();
            return Err(e.into());
        }
    }
    Ok(stager.finish()?)
}

/// Hashes an already complete file (a finished resumable upload) without copying it.
pub fn stage_existing(path: &Path) -> io::Result<Staged> {
    use std::io::Read;
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut head = Vec::with_capacity(SNIFF_LEN);
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        if head.len() < SNIFF_LEN {
            let k = (SNIFF_LEN - head.len()).min(n);
            head.extend_from_slice(&buf[..k]);
        }
        hasher.update(&buf[..n]);
        bytes += n as u64;
    }
    file.sync_all()?;
    Ok(Staged {
        path: path.to_path_buf(),
        sha256: hex::encode(hasher.finalize()),
        bytes,
        container: Container::sniff(&head),
    })
}

/// The async side of a [`Stager`] running on a blocking thread: chunks go through a bounded
/// channel (so a fast client cannot fill memory: it waits for the disk), hashing and writing
/// happen off the runtime.
pub struct StagerHandle {
    tx: tokio::sync::mpsc::Sender<Bytes>,
    task: tokio::task::JoinHandle<io::Result<Staged>>,
}

/// Chunks in flight between the network and the disk (each at most a few hundred KiB).
const PIPE_DEPTH: usize = 8;

/// Starts a staging file on a blocking thread.
pub fn spawn_stager(data_dir: &Path) -> io::Result<StagerHandle> {
    let mut stager = Stager::create(data_dir)?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(PIPE_DEPTH);
    let task = tokio::task::spawn_blocking(move || {
        while let Some(chunk) = rx.blocking_recv() {
            if let Err(e) = stager.write(&chunk) {
                stager.abort();
                return Err(e);
            }
        }
        stager.finish()
    });
    Ok(StagerHandle { tx, task })
}

impl StagerHandle {
    /// Sends one chunk; an error means the writer failed (see [`StagerHandle::finish`]).
    pub async fn send(&self, chunk: Bytes) -> Result<(), ()> {
        self.tx.send(chunk).await.map_err(|_| ())
    }

    /// Waits for the staged file.
    pub async fn finish(self) -> io::Result<Staged> {
        drop(self.tx);
        match self.task.await {
            Ok(r) => r,
            Err(e) => Err(io::Error::other(format!("staging task: {e}"))),
        }
    }

    /// Gives up and removes whatever was staged.
    pub async fn abort(self) {
        if let Ok(staged) = self.finish().await {
            let _ = tokio::fs::remove_file(&staged.path).await;
        }
    }
}

/// Validated metadata of a new episode.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metadata {
    pub show: String,
    pub title: String,
    pub description: String,
    pub date: Option<String>,
    pub season: Option<u32>,
    pub episode: Option<u32>,
    pub transcript: Option<TranscriptText>,
    /// Podcasting 2.0 JSON chapters, as sent (validated).
    pub chapters: Option<String>,
    /// The client's file name, for display only.
    pub original_name: Option<String>,
}

/// A transcript as sent, and its format (recognised from the text, never from a name).
#[derive(Debug, Clone, PartialEq)]
pub struct TranscriptText {
    pub text: String,
    pub kind: TranscriptKind,
}

/// One bad field: its name and what is wrong, for a volunteer to read.
pub type FieldError = (String, String);

pub const MAX_TITLE_CHARS: usize = 300;
pub const MAX_DESCRIPTION_CHARS: usize = 20_000;
/// Largest transcript or chapters field, bytes.
pub const MAX_SIDE_FILE_BYTES: usize = 4 * 1024 * 1024;

/// Validates raw fields (`show`, `title`, `description`, `date`, `season`, `episode`,
/// `transcript`, `chapters`; others are ignored). `known_shows` is `None` when the station has
/// no show list to check against.
pub fn validate(
    fields: &[(String, String)],
    known_shows: Option<&[String]>,
) -> Result<Metadata, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut bad = |f: &str, m: String| errors.push((f.to_string(), m));
    // The last value of a field, unless blank.
    let raw = |name: &str| {
        fields
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.trim().is_empty())
    };
    let get = |name: &str| raw(name).map(str::trim);
    let mut m = Metadata::default();
    match get("show") {
        None => bad("show", "required: the show's slug, e.g. la-monnaie".into()),
        Some(s) if !is_slug(s) => bad(
            "show",
            format!("{s:?} is not a show slug (lowercase letters, digits and dashes)"),
        ),
        Some(s) if known_shows.is_some_and(|k| !k.iter().any(|x| x == s)) => {
            let known = known_shows.unwrap_or_default().join(", ");
            bad(
                "show",
                format!("no show named {s:?}; the shows are: {known}"),
            );
        }
        Some(s) => m.show = s.to_string(),
    }
    match get("title") {
        None => bad("title", "required".into()),
        Some(t) if t.chars().count() > MAX_TITLE_CHARS => {
            bad("title", format!("longer than {MAX_TITLE_CHARS} characters"))
        }
        Some(t) if t.chars().any(char::is_control) => bad(
            "title",
            "must be one line without control characters".into(),
        ),
        Some(t) => m.title = t.to_string(),
    }
    if let Some(d) = get("description") {
        if d.chars().count() > MAX_DESCRIPTION_CHARS {
            bad(
                "description",
                format!("longer than {MAX_DESCRIPTION_CHARS} characters"),
            );
        } else {
            m.description = d.to_string();
        }
    }
    if let Some(d) = get("date") {
        match check_date(d) {
            Ok(()) => m.date = Some(d.to_string()),
            Err(e) => bad("date", e),
        }
    }
    for (name, slot) in [("season", &mut m.season), ("episode", &mut m.episode)] {
        if let Some(v) = get(name) {
            match v.parse::<u32>() {
                Ok(n) if (1..=100_000).contains(&n) => *slot = Some(n),
                _ => bad(
                    name,
                    format!("{v:?} is not a whole number from 1 to 100000"),
                ),
            }
        }
    }
    // Side files are kept as sent, byte for byte: `/media` serves what was uploaded.
    if let Some(t) = raw("transcript") {
        match check_transcript(t) {
            Ok(kind) => {
                m.transcript = Some(TranscriptText {
                    text: t.to_string(),
                    kind,
                })
            }
            Err(e) => bad("transcript", e),
        }
    }
    if let Some(c) = raw("chapters") {
        match check_chapters(c) {
            Ok(()) => m.chapters = Some(c.to_string()),
            Err(e) => bad("chapters", e),
        }
    }
    if errors.is_empty() {
        Ok(m)
    } else {
        Err(errors)
    }
}

pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
}

fn check_date(d: &str) -> Result<(), String> {
    let ok = d.len() == 10 && d.parse::<jiff::civil::Date>().is_ok();
    if ok {
        Ok(())
    } else {
        Err(format!("{d:?} is not a date as YYYY-MM-DD"))
    }
}

fn check_transcript(t: &str) -> Result<TranscriptKind, String> {
    if t.len() > MAX_SIDE_FILE_BYTES {
        return Err(format!("larger than {MAX_SIDE_FILE_BYTES} bytes"));
    }
    TranscriptKind::sniff(t.trim()).ok_or_else(|| {
        "neither WebVTT (first line WEBVTT) nor SRT (a cue number, then a `-->` time line)".into()
    })
}

fn check_chapters(c: &str) -> Result<(), String> {
    if c.len() > MAX_SIDE_FILE_BYTES {
        return Err(format!("larger than {MAX_SIDE_FILE_BYTES} bytes"));
    }
    let v: serde_json::Value =
        serde_json::from_str(c).map_err(|e| format!("not valid JSON: {e}"))?;
    let Some(list) = v.get("chapters").and_then(|c| c.as_array()) else {
        return Err(r#"expected JSON chapters: {"version": "1.2.0", "chapters": [...]}"#.into());
    };
    for (i, ch) in list.iter().enumerate() {
        match ch.get("startTime").and_then(|t| t.as_f64()) {
            Some(t) if t >= 0.0 => {}
            _ => {
                return Err(format!(
                    "chapter {}: startTime must be a number of seconds >= 0",
                    i + 1
                ));
            }
        }
    }
    Ok(())
}

/// Why a staged recording was not stored.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not a recognised audio file (WAV, FLAC, Ogg, MP3, M4A/AAC, AIFF or Matroska)")]
    NotAudio,
    #[error("the file is empty")]
    Empty,
    /// The recording on disk could not be read ([`store_file`] only).
    #[error("cannot read the recording: {0}")]
    Source(io::Error),
    #[error("cannot store the original: {0}")]
    Io(#[from] io::Error),
    #[error(transparent)]
    Catalog(CatalogError),
}

/// What [`store`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Stored {
    /// A new queued episode.
    Created(Episode),
    /// The same recording (sha256) was already in the catalog: nothing was stored.
    Duplicate(Episode),
    /// The same recording as a published episode that had failed: that episode is queued
    /// again (same id, same feed guid); nothing new was stored.
    Requeued(Episode),
}

/// Stores a staged recording as a new queued episode (see the module doc). The staged file is
/// consumed: renamed into place, or removed when the recording is refused.
pub fn store(
    catalog: &Catalog,
    staged: Staged,
    meta: &Metadata,
    now: jiff::Timestamp,
) -> Result<Stored, StoreError> {
    let refuse = |e: StoreError| {
        let _ = std::fs::remove_file(&staged.path);
        Err(e)
    };
    if staged.bytes == 0 {
        return refuse(StoreError::Empty);
    }
    let Some(container) = staged.container else {
        return refuse(StoreError::NotAudio);
    };
    match catalog.find_by_sha256(&staged.sha256) {
        Ok(Some(existing)) => {
            let _ = std::fs::remove_file(&staged.path);
            return retry_failed(catalog, existing, now);
        }
        Ok(None) => {}
        Err(e) => return refuse(StoreError::Catalog(e)),
    }
    let data_dir = catalog.data_dir();
    let id = uuid::Uuid::new_v4().to_string();
    let original_path = format!("{ORIGINALS_DIR}/{id}.{}", container.ext());
    let mut new = NewEpisode {
        id: id.clone(),
        show: meta.show.clone(),
        title: meta.title.clone(),
        description: meta.description.clone(),
        date: meta.date.clone(),
        season: meta.season,
        episode: meta.episode,
        original_sha256: staged.sha256.clone(),
        original_path: original_path.clone(),
        original_bytes: staged.bytes,
        original_name: meta.original_name.clone(),
        ..Default::default()
    };
    let mut written = Vec::new();
    let result = (|| -> io::Result<()> {
        if let Some(t) = &meta.transcript {
            let rel = format!("{META_DIR}/{id}.{}", t.kind.ext());
            write_durably(&data_dir.join(&rel), t.text.as_bytes())?;
            written.push(data_dir.join(&rel));
            new.transcript_path = Some(rel);
            new.transcript_type = Some(t.kind);
        }
        if let Some(c) = &meta.chapters {
            let rel = format!("{META_DIR}/{id}.chapters.json");
            write_durably(&data_dir.join(&rel), c.as_bytes())?;
            written.push(data_dir.join(&rel));
            new.chapters_path = Some(rel);
        }
        let dest = data_dir.join(&original_path);
        let dir = data_dir.join(ORIGINALS_DIR);
        std::fs::create_dir_all(&dir)?;
        std::fs::rename(&staged.path, &dest)?;
        written.push(dest);
        sync_dir(&dir)
    })();
    let cleanup = |written: &[PathBuf]| {
        for p in written {
            let _ = std::fs::remove_file(p);
        }
    };
    if let Err(e) = result {
        cleanup(&written);
        return refuse(StoreError::Io(e));
    }
    match catalog.create_episode(&new, now) {
        Ok(e) => Ok(Stored::Created(e)),
        Err(CatalogError::Duplicate(other)) => {
            // Lost a race with an identical upload: keep theirs.
            cleanup(&written);
            match catalog.episode(&other) {
                Ok(Some(e)) => Ok(Stored::Duplicate(e)),
                Ok(None) => Err(StoreError::Catalog(CatalogError::Duplicate(other))),
                Err(e) => Err(StoreError::Catalog(e)),
            }
        }
        Err(e) => {
            cleanup(&written);
            Err(StoreError::Catalog(e))
        }
    }
}

/// The same recording again: a published episode that failed (a full disk, a crash too many)
/// is queued again, so sending it again is how a volunteer retries; its original is kept.
fn retry_failed(
    catalog: &Catalog,
    existing: Episode,
    now: jiff::Timestamp,
) -> Result<Stored, StoreError> {
    use crate::catalog::EpisodeStatus;
    if existing.status != EpisodeStatus::Failed || !existing.published {
        return Ok(Stored::Duplicate(existing));
    }
    catalog
        .requeue(&existing.id, now)
        .map_err(StoreError::Catalog)?;
    tracing::info!(episode = %existing.id, "failed episode sent again: queued again");
    match catalog.episode(&existing.id) {
        Ok(e) => Ok(Stored::Requeued(e.unwrap_or(existing))),
        Err(e) => Err(StoreError::Catalog(e)),
    }
}

/// Stores a recording already on disk (the watch folder, `antenne ingest`, the demo seeding):
/// [`stage_copy`], then [`store`]. The file itself is left where it is.
pub fn store_file(
    catalog: &Catalog,
    file: &Path,
    meta: &Metadata,
    now: jiff::Timestamp,
) -> Result<Stored, StoreError> {
    let staged = stage_copy(catalog.data_dir(), file)?;
    store(catalog, staged, meta, now)
}

/// The title of a recording sent without one: its file name without the extension, `_` read
/// as a space (`le_marche.wav` is "le marche").
pub fn title_from_file_name(file: &Path) -> String {
    file.file_stem()
        .map(|s| s.to_string_lossy().replace('_', " "))
        .unwrap_or_default()
}

/// What `antenne ingest` says about a recording on disk: raw text, validated by [`submit`]
/// exactly as an upload's fields are.
#[derive(Debug, Clone, Default)]
pub struct Submission {
    /// The show's slug.
    pub show: String,
    /// Empty: [`title_from_file_name`].
    pub title: String,
    pub description: String,
    /// `YYYY-MM-DD`.
    pub date: Option<String>,
    /// For display; `None`: the file's name.
    pub original_name: Option<String>,
}

/// `antenne ingest`'s way in: validates `sub` like an upload's fields, then [`store_file`].
/// A new episode, or a failed one queued again, is returned queued; the same recording as an
/// episode that is not to be retried is [`IngestError::Duplicate`] naming that episode, and a
/// file that is not audio is [`IngestError::NotAudio`], both with nothing stored.
pub fn submit(
    catalog: &Catalog,
    src: &Path,
    sub: &Submission,
    clock: &dyn crate::clock::Clock,
) -> Result<Episode, IngestError> {
    let title = if sub.title.is_empty() {
        title_from_file_name(src)
    } else {
        sub.title.clone()
    };
    let mut fields = vec![
        ("show".to_string(), sub.show.clone()),
        ("title".to_string(), title),
        ("description".to_string(), sub.description.clone()),
    ];
    if let Some(d) = &sub.date {
        fields.push(("date".into(), d.clone()));
    }
    let mut meta = validate(&fields, None).map_err(IngestError::Invalid)?;
    meta.original_name = sub
        .original_name
        .clone()
        .or_else(|| src.file_name().map(|n| n.to_string_lossy().into_owned()));
    let path = || src.to_path_buf();
    match store_file(catalog, src, &meta, clock.now()) {
        Ok(Stored::Created(ep) | Stored::Requeued(ep)) => Ok(ep),
        Ok(Stored::Duplicate(ep)) => Err(IngestError::Duplicate {
            path: path(),
            existing: ep.id,
        }),
        Err(reason @ (StoreError::NotAudio | StoreError::Empty)) => Err(IngestError::NotAudio {
            path: path(),
            reason,
        }),
        Err(StoreError::Source(e)) => Err(IngestError::Read(path(), e)),
        Err(StoreError::Io(e)) => Err(IngestError::Store(catalog.data_dir().to_path_buf(), e)),
        Err(StoreError::Catalog(e)) => Err(e.into()),
    }
}

/// Writes `bytes` to `path` atomically and durably: a temp file beside it, fsync, rename,
/// fsync of the folder; on failure (a full disk) the temp file is removed.
pub fn write_durably(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension("tmp");
    let written = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    sync_dir(dir)
}

/// Makes a rename in `dir` durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}
