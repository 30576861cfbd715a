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
};
