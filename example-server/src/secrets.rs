//! The secrets key that seals second-factor secrets: read from `--secrets-key-file`, or on
//! SQLite generated once beside the database file (mode 0600), so that the two-command
//! start works and the key never lives in the database it protects.

use std::path::{Path, PathBuf};

use rbac_core::{BoxError, SecretsKey};

use crate::config::Config;

/// The configured key; `None` on PostgreSQL and MySQL without `--secrets-key-file`
/// (second factors are then refused with a clear message).
pub async fn secrets_key(
    config: &Config,
    store: &rbac_sqlx::SqlStore,
) -> Result<Option<SecretsKey>, BoxError> {
    if let Some(path) = &config.secrets_key_file {
        return read(path).map(Some);
    }
    match sqlite_file(&config.database) {
        Some(db) => {
            let mut name = db.file_name().unwrap_or_default().to_os_string();
            name.push(".secrets-key");
            let path = db.with_file_name(name);
            if !path.exists() && store.holds_second_factors().await? {
                return Err(format!(
                    "{} is missing but the database holds second factors sealed under it: \
                     restore the file (or give --secrets-key-file); a new key would lock \
                     every enrolled user out",
                    path.display()
                )
                .into());
            }
            read_or_create(&path).map(Some)
        }
        None if is_sqlite(&config.database) => {
            // An in-memory database: its secrets live no longer than the process.
            Ok(Some(SecretsKey::generate()))
        }
        None => {
            tracing::warn!(
                "no --secrets-key-file: TOTP enrolment is refused until one is configured"
            );
            Ok(None)
        }
    }
}

fn is_sqlite(url: &str) -> bool {
    url.starts_with("sqlite:")
}

/// The database file of a `sqlite:` URL, unless it is in memory.
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" || url.contains("mode=memory") {
        return None;
    }
    Some(PathBuf::from(path))
}

fn read(path: &Path) -> Result<SecretsKey, BoxError> {
    Ok(SecretsKey::read_file(path)?)
}

fn read_or_create(path: &Path) -> Result<SecretsKey, BoxError> {
    Ok(SecretsKey::read_or_create_file(path)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_database_file_of_sqlite_urls_only() {
        assert_eq!(
            sqlite_file("sqlite://rbac.db"),
            Some(PathBuf::from("rbac.db"))
        );
        assert_eq!(
            sqlite_file("sqlite:///tmp/x/rbac.db?mode=rwc"),
            Some(PathBuf::from("/tmp/x/rbac.db"))
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://h/db"), None);
    }
}
