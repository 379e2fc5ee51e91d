//! The background analyser of the media folder: measures every audio file once (integrated
//! loudness and true peak, cached in the catalog by content hash) and fills [`Levels`].
//!
//! It runs on one thread at the lowest CPU priority (`nice 19` on Linux) and yields after
//! every decoded chunk, so it takes one core at most and never delays playout, which has the
//! other threads. It scans at start, then on any change in the folder (a `notify` watch) and
//! every `rescan` in any case: a file whose size or mtime changed is hashed again, and
//! analysed again only if its content is new.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::audio::analyse::meter_source;
use crate::catalog::{Catalog, FileStamp, MediaLoudness};

use super::clock::Clock;
use super::level::{FileLevel, Levels};
use super::media::{Opener, list_audio};

/// Why a file could not be analysed.
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Catalog(#[from] crate::catalog::CatalogError),
    #[error(transparent)]
    Audio(#[from] crate::audio::AudioError),
}

/// What the analyser needs.
#[derive(Clone)]
pub struct LibraryConfig {
    pub media_dir: PathBuf,
    pub sample_rate: u32,
    /// How often the folder is looked at again for new or changed files.
    pub rescan: Duration,
}

/// How long after a change in the folder the analyser looks at it.
const SETTLE: Duration = Duration::from_millis(500);

/// Watches the media folder (recursively) and sets `changed` on any event; `None` (rescans
/// only) where the platform cannot watch it.
fn watch(dir: &Path, changed: Arc<AtomicBool>) -> Option<notify::RecommendedWatcher> {
    use notify::Watcher;
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if res.is_ok_and(|ev| !ev.kind.is_access()) {
            changed.store(true, Ordering::Relaxed);
        }
    })
    .map_err(|e| tracing::warn!("loudness: cannot watch the media folder ({e}); rescans only"))
    .ok()?;
    watcher
        .watch(dir, notify::RecursiveMode::Recursive)
        .map_err(|e| {
            tracing::warn!(
                "loudness: cannot watch {} ({e}); rescans only",
                dir.display()
            )
        })
        .ok()?;
    Some(watcher)
}

/// Starts the analyser thread; it stops soon after `stop` is set.
pub fn spawn(
    config: LibraryConfig,
    catalog: Catalog,
    opener: Opener,
    levels: Levels,
    clock: Arc<dyn Clock>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("loudness-scan".into())
        .spawn(move || {
            lowest_priority();
            let changed = Arc::new(AtomicBool::new(false));
            let _watcher = watch(&config.media_dir, changed.clone());
            while !stop.load(Ordering::Relaxed) {
                scan(&config, &catalog, &opener, &levels, clock.as_ref(), &stop);
                let mut slept = Duration::ZERO;
                while slept < config.rescan && !stop.load(Ordering::Relaxed) {
                    if changed.swap(false, Ordering::Relaxed) {
                        // Let a copy in progress finish before hashing it (a file caught
                        // half-written changes again, and is measured again).
                        std::thread::sleep(SETTLE);
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                    slept += Duration::from_millis(100);
                }
            }
        })
}

/// One pass over the folder: every file gets its level (from the cache, or analysed).
pub fn scan(
    config: &LibraryConfig,
    catalog: &Catalog,
    opener: &Opener,
    levels: &Levels,
    clock: &dyn Clock,
    stop: &AtomicBool,
) {
    let files = audio_files(&config.media_dir);
    for path in &files {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let analyser = Analyser {
            config,
            catalog,
            opener,
            levels,
            clock,
            stop,
        };
        match analyser.level_of(path) {
            Ok(Some(level)) => levels.set(path.clone(), level),
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "loudness: cannot analyse; it airs at the default gain")
            }
        }
    }
    levels.retain(|p| files.iter().any(|f| f == p));
}

/// What measuring one file needs.
struct Analyser<'a> {
    config: &'a LibraryConfig,
    catalog: &'a Catalog,
    opener: &'a Opener,
    levels: &'a Levels,
    clock: &'a dyn Clock,
    stop: &'a AtomicBool,
}

impl Analyser<'_> {
    /// The level of one file; `None` when stopped half-way.
    fn level_of(&self, path: &Path) -> Result<Option<FileLevel>, LibraryError> {
        let Analyser {
            config,
            catalog,
            opener,
            levels,
            clock,
            stop,
        } = *self;
        let rel = path
            .strip_prefix(&config.media_dir)
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned();
        let meta = std::fs::metadata(path)?;
        let mtime_ns = meta
            .modified()?
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i64);
        let stamp = FileStamp {
            size: meta.len(),
            mtime_ns,
        };
        let sha256 = match catalog.media_hash(&rel, stamp)? {
            Some(h) => h,
            None => {
                let h = hash_file(path)?;
                catalog.record_media_hash(&rel, stamp, &h)?;
                h
            }
        };
        let loudness = match catalog.media_loudness(&sha256)? {
            Some(l) => l,
            None => {
                let mut src = opener(path, config.sample_rate)?;
                let mut stopped = false;
                let (lufs, dbtp, frames) = meter_source(src.as_mut(), config.sample_rate, || {
                    stopped |= stop.load(Ordering::Relaxed);
                    std::thread::yield_now();
                })?;
                if stopped {
                    return Ok(None);
                }
                let l = MediaLoudness {
                    integrated_lufs: lufs,
                    true_peak_dbtp: dbtp,
                    duration_ms: frames * 1000 / config.sample_rate as u64,
                    analysed_at: clock.now().as_second(),
                };
                catalog.record_media_loudness(&sha256, &l)?;
                tracing::info!(path = %rel, lufs = ?lufs, dbtp, "loudness: analysed");
                l
            }
        };
        Ok(Some(FileLevel {
            gain_db: levels.gain_for(&loudness),
            path: rel,
            sha256,
            loudness,
        }))
    }
}

/// Audio files under `dir`, recursively (hidden folders skipped).
fn audio_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = list_audio(dir);
    if let Ok(entries) = std::fs::read_dir(dir) {
        let mut subdirs: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .map(|e| e.path())
            .collect();
        subdirs.sort();
        for d in subdirs {
            out.extend(audio_files(&d));
        }
    }
    out
}

fn hash_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Lowers this thread's priority as far as it goes (best effort; Linux only: a thread has its
/// own nice value there).
fn lowest_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority on this thread's id only changes its scheduling priority.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 19);
    }
}
