//! The change feed: delivers changes journalled by any instance to this instance's caches.
//!
//! The `rbac_changes` table is the source of truth; notifications only say "look now". A
//! feed reads `changes_since(cursor)` on every wake-up. Ids come from a sequence that
//! concurrent transactions may commit out of order (PostgreSQL, MySQL), so a hole below the
//! newest id seen is re-read for a while before the cursor moves past it.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rbac_core::store::{ChangeLog, ChangeSink, CodeStore, SessionStore, StoreResult};
use rbac_core::{now, Change};
#[cfg(feature = "postgres")]
use sqlx::postgres::{PgListener, PgPool};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

#[cfg(feature = "postgres")]
use crate::postgres;
use crate::SqlStore;

/// How long a hole in the change ids may stay open before the cursor moves past it.
const GAP_WAIT: Duration = Duration::from_secs(10);
/// Holes wider than this are given up at once (a sequence jump, not in-flight writes).
const MAX_GAP: i64 = 10_000;
/// Changes read per query.
const BATCH: u32 = 500;
/// How often old changes are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(600);
/// How long changes are kept.
const KEEP_CHANGES: i64 = 3600;
/// On PostgreSQL, the shortest safety-net poll while LISTEN works.
const PG_SAFETY_POLL: Duration = Duration::from_secs(30);

/// Spawns a task that applies every change journalled after it starts, in id order, to `sink`.
///
/// On PostgreSQL it LISTENs on `rbac_changes` (reconnecting on error) and polls only as a
/// safety net (every `max(poll, 30 s)`, or every `poll` while not listening); on SQLite
/// and MySQL it polls every `poll`. It prunes changes older than an hour every ten
/// minutes. It ends when the store is closed; abort the handle to stop it sooner.
pub fn spawn_change_feed(
    store: SqlStore,
    sink: Arc<dyn ChangeSink>,
    poll: Duration,
) -> JoinHandle<()> {
    tokio::spawn(run(store, sink, poll))
}

async fn run(store: SqlStore, sink: Arc<dyn ChangeSink>, poll: Duration) {
    let poll = poll.max(Duration::from_millis(10));
    let wake = Arc::new(Notify::new());
    let listening = Arc::new(AtomicBool::new(false));
    #[cfg(feature = "postgres")]
    let _listener = store
        .pg_pool()
        .cloned()
        .map(|pool| AbortOnDrop(tokio::spawn(listen(pool, wake.clone(), listening.clone()))));

    let mut feed = loop {
        match store.change_cursor().await {
            Ok(cursor) => {
                // What the log held at start is what the caches were loaded from.
                sink.caught_up(cursor);
                break Feed::new(cursor);
            }
            Err(e) if store.is_closed() => {
                tracing::debug!(error = %e, "change feed: store closed");
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, "change feed: cannot read the change cursor; retrying");
                tokio::time::sleep(poll).await;
            }
        }
    };
    let mut last_prune: Option<Instant> = None;
    loop {
        if last_prune.is_none_or(|t| t.elapsed() >= PRUNE_EVERY) {
            if let Err(e) = store.prune_changes(now() - KEEP_CHANGES).await {
                tracing::warn!(error = %e, "change feed: pruning old changes failed");
            }
            // Housekeeping at the same pace: expired sessions and verification codes.
            if let Err(e) = store.purge_sessions(now() - 60).await {
                tracing::warn!(error = %e, "purging expired sessions failed");
            }
            if let Err(e) = store.purge_codes(now()).await {
                tracing::warn!(error = %e, "purging expired codes failed");
            }
            if let Err(e) = rbac_core::PasskeyStore::purge_ceremonies(&store, now()).await {
                tracing::warn!(error = %e, "purging expired passkey ceremonies failed");
            }
            last_prune = Some(Instant::now());
        }
        match feed.catch_up(&store, sink.as_ref()).await {
            Ok(()) => sink.caught_up(feed.position()),
            Err(e) if store.is_closed() => {
                let _ = e;
                return;
            }
            Err(e) => tracing::warn!(error = %e, "change feed: reading changes failed"),
        }
        let interval = if listening.load(Ordering::Relaxed) {
            poll.max(PG_SAFETY_POLL)
        } else {
            poll
        };
        tokio::select! {
            _ = wake.notified() => {}
            _ = sink.wanted() => {}
            _ = tokio::time::sleep(interval) => {}
        }
        if store.is_closed() {
            return;
        }
    }
}

