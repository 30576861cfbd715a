//! `rbac.assignments()`.

use crate::authz::authorizer::Principal;
use crate::authz::privilege::PrivilegeSet;
use crate::error::Result;
use crate::model::*;
use crate::service::*;

/// Assignments: `rbac.assignments()`.
#[derive(Clone, Copy)]
pub struct Assignments<'a> {
    pub(super) rbac: &'a Rbac,
}

impl Assignments<'_> {
    /// Gives `user_name` the role `role_name`, everywhere or within `scope`. `Ok(false)` when
    /// the user holds that assignment already.
    pub async fn assign(
        self,
        actor: &Principal,
        user_name: &str,
        role_name: &str,
        scope: Option<Scope>,
    ) -> Result<bool> {
        self.rbac
            .assign_role(actor, user_name, role_name, scope)
            .await
    }

    /// Takes the role `role_name` (everywhere, or within `scope`) from `user_name`.
    /// `Ok(false)` when the user did not hold that assignment.
    pub async fn revoke(
        self,
        actor: &Principal,
        user_name: &str,
        role_name: &str,
        scope: Option<Scope>,
    ) -> Result<bool> {
        self.rbac
            .revoke_role(actor, user_name, role_name, scope)
            .await
    }

    /// The roles `user_name` holds, each with its scope, in the order assigned. About
    /// oneself needs nothing; about others UserAccess.
    ///
    /// A scoped administrator, holding UserAccess only within some scopes, reads the
    /// assignments the user holds in those scopes (and their child scopes) and no other;
    /// a user holding none there is `Forbidden` to it.
    pub async fn of_user(self, actor: &Principal, user_name: &str) -> Result<Vec<HeldRole>> {
        self.rbac.user_roles(actor, user_name).await
    }

    /// Makes `parent` the parent of `scope` (`None`: no parent), so grants in the parent
    /// hold inside `scope`. An application call (scopes are the application's structure,
    /// not a user's action): every instance applies it through the change log. A cycle, or
    /// nesting deeper than 16, is a violation.
    pub async fn set_scope_parent(self, scope: Scope, parent: Option<Scope>) -> Result<()> {
        self.rbac.set_scope_parent(scope, parent).await
    }

    /// Makes user `owner` the owner of scope `child`: it holds the system role `role_key`
    /// within its own scope `owner_scope` (one assignment however many scopes it owns), and
    /// `child` lies within `owner_scope`. A system action (no actor: the application grants
    /// ownership of what a user creates); idempotent.
    pub async fn own_scope(
        self,
        owner: crate::model::UserId,
        role_key: &str,
        owner_scope: Scope,
        child: Scope,
    ) -> Result<()> {
        self.rbac
            .own_scope(owner, role_key, owner_scope, child)
            .await
    }

    /// Parses `kind:id` with a kind the application declared; anything else is an invalid
    /// `field`.
    pub fn parse_scope(self, field: &'static str, text: &str) -> Result<Scope> {
        self.rbac.parse_scope(field, text)
    }

    /// The privileges assigned to `user` through every role it holds, globally or in any
    /// scope, whether the roles are enabled or not (empty for a user without a role).
    pub async fn privileges_of_user(self, user: &User) -> Result<PrivilegeSet> {
        self.rbac.assigned_privileges(user).await
    }

    /// The names of the roles a user holds everywhere and the privilege codes they confer
    /// now.
    pub async fn roles_and_privileges(self, user: &User) -> Result<(Vec<String>, Vec<String>)> {
        self.rbac.roles_and_privileges(user).await
    }
}
