//! Assigning and revoking roles, globally or within a scope, and listing a user's roles.
//!
//! An actor assigns or revokes within a scope only with RoleAuthority there (held globally,
//! in that scope, or in one of its ancestors), only roles whose privileges it holds there,
//! and only for users whose every privilege, in every scope, it holds there too. A global
//! assignment needs all of it globally.

use crate::authz::authorizer::Principal;
use crate::authz::scope::{Assignment, Scope};
use crate::error::{Error, Result};
use crate::model::{AuditCategory, Change, Role, User};
use crate::service::{Rbac, Sensitive, ADMIN};

/// One role a user holds, for rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldRole {
    /// The role's name.
    pub role_name: String,
    /// Where it holds (`None`: everywhere).
    pub scope: Option<Scope>,
}

impl Rbac {
    /// Parses `kind:id` with a kind the application declared; anything else is an invalid
    /// `field`.
    pub(crate) fn parse_scope(&self, field: &'static str, text: &str) -> Result<Scope> {
        let scope =
            Scope::parse(text).ok_or_else(|| Error::invalid(field, "not a scope kind:id"))?;
        self.ensure_declared(field, &scope)?;
        Ok(scope)
    }

    /// Refuses a scope whose kind the application did not declare (`InvalidParam` on
    /// `field`, naming the builder's `.scope_kinds([...])`).
    pub fn ensure_declared(&self, field: &'static str, scope: &Scope) -> Result<()> {
        let kinds = &self.inner.config.scope_kinds;
        if kinds.declares(scope.kind) {
            return Ok(());
        }
        let declared: Vec<&str> = kinds.kinds().iter().map(|k| k.as_str()).collect();
        Err(Error::invalid(
            field,
            format!(
                "the scope kind {} is not declared (declared: [{}]): declare it with \
                 .scope_kinds([...]) on the builder",
                scope.kind,
                declared.join(", ")
            ),
        ))
    }

    /// Gives `user_name` the role `role_name`, everywhere or within `scope`. `Ok(false)` when
    /// the user holds that assignment already.
    pub(crate) async fn assign_role(
        &self,
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
        self.ensure_fresh(actor, Sensitive::AssignRole)?;
        let assignment = Assignment {
            role_id: role.id,
            scope,
        };
        let journal = self
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
            .applying(&journal)
            .write(self.inner.store.assign_role(
                user.id,
                assignment,
                self.assignment_cap(),
                &journal,
            ))
            .await
        {
            Err(crate::StoreError::Violation(_)) => {
                return Err(Error::Violation(format!(
                    "a user holds at most {} roles",
                    self.assignment_cap()
                )))
            }
            other => other?,
        };
        Ok(added)
    }

    /// Takes the role `role_name` (everywhere, or within `scope`) from `user_name`.
    /// `Ok(false)` when the user did not hold that assignment.
    pub(crate) async fn revoke_role(
        &self,
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
        self.ensure_fresh(actor, Sensitive::RevokeRole)?;
        if user.name == ADMIN && role.builtin {
            return Err(Error::Violation("the built-in admin keeps its role".into()));
        }
        let assignment = Assignment {
            role_id: role.id,
            scope,
        };
        let journal = self
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
            .applying(&journal)
            .write(self.inner.store.revoke_role(user.id, assignment, &journal))
            .await?;
        Ok(removed)
    }

    /// The checks assigning and revoking share: RoleAuthority where it acts, the role and
    /// the user within the actor there.
    async fn assignment_checked(
        &self,
        actor: &Principal,
        user_name: &str,
        role_name: &str,
        scope: Option<&Scope>,
        action: &str,
    ) -> Result<(User, Role)> {
        if let Some(scope) = scope {
            self.ensure_declared("scope", scope)?;
        }
        let authority = &self.admin().role_authority;
        match scope {
            Some(scope) => self.require_in(actor, authority, scope)?,
            None => self.require(actor, authority)?,
        }
        let user = self.user_named(user_name).await?;
        let role = self.role_named(role_name).await?;
        self.ensure_role_within_in(actor, &role, action, scope)
            .await?;
        self.ensure_user_within_in(actor, &user, action, scope)
            .await?;
        Ok((user, role))
    }

    /// The roles `user_name` holds, each with its scope, in the order assigned. About
    /// oneself needs nothing; about others UserAccess.
    ///
    /// A scoped administrator, holding UserAccess only within some scopes, reads the
    /// assignments the user holds in those scopes (and their child scopes) and no other;
    /// a user holding none there is `Forbidden` to it.
    pub(crate) async fn user_roles(
        &self,
        actor: &Principal,
        user_name: &str,
    ) -> Result<Vec<HeldRole>> {
        let user = self.user_named(user_name).await?;
        let access = &self.admin().user_access;
        let everything = user.id == actor.user_id || self.require(actor, access).is_ok();
        let visible = |a: &Assignment| {
            everything
                || a.scope
                    .is_some_and(|s| self.require_in(actor, access, &s).is_ok())
        };
        if !user.roles.iter().any(visible) && !everything {
            return Err(Error::Forbidden {
                missing: access.clone(),
            });
        }
        let names = self.role_names().await?;
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
    pub(crate) async fn set_scope_parent(&self, scope: Scope, parent: Option<Scope>) -> Result<()> {
        self.ensure_declared("scope", &scope)?;
        if let Some(parent) = &parent {
            self.ensure_declared("parent", parent)?;
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
        self.applying(&journal)
            .write(self.inner.store.set_scope_parent(scope, parent, &journal))
            .await?;
        Ok(())
    }

    /// Makes user `owner` the owner of scope `child`: it holds the system role `role_key`
    /// within its own scope `owner_scope` (one assignment however many scopes it owns), and
    /// `child` lies within `owner_scope`. A system action (no actor: the application grants
    /// ownership of what a user creates); idempotent.
    pub(crate) async fn own_scope(
        &self,
        owner: crate::model::UserId,
        role_key: &str,
        owner_scope: Scope,
        child: Scope,
    ) -> Result<()> {
        self.ensure_declared("scope", &owner_scope)?;
        self.ensure_declared("scope", &child)?;
        let role = self.system_role(role_key).await?;
        let journal = crate::model::Journal::audit(crate::model::NewAudit {
            user_id: Some(owner),
            user_name: String::new(),
            category: AuditCategory::System,
            content: format!("user {owner} holds role {} within {owner_scope}", role.name),
            success: true,
        })
        .with(Change::User(owner));
        let assignment = Assignment::within(role.id, owner_scope);
        self.applying(&journal)
            .write(
                self.inner
                    .store
                    .assign_role(owner, assignment, self.assignment_cap(), &journal),
            )
            .await?;
        if self.inner.store.scope_parent(child).await? != Some(owner_scope) {
            self.set_scope_parent(child, Some(owner_scope)).await?;
        }
        Ok(())
    }

    /// Checks one privilege code within a scope.
    pub(crate) fn require_in(&self, actor: &Principal, code: &str, scope: &Scope) -> Result<()> {
        let authorizer = &self.inner.authorizer;
        match authorizer.registry().id(code) {
            Some(id) if authorizer.check_in(actor, id, scope) => Ok(()),
            _ => Err(Error::Forbidden {
                missing: code.to_string(),
            }),
        }
    }
}

/// ` in kind:id` for a scoped assignment, nothing for a global one.
fn where_(scope: Option<Scope>) -> String {
    scope.map_or_else(String::new, |s| format!(" in {s}"))
}