/// LISTENs for change notifications and wakes the feed, reconnecting on failure.
#[cfg(feature = "postgres")]
async fn listen(pool: PgPool, wake: Arc<Notify>, listening: Arc<AtomicBool>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        if pool.is_closed() {
            return;
        }
        match PgListener::connect_with(&pool).await {
            Ok(mut listener) => {
                listener.eager_reconnect(true);
                match listener.listen(postgres::CHANNEL).await {
                    Ok(()) => {
                        listening.store(true, Ordering::Relaxed);
                        backoff = Duration::from_millis(100);
                        // Anything committed before LISTEN took effect is read now.
                        wake.notify_one();
                        loop {
                            match listener.try_recv().await {
                                Ok(Some(_)) => wake.notify_one(),
                                // Reconnected (and LISTENing again): notifications may
                                // have been lost meanwhile, so read the table.
                                Ok(None) => wake.notify_one(),
                                Err(e) => {
                                    tracing::warn!(error = %e, "change feed: LISTEN connection failed");
                                    break;
                                }
                            }
                        }
                        listening.store(false, Ordering::Relaxed);
                        wake.notify_one();
                    }
                    Err(e) => tracing::warn!(error = %e, "change feed: LISTEN failed"),
                }
            }
            Err(e) => tracing::warn!(error = %e, "change feed: cannot connect the listener"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
}

/// Aborts a task when dropped.
#[cfg(feature = "postgres")]
struct AbortOnDrop(JoinHandle<()>);

#[cfg(feature = "postgres")]
impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Which changes were applied: all ids up to `cursor`, and `seen` above it.
struct Feed {
    cursor: i64,
    seen: BTreeSet<i64>,
    holes: HashMap<i64, Instant>,
}

impl Feed {
    fn new(cursor: i64) -> Self {
        Feed {
            cursor,
            seen: BTreeSet::new(),
            holes: HashMap::new(),
        }
    }

    /// The newest id applied after a catch-up: every change the log showed up to it was
    /// applied (ids still missing below it were not visible: in-flight transactions).
    fn position(&self) -> i64 {
        self.seen
            .last()
            .copied()
            .unwrap_or(self.cursor)
            .max(self.cursor)
    }

    /// Reads and applies every change not applied yet.
    async fn catch_up<S: ChangeLog + ?Sized>(
        &mut self,
        store: &S,
        sink: &dyn ChangeSink,
    ) -> StoreResult<()> {
        let mut from = self.cursor;
        loop {
            let batch = store.changes_since(from, BATCH).await?;
            let full = batch.len() == BATCH as usize;
            if let Some((last, _)) = batch.last() {
                from = *last;
            }
            for change in self.fresh(&batch) {
                sink.apply(&change).await;
            }
            if !full {
                break;
            }
        }
        self.advance(Instant::now());
        Ok(())
    }

    /// The changes of a batch that were not applied before, in order; marks them seen.
    fn fresh(&mut self, batch: &[(i64, Change)]) -> Vec<Change> {
        let mut out = Vec::new();
        for (id, change) in batch {
            if *id > self.cursor && self.seen.insert(*id) {
                out.push(change.clone());
            }
        }
        out
    }

    /// Moves the cursor over applied ids and over holes that stayed open too long.
    fn advance(&mut self, at: Instant) {
        let Some(&newest) = self.seen.last() else {
            return;
        };
        if newest - self.cursor > MAX_GAP {
            self.cursor = newest - MAX_GAP;
            let cursor = self.cursor;
            self.seen.retain(|id| *id > cursor);
            self.holes.retain(|id, _| *id > cursor);
        }
        while self.cursor < newest {
            let next = self.cursor + 1;
            if self.seen.remove(&next) {
                self.holes.remove(&next);
            } else {
                let opened = *self.holes.entry(next).or_insert(at);
                if at.duration_since(opened) < GAP_WAIT {
                    break;
                }
                self.holes.remove(&next);
            }
            self.cursor = next;
        }
        for id in self.cursor + 1..newest {
            if !self.seen.contains(&id) {
                self.holes.entry(id).or_insert(at);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[derive(Default)]
    struct Sink(Mutex<Vec<Change>>);

    impl Sink {
        fn take(&self, changes: Vec<Change>) {
            if let Ok(mut v) = self.0.lock() {
                v.extend(changes);
            }
        }
    }

    fn batch(ids: &[i64]) -> Vec<(i64, Change)> {
        ids.iter().map(|id| (*id, Change::Role(*id))).collect()
    }

    #[test]
    fn contiguous_ids_move_the_cursor() {
        let sink = Sink::default();
        let mut feed = Feed::new(10);
        sink.take(feed.fresh(&batch(&[11, 12, 13])));
        feed.advance(Instant::now());
        assert_eq!(feed.cursor, 13);
        assert!(feed.seen.is_empty() && feed.holes.is_empty());
    }

    #[test]
    fn a_hole_holds_the_cursor_until_filled() {
        let sink = Sink::default();
        let mut feed = Feed::new(10);
        let t = Instant::now();
        sink.take(feed.fresh(&batch(&[11, 13, 14])));
        feed.advance(t);
        assert_eq!(feed.cursor, 11);
        // A re-read returns 13 and 14 again: not applied twice. 12 commits late.
        sink.take(feed.fresh(&batch(&[12, 13, 14])));
        feed.advance(t);
        assert_eq!(feed.cursor, 14);
        let got = sink.0.lock().map(|v| v.clone()).unwrap_or_default();
        assert_eq!(
            got,
            vec![
                Change::Role(11),
                Change::Role(13),
                Change::Role(14),
                Change::Role(12)
            ]
        );
    }

    #[test]
    fn a_hole_is_given_up_after_a_while() {
        let sink = Sink::default();
        let mut feed = Feed::new(0);
        let t = Instant::now();
        sink.take(feed.fresh(&batch(&[1, 3])));
        feed.advance(t);
        assert_eq!(feed.cursor, 1);
        feed.advance(t + GAP_WAIT);
        assert_eq!(feed.cursor, 3);
        assert!(feed.holes.is_empty());
    }

    #[test]
    fn a_huge_jump_is_not_waited_for_id_by_id() {
        let sink = Sink::default();
        let mut feed = Feed::new(0);
        sink.take(feed.fresh(&batch(&[1_000_000])));
        feed.advance(Instant::now());
        assert_eq!(feed.cursor, 1_000_000 - MAX_GAP);
        assert!(feed.holes.len() as i64 <= MAX_GAP);
    }
}
