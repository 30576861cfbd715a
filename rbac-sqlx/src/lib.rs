//! The rbac-core storage traits on sqlx: SQLite, PostgreSQL and MySQL/MariaDB.
//!
//! [`SqlStore::connect`] picks the backend from the URL scheme (`sqlite:`, `postgres:` /
//! `postgresql:`, `mysql:` / `mariadb:`); [`SqlStore::migrate`] applies the embedded schema;
//! the store then implements every trait of [`rbac_core::store::Store`]. Every write runs in one
//! transaction with its journal (audit entry and change rows; on PostgreSQL also a
//! `NOTIFY rbac_changes`), and [`spawn_change_feed`] delivers other instances' changes.
//!
//! ```no_run
//! # async fn demo() -> Result<(), rbac_core::StoreError> {
//! use rbac_core::store::UserStore;
//! let store = rbac_sqlx::SqlStore::connect("sqlite://rbac.db?mode=rwc").await?;
//! store.migrate().await?;
//! let admin = store.user_by_name("admin").await?;
//! # Ok(()) }
//! ```
//!
//! An application keeping tables of its own in the same database gives their migrations
//! to [`SqlStore::with_migrations`]: one `_sqlx_migrations` list, each of its migrations
//! placed right after the library migration it was written against (see [`AppMigration`]),
//! and its queries run on [`SqlStore::pool`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), rbac_core::StoreError> {
//! use rbac_sqlx::{AppMigration, SqlStore, APP_VERSIONS};
//! const NOTES: &str = "CREATE TABLE app_notes (user_id BIGINT NOT NULL PRIMARY KEY, note TEXT NOT NULL)";
//! static MINE: [AppMigration; 1] = [AppMigration {
//!     version: APP_VERSIONS,
//!     description: "notes",
//!     after: 18,
//!     sqlite: NOTES,
//!     postgres: NOTES,
//!     mysql: NOTES,
//! }];
//! let store = SqlStore::connect("sqlite://app.db?mode=rwc").await?.with_migrations(&MINE)?;
//! store.migrate().await?;
//! # Ok(()) }
//! ```
//!
//! Each driver is a feature (`sqlite`, `postgres`, `mysql`; all three by default): a
//! service that uses one database compiles one driver. A URL for a backend whose feature
//! is off is refused by [`SqlStore::connect`] with a message naming the feature.
#![deny(missing_docs)]
#![deny(unreachable_pub)]

#[cfg(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")))]
compile_error!("rbac-sqlx needs at least one of the features `sqlite`, `postgres`, `mysql`");

/// Runs `$body` with `$pool` bound to the concrete pool and `$d` to its backend's dialect.
macro_rules! on_backend {
    ($store:expr, $pool:ident, $d:ident => $body:block) => {
        match &$store.pool {
            #[cfg(feature = "sqlite")]
            $crate::Pool::Sqlite($pool) => {
                let $d = $crate::sqlite::Dialect;
                $body
            }
            #[cfg(feature = "postgres")]
            $crate::Pool::Postgres($pool) => {
                let $d = $crate::postgres::Dialect;
                $body
            }
            #[cfg(feature = "mysql")]
            $crate::Pool::MySql($pool) => {
                let $d = $crate::mysql::Dialect;
                $body
            }
        }
    };
}

/// Adds `$delta` to the maintained total `$name` (`'users'`, `'audit'`) inside `$tx`, on one
/// of its shards.
macro_rules! bump_total {
    ($d:ident, $tx:ident, $name:literal, $delta:expr) => {{
        sqlx::query(&$d.sql(concat!(
            "UPDATE rbac_counters SET amount = amount + ? WHERE name = '",
            $name,
            "' AND shard = ?"
        )))
        .bind($delta as i64)
        .bind($crate::audit::next_shard())
        .execute(&mut *$tx)
        .await
        .map_err($crate::backend)?;
    }};
}

