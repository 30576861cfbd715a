//! The rbac-core storage traits on sqlx: SQLite, PostgreSQL and MySQL/MariaDB.
//!
//! [`SqlStore::connect`] picks the backend from the URL scheme (`sqlite:`, `postgres:` /
//! `postgresql:`, `mysql:` / `mariadb:`); [`SqlStore::migrate`] applies the embedded schema;
//! the store then implements every trait of [`rbac_core::Store`]. Every write runs in one
//! transaction with its journal (audit entry and change rows; on PostgreSQL also a
//! `NOTIFY rbac_changes`), and [`spawn_change_feed`] delivers other instances' changes.
//!
//! ```no_run
//! # async fn demo() -> Result<(), rbac_core::StoreError> {
//! use rbac_core::UserStore;
//! let store = rbac_sqlx::SqlStore::connect("sqlite://rbac.db?mode=rwc").await?;
//! store.migrate().await?;
//! let admin = store.user_by_name("admin").await?;
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod feed;
mod migrations;
mod mysql;
mod postgres;
mod row;
mod sqlite;

use std::fmt;

use async_trait::async_trait;
use rbac_core::{
    now, AuditEntry, AuditQuery, AuditStore, Change, ChangeLog, CodeCheck, CodeStore, Entity,
    Field, Journal, Listing, NewAudit, NewUser, Order, Organisation, OrganisationStore, Page,
    Revoke, Role, RoleId, RoleStore, Session, SessionStore, SettingStore, StoreError, StoreResult,
    Timestamp, User, UserId, UserQuery, UserStore, VerificationCode,
};
use sqlx::error::ErrorKind;
use sqlx::mysql::MySqlPool;
use sqlx::postgres::PgPool;
use sqlx::sqlite::SqlitePool;

pub use feed::spawn_change_feed;

use row::{AUDIT_COLUMNS, ROLE_COLUMNS, SESSION_COLUMNS, USER_COLUMNS};

/// Which database a [`SqlStore`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite (a file, or `sqlite::memory:`).
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB.
    MySql,
}

impl Backend {
    /// The backend a database URL names by its scheme, if it is one this crate supports.
    pub fn from_url(url: &str) -> Option<Backend> {
        let scheme = url.split(':').next()?.to_ascii_lowercase();
        match scheme.as_str() {
            "sqlite" => Some(Backend::Sqlite),
            "postgres" | "postgresql" => Some(Backend::Postgres),
            "mysql" | "mariadb" => Some(Backend::MySql),
            _ => None,
        }
    }
}

impl Backend {
    /// How many migrations this crate embeds for the backend (the schema version it needs).
    pub fn embedded_migrations(self) -> usize {
        match self {
            Backend::Sqlite => migrations::SQLITE.migrations.len(),
            Backend::Postgres => migrations::POSTGRES.migrations.len(),
            Backend::MySql => migrations::MYSQL.migrations.len(),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::MySql => "mysql",
        })
    }
}

#[derive(Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
    MySql(MySqlPool),
}

/// A storage handle on one SQL database: cheap to clone (clones share the pool).
#[derive(Clone)]
pub struct SqlStore {
    pool: Pool,
}

impl fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlStore")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

/// Connects to the database a URL names; see [`SqlStore::connect`].
pub async fn connect(url: &str) -> Result<SqlStore, StoreError> {
    SqlStore::connect(url).await
}

impl SqlStore {
    /// Connects a pool to the database a URL names, choosing the backend by its scheme.
    ///
    /// SQLite files are created when missing unless the URL sets `mode=`; they use WAL,
    /// foreign keys and a 5 s busy timeout. `sqlite::memory:` keeps one connection.
    /// `mariadb:` URLs are read as `mysql:`.
    pub async fn connect(url: &str) -> Result<SqlStore, StoreError> {
        let pool = match Backend::from_url(url) {
            Some(Backend::Sqlite) => Pool::Sqlite(sqlite::connect(url).await.map_err(backend)?),
            Some(Backend::Postgres) => {
                Pool::Postgres(postgres::connect(url).await.map_err(backend)?)
            }
            Some(Backend::MySql) => {
                let url = match url.split_once(':') {
                    Some((scheme, rest)) if scheme.eq_ignore_ascii_case("mariadb") => {
                        format!("mysql:{rest}")
                    }
                    _ => url.to_string(),
                };
                Pool::MySql(mysql::connect(&url).await.map_err(backend)?)
            }
            None => {
                let scheme = url.split(':').next().unwrap_or_default();
                return Err(StoreError::Backend(format!(
                    "unsupported database URL scheme `{scheme}` (expected sqlite:, postgres:, mysql: or mariadb:)"
                )));
            }
        };
        Ok(SqlStore { pool })
    }

