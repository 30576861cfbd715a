//! Passkeys and the WebAuthn ceremonies in flight.

use crate::detached::Direct;
use crate::dialect::SqlDialect;
use async_trait::async_trait;
use rbac_core::store::StoreResult;
use rbac_core::{
    Ceremony, CeremonyPurpose, Entity, Journal, PasskeyRecord, PasskeyStore, StoreError, UserId,
};

use crate::{backend, count, row, write_error};

const COLUMNS: &str = "id, user_id, credential_id, user_handle, name, credential, counter, \
                       backup_eligible, backup_state, created_at, last_used_at";

/// A passkey from its row.
fn passkey<R: row::Columns>(r: &R) -> Result<PasskeyRecord, sqlx::Error> {
    Ok(PasskeyRecord {
        id: r.int("id")?,
        user_id: r.int("user_id")?,
        credential_id: r.text("credential_id")?,
        user_handle: r.text("user_handle")?,
        name: r.text("name")?,
        credential: r.text("credential")?,
        counter: r.int("counter")?,
        backup_eligible: r.flag("backup_eligible")?,
        backup_state: r.flag("backup_state")?,
        created_at: r.int("created_at")?,
        last_used_at: r.int("last_used_at")?,
    })
}

#[async_trait]
impl PasskeyStore for Direct {
    async fn passkeys(&self, user: UserId) -> StoreResult<Vec<PasskeyRecord>> {
        on_backend!(self, pool, d => {
            let rows = sqlx::query(&d.sql(&format!(
                "SELECT {COLUMNS} FROM rbac_passkeys WHERE user_id = ? ORDER BY id"
            )))
            .bind(user)
            .fetch_all(pool)
            .await
            .map_err(backend)?;
            rows.iter().map(|r| passkey(r).map_err(backend)).collect()
        })
    }

    async fn count_passkeys(&self, user: UserId) -> StoreResult<u64> {
        on_backend!(self, pool, d => {
            let n: i64 = sqlx::query_scalar(&d.sql(
                "SELECT COUNT(*) FROM rbac_passkeys WHERE user_id = ?",
            ))
            .bind(user)
            .fetch_one(pool)
            .await
            .map_err(backend)?;
            Ok(count(n))
        })
    }

    async fn passkey_by_credential(
        &self,
        credential_id: &str,
    ) -> StoreResult<Option<PasskeyRecord>> {
        on_backend!(self, pool, d => {
            let r = sqlx::query(&d.sql(&format!(
                "SELECT {COLUMNS} FROM rbac_passkeys WHERE credential_id = ?"
            )))
            .bind(credential_id)
            .fetch_optional(pool)
            .await
            .map_err(backend)?;
            r.as_ref().map(passkey).transpose().map_err(backend)
        })
    }

