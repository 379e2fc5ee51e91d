//! An MP3 source's bytes, frame-checked before the decoder sees them. A decoder that loses
//! sync (a source sends junk mid-stream: a broken encoder, a proxy's error page, a network
//! glitch) scans for the next 11 sync bits and takes what follows for a frame: on random bytes
//! it finds such false frames every few kilobytes and airs them as bursts of noise. Here a
//! frame reaches the decoder only once the header of the frame after it is where its length
//! says and agrees with it (version, layer, rate, channels), which costs one frame of delay
//! (26 ms) and nothing else. After a loss of sync the bytes are dropped until three frames
//! follow one another, and a frame no decoder accepts (its side information is invalid) goes
//! first, so that the decoder clears its bit reservoir: the frames after the junk, whose main
//! data begins in frames that never arrived, decode as silence rather than as noise.
//!
//! Until the first three frames chain up the bytes pass through untouched (up to
//! [`LOCK_WITHIN`] of them): a tag at the start goes to the decoder as before, and a source
//! that sends nothing but junk is refused by the decoder as before.

use std::io::Read;

use crate::audio::mp3frame::FrameHeader;

/// How far into the stream the first three chained frames must be; if they are not, the
/// bytes pass through unchecked (the decoder decides).
pub const LOCK_WITHIN: usize = 64 * 1024;
/// Frames that must follow one another to take (or take back) the stream's sync.
const CHAIN: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// No chain seen yet; what has been scanned is held.
    Starting,
    /// `pending` starts on a frame of the established stream.
    Locked(FrameHeader),
    /// Lost: dropping bytes until a chain of frames starts.
    Lost,
    /// Never locked within [`LOCK_WITHIN`]: everything passes through.
    Unchecked,
}

/// The frame check, fed bytes as they arrive; see the module doc.
#[derive(Debug)]
pub struct Mp3Sync {
    state: State,
    pending: Vec<u8>,
    /// Bytes dropped as junk, and losses of sync, since the start.
    pub dropped_bytes: u64,
    pub resyncs: u64,
}

impl Default for Mp3Sync {
    fn default() -> Self {
        Mp3Sync {
            state: State::Starting,
            pending: Vec::new(),
            dropped_bytes: 0,
            resyncs: 0,
        }
    }
}

fn header_at(bytes: &[u8], at: usize) -> Option<FrameHeader> {
    FrameHeader::parse(bytes.get(at..at + 4)?.try_into().ok()?)
}

fn same_stream(a: &FrameHeader, b: &FrameHeader) -> bool {
    a.compatible(b) && a.channels == b.channels
}

/// Whether `CHAIN` frames follow one another from `at`: `Some(true)` yes, `Some(false)` no,
/// `None` not enough bytes yet to tell.
fn chain_at(bytes: &[u8], at: usize) -> Option<bool> {
    if bytes.len() < at + 4 {
        return None;
    }
    let Some(first) = header_at(bytes, at) else {
        return Some(false);
    };
    let (mut pos, mut header) = (at, first);
    for _ in 1..CHAIN {
        pos += header.frame_len();
        if bytes.len() < pos + 4 {
            return None;
        }
        match header_at(bytes, pos) {
            Some(next) if same_stream(&first, &next) => header = next,
            _ => return Some(false),
        }
    }
    Some(true)
}

/// A Layer III frame of `like`'s stream that decoders reject (its side information's
/// `big_values` exceeds 288): symphonia clears its bit reservoir on it and skips it.
fn reservoir_reset(like: &FrameHeader, raw: [u8; 4]) -> Vec<u8> {
    // No padding, no CRC: a length computed from the header alone.
    let head = [raw[0], raw[1] | 1, raw[2] & !0b10, raw[3]];
    let header = FrameHeader::parse(head).unwrap_or(*like);
    let mut frame = vec![0u8; header.frame_len()];
    frame[..4].copy_from_slice(&head);
    let side = header.side_info_end().min(frame.len());
    frame[4..side].fill(0xFF);
    frame
}

impl Mp3Sync {
    /// Takes `bytes`; what may go to the decoder is appended to `out`.
    pub fn push(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        if self.state == State::Unchecked {
            out.extend_from_slice(bytes);
            return;
        }
        self.pending.extend_from_slice(bytes);
        loop {
            match self.state {
                State::Starting => {
                    let found =
                        (0..self.pending.len()).find_map(|at| match chain_at(&self.pending, at) {
                            Some(true) => Some(Some(at)),
                            None => Some(None),
                            Some(false) => None,
                        });
                    match found {
                        Some(Some(at)) => {
                            // A tag or whatever came first goes to the decoder as it was.
                            out.extend(self.pending.drain(..at));
                            let header = header_at(&self.pending, 0).expect("a chain's header");
                            self.state = State::Locked(header);
                        }
                        _ if self.pending.len() > LOCK_WITHIN => {
                            out.append(&mut self.pending);
                            self.state = State::Unchecked;
                            return;
                        }
                        _ => return,
                    }
                }
                State::Locked(established) => {
                    let Some(header) = header_at(&self.pending, 0) else {
                        if self.pending.len() < 4 {
                            return;
                        }
                        self.lose(1);
                        continue;
                    };
                    if !same_stream(&established, &header) {
                        self.lose(1);
                        continue;
                    }
                    let len = header.frame_len();
                    if self.pending.len() < len + 4 {
                        return;
                    }
                    match header_at(&self.pending, len) {
                        Some(next) if same_stream(&established, &next) => {
                            out.extend(self.pending.drain(..len));
                        }
                        // Junk after this frame, or inside it: it goes too.
                        _ => self.lose(len),
                    }
                }
                State::Lost => {
                    let mut at = 0;
                    let found = loop {
                        if at >= self.pending.len() {
                            break None;
                        }
                        match chain_at(&self.pending, at) {
                            Some(true) => break Some(at),
                            None => break None,
                            Some(false) => at += 1,
                        }
                    };
                    self.dropped_bytes += at as u64;
                    self.pending.drain(..at);
                    let Some(_) = found else { return };
                    let raw: [u8; 4] = self.pending[..4].try_into().expect("a header");
                    let header = header_at(&self.pending, 0).expect("a chain's header");
                    if header.layer == 3 {
                        out.extend(reservoir_reset(&header, raw));
                    }
                    self.state = State::Locked(header);
                }
                State::Unchecked => unreachable!("returned above"),
            }
        }
    }

