//! Where rendered PCM goes: the narrow [`PcmSink`] interface, and the live one,
//! [`EncoderSink`] (LAME once → whole MP3 frames → the broadcast hub).

use super::now::NowPlaying;
use crate::audio::{AudioError, Mp3StreamEncoder};
use crate::broadcast::{Feeder, Hub};

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

/// Encodes once and pushes whole MP3 frames into the [`Hub`] (through the broadcast
/// [`Feeder`]); sets the hub's title at each now-playing change so ICY metadata follows the
/// audio.
pub struct EncoderSink {
    encoder: Mp3StreamEncoder,
    feeder: Feeder,
    bytes: Vec<u8>,
    failed: bool,
}

impl EncoderSink {
    pub fn new(hub: Hub, sample_rate: u32, bitrate_kbps: u32) -> Result<EncoderSink, AudioError> {
        Ok(EncoderSink {
            encoder: Mp3StreamEncoder::new(sample_rate, bitrate_kbps)?,
            feeder: Feeder::new(hub),
            bytes: Vec::new(),
            failed: false,
        })
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
        self.feeder.feed(&self.bytes);
        self.bytes.clear();
    }

    fn now_playing(&mut self, now: &NowPlaying) {
        self.feeder.hub().set_title(&now.stream_title());
    }

    fn finish(&mut self) {
        if let Err(e) = self.encoder.flush(&mut self.bytes) {
            tracing::error!(error = %e, "playout: encoder flush failed");
        }
        self.feeder.feed(&self.bytes);
        self.bytes.clear();
        self.feeder.finish();
    }
}

/// Discards everything (a station without listeners yet, benchmarks).
#[derive(Debug, Default)]
pub struct NullSink;

impl PcmSink for NullSink {
    fn write(&mut self, _first_frame: u64, _pcm: &[f32]) {}
}
