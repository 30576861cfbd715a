//! MySQL / MariaDB: connection options, migrations and the dialect.

use std::borrow::Cow;

use sqlx::mysql::{MySql, MySqlArguments, MySqlConnection, MySqlPool, MySqlPoolOptions};
use sqlx::query::Query;
use sqlx::{Executor, Transaction};

/// Opens a pool whose sessions refuse to truncate data silently.
pub(crate) async fn connect(url: &str) -> Result<MySqlPool, sqlx::Error> {
    MySqlPoolOptions::new()
        .max_connections(10)
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                conn.execute("SET SESSION sql_mode = CONCAT(@@sql_mode, ',STRICT_ALL_TABLES')")
                    .await
                    .map(|_| ())
            })
        })
        .connect(url)
        .await
}

/// What differs on MySQL.
#[derive(Clone, Copy)]
pub(crate) struct Dialect;

impl Dialect {
    /// The statement as written (`?` placeholders).
    pub(crate) fn sql(self, q: &str) -> Cow<'_, str> {
        Cow::Borrowed(q)
    }

    /// An insert statement (the id comes from `last_insert_id`).
    pub(crate) fn insert_sql(self, q: &str) -> String {
        q.to_string()
    }

    /// Starts a transaction.
    pub(crate) async fn begin(
        self,
        pool: &MySqlPool,
    ) -> Result<Transaction<'static, MySql>, sqlx::Error> {
        pool.begin().await
    }

    /// Runs an [`insert_sql`](Self::insert_sql) statement and returns the new id.
    pub(crate) async fn insert_id(
        self,
        q: Query<'_, MySql, MySqlArguments>,
        conn: &mut MySqlConnection,
    ) -> Result<i64, sqlx::Error> {
        let id = q.execute(conn).await?.last_insert_id();
        i64::try_from(id).map_err(|e| sqlx::Error::Decode(Box::new(e)))
    }

    /// Publishes a change id (nothing to do: MySQL instances poll).
    pub(crate) async fn notify(
        self,
        _conn: &mut MySqlConnection,
        _id: i64,
    ) -> Result<(), sqlx::Error> {
        Ok(())
    }

    /// A literal, case-sensitive substring test of `name` (VARBINARY) against one parameter.
    pub(crate) fn name_contains(self) -> &'static str {
        "LOCATE(?, name) > 0"
    }

    /// Inserts a setting unless its key exists.
    pub(crate) fn insert_setting(self) -> &'static str {
        "INSERT INTO rbac_settings (name, value) VALUES (?, ?) ON DUPLICATE KEY UPDATE name = name"
    }

    /// Counts one failed login: binds subject, at, the window cut-off twice.
    /// MySQL assigns left to right, so `failures` is computed before `window_start` moves.
    pub(crate) fn upsert_login_failure(self) -> &'static str {
        "INSERT INTO rbac_login_failures (subject, failures, window_start, blocked_until) \
         VALUES (?, 1, ?, 0) ON DUPLICATE KEY UPDATE \
         failures = IF(window_start <= ?, 1, failures + 1), \
         window_start = IF(window_start <= ?, VALUES(window_start), window_start)"
    }

    /// Stores a code unless the pending one is too recent: binds key, digest, context,
    /// sent_at, expires_at, then the resend cut-off [`Dialect::code_cutoff_binds`] times.
    /// MySQL assigns left to right, so `sent_at` moves last.
    pub(crate) fn upsert_code(self) -> &'static str {
        "INSERT INTO rbac_codes (code_key, digest, context, sent_at, expires_at, attempts) \
         VALUES (?, ?, ?, ?, ?, 0) ON DUPLICATE KEY UPDATE \
         digest = IF(sent_at <= ?, VALUES(digest), digest), \
         context = IF(sent_at <= ?, VALUES(context), context), \
         expires_at = IF(sent_at <= ?, VALUES(expires_at), expires_at), \
         attempts = IF(sent_at <= ?, 0, attempts), \
         sent_at = IF(sent_at <= ?, VALUES(sent_at), sent_at)"
    }

    /// How many times [`Dialect::upsert_code`] binds the resend cut-off.
    pub(crate) fn code_cutoff_binds(self) -> usize {
        5
    }

    /// Inserts or renames an organisation: binds id, name.
    pub(crate) fn upsert_organisation(self) -> &'static str {
        "INSERT INTO rbac_organisations (id, name) VALUES (?, ?) \
         ON DUPLICATE KEY UPDATE name = VALUES(name)"
    }

    /// The row-lock suffix of a `SELECT` in a transaction.
    pub(crate) fn for_update(self) -> &'static str {
        " FOR UPDATE"
    }
}
