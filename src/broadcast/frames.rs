//! MPEG audio frame splitter: bytes in (any chunking), whole MP3 frames out.
//!
//! The live stream is cut only on frame boundaries, so every listener starts on a header and
//! the ICY interleaver and the Icecast push never see half a frame. The splitter parses the
//! 4-byte header (version, layer, bitrate, sample rate, padding → frame length), skips ID3v2 /
//! ID3v1 tags and Xing/Info/VBRI tag frames (they carry no audio and a mid-stream Xing frame
//! would announce a bogus file length), and resynchronises on garbage. Until it is locked it
//! accepts a header only when the next frame starts with a compatible header, so random bytes
//! that happen to look like a sync word are not emitted as audio.

use bytes::{Buf, Bytes, BytesMut};

pub use antenne_core::audio::mp3frame::{FrameHeader, Version};

/// One whole MPEG audio frame and its parsed header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub header: FrameHeader,
    pub bytes: Bytes,
}

/// Splits a byte stream into whole MPEG audio frames; see the module doc.
#[derive(Debug, Default)]
pub struct FrameSplitter {
    buf: BytesMut,
    /// Header of the last emitted frame: while locked, a compatible header right after the
    /// previous frame is trusted without looking ahead.
    locked: Option<FrameHeader>,
    /// Bytes of an ID3v2 tag still to discard (tags may be split across pushes).
    skip: usize,
    /// Bytes discarded as garbage or tags since creation (for diagnostics and tests).
    discarded: u64,
}

impl FrameSplitter {
    pub fn new() -> FrameSplitter {
        FrameSplitter::default()
    }

    /// Bytes dropped so far as garbage, tags or tag frames.
    pub fn discarded(&self) -> u64 {
        self.discarded
    }

    /// Feeds `data` and appends every frame completed by it to `out`.
    pub fn push(&mut self, data: &[u8], out: &mut Vec<Frame>) {
        self.buf.extend_from_slice(data);
        while let Some(frame) = self.next_frame(false) {
            out.extend(frame);
        }
    }

    /// Ends the input: emits a last complete frame that could not be confirmed by a following
    /// header, and discards any trailing partial frame.
    pub fn finish(&mut self, out: &mut Vec<Frame>) {
        while let Some(frame) = self.next_frame(true) {
            out.extend(frame);
        }
        self.discarded += self.buf.len() as u64;
        self.buf.clear();
        self.locked = None;
    }

    fn discard(&mut self, n: usize) {
        self.buf.advance(n);
        self.discarded += n as u64;
    }

    /// One step: `None` when more input is needed; `Some(None)` when bytes were skipped;
    /// `Some(Some(frame))` when a frame is complete.
    fn next_frame(&mut self, at_end: bool) -> Option<Option<Frame>> {
        if self.skip > 0 {
            let n = self.skip.min(self.buf.len());
            self.discard(n);
            self.skip -= n;
            return (n > 0).then_some(None);
        }
        if self.buf.len() < 4 {
            return None;
        }
        if self.buf.starts_with(b"ID3") {
            if self.buf.len() < 10 {
                return None;
            }
            let size = self.buf[6..10]
                .iter()
                .fold(0usize, |acc, b| (acc << 7) | usize::from(b & 0x7F));
            let footer = if self.buf[5] & 0x10 != 0 { 10 } else { 0 };
            self.skip = 10 + size + footer;
            self.locked = None;
            return Some(None);
        }
        if self.buf.starts_with(b"TAG") && self.locked.is_some() {
            // ID3v1 at the end of a looped file: fixed 128 bytes.
            self.skip = 128;
            self.locked = None;
            return Some(None);
        }
        let Some(header) = FrameHeader::parse([self.buf[0], self.buf[1], self.buf[2], self.buf[3]])
        else {
            return self.lose_sync();
        };
        if self.locked.is_some_and(|l| !l.compatible(&header)) {
            return self.lose_sync();
        }
        let len = header.frame_len();
        if self.locked.is_none() && !at_end {
            // Confirm the sync with the header of the following frame.
            if self.buf.len() < len + 4 {
                return None;
            }
            let next = [
                self.buf[len],
                self.buf[len + 1],
                self.buf[len + 2],
                self.buf[len + 3],
            ];
            let confirmed = FrameHeader::parse(next).is_some_and(|n| header.compatible(&n))
                || next.starts_with(b"ID3")
                || next.starts_with(b"TAG");
            if !confirmed {
                return self.lose_sync();
            }
        }
        if self.buf.len() < len {
            return None;
        }
        let bytes = self.buf.split_to(len).freeze();
        self.locked = Some(header);
        if is_tag_frame(&header, &bytes) {
            self.discarded += len as u64;
            return Some(None);
        }
        Some(Some(Frame { header, bytes }))
    }

    /// Drops one byte and searches for the next sync word.
    fn lose_sync(&mut self) -> Option<Option<Frame>> {
        self.locked = None;
        let skip = self.buf[1..]
            .iter()
            .position(|&b| b == 0xFF)
            .map_or(self.buf.len(), |p| p + 1);
        // Keep a trailing 0xFF: it may start a header completed by the next push.
        self.discard(skip);
        Some(None)
    }
}

/// Whether a frame is a Xing/Info (LAME) or VBRI tag frame rather than audio.
fn is_tag_frame(header: &FrameHeader, bytes: &[u8]) -> bool {
    let at = header.side_info_end();
    let tag = |off: usize| bytes.get(off..off + 4);
    matches!(tag(at), Some(b"Xing" | b"Info")) || tag(36) == Some(b"VBRI")
}
