//! The authorizer's storage ports: what authenticating a request and checking it reads,
//! the scope tree, and the sink the change feed applies changes to.

use async_trait::async_trait;

use crate::error::StoreResult;
use crate::model::*;

/// What the [`Authorizer`](crate::Authorizer), and so the layer, reads and writes: a
/// session, its user and the user's roles, the scope tree, and the record of a refusal.
///
/// An application that keeps its own users and sessions implements this trait alone to put
/// the layer in front of its routes: four methods, the rest have defaults that grant
/// nothing more (no scope nesting, no second factor, refusals only traced). Its caches are
/// kept right by telling the authorizer what changed ([`Authorizer::apply_changes`]).
/// `rbac-tower/examples/own_store.rs` does this over a map in 110 lines. The full
/// [`Store`](crate::store::Store) ports build on this one.
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

/// The message of a refused scope parent that would close a cycle or nest too deep.
pub const SCOPE_CYCLE: &str = "the scope would contain itself or nest too deep";

/// Scope parents: grants in a parent scope apply inside its children (read through
/// [`AuthorizerStore::scope_parents`](AuthorizerStore::scope_parents)).
#[async_trait]
pub trait ScopeStore: AuthorizerStore {
    /// Sets (or with `None` clears) a scope's parent, serialised with every such change:
    /// `Violation(SCOPE_CYCLE)` when the scope would become its own ancestor or scopes would
    /// nest deeper than [`MAX_SCOPE_DEPTH`](crate::authz::scope::MAX_SCOPE_DEPTH).
    async fn set_scope_parent(
        &self,
        scope: Scope,
        parent: Option<Scope>,
        journal: &Journal,
    ) -> StoreResult<()>;
}

/// Whether making `parent` the parent of `scope`, over the existing `parents`, closes a
/// cycle or nests deeper than the authorizer follows.
pub fn scope_parent_refused(
    parents: &std::collections::HashMap<Scope, Scope>,
    scope: Scope,
    parent: Scope,
) -> bool {
    let limit = crate::authz::scope::MAX_SCOPE_DEPTH;
    // Above: parent and its ancestors; the scope may not be among them.
    let mut depth_above = 1;
    let mut at = parent;
    loop {
        if at == scope {
            return true;
        }
        match parents.get(&at) {
            Some(p) if depth_above < limit => {
                at = *p;
                depth_above += 1;
            }
            Some(_) => return true,
            None => break,
        }
    }
    // Below: the deepest chain of descendants of `scope`.
    let mut children: std::collections::HashMap<Scope, Vec<Scope>> = Default::default();
    for (child, p) in parents {
        children.entry(*p).or_default().push(*child);
    }
    let mut below = 0;
    let mut level = vec![scope];
    while !level.is_empty() && below <= limit {
        level = level
            .iter()
            .flat_map(|s| children.get(s).into_iter().flatten().copied())
            .collect();
        if !level.is_empty() {
            below += 1;
        }
    }
    depth_above + 1 + below > limit
}

/// Receives changes to apply to caches.
#[async_trait]
pub trait ChangeSink: Send + Sync {
    /// Applies one change; returns once the caches reflect it.
    async fn apply(&self, change: &Change);

    /// Every change at or below `position` that the change log shows has been applied.
    fn caught_up(&self, position: i64) {
        let _ = position;
    }

    /// Resolves when a reader waits for a position not reached yet, so that the feed reads
    /// the change log at once (by default, never).
    async fn wanted(&self) {
        std::future::pending::<()>().await
    }
}
