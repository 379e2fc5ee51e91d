//! The watch folder: a recording dropped in `media_dir/inbox/SHOW/` becomes a queued episode.
//!
//! Polling, not inotify: a file copied over SMB or a slow USB stick grows for minutes, and
//! only "same size and mtime on two polls in a row" says it is complete on every filesystem.
//! An optional sidecar `NAME.toml` next to `NAME.wav` gives the metadata (`title`,
//! `description`, `date`, `season`, `episode`); without one the title is the file name.
//!
//! Once stored, the file (and its sidecar) moves to `inbox/archive/SHOW/`; a file that cannot
//! be taken moves to `inbox/failed/` with `NAME.error.txt` saying why, so the operator sees
//! it. A transient failure (disk full, catalog busy) leaves the file where it is, to retry.

use std::collections::HashMap;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use tokio_util::sync::CancellationToken;

use super::intake::{self, StoreError, Stored};
use crate::catalog::Catalog;

/// Time between two looks at the inbox.
pub const POLL_INTERVAL: Duration = Duration::from_secs(2);
pub const INBOX: &str = "inbox";
pub const ARCHIVE: &str = "archive";
pub const FAILED: &str = "failed";

/// What one poll did with one file.
#[derive(Debug, Clone, PartialEq)]
pub enum Taken {
    /// Stored as a new queued episode (or an earlier failed one queued again); the file is
    /// archived.
    Stored { file: PathBuf, episode_id: String },
    /// Moved to `inbox/failed/` with an explanation.
    Failed { file: PathBuf, reason: String },
}

/// The watch folder's state between polls: the size and mtime each file had last time.
pub struct WatchFolder {
    catalog: Catalog,
    inbox: PathBuf,
    seen: HashMap<PathBuf, Signature>,
    known_shows: Option<Vec<String>>,
}

type Signature = (u64, Option<SystemTime>, Option<(u64, Option<SystemTime>)>);

impl WatchFolder {
    /// Watches `media_dir/inbox/`, creating it (with `archive/` and `failed/`) if needed.
    pub fn new(catalog: Catalog, media_dir: &Path) -> io::Result<WatchFolder> {
        let inbox = media_dir.join(INBOX);
        std::fs::create_dir_all(inbox.join(ARCHIVE))?;
        std::fs::create_dir_all(inbox.join(FAILED))?;
        Ok(WatchFolder {
            catalog,
            inbox,
            seen: HashMap::new(),
            known_shows: None,
        })
    }

    /// The shows a folder name must match (from the schedule); `None` accepts any slug.
    pub fn set_known_shows(&mut self, shows: Option<Vec<String>>) {
        self.known_shows = shows;
    }

