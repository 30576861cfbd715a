//! The layer's port, run detached.

use async_trait::async_trait;
use rbac_core::store::{AuthorizerStore, StoreResult};
use rbac_core::{NewAudit, Role, RoleId, Scope, Session, Timestamp, User, UserId};

use crate::SqlStore;

#[async_trait]
impl AuthorizerStore for SqlStore {
    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        self.detached(move |d| async move { d.user(id).await })
            .await
    }
    async fn role(&self, id: RoleId) -> StoreResult<Option<Role>> {
        self.detached(move |d| async move { d.role(id).await })
            .await
    }
    async fn roles(&self) -> StoreResult<Vec<Role>> {
        self.detached(move |d| async move { d.roles().await }).await
    }
    async fn session(&self, id: &str) -> StoreResult<Option<Session>> {
        let id = id.to_owned();
        self.detached(move |d| async move { d.session(&id).await })
            .await
    }
    async fn touch_session(
        &self,
        id: &str,
        expires_at: Timestamp,
        seen: Timestamp,
    ) -> StoreResult<()> {
        let id = id.to_owned();
        self.detached(move |d| async move { d.touch_session(&id, expires_at, seen).await })
            .await
    }
    async fn second_factor_enrolled(&self, user: UserId) -> StoreResult<bool> {
        self.detached(move |d| async move { d.second_factor_enrolled(user).await })
            .await
    }
    async fn scope_parents(&self) -> StoreResult<Vec<(Scope, Scope)>> {
        self.detached(move |d| async move { d.scope_parents().await })
            .await
    }
    async fn scope_parent(&self, scope: Scope) -> StoreResult<Option<Scope>> {
        self.detached(move |d| async move { d.scope_parent(scope).await })
            .await
    }
    async fn append_audit(&self, entry: &NewAudit) -> StoreResult<()> {
        let entry = entry.clone();
        self.detached(move |d| async move { d.append_audit(&entry).await })
            .await
    }
}
