//! API keys, their request counters and their shared daily limit, on every backend.

use crate::detached::Direct;
use crate::dialect::SqlDialect;
use async_trait::async_trait;
use rbac_core::store::{quota_grant, ApiKeyStore, StoreResult};
use rbac_core::{ApiKey, ApiKeyId, Journal, Page, RequestCount, UserId};

use crate::row::API_KEY_COLUMNS;
use crate::{backend, count, row};

#[async_trait]
impl ApiKeyStore for Direct {
    async fn create_api_key(&self, key: &ApiKey, journal: &Journal) -> StoreResult<ApiKey> {
        on_backend!(self, pool, d => {
            let mut tx = crate::tx::begin(d, pool).await?;
            let created = insert_api_key!(d, tx, key);
            write_journal!(d, tx, journal);
            tx.commit().await.map_err(backend)?;
            Ok(created)
        })
    }

    async fn api_key(&self, id: ApiKeyId) -> StoreResult<Option<ApiKey>> {
        on_backend!(self, pool, d => {
            let r = sqlx::query(&d.sql(&format!("SELECT {API_KEY_COLUMNS} FROM rbac_api_keys WHERE id = ?")))
                .bind(id)
                .fetch_optional(pool)
                .await
                .map_err(backend)?;
            r.map(|r| row::api_key(&r)).transpose()
        })
    }

    async fn find_api_key(&self, key: &str) -> StoreResult<Option<ApiKey>> {
        on_backend!(self, pool, d => {
            let r = sqlx::query(&d.sql(&format!("SELECT {API_KEY_COLUMNS} FROM rbac_api_keys WHERE api_key = ?")))
                .bind(key)
                .fetch_optional(pool)
                .await
                .map_err(backend)?;
            r.map(|r| row::api_key(&r)).transpose()
        })
    }

    async fn count_api_keys(&self, owner: UserId) -> StoreResult<u64> {
        on_backend!(self, pool, d => {
            let total: i64 = sqlx::query_scalar(&d.sql(
                "SELECT COUNT(*) FROM rbac_api_keys WHERE owner_id = ? AND revoked = FALSE",
            ))
            .bind(owner)
            .fetch_one(pool)
            .await
            .map_err(backend)?;
            Ok(count(total))
        })
    }

    async fn api_key_rows(
        &self,
        owner: UserId,
        page: Page,
        after: Option<ApiKeyId>,
    ) -> StoreResult<Vec<ApiKey>> {
        let (offset, limit) = page.sql_bounds();
        on_backend!(self, pool, d => {
            let rows = sqlx::query(&d.sql(&format!(
                "SELECT {API_KEY_COLUMNS} FROM rbac_api_keys WHERE owner_id = ? AND revoked = FALSE \
                 AND id > ? ORDER BY id LIMIT ? OFFSET ?"
            )))
            .bind(owner)
            .bind(after.unwrap_or(i64::MIN))
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await
            .map_err(backend)?;
            rows.iter().map(row::api_key).collect()
        })
    }

    async fn revoke_api_key(&self, id: ApiKeyId, journal: &Journal) -> StoreResult<bool> {
        on_backend!(self, pool, d => {
            let mut tx = crate::tx::begin(d, pool).await?;
            let done = sqlx::query(&d.sql(
                "UPDATE rbac_api_keys SET revoked = TRUE WHERE id = ? AND revoked = FALSE",
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

    async fn add_key_requests(&self, counts: &[RequestCount]) -> StoreResult<()> {
        if counts.is_empty() {
            return Ok(());
        }
        on_backend!(self, pool, d => {
            let mut tx = crate::tx::begin(d, pool).await?;
            for c in counts {
                // `request_day` moves last: MySQL assigns left to right.
                sqlx::query(&d.sql(
                    "UPDATE rbac_api_keys SET request_total = request_total + ?, \
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
                .bind(c.key)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            }
            tx.commit().await.map_err(backend)?;
            Ok(())
        })
    }

    async fn reserve_key_quota(&self, key: ApiKeyId, day: i64, want: i64) -> StoreResult<i64> {
        on_backend!(self, pool, d => {
            // The first update locks the row (on SQLite, the database) for the
            // transaction, so concurrent reservations on every instance run one after
            // another; it also moves the row to `day` (`quota_day` last: MySQL assigns
            // left to right).
            let mut tx = crate::tx::begin(d, pool).await?;
            sqlx::query(&d.sql(
                "UPDATE rbac_api_keys SET \
                 quota_reserved = CASE WHEN quota_day < ? THEN 0 ELSE quota_reserved END, \
                 quota_day = CASE WHEN quota_day < ? THEN ? ELSE quota_day END \
                 WHERE id = ?",
            ))
            .bind(day)
            .bind(day)
            .bind(day)
            .bind(key)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            let r = sqlx::query(&d.sql(
                "SELECT quota_day, quota_reserved, daily_limit FROM rbac_api_keys WHERE id = ?",
            ))
            .bind(key)
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?;
            let granted = match &r {
                Some(r) if row::Columns::int(r, "quota_day").map_err(backend)? == day => {
                    let reserved = row::Columns::int(r, "quota_reserved").map_err(backend)?;
                    // A key without a limit is counted, never reserved for.
                    match row::Columns::opt_int(r, "daily_limit").map_err(backend)? {
                        Some(limit) => quota_grant(want, limit - reserved),
                        None => 0,
                    }
                }
                _ => 0,
            };
            if granted > 0 {
                sqlx::query(&d.sql(
                    "UPDATE rbac_api_keys SET quota_reserved = quota_reserved + ? WHERE id = ?",
                ))
                .bind(granted)
                .bind(key)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            }
            tx.commit().await.map_err(backend)?;
            Ok(granted)
        })
    }

    async fn release_key_quota(&self, key: ApiKeyId, day: i64, unused: i64) -> StoreResult<()> {
        on_backend!(self, pool, d => {
            sqlx::query(&d.sql(
                "UPDATE rbac_api_keys SET quota_reserved = CASE WHEN quota_reserved > ? \
                 THEN quota_reserved - ? ELSE 0 END WHERE id = ? AND quota_day = ?",
            ))
            .bind(unused)
            .bind(unused)
            .bind(key)
            .bind(day)
            .execute(pool)
            .await
            .map_err(backend)?;
            Ok(())
        })
    }
}
