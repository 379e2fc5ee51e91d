//! Ogg Opus (RFC 7845) written page by page: the `OpusHead` and `OpusTags` headers each on a
//! page of their own, then audio packets with their granule positions. A title change starts a
//! new logical stream (a chained Ogg file, as Icecast relays Ogg metadata), so players that
//! read Vorbis comments show the new title.
//!
//! The pages accumulate in memory; [`OggOpusWriter::take`] hands out whole pages only, so a
//! stream can publish them as they are cut.

use ogg::writing::{PacketWriteEndInfo, PacketWriter};

/// Where a packet ends: in the middle of a page, the page, or the logical stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketEnd {
    Packet,
    Page,
    Stream,
}

/// Writes one or more chained Ogg Opus streams into memory.
pub struct OggOpusWriter {
    pages: PacketWriter<'static, Vec<u8>>,
    serial: u32,
    /// 48 kHz frames since the current logical stream began, pre-skip included.
    granule: u64,
    pre_skip: u16,
    channels: u8,
    input_rate: u32,
}

impl OggOpusWriter {
    /// `pre_skip`: the encoder's look-ahead (48 kHz frames); `input_rate`: the original rate,
    /// for information only; `serial`: the first logical stream's serial number.
    pub fn new(channels: u8, pre_skip: u16, input_rate: u32, serial: u32) -> OggOpusWriter {
        OggOpusWriter {
            pages: PacketWriter::new(Vec::new()),
            serial,
            granule: 0,
            pre_skip,
            channels,
            input_rate,
        }
    }

    /// The pre-skip the next logical streams declare (0 when the encoder goes on across them).
    pub fn set_pre_skip(&mut self, frames: u16) {
        self.pre_skip = frames;
    }

    /// Begins a logical stream: its two header pages, with `tags` (`TITLE`, `ARTIST`...) as
    /// Vorbis comments. A stream begun before must have been ended with [`PacketEnd::Stream`].
    pub fn begin(&mut self, vendor: &str, tags: &[(&str, &str)]) {
        self.serial = self.serial.wrapping_add(1);
        // Frames the decoder drops at the start of each logical stream.
        self.granule = u64::from(self.pre_skip);
        let mut head = Vec::with_capacity(19);
        head.extend_from_slice(b"OpusHead");
        head.push(1);
        head.push(self.channels);
        head.extend_from_slice(&self.pre_skip.to_le_bytes());
        head.extend_from_slice(&self.input_rate.to_le_bytes());
        head.extend_from_slice(&0i16.to_le_bytes());
        head.push(0);
        self.write(head, PacketWriteEndInfo::EndPage, 0);
        self.write(opus_tags(vendor, tags), PacketWriteEndInfo::EndPage, 0);
    }

    /// Adds one audio packet of `frames` 48 kHz frames.
    pub fn packet(&mut self, data: &[u8], frames: u64, end: PacketEnd) {
        self.granule += frames;
        let info = match end {
            PacketEnd::Packet => PacketWriteEndInfo::NormalPacket,
            PacketEnd::Page => PacketWriteEndInfo::EndPage,
            PacketEnd::Stream => PacketWriteEndInfo::EndStream,
        };
        self.write(data.to_vec(), info, self.granule);
    }

    fn write(&mut self, data: Vec<u8>, info: PacketWriteEndInfo, granule: u64) {
        // Writing into a Vec cannot fail.
        let _ = self.pages.write_packet(data, self.serial, info, granule);
    }

    /// The whole pages written since the last call.
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(self.pages.inner_mut())
    }
}

/// An `OpusTags` packet: the vendor string and `KEY=value` comments.
pub fn opus_tags(vendor: &str, tags: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(b"OpusTags");
    out.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
    out.extend_from_slice(vendor.as_bytes());
    out.extend_from_slice(&(tags.len() as u32).to_le_bytes());
    for (key, value) in tags {
        let comment = format!("{key}={value}");
        out.extend_from_slice(&(comment.len() as u32).to_le_bytes());
        out.extend_from_slice(comment.as_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::opus::{PACKET_FRAMES, PacketEncoder};

    #[test]
    fn a_chained_stream_decodes_with_symphonia_and_carries_its_titles() {
        let mut encoder = PacketEncoder::new(2, 64_000).unwrap();
        let mut ogg = OggOpusWriter::new(2, encoder.lookahead(), 48_000, 7);
        let silence = vec![0.0f32; PACKET_FRAMES * 2];
        for title in ["Premier", "Second"] {
            ogg.begin("antenne", &[("TITLE", title)]);
            for i in 0..50 {
                let packet = encoder.encode(&silence).unwrap().to_vec();
                let end = if i == 49 {
                    PacketEnd::Stream
                } else {
                    PacketEnd::Packet
                };
                ogg.packet(&packet, PACKET_FRAMES as u64, end);
            }
        }
        let bytes = ogg.take();
        assert_eq!(&bytes[..4], b"OggS");
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("TITLE=Premier") && text.contains("TITLE=Second"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chained.opus");
        std::fs::write(&path, &bytes).unwrap();
        let mut decoder = crate::audio::decode::Decoder::open(&path).unwrap();
        assert_eq!(decoder.info().codec, "opus");
        assert_eq!(decoder.info().sample_rate, 48_000);
        let mut frames = 0;
        let mut out = Vec::new();
        loop {
            match decoder.next_frames(&mut out) {
                Ok(0) | Err(_) => break,
                Ok(n) => frames += n,
            }
        }
        // Both links, less their pre-skips: a live source chains a link per title.
        assert!(frames >= 98 * PACKET_FRAMES, "{frames} frames decoded");
    }
}
