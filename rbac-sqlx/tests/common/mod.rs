//! Helpers shared by the backend tests.
#![allow(dead_code)]

use rbac_core::store::AssignmentStore;
#[cfg(any(feature = "postgres", feature = "mysql"))]
use rbac_core::store::AuthorizerStore;
pub mod schema;
pub mod transaction;

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rbac_core::store::{ChangeSink, UserStore};
use rbac_core::{conformance, Change, Journal, User};
use rbac_sqlx::{spawn_change_feed, Backend, SqlStore};
#[cfg(any(feature = "postgres", feature = "mysql"))]
use sqlx::Connection;
use sqlx::Executor;

/// A name no other test run uses.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}{}_{:08x}", std::process::id(), nanos ^ rand_u32())
}

fn rand_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0);
    h.finish() as u32
}

/// The server URL in `var`, or `None` after saying that the test does nothing.
pub fn server_url(var: &str, what: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            println!("{var} is not set: the {what} test did nothing");
            None
        }
    }
}

/// Connects, migrates, and runs the whole conformance suite.
pub async fn run_conformance(url: &str) {
    let store = SqlStore::connect(url).await.expect("connect");
    store.migrate().await.expect("migrate");
    let report = conformance::run_all(&store).await;
    println!(
        "{}: {} conformance checks passed",
        store.backend(),
        report.passed.len()
    );
    report.assert_passed();
    assert_eq!(report.passed.len(), conformance::CHECKS.len());
    store.close().await;
}

/// Migrating twice is a no-op: one migration recorded, and the store works.
pub async fn migrate_twice(url: &str) {
    let store = SqlStore::connect(url).await.expect("connect");
    store.migrate().await.expect("first migrate");
    store.migrate().await.expect("second migrate");
    let again = SqlStore::connect(url).await.expect("connect again");
    again.migrate().await.expect("migrate from another handle");
    let user = again
        .create_user(&User::blank(unique("m"), "hash"), &Journal::default())
        .await
        .expect("create a user after migrating twice");
    assert!(store.user(user.id).await.expect("read").is_some());
    store.close().await;
    again.close().await;
}

/// Records what a feed delivers.
#[derive(Default)]
pub struct Collect(Mutex<Vec<Change>>);

#[async_trait::async_trait]
impl ChangeSink for Collect {
    async fn apply(&self, change: &Change) {
        if let Ok(mut seen) = self.0.lock() {
            seen.push(change.clone());
        }
    }
}

impl Collect {
    fn position(&self, change: &Change) -> Option<usize> {
        self.0.lock().ok()?.iter().position(|c| c == change)
    }
}

