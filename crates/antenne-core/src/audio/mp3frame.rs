//! MPEG audio frames: the 4-byte header (shared with the live stream's frame splitter) and, for
//! MPEG-1 Layer III, the side information the two-encoder render joins streams by
//! (`main_data_begin`, how much main data each frame uses, its block types).
//!
//! Layer III frames do not carry their own audio data: a frame's main data may begin up to 511
//! bytes back, in the unused tail of earlier frames (the bit reservoir). [`SideInfo`] says where
//! a frame's data starts and how long it is, which is what [`super::halves`] needs to know to
//! splice two LAME streams without breaking that chain.

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
    /// A 16-bit CRC follows the header.
    pub protected: bool,
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
            protected: b[1] & 1 == 0,
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
    pub fn compatible(&self, other: &FrameHeader) -> bool {
        self.version == other.version
            && self.layer == other.layer
            && self.sample_rate == other.sample_rate
    }

    /// Offset of the side information's end, where a Xing/Info tag would start (LAME puts the
    /// tag there even when a CRC is present, so the CRC is not counted).
    pub fn side_info_end(&self) -> usize {
        let mono = self.channels == 1;
        4 + match (self.version, mono) {
            (Version::Mpeg1, false) => 32,
            (Version::Mpeg1, true) | (_, false) => 17,
            (_, true) => 9,
        }
    }
}

/// Bytes of the side information of a Layer III frame.
fn side_info_len(header: &FrameHeader) -> usize {
    header.side_info_end() - 4
}

/// What a MPEG-1 Layer III frame's side information says about its main data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SideInfo {
    /// How many bytes before this frame's main-data area its data begins (0..=511).
    pub main_data_begin: usize,
    /// Bytes of main data the frame uses (the sum of its `part2_3_length` bits, rounded up).
    pub data_bytes: usize,
    /// Block type (0 long, 1 start, 2 short, 3 stop) per granule and channel.
    pub block_types: [[u8; 2]; 2],
}

/// Reads bits most significant first.
struct Bits<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Bits<'_> {
    fn read(&mut self, n: usize) -> Option<usize> {
        let mut v = 0;
        for _ in 0..n {
            let byte = *self.bytes.get(self.pos / 8)?;
            v = (v << 1) | usize::from((byte >> (7 - self.pos % 8)) & 1);
            self.pos += 1;
        }
        Some(v)
    }
}

/// A whole MPEG-1 Layer III frame, as the two-encoder render handles it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameLayout {
    pub header: FrameHeader,
    pub side: SideInfo,
    /// Offset of the main-data area (after header, CRC and side information).
    pub area_start: usize,
}

impl FrameLayout {
    /// Parses a whole frame's header and side information; `None` if it is not MPEG-1 Layer III.
    pub fn parse(frame: &[u8]) -> Option<FrameLayout> {
        let header = FrameHeader::parse(frame.get(..4)?.try_into().ok()?)?;
        if header.version != Version::Mpeg1 || header.layer != 3 || frame.len() < header.frame_len()
        {
            return None;
        }
        let crc = if header.protected { 2 } else { 0 };
        let at = 4 + crc;
        let side_len = side_info_len(&header);
        let mut bits = Bits {
            bytes: frame.get(at..at + side_len)?,
            pos: 0,
        };
        let nch = usize::from(header.channels);
        let main_data_begin = bits.read(9)?;
        bits.read(if nch == 1 { 5 } else { 3 })?; // private bits
        bits.read(4 * nch)?; // scfsi
        let mut total_bits = 0;
        let mut block_types = [[0u8; 2]; 2];
        for granule in &mut block_types {
            for block_type in granule.iter_mut().take(nch) {
                total_bits += bits.read(12)?; // part2_3_length
                bits.read(9 + 8 + 4)?; // big_values, global_gain, scalefac_compress
                if bits.read(1)? == 1 {
                    // window switching: block type, mixed flag, 2 table selects, 3 subblock gains
                    *block_type = bits.read(2)? as u8;
                    bits.read(1 + 10 + 9)?;
                } else {
                    bits.read(15 + 4 + 3)?; // 3 table selects, region0/1 counts
                }
                bits.read(3)?; // preflag, scalefac_scale, count1table_select
            }
        }
        Some(FrameLayout {
            header,
            side: SideInfo {
                main_data_begin,
                data_bytes: total_bits.div_ceil(8),
                block_types,
            },
            area_start: at + side_len,
        })
    }

    /// Bytes of the main-data area.
    pub fn area_len(&self) -> usize {
        self.header.frame_len() - self.area_start
    }
}

/// Cuts a stream of whole frames (an encoder's output, in any chunking) into frames.
/// The input is trusted to be frames back to back, as LAME writes them.
#[derive(Debug, Default)]
pub struct FrameCutter {
    pending: Vec<u8>,
}

impl FrameCutter {
    /// Appends `bytes`; calls `each` with every frame they complete. A header that does not
    /// parse is an error (the encoder's output is never garbage).
    pub fn push(
        &mut self,
        bytes: &[u8],
        mut each: impl FnMut(&[u8]) -> Result<(), String>,
    ) -> Result<(), String> {
        self.pending.extend_from_slice(bytes);
        let mut at = 0;
        while self.pending.len() >= at + 4 {
            let head: [u8; 4] = self.pending[at..at + 4].try_into().expect("4 bytes");
            let header = FrameHeader::parse(head)
                .ok_or_else(|| format!("not an MPEG frame header: {head:02X?}"))?;
            let len = header.frame_len();
            if self.pending.len() < at + len {
                break;
            }
            each(&self.pending[at..at + len])?;
            at += len;
        }
        self.pending.drain(..at);
        Ok(())
    }

    /// Bytes of an unfinished frame.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }
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
