//! The operation log.

use crate::detached::Direct;
use crate::dialect::SqlDialect;
use async_trait::async_trait;
use rbac_core::store::{AuditStore, StoreResult};
use rbac_core::{AuditEntry, AuditQuery};

use crate::row::AUDIT_COLUMNS;
use crate::{backend, count, row};

/// Shards of the operation log's maintained total.
const SHARDS: i32 = 8;

/// The shard the next audited write counts on (round robin: concurrent writers rarely
/// update the same row).
pub(crate) fn next_shard() -> i32 {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    (NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % SHARDS as u32) as i32
}

/// Entries pruned per statement's `IN` list.
const PRUNE_BATCH: u32 = 1_000;

/// Binds an audit query's filter values, in [`audit_filter`]'s order.
macro_rules! bind_audit_filter {
    ($query:expr, $q:expr) => {{
        let (mut query, q) = ($query, $q);
        if let Some(name) = &q.user_name {
            query = query.bind(name.as_str());
        }
        if let Some(category) = q.category {
            query = query.bind(category);
        }
        if let Some(from) = q.from {
            query = query.bind(from);
        }
        if let Some(to) = q.to {
            query = query.bind(to);
        }
        if let Some(o) = &q.outranking {
            query = query.bind(o.reader);
            for user in &o.users {
                query = query.bind(*user);
            }
            for role in &o.roles {
                query = query.bind(*role);
            }
        }
        query
    }};
}

/// The condition that leaves out entries by users stronger than the reader (binds: the
/// reader, the users, the roles).
fn outranking_condition(o: &rbac_core::Outranking) -> String {
    let list = |n: usize| vec!["?"; n].join(", ");
    let mut hidden = Vec::new();
    if !o.users.is_empty() {
        hidden.push(format!("user_id IN ({})", list(o.users.len())));
    }
    if !o.roles.is_empty() {
        hidden.push(format!(
            "EXISTS (SELECT 1 FROM rbac_assignments x WHERE x.user_id = rbac_audit.user_id \
             AND x.role_id IN ({}))",
            list(o.roles.len())
        ));
    }
    let hidden = if hidden.is_empty() {
        "1 = 0".to_string()
    } else {
        hidden.join(" OR ")
    };
    format!("(user_id IS NULL OR user_id = ? OR NOT ({hidden}))")
}

/// The `WHERE` clause of an audit query (binds: the filter, then `after`).
fn audit_filter(q: &AuditQuery, after: Option<i64>) -> String {
    let mut conditions = Vec::new();
    if q.user_name.is_some() {
        conditions.push("user_name = ?".to_string());
    }
    if q.category.is_some() {
        conditions.push("category = ?".to_string());
    }
    if q.from.is_some() {
        conditions.push("time >= ?".to_string());
    }
    if q.to.is_some() {
        conditions.push("time <= ?".to_string());
    }
    if let Some(o) = &q.outranking {
        conditions.push(outranking_condition(o));
    }
    if after.is_some() {
        conditions.push("id < ?".to_string());
    }
    if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    }
}

#[async_trait]
impl AuditStore for Direct {
    async fn count_audit(&self, q: &AuditQuery) -> StoreResult<u64> {
        if q.user_name.is_none()
            && q.category.is_none()
            && q.from.is_none()
            && q.to.is_none()
            && q.outranking.is_none()
        {
            return self.total("audit").await;
        }
        on_backend!(self, pool, d => {
            let sql = d.sql_once(&format!("SELECT COUNT(*) FROM rbac_audit{}", audit_filter(q, None))).into_owned();
            let query = bind_audit_filter!(sqlx::query_scalar::<_, i64>(&sql), q);
            Ok(count(query.fetch_one(pool).await.map_err(backend)?))
        })
    }

    async fn audit_rows(&self, q: &AuditQuery, after: Option<i64>) -> StoreResult<Vec<AuditEntry>> {
        let (offset, limit) = q.page.sql_bounds();
        on_backend!(self, pool, d => {
            let sql = d
                .sql_once(&format!(
                    "SELECT {AUDIT_COLUMNS} FROM rbac_audit{} ORDER BY id DESC LIMIT ? OFFSET ?",
                    audit_filter(q, after)
                ))
                .into_owned();
            let mut query = bind_audit_filter!(sqlx::query(&sql), q);
            if let Some(after) = after {
                query = query.bind(after);
            }
            let rows = query.bind(limit).bind(offset).fetch_all(pool).await.map_err(backend)?;
            rows.iter().map(row::audit).collect()
        })
    }

    async fn prune_audit(&self, before: rbac_core::Timestamp, limit: u32) -> StoreResult<u64> {
        let limit = limit.min(PRUNE_BATCH);
        on_backend!(self, pool, d => {
            let mut tx = crate::tx::begin(d, pool).await?;
            let ids: Vec<i64> = sqlx::query_scalar(&d.sql(
                "SELECT id FROM rbac_audit WHERE time < ? ORDER BY id LIMIT ?",
            ))
            .bind(before)
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await
            .map_err(backend)?;
            if ids.is_empty() {
                return Ok(0);
            }
            let sql = format!(
                "DELETE FROM rbac_audit WHERE id IN ({})",
                vec!["?"; ids.len()].join(", ")
            );
            let sql = d.sql_once(&sql);
            let mut query = sqlx::query(&sql);
            for id in &ids {
                query = query.bind(*id);
            }
            let deleted = query.execute(&mut *tx).await.map_err(backend)?.rows_affected();
            sqlx::query(&d.sql(
                "UPDATE rbac_counters SET amount = amount - ? WHERE name = 'audit' AND shard = ?",
            ))
            .bind(i64::try_from(deleted).unwrap_or(i64::MAX))
            .bind(next_shard())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            tx.commit().await.map_err(backend)?;
            Ok(deleted)
        })
    }
}
