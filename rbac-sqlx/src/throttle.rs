//! Failed-login counters and the addresses accounts logged in from, on every backend.

use crate::detached::Direct;
use crate::dialect::SqlDialect;
use async_trait::async_trait;
use rbac_core::store::{StoreResult, ThrottleStore};
use rbac_core::{ThrottlePolicy, Timestamp};

#[cfg(feature = "mysql")]
use crate::mysql;
#[cfg(feature = "postgres")]
use crate::postgres;
#[cfg(feature = "sqlite")]
use crate::sqlite;
use crate::{backend, row};

/// Counts one attempt unless the key is blocked at `at` (then changes nothing), for
/// SQLite and PostgreSQL: binds subject, at, then at, cut-off, at, cut-off.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
const RESERVE: &str = "INSERT INTO rbac_login_failures (subject, failures, window_start, blocked_until) \
     VALUES (?, 1, ?, 0) ON CONFLICT (subject) DO UPDATE SET \
     failures = CASE WHEN rbac_login_failures.blocked_until > ? THEN rbac_login_failures.failures \
                WHEN rbac_login_failures.window_start <= ? THEN 1 \
                ELSE rbac_login_failures.failures + 1 END, \
     window_start = CASE WHEN rbac_login_failures.blocked_until > ? THEN rbac_login_failures.window_start \
                    WHEN rbac_login_failures.window_start <= ? THEN excluded.window_start \
                    ELSE rbac_login_failures.window_start END";

/// [`RESERVE`] for MySQL and MariaDB (same binds; `failures` is assigned first, and the
/// `window_start` expression reads neither it nor anything assigned before it).
#[cfg(feature = "mysql")]
const RESERVE_MYSQL: &str = "INSERT INTO rbac_login_failures (subject, failures, window_start, blocked_until) \
     VALUES (?, 1, ?, 0) ON DUPLICATE KEY UPDATE \
     failures = IF(blocked_until > ?, failures, IF(window_start <= ?, 1, failures + 1)), \
     window_start = IF(blocked_until > ?, window_start, IF(window_start <= ?, VALUES(window_start), window_start))";

/// Records a successful login's address (the latest time wins): binds account, address,
/// at.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
const REMEMBER: &str = "INSERT INTO rbac_login_addresses (account, address, last_success) \
     VALUES (?, ?, ?) ON CONFLICT (account, address) DO UPDATE SET \
     last_success = CASE WHEN excluded.last_success > rbac_login_addresses.last_success \
                    THEN excluded.last_success ELSE rbac_login_addresses.last_success END";

/// [`REMEMBER`] for MySQL and MariaDB.
#[cfg(feature = "mysql")]
const REMEMBER_MYSQL: &str = "INSERT INTO rbac_login_addresses (account, address, last_success) \
     VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE last_success = GREATEST(last_success, VALUES(last_success))";

/// The three dialects' SQL for one statement.
trait ThrottleSql {
    fn reserve(self) -> &'static str;
    fn remember(self) -> &'static str;
}

#[cfg(feature = "sqlite")]
impl ThrottleSql for sqlite::Dialect {
    fn reserve(self) -> &'static str {
        RESERVE
    }
    fn remember(self) -> &'static str {
        REMEMBER
    }
}

#[cfg(feature = "postgres")]
impl ThrottleSql for postgres::Dialect {
    fn reserve(self) -> &'static str {
        RESERVE
    }
    fn remember(self) -> &'static str {
        REMEMBER
    }
}

#[cfg(feature = "mysql")]
impl ThrottleSql for mysql::Dialect {
    fn reserve(self) -> &'static str {
        RESERVE_MYSQL
    }
    fn remember(self) -> &'static str {
        REMEMBER_MYSQL
    }
}

#[async_trait]
impl ThrottleStore for Direct {
    async fn login_blocked(&self, keys: &[&str], at: Timestamp) -> StoreResult<Option<Timestamp>> {
        if keys.is_empty() {
            return Ok(None);
        }
        on_backend!(self, pool, d => {
            let marks = vec!["?"; keys.len()].join(", ");
            let sql = d.sql(&format!(
                "SELECT MAX(blocked_until) AS until FROM rbac_login_failures \
                 WHERE subject IN ({marks}) AND blocked_until > ?"
            )).into_owned();
            let mut q = sqlx::query(&sql);
            for key in keys {
                q = q.bind(*key);
            }
            let r = q.bind(at).fetch_one(pool).await.map_err(backend)?;
            row::Columns::opt_int(&r, "until").map_err(backend)
        })
    }