/// A change journalled through one handle reaches a feed on another handle within `within`.
pub async fn feed_roundtrip(url: &str, poll: Duration, within: Duration) {
    let writer = SqlStore::connect(url).await.expect("connect writer");
    writer.migrate().await.expect("migrate");
    let reader = SqlStore::connect(url).await.expect("connect reader");
    let sink = Arc::new(Collect::default());
    let feed = spawn_change_feed(reader.clone(), sink.clone(), poll);
    // Let the feed read its starting cursor (and LISTEN, on PostgreSQL).
    tokio::time::sleep(Duration::from_millis(500)).await;

    let tag = unique("feed");
    for round in 0..4 {
        let first = Change::User(1_000_000 + round);
        let second = Change::Session(format!("{tag}-{round}"));
        let journal = Journal::default().with(first.clone()).with(second.clone());
        let started = Instant::now();
        writer
            .create_user(&User::blank(format!("{tag}-{round}"), "hash"), &journal)
            .await
            .expect("journalled write");
        // The first round may wait for the listener to be up; the others must be quick.
        let limit = if round == 0 {
            Duration::from_secs(10)
        } else {
            within
        };
        loop {
            if let (Some(a), Some(b)) = (sink.position(&first), sink.position(&second)) {
                assert!(a < b, "changes applied out of order");
                break;
            }
            assert!(
                started.elapsed() < limit,
                "round {round}: change not delivered within {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        println!(
            "{}: round {round} delivered in {:?}",
            reader.backend(),
            started.elapsed()
        );
    }
    assert!(!feed.is_finished(), "the feed task ended");
    feed.abort();
    writer.close().await;
    reader.close().await;
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
/// A database created for one test on a server, dropped afterwards.
pub struct TempDb {
    admin: String,
    backend: Backend,
    /// The database's name.
    pub name: String,
    /// A URL for the database.
    pub url: String,
}

/// `url` with its database path replaced by `db`.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let (scheme, rest) = base.split_once("://").unwrap_or(("", base));
    let authority = rest.split('/').next().unwrap_or(rest);
    format!("{scheme}://{authority}/{db}{query}")
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
impl TempDb {
    /// Creates a fresh database through the admin URL; panics if the server is unreachable.
    pub async fn create(admin: &str, backend: Backend) -> TempDb {
        let name = unique("rbac_t_");
        let url = with_database(admin, &name);
        let sql = format!("CREATE DATABASE {name}");
        match backend {
            #[cfg(feature = "postgres")]
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(admin)
                    .await
                    .unwrap_or_else(|e| panic!("PostgreSQL at {admin} unreachable: {e}"));
                c.execute(sql.as_str()).await.expect("create database");
                c.close().await.ok();
            }
            #[cfg(feature = "mysql")]
            Backend::MySql => {
                let mut c = sqlx::MySqlConnection::connect(admin)
                    .await
                    .unwrap_or_else(|e| panic!("MySQL at {admin} unreachable: {e}"));
                c.execute(sql.as_str()).await.expect("create database");
                c.close().await.ok();
            }
            other => panic!("TempDb is for servers with their feature on, not {other}"),
        }
        TempDb {
            admin: admin.to_string(),
            backend,
            name,
            url,
        }
    }

    /// Drops the database.
    pub async fn drop_now(&self) {
        let result: Result<(), sqlx::Error> = match self.backend {
            #[cfg(feature = "postgres")]
            Backend::Postgres => match sqlx::PgConnection::connect(&self.admin).await {
                Ok(mut c) => c
                    .execute(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name).as_str())
                    .await
                    .map(|_| ()),
                Err(e) => Err(e),
            },
            #[cfg(feature = "mysql")]
            Backend::MySql => match sqlx::MySqlConnection::connect(&self.admin).await {
                Ok(mut c) => c
                    .execute(format!("DROP DATABASE IF EXISTS {}", self.name).as_str())
                    .await
                    .map(|_| ()),
                Err(e) => Err(e),
            },
            _ => Ok(()),
        };
        if let Err(e) = result {
            eprintln!("could not drop test database {}: {e}", self.name);
        }
    }
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
/// Runs `body` on a fresh database and drops it afterwards, also when `body` panics.
pub async fn with_temp_db<F, Fut>(admin: &str, backend: Backend, body: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let db = TempDb::create(admin, backend).await;
    let outcome = tokio::spawn(body(db.url.clone())).await;
    db.drop_now().await;
    if let Err(e) = outcome {
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic());
        }
        panic!("test task failed: {e}");
    }
}

#[test]
fn database_urls_are_rewritten() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("mysql://root@127.0.0.1:3306", "x"),
        "mysql://root@127.0.0.1:3306/x"
    );
    assert_eq!(
        with_database("postgres://u:p@h/db?sslmode=disable", "x"),
        "postgres://u:p@h/x?sslmode=disable"
    );
}

/// How many migrations the database at `url` has recorded as applied.
/// An application's own migration, written against the library's schema 3 (organisations).
const APP: [rbac_sqlx::AppMigration; 1] = [rbac_sqlx::AppMigration {
    version: rbac_sqlx::APP_VERSIONS,
    description: "the application's copy of the organisations",
    after: 3,
    sqlite: "CREATE TABLE app_organisations (id BIGINT NOT NULL PRIMARY KEY, name TEXT NOT NULL);
             INSERT INTO app_organisations (id, name) SELECT id, name FROM rbac_organisations",
    postgres: "CREATE TABLE app_organisations (id BIGINT NOT NULL PRIMARY KEY, name TEXT NOT NULL);
               INSERT INTO app_organisations (id, name) SELECT id, name FROM rbac_organisations",
    mysql: "CREATE TABLE app_organisations (id BIGINT NOT NULL PRIMARY KEY, name TEXT NOT NULL);
            INSERT INTO app_organisations (id, name) SELECT id, name FROM rbac_organisations",
}];

