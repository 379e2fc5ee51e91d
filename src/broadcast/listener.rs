//! One listener's view of the hub: a `Stream` of `Bytes` (burst, then live frames, with ICY
//! blocks when asked) that ends on shutdown or when the listener falls too far behind.
//!
//! `Lagged` is an end, not an error to skip past: as in mini-redis's `subscribe`, every
//! `recv` outcome is matched, never `while let Ok`. The listener count is an RAII guard, so a
//! dropped HTTP body frees its place whatever the reason, and ends its session.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;
use futures_util::stream::BoxStream;
use tokio::sync::broadcast::{self, error::RecvError, error::TryRecvError};
use tokio_util::sync::CancellationToken;

use super::hub::{Chunk, Shared};
use super::icy::Interleaver;
use super::pieces::Pieces;
use super::sessions::OpenSession;

/// Holds one place in the listener count while alive, and the listener's session (recorded
/// when it drops).
pub(super) struct CountGuard {
    shared: Arc<Shared>,
    _session: Option<OpenSession>,
}

impl CountGuard {
    /// The caller has already incremented the count.
    pub(super) fn new(shared: Arc<Shared>, session: Option<OpenSession>) -> CountGuard {
        CountGuard {
            shared,
            _session: session,
        }
    }
}

impl Drop for CountGuard {
    fn drop(&mut self) {
        self.shared.listeners.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A listener's byte stream; see the module doc. Obtained from `Hub::subscribe`.
///
/// Read it with [`Listener::recv`] (the future lives inline in the caller's task: what the
/// `/stream` connections do, so a listener costs no allocation of its own beyond its place on
/// the ring) or as a [`Stream`] (which boxes the state machine once, at the first poll).
pub struct Listener {
    state: Option<State>,
    stream: Option<BoxStream<'static, Bytes>>,
    _guard: Option<CountGuard>,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener").finish_non_exhaustive()
    }
}

/// Pieces kept room for once the burst is sent: a chunk split around an ICY block is three.
const PENDING_KEPT: usize = 4;

struct State {
    shared: Arc<Shared>,
    rx: broadcast::Receiver<Chunk>,
    /// Bytes ready to hand out: the burst at first, then the pieces of an ICY-split frame.
    pending: VecDeque<Bytes>,
    icy: Option<Interleaver>,
}

impl Listener {
    pub(super) fn new(
        shared: Arc<Shared>,
        rx: broadcast::Receiver<Chunk>,
        burst: VecDeque<Bytes>,
        icy: bool,
        guard: Option<CountGuard>,
    ) -> Listener {
        let mut state = State {
            shared,
            rx,
            pending: VecDeque::with_capacity(burst.len()),
            icy: icy.then(Interleaver::default),
        };
        for frame in burst {
            state.deliver(frame);
        }
        Listener {
            state: Some(state),
            stream: None,
            _guard: guard,
        }
    }

    /// Waits for the next published bytes and adds them to `out` with every chunk already
    /// published after them that fits (a listener behind catches up in one write, not one
    /// write per chunk). `false` once the stream ended (shutdown, or this listener fell too
    /// far behind); what was in `out` is then still to be written or dropped by the caller.
    /// Call with `out` empty. Cancel-safe only in the sense that a dropped call ends the
    /// listener's usefulness: a chunk received by it may be lost.
    ///
    /// Unlike [`Listener::recv`], it does not wait for the hub's shutdown itself (a wait that
    /// costs a shared lock at every wake-up): run the listener's whole loop under
    /// [`super::cancel::until_cancelled`] with [`Listener::ending`].
    pub async fn recv_batch(&mut self, out: &mut Pieces) -> bool {
        let Some(state) = &mut self.state else {
            return false;
        };
        if state.next_batch(out).await {
            return true;
        }
        self.state = None;
        false
    }

    /// Cancelled when the hub shuts down (see [`Listener::recv_batch`]).
    pub fn ending(&self) -> CancellationToken {
        match &self.state {
            Some(state) => state.shared.shutdown.clone(),
            None => {
                let ended = CancellationToken::new();
                ended.cancel();
                ended
            }
        }
    }

    /// The next bytes to send, or `None` once the stream ended (shutdown, or this listener
    /// fell too far behind). Cancel-safe: nothing is lost when the future is dropped.
    pub async fn recv(&mut self) -> Option<Bytes> {
        match (&mut self.state, &mut self.stream) {
            (Some(state), _) => {
                let bytes = state.next().await;
                if bytes.is_none() {
                    // Ended for good: the ring slot and the ICY state go now.
                    self.state = None;
                    self.stream = Some(Box::pin(futures_util::stream::empty()));
                }
                bytes
            }
            (None, Some(stream)) => futures_util::StreamExt::next(stream).await,
            (None, None) => None,
        }
    }
}

impl State {
    fn deliver(&mut self, frame: Bytes) {
        match &mut self.icy {
            None => self.pending.push_back(frame),
            Some(icy) => {
                let title = &self.shared.title;
                icy.push(
                    frame,
                    || {
                        let t = title.borrow();
                        (t.version, t.icy_block.clone())
                    },
                    &mut self.pending,
                );
            }
        }
    }

