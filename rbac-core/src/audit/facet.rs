//! `rbac.audit()`: the operation log as its reader may see it, and security events.

use super::AuditFilter;
use crate::authz::authorizer::Principal;
#[cfg(feature = "events")]
use crate::error::Error;
use crate::error::Result;
use crate::model::{AuditEntry, AuditQuery, Listing, Outranking, Page};
use crate::service::{Hourly, Rbac, Rows, ADMIN};

/// Audit: `rbac.audit()`.
#[derive(Clone, Copy)]
pub struct Audit<'a> {
    pub(crate) rbac: &'a Rbac,
}

impl Audit<'_> {
    /// Operation-log entries, newest first: one's own, or with UserAccess everyone's but
    /// those of users stronger than the actor (their actions and the addresses they log in
    /// from are not the actor's to read; the built-in admin's are admin's alone).
    pub async fn list(self, actor: &Principal, filter: AuditFilter) -> Result<Listing<AuditEntry>> {
        let query = self.query(actor, filter).await?;
        Ok(self.rbac.store().list_audit(&query).await?)
    }

    #[cfg(feature = "events")]
    /// The newest security events (at most `limit`), for the built-in admin alone: events
    /// name every user, and their addresses.
    pub async fn security_events(
        self,
        actor: &Principal,
        limit: u32,
    ) -> Result<Vec<crate::events::SecurityEvent>> {
        self.builtin_admin_only(actor)?;
        Ok(self
            .rbac
            .store()
            .recent_events(limit.clamp(1, 1000))
            .await?)
    }

    #[cfg(feature = "events")]
    /// The newest security-event deliveries to webhooks (at most `limit`), for the
    /// built-in admin alone.
    pub async fn deliveries(
        self,
        actor: &Principal,
        limit: u32,
    ) -> Result<Vec<crate::events::DeliveryStatus>> {
        self.builtin_admin_only(actor)?;
        Ok(self.rbac.store().deliveries(limit.clamp(1, 1000)).await?)
    }

    /// Operation-log entries, newest first (as [`list_audit`](crate::service::Audit::list)), read a
    /// chunk at a time.
    pub async fn rows(self, actor: &Principal, filter: AuditFilter) -> Result<Rows<AuditEntry>> {
        let query = self.query(actor, filter).await?;
        crate::admin::listing::audit_rows(self.rbac, query).await
    }

    /// Logins and failed logins per hour on this instance, the last day (kept as they
    /// happen: reading it reads no log rows).
    pub fn login_activity(self) -> Hourly {
        self.rbac.login_activity()
    }

    /// What `actor` may see of what `filter` asks: everyone's entries but the stronger
    /// users' with UserAccess, else only its own.
    async fn query(self, actor: &Principal, filter: AuditFilter) -> Result<AuditQuery> {
        let rbac = self.rbac;
        let (user_name, outranking) = if rbac.holds(actor, &rbac.admin().user_access) {
            let outranking = match actor.is_builtin_admin() {
                true => None,
                false => Some(self.outranking(actor).await?),
            };
            (filter.user_name.filter(|n| !n.is_empty()), outranking)
        } else {
            (Some(actor.user_name.to_string()), None)
        };
        Ok(AuditQuery {
            user_name,
            category: filter.category.filter(|c| *c != 0),
            from: filter.from,
            to: filter.to,
            outranking,
            page: filter.page,
        })
    }

    /// Who is stronger than `actor`: the roles that could grant a privilege it does not
    /// hold (read from the store, so a role another instance made counts), and the
    /// built-in admin.
    async fn outranking(self, actor: &Principal) -> Result<Outranking> {
        let rbac = self.rbac;
        let held = rbac.inner.authorizer.privileges_of(actor);
        let mut roles = Vec::new();
        for role in rbac.store().list_roles(Page::ALL).await?.rows {
            rbac.containment().load_included(&role).await?;
            if !held.is_superset(&rbac.containment().privileges_of_role(&role)) {
                roles.push(role.id);
            }
        }
        let users = match rbac.store().user_by_name(ADMIN).await? {
            Some(admin) => vec![admin.id],
            None => Vec::new(),
        };
        Ok(Outranking {
            reader: actor.user_id,
            roles,
            users,
        })
    }

    #[cfg(feature = "events")]
    /// Security events name every user and their addresses: the built-in admin's alone.
    fn builtin_admin_only(self, actor: &Principal) -> Result<()> {
        if actor.is_builtin_admin() {
            Ok(())
        } else {
            Err(Error::Forbidden {
                missing: ADMIN.to_string(),
            })
        }
    }
}
