//! What differs between the SQL backends, as one trait each backend implements. The SQL of
//! every aggregate is written once, with `?` placeholders; a dialect rewrites it where its
//! driver wants otherwise, and supplies the few statements whose syntax differs (the
//! defaults are the `ON CONFLICT` forms SQLite and PostgreSQL share).

use std::borrow::Cow;

use sqlx::query::Query;
use sqlx::{Database, Pool, Transaction};

/// One backend's SQL dialect (a zero-sized value the store's code runs with).
pub(crate) trait SqlDialect: Copy + Send + Sync + 'static {
    /// The driver's database type.
    type Db: Database;

    /// The statement in the driver's placeholder syntax.
    fn sql(self, q: &str) -> Cow<'_, str>;

    /// A statement built for one call (a variable-length list): rewritten without being kept.
    fn sql_once(self, q: &str) -> Cow<'_, str> {
        self.sql(q)
    }

    /// An insert statement that yields the new row's id through [`insert_id`](Self::insert_id).
    fn insert_sql(self, q: &str) -> String;

    /// Starts a write transaction.
    async fn begin(
        self,
        pool: &Pool<Self::Db>,
    ) -> Result<Transaction<'static, Self::Db>, sqlx::Error>;

    /// Runs an [`insert_sql`](Self::insert_sql) statement and returns the new id.
    async fn insert_id<'q>(
        self,
        q: Query<'q, Self::Db, <Self::Db as Database>::Arguments<'q>>,
        conn: &mut <Self::Db as Database>::Connection,
    ) -> Result<i64, sqlx::Error>;

    /// Publishes a committed change id to other instances, where the backend can.
    async fn notify(
        self,
        conn: &mut <Self::Db as Database>::Connection,
        id: i64,
    ) -> Result<(), sqlx::Error>;

    /// A literal, case-sensitive substring test of `name` against one parameter, bound as
    /// [`name_pattern`](Self::name_pattern) makes it.
    fn name_contains(self) -> &'static str;

    /// The ordering key of a page filtered by name: `id`, or an expression of it that the
    /// planner cannot read from the primary key, so it finds the matches by their own index.
    fn filtered_order_key(self) -> &'static str {
        "id"
    }

    /// What [`name_contains`](Self::name_contains) binds for a substring.
    fn name_pattern(self, needle: &str) -> std::borrow::Cow<'_, str> {
        std::borrow::Cow::Borrowed(needle)
    }

    /// The row-lock suffix of a `SELECT` in a transaction.
    fn for_update(self) -> &'static str;

    /// Inserts a setting unless its key exists.
    fn insert_setting(self) -> &'static str {
        "INSERT INTO rbac_settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING"
    }

    /// Counts one failed login: binds subject, at, the window cut-off twice.
    fn upsert_login_failure(self) -> &'static str {
        "INSERT INTO rbac_login_failures (subject, failures, window_start, blocked_until) \
         VALUES (?, 1, ?, 0) ON CONFLICT (subject) DO UPDATE SET \
         failures = CASE WHEN rbac_login_failures.window_start <= ? THEN 1 \
                    ELSE rbac_login_failures.failures + 1 END, \
         window_start = CASE WHEN rbac_login_failures.window_start <= ? \
                        THEN excluded.window_start ELSE rbac_login_failures.window_start END"
    }

    /// Stores a code unless the pending one is too recent: binds key, digest, context,
    /// sent_at, expires_at, then the resend cut-off
    /// [`code_cutoff_binds`](Self::code_cutoff_binds) times.
    fn upsert_code(self) -> &'static str {
        "INSERT INTO rbac_codes (code_key, digest, context, sent_at, expires_at, attempts) \
         VALUES (?, ?, ?, ?, ?, 0) ON CONFLICT (code_key) DO UPDATE SET \
         digest = excluded.digest, context = excluded.context, sent_at = excluded.sent_at, \
         expires_at = excluded.expires_at, attempts = 0 \
         WHERE rbac_codes.sent_at <= ?"
    }

    /// How many times [`upsert_code`](Self::upsert_code) binds the resend cut-off.
    fn code_cutoff_binds(self) -> usize {
        1
    }

    /// Inserts one delivery row unless it exists: binds event id, target, created_at.
    fn insert_delivery(self) -> &'static str {
        "INSERT INTO rbac_deliveries (event_id, target, attempts, next_at, lease_owner, \
         lease_until, delivered_at, last_error) VALUES (?, ?, 0, ?, '', 0, NULL, '') \
         ON CONFLICT (event_id, target) DO NOTHING"
    }
}
