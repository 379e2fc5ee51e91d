//! Decoding with symphonia: any supported container/codec to interleaved `f32` frames.
//!
//! Two layers: [`Decoder`] yields the file's own channels at its own rate, packet by packet;
//! [`open_station`] chains it with [`super::downmix`] and [`super::resample`] into a
//! [`PcmSource`] of stereo frames at the station rate. Nothing holds more than a packet or a
//! resampler chunk in memory.

use std::fs::File;
use std::path::{Path, PathBuf};

use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, SeekMode, SeekTo, TrackType};
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::units::Time;

use super::downmix::Downmix;
use super::resample::Resampler;
use super::{AudioError, PcmSource};

/// What the container and codec say about the audio, before any conversion.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeInfo {
    /// Short codec name as symphonia knows it (`mp3`, `aac`, `flac`, `pcm_s24le`, ...).
    pub codec: String,
    pub sample_rate: u32,
    pub channels: usize,
    /// Length in frames at `sample_rate`, when the container tells it.
    pub len_frames: Option<u64>,
}

/// Packets of one audio track decoded to interleaved `f32` in the file's own layout.
pub struct Decoder {
    path: PathBuf,
    format: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    info: ProbeInfo,
    /// Frames still to drop from the next decoded packets after a seek.
    skip: u64,
    /// Set after a seek: the next packet's timestamp tells how many frames to skip.
    seek_target: Option<u64>,
    scratch: Vec<f32>,
    /// Consecutive undecodable packets; too many means the file is garbage, not a glitch.
    bad_run: u32,
}

const MAX_BAD_PACKETS: u32 = 200;

