//! Assignments (the roles a user holds, globally or within a scope) and scope parents.

use crate::detached::Direct;
use std::collections::HashMap;

use async_trait::async_trait;
use rbac_core::store::{
    scope_parent_refused, AssignmentStore, ScopeStore, StoreResult, SCOPE_CYCLE,
    TOO_MANY_ASSIGNMENTS,
};
use rbac_core::{
    Assignment, Entity, Journal, Revoke, RoleId, Scope, StoreError, Timestamp, User, UserId,
};

use crate::dialect::SqlDialect;
use crate::row::Columns;
use crate::user_rows::{insert_assignments, scope_columns};
use crate::{backend, count, row, write_error, SqlStore};

/// Users per `IN (…)` list when reading assignments.
const USERS_PER_READ: usize = 500;

/// The scope of stored columns (`None` for a global assignment; ids are text, migration 23).
fn scope_of(kind: &str, id: &str) -> StoreResult<Option<Scope>> {
    if kind.is_empty() {
        return Ok(None);
    }
    rbac_core::ScopeKind::new(kind)
        .and_then(|kind| Scope::of(kind, id))
        .map(Some)
        .ok_or_else(|| StoreError::backend(format!("stored scope {kind:?}:{id:?} is not valid")))
}

/// Refuses (`Violation`) when user `$user` holds more than `$cap` assignments in `$tx`.
macro_rules! check_cap {
    ($d:ident, $tx:ident, $user:expr, $cap:expr) => {{
        let held: i64 =
            sqlx::query_scalar(&$d.sql("SELECT COUNT(*) FROM rbac_assignments WHERE user_id = ?"))
                .bind($user)
                .fetch_one(&mut *$tx)
                .await
                .map_err(backend)?;
        if usize::try_from(held).unwrap_or(usize::MAX) > $cap {
            return Err(StoreError::Violation(TOO_MANY_ASSIGNMENTS));
        }
    }};
}

/// The assignment a row of `rbac_assignments` holds.
pub(crate) fn assignment(r: &impl Columns) -> StoreResult<Assignment> {
    let role_id = r.int("role_id").map_err(backend)?;
    let kind = r.text("scope_kind").map_err(backend)?;
    let scope = scope_of(&kind, &r.text("scope_id").map_err(backend)?)?;
    Ok(Assignment { role_id, scope })
}

/// The assignment a row of a user left-joined with its assignments holds (none: the user
/// holds no role).
pub(crate) fn joined_assignment(r: &impl Columns) -> StoreResult<Option<Assignment>> {
    if r.opt_int("role_id").map_err(backend)?.is_none() {
        return Ok(None);
    }
    assignment(r).map(Some)
}

impl SqlStore {
    /// Fills in the assignments of users just read.
    pub(crate) async fn attach_roles(&self, users: &mut [User]) -> StoreResult<()> {
        if users.is_empty() {
            return Ok(());
        }
        let at: HashMap<UserId, usize> = users.iter().enumerate().map(|(i, u)| (u.id, i)).collect();
        let ids: Vec<UserId> = users.iter().map(|u| u.id).collect();
        for chunk in ids.chunks(USERS_PER_READ) {
            let sql = format!(
                "SELECT user_id, role_id, scope_kind, scope_id FROM rbac_assignments \
                 WHERE user_id IN ({}) ORDER BY user_id, ordinal, role_id, scope_kind, scope_id",
                vec!["?"; chunk.len()].join(", ")
            );
            on_backend!(self, pool, d => {
                let sql = if chunk.len() == 1 { d.sql(&sql) } else { d.sql_once(&sql) };
                let mut query = sqlx::query(&sql);
                for id in chunk {
                    query = query.bind(*id);
                }
                let rows = query.fetch_all(pool).await.map_err(backend)?;
                for r in &rows {
                    let user = r.int("user_id").map_err(backend)?;
                    if let Some(i) = at.get(&user) {
                        users[*i].roles.push(assignment(r)?);
                    }
                }
            });
        }
        Ok(())
    }

