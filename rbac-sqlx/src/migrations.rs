//! The embedded migrations of each backend, built at run time from `include_str!`ed files.
//!
//! sqlx's `migrate!` macro would pull its whole proc-macro stack (every driver, compiled a
//! second time for the host) into the build for what is a list of files; this does the same
//! with `Migration::new`, which computes the same SHA-384 checksums.

use std::borrow::Cow;
use std::sync::LazyLock;

use sqlx::migrate::{Migration, MigrationType, Migrator};

/// Lists a backend's migrations: `version => "description" => "file under migrations/"`.
macro_rules! embedded {
    ($($version:literal => $description:literal => $file:literal),+ $(,)?) => {
        LazyLock::new(|| {
            build(vec![$(($version, $description, include_str!(concat!("../migrations/", $file)))),+])
        })
    };
}

/// Turns `(version, description, sql)` triples into a migrator that locks while it runs.
fn build(files: Vec<(i64, &'static str, &'static str)>) -> Migrator {
    let migrations = files
        .into_iter()
        .map(|(version, description, sql)| {
            Migration::new(
                version,
                Cow::Borrowed(description),
                MigrationType::Simple,
                Cow::Borrowed(sql),
                false,
            )
        })
        .collect::<Vec<_>>();
    Migrator {
        migrations: Cow::Owned(migrations),
        ..Migrator::DEFAULT
    }
}

/// SQLite's migrations.
#[cfg(feature = "sqlite")]
pub(crate) static SQLITE: LazyLock<Migrator> = embedded! {
    1 => "init" => "sqlite/0001_init.sql",
    2 => "login failures" => "sqlite/0002_login_failures.sql",
    3 => "organisations and codes" => "sqlite/0003_organisations_codes.sql",
    4 => "projects" => "sqlite/0004_projects.sql",
    5 => "system role keys" => "sqlite/0005_system_role_keys.sql",
    6 => "login addresses" => "sqlite/0006_login_addresses.sql",
    7 => "project quota" => "sqlite/0007_project_quota.sql",
    8 => "identity keys" => "sqlite/0008_identity_keys.sql",
    9 => "role includes" => "sqlite/0009_role_includes.sql",
    10 => "assignments" => "sqlite/0010_assignments.sql",
    11 => "audit scale" => "sqlite/0011_audit_scale.sql",
    12 => "users total" => "sqlite/0012_users_total.sql",
    14 => "scope children" => "sqlite/0014_scope_children.sql",
    15 => "second factors" => "sqlite/0015_second_factors.sql",
    16 => "second factor roles" => "sqlite/0016_second_factor_roles.sql",
    17 => "security events" => "sqlite/0017_security_events.sql",
    18 => "passkeys" => "sqlite/0018_passkeys.sql",
    19 => "organisations leave" => "sqlite/0019_organisations_leave.sql",
    20 => "api keys" => "sqlite/0020_api_keys.sql",
    21 => "user tenant" => "sqlite/0021_user_tenant.sql",
    22 => "user columns leave" => "sqlite/0022_user_columns_leave.sql",
    23 => "scope ids text" => "sqlite/0023_scope_ids_text.sql",
};

