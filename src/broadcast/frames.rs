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

/// MPEG version of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    Mpeg1,
    Mpeg2,
    Mpeg25,
}

/// A parsed 4-byte MPEG audio frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    pub version: Version,
    /// 1, 2 or 3.
    pub layer: u8,
    pub bitrate_kbps: u32,
    pub sample_rate: u32,
    pub padding: bool,
    /// 1 (mono) or 2.
    pub channels: u8,
}

const BITRATES_V1: [[u32; 16]; 3] = [
    [
        0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448, 0,
    ],
    [
        0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 0,
    ],
    [
        0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0,
    ],
];
const BITRATES_V2: [[u32; 16]; 2] = [
    [
        0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256, 0,
    ],
    [
        0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0,
    ],
];

impl FrameHeader {
    /// Parses a header; `None` for anything that is not a valid, fixed-bitrate frame header
    /// (free-format frames have no computable length and are treated as garbage).
    pub fn parse(b: [u8; 4]) -> Option<FrameHeader> {
        if b[0] != 0xFF || b[1] & 0xE0 != 0xE0 {
            return None;
        }
        let version = match (b[1] >> 3) & 0b11 {
            0b00 => Version::Mpeg25,
            0b10 => Version::Mpeg2,
            0b11 => Version::Mpeg1,
            _ => return None,
        };
        let layer = match (b[1] >> 1) & 0b11 {
            0b01 => 3,
            0b10 => 2,
            0b11 => 1,
            _ => return None,
        };
        let bitrate_index = usize::from(b[2] >> 4);
        let rate_index = (b[2] >> 2) & 0b11;
        if rate_index == 0b11 || b[3] & 0b11 == 0b10 {
            return None; // reserved sample rate or reserved emphasis
        }
        let bitrate_kbps = match version {
            Version::Mpeg1 => BITRATES_V1[usize::from(layer - 1)][bitrate_index],
            _ => BITRATES_V2[usize::from(layer != 1)][bitrate_index],
        };
        if bitrate_kbps == 0 {
            return None;
        }
        let base_rate = [44_100, 48_000, 32_000][usize::from(rate_index)];
        let sample_rate = match version {
            Version::Mpeg1 => base_rate,
            Version::Mpeg2 => base_rate / 2,
            Version::Mpeg25 => base_rate / 4,
        };
        Some(FrameHeader {
            version,
            layer,
            bitrate_kbps,
            sample_rate,
            padding: b[2] & 0b10 != 0,
            channels: if b[3] >> 6 == 0b11 { 1 } else { 2 },
        })
    }

    /// PCM frames (samples per channel) this MP3 frame decodes to.
    pub fn samples(&self) -> u32 {
        match (self.layer, self.version) {
            (1, _) => 384,
            (3, Version::Mpeg2 | Version::Mpeg25) => 576,
            _ => 1152,
        }
    }

    /// Length of the whole frame, header included, in bytes.
    pub fn frame_len(&self) -> usize {
        let bps = self.bitrate_kbps * 1000;
        let pad = u32::from(self.padding);
        let len = match self.layer {
            1 => (12 * bps / self.sample_rate + pad) * 4,
            _ => self.samples() / 8 * bps / self.sample_rate + pad,
        };
        len as usize
    }

    /// Whether `other` can follow `self` in the same stream (bitrate and padding may change).
    fn compatible(&self, other: &FrameHeader) -> bool {
        self.version == other.version
            && self.layer == other.layer
            && self.sample_rate == other.sample_rate
    }

    /// Offset of the side information's end, where a Xing/Info tag would start.
    fn side_info_end(&self) -> usize {
        let mono = self.channels == 1;
        4 + match (self.version, mono) {
            (Version::Mpeg1, false) => 32,
            (Version::Mpeg1, true) | (_, false) => 17,
            (_, true) => 9,
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(header: [u8; 4], expected: Option<(u32, u32, usize, u32)>) {
        let got = FrameHeader::parse(header)
            .map(|h| (h.bitrate_kbps, h.sample_rate, h.frame_len(), h.samples()));
        assert_eq!(got, expected, "header {header:02X?}");
    }

    #[test]
    fn header_lengths() {
        check([0xFF, 0xFB, 0x90, 0x64], Some((128, 44_100, 417, 1152)));
        check([0xFF, 0xFB, 0x92, 0x64], Some((128, 44_100, 418, 1152)));
        check([0xFF, 0xFB, 0x94, 0x64], Some((128, 48_000, 384, 1152)));
        check([0xFF, 0xF3, 0x60, 0xC4], Some((48, 22_050, 156, 576)));
        check([0xFF, 0xF3, 0x64, 0xC4], Some((48, 24_000, 144, 576)));
        check([0xFF, 0xFD, 0x94, 0x00], Some((160, 48_000, 480, 1152))); // layer 2
        check([0xFF, 0xFF, 0x40, 0x00], Some((128, 44_100, 4 * 34, 384))); // layer 1
        check([0xFF, 0xFB, 0xF0, 0x64], None); // bad bitrate
        check([0xFF, 0xFB, 0x0C, 0x64], None); // free format, reserved rate
        check([0xFF, 0xF9, 0x90, 0x64], None); // layer 0
        check([0xFE, 0xFB, 0x90, 0x64], None);
    }
}