/// The application's migrations run with the library's, once; the schema counts them; a
/// store that does not know them refuses the database rather than run without them.
pub async fn application_migrations(url: &str) {
    let store = SqlStore::connect(url)
        .await
        .expect("connect")
        .with_migrations(&APP)
        .expect("an ordered list");
    store.migrate().await.expect("migrate");
    store.migrate().await.expect("migrate again");
    let expected = store.backend().embedded_migrations() + 1;
    assert_eq!(store.expected_migrations(), expected);
    assert_eq!(applied_migrations(url).await, expected as i64);
    store.readiness().await.expect("the schema is current");
    let unaware = SqlStore::connect(url).await.expect("connect");
    assert!(
        unaware.migrate().await.is_err(),
        "a store without the application's migrations refuses its database"
    );
    // The control: a list that cannot be ordered is refused before anything runs.
    const EARLY: [rbac_sqlx::AppMigration; 1] = [rbac_sqlx::AppMigration {
        version: 5,
        ..APP[0]
    }];
    let refused = SqlStore::connect(url)
        .await
        .expect("connect")
        .with_migrations(&EARLY);
    assert!(refused.is_err(), "version 5 is the library's");
    store.close().await;
    unaware.close().await;
}

pub async fn applied_migrations(url: &str) -> i64 {
    count(url, "SELECT COUNT(*) FROM _sqlx_migrations").await
}

/// The one number a `SELECT COUNT(*)` on the database at `url` answers.
pub async fn count(url: &str, sql: &str) -> i64 {
    match Backend::from_url(url) {
        #[cfg(feature = "sqlite")]
        Some(Backend::Sqlite) => {
            let pool = sqlx::SqlitePool::connect(url).await.expect("connect");
            let n = sqlx::query_scalar(sql).fetch_one(&pool).await.expect(sql);
            pool.close().await;
            n
        }
        #[cfg(feature = "postgres")]
        Some(Backend::Postgres) => {
            let pool = sqlx::PgPool::connect(url).await.expect("connect");
            let n = sqlx::query_scalar(sql).fetch_one(&pool).await.expect(sql);
            pool.close().await;
            n
        }
        #[cfg(feature = "mysql")]
        Some(Backend::MySql) => {
            let pool = sqlx::MySqlPool::connect(url).await.expect("connect");
            let n = sqlx::query_scalar(sql).fetch_one(&pool).await.expect(sql);
            pool.close().await;
            n
        }
        other => panic!("no driver compiled for {other:?}"),
    }
}

/// Runs one statement on the database at `url`, outside the store (as an older release
/// or an operator would).
pub async fn exec(url: &str, sql: &str) {
    match Backend::from_url(url) {
        #[cfg(feature = "sqlite")]
        Some(Backend::Sqlite) => {
            let pool = sqlx::SqlitePool::connect(url).await.expect("connect");
            pool.execute(sql).await.expect(sql);
            pool.close().await;
        }
        #[cfg(feature = "postgres")]
        Some(Backend::Postgres) => {
            let pool = sqlx::PgPool::connect(url).await.expect("connect");
            pool.execute(sql).await.expect(sql);
            pool.close().await;
        }
        #[cfg(feature = "mysql")]
        Some(Backend::MySql) => {
            let pool = sqlx::MySqlPool::connect(url).await.expect("connect");
            pool.execute(sql).await.expect(sql);
            pool.close().await;
        }
        other => panic!("no driver compiled for {other:?}"),
    }
}

