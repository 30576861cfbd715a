//! Operation-log queries.

use super::Rbac;
use crate::authorizer::Principal;
use crate::error::{Error, Result};
use crate::model::{AuditEntry, AuditQuery, Listing, Page, Timestamp};

/// Renders text an attacker may have written (a failed login's name, an audited target) as
/// data: control characters and bidirectional-text controls become `\u{…}`, so a log
/// reader sees what was sent instead of a reordered or broken line.
pub fn as_data(text: &str) -> String {
    let hidden = |c: char| {
        c.is_control()
            || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(hidden) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if hidden(c) {
            out.push_str(&format!("\\u{{{:04x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

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
        let query = self.audit_query(actor, filter);
        Ok(self.inner.store.list_audit(&query).await?)
    }

    /// What `actor` may see of what `filter` asks: everyone's entries with UserAccess, else
    /// only its own.
    pub(super) fn audit_query(&self, actor: &Principal, filter: AuditFilter) -> AuditQuery {
        let user_name = if self.holds(actor, &self.admin().user_access) {
            filter.user_name.filter(|n| !n.is_empty())
        } else {
            Some(actor.user_name.to_string())
        };
        AuditQuery {
            user_name,
            category: filter.category.filter(|c| *c != 0),
            from: filter.from,
            to: filter.to,
            page: filter.page,
        }
    }
}

impl Rbac {
    /// The newest security events (at most `limit`), for the built-in admin alone: events
    /// name every user, and their addresses.
    pub async fn security_events(
        &self,
        actor: &Principal,
        limit: u32,
    ) -> Result<Vec<crate::events::SecurityEvent>> {
        if !self.is_builtin_admin(actor) {
            return Err(Error::Forbidden {
                missing: super::ADMIN.to_string(),
            });
        }
        Ok(self.inner.store.recent_events(limit.clamp(1, 1000)).await?)
    }

    /// The newest security-event deliveries to webhooks (at most `limit`), for the
    /// built-in admin alone.
    pub async fn event_deliveries(
        &self,
        actor: &Principal,
        limit: u32,
    ) -> Result<Vec<crate::events::DeliveryStatus>> {
        if !self.is_builtin_admin(actor) {
            return Err(Error::Forbidden {
                missing: super::ADMIN.to_string(),
            });
        }
        Ok(self.inner.store.deliveries(limit.clamp(1, 1000)).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::as_data;

    #[test]
    fn untrusted_text_is_rendered_as_data() {
        assert_eq!(as_data("login failed: eve"), "login failed: eve");
        assert_eq!(
            as_data("a\nb\u{202e}c\u{0}"),
            "a\\u{000a}b\\u{202e}c\\u{0000}"
        );
        assert_eq!(as_data("李彬 \u{2067}x"), "李彬 \\u{2067}x");
    }
}
