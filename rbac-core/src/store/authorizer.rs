//! The layer's storage port: what authenticating a request and checking it reads.

use async_trait::async_trait;

use super::StoreResult;
use crate::model::*;

/// What the [`Authorizer`](crate::Authorizer), and so the layer, reads and writes: a
/// session, its user and the user's roles, the scope tree, and the record of a refusal.
///
/// An application that keeps its own users and sessions implements this trait alone to put
/// the layer in front of its routes: four methods, the rest have defaults that grant
/// nothing more (no scope nesting, no second factor, refusals only traced). Its caches are
/// kept right by telling the authorizer what changed ([`Authorizer::apply_changes`]).
/// `rbac-tower/examples/own_store.rs` does this over a map in 110 lines. The full
/// [`Store`](super::Store) ports build on this one.
///
/// [`Authorizer::apply_changes`]: crate::Authorizer::apply_changes
#[async_trait]
pub trait AuthorizerStore: Send + Sync {
    /// A user by id, with the roles it holds (`User::roles`).
    async fn user(&self, id: UserId) -> StoreResult<Option<User>>;
    /// A role by id.
    async fn role(&self, id: RoleId) -> StoreResult<Option<Role>>;
    /// Every role, read once when the authorizer starts.
    async fn roles(&self) -> StoreResult<Vec<Role>>;
    /// A session by id (a JWT's `sid`, or [`opaque_session_id`](crate::opaque_session_id)
    /// of an opaque token).
    async fn session(&self, id: &str) -> StoreResult<Option<Session>>;
    /// Extends a live session's expiry (sliding sessions). By default the expiry stays
    /// where it was stored: the session ends then.
    async fn touch_session(
        &self,
        id: &str,
        expires_at: Timestamp,
        seen: Timestamp,
    ) -> StoreResult<()> {
        let _ = (id, expires_at, seen);
        Ok(())
    }
    /// Whether the user has a second factor enrolled (a confirmed TOTP or a passkey). By
    /// default none: members of a role that requires one reach nothing but enrolment.
    async fn second_factor_enrolled(&self, user: UserId) -> StoreResult<bool> {
        let _ = user;
        Ok(false)
    }
    /// Every scope that has a parent, with it. By default none: a grant holds only in the
    /// scope it names.
    async fn scope_parents(&self) -> StoreResult<Vec<(Scope, Scope)>> {
        Ok(Vec::new())
    }
    /// A scope's parent. By default none.
    async fn scope_parent(&self, scope: Scope) -> StoreResult<Option<Scope>> {
        let _ = scope;
        Ok(None)
    }
    /// Appends an operation-log entry on its own (a refusal the authorizer records, a failed
    /// login). By default the entry is only traced.
    async fn append_audit(&self, entry: &NewAudit) -> StoreResult<()> {
        // Debug formatting: a name or target a client wrote cannot forge log lines.
        tracing::info!(user = ?entry.user_name, content = ?entry.content, success = entry.success, "operation log");
        Ok(())
    }
}
