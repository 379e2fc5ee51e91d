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
}

impl Publisher {
    pub fn new(hub: Hub) -> Publisher {
        Publisher {
            hub,
            splitter: FrameSplitter::new(),
            frames: Vec::new(),
        }
    }

    /// Publishes encoder output; returns how many frames were pushed.
    pub fn publish(&mut self, mp3: &[u8]) -> usize {
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
