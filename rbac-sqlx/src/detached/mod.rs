//! Store work that outlives its caller: the choke point that keeps the pool sound when a
//! request ends early.
//!
//! A future can be dropped at any `.await` (the client went away, a timeout fired). sqlx 0.8
//! leaves a connection dropped between `begin` and `commit`, or in the middle of a message,
//! unusable: on SQLite the next `begin` fails ("non-zero transaction depth") and the write
//! lock can stay taken; on MySQL the protocol falls out of step. So no port method runs its
//! SQL on the caller's future. Each one runs on a task of its own, which the caller only
//! waits for: a caller that stops waiting abandons nothing, and the work commits or rolls
//! back as it would have, returning its connection clean. Reads go the same way (a read cut
//! mid-message is what broke MySQL). `ChangeLog::settled` resolves once every such task begun
//! before it has ended.
//!
//! The port implementations are written once, on [`Direct`] (the store running on the
//! current task); `SqlStore`'s implementations in this folder only move their arguments into
//! a task and call `Direct`'s. A port method is added in both places, and the conformance
//! suite's cancellation sweep names every method, so one left out fails the suite.

mod authorizer;
mod records;
mod sessions;
mod users;

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rbac_core::store::StoreResult;
use rbac_core::{Revoke, StoreError};
use tokio::sync::Notify;

use crate::SqlStore;

/// The store, running its SQL on the current task: what the port implementations are
/// written on, and what a detached task calls.
#[derive(Clone)]
pub(crate) struct Direct(pub(crate) SqlStore);

impl std::ops::Deref for Direct {
    type Target = SqlStore;

    fn deref(&self) -> &SqlStore {
        &self.0
    }
}

/// The store's detached tasks still running, each by the sequence number it started with.
#[derive(Default)]
pub(crate) struct Tasks {
    next: AtomicU64,
    running: Mutex<BTreeSet<u64>>,
    ended: Notify,
    /// Callers of `settled` waiting now: a task that ends wakes them only when there are
    /// any (so a store call takes no lock besides the set's).
    waiting: AtomicUsize,
}

/// One running task, counted until it ends (however it ends).
struct Running {
    tasks: Arc<Tasks>,
    id: u64,
}

impl Running {
    fn start(tasks: &Arc<Tasks>) -> Running {
        // Numbered and entered under one lock: `settled` never sees a number handed out
        // whose task is not in the set yet.
        let mut running = tasks.lock();
        let id = tasks.next.fetch_add(1, Ordering::SeqCst);
        running.insert(id);
        drop(running);
        Running {
            tasks: tasks.clone(),
            id,
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.tasks.lock().remove(&self.id);
        // SeqCst on both sides: a `settled` that counted itself after this load checks the
        // set after the removal above, so it never waits for a wake that will not come.
        if self.tasks.waiting.load(Ordering::SeqCst) > 0 {
            self.tasks.ended.notify_waiters();
        }
    }
}

/// One caller of `settled`, counted while it waits (however its future ends).
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn count(waiting: &'a AtomicUsize) -> Self {
        waiting.fetch_add(1, Ordering::SeqCst);
        Waiting(waiting)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Tasks {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<u64>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Resolves once every task begun before the call has ended (later ones not waited for,
    /// so a busy store cannot starve the caller).
    pub(crate) async fn settled(&self) {
        let before = {
            let _running = self.lock();
            self.next.load(Ordering::SeqCst)
        };
        let _waiting = Waiting::count(&self.waiting);
        loop {
            let ended = self.ended.notified();
            tokio::pin!(ended);
            ended.as_mut().enable();
            if self.lock().first().is_none_or(|oldest| *oldest >= before) {
                return;
            }
            ended.await;
        }
    }

    /// How many tasks run now.
    pub(crate) fn running(&self) -> usize {
        self.lock().len()
    }
}

impl SqlStore {
    /// Runs `work` on a task of its own and waits for it: dropping the returned future
    /// abandons the wait, never the work.
    pub(crate) async fn detached<T, F, Fut>(&self, work: F) -> StoreResult<T>
    where
        F: FnOnce(Direct) -> Fut,
        Fut: Future<Output = StoreResult<T>> + Send + 'static,
        T: Send + 'static,
    {
        let running = Running::start(&self.tasks);
        let task = work(Direct(self.clone()));
        let handle = tokio::spawn(async move {
            let _running = running;
            task.await
        });
        match handle.await {
            Ok(done) => done,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => Err(StoreError::backend(
                "store work was cancelled: the runtime is shutting down",
            )),
        }
    }

    /// How many store tasks run now, abandoned ones included.
    pub fn running_tasks(&self) -> usize {
        self.tasks.running()
    }
}

/// Owned forms of the borrowed arguments a detached task cannot hold by reference.
pub(crate) struct Owned;

impl Owned {
    /// A [`Revoke`] that owns the session it keeps.
    pub(crate) fn revoke(revoke: Revoke<'_>) -> OwnedRevoke {
        OwnedRevoke(revoke.keeping().map(|keep| keep.map(str::to_owned)))
    }
}

/// A [`Revoke`] that owns the session it keeps.
pub(crate) struct OwnedRevoke(Option<Option<String>>);

impl OwnedRevoke {
    /// The borrowed form the port takes.
    pub(crate) fn revoke(&self) -> Revoke<'_> {
        match &self.0 {
            None => Revoke::Nothing,
            Some(None) => Revoke::All,
            Some(Some(keep)) => Revoke::AllBut(keep),
        }
    }
}