    /// [`Listener::recv_batch`].
    async fn next_batch(&mut self, out: &mut Pieces) -> bool {
        if self.shared.shutdown.is_cancelled() {
            return false;
        }
        while out.room() > 0
            && let Some(bytes) = self.pending.pop_front()
        {
            let _ = out.push(bytes);
        }
        if self.pending.is_empty() && self.pending.capacity() > PENDING_KEPT {
            self.pending = VecDeque::new();
        }
        if !out.is_empty() {
            return true;
        }
        let mut received = self.rx.recv().await;
        loop {
            match received {
                Ok(chunk) => {
                    let head = self.shared.head.load(Ordering::Acquire);
                    if head.saturating_sub(chunk.end) > self.shared.config.backlog_bytes as u64 {
                        self.drop_lagging(head - chunk.end);
                        return false;
                    }
                    self.deliver_to(chunk.bytes, out);
                }
                Err(RecvError::Lagged(frames)) => {
                    self.drop_lagging(frames);
                    return false;
                }
                Err(RecvError::Closed) => return false,
            }
            // Room for one more chunk split around an ICY block?
            if out.room() < 3 || !self.pending.is_empty() {
                return true;
            }
            received = match self.rx.try_recv() {
                Ok(chunk) => Ok(chunk),
                Err(TryRecvError::Empty) => return true,
                Err(TryRecvError::Lagged(n)) => Err(RecvError::Lagged(n)),
                Err(TryRecvError::Closed) => Err(RecvError::Closed),
            };
        }
    }

    /// [`State::deliver`] into `out`; what does not fit waits in `pending`.
    fn deliver_to(&mut self, frame: Bytes, out: &mut Pieces) {
        let mut sink = Spill {
            out,
            spill: &mut self.pending,
        };
        match &mut self.icy {
            None => sink.extend([frame]),
            Some(icy) => {
                let title = &self.shared.title;
                icy.push(
                    frame,
                    || {
                        let t = title.borrow();
                        (t.version, t.icy_block.clone())
                    },
                    &mut sink,
                );
            }
        }
    }

    async fn next(&mut self) -> Option<Bytes> {
        loop {
            if self.shared.shutdown.is_cancelled() {
                return None;
            }
            if let Some(bytes) = self.pending.pop_front() {
                if self.pending.is_empty() && self.pending.capacity() > PENDING_KEPT {
                    // The burst is out: keep room for an ICY-split chunk, not for the burst.
                    self.pending = VecDeque::with_capacity(PENDING_KEPT);
                }
                return Some(bytes);
            }
            let received = tokio::select! {
                biased;
                () = self.shared.shutdown.cancelled() => return None,
                received = self.rx.recv() => received,
            };
            match received {
                Ok(chunk) => {
                    let head = self.shared.head.load(Ordering::Acquire);
                    if head.saturating_sub(chunk.end) > self.shared.config.backlog_bytes as u64 {
                        self.drop_lagging(head - chunk.end);
                        return None;
                    }
                    self.deliver(chunk.bytes);
                }
                Err(RecvError::Lagged(frames)) => {
                    self.drop_lagging(frames);
                    return None;
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }

    fn drop_lagging(&mut self, behind: u64) {
        self.shared.dropped.fetch_add(1, Ordering::Relaxed);
        tracing::info!(
            behind,
            "dropping a listener that fell behind the live stream"
        );
    }
}

/// Pieces for a write, then (once full, and from then on, to keep the order) the queue.
struct Spill<'a> {
    out: &'a mut Pieces,
    spill: &'a mut VecDeque<Bytes>,
}

impl Extend<Bytes> for Spill<'_> {
    fn extend<I: IntoIterator<Item = Bytes>>(&mut self, iter: I) {
        for bytes in iter {
            if !self.spill.is_empty() {
                self.spill.push_back(bytes);
            } else if let Err(bytes) = self.out.push(bytes) {
                self.spill.push_back(bytes);
            }
        }
    }
}

impl Stream for Listener {
    type Item = Bytes;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        let this = &mut *self;
        let stream = this.stream.get_or_insert_with(|| match this.state.take() {
            Some(state) => {
                let inner = futures_util::stream::unfold(state, |mut state| async move {
                    let bytes = state.next().await?;
                    Some((bytes, state))
                });
                // Fused: polling again after the end yields `None` instead of panicking.
                Box::pin(futures_util::StreamExt::fuse(inner))
            }
            None => Box::pin(futures_util::stream::empty()),
        });
        stream.as_mut().poll_next(cx)
    }
}
