//! Waiting for a cancellation at no cost per wake-up: what a listener's task wraps its whole
//! life in.
//!
//! `CancellationToken::cancelled()` registers a waiter on the token's shared list, and every
//! poll of it takes that list's lock (to refresh the waker), every drop takes it again. A
//! listener is polled at every published chunk, ten thousand of them at once: selecting on a
//! fresh `cancelled()` at each wake-up costs three locks of one shared mutex per listener per
//! chunk. [`UntilCancelled`] registers once and afterwards reads only the token's flag: the
//! waker it registered is the task's, which stays valid for the task's life.
//!
//! It is a named future rather than an `async fn` so that the work it wraps is stored once in
//! the task (an `async fn` keeps its by-value argument and the pinned copy it polls, and a
//! listener's task size is its memory).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

/// Runs `work` until it completes (`Some`) or `token` is cancelled (`None`, `work` dropped).
/// For a future polled by one task (a spawned task's own body): the cancellation's waiter is
/// registered at the first poll with that task's waker and never refreshed.
pub struct UntilCancelled<F> {
    token: CancellationToken,
    cancelled: WaitForCancellationFutureOwned,
    registered: bool,
    work: F,
}

impl<F: Future> UntilCancelled<F> {
    pub fn new(token: CancellationToken, work: F) -> UntilCancelled<F> {
        UntilCancelled {
            cancelled: token.clone().cancelled_owned(),
            token,
            registered: false,
            work,
        }
    }
}

impl<F: Future> Future for UntilCancelled<F> {
    type Output = Option<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        // SAFETY: `work` and `cancelled` are pinned with `self` (structural pinning): they are
        // only ever reached through these `Pin`s, never moved out, and `UntilCancelled` has
        // no `Drop` of its own that could move them.
        let this = unsafe { self.get_unchecked_mut() };
        if this.token.is_cancelled() {
            return Poll::Ready(None);
        }
        let work = unsafe { Pin::new_unchecked(&mut this.work) };
        if let Poll::Ready(out) = work.poll(cx) {
            return Poll::Ready(Some(out));
        }
        if !this.registered {
            this.registered = true;
            let cancelled = unsafe { Pin::new_unchecked(&mut this.cancelled) };
            if cancelled.poll(cx).is_ready() {
                return Poll::Ready(None);
            }
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn ends_the_work_on_cancellation_and_returns_its_output_otherwise() {
        let token = CancellationToken::new();
        assert_eq!(
            UntilCancelled::new(token.clone(), async { 7 }).await,
            Some(7)
        );
        let waiting = tokio::spawn(UntilCancelled::new(token.clone(), async {
            // Wakes now and then, as a listener does at every chunk.
            loop {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }));
        tokio::time::sleep(Duration::from_secs(2)).await;
        token.cancel();
        let ended: Option<()> = waiting.await.unwrap();
        assert_eq!(ended, None);
        assert_eq!(UntilCancelled::new(token, async { 7 }).await, None);
    }
}
