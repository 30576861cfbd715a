//! Paging, the list queries, and a page of rows with its total.

use crate::ids::{RoleId, Timestamp, UserId};

/// Which rows of a list: skip `offset`, return at most `limit` (`None`: all).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Page {
    /// Rows to skip.
    pub offset: u64,
    /// Rows to return; `None` = all.
    pub limit: Option<u64>,
}

impl Page {
    /// Every row.
    pub const ALL: Page = Page {
        offset: 0,
        limit: None,
    };

    /// The page at index `index` (from 0) of `size` rows each.
    pub fn nth(index: u64, size: u64) -> Self {
        Page {
            offset: index.saturating_mul(size),
            limit: Some(size),
        }
    }

    /// Offset and limit, capped to what SQL backends accept.
    pub fn sql_bounds(&self) -> (i64, i64) {
        let offset = self.offset.min(i64::MAX as u64) as i64;
        let limit = self.limit.unwrap_or(i64::MAX as u64).min(i64::MAX as u64) as i64;
        (offset, limit)
    }
}

/// Which way a list is ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
// Exhaustive on purpose: every store (or layer) interprets each variant, and a new one
// must fail their builds rather than fall into a default.
pub enum Order {
    /// Oldest first (ascending id).
    #[default]
    OldestFirst,
    /// Newest first (descending id).
    NewestFirst,
}

/// A filter over users.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserQuery {
    /// Name contains this substring (case-sensitive).
    pub name_contains: Option<String>,
    /// Only the members of this user (see `User::member_of`).
    pub member_of: Option<UserId>,
    /// Order of the rows.
    pub order: Order,
    /// Which rows.
    pub page: Page,
}

/// A filter over audit entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only entries by this user name (exact).
    pub user_name: Option<String>,
    /// Only this category.
    pub category: Option<i32>,
    /// At or after this time.
    pub from: Option<Timestamp>,
    /// At or before this time.
    pub to: Option<Timestamp>,
    /// Leaves out the entries of users stronger than a reader (`None`: nothing left out).
    pub outranking: Option<Outranking>,
    /// Which rows (newest first).
    pub page: Page,
}

/// Whose operation-log entries a reader may not see: those by users stronger than it (their
/// actions and the addresses they log in from). The reader's own are always seen, and
/// anonymous ones (failed logins of unknown names).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outranking {
    /// The reader.
    pub reader: UserId,
    /// Entries by users holding any of these roles, in any scope, are left out.
    pub roles: Vec<RoleId>,
    /// Entries by these users are left out.
    pub users: Vec<UserId>,
}

/// A page of rows and the full count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing<T> {
    /// The rows of the page.
    pub rows: Vec<T>,
    /// How many rows match in all.
    pub total: u64,
}
