//! `rbac.audit()`.

use crate::authz::authorizer::Principal;
use crate::error::Result;
use crate::model::*;
use crate::service::*;

/// Audit: `rbac.audit()`.
#[derive(Clone, Copy)]
pub struct Audit<'a> {
    pub(super) rbac: &'a Rbac,
}

impl Audit<'_> {
    /// Operation-log entries, newest first: one's own, or with UserAccess everyone's but
    /// those of users stronger than the actor (their actions and the addresses they log in
    /// from are not the actor's to read; the built-in admin's are admin's alone).
    pub async fn list(self, actor: &Principal, filter: AuditFilter) -> Result<Listing<AuditEntry>> {
        self.rbac.list_audit(actor, filter).await
    }

    #[cfg(feature = "events")]
    /// The newest security events (at most `limit`), for the built-in admin alone: events
    /// name every user, and their addresses.
    pub async fn security_events(
        self,
        actor: &Principal,
        limit: u32,
    ) -> Result<Vec<crate::events::SecurityEvent>> {
        self.rbac.security_events(actor, limit).await
    }

    #[cfg(feature = "events")]
    /// The newest security-event deliveries to webhooks (at most `limit`), for the
    /// built-in admin alone.
    pub async fn deliveries(
        self,
        actor: &Principal,
        limit: u32,
    ) -> Result<Vec<crate::events::DeliveryStatus>> {
        self.rbac.event_deliveries(actor, limit).await
    }

    /// Operation-log entries, newest first (as [`list_audit`](crate::service::Audit::list)), read a
    /// chunk at a time.
    pub async fn rows(self, actor: &Principal, filter: AuditFilter) -> Result<Rows<AuditEntry>> {
        self.rbac.audit_rows(actor, filter).await
    }

    /// Logins and failed logins per hour on this instance, the last day (kept as they
    /// happen: reading it reads no log rows).
    pub fn login_activity(self) -> Hourly {
        self.rbac.login_activity()
    }
}
