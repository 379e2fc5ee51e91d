//! The HLS folder on disk: segments and the playlist written atomically (a temporary file,
//! then a rename: a static server never serves half a file), the window pruned, and the state
//! a restart continues from read back from the playlist.
//!
//! Runs on the writer thread only ([`super::HlsOutput`] hands it finished segments): nothing
//! here is on the broadcast's path.

use std::collections::VecDeque;
use std::io::Write;
use std::path::{Path, PathBuf};

use bytes::Bytes;

use super::playlist::{Entry, PLAYLIST, Playlist, segment_file};
use super::segment::Cut;
use super::{HlsConfig, HlsStore};
use crate::timebase::Timebase;

/// The HLS folder and the window it holds; see the module doc.
pub struct Disk {
    config: HlsConfig,
    playlist: Playlist,
    /// Audio time just past the last segment written by this process (`None` after a start:
    /// the first new segment then follows a gap).
    last_end: Option<u64>,
    /// Segments out of the playlist whose files are still kept, with the instant the newest
    /// segment ended when they left.
    retired: VecDeque<(Entry, jiff::Timestamp)>,
    store: HlsStore,
}

impl Disk {
    /// Opens (creating) the folder and reads back the playlist a previous run left there:
    /// its segments whose files are still present stay listed, and the media sequence goes on
    /// from the last one. Files the playlist does not list are removed.
    pub fn open(config: HlsConfig, store: HlsStore) -> std::io::Result<Disk> {
        std::fs::create_dir_all(&config.dir)?;
        let path = config.dir.join(PLAYLIST);
        let mut playlist = match std::fs::read_to_string(&path) {
            Ok(text) => Playlist::parse(&text).unwrap_or_else(|e| {
                tracing::warn!("hls: ignoring {}: {e}", path.display());
                Playlist::default()
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Playlist::default(),
            Err(e) => return Err(e),
        };
        // Keep the segments after the last one whose file is missing or empty.
        let present = |e: &Entry| {
            std::fs::metadata(config.dir.join(e.file_name())).is_ok_and(|m| m.len() > 0)
        };
        if let Some(missing) = playlist.entries.iter().rposition(|e| !present(e)) {
            playlist.entries.drain(..=missing);
        }
        playlist.target = playlist.target.max(config.target_duration());
        remove_unlisted(&config.dir, &playlist);
        if !playlist.entries.is_empty() {
            tracing::info!(
                segments = playlist.entries.len(),
                next = playlist.next_seq(),
                "hls: continuing the playlist left on disk"
            );
            store.set_playlist(Bytes::from(playlist.render()));
        }
        store.set_target(playlist.target);
        Ok(Disk {
            config,
            playlist,
            last_end: None,
            retired: VecDeque::new(),
            store,
        })
    }

    /// The playlist as it stands.
    pub fn playlist(&self) -> &Playlist {
        &self.playlist
    }

    /// Writes one segment, then the playlist that lists it; prunes the window.
    pub fn append(&mut self, cut: &Cut) -> std::io::Result<()> {
        let tb = Timebase::unix(cut.rate);
        // A fresh folder starts its sequence from the audio time, so a wiped folder never
        // reuses a name a cache may still hold.
        let seq = self.playlist.next_seq().unwrap_or_else(|| {
            cut.at / ((self.config.segment.as_secs_f64() * f64::from(cut.rate)) as u64).max(1)
        });
        let name = segment_file(seq);
        write_atomically(&self.config.dir, &name, &cut.bytes)?;
        let entry = Entry {
            seq,
            start: tb.instant(cut.at),
            duration: tb.duration_of(cut.samples),
            discontinuity: !self.playlist.entries.is_empty() && self.last_end != Some(cut.at),
            title: cut.title.clone(),
        };
        let newest_end = entry.end();
        self.playlist.entries.push_back(entry);
        self.last_end = Some(cut.end());
        for gone in self.playlist.prune(self.config.window) {
            self.retired.push_back((gone, newest_end));
        }
        let text = Bytes::from(self.playlist.render());
        write_atomically(&self.config.dir, PLAYLIST, &text)?;
        self.store.publish(seq, cut.bytes.clone(), text);
        // A client that loaded the playlist just before may still fetch a pruned segment.
        let grace = jiff::SignedDuration::from_secs(i64::from(self.playlist.target) * 3 + 30);
        while let Some((e, since)) = self.retired.front() {
            if newest_end.duration_since(*since) < grace {
                break;
            }
            let path = self.config.dir.join(e.file_name());
            if let Err(err) = std::fs::remove_file(&path)
                && err.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!("hls: cannot remove {}: {err}", path.display());
            }
            self.retired.pop_front();
        }
        Ok(())
    }
}

/// `dir/name` replaced at once: written to `name.tmp`, then renamed over it.
fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let tmp: PathBuf = dir.join(format!("{name}.tmp"));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    drop(f);
    std::fs::rename(&tmp, dir.join(name))
}

/// Removes segments and temporary files the playlist does not list (what a crash or a
/// pruning cut short left).
fn remove_unlisted(dir: &Path, playlist: &Playlist) {
    let listed: std::collections::HashSet<String> =
        playlist.entries.iter().map(Entry::file_name).collect();
    let Ok(read) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in read.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let ours = name.ends_with(".tmp") || name.ends_with(".mp3");
        if ours && !listed.contains(&name) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn cut(at: u64, title: &str) -> Cut {
        Cut {
            at,
            samples: 44_100,
            rate: 44_100,
            title: title.into(),
            bytes: Bytes::from_static(b"ID3 and frames"),
        }
    }

    #[test]
    fn a_dropped_segment_leaves_a_discontinuity_and_no_gap_in_the_sequence() {
        let dir = tempfile::tempdir().unwrap();
        let config = HlsConfig {
            dir: dir.path().join("hls"),
            window: Duration::from_secs(3600),
            segment: Duration::from_secs(1),
            rate: 44_100,
        };
        let store = HlsStore::new(config.dir.clone());
        let mut disk = Disk::open(config, store.clone()).unwrap();
        let start = 1_800_000_000 * 44_100;
        disk.append(&cut(start, "a")).unwrap();
        disk.append(&cut(start + 44_100, "a")).unwrap();
        // The third second never reached the disk (the queue was full).
        disk.append(&cut(start + 3 * 44_100, "b")).unwrap();
        let p = disk.playlist();
        let seqs: Vec<u64> = p.entries.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [1_800_000_000, 1_800_000_001, 1_800_000_002]);
        let flags: Vec<bool> = p.entries.iter().map(|e| e.discontinuity).collect();
        assert_eq!(flags, [false, false, true]);
        assert_eq!(store.written_total(), 3);
        assert_eq!(
            store.cached(1_800_000_002).as_deref(),
            Some(&b"ID3 and frames"[..])
        );
        // No temporary file is left behind.
        let names: Vec<String> = std::fs::read_dir(dir.path().join("hls"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
        assert_eq!(names.len(), 4, "{names:?}");
    }
}
