//! Assigning and revoking roles, globally or within a scope, and listing a user's roles.
//!
//! An actor assigns or revokes within a scope only with RoleAuthority there (held globally,
//! in that scope, or in one of its ancestors), only roles whose privileges it holds there,
//! and only for users whose every privilege, in every scope, it holds there too. A global
//! assignment needs all of it globally.

use super::assignments_facet::Assignments;
use crate::authz::authorizer::Principal;
use crate::authz::scope::{Assignment, Scope};
use crate::error::{Error, Result};
use crate::model::{AuditCategory, Change, Role, User};
use crate::service::{Sensitive, ADMIN};

/// One role a user holds, for rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldRole {
    /// The role's name.
    pub role_name: String,
    /// Where it holds (`None`: everywhere).
    pub scope: Option<Scope>,
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
        let (user, role) = self
            .assignment_checked(
                actor,
                user_name,
                role_name,
                scope.as_ref(),
                "assign a role to",
            )
            .await?;
        self.rbac
            .sessions()
            .ensure_fresh(actor, Sensitive::AssignRole)?;
        let assignment = Assignment {
            role_id: role.id,
            scope,
        };
        let journal = self
            .rbac
            .journal(
                Some(actor),
                AuditCategory::System,
                format!(
                    "assign role {} to {}{}",
                    role.name,
                    user.name,
                    where_(scope)
                ),
            )
            .with(Change::User(user.id))
            .event_about(
                crate::events::kind::GRANT_CHANGED,
                &user.name,
                format!("assigned role {}{}", role.name, where_(scope)),
            );
        let added = match self
            .rbac
            .applying(&journal)
            .write(self.rbac.store().assign_role(
                user.id,
                assignment,
                self.rbac.assignment_cap(),
                &journal,
            ))
            .await
        {
            Err(crate::StoreError::Violation(_)) => {
                return Err(Error::Violation(format!(
                    "a user holds at most {} roles",
                    self.rbac.assignment_cap()
                )))
            }
            other => other?,
        };
        Ok(added)
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
        let (user, role) = self
            .assignment_checked(
                actor,
                user_name,
                role_name,
                scope.as_ref(),
                "revoke a role of",
            )
            .await?;
        self.rbac
            .sessions()
            .ensure_fresh(actor, Sensitive::RevokeRole)?;
        if user.name == ADMIN && role.builtin {
            return Err(Error::Violation("the built-in admin keeps its role".into()));
        }
        let assignment = Assignment {
            role_id: role.id,
            scope,
        };
        let journal = self
            .rbac
            .journal(
                Some(actor),
                AuditCategory::System,
                format!(
                    "revoke role {} of {}{}",
                    role.name,
                    user.name,
                    where_(scope)
                ),
            )
            .with(Change::User(user.id))
            .event_about(
                crate::events::kind::GRANT_CHANGED,
                &user.name,
                format!("revoked role {}{}", role.name, where_(scope)),
            );
        let removed = self
            .rbac
            .applying(&journal)
            .write(self.rbac.store().revoke_role(user.id, assignment, &journal))
            .await?;
        Ok(removed)
    }

    /// The checks assigning and revoking share: RoleAuthority where it acts, the role and
    /// the user within the actor there.
    async fn assignment_checked(
        self,
        actor: &Principal,
        user_name: &str,
        role_name: &str,
        scope: Option<&Scope>,
        action: &str,
    ) -> Result<(User, Role)> {
        if let Some(scope) = scope {
            self.rbac.ensure_declared("scope", scope)?;
        }
        let authority = &self.rbac.admin().role_authority;
        match scope {
            Some(scope) => self.rbac.require_in(actor, authority, scope)?,
            None => self.rbac.require(actor, authority)?,
        }
        let user = self.rbac.user_named(user_name).await?;
        let role = self.rbac.role_named(role_name).await?;
        self.rbac
            .containment()
            .ensure_role_within_in(actor, &role, action, scope)
            .await?;
        self.rbac
            .containment()
            .ensure_user_within_in(actor, &user, action, scope)
            .await?;
        Ok((user, role))
    }

    /// The roles `user_name` holds, each with its scope, in the order assigned. About
    /// oneself needs nothing; about others UserAccess.
    ///
    /// A scoped administrator, holding UserAccess only within some scopes, reads the
    /// assignments the user holds in those scopes (and their child scopes) and no other;
    /// a user holding none there is `Forbidden` to it.
    pub async fn of_user(self, actor: &Principal, user_name: &str) -> Result<Vec<HeldRole>> {
        let user = self.rbac.user_named(user_name).await?;
        let access = &self.rbac.admin().user_access;
        let everything = user.id == actor.user_id || self.rbac.require(actor, access).is_ok();
        let visible = |a: &Assignment| {
            everything
                || a.scope
                    .is_some_and(|s| self.rbac.require_in(actor, access, &s).is_ok())
        };
        if !user.roles.iter().any(visible) && !everything {
            return Err(Error::Forbidden {
                missing: access.clone(),
            });
        }
        let names = self.rbac.role_names().await?;
        Ok(user
            .roles
            .iter()
            .filter(|a| visible(a))
            .filter_map(|a| {
                names.get(&a.role_id).map(|name| HeldRole {
                    role_name: name.clone(),
                    scope: a.scope,
                })
            })
            .collect())
    }

    /// Makes `parent` the parent of `scope` (`None`: no parent), so grants in the parent
    /// hold inside `scope`. An application call (scopes are the application's structure,
    /// not a user's action): every instance applies it through the change log. A cycle, or
    /// nesting deeper than 16, is a violation.
    pub async fn set_scope_parent(self, scope: Scope, parent: Option<Scope>) -> Result<()> {
        self.rbac.ensure_declared("scope", &scope)?;
        if let Some(parent) = &parent {
            self.rbac.ensure_declared("parent", parent)?;
        }
        let journal = crate::model::Journal::audit(crate::model::NewAudit {
            user_id: None,
            user_name: String::new(),
            category: AuditCategory::System,
            content: match parent {
                Some(p) => format!("scope {scope} lies within {p}"),
                None => format!("scope {scope} lies within no other"),
            },
            success: true,
        })
        .with(Change::Scope(scope));
        self.rbac
            .applying(&journal)
            .write(self.rbac.store().set_scope_parent(scope, parent, &journal))
            .await?;
        Ok(())
    }
}

/// ` in kind:id` for a scoped assignment, nothing for a global one.
fn where_(scope: Option<Scope>) -> String {
    scope.map_or_else(String::new, |s| format!(" in {s}"))
}
