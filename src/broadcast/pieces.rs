//! A listener's bytes in flight: a few shared [`Bytes`] (chunks of the ring, their slices
//! around ICY blocks, the blocks themselves) held in a fixed array, written with one vectored
//! write and advanced by what the socket took.
//!
//! It lives inline in the listener's task: no per-listener buffer, no allocation, no copy of
//! audio (every piece is a reference-counted view of a frame stored once for every listener).

use std::io::IoSlice;

use bytes::{Buf, Bytes};

/// Pieces at most; a caught-up listener needs one (three around an ICY block), a listener
/// behind takes several chunks in one write.
pub const PIECES: usize = 4;

/// Up to [`PIECES`] byte strings to write in order; see the module doc.
#[derive(Debug)]
pub struct Pieces {
    items: [Bytes; PIECES],
    len: usize,
}

impl Default for Pieces {
    fn default() -> Self {
        Pieces {
            items: [const { Bytes::new() }; PIECES],
            len: 0,
        }
    }
}

impl Pieces {
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Places still free.
    pub fn room(&self) -> usize {
        PIECES - self.len
    }

    /// Appends `bytes`; hands it back when full. Empty strings take no place.
    pub fn push(&mut self, bytes: Bytes) -> Result<(), Bytes> {
        if bytes.is_empty() {
            return Ok(());
        }
        if self.len == PIECES {
            return Err(bytes);
        }
        self.items[self.len] = bytes;
        self.len += 1;
        Ok(())
    }

    /// Bytes left to write.
    pub fn remaining(&self) -> usize {
        self.items[..self.len].iter().map(Bytes::len).sum()
    }

    /// The pieces as the slices of one vectored write.
    pub fn io_slices(&self) -> [IoSlice<'_>; PIECES] {
        std::array::from_fn(|i| IoSlice::new(&self.items[i]))
    }

    /// How many of [`Pieces::io_slices`] are in use.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Drops the first `n` bytes (what a write took); a piece written whole releases its
    /// reference at once.
    pub fn advance(&mut self, mut n: usize) {
        let mut done = 0;
        while done < self.len && n >= self.items[done].len() {
            n -= self.items[done].len();
            self.items[done] = Bytes::new();
            done += 1;
        }
        self.items[..self.len].rotate_left(done);
        self.len -= done;
        if self.len > 0 {
            self.items[0].advance(n.min(self.items[0].len()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_releases_whole_pieces_and_cuts_the_first() {
        let mut p = Pieces::default();
        for s in ["abc", "", "de", "fghi"] {
            p.push(Bytes::from(s)).unwrap();
        }
        assert_eq!((p.len(), p.remaining()), (3, 9));
        p.advance(4);
        assert_eq!(p.len(), 2);
        assert_eq!(&*p.io_slices()[0], b"e");
        p.advance(1);
        assert_eq!(&*p.io_slices()[0], b"fghi");
        p.advance(4);
        assert!(p.is_empty());
        for _ in 0..PIECES {
            p.push(Bytes::from_static(b"x")).unwrap();
        }
        assert_eq!(
            p.push(Bytes::from_static(b"y")),
            Err(Bytes::from_static(b"y"))
        );
        assert_eq!(p.room(), 0);
    }
}
