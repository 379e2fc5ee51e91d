//! Measures the published MP3 while it is being written, on its own thread.
//!
//! The file writer hands every encoded byte after the ID3v2 tag to a [`TeeMeter`], which decodes
//! them with symphonia as they come (a pipe, not a file) and meters them like
//! [`super::render::analyze_file`] would the finished file. The stream it sees differs from the
//! finished file in one way only: the first frame is still LAME's placeholder for the Info frame
//! (a silent frame), so the decoder cannot trim the encoder delay and padding itself. The meter
//! drops that frame, LAME's delay and the decoder's delay (`lead`), and keeps exactly the frames
//! the encoder was given. [`TeeMeter::finish`] then checks the real Info frame against those
//! assumptions; if anything disagrees (another LAME, another layout), it says so and the caller
//! measures the finished file instead.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use super::AudioError;
use super::analyse::{Analyser, Analysis, SourceFacts};
use super::decode::Decoder;

/// LAME's encoder delay (frames) as it writes it in the Info frame.
const LAME_DELAY: u64 = 576;
/// The MP3 decoder's own delay (synthesis filterbank), added by every gapless decoder.
const DECODER_DELAY: u64 = 529;
/// Encoded chunks waiting for the meter (MP3 is small: ~16 KB/s at 128 kbps).
const QUEUE: usize = 256;
/// Frames metered at a time.
const CHUNK: usize = 16_384;

/// Samples per MP3 frame at `rate` (MPEG-1 above 24 kHz, MPEG-2/2.5 below).
pub fn frame_samples(rate: u32) -> u64 {
    if rate >= 32_000 { 1152 } else { 576 }
}

/// A decoder + meter thread fed with the encoded bytes of a file being written.
pub struct TeeMeter {
    tx: Option<SyncSender<Vec<u8>>>,
    handle: Option<JoinHandle<Result<Metered, AudioError>>>,
    rate: u32,
    frames: u64,
}

/// What the meter thread saw.
struct Metered {
    analysis: Analysis,
    /// Frames the decoder produced in all (lead, programme and padding).
    decoded: u64,
}

/// Bytes arriving over a channel, as a non-seekable media source.
struct Pipe {
    /// Only this thread reads; the mutex makes the source `Sync` as symphonia requires.
    rx: Mutex<Receiver<Vec<u8>>>,
    cur: Vec<u8>,
    pos: usize,
}

