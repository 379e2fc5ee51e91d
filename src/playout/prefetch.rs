//! Decode-ahead: one worker thread per upcoming file segment opens, seeks and decodes it into
//! a bounded channel before it is due, so the render thread never touches the disk.
//!
//! The render thread pulls with [`Prefetch::fill`]. Whatever is not decoded in time becomes
//! silence, and the frames that arrive late are dropped ([`Prefetch`] knows the absolute frame of
//! every sample), so the item stays where the clock says it is: the engine catches up.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TryRecvError, sync_channel};
use std::time::Instant;

use super::media::Opener;

/// Frames per decoded chunk.
const CHUNK: usize = 4096;

enum Msg {
    Pcm(Vec<f32>),
    End,
    Failed(String),
}

/// How long a fill waits for the decoder.
#[derive(Clone, Copy)]
enum Wait {
    No,
    Forever,
    Until(Instant),
}

/// What a fill found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filled {
    /// Frames written from the file.
    pub frames: usize,
    /// Frames left silent because the decoder was late.
    pub late: usize,
    /// The file ended before the planned end.
    pub ended: bool,
    /// Opening or decoding failed (the reason).
    pub failed: Option<String>,
}

/// A file segment being decoded ahead; see the module doc.
pub struct Prefetch {
    pub path: PathBuf,
    rx: Receiver<Msg>,
    buf: Vec<f32>,
    pos: usize,
    /// Absolute frame of `buf[pos]`.
    next: u64,
    done: bool,
    failed: Option<String>,
}

impl Prefetch {
    /// Starts decoding `path` so that absolute frame `first` plays file frame `file_frame`,
    /// for `frames` frames. At most `chunks` chunks are buffered ahead.
    pub fn start(
        opener: &Opener,
        path: PathBuf,
        rate: u32,
        first: u64,
        file_frame: u64,
        frames: u64,
        chunks: usize,
    ) -> Prefetch {
        let (tx, rx) = sync_channel(chunks.max(1));
        let opener = opener.clone();
        let worker_path = path.clone();
        let spawned = std::thread::Builder::new()
            .name("playout-decode".into())
            .spawn(move || {
                // A decoder panicking on a hostile file must read as a failed item (skipped to
                // the fallback, with the reason logged), not as a file that merely ended.
                let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    decode(&opener, worker_path, rate, file_frame, frames, &tx)
                }));
                if let Err(panic) = run {
                    let _ = tx.send(Msg::Failed(crate::audio::crashed(panic.as_ref())));
                }
            });
        let failed = spawned
            .err()
            .map(|e| format!("cannot start a decoder thread: {e}"));
        Prefetch {
            path,
            rx,
            buf: Vec::new(),
            pos: 0,
            next: first,
            done: failed.is_some(),
            failed,
        }
    }

    /// Adds frames `[at, at + out.len()/2)`, multiplied by `gain(frame)`, into `out` (zeroed,
    /// or holding the other track of a crossfade). With `wait`, blocks for the decoder instead
    /// of leaving silence.
    pub fn fill(
        &mut self,
        at: u64,
        out: &mut [f32],
        wait: bool,
        gain: impl Fn(u64) -> f32,
    ) -> Filled {
        let wait = if wait { Wait::Forever } else { Wait::No };
        self.fill_waiting(at, out, wait, gain)
    }

    /// [`Prefetch::fill`], waiting for the decoder until `deadline` at most (the engine's: when
    /// the frames are due on the clock). A prefetch started for a segment already under way (at
    /// start-up, or joined after a re-plan) had no time to decode ahead, and a decoder starved
    /// of CPU falls behind: either would otherwise leave the block silent.
    pub fn fill_until(
        &mut self,
        at: u64,
        out: &mut [f32],
        deadline: Instant,
        gain: impl Fn(u64) -> f32,
    ) -> Filled {
        self.fill_waiting(at, out, Wait::Until(deadline), gain)
    }

    fn fill_waiting(
        &mut self,
        at: u64,
        out: &mut [f32],
        wait: Wait,
        gain: impl Fn(u64) -> f32,
    ) -> Filled {
        let want = out.len() / 2;
        let mut r = Filled::default();
        let mut k = 0usize;
        while k < want {
            if self.pos == self.buf.len() {
                if !self.pull(wait) {
                    break;
                }
                continue;
            }
            let target = at + k as u64;
            if self.next < target {
                // Late data for frames already rendered as silence: drop it.
                let skip = ((target - self.next) as usize).min((self.buf.len() - self.pos) / 2);
                self.pos += skip * 2;
                self.next += skip as u64;
                continue;
            }
            if self.next > target {
                // Only after a failure to seek exactly; leave the gap silent.
                let gap = ((self.next - target) as usize).min(want - k);
                k += gap;
                r.late += gap;
                continue;
            }
            let n = ((self.buf.len() - self.pos) / 2).min(want - k);
            for i in 0..n {
                let g = gain(target + i as u64);
                out[2 * (k + i)] += self.buf[self.pos + 2 * i] * g;
                out[2 * (k + i) + 1] += self.buf[self.pos + 2 * i + 1] * g;
            }
            self.pos += 2 * n;
            self.next += n as u64;
            k += n;
            r.frames += n;
        }
        if k < want {
            if self.done {
                r.ended = self.failed.is_none();
                r.failed = self.failed.clone();
            } else {
                r.late += want - k;
            }
        }
        r
    }

    /// Takes the next chunk; false when none is available now (or ever).
    fn pull(&mut self, wait: Wait) -> bool {
        if self.done {
            return false;
        }
        let msg = match wait {
            Wait::No => self.rx.try_recv(),
            Wait::Forever => self.rx.recv().map_err(|_| TryRecvError::Disconnected),
            Wait::Until(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                self.rx.recv_timeout(left).map_err(|e| match e {
                    RecvTimeoutError::Timeout => TryRecvError::Empty,
                    RecvTimeoutError::Disconnected => TryRecvError::Disconnected,
                })
            }
        };
        match msg {
            Ok(Msg::Pcm(v)) => {
                self.buf = v;
                self.pos = 0;
                true
            }
            Ok(Msg::End) | Err(TryRecvError::Disconnected) => {
                self.done = true;
                false
            }
            Ok(Msg::Failed(reason)) => {
                self.done = true;
                self.failed = Some(reason);
                false
            }
            Err(TryRecvError::Empty) => false,
        }
    }
}

