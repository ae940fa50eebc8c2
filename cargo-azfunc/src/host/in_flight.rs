//! Work under way (requests, invocations), counted so that a stop can let
//! it finish before it cuts anything off.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper::body::{Body, Frame, SizeHint};

/// A count of work under way; clones share it.
#[derive(Clone, Debug, Default)]
pub struct InFlight(Arc<AtomicUsize>);

/// One piece of work, counted until dropped.
#[derive(Debug)]
pub struct Entered(Arc<AtomicUsize>);

impl InFlight {
    /// Counts one more piece of work, until the answer is dropped.
    pub fn enter(&self) -> Entered {
        self.0.fetch_add(1, Ordering::SeqCst);
        Entered(self.0.clone())
    }

    /// How many are under way.
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }

    /// Waits until none is under way, at most `limit`; whether none is.
    pub async fn drained(&self, limit: Duration) -> bool {
        let started = Instant::now();
        while self.count() > 0 {
            if started.elapsed() >= limit {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }
}

impl Drop for Entered {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A response body that keeps its request counted until it has been sent
/// in full (or dropped): a streamed body outlives its handler.
pub struct Counted<B> {
    body: B,
    _entered: Entered,
}

impl<B> Counted<B> {
    pub fn new(body: B, entered: Entered) -> Counted<B> {
        Counted {
            body,
            _entered: entered,
        }
    }
}

impl<B: Body + Unpin> Body for Counted<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn drained_waits_for_the_last_one_and_no_longer() {
        let work = InFlight::default();
        let (a, b) = (work.enter(), work.clone().enter());
        assert_eq!(work.count(), 2);
        assert!(!work.drained(Duration::from_millis(50)).await);
        drop(a);
        let waiting = {
            let work = work.clone();
            tokio::spawn(async move { work.drained(Duration::from_secs(5)).await })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!waiting.is_finished());
        drop(b);
        assert!(waiting.await.expect("joins"));
        assert_eq!(work.count(), 0);
    }
}
