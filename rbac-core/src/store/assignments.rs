//! Who holds which role where: the assignments' storage port.

use async_trait::async_trait;

use super::StoreResult;
use crate::model::*;

/// The message of a refused assignment beyond the per-user cap.
pub const TOO_MANY_ASSIGNMENTS: &str = "the user holds the most roles allowed";

/// Assignments of roles to users, globally or within a scope.
#[async_trait]
pub trait AssignmentStore: super::AuthorizerStore {
    /// [`update_user`](super::UserStore::update_user), and in the same transaction replaces the user's
    /// global assignments with those of `user.roles` (in order; scoped ones stay):
    /// `NotFound(Role)` if a role is gone, `Violation` if the user would hold more than
    /// `cap` assignments; `expected` as there.
    async fn update_user_roles(
        &self,
        user: &User,
        expected: Option<Timestamp>,
        cap: usize,
        revoke: Revoke<'_>,
        journal: &Journal,
    ) -> StoreResult<()>;
    /// Adds an assignment; `Ok(false)` when the user holds it already, `Violation` when the
    /// user would hold more than `cap`, `NotFound` when the user or role is gone.
    async fn assign_role(
        &self,
        user: UserId,
        assignment: Assignment,
        cap: usize,
        journal: &Journal,
    ) -> StoreResult<bool>;
    /// Removes an assignment; `Ok(false)` when the user did not hold it.
    async fn revoke_role(
        &self,
        user: UserId,
        assignment: Assignment,
        journal: &Journal,
    ) -> StoreResult<bool>;
    /// How many distinct users hold a role, globally or in any scope.
    async fn count_users_with_role(&self, role: RoleId) -> StoreResult<u64>;
    /// Moves every global assignment of `role` held by a user with an organisation
    /// (`department_id`) into the scope `kind:department_id` (dropping it where the user
    /// holds the role there already), in one transaction with `journal` and a
    /// `Change::User` per user moved; returns those users. Running it again moves nothing.
    async fn scope_role_by_organisation(
        &self,
        role: RoleId,
        kind: ScopeKind,
        journal: &Journal,
    ) -> StoreResult<Vec<UserId>>;
}