/// Inserts the API key `$key` inside `$tx` and yields it as stored (with its id): the one
/// insert of a key, for the store's own write and for an application's transaction.
macro_rules! insert_api_key {
    ($d:ident, $tx:ident, $key:expr) => {{
        let key: &rbac_core::ApiKey = $key;
        let sql = $d.insert_sql(
            "INSERT INTO rbac_api_keys (owner_id, name, api_key, secret, revoked, daily_limit, \
             request_total, request_today, request_day, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        );
        let query = sqlx::query(&sql)
            .bind(key.owner_id)
            .bind(key.name.as_str())
            .bind(key.key.as_str())
            .bind(key.secret.as_str())
            .bind(key.revoked)
            .bind(key.daily_limit)
            .bind(key.request_total)
            .bind(key.request_today)
            .bind(key.request_day)
            .bind(key.created_at);
        let id = $d.insert_id(query, &mut *$tx).await.map_err(|e| {
            $crate::write_error(e, rbac_core::StoreError::NotFound(rbac_core::Entity::User))
        })?;
        let mut created = key.clone();
        created.id = id;
        created
    }};
}

/// Writes a journal's audit entry and change rows inside the transaction `$tx`.
/// Inserts security events inside `$tx` at time `$at`.
macro_rules! insert_events {
    ($d:ident, $tx:ident, $events:expr, $at:expr) => {{
        for e in $events {
            let e: &rbac_core::events::NewEvent = e;
            sqlx::query(&$d.sql(
                "INSERT INTO rbac_events (event_id, kind, subject, actor, ip, detail, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            ))
            .bind(e.event_id.as_str())
            .bind(e.kind)
            .bind(e.subject.as_str())
            .bind(e.actor.as_str())
            .bind(e.ip.as_str())
            .bind(e.detail.as_str())
            .bind($at)
            .execute(&mut *$tx)
            .await
            .map_err($crate::backend)?;
        }
    }};
}

macro_rules! write_journal {
    ($d:ident, $tx:ident, $journal:expr) => {{
        let journal: &rbac_core::Journal = $journal;
        let at = rbac_core::now();
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
            .map_err($crate::backend)?;
            // The log's maintained total, on one of its shards.
            bump_total!($d, $tx, "audit", 1);
        }
        insert_events!($d, $tx, &journal.events, at);
        for change in &journal.changes {
            let (kind, target) = change.encode();
            let sql = $d
                .insert_sql("INSERT INTO rbac_changes (kind, target, created_at) VALUES (?, ?, ?)");
            let query = sqlx::query(&sql).bind(kind).bind(target).bind(at);
            let id = $d
                .insert_id(query, &mut *$tx)
                .await
                .map_err($crate::backend)?;
            $d.notify(&mut *$tx, id).await.map_err($crate::backend)?;
        }
    }};
}

/// Reads the user whose `$column` is `$key`, with its assignments, in one statement.
macro_rules! one_user {
    ($d:ident, $pool:ident, $column:literal, $key:expr) => {{
        let sql = format!(
            "SELECT {}, a.role_id AS role_id, a.scope_kind AS scope_kind, a.scope_id AS scope_id \
             FROM rbac_users LEFT JOIN rbac_assignments a ON a.user_id = rbac_users.id \
             WHERE rbac_users.{} = ? ORDER BY a.ordinal, a.role_id, a.scope_kind, a.scope_id",
            $crate::row::USER_COLUMNS,
            $column
        );
        let rows = sqlx::query(&$d.sql(&sql))
            .bind($key)
            .fetch_all($pool)
            .await
            .map_err(backend)?;
        match rows.first().map(row::user).transpose()? {
            None => Ok(None),
            Some(mut user) => {
                for r in &rows {
                    if let Some(held) = $crate::assignments::joined_assignment(r)? {
                        user.roles.push(held);
                    }
                }
                Ok(Some(user))
            }
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
            .map_err($crate::backend)?;
        let mut codes = Vec::with_capacity(rows.len());
        for r in &rows {
            codes.push($crate::row::Columns::text(r, "code").map_err($crate::backend)?);
        }
        codes.sort();
        codes
    }};
}

/// Binds the profile columns the insert and the update both write, in this order: name,
/// alias, phone, email, remark, password_hash, enabled, member_of, tenant, creator,
/// attributes, login_time, login_ip.
macro_rules! bind_profile {
    ($query:expr, $user:expr, $attributes:expr) => {
        $query
            .bind($user.name.as_str())
            .bind($user.alias.as_str())
            .bind($user.phone.as_str())
            .bind($user.email.as_deref())
            .bind($user.remark.as_str())
            .bind($user.password_hash.as_str())
            .bind($user.enabled)
            .bind($user.member_of)
            .bind($user.tenant.map(|t| t.to_string()))
            .bind($user.creator.as_str())
            .bind($attributes.as_str())
            .bind($user.login_time)
            .bind($user.login_ip.as_str())
    };
}

/// Binds the identity keys and the contact proofs: name_key, name_skeleton, email_key,
/// email_verified, phone_verified.
macro_rules! bind_identity {
    ($query:expr, $user:expr, $keys:expr) => {
        $query
            .bind($keys.name_key.as_str())
            .bind($keys.name_skeleton.as_str())
            .bind($keys.email_key.as_deref())
            .bind($user.email_verified)
            .bind($user.phone_verified)
    };
}

/// The ids of the roles a role includes, sorted.
macro_rules! role_includes {
    ($d:ident, $exec:expr, $id:expr) => {{
        let rows = sqlx::query(&$d.sql(
            "SELECT included_id FROM rbac_role_includes WHERE role_id = ? ORDER BY included_id",
        ))
        .bind($id)
        .fetch_all($exec)
        .await
        .map_err($crate::backend)?;
        let mut ids = Vec::with_capacity(rows.len());
        for r in &rows {
            ids.push($crate::row::Columns::int(r, "included_id").map_err($crate::backend)?);
        }
        ids
    }};
}

/// Inserts the roles a role includes (deduplicated) inside `$tx`; an unknown role is
/// `NotFound(Role)`.
macro_rules! insert_includes {
    ($d:ident, $tx:ident, $id:expr, $includes:expr) => {{
        let mut ids: Vec<rbac_core::RoleId> = $includes.to_vec();
        ids.sort_unstable();
        ids.dedup();
        for included in &ids {
            sqlx::query(
                &$d.sql("INSERT INTO rbac_role_includes (role_id, included_id) VALUES (?, ?)"),
            )
            .bind($id)
            .bind(*included)
            .execute(&mut *$tx)
            .await
            .map_err(|e| $crate::write_error(e, StoreError::NotFound(rbac_core::Entity::Role)))?;
        }
        ids
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
                .map_err($crate::backend)?;
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
        q.execute(&mut *$tx).await.map_err($crate::backend)?.rows_affected()
    }};
}

mod app;
mod backend;
mod detached;
mod dialect;
mod feed;
mod migrations;
#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod postgres;
mod readiness;
mod row;
#[cfg(feature = "sqlite")]
mod sqlite;
mod tx;

use std::fmt;

use dialect::SqlDialect;
use rbac_core::store::StoreResult;
use rbac_core::{Field, StoreError, Timestamp};
use sqlx::error::ErrorKind;
#[cfg(feature = "mysql")]
use sqlx::mysql::MySqlPool;
#[cfg(feature = "postgres")]
use sqlx::postgres::PgPool;
#[cfg(feature = "sqlite")]
use sqlx::sqlite::SqlitePool;

pub use app::{PoolRef, SqlTx, TxWork};
pub use backend::Backend;
pub use feed::spawn_change_feed;
pub use migrations::{library_versions, AppMigration, APP_VERSIONS};

#[derive(Clone)]
enum Pool {
    #[cfg(feature = "sqlite")]
    Sqlite(SqlitePool),
    #[cfg(feature = "postgres")]
    Postgres(PgPool),
    #[cfg(feature = "mysql")]
    MySql(MySqlPool),
}

/// A storage handle on one SQL database: cheap to clone (clones share the pool).
#[derive(Clone)]
pub struct SqlStore {
    pool: Pool,
    /// This instance's anchors for deep pages of the user list.
    anchors: std::sync::Arc<paging::Anchors>,
    /// The store work running on tasks of its own (see [`detached`]).
    tasks: std::sync::Arc<detached::Tasks>,
    /// The last write probe and the one in flight (see [`SqlStore::readiness`]).
    probe: std::sync::Arc<readiness::Probe>,
    /// The application's own migrations, run in one list with the library's.
    app: &'static [AppMigration],
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
            #[cfg(feature = "sqlite")]
            Some(Backend::Sqlite) => Pool::Sqlite(sqlite::connect(url).await.map_err(backend)?),
            #[cfg(feature = "postgres")]
            Some(Backend::Postgres) => {
                Pool::Postgres(postgres::connect(url).await.map_err(backend)?)
            }
            #[cfg(feature = "mysql")]
            Some(Backend::MySql) => {
                let url = match url.split_once(':') {
                    Some((scheme, rest)) if scheme.eq_ignore_ascii_case("mariadb") => {
                        format!("mysql:{rest}")
                    }
                    _ => url.to_string(),
                };
                Pool::MySql(mysql::connect(&url).await.map_err(backend)?)
            }
            #[allow(unreachable_patterns)]
            Some(other) => {
                return Err(StoreError::backend(format!(
                    "this build of rbac-sqlx has no {other} driver: enable its feature `{}`",
                    other.feature()
                )));
            }
            None => {
                let scheme = url.split(':').next().unwrap_or_default();
                return Err(StoreError::backend(format!(
                    "unsupported database URL scheme `{scheme}` (expected sqlite:, postgres:, mysql: or mariadb:)"
                )));
            }
        };
        Ok(SqlStore::on(pool))
    }

    fn on(pool: Pool) -> SqlStore {
        SqlStore {
            pool,
            anchors: Default::default(),
            tasks: Default::default(),
            probe: Default::default(),
            app: &[],
        }
    }

    /// This store with the application's own migrations, which [`migrate`](Self::migrate)
    /// runs in one ordered list with the library's (see [`AppMigration`]); refuses a list
    /// that cannot be ordered.
    pub fn with_migrations(mut self, app: &'static [AppMigration]) -> Result<SqlStore, StoreError> {
        migrations::check(app, self.backend()).map_err(StoreError::backend)?;
        self.app = app;
        Ok(self)
    }

    /// How many migrations the schema needs: the library's and the application's.
    pub fn expected_migrations(&self) -> usize {
        self.backend().embedded_migrations() + self.app.len()
    }

    /// The versions the schema needs, the library's and the application's (read from the
    /// lists, without building a migrator: readiness asks on every probe).
    pub(crate) fn expected_versions(&self) -> Vec<i64> {
        let mut versions = library_versions(self.backend());
        versions.extend(self.app.iter().map(|m| m.version));
        versions
    }

    /// The migration versions this database has applied (none before its first).
    async fn applied_versions(&self) -> Vec<i64> {
        const SQL: &str = "SELECT version FROM _sqlx_migrations WHERE success = TRUE";
        let applied: Result<Vec<i64>, sqlx::Error> = on_backend!(self, p, d => {
            let _ = d;
            sqlx::query_scalar(SQL).fetch_all(p).await
        });
        applied.unwrap_or_default()
    }

    /// A store on an existing SQLite pool (foreign keys must be on).
    #[cfg(feature = "sqlite")]
    pub fn from_sqlite(pool: SqlitePool) -> SqlStore {
        SqlStore::on(Pool::Sqlite(pool))
    }

    /// A store on an existing PostgreSQL pool.
    #[cfg(feature = "postgres")]
    pub fn from_postgres(pool: PgPool) -> SqlStore {
        SqlStore::on(Pool::Postgres(pool))
    }

    /// A store on an existing MySQL/MariaDB pool.
    #[cfg(feature = "mysql")]
    pub fn from_mysql(pool: MySqlPool) -> SqlStore {
        SqlStore::on(Pool::MySql(pool))
    }

    /// Which database this store talks to.
    pub fn backend(&self) -> Backend {
        match self.pool {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(_) => Backend::Sqlite,
            #[cfg(feature = "postgres")]
            Pool::Postgres(_) => Backend::Postgres,
            #[cfg(feature = "mysql")]
            Pool::MySql(_) => Backend::MySql,
        }
    }

    /// Applies the migrations that are not applied yet: the library's, with the
    /// application's placed among them.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = migrations::combined(self.backend(), self.app)
            .ok_or_else(|| StoreError::backend("this backend's driver is not compiled in"))?;
        if !self.app.is_empty() {
            let applied = self.applied_versions().await;
            migrations::check_applied(&applied, self.app, self.backend())
                .map_err(StoreError::backend)?;
        }
        let done = match &self.pool {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(p) => {
                // sqlx takes no lock on SQLite: two processes starting on one new file can
                // both try the first migration. Each migration is one transaction, so the
                // loser rolls back whole; on retry it finds the winner's work applied. They
                // run with foreign keys off (see `sqlite::migrate`).
                let mut attempt = 0;
                loop {
                    match sqlite::migrate(p, &migrator).await {
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
            #[cfg(feature = "postgres")]
            Pool::Postgres(p) => migrator.run(p).await.map_err(|e| e.to_string()),
            #[cfg(feature = "mysql")]
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
                    return Err(StoreError::backend(
                        "another instance held the migration lock for 60 s",
                    ));
                }
                let done = migrator.run(p).await.map_err(|e| e.to_string());
                let _ = sqlx::query("SELECT RELEASE_LOCK(CONCAT('rbac_migrate:', DATABASE()))")
                    .execute(&mut *holder)
                    .await;
                done
            }
        };
        done.map_err(|e| StoreError::backend(format!("migration failed: {e}")))?;
        self.key_identities().await
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        on_backend!(self, p, d => {
            let _ = d;
            p.close().await
        })
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        on_backend!(self, p, d => {
            let _ = d;
            p.is_closed()
        })
    }

    #[cfg(feature = "postgres")]
    fn pg_pool(&self) -> Option<&PgPool> {
        match &self.pool {
            Pool::Postgres(p) => Some(p),
            #[allow(unreachable_patterns)]
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
    StoreError::backend(e)
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

impl SqlStore {
    /// A maintained total (`users`, `audit`): the sum of its shards.
    pub(crate) async fn total(&self, name: &str) -> StoreResult<u64> {
        on_backend!(self, pool, d => {
            let shards: Vec<i64> = sqlx::query_scalar(&d.sql("SELECT amount FROM rbac_counters WHERE name = ?"))
                .bind(name)
                .fetch_all(pool)
                .await
                .map_err(backend)?;
            Ok(count(shards.iter().sum()))
        })
    }

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

// One module per aggregate, after the macros they use.
mod api_keys;
mod assignments;
mod audit;
mod authorizer;
mod changes;
mod codes;
mod events;
mod factors;
mod identity;
mod import;
mod paging;
mod passkeys;
mod roles;
mod sessions;
mod settings;
mod throttle;
mod user_rows;
mod users;