    /// Sync lost at the start of `pending`: drops `skip` bytes and looks for a chain.
    fn lose(&mut self, skip: usize) {
        let skip = skip.min(self.pending.len());
        self.pending.drain(..skip);
        self.dropped_bytes += skip as u64;
        self.resyncs += 1;
        self.state = State::Lost;
    }

    /// At the end of the stream: the last frame, if whole, goes (no frame after it to check
    /// it by; the chain before it vouches for it); a partial one does not.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        match self.state {
            State::Locked(established) => {
                if let Some(h) = header_at(&self.pending, 0)
                    && same_stream(&established, &h)
                    && self.pending.len() >= h.frame_len()
                {
                    out.extend(self.pending.drain(..h.frame_len()));
                }
            }
            State::Starting => out.append(&mut self.pending),
            State::Lost | State::Unchecked => {}
        }
        self.pending.clear();
    }
}

/// A reader of MP3 bytes through [`Mp3Sync`].
pub struct Mp3SyncReader<R> {
    inner: R,
    sync: Mp3Sync,
    out: Vec<u8>,
    read: usize,
    ended: bool,
}

impl<R: Read> Mp3SyncReader<R> {
    pub fn new(inner: R) -> Self {
        Mp3SyncReader {
            inner,
            sync: Mp3Sync::default(),
            out: Vec::new(),
            read: 0,
            ended: false,
        }
    }
}

impl<R: Read> Read for Mp3SyncReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut chunk = [0u8; 16 * 1024];
        while self.read == self.out.len() {
            if self.ended {
                return Ok(0);
            }
            self.out.clear();
            self.read = 0;
            let n = self.inner.read(&mut chunk)?;
            if n == 0 {
                self.ended = true;
                self.sync.finish(&mut self.out);
            } else {
                self.sync.push(&chunk[..n], &mut self.out);
            }
        }
        let n = buf.len().min(self.out.len() - self.read);
        buf[..n].copy_from_slice(&self.out[self.read..self.read + n]);
        self.read += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 128 kbps 44.1 kHz stereo frame (417 bytes) whose body is `fill`.
    fn frame(fill: u8) -> Vec<u8> {
        let mut f = vec![fill; 417];
        f[..4].copy_from_slice(&[0xFF, 0xFB, 0x90, 0x64]);
        f
    }

    fn run(bytes: &[u8], piece: usize) -> (Vec<u8>, Mp3Sync) {
        let mut sync = Mp3Sync::default();
        let mut out = Vec::new();
        for p in bytes.chunks(piece) {
            sync.push(p, &mut out);
        }
        sync.finish(&mut out);
        (out, sync)
    }

    #[test]
    fn whole_frames_pass_unchanged_in_any_chunking() {
        let tag = b"ID3\x04\x00\x00\x00\x00\x00\x05hello".to_vec();
        let frames: Vec<u8> = (0..10).flat_map(|k| frame(k as u8)).collect();
        let bytes = [tag, frames].concat();
        for piece in [1, 7, 417, 4096] {
            let (out, sync) = run(&bytes, piece);
            assert_eq!(out, bytes, "pieces of {piece}");
            assert_eq!((sync.resyncs, sync.dropped_bytes), (0, 0));
        }
    }

    #[test]
    fn junk_mid_stream_goes_with_the_frame_it_cut_and_a_reservoir_reset_comes_first() {
        let before: Vec<u8> = (0..5).flat_map(|k| frame(k as u8)).collect();
        let after: Vec<u8> = (10..15).flat_map(|k| frame(k as u8)).collect();
        // Junk full of false syncs, starting in the middle of a frame.
        let junk: Vec<u8> = (0..3000u32)
            .map(|i| {
                if i % 97 == 0 {
                    0xFF
                } else {
                    (i.wrapping_mul(2_654_435_761) >> 13) as u8
                }
            })
            .collect();
        let cut = &frame(9)[..200];
        let bytes = [&before[..], cut, &junk[..], &after[..]].concat();
        for piece in [1, 500, 4096] {
            let (out, sync) = run(&bytes, piece);
            let reset = reservoir_reset(
                &FrameHeader::parse([0xFF, 0xFB, 0x90, 0x64]).unwrap(),
                [0xFF, 0xFB, 0x90, 0x64],
            );
            let expected = [&before[..], &reset[..], &after[..]].concat();
            assert_eq!(out.len(), expected.len(), "pieces of {piece}");
            assert!(out == expected, "pieces of {piece}");
            assert_eq!(sync.resyncs, 1);
            assert_eq!(sync.dropped_bytes as usize, 200 + junk.len());
        }
    }

    #[test]
    fn a_source_of_nothing_but_junk_reaches_the_decoder_unchanged() {
        let junk: Vec<u8> = (0..100_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let (out, _) = run(&junk, 4096);
        assert_eq!(out, junk, "the decoder refuses it, as before");
    }
}
