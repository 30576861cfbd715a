//! The storage conformance suite, migrations, the change feed and the identity-key
//! upgrade on every backend, from one macro: a module per backend (`sqlite`, `postgres`,
//! `mysql`), one test per conformance check, each on a fresh database, so one check runs
//! by name on any backend (`cargo test -p rbac-sqlx --test backends -- postgres::user_delete`).
//!
//! SQLite runs on temporary files. PostgreSQL and MySQL/MariaDB run when
//! `RBAC_TEST_POSTGRES_URL` / `RBAC_TEST_MYSQL_URL` name a server (e.g.
//! `postgres://postgres@127.0.0.1:5432/test`, `mysql://root@127.0.0.1:3306/test`): each
//! test creates its own database through that URL and drops it afterwards, and an
//! unreachable server fails the test; unset, their tests say so and do nothing.

mod common;

use std::future::Future;
#[cfg(feature = "sqlite")]
use std::path::PathBuf;
use std::time::Duration;

use rbac_sqlx::{Backend, SqlStore};

/// A database file under the temp dir, removed (with its WAL files) when dropped.
#[cfg(feature = "sqlite")]
struct TempFile(PathBuf);

#[cfg(feature = "sqlite")]
impl TempFile {
    fn new() -> Self {
        TempFile(std::env::temp_dir().join(format!("{}.db", common::unique("rbac_sqlx_test_"))))
    }

    fn url(&self) -> String {
        format!("sqlite://{}?mode=rwc", self.0.display())
    }
}

#[cfg(feature = "sqlite")]
impl Drop for TempFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = self.0.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Runs `body` on a fresh SQLite file.
#[cfg(feature = "sqlite")]
async fn sqlite_database<F, Fut>(_what: &str, body: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let file = TempFile::new();
    body(file.url()).await;
}

/// Runs `body` on a fresh PostgreSQL database (nothing when no server is named).
#[cfg(feature = "postgres")]
async fn postgres_database<F, Fut>(what: &str, body: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    if let Some(admin) = common::server_url("RBAC_TEST_POSTGRES_URL", what) {
        common::with_temp_db(&admin, Backend::Postgres, body).await;
    }
}

/// Runs `body` on a fresh MySQL/MariaDB database (nothing when no server is named).
#[cfg(feature = "mysql")]
async fn mysql_database<F, Fut>(what: &str, body: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    if let Some(admin) = common::server_url("RBAC_TEST_MYSQL_URL", what) {
        common::with_temp_db(&admin, Backend::MySql, body).await;
    }
}

/// One test per conformance check, on a fresh database from the module's `on_database`.
macro_rules! conformance_tests {
    ($($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                on_database(stringify!($check), |url| async move {
                    let store = SqlStore::connect(&url).await.expect("connect");
                    store.migrate().await.expect("migrate");
                    rbac_core::conformance::run_some(&store, &[stringify!($check)])
                        .await
                        .assert_passed();
                    store.close().await;
                })
                .await;
            }
        )*
    };
}