fn decode_err(path: &Path, reason: impl Into<String>) -> AudioError {
    AudioError::Decode {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

impl Decoder {
    /// Probes `path` and prepares a decoder for its default audio track.
    pub fn open(path: &Path) -> Result<Decoder, AudioError> {
        let file = File::open(path).map_err(|source| AudioError::Io {
            path: path.to_path_buf(),
            error: source,
        })?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        if len == 0 {
            return Err(decode_err(path, "empty file (0 bytes)"));
        }
        Decoder::from_source(path, Box::new(file))
    }

    /// Prepares a decoder over any byte source (`name` is used for the hint and in errors).
    pub fn from_source(path: &Path, source: Box<dyn MediaSource>) -> Result<Decoder, AudioError> {
        let mss = MediaSourceStream::new(source, Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
            hint.with_extension(ext);
        }
        let format = symphonia::default::get_probe()
            .probe(
                &hint,
                mss,
                FormatOptions::default(),
                MetadataOptions::default(),
            )
            .map_err(|e| decode_err(path, format!("not a recognised audio file ({e})")))?;
        let (track_id, decoder, info) = audio_track(path, format.as_ref())?;
        Ok(Decoder {
            path: path.to_path_buf(),
            format,
            decoder,
            track_id,
            info,
            skip: 0,
            seek_target: None,
            scratch: Vec::new(),
            bad_run: 0,
        })
    }

    pub fn info(&self) -> &ProbeInfo {
        &self.info
    }

    /// After the container said its tracks changed (a chained Ogg stream's next link: ices2
    /// and Liquidsoap start one per title), decodes the new default audio track, whose codec,
    /// rate and channels may differ.
    fn follow_track(&mut self) -> Result<(), AudioError> {
        let (track_id, decoder, info) = audio_track(&self.path, self.format.as_ref())?;
        if track_id == self.track_id {
            self.decoder.reset();
        } else {
            self.track_id = track_id;
            self.decoder = decoder;
            self.info = info;
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Channel layout for the downmix, learned from the first decoded packet when the
    /// container did not say.
    pub fn channel_layout(&self) -> Option<symphonia::core::audio::Channels> {
        self.decoder.codec_params().channels.clone()
    }

    /// Appends the next packet's frames (interleaved, `info().channels` wide) to `out`.
    /// Returns the number of frames appended; `Ok(0)` only at the end of the stream.
    pub fn next_frames(&mut self, out: &mut Vec<f32>) -> Result<usize, AudioError> {
        loop {
            let packet = match self.format.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) => return Ok(0),
                Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    return Ok(0);
                }
                Err(SymError::ResetRequired) => {
                    self.follow_track()?;
                    continue;
                }
                Err(e) => return Err(decode_err(&self.path, format!("demuxing failed: {e}"))),
            };
            if packet.track_id != self.track_id {
                continue;
            }
            let first_ts = packet
                .pts
                .get()
                .saturating_add(packet.trim_start.get() as i64)
                .max(0) as u64;
            let buf = match self.decoder.decode(&packet) {
                Ok(buf) => buf,
                Err(SymError::DecodeError(e)) => {
                    self.bad_run += 1;
                    tracing::warn!(file = %self.path.display(), "skipping undecodable packet: {e}");
                    if self.bad_run > MAX_BAD_PACKETS {
                        return Err(decode_err(
                            &self.path,
                            format!("too many undecodable packets ({e})"),
                        ));
                    }
                    continue;
                }
                Err(SymError::IoError(_)) => continue,
                Err(SymError::ResetRequired) => {
                    self.decoder.reset();
                    continue;
                }
                Err(e) => return Err(decode_err(&self.path, format!("decoding failed: {e}"))),
            };
            self.bad_run = 0;
            let channels = buf.spec().channels().count();
            if channels == 0 {
                continue;
            }
            if self.info.channels != channels {
                // The container did not say, or lied: trust the decoded buffer.
                self.info.channels = channels;
            }
            buf.copy_to_vec_interleaved(&mut self.scratch);
            let mut frames = self.scratch.len() / channels;
            let mut start = 0;
            if let Some(target) = self.seek_target.take() {
                self.skip = target.saturating_sub(first_ts);
            }
            if self.skip > 0 {
                let drop = (self.skip as usize).min(frames);
                self.skip -= drop as u64;
                start = drop;
                frames -= drop;
            }
            if frames == 0 {
                continue;
            }
            out.extend_from_slice(&self.scratch[start * channels..]);
            return Ok(frames);
        }
    }

    /// Moves to `frame` at the file's own rate; the next frames returned start exactly there.
    pub fn seek(&mut self, frame: u64) -> Result<(), AudioError> {
        let rate = self.info.sample_rate as u64;
        let time = Time::from_nanos_u64(
            frame / rate * 1_000_000_000 + (frame % rate) * 1_000_000_000 / rate,
        );
        let res = self.format.seek(
            SeekMode::Accurate,
            SeekTo::Time {
                time,
                track_id: Some(self.track_id),
            },
        );
        match res {
            Ok(_) => {
                self.decoder.reset();
                self.seek_target = Some(frame);
                self.skip = 0;
                Ok(())
            }
            Err(e) => Err(decode_err(
                &self.path,
                format!("cannot seek to frame {frame}: {e}"),
            )),
        }
    }
}

/// The default audio track of `format`: its id, a decoder for it and what it says.
fn audio_track(
    path: &Path,
    format: &dyn FormatReader,
) -> Result<(u32, Box<dyn AudioDecoder>, ProbeInfo), AudioError> {
    let track = format
        .default_track(TrackType::Audio)
        .ok_or_else(|| decode_err(path, "no audio track"))?;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| decode_err(path, "audio track without codec parameters"))?;
    let decoder = super::opus::codecs()
        .make_audio_decoder(params, &AudioDecoderOptions::default())
        .map_err(|e| decode_err(path, format!("unsupported codec ({e})")))?;
    let sample_rate = params
        .sample_rate
        .filter(|r| (1_000..=768_000).contains(r))
        .ok_or_else(|| decode_err(path, "missing or absurd sample rate"))?;
    let info = ProbeInfo {
        codec: decoder.codec_info().short_name.to_string(),
        sample_rate,
        channels: params.channels.as_ref().map(|c| c.count()).unwrap_or(0),
        len_frames: track.num_frames,
    };
    Ok((track.id, decoder, info))
}

/// Stereo frames at the station rate, decoded, downmixed and resampled on demand.
pub struct StationSource {
    decoder: Decoder,
    downmix: Option<Downmix>,
    resampler: Option<Resampler>,
    station_rate: u32,
    native: Vec<f32>,
    stereo: Vec<f32>,
    /// Converted frames not yet handed out.
    ready: Vec<f32>,
    ready_pos: usize,
    ended: bool,
}

/// Opens `path` as stereo `f32` frames at `station_rate`.
pub fn open_station(path: &Path, station_rate: u32) -> Result<StationSource, AudioError> {
    station(Decoder::open(path)?, station_rate)
}

/// Any media source (e.g. a live stream) as the station's [`PcmSource`]; see
/// [`Decoder::from_source`].
pub fn open_source(
    source: Box<dyn symphonia::core::io::MediaSource>,
    label: &Path,
    station_rate: u32,
) -> Result<Box<dyn PcmSource>, AudioError> {
    Ok(Box::new(station(
        Decoder::from_source(label, source)?,
        station_rate,
    )?))
}

