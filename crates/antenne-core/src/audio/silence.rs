//! Sustained-silence detector on the station's output PCM (pure; playout feeds it).
//!
//! A frame (one sample per channel) is silent when every channel's magnitude is below the
//! threshold (default -60 dBFS). When the run of consecutive silent frames exceeds the hold
//! time (default 30 s, counted in frames at the station rate) the alarm is raised; the first
//! frame above the threshold clears it. Counting frames rather than blocks keeps the verdict
//! independent of how playout chunks its PCM.

use super::CHANNELS;

/// What changed after a block was fed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SilenceEvent {
    /// The output has been silent for longer than the hold time.
    Started,
    /// Sound came back after an alarm.
    Ended,
}

/// See the module doc.
#[derive(Debug, Clone)]
pub struct SilenceDetector {
    threshold: f32,
    hold_frames: u64,
    quiet_frames: u64,
    alarm: bool,
}

impl SilenceDetector {
    /// `threshold_dbfs` (e.g. -60.0) and `hold_frames` (e.g. 30 s × station rate).
    pub fn new(threshold_dbfs: f64, hold_frames: u64) -> SilenceDetector {
        SilenceDetector {
            threshold: 10f64.powf(threshold_dbfs / 20.0) as f32,
            hold_frames,
            quiet_frames: 0,
            alarm: false,
        }
    }

    /// The default: 30 s below -60 dBFS at `sample_rate`.
    pub fn standard(sample_rate: u32) -> SilenceDetector {
        SilenceDetector::new(-60.0, 30 * u64::from(sample_rate))
    }

    /// Whether the alarm is raised.
    pub fn alarm(&self) -> bool {
        self.alarm
    }

    /// Length of the current silent run, in frames.
    pub fn quiet_frames(&self) -> u64 {
        self.quiet_frames
    }

    /// Feeds interleaved stereo PCM. Returns the last state change within the block, if any.
    pub fn push(&mut self, pcm: &[f32]) -> Option<SilenceEvent> {
        let mut event = None;
        for frame in pcm.chunks_exact(CHANNELS) {
            if frame.iter().all(|s| s.abs() < self.threshold) {
                self.quiet_frames += 1;
                if !self.alarm && self.quiet_frames > self.hold_frames {
                    self.alarm = true;
                    event = Some(SilenceEvent::Started);
                }
            } else {
                self.quiet_frames = 0;
                if self.alarm {
                    self.alarm = false;
                    event = Some(SilenceEvent::Ended);
                }
            }
        }
        event
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(frames: usize, amplitude: f32) -> Vec<f32> {
        vec![amplitude; frames * CHANNELS]
    }

    #[test]
    fn alarm_after_hold_and_cleared_by_sound() {
        let mut d = SilenceDetector::new(-60.0, 100);
        assert_eq!(
            d.push(&block(100, 0.0005)),
            None,
            "-66 dBFS for exactly the hold time"
        );
        assert!(!d.alarm());
        assert_eq!(d.push(&block(1, 0.0)), Some(SilenceEvent::Started));
        assert_eq!(d.push(&block(1000, 0.0)), None);
        assert!(d.alarm());
        assert_eq!(d.push(&block(1, 0.01)), Some(SilenceEvent::Ended));
        assert_eq!(d.quiet_frames(), 0);
    }

    #[test]
    fn chunking_does_not_matter_and_one_loud_channel_is_sound() {
        let mut whole = SilenceDetector::new(-60.0, 50);
        let mut pieces = SilenceDetector::new(-60.0, 50);
        let mut pcm = block(120, 0.0);
        pcm[60 * CHANNELS + 1] = 0.5; // right channel, frame 60
        let whole_event = whole.push(&pcm);
        let piece_events: Vec<_> = pcm.chunks(6).filter_map(|c| pieces.push(c)).collect();
        assert_eq!(whole_event, Some(SilenceEvent::Started));
        assert_eq!(
            piece_events,
            [
                SilenceEvent::Started,
                SilenceEvent::Ended,
                SilenceEvent::Started
            ]
        );
        assert_eq!(whole.quiet_frames(), 59);
        assert_eq!(pieces.quiet_frames(), 59);
    }

    #[test]
    fn standard_hold_is_thirty_seconds() {
        let mut d = SilenceDetector::standard(100);
        assert_eq!(d.push(&block(3000, 0.0)), None);
        assert_eq!(d.push(&block(1, 0.0)), Some(SilenceEvent::Started));
    }
}
