//! Organisations: a generic grouping of users.

use crate::detached::Direct;
use crate::dialect::SqlDialect;
use async_trait::async_trait;
use rbac_core::store::{OrganisationStore, StoreResult};
use rbac_core::Organisation;

use crate::{backend, row};

#[async_trait]
impl OrganisationStore for Direct {
    async fn organisation(&self, id: i64) -> StoreResult<Option<Organisation>> {
        on_backend!(self, pool, d => {
            let r = sqlx::query(&d.sql("SELECT id, name FROM rbac_organisations WHERE id = ?"))
                .bind(id)
                .fetch_optional(pool)
                .await
                .map_err(backend)?;
            r.map(|r| row::organisation(&r)).transpose()
        })
    }

    async fn list_organisations(&self) -> StoreResult<Vec<Organisation>> {
        on_backend!(self, pool, d => {
            let rows = sqlx::query(&d.sql("SELECT id, name FROM rbac_organisations ORDER BY id"))
                .fetch_all(pool)
                .await
                .map_err(backend)?;
            rows.iter().map(row::organisation).collect()
        })
    }

    async fn put_organisation(&self, organisation: &Organisation) -> StoreResult<()> {
        on_backend!(self, pool, d => {
            sqlx::query(&d.sql(d.upsert_organisation()))
                .bind(organisation.id)
                .bind(organisation.name.as_str())
                .execute(pool)
                .await
                .map_err(backend)?;
            Ok(())
        })
    }
}
