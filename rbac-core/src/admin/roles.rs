//! Role administration and grants.

use super::roles_facet::Roles;
use crate::authz::authorizer::Principal;
use crate::error::{Entity, Error, Result};
use crate::model::{now, AuditCategory, Change, Listing, Page, Role};
use crate::service::{validate, Sensitive};

/// Changes to a role's name and remark.
#[derive(Debug, Clone)]
pub struct RoleUpdate {
    /// The role id.
    pub id: i64,
    /// The new name.
    pub name: String,
    /// The new remark (`None` keeps it).
    pub remark: Option<String>,
}

/// Whose privileges an inquiry asks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InquiryTarget {
    /// A user, by name.
    User,
    /// A role, by name.
    Role,
}

impl Roles<'_> {
    /// Creates a role with no privileges (needs RoleAdd).
    pub async fn create(self, actor: &Principal, name: &str, remark: &str) -> Result<Role> {
        self.rbac.require(actor, &self.rbac.admin().role_add)?;
        validate::name("role_name", name)?;
        validate::text("remark", remark)?;
        if self.rbac.is_reserved_role_name(name) {
            return Err(Error::AlreadyExists(crate::Field::RoleName));
        }
        let role = Role::new(name, remark, actor.user_name.to_string());
        let journal = self.rbac.journal(
            Some(actor),
            AuditCategory::System,
            format!("create role {name}"),
        );
        // The write and its application to the caches run on a task of their own: a caller
        // that goes away leaves a role this instance knows (its id is known only once
        // written, so `applying` cannot be armed before).
        let (store, authorizer) = (
            self.rbac.store().clone(),
            self.rbac.inner.authorizer.clone(),
        );
        let role = crate::caller::detached(async move {
            let role = store.create_role(&role, &journal).await?;
            let changes = [Change::Role(role.id)];
            authorizer.apply_changes(&changes).await;
            Ok(role)
        })
        .await?;
        Ok(role)
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
        let privileges: Vec<String> = privileges
            .into_iter()
            .map(|p| p.as_ref().to_string())
            .collect();
        let includes: Vec<String> = includes
            .into_iter()
            .map(|r| r.as_ref().to_string())
            .collect();
        let role = match self.rbac.role_named(name).await {
            Ok(role) => role,
            Err(Error::NotFound(Entity::Role)) => self.create(actor, name, "").await?,
            Err(e) => return Err(e),
        };
        // Only an actor that may read every role learns that one already matches: others
        // are judged by grant and include as always.
        let trusted = actor.is_builtin_admin();
        let same_codes = {
            let have: std::collections::BTreeSet<&str> =
                role.privileges.iter().map(String::as_str).collect();
            have == privileges.iter().map(String::as_str).collect()
        };
        let role = if trusted && same_codes {
            role
        } else {
            self.grant(actor, name, &privileges).await?
        };
        let mut wanted = std::collections::BTreeSet::new();
        for included in &includes {
            wanted.insert(self.rbac.role_named(included).await?.id);
        }
        if trusted && wanted == role.includes.iter().copied().collect() {
            return Ok(role);
        }
        self.include(actor, name, &includes).await
    }

    /// Renames a role or changes its remark (needs RoleEdit, and a role within the actor);
    /// not the built-in admin role, and a system role's name only by admin.
    pub async fn edit(self, actor: &Principal, update: RoleUpdate) -> Result<Role> {
        self.rbac.require(actor, &self.rbac.admin().role_edit)?;
        validate::name("role_name", &update.name)?;
        let mut role = self
            .rbac
            .store()
            .role(update.id)
            .await?
            .ok_or(Error::NotFound(Entity::Role))?;
        if role.builtin {
            return Err(Error::Violation(
                "the built-in admin role cannot be edited".into(),
            ));
        }
        if role.name != update.name {
            if role.system_key.is_some() && !actor.is_builtin_admin() {
                return Err(Error::Violation(format!(
                    "the system role {} can be renamed by admin alone",
                    role.name
                )));
            }
            if self.rbac.is_reserved_role_name(&update.name) {
                return Err(Error::AlreadyExists(crate::Field::RoleName));
            }
        }
        self.rbac
            .containment()
            .ensure_role_within(actor, &role, "edit")
            .await?;
        if let Some(remark) = update.remark {
            validate::text("remark", &remark)?;
            role.remark = remark;
        }
        let old = std::mem::replace(&mut role.name, update.name);
        role.updated_at = now();
        let journal = self
            .rbac
            .journal(
                Some(actor),
                AuditCategory::System,
                format!("edit role {old} (now {})", role.name),
            )
            .with(Change::Role(role.id));
        self.rbac
            .applying(&journal)
            .write(self.rbac.store().update_role(&role, &journal))
            .await?;
        Ok(role)
    }

    /// Deletes a role no user holds (needs RoleDelete, and a role within the actor); not the
    /// built-in admin role, and a system role only by admin.
    pub async fn delete(self, actor: &Principal, name: &str) -> Result<()> {
        self.rbac.require(actor, &self.rbac.admin().role_delete)?;
        let role = self.rbac.role_named(name).await?;
        if role.builtin {
            return Err(Error::Violation(
                "the built-in admin role cannot be deleted".into(),
            ));
        }
        if role.system_key.is_some() && !actor.is_builtin_admin() {
            return Err(Error::Violation(format!(
                "the system role {name} can be deleted by admin alone"
            )));
        }
        self.rbac
            .containment()
            .ensure_role_within(actor, &role, "delete")
            .await?;
        self.ensure_includers_within(actor, &role, "delete a role included in")
            .await?;
        self.rbac
            .sessions()
            .ensure_fresh(actor, Sensitive::DeleteRole)?;
        let mut journal = self
            .rbac
            .journal(
                Some(actor),
                AuditCategory::System,
                format!("delete role {name}"),
            )
            .with(Change::Role(role.id))
            .event_about(crate::events::kind::ROLE_CHANGED, name, "deleted");
        // The roles that included it lose it: every instance re-reads them.
        for includer in self.includers_of(role.id).await? {
            journal = journal.with(Change::Role(includer.id));
        }
        self.rbac
            .applying(&journal)
            .write(self.rbac.store().delete_role(role.id, &journal))
            .await?;
        Ok(())
    }

    /// Enables or disables a role (needs RoleEnableOrDisable); a disabled role grants
    /// nothing. Not the built-in admin role.
    pub async fn set_enabled(self, actor: &Principal, name: &str, enabled: bool) -> Result<()> {
        self.rbac.require(actor, &self.rbac.admin().role_enable)?;
        let mut role = self.rbac.role_named(name).await?;
        if role.builtin {
            return Err(Error::Violation(
                "the built-in admin role cannot be disabled".into(),
            ));
        }
        let verb = if enabled { "enable" } else { "disable" };
        if enabled && !role.enabled && !actor.is_builtin_admin() {
            // Enabling confers more, to every member of a system role that is or includes
            // this one: admin's alone, as granting more is.
            if let Some(system) = self.system_role_reaching(&role).await? {
                return Err(Error::Violation(format!(
                    "the system role {system} can be granted more by admin alone"
                )));
            }
        }
        self.rbac
            .containment()
            .ensure_role_within(actor, &role, verb)
            .await?;
        self.ensure_includers_within(actor, &role, &format!("{verb} a role included in"))
            .await?;
        self.rbac
            .sessions()
            .ensure_fresh(actor, Sensitive::SetRoleEnabled)?;
        role.enabled = enabled;
        role.updated_at = now();
        let journal = self
            .rbac
            .journal(
                Some(actor),
                AuditCategory::System,
                format!("{verb} role {name}"),
            )
            .with(Change::Role(role.id))
            .event_about(crate::events::kind::ROLE_CHANGED, name, format!("{verb}d"));
        self.rbac
            .applying(&journal)
            .write(self.rbac.store().update_role(&role, &journal))
            .await?;
        Ok(())
    }

    /// Replaces a role's privileges (needs RoleAuthority). Every code must be known, and
    /// the actor must hold each one it adds and each one it removes (the role must lie
    /// within the actor). Not the built-in admin role; more to a system role only by admin.
    pub async fn grant<I, S>(self, actor: &Principal, role_name: &str, codes: I) -> Result<Role>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let codes: Vec<String> = codes.into_iter().map(|c| c.as_ref().to_string()).collect();
        self.rbac
            .require(actor, &self.rbac.admin().role_authority)?;
        let authorizer = &self.rbac.inner.authorizer;
        let wanted = authorizer
            .registry()
            .set_of(codes.iter().map(String::as_str))
            .map_err(Error::UnknownPrivilege)?;
        let mut role = self.rbac.role_named(role_name).await?;
        if role.builtin {
            return Err(Error::Violation(
                "the built-in admin role cannot be changed".into(),
            ));
        }
        let held = authorizer.privileges_of(actor);
        // What the role grants for certain (a role that cannot be loaded grants nothing
        // here): an unloaded included role must not make an addition look like none.
        let current = self.rbac.containment().reach_floor(&role).await?;
        // Adding what the actor does not hold is refused first, with the grant's own code.
        if let Some(p) = wanted
            .iter()
            .find(|p| !held.contains(*p) && !current.contains(*p))
        {
            return Err(Error::NotGrantable(
                authorizer.registry().code(p).unwrap_or("?").to_string(),
            ));
        }
        if !actor.is_builtin_admin() && wanted.iter().any(|p| !current.contains(p)) {
            // More to a system role is admin's alone, and so is more to a role a system
            // role includes: its members (every registrant) would gain it too.
            if let Some(system) = self.system_role_reaching(&role).await? {
                return Err(Error::Violation(format!(
                    "the system role {system} can be granted more by admin alone"
                )));
            }
        }
        // Removing is acting on the role too: the role, as it stands, must lie within the
        // actor, so every code added and every code removed is one the actor holds.
        self.rbac
            .containment()
            .ensure_role_within(actor, &role, "change the grants of")
            .await?;
        self.ensure_includers_within(actor, &role, "change the grants of a role included in")
            .await?;
        self.rbac.sessions().ensure_fresh(actor, Sensitive::Grant)?;
        let codes = authorizer.registry().codes_of(&wanted);
        let journal = self
            .rbac
            .journal(
                Some(actor),
                AuditCategory::System,
                format!("grant role {role_name} [{}]", codes.join(",")),
            )
            .with(Change::Role(role.id))
            .event_about(
                crate::events::kind::ROLE_CHANGED,
                role_name,
                format!("privileges [{}]", codes.join(",")),
            );
        self.rbac
            .applying(&journal)
            .write(
                self.rbac
                    .store()
                    .set_role_privileges(role.id, &codes, &journal),
            )
            .await?;
        role.privileges = codes;
        Ok(role)
    }

    /// Lists roles (needs RoleAccess).
    pub async fn list(self, actor: &Principal, page: Page) -> Result<Listing<Role>> {
        self.rbac.require(actor, &self.rbac.admin().role_access)?;
        Ok(self.rbac.store().list_roles(page).await?)
    }

    /// How many users hold a role (needs RoleAccess).
    pub async fn user_count(self, actor: &Principal, name: &str) -> Result<(Role, u64)> {
        self.rbac.require(actor, &self.rbac.admin().role_access)?;
        let role = self.rbac.role_named(name).await?;
        let n = self.rbac.store().count_users_with_role(role.id).await?;
        Ok((role, n))
    }

    /// The privilege codes a user or role holds now. About oneself needs nothing; about
    /// others UserAccess or RoleAccess.
    pub async fn inquire(
        self,
        actor: &Principal,
        target: InquiryTarget,
        name: &str,
    ) -> Result<Vec<String>> {
        self.inquire_in(actor, target, name, None).await
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
        let own = target == InquiryTarget::User && name == &*actor.user_name;
        if !own
            && !self.rbac.holds(actor, &self.rbac.admin().user_access)
            && !self.rbac.holds(actor, &self.rbac.admin().role_access)
        {
            return Err(Error::Forbidden {
                missing: self.rbac.admin().user_access.clone(),
            });
        }
        match target {
            InquiryTarget::User => {
                let user = self.rbac.user_named(name).await?;
                match scope {
                    None => Ok(self.rbac.sessions().roles_and_privileges(&user).await?.1),
                    Some(scope) => {
                        let authorizer = &self.rbac.inner.authorizer;
                        let principal = Principal {
                            user_id: user.id,
                            user_name: std::sync::Arc::from(user.name.as_str()),
                            grants: authorizer.grants_for(&user.roles).await?,
                            session_id: std::sync::Arc::from(""),
                            kind: crate::model::SessionKind::Jwt,
                            factors: crate::model::Factors::PASSWORD,
                            verified_at: 0,
                            enrolment_required: false,
                            second_factor_enrolled: false,
                        };
                        Ok(authorizer
                            .registry()
                            .codes_of(&authorizer.privileges_in(&principal, &scope)))
                    }
                }
            }
            InquiryTarget::Role => {
                let role = self.rbac.role_named(name).await?;
                let authorizer = &self.rbac.inner.authorizer;
                authorizer.ensure_role(role.id).await?;
                Ok(authorizer
                    .role(role.id)
                    .and_then(|g| g.effective().map(|s| authorizer.registry().codes_of(s)))
                    .unwrap_or_default())
            }
        }
    }
}
