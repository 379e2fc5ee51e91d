//! The narrow interface between decoders and their consumers (ingest, playout).
//!
//! Audio inside Antenne is interleaved stereo `f32` in ±1.0 at the station rate; time is a
//! count of frames (one frame = one sample per channel).

/// Channels of every PCM buffer after decoding (downmixed or upmixed to stereo).
pub const CHANNELS: usize = 2;

/// A source of station-format PCM: interleaved stereo `f32` frames at the station rate.
pub trait PcmSource: Send {
    /// Appends up to `max_frames` frames to `out` and returns how many were appended;
    /// `Ok(0)` means the end of the source.
    fn read(
        &mut self,
        out: &mut Vec<f32>,
        max_frames: usize,
    ) -> Result<usize, crate::audio::AudioError>;

    /// Moves to `frame` (counted from the start of the source, at the station rate).
    fn seek(&mut self, frame: u64) -> Result<(), crate::audio::AudioError>;

    /// Total length in frames at the station rate, when the container tells it.
    fn len_frames(&self) -> Option<u64>;
}

/// Reads `src` to its end and returns how many frames it held: the length of a source whose
/// container does not tell it (an MP3 without a Xing header), or a check that a file decodes
/// all the way through.
pub fn count_frames(src: &mut dyn PcmSource) -> Result<u64, crate::audio::AudioError> {
    let mut buf = Vec::new();
    let mut total = 0u64;
    loop {
        buf.clear();
        let n = src.read(&mut buf, 65_536)?;
        if n == 0 {
            return Ok(total);
        }
        total += n as u64;
    }
}
