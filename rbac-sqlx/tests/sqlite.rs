//! The storage conformance suite and the change feed on SQLite.
#![cfg(feature = "sqlite")]

mod common;

use std::path::PathBuf;
use std::time::Duration;

use rbac_sqlx::{Backend, SqlStore};

/// A database file under the temp dir, removed (with its WAL files) when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new() -> Self {
        TempFile(std::env::temp_dir().join(format!("{}.db", common::unique("rbac_sqlx_test_"))))
    }

    fn url(&self) -> String {
        format!("sqlite://{}?mode=rwc", self.0.display())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = self.0.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_file_conformance() {
    let file = TempFile::new();
    common::run_conformance(&file.url()).await;
    assert!(file.0.exists());
}

#[tokio::test]
async fn sqlite_memory_conformance() {
    common::run_conformance("sqlite::memory:").await;
}

#[tokio::test]
async fn sqlite_migrations_twice_are_a_noop() {
    let file = TempFile::new();
    common::migrate_twice(&file.url()).await;
    let pool = sqlx::SqlitePool::connect(&file.url())
        .await
        .expect("connect");
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
        .fetch_one(&pool)
        .await
        .expect("count migrations");
    assert_eq!(
        applied,
        rbac_sqlx::Backend::Sqlite.embedded_migrations() as i64,
        "every embedded migration applied once"
    );
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_change_feed_reaches_another_handle() {
    let file = TempFile::new();
    common::feed_roundtrip(
        &file.url(),
        Duration::from_millis(50),
        Duration::from_secs(2),
    )
    .await;
}

#[tokio::test]
async fn sqlite_file_is_created_without_mode() {
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

#[tokio::test]
async fn sqlite_identity_keys_on_upgrade() {
    let file = TempFile::new();
    common::identity_keys_on_upgrade(&file.url()).await;
}

/// One `#[tokio::test]` per conformance check, each on a database file of its own, so
/// that one check runs by name (`cargo test -p rbac-sqlx --test sqlite -- user_delete`).
macro_rules! one_test_per_check {
    ($($check:ident),* $(,)?) => {
        mod each_check {
            use super::*;
            $(
                #[tokio::test]
                async fn $check() {
                    let file = TempFile::new();
                    let store = SqlStore::connect(&file.url()).await.expect("connect");
                    store.migrate().await.expect("migrate");
                    rbac_core::conformance::run_some(&store, &[stringify!($check)])
                        .await
                        .assert_passed();
                    store.close().await;
                }
            )*
        }
    };
}

rbac_core::for_each_conformance_check!(one_test_per_check);
