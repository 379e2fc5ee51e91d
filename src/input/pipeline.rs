//! One live source's audio, on a thread of its own (decoding is blocking work, kept off the
//! async runtime): the bytes as they arrive → the recording (queued to a thread of its own:
//! [`RecorderThread`]) → (MP3: the frame check,
//! [`super::mp3sync`]) → the decoder (any format
//! symphonia reads from a stream: MP3, Ogg Vorbis, Ogg FLAC, AAC in ADTS) → downmix to stereo
//! → the drift resampler to the station rate → the leveler → the live input's buffer. The
//! stages after the decoder are [`Stages`], one packet at a time, so that tests drive exactly
//! this code with generated audio on a simulated clock.
//!
//! Nothing here waits for the programme: the buffer never blocks a write. The cushion
//! ([`drift::Cushion`]) learns from every packet's arrival how much buffer the source's
//! jitter needs (from the pre-roll on); the drift control reads the buffer's level after every
//! packet while the show is on air and steers it to that cushion; in the pre-roll the buffer
//! only keeps its cushion.

use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use jiff::Timestamp;
use tokio::sync::mpsc::Receiver;

use super::mp3sync::Mp3SyncReader;
use super::record::{Recorder, RecorderThread};
use super::status::SourceStats;
use symphonia::core::audio::Channels;
use symphonia::core::io::ReadOnlySource;

use crate::audio::decode::Decoder;
use crate::audio::downmix::Downmix;
use crate::audio::drift::{self, Cushion, DriftControl};
use crate::audio::leveler::Leveler;
use crate::audio::resample::Resampler;
use crate::clock::Clock;
use crate::playout::LiveWriter;

/// What the pipeline needs to know about the station and the slot.
#[derive(Clone)]
pub struct PipelineConfig {
    pub station_rate: u32,
    pub target_lufs: f64,
    pub ceiling_dbtp: f64,
    /// The smallest buffer level the drift control holds (a steady source's), frames.
    pub cushion_frames: u64,
    /// The largest (a source whose packets arrive in bursts or late gets more, up to this).
    pub max_cushion_frames: u64,
    /// When the source goes on air (the slot's start); before it, the pre-roll.
    pub on_air_at: Timestamp,
    pub clock: Arc<dyn Clock>,
    /// A file name whose extension hints the format (`live.mp3`, `live.ogg`...), for errors too.
    pub name: PathBuf,
}

/// How a source's audio ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// The connection closed (the bytes ran out).
    Closed,
    /// The bytes are not audio the decoder reads, or stopped being.
    Undecodable(String),
}

/// Where the received bytes are recorded: on a thread of its own (the disk never holds up the
/// audio), or here when no thread could be started.
enum Recording {
    Thread(RecorderThread),
    Inline(Recorder),
}

/// The bytes a connection delivers, read by the decoder as a stream; each chunk is recorded
/// before the decoder sees it.
struct Incoming {
    rx: Receiver<Bytes>,
    chunk: Bytes,
    recording: Option<Recording>,
    stats: Arc<SourceStats>,
}

impl Read for Incoming {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.chunk.is_empty() {
            match self.rx.blocking_recv() {
                Some(chunk) => {
                    self.stats
                        .bytes
                        .fetch_add(chunk.len() as u64, Ordering::Relaxed);
                    match &mut self.recording {
                        Some(Recording::Thread(r)) => r.append(chunk.clone()),
                        Some(Recording::Inline(r)) => {
                            if let Err(e) = r.append(&chunk) {
                                // The show goes on air all the same; the operator sees why.
                                tracing::error!("live recording stopped: {e}");
                                self.recording = None;
                            }
                        }
                        None => {}
                    }
                    self.chunk = chunk;
                }
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk[..n]);
        let _ = self.chunk.split_to(n);
        Ok(n)
    }
}

