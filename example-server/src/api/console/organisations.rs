//! The console's organisations (its `departmentId`): the server's own table,
//! `console_organisations`, written from the configuration at every start (a later
//! configuration renames); the library knows no organisation.

use rbac_core::{Error, Result, StoreError};
use rbac_sqlx::{AppMigration, PoolRef, SqlStore, APP_VERSIONS};

/// An organisation users of the console belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    /// Its id, as the console document numbers it.
    pub id: i64,
    /// Its display name.
    pub name: String,
}

/// Why an unknown `departmentId` is refused (rendered as the console's own words).
pub const UNKNOWN: &str = "no such organisation";

/// The console's table, with the rows the library kept until its migration 19 (written
/// against its schema 18, so it runs before that one drops them).
pub const MIGRATION: AppMigration = AppMigration {
    version: APP_VERSIONS,
    description: "console organisations",
    after: 18,
    sqlite: COPY,
    postgres: COPY,
    mysql: COPY_MYSQL,
};

const COPY: &str = "CREATE TABLE console_organisations (
    id    BIGINT NOT NULL PRIMARY KEY,
    name  TEXT   NOT NULL
);
INSERT INTO console_organisations (id, name) SELECT id, name FROM rbac_organisations;
";

/// MySQL's, in UTF-8 whatever the server's default (the names are Chinese), as the
/// library's tables are.
const COPY_MYSQL: &str = "CREATE TABLE console_organisations (
    id    BIGINT       NOT NULL PRIMARY KEY,
    name  VARCHAR(255) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO console_organisations (id, name) SELECT id, name FROM rbac_organisations;
";

/// The organisation each console account belonged to becomes its tenant (`org:ID`), read
/// from the column the library kept until its migration 22 (written against schema 21,
/// which added the tenant).
pub const TENANTS: AppMigration = AppMigration {
    version: APP_VERSIONS + 2,
    description: "console organisations become tenants",
    after: 21,
    sqlite:
        "UPDATE rbac_users SET tenant = 'org:' || department_id WHERE department_id IS NOT NULL",
    postgres: "UPDATE rbac_users SET tenant = 'org:' || department_id::text \
               WHERE department_id IS NOT NULL",
    mysql: "UPDATE rbac_users SET tenant = CONCAT('org:', department_id) \
            WHERE department_id IS NOT NULL",
};

fn failed(e: sqlx::Error) -> Error {
    StoreError::backend(e).into()
}

/// Stores `all`, renaming those whose name changed. Safe from several instances at once.
pub async fn store(sql: &SqlStore, all: &[Organisation]) -> Result<()> {
    const UPSERT: &str = "INSERT INTO console_organisations (id, name) VALUES (?, ?) \
                          ON CONFLICT (id) DO UPDATE SET name = excluded.name";
    for org in all {
        match sql.pool() {
            PoolRef::Sqlite(p) => sqlx::query(UPSERT)
                .bind(org.id)
                .bind(&org.name)
                .execute(p)
                .await
                .map(drop),
            PoolRef::Postgres(p) => sqlx::query(
                "INSERT INTO console_organisations (id, name) VALUES ($1, $2) \
                     ON CONFLICT (id) DO UPDATE SET name = excluded.name",
            )
            .bind(org.id)
            .bind(&org.name)
            .execute(p)
            .await
            .map(drop),
            PoolRef::MySql(p) => sqlx::query(
                "INSERT INTO console_organisations (id, name) VALUES (?, ?) \
                     ON DUPLICATE KEY UPDATE name = VALUES(name)",
            )
            .bind(org.id)
            .bind(&org.name)
            .execute(p)
            .await
            .map(drop),
            _ => return Err(Error::internal("no driver for this database")),
        }
        .map_err(failed)?;
    }
    Ok(())
}

/// The organisation `id`; an unknown one is an invalid `departmentId`.
pub async fn find(sql: &SqlStore, id: i64) -> Result<Organisation> {
    const SELECT: &str = "SELECT name FROM console_organisations WHERE id = ?";
    let name: Option<String> = match sql.pool() {
        PoolRef::Sqlite(p) => sqlx::query_scalar(SELECT).bind(id).fetch_optional(p).await,
        PoolRef::Postgres(p) => {
            sqlx::query_scalar("SELECT name FROM console_organisations WHERE id = $1")
                .bind(id)
                .fetch_optional(p)
                .await
        }
        PoolRef::MySql(p) => sqlx::query_scalar(SELECT).bind(id).fetch_optional(p).await,
        _ => return Err(Error::internal("no driver for this database")),
    }
    .map_err(failed)?;
    match name {
        Some(name) => Ok(Organisation { id, name }),
        None => Err(Error::invalid("departmentId", UNKNOWN)),
    }
}
