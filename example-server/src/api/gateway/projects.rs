//! The gateway's projects: an API key of the library's (its owner, key, secret, request
//! counters and daily quota) and what the gateway document adds to it (`project_type`, the
//! resource pool), kept in the gateway's own table `gateway_projects`, written in the same
//! transaction as the key. A project's scope (`project:ID`) lies within its owner's.

use rbac_core::service::{validate, NewApiKey, Rows};
use rbac_core::{ApiKey, Error, Page, Principal, Rbac, Result, Scope, StoreError, UserId};
use rbac_sqlx::{AppMigration, PoolRef, SqlStore, SqlTx, APP_VERSIONS};

use super::registration::{PROJECT_DELETE, PROJECT_OWNER_ROLE};
use crate::state::AppState;

/// The gateway's table, with the fields the library kept in its `rbac_projects` until its
/// migration 20 (written against schema 19, so it runs before that one drops them). Its
/// rows follow their key: the key's table keeps its ids when the library renames it.
pub const MIGRATION: AppMigration = AppMigration {
    version: APP_VERSIONS + 1,
    description: "gateway projects",
    after: 19,
    sqlite: COPY,
    postgres: COPY,
    mysql: COPY_MYSQL,
};

const COPY: &str = "CREATE TABLE gateway_projects (
    key_id     BIGINT  NOT NULL PRIMARY KEY REFERENCES rbac_projects (id) ON DELETE CASCADE,
    kind       INTEGER NOT NULL,
    pool_id    BIGINT  NOT NULL,
    pool_name  TEXT    NOT NULL
);
INSERT INTO gateway_projects (key_id, kind, pool_id, pool_name)
    SELECT id, kind, pool_id, pool_name FROM rbac_projects;
";

