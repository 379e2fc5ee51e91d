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
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use super::AudioError;
use super::analyse::{Analyser, Analysis, Measured, SourceFacts};
use super::decode::Decoder;
use super::lametag::parse_info;

/// LAME's encoder delay (frames) as it writes it in the Info frame.
pub(crate) const LAME_DELAY: u64 = 576;
/// The MP3 decoder's own delay (synthesis filterbank), added by every gapless decoder.
pub(crate) const DECODER_DELAY: u64 = 529;
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
    meter: StreamMeter,
    rate: u32,
    frames: u64,
}

/// Which frames of the decoded stream a [`StreamMeter`] measures (`live`) and which it keeps
/// as PCM for the caller to measure later (`held`, once it knows which of them count).
#[derive(Debug, Clone)]
pub struct Windows {
    pub live: Range<u64>,
    pub held: Range<u64>,
}

/// Decodes MP3 bytes as they come, on its own thread, and meters a window of the result.
pub struct StreamMeter {
    tx: Option<SyncSender<Vec<u8>>>,
    handle: Option<JoinHandle<Result<Metered, AudioError>>>,
}

/// What a [`StreamMeter`] saw.
pub struct Metered {
    /// The `live` window, measured.
    pub part: Measured,
    /// The `held` window, interleaved stereo.
    pub held: Vec<f32>,
    /// Frames the decoder produced in all.
    pub decoded: u64,
    pub facts: SourceFacts,
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

impl StreamMeter {
    /// Starts a meter for an MP3 stream at `rate`; `label` names it in errors.
    pub fn spawn(label: &Path, rate: u32, windows: Windows) -> Result<StreamMeter, AudioError> {
        let (tx, rx) = sync_channel::<Vec<u8>>(QUEUE);
        let label: PathBuf = label.to_path_buf();
        let handle = std::thread::Builder::new()
            .name("mp3-check".into())
            .spawn(move || meter(rx, &label, rate, windows))
            .map_err(|e| AudioError::Stage(format!("cannot start the MP3 check thread: {e}")))?;
        Ok(StreamMeter {
            tx: Some(tx),
            handle: Some(handle),
        })
    }

    /// Hands over encoded bytes (in stream order, without any ID3v2 tag).
    pub fn push(&self, bytes: &[u8]) {
        send(self.tx.as_ref(), bytes);
    }

    /// A tap for [`super::encode::Mp3FileWriter::set_tap`] feeding this meter.
    pub fn tap(&self) -> super::encode::Tap {
        let tx = self.tx.clone();
        Box::new(move |bytes: &[u8]| send(tx.as_ref(), bytes))
    }

    /// Ends the input and waits for the meter.
    pub fn finish(mut self) -> Result<Metered, AudioError> {
        self.tx = None;
        match self.handle.take().map(|h| h.join()) {
            Some(Ok(r)) => r,
            _ => Err(AudioError::Stage("the MP3 check thread crashed".into())),
        }
    }
}

fn send(tx: Option<&SyncSender<Vec<u8>>>, bytes: &[u8]) {
    if let Some(tx) = tx.filter(|_| !bytes.is_empty()) {
        // A meter that stopped has an error to tell: `finish` reports it.
        let _ = tx.send(bytes.to_vec());
    }
}

impl Drop for StreamMeter {
    fn drop(&mut self) {
        self.tx = None;
    }
}

impl TeeMeter {
    /// Starts the meter for a file of `frames` programme frames at `rate`; `label` names it in errors.
    pub fn spawn(label: &Path, rate: u32, frames: u64) -> Result<TeeMeter, AudioError> {
        let lead = frame_samples(rate) + LAME_DELAY + DECODER_DELAY;
        let windows = Windows {
            live: lead..lead + frames,
            held: 0..0,
        };
        Ok(TeeMeter {
            meter: StreamMeter::spawn(label, rate, windows)?,
            rate,
            frames,
        })
    }

    /// A tap for [`super::encode::Mp3FileWriter::set_tap`] feeding this meter.
    pub fn tap(&self) -> super::encode::Tap {
        self.meter.tap()
    }

    /// Waits for the meter. `info` is the finished file's Info frame: when its delay, padding
    /// or frame count disagree with what the meter assumed, returns `Ok(None)` (measure the
    /// file instead).
    pub fn finish(self, info: &[u8]) -> Result<Option<Analysis>, AudioError> {
        let metered = self.meter.finish()?;
        let Some(tag) = parse_info(info) else {
            return Ok(None);
        };
        let fs = frame_samples(self.rate);
        let consistent = tag.delay == LAME_DELAY
            && tag.frames * fs == LAME_DELAY + self.frames + tag.padding
            // The placeholder frame, then every audio frame, decoded in full.
            && metered.decoded == fs + tag.frames * fs
            && metered.part.frames() == self.frames;
        if !consistent {
            return Ok(None);
        }
        Measured::combine(&[metered.part], metered.facts).map(Some)
    }
}

fn meter(
    rx: Receiver<Vec<u8>>,
    label: &Path,
    rate: u32,
    windows: Windows,
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
    let mut held = Vec::new();
    let mut decoded = 0u64;
    // The frames of `window` within `from..to`, as a range of `buf`'s samples.
    let within = |window: &Range<u64>, from: u64, to: u64| {
        let lo = window.start.clamp(from, to);
        let hi = window.end.clamp(lo, to);
        (lo - from) as usize * 2..(hi - from) as usize * 2
    };
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
        let (from, to) = (decoded, decoded + n as u64);
        decoded = to;
        held.extend_from_slice(&buf[within(&windows.held, from, to)]);
        pending.extend_from_slice(&buf[within(&windows.live, from, to)]);
        if pending.len() >= CHUNK * 2 {
            analyser.add(&pending)?;
            pending.clear();
        }
    }
    analyser.add(&pending)?;
    Ok(Metered {
        part: analyser.finish_part()?,
        held,
        decoded,
        facts: SourceFacts {
            sample_rate: dec.info().sample_rate,
            channels: dec.info().channels,
            codec: dec.info().codec.clone(),
        },
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
}