    /// See [`rbac_core::store::UserStore::update_user_roles`].
    pub(crate) async fn replace_global_roles(
        &self,
        user: &User,
        expected: Option<rbac_core::Timestamp>,
        cap: usize,
        revoke: Revoke<'_>,
        journal: &Journal,
    ) -> StoreResult<()> {
        let attributes = row::attributes(user)?;
        let keys = crate::identity::Keys::of(user);
        let mut global: Vec<Assignment> = Vec::new();
        for a in user.roles.iter().filter(|a| a.scope.is_none()) {
            if !global.contains(a) {
                global.push(*a);
            }
        }
        on_backend!(self, pool, d => {
            let mut tx = crate::tx::begin(d, pool).await?;
            let text = crate::user_rows::update_user_sql(expected);
            let sql = d.sql(&text);
            let query = sqlx::query(&sql);
            let query = bind_profile!(query, user, attributes)
                .bind(user.updated_at)
                .bind(user.updated_at);
            let mut query = bind_identity!(query, user, keys).bind(user.id);
            if let Some(expected) = expected {
                query = query.bind(expected);
            }
            let done = query
                .execute(&mut *tx)
                .await
                .map_err(|e| write_error(e, StoreError::NotFound(Entity::Role)))?;
            if done.rows_affected() == 0 {
                return Err(crate::user_rows::user_write_missed!(d, tx, user.id));
            }
            sqlx::query(&d.sql("DELETE FROM rbac_assignments WHERE user_id = ? AND scope_kind = ''"))
                .bind(user.id)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            insert_assignments!(d, tx, user.id, global.iter(), 0);
            check_cap!(d, tx, user.id, cap);
            if let Some(keep) = revoke.keeping() {
                revoke_sessions_of!(d, tx, user.id, keep);
            }
            write_journal!(d, tx, journal);
            tx.commit().await.map_err(backend)?;
            Ok(())
        })
    }

    /// See [`rbac_core::store::UserStore::assign_role`].
    pub(crate) async fn add_assignment(
        &self,
        user: UserId,
        assignment: Assignment,
        cap: usize,
        journal: &Journal,
    ) -> StoreResult<bool> {
        let (kind, scope_id) = scope_columns(assignment.scope);
        on_backend!(self, pool, d => {
            let mut tx = crate::tx::begin(d, pool).await?;
            let held: Vec<i64> = sqlx::query_scalar(&d.sql(
                "SELECT ordinal FROM rbac_assignments WHERE user_id = ? \
                 AND role_id = ? AND scope_kind = ? AND scope_id = ?",
            ))
            .bind(user)
            .bind(assignment.role_id)
            .bind(kind.as_str())
            .bind(scope_id.as_str())
            .fetch_all(&mut *tx)
            .await
            .map_err(backend)?;
            if !held.is_empty() {
                return Ok(false);
            }
            // Locks the user's row: assignments to one user serialise, so the cap holds
            // (and two adding the same assignment meet the primary key, not a duplicate).
            crate::user_rows::take_user_row!(d, tx, user);
            // Again under the lock: a concurrent call may have added it meanwhile.
            let held: Vec<i64> = sqlx::query_scalar(&d.sql(
                "SELECT ordinal FROM rbac_assignments WHERE user_id = ? \
                 AND role_id = ? AND scope_kind = ? AND scope_id = ?",
            ))
            .bind(user)
            .bind(assignment.role_id)
            .bind(kind.as_str())
            .bind(scope_id.as_str())
            .fetch_all(&mut *tx)
            .await
            .map_err(backend)?;
            if !held.is_empty() {
                return Ok(false);
            }
            let next: Option<i64> = sqlx::query_scalar(&d.sql(
                "SELECT MAX(ordinal) FROM rbac_assignments WHERE user_id = ?",
            ))
            .bind(user)
            .fetch_one(&mut *tx)
            .await
            .map_err(backend)?;
            let first = next.map_or(0, |n| n.saturating_add(1));
            insert_assignments!(d, tx, user, std::iter::once(&assignment), first);
            check_cap!(d, tx, user, cap);
            write_journal!(d, tx, journal);
            tx.commit().await.map_err(backend)?;
            Ok(true)
        })
    }

