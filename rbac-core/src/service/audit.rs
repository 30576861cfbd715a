//! Operation-log queries.

use super::Rbac;
use crate::authorizer::Principal;
use crate::error::Result;
use crate::model::{AuditEntry, AuditQuery, Listing, Page, Timestamp};

/// What a caller asks of the operation log.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only this user's entries.
    pub user_name: Option<String>,
    /// Only this category (0 or `None`: all).
    pub category: Option<i32>,
    /// From this time.
    pub from: Option<Timestamp>,
    /// Until this time.
    pub to: Option<Timestamp>,
    /// Which rows.
    pub page: Page,
}

impl Rbac {
    /// Operation-log entries, newest first: one's own, or everyone's with UserAccess.
    pub async fn list_audit(
        &self,
        actor: &Principal,
        filter: AuditFilter,
    ) -> Result<Listing<AuditEntry>> {
        let user_name = if self.holds(actor, "UserAccess") {
            filter.user_name.filter(|n| !n.is_empty())
        } else {
            Some(actor.user_name.to_string())
        };
        let query = AuditQuery {
            user_name,
            category: filter.category.filter(|c| *c != 0),
            from: filter.from,
            to: filter.to,
            page: filter.page,
        };
        Ok(self.inner.store.list_audit(&query).await?)
    }
}
