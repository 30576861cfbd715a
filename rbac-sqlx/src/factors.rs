//! Second factors: sealed TOTP secrets and recovery-code digests.

use crate::detached::Direct;
use crate::dialect::SqlDialect;
use async_trait::async_trait;
use rbac_core::factors::TotpFactor;
use rbac_core::store::{SecondFactorStore, StoreResult};
use rbac_core::{Journal, UserId};

use crate::{backend, count, row, SqlStore};

/// Inserts the digests `$codes` of user `$user` inside `$tx`.
macro_rules! insert_codes {
    ($d:ident, $tx:ident, $user:expr, $codes:expr) => {{
        let insert = $d.sql("INSERT INTO rbac_recovery_codes (user_id, digest) VALUES (?, ?)");
        for digest in $codes {
            sqlx::query(&insert)
                .bind($user)
                .bind(digest.as_str())
                .execute(&mut *$tx)
                .await
                .map_err(backend)?;
        }
    }};
}

#[async_trait]
impl SecondFactorStore for Direct {
    async fn totp(&self, user: UserId) -> StoreResult<Option<TotpFactor>> {
        on_backend!(self, pool, d => {
            let r = sqlx::query(&d.sql(
                "SELECT sealed, confirmed, last_step, created_at FROM rbac_totp WHERE user_id = ?",
            ))
            .bind(user)
            .fetch_optional(pool)
            .await
            .map_err(backend)?;
            let Some(r) = r else { return Ok(None) };
            Ok(Some(TotpFactor {
                user_id: user,
                sealed: row::Columns::text(&r, "sealed").map_err(backend)?,
                confirmed: row::Columns::flag(&r, "confirmed").map_err(backend)?,
                last_step: row::Columns::int(&r, "last_step").map_err(backend)?,
                created_at: row::Columns::int(&r, "created_at").map_err(backend)?,
            }))
        })
    }

    async fn put_pending_totp(&self, factor: &TotpFactor, journal: &Journal) -> StoreResult<()> {
        on_backend!(self, pool, d => {
            let mut tx = crate::tx::begin(d, pool).await?;
            sqlx::query(&d.sql("DELETE FROM rbac_totp WHERE user_id = ? AND confirmed = FALSE"))
                .bind(factor.user_id)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            // A confirmed factor still there takes the key: the insert conflicts.
            sqlx::query(&d.sql(
                "INSERT INTO rbac_totp (user_id, sealed, confirmed, last_step, created_at) \
                 VALUES (?, ?, FALSE, ?, ?)",
            ))
            .bind(factor.user_id)
            .bind(factor.sealed.as_str())
            .bind(factor.last_step)
            .bind(factor.created_at)
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                crate::write_error(e, rbac_core::StoreError::NotFound(rbac_core::Entity::User))
            })?;
            write_journal!(d, tx, journal);
            tx.commit().await.map_err(backend)?;
            Ok(())
        })
    }

    async fn confirm_totp(
        &self,
        user: UserId,
        step: i64,
        recovery: &[String],
        end_sessions_but: Option<&str>,
        journal: &Journal,
    ) -> StoreResult<bool> {
        on_backend!(self, pool, d => {
            let mut tx = crate::tx::begin(d, pool).await?;
            let done = sqlx::query(&d.sql(
                "UPDATE rbac_totp SET confirmed = TRUE, last_step = ? \
                 WHERE user_id = ? AND confirmed = FALSE",
            ))
            .bind(step)
            .bind(user)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            if done.rows_affected() == 0 {
                return Ok(false);
            }
            sqlx::query(&d.sql("DELETE FROM rbac_recovery_codes WHERE user_id = ?"))
                .bind(user)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            insert_codes!(d, tx, user, recovery);
            if end_sessions_but.is_some() {
                revoke_sessions_of!(d, tx, user, end_sessions_but);
            }
            write_journal!(d, tx, journal);
            tx.commit().await.map_err(backend)?;
            Ok(true)
        })
    }

    async fn claim_totp_step(&self, user: UserId, step: i64) -> StoreResult<bool> {
        on_backend!(self, pool, d => {
            let done = sqlx::query(&d.sql(
                "UPDATE rbac_totp SET last_step = ? \
                 WHERE user_id = ? AND confirmed = TRUE AND last_step < ?",
            ))
            .bind(step)
            .bind(user)
            .bind(step)
            .execute(pool)
            .await
            .map_err(backend)?;
            Ok(done.rows_affected() == 1)
        })
    }

    async fn use_recovery_code(&self, user: UserId, digest: &str) -> StoreResult<bool> {
        on_backend!(self, pool, d => {
            let done = sqlx::query(&d.sql(
                "DELETE FROM rbac_recovery_codes WHERE user_id = ? AND digest = ?",
            ))
            .bind(user)
            .bind(digest)
            .execute(pool)
            .await
            .map_err(backend)?;
            Ok(done.rows_affected() == 1)
        })
    }

    async fn recovery_codes_left(&self, user: UserId) -> StoreResult<u64> {
        on_backend!(self, pool, d => {
            let n: i64 = sqlx::query_scalar(&d.sql(
                "SELECT COUNT(*) FROM rbac_recovery_codes WHERE user_id = ?",
            ))
            .bind(user)
            .fetch_one(pool)
            .await
            .map_err(backend)?;
            Ok(count(n))
        })
    }

    async fn replace_recovery_codes(
        &self,
        user: UserId,
        recovery: &[String],
        journal: &Journal,
    ) -> StoreResult<bool> {
        on_backend!(self, pool, d => {
            let mut tx = crate::tx::begin(d, pool).await?;
            // Touching the factor's row holds it for this transaction: a concurrent removal
            // either waits or has already made this match nothing.
            let held = sqlx::query(&d.sql(
                "UPDATE rbac_totp SET confirmed = TRUE WHERE user_id = ? AND confirmed = TRUE",
            ))
            .bind(user)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            // Matched rows on every backend (sqlx asks MySQL for found rows).
            if held.rows_affected() == 0 {
                return Ok(false);
            }
            sqlx::query(&d.sql("DELETE FROM rbac_recovery_codes WHERE user_id = ?"))
                .bind(user)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            insert_codes!(d, tx, user, recovery);
            write_journal!(d, tx, journal);
            tx.commit().await.map_err(backend)?;
            Ok(true)
        })
    }

    async fn remove_totp(&self, user: UserId, journal: &Journal) -> StoreResult<bool> {
        on_backend!(self, pool, d => {
            let mut tx = crate::tx::begin(d, pool).await?;
            let done = sqlx::query(&d.sql("DELETE FROM rbac_totp WHERE user_id = ?"))
                .bind(user)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            if done.rows_affected() == 0 {
                return Ok(false);
            }
            sqlx::query(&d.sql("DELETE FROM rbac_recovery_codes WHERE user_id = ?"))
                .bind(user)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            write_journal!(d, tx, journal);
            tx.commit().await.map_err(backend)?;
            Ok(true)
        })
    }
}

impl SqlStore {
    /// Whether any user has a second factor, enrolled or pending (a deployment that lost its
    /// secrets key must not silently make a new one).
    pub async fn holds_second_factors(&self) -> StoreResult<bool> {
        on_backend!(self, pool, d => {
            let any: Option<i64> = sqlx::query_scalar(&d.sql("SELECT user_id FROM rbac_totp LIMIT 1"))
                .fetch_optional(pool)
                .await
                .map_err(backend)?;
            Ok(any.is_some())
        })
    }
}
