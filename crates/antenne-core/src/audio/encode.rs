//! MP3 encoding with LAME (mp3lame-encoder builds LAME 3.100 from source), CBR, f32 in ±1.0.
//!
//! Two uses: [`Mp3StreamEncoder`] for the live stream (no tags, frames as they come), and
//! [`Mp3FileWriter`] for episode files: ID3v2 tag, then the audio, then the LAME/Xing "Info"
//! frame written back after the flush so decoders know the encoder delay and padding
//! (gapless: the decoded file has exactly the input's frame count).

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use mp3lame_encoder::{Bitrate, Builder, Encoder, FlushGap, InterleavedPcm, Mode, Quality};

use super::AudioError;
use super::id3::{EpisodeTags, encode_tag};

/// LAME's quality setting (0 best .. 9 worst); 3 is LAME's and ffmpeg's default.
const QUALITY: Quality = Quality::VeryNice;

/// The lowpass LAME applies at a bitrate (its own table, stereo 44.1/48 kHz), for loudness prediction.
pub fn lame_lowpass_hz(bitrate_kbps: u32) -> f64 {
    match bitrate_kbps {
        0..=64 => 11_000.0,
        65..=96 => 15_100.0,
        97..=112 => 15_600.0,
        113..=128 => 17_000.0,
        129..=160 => 17_500.0,
        161..=192 => 18_600.0,
        193..=224 => 19_400.0,
        _ => 19_700.0,
    }
}

fn bitrate(kbps: u32) -> Result<Bitrate, AudioError> {
    Ok(match kbps {
        32 => Bitrate::Kbps32,
        48 => Bitrate::Kbps48,
        64 => Bitrate::Kbps64,
        96 => Bitrate::Kbps96,
        112 => Bitrate::Kbps112,
        128 => Bitrate::Kbps128,
        160 => Bitrate::Kbps160,
        192 => Bitrate::Kbps192,
        256 => Bitrate::Kbps256,
        320 => Bitrate::Kbps320,
        other => {
            return Err(AudioError::Stage(format!(
                "unsupported MP3 bitrate {other} kbps"
            )));
        }
    })
}

pub(super) fn build(rate: u32, kbps: u32, info_tag: bool) -> Result<Encoder, AudioError> {
    let err = |e: &dyn std::fmt::Display| {
        AudioError::Stage(format!("LAME setup ({rate} Hz, {kbps} kbps): {e}"))
    };
    let mut b = Builder::new().ok_or_else(|| AudioError::Stage("LAME: out of memory".into()))?;
    b.set_num_channels(2).map_err(|e| err(&e))?;
    b.set_sample_rate(rate).map_err(|e| err(&e))?;
    b.set_brate(bitrate(kbps)?).map_err(|e| err(&e))?;
    b.set_mode(Mode::JointStereo).map_err(|e| err(&e))?;
    b.set_quality(QUALITY).map_err(|e| err(&e))?;
    b.set_vbr_mode(mp3lame_encoder::VbrMode::Off)
        .map_err(|e| err(&e))?;
    b.set_to_write_vbr_tag(info_tag).map_err(|e| err(&e))?;
    b.build().map_err(|e| err(&e))
}

pub(super) fn encode_into(
    enc: &mut Encoder,
    interleaved: &[f32],
    out: &mut Vec<u8>,
) -> Result<(), AudioError> {
    // The encoder wants whole stereo frames; LAME's bound is 1.25 * samples + 7200.
    let frames = interleaved.len() / 2;
    out.reserve(frames * 5 / 4 + 7200);
    enc.encode_to_vec(InterleavedPcm(&interleaved[..frames * 2]), out)
        .map_err(|e| AudioError::Stage(format!("LAME encode: {e}")))?;
    Ok(())
}

/// CBR MP3 frames for the live stream: no tags, no Info frame.
pub struct Mp3StreamEncoder {
    enc: Encoder,
}

impl Mp3StreamEncoder {
    pub fn new(sample_rate: u32, bitrate_kbps: u32) -> Result<Mp3StreamEncoder, AudioError> {
        Ok(Mp3StreamEncoder {
            enc: build(sample_rate, bitrate_kbps, false)?,
        })
    }

    /// Encodes interleaved stereo `f32` in ±1.0, appending whatever MP3 bytes are ready.
    pub fn encode(&mut self, interleaved: &[f32], out: &mut Vec<u8>) -> Result<(), AudioError> {
        encode_into(&mut self.enc, interleaved, out)
    }

    /// Pads and emits the last frames.
    pub fn flush(&mut self, out: &mut Vec<u8>) -> Result<(), AudioError> {
        out.reserve(7200);
        self.enc
            .flush_to_vec::<FlushGap>(out)
            .map_err(|e| AudioError::Stage(format!("LAME flush: {e}")))?;
        Ok(())
    }
}

