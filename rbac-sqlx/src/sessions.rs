//! Sessions: issue, rotate, touch, revoke and purge.

use crate::detached::Direct;
use crate::dialect::SqlDialect;
use async_trait::async_trait;
use rbac_core::store::{SessionStore, StoreResult};
use rbac_core::{Journal, Session, SessionKind, Timestamp, UserId};

use crate::row::SESSION_COLUMNS;
use crate::{backend, count, row};

/// Inserts a session inside `$tx`, mapping a taken id to `Conflict(Other)` and a missing
/// user to `NotFound(User)`.
macro_rules! insert_session {
    ($d:ident, $tx:ident, $s:expr) => {{
        let s: &rbac_core::Session = $s;
        sqlx::query(&$d.sql(
            "INSERT INTO rbac_sessions (id, user_id, kind, issued_at, expires_at, last_seen, revoked, ip, \
             factors, verified_at, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ))
        .bind(s.id.as_str())
        .bind(s.user_id)
        .bind(s.kind.as_i16())
        .bind(s.issued_at)
        .bind(s.expires_at)
        .bind(s.last_seen)
        .bind(s.revoked)
        .bind(s.ip.as_str())
        .bind(s.factors.bits())
        .bind(s.verified_at)
        .bind(s.user_agent.as_str())
        .execute(&mut *$tx)
        .await
        .map_err(|e| {
            $crate::write_error(e, rbac_core::StoreError::NotFound(rbac_core::Entity::User))
        })?;
    }};
}

#[async_trait]
impl SessionStore for Direct {
    async fn create_session(&self, session: &Session, journal: &Journal) -> StoreResult<()> {
        on_backend!(self, pool, d => {
            let mut tx = crate::tx::begin(d, pool).await?;
            insert_session!(d, tx, session);
            write_journal!(d, tx, journal);
            tx.commit().await.map_err(backend)?;
            Ok(())
        })
    }

    async fn revoke_session(&self, id: &str, journal: &Journal) -> StoreResult<bool> {
        on_backend!(self, pool, d => {
            let mut tx = crate::tx::begin(d, pool).await?;
            let done = sqlx::query(&d.sql("UPDATE rbac_sessions SET revoked = TRUE WHERE id = ? AND revoked = FALSE"))
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

    async fn rotate_session(
        &self,
        old: &str,
        new: &Session,
        journal: &Journal,
    ) -> StoreResult<bool> {
        on_backend!(self, pool, d => {
            let mut tx = crate::tx::begin(d, pool).await?;
            // The conditional update is the claim: of two concurrent rotations, the second
            // waits on the row lock and then matches nothing.
            let done = sqlx::query(&d.sql("UPDATE rbac_sessions SET revoked = TRUE WHERE id = ? AND revoked = FALSE"))
                .bind(old)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            if done.rows_affected() == 0 {
                return Ok(false);
            }
            insert_session!(d, tx, new);
            write_journal!(d, tx, journal);
            tx.commit().await.map_err(backend)?;
            Ok(true)
        })
    }

    async fn revoke_user_sessions(
        &self,
        user: UserId,
        keep: Option<&str>,
        journal: &Journal,
    ) -> StoreResult<u64> {
        on_backend!(self, pool, d => {
            let mut tx = crate::tx::begin(d, pool).await?;
            let n = revoke_sessions_of!(d, tx, user, keep);
            write_journal!(d, tx, journal);
            tx.commit().await.map_err(backend)?;
            Ok(n)
        })
    }

    async fn mark_session_verified(
        &self,
        id: &str,
        factors: rbac_core::factors::Factors,
        at: Timestamp,
        journal: &Journal,
    ) -> StoreResult<bool> {
        on_backend!(self, pool, d => {
            let mut tx = crate::tx::begin(d, pool).await?;
            let sql = format!("SELECT {SESSION_COLUMNS} FROM rbac_sessions WHERE id = ?{}", d.for_update());
            let Some(r) = sqlx::query(&d.sql(&sql))
                .bind(id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend)?
            else {
                return Ok(false);
            };
            let session = row::session(&r)?;
            if session.revoked || session.expires_at <= at || session.kind == SessionKind::Challenge {
                return Ok(false);
            }
            sqlx::query(&d.sql("UPDATE rbac_sessions SET factors = ?, verified_at = ? WHERE id = ?"))
                .bind((session.factors | factors).bits())
                .bind(at)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            write_journal!(d, tx, journal);
            tx.commit().await.map_err(backend)?;
            Ok(true)
        })
    }

    async fn purge_sessions(&self, before: Timestamp) -> StoreResult<u64> {
        self.delete_expired("rbac_sessions", before).await
    }

    async fn count_live_sessions(&self, at: Timestamp) -> StoreResult<u64> {
        on_backend!(self, pool, d => {
            let n: i64 = sqlx::query_scalar(&d.sql(
                "SELECT COUNT(*) FROM rbac_sessions WHERE revoked = FALSE AND expires_at > ? AND kind <> ?",
            ))
            .bind(at)
            .bind(SessionKind::Challenge.as_i16())
            .fetch_one(pool)
            .await
            .map_err(backend)?;
            Ok(count(n))
        })
    }

    async fn user_sessions(
        &self,
        user: UserId,
        at: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<Session>> {
        on_backend!(self, pool, d => {
            let sql = format!(
                "SELECT {SESSION_COLUMNS} FROM rbac_sessions \
                 WHERE user_id = ? AND revoked = FALSE AND expires_at > ? AND kind <> ? \
                 ORDER BY issued_at DESC, id DESC LIMIT ?"
            );
            let rows = sqlx::query(&d.sql(&sql))
                .bind(user)
                .bind(at)
                .bind(SessionKind::Challenge.as_i16())
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
                .map_err(backend)?;
            rows.iter().map(row::session).collect()
        })
    }
}
