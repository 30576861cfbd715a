//! Upgrade fixtures: a database an earlier commit wrote, kept per backend (a SQLite file, or
//! a `pg_dump` / `mariadb-dump` script holding the schema, the `_sqlx_migrations` rows and
//! the data) beside the secrets a server needs to open it (`facts.json`, `secrets-key`), and
//! a server started over a restored copy of it.

use crate::*;

/// The backend `RBAC_TEST_DATABASE` names (SQLite when unset).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file.
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB.
    MySql,
}

impl Backend {
    /// The backend the tests run on.
    pub fn current() -> Backend {
        match std::env::var("RBAC_TEST_DATABASE") {
            Ok(url) if url.starts_with("postgres") => Backend::Postgres,
            Ok(url) if url.starts_with("mysql") || url.starts_with("mariadb") => Backend::MySql,
            _ => Backend::Sqlite,
        }
    }

    /// The fixture folder's name for this backend.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::MySql => "mysql",
        }
    }

    /// The dump's file name.
    fn dump_file(self) -> &'static str {
        match self {
            Backend::Sqlite => "rbac.db",
            Backend::Postgres | Backend::MySql => "dump.sql",
        }
    }
}

/// One backend's fixture: its folder and what was written into it (`facts.json`).
pub struct Fixture {
    /// The folder holding the dump, `facts.json` and `secrets-key`.
    pub dir: PathBuf,
    /// What the generator wrote: names, passwords, tokens, keys, counts.
    pub facts: Value,
}

impl Fixture {
    /// The fixture of the current backend under `root` (`root/<backend>/`).
    pub fn read(root: &Path) -> Fixture {
        let dir = root.join(Backend::current().name());
        let facts = std::fs::read_to_string(dir.join("facts.json"))
            .unwrap_or_else(|e| panic!("reading {}/facts.json: {e}", dir.display()));
        Fixture {
            facts: serde_json::from_str(&facts).expect("facts.json is JSON"),
            dir,
        }
    }

    /// A string fact (`/`-separated path into `facts.json`).
    pub fn fact(&self, path: &str) -> String {
        let pointer = format!("/{path}");
        match self.facts.pointer(&pointer) {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => panic!("facts.json has no {path}"),
        }
    }

    /// The secrets key file of the fixture.
    pub fn secrets_key_file(&self) -> PathBuf {
        self.dir.join("secrets-key")
    }
}

