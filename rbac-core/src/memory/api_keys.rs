//! The in-memory store's API keys, request counts and quota reservations.

use async_trait::async_trait;

use super::MemoryStore;
use crate::error::{Entity, Field, StoreError};
use crate::model::*;
use crate::store::{quota_grant, ApiKeyStore, StoreResult};

#[async_trait]
impl ApiKeyStore for MemoryStore {
    async fn create_api_key(&self, key: &ApiKey, journal: &Journal) -> StoreResult<ApiKey> {
        let mut t = self.lock();
        if !t.users.contains_key(&key.owner_id) {
            return Err(StoreError::NotFound(Entity::User));
        }
        if t.api_keys.values().any(|k| k.key == key.key) {
            return Err(StoreError::Conflict(Field::Other));
        }
        t.next_api_key += 1;
        let mut key = key.clone();
        key.id = t.next_api_key;
        t.api_keys.insert(key.id, key.clone());
        t.journal(journal);
        Ok(key)
    }

    async fn api_key(&self, id: ApiKeyId) -> StoreResult<Option<ApiKey>> {
        Ok(self.lock().api_keys.get(&id).cloned())
    }

    async fn find_api_key(&self, key: &str) -> StoreResult<Option<ApiKey>> {
        Ok(self
            .lock()
            .api_keys
            .values()
            .find(|k| k.key == key)
            .cloned())
    }

    async fn count_api_keys(&self, owner: UserId) -> StoreResult<u64> {
        let t = self.lock();
        Ok(t.api_keys
            .values()
            .filter(|k| k.owner_id == owner && !k.revoked)
            .count() as u64)
    }

    async fn api_key_rows(
        &self,
        owner: UserId,
        page: Page,
        after: Option<ApiKeyId>,
    ) -> StoreResult<Vec<ApiKey>> {
        let t = self.lock();
        let (offset, limit) = page.sql_bounds();
        Ok(t.api_keys
            .values()
            .filter(|k| k.owner_id == owner && !k.revoked)
            .filter(|k| after.is_none_or(|a| k.id > a))
            .skip(offset as usize)
            .take(limit.min(usize::MAX as i64) as usize)
            .cloned()
            .collect())
    }

    async fn revoke_api_key(&self, id: ApiKeyId, journal: &Journal) -> StoreResult<bool> {
        let mut t = self.lock();
        match t.api_keys.get_mut(&id) {
            Some(k) if !k.revoked => {
                k.revoked = true;
                t.journal(journal);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn add_key_requests(&self, counts: &[RequestCount]) -> StoreResult<()> {
        let mut t = self.lock();
        for c in counts {
            if let Some(p) = t.api_keys.get_mut(&c.key) {
                p.request_total += c.requests;
                if p.request_day == c.day {
                    p.request_today += c.requests;
                } else if c.day > p.request_day {
                    p.request_day = c.day;
                    p.request_today = c.requests;
                }
            }
        }
        Ok(())
    }

    async fn reserve_key_quota(&self, key: ApiKeyId, day: i64, want: i64) -> StoreResult<i64> {
        let mut t = self.lock();
        let Some(max) = t.api_keys.get(&key).and_then(|k| k.daily_limit) else {
            return Ok(0);
        };
        let slot = t.quota.entry(key).or_insert((day, 0));
        if slot.0 > day {
            return Ok(0);
        }
        if slot.0 < day {
            *slot = (day, 0);
        }
        let granted = quota_grant(want, max - slot.1);
        slot.1 += granted;
        Ok(granted)
    }

    async fn release_key_quota(&self, key: ApiKeyId, day: i64, unused: i64) -> StoreResult<()> {
        let mut t = self.lock();
        if let Some(slot) = t.quota.get_mut(&key) {
            if slot.0 == day {
                slot.1 = (slot.1 - unused.max(0)).max(0);
            }
        }
        Ok(())
    }
}