/// [`open_station`] over any byte source (see [`Decoder::from_source`]).
pub fn open_station_source(
    source: Box<dyn symphonia::core::io::MediaSource>,
    label: &Path,
    station_rate: u32,
) -> Result<StationSource, AudioError> {
    station(Decoder::from_source(label, source)?, station_rate)
}

fn station(decoder: Decoder, station_rate: u32) -> Result<StationSource, AudioError> {
    let path = decoder.path().to_path_buf();
    let path = path.as_path();
    let resampler = if decoder.info().sample_rate != station_rate {
        Some(
            Resampler::new(decoder.info().sample_rate, station_rate)
                .map_err(|e| decode_err(path, e))?,
        )
    } else {
        None
    };
    Ok(StationSource {
        decoder,
        downmix: None,
        resampler,
        station_rate,
        native: Vec::new(),
        stereo: Vec::new(),
        ready: Vec::new(),
        ready_pos: 0,
        ended: false,
    })
}

/// Opens `path` as the [`PcmSource`] every consumer uses (playout, ingest).
pub fn open_pcm(path: &Path, station_rate: u32) -> Result<Box<dyn PcmSource>, AudioError> {
    Ok(Box::new(open_station(path, station_rate)?))
}

impl StationSource {
    pub fn info(&self) -> &ProbeInfo {
        self.decoder.info()
    }

    pub fn station_rate(&self) -> u32 {
        self.station_rate
    }

    /// Station frames between seek positions after which this source's output, once past the
    /// resampler's first chunk, is sample for sample what reading from the start gives: 1
    /// without resampling; else the resampler's chunk grid (see `Resampler::input_grain`).
    pub fn seek_grain(&self) -> u64 {
        match &self.resampler {
            None => 1,
            Some(r) => {
                let (rate_in, rate_out) = r.rates();
                r.input_grain() * rate_out / rate_in
            }
        }
    }

    /// Converts one more packet into `ready`; false at the end.
    fn fill(&mut self) -> Result<bool, AudioError> {
        if self.ended {
            return Ok(false);
        }
        self.native.clear();
        let n = self.decoder.next_frames(&mut self.native)?;
        if n == 0 {
            self.ended = true;
            if let Some(r) = self.resampler.as_mut() {
                let before = self.ready.len();
                r.finish(&mut self.ready);
                return Ok(self.ready.len() > before);
            }
            return Ok(false);
        }
        let channels = self.decoder.info().channels;
        let layout = self.decoder.channel_layout();
        let downmix = self
            .downmix
            .get_or_insert_with(|| Downmix::new(channels, layout.as_ref()));
        if downmix.input_channels() != channels {
            *downmix = Downmix::new(channels, layout.as_ref());
        }
        self.stereo.clear();
        downmix.process(&self.native, &mut self.stereo);
        match self.resampler.as_mut() {
            Some(r) => r.process(&self.stereo, &mut self.ready),
            None => self.ready.extend_from_slice(&self.stereo),
        }
        Ok(true)
    }
}

impl PcmSource for StationSource {
    fn read(&mut self, out: &mut Vec<f32>, max_frames: usize) -> Result<usize, AudioError> {
        while self.ready.len() - self.ready_pos < 2 {
            if self.ready_pos > 0 {
                self.ready.drain(..self.ready_pos);
                self.ready_pos = 0;
            }
            if !self.fill()? {
                break;
            }
        }
        let avail = (self.ready.len() - self.ready_pos) / 2;
        let n = avail.min(max_frames);
        out.extend_from_slice(&self.ready[self.ready_pos..self.ready_pos + 2 * n]);
        self.ready_pos += 2 * n;
        if self.ready_pos == self.ready.len() {
            self.ready.clear();
            self.ready_pos = 0;
        }
        Ok(n)
    }

    fn seek(&mut self, frame: u64) -> Result<(), AudioError> {
        let src_rate = self.decoder.info().sample_rate as u64;
        let station = self.station_rate as u64;
        let src_frame = frame * src_rate / station;
        self.decoder.seek(src_frame)?;
        self.ready.clear();
        self.ready_pos = 0;
        self.ended = false;
        if let Some(r) = self.resampler.as_mut() {
            r.reset();
            // The resampler's output restarts at `src_frame`; drop the rounding remainder.
            let exact = src_frame * station / src_rate;
            r.skip_output(frame.saturating_sub(exact));
        }
        Ok(())
    }

    fn len_frames(&self) -> Option<u64> {
        let info = self.decoder.info();
        info.len_frames
            .map(|n| n * self.station_rate as u64 / info.sample_rate as u64)
    }
}
