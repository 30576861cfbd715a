//! The operation log.

use crate::dialect::SqlDialect;
use async_trait::async_trait;
use rbac_core::{AuditEntry, AuditQuery, AuditStore, Journal, Listing, NewAudit, StoreResult};

use crate::row::AUDIT_COLUMNS;
use crate::{backend, count, row, SqlStore};

#[async_trait]
impl AuditStore for SqlStore {
    async fn append_audit(&self, entry: &NewAudit) -> StoreResult<()> {
        let journal = Journal::audit(entry.clone());
        on_backend!(self, pool, d => {
            let mut tx = d.begin(pool).await.map_err(backend)?;
            write_journal!(d, tx, &journal);
            tx.commit().await.map_err(backend)?;
            Ok(())
        })
    }

    async fn list_audit(&self, q: &AuditQuery) -> StoreResult<Listing<AuditEntry>> {
        let (offset, limit) = q.page.sql_bounds();
        let mut conditions = Vec::new();
        if q.user_name.is_some() {
            conditions.push("user_name = ?");
        }
        if q.category.is_some() {
            conditions.push("category = ?");
        }
        if q.from.is_some() {
            conditions.push("time >= ?");
        }
        if q.to.is_some() {
            conditions.push("time <= ?");
        }
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conditions.join(" AND "))
        };
        on_backend!(self, pool, d => {
            let count_sql = d.sql(&format!("SELECT COUNT(*) FROM rbac_audit{filter}")).into_owned();
            let rows_sql = d
                .sql(&format!(
                    "SELECT {AUDIT_COLUMNS} FROM rbac_audit{filter} ORDER BY id DESC LIMIT ? OFFSET ?"
                ))
                .into_owned();
            let mut count_q = sqlx::query_scalar::<_, i64>(&count_sql);
            let mut rows_q = sqlx::query(&rows_sql);
            if let Some(name) = &q.user_name {
                count_q = count_q.bind(name.as_str());
                rows_q = rows_q.bind(name.as_str());
            }
            if let Some(category) = q.category {
                count_q = count_q.bind(category);
                rows_q = rows_q.bind(category);
            }
            if let Some(from) = q.from {
                count_q = count_q.bind(from);
                rows_q = rows_q.bind(from);
            }
            if let Some(to) = q.to {
                count_q = count_q.bind(to);
                rows_q = rows_q.bind(to);
            }
            let total = count_q.fetch_one(pool).await.map_err(backend)?;
            let rows = rows_q.bind(limit).bind(offset).fetch_all(pool).await.map_err(backend)?;
            let rows = rows.iter().map(row::audit).collect::<StoreResult<Vec<AuditEntry>>>()?;
            Ok(Listing { rows, total: count(total) })
        })
    }
}