/// An episode file being written: ID3v2 + audio + Info frame patched at the end.
pub struct Mp3FileWriter {
    enc: Encoder,
    file: BufWriter<File>,
    path: PathBuf,
    tag_len: u64,
    buf: Vec<u8>,
    bytes: u64,
    tap: Option<Tap>,
}

/// Receives every encoded byte written after the ID3v2 tag, in file order.
pub type Tap = Box<dyn FnMut(&[u8]) + Send>;

/// A finished episode file.
#[derive(Debug, Clone)]
pub struct Finished {
    /// File size.
    pub bytes: u64,
    /// The LAME/Xing Info frame written back after the tag (empty if LAME gave none).
    pub info: Vec<u8>,
}

impl Mp3FileWriter {
    /// Creates `path` (truncating) and writes the tag.
    pub fn create(
        path: &Path,
        rate: u32,
        kbps: u32,
        tags: &EpisodeTags,
    ) -> Result<Mp3FileWriter, AudioError> {
        let (file, tag_len) = create_with_tag(path, tags)?;
        Ok(Mp3FileWriter {
            enc: build(rate, kbps, true)?,
            file,
            path: path.to_path_buf(),
            tag_len,
            buf: Vec::new(),
            bytes: tag_len,
            tap: None,
        })
    }

    /// Also hands every encoded byte to `tap` (e.g. a meter decoding the file as it is written).
    pub fn set_tap(&mut self, tap: Tap) {
        self.tap = Some(tap);
    }

    pub fn encode(&mut self, interleaved: &[f32]) -> Result<(), AudioError> {
        self.buf.clear();
        encode_into(&mut self.enc, interleaved, &mut self.buf)?;
        self.write_buf()
    }

    fn write_buf(&mut self) -> Result<(), AudioError> {
        self.file
            .write_all(&self.buf)
            .map_err(|source| AudioError::Write {
                path: self.path.clone(),
                error: source,
            })?;
        self.bytes += self.buf.len() as u64;
        if let Some(tap) = self.tap.as_mut() {
            tap(&self.buf);
        }
        Ok(())
    }

    /// Flushes LAME, writes the Info frame back after the tag, fsyncs; returns the file size.
    pub fn finish(self) -> Result<u64, AudioError> {
        Ok(self.finish_with_info()?.bytes)
    }

    /// [`Mp3FileWriter::finish`], also returning the Info frame.
    pub fn finish_with_info(mut self) -> Result<Finished, AudioError> {
        self.buf.clear();
        self.buf.reserve(7200);
        self.enc
            .flush_to_vec::<FlushGap>(&mut self.buf)
            .map_err(|e| AudioError::Stage(format!("LAME flush: {e}")))?;
        self.write_buf()?;
        self.tap = None;
        let info = lame_tag(&self.enc);
        close_with_info(self.file, self.tag_len, &info, &self.path)?;
        Ok(Finished {
            bytes: self.bytes,
            info,
        })
    }
}

/// Creates (truncating) an episode file and writes its ID3v2 tag; returns the buffered file
/// and the tag's length.
pub(super) fn create_with_tag(
    path: &Path,
    tags: &EpisodeTags,
) -> Result<(BufWriter<File>, u64), AudioError> {
    let werr = |error| AudioError::Write {
        path: path.to_path_buf(),
        error,
    };
    let file = File::create(path).map_err(werr)?;
    let mut file = BufWriter::with_capacity(1 << 20, file);
    let tag = encode_tag(tags);
    file.write_all(&tag).map_err(werr)?;
    Ok((file, tag.len() as u64))
}

/// LAME's Info frame for what `enc` has encoded so far (empty if it writes none).
pub(super) fn lame_tag(enc: &Encoder) -> Vec<u8> {
    // The crate writes into the vector's spare capacity.
    let mut info = Vec::with_capacity(enc.lame_tag_size().max(1024));
    enc.lame_tag_encode_to_vec(&mut info);
    info
}

/// Writes `info` back over the placeholder frame after the ID3v2 tag (`tag_len` bytes in) and
/// fsyncs the file; returns its size.
pub(super) fn close_with_info(
    file: BufWriter<File>,
    tag_len: u64,
    info: &[u8],
    path: &Path,
) -> Result<u64, AudioError> {
    let werr = |error| AudioError::Write {
        path: path.to_path_buf(),
        error,
    };
    let mut file = file.into_inner().map_err(|e| werr(e.into_error()))?;
    let size = file.stream_position().map_err(werr)?;
    if !info.is_empty() {
        file.seek(SeekFrom::Start(tag_len)).map_err(werr)?;
        file.write_all(info).map_err(werr)?;
    }
    file.sync_all().map_err(werr)?;
    Ok(size)
}
