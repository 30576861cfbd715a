//! Composite roles: a role includes other roles and confers their privileges too. Changing
//! what a role includes is a grant: the actor must hold everything the role reaches, before
//! and after, and so must every role that includes it (those change as well).

use std::collections::{HashMap, HashSet};

use super::roles_facet::Roles;
use crate::authz::authorizer::Principal;
use crate::authz::inclusion::{makes_cycle, INCLUSION_CYCLE};
use crate::error::{Error, Result};
use crate::model::{AuditCategory, Change, Page, Role, RoleId};
use crate::StoreError;

/// The most roles one role includes directly (names given in one request).
pub const MAX_INCLUDED: usize = 64;

impl Roles<'_> {
    /// Replaces the roles `role_name` includes (needs RoleAuthority). Every named role must
    /// exist; a cycle is refused as an invalid `include`. The role, every role added or
    /// removed, and every role that includes this one must lie within the actor. Not the
    /// built-in admin role; more to a system role only by admin.
    pub async fn include<I, S>(self, actor: &Principal, role_name: &str, include: I) -> Result<Role>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let include: Vec<String> = include
            .into_iter()
            .map(|r| r.as_ref().to_string())
            .collect();
        let include = include.as_slice();
        self.rbac
            .require(actor, &self.rbac.admin().role_authority)?;
        if include.len() > MAX_INCLUDED {
            return Err(Error::invalid(
                "include",
                format!("a role includes at most {MAX_INCLUDED} roles"),
            ));
        }
        let mut role = self.rbac.role_named(role_name).await?;
        if role.builtin {
            return Err(Error::Violation(
                "the built-in admin role cannot be changed".into(),
            ));
        }
        let mut wanted: Vec<Role> = Vec::with_capacity(include.len());
        for name in include {
            let included = self.rbac.role_named(name).await?;
            if !wanted.iter().any(|r| r.id == included.id) {
                wanted.push(included);
            }
        }
        let ids: Vec<RoleId> = wanted.iter().map(|r| r.id).collect();
        let all = self.rbac.store().list_roles(Page::ALL).await?.rows;
        let edges: HashMap<RoleId, Vec<RoleId>> =
            all.iter().map(|r| (r.id, r.includes.clone())).collect();
        if makes_cycle(&edges, role.id, &ids) {
            return Err(cycle(role_name));
        }
        // What the role grants for certain before, against everything it could grant after
        // (a role that cannot be loaded counts as nothing before and everything after).
        let before = self.rbac.containment().reach_floor(&role).await?;
        let mut after_role = role.clone();
        after_role.includes = ids.clone();
        self.rbac.containment().load_included(&after_role).await?;
        let after = self.rbac.containment().privileges_of_role(&after_role);
        if !actor.is_builtin_admin() && !before.is_superset(&after) {
            if let Some(system) = self.system_role_reaching(&role).await? {
                return Err(Error::Violation(format!(
                    "the system role {system} can be granted more by admin alone"
                )));
            }
        }
        // What is added or removed is acted on: each such role must lie within the actor.
        let current: HashSet<RoleId> = role.includes.iter().copied().collect();
        for changed in wanted.iter().filter(|r| !current.contains(&r.id)) {
            self.rbac
                .containment()
                .ensure_role_within(actor, changed, "include")
                .await?;
        }
        for removed in all
            .iter()
            .filter(|r| current.contains(&r.id) && !ids.contains(&r.id))
        {
            self.rbac
                .containment()
                .ensure_role_within(actor, removed, "stop including")
                .await?;
        }
        self.rbac
            .containment()
            .ensure_role_within(actor, &role, "change the roles included in")
            .await?;
        self.ensure_includers_within(actor, &role, "change through an included role")
            .await?;
        self.rbac
            .sessions()
            .ensure_fresh(actor, crate::service::Sensitive::IncludeRoles)?;
        let names: Vec<&str> = wanted.iter().map(|r| r.name.as_str()).collect();
        let journal = self
            .rbac
            .journal(
                Some(actor),
                AuditCategory::System,
                format!("role {role_name} includes [{}]", names.join(",")),
            )
            .with(Change::Role(role.id))
            .event_about(
                crate::events::kind::ROLE_CHANGED,
                role_name,
                format!("includes [{}]", names.join(",")),
            );
        match self
            .rbac
            .applying(&journal)
            .write(self.rbac.store().set_role_includes(role.id, &ids, &journal))
            .await
        {
            Err(StoreError::Violation(INCLUSION_CYCLE)) => return Err(cycle(role_name)),
            other => other?,
        }
        role.includes = ids;
        role.includes.sort_unstable();
        Ok(role)
    }

    /// The roles that include `role`, directly or through others.
    pub async fn includers_of(self, role: RoleId) -> Result<Vec<Role>> {
        let all = self.rbac.store().list_roles(Page::ALL).await?.rows;
        let mut found: HashSet<RoleId> = HashSet::new();
        let mut todo = vec![role];
        while let Some(next) = todo.pop() {
            for r in all.iter().filter(|r| r.includes.contains(&next)) {
                if found.insert(r.id) {
                    todo.push(r.id);
                }
            }
        }
        Ok(all.into_iter().filter(|r| found.contains(&r.id)).collect())
    }

    /// The name of a system role that is `role` or includes it, directly or through others:
    /// what `role` gains, that role's members gain too.
    pub(crate) async fn system_role_reaching(self, role: &Role) -> Result<Option<String>> {
        if role.system_key.is_some() {
            return Ok(Some(role.name.clone()));
        }
        Ok(self
            .includers_of(role.id)
            .await?
            .into_iter()
            .find(|r| r.system_key.is_some())
            .map(|r| r.name))
    }

    /// Refuses (`Outranked`, audited) unless every role that includes `role` lies within
    /// the actor: changing a role changes what they confer.
    pub(crate) async fn ensure_includers_within(
        self,
        actor: &Principal,
        role: &Role,
        action: &str,
    ) -> Result<()> {
        for includer in self.includers_of(role.id).await? {
            self.rbac
                .containment()
                .ensure_role_within(actor, &includer, action)
                .await?;
        }
        Ok(())
    }
}

fn cycle(role_name: &str) -> Error {
    Error::invalid(
        "include",
        format!("{role_name} would include itself: {INCLUSION_CYCLE}"),
    )
}
