//! Cutting the MP3 stream into HLS segments: whole frames in, packed-audio segments out (RFC
//! 8216 §3.4: the raw MPEG frames, after an ID3v2 tag whose `PRIV` frame
//! `com.apple.streaming.transportStreamTimestamp` gives the first frame's 90 kHz timestamp).
//!
//! A segment closes when it holds `target` samples (whole frames, so about the configured
//! length) or when the next frame does not continue it in time (the engine skipped ahead,
//! the feed lagged): a segment's frames are always contiguous, so its first frame's audio time
//! and its sample count say exactly when every sample in it airs. The title on air when a
//! segment starts goes in its tag (`TIT2`): timed metadata players show.

use bytes::{Bytes, BytesMut};

use crate::audio::mp3frame::FrameHeader;

/// The owner of Apple's timestamp `PRIV` frame (RFC 8216 §3.4).
const TIMESTAMP_OWNER: &[u8] = b"com.apple.streaming.transportStreamTimestamp\0";

/// One finished segment: its audio time, length and bytes (tag included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cut {
    /// Audio time of the first sample (frame index of the station's time base).
    pub at: u64,
    /// Samples in the segment (per channel).
    pub samples: u64,
    pub rate: u32,
    /// The title on air when it starts.
    pub title: String,
    /// ID3 tag + MP3 frames: the file as served.
    pub bytes: Bytes,
}

impl Cut {
    /// Audio time just past the last sample.
    pub fn end(&self) -> u64 {
        self.at + self.samples
    }
}

/// Whole frames in, [`Cut`]s out; see the module doc.
#[derive(Debug)]
pub struct Segmenter {
    /// Samples at which a segment is full.
    target: u64,
    building: Option<Building>,
}

#[derive(Debug)]
struct Building {
    at: u64,
    samples: u64,
    rate: u32,
    title: String,
    audio: BytesMut,
}

impl Segmenter {
    /// Segments of `seconds` at `rate` (rounded up to whole 1152-sample frames by the cut).
    pub fn new(seconds: f64, rate: u32) -> Segmenter {
        Segmenter {
            target: ((seconds * f64::from(rate)) as u64).max(1),
            building: None,
        }
    }

    /// Audio time the next frame continues from, if a segment is open.
    pub fn next_at(&self) -> Option<u64> {
        self.building.as_ref().map(|b| b.at + b.samples)
    }

    /// Adds whole frames starting at audio time `at` (what a hub chunk holds), with the
    /// title on air; returns the segments they closed, in order. Frames that are not whole or
    /// not valid end the chunk (the hub publishes only whole frames).
    pub fn push(&mut self, at: u64, frames: &[u8], title: &str) -> Vec<Cut> {
        let mut cuts = Vec::new();
        let (mut pos, mut at) = (0, at);
        while pos + 4 <= frames.len() {
            let head = [
                frames[pos],
                frames[pos + 1],
                frames[pos + 2],
                frames[pos + 3],
            ];
            let Some(header) = FrameHeader::parse(head) else {
                break;
            };
            let len = header.frame_len();
            if pos + len > frames.len() {
                break;
            }
            cuts.extend(self.frame(at, &frames[pos..pos + len], &header, title));
            pos += len;
            at += u64::from(header.samples());
        }
        cuts
    }

    fn frame(&mut self, at: u64, frame: &[u8], header: &FrameHeader, title: &str) -> Option<Cut> {
        let mut cut = None;
        if let Some(b) = &self.building {
            if at < b.at + b.samples && at >= b.at {
                // Already cut (a feed subscribed again starts with frames it had).
                return None;
            }
            let full = b.samples >= self.target;
            let continues = b.at + b.samples == at && b.rate == header.sample_rate;
            if full || !continues {
                cut = self.finish();
            }
        }
        let b = self.building.get_or_insert_with(|| Building {
            at,
            samples: 0,
            rate: header.sample_rate,
            title: title.to_owned(),
            audio: BytesMut::with_capacity(frame.len() * 256),
        });
        b.audio.extend_from_slice(frame);
        b.samples += u64::from(header.samples());
        cut
    }

    /// Closes the open segment, if any (at shutdown: what was cut so far is kept).
    pub fn finish(&mut self) -> Option<Cut> {
        let b = self.building.take()?;
        let mut bytes = BytesMut::from(&id3_tag(b.at, b.rate, &b.title)[..]);
        bytes.extend_from_slice(&b.audio);
        Some(Cut {
            at: b.at,
            samples: b.samples,
            rate: b.rate,
            title: b.title,
            bytes: bytes.freeze(),
        })
    }
}

