//! The HLS media playlist (RFC 8216 §4.3): the model, its text, and the text read back.
//!
//! The daemon writes the playlist beside the segments and reads it back at start: it is the
//! only record of the window on disk, so what a restart continues from is exactly what clients
//! were served. Every segment carries its `#EXT-X-PROGRAM-DATE-TIME` (the instant of its first
//! sample, to the millisecond) and its title in `#EXTINF`; a segment that does not follow the
//! previous one in time (a restart, a dropped segment, the engine skipping ahead) carries
//! `#EXT-X-DISCONTINUITY`, and `#EXT-X-DISCONTINUITY-SEQUENCE` counts those pruned off the head.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::time::Duration;

use jiff::Timestamp;

/// The playlist's file name in the HLS folder (and its URL under `/hls/`).
pub const PLAYLIST: &str = "live.m3u8";

/// One segment as the playlist lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Media sequence number; the file is `{seq}.mp3`.
    pub seq: u64,
    /// The instant of its first sample.
    pub start: Timestamp,
    pub duration: Duration,
    /// Does not follow the previous segment in time.
    pub discontinuity: bool,
    pub title: String,
}

impl Entry {
    /// The segment's file name (and URI, relative to the playlist).
    pub fn file_name(&self) -> String {
        segment_file(self.seq)
    }

    pub fn end(&self) -> Timestamp {
        self.start + self.duration
    }
}

/// The file of segment `seq`.
pub fn segment_file(seq: u64) -> String {
    format!("{seq}.mp3")
}

/// A live media playlist: a sliding window of segments.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Playlist {
    /// `#EXT-X-TARGETDURATION`, whole seconds: no segment's duration rounds above it.
    pub target: u32,
    /// Discontinuities pruned off the head so far.
    pub discontinuity_seq: u64,
    pub entries: VecDeque<Entry>,
}

impl Playlist {
    /// The sequence number the next segment takes, if the playlist has any.
    pub fn next_seq(&self) -> Option<u64> {
        self.entries.back().map(|e| e.seq + 1)
    }

    /// Drops the segments that end more than `window` before the newest one ends; returns
    /// them (their files go later: a client may still be fetching them).
    pub fn prune(&mut self, window: Duration) -> Vec<Entry> {
        let Some(newest) = self.entries.back().map(Entry::end) else {
            return Vec::new();
        };
        let window = jiff::SignedDuration::try_from(window).unwrap_or(jiff::SignedDuration::MAX);
        let mut gone = Vec::new();
        while self.entries.len() > 1 && newest.duration_since(self.entries[0].start) > window {
            let e = self.entries.pop_front().expect("not empty");
            // A pruned segment's discontinuity tag still counts (RFC 8216 §4.3.3.3).
            self.discontinuity_seq += u64::from(e.discontinuity);
            gone.push(e);
        }
        gone
    }

