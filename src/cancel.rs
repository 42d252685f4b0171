//! A cancellation token that any thread can trigger and that ends an in-flight call.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;

#[derive(Debug, Default)]
struct Inner {
    cancelled: AtomicBool,
    notify: Notify,
}

/// Cheap to clone; every clone sees the same state.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<Inner>);

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancels every call that uses this token, now and later. Calling it twice is harmless.
    pub fn cancel(&self) {
        self.0.cancelled.store(true, Ordering::SeqCst);
        self.0.notify.notify_waiters();
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.cancelled.load(Ordering::SeqCst)
    }

    /// Completes once the token is cancelled.
    pub async fn cancelled(&self) {
        let notified = self.0.notify.notified();
        tokio::pin!(notified);
        // Register before checking the flag, so a cancel between the two is not missed.
        notified.as_mut().enable();
        if self.is_cancelled() {
            return;
        }
        notified.await;
    }
}

/// How work run by [`race`] ended.
pub(crate) enum Ended<T> {
    /// It ended by itself, with this.
    Done(T),
    /// The caller's token was triggered first.
    Cancelled,
    /// The library's own stop came first (the caller has gone).
    Stopped,
}

/// Runs `work` until it ends, or the caller's token `cancel` or the library's `stop` (each when
/// given) is triggered, whichever comes first; a token already triggered wins at once.
pub(crate) async fn race<T>(work: impl Future<Output = T>, cancel: Option<&CancelToken>, stop: Option<&CancelToken>) -> Ended<T> {
    async fn fired(token: Option<&CancelToken>) {
        match token {
            Some(t) => t.cancelled().await,
            None => std::future::pending().await,
        }
    }
    tokio::select! {
        biased;
        () = fired(cancel) => Ended::Cancelled,
        () = fired(stop) => Ended::Stopped,
        out = work => Ended::Done(out),
    }
}

/// Cancels its token when dropped: work started for a caller stops when the caller leaves,
/// however it leaves (a callback that stops, an error, a panic in a callback).
pub(crate) struct StopOnDrop(pub(crate) CancelToken);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ended<T>(work: impl Future<Output = T>, cancel: Option<&CancelToken>, stop: Option<&CancelToken>) -> Ended<T> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        rt.block_on(race(work, cancel, stop))
    }

    #[test]
    fn race_ends_with_the_work_or_the_first_token_triggered() {
        let (cancel, stop) = (CancelToken::new(), CancelToken::new());
        assert!(matches!(ended(async { 7 }, Some(&cancel), Some(&stop)), Ended::Done(7)));
        assert!(matches!(ended(async { 7 }, None, None), Ended::Done(7)));
        stop.cancel();
        assert!(matches!(ended(std::future::pending::<()>(), Some(&cancel), Some(&stop)), Ended::Stopped));
        // The caller's token comes first when both are triggered, and before work that is ready.
        cancel.cancel();
        assert!(matches!(ended(async { 7 }, Some(&cancel), Some(&stop)), Ended::Cancelled));
        // A token triggered while the work waits ends it.
        let later = CancelToken::new();
        let trigger = later.clone();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(50));
            trigger.cancel();
        });
        assert!(matches!(ended(std::future::pending::<()>(), Some(&later), None), Ended::Cancelled));
    }
}
