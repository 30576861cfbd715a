//! Settings: a small key-value table (the JWT secret, bootstrap markers).

use crate::detached::Direct;
use crate::dialect::SqlDialect;
use async_trait::async_trait;
use rbac_core::store::{SettingStore, StoreResult};
use rbac_core::StoreError;

use crate::{backend, row};

#[async_trait]
impl SettingStore for Direct {
    async fn setting(&self, key: &str) -> StoreResult<Option<String>> {
        on_backend!(self, pool, d => {
            let r = sqlx::query(&d.sql("SELECT value FROM rbac_settings WHERE name = ?"))
                .bind(key)
                .fetch_optional(pool)
                .await
                .map_err(backend)?;
            r.as_ref().map(|r| row::Columns::text(r, "value").map_err(backend)).transpose()
        })
    }

    async fn setting_or_insert(&self, key: &str, value: &str) -> StoreResult<String> {
        on_backend!(self, pool, d => {
            sqlx::query(&d.sql(d.insert_setting()))
                .bind(key)
                .bind(value)
                .execute(pool)
                .await
                .map_err(backend)?;
            let r = sqlx::query(&d.sql("SELECT value FROM rbac_settings WHERE name = ?"))
                .bind(key)
                .fetch_optional(pool)
                .await
                .map_err(backend)?;
            match r {
                Some(r) => row::Columns::text(&r, "value").map_err(backend),
                None => Err(StoreError::backend(format!("setting {key} vanished after insert"))),
            }
        })
    }
}