    /// The playlist's text.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(64 + self.entries.len() * 96);
        let seq = self.entries.front().map_or(0, |e| e.seq);
        let _ = write!(
            out,
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:{}\n#EXT-X-MEDIA-SEQUENCE:{seq}\n#EXT-X-DISCONTINUITY-SEQUENCE:{}\n",
            self.target, self.discontinuity_seq
        );
        for e in &self.entries {
            if e.discontinuity {
                out.push_str("#EXT-X-DISCONTINUITY\n");
            }
            let title: String = e.title.chars().filter(|c| !c.is_control()).collect();
            let _ = write!(
                out,
                "#EXT-X-PROGRAM-DATE-TIME:{}\n#EXTINF:{:.3},{title}\n{}\n",
                program_date_time(e.start),
                e.duration.as_secs_f64(),
                e.file_name()
            );
        }
        out
    }

    /// Reads a playlist's text back (this module's own, or any live media playlist of packed
    /// segments with a date on each); errors name the line.
    pub fn parse(text: &str) -> Result<Playlist, String> {
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim()));
        match lines.next() {
            Some((_, "#EXTM3U")) => {}
            _ => return Err("line 1: not an M3U playlist (#EXTM3U)".into()),
        }
        let mut p = Playlist::default();
        let mut seq = None;
        let (mut start, mut duration, mut title, mut discontinuity) = (None, None, None, false);
        for (n, line) in lines {
            let bad = |what: &str| format!("line {n}: {what}: {line:?}");
            if let Some(v) = line.strip_prefix("#EXT-X-TARGETDURATION:") {
                p.target = v.parse().map_err(|_| bad("bad target duration"))?;
            } else if let Some(v) = line.strip_prefix("#EXT-X-MEDIA-SEQUENCE:") {
                seq = Some(v.parse::<u64>().map_err(|_| bad("bad media sequence"))?);
            } else if let Some(v) = line.strip_prefix("#EXT-X-DISCONTINUITY-SEQUENCE:") {
                p.discontinuity_seq = v.parse().map_err(|_| bad("bad discontinuity sequence"))?;
            } else if line == "#EXT-X-DISCONTINUITY" {
                discontinuity = true;
            } else if let Some(v) = line.strip_prefix("#EXT-X-PROGRAM-DATE-TIME:") {
                start = Some(v.parse::<Timestamp>().map_err(|_| bad("bad date"))?);
            } else if let Some(v) = line.strip_prefix("#EXTINF:") {
                let (d, t) = v.split_once(',').unwrap_or((v, ""));
                let d: f64 = d.parse().map_err(|_| bad("bad duration"))?;
                if !(d.is_finite() && d >= 0.0) {
                    return Err(bad("bad duration"));
                }
                duration = Some(Duration::from_secs_f64(d));
                title = Some(t.to_owned());
            } else if line.is_empty() || line.starts_with('#') {
                continue;
            } else {
                let s = seq.ok_or_else(|| bad("segment before #EXT-X-MEDIA-SEQUENCE"))?;
                let entry = Entry {
                    seq: s,
                    start: start.take().ok_or_else(|| bad("segment without a date"))?,
                    duration: duration
                        .take()
                        .ok_or_else(|| bad("segment without #EXTINF"))?,
                    discontinuity: std::mem::take(&mut discontinuity),
                    title: title.take().unwrap_or_default(),
                };
                if line != entry.file_name() {
                    return Err(bad("unexpected segment URI"));
                }
                p.entries.push_back(entry);
                seq = Some(s + 1);
            }
        }
        Ok(p)
    }
}

/// `2026-12-06T18:00:00.000Z`: UTC to the millisecond, as hls.js and Safari read it.
pub fn program_date_time(t: Timestamp) -> String {
    format!(
        "{}.{:03}Z",
        t.strftime("%Y-%m-%dT%H:%M:%S"),
        t.subsec_millisecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64, start: &str, secs: f64, discontinuity: bool) -> Entry {
        Entry {
            seq,
            start: start.parse().unwrap(),
            duration: Duration::from_secs_f64(secs),
            discontinuity,
            title: format!("Show {seq}"),
        }
    }

    #[test]
    fn renders_and_reads_back() {
        let mut p = Playlist {
            target: 6,
            ..Playlist::default()
        };
        p.entries
            .push_back(entry(7, "2026-12-06T18:00:00.123Z", 6.008, false));
        p.entries
            .push_back(entry(8, "2026-12-06T18:00:06.131Z", 6.008, true));
        let text = p.render();
        assert!(text.contains("#EXT-X-MEDIA-SEQUENCE:7\n"), "{text}");
        assert!(text.contains(
            "#EXT-X-PROGRAM-DATE-TIME:2026-12-06T18:00:00.123Z\n#EXTINF:6.008,Show 7\n7.mp3\n"
        ));
        assert_eq!(Playlist::parse(&text).unwrap(), p);
    }

    #[test]
    fn prune_keeps_the_window_and_counts_discontinuities() {
        let mut p = Playlist::default();
        for i in 0..10u64 {
            let start = format!("2026-12-06T18:00:{:02}Z", i * 6);
            p.entries.push_back(entry(i, &start, 6.0, i == 3));
        }
        let gone = p.prune(Duration::from_secs(30));
        assert_eq!(
            gone.iter().map(|e| e.seq).collect::<Vec<_>>(),
            [0, 1, 2, 3, 4]
        );
        assert_eq!(p.entries.front().unwrap().seq, 5);
        assert_eq!(p.discontinuity_seq, 1);
    }
}