/// MySQL's, in UTF-8 whatever the server's default, as the library's tables are.
const COPY_MYSQL: &str = "CREATE TABLE gateway_projects (
    key_id     BIGINT       NOT NULL,
    kind       INT          NOT NULL,
    pool_id    BIGINT       NOT NULL,
    pool_name  VARCHAR(255) NOT NULL,
    PRIMARY KEY (key_id),
    CONSTRAINT gateway_projects_key FOREIGN KEY (key_id) REFERENCES rbac_projects (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO gateway_projects (key_id, kind, pool_id, pool_name)
    SELECT id, kind, pool_id, pool_name FROM rbac_projects;
";

fn failed(e: sqlx::Error) -> StoreError {
    StoreError::backend(e)
}

/// Writes a new project's gateway fields inside the key's transaction.
async fn insert_fields(
    tx: &mut SqlTx,
    key_id: i64,
    kind: i32,
) -> rbac_core::store::StoreResult<()> {
    const INSERT: &str =
        "INSERT INTO gateway_projects (key_id, kind, pool_id, pool_name) VALUES (?, ?, 0, '')";
    match tx {
        SqlTx::Sqlite(tx) => sqlx::query(INSERT)
            .bind(key_id)
            .bind(kind)
            .execute(&mut **tx)
            .await
            .map(drop),
        SqlTx::Postgres(tx) => sqlx::query(
            "INSERT INTO gateway_projects (key_id, kind, pool_id, pool_name) VALUES ($1, $2, 0, '')",
        )
        .bind(key_id)
        .bind(kind)
        .execute(&mut **tx)
        .await
        .map(drop),
        SqlTx::MySql(tx) => sqlx::query(INSERT)
            .bind(key_id)
            .bind(kind)
            .execute(&mut **tx)
            .await
            .map(drop),
        _ => return Err(StoreError::backend("no driver for this database")),
    }
    .map_err(failed)
}

/// The gateway fields of `keys`, in their order (a key without a row: type 1, no pool).
async fn fields_of(sql: &SqlStore, keys: Vec<ApiKey>) -> Result<Vec<(ApiKey, Fields)>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let marks = |first: usize| -> String {
        (0..keys.len())
            .map(|i| match sql.pool() {
                PoolRef::Postgres(_) => format!("${}", first + i),
                _ => "?".to_string(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let select = format!(
        "SELECT key_id, kind, pool_id, pool_name FROM gateway_projects WHERE key_id IN ({})",
        marks(1)
    );
    let rows: Vec<(i64, i32, i64, String)> = match sql.pool() {
        PoolRef::Sqlite(p) => {
            let mut q = sqlx::query_as(&select);
            for k in &keys {
                q = q.bind(k.id);
            }
            q.fetch_all(p).await
        }
        PoolRef::Postgres(p) => {
            let mut q = sqlx::query_as(&select);
            for k in &keys {
                q = q.bind(k.id);
            }
            q.fetch_all(p).await
        }
        PoolRef::MySql(p) => {
            let mut q = sqlx::query_as(&select);
            for k in &keys {
                q = q.bind(k.id);
            }
            q.fetch_all(p).await
        }
        _ => return Err(Error::internal("no driver for this database")),
    }
    .map_err(|e| Error::from(failed(e)))?;
    let by_key: std::collections::HashMap<i64, Fields> = rows
        .into_iter()
        .map(|(id, kind, pool_id, pool_name)| {
            (
                id,
                Fields {
                    kind,
                    pool_id,
                    pool_name,
                },
            )
        })
        .collect();
    Ok(keys
        .into_iter()
        .map(|k| {
            let fields = by_key.get(&k.id).cloned().unwrap_or(Fields {
                kind: 1,
                pool_id: 0,
                pool_name: String::new(),
            });
            (k, fields)
        })
        .collect())
}

/// What the gateway keeps of a project beside its API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fields {
    /// The document's `project_type`.
    pub kind: i32,
    /// Resource pool (`pool_id`; 0 = none).
    pub pool_id: i64,
    /// Resource pool name.
    pub pool_name: String,
}

/// The scope of project `id` (`project:id`).
pub fn project_scope(id: i64) -> Result<Scope> {
    Scope::new(crate::api::PROJECT_SCOPE, id).ok_or_else(|| Error::invalid("id", "not a project"))
}

/// Creates a project for the actor (its key with the gateway's daily quota, its fields in
/// the same transaction) and places it in the actor's scope, so grants scoped to it hold;
/// the project stands even if the placement fails (repaired at deletion).
pub async fn create(app: &AppState, actor: &Principal, name: &str, kind: i32) -> Result<ApiKey> {
    validate::text("project_name", name)?;
    if name.trim().is_empty() {
        return Err(Error::invalid("project_name", "must not be empty"));
    }
    let new = NewApiKey::new(name).daily_limit(app.gateway.daily_quota);
    let sql = app.sql.clone();
    let key = app
        .rbac
        .keys()
        .create_with(actor, new, move |key, journal| async move {
            sql.transaction(journal, move |tx| {
                Box::pin(async move {
                    let key = tx.create_api_key(&key).await?;
                    insert_fields(tx, key.id, kind).await?;
                    Ok(key)
                })
            })
            .await
        })
        .await?;
    if let Err(e) = own_project(&app.rbac, actor.user_id, key.id).await {
        tracing::warn!(error = %e, project = key.id, "placing a new project in its owner's scope failed");
    }
    Ok(key)
}

/// The live projects of `owner` (the caller's own by default; another's needs UserAccess
/// and comes without secrets), read a chunk at a time, each chunk's fields in one query.
pub async fn rows(
    app: &AppState,
    actor: &Principal,
    owner: Option<UserId>,
    page: Page,
) -> Result<Rows<(ApiKey, Fields)>> {
    let sql = app.sql.clone();
    let rows = app.rbac.keys().rows(actor, owner, page).await?;
    Ok(rows.join(move |keys| {
        let sql = sql.clone();
        async move { fields_of(&sql, keys).await }
    }))
}

/// Deletes a project the actor owns or holds `ProjectDelete` within; a project of the
/// actor's from before scopes (or whose placement failed) is placed first.
pub async fn delete(rbac: &Rbac, actor: &Principal, id: i64) -> Result<()> {
    let scope = project_scope(id)?;
    if rbac.keys().own(actor, id).await.is_ok() {
        own_project(rbac, actor.user_id, id).await?;
    }
    rbac.keys()
        .revoke_within(actor, id, PROJECT_DELETE, &scope)
        .await
}

/// Makes `owner` the owner of project `project`: the project's scope lies within the
/// owner's `user:ID` scope, where the owner holds the project-owner role.
pub async fn own_project(rbac: &Rbac, owner: i64, project: i64) -> Result<()> {
    let owner_scope = Scope::new(crate::api::OWNER_SCOPE, owner)
        .ok_or_else(|| Error::invalid("user_id", "not a user"))?;
    rbac.assignments()
        .own_scope(
            owner,
            PROJECT_OWNER_ROLE,
            owner_scope,
            project_scope(project)?,
        )
        .await
}