    /// One look at the inbox: takes every file whose size and mtime did not change since the
    /// previous poll. Blocking (it copies and hashes files).
    pub fn poll(&mut self, now: jiff::Timestamp) -> Vec<Taken> {
        let mut current = HashMap::new();
        for (show, file) in self.candidates() {
            let Some(sig) = signature(&file) else {
                continue;
            };
            current.insert(file.clone(), (show, sig));
        }
        let mut out = Vec::new();
        let mut next_seen = HashMap::new();
        for (file, (show, sig)) in current {
            let stable = sig.0 > 0 && self.seen.get(&file) == Some(&sig);
            if !stable {
                next_seen.insert(file, sig);
                continue;
            }
            match self.take(show.as_deref(), &file, now) {
                Ok(Some(taken)) => out.push(taken),
                // Transient: look again later.
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(file = %file.display(), error = %e, "watch folder: cannot move the file");
                }
            }
        }
        self.seen = next_seen;
        out
    }

    /// Every file that may be a recording, with its show folder (None for the inbox root).
    fn candidates(&self) -> Vec<(Option<String>, PathBuf)> {
        let mut out = Vec::new();
        let Ok(entries) = std::fs::read_dir(&self.inbox) else {
            return out;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if name == ARCHIVE || name == FAILED || name.starts_with('.') {
                    continue;
                }
                let Ok(inner) = std::fs::read_dir(&path) else {
                    continue;
                };
                for f in inner.flatten() {
                    if is_recording_candidate(&f.path()) {
                        out.push((Some(name.clone()), f.path()));
                    }
                }
            } else if is_recording_candidate(&path) {
                out.push((None, path));
            }
        }
        out.sort();
        out
    }

    /// Takes one stable file; `Ok(None)` when it should be retried later.
    fn take(
        &self,
        show: Option<&str>,
        file: &Path,
        now: jiff::Timestamp,
    ) -> io::Result<Option<Taken>> {
        let name = file_name(file);
        let Some(show) = show else {
            let reason = format!(
                "{name} is directly in the inbox: put recordings in inbox/SHOW/ (the show's slug) \
                 so Antenne knows which show they belong to"
            );
            return self.fail(file, reason).map(Some);
        };
        let meta = match recording_metadata(show, file, self.known_shows.as_deref()) {
            Ok(m) => m,
            Err(reasons) => return self.fail(file, reasons.join("\n")).map(Some),
        };
        match intake::store_file(&self.catalog, file, &meta, now) {
            Ok(Stored::Created(ep)) => {
                self.archive(show, file)?;
                tracing::info!(file = %file.display(), episode = %ep.id, "watch folder: queued");
                Ok(Some(Taken::Stored {
                    file: file.to_path_buf(),
                    episode_id: ep.id,
                }))
            }
            Ok(Stored::Requeued(ep)) => {
                // The same recording as an episode that had failed: it is being tried again
                // (the workers pick the queued job up), so the file is done with.
                self.archive(show, file)?;
                tracing::info!(file = %file.display(), episode = %ep.id, "watch folder: failed episode queued again");
                Ok(Some(Taken::Stored {
                    file: file.to_path_buf(),
                    episode_id: ep.id,
                }))
            }
            Ok(Stored::Duplicate(ep)) => {
                let reason = format!(
                    "this recording was already ingested as episode {} ({:?}, show {}); \
                     it was not added again",
                    ep.id, ep.title, ep.show
                );
                self.fail(file, reason).map(Some)
            }
            Err(e @ (StoreError::NotAudio | StoreError::Empty)) => {
                self.fail(file, e.to_string()).map(Some)
            }
            Err(e) => {
                tracing::warn!(file = %file.display(), error = %e, "watch folder: cannot store; will retry");
                Ok(None)
            }
        }
    }

    fn archive(&self, show: &str, file: &Path) -> io::Result<()> {
        let dir = self.inbox.join(ARCHIVE).join(show);
        std::fs::create_dir_all(&dir)?;
        move_with_sidecar(file, &dir)?;
        Ok(())
    }

    fn fail(&self, file: &Path, reason: String) -> io::Result<Taken> {
        let dir = self.inbox.join(FAILED);
        std::fs::create_dir_all(&dir)?;
        let moved = move_with_sidecar(file, &dir)?;
        let rel = file.strip_prefix(&self.inbox).unwrap_or(file);
        let text = format!(
            "Antenne could not ingest {}:\n\n{reason}\n\nFix this, then put the file back in \
             inbox/SHOW/ (SHOW being the show's slug).\n",
            rel.display()
        );
        std::fs::write(dir.join(format!("{}.error.txt", file_name(&moved))), text)?;
        tracing::warn!(file = %file.display(), %reason, "watch folder: moved to failed/");
        Ok(Taken::Failed {
            file: file.to_path_buf(),
            reason,
        })
    }
}

/// Polls `media_dir/inbox/` every [`POLL_INTERVAL`] until `shutdown` is cancelled, checking
/// show folders against `known_shows` (asked before every poll; `None`: any folder).
pub async fn run_watch_folder(
    catalog: Catalog,
    media_dir: PathBuf,
    known_shows: impl Fn() -> Option<Vec<String>>,
    shutdown: CancellationToken,
) {
    let mut folder = match WatchFolder::new(catalog, &media_dir) {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(inbox = %media_dir.join(INBOX).display(), error = %e, "watch folder disabled");
            return;
        }
    };
    let mut tick = tokio::time::interval(POLL_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        folder.set_known_shows(known_shows());
        let res = tokio::task::spawn_blocking(move || {
            let taken = folder.poll(jiff::Timestamp::now());
            (folder, taken)
        })
        .await;
        match res {
            Ok((f, _)) => folder = f,
            Err(e) => {
                tracing::error!(error = %e, "watch folder poll panicked; watch folder stopped");
                return;
            }
        }
    }
}

