//! The producer side of the hub: encoder bytes in, whole frames pushed.
//!
//! The MP3 encoding ([`super::encoder`]) calls [`Publisher::publish`] with whatever LAME returned (any chunking, LAME's
//! Info tag frame included); the splitter cuts whole frames and the hub publishes them.

use super::{FrameSplitter, Hub};

/// Splits encoder output into frames and pushes them to the hub. Sync; never waits.
pub struct Publisher {
    hub: Hub,
    splitter: FrameSplitter,
    frames: Vec<super::Frame>,
    /// Audio time of the next frame's first sample, once the encoding told it.
    next_at: Option<u64>,
}

impl Publisher {
    pub fn new(hub: Hub) -> Publisher {
        Publisher {
            hub,
            splitter: FrameSplitter::new(),
            frames: Vec::new(),
            next_at: None,
        }
    }

    /// Sets the audio time of the next frame published (a frame index of the playout's time
    /// base); frames then count on from it.
    pub fn set_time(&mut self, at: u64) {
        self.next_at = Some(at);
    }

    /// Audio time of the next frame, if known.
    pub fn time(&self) -> Option<u64> {
        self.next_at
    }

    fn push(&mut self, frame: super::Frame) {
        let at = self.next_at;
        if let Some(t) = &mut self.next_at {
            *t += u64::from(frame.header.samples());
        }
        self.hub.push_at(frame, at);
    }

    /// Publishes encoder output; returns how many frames were pushed.
    pub fn publish(&mut self, mp3: &[u8]) -> usize {
        self.splitter.push(mp3, &mut self.frames);
        let n = self.frames.len();
        let mut frames = std::mem::take(&mut self.frames);
        for frame in frames.drain(..) {
            self.push(frame);
        }
        self.frames = frames;
        n
    }

    /// The encoder stopped: pushes the last frame held back for confirmation.
    pub fn finish(&mut self) {
        self.splitter.finish(&mut self.frames);
        let mut frames = std::mem::take(&mut self.frames);
        for frame in frames.drain(..) {
            self.push(frame);
        }
        self.frames = frames;
    }

    /// The hub published to (for now-playing titles).
    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// Bytes dropped as garbage or tags so far (non-zero growth after start-up means the
    /// encoder output is corrupt).
    pub fn discarded(&self) -> u64 {
        self.splitter.discarded()
    }
}
