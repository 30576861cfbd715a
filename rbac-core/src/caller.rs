//! Whether the caller of detached work still waits for its answer.
//!
//! Work a caller may abandon (a login, a write) runs on a task of its own so that it ends
//! consistently however the caller's future is dropped. Such work can still ask whether
//! anyone waits for it: a hash whose only purpose is the time the answer takes (an unknown
//! name's dummy verification) is pointless once nobody waits, and an anonymous client that
//! sends logins and goes away must not leave the server hashing for it.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// One level of detached work: gone when its caller dropped its future, or when the work
/// that started it is itself gone.
#[derive(Debug, Default)]
struct Caller {
    gone: AtomicBool,
    parent: Option<Arc<Caller>>,
}

impl Caller {
    fn is_gone(&self) -> bool {
        self.gone.load(Ordering::Relaxed) || self.parent.as_ref().is_some_and(|p| p.is_gone())
    }
}

tokio::task_local! {
    static CALLER: Arc<Caller>;
}

/// Marks the caller gone when the waiting future is dropped before the work answered.
struct Waiting {
    caller: Arc<Caller>,
    answered: bool,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if !self.answered {
            self.caller.gone.store(true, Ordering::Relaxed);
        }
    }
}

/// True when the detached work running on this task has nobody waiting for its answer
/// (always false outside detached work).
pub(crate) fn gone() -> bool {
    CALLER.try_with(|c| c.is_gone()).unwrap_or(false)
}

/// Runs `work` on a task of its own and waits for it; dropping the returned future leaves
/// the work running to its end, and [`gone`] true inside it.
pub(crate) async fn detached<T: Send + 'static>(
    work: impl Future<Output = crate::error::Result<T>> + Send + 'static,
) -> crate::error::Result<T> {
    let caller = Arc::new(Caller {
        gone: AtomicBool::new(false),
        parent: CALLER.try_with(Arc::clone).ok(),
    });
    let mut waiting = Waiting {
        caller: caller.clone(),
        answered: false,
    };
    let joined = tokio::spawn(CALLER.scope(caller, work)).await;
    waiting.answered = true;
    match joined {
        Ok(done) => done,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => Err(crate::error::Error::internal(
            "the runtime is shutting down",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn work_learns_that_its_caller_went_away() {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let (seen_tx, seen_rx) = tokio::sync::oneshot::channel();
        let waiting = tokio::spawn(detached(async move {
            assert!(!gone(), "the caller waits at first");
            let _ = rx.await;
            // Nested detached work sees its ancestor's caller gone too.
            let nested = detached(async { Ok(gone()) }).await?;
            let _ = seen_tx.send((gone(), nested));
            Ok(())
        }));
        tokio::time::sleep(Duration::from_millis(20)).await;
        waiting.abort();
        let _ = waiting.await;
        let _ = tx.send(());
        assert_eq!(seen_rx.await.expect("the work ran on"), (true, true));
    }

    #[tokio::test]
    async fn work_whose_caller_waits_is_not_gone() {
        let nested = detached(async { detached(async { Ok(gone()) }).await })
            .await
            .expect("answered");
        assert!(!nested);
        assert!(!gone(), "outside detached work");
    }
}