impl Read for Pipe {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pos == self.cur.len() {
            let next = match self.rx.get_mut() {
                Ok(rx) => rx.recv(),
                Err(_) => return Ok(0),
            };
            match next {
                Ok(next) => {
                    self.cur = next;
                    self.pos = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.cur.len() - self.pos);
        buf[..n].copy_from_slice(&self.cur[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl Seek for Pipe {
    fn seek(&mut self, _: SeekFrom) -> std::io::Result<u64> {
        Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "a pipe cannot seek",
        ))
    }
}

impl symphonia::core::io::MediaSource for Pipe {
    fn is_seekable(&self) -> bool {
        false
    }

    fn byte_len(&self) -> Option<u64> {
        None
    }
}

impl TeeMeter {
    /// Starts the meter for a file of `frames` programme frames at `rate`; `label` names it in errors.
    pub fn spawn(label: &Path, rate: u32, frames: u64) -> Result<TeeMeter, AudioError> {
        let (tx, rx) = sync_channel::<Vec<u8>>(QUEUE);
        let label: PathBuf = label.to_path_buf();
        let lead = frame_samples(rate) + LAME_DELAY + DECODER_DELAY;
        let handle = std::thread::Builder::new()
            .name("mp3-check".into())
            .spawn(move || meter(rx, &label, rate, lead, frames))
            .map_err(|e| AudioError::Stage(format!("cannot start the MP3 check thread: {e}")))?;
        Ok(TeeMeter {
            tx: Some(tx),
            handle: Some(handle),
            rate,
            frames,
        })
    }

    /// Hands over encoded bytes (in file order, without the ID3v2 tag).
    pub fn feed(&self, bytes: &[u8]) {
        if let Some(tx) = self.tx.as_ref().filter(|_| !bytes.is_empty()) {
            // A meter that stopped has an error to tell: `finish` reports it.
            let _ = tx.send(bytes.to_vec());
        }
    }

    /// A tap for [`super::encode::Mp3FileWriter::set_tap`] feeding this meter.
    pub fn tap(&self) -> super::encode::Tap {
        let tx = self.tx.clone();
        Box::new(move |bytes: &[u8]| {
            if let Some(tx) = tx.as_ref().filter(|_| !bytes.is_empty()) {
                let _ = tx.send(bytes.to_vec());
            }
        })
    }

    /// Waits for the meter. `info` is the finished file's Info frame: when its delay, padding
    /// or frame count disagree with what the meter assumed, returns `Ok(None)` (measure the
    /// file instead).
    pub fn finish(mut self, info: &[u8]) -> Result<Option<Analysis>, AudioError> {
        self.tx = None;
        let metered = match self.handle.take().map(|h| h.join()) {
            Some(Ok(r)) => r?,
            _ => return Err(AudioError::Stage("the MP3 check thread crashed".into())),
        };
        let Some(tag) = parse_info(info) else {
            return Ok(None);
        };
        let fs = frame_samples(self.rate);
        let consistent = tag.delay == LAME_DELAY
            && tag.frames * fs == LAME_DELAY + self.frames + tag.padding
            // The placeholder frame, then every audio frame, decoded in full.
            && metered.decoded == fs + tag.frames * fs
            && metered.analysis.report.duration_frames == self.frames;
        Ok(consistent.then_some(metered.analysis))
    }
}

impl Drop for TeeMeter {
    fn drop(&mut self) {
        self.tx = None;
    }
}

fn meter(
    rx: Receiver<Vec<u8>>,
    label: &Path,
    rate: u32,
    lead: u64,
    frames: u64,
) -> Result<Metered, AudioError> {
    let pipe = Pipe {
        rx: Mutex::new(rx),
        cur: Vec::new(),
        pos: 0,
    };
    let mut dec = Decoder::from_source(label, Box::new(pipe))?;
    let mut analyser = Analyser::new(rate)?;
    let mut buf = Vec::new();
    let mut pending: Vec<f32> = Vec::with_capacity(CHUNK * 2 + 4096);
    let mut decoded = 0u64;
    loop {
        buf.clear();
        let n = dec.next_frames(&mut buf)?;
        if n == 0 {
            break;
        }
        if dec.info().channels != 2 {
            return Err(AudioError::Stage(format!(
                "{}: the encoder wrote {} channels, not 2",
                label.display(),
                dec.info().channels
            )));
        }
        // Keep frames [lead, lead + frames) of the decoded stream.
        let (from, to) = (decoded, decoded + n as u64);
        decoded = to;
        let lo = lead.clamp(from, to);
        let hi = (lead + frames).clamp(lo, to);
        let (a, b) = (lo - from, hi - from);
        pending.extend_from_slice(&buf[a as usize * 2..b as usize * 2]);
        if pending.len() >= CHUNK * 2 {
            analyser.add(&pending)?;
            pending.clear();
        }
    }
    analyser.add(&pending)?;
    let analysis = analyser.finish(SourceFacts {
        sample_rate: dec.info().sample_rate,
        channels: dec.info().channels,
        codec: dec.info().codec.clone(),
    })?;
    Ok(Metered { analysis, decoded })
}

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
    let at = frame
        .windows(4)
        .take(64)
        .position(|w| w == b"Info" || w == b"Xing")?;
    let be32 = |i: usize| -> Option<u64> {
        Some(u32::from_be_bytes(frame.get(i..i + 4)?.try_into().ok()?) as u64)
    };
    let flags = be32(at + 4)?;
    // Frames, bytes and TOC must all be present (LAME writes them for CBR).
    if flags & 0x7 != 0x7 {
        return None;
    }
    let frames = be32(at + 8)?;
    let bytes = be32(at + 12)?;
    // Xing: tag(4) flags(4) frames(4) bytes(4) TOC(100) quality(4); then the LAME extension,
    // whose delay and padding (12 bits each) sit 21 bytes in.
    let dp = frame.get(at + 141..at + 144)?;
    let delay = ((dp[0] as u64) << 4) | (dp[1] as u64 >> 4);
    let padding = ((dp[1] as u64 & 0x0f) << 8) | dp[2] as u64;
    Some(InfoTag {
        frames,
        bytes,
        delay,
        padding,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::encode::Mp3FileWriter;
    use crate::audio::id3::EpisodeTags;
    use crate::audio::render::analyze_file;

    /// Encodes `frames` of a tone-and-noise signal, metered through the tee, and checks the
    /// tee's report against an independent decode of the finished file.
    fn check(rate: u32, frames: usize) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("teed.mp3");
        let mut w = Mp3FileWriter::create(&path, rate, 128, &EpisodeTags::default()).unwrap();
        let meter = TeeMeter::spawn(&path, rate, frames as u64).unwrap();
        w.set_tap(meter.tap());
        let mut seed = 7u32;
        let signal: Vec<f32> = (0..frames)
            .flat_map(|i| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let noise = (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
                let s = 0.3 * (i as f32 * 0.031).sin() + 0.1 * noise;
                [s, 0.8 * s]
            })
            .collect();
        for chunk in signal.chunks(2 * 5000) {
            w.encode(chunk).unwrap();
        }
        let done = w.finish_with_info().unwrap();
        let tag = parse_info(&done.info).expect("an Info frame");
        assert_eq!(tag.delay, LAME_DELAY);
        let teed = meter
            .finish(&done.info)
            .unwrap()
            .expect("the tee's assumptions hold");
        let file = analyze_file(&path, rate, false, 3600.0).unwrap();
        assert_eq!(teed.report, file.report, "{rate} Hz");
        assert_eq!(teed.report.duration_frames, frames as u64);
    }

    #[test]
    fn tee_measures_what_the_file_decodes_to() {
        check(44_100, 44_100 * 3 + 17);
        check(48_000, 48_000 * 2);
        check(22_050, 22_050 * 2 + 1);
    }

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
}