/// The metadata of a recording dropped in a show's folder (the watch folder's inbox, the demo
/// episodes): the folder's show, the fields of its sidecar `NAME.toml` if any, else the title
/// from the file name, all validated by [`intake::validate`] against `known_shows`. Every
/// problem at once, for a volunteer to read.
pub fn recording_metadata(
    show: &str,
    file: &Path,
    known_shows: Option<&[String]>,
) -> Result<intake::Metadata, Vec<String>> {
    let mut fields = vec![
        ("show".to_string(), show.to_string()),
        ("title".to_string(), intake::title_from_file_name(file)),
    ];
    fields.extend(read_sidecar(file)?);
    let mut meta = intake::validate(&fields, known_shows).map_err(|errs| {
        errs.into_iter()
            .map(|(f, m)| format!("{f}: {m}"))
            .collect::<Vec<_>>()
    })?;
    meta.original_name = Some(file_name(file));
    Ok(meta)
}

/// The fields of `file`'s sidecar (none without one), read within [`MAX_SIDECAR_BYTES`].
fn read_sidecar(file: &Path) -> Result<Vec<(String, String)>, Vec<String>> {
    let sidecar = sidecar_of(file);
    if !sidecar.exists() {
        return Ok(Vec::new());
    }
    let side = file_name(&sidecar);
    // Bounded: a huge file dropped as NAME.toml must not be read into memory whole.
    let mut text = String::new();
    std::fs::File::open(&sidecar)
        .and_then(|f| f.take(MAX_SIDECAR_BYTES + 1).read_to_string(&mut text))
        .map_err(|e| vec![format!("{side}: cannot read: {e}")])?;
    if text.len() as u64 > MAX_SIDECAR_BYTES {
        return Err(vec![format!(
            "{side}: larger than {MAX_SIDECAR_BYTES} bytes (a sidecar holds a few fields)"
        )]);
    }
    sidecar_fields(&text, &side)
}

/// Largest sidecar `.toml` read (the description field allows 20,000 characters).
pub const MAX_SIDECAR_BYTES: u64 = 256 * 1024;

/// The fields of a sidecar `NAME.toml` (`title`, `description`, `date`, `season`, `episode`)
/// as raw text for [`intake::validate`]; every problem at once, each prefixed with `side` (the
/// sidecar's file name). Public so the fuzz targets feed it exactly what the watch folder does.
pub fn sidecar_fields(text: &str, side: &str) -> Result<Vec<(String, String)>, Vec<String>> {
    let table: toml::Table =
        toml::from_str(text).map_err(|e| vec![format!("{side}: {}", e.to_string().trim())])?;
    let mut fields = Vec::new();
    let mut errors = Vec::new();
    for (k, v) in table {
        if !["title", "description", "date", "season", "episode"].contains(&k.as_str()) {
            errors.push(format!(
                "{side}: unknown key {k:?} (known: title, description, date, season, episode)"
            ));
            continue;
        }
        let s = match v {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Datetime(d) => d.to_string(),
            other => {
                errors.push(format!(
                    "{side}: {k} must be text, got {}",
                    other.type_str()
                ));
                continue;
            }
        };
        fields.push((k, s));
    }
    if errors.is_empty() {
        Ok(fields)
    } else {
        Err(errors)
    }
}

fn is_recording_candidate(path: &Path) -> bool {
    let name = file_name(path);
    let skip_ext = [
        ".toml",
        ".part",
        ".tmp",
        ".crdownload",
        ".partial",
        ".error.txt",
    ];
    path.is_file() && !name.starts_with('.') && !skip_ext.iter().any(|e| name.ends_with(e))
}

fn sidecar_of(file: &Path) -> PathBuf {
    file.with_extension("toml")
}

fn signature(file: &Path) -> Option<Signature> {
    let m = std::fs::metadata(file).ok()?;
    let side = std::fs::metadata(sidecar_of(file))
        .ok()
        .map(|s| (s.len(), s.modified().ok()));
    Some((m.len(), m.modified().ok(), side))
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Moves `file` (and its sidecar) into `dir` without overwriting; returns the new path.
fn move_with_sidecar(file: &Path, dir: &Path) -> io::Result<PathBuf> {
    let name = file_name(file);
    let mut dest = dir.join(&name);
    let mut n = 1;
    while dest.exists() {
        dest = dir.join(format!("{n}-{name}"));
        n += 1;
    }
    std::fs::rename(file, &dest)?;
    let side = sidecar_of(file);
    if side.exists() {
        let _ = std::fs::rename(&side, sidecar_of(&dest));
    }
    Ok(dest)
}
