//! Administrative containment: no one acts on someone stronger.
//!
//! An actor may change, reset, disable, delete or re-grant a user or role only when that
//! target lies within the actor:
//! - a user lies within the actor when every privilege *assigned* to it (through every
//!   role it holds, globally or in any scope, enabled or not) is one the actor holds now
//!   (globally, or within the scope it acts in); a user with no role lies within everyone,
//!   every user lies within itself, and the built-in admin user lies within itself alone;
//! - a role lies within the actor when every privilege it grants, itself or through the
//!   roles it includes, is one the actor holds.
//!
//! Assignments are compared, not today's effective set: a user whose role is disabled for
//! a moment is still as strong as that role, and resetting its password would own it once
//! the role is enabled again. Every refusal is audited, and nothing is written before it.

use crate::authz::authorizer::Principal;
use crate::authz::privilege::PrivilegeSet;
use crate::authz::scope::Scope;
use crate::error::{Error, Result};
use crate::model::{AuditCategory, NewAudit, Role, User};
use crate::service::{Rbac, ADMIN};

/// Containment: whether a target lies within an actor (see the module).
#[derive(Clone, Copy)]
pub(crate) struct Containment<'a> {
    pub(crate) rbac: &'a Rbac,
}

impl Containment<'_> {
    /// Everything a role could grant: its own privileges and those of every role it
    /// includes, transitively, enabled or not (the built-in admin role: every one). An
    /// included role this process has not loaded counts as every privilege (fail closed).
    pub(crate) fn privileges_of_role(&self, role: &Role) -> PrivilegeSet {
        let authorizer = &self.rbac.inner.authorizer;
        let registry = authorizer.registry();
        if role.builtin {
            return registry.all();
        }
        let mut set = registry.set_of_known(role.privileges.iter().map(String::as_str));
        for included in &role.includes {
            match authorizer.role(*included) {
                Some(grant) => set.union_with(&grant.reach),
                None => return registry.all(),
            }
        }
        set
    }

    /// What `role` grants for certain, to judge what a change would add: its own privileges
    /// and what each included role confers now (enabled ones, transitively), loaded first;
    /// a disabled role, or one still not loaded, adds nothing. The other side of
    /// [`privileges_of_role`](Self::privileges_of_role) (everything a role could grant,
    /// every privilege for a missing role): neither lets a change pass as adding nothing.
    pub(crate) async fn reach_floor(&self, role: &Role) -> Result<PrivilegeSet> {
        let authorizer = &self.rbac.inner.authorizer;
        let registry = authorizer.registry();
        if role.builtin {
            return Ok(registry.all());
        }
        self.load_included(role).await?;
        let mut set = registry.set_of_known(role.privileges.iter().map(String::as_str));
        for included in &role.includes {
            if let Some(grant) = authorizer.role(*included) {
                set.union_with(&grant.confers);
            }
        }
        Ok(set)
    }

    /// Loads into the snapshot the roles `role` includes, so its reach is known.
    pub(crate) async fn load_included(&self, role: &Role) -> Result<()> {
        for included in &role.includes {
            self.rbac.inner.authorizer.ensure_role(*included).await?;
        }
        Ok(())
    }

    /// The privileges assigned to `user` through every role it holds, globally or in any
    /// scope, whether the roles are enabled or not (empty for a user without a role).
    pub(crate) async fn assigned_privileges(&self, user: &User) -> Result<PrivilegeSet> {
        let registry = self.rbac.inner.authorizer.registry();
        let mut set = PrivilegeSet::with_capacity(registry.len());
        let mut seen = Vec::new();
        for assignment in &user.roles {
            if seen.contains(&assignment.role_id) {
                continue;
            }
            seen.push(assignment.role_id);
            if let Some(role) = self.rbac.inner.store.role(assignment.role_id).await? {
                self.load_included(&role).await?;
                set.union_with(&self.privileges_of_role(&role));
            }
        }
        Ok(set)
    }

    /// Refuses (`Outranked`, audited) unless `target` lies within `actor`; `action` says
    /// what was attempted, for the audit entry ("reset the password of").
    pub(crate) async fn ensure_user_within(
        &self,
        actor: &Principal,
        target: &User,
        action: &str,
    ) -> Result<()> {
        self.ensure_user_within_in(actor, target, action, None)
            .await
    }

    /// [`ensure_user_within`](Self::ensure_user_within) for an actor acting within `scope`
    /// (`None`: everywhere): everything the target holds, in every scope, must be held by
    /// the actor there.
    pub(crate) async fn ensure_user_within_in(
        &self,
        actor: &Principal,
        target: &User,
        action: &str,
        scope: Option<&Scope>,
    ) -> Result<()> {
        if target.id == actor.user_id {
            return Ok(());
        }
        let assigned = self.assigned_privileges(target).await?;
        let missing = self.first_unheld_in(actor, &assigned, scope).or_else(|| {
            // Holding every privilege is not enough: the built-in admin is admin's alone.
            (target.name == ADMIN && !actor.is_builtin_admin()).then(|| ADMIN.to_string())
        });
        match missing {
            None => Ok(()),
            Some(missing) => {
                self.refuse(actor, action, format!("user {}", target.name), missing)
                    .await
            }
        }
    }

    /// Refuses (`Outranked`, audited) unless every privilege of `role` is held by `actor`.
    pub(crate) async fn ensure_role_within(
        &self,
        actor: &Principal,
        role: &Role,
        action: &str,
    ) -> Result<()> {
        self.ensure_role_within_in(actor, role, action, None).await
    }

    /// [`ensure_role_within`](Self::ensure_role_within) for an actor acting within `scope`.
    pub(crate) async fn ensure_role_within_in(
        &self,
        actor: &Principal,
        role: &Role,
        action: &str,
        scope: Option<&Scope>,
    ) -> Result<()> {
        self.load_included(role).await?;
        let grants = self.privileges_of_role(role);
        match self.first_unheld_in(actor, &grants, scope) {
            None => Ok(()),
            Some(missing) => {
                self.refuse(actor, action, format!("role {}", role.name), missing)
                    .await
            }
        }
    }

    /// The first privilege of `set` that `actor` does not hold now within `scope` (`None`:
    /// globally).
    pub(crate) fn first_unheld_in(
        &self,
        actor: &Principal,
        set: &PrivilegeSet,
        scope: Option<&Scope>,
    ) -> Option<String> {
        let authorizer = &self.rbac.inner.authorizer;
        let held = match scope {
            Some(scope) => authorizer.privileges_in(actor, scope),
            None => authorizer.privileges_of(actor),
        };
        let missing = held.missing_from(set).next()?;
        Some(
            authorizer
                .registry()
                .code(missing)
                .unwrap_or("?")
                .to_string(),
        )
    }

    /// Audits a refusal to act on a stronger target and returns its error.
    pub(crate) async fn refuse(
        &self,
        actor: &Principal,
        action: &str,
        target: String,
        missing: String,
    ) -> Result<()> {
        let entry = NewAudit {
            user_id: Some(actor.user_id),
            user_name: actor.user_name.to_string(),
            category: AuditCategory::System,
            content: format!("refused to {action} {target}: it holds {missing}"),
            success: false,
        };
        if let Err(e) = self.rbac.inner.store.append_audit(&entry).await {
            tracing::warn!(error = %e, "audit of a containment refusal failed");
        }
        Err(Error::Outranked { target, missing })
    }
}