/// The 33-bit MPEG-2 90 kHz timestamp of audio time `at` (wraps every 26.5 hours, as in a
/// transport stream).
pub fn timestamp_90k(at: u64, rate: u32) -> u64 {
    let ticks = u128::from(at) * 90_000 / u128::from(rate);
    (ticks % (1u128 << 33)) as u64
}

/// An ID3v2.4 tag: `PRIV` with the 90 kHz timestamp of `at`, `TIT2` with `title` (UTF-8).
pub fn id3_tag(at: u64, rate: u32, title: &str) -> Vec<u8> {
    let mut frames = Vec::new();
    let mut private = TIMESTAMP_OWNER.to_vec();
    private.extend_from_slice(&timestamp_90k(at, rate).to_be_bytes());
    id3_frame(&mut frames, b"PRIV", &private);
    if !title.is_empty() {
        let mut text = vec![3u8]; // UTF-8
        text.extend(
            title
                .chars()
                .filter(|c| !c.is_control())
                .collect::<String>()
                .bytes(),
        );
        id3_frame(&mut frames, b"TIT2", &text);
    }
    let mut tag = b"ID3\x04\x00\x00".to_vec();
    tag.extend_from_slice(&syncsafe(frames.len()));
    tag.extend_from_slice(&frames);
    tag
}

fn id3_frame(out: &mut Vec<u8>, id: &[u8; 4], body: &[u8]) {
    out.extend_from_slice(id);
    out.extend_from_slice(&syncsafe(body.len()));
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(body);
}

/// ID3v2.4 sizes: 28 bits, 7 per byte.
fn syncsafe(n: usize) -> [u8; 4] {
    let n = n.min(0x0FFF_FFFF) as u32;
    [
        (n >> 21) as u8 & 0x7F,
        (n >> 14) as u8 & 0x7F,
        (n >> 7) as u8 & 0x7F,
        n as u8 & 0x7F,
    ]
}

/// The 90 kHz timestamp in a segment's tag, if it starts with one (tests, the restart check).
pub fn read_timestamp(segment: &[u8]) -> Option<u64> {
    let at = segment
        .windows(TIMESTAMP_OWNER.len())
        .position(|w| w == TIMESTAMP_OWNER)?
        + TIMESTAMP_OWNER.len();
    let b: [u8; 8] = segment.get(at..at + 8)?.try_into().ok()?;
    Some(u64::from_be_bytes(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A valid 128 kbps 44.1 kHz MPEG-1 Layer III frame (417 bytes, no padding).
    fn frame() -> Vec<u8> {
        let mut f = vec![0u8; 417];
        f[..4].copy_from_slice(&[0xFF, 0xFB, 0x90, 0x00]);
        f
    }

    #[test]
    fn cuts_full_segments_on_frame_boundaries_with_their_timestamp() {
        let mut s = Segmenter::new(1.0, 44_100);
        let chunk: Vec<u8> = (0..10).flat_map(|_| frame()).collect();
        let mut cuts = Vec::new();
        for i in 0..10u64 {
            cuts.extend(s.push(1_000 + i * 11_520, &chunk, "Matinale"));
        }
        // 1 s = 38.28 frames: a segment closes at 39 frames.
        assert_eq!(cuts.len(), 2);
        assert_eq!(cuts[0].samples, 39 * 1152);
        assert_eq!(cuts[1].at, 1_000 + 39 * 1152);
        let tag_len = id3_tag(cuts[0].at, 44_100, "Matinale").len();
        assert_eq!(cuts[0].bytes.len(), tag_len + 39 * 417);
        assert_eq!(
            read_timestamp(&cuts[1].bytes),
            Some(timestamp_90k(cuts[1].at, 44_100))
        );
        assert_eq!(&cuts[0].bytes[tag_len..tag_len + 2], &[0xFF, 0xFB]);
    }

    #[test]
    fn a_gap_in_time_closes_the_segment() {
        let mut s = Segmenter::new(6.0, 44_100);
        assert!(s.push(0, &frame(), "a").is_empty());
        let cuts = s.push(5_000, &frame(), "a");
        assert_eq!(cuts.len(), 1);
        assert_eq!((cuts[0].at, cuts[0].samples), (0, 1152));
        assert_eq!(s.next_at(), Some(5_000 + 1152));
    }

    #[test]
    fn timestamps_are_90khz_and_wrap_at_33_bits() {
        assert_eq!(timestamp_90k(44_100, 44_100), 90_000);
        let day = 44_100u64 * 86_400 * 2;
        assert_eq!(
            timestamp_90k(day, 44_100),
            (90_000 * 86_400 * 2) % (1 << 33)
        );
    }
}
