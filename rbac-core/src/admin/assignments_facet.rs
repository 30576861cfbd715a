//! `rbac.assignments()`.

use crate::authz::privilege::PrivilegeSet;
use crate::error::Result;
use crate::model::*;
use crate::service::*;

/// Assignments: `rbac.assignments()`.
#[derive(Clone, Copy)]
pub struct Assignments<'a> {
    pub(crate) rbac: &'a Rbac,
}

impl Assignments<'_> {
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
        self.rbac.containment().assigned_privileges(user).await
    }

    /// The names of the roles a user holds everywhere and the privilege codes they confer
    /// now.
    pub async fn roles_and_privileges(self, user: &User) -> Result<(Vec<String>, Vec<String>)> {
        self.rbac.sessions().roles_and_privileges(user).await
    }
}