/// Upgrading a store whose users predate the identity keys: users that would collide
/// under them (`Admin` beside `admin`, e-mail addresses differing in case) make the
/// upgrade refuse, naming them, and change nothing; once an operator renames them, the
/// keys are filled in and enforced.
pub async fn identity_keys_on_upgrade(url: &str) {
    let t = unique("k");
    let store = SqlStore::connect(url).await.expect("connect");
    store.migrate().await.expect("migrate");
    let mut lory = User::blank(format!("lory{t}"), "hash");
    lory.email = Some(format!("lory{t}@example.com"));
    let lory = store
        .create_user(&lory, &Journal::default())
        .await
        .expect("lory");
    let mut other = User::blank(format!("other{t}"), "hash");
    other.email = Some(format!("other{t}@example.com"));
    let other = store
        .create_user(&other, &Journal::default())
        .await
        .expect("other");
    store.close().await;
    // As an older release would have left it: no keys, a name and an address that differ
    // from another user's only in case.
    exec(
        url,
        "UPDATE rbac_users SET name_key = NULL, name_skeleton = NULL, email_key = NULL",
    )
    .await;
    exec(
        url,
        &format!(
            "UPDATE rbac_users SET name = 'LORY{t}', email = 'LORY{t}@example.com' \
             WHERE id = {}",
            other.id
        ),
    )
    .await;
    let store = SqlStore::connect(url).await.expect("connect");
    let refused = store
        .migrate()
        .await
        .expect_err("colliding users refuse the upgrade");
    let why = refused.to_string();
    for who in [
        format!("lory{t}"),
        format!("LORY{t}"),
        format!("lory{t}@example.com"),
        format!("LORY{t}@example.com"),
    ] {
        assert!(why.contains(&who), "{who} not named in: {why}");
    }
    assert!(
        store
            .user_by_name(&format!("lory{t}"))
            .await
            .expect("read")
            .is_none(),
        "nothing keyed after the refusal"
    );
    store.close().await;
    // The operator renames the newer user; the upgrade then keys everyone.
    exec(
        url,
        &format!(
            "UPDATE rbac_users SET name = 'other{t}', email = 'other{t}@example.com' \
             WHERE id = {}",
            other.id
        ),
    )
    .await;
    let store = SqlStore::connect(url).await.expect("connect");
    store.migrate().await.expect("upgrade after the rename");
    let found = store
        .user_by_name(&format!("LORY{t}"))
        .await
        .expect("read")
        .map(|u| u.id);
    assert_eq!(found, Some(lory.id));
    let found = store
        .user_by_email(&format!("OTHER{t}@EXAMPLE.COM"))
        .await
        .expect("read")
        .map(|u| u.id);
    assert_eq!(found, Some(other.id));
    let again = store
        .create_user(
            &User::blank(format!("Lory{t}"), "hash"),
            &Journal::default(),
        )
        .await;
    assert!(
        matches!(
            again,
            Err(rbac_core::StoreError::Conflict(rbac_core::Field::UserName))
        ),
        "{again:?}"
    );
    store.close().await;
}

/// A database whose users held one role each in `rbac_users.role_id` (before migration 10)
/// upgrades to assignments: each such role becomes the user's one global assignment.
pub async fn assignments_on_upgrade(url: &str) {
    use rbac_core::store::RoleStore;
    use rbac_core::{Assignment, Role};
    let t = unique("a");
    let store = SqlStore::connect(url).await.expect("connect");
    store.migrate().await.expect("migrate");
    let role = store
        .create_role(&Role::new(format!("held{t}"), "", ""), &Journal::default())
        .await
        .expect("role");
    let holder = store
        .create_user(
            &User::blank(format!("holder{t}"), "hash"),
            &Journal::default(),
        )
        .await
        .expect("holder");
    let plain = store
        .create_user(
            &User::blank(format!("plain{t}"), "hash"),
            &Journal::default(),
        )
        .await
        .expect("plain");
    store.close().await;
    // As release 9 left it: the role in the user's row (a column migration 22 has dropped
    // since), no assignment tables.
    for sql in [
        "ALTER TABLE rbac_users ADD COLUMN role_id BIGINT NULL".to_string(),
        "DROP TABLE rbac_assignments".to_string(),
        "DROP TABLE rbac_scope_parents".to_string(),
        "DELETE FROM rbac_locks WHERE name = 'scope_parents'".to_string(),
        // (and 23, which made its scope ids text, runs again on the tables 10 makes)
        "DELETE FROM _sqlx_migrations WHERE version IN (10, 23)".to_string(),
        format!(
            "UPDATE rbac_users SET role_id = {} WHERE id = {}",
            role.id, holder.id
        ),
    ] {
        exec(url, &sql).await;
    }
    let store = SqlStore::connect(url).await.expect("connect");
    store.migrate().await.expect("upgrade");
    let upgraded = store.user(holder.id).await.expect("read").expect("holder");
    assert_eq!(upgraded.roles, vec![Assignment::global(role.id)]);
    let untouched = store.user(plain.id).await.expect("read").expect("plain");
    assert_eq!(untouched.roles, Vec::new());
    assert_eq!(
        store.count_users_with_role(role.id).await.expect("count"),
        1
    );
    // The role is held: it cannot be deleted from under its holder.
    assert!(store
        .delete_role(role.id, &Journal::default())
        .await
        .is_err());
    store.close().await;
}
