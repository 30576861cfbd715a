//! `rbac.roles()`.

use crate::authz::authorizer::Principal;
use crate::authz::privilege::PrivilegeSet;
use crate::error::Result;
use crate::model::*;
use crate::service::*;

/// Roles: `rbac.roles()`.
#[derive(Clone, Copy)]
pub struct Roles<'a> {
    pub(crate) rbac: &'a Rbac,
}

impl Roles<'_> {
    /// The role named `name`, `NotFound(Role)` if none.
    pub async fn named(self, name: &str) -> Result<Role> {
        self.rbac.role_named(name).await
    }

    /// Everything a role could grant: its own privileges and those of every role it
    /// includes, transitively, enabled or not (the built-in admin role: every one). An
    /// included role this process has not loaded counts as every privilege (fail closed).
    pub fn privileges_of(self, role: &Role) -> PrivilegeSet {
        self.rbac.containment().privileges_of_role(role)
    }

    /// Roles (needs RoleAccess), as [`list_roles`](crate::service::Roles::list), read a chunk at a time.
    pub async fn rows(self, actor: &Principal, page: Page) -> Result<Rows<Role>> {
        crate::admin::listing::role_rows(self.rbac, actor, page).await
    }

    /// The system role stored under `key`, `NotFound(Role)` if none.
    pub async fn system_role(self, key: &str) -> Result<Role> {
        self.rbac.system_roles().by_key(key).await
    }

    /// Sets whether a role requires its members to have a second factor. The built-in
    /// admin's alone: the rule binds every member of the role, and of every role including
    /// it, however strong (lifting it is a downgrade for them all). Requiring it needs a
    /// secrets key, so that members can enrol. Acts on the members' next request.
    pub async fn require_second_factor(
        self,
        actor: &Principal,
        role_name: &str,
        required: bool,
    ) -> Result<()> {
        self.rbac
            .factors()
            .set_role_requires_second_factor(actor, role_name, required)
            .await
    }

    /// Refuses (`Outranked`, audited) unless every privilege `role` confers is one `actor`
    /// holds: the check every role action here makes, for an application's own actions on
    /// a role. `action` says what was attempted, for the audit entry.
    pub async fn ensure_within(self, actor: &Principal, role: &Role, action: &str) -> Result<()> {
        self.rbac
            .containment()
            .ensure_role_within(actor, role, action)
            .await
    }
}
