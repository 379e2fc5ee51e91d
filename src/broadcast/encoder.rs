//! The MP3 encoding: the programme's PCM ([`PcmSink`]) encoded once by LAME, published as
//! whole frames to one mount's [`Hub`], with the mount's title following the audio.
//!
//! One encoding per stream format; every output of that format (its HTTP listeners, each
//! Icecast push) reads the same hub, so adding a listener or a relay costs no encoding.

use super::{Hub, Publisher};
use crate::audio::{AudioError, Mp3StreamEncoder, PcmSink};

/// Samples between a PCM frame entering LAME and the same sample leaving a decoder: LAME's
/// encoder delay (576) plus the MPEG decoder's (529). The first MP3 frame's first decoded
/// sample is the programme's frame `first_frame - MP3_DELAY`: the audio time the hub's frames
/// carry (HLS timestamps) is the time the listener hears them at.
pub const MP3_DELAY: u64 = 576 + 529;

/// Encodes once and pushes whole MP3 frames into the [`Hub`] (through the [`Publisher`]);
/// sets the hub's title at each title change so ICY metadata follows the audio.
pub struct EncoderSink {
    encoder: Mp3StreamEncoder,
    publisher: Publisher,
    bytes: Vec<u8>,
    failed: bool,
    /// The programme frame the next block should start at (contiguous blocks).
    expected: Option<u64>,
}

impl EncoderSink {
    pub fn new(hub: Hub, sample_rate: u32, bitrate_kbps: u32) -> Result<EncoderSink, AudioError> {
        Ok(EncoderSink {
            encoder: Mp3StreamEncoder::new(sample_rate, bitrate_kbps)?,
            publisher: Publisher::new(hub),
            bytes: Vec::new(),
            failed: false,
            expected: None,
        })
    }
}

impl PcmSink for EncoderSink {
    fn write(&mut self, first_frame: u64, pcm: &[f32]) {
        // Audio time: anchored at the first block, moved by the engine's skips ahead (the
        // frames still inside LAME then carry the new time: an error of under one frame).
        match self.expected {
            None => self
                .publisher
                .set_time(first_frame.saturating_sub(MP3_DELAY)),
            Some(e) if e != first_frame => {
                if let Some(t) = self.publisher.time() {
                    let moved = t.saturating_add_signed(first_frame as i64 - e as i64);
                    self.publisher.set_time(moved);
                }
            }
            Some(_) => {}
        }
        self.expected = Some(first_frame + (pcm.len() / 2) as u64);
        match self.encoder.encode(pcm, &mut self.bytes) {
            Ok(()) => self.failed = false,
            Err(e) => {
                // Log once per failure run; the next block tries again.
                if !self.failed {
                    tracing::error!(error = %e, "broadcast: MP3 encoder failed on a block");
                }
                self.failed = true;
            }
        }
        self.publisher.publish(&self.bytes);
        self.bytes.clear();
    }

    fn title(&mut self, title: &str) {
        self.publisher.hub().set_title(title);
    }

    fn finish(&mut self) {
        if let Err(e) = self.encoder.flush(&mut self.bytes) {
            tracing::error!(error = %e, "broadcast: MP3 encoder flush failed");
        }
        self.publisher.publish(&self.bytes);
        self.bytes.clear();
        self.publisher.finish();
    }
}