    /// See [`rbac_core::store::UserStore::revoke_role`].
    pub(crate) async fn remove_assignment(
        &self,
        user: UserId,
        assignment: Assignment,
        journal: &Journal,
    ) -> StoreResult<bool> {
        let (kind, scope_id) = scope_columns(assignment.scope);
        on_backend!(self, pool, d => {
            let mut tx = crate::tx::begin(d, pool).await?;
            // The user's row first, as every other assignment write takes it (one lock
            // order, no deadlock): it also moves updated_at past the change.
            crate::user_rows::take_user_row!(d, tx, user);
            let done = sqlx::query(&d.sql(
                "DELETE FROM rbac_assignments WHERE user_id = ? AND role_id = ? \
                 AND scope_kind = ? AND scope_id = ?",
            ))
            .bind(user)
            .bind(assignment.role_id)
            .bind(kind.as_str())
            .bind(scope_id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            if done.rows_affected() == 0 {
                // Nothing to remove: the transaction ends without a write.
                return Ok(false);
            }
            write_journal!(d, tx, journal);
            tx.commit().await.map_err(backend)?;
            Ok(true)
        })
    }

    /// See [`rbac_core::store::AssignmentStore::scope_role_by_tenant`].
    pub(crate) async fn scope_by_tenant(
        &self,
        role: RoleId,
        journal: &Journal,
    ) -> StoreResult<Vec<UserId>> {
        on_backend!(self, pool, d => {
            let mut tx = crate::tx::begin(d, pool).await?;
            let rows = sqlx::query(&d.sql(
                "SELECT a.user_id, u.tenant FROM rbac_assignments a \
                 JOIN rbac_users u ON u.id = a.user_id \
                 WHERE a.role_id = ? AND a.scope_kind = '' AND u.tenant IS NOT NULL \
                 ORDER BY a.user_id",
            ))
            .bind(role)
            .fetch_all(&mut *tx)
            .await
            .map_err(backend)?;
            let mut moved = Vec::with_capacity(rows.len());
            for r in &rows {
                let user = r.int("user_id").map_err(backend)?;
                let text = r.text("tenant").map_err(backend)?;
                let tenant = rbac_core::Scope::parse(&text).ok_or_else(|| {
                    rbac_core::StoreError::backend(format!("user tenant {text:?}: not a scope"))
                })?;
                let held: Option<i64> = sqlx::query_scalar(&d.sql(
                    "SELECT user_id FROM rbac_assignments WHERE user_id = ? AND role_id = ? \
                     AND scope_kind = ? AND scope_id = ?",
                ))
                .bind(user)
                .bind(role)
                .bind(tenant.kind().as_str())
                .bind(tenant.id())
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend)?;
                if held.is_some() {
                    sqlx::query(&d.sql(
                        "DELETE FROM rbac_assignments WHERE user_id = ? AND role_id = ? \
                         AND scope_kind = ''",
                    ))
                    .bind(user)
                    .bind(role)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                } else {
                    sqlx::query(&d.sql(
                        "UPDATE rbac_assignments SET scope_kind = ?, scope_id = ? \
                         WHERE user_id = ? AND role_id = ? AND scope_kind = ''",
                    ))
                    .bind(tenant.kind().as_str())
                    .bind(tenant.id())
                    .bind(user)
                    .bind(role)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                }
                moved.push(user);
            }
            if !moved.is_empty() {
                let mut journal = journal.clone();
                journal.changes.extend(moved.iter().map(|id| rbac_core::Change::User(*id)));
                write_journal!(d, tx, &journal);
            }
            tx.commit().await.map_err(backend)?;
            Ok(moved)
        })
    }

    /// How many distinct users hold `role`, globally or in any scope.
    pub(crate) async fn holders_of(&self, role: RoleId) -> StoreResult<i64> {
        on_backend!(self, pool, d => {
            sqlx::query_scalar(&d.sql(
                "SELECT COUNT(DISTINCT user_id) FROM rbac_assignments WHERE role_id = ?",
            ))
            .bind(role)
            .fetch_one(pool)
            .await
            .map_err(backend)
        })
    }
}

/// A (scope, parent) pair from a row.
pub(crate) fn parent_pair<R: Columns>(r: &R) -> StoreResult<(Scope, Scope)> {
    let scope = scope_of(
        &r.text("scope_kind").map_err(backend)?,
        &r.text("scope_id").map_err(backend)?,
    )?;
    let parent = scope_of(
        &r.text("parent_kind").map_err(backend)?,
        &r.text("parent_id").map_err(backend)?,
    )?;
    match (scope, parent) {
        (Some(s), Some(p)) => Ok((s, p)),
        _ => Err(StoreError::backend(
            "a stored scope parent has an empty kind",
        )),
    }
}

