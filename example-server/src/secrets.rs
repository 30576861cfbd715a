//! The secrets key that seals second-factor secrets: read from `--secrets-key-file`, or on
//! SQLite generated once beside the database file (mode 0600), so that the two-command
//! start works and the key never lives in the database it protects.

use std::io::Write;
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
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the secrets key file {}: {e}", path.display()))?;
    warn_if_readable_by_others(path);
    SecretsKey::from_file_contents(&text).map_err(|e| format!("{}: {e}", path.display()).into())
}

fn read_or_create(path: &Path) -> Result<SecretsKey, BoxError> {
    if path.exists() {
        return read(path);
    }
    // Written whole to a file of its own, then linked into place: the key file is never
    // seen half-written, and of two instances starting together one key wins.
    let key = SecretsKey::generate();
    let mut staging = path.as_os_str().to_os_string();
    staging.push(format!(".{}.tmp", std::process::id()));
    let staging = PathBuf::from(staging);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = options.open(&staging).and_then(|mut file| {
        file.write_all(key.to_file_contents().as_bytes())?;
        file.sync_all()
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&staging);
        return Err(format!("cannot write the secrets key file {}: {e}", path.display()).into());
    }
    let linked = std::fs::hard_link(&staging, path);
    let _ = std::fs::remove_file(&staging);
    match linked {
        Ok(()) => {
            tracing::info!(file = %path.display(), "generated the secrets key beside the database");
            Ok(key)
        }
        // Another instance made it first: theirs is the key.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read(path),
        Err(e) => Err(format!("cannot create the secrets key file {}: {e}", path.display()).into()),
    }
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(file = %path.display(), "the secrets key file is readable by others: chmod 600 it");
            }
        }
    }
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
