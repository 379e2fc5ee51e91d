//! The LAME/Xing "Info" frame: the first frame of an episode file, carrying no audio, that tells
//! decoders the frame and byte counts, a seek table, and the encoder delay and padding that make
//! playback gapless. Read back to check a file ([`parse_info`]), and rebuilt for a stream
//! spliced from two encoders ([`rebuild_info`]), with LAME's own CRC-16 over the music and the tag.

/// Offsets inside the tag, from the "Info"/"Xing" marker (LAME 3.100's `PutLameVBR` layout).
const FRAMES: usize = 8;
const BYTES: usize = 12;
const TOC: usize = 16;
const DELAY_PADDING: usize = 141;
const MUSIC_LENGTH: usize = 148;
const MUSIC_CRC: usize = 152;
const TAG_CRC: usize = 154;

/// The gapless facts of a Xing/Info frame with a LAME extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InfoTag {
    pub frames: u64,
    pub bytes: u64,
    pub delay: u64,
    pub padding: u64,
}

/// Reads frame count, byte count, encoder delay and padding from an Info (or Xing) frame.
pub fn parse_info(frame: &[u8]) -> Option<InfoTag> {
    let at = marker(frame)?;
    let be32 = |i: usize| -> Option<u64> {
        Some(u32::from_be_bytes(frame.get(i..i + 4)?.try_into().ok()?) as u64)
    };
    let flags = be32(at + 4)?;
    // Frames, bytes and TOC must all be present (LAME writes them for CBR).
    if flags & 0x7 != 0x7 {
        return None;
    }
    let frames = be32(at + FRAMES)?;
    let bytes = be32(at + BYTES)?;
    // Xing: tag(4) flags(4) frames(4) bytes(4) TOC(100) quality(4); then the LAME extension,
    // whose delay and padding (12 bits each) sit 21 bytes in.
    let dp = frame.get(at + DELAY_PADDING..at + DELAY_PADDING + 3)?;
    let delay = ((dp[0] as u64) << 4) | (dp[1] as u64 >> 4);
    let padding = ((dp[1] as u64 & 0x0f) << 8) | dp[2] as u64;
    Some(InfoTag {
        frames,
        bytes,
        delay,
        padding,
    })
}

/// Where the "Info"/"Xing" marker sits in a tag frame.
fn marker(frame: &[u8]) -> Option<usize> {
    frame
        .windows(4)
        .take(64)
        .position(|w| w == b"Info" || w == b"Xing")
}

/// LAME's CRC-16 (CRC-16/ARC: reflected polynomial 0xA001, initial value 0), continued from `crc`.
pub fn crc16(mut crc: u16, bytes: &[u8]) -> u16 {
    const TABLE: [u16; 256] = {
        let mut t = [0u16; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u16;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    (c >> 1) ^ 0xA001
                } else {
                    c >> 1
                };
                k += 1;
            }
            t[i] = c;
            i += 1;
        }
        t
    };
    for &b in bytes {
        crc = (crc >> 8) ^ TABLE[usize::from((crc ^ u16::from(b)) as u8)];
    }
    crc
}

/// What the tag of a spliced stream must say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamFacts {
    /// Audio frames (the tag frame not counted).
    pub frames: u64,
    /// Bytes of the whole stream, tag frame included (the file minus its ID3v2 tag).
    pub bytes: u64,
    /// Samples of padding at the end.
    pub padding: u64,
    /// [`crc16`] of every audio frame's bytes, in order.
    pub music_crc: u16,
    /// The seek table: for each percent of the duration, the position as 1/256 of the bytes.
    pub toc: [u8; 100],
}

/// The seek table of a constant-bitrate stream whose audio frame `k` starts at `offset(k)`
/// bytes into the stream (tag frame included), as LAME computes it: entry `i` points at the
/// frame `i` percent into the audio.
pub fn seek_table(frames: u64, bytes: u64, offset: impl Fn(u64) -> u64) -> [u8; 100] {
    let mut toc = [0u8; 100];
    if frames == 0 || bytes == 0 {
        return toc;
    }
    for (i, entry) in toc.iter_mut().enumerate().skip(1) {
        let k = (i as u64 * frames / 100).min(frames - 1);
        *entry = (256 * offset(k) / bytes).min(255) as u8;
    }
    toc
}

