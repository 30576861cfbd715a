//! The schema a library user gets names none of the bundled server's documents.

use rbac_sqlx::{Backend, SqlStore};
use sqlx::Row;

/// Every table's columns (`table.column`), and every table, index, constraint and sequence
/// by name (on SQLite, with its whole definition).
async fn names(url: &str) -> Vec<String> {
    let queries: &[&str] = match Backend::from_url(url) {
        Some(Backend::Sqlite) => &[
            "SELECT m.name || '.' || p.name FROM sqlite_master m, pragma_table_info(m.name) p \
             WHERE m.type = 'table'",
            "SELECT name || ' ' || COALESCE(sql, '') FROM sqlite_master",
        ],
        Some(Backend::Postgres) => &[
            "SELECT table_name || '.' || column_name FROM information_schema.columns \
             WHERE table_schema = current_schema()",
            "SELECT indexname::text FROM pg_indexes WHERE schemaname = current_schema()",
            "SELECT c.conname::text FROM pg_constraint c \
             JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = current_schema()",
            "SELECT sequence_name::text FROM information_schema.sequences \
             WHERE sequence_schema = current_schema()",
        ],
        Some(Backend::MySql) => &[
            "SELECT CONCAT(table_name, '.', column_name) FROM information_schema.columns \
             WHERE table_schema = DATABASE()",
            "SELECT DISTINCT index_name FROM information_schema.statistics \
             WHERE table_schema = DATABASE()",
            "SELECT constraint_name FROM information_schema.table_constraints \
             WHERE table_schema = DATABASE()",
        ],
        other => panic!("no driver compiled for {other:?}"),
    };
    let mut out = Vec::new();
    for sql in queries {
        out.extend(names_of(url, sql).await);
    }
    out
}

/// The first column of every row `sql` answers, as text.
async fn names_of(url: &str, sql: &str) -> Vec<String> {
    {
        let rows: Vec<String> = match Backend::from_url(url) {
            #[cfg(feature = "sqlite")]
            Some(Backend::Sqlite) => {
                let pool = sqlx::SqlitePool::connect(url).await.expect("connect");
                let rows = sqlx::query(sql).fetch_all(&pool).await.expect(sql);
                pool.close().await;
                rows.iter().map(|r| r.get::<String, _>(0)).collect()
            }
            #[cfg(feature = "postgres")]
            Some(Backend::Postgres) => {
                let pool = sqlx::PgPool::connect(url).await.expect("connect");
                let rows = sqlx::query(sql).fetch_all(&pool).await.expect(sql);
                pool.close().await;
                rows.iter().map(|r| r.get::<String, _>(0)).collect()
            }
            #[cfg(feature = "mysql")]
            Some(Backend::MySql) => {
                let pool = sqlx::MySqlPool::connect(url).await.expect("connect");
                let rows = sqlx::query(sql).fetch_all(&pool).await.expect(sql);
                pool.close().await;
                rows.iter()
                    .map(|r| {
                        let raw: Vec<u8> = r.try_get_unchecked(0).expect("name");
                        String::from_utf8_lossy(&raw).into_owned()
                    })
                    .collect()
            }
            other => panic!("no driver compiled for {other:?}"),
        };
        rows
    }
}

/// Words no table, column, index, constraint or sequence of the library may contain.
const WORDS: [&str; 3] = ["project", "organisation", "department"];

/// Columns the users' table no longer has.
const GONE: [&str; 3] = [
    "rbac_users.did",
    "rbac_users.role_id",
    "rbac_users.parent_id",
];

pub async fn schema_names_no_document(url: &str) {
    let store = SqlStore::connect(url).await.expect("connect");
    store.migrate().await.expect("migrate");
    store.close().await;
    let names = names(url).await;
    // The control: the names are read (what replaced the documents' columns among them).
    for present in [
        "rbac_users.tenant",
        "rbac_users.member_of",
        "rbac_api_keys.daily_limit",
    ] {
        assert!(
            names.iter().any(|n| n.eq_ignore_ascii_case(present)),
            "{present} not among {} names read",
            names.len()
        );
    }
    let found: Vec<&String> = names
        .iter()
        .filter(|n| {
            let n = n.to_lowercase();
            WORDS.iter().any(|w| n.contains(w)) || GONE.contains(&n.as_str())
        })
        .collect();
    assert!(
        found.is_empty(),
        "the library's schema names documents: {found:?}"
    );
}
