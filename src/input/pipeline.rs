//! One live source's audio, on a thread of its own (decoding is blocking work, kept off the
//! async runtime): the bytes as they arrive → the recording → the decoder (any format
//! symphonia reads from a stream: MP3, Ogg Vorbis, Ogg FLAC, AAC in ADTS) → downmix to stereo
//! → the drift resampler to the station rate → the leveler → the live input's buffer.
//!
//! Nothing here waits for the programme: the buffer never blocks a write. The drift control
//! reads the buffer's level after every packet while the show is on air; in the pre-roll the
//! buffer only keeps its cushion.

use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use jiff::Timestamp;
use tokio::sync::mpsc::Receiver;

use super::record::Recorder;
use super::status::SourceStats;
use crate::audio::decode::Decoder;
use crate::audio::downmix::Downmix;
use crate::audio::drift::{self, DriftControl};
use crate::audio::leveler::Leveler;
use crate::clock::Clock;
use crate::playout::LiveWriter;

/// What the pipeline needs to know about the station and the slot.
#[derive(Clone)]
pub struct PipelineConfig {
    pub station_rate: u32,
    pub target_lufs: f64,
    pub ceiling_dbtp: f64,
    /// The buffer level the drift control holds, frames.
    pub cushion_frames: u64,
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

/// The bytes a connection delivers, read by the decoder as a stream; each chunk is recorded
/// before the decoder sees it.
struct Incoming {
    rx: Receiver<Bytes>,
    chunk: Bytes,
    recorder: Option<Recorder>,
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
                    if let Some(r) = &mut self.recorder
                        && let Err(e) = r.append(&chunk)
                    {
                        // The show goes on air all the same; the operator sees the reason.
                        tracing::error!("live recording stopped: {e}");
                        self.recorder = None;
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
    let incoming = Arc::new(Mutex::new(Incoming {
        rx,
        chunk: Bytes::new(),
        recorder,
        stats: stats.clone(),
    }));
    // The decoder wants an owned source: it reads through a handle on the shared state.
    let source = symphonia::core::io::ReadOnlySource::new(Shared(incoming.clone()));
    let ended = match Decoder::from_source(&config.name, Box::new(source)) {
        Ok(decoder) => decode(config, decoder, writer, stats),
        Err(e) => Ended::Undecodable(e.to_string()),
    };
    let mut incoming = incoming.lock().unwrap_or_else(|e| e.into_inner());
    // Whatever the decoder did not read is still the source's audio: record it.
    let mut rest = [0u8; 64 * 1024];
    if matches!(ended, Ended::Closed) {
        while matches!(incoming.read(&mut rest), Ok(n) if n > 0) {}
    }
    (ended, incoming.recorder.take())
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
    let mut downmix = Downmix::new(info.channels, decoder.channel_layout().as_ref());
    let mut rate = info.sample_rate;
    let Ok(mut resampler) = drift::resampler(rate, config.station_rate) else {
        return Ended::Undecodable(format!("cannot resample {rate} Hz"));
    };
    let Ok(mut leveler) =
        Leveler::new(config.station_rate, config.target_lufs, config.ceiling_dbtp)
    else {
        return Ended::Undecodable("cannot meter the source".into());
    };
    let mut control = DriftControl::new(config.station_rate, config.cushion_frames);
    let mut controlling = false;
    let (mut raw, mut stereo, mut resampled, mut levelled) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    loop {
        raw.clear();
        let frames = match decoder.next_frames(&mut raw) {
            Ok(0) => return Ended::Closed,
            Ok(n) => n,
            Err(e) => return Ended::Undecodable(e.to_string()),
        };
        let channels = decoder.info().channels;
        if channels != downmix.input_channels() {
            downmix = Downmix::new(channels, decoder.channel_layout().as_ref());
        }
        if decoder.info().sample_rate != rate {
            // A source changing its rate mid-stream (a new song, a restarted encoder).
            rate = decoder.info().sample_rate;
            match drift::resampler(rate, config.station_rate) {
                Ok(r) => resampler = r,
                Err(e) => return Ended::Undecodable(e),
            }
            stats.set_format(&decoder.info().codec, rate, channels);
        }
        stereo.clear();
        downmix.process(&raw, &mut stereo);
        resampled.clear();
        resampler.process(&stereo, &mut resampled);
        levelled.clear();
        leveler.process(&resampled, &mut levelled);
        let out_frames = (levelled.len() / 2) as u64;
        if config.clock.now() < config.on_air_at {
            writer.write_preroll(&levelled);
        } else {
            writer.write(&levelled);
            let buffered = writer.input().buffered_frames() as u64;
            // The loop steers from the moment the cushion is first there: while the buffer
            // fills after a connection it would only pull the pitch down for nothing.
            controlling |= buffered >= config.cushion_frames;
            if controlling {
                let relative = control.observe(buffered, out_frames.max(1));
                resampler.set_relative(relative);
            }
        }
        stats.frames_in.fetch_add(frames as u64, Ordering::Relaxed);
        stats.record_levels(
            control.correction(),
            leveler.gain_db(),
            leveler.shortterm_lufs(),
            writer.input().buffered_frames() as u64,
        );
    }
}