    async fn add_passkey(
        &self,
        p: &PasskeyRecord,
        end_sessions_but: Option<&str>,
        journal: &Journal,
    ) -> StoreResult<i64> {
        on_backend!(self, pool, d => {
            let mut tx = crate::tx::begin(d, pool).await?;
            let sql = d.insert_sql(
                "INSERT INTO rbac_passkeys (user_id, credential_id, user_handle, name, \
                 credential, counter, backup_eligible, backup_state, created_at, last_used_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            );
            let query = sqlx::query(&sql)
                .bind(p.user_id)
                .bind(p.credential_id.as_str())
                .bind(p.user_handle.as_str())
                .bind(p.name.as_str())
                .bind(p.credential.as_str())
                .bind(p.counter)
                .bind(p.backup_eligible)
                .bind(p.backup_state)
                .bind(p.created_at)
                .bind(p.last_used_at);
            let id = d
                .insert_id(query, &mut tx)
                .await
                .map_err(|e| write_error(e, StoreError::NotFound(Entity::User)))?;
            if end_sessions_but.is_some() {
                revoke_sessions_of!(d, tx, p.user_id, end_sessions_but);
            }
            write_journal!(d, tx, journal);
            tx.commit().await.map_err(backend)?;
            Ok(id)
        })
    }

    async fn record_passkey_use(&self, p: &PasskeyRecord, seen: i64) -> StoreResult<bool> {
        on_backend!(self, pool, d => {
            let done = sqlx::query(&d.sql(
                "UPDATE rbac_passkeys SET credential = ?, counter = ?, backup_state = ?, \
                 last_used_at = ? WHERE id = ? AND user_id = ? AND counter = ?",
            ))
            .bind(p.credential.as_str())
            .bind(p.counter)
            .bind(p.backup_state)
            .bind(p.last_used_at)
            .bind(p.id)
            .bind(p.user_id)
            .bind(seen)
            .execute(pool)
            .await
            .map_err(backend)?;
            // Matched rows on every backend (sqlx asks MySQL for found rows).
            Ok(done.rows_affected() == 1)
        })
    }

    async fn remove_passkey(&self, user: UserId, id: i64, journal: &Journal) -> StoreResult<bool> {
        on_backend!(self, pool, d => {
            let mut tx = crate::tx::begin(d, pool).await?;
            let done = sqlx::query(&d.sql("DELETE FROM rbac_passkeys WHERE id = ? AND user_id = ?"))
                .bind(id)
                .bind(user)
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

    async fn remove_second_factors(&self, user: UserId, journal: &Journal) -> StoreResult<bool> {
        on_backend!(self, pool, d => {
            let mut tx = crate::tx::begin(d, pool).await?;
            let mut removed = 0;
            for table in ["rbac_passkeys", "rbac_totp"] {
                removed += sqlx::query(&d.sql(&format!("DELETE FROM {table} WHERE user_id = ?")))
                    .bind(user)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?
                    .rows_affected();
            }
            if removed == 0 {
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

    async fn put_ceremony(&self, c: &Ceremony) -> StoreResult<()> {
        // A plain insert (no transaction, no range delete): concurrent sign-ins never lock
        // each other's gaps.
        on_backend!(self, pool, d => {
            sqlx::query(&d.sql(
                "INSERT INTO rbac_passkey_ceremonies (id, user_id, purpose, state, expires_at) \
                 VALUES (?, ?, ?, ?, ?)",
            ))
            .bind(c.id.as_str())
            .bind(c.user_id)
            .bind(c.purpose.as_i16())
            .bind(c.state.as_str())
            .bind(c.expires_at)
            .execute(pool)
            .await
            .map_err(backend)?;
            Ok(())
        })
    }

    async fn purge_ceremonies(&self, before: rbac_core::Timestamp) -> StoreResult<u64> {
        on_backend!(self, pool, d => {
            let done = sqlx::query(&d.sql(
                "DELETE FROM rbac_passkey_ceremonies WHERE expires_at < ?",
            ))
            .bind(before)
            .execute(pool)
            .await
            .map_err(backend)?;
            Ok(done.rows_affected())
        })
    }

    async fn take_ceremony(&self, id: &str) -> StoreResult<Option<Ceremony>> {
        on_backend!(self, pool, d => {
            let r = sqlx::query(&d.sql(
                "SELECT user_id, purpose, state, expires_at FROM rbac_passkey_ceremonies \
                 WHERE id = ?",
            ))
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(backend)?;
            let Some(r) = r else { return Ok(None) };
            let purpose = row::Columns::small(&r, "purpose").map_err(backend)?;
            let ceremony = CeremonyPurpose::from_i16(purpose).map(|purpose| -> StoreResult<_> {
                Ok(Ceremony {
                    id: id.to_string(),
                    user_id: row::Columns::opt_int(&r, "user_id").map_err(backend)?,
                    purpose,
                    state: row::Columns::text(&r, "state").map_err(backend)?,
                    expires_at: row::Columns::int(&r, "expires_at").map_err(backend)?,
                })
            });
            // Of two takers, the one whose delete removed the row has it.
            let taken = sqlx::query(&d.sql("DELETE FROM rbac_passkey_ceremonies WHERE id = ?"))
                .bind(id)
                .execute(pool)
                .await
                .map_err(backend)?;
            if taken.rows_affected() != 1 {
                return Ok(None);
            }
            ceremony.transpose()
        })
    }
}
