//! Invalidation: changes from this process and the feed reach the caches.

use super::keys::invalidate_keys;
use super::sessions::invalidate_sessions;
use super::*;

#[async_trait::async_trait]
impl ChangeSink for Authorizer {
    /// Applies a change from another instance.
    async fn apply(&self, change: &Change) {
        self.apply_changes(std::slice::from_ref(change)).await;
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
                Change::Project(id) => {
                    invalidate_keys(&self.keys, change);
                    self.meters.forget(*id);
                }
                other => {
                    invalidate_keys(&self.keys, other);
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
            let keys = self.keys.clone();
            handle.spawn(async move {
                tokio::time::sleep(Duration::from_millis(200)).await;
                for change in &sessions {
                    invalidate_keys(&keys, change);
                    invalidate_sessions(&cache, change).await;
                }
            });
        } else {
            self.sessions.invalidate_all();
            self.keys.invalidate_all();
        }
    }
}
