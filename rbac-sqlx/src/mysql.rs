//! MySQL / MariaDB: connection options, migrations and the dialect.

use std::borrow::Cow;

use sqlx::mysql::{MySql, MySqlArguments, MySqlConnection, MySqlPool, MySqlPoolOptions};
use sqlx::query::Query;
use sqlx::{Executor, Transaction};

use crate::dialect::SqlDialect;

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

impl SqlDialect for Dialect {
    type Db = MySql;

    /// The statement as written (`?` placeholders).
    fn sql(self, q: &str) -> Cow<'_, str> {
        Cow::Borrowed(q)
    }

    /// As written: the id comes from `last_insert_id`.
    fn insert_sql(self, q: &str) -> String {
        q.to_string()
    }

    async fn begin(self, pool: &MySqlPool) -> Result<Transaction<'static, MySql>, sqlx::Error> {
        pool.begin().await
    }

    async fn insert_id<'q>(
        self,
        q: Query<'q, MySql, MySqlArguments>,
        conn: &mut MySqlConnection,
    ) -> Result<i64, sqlx::Error> {
        let id = q.execute(conn).await?.last_insert_id();
        i64::try_from(id).map_err(|e| sqlx::Error::Decode(Box::new(e)))
    }

    /// Nothing to do: MySQL instances poll.
    async fn notify(self, _conn: &mut MySqlConnection, _id: i64) -> Result<(), sqlx::Error> {
        Ok(())
    }

    /// Against `name` (VARBINARY): byte-exact.
    fn name_contains(self) -> &'static str {
        "LOCATE(?, name) > 0"
    }

    fn for_update(self) -> &'static str {
        " FOR UPDATE"
    }

    fn insert_setting(self) -> &'static str {
        "INSERT INTO rbac_settings (name, value) VALUES (?, ?) ON DUPLICATE KEY UPDATE name = name"
    }

    /// MySQL assigns left to right, so `failures` is computed before `window_start` moves.
    fn upsert_login_failure(self) -> &'static str {
        "INSERT INTO rbac_login_failures (subject, failures, window_start, blocked_until) \
         VALUES (?, 1, ?, 0) ON DUPLICATE KEY UPDATE \
         failures = IF(window_start <= ?, 1, failures + 1), \
         window_start = IF(window_start <= ?, VALUES(window_start), window_start)"
    }

    /// Binds key, digest, context, sent_at, expires_at, then the resend cut-off
    /// [`code_cutoff_binds`](SqlDialect::code_cutoff_binds) times. MySQL assigns left to
    /// right, so `sent_at` moves last.
    fn upsert_code(self) -> &'static str {
        "INSERT INTO rbac_codes (code_key, digest, context, sent_at, expires_at, attempts) \
         VALUES (?, ?, ?, ?, ?, 0) ON DUPLICATE KEY UPDATE \
         digest = IF(sent_at <= ?, VALUES(digest), digest), \
         context = IF(sent_at <= ?, VALUES(context), context), \
         expires_at = IF(sent_at <= ?, VALUES(expires_at), expires_at), \
         attempts = IF(sent_at <= ?, 0, attempts), \
         sent_at = IF(sent_at <= ?, VALUES(sent_at), sent_at)"
    }

    fn code_cutoff_binds(self) -> usize {
        5
    }

    fn insert_delivery(self) -> &'static str {
        "INSERT IGNORE INTO rbac_deliveries (event_id, target, attempts, next_at, lease_owner, \
         lease_until, delivered_at, last_error) VALUES (?, ?, 0, ?, '', 0, NULL, '')"
    }
}
