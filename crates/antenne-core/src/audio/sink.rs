//! Where rendered programme PCM goes: the [`PcmSink`] contract between the playout engine
//! (which renders the schedule) and whatever encodes it (the broadcast's encodings), plus
//! [`FanOut`], which feeds several encodings from the same PCM, and [`NullSink`].
//!
//! It lives in the core because both sides of it (the runtime's `playout` and `broadcast`)
//! must see it without seeing each other.

/// Receives the programme as consecutive blocks of interleaved stereo `f32` at the station
/// rate. Called on the playout thread: it must not block for long (an encoding that can fall
/// behind drops, it never makes the programme wait).
pub trait PcmSink: Send {
    /// `pcm` holds frames `first_frame ..` of the programme (frame indices of the engine's
    /// time base); successive calls are contiguous unless the engine had to skip ahead.
    fn write(&mut self, first_frame: u64, pcm: &[f32]);

    /// The programme's title changed (`Show — Title`), effective from the next block written.
    fn title(&mut self, _title: &str) {}

    /// The engine stops: flush what is buffered.
    fn finish(&mut self) {}
}

/// Feeds every inner sink the same blocks, in order: one MP3 encoding today, more encodings
/// (Opus, HLS) as they are added.
#[derive(Default)]
pub struct FanOut(Vec<Box<dyn PcmSink>>);

impl FanOut {
    pub fn new(sinks: Vec<Box<dyn PcmSink>>) -> FanOut {
        FanOut(sinks)
    }

    pub fn push(&mut self, sink: Box<dyn PcmSink>) {
        self.0.push(sink);
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl PcmSink for FanOut {
    fn write(&mut self, first_frame: u64, pcm: &[f32]) {
        for sink in &mut self.0 {
            sink.write(first_frame, pcm);
        }
    }

    fn title(&mut self, title: &str) {
        for sink in &mut self.0 {
            sink.title(title);
        }
    }

    fn finish(&mut self) {
        for sink in &mut self.0 {
            sink.finish();
        }
    }
}

/// Discards everything (a station without listeners yet, benchmarks).
#[derive(Debug, Default)]
pub struct NullSink;

impl PcmSink for NullSink {
    fn write(&mut self, _first_frame: u64, _pcm: &[f32]) {}
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Records what one sink saw, as `(event, first frame or 0, samples)`.
    #[derive(Clone, Default)]
    struct Log(Arc<Mutex<Vec<String>>>);

    impl PcmSink for Log {
        fn write(&mut self, first_frame: u64, pcm: &[f32]) {
            let line = format!("write {first_frame} {}", pcm.len());
            self.0.lock().unwrap().push(line);
        }
        fn title(&mut self, title: &str) {
            self.0.lock().unwrap().push(format!("title {title}"));
        }
        fn finish(&mut self) {
            self.0.lock().unwrap().push("finish".into());
        }
    }

    #[test]
    fn fan_out_gives_every_sink_the_same_blocks_and_titles_in_order() {
        let (a, b) = (Log::default(), Log::default());
        let mut fan = FanOut::new(vec![Box::new(a.clone()), Box::new(b.clone())]);
        assert_eq!(fan.len(), 2);
        fan.write(10, &[0.0; 8]);
        fan.title("Matinale — Épisode 1");
        fan.write(14, &[0.0; 4]);
        fan.finish();
        let want = [
            "write 10 8",
            "title Matinale — Épisode 1",
            "write 14 4",
            "finish",
        ];
        assert_eq!(*a.0.lock().unwrap(), want);
        assert_eq!(*b.0.lock().unwrap(), want);
    }
}
