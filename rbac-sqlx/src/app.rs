//! An application's own tables beside the library's: the pool for single statements, and
//! one write transaction for rows of both (the library's journal included).

use std::future::Future;
use std::pin::Pin;

use rbac_core::store::StoreResult;
use rbac_core::{ApiKey, Journal};
#[cfg(feature = "mysql")]
use sqlx::mysql::{MySql, MySqlPool};
#[cfg(feature = "postgres")]
use sqlx::postgres::{PgPool, Postgres};
#[cfg(feature = "sqlite")]
use sqlx::sqlite::{Sqlite, SqlitePool};

use crate::dialect::SqlDialect;
use crate::{backend, Pool, SqlStore};

/// The pool under a [`SqlStore`], for an application's own tables (made by its
/// [`AppMigration`](crate::AppMigration)s): one statement runs whole or not at all, so a
/// dropped caller leaves nothing half-written. Several statements that must hold together
/// run in [`SqlStore::transaction`].
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum PoolRef<'a> {
    /// SQLite.
    #[cfg(feature = "sqlite")]
    Sqlite(&'a SqlitePool),
    /// PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(&'a PgPool),
    /// MySQL or MariaDB.
    #[cfg(feature = "mysql")]
    MySql(&'a MySqlPool),
}

/// A write transaction of a [`SqlStore`], open inside [`SqlStore::transaction`]: the
/// application runs its own statements on the backend's transaction, and the library's
/// writes it offers ([`create_api_key`](Self::create_api_key)) join the same one.
#[derive(Debug)]
#[non_exhaustive]
pub enum SqlTx {
    /// SQLite (the database's write lock is held from the start).
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    /// PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(sqlx::Transaction<'static, Postgres>),
    /// MySQL or MariaDB.
    #[cfg(feature = "mysql")]
    MySql(sqlx::Transaction<'static, MySql>),
}

/// What [`SqlStore::transaction`] runs: the application's work on the open transaction.
pub type TxWork<'t, T> = Pin<Box<dyn Future<Output = StoreResult<T>> + Send + 't>>;

/// Runs `$body` with `$d` (the dialect) and `$tx` (the backend's transaction) bound, on
/// whichever backend `$sql_tx` holds.
macro_rules! on_tx {
    ($sql_tx:expr, $tx:ident, $d:ident => $body:block) => {
        match $sql_tx {
            #[cfg(feature = "sqlite")]
            SqlTx::Sqlite($tx) => {
                let $d = crate::sqlite::Dialect;
                $body
            }
            #[cfg(feature = "postgres")]
            SqlTx::Postgres($tx) => {
                let $d = crate::postgres::Dialect;
                $body
            }
            #[cfg(feature = "mysql")]
            SqlTx::MySql($tx) => {
                let $d = crate::mysql::Dialect;
                $body
            }
        }
    };
}

impl SqlTx {
    /// Inserts an API key, as [`ApiKeyStore::create_api_key`](rbac_core::store::ApiKeyStore)
    /// does (its journal is the transaction's), and returns it with its id: `Conflict` on
    /// a taken key, `NotFound(User)` if the owner is gone.
    pub async fn create_api_key(&mut self, key: &ApiKey) -> StoreResult<ApiKey> {
        on_tx!(self, tx, d => {
            Ok(insert_api_key!(d, tx, key))
        })
    }

    async fn finish(self, journal: &Journal) -> StoreResult<()> {
        on_tx!(self, tx, d => {
            let mut tx = tx;
            write_journal!(d, tx, journal);
            tx.commit().await.map_err(backend)
        })
    }
}

impl SqlStore {
    /// The pool, for an application's own tables.
    pub fn pool(&self) -> PoolRef<'_> {
        match &self.pool {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(p) => PoolRef::Sqlite(p),
            #[cfg(feature = "postgres")]
            Pool::Postgres(p) => PoolRef::Postgres(p),
            #[cfg(feature = "mysql")]
            Pool::MySql(p) => PoolRef::MySql(p),
        }
    }

    /// Runs `work` in one write transaction, then writes `journal` (its audit entry,
    /// security events and changes) and commits: everything or nothing. Like every write
    /// of the store it runs on a task of its own, so a caller dropped at any await (a
    /// client gone, a timeout) leaves it to commit or roll back whole. An error from
    /// `work` rolls back. The changes reach this process's authorizer only through the
    /// change feed; `Rbac::applying` applies them at once (as `Keys::create_with` does).
    ///
    /// ```no_run
    /// # async fn run(sql: rbac_sqlx::SqlStore, key: rbac_core::ApiKey) -> rbac_core::store::StoreResult<()> {
    /// use rbac_sqlx::SqlTx;
    /// let journal = rbac_core::Journal::default();
    /// let key = sql
    ///     .transaction(journal, move |tx| {
    ///         Box::pin(async move {
    ///             let key = tx.create_api_key(&key).await?;
    ///             let insert = "INSERT INTO app_key_notes (key_id, note) VALUES (?, 'ci')";
    ///             match tx {
    ///                 SqlTx::Sqlite(tx) => {
    ///                     let done = sqlx::query(insert).bind(key.id).execute(&mut **tx).await;
    ///                     done.map_err(rbac_core::StoreError::backend)?;
    ///                 }
    ///                 _ => unimplemented!("one arm per backend the application runs on"),
    ///             }
    ///             Ok(key)
    ///         })
    ///     })
    ///     .await?;
    /// # let _ = key; Ok(()) }
    /// ```
    pub async fn transaction<T, F>(&self, journal: Journal, work: F) -> StoreResult<T>
    where
        F: for<'t> FnOnce(&'t mut SqlTx) -> TxWork<'t, T> + Send + 'static,
        T: Send + 'static,
    {
        self.detached(move |direct| async move {
            let store = direct.0;
            let mut tx = match &store.pool {
                #[cfg(feature = "sqlite")]
                Pool::Sqlite(pool) => {
                    SqlTx::Sqlite(crate::tx::begin(crate::sqlite::Dialect, pool).await?)
                }
                #[cfg(feature = "postgres")]
                Pool::Postgres(pool) => {
                    SqlTx::Postgres(crate::tx::begin(crate::postgres::Dialect, pool).await?)
                }
                #[cfg(feature = "mysql")]
                Pool::MySql(pool) => {
                    SqlTx::MySql(crate::tx::begin(crate::mysql::Dialect, pool).await?)
                }
            };
            let out = work(&mut tx).await?;
            tx.finish(&journal).await?;
            Ok(out)
        })
        .await
    }
}