/// The suite of one backend: every conformance check, migrations twice, the change feed
/// (polled every `poll` where the backend has no notifications, delivered within
/// `within`), the identity-key upgrade and the upgrade to assignments.
macro_rules! backend_suite {
    ($backend:ident, $feature:literal, $database:ident, $kind:expr, poll $poll:expr, within $within:expr) => {
        #[cfg(feature = $feature)]
        mod $backend {
            use super::$database as on_database;
            use super::*;

            rbac_core::for_each_conformance_check!(conformance_tests);

            /// Every port method abandoned after each of its polls leaves the store whole
            /// and serving.
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn cancellation_sweep() {
                on_database("cancellation sweep", |url| async move {
                    let store = SqlStore::connect(&url).await.expect("connect");
                    store.migrate().await.expect("migrate");
                    let report = rbac_core::conformance::cancellation_sweep(&store).await;
                    report.assert_passed();
                    assert_eq!(
                        report.passed.len(),
                        rbac_core::conformance::PORT_METHODS.len()
                    );
                    store.close().await;
                })
                .await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn migrations_twice_are_a_noop() {
                on_database("migration", |url| async move {
                    common::migrate_twice(&url).await;
                    assert_eq!(
                        common::applied_migrations(&url).await,
                        $kind.embedded_migrations() as i64,
                        "every embedded migration applied once"
                    );
                })
                .await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn application_migrations_run_in_one_list() {
                on_database("application migration", |url| async move {
                    common::application_migrations(&url).await;
                })
                .await;
            }

            /// A migrated database's tables, columns, indexes and constraints name none
            /// of the bundled server's documents.
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn schema_names_no_document() {
                on_database("schema names", |url| async move {
                    common::schema::schema_names_no_document(&url).await;
                })
                .await;
            }

            /// An application's rows and the library's in one transaction: whole or not
            /// at all, and finished when the caller is dropped.
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn application_transaction_is_whole() {
                on_database("application transaction", |url| async move {
                    common::transaction::transaction_is_whole(&url).await;
                })
                .await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn change_feed_reaches_another_handle() {
                on_database("change feed", |url| async move {
                    common::feed_roundtrip(&url, $poll, $within).await;
                })
                .await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn identity_keys_on_upgrade() {
                on_database("identity-key upgrade", |url| async move {
                    common::identity_keys_on_upgrade(&url).await;
                })
                .await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn assignments_on_upgrade() {
                on_database("assignment upgrade", |url| async move {
                    common::assignments_on_upgrade(&url).await;
                })
                .await;
            }
        }
    };
}

backend_suite!(sqlite, "sqlite", sqlite_database, Backend::Sqlite,
    poll Duration::from_millis(50), within Duration::from_secs(2));
// A poll far longer than the deadline: only NOTIFY can deliver in time.
backend_suite!(postgres, "postgres", postgres_database, Backend::Postgres,
    poll Duration::from_secs(120), within Duration::from_secs(1));
backend_suite!(mysql, "mysql", mysql_database, Backend::MySql,
    poll Duration::from_millis(50), within Duration::from_secs(2));

/// What only SQLite has: an in-memory database, and a file created on connect.
#[cfg(feature = "sqlite")]
mod sqlite_only {
    use super::*;

    #[tokio::test]
    async fn memory_conformance() {
        common::run_conformance("sqlite::memory:").await;
    }

    /// The in-memory database has one connection: an abandoned call must not lose it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn memory_cancellation_sweep() {
        let store = SqlStore::connect("sqlite::memory:").await.expect("connect");
        store.migrate().await.expect("migrate");
        rbac_core::conformance::cancellation_sweep(&store)
            .await
            .assert_passed();
    }

    #[tokio::test]
    async fn file_is_created_without_mode() {
        let file = TempFile::new();
        let store = SqlStore::connect(&format!("sqlite://{}", file.0.display()))
            .await
            .expect("connect creates the file");
        store.migrate().await.expect("migrate");
        assert_eq!(store.backend(), Backend::Sqlite);
        store.close().await;
        assert!(file.0.exists());
    }

    #[tokio::test]
    async fn unknown_schemes_are_refused() {
        let err = SqlStore::connect("oracle://x")
            .await
            .expect_err("oracle is not supported");
        assert!(err.to_string().contains("oracle"), "{err}");
        assert_eq!(Backend::from_url("postgresql://x"), Some(Backend::Postgres));
        assert_eq!(Backend::from_url("mariadb://x"), Some(Backend::MySql));
        assert_eq!(Backend::from_url("sqlite::memory:"), Some(Backend::Sqlite));
    }
}

/// What only PostgreSQL has: a trigram index for name filters.
#[cfg(feature = "postgres")]
mod postgres_only {
    use super::*;
    use rbac_core::store::UserStore;
    use rbac_core::{Journal, Page, User, UserQuery};
    use sqlx::Row;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn name_filters_read_the_trigram_index() {
        postgres_database("name trigrams", |url| async move {
            let store = SqlStore::connect(&url).await.expect("connect");
            store.migrate().await.expect("migrate");
            let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";
            let users: Vec<User> = (0..3_000)
                .map(|i| User::blank(format!("trigram-{i:05}-x"), hash))
                .collect();
            for batch in users.chunks(500) {
                store
                    .import_users(batch, &Journal::default())
                    .await
                    .expect("import");
            }
            let pool = sqlx::PgPool::connect(&url).await.expect("connect");
            sqlx::query("ANALYZE rbac_users")
                .execute(&pool)
                .await
                .expect("analyze");
            let indexes: Vec<String> = sqlx::query_scalar(
                "SELECT indexname::text FROM pg_indexes WHERE tablename = 'rbac_users'",
            )
            .fetch_all(&pool)
            .await
            .expect("indexes");
            assert!(
                indexes.iter().any(|i| i == "rbac_users_name_trgm"),
                "no trigram index: {indexes:?}"
            );
            // 3,000 rows are few enough to scan anyway: ask whether the index can serve it.
            let mut conn = pool.acquire().await.expect("connection");
            sqlx::query("SET enable_seqscan = off")
                .execute(&mut *conn)
                .await
                .expect("set");
            let plan: Vec<String> = sqlx::query(
                "EXPLAIN SELECT id FROM rbac_users WHERE name LIKE '%01234%' ESCAPE '\\'",
            )
            .fetch_all(&mut *conn)
            .await
            .expect("explain")
            .iter()
            .map(|r| r.get::<String, _>(0))
            .collect();
            drop(conn);
            pool.close().await;
            assert!(
                plan.iter().any(|l| l.contains("rbac_users_name_trgm")),
                "the filter scans: {plan:?}"
            );
            // And what it finds is the literal substring (the control of the escape).
            let q = |needle: &str| UserQuery {
                name_contains: Some(needle.to_string()),
                page: Page::ALL,
                ..UserQuery::default()
            };
            let found = store.list_users(&q("01234-x")).await.expect("list");
            assert_eq!(found.total, 1);
            assert_eq!(found.rows[0].name, "trigram-01234-x");
            let found = store.list_users(&q("2_9")).await.expect("list");
            assert_eq!(found.total, 0, "'_' matched as a wildcard");
            let found = store.list_users(&q("-x%")).await.expect("list");
            assert_eq!(found.total, 0, "'%' matched as a wildcard");
            store.close().await;
        })
        .await;
    }
}
