//! The operation log in memory.

use async_trait::async_trait;

use super::{page, MemoryStore};
use crate::model::*;
use crate::store::*;

#[async_trait]
impl AuditStore for MemoryStore {
    async fn append_audit(&self, entry: &NewAudit) -> StoreResult<()> {
        self.lock().journal(&Journal::audit(entry.clone()));
        Ok(())
    }

    async fn list_audit(&self, q: &AuditQuery) -> StoreResult<Listing<AuditEntry>> {
        let t = self.lock();
        let rows: Vec<AuditEntry> = t
            .audit
            .iter()
            .rev()
            .filter(|e| q.user_name.as_ref().is_none_or(|n| &e.user_name == n))
            .filter(|e| q.category.is_none_or(|c| e.category == c))
            .filter(|e| q.from.is_none_or(|f| e.time >= f))
            .filter(|e| q.to.is_none_or(|to| e.time <= to))
            .cloned()
            .collect();
        Ok(page(rows, q.page))
    }

    async fn prune_audit(&self, before: Timestamp, limit: u32) -> StoreResult<u64> {
        let mut t = self.lock();
        let old = t
            .audit
            .iter()
            .take_while(|e| e.time < before)
            .take(limit as usize)
            .count();
        t.audit.drain(..old);
        Ok(old as u64)
    }
}
