//! Every live show kept: the bytes a source sends, exactly as received, are appended to
//! `data_dir/live/<recording>/<n>.<ext>` (one piece per connection) and fsynced every
//! [`SYNC_EVERY`], so a crash loses at most that much. When the occurrence is over, its
//! pieces become one episode of the show through [`crate::ingest::intake`], as any recording
//! does: normalised, published in the show's feed. A recording a crash interrupted is
//! finished at the next start ([`pending`]).
//!
//! `recording.toml` beside the pieces says what they are (show, occurrence, title, date, when
//! the occurrence ends); it is written once, atomically, before the first byte.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use jiff::Timestamp;

use crate::catalog::{Catalog, Episode};
use crate::clock::Clock;
use crate::ingest::intake::{self, Submission};
use crate::ingest::{IngestError, submit};

/// Folder of recordings in progress, in `data_dir`.
pub const LIVE_DIR: &str = "live";
/// How much received audio a crash may lose at most.
pub const SYNC_EVERY: Duration = Duration::from_secs(2);
const META: &str = "recording.toml";

/// What a recording is of.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RecordingMeta {
    pub show: String,
    /// The occurrence recorded; `None` for an operator's override.
    pub occurrence: Option<String>,
    /// The episode's title and date (`YYYY-MM-DD`, station time).
    pub title: String,
    pub date: String,
    pub description: String,
    /// When the occurrence ends: the recording is finished after it (and its grace).
    pub ends_at: Option<Timestamp>,
}

/// One recording's folder.
#[derive(Debug, Clone)]
pub struct Recording {
    dir: PathBuf,
}

impl Recording {
    /// The folder for `key` (an occurrence id or an override's start), created with its meta
    /// if new.
    pub fn open(data_dir: &Path, key: &str, meta: &RecordingMeta) -> io::Result<Recording> {
        let name: String = key
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let dir = data_dir.join(LIVE_DIR).join(name);
        std::fs::create_dir_all(&dir)?;
        let meta_path = dir.join(META);
        if !meta_path.exists() {
            let text = toml::to_string(meta).map_err(io::Error::other)?;
            intake::write_durably(&meta_path, text.as_bytes())?;
            intake::sync_dir(&dir)?;
            if let Some(parent) = dir.parent() {
                intake::sync_dir(parent)?;
            }
        }
        Ok(Recording { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn meta(&self) -> io::Result<RecordingMeta> {
        let text = std::fs::read_to_string(self.dir.join(META))?;
        toml::from_str(&text).map_err(io::Error::other)
    }

    /// A new piece, for one connection's bytes; `ext` from the source's content type.
    pub fn piece(&self, ext: &str) -> io::Result<Recorder> {
        let n = self.pieces()?.len() + 1;
        let path = self.dir.join(format!("{n:03}.{ext}"));
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)?;
        intake::sync_dir(&self.dir)?;
        Ok(Recorder::new(file, path))
    }

    /// The pieces, in order.
    pub fn pieces(&self) -> io::Result<Vec<PathBuf>> {
        let mut pieces: Vec<PathBuf> = std::fs::read_dir(&self.dir)?
            .flatten()
            .map(|e| e.path())
            // Pieces are `NNN.ext`; the meta, temp files and the joined file are not.
            .filter(|p| {
                p.file_name().is_some_and(|n| {
                    n.to_string_lossy()
                        .starts_with(|c: char| c.is_ascii_digit())
                })
            })
            .collect();
        pieces.sort();
        Ok(pieces)
    }
}

/// One piece being written.
pub struct Recorder {
    file: File,
    path: PathBuf,
    synced: Instant,
    bytes: u64,
}

impl Recorder {
    /// A recorder appending to `file`, opened for writing, at `path`.
    pub fn new(file: File, path: PathBuf) -> Recorder {
        Recorder {
            file,
            path,
            synced: Instant::now(),
            bytes: 0,
        }
    }

    /// Appends received bytes; syncs them to disk every [`SYNC_EVERY`].
    pub fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.file.write_all(bytes)?;
        self.bytes += bytes.len() as u64;
        if self.synced.elapsed() >= SYNC_EVERY {
            self.file.sync_data()?;
            self.synced = Instant::now();
        }
        Ok(())
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Syncs the piece; an empty one is removed.
    pub fn close(self) -> io::Result<()> {
        self.file.sync_all()?;
        if self.bytes == 0 {
            std::fs::remove_file(&self.path)?;
        }
        Ok(())
    }
}

/// Why a recording could not become an episode.
#[derive(Debug, thiserror::Error)]
pub enum FinishError {
    #[error("live recording {0}: {1}")]
    Io(PathBuf, io::Error),
    #[error("live recording {0}: {1}")]
    Ingest(PathBuf, Box<IngestError>),
    #[error("live recording {0}: {1}")]
    Audio(PathBuf, crate::audio::AudioError),
    #[error(transparent)]
    Catalog(#[from] crate::catalog::CatalogError),
}

/// Hands a finished recording to ingest: one piece as it is, several joined into one WAV
/// file at the station rate. Returns the episode (`None`: nothing was received). The folder
/// is removed once the catalog holds the episode; a duplicate (a crash after the hand-over)
/// is the episode it already is.
pub fn finish(
    catalog: &Catalog,
    recording: &Recording,
    station_rate: u32,
    clock: &dyn Clock,
) -> Result<Option<Episode>, FinishError> {
    let dir = recording.dir().to_path_buf();
    let io_err = |e| FinishError::Io(dir.clone(), e);
    let meta = recording.meta().map_err(io_err)?;
    let pieces: Vec<PathBuf> = recording
        .pieces()
        .map_err(io_err)?
        .into_iter()
        .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.len() > 0))
        .collect();
    let file = match pieces.as_slice() {
        [] => {
            std::fs::remove_dir_all(&dir).map_err(io_err)?;
            return Ok(None);
        }
        [one] => one.clone(),
        many => join(many, &dir.join(".joined.wav"), station_rate)
            .map_err(|e| FinishError::Audio(dir.clone(), e))?,
    };
    let sub = Submission {
        show: meta.show.clone(),
        title: meta.title.clone(),
        description: meta.description.clone(),
        date: Some(meta.date.clone()),
        original_name: Some(format!("direct-{}.{}", meta.date, ext_of(&file))),
    };
    let episode = match submit(catalog, &file, &sub, clock) {
        Ok(ep) => ep,
        Err(IngestError::Duplicate { existing, .. }) => match catalog.episode(&existing)? {
            Some(ep) => ep,
            None => {
                return Err(FinishError::Ingest(
                    dir.clone(),
                    Box::new(IngestError::Duplicate {
                        path: file,
                        existing,
                    }),
                ));
            }
        },
        Err(e) => return Err(FinishError::Ingest(dir.clone(), Box::new(e))),
    };
    if let Some(occurrence) = &meta.occurrence {
        catalog.set_occurrence(&episode.id, occurrence, clock.now())?;
    }
    std::fs::remove_dir_all(&dir).map_err(io_err)?;
    Ok(Some(episode))
}

fn ext_of(path: &Path) -> String {
    path.extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_else(|| "bin".into())
}

/// Decodes `pieces` one after the other into a 16-bit stereo WAV at `rate`.
fn join(pieces: &[PathBuf], out: &Path, rate: u32) -> Result<PathBuf, crate::audio::AudioError> {
    let write_err = |e: hound::Error| crate::audio::AudioError::Write {
        path: out.to_path_buf(),
        error: io::Error::other(e),
    };
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(out, spec).map_err(write_err)?;
    let mut buf = Vec::new();
    for piece in pieces {
        // A piece cut mid-frame (a crash, a dropped connection) ends where its audio ends.
        let Ok(mut source) = crate::audio::open_pcm(piece, rate) else {
            tracing::warn!(piece = %piece.display(), "live recording: an unreadable piece is left out");
            continue;
        };
        loop {
            buf.clear();
            match source.read(&mut buf, 8192) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    for s in &buf {
                        let v = (s.clamp(-1.0, 1.0) * 32767.0).round() as i16;
                        w.write_sample(v).map_err(write_err)?;
                    }
                }
            }
        }
    }
    w.finalize().map_err(write_err)?;
    Ok(out.to_path_buf())
}