/// PostgreSQL's migrations.
#[cfg(feature = "postgres")]
pub(crate) static POSTGRES: LazyLock<Migrator> = embedded! {
    1 => "init" => "postgres/0001_init.sql",
    2 => "login failures" => "postgres/0002_login_failures.sql",
    3 => "organisations and codes" => "postgres/0003_organisations_codes.sql",
    4 => "projects" => "postgres/0004_projects.sql",
    5 => "system role keys" => "postgres/0005_system_role_keys.sql",
    6 => "login addresses" => "postgres/0006_login_addresses.sql",
    7 => "project quota" => "postgres/0007_project_quota.sql",
    8 => "identity keys" => "postgres/0008_identity_keys.sql",
    9 => "role includes" => "postgres/0009_role_includes.sql",
    10 => "assignments" => "postgres/0010_assignments.sql",
    11 => "audit scale" => "postgres/0011_audit_scale.sql",
    12 => "users total" => "postgres/0012_users_total.sql",
    13 => "name trigrams" => "postgres/0013_name_trigrams.sql",
    14 => "scope children" => "postgres/0014_scope_children.sql",
    15 => "second factors" => "postgres/0015_second_factors.sql",
    16 => "second factor roles" => "postgres/0016_second_factor_roles.sql",
    17 => "security events" => "postgres/0017_security_events.sql",
    18 => "passkeys" => "postgres/0018_passkeys.sql",
    19 => "organisations leave" => "postgres/0019_organisations_leave.sql",
    20 => "api keys" => "postgres/0020_api_keys.sql",
    21 => "user tenant" => "postgres/0021_user_tenant.sql",
    22 => "user columns leave" => "postgres/0022_user_columns_leave.sql",
    23 => "scope ids text" => "postgres/0023_scope_ids_text.sql",
};

/// MySQL's and MariaDB's migrations.
#[cfg(feature = "mysql")]
pub(crate) static MYSQL: LazyLock<Migrator> = embedded! {
    1 => "init" => "mysql/0001_init.sql",
    2 => "login failures" => "mysql/0002_login_failures.sql",
    3 => "organisations and codes" => "mysql/0003_organisations_codes.sql",
    4 => "projects" => "mysql/0004_projects.sql",
    5 => "system role keys" => "mysql/0005_system_role_keys.sql",
    6 => "login addresses" => "mysql/0006_login_addresses.sql",
    7 => "project quota" => "mysql/0007_project_quota.sql",
    8 => "identity keys" => "mysql/0008_identity_keys.sql",
    9 => "role includes" => "mysql/0009_role_includes.sql",
    10 => "assignments" => "mysql/0010_assignments.sql",
    11 => "audit scale" => "mysql/0011_audit_scale.sql",
    12 => "users total" => "mysql/0012_users_total.sql",
    14 => "scope children" => "mysql/0014_scope_children.sql",
    15 => "second factors" => "mysql/0015_second_factors.sql",
    16 => "second factor roles" => "mysql/0016_second_factor_roles.sql",
    17 => "security events" => "mysql/0017_security_events.sql",
    18 => "passkeys" => "mysql/0018_passkeys.sql",
    19 => "organisations leave" => "mysql/0019_organisations_leave.sql",
    20 => "api keys" => "mysql/0020_api_keys.sql",
    21 => "user tenant" => "mysql/0021_user_tenant.sql",
    22 => "user columns leave" => "mysql/0022_user_columns_leave.sql",
    23 => "scope ids text" => "mysql/0023_scope_ids_text.sql",
};

/// The first version an application's own migrations may take: the library's stay below.
pub const APP_VERSIONS: i64 = 1_000_000;

/// A migration of an application's own tables, run in one ordered list with this crate's
/// (one `_sqlx_migrations` table): right after the library migration it was written
/// against, so that it can read what the next library migration drops (copy the rows it
/// takes over, say) before that one runs. Given to [`SqlStore::with_migrations`](crate::SqlStore::with_migrations).
///
/// An applied migration is never edited or removed: sqlx refuses a changed checksum and
/// an applied version it no longer knows.
#[derive(Debug, Clone, Copy)]
pub struct AppMigration {
    /// Its version: unique, at least [`APP_VERSIONS`].
    pub version: i64,
    /// What it does.
    pub description: &'static str,
    /// The library migration it follows (see [`library_versions`]).
    pub after: i64,
    /// Its SQL on SQLite.
    pub sqlite: &'static str,
    /// Its SQL on PostgreSQL.
    pub postgres: &'static str,
    /// Its SQL on MySQL and MariaDB.
    pub mysql: &'static str,
}

impl AppMigration {
    fn sql(&self, backend: crate::Backend) -> &'static str {
        match backend {
            crate::Backend::Sqlite => self.sqlite,
            crate::Backend::Postgres => self.postgres,
            crate::Backend::MySql => self.mysql,
        }
    }
}

