//! The writes of a user's own rows that the user store and the assignment store both make:
//! guarded profile updates, taking the row's lock, and inserting assignments.

use rbac_core::{Scope, Timestamp};

/// Why a guarded user write touched no row: the user is gone, or changed since it was read.
macro_rules! user_write_missed {
    ($d:ident, $tx:ident, $id:expr) => {{
        let exists: Option<i64> =
            sqlx::query_scalar(&$d.sql("SELECT id FROM rbac_users WHERE id = ?"))
                .bind($id)
                .fetch_optional(&mut *$tx)
                .await
                .map_err(backend)?;
        match exists {
            Some(_) => StoreError::Violation(rbac_core::store::USER_CHANGED),
            None => StoreError::NotFound(Entity::User),
        }
    }};
}
pub(crate) use user_write_missed;

/// Updates every profile column of a user (bound by `bind_profile!`, `updated_at` twice
/// (see [`BUMP_UPDATED_AT`]), `bind_identity!`, then the id).
pub(crate) const UPDATE_USER: &str = "UPDATE rbac_users SET name = ?, alias = ?, phone = ?, \
     email = ?, remark = ?, password_hash = ?, enabled = ?, member_of = ?, tenant = ?, \
     creator = ?, attributes = ?, login_time = ?, login_ip = ?, \
     updated_at = CASE WHEN updated_at >= ? THEN updated_at + 1 ELSE ? END, \
     name_key = ?, name_skeleton = ?, email_key = ?, email_verified = ?, phone_verified = ? \
     WHERE id = ?";

/// Moves a user's `updated_at` forward to the time bound twice, or one past its value when
/// that is not earlier: every write of the row is seen by a write guarded on it.
pub(crate) const BUMP_UPDATED_AT: &str =
    "updated_at = CASE WHEN updated_at >= ? THEN updated_at + 1 ELSE ? END";

/// Takes a user's row in `$tx` (the lock every assignment write takes first, so they never
/// deadlock) and moves its `updated_at` forward; returns `NotFound(User)` when it is gone.
macro_rules! take_user_row {
    ($d:ident, $tx:ident, $id:expr) => {{
        let sql = format!(
            "UPDATE rbac_users SET {} WHERE id = ?",
            $crate::user_rows::BUMP_UPDATED_AT
        );
        let at = rbac_core::now();
        let done = sqlx::query(&$d.sql(&sql))
            .bind(at)
            .bind(at)
            .bind($id)
            .execute(&mut *$tx)
            .await
            .map_err($crate::backend)?;
        if done.rows_affected() == 0 {
            return Err(rbac_core::StoreError::NotFound(rbac_core::Entity::User));
        }
    }};
}
pub(crate) use take_user_row;

/// [`UPDATE_USER`], guarded (when `expected` is set, bound last) by the stored `updated_at`.
pub(crate) fn update_user_sql(expected: Option<Timestamp>) -> String {
    match expected {
        Some(_) => format!("{UPDATE_USER} AND updated_at = ?"),
        None => UPDATE_USER.to_string(),
    }
}

/// The stored form of an assignment's scope: `('', '')` for a global one.
pub(crate) fn scope_columns(scope: Option<Scope>) -> (String, String) {
    match scope {
        Some(s) => (s.kind().as_str().to_string(), s.id().to_string()),
        None => (String::new(), String::new()),
    }
}

/// Inserts a user's assignments inside `$tx`, numbered from `$first` in the order given;
/// a role that does not exist is `NotFound(Role)`.
macro_rules! insert_assignments {
    ($d:ident, $tx:ident, $user:expr, $assignments:expr, $first:expr) => {{
        let first: i64 = $first;
        for (i, a) in $assignments.enumerate() {
            let a: &rbac_core::Assignment = a;
            let (kind, id) = $crate::user_rows::scope_columns(a.scope);
            sqlx::query(&$d.sql(
                "INSERT INTO rbac_assignments (user_id, role_id, scope_kind, scope_id, ordinal) \
                 VALUES (?, ?, ?, ?, ?)",
            ))
            .bind($user)
            .bind(a.role_id)
            .bind(kind)
            .bind(id)
            .bind(first + i as i64)
            .execute(&mut *$tx)
            .await
            .map_err(|e| $crate::write_error(e, StoreError::NotFound(rbac_core::Entity::Role)))?;
        }
    }};
}
pub(crate) use insert_assignments;
