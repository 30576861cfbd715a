//! `rbac.roles()`.

use crate::authz::authorizer::Principal;
use crate::authz::privilege::PrivilegeSet;
use crate::error::Result;
use crate::model::*;
use crate::service::*;

/// Roles: `rbac.roles()`.
#[derive(Clone, Copy)]
pub struct Roles<'a> {
    pub(super) rbac: &'a Rbac,
}

impl Roles<'_> {
    /// Creates a role with no privileges (needs RoleAdd).
    pub async fn create(self, actor: &Principal, name: &str, remark: &str) -> Result<Role> {
        self.rbac.create_role(actor, name, remark).await
    }

    /// Defines a role in one call, as seeding wants it: creates `name` when it is missing,
    /// then makes its privileges exactly `privileges` and the roles it includes exactly
    /// `includes`. Each step is judged as its own call is ([`rbac.roles().create`](crate::service::Roles::create),
    /// [`rbac.roles().grant`](crate::service::Roles::grant), [`rbac.roles().include`](crate::service::Roles::include)); running it again converges, so a run cut
    /// short is finished by the next.
    ///
    /// ```
    /// # async fn demo(rbac: rbac_core::Rbac) -> Result<(), rbac_core::Error> {
    /// let system = rbac.system().await?;
    /// rbac.roles().define(&system, "nurse", ["RecordRead"], Vec::<&str>::new()).await?;
    /// rbac.roles().define(&system, "doctor", ["RecordWrite"], ["nurse"]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn define<P, PS, R, RS>(
        self,
        actor: &Principal,
        name: &str,
        privileges: P,
        includes: R,
    ) -> Result<Role>
    where
        P: IntoIterator<Item = PS>,
        PS: AsRef<str>,
        R: IntoIterator<Item = RS>,
        RS: AsRef<str>,
    {
        self.rbac
            .define_role(actor, name, privileges, includes)
            .await
    }

    /// Renames a role or changes its remark (needs RoleEdit, and a role within the actor);
    /// not the built-in admin role, and a system role's name only by admin.
    pub async fn edit(self, actor: &Principal, update: RoleUpdate) -> Result<Role> {
        self.rbac.edit_role(actor, update).await
    }

    /// Deletes a role no user holds (needs RoleDelete, and a role within the actor); not the
    /// built-in admin role, and a system role only by admin.
    pub async fn delete(self, actor: &Principal, name: &str) -> Result<()> {
        self.rbac.delete_role(actor, name).await
    }

    /// Enables or disables a role (needs RoleEnableOrDisable); a disabled role grants
    /// nothing. Not the built-in admin role.
    pub async fn set_enabled(self, actor: &Principal, name: &str, enabled: bool) -> Result<()> {
        self.rbac.set_role_enabled(actor, name, enabled).await
    }

    /// Replaces a role's privileges (needs RoleAuthority). Every code must be known, and
    /// the actor must hold each one it adds and each one it removes (the role must lie
    /// within the actor). Not the built-in admin role; more to a system role only by admin.
    pub async fn grant<I, S>(self, actor: &Principal, role_name: &str, codes: I) -> Result<Role>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.rbac.grant(actor, role_name, codes).await
    }

    /// Lists roles (needs RoleAccess).
    pub async fn list(self, actor: &Principal, page: Page) -> Result<Listing<Role>> {
        self.rbac.list_roles(actor, page).await
    }

    /// How many users hold a role (needs RoleAccess).
    pub async fn user_count(self, actor: &Principal, name: &str) -> Result<(Role, u64)> {
        self.rbac.role_user_count(actor, name).await
    }

    /// The privilege codes a user or role holds now. About oneself needs nothing; about
    /// others UserAccess or RoleAccess.
    pub async fn inquire(
        self,
        actor: &Principal,
        target: InquiryTarget,
        name: &str,
    ) -> Result<Vec<String>> {
        self.rbac.inquire(actor, target, name).await
    }

    /// [`inquire`](crate::service::Roles::inquire) within a scope: a user's privileges there (its global
    /// roles, the scope's and its ancestors'); a role's are the same everywhere.
    pub async fn inquire_in(
        self,
        actor: &Principal,
        target: InquiryTarget,
        name: &str,
        scope: Option<crate::authz::scope::Scope>,
    ) -> Result<Vec<String>> {
        self.rbac.inquire_in(actor, target, name, scope).await
    }

    /// The role named `name`, `NotFound(Role)` if none.
    pub async fn named(self, name: &str) -> Result<Role> {
        self.rbac.role_named(name).await
    }

    /// Replaces the roles `role_name` includes (needs RoleAuthority). Every named role must
    /// exist; a cycle is refused as an invalid `include`. The role, every role added or
    /// removed, and every role that includes this one must lie within the actor. Not the
    /// built-in admin role; more to a system role only by admin.
    pub async fn include<I, S>(self, actor: &Principal, role_name: &str, include: I) -> Result<Role>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.rbac.include_roles(actor, role_name, include).await
    }

    /// The roles that include `role`, directly or through others.
    pub async fn includers_of(self, role: RoleId) -> Result<Vec<Role>> {
        self.rbac.includers_of(role).await
    }

    /// Everything a role could grant: its own privileges and those of every role it
    /// includes, transitively, enabled or not (the built-in admin role: every one). An
    /// included role this process has not loaded counts as every privilege (fail closed).
    pub fn privileges_of(self, role: &Role) -> PrivilegeSet {
        self.rbac.privileges_of_role(role)
    }

    /// Roles (needs RoleAccess), as [`list_roles`](crate::service::Roles::list), read a chunk at a time.
    pub async fn rows(self, actor: &Principal, page: Page) -> Result<Rows<Role>> {
        self.rbac.role_rows(actor, page).await
    }

    /// The system role stored under `key`, `NotFound(Role)` if none.
    pub async fn system_role(self, key: &str) -> Result<Role> {
        self.rbac.system_role(key).await
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
}
