//! The operation log's storage port.

use async_trait::async_trait;

use crate::authz::port::AuthorizerStore;
use crate::error::StoreResult;
use crate::model::*;

/// The operation log (appended to through
/// [`AuthorizerStore::append_audit`](AuthorizerStore::append_audit) and the journals).
#[async_trait]
pub trait AuditStore: AuthorizerStore {
    /// Entries matching a query, newest first, and the full count (unfiltered: from a
    /// maintained total, not a count over the log).
    async fn list_audit(&self, query: &AuditQuery) -> StoreResult<Listing<AuditEntry>> {
        let total = self.count_audit(query).await?;
        let rows = self.audit_rows(query, None).await?;
        Ok(Listing { rows, total })
    }
    /// How many entries match a query's filter (unfiltered: the maintained total).
    async fn count_audit(&self, query: &AuditQuery) -> StoreResult<u64>;
    /// The query's page of entries, newest first; with `after`, the page continues with
    /// entries older than that id (keyset), and `page.offset` counts from there.
    async fn audit_rows(
        &self,
        query: &AuditQuery,
        after: Option<i64>,
    ) -> StoreResult<Vec<AuditEntry>>;
    /// Deletes up to `limit` of the oldest entries written before `before` (one short
    /// transaction, so writers wait on it briefly at most); returns how many.
    async fn prune_audit(&self, before: Timestamp, limit: u32) -> StoreResult<u64>;
}
