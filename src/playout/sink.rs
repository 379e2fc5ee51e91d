//! Where rendered PCM goes: the narrow [`PcmSink`] interface, and the live one,
//! [`EncoderSink`] (LAME once → whole MP3 frames → the broadcast hub).

use super::now::NowPlaying;
use crate::audio::{AudioError, Mp3StreamEncoder};
use crate::broadcast::{Frame, FrameSplitter, Hub};

/// Receives the programme as consecutive blocks of interleaved stereo `f32` at the station
/// rate. Called on the playout thread: it must not block for long.
pub trait PcmSink: Send {
    /// `pcm` holds frames `first_frame ..` of the programme (frame indices of the engine's
    /// time base); successive calls are contiguous unless the engine had to skip ahead.
    fn write(&mut self, first_frame: u64, pcm: &[f32]);

    /// The programme's now-playing changed, effective from the next block written.
    fn now_playing(&mut self, _now: &NowPlaying) {}

    /// The engine stops: flush what is buffered.
    fn finish(&mut self) {}
}

/// Encodes once and pushes whole MP3 frames into the [`Hub`]; sets the hub's title at each
/// now-playing change so ICY metadata follows the audio.
pub struct EncoderSink {
    encoder: Mp3StreamEncoder,
    splitter: FrameSplitter,
    hub: Hub,
    bytes: Vec<u8>,
    frames: Vec<Frame>,
    failed: bool,
}

impl EncoderSink {
    pub fn new(hub: Hub, sample_rate: u32, bitrate_kbps: u32) -> Result<EncoderSink, AudioError> {
        Ok(EncoderSink {
            encoder: Mp3StreamEncoder::new(sample_rate, bitrate_kbps)?,
            splitter: FrameSplitter::new(),
            hub,
            bytes: Vec::new(),
            frames: Vec::new(),
            failed: false,
        })
    }

    fn push(&mut self) {
        self.splitter.push(&self.bytes, &mut self.frames);
        self.bytes.clear();
        for frame in self.frames.drain(..) {
            self.hub.push(frame);
        }
    }
}

impl PcmSink for EncoderSink {
    fn write(&mut self, _first_frame: u64, pcm: &[f32]) {
        match self.encoder.encode(pcm, &mut self.bytes) {
            Ok(()) => self.failed = false,
            Err(e) => {
                // Log once per failure run; the next block tries again.
                if !self.failed {
                    tracing::error!(error = %e, "playout: encoder failed on a block");
                }
                self.failed = true;
            }
        }
        self.push();
    }

    fn now_playing(&mut self, now: &NowPlaying) {
        self.hub.set_title(&now.stream_title());
    }

    fn finish(&mut self) {
        if let Err(e) = self.encoder.flush(&mut self.bytes) {
            tracing::error!(error = %e, "playout: encoder flush failed");
        }
        self.splitter.push(&self.bytes, &mut self.frames);
        self.bytes.clear();
        self.splitter.finish(&mut self.frames);
        for frame in self.frames.drain(..) {
            self.hub.push(frame);
        }
    }
}

/// Discards everything (a station without listeners yet, benchmarks).
#[derive(Debug, Default)]
pub struct NullSink;

impl PcmSink for NullSink {
    fn write(&mut self, _first_frame: u64, _pcm: &[f32]) {}
}