    async fn record_login_failure(
        &self,
        key: &str,
        at: Timestamp,
        policy: &ThrottlePolicy,
    ) -> StoreResult<u32> {
        let cutoff = at.saturating_sub(policy.window);
        on_backend!(self, pool, d => {
            let mut tx = crate::tx::begin(d, pool).await?;
            sqlx::query(&d.sql(d.upsert_login_failure()))
                .bind(key)
                .bind(at)
                .bind(cutoff)
                .bind(cutoff)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            let r = sqlx::query(&d.sql("SELECT failures FROM rbac_login_failures WHERE subject = ?"))
                .bind(key)
                .fetch_one(&mut *tx)
                .await
                .map_err(backend)?;
            let failures = u32::try_from(row::Columns::int32(&r, "failures").map_err(backend)?)
                .unwrap_or(0);
            sqlx::query(&d.sql("UPDATE rbac_login_failures SET blocked_until = ? WHERE subject = ?"))
                .bind(policy.blocked_until(failures, at))
                .bind(key)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            tx.commit().await.map_err(backend)?;
            Ok(failures)
        })
    }

    async fn reserve_login_attempt(
        &self,
        key: &str,
        at: Timestamp,
        policy: &ThrottlePolicy,
    ) -> StoreResult<Result<u32, Timestamp>> {
        let cutoff = at.saturating_sub(policy.window);
        on_backend!(self, pool, d => {
            // The upsert locks the row (or, on SQLite, the database) for the transaction:
            // concurrent reservations of one key run one after another.
            let mut tx = crate::tx::begin(d, pool).await?;
            sqlx::query(&d.sql(d.reserve()))
                .bind(key)
                .bind(at)
                .bind(at)
                .bind(cutoff)
                .bind(at)
                .bind(cutoff)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            let r = sqlx::query(&d.sql(
                "SELECT failures, blocked_until FROM rbac_login_failures WHERE subject = ?",
            ))
            .bind(key)
            .fetch_one(&mut *tx)
            .await
            .map_err(backend)?;
            let blocked_until = row::Columns::int(&r, "blocked_until").map_err(backend)?;
            if blocked_until > at {
                // Blocked before this attempt: the upsert changed nothing.
                tx.rollback().await.map_err(backend)?;
                return Ok(Err(blocked_until));
            }
            let failures = u32::try_from(row::Columns::int32(&r, "failures").map_err(backend)?)
                .unwrap_or(0);
            sqlx::query(&d.sql("UPDATE rbac_login_failures SET blocked_until = ? WHERE subject = ?"))
                .bind(policy.blocked_until(failures, at))
                .bind(key)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            tx.commit().await.map_err(backend)?;
            Ok(Ok(failures))
        })
    }

    async fn clear_login_failures(&self, key: &str) -> StoreResult<()> {
        on_backend!(self, pool, d => {
            sqlx::query(&d.sql("DELETE FROM rbac_login_failures WHERE subject = ?"))
                .bind(key)
                .execute(pool)
                .await
                .map_err(backend)?;
            Ok(())
        })
    }

    async fn clear_login_failures_under(&self, key: &str) -> StoreResult<()> {
        // `<key>@…` is exactly the range [`<key>@`, `<key>A`) in byte order ('A' follows
        // '@'), which every backend's column compares in.
        let (from, to) = (format!("{key}@"), format!("{key}A"));
        on_backend!(self, pool, d => {
            sqlx::query(&d.sql(
                "DELETE FROM rbac_login_failures WHERE subject = ? OR (subject >= ? AND subject < ?)",
            ))
            .bind(key)
            .bind(from.as_str())
            .bind(to.as_str())
            .execute(pool)
            .await
            .map_err(backend)?;
            Ok(())
        })
    }

    async fn remember_login_address(
        &self,
        account: &str,
        address: &str,
        at: Timestamp,
    ) -> StoreResult<()> {
        on_backend!(self, pool, d => {
            sqlx::query(&d.sql(d.remember()))
                .bind(account)
                .bind(address)
                .bind(at)
                .execute(pool)
                .await
                .map_err(backend)?;
            Ok(())
        })
    }

    async fn login_address_known(
        &self,
        account: &str,
        address: &str,
        since: Timestamp,
    ) -> StoreResult<bool> {
        on_backend!(self, pool, d => {
            let n: i64 = sqlx::query_scalar(&d.sql(
                "SELECT COUNT(*) FROM rbac_login_addresses \
                 WHERE account = ? AND address = ? AND last_success >= ?",
            ))
            .bind(account)
            .bind(address)
            .bind(since)
            .fetch_one(pool)
            .await
            .map_err(backend)?;
            Ok(n > 0)
        })
    }
}
