//! `SqlStore::transaction`: an application's rows and the library's in one write, whole or
//! not at all, and finished even when its caller is dropped.

use std::time::Duration;

use rbac_core::store::{ApiKeyStore, AuditStore, StoreResult, UserStore};
use rbac_core::{ApiKey, AuditCategory, AuditQuery, Journal, NewAudit, StoreError, User};
use rbac_sqlx::{Backend, SqlStore, SqlTx};

fn key_of(owner: i64, key: &str) -> ApiKey {
    ApiKey {
        id: 0,
        owner_id: owner,
        name: "tx".into(),
        key: key.into(),
        secret: format!("{key}-secret"),
        revoked: false,
        daily_limit: None,
        request_total: 0,
        request_today: 0,
        request_day: 0,
        created_at: 1_700_000_000,
    }
}

/// The application's own row for a key, inside the transaction.
async fn insert_note(tx: &mut SqlTx, key_id: i64, note: &str) -> StoreResult<()> {
    const SQL: &str = "INSERT INTO app_key_notes (key_id, note) VALUES (?, ?)";
    match tx {
        #[cfg(feature = "sqlite")]
        SqlTx::Sqlite(tx) => sqlx::query(SQL)
            .bind(key_id)
            .bind(note)
            .execute(&mut **tx)
            .await
            .map(drop),
        #[cfg(feature = "postgres")]
        SqlTx::Postgres(tx) => {
            sqlx::query("INSERT INTO app_key_notes (key_id, note) VALUES ($1, $2)")
                .bind(key_id)
                .bind(note)
                .execute(&mut **tx)
                .await
                .map(drop)
        }
        #[cfg(feature = "mysql")]
        SqlTx::MySql(tx) => sqlx::query(SQL)
            .bind(key_id)
            .bind(note)
            .execute(&mut **tx)
            .await
            .map(drop),
        #[allow(unreachable_patterns)]
        _ => panic!("no driver for this database"),
    }
    .map_err(StoreError::backend)
}

/// Creates a key and its note (for `note_for`, the new key by default) in one transaction,
/// pausing between the two.
async fn create(
    store: &SqlStore,
    owner: i64,
    key: &str,
    note_for: Option<i64>,
    pause: Duration,
) -> StoreResult<ApiKey> {
    let key = key_of(owner, key);
    let journal = Journal::audit(NewAudit {
        user_id: None,
        user_name: "tx-test".into(),
        category: AuditCategory::Keys,
        content: format!("create {}", key.key),
        success: true,
    });
    store
        .transaction(journal, move |tx| {
            Box::pin(async move {
                let key = tx.create_api_key(&key).await?;
                tokio::time::sleep(pause).await;
                insert_note(tx, note_for.unwrap_or(key.id), &key.key).await?;
                Ok(key)
            })
        })
        .await
}

async fn notes(url: &str) -> i64 {
    super::count(url, "SELECT COUNT(*) FROM app_key_notes").await
}

async fn audited(store: &SqlStore, key: &str) -> bool {
    let query = AuditQuery {
        user_name: Some("tx-test".into()),
        ..AuditQuery::default()
    };
    let page = store.list_audit(&query).await.expect("audit");
    page.rows
        .iter()
        .any(|e| e.content == format!("create {key}"))
}

pub async fn transaction_is_whole(url: &str) {
    let store = SqlStore::connect(url).await.expect("connect");
    store.migrate().await.expect("migrate");
    let table = match store.backend() {
        Backend::MySql => "CREATE TABLE app_key_notes (key_id BIGINT NOT NULL PRIMARY KEY, note VARCHAR(64) NOT NULL)",
        _ => "CREATE TABLE app_key_notes (key_id BIGINT NOT NULL PRIMARY KEY, note TEXT NOT NULL)",
    };
    super::exec(url, table).await;
    let owner = store
        .create_user(
            &User::blank(super::unique("txo"), String::from("h")),
            &Journal::default(),
        )
        .await
        .expect("owner");
    let k = super::unique("k");

    // Both rows and the journal, or nothing.
    let made = create(&store, owner.id, &format!("{k}1"), None, Duration::ZERO)
        .await
        .expect("created");
    assert!(store.find_api_key(&made.key).await.expect("read").is_some());
    assert_eq!(notes(url).await, 1);
    assert!(
        audited(&store, &made.key).await,
        "the journal is written with the rows"
    );

    // The application's insert fails (its key is taken): the library's row goes too.
    let refused = create(
        &store,
        owner.id,
        &format!("{k}2"),
        Some(made.id),
        Duration::ZERO,
    )
    .await;
    assert!(refused.is_err(), "a duplicate note fails the work");
    assert!(
        store
            .find_api_key(&format!("{k}2"))
            .await
            .expect("read")
            .is_none(),
        "rolled back"
    );
    assert_eq!(notes(url).await, 1);
    assert!(
        !audited(&store, &format!("{k}2")).await,
        "no journal for a rolled-back write"
    );

    // A library write that fails (the owner is gone) fails the whole.
    let orphan = create(&store, i64::MAX - 9, &format!("{k}3"), None, Duration::ZERO).await;
    assert!(matches!(orphan, Err(StoreError::NotFound(_))), "{orphan:?}");
    assert_eq!(notes(url).await, 1);

    // A caller dropped between the two inserts: the work still finishes, whole.
    let dropped = tokio::time::timeout(
        Duration::from_millis(50),
        create(
            &store,
            owner.id,
            &format!("{k}4"),
            None,
            Duration::from_millis(300),
        ),
    )
    .await;
    assert!(dropped.is_err(), "the caller gave up first");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while store.running_tasks() > 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(store
        .find_api_key(&format!("{k}4"))
        .await
        .expect("read")
        .is_some());
    assert_eq!(
        notes(url).await,
        2,
        "the abandoned transaction committed whole"
    );
    super::exec(url, "DROP TABLE app_key_notes").await;
    store.close().await;
}