    /// A store on an existing SQLite pool (foreign keys must be on).
    pub fn from_sqlite(pool: SqlitePool) -> SqlStore {
        SqlStore {
            pool: Pool::Sqlite(pool),
        }
    }

    /// A store on an existing PostgreSQL pool.
    pub fn from_postgres(pool: PgPool) -> SqlStore {
        SqlStore {
            pool: Pool::Postgres(pool),
        }
    }

    /// A store on an existing MySQL/MariaDB pool.
    pub fn from_mysql(pool: MySqlPool) -> SqlStore {
        SqlStore {
            pool: Pool::MySql(pool),
        }
    }

    /// Which database this store talks to.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
            Pool::MySql(_) => Backend::MySql,
        }
    }

    /// Whether the database answers and every embedded migration is applied: `Err` says
    /// which is not so.
    pub async fn readiness(&self) -> Result<(), StoreError> {
        let sql = "SELECT COUNT(*) FROM _sqlx_migrations WHERE success = TRUE";
        let applied: i64 = match &self.pool {
            Pool::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await,
            Pool::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await,
            Pool::MySql(p) => sqlx::query_scalar(sql).fetch_one(p).await,
        }
        .map_err(backend)?;
        let embedded = self.backend().embedded_migrations();
        if usize::try_from(applied).unwrap_or(0) < embedded {
            return Err(StoreError::Backend(format!(
                "schema not current: {applied} of {embedded} migrations applied"
            )));
        }
        Ok(())
    }

    /// Applies the embedded migrations that are not applied yet.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let done = match &self.pool {
            Pool::Sqlite(p) => {
                // sqlx takes no lock on SQLite: two processes starting on one new file can
                // both try the first migration. Each migration is one transaction, so the
                // loser rolls back whole; on retry it finds the winner's work applied.
                let mut attempt = 0;
                loop {
                    match migrations::SQLITE.run(p).await {
                        Err(e) if attempt < 4 => {
                            attempt += 1;
                            tracing::debug!(error = %e, attempt, "SQLite migration raced; retrying");
                            tokio::time::sleep(std::time::Duration::from_millis(100 * attempt))
                                .await;
                        }
                        other => break other,
                    }
                }
            }
            Pool::Postgres(p) => migrations::POSTGRES.run(p).await,
            Pool::MySql(p) => {
                // sqlx's own lock is `GET_LOCK(name, -1)`, which MariaDB does not treat as
                // "wait forever": two instances starting at once both migrate. Hold a lock
                // of our own, per database, on one connection while the pool migrates.
                let mut holder = p.acquire().await.map_err(backend)?;
                let got: Option<i64> =
                    sqlx::query_scalar("SELECT GET_LOCK(CONCAT('rbac_migrate:', DATABASE()), 60)")
                        .fetch_one(&mut *holder)
                        .await
                        .map_err(backend)?;
                if got != Some(1) {
                    return Err(StoreError::Backend(
                        "another instance held the migration lock for 60 s".into(),
                    ));
                }
                let done = migrations::MYSQL.run(p).await;
                let _ = sqlx::query("SELECT RELEASE_LOCK(CONCAT('rbac_migrate:', DATABASE()))")
                    .execute(&mut *holder)
                    .await;
                done
            }
        };
        done.map_err(|e| StoreError::Backend(format!("migration failed: {e}")))?;
        self.key_identities().await
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
            Pool::MySql(p) => p.close().await,
        }
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        match &self.pool {
            Pool::Sqlite(p) => p.is_closed(),
            Pool::Postgres(p) => p.is_closed(),
            Pool::MySql(p) => p.is_closed(),
        }
    }

    fn pg_pool(&self) -> Option<&PgPool> {
        match &self.pool {
            Pool::Postgres(p) => Some(p),
            _ => None,
        }
    }
}

