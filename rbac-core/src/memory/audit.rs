//! The operation log in memory.

use async_trait::async_trait;

use super::{bounds, MemoryStore, Tables};
use crate::model::*;
use crate::store::*;

#[async_trait]
impl AuditStore for MemoryStore {
    async fn count_audit(&self, q: &AuditQuery) -> StoreResult<u64> {
        let t = self.lock();
        Ok(t.audit.iter().filter(|e| audit_matches(q, e, &t)).count() as u64)
    }

    async fn audit_rows(&self, q: &AuditQuery, after: Option<i64>) -> StoreResult<Vec<AuditEntry>> {
        let t = self.lock();
        let (skip, take) = bounds(q.page);
        // Ids grow with the log's order, so entries older than `after` end before it.
        let end = after.map_or(t.audit.len(), |id| t.audit.partition_point(|e| e.id < id));
        Ok(t.audit[..end]
            .iter()
            .rev()
            .filter(|e| audit_matches(q, e, &t))
            .skip(skip)
            .take(take)
            .cloned()
            .collect())
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

/// Whether an entry passes a query's filter.
fn audit_matches(q: &AuditQuery, e: &AuditEntry, t: &Tables) -> bool {
    q.user_name.as_ref().is_none_or(|n| &e.user_name == n)
        && q.category.is_none_or(|c| e.category == c)
        && q.from.is_none_or(|f| e.time >= f)
        && q.to.is_none_or(|to| e.time <= to)
        && q.outranking.as_ref().is_none_or(|o| seen_by(o, e, t))
}

/// Whether an entry is seen by a reader that users stronger than it are hidden from.
fn seen_by(o: &Outranking, e: &AuditEntry, t: &Tables) -> bool {
    let Some(user) = e.user_id else {
        return true;
    };
    if user == o.reader {
        return true;
    }
    if o.users.contains(&user) {
        return false;
    }
    t.users
        .get(&user)
        .is_none_or(|u| !u.roles.iter().any(|a| o.roles.contains(&a.role_id)))
}
