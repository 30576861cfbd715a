//! Assignments and scope parents in memory.

use async_trait::async_trait;

use super::{MemoryStore, Tables};
use crate::error::{Entity, StoreError};
use crate::model::*;
use crate::store::*;

impl Tables {
    /// Refuses assignments naming a role that does not exist, or more than `cap` of them.
    pub(super) fn check_assignments(&self, roles: &[Assignment], cap: usize) -> StoreResult<()> {
        if roles.iter().any(|a| !self.roles.contains_key(&a.role_id)) {
            return Err(StoreError::NotFound(Entity::Role));
        }
        if roles.len() > cap {
            return Err(StoreError::Violation(TOO_MANY_ASSIGNMENTS));
        }
        Ok(())
    }
}

/// See [`UserStore::update_user_roles`].
pub(super) fn update_user_roles(
    t: &mut Tables,
    user: &User,
    expected: Option<Timestamp>,
    cap: usize,
    revoke: Revoke<'_>,
    journal: &Journal,
) -> StoreResult<()> {
    let Some(old) = t.users.get(&user.id) else {
        return Err(StoreError::NotFound(Entity::User));
    };
    if expected.is_some_and(|e| e != old.updated_at) {
        return Err(StoreError::Violation(USER_CHANGED));
    }
    let updated_at = next_updated_at(old.updated_at, user.updated_at);
    let mut roles: Vec<Assignment> = Vec::new();
    for a in user.roles.iter().filter(|a| a.scope.is_none()) {
        if !roles.contains(a) {
            roles.push(*a);
        }
    }
    roles.extend(old.roles.iter().filter(|a| a.scope.is_some()).copied());
    t.check_assignments(&roles, cap)?;
    let created_at = old.created_at;
    t.check_user_unique(user)?;
    let mut user = user.clone();
    user.created_at = created_at;
    user.roles = roles;
    user.updated_at = updated_at;
    let id = user.id;
    t.put_user(user);
    if let Some(keep) = revoke.keeping() {
        t.revoke_sessions_of(id, keep);
    }
    t.journal(journal);
    Ok(())
}

/// See [`AssignmentStore::scope_role_by_tenant`].
pub(super) fn scope_role_by_tenant(
    t: &mut Tables,
    role: RoleId,
    journal: &Journal,
) -> StoreResult<Vec<UserId>> {
    let mut moved = Vec::new();
    for user in t.users.values_mut() {
        let Some(tenant) = user.tenant else {
            continue;
        };
        let global = Assignment::global(role);
        if !user.roles.contains(&global) {
            continue;
        }
        let scoped = Assignment::within(role, tenant);
        if user.roles.contains(&scoped) {
            user.roles.retain(|a| *a != global);
        } else {
            for a in user.roles.iter_mut().filter(|a| **a == global) {
                *a = scoped;
            }
        }
        moved.push(user.id);
    }
    if !moved.is_empty() {
        let mut journal = journal.clone();
        journal
            .changes
            .extend(moved.iter().map(|id| Change::User(*id)));
        t.journal(&journal);
    }
    Ok(moved)
}

/// See [`UserStore::assign_role`].
pub(super) fn assign_role(
    t: &mut Tables,
    user: UserId,
    assignment: Assignment,
    cap: usize,
    journal: &Journal,
) -> StoreResult<bool> {
    if !t.roles.contains_key(&assignment.role_id) {
        return Err(StoreError::NotFound(Entity::Role));
    }
    let Some(u) = t.users.get_mut(&user) else {
        return Err(StoreError::NotFound(Entity::User));
    };
    if u.roles.contains(&assignment) {
        return Ok(false);
    }
    if u.roles.len() >= cap {
        return Err(StoreError::Violation(TOO_MANY_ASSIGNMENTS));
    }
    u.roles.push(assignment);
    u.updated_at = next_updated_at(u.updated_at, now());
    t.journal(journal);
    Ok(true)
}

/// See [`UserStore::revoke_role`].
pub(super) fn revoke_role(
    t: &mut Tables,
    user: UserId,
    assignment: Assignment,
    journal: &Journal,
) -> StoreResult<bool> {
    let Some(u) = t.users.get_mut(&user) else {
        return Err(StoreError::NotFound(Entity::User));
    };
    let before = u.roles.len();
    u.roles.retain(|a| *a != assignment);
    if u.roles.len() == before {
        return Ok(false);
    }
    u.updated_at = next_updated_at(u.updated_at, now());
    t.journal(journal);
    Ok(true)
}

#[async_trait]
impl ScopeStore for MemoryStore {
    async fn set_scope_parent(
        &self,
        scope: Scope,
        parent: Option<Scope>,
        journal: &Journal,
    ) -> StoreResult<()> {
        let mut t = self.lock();
        match parent {
            Some(p) => {
                if scope_parent_refused(&t.scope_parents, scope, p) {
                    return Err(StoreError::Violation(SCOPE_CYCLE));
                }
                t.scope_parents.insert(scope, p);
            }
            None => {
                t.scope_parents.remove(&scope);
            }
        }
        t.journal(journal);
        Ok(())
    }
}

#[async_trait]
impl AssignmentStore for MemoryStore {
    async fn update_user_roles(
        &self,
        user: &User,
        expected: Option<Timestamp>,
        cap: usize,
        revoke: Revoke<'_>,
        journal: &Journal,
    ) -> StoreResult<()> {
        update_user_roles(&mut self.lock(), user, expected, cap, revoke, journal)
    }
    async fn assign_role(
        &self,
        user: UserId,
        assignment: Assignment,
        cap: usize,
        journal: &Journal,
    ) -> StoreResult<bool> {
        assign_role(&mut self.lock(), user, assignment, cap, journal)
    }
    async fn revoke_role(
        &self,
        user: UserId,
        assignment: Assignment,
        journal: &Journal,
    ) -> StoreResult<bool> {
        revoke_role(&mut self.lock(), user, assignment, journal)
    }
    async fn count_users_with_role(&self, role: RoleId) -> StoreResult<u64> {
        Ok(self
            .lock()
            .users
            .values()
            .filter(|u| u.holds_role(role))
            .count() as u64)
    }
    async fn scope_role_by_tenant(
        &self,
        role: RoleId,
        journal: &Journal,
    ) -> StoreResult<Vec<UserId>> {
        scope_role_by_tenant(&mut self.lock(), role, journal)
    }
}