/// A backend failure, as the traits report it.
pub(crate) fn backend(e: sqlx::Error) -> StoreError {
    // PostgreSQL refuses a NUL character in text (SQLSTATE 22021, or 22P05 when it cannot
    // be translated): that is the input's fault, not the store's.
    let unrepresentable = e
        .as_database_error()
        .and_then(|db| db.code())
        .is_some_and(|code| code == "22021" || code == "22P05");
    if unrepresentable {
        return StoreError::Unrepresentable("text may not contain NUL characters");
    }
    StoreError::Backend(e.to_string())
}

/// Maps a failed write: a unique violation to `Conflict`, a foreign-key violation to
/// `on_fk`, anything else to `Backend`.
fn write_error(e: sqlx::Error, on_fk: StoreError) -> StoreError {
    let Some(db) = e.as_database_error() else {
        return backend(e);
    };
    match db.kind() {
        ErrorKind::UniqueViolation => {
            // PostgreSQL names the constraint; SQLite says `table.column`; MySQL ends its
            // message with `for key 'name'` (after the duplicate value, which is user data).
            let message = db.message();
            let key = db.constraint().map(str::to_string).unwrap_or_else(|| {
                message
                    .rsplit("for key")
                    .next()
                    .unwrap_or(message)
                    .to_string()
            });
            let field = if key.contains("rbac_users_email") || key.contains("rbac_users.email") {
                Field::Email
            } else if key.contains("rbac_users_name") || key.contains("rbac_users.name") {
                Field::UserName
            } else if key.contains("rbac_roles_name") || key.contains("rbac_roles.name") {
                Field::RoleName
            } else {
                Field::Other
            };
            StoreError::Conflict(field)
        }
        ErrorKind::ForeignKeyViolation => on_fk,
        _ => backend(e),
    }
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// `ON CONFLICT` upserts, the same text on SQLite and PostgreSQL.
pub(crate) mod upsert {
    /// Stores a code unless the pending one is too recent: binds key, digest, context,
    /// sent_at, expires_at, then the resend cut-off once.
    pub(crate) const CODE: &str =
        "INSERT INTO rbac_codes (code_key, digest, context, sent_at, expires_at, attempts) \
         VALUES (?, ?, ?, ?, ?, 0) ON CONFLICT (code_key) DO UPDATE SET \
         digest = excluded.digest, context = excluded.context, sent_at = excluded.sent_at, \
         expires_at = excluded.expires_at, attempts = 0 \
         WHERE rbac_codes.sent_at <= ?";

    /// Inserts or renames an organisation: binds id, name.
    pub(crate) const ORGANISATION: &str =
        "INSERT INTO rbac_organisations (id, name) VALUES (?, ?) \
         ON CONFLICT (id) DO UPDATE SET name = excluded.name";
}

/// Runs `$body` with `$pool` bound to the concrete pool and `$d` to its backend's dialect.
macro_rules! on_backend {
    ($store:expr, $pool:ident, $d:ident => $body:block) => {
        match &$store.pool {
            Pool::Sqlite($pool) => {
                let $d = sqlite::Dialect;
                $body
            }
            Pool::Postgres($pool) => {
                let $d = postgres::Dialect;
                $body
            }
            Pool::MySql($pool) => {
                let $d = mysql::Dialect;
                $body
            }
        }
    };
}

/// Writes a journal's audit entry and change rows inside the transaction `$tx`.
macro_rules! write_journal {
    ($d:ident, $tx:ident, $journal:expr) => {{
        let journal: &Journal = $journal;
        let at = now();
        if let Some(a) = &journal.audit {
            sqlx::query(&$d.sql(
                "INSERT INTO rbac_audit (user_id, user_name, category, time, content, success) \
                 VALUES (?, ?, ?, ?, ?, ?)",
            ))
            .bind(a.user_id)
            .bind(a.user_name.as_str())
            .bind(a.category as i32)
            .bind(at)
            .bind(a.content.as_str())
            .bind(a.success)
            .execute(&mut *$tx)
            .await
            .map_err(backend)?;
        }
        for change in &journal.changes {
            let (kind, target) = change.encode();
            let sql = $d
                .insert_sql("INSERT INTO rbac_changes (kind, target, created_at) VALUES (?, ?, ?)");
            let query = sqlx::query(&sql).bind(kind).bind(target).bind(at);
            let id = $d.insert_id(query, &mut *$tx).await.map_err(backend)?;
            $d.notify(&mut *$tx, id).await.map_err(backend)?;
        }
    }};
}

/// Loads the sorted privilege codes of one role.
macro_rules! role_codes {
    ($d:ident, $exec:expr, $id:expr) => {{
        let rows = sqlx::query(&$d.sql("SELECT code FROM rbac_role_privileges WHERE role_id = ?"))
            .bind($id)
            .fetch_all($exec)
            .await
            .map_err(backend)?;
        let mut codes = Vec::with_capacity(rows.len());
        for r in &rows {
            codes.push(row::Columns::text(r, "code").map_err(backend)?);
        }
        codes.sort();
        codes
    }};
}

/// Inserts a role's privilege codes (sorted, deduplicated) inside `$tx`.
macro_rules! insert_codes {
    ($d:ident, $tx:ident, $id:expr, $codes:expr) => {{
        let mut codes: Vec<&str> = $codes.iter().map(|c| c.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        for code in &codes {
            sqlx::query(&$d.sql("INSERT INTO rbac_role_privileges (role_id, code) VALUES (?, ?)"))
                .bind($id)
                .bind(*code)
                .execute(&mut *$tx)
                .await
                .map_err(backend)?;
        }
        codes
            .into_iter()
            .map(str::to_string)
            .collect::<Vec<String>>()
    }};
}

/// Revokes a user's live sessions but `keep` inside `$tx`; evaluates to how many.
macro_rules! revoke_sessions_of {
    ($d:ident, $tx:ident, $user:expr, $keep:expr) => {{
        let keep: Option<&str> = $keep;
        let sql = if keep.is_some() {
            "UPDATE rbac_sessions SET revoked = TRUE WHERE user_id = ? AND revoked = FALSE AND id <> ?"
        } else {
            "UPDATE rbac_sessions SET revoked = TRUE WHERE user_id = ? AND revoked = FALSE"
        };
        let sql = $d.sql(sql);
        let mut q = sqlx::query(&sql).bind($user);
        if let Some(k) = keep {
            q = q.bind(k);
        }
        q.execute(&mut *$tx).await.map_err(backend)?.rows_affected()
    }};
}

impl SqlStore {
    /// Deletes the rows of `table` (one of ours, with an `expires_at` column) that expired
    /// before `before`; returns how many.
    async fn delete_expired(&self, table: &'static str, before: Timestamp) -> StoreResult<u64> {
        let sql = format!("DELETE FROM {table} WHERE expires_at < ?");
        on_backend!(self, pool, d => {
            let done = sqlx::query(&d.sql(&sql))
                .bind(before)
                .execute(pool)
                .await
                .map_err(backend)?;
            Ok(done.rows_affected())
        })
    }
}

#[async_trait]
impl UserStore for SqlStore {
    async fn create_user(&self, user: &NewUser, journal: &Journal) -> StoreResult<User> {
        Ok(self.insert_user(user, journal, false).await?.0)
    }

    async fn create_user_claiming(
        &self,
        user: &NewUser,
        journal: &Journal,
    ) -> StoreResult<(User, Vec<UserId>)> {
        self.insert_user(user, journal, true).await
    }

    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        on_backend!(self, pool, d => {
            let sql = format!("SELECT {USER_COLUMNS} FROM rbac_users WHERE id = ?");
            let r = sqlx::query(&d.sql(&sql)).bind(id).fetch_optional(pool).await.map_err(backend)?;
            r.as_ref().map(row::user).transpose()
        })
    }

    async fn user_by_name(&self, name: &str) -> StoreResult<Option<User>> {
        on_backend!(self, pool, d => {
            let sql = format!("SELECT {USER_COLUMNS} FROM rbac_users WHERE name_key = ?");
            let r = sqlx::query(&d.sql(&sql))
                .bind(rbac_core::identity::name_key(name))
                .fetch_optional(pool)
                .await
                .map_err(backend)?;
            r.as_ref().map(row::user).transpose()
        })
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        on_backend!(self, pool, d => {
            let sql = format!("SELECT {USER_COLUMNS} FROM rbac_users WHERE email_key = ?");
            let r = sqlx::query(&d.sql(&sql))
                .bind(rbac_core::identity::email_key(email))
                .fetch_optional(pool)
                .await
                .map_err(backend)?;
            r.as_ref().map(row::user).transpose()
        })
    }

    async fn users_by_phone(&self, phone: &str, limit: u32) -> StoreResult<Vec<User>> {
        on_backend!(self, pool, d => {
            let sql = format!("SELECT {USER_COLUMNS} FROM rbac_users WHERE phone = ? ORDER BY id LIMIT ?");
            let rows = sqlx::query(&d.sql(&sql))
                .bind(phone)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
                .map_err(backend)?;
            rows.iter().map(row::user).collect()
        })
    }

    async fn list_users(&self, q: &UserQuery) -> StoreResult<Listing<User>> {
        let (offset, limit) = q.page.sql_bounds();
        let order = match q.order {
            Order::OldestFirst => "ASC",
            Order::NewestFirst => "DESC",
        };
        on_backend!(self, pool, d => {
            let mut conditions = Vec::new();
            if q.name_contains.is_some() {
                conditions.push(d.name_contains());
            }
            if q.parent_id.is_some() {
                conditions.push("parent_id = ?");
            }
            let filter = if conditions.is_empty() {
                String::new()
            } else {
                format!(" WHERE {}", conditions.join(" AND "))
            };
            let count_sql = d.sql(&format!("SELECT COUNT(*) FROM rbac_users{filter}")).into_owned();
            let rows_sql = d
                .sql(&format!(
                    "SELECT {USER_COLUMNS} FROM rbac_users{filter} ORDER BY id {order} LIMIT ? OFFSET ?"
                ))
                .into_owned();
            let mut count_q = sqlx::query_scalar::<_, i64>(&count_sql);
            let mut rows_q = sqlx::query(&rows_sql);
            if let Some(needle) = &q.name_contains {
                count_q = count_q.bind(needle.as_str());
                rows_q = rows_q.bind(needle.as_str());
            }
            if let Some(parent) = q.parent_id {
                count_q = count_q.bind(parent);
                rows_q = rows_q.bind(parent);
            }
            let total = count_q.fetch_one(pool).await.map_err(backend)?;
            let rows = rows_q.bind(limit).bind(offset).fetch_all(pool).await.map_err(backend)?;
            let rows = rows.iter().map(row::user).collect::<StoreResult<Vec<User>>>()?;
            Ok(Listing { rows, total: count(total) })
        })
    }

    async fn update_user(
        &self,
        user: &User,
        revoke: Revoke<'_>,
        journal: &Journal,
    ) -> StoreResult<()> {
        let attributes = row::attributes(user)?;
        let keys = identity::Keys::of(user);
        on_backend!(self, pool, d => {
            let mut tx = d.begin(pool).await.map_err(backend)?;
            let done = sqlx::query(&d.sql(
                "UPDATE rbac_users SET name = ?, alias = ?, phone = ?, email = ?, did = ?, \
                 remark = ?, password_hash = ?, role_id = ?, enabled = ?, department_id = ?, \
                 parent_id = ?, creator = ?, attributes = ?, login_time = ?, login_ip = ?, \
                 updated_at = ?, name_key = ?, name_skeleton = ?, email_key = ?, \
                 email_verified = ?, phone_verified = ? WHERE id = ?",
            ))
            .bind(user.name.as_str())
            .bind(user.alias.as_str())
            .bind(user.phone.as_str())
            .bind(user.email.as_deref())
            .bind(user.did.as_str())
            .bind(user.remark.as_str())
            .bind(user.password_hash.as_str())
            .bind(user.role_id)
            .bind(user.enabled)
            .bind(user.department_id)
            .bind(user.parent_id)
            .bind(user.creator.as_str())
            .bind(attributes.as_str())
            .bind(user.login_time)
            .bind(user.login_ip.as_str())
            .bind(user.updated_at)
            .bind(keys.name_key.as_str())
            .bind(keys.name_skeleton.as_str())
            .bind(keys.email_key.as_deref())
            .bind(user.email_verified)
            .bind(user.phone_verified)
            .bind(user.id)
            .execute(&mut *tx)
            .await
            .map_err(|e| write_error(e, StoreError::NotFound(Entity::Role)))?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound(Entity::User));
            }
            if let Some(keep) = revoke.keeping() {
                revoke_sessions_of!(d, tx, user.id, keep);
            }
            write_journal!(d, tx, journal);
            tx.commit().await.map_err(backend)?;
            Ok(())
        })
    }

    async fn set_password(
        &self,
        id: UserId,
        hash: &str,
        keep: Option<&str>,
        journal: &Journal,
    ) -> StoreResult<()> {
        on_backend!(self, pool, d => {
            let mut tx = d.begin(pool).await.map_err(backend)?;
            let done = sqlx::query(&d.sql("UPDATE rbac_users SET password_hash = ?, updated_at = ? WHERE id = ?"))
                .bind(hash)
                .bind(now())
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound(Entity::User));
            }
            revoke_sessions_of!(d, tx, id, keep);
            write_journal!(d, tx, journal);
            tx.commit().await.map_err(backend)?;
            Ok(())
        })
    }

    async fn delete_user(&self, id: UserId, journal: &Journal) -> StoreResult<bool> {
        on_backend!(self, pool, d => {
            let mut tx = d.begin(pool).await.map_err(backend)?;
            sqlx::query(&d.sql("DELETE FROM rbac_sessions WHERE user_id = ?"))
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            let done = sqlx::query(&d.sql("DELETE FROM rbac_users WHERE id = ?"))
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

    async fn record_login(
        &self,
        id: UserId,
        at: Timestamp,
        ip: &str,
        rehash: Option<&str>,
    ) -> StoreResult<()> {
        on_backend!(self, pool, d => {
            let sql = if rehash.is_some() {
                "UPDATE rbac_users SET login_time = ?, login_ip = ?, password_hash = ? WHERE id = ?"
            } else {
                "UPDATE rbac_users SET login_time = ?, login_ip = ? WHERE id = ?"
            };
            let sql = d.sql(sql);
            let mut q = sqlx::query(&sql).bind(at).bind(ip);
            if let Some(hash) = rehash {
                q = q.bind(hash);
            }
            q.bind(id).execute(pool).await.map_err(backend)?;
            Ok(())
        })
    }

    async fn count_users_with_role(&self, role: RoleId) -> StoreResult<u64> {
        on_backend!(self, pool, d => {
            let n: i64 = sqlx::query_scalar(&d.sql("SELECT COUNT(*) FROM rbac_users WHERE role_id = ?"))
                .bind(role)
                .fetch_one(pool)
                .await
                .map_err(backend)?;
            Ok(count(n))
        })
    }
}

#[async_trait]
impl RoleStore for SqlStore {
    async fn create_role(&self, role: &Role, journal: &Journal) -> StoreResult<Role> {
        on_backend!(self, pool, d => {
            let mut tx = d.begin(pool).await.map_err(backend)?;
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
                .map_err(|e| write_error(e, StoreError::Backend("unexpected foreign key".into())))?;
            let privileges = insert_codes!(d, tx, id, role.privileges);
            write_journal!(d, tx, journal);
            tx.commit().await.map_err(backend)?;
            let mut created = role.clone();
            created.id = id;
            created.privileges = privileges;
            Ok(created)
        })
    }

    async fn role(&self, id: RoleId) -> StoreResult<Option<Role>> {
        on_backend!(self, pool, d => {
            let sql = format!("SELECT {ROLE_COLUMNS} FROM rbac_roles WHERE id = ?");
            let r = sqlx::query(&d.sql(&sql)).bind(id).fetch_optional(pool).await.map_err(backend)?;
            let Some(r) = r else { return Ok(None) };
            let mut role = row::role(&r)?;
            role.privileges = role_codes!(d, pool, role.id);
            Ok(Some(role))
        })
    }

    async fn role_by_name(&self, name: &str) -> StoreResult<Option<Role>> {
        on_backend!(self, pool, d => {
            let sql = format!("SELECT {ROLE_COLUMNS} FROM rbac_roles WHERE name = ?");
            let r = sqlx::query(&d.sql(&sql)).bind(name).fetch_optional(pool).await.map_err(backend)?;
            let Some(r) = r else { return Ok(None) };
            let mut role = row::role(&r)?;
            role.privileges = role_codes!(d, pool, role.id);
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
            Ok(Some(role))
        })
    }

    async fn list_roles(&self, page: Page) -> StoreResult<Listing<Role>> {
        let (offset, limit) = page.sql_bounds();
        on_backend!(self, pool, d => {
            let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM rbac_roles")
                .fetch_one(pool)
                .await
                .map_err(backend)?;
            let sql = format!("SELECT {ROLE_COLUMNS} FROM rbac_roles ORDER BY id LIMIT ? OFFSET ?");
            let rows = sqlx::query(&d.sql(&sql))
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
            }
            Ok(Listing { rows: roles, total: count(total) })
        })
    }

    async fn update_role(&self, role: &Role, journal: &Journal) -> StoreResult<()> {
        on_backend!(self, pool, d => {
            let mut tx = d.begin(pool).await.map_err(backend)?;
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
            .map_err(|e| write_error(e, StoreError::Backend("unexpected foreign key".into())))?;
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
            let mut tx = d.begin(pool).await.map_err(backend)?;
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

    async fn delete_role(&self, id: RoleId, journal: &Journal) -> StoreResult<()> {
        const IN_USE: &str = "the role still has users";
        on_backend!(self, pool, d => {
            let mut tx = d.begin(pool).await.map_err(backend)?;
            let holders: i64 = sqlx::query_scalar(&d.sql("SELECT COUNT(*) FROM rbac_users WHERE role_id = ?"))
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

/// Inserts a session inside `$tx`, mapping a taken id to `Conflict(Other)` and a missing
/// user to `NotFound(User)`.
macro_rules! insert_session {
    ($d:ident, $tx:ident, $s:expr) => {{
        let s: &Session = $s;
        sqlx::query(&$d.sql(
            "INSERT INTO rbac_sessions (id, user_id, kind, issued_at, expires_at, last_seen, revoked, ip) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        ))
        .bind(s.id.as_str())
        .bind(s.user_id)
        .bind(s.kind.as_i16())
        .bind(s.issued_at)
        .bind(s.expires_at)
        .bind(s.last_seen)
        .bind(s.revoked)
        .bind(s.ip.as_str())
        .execute(&mut *$tx)
        .await
        .map_err(|e| write_error(e, StoreError::NotFound(Entity::User)))?;
    }};
}

#[async_trait]
impl SessionStore for SqlStore {
    async fn create_session(&self, session: &Session, journal: &Journal) -> StoreResult<()> {
        on_backend!(self, pool, d => {
            let mut tx = d.begin(pool).await.map_err(backend)?;
            insert_session!(d, tx, session);
            write_journal!(d, tx, journal);
            tx.commit().await.map_err(backend)?;
            Ok(())
        })
    }

    async fn session(&self, id: &str) -> StoreResult<Option<Session>> {
        on_backend!(self, pool, d => {
            let sql = format!("SELECT {SESSION_COLUMNS} FROM rbac_sessions WHERE id = ?");
            let r = sqlx::query(&d.sql(&sql)).bind(id).fetch_optional(pool).await.map_err(backend)?;
            r.as_ref().map(row::session).transpose()
        })
    }

    async fn revoke_session(&self, id: &str, journal: &Journal) -> StoreResult<bool> {
        on_backend!(self, pool, d => {
            let mut tx = d.begin(pool).await.map_err(backend)?;
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
            let mut tx = d.begin(pool).await.map_err(backend)?;
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
            let mut tx = d.begin(pool).await.map_err(backend)?;
            let n = revoke_sessions_of!(d, tx, user, keep);
            write_journal!(d, tx, journal);
            tx.commit().await.map_err(backend)?;
            Ok(n)
        })
    }

    async fn touch_session(
        &self,
        id: &str,
        expires_at: Timestamp,
        seen: Timestamp,
    ) -> StoreResult<()> {
        on_backend!(self, pool, d => {
            sqlx::query(&d.sql(
                "UPDATE rbac_sessions SET expires_at = ?, last_seen = ? \
                 WHERE id = ? AND revoked = FALSE AND expires_at > ?",
            ))
            .bind(expires_at)
            .bind(seen)
            .bind(id)
            .bind(seen)
            .execute(pool)
            .await
            .map_err(backend)?;
            Ok(())
        })
    }

    async fn purge_sessions(&self, before: Timestamp) -> StoreResult<u64> {
        self.delete_expired("rbac_sessions", before).await
    }

    async fn count_live_sessions(&self, at: Timestamp) -> StoreResult<u64> {
        on_backend!(self, pool, d => {
            let n: i64 = sqlx::query_scalar(&d.sql(
                "SELECT COUNT(*) FROM rbac_sessions WHERE revoked = FALSE AND expires_at > ?",
            ))
            .bind(at)
            .fetch_one(pool)
            .await
            .map_err(backend)?;
            Ok(count(n))
        })
    }
}

#[async_trait]
impl AuditStore for SqlStore {
    async fn append_audit(&self, entry: &NewAudit) -> StoreResult<()> {
        let journal = Journal::audit(entry.clone());
        on_backend!(self, pool, d => {
            let mut tx = d.begin(pool).await.map_err(backend)?;
            write_journal!(d, tx, &journal);
            tx.commit().await.map_err(backend)?;
            Ok(())
        })
    }

    async fn list_audit(&self, q: &AuditQuery) -> StoreResult<Listing<AuditEntry>> {
        let (offset, limit) = q.page.sql_bounds();
        let mut conditions = Vec::new();
        if q.user_name.is_some() {
            conditions.push("user_name = ?");
        }
        if q.category.is_some() {
            conditions.push("category = ?");
        }
        if q.from.is_some() {
            conditions.push("time >= ?");
        }
        if q.to.is_some() {
            conditions.push("time <= ?");
        }
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conditions.join(" AND "))
        };
        on_backend!(self, pool, d => {
            let count_sql = d.sql(&format!("SELECT COUNT(*) FROM rbac_audit{filter}")).into_owned();
            let rows_sql = d
                .sql(&format!(
                    "SELECT {AUDIT_COLUMNS} FROM rbac_audit{filter} ORDER BY id DESC LIMIT ? OFFSET ?"
                ))
                .into_owned();
            let mut count_q = sqlx::query_scalar::<_, i64>(&count_sql);
            let mut rows_q = sqlx::query(&rows_sql);
            if let Some(name) = &q.user_name {
                count_q = count_q.bind(name.as_str());
                rows_q = rows_q.bind(name.as_str());
            }
            if let Some(category) = q.category {
                count_q = count_q.bind(category);
                rows_q = rows_q.bind(category);
            }
            if let Some(from) = q.from {
                count_q = count_q.bind(from);
                rows_q = rows_q.bind(from);
            }
            if let Some(to) = q.to {
                count_q = count_q.bind(to);
                rows_q = rows_q.bind(to);
            }
            let total = count_q.fetch_one(pool).await.map_err(backend)?;
            let rows = rows_q.bind(limit).bind(offset).fetch_all(pool).await.map_err(backend)?;
            let rows = rows.iter().map(row::audit).collect::<StoreResult<Vec<AuditEntry>>>()?;
            Ok(Listing { rows, total: count(total) })
        })
    }
}

#[async_trait]
impl SettingStore for SqlStore {
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
                None => Err(StoreError::Backend(format!("setting {key} vanished after insert"))),
            }
        })
    }
}

// After the macros it uses.
mod throttle;

#[async_trait]
impl OrganisationStore for SqlStore {
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

#[async_trait]
impl CodeStore for SqlStore {
    async fn put_code(
        &self,
        code: &VerificationCode,
        resend_after: Timestamp,
    ) -> StoreResult<Option<Timestamp>> {
        on_backend!(self, pool, d => {
            let mut tx = d.begin(pool).await.map_err(backend)?;
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
            let mut tx = d.begin(pool).await.map_err(backend)?;
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
            } else if rbac_core::password::same_text(&pending, digest) {
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

// After the macros they use.
mod identity;
mod projects;

#[async_trait]
impl ChangeLog for SqlStore {
    async fn change_cursor(&self) -> StoreResult<i64> {
        on_backend!(self, pool, d => {
            let _ = d;
            let r = sqlx::query("SELECT COALESCE(MAX(id), 0) AS id FROM rbac_changes")
                .fetch_one(pool)
                .await
                .map_err(backend)?;
            row::Columns::int(&r, "id").map_err(backend)
        })
    }

    async fn changes_since(&self, cursor: i64, limit: u32) -> StoreResult<Vec<(i64, Change)>> {
        on_backend!(self, pool, d => {
            let rows = sqlx::query(&d.sql(
                "SELECT id, kind, target FROM rbac_changes WHERE id > ? ORDER BY id LIMIT ?",
            ))
            .bind(cursor)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
            .map_err(backend)?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                let id = row::Columns::int(r, "id").map_err(backend)?;
                let kind = row::Columns::small(r, "kind").map_err(backend)?;
                let target = row::Columns::text(r, "target").map_err(backend)?;
                match Change::decode(kind, &target) {
                    Some(change) => out.push((id, change)),
                    None => tracing::warn!(id, kind, "skipping a change of unknown kind"),
                }
            }
            Ok(out)
        })
    }

    async fn prune_changes(&self, before: Timestamp) -> StoreResult<u64> {
        on_backend!(self, pool, d => {
            let done = sqlx::query(&d.sql("DELETE FROM rbac_changes WHERE created_at < ?"))
                .bind(before)
                .execute(pool)
                .await
                .map_err(backend)?;
            Ok(done.rows_affected())
        })
    }
}