/// `template` (an Info frame from one of the encoders) with the counts, seek table, padding
/// and CRCs of the spliced stream; the delay and the encoder's settings are kept. `None` if the
/// template is not a LAME Info frame.
pub fn rebuild_info(template: &[u8], facts: &StreamFacts) -> Option<Vec<u8>> {
    let at = marker(template)?;
    if template.len() < at + TAG_CRC + 2 || parse_info(template).is_none() {
        return None;
    }
    let mut f = template.to_vec();
    let put = |f: &mut Vec<u8>, off: usize, bytes: &[u8]| {
        f[at + off..at + off + bytes.len()].copy_from_slice(bytes)
    };
    put(&mut f, FRAMES, &(facts.frames as u32).to_be_bytes());
    put(&mut f, BYTES, &(facts.bytes as u32).to_be_bytes());
    put(&mut f, TOC, &facts.toc);
    let dp = at + DELAY_PADDING;
    let padding = facts.padding.min(0xFFF) as u16;
    f[dp + 1] = (f[dp + 1] & 0xF0) | (padding >> 8) as u8;
    f[dp + 2] = padding as u8;
    put(&mut f, MUSIC_LENGTH, &(facts.bytes as u32).to_be_bytes());
    put(&mut f, MUSIC_CRC, &facts.music_crc.to_be_bytes());
    let crc = crc16(0, &f[..at + TAG_CRC]);
    put(&mut f, TAG_CRC, &crc.to_be_bytes());
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_frame_is_parsed() {
        let mut frame = vec![0u8; 200];
        frame[36..40].copy_from_slice(b"Info");
        frame[43] = 0x0f; // flags: frames, bytes, TOC, quality
        frame[47] = 10; // frames
        frame[50] = 0x01; // bytes = 256
        frame[36 + 141..36 + 144].copy_from_slice(&[0x24, 0x02, 0x10]); // 576, 528
        let tag = parse_info(&frame).unwrap();
        assert_eq!(
            tag,
            InfoTag {
                frames: 10,
                bytes: 256,
                delay: 576,
                padding: 528
            }
        );
        assert_eq!(parse_info(&[0u8; 200]), None);
    }

    #[test]
    fn crc16_is_lames() {
        // CRC-16/ARC check value.
        assert_eq!(crc16(0, b"123456789"), 0xBB3D);
        assert_eq!(crc16(crc16(0, b"1234"), b"56789"), 0xBB3D);
    }

    /// The facts of a finished single-encoder file, read from its frames.
    fn facts_of(stream: &[u8]) -> (Vec<u8>, StreamFacts) {
        use crate::audio::mp3frame::FrameHeader;
        let mut offsets = Vec::new();
        let mut at = 0;
        while at + 4 <= stream.len() {
            let h = FrameHeader::parse(stream[at..at + 4].try_into().unwrap()).unwrap();
            offsets.push(at as u64);
            at += h.frame_len();
        }
        assert_eq!(at, stream.len());
        let tag = stream[..offsets[1] as usize].to_vec();
        let audio = &offsets[1..];
        let info = parse_info(&tag).unwrap();
        let facts = StreamFacts {
            frames: audio.len() as u64,
            bytes: stream.len() as u64,
            padding: info.padding,
            music_crc: crc16(0, &stream[audio[0] as usize..]),
            toc: seek_table(audio.len() as u64, stream.len() as u64, |k| {
                audio[k as usize]
            }),
        };
        (tag, facts)
    }

    #[test]
    fn rebuilt_tag_matches_lames_own() {
        use crate::audio::encode::Mp3FileWriter;
        use crate::audio::id3::EpisodeTags;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("one.mp3");
        let tags = EpisodeTags::default();
        let mut w = Mp3FileWriter::create(&path, 44_100, 128, &tags).unwrap();
        let signal: Vec<f32> = (0..44_100 * 7)
            .flat_map(|i| {
                let s = 0.3 * (i as f32 * 0.02).sin() * (i as f32 * 0.0001).cos();
                [s, -s]
            })
            .collect();
        w.encode(&signal).unwrap();
        let done = w.finish_with_info().unwrap();
        let file = std::fs::read(&path).unwrap();
        let tag_len = crate::audio::id3::encode_tag(&tags).len();
        let (tag, facts) = facts_of(&file[tag_len..]);
        assert_eq!(tag, done.info);
        assert_eq!(parse_info(&tag).unwrap().frames, facts.frames);
        let rebuilt = rebuild_info(&tag, &facts).unwrap();
        let at = marker(&tag).unwrap();
        // LAME samples its seek table from bitrate sums; ours from byte offsets: within 1/256.
        for i in 0..100 {
            let (ours, lame) = (rebuilt[at + TOC + i], tag[at + TOC + i]);
            assert!(
                ours.abs_diff(lame) <= 1,
                "TOC[{i}]: {ours} vs LAME's {lame}"
            );
        }
        let mut expected = tag.clone();
        expected[at + TOC..at + TOC + 100].copy_from_slice(&rebuilt[at + TOC..at + TOC + 100]);
        let crc = crc16(0, &expected[..at + TAG_CRC]);
        expected[at + TAG_CRC..at + TAG_CRC + 2].copy_from_slice(&crc.to_be_bytes());
        assert_eq!(rebuilt, expected, "every other byte is LAME's");
        // And with LAME's own seek table, byte for byte.
        let mut same = facts.clone();
        same.toc.copy_from_slice(&tag[at + TOC..at + TOC + 100]);
        assert_eq!(rebuild_info(&tag, &same).unwrap(), tag);
    }
}
