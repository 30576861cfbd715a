//! Roles, their privilege codes and the roles they include.

use crate::detached::Direct;
use crate::dialect::SqlDialect;
use async_trait::async_trait;
use rbac_core::store::{RoleStore, StoreResult};
use rbac_core::{now, Entity, Journal, Page, Role, RoleId, StoreError};

use crate::row::ROLE_COLUMNS;
use crate::{backend, count, row, write_error};

#[async_trait]
impl RoleStore for Direct {
    async fn create_role(&self, role: &Role, journal: &Journal) -> StoreResult<Role> {
        on_backend!(self, pool, d => {
            let mut tx = crate::tx::begin(d, pool).await?;
            let sql = d.insert_sql(
                "INSERT INTO rbac_roles (name, remark, creator, builtin, system_key, enabled, created_at, updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            );
            let query = sqlx::query(&sql)
                .bind(role.name.as_str())
                .bind(role.remark.as_str())
                .bind(role.creator.as_str())
                .bind(role.builtin)
                .bind(role.system_key.as_deref())
                .bind(role.enabled)
                .bind(role.created_at)
                .bind(role.updated_at);
            let id = d
                .insert_id(query, &mut tx)
                .await
                .map_err(|e| write_error(e, StoreError::backend("unexpected foreign key")))?;
            let privileges = insert_codes!(d, tx, id, role.privileges);
            let includes = insert_includes!(d, tx, id, role.includes);
            write_journal!(d, tx, journal);
            tx.commit().await.map_err(backend)?;
            let mut created = role.clone();
            created.id = id;
            created.privileges = privileges;
            created.includes = includes;
            Ok(created)
        })
    }

    async fn role_by_name(&self, name: &str) -> StoreResult<Option<Role>> {
        on_backend!(self, pool, d => {
            let sql = format!("SELECT {ROLE_COLUMNS} FROM rbac_roles WHERE name = ?");
            let r = sqlx::query(&d.sql(&sql)).bind(name).fetch_optional(pool).await.map_err(backend)?;
            let Some(r) = r else { return Ok(None) };
            let mut role = row::role(&r)?;
            role.privileges = role_codes!(d, pool, role.id);
            role.includes = role_includes!(d, pool, role.id);
            Ok(Some(role))
        })
    }

    async fn role_by_key(&self, key: &str) -> StoreResult<Option<Role>> {
        on_backend!(self, pool, d => {
            let sql = format!("SELECT {ROLE_COLUMNS} FROM rbac_roles WHERE system_key = ?");
            let r = sqlx::query(&d.sql(&sql)).bind(key).fetch_optional(pool).await.map_err(backend)?;
            let Some(r) = r else { return Ok(None) };
            let mut role = row::role(&r)?;
            role.privileges = role_codes!(d, pool, role.id);
            role.includes = role_includes!(d, pool, role.id);
            Ok(Some(role))
        })
    }

    async fn count_roles(&self) -> StoreResult<u64> {
        on_backend!(self, pool, _d => {
            let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM rbac_roles")
                .fetch_one(pool)
                .await
                .map_err(backend)?;
            Ok(count(total))
        })
    }

    async fn role_rows(&self, page: Page, after: Option<RoleId>) -> StoreResult<Vec<Role>> {
        let (offset, limit) = page.sql_bounds();
        on_backend!(self, pool, d => {
            let sql = format!(
                "SELECT {ROLE_COLUMNS} FROM rbac_roles WHERE id > ? ORDER BY id LIMIT ? OFFSET ?"
            );
            let rows = sqlx::query(&d.sql(&sql))
                .bind(after.unwrap_or(i64::MIN))
                .bind(limit)
                .bind(offset)
                .fetch_all(pool)
                .await
                .map_err(backend)?;
            let mut roles = rows.iter().map(row::role).collect::<StoreResult<Vec<Role>>>()?;
            if let (Some(first), Some(last)) = (roles.first().map(|r| r.id), roles.last().map(|r| r.id)) {
                // A page is a contiguous id range: one query fetches its grants.
                let codes = sqlx::query(&d.sql(
                    "SELECT role_id, code FROM rbac_role_privileges WHERE role_id >= ? AND role_id <= ?",
                ))
                .bind(first)
                .bind(last)
                .fetch_all(pool)
                .await
                .map_err(backend)?;
                let mut by_role: std::collections::HashMap<RoleId, Vec<String>> = Default::default();
                for r in &codes {
                    let id = row::Columns::int(r, "role_id").map_err(backend)?;
                    let code = row::Columns::text(r, "code").map_err(backend)?;
                    by_role.entry(id).or_default().push(code);
                }
                for role in &mut roles {
                    if let Some(mut codes) = by_role.remove(&role.id) {
                        codes.sort();
                        role.privileges = codes;
                    }
                }
                let edges = sqlx::query(&d.sql(
                    "SELECT role_id, included_id FROM rbac_role_includes \
                     WHERE role_id >= ? AND role_id <= ? ORDER BY role_id, included_id",
                ))
                .bind(first)
                .bind(last)
                .fetch_all(pool)
                .await
                .map_err(backend)?;
                let mut includes: std::collections::HashMap<RoleId, Vec<RoleId>> = Default::default();
                for r in &edges {
                    let id = row::Columns::int(r, "role_id").map_err(backend)?;
                    let included = row::Columns::int(r, "included_id").map_err(backend)?;
                    includes.entry(id).or_default().push(included);
                }
                for role in &mut roles {
                    role.includes = includes.remove(&role.id).unwrap_or_default();
                }
            }
            Ok(roles)
        })
    }

    async fn update_role(&self, role: &Role, journal: &Journal) -> StoreResult<()> {
        on_backend!(self, pool, d => {
            let mut tx = crate::tx::begin(d, pool).await?;
            let done = sqlx::query(&d.sql(
                "UPDATE rbac_roles SET name = ?, remark = ?, system_key = ?, enabled = ?, updated_at = ? WHERE id = ?",
            ))
            .bind(role.name.as_str())
            .bind(role.remark.as_str())
            .bind(role.system_key.as_deref())
            .bind(role.enabled)
            .bind(now())
            .bind(role.id)
            .execute(&mut *tx)
            .await
            .map_err(|e| write_error(e, StoreError::backend("unexpected foreign key")))?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound(Entity::Role));
            }
            write_journal!(d, tx, journal);
            tx.commit().await.map_err(backend)?;
            Ok(())
        })
    }

    async fn set_role_requires_second_factor(
        &self,
        id: RoleId,
        required: bool,
        journal: &Journal,
    ) -> StoreResult<()> {
        on_backend!(self, pool, d => {
            let mut tx = crate::tx::begin(d, pool).await?;
            let done = sqlx::query(&d.sql(
                "UPDATE rbac_roles SET requires_second_factor = ?, updated_at = ? WHERE id = ?",
            ))
            .bind(required)
            .bind(now())
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound(Entity::Role));
            }
            write_journal!(d, tx, journal);
            tx.commit().await.map_err(backend)?;
            Ok(())
        })
    }

    async fn set_role_privileges(
        &self,
        id: RoleId,
        codes: &[String],
        journal: &Journal,
    ) -> StoreResult<()> {
        on_backend!(self, pool, d => {
            let mut tx = crate::tx::begin(d, pool).await?;
            // Touching the role row both checks it exists and locks it against a delete.
            let done = sqlx::query(&d.sql("UPDATE rbac_roles SET updated_at = ? WHERE id = ?"))
                .bind(now())
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound(Entity::Role));
            }
            sqlx::query(&d.sql("DELETE FROM rbac_role_privileges WHERE role_id = ?"))
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            let _codes = insert_codes!(d, tx, id, codes);
            write_journal!(d, tx, journal);
            tx.commit().await.map_err(backend)?;
            Ok(())
        })
    }

    async fn set_role_includes(
        &self,
        id: RoleId,
        includes: &[RoleId],
        journal: &Journal,
    ) -> StoreResult<()> {
        on_backend!(self, pool, d => {
            let mut tx = crate::tx::begin(d, pool).await?;
            // Every inclusion change takes this one lock, so two changes that together would
            // close a cycle cannot both pass the check below.
            let lock = format!(
                "SELECT name FROM rbac_locks WHERE name = 'role_inclusion'{}",
                d.for_update()
            );
            sqlx::query(&d.sql(&lock)).fetch_optional(&mut *tx).await.map_err(backend)?;
            let done = sqlx::query(&d.sql("UPDATE rbac_roles SET updated_at = ? WHERE id = ?"))
                .bind(now())
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound(Entity::Role));
            }
            let rows = sqlx::query("SELECT role_id, included_id FROM rbac_role_includes")
                .fetch_all(&mut *tx)
                .await
                .map_err(backend)?;
            let mut edges: std::collections::HashMap<RoleId, Vec<RoleId>> = Default::default();
            for r in &rows {
                let from = row::Columns::int(r, "role_id").map_err(backend)?;
                let to = row::Columns::int(r, "included_id").map_err(backend)?;
                edges.entry(from).or_default().push(to);
            }
            if rbac_core::inclusion::makes_cycle(&edges, id, includes) {
                return Err(StoreError::Violation(rbac_core::inclusion::INCLUSION_CYCLE));
            }
            sqlx::query(&d.sql("DELETE FROM rbac_role_includes WHERE role_id = ?"))
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            let _includes = insert_includes!(d, tx, id, includes);
            write_journal!(d, tx, journal);
            tx.commit().await.map_err(backend)?;
            Ok(())
        })
    }

    async fn delete_role(&self, id: RoleId, journal: &Journal) -> StoreResult<()> {
        const IN_USE: &str = "the role still has users";
        on_backend!(self, pool, d => {
            let mut tx = crate::tx::begin(d, pool).await?;
            let holders: i64 = sqlx::query_scalar(&d.sql("SELECT COUNT(*) FROM rbac_assignments WHERE role_id = ?"))
                .bind(id)
                .fetch_one(&mut *tx)
                .await
                .map_err(backend)?;
            if holders > 0 {
                return Err(StoreError::Violation(IN_USE));
            }
            sqlx::query(&d.sql("DELETE FROM rbac_role_privileges WHERE role_id = ?"))
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            // A user given the role meanwhile makes the foreign key refuse the delete.
            let done = sqlx::query(&d.sql("DELETE FROM rbac_roles WHERE id = ?"))
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(|e| write_error(e, StoreError::Violation(IN_USE)))?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound(Entity::Role));
            }
            write_journal!(d, tx, journal);
            tx.commit().await.map_err(backend)?;
            Ok(())
        })
    }
}