/// The versions of this crate's own migrations for `backend`, in order (empty for a backend
/// whose feature is off).
pub fn library_versions(backend: crate::Backend) -> Vec<i64> {
    library(backend).map_or_else(Vec::new, |m| m.iter().map(|m| m.version).collect())
}

/// This crate's migrator for `backend`, if its driver is compiled in.
fn library(backend: crate::Backend) -> Option<&'static Migrator> {
    match backend {
        #[cfg(feature = "sqlite")]
        crate::Backend::Sqlite => Some(&SQLITE),
        #[cfg(feature = "postgres")]
        crate::Backend::Postgres => Some(&POSTGRES),
        #[cfg(feature = "mysql")]
        crate::Backend::MySql => Some(&MYSQL),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

/// The library version an application migration following `after` runs behind on a
/// backend (a backend skips a version where it needs no step): its last one at or below.
fn slot(versions: &[i64], after: i64) -> Option<i64> {
    versions.iter().copied().filter(|v| *v <= after).max()
}

/// Refuses a list of application migrations that could not run in one order with the
/// library's on `backend`: a version below [`APP_VERSIONS`] or taken twice, or an `after`
/// before the backend's first library migration or past its last (written for a newer
/// library).
pub(crate) fn check(app: &[AppMigration], backend: crate::Backend) -> Result<(), String> {
    let known = library_versions(backend);
    let (Some(first), Some(last)) = (known.first(), known.last()) else {
        return Err(format!("this build has no {backend} driver"));
    };
    for (n, m) in app.iter().enumerate() {
        if m.version < APP_VERSIONS {
            return Err(format!(
                "application migration {} ({}): versions below {APP_VERSIONS} are the library's",
                m.version, m.description
            ));
        }
        if app[..n].iter().any(|o| o.version == m.version) {
            return Err(format!(
                "application migration version {} is taken twice",
                m.version
            ));
        }
        if m.after < *first || m.after > *last {
            return Err(format!(
                "application migration {} ({}) follows library migration {}, but this library's \
                 run from {first} to {last}",
                m.version, m.description, m.after
            ));
        }
    }
    Ok(())
}

/// Refuses to migrate a database that already has a library migration an unapplied
/// application migration must run before (a library-only `migrate` ran first): run out of
/// order, the application's migration would find what it reads already gone.
pub(crate) fn check_applied(
    applied: &[i64],
    app: &[AppMigration],
    backend: crate::Backend,
) -> Result<(), String> {
    let versions = library_versions(backend);
    for m in app.iter().filter(|m| !applied.contains(&m.version)) {
        let after = slot(&versions, m.after).unwrap_or(m.after);
        if let Some(later) = versions.iter().find(|v| **v > after && applied.contains(v)) {
            return Err(format!(
                "application migration {} ({}) must run before library migration {later}, \
                 which this database already has: it was migrated without the application's \
                 migrations",
                m.version, m.description
            ));
        }
    }
    Ok(())
}

/// The library's migrations for `backend` with `app`'s placed after the ones they follow
/// (in the order given), as one migrator; `None` without the backend's driver. A backend
/// without the version `after` names places it after its last one below.
pub(crate) fn combined(backend: crate::Backend, app: &[AppMigration]) -> Option<Migrator> {
    let library = library(backend)?;
    let versions: Vec<i64> = library.iter().map(|m| m.version).collect();
    let mut migrations = Vec::with_capacity(library.migrations.len() + app.len());
    for own in library.iter() {
        migrations.push(own.clone());
        for m in app
            .iter()
            .filter(|m| slot(&versions, m.after) == Some(own.version))
        {
            migrations.push(Migration::new(
                m.version,
                Cow::Borrowed(m.description),
                MigrationType::Simple,
                Cow::Borrowed(m.sql(backend)),
                false,
            ));
        }
    }
    // `check` admitted only lists whose every migration has a slot.
    debug_assert_eq!(migrations.len(), library.migrations.len() + app.len());
    Some(Migrator {
        migrations: Cow::Owned(migrations),
        ..Migrator::DEFAULT
    })
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use super::*;

    const fn app(version: i64, after: i64) -> AppMigration {
        AppMigration {
            version,
            description: "app",
            after,
            sqlite: "SELECT 1",
            postgres: "SELECT 1",
            mysql: "SELECT 1",
        }
    }

    #[test]
    fn application_migrations_run_right_after_the_library_migration_they_follow() {
        let list = [
            app(APP_VERSIONS + 1, 3),
            app(APP_VERSIONS, 3),
            app(APP_VERSIONS + 2, 1),
        ];
        check(&list, crate::Backend::Sqlite).expect("a valid list");
        let combined = combined(crate::Backend::Sqlite, &list).expect("sqlite");
        let order: Vec<i64> = combined.iter().map(|m| m.version).collect();
        let at = |v: i64| order.iter().position(|o| *o == v).expect("listed");
        assert_eq!(at(APP_VERSIONS + 2), at(1) + 1);
        assert_eq!(at(APP_VERSIONS + 1), at(3) + 1, "in the order given");
        assert_eq!(at(APP_VERSIONS), at(3) + 2);
        assert_eq!(
            order.len(),
            library_versions(crate::Backend::Sqlite).len() + 3
        );
        // The control: the library's own order is kept.
        let own: Vec<i64> = order
            .iter()
            .copied()
            .filter(|v| *v < APP_VERSIONS)
            .collect();
        assert_eq!(own, library_versions(crate::Backend::Sqlite));
    }

    fn check_sqlite(app: &[AppMigration]) -> Result<(), String> {
        check(app, crate::Backend::Sqlite)
    }

    #[test]
    fn a_list_that_cannot_be_ordered_is_refused() {
        assert!(check_sqlite(&[app(18, 3)]).is_err(), "a library version");
        assert!(check_sqlite(&[app(APP_VERSIONS, 3), app(APP_VERSIONS, 4)]).is_err());
        assert!(
            check_sqlite(&[app(APP_VERSIONS, 0)]).is_err(),
            "before the first"
        );
        assert!(
            check_sqlite(&[app(APP_VERSIONS, 10_000)]).is_err(),
            "a newer library's"
        );
        assert!(check_sqlite(&[app(APP_VERSIONS, 3), app(APP_VERSIONS + 1, 4)]).is_ok());
    }

    #[test]
    fn a_database_migrated_past_an_application_migration_is_refused() {
        let list = [app(APP_VERSIONS, 3)];
        let through = |last: i64| -> Vec<i64> {
            library_versions(crate::Backend::Sqlite)
                .into_iter()
                .filter(|v| *v <= last)
                .collect()
        };
        // Library migration 4 ran without the application's: refused.
        assert!(check_applied(&through(4), &list, crate::Backend::Sqlite).is_err());
        // The controls: a database at 3, a fresh one, and one that has it applied.
        assert!(check_applied(&through(3), &list, crate::Backend::Sqlite).is_ok());
        assert!(check_applied(&[], &list, crate::Backend::Sqlite).is_ok());
        let mut done = through(18);
        done.push(APP_VERSIONS);
        assert!(check_applied(&done, &list, crate::Backend::Sqlite).is_ok());
    }

    #[test]
    fn a_version_a_backend_skips_places_after_the_one_below() {
        // SQLite has no migration 13 (PostgreSQL's name trigrams).
        assert!(!library_versions(crate::Backend::Sqlite).contains(&13));
        let combined = combined(crate::Backend::Sqlite, &[app(APP_VERSIONS, 13)]).expect("sqlite");
        let order: Vec<i64> = combined.iter().map(|m| m.version).collect();
        let at = |v: i64| order.iter().position(|o| *o == v).expect("listed");
        assert_eq!(at(APP_VERSIONS), at(12) + 1);
    }
}
