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

use crate::dialect::SqlDialect;

/// Runs `migrator` on one connection of `pool` with foreign-key enforcement off: SQLite
/// rebuilds a table that others refer to (to drop a column that is itself a foreign key)
/// only so, and sqlx runs each migration in a transaction, where the pragma cannot change.
/// After the run every reference must still hold (`PRAGMA foreign_key_check`), and the
/// connection gets enforcement back whatever happened.
pub(crate) async fn migrate(
    pool: &SqlitePool,
    migrator: &sqlx::migrate::Migrator,
) -> Result<(), String> {
    let text = |e: sqlx::Error| e.to_string();
    // A pool of one connection (an in-memory database: another connection would open
    // another database) migrates on that connection; a file, on one of its own.
    let own = if pool.options().get_max_connections() == 1 {
        None
    } else {
        let options = (*pool.connect_options()).clone().foreign_keys(false);
        let one = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .map_err(text)?;
        Some(one)
    };
    let on = own.as_ref().unwrap_or(pool);
    sqlx::query("PRAGMA foreign_keys = OFF")
        .execute(on)
        .await
        .map_err(text)?;
    let ran = migrator.run(on).await.map_err(|e| e.to_string());
    let broken = match &ran {
        Ok(()) => sqlx::query("PRAGMA foreign_key_check")
            .fetch_all(on)
            .await
            .map_err(text)
            .map(|rows| rows.len()),
        Err(_) => Ok(0),
    };
    let restored = sqlx::query("PRAGMA foreign_keys = ON")
        .execute(on)
        .await
        .map_err(text);
    if let Some(own) = own {
        own.close().await;
    }
    ran?;
    restored?;
    match broken? {
        0 => Ok(()),
        n => Err(format!(
            "{n} rows refer to rows that are gone after migrating"
        )),
    }
}

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
            // No ping before each checkout: a file connection is in this process and
            // cannot go stale the way a network one can, and each ping is a round trip to
            // the connection's thread on every read.
            match SqlitePoolOptions::new()
                .max_connections(4)
                .test_before_acquire(false)
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

impl SqlDialect for Dialect {
    type Db = Sqlite;

    /// The statement as written (`?` placeholders).
    fn sql(self, q: &str) -> Cow<'_, str> {
        Cow::Borrowed(q)
    }

    fn insert_sql(self, q: &str) -> String {
        format!("{q} RETURNING id")
    }

    /// Takes the write lock at once (no upgrade deadlocks).
    async fn begin(self, pool: &SqlitePool) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        pool.begin_with("BEGIN IMMEDIATE").await
    }

    async fn insert_id<'q>(
        self,
        q: Query<'q, Sqlite, SqliteArguments<'q>>,
        conn: &mut SqliteConnection,
    ) -> Result<i64, sqlx::Error> {
        q.fetch_one(conn).await?.try_get(0)
    }

    /// Nothing to do: SQLite instances poll.
    async fn notify(self, _conn: &mut SqliteConnection, _id: i64) -> Result<(), sqlx::Error> {
        Ok(())
    }

    fn name_contains(self) -> &'static str {
        "instr(name, ?) > 0"
    }

    /// None: `BEGIN IMMEDIATE` locks.
    fn for_update(self) -> &'static str {
        ""
    }
}