/// The worker: open, seek, decode `frames` frames in chunks, then say how it ended. Sending
/// fails once the render thread dropped the prefetch; the worker then simply stops.
fn decode(
    opener: &Opener,
    path: PathBuf,
    rate: u32,
    file_frame: u64,
    frames: u64,
    tx: &SyncSender<Msg>,
) {
    let mut src = match opener(&path, rate) {
        Ok(s) => s,
        Err(e) => {
            let _ = tx.send(Msg::Failed(e.to_string()));
            return;
        }
    };
    if file_frame > 0
        && let Err(e) = src.seek(file_frame)
    {
        let _ = tx.send(Msg::Failed(e.to_string()));
        return;
    }
    let mut left = frames;
    while left > 0 {
        let mut chunk = Vec::with_capacity(CHUNK * 2);
        let want = (left.min(CHUNK as u64)) as usize;
        // A source may return fewer frames than asked: fill the chunk before sending.
        while chunk.len() / 2 < want {
            let before = chunk.len() / 2;
            match src.read(&mut chunk, want - before) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    if !chunk.is_empty() {
                        let _ = tx.send(Msg::Pcm(chunk));
                    }
                    let _ = tx.send(Msg::Failed(e.to_string()));
                    return;
                }
            }
        }
        let got = chunk.len() / 2;
        if got == 0 {
            break;
        }
        left -= got as u64;
        if tx.send(Msg::Pcm(chunk)).is_err() {
            return;
        }
        if got < want {
            break;
        }
    }
    let _ = tx.send(Msg::End);
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::*;
    use crate::audio::{AudioError, PcmSource};

    /// A test decoder: `left` frames of `value`, each chunk read after `delay`; it panics
    /// when asked for more (a decoder choking on hostile bytes) if `panics`, else ends.
    struct Scripted {
        left: usize,
        value: f32,
        delay: std::time::Duration,
        panics: bool,
    }

    impl PcmSource for Scripted {
        fn read(&mut self, out: &mut Vec<f32>, max: usize) -> Result<usize, AudioError> {
            if self.left == 0 && self.panics {
                panic!("hostile bytes");
            }
            std::thread::sleep(self.delay);
            let n = max.min(self.left);
            out.extend(std::iter::repeat_n(self.value, n * 2));
            self.left -= n;
            Ok(n)
        }
        fn seek(&mut self, _: u64) -> Result<(), AudioError> {
            Ok(())
        }
        fn len_frames(&self) -> Option<u64> {
            None
        }
    }

    fn opener(script: impl Fn() -> Scripted + Send + Sync + 'static) -> Opener {
        Arc::new(move |_: &Path, _| Ok(Box::new(script()) as Box<dyn PcmSource>))
    }

    #[test]
    fn issue8_a_decoder_panic_reads_as_a_failed_item() {
        let opener = opener(|| Scripted {
            left: 5000,
            value: 0.25,
            delay: std::time::Duration::ZERO,
            panics: true,
        });
        let mut prefetch = Prefetch::start(&opener, "hostile.mp3".into(), 44_100, 0, 0, 10_000, 4);
        let mut out = vec![0.0; 2 * 10_000];
        let filled = prefetch.fill(0, &mut out, true, |_| 1.0);
        // The first whole chunk was decoded before the panic; it plays.
        assert_eq!(filled.frames, CHUNK);
        assert!(!filled.ended);
        let reason = filled.failed.expect("a failure, not an end");
        assert!(
            reason.contains("decoder crashed") && reason.contains("hostile bytes"),
            "{reason}"
        );
    }

    /// A 10 s file, decoded a chunk at a time, slowly: `delay` per chunk.
    fn slow_opener(delay: std::time::Duration) -> Opener {
        opener(move || Scripted {
            left: 441_000,
            value: 0.5,
            delay,
            panics: false,
        })
    }

    #[test]
    fn a_feed_joined_under_way_fills_its_first_block() {
        let opener = slow_opener(std::time::Duration::from_millis(20));
        let start = || Prefetch::start(&opener, "a.wav".into(), 44_100, 0, 0, 441_000, 4);
        let block = 16_384;
        let mut out = vec![0.0; 2 * block];
        // Without waiting, the first block finds nothing decoded: all late.
        assert_eq!(start().fill(0, &mut out, false, |_| 1.0).late, block);
        // Given until a deadline, it is filled (4 chunks of 20 ms).
        let deadline = Instant::now() + std::time::Duration::from_secs(10);
        let r = start().fill_until(0, &mut out, deadline, |_| 1.0);
        assert_eq!((r.frames, r.late), (block, 0));
        // A deadline already past waits for nothing.
        let t = Instant::now();
        let r = start().fill_until(0, &mut out, t, |_| 1.0);
        assert!(t.elapsed() < std::time::Duration::from_millis(15));
        assert_eq!(r.late, block);
    }
}