/// Runs a command, panicking with its output unless it succeeds.
fn run(cmd: &mut Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `mariadb`/`mariadb-dump` connection arguments and the database of a `mysql://` URL.
fn mysql_args(url: &str) -> (Vec<String>, String) {
    let parsed = url::Url::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
    let mut args = vec![
        format!("--host={}", parsed.host_str().unwrap_or("127.0.0.1")),
        format!("--port={}", parsed.port().unwrap_or(3306)),
        format!("--user={}", parsed.username()),
    ];
    if let Some(password) = parsed.password() {
        args.push(format!("--password={password}"));
    }
    (args, parsed.path().trim_start_matches('/').to_string())
}

/// The first of `names` found on the `PATH`.
fn tool(names: &[&str]) -> String {
    for name in names {
        if Command::new(name).arg("--version").output().is_ok() {
            return name.to_string();
        }
    }
    panic!("none of {names:?} is installed");
}

impl TestServer {
    /// Writes this server's database into `dir` as the current backend's fixture dump. Call
    /// after [`terminate`](Self::terminate), so that everything is written.
    pub async fn dump_database(&self, dir: &Path) {
        std::fs::create_dir_all(dir).expect("fixture folder");
        let url = self.database_url().to_string();
        match Backend::current() {
            Backend::Sqlite => {
                let file = dir.join(Backend::Sqlite.dump_file());
                let _ = std::fs::remove_file(&file);
                self.exec_sql(&format!("VACUUM INTO '{}'", file.display()))
                    .await;
            }
            Backend::Postgres => {
                let file = dir.join(Backend::Postgres.dump_file());
                run(
                    Command::new("pg_dump")
                        .arg("--no-owner")
                        .arg("--no-privileges")
                        .arg("--no-comments")
                        .arg(format!("--dbname={url}"))
                        .arg(format!("--file={}", file.display())),
                    "pg_dump",
                );
            }
            Backend::MySql => {
                let file = dir.join(Backend::MySql.dump_file());
                let (args, db) = mysql_args(&url);
                run(
                    Command::new(tool(&["mariadb-dump", "mysqldump"]))
                        .args(&args)
                        .arg("--skip-comments")
                        .arg("--single-transaction")
                        .arg(format!("--result-file={}", file.display()))
                        .arg(db),
                    "mariadb-dump",
                );
            }
        }
    }

    /// A server over a restored copy of `fixture`'s database (on the current backend), with
    /// the fixture's admin password, JWT secret and secrets key, and `extra` after them.
    pub async fn start_restored(fixture: &Fixture, extra: &[&str]) -> TestServer {
        Self::start_restored_with(fixture, extra, &[]).await
    }

    /// [`start_restored`](Self::start_restored), running `statements` on the restored
    /// database first (rows as an older release could have written them, before this
    /// binary migrates them).
    pub async fn start_restored_with(
        fixture: &Fixture,
        extra: &[&str],
        statements: &[&str],
    ) -> TestServer {
        let (database_url, db) = prepare_database().await;
        let dump = fixture.dir.join(Backend::current().dump_file());
        match (&db, Backend::current()) {
            (DbGuard::Sqlite(path), Backend::Sqlite) => {
                std::fs::copy(&dump, path)
                    .unwrap_or_else(|e| panic!("copying {}: {e}", dump.display()));
            }
            (_, Backend::Postgres) => run(
                Command::new("psql")
                    .arg("--quiet")
                    .arg("--set=ON_ERROR_STOP=1")
                    .arg(format!("--dbname={database_url}"))
                    .arg(format!("--file={}", dump.display())),
                "restoring the PostgreSQL dump",
            ),
            (_, Backend::MySql) => {
                let (args, db) = mysql_args(&database_url);
                let input = std::fs::File::open(&dump)
                    .unwrap_or_else(|e| panic!("opening {}: {e}", dump.display()));
                run(
                    Command::new(tool(&["mariadb", "mysql"]))
                        .args(&args)
                        .arg(db)
                        .stdin(input),
                    "restoring the MariaDB dump",
                );
            }
            _ => unreachable!("the database matches the backend"),
        }
        run_statements(&database_url, statements).await;
        let key = fixture.secrets_key_file();
        let key = key.to_str().expect("a UTF-8 path");
        let mut args = vec!["--secrets-key-file", key];
        args.extend_from_slice(extra);
        Self::spawn(
            database_url,
            db,
            fixture.fact("admin_password"),
            fixture.fact("jwt_secret"),
            &args,
        )
        .await
    }
}

/// Runs `statements` on the database at `url`, in order.
async fn run_statements(url: &str, statements: &[&str]) {
    use sqlx::Executor;
    if statements.is_empty() {
        return;
    }
    match Backend::from_url(url) {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(url).await.expect("connect");
            for sql in statements {
                pool.execute(*sql)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
            }
            pool.close().await;
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(url).await.expect("connect");
            for sql in statements {
                pool.execute(*sql)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
            }
            pool.close().await;
        }
        Backend::MySql => {
            let pool = sqlx::MySqlPool::connect(url).await.expect("connect");
            for sql in statements {
                pool.execute(*sql)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
            }
            pool.close().await;
        }
    }
}

