//! The layer's port: the reads of authenticating and checking, and a refusal's entry.

use async_trait::async_trait;
use rbac_core::store::{AuthorizerStore, RoleStore, SecondFactorStore, StoreResult};
use rbac_core::{
    Journal, NewAudit, Page, PasskeyStore, Role, RoleId, Scope, Session, Timestamp, User, UserId,
};

use crate::assignments::parent_pair;
use crate::detached::Direct;
use crate::dialect::SqlDialect;
use crate::row::{ROLE_COLUMNS, SESSION_COLUMNS};
use crate::{backend, row};

#[async_trait]
impl AuthorizerStore for Direct {
    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        on_backend!(self, pool, d => {
            one_user!(d, pool, "id", id)
        })
    }

    async fn role(&self, id: RoleId) -> StoreResult<Option<Role>> {
        on_backend!(self, pool, d => {
            let sql = format!("SELECT {ROLE_COLUMNS} FROM rbac_roles WHERE id = ?");
            let r = sqlx::query(&d.sql(&sql)).bind(id).fetch_optional(pool).await.map_err(backend)?;
            let Some(r) = r else { return Ok(None) };
            let mut role = row::role(&r)?;
            role.privileges = role_codes!(d, pool, role.id);
            role.includes = role_includes!(d, pool, role.id);
            Ok(Some(role))
        })
    }

    async fn roles(&self) -> StoreResult<Vec<Role>> {
        Ok(RoleStore::list_roles(self, Page::ALL).await?.rows)
    }

    async fn session(&self, id: &str) -> StoreResult<Option<Session>> {
        on_backend!(self, pool, d => {
            let sql = format!("SELECT {SESSION_COLUMNS} FROM rbac_sessions WHERE id = ?");
            let r = sqlx::query(&d.sql(&sql)).bind(id).fetch_optional(pool).await.map_err(backend)?;
            r.as_ref().map(row::session).transpose()
        })
    }

    async fn touch_session(
        &self,
        id: &str,
        expires_at: Timestamp,
        seen: Timestamp,
    ) -> StoreResult<()> {
        on_backend!(self, pool, d => {
            sqlx::query(&d.sql(
                "UPDATE rbac_sessions SET expires_at = ?, last_seen = ? \
                 WHERE id = ? AND revoked = FALSE AND expires_at > ?",
            ))
            .bind(expires_at)
            .bind(seen)
            .bind(id)
            .bind(seen)
            .execute(pool)
            .await
            .map_err(backend)?;
            Ok(())
        })
    }

    async fn second_factor_enrolled(&self, user: UserId) -> StoreResult<bool> {
        Ok(self.totp(user).await?.is_some_and(|f| f.confirmed)
            || self.count_passkeys(user).await? > 0)
    }

    async fn scope_parents(&self) -> StoreResult<Vec<(Scope, Scope)>> {
        on_backend!(self, pool, d => {
            let rows = sqlx::query(&d.sql(
                "SELECT scope_kind, scope_id, parent_kind, parent_id FROM rbac_scope_parents \
                 ORDER BY scope_kind, scope_id",
            ))
            .fetch_all(pool)
            .await
            .map_err(backend)?;
            rows.iter().map(parent_pair).collect()
        })
    }

    async fn scope_parent(&self, scope: Scope) -> StoreResult<Option<Scope>> {
        on_backend!(self, pool, d => {
            let r = sqlx::query(&d.sql(
                "SELECT scope_kind, scope_id, parent_kind, parent_id FROM rbac_scope_parents \
                 WHERE scope_kind = ? AND scope_id = ?",
            ))
            .bind(scope.kind().as_str())
            .bind(scope.id())
            .fetch_optional(pool)
            .await
            .map_err(backend)?;
            Ok(r.as_ref().map(parent_pair).transpose()?.map(|(_, p)| p))
        })
    }

    async fn append_audit(&self, entry: &NewAudit) -> StoreResult<()> {
        let journal = Journal::audit(entry.clone());
        on_backend!(self, pool, d => {
            let mut tx = crate::tx::begin(d, pool).await?;
            write_journal!(d, tx, &journal);
            tx.commit().await.map_err(backend)?;
            Ok(())
        })
    }
}
