//! Operation-log queries.

use crate::authz::authorizer::Principal;
#[cfg(feature = "events")]
use crate::error::Error;
use crate::error::Result;
use crate::model::{AuditEntry, AuditQuery, Listing, Outranking, Page, Timestamp};
use crate::service::Rbac;
use crate::service::ADMIN;

/// Renders text an attacker may have written (a failed login's name, an audited target) as
/// data: control characters, bidirectional-text controls and invisible characters (zero
/// widths U+200B–U+200D, the word joiner and invisible operators U+2060–U+2064, U+FEFF, the
/// soft hyphen, U+180E) become `\u{…}`, so a log reader sees what was sent instead of a
/// reordered, broken or secretly different line.
pub fn as_data(text: &str) -> String {
    let hidden = |c: char| {
        c.is_control()
            || matches!(
                c,
                '\u{00ad}'
                    | '\u{061c}'
                    | '\u{180e}'
                    | '\u{200b}'..='\u{200f}'
                    | '\u{202a}'..='\u{202e}'
                    | '\u{2060}'..='\u{2064}'
                    | '\u{2066}'..='\u{2069}'
                    | '\u{feff}'
            )
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
    /// Operation-log entries, newest first: one's own, or with UserAccess everyone's but
    /// those of users stronger than the actor (their actions and the addresses they log in
    /// from are not the actor's to read; the built-in admin's are admin's alone).
    pub(crate) async fn list_audit(
        &self,
        actor: &Principal,
        filter: AuditFilter,
    ) -> Result<Listing<AuditEntry>> {
        let query = self.audit_query(actor, filter).await?;
        Ok(self.inner.store.list_audit(&query).await?)
    }

    /// What `actor` may see of what `filter` asks: everyone's entries but the stronger
    /// users' with UserAccess, else only its own.
    pub(crate) async fn audit_query(
        &self,
        actor: &Principal,
        filter: AuditFilter,
    ) -> Result<AuditQuery> {
        let (user_name, outranking) = if self.holds(actor, &self.admin().user_access) {
            let outranking = match self.is_builtin_admin(actor) {
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
    async fn outranking(&self, actor: &Principal) -> Result<Outranking> {
        let held = self.inner.authorizer.privileges_of(actor);
        let mut roles = Vec::new();
        for role in self.inner.store.list_roles(Page::ALL).await?.rows {
            self.load_included(&role).await?;
            if !held.is_superset(&self.privileges_of_role(&role)) {
                roles.push(role.id);
            }
        }
        let users = match self.inner.store.user_by_name(ADMIN).await? {
            Some(admin) => vec![admin.id],
            None => Vec::new(),
        };
        Ok(Outranking {
            reader: actor.user_id,
            roles,
            users,
        })
    }
}

impl Rbac {
    #[cfg(feature = "events")]
    /// The newest security events (at most `limit`), for the built-in admin alone: events
    /// name every user, and their addresses.
    pub(crate) async fn security_events(
        &self,
        actor: &Principal,
        limit: u32,
    ) -> Result<Vec<crate::events::SecurityEvent>> {
        if !self.is_builtin_admin(actor) {
            return Err(Error::Forbidden {
                missing: crate::service::ADMIN.to_string(),
            });
        }
        Ok(self.inner.store.recent_events(limit.clamp(1, 1000)).await?)
    }

    #[cfg(feature = "events")]
    /// The newest security-event deliveries to webhooks (at most `limit`), for the
    /// built-in admin alone.
    pub(crate) async fn event_deliveries(
        &self,
        actor: &Principal,
        limit: u32,
    ) -> Result<Vec<crate::events::DeliveryStatus>> {
        if !self.is_builtin_admin(actor) {
            return Err(Error::Forbidden {
                missing: crate::service::ADMIN.to_string(),
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
        assert_eq!(as_data("ad\u{200b}min\u{feff}"), "ad\\u{200b}min\\u{feff}");
        assert_eq!(as_data("李彬 \u{2067}x"), "李彬 \\u{2067}x");
    }
}