/// Recordings left in `data_dir` (a crash, or a show that ended while the daemon was down).
pub fn pending(data_dir: &Path) -> Vec<Recording> {
    let mut out: Vec<Recording> = std::fs::read_dir(data_dir.join(LIVE_DIR))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().join(META).is_file())
        .map(|e| Recording { dir: e.path() })
        .collect();
    out.sort_by(|a, b| a.dir.cmp(&b.dir));
    out
}

/// A [`Recorder`] on a thread of its own, fed through a queue. The live audio is decoded from
/// the same bytes on the source's pipeline thread, which must never wait for the disk: when
/// other programs write a lot, an `fsync` can take seconds, and a pipeline waiting for it
/// let the live input's buffer run dry (issue 14's latency runs on a busy machine). The
/// queue is unbounded: a source sends 16-40 KB a second, so a disk stalled for a minute
/// queues a few MB, and no received byte is dropped.
pub struct RecorderThread {
    tx: std::sync::mpsc::Sender<bytes::Bytes>,
    thread: std::thread::JoinHandle<Option<Recorder>>,
}

impl RecorderThread {
    /// Starts recording on a new thread; `Err` gives the recorder back when no thread can be
    /// started.
    pub fn spawn(recorder: Recorder) -> Result<RecorderThread, Recorder> {
        let (tx, rx) = std::sync::mpsc::channel::<bytes::Bytes>();
        // The recorder moves into the thread only once it runs: a failed spawn keeps it.
        let slot = std::sync::Arc::new(std::sync::Mutex::new(Some(recorder)));
        let inside = slot.clone();
        let spawned = std::thread::Builder::new()
            .name("antenne-live-rec".into())
            .spawn(move || {
                let mut recorder = inside.lock().ok()?.take()?;
                while let Ok(chunk) = rx.recv() {
                    if let Err(e) = recorder.append(&chunk) {
                        // The show goes on air all the same; the operator sees the reason.
                        tracing::error!("live recording stopped: {e}");
                        return None;
                    }
                }
                Some(recorder)
            });
        match spawned {
            Ok(thread) => Ok(RecorderThread { tx, thread }),
            Err(e) => {
                tracing::warn!("live recording on the pipeline's thread: {e}");
                let recorder = slot.lock().ok().and_then(|mut r| r.take());
                Err(recorder.expect("the thread never started"))
            }
        }
    }

    /// Queues received bytes (never waits).
    pub fn append(&self, chunk: bytes::Bytes) {
        // After a write error the thread is gone and the bytes have nowhere to go.
        let _ = self.tx.send(chunk);
    }

    /// Waits until every queued byte is written; the recorder, to be closed (`None` when
    /// writing failed).
    pub fn finish(self) -> Option<Recorder> {
        drop(self.tx);
        self.thread.join().ok().flatten()
    }
}
