//! The in-memory store's failed-login counters and known login addresses.

use async_trait::async_trait;

use super::MemoryStore;
use crate::model::{ThrottlePolicy, Timestamp};
use crate::store::{StoreResult, ThrottleStore};

#[async_trait]
impl ThrottleStore for MemoryStore {
    async fn login_blocked(&self, keys: &[&str], at: Timestamp) -> StoreResult<Option<Timestamp>> {
        let t = self.lock();
        Ok(keys
            .iter()
            .filter_map(|k| t.login_failures.get(*k).map(|f| f.2))
            .filter(|until| *until > at)
            .max())
    }

    async fn record_login_failure(
        &self,
        key: &str,
        at: Timestamp,
        policy: &ThrottlePolicy,
    ) -> StoreResult<u32> {
        let mut t = self.lock();
        let entry = t
            .login_failures
            .entry(key.to_string())
            .or_insert((0, at, 0));
        if entry.1 <= at - policy.window {
            *entry = (0, at, 0);
        }
        entry.0 += 1;
        entry.2 = policy.blocked_until(entry.0, at);
        Ok(entry.0)
    }

    async fn reserve_login_attempt(
        &self,
        key: &str,
        at: Timestamp,
        policy: &ThrottlePolicy,
    ) -> StoreResult<Result<u32, Timestamp>> {
        let mut t = self.lock();
        let entry = t
            .login_failures
            .entry(key.to_string())
            .or_insert((0, at, 0));
        if entry.2 > at {
            return Ok(Err(entry.2));
        }
        if entry.1 <= at - policy.window {
            *entry = (0, at, 0);
        }
        entry.0 += 1;
        entry.2 = policy.blocked_until(entry.0, at);
        Ok(Ok(entry.0))
    }

    async fn clear_login_failures(&self, key: &str) -> StoreResult<()> {
        self.lock().login_failures.remove(key);
        Ok(())
    }

    async fn clear_login_failures_under(&self, key: &str) -> StoreResult<()> {
        let under = format!("{key}@");
        self.lock()
            .login_failures
            .retain(|k, _| k != key && !k.starts_with(&under));
        Ok(())
    }

    async fn remember_login_address(
        &self,
        account: &str,
        address: &str,
        at: Timestamp,
    ) -> StoreResult<()> {
        let mut t = self.lock();
        let last = t
            .login_addresses
            .entry((account.to_string(), address.to_string()))
            .or_insert(at);
        *last = (*last).max(at);
        Ok(())
    }

    async fn login_address_known(
        &self,
        account: &str,
        address: &str,
        since: Timestamp,
    ) -> StoreResult<bool> {
        let t = self.lock();
        Ok(t.login_addresses
            .get(&(account.to_string(), address.to_string()))
            .is_some_and(|last| *last >= since))
    }
}
