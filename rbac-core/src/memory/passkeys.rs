//! Passkeys and their ceremonies in memory.

use async_trait::async_trait;

use super::MemoryStore;
use crate::error::{Entity, Field, StoreError};
use crate::factors::passkeys::{Ceremony, PasskeyRecord, PasskeyStore};
use crate::model::*;

#[async_trait]
impl PasskeyStore for MemoryStore {
    async fn passkeys(&self, user: UserId) -> Result<Vec<PasskeyRecord>, StoreError> {
        let t = self.lock();
        Ok(t.passkeys
            .values()
            .filter(|p| p.user_id == user)
            .cloned()
            .collect())
    }

    async fn passkey_by_credential(
        &self,
        credential_id: &str,
    ) -> Result<Option<PasskeyRecord>, StoreError> {
        let t = self.lock();
        Ok(t.passkeys
            .values()
            .find(|p| p.credential_id == credential_id)
            .cloned())
    }

    async fn add_passkey(
        &self,
        passkey: &PasskeyRecord,
        end_sessions_but: Option<&str>,
        journal: &Journal,
    ) -> Result<i64, StoreError> {
        let mut t = self.lock();
        if !t.users.contains_key(&passkey.user_id) {
            return Err(StoreError::NotFound(Entity::User));
        }
        if t.passkeys
            .values()
            .any(|p| p.credential_id == passkey.credential_id)
        {
            return Err(StoreError::Conflict(Field::Other));
        }
        t.next_passkey += 1;
        let id = t.next_passkey;
        t.passkeys.insert(
            id,
            PasskeyRecord {
                id,
                ..passkey.clone()
            },
        );
        if let Some(keep) = end_sessions_but {
            t.revoke_sessions_of(passkey.user_id, Some(keep));
        }
        t.journal(journal);
        Ok(id)
    }

    async fn record_passkey_use(
        &self,
        passkey: &PasskeyRecord,
        seen: i64,
    ) -> Result<bool, StoreError> {
        let mut t = self.lock();
        match t.passkeys.get_mut(&passkey.id) {
            Some(p) if p.counter == seen && p.user_id == passkey.user_id => {
                p.credential = passkey.credential.clone();
                p.counter = passkey.counter;
                p.backup_state = passkey.backup_state;
                p.last_used_at = passkey.last_used_at;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn remove_passkey(
        &self,
        user: UserId,
        id: i64,
        journal: &Journal,
    ) -> Result<bool, StoreError> {
        let mut t = self.lock();
        if t.passkeys.get(&id).is_none_or(|p| p.user_id != user) {
            return Ok(false);
        }
        t.passkeys.remove(&id);
        t.journal(journal);
        Ok(true)
    }

    async fn remove_second_factors(
        &self,
        user: UserId,
        journal: &Journal,
    ) -> Result<bool, StoreError> {
        let mut t = self.lock();
        let before = t.passkeys.len();
        t.passkeys.retain(|_, p| p.user_id != user);
        let passkeys = t.passkeys.len() != before;
        let totp = t.totp.remove(&user).is_some();
        t.recovery.remove(&user);
        if !(passkeys || totp) {
            return Ok(false);
        }
        t.journal(journal);
        Ok(true)
    }

    async fn put_ceremony(&self, ceremony: &Ceremony) -> Result<(), StoreError> {
        let mut t = self.lock();
        t.ceremonies.insert(ceremony.id.clone(), ceremony.clone());
        Ok(())
    }

    async fn purge_ceremonies(&self, before: Timestamp) -> Result<u64, StoreError> {
        let mut t = self.lock();
        let count = t.ceremonies.len();
        t.ceremonies.retain(|_, c| c.expires_at >= before);
        Ok((count - t.ceremonies.len()) as u64)
    }

    async fn take_ceremony(&self, id: &str) -> Result<Option<Ceremony>, StoreError> {
        Ok(self.lock().ceremonies.remove(id))
    }
}
