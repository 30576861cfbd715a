//! SQLite: connection options, migrations and the dialect.

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use sqlx::query::Query;
use sqlx::sqlite::{
    Sqlite, SqliteArguments, SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool,
    SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Row, Transaction};

/// Opens a pool: WAL, foreign keys on, a 5 s busy timeout; one shared connection in memory.
pub(crate) async fn connect(url: &str) -> Result<SqlitePool, sqlx::Error> {
    let memory = url.contains(":memory:") || url.contains("mode=memory");
    let mut options = SqliteConnectOptions::from_str(url)?
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    if !url.contains("mode=") {
        options = options.create_if_missing(true);
    }
    if memory {
        // An in-memory database lives as long as its connection: keep exactly one, forever.
        SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await
    } else {
        options = options
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal);
        // Switching a new file to WAL takes an exclusive lock that SQLite refuses at once
        // (no busy wait) while another process holds the file: retry, briefly.
        let mut attempt = 0;
        loop {
            match SqlitePoolOptions::new()
                .max_connections(4)
                .connect_with(options.clone())
                .await
            {
                Err(e) if attempt < 10 && is_busy(&e) => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
                }
                other => return other,
            }
        }
    }
}

/// SQLITE_BUSY or SQLITE_LOCKED.
fn is_busy(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => matches!(d.code().as_deref(), Some("5" | "6")),
        _ => false,
    }
}

/// What differs on SQLite.
#[derive(Clone, Copy)]
pub(crate) struct Dialect;

impl Dialect {
    /// The statement as written (`?` placeholders).
    pub(crate) fn sql(self, q: &str) -> Cow<'_, str> {
        Cow::Borrowed(q)
    }

    /// An insert statement that yields the new row's id.
    pub(crate) fn insert_sql(self, q: &str) -> String {
        format!("{q} RETURNING id")
    }

    /// Starts a write transaction, taking the write lock at once (no upgrade deadlocks).
    pub(crate) async fn begin(
        self,
        pool: &SqlitePool,
    ) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        pool.begin_with("BEGIN IMMEDIATE").await
    }

    /// Runs an [`insert_sql`](Self::insert_sql) statement and returns the new id.
    pub(crate) async fn insert_id<'q>(
        self,
        q: Query<'q, Sqlite, SqliteArguments<'q>>,
        conn: &mut SqliteConnection,
    ) -> Result<i64, sqlx::Error> {
        q.fetch_one(conn).await?.try_get(0)
    }

    /// Publishes a change id (nothing to do: SQLite instances poll).
    pub(crate) async fn notify(
        self,
        _conn: &mut SqliteConnection,
        _id: i64,
    ) -> Result<(), sqlx::Error> {
        Ok(())
    }

    /// A literal, case-sensitive substring test of `name` against one parameter.
    pub(crate) fn name_contains(self) -> &'static str {
        "instr(name, ?) > 0"
    }

    /// Inserts a setting unless its key exists.
    pub(crate) fn insert_setting(self) -> &'static str {
        "INSERT INTO rbac_settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING"
    }

    /// Counts one failed login: binds subject, at, the window cut-off twice.
    pub(crate) fn upsert_login_failure(self) -> &'static str {
        "INSERT INTO rbac_login_failures (subject, failures, window_start, blocked_until) \
         VALUES (?, 1, ?, 0) ON CONFLICT (subject) DO UPDATE SET \
         failures = CASE WHEN rbac_login_failures.window_start <= ? THEN 1 \
                    ELSE rbac_login_failures.failures + 1 END, \
         window_start = CASE WHEN rbac_login_failures.window_start <= ? \
                        THEN excluded.window_start ELSE rbac_login_failures.window_start END"
    }

    /// Stores a code unless the pending one is too recent (see [`crate::upsert::CODE`]).
    pub(crate) fn upsert_code(self) -> &'static str {
        crate::upsert::CODE
    }

    /// How many times [`Dialect::upsert_code`] binds the resend cut-off.
    pub(crate) fn code_cutoff_binds(self) -> usize {
        1
    }

    /// Inserts or renames an organisation (see [`crate::upsert::ORGANISATION`]).
    pub(crate) fn upsert_organisation(self) -> &'static str {
        crate::upsert::ORGANISATION
    }

    /// The row-lock suffix of a `SELECT` in a transaction (none: `BEGIN IMMEDIATE` locks).
    pub(crate) fn for_update(self) -> &'static str {
        ""
    }
}