/// What a database's schema is, one line per table, column, index or constraint (with its
/// definition), sorted, and the applied migration versions: two databases with the same
/// lines have the same schema.
pub async fn schema_of(url: &str) -> Vec<String> {
    use sqlx::{Connection as _, Row as _};
    let mut lines: Vec<String> = Vec::new();
    let rows_of = |rows: Vec<Vec<Option<String>>>| -> Vec<String> {
        rows.into_iter()
            .map(|r| {
                r.into_iter()
                    .map(|c| c.unwrap_or_else(|| "NULL".into()))
                    .map(|c| c.split_whitespace().collect::<Vec<_>>().join(" "))
                    .collect::<Vec<_>>()
                    .join(" | ")
            })
            .collect()
    };
    macro_rules! read {
        ($conn:expr, $($sql:expr),+) => {{
            let mut out = Vec::new();
            $(
                for row in sqlx::query($sql).fetch_all(&mut $conn).await.expect($sql) {
                    let cells = (0..row.len())
                        .map(|i| row.try_get::<Option<String>, _>(i).expect("a text column"))
                        .collect::<Vec<_>>();
                    out.push(cells);
                }
            )+
            out
        }};
    }
    const VERSIONS: &str =
        "SELECT CAST(version AS CHAR(20)) FROM _sqlx_migrations ORDER BY version";
    match Backend::from_url(url) {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(url).await.expect("connect");
            lines.extend(rows_of(read!(
                c,
                "SELECT type, name, tbl_name, sql FROM sqlite_master \
                 WHERE name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'",
                "SELECT 'version ' || version FROM _sqlx_migrations ORDER BY version"
            )));
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(url).await.expect("connect");
            lines.extend(rows_of(read!(
                c,
                "SELECT 'column', table_name::text, column_name::text, data_type::text, \
                 character_maximum_length::text, collation_name::text, is_nullable::text, \
                 column_default::text, is_identity::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations'",
                "SELECT 'trigger', event_object_table::text, trigger_name::text, \
                 event_manipulation::text, action_statement::text \
                 FROM information_schema.triggers WHERE trigger_schema = current_schema()",
                "SELECT 'extension', extname::text FROM pg_extension",
                "SELECT 'index', tablename::text, indexname::text, indexdef::text FROM pg_indexes \
                 WHERE schemaname = current_schema() AND tablename <> '_sqlx_migrations'",
                "SELECT 'constraint', conrelid::regclass::text, conname::text, \
                 pg_get_constraintdef(oid) FROM pg_constraint \
                 WHERE connamespace = current_schema()::regnamespace",
                "SELECT 'version ' || version::text FROM _sqlx_migrations ORDER BY version"
            )));
        }
        Backend::MySql => {
            let mut c = sqlx::MySqlConnection::connect(url).await.expect("connect");
            lines.extend(rows_of(read!(
                c,
                "SELECT 'table', CAST(TABLE_NAME AS CHAR), CAST(ENGINE AS CHAR), \
                 CAST(TABLE_COLLATION AS CHAR) FROM information_schema.TABLES \
                 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME <> '_sqlx_migrations'",
                "SELECT 'column', CAST(TABLE_NAME AS CHAR), CAST(COLUMN_NAME AS CHAR), \
                 CAST(COLUMN_TYPE AS CHAR), CAST(IS_NULLABLE AS CHAR), \
                 CAST(COLUMN_DEFAULT AS CHAR), CAST(EXTRA AS CHAR), \
                 CAST(COLLATION_NAME AS CHAR) FROM information_schema.COLUMNS \
                 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME <> '_sqlx_migrations'",
                "SELECT 'index', CAST(TABLE_NAME AS CHAR), CAST(INDEX_NAME AS CHAR), \
                 CAST(COLUMN_NAME AS CHAR), CAST(SEQ_IN_INDEX AS CHAR), \
                 CAST(NON_UNIQUE AS CHAR), CAST(SUB_PART AS CHAR) \
                 FROM information_schema.STATISTICS \
                 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME <> '_sqlx_migrations'",
                "SELECT 'foreign key', CAST(k.TABLE_NAME AS CHAR), CAST(k.CONSTRAINT_NAME AS CHAR), \
                 CAST(k.COLUMN_NAME AS CHAR), CAST(k.REFERENCED_TABLE_NAME AS CHAR), \
                 CAST(k.REFERENCED_COLUMN_NAME AS CHAR), CAST(r.DELETE_RULE AS CHAR) \
                 FROM information_schema.KEY_COLUMN_USAGE k \
                 JOIN information_schema.REFERENTIAL_CONSTRAINTS r \
                 ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA \
                 AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME \
                 WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL",
                "SELECT 'check', CAST(TABLE_NAME AS CHAR), CAST(CONSTRAINT_NAME AS CHAR), \
                 CAST(CHECK_CLAUSE AS CHAR) FROM information_schema.CHECK_CONSTRAINTS \
                 WHERE CONSTRAINT_SCHEMA = DATABASE()",
                VERSIONS
            )));
        }
    }
    lines.sort();
    lines
}

impl Backend {
    /// The backend a database URL names.
    pub fn from_url(url: &str) -> Backend {
        if url.starts_with("postgres") {
            Backend::Postgres
        } else if url.starts_with("mysql") || url.starts_with("mariadb") {
            Backend::MySql
        } else {
            Backend::Sqlite
        }
    }
}
