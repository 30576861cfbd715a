//! Bulk import: a batch of users in one transaction, with multi-row inserts, skipping the
//! names already present and reporting e-mail and look-alike collisions apart.

use std::collections::HashSet;

use crate::dialect::SqlDialect;
use rbac_core::store::{ImportReport, StoreResult};
use rbac_core::{Entity, Journal, StoreError, User};

use crate::identity::Keys;
use crate::{backend, row, write_error, SqlStore};

/// Rows per insert statement (20 columns each: well under every backend's parameter cap).
const ROWS_PER_STATEMENT: usize = 500;

/// The columns an imported user is inserted with, in bind order.
const COLUMNS: &str = "name, alias, phone, email, remark, password_hash, enabled, \
     member_of, tenant, creator, attributes, login_time, login_ip, created_at, \
     updated_at, name_key, name_skeleton, email_key, email_verified, phone_verified";

/// `(?, ?, …)` for one row of [`COLUMNS`].
const ROW: &str = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/// `?, ?, …` with `n` placeholders.
fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

impl SqlStore {
    /// See [`rbac_core::store::UserStore::import_users`].
    pub(crate) async fn import_batch(
        &self,
        users: &[User],
        journal: &Journal,
    ) -> StoreResult<ImportReport> {
        let mut report = ImportReport::default();
        if users.is_empty() {
            return Ok(report);
        }
        let keys: Vec<Keys> = users.iter().map(Keys::of).collect();
        let attributes = users
            .iter()
            .map(row::attributes)
            .collect::<StoreResult<Vec<String>>>()?;
        on_backend!(self, pool, d => {
            let mut tx = crate::tx::begin(d, pool).await?;
            // Which keys the store holds already, in one query.
            let n = users.len();
            let sql = format!(
                "SELECT name_key, name_skeleton, email_key FROM rbac_users \
                 WHERE name_key IN ({p}) OR name_skeleton IN ({p}) OR email_key IN ({p})",
                p = placeholders(n)
            );
            let sql = d.sql_once(&sql);
            let mut query = sqlx::query(&sql);
            for k in &keys {
                query = query.bind(k.name_key.as_str());
            }
            for k in &keys {
                query = query.bind(k.name_skeleton.as_str());
            }
            for k in &keys {
                query = query.bind(k.email_key.as_deref().unwrap_or(""));
            }
            let rows = query.fetch_all(&mut *tx).await.map_err(backend)?;
            let (mut names, mut skeletons, mut emails) = (HashSet::new(), HashSet::new(), HashSet::new());
            for r in &rows {
                names.insert(row::Columns::text(r, "name_key").map_err(backend)?);
                skeletons.insert(row::Columns::text(r, "name_skeleton").map_err(backend)?);
                if let Some(e) = row::Columns::opt_text(r, "email_key").map_err(backend)? {
                    emails.insert(e);
                }
            }
            // Classify in order; earlier rows of the batch count as stored.
            let mut accepted = Vec::with_capacity(n);
            for (i, (user, k)) in users.iter().zip(&keys).enumerate() {
                if names.contains(&k.name_key) {
                    report.present += 1;
                } else if skeletons.contains(&k.name_skeleton) {
                    report.look_alike.push(user.name.clone());
                } else if k.email_key.as_ref().is_some_and(|e| emails.contains(e)) {
                    report.email_taken.push(user.name.clone());
                } else {
                    names.insert(k.name_key.clone());
                    skeletons.insert(k.name_skeleton.clone());
                    if let Some(e) = &k.email_key {
                        emails.insert(e.clone());
                    }
                    accepted.push(i);
                }
            }
            for chunk in accepted.chunks(ROWS_PER_STATEMENT) {
                let sql = format!(
                    "INSERT INTO rbac_users ({COLUMNS}) VALUES {}",
                    vec![ROW; chunk.len()].join(", ")
                );
                let sql = d.sql_once(&sql);
                let mut query = sqlx::query(&sql);
                for i in chunk {
                    let (user, k, attrs) = (&users[*i], &keys[*i], &attributes[*i]);
                    query = bind_profile!(query, user, attrs)
                        .bind(user.created_at)
                        .bind(user.updated_at);
                    query = bind_identity!(query, user, k);
                }
                query
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| write_error(e, StoreError::NotFound(Entity::Role)))?;
                report.inserted += chunk.len();
            }
            // The roles of the inserted users, by name key: one statement per role and
            // scope for up to a statement's worth of users.
            let mut by_assignment: std::collections::BTreeMap<(rbac_core::Assignment, usize), Vec<&str>> =
                Default::default();
            for i in &accepted {
                let mut seen = Vec::new();
                for a in &users[*i].roles {
                    if !seen.contains(a) {
                        seen.push(*a);
                        by_assignment
                            .entry((*a, seen.len() - 1))
                            .or_default()
                            .push(keys[*i].name_key.as_str());
                    }
                }
            }
            for ((a, ordinal), names) in &by_assignment {
                let (kind, scope_id) = crate::user_rows::scope_columns(a.scope);
                for chunk in names.chunks(ROWS_PER_STATEMENT) {
                    let sql = format!(
                        "INSERT INTO rbac_assignments (user_id, role_id, scope_kind, scope_id, ordinal) \
                         SELECT id, ?, ?, ?, ? FROM rbac_users WHERE name_key IN ({})",
                        placeholders(chunk.len())
                    );
                    let sql = d.sql_once(&sql);
                    let mut query = sqlx::query(&sql)
                        .bind(a.role_id)
                        .bind(kind.as_str())
                        .bind(scope_id.as_str())
                        .bind(*ordinal as i64);
                    for name in chunk {
                        query = query.bind(*name);
                    }
                    query
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| write_error(e, StoreError::NotFound(Entity::Role)))?;
                }
            }
            if report.inserted > 0 {
                bump_total!(d, tx, "users", report.inserted);
            }
            write_journal!(d, tx, journal);
            tx.commit().await.map_err(backend)?;
            Ok(report)
        })
    }
}
