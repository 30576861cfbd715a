//! Gateway projects, their request counters and their shared daily quota, on every
//! backend.

use crate::detached::Direct;
use crate::dialect::SqlDialect;
use async_trait::async_trait;
use rbac_core::store::{quota_grant, ProjectStore, StoreResult};
use rbac_core::{Entity, Journal, Page, Project, ProjectId, RequestCount, StoreError, UserId};

use crate::row::PROJECT_COLUMNS;
use crate::{backend, count, row, write_error};

#[async_trait]
impl ProjectStore for Direct {
    async fn create_project(&self, p: &Project, journal: &Journal) -> StoreResult<Project> {
        on_backend!(self, pool, d => {
            let mut tx = crate::tx::begin(d, pool).await?;
            let sql = d.insert_sql(
                "INSERT INTO rbac_projects (owner_id, name, kind, api_key, secret, deleted, \
                 request_total, request_today, request_day, request_max, pool_id, pool_name, \
                 created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            );
            let query = sqlx::query(&sql)
                .bind(p.owner_id)
                .bind(p.name.as_str())
                .bind(p.kind)
                .bind(p.key.as_str())
                .bind(p.secret.as_str())
                .bind(p.deleted)
                .bind(p.request_total)
                .bind(p.request_today)
                .bind(p.request_day)
                .bind(p.request_max)
                .bind(p.pool_id)
                .bind(p.pool_name.as_str())
                .bind(p.created_at);
            let id = d
                .insert_id(query, &mut tx)
                .await
                .map_err(|e| write_error(e, StoreError::NotFound(Entity::User)))?;
            write_journal!(d, tx, journal);
            tx.commit().await.map_err(backend)?;
            let mut created = p.clone();
            created.id = id;
            Ok(created)
        })
    }

    async fn project(&self, id: ProjectId) -> StoreResult<Option<Project>> {
        on_backend!(self, pool, d => {
            let r = sqlx::query(&d.sql(&format!("SELECT {PROJECT_COLUMNS} FROM rbac_projects WHERE id = ?")))
                .bind(id)
                .fetch_optional(pool)
                .await
                .map_err(backend)?;
            r.map(|r| row::project(&r)).transpose()
        })
    }

    async fn project_by_key(&self, key: &str) -> StoreResult<Option<Project>> {
        on_backend!(self, pool, d => {
            let r = sqlx::query(&d.sql(&format!("SELECT {PROJECT_COLUMNS} FROM rbac_projects WHERE api_key = ?")))
                .bind(key)
                .fetch_optional(pool)
                .await
                .map_err(backend)?;
            r.map(|r| row::project(&r)).transpose()
        })
    }

    async fn count_projects(&self, owner: UserId) -> StoreResult<u64> {
        on_backend!(self, pool, d => {
            let total: i64 = sqlx::query_scalar(&d.sql(
                "SELECT COUNT(*) FROM rbac_projects WHERE owner_id = ? AND deleted = FALSE",
            ))
            .bind(owner)
            .fetch_one(pool)
            .await
            .map_err(backend)?;
            Ok(count(total))
        })
    }

    async fn project_rows(
        &self,
        owner: UserId,
        page: Page,
        after: Option<ProjectId>,
    ) -> StoreResult<Vec<Project>> {
        let (offset, limit) = page.sql_bounds();
        on_backend!(self, pool, d => {
            let rows = sqlx::query(&d.sql(&format!(
                "SELECT {PROJECT_COLUMNS} FROM rbac_projects WHERE owner_id = ? AND deleted = FALSE \
                 AND id > ? ORDER BY id LIMIT ? OFFSET ?"
            )))
            .bind(owner)
            .bind(after.unwrap_or(i64::MIN))
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await
            .map_err(backend)?;
            rows.iter().map(row::project).collect()
        })
    }

    async fn delete_project(&self, id: ProjectId, journal: &Journal) -> StoreResult<bool> {
        on_backend!(self, pool, d => {
            let mut tx = crate::tx::begin(d, pool).await?;
            let done = sqlx::query(&d.sql(
                "UPDATE rbac_projects SET deleted = TRUE WHERE id = ? AND deleted = FALSE",
            ))
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            if done.rows_affected() == 0 {
                return Ok(false);
            }
            write_journal!(d, tx, journal);
            tx.commit().await.map_err(backend)?;
            Ok(true)
        })
    }

    async fn add_project_requests(&self, counts: &[RequestCount]) -> StoreResult<()> {
        if counts.is_empty() {
            return Ok(());
        }
        on_backend!(self, pool, d => {
            let mut tx = crate::tx::begin(d, pool).await?;
            for c in counts {
                // `request_day` moves last: MySQL assigns left to right.
                sqlx::query(&d.sql(
                    "UPDATE rbac_projects SET request_total = request_total + ?, \
                     request_today = CASE WHEN request_day = ? THEN request_today + ? \
                                          WHEN request_day < ? THEN ? ELSE request_today END, \
                     request_day = CASE WHEN request_day < ? THEN ? ELSE request_day END \
                     WHERE id = ?",
                ))
                .bind(c.requests)
                .bind(c.day)
                .bind(c.requests)
                .bind(c.day)
                .bind(c.requests)
                .bind(c.day)
                .bind(c.day)
                .bind(c.project)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            }
            tx.commit().await.map_err(backend)?;
            Ok(())
        })
    }

    async fn reserve_project_quota(
        &self,
        project: ProjectId,
        day: i64,
        want: i64,
    ) -> StoreResult<i64> {
        on_backend!(self, pool, d => {
            // The first update locks the row (on SQLite, the database) for the
            // transaction, so concurrent reservations on every instance run one after
            // another; it also moves the row to `day` (`quota_day` last: MySQL assigns
            // left to right).
            let mut tx = crate::tx::begin(d, pool).await?;
            sqlx::query(&d.sql(
                "UPDATE rbac_projects SET \
                 quota_reserved = CASE WHEN quota_day < ? THEN 0 ELSE quota_reserved END, \
                 quota_day = CASE WHEN quota_day < ? THEN ? ELSE quota_day END \
                 WHERE id = ?",
            ))
            .bind(day)
            .bind(day)
            .bind(day)
            .bind(project)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            let r = sqlx::query(&d.sql(
                "SELECT quota_day, quota_reserved, request_max FROM rbac_projects WHERE id = ?",
            ))
            .bind(project)
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?;
            let granted = match &r {
                Some(r) if row::Columns::int(r, "quota_day").map_err(backend)? == day => {
                    let reserved = row::Columns::int(r, "quota_reserved").map_err(backend)?;
                    let max = row::Columns::int(r, "request_max").map_err(backend)?;
                    quota_grant(want, max - reserved)
                }
                _ => 0,
            };
            if granted > 0 {
                sqlx::query(&d.sql(
                    "UPDATE rbac_projects SET quota_reserved = quota_reserved + ? WHERE id = ?",
                ))
                .bind(granted)
                .bind(project)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            }
            tx.commit().await.map_err(backend)?;
            Ok(granted)
        })
    }

    async fn release_project_quota(
        &self,
        project: ProjectId,
        day: i64,
        unused: i64,
    ) -> StoreResult<()> {
        on_backend!(self, pool, d => {
            sqlx::query(&d.sql(
                "UPDATE rbac_projects SET quota_reserved = CASE WHEN quota_reserved > ? \
                 THEN quota_reserved - ? ELSE 0 END WHERE id = ? AND quota_day = ?",
            ))
            .bind(unused)
            .bind(unused)
            .bind(project)
            .bind(day)
            .execute(pool)
            .await
            .map_err(backend)?;
            Ok(())
        })
    }
}
