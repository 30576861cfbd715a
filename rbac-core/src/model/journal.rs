//! What a write records besides itself: its audit entry, the changes other instances apply
//! to their caches, and its security events.

use super::records::ApiKeyId;
use crate::authz::scope::Scope;
use crate::ids::{RoleId, Timestamp, UserId};

/// The operation-log category (`oper_type`) of an audit entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuditCategory {
    /// 1 = home (login, logout, own password).
    Home = 1,
    /// 2 = system management (users, roles, grants).
    System = 2,
    /// 3 = API keys.
    Keys = 3,
    /// 4 = resource management.
    Resource = 4,
    /// 5 = alert centre.
    Alert = 5,
}

/// One operation-log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Store-assigned id.
    pub id: i64,
    /// The acting user (`None` for anonymous actions such as a failed login).
    pub user_id: Option<UserId>,
    /// The acting user's name at the time (`oper_user`).
    pub user_name: String,
    /// The category (`oper_type`).
    pub category: i32,
    /// When (`oper_time`).
    pub time: Timestamp,
    /// What was done, naming the target (`oper_content`).
    pub content: String,
    /// Whether the action succeeded.
    pub success: bool,
}

/// An audit entry to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAudit {
    /// The acting user.
    pub user_id: Option<UserId>,
    /// The acting user's name.
    pub user_name: String,
    /// The category.
    pub category: AuditCategory,
    /// What was done.
    pub content: String,
    /// Whether it succeeded.
    pub success: bool,
}

/// A cache-relevant change, published to every instance's caches.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Change {
    /// A role's grants, name or enabled flag changed, or it was deleted.
    Role(RoleId),
    /// A user's role, enabled flag or existence changed: every session of the user is re-read.
    User(UserId),
    /// One session was revoked or changed.
    Session(String),
    /// An API key was revoked or changed: its cached state is dropped.
    ApiKey(ApiKeyId),
    /// A scope's parent changed: every effective set within it is rebuilt.
    Scope(Scope),
}

impl Change {
    /// The stored kind number and target.
    pub fn encode(&self) -> (i16, String) {
        match self {
            Change::Role(id) => (1, id.to_string()),
            Change::User(id) => (2, id.to_string()),
            Change::Session(id) => (3, id.clone()),
            Change::ApiKey(id) => (4, id.to_string()),
            Change::Scope(scope) => (5, scope.to_string()),
        }
    }

    /// From the stored kind number and target.
    pub fn decode(kind: i16, target: &str) -> Option<Change> {
        match kind {
            1 => target.parse().ok().map(Change::Role),
            2 => target.parse().ok().map(Change::User),
            3 => Some(Change::Session(target.to_string())),
            4 => target.parse().ok().map(Change::ApiKey),
            5 => Scope::parse(target).map(Change::Scope),
            _ => None,
        }
    }
}

/// What a write records besides itself, in the same transaction: its audit entry and its changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Journal {
    /// The audit entry, if the write is audited.
    pub audit: Option<NewAudit>,
    /// The changes other instances must apply to their caches.
    pub changes: Vec<Change>,
    /// The security events the write records.
    pub events: Vec<crate::events::NewEvent>,
}

impl Journal {
    /// A journal with an audit entry and no changes.
    pub fn audit(audit: NewAudit) -> Self {
        Journal {
            audit: Some(audit),
            ..Journal::default()
        }
    }

    /// Adds a change.
    pub fn with(mut self, change: Change) -> Self {
        self.changes.push(change);
        self
    }

    /// Adds a security event `kind` about `subject` by the actor this journal audits, with
    /// `detail` (empty for none): the one way a use-case records its event beside its entry.
    pub(crate) fn event_about(
        self,
        kind: &'static str,
        subject: &str,
        detail: impl Into<String>,
    ) -> Self {
        let actor = self.audit.as_ref().map_or("", |a| a.user_name.as_str());
        let event = crate::events::NewEvent::new(kind, subject, actor).detail(detail);
        self.event(event)
    }

    /// Adds a security event.
    #[cfg_attr(not(feature = "events"), allow(unused_mut))]
    pub fn event(mut self, event: crate::events::NewEvent) -> Self {
        // Without the `events` feature no security event is recorded.
        #[cfg(feature = "events")]
        self.events.push(event);
        #[cfg(not(feature = "events"))]
        drop(event);
        self
    }
}