/// Runs until the connection's bytes end (their sender is dropped) or stop being audio.
/// Returns how it ended and the recorder (to be closed by the caller).
pub fn run(
    config: &PipelineConfig,
    rx: Receiver<Bytes>,
    recorder: Option<Recorder>,
    writer: &LiveWriter,
    stats: &Arc<SourceStats>,
) -> (Ended, Option<Recorder>) {
    let recording = recorder.map(|r| match RecorderThread::spawn(r) {
        Ok(thread) => Recording::Thread(thread),
        Err(r) => Recording::Inline(r),
    });
    let incoming = Arc::new(Mutex::new(Incoming {
        rx,
        chunk: Bytes::new(),
        recording,
        stats: stats.clone(),
    }));
    // The decoder wants an owned source: it reads through a handle on the shared state; an
    // MP3 source's frames are checked on the way (junk mid-stream airs no noise).
    let shared = Shared(incoming.clone());
    let source: Box<dyn symphonia::core::io::MediaSource> =
        if config.name.extension().is_some_and(|e| e == "mp3") {
            Box::new(ReadOnlySource::new(Mp3SyncReader::new(shared)))
        } else {
            Box::new(ReadOnlySource::new(shared))
        };
    let ended = match Decoder::from_source(&config.name, source) {
        Ok(decoder) => decode(config, decoder, writer, stats),
        Err(e) => Ended::Undecodable(e.to_string()),
    };
    let mut incoming = incoming.lock().unwrap_or_else(|e| e.into_inner());
    // Whatever the decoder did not read is still the source's audio: record it.
    let mut rest = [0u8; 64 * 1024];
    if matches!(ended, Ended::Closed) {
        while matches!(incoming.read(&mut rest), Ok(n) if n > 0) {}
    }
    let recorder = match incoming.recording.take() {
        Some(Recording::Thread(r)) => r.finish(),
        Some(Recording::Inline(r)) => Some(r),
        None => None,
    };
    (ended, recorder)
}

/// The decoder's handle on the shared [`Incoming`].
struct Shared(Arc<Mutex<Incoming>>);

impl Read for Shared {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).read(buf)
    }
}

fn decode(
    config: &PipelineConfig,
    mut decoder: Decoder,
    writer: &LiveWriter,
    stats: &Arc<SourceStats>,
) -> Ended {
    let info = decoder.info().clone();
    stats.set_format(&info.codec, info.sample_rate, info.channels);
    let layout = decoder.channel_layout();
    let mut stages = match Stages::new(config, info.sample_rate, info.channels, layout.as_ref()) {
        Ok(s) => s,
        Err(e) => return Ended::Undecodable(e),
    };
    let mut raw = Vec::new();
    loop {
        raw.clear();
        let frames = match decoder.next_frames(&mut raw) {
            Ok(0) => return Ended::Closed,
            Ok(n) => n,
            Err(e) => return Ended::Undecodable(e.to_string()),
        };
        let info = decoder.info();
        let packet = Packet {
            pcm: &raw,
            rate: info.sample_rate,
            channels: info.channels,
            layout: decoder.channel_layout(),
        };
        if packet.rate != stages.rate() {
            // A source changing its rate mid-stream (a new song, a restarted encoder).
            stats.set_format(&info.codec, packet.rate, packet.channels);
        }
        if let Err(e) = stages.push(&packet, writer) {
            return Ended::Undecodable(e);
        }
        stats.frames_in.fetch_add(frames as u64, Ordering::Relaxed);
        stats.record_levels(
            stages.control.correction(),
            stages.leveler.gain_db(),
            stages.leveler.shortterm_lufs(),
            writer.input().buffered_frames() as u64,
        );
    }
}

/// One decoded packet: interleaved samples of `channels` channels at `rate`.
pub struct Packet<'a> {
    pub pcm: &'a [f32],
    pub rate: u32,
    pub channels: usize,
    /// The channels' positions when the format names them.
    pub layout: Option<Channels>,
}

/// The stages after the decoder, a packet at a time: downmix → drift resampler steered by
/// [`DriftControl`] → leveler → the live input. The decode loop drives them with what the
/// decoder gives; a test can drive them with generated PCM at any pace (two clocks simulated
/// over an hour in seconds), through exactly the code that runs on air.
pub struct Stages {
    config: PipelineConfig,
    downmix: Downmix,
    rate: u32,
    resampler: Resampler,
    leveler: Leveler,
    control: DriftControl,
    cushion: Cushion,
    /// The cushion last given to the control and the input (none yet: `u64::MAX`).
    cushion_set: u64,
    /// The loop steers from the moment the cushion is first there or the renderer reads.
    controlling: bool,
    stereo: Vec<f32>,
    resampled: Vec<f32>,
    levelled: Vec<f32>,
}

