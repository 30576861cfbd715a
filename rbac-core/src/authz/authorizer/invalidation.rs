//! Invalidation: changes from this process and the feed reach the caches.

#[cfg(feature = "api-keys")]
use super::keys::invalidate_keys;
use super::sessions::invalidate_sessions;
use super::*;

#[async_trait::async_trait]
impl ChangeSink for Authorizer {
    /// Applies a change from another instance.
    async fn apply(&self, change: &Change) {
        self.apply_changes(std::slice::from_ref(change)).await;
    }

    fn caught_up(&self, position: i64) {
        self.position.send_if_modified(|applied| {
            let newer = position > *applied;
            if newer {
                *applied = position;
            }
            newer
        });
    }

    async fn wanted(&self) {
        self.want.notified().await;
    }
}

impl Authorizer {
    /// The change-log position this process has applied, with every earlier change the
    /// log showed (0 before a change feed reports one).
    pub fn applied_position(&self) -> i64 {
        *self.position.borrow()
    }

    /// Waits until this process has applied the change at `position` and every earlier
    /// one the log shows, asking the feed to read at once; `false` when `wait` passes first.
    pub async fn await_position(&self, position: i64, wait: std::time::Duration) -> bool {
        let mut applied = self.position.subscribe();
        if *applied.borrow_and_update() >= position {
            return true;
        }
        if wait.is_zero() {
            // No time to wait: answer from what is applied now (a feed woken here could
            // race the answer and make it depend on scheduling).
            return false;
        }
        self.want.notify_one();
        let reached = tokio::time::timeout(wait, applied.wait_for(|p| *p >= position))
            .await
            .is_ok_and(|r| r.is_ok());
        reached
    }
}

impl Authorizer {
    /// Applies changes to the caches before returning (in-process writes use this, so the
    /// very next request sees them). A changed role is re-read and swapped in place, never
    /// left missing; sessions are invalidated now and once more shortly after, so that a
    /// load which read the store just before the change committed leaves nothing stale.
    pub async fn apply_changes(&self, changes: &[Change]) {
        for change in changes {
            match change {
                Change::Role(id) => self.reload_role(*id).await,
                Change::Scope(scope) => {
                    self.reload_scope(*scope).await;
                    #[cfg(feature = "api-keys")]
                    invalidate_keys(&self.keys.cache, change);
                    invalidate_sessions(&self.sessions, change).await;
                }
                #[cfg(feature = "api-keys")]
                Change::ApiKey(id) => {
                    invalidate_keys(&self.keys.cache, change);
                    self.keys.meters.forget(*id);
                }
                other => {
                    #[cfg(feature = "api-keys")]
                    invalidate_keys(&self.keys.cache, other);
                    invalidate_sessions(&self.sessions, other).await
                }
            }
        }
        self.repeat_later(changes);
    }

    pub(super) fn repeat_later(&self, changes: &[Change]) {
        let sessions: Vec<Change> = changes
            .iter()
            .filter(|c| !matches!(c, Change::Role(_)))
            .cloned()
            .collect();
        if sessions.is_empty() {
            return;
        }
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            let cache = self.sessions.clone();
            #[cfg(feature = "api-keys")]
            let keys = self.keys.cache.clone();
            handle.spawn(async move {
                tokio::time::sleep(Duration::from_millis(200)).await;
                for change in &sessions {
                    #[cfg(feature = "api-keys")]
                    invalidate_keys(&keys, change);
                    invalidate_sessions(&cache, change).await;
                }
            });
        } else {
            self.sessions.invalidate_all();
            #[cfg(feature = "api-keys")]
            self.keys.cache.invalidate_all();
        }
    }
}