#[async_trait]
impl ScopeStore for Direct {
    async fn set_scope_parent(
        &self,
        scope: Scope,
        parent: Option<Scope>,
        journal: &Journal,
    ) -> StoreResult<()> {
        on_backend!(self, pool, d => {
            let mut tx = crate::tx::begin(d, pool).await?;
            // Every parent change takes this one lock, so two that together would close a
            // cycle cannot both pass the check below.
            let lock = format!(
                "SELECT name FROM rbac_locks WHERE name = 'scope_parents'{}",
                d.for_update()
            );
            sqlx::query(&d.sql(&lock)).fetch_optional(&mut *tx).await.map_err(backend)?;
            if let Some(p) = parent {
                // Only what the check reads: the new parent's ancestors (a key lookup per
                // level) and the scope's descendants (by the parent index), each at most
                // one level past the depth limit, not every scope's parent.
                let limit = rbac_core::MAX_SCOPE_DEPTH;
                let mut parents = HashMap::new();
                let up = d.sql(
                    "SELECT scope_kind, scope_id, parent_kind, parent_id FROM rbac_scope_parents \
                     WHERE scope_kind = ? AND scope_id = ?",
                );
                let mut at = p;
                for _ in 0..=limit {
                    let r = sqlx::query(&up)
                        .bind(at.kind().as_str())
                        .bind(at.id())
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(backend)?;
                    let Some(r) = r else { break };
                    let (s, above) = parent_pair(&r)?;
                    if parents.insert(s, above).is_some() || above == scope {
                        break;
                    }
                    at = above;
                }
                let down = d.sql(
                    "SELECT scope_kind, scope_id, parent_kind, parent_id FROM rbac_scope_parents \
                     WHERE parent_kind = ? AND parent_id = ?",
                );
                let mut level = vec![scope];
                for _ in 0..=limit {
                    let mut next = Vec::new();
                    for above in &level {
                        let rows = sqlx::query(&down)
                            .bind(above.kind().as_str())
                            .bind(above.id())
                            .fetch_all(&mut *tx)
                            .await
                            .map_err(backend)?;
                        for r in &rows {
                            let (child, of) = parent_pair(r)?;
                            if parents.insert(child, of).is_none() {
                                next.push(child);
                            }
                        }
                    }
                    if next.is_empty() {
                        break;
                    }
                    level = next;
                }
                if scope_parent_refused(&parents, scope, p) {
                    return Err(StoreError::Violation(SCOPE_CYCLE));
                }
            }
            sqlx::query(&d.sql("DELETE FROM rbac_scope_parents WHERE scope_kind = ? AND scope_id = ?"))
                .bind(scope.kind().as_str())
                .bind(scope.id())
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            if let Some(p) = parent {
                sqlx::query(&d.sql(
                    "INSERT INTO rbac_scope_parents (scope_kind, scope_id, parent_kind, parent_id) \
                     VALUES (?, ?, ?, ?)",
                ))
                .bind(scope.kind().as_str())
                .bind(scope.id())
                .bind(p.kind().as_str())
                .bind(p.id())
                .execute(&mut *tx)
                .await
                .map_err(|e| write_error(e, StoreError::Violation(SCOPE_CYCLE)))?;
            }
            write_journal!(d, tx, journal);
            tx.commit().await.map_err(backend)?;
            Ok(())
        })
    }
}

#[async_trait]
impl AssignmentStore for Direct {
    async fn update_user_roles(
        &self,
        user: &User,
        expected: Option<Timestamp>,
        cap: usize,
        revoke: Revoke<'_>,
        journal: &Journal,
    ) -> StoreResult<()> {
        self.replace_global_roles(user, expected, cap, revoke, journal)
            .await
    }

    async fn assign_role(
        &self,
        user: UserId,
        assignment: Assignment,
        cap: usize,
        journal: &Journal,
    ) -> StoreResult<bool> {
        self.add_assignment(user, assignment, cap, journal).await
    }

    async fn revoke_role(
        &self,
        user: UserId,
        assignment: Assignment,
        journal: &Journal,
    ) -> StoreResult<bool> {
        self.remove_assignment(user, assignment, journal).await
    }

    async fn count_users_with_role(&self, role: RoleId) -> StoreResult<u64> {
        Ok(count(self.holders_of(role).await?))
    }

    async fn scope_role_by_tenant(
        &self,
        role: RoleId,
        journal: &Journal,
    ) -> StoreResult<Vec<UserId>> {
        self.scope_by_tenant(role, journal).await
    }
}
