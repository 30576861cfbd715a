//! The storage conformance suite and the change feed on MySQL, when
//! `RBAC_TEST_MYSQL_URL` names a server (e.g. `mysql://root@127.0.0.1:3306/test`).
//! Each test creates its own database through that URL and drops it afterwards; an
//! unreachable server fails the test.
#![cfg(feature = "mysql")]

mod common;

use std::time::Duration;

use rbac_sqlx::Backend;

const VAR: &str = "RBAC_TEST_MYSQL_URL";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_conformance() {
    let Some(admin) = common::server_url(VAR, "MySQL conformance") else {
        return;
    };
    common::with_temp_db(&admin, Backend::MySql, |url| async move {
        common::run_conformance(&url).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_migrations_twice_are_a_noop() {
    let Some(admin) = common::server_url(VAR, "MySQL migration") else {
        return;
    };
    common::with_temp_db(&admin, Backend::MySql, |url| async move {
        common::migrate_twice(&url).await;
        let pool = sqlx::MySqlPool::connect(&url).await.expect("connect");
        let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
            .fetch_one(&pool)
            .await
            .expect("count migrations");
        assert_eq!(
            applied,
            rbac_sqlx::Backend::MySql.embedded_migrations() as i64,
            "every embedded migration applied once"
        );
        pool.close().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_change_feed_reaches_another_handle() {
    let Some(admin) = common::server_url(VAR, "MySQL change feed") else {
        return;
    };
    common::with_temp_db(&admin, Backend::MySql, |url| async move {
        common::feed_roundtrip(&url, Duration::from_millis(50), Duration::from_secs(2)).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_identity_keys_on_upgrade() {
    let Some(admin) = common::server_url(VAR, "identity-key upgrade") else {
        return;
    };
    common::with_temp_db(&admin, Backend::MySql, |url| async move {
        common::identity_keys_on_upgrade(&url).await;
    })
    .await;
}
