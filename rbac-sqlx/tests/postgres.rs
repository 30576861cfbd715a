//! The storage conformance suite and the change feed on PostgreSQL, when
//! `RBAC_TEST_POSTGRES_URL` names a server (e.g. `postgres://postgres@127.0.0.1:5432/test`).
//! Each test creates its own database through that URL and drops it afterwards; an
//! unreachable server fails the test.
#![cfg(feature = "postgres")]

mod common;

use std::time::Duration;

use rbac_sqlx::Backend;

const VAR: &str = "RBAC_TEST_POSTGRES_URL";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_conformance() {
    let Some(admin) = common::server_url(VAR, "PostgreSQL conformance") else {
        return;
    };
    common::with_temp_db(&admin, Backend::Postgres, |url| async move {
        common::run_conformance(&url).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_migrations_twice_are_a_noop() {
    let Some(admin) = common::server_url(VAR, "PostgreSQL migration") else {
        return;
    };
    common::with_temp_db(&admin, Backend::Postgres, |url| async move {
        common::migrate_twice(&url).await;
        let pool = sqlx::PgPool::connect(&url).await.expect("connect");
        let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
            .fetch_one(&pool)
            .await
            .expect("count migrations");
        assert_eq!(
            applied,
            rbac_sqlx::Backend::Postgres.embedded_migrations() as i64,
            "every embedded migration applied once"
        );
        pool.close().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_change_feed_notifies_within_a_second() {
    let Some(admin) = common::server_url(VAR, "PostgreSQL change feed") else {
        return;
    };
    common::with_temp_db(&admin, Backend::Postgres, |url| async move {
        // A poll far longer than the deadline: only NOTIFY can deliver in time.
        common::feed_roundtrip(&url, Duration::from_secs(120), Duration::from_secs(1)).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_identity_keys_on_upgrade() {
    let Some(admin) = common::server_url(VAR, "identity-key upgrade") else {
        return;
    };
    common::with_temp_db(&admin, Backend::Postgres, |url| async move {
        common::identity_keys_on_upgrade(&url).await;
    })
    .await;
}
