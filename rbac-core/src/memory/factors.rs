//! Second factors in memory.

use async_trait::async_trait;

use super::MemoryStore;
use crate::error::{Entity, Field, StoreError};
use crate::model::*;
use crate::store::*;

#[async_trait]
impl SecondFactorStore for MemoryStore {
    async fn totp(&self, user: UserId) -> StoreResult<Option<TotpFactor>> {
        Ok(self.lock().totp.get(&user).cloned())
    }

    async fn put_pending_totp(&self, factor: &TotpFactor, journal: &Journal) -> StoreResult<()> {
        let mut t = self.lock();
        if !t.users.contains_key(&factor.user_id) {
            return Err(StoreError::NotFound(Entity::User));
        }
        if t.totp.get(&factor.user_id).is_some_and(|f| f.confirmed) {
            return Err(StoreError::Conflict(Field::Other));
        }
        let pending = TotpFactor {
            confirmed: false,
            ..factor.clone()
        };
        t.totp.insert(factor.user_id, pending);
        t.journal(journal);
        Ok(())
    }

    async fn confirm_totp(
        &self,
        user: UserId,
        step: i64,
        recovery: &[String],
        end_sessions_but: Option<&str>,
        journal: &Journal,
    ) -> StoreResult<bool> {
        let mut t = self.lock();
        match t.totp.get_mut(&user) {
            Some(f) if !f.confirmed => {
                f.confirmed = true;
                f.last_step = step;
            }
            _ => return Ok(false),
        }
        t.recovery.insert(user, recovery.to_vec());
        if let Some(keep) = end_sessions_but {
            t.revoke_sessions_of(user, Some(keep));
        }
        t.journal(journal);
        Ok(true)
    }

    async fn claim_totp_step(&self, user: UserId, step: i64) -> StoreResult<bool> {
        let mut t = self.lock();
        match t.totp.get_mut(&user) {
            Some(f) if f.confirmed && f.last_step < step => {
                f.last_step = step;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn use_recovery_code(&self, user: UserId, digest: &str) -> StoreResult<bool> {
        let mut t = self.lock();
        let Some(codes) = t.recovery.get_mut(&user) else {
            return Ok(false);
        };
        match codes.iter().position(|c| c == digest) {
            Some(i) => {
                codes.swap_remove(i);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn recovery_codes_left(&self, user: UserId) -> StoreResult<u64> {
        Ok(self
            .lock()
            .recovery
            .get(&user)
            .map_or(0, |c| c.len() as u64))
    }

    async fn replace_recovery_codes(
        &self,
        user: UserId,
        recovery: &[String],
        journal: &Journal,
    ) -> StoreResult<bool> {
        let mut t = self.lock();
        if !t.totp.get(&user).is_some_and(|f| f.confirmed) {
            return Ok(false);
        }
        t.recovery.insert(user, recovery.to_vec());
        t.journal(journal);
        Ok(true)
    }

    async fn remove_totp(&self, user: UserId, journal: &Journal) -> StoreResult<bool> {
        let mut t = self.lock();
        if t.totp.remove(&user).is_none() {
            return Ok(false);
        }
        t.recovery.remove(&user);
        t.journal(journal);
        Ok(true)
    }
}
