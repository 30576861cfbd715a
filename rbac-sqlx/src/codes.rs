//! One-time codes for a channel and an address: send, resend, take.

use crate::detached::Direct;
use crate::dialect::SqlDialect;
use async_trait::async_trait;
use rbac_core::store::{CodeStore, StoreResult};
use rbac_core::{CodeCheck, Timestamp, VerificationCode};

use crate::{backend, row};

#[async_trait]
impl CodeStore for Direct {
    async fn put_code(
        &self,
        code: &VerificationCode,
        resend_after: Timestamp,
    ) -> StoreResult<Option<Timestamp>> {
        on_backend!(self, pool, d => {
            let mut tx = crate::tx::begin(d, pool).await?;
            let sql = d.sql(d.upsert_code());
            let mut query = sqlx::query(&sql)
                .bind(code.key.as_str())
                .bind(code.digest.as_str())
                .bind(code.context.as_str())
                .bind(code.sent_at)
                .bind(code.expires_at);
            for _ in 0..d.code_cutoff_binds() {
                query = query.bind(resend_after);
            }
            query.execute(&mut *tx).await.map_err(backend)?;
            let r = sqlx::query(&d.sql("SELECT digest, sent_at FROM rbac_codes WHERE code_key = ?"))
                .bind(code.key.as_str())
                .fetch_one(&mut *tx)
                .await
                .map_err(backend)?;
            tx.commit().await.map_err(backend)?;
            let digest = row::Columns::text(&r, "digest").map_err(backend)?;
            let sent_at = row::Columns::int(&r, "sent_at").map_err(backend)?;
            Ok((digest != code.digest || sent_at != code.sent_at).then_some(sent_at))
        })
    }

    async fn take_code(
        &self,
        key: &str,
        digest: &str,
        context: &str,
        at: Timestamp,
        max_attempts: u32,
    ) -> StoreResult<CodeCheck> {
        on_backend!(self, pool, d => {
            let mut tx = crate::tx::begin(d, pool).await?;
            let select = format!(
                "SELECT digest, context, expires_at, attempts FROM rbac_codes WHERE code_key = ?{}",
                d.for_update()
            );
            let Some(r) = sqlx::query(&d.sql(&select))
                .bind(key)
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend)?
            else {
                return Ok(CodeCheck::Missing);
            };
            let pending = row::Columns::text(&r, "digest").map_err(backend)?;
            let issued_for = row::Columns::text(&r, "context").map_err(backend)?;
            let expires_at = row::Columns::int(&r, "expires_at").map_err(backend)?;
            let attempts = row::Columns::int32(&r, "attempts").map_err(backend)?;
            let delete = d.sql("DELETE FROM rbac_codes WHERE code_key = ?");
            let check = if expires_at <= at {
                CodeCheck::Expired
            } else if issued_for != context {
                return Ok(CodeCheck::OtherContext);
            } else if rbac_core::same_text(&pending, digest) {
                CodeCheck::Accepted
            } else {
                let attempts = u32::try_from(attempts).unwrap_or(0).saturating_add(1);
                CodeCheck::Wrong { burned: attempts >= max_attempts }
            };
            match check {
                CodeCheck::Wrong { burned: false } => {
                    sqlx::query(&d.sql("UPDATE rbac_codes SET attempts = attempts + 1 WHERE code_key = ?"))
                        .bind(key)
                        .execute(&mut *tx)
                        .await
                        .map_err(backend)?;
                }
                _ => {
                    sqlx::query(&delete).bind(key).execute(&mut *tx).await.map_err(backend)?;
                }
            }
            tx.commit().await.map_err(backend)?;
            Ok(check)
        })
    }

    async fn withdraw_code(&self, key: &str, digest: &str) -> StoreResult<()> {
        on_backend!(self, pool, d => {
            sqlx::query(&d.sql("DELETE FROM rbac_codes WHERE code_key = ? AND digest = ?"))
                .bind(key)
                .bind(digest)
                .execute(pool)
                .await
                .map_err(backend)?;
            Ok(())
        })
    }

    async fn purge_codes(&self, before: Timestamp) -> StoreResult<u64> {
        self.delete_expired("rbac_codes", before).await
    }
}
