//! The producer side of the hub: encoder bytes in, whole frames pushed.
//!
//! Playout calls [`Feeder::feed`] with whatever its MP3 encoder returned (any chunking, LAME's
//! Info tag frame included); the splitter cuts whole frames and the hub publishes them.

use super::{FrameSplitter, Hub};

/// Splits encoder output into frames and pushes them to the hub. Sync; never waits.
pub struct Feeder {
    hub: Hub,
    splitter: FrameSplitter,
    frames: Vec<super::Frame>,
}

impl Feeder {
    pub fn new(hub: Hub) -> Feeder {
        Feeder {
            hub,
            splitter: FrameSplitter::new(),
            frames: Vec::new(),
        }
    }

    /// Feeds encoder output; returns how many frames were pushed.
    pub fn feed(&mut self, mp3: &[u8]) -> usize {
        self.splitter.push(mp3, &mut self.frames);
        let n = self.frames.len();
        for frame in self.frames.drain(..) {
            self.hub.push(frame);
        }
        n
    }

    /// The encoder stopped: pushes the last frame held back for confirmation.
    pub fn finish(&mut self) {
        self.splitter.finish(&mut self.frames);
        for frame in self.frames.drain(..) {
            self.hub.push(frame);
        }
    }

    /// The hub fed (for now-playing titles).
    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// Bytes dropped as garbage or tags so far (non-zero growth after start-up means the
    /// encoder output is corrupt).
    pub fn discarded(&self) -> u64 {
        self.splitter.discarded()
    }
}