impl Stages {
    /// Stages for a source of `channels` channels at `rate` (the first packet's).
    pub fn new(
        config: &PipelineConfig,
        rate: u32,
        channels: usize,
        layout: Option<&Channels>,
    ) -> Result<Stages, String> {
        let resampler = drift::resampler(rate, config.station_rate)
            .map_err(|_| format!("cannot resample {rate} Hz"))?;
        let leveler = Leveler::new(config.station_rate, config.target_lufs, config.ceiling_dbtp)
            .map_err(|_| "cannot meter the source".to_string())?;
        Ok(Stages {
            config: config.clone(),
            downmix: Downmix::new(channels, layout),
            rate,
            resampler,
            leveler,
            control: DriftControl::new(config.station_rate, config.cushion_frames),
            cushion: Cushion::new(
                config.station_rate,
                config.cushion_frames,
                config.max_cushion_frames,
            ),
            cushion_set: u64::MAX,
            controlling: false,
            stereo: Vec::new(),
            resampled: Vec::new(),
            levelled: Vec::new(),
        })
    }

    /// The source rate the resampler converts from now.
    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// The drift correction in force (relative; positive: the source runs fast).
    pub fn correction(&self) -> f64 {
        self.control.correction()
    }

    /// The cushion the source's arrivals need now, frames.
    pub fn cushion_frames(&self) -> u64 {
        self.cushion.target_frames()
    }

    /// The worst arrival jitter of the last half-minute, seconds.
    pub fn jitter_s(&self) -> f64 {
        self.cushion.jitter_s()
    }

    /// Brings one packet to the station format and writes it to the live input: the packet's
    /// arrival moves the cushion; in the pre-roll (the clock before `on_air_at`) the input
    /// keeps its newest cushion; on air the drift control reads the buffer's level after the
    /// write and steers the resampler toward the cushion. Returns the station-rate frames
    /// written.
    pub fn push(&mut self, packet: &Packet, writer: &LiveWriter) -> Result<u64, String> {
        let now = self.config.clock.now();
        let at_s = now.as_nanosecond() as f64 / 1e9;
        let frames_in = packet.pcm.len() / packet.channels.max(1);
        let cushion = self
            .cushion
            .arrived(at_s, frames_in as f64 / f64::from(packet.rate.max(1)));
        if cushion != self.cushion_set {
            self.cushion_set = cushion;
            // Before the write, so that the renderer never starts on a cushion a burst's first
            // packets have filled and its last ones show to be too thin.
            self.control.set_target(cushion);
            writer.set_cushion(cushion);
        }
        if packet.channels != self.downmix.input_channels() {
            self.downmix = Downmix::new(packet.channels, packet.layout.as_ref());
        }
        if packet.rate != self.rate {
            self.rate = packet.rate;
            self.resampler = drift::resampler(packet.rate, self.config.station_rate)?;
        }
        self.stereo.clear();
        self.downmix.process(packet.pcm, &mut self.stereo);
        self.resampled.clear();
        self.resampler.process(&self.stereo, &mut self.resampled);
        self.levelled.clear();
        self.leveler.process(&self.resampled, &mut self.levelled);
        let out_frames = (self.levelled.len() / crate::audio::CHANNELS) as u64;
        if now < self.config.on_air_at {
            writer.write_preroll(&self.levelled);
        } else {
            writer.write(&self.levelled);
            let buffered = writer.input().buffered_frames() as u64;
            // While the buffer fills after a connection the loop would only move the pitch
            // for nothing; once the renderer reads, it steers (a slow source's buffer may
            // never be seen at the cushion again: waiting for that let it sag to an underrun).
            self.controlling |= buffered >= cushion || writer.input().is_reading();
            if self.controlling {
                let relative = self.control.observe(buffered, out_frames.max(1));
                self.resampler.set_relative(relative);
            }
        }
        Ok(out_frames)
    }
}
