//! Settings and the change log in memory.

use async_trait::async_trait;

use super::MemoryStore;
use crate::model::*;
use crate::store::*;

#[async_trait]
impl SettingStore for MemoryStore {
    async fn setting(&self, key: &str) -> StoreResult<Option<String>> {
        Ok(self.lock().settings.get(key).cloned())
    }

    async fn setting_or_insert(&self, key: &str, value: &str) -> StoreResult<String> {
        Ok(self
            .lock()
            .settings
            .entry(key.to_string())
            .or_insert_with(|| value.to_string())
            .clone())
    }
}

#[async_trait]
impl ChangeLog for MemoryStore {
    async fn change_cursor(&self) -> StoreResult<i64> {
        Ok(self.lock().next_change)
    }

    async fn changes_since(&self, cursor: i64, limit: u32) -> StoreResult<Vec<(i64, Change)>> {
        Ok(self
            .lock()
            .changes
            .iter()
            .filter(|(id, _, _)| *id > cursor)
            .take(limit as usize)
            .map(|(id, _, c)| (*id, c.clone()))
            .collect())
    }

    async fn prune_changes(&self, before: Timestamp) -> StoreResult<u64> {
        let mut t = self.lock();
        let n = t.changes.len();
        t.changes.retain(|(_, at, _)| *at >= before);
        Ok((n - t.changes.len()) as u64)
    }
}
