//! The change journal other instances poll.

use crate::detached::Direct;
use crate::dialect::SqlDialect;
use async_trait::async_trait;
use rbac_core::store::{ChangeLog, StoreResult};
use rbac_core::{Change, Timestamp};

use crate::{backend, row};

#[async_trait]
impl ChangeLog for Direct {
    async fn change_cursor(&self) -> StoreResult<i64> {
        on_backend!(self, pool, d => {
            let _ = d;
            let r = sqlx::query("SELECT COALESCE(MAX(id), 0) AS id FROM rbac_changes")
                .fetch_one(pool)
                .await
                .map_err(backend)?;
            row::Columns::int(&r, "id").map_err(backend)
        })
    }

    async fn changes_since(&self, cursor: i64, limit: u32) -> StoreResult<Vec<(i64, Change)>> {
        on_backend!(self, pool, d => {
            let rows = sqlx::query(&d.sql(
                "SELECT id, kind, target FROM rbac_changes WHERE id > ? ORDER BY id LIMIT ?",
            ))
            .bind(cursor)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
            .map_err(backend)?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                let id = row::Columns::int(r, "id").map_err(backend)?;
                let kind = row::Columns::small(r, "kind").map_err(backend)?;
                let target = row::Columns::text(r, "target").map_err(backend)?;
                match Change::decode(kind, &target) {
                    Some(change) => out.push((id, change)),
                    None => tracing::warn!(id, kind, "skipping a change of unknown kind"),
                }
            }
            Ok(out)
        })
    }

    async fn prune_changes(&self, before: Timestamp) -> StoreResult<u64> {
        on_backend!(self, pool, d => {
            let done = sqlx::query(&d.sql("DELETE FROM rbac_changes WHERE created_at < ?"))
                .bind(before)
                .execute(pool)
                .await
                .map_err(backend)?;
            Ok(done.rows_affected())
        })
    }
}
