//! The layer's port in memory: what the authorizer reads.

use async_trait::async_trait;

use super::MemoryStore;
use crate::factors::passkeys::PasskeyStore;
use crate::model::*;
use crate::store::*;

#[async_trait]
impl AuthorizerStore for MemoryStore {
    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        Ok(self.lock().users.get(&id).cloned())
    }
    async fn role(&self, id: RoleId) -> StoreResult<Option<Role>> {
        Ok(self.lock().roles.get(&id).cloned())
    }
    async fn roles(&self) -> StoreResult<Vec<Role>> {
        Ok(RoleStore::list_roles(self, Page::ALL).await?.rows)
    }
    async fn session(&self, id: &str) -> StoreResult<Option<Session>> {
        Ok(self.lock().sessions.get(id).cloned())
    }
    async fn touch_session(
        &self,
        id: &str,
        expires_at: Timestamp,
        seen: Timestamp,
    ) -> StoreResult<()> {
        if let Some(s) = self.lock().sessions.get_mut(id) {
            // Live means `expires_at > at`, as in `count_live_sessions`.
            if !s.revoked && s.expires_at > seen {
                s.expires_at = expires_at;
                s.last_seen = seen;
            }
        }
        Ok(())
    }
    async fn second_factor_enrolled(&self, user: UserId) -> StoreResult<bool> {
        Ok(self.totp(user).await?.is_some_and(|f| f.confirmed)
            || self.count_passkeys(user).await? > 0)
    }
    async fn scope_parents(&self) -> StoreResult<Vec<(Scope, Scope)>> {
        let mut pairs: Vec<(Scope, Scope)> = self
            .lock()
            .scope_parents
            .iter()
            .map(|(s, p)| (*s, *p))
            .collect();
        pairs.sort_unstable();
        Ok(pairs)
    }
    async fn scope_parent(&self, scope: Scope) -> StoreResult<Option<Scope>> {
        Ok(self.lock().scope_parents.get(&scope).copied())
    }
    async fn append_audit(&self, entry: &NewAudit) -> StoreResult<()> {
        self.lock().journal(&Journal::audit(entry.clone()));
        Ok(())
    }
}
