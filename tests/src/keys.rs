//! The secrets key a server under test gets: SQLite keeps its own beside the database
//! file; PostgreSQL and MySQL need one given, the same for every instance sharing the
//! database (derived from their shared JWT secret), in a file removed once read.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// Given to `start_with`, starts a server on PostgreSQL or MySQL without the secrets key the
/// harness otherwise provides (never passed to the server).
pub const WITHOUT_SECRETS_KEY: &str = "--harness-without-secrets-key";

/// The key file to pass (if any) and the arguments without the harness's own.
pub(crate) fn secrets_key_file<'a>(
    database_url: &str,
    jwt_secret: &str,
    extra: &[&'a str],
) -> (Option<PathBuf>, Vec<&'a str>) {
    let without_key = extra.contains(&WITHOUT_SECRETS_KEY);
    let extra: Vec<&str> = extra
        .iter()
        .copied()
        .filter(|a| *a != WITHOUT_SECRETS_KEY)
        .collect();
    let wanted = !database_url.starts_with("sqlite:")
        && !without_key
        && !extra.contains(&"--secrets-key-file");
    let key_file = wanted.then(|| {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "rbac-test-{}-{}.secrets-key",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let hex: String = jwt_secret
            .bytes()
            .flat_map(|b| format!("{b:02x}").chars().collect::<Vec<_>>())
            .cycle()
            .take(64)
            .collect();
        std::fs::write(&path, hex).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        path
    });
    (key_file, extra)
}
