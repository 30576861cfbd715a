//! Which database a store talks to, as its URL names it.

use std::fmt;

use crate::migrations;

/// Which database a [`SqlStore`](crate::SqlStore) talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite (a file, or `sqlite::memory:`).
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB.
    MySql,
}

impl Backend {
    /// The backend a database URL names by its scheme, if it is one this crate supports.
    pub fn from_url(url: &str) -> Option<Backend> {
        let scheme = url.split(':').next()?.to_ascii_lowercase();
        match scheme.as_str() {
            "sqlite" => Some(Backend::Sqlite),
            "postgres" | "postgresql" => Some(Backend::Postgres),
            "mysql" | "mariadb" => Some(Backend::MySql),
            _ => None,
        }
    }
}

impl Backend {
    /// How many migrations this crate embeds for the backend (the schema version it needs;
    /// 0 for a backend whose feature is off).
    pub fn embedded_migrations(self) -> usize {
        match self {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite => migrations::SQLITE.migrations.len(),
            #[cfg(feature = "postgres")]
            Backend::Postgres => migrations::POSTGRES.migrations.len(),
            #[cfg(feature = "mysql")]
            Backend::MySql => migrations::MYSQL.migrations.len(),
            #[allow(unreachable_patterns)]
            _ => 0,
        }
    }

    /// The crate feature that compiles this backend's driver.
    pub(crate) fn feature(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::MySql => "mysql",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::MySql => "mysql",
        })
    }
}
