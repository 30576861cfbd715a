//! Throw-away databases: a SQLite file, or a PostgreSQL or MariaDB database created and dropped.

use crate::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ServerKind {
    Postgres,
    MySql,
}

pub(crate) enum DbGuard {
    /// Another server owns the database (a second instance on the same store).
    Shared,
    Sqlite(PathBuf),
    Server {
        kind: ServerKind,
        admin_url: String,
        name: String,
    },
}

impl Drop for DbGuard {
    fn drop(&mut self) {
        match self {
            DbGuard::Shared => {}
            DbGuard::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm", "-journal", ".secrets-key"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    let _ = std::fs::remove_file(PathBuf::from(p));
                }
            }
            DbGuard::Server {
                kind,
                admin_url,
                name,
            } => {
                let sql = match kind {
                    ServerKind::Postgres => format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                    ServerKind::MySql => format!("DROP DATABASE IF EXISTS {name}"),
                };
                let kind = *kind;
                let url = admin_url.clone();
                // Drop may run inside a tokio runtime: use a fresh thread with its own runtime.
                let handle = std::thread::spawn(move || {
                    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    else {
                        return;
                    };
                    rt.block_on(async move {
                        let _ =
                            tokio::time::timeout(DB_TIMEOUT, admin_exec(kind, &url, &sql)).await;
                    });
                });
                let _ = handle.join();
            }
        }
    }
}

pub(crate) async fn admin_exec(kind: ServerKind, url: &str, sql: &str) -> Result<(), String> {
    use sqlx::Connection as _;
    match kind {
        ServerKind::Postgres => {
            let mut conn = sqlx::postgres::PgConnection::connect(url)
                .await
                .map_err(|e| format!("connect {url}: {e}"))?;
            sqlx::raw_sql(sql)
                .execute(&mut conn)
                .await
                .map_err(|e| format!("{sql}: {e}"))?;
            let _ = conn.close().await;
        }
        ServerKind::MySql => {
            let mut conn = sqlx::mysql::MySqlConnection::connect(url)
                .await
                .map_err(|e| format!("connect {url}: {e}"))?;
            sqlx::raw_sql(sql)
                .execute(&mut conn)
                .await
                .map_err(|e| format!("{sql}: {e}"))?;
            let _ = conn.close().await;
        }
    }
    Ok(())
}

/// Runs `sql` on the database at `url`, whichever backend it names.
pub(crate) async fn exec_on(url: &str, sql: &str) -> Result<(), String> {
    use sqlx::Connection as _;
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::sqlite::SqliteConnection::connect(url)
            .await
            .map_err(|e| format!("connect {url}: {e}"))?;
        sqlx::raw_sql(sql)
            .execute(&mut conn)
            .await
            .map_err(|e| format!("{sql}: {e}"))?;
        let _ = conn.close().await;
        return Ok(());
    }
    let kind = if url.starts_with("postgres") {
        ServerKind::Postgres
    } else {
        ServerKind::MySql
    };
    admin_exec(kind, url, sql).await
}

/// `url` with its path replaced by `/db` (query string kept).
pub(crate) fn with_database(url: &str, db: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let (main, query) = match rest.split_once('?') {
        Some((m, q)) => (m, Some(q)),
        None => (rest, None),
    };
    let authority = main.split('/').next().unwrap_or(main);
    let mut out = format!("{scheme}://{authority}/{db}");
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

pub(crate) async fn prepare_database() -> (String, DbGuard) {
    let id = unique();
    match std::env::var("RBAC_TEST_DATABASE") {
        Ok(admin_url) if !admin_url.trim().is_empty() => {
            let admin_url = admin_url.trim().to_string();
            let kind =
                if admin_url.starts_with("postgres://") || admin_url.starts_with("postgresql://") {
                    ServerKind::Postgres
                } else if admin_url.starts_with("mysql://") || admin_url.starts_with("mariadb://") {
                    ServerKind::MySql
                } else {
                    panic!(
                    "RBAC_TEST_DATABASE must be a postgres:// or mysql:// URL, got {admin_url:?}"
                );
                };
            let name = format!("rbac_h_{id}");
            let sql = format!("CREATE DATABASE {name}");
            match tokio::time::timeout(DB_TIMEOUT, admin_exec(kind, &admin_url, &sql)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => panic!("RBAC_TEST_DATABASE is set but unusable: {e}"),
                Err(_) => panic!(
                    "RBAC_TEST_DATABASE is set but {admin_url} did not answer within {DB_TIMEOUT:?}"
                ),
            }
            let url = with_database(&admin_url, &name);
            (
                url,
                DbGuard::Server {
                    kind,
                    admin_url,
                    name,
                },
            )
        }
        _ => {
            let path = std::env::temp_dir().join(format!("rbac-test-{id}.db"));
            let url = format!("sqlite://{}", path.display());
            (url, DbGuard::Sqlite(path))
        }
    }
}

/// Holds the database's write lock (on the settings table, which readiness probes write) from a connection of its own until dropped.
pub enum WriteLock {
    /// A SQLite transaction begun `IMMEDIATE`.
    Sqlite(sqlx::SqliteConnection),
    /// A PostgreSQL transaction holding `rbac_settings` exclusively.
    Postgres(sqlx::PgConnection),
    /// A MySQL session holding `LOCK TABLES rbac_settings WRITE`.
    MySql(sqlx::MySqlConnection),
}

impl WriteLock {
    /// Takes the lock on the database `url` names.
    pub async fn take(url: &str) -> WriteLock {
        use sqlx::{Connection, Executor};
        if url.starts_with("sqlite") {
            let mut c = sqlx::SqliteConnection::connect(url).await.expect("connect");
            c.execute("BEGIN IMMEDIATE").await.expect("lock");
            WriteLock::Sqlite(c)
        } else if url.starts_with("postgres") {
            let mut c = sqlx::PgConnection::connect(url).await.expect("connect");
            c.execute("BEGIN; LOCK TABLE rbac_settings IN ACCESS EXCLUSIVE MODE")
                .await
                .expect("lock");
            WriteLock::Postgres(c)
        } else {
            let mut c = sqlx::MySqlConnection::connect(url).await.expect("connect");
            c.execute("LOCK TABLES rbac_settings WRITE")
                .await
                .expect("lock");
            WriteLock::MySql(c)
        }
    }

    /// Releases the lock and closes the connection.
    pub async fn release(self) {
        use sqlx::{Connection, Executor};
        match self {
            WriteLock::Sqlite(mut c) => {
                c.execute("ROLLBACK").await.expect("unlock");
                c.close().await.expect("close");
            }
            WriteLock::Postgres(mut c) => {
                c.execute("ROLLBACK").await.expect("unlock");
                c.close().await.expect("close");
            }
            WriteLock::MySql(mut c) => {
                c.execute("UNLOCK TABLES").await.expect("unlock");
                c.close().await.expect("close");
            }
        }
    }
}
