//! Sessions in memory.

use async_trait::async_trait;

use super::MemoryStore;
use crate::error::{Entity, Field, StoreError};
use crate::model::*;
use crate::store::*;

#[async_trait]
impl SessionStore for MemoryStore {
    async fn create_session(&self, session: &Session, journal: &Journal) -> StoreResult<()> {
        let mut t = self.lock();
        if !t.users.contains_key(&session.user_id) {
            return Err(StoreError::NotFound(Entity::User));
        }
        if t.sessions.contains_key(&session.id) {
            return Err(StoreError::Conflict(Field::Other));
        }
        t.sessions.insert(session.id.clone(), session.clone());
        t.journal(journal);
        Ok(())
    }

    async fn revoke_session(&self, id: &str, journal: &Journal) -> StoreResult<bool> {
        let mut t = self.lock();
        match t.sessions.get_mut(id) {
            Some(s) if !s.revoked => {
                s.revoked = true;
                t.journal(journal);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn rotate_session(
        &self,
        old: &str,
        new: &Session,
        journal: &Journal,
    ) -> StoreResult<bool> {
        let mut t = self.lock();
        if t.sessions.contains_key(&new.id) {
            return Err(StoreError::Conflict(Field::Other));
        }
        if !t.users.contains_key(&new.user_id) {
            return Err(StoreError::NotFound(Entity::User));
        }
        match t.sessions.get_mut(old) {
            Some(s) if !s.revoked => s.revoked = true,
            _ => return Ok(false),
        }
        t.sessions.insert(new.id.clone(), new.clone());
        t.journal(journal);
        Ok(true)
    }

    async fn revoke_user_sessions(
        &self,
        user: UserId,
        keep: Option<&str>,
        journal: &Journal,
    ) -> StoreResult<u64> {
        let mut t = self.lock();
        let n = t.revoke_sessions_of(user, keep);
        t.journal(journal);
        Ok(n)
    }

    async fn mark_session_verified(
        &self,
        id: &str,
        factors: Factors,
        at: Timestamp,
        journal: &Journal,
    ) -> StoreResult<bool> {
        let mut t = self.lock();
        match t.sessions.get_mut(id) {
            Some(s) if !s.revoked && s.expires_at > at && s.kind != SessionKind::Challenge => {
                s.factors = s.factors | factors;
                s.verified_at = at;
                t.journal(journal);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn purge_sessions(&self, before: Timestamp) -> StoreResult<u64> {
        let mut t = self.lock();
        let n = t.sessions.len();
        t.sessions.retain(|_, s| s.expires_at >= before);
        Ok((n - t.sessions.len()) as u64)
    }

    async fn count_live_sessions(&self, at: Timestamp) -> StoreResult<u64> {
        Ok(self
            .lock()
            .sessions
            .values()
            .filter(|s| !s.revoked && s.expires_at > at && s.kind != SessionKind::Challenge)
            .count() as u64)
    }

    async fn user_sessions(
        &self,
        user: UserId,
        at: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<Session>> {
        let t = self.lock();
        let mut live: Vec<Session> = t
            .sessions
            .values()
            .filter(|s| {
                s.user_id == user
                    && !s.revoked
                    && s.expires_at > at
                    && s.kind != SessionKind::Challenge
            })
            .cloned()
            .collect();
        live.sort_by(|a, b| (b.issued_at, &b.id).cmp(&(a.issued_at, &a.id)));
        live.truncate(limit as usize);
        Ok(live)
    }
}
