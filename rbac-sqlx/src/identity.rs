//! The identity keys of users (rbac-core's name key, confusable skeleton and e-mail key),
//! written beside every user, and filled in for users stored before the keys existed.

use std::collections::BTreeMap;

use crate::dialect::SqlDialect;
use rbac_core::{identity, StoreError, User};

use crate::{backend, row, SqlStore};

/// The unique keys stored with a user.
pub(crate) struct Keys {
    pub(crate) name_key: String,
    pub(crate) name_skeleton: String,
    pub(crate) email_key: Option<String>,
}

impl Keys {
    /// The keys of a user's name and e-mail address.
    pub(crate) fn of(user: &User) -> Self {
        Keys::new(&user.name, user.email.as_deref())
    }

    /// The keys of a name and an e-mail address.
    fn new(name: &str, email: Option<&str>) -> Self {
        Keys {
            name_key: identity::name_key(name),
            name_skeleton: identity::name_skeleton(name),
            email_key: email.map(identity::email_key),
        }
    }
}

/// Existing users that would share one key, described for the operator.
fn collisions(users: &[(i64, String, Option<String>)]) -> Vec<String> {
    let mut groups: BTreeMap<(&str, String), Vec<String>> = BTreeMap::new();
    for (id, name, email) in users {
        let who = format!("{name:?} (id {id})");
        let keys = Keys::new(name, email.as_deref());
        groups
            .entry(("name", keys.name_key))
            .or_default()
            .push(who.clone());
        groups
            .entry(("look-alike name", keys.name_skeleton))
            .or_default()
            .push(who.clone());
        if let (Some(key), Some(email)) = (keys.email_key, email) {
            groups
                .entry(("e-mail", key))
                .or_default()
                .push(format!("{email:?} of {who}"));
        }
    }
    let mut out: Vec<String> = groups
        .into_iter()
        .filter(|(_, who)| who.len() > 1)
        .map(|((what, _), who)| format!("same {what}: {}", who.join(", ")))
        .collect();
    out.dedup();
    out
}

impl SqlStore {
    /// Fills in the identity keys of users stored before they existed. Refuses, naming
    /// them, when existing users collide under the keys (`Admin` beside `admin`, or two
    /// look-alike names), so that an operator can rename them first; nothing is written
    /// then.
    pub(crate) async fn key_identities(&self) -> Result<(), StoreError> {
        on_backend!(self, pool, d => {
            let missing = sqlx::query(
                "SELECT COUNT(*) AS n FROM rbac_users \
                 WHERE name_key IS NULL OR name_skeleton IS NULL \
                 OR (email IS NOT NULL AND email_key IS NULL)",
            )
            .fetch_one(pool)
            .await
            .map_err(backend)?;
            if row::Columns::int(&missing, "n").map_err(backend)? == 0 {
                return Ok(());
            }
            let rows = sqlx::query("SELECT id, name, email FROM rbac_users ORDER BY id")
                .fetch_all(pool)
                .await
                .map_err(backend)?;
            let mut users = Vec::with_capacity(rows.len());
            for r in &rows {
                users.push((
                    row::Columns::int(r, "id").map_err(backend)?,
                    row::Columns::text(r, "name").map_err(backend)?,
                    row::Columns::opt_text(r, "email").map_err(backend)?,
                ));
            }
            drop(rows);
            let clashes = collisions(&users);
            if !clashes.is_empty() {
                return Err(StoreError::backend(format!(
                    "user names are now unique regardless of case, compatibility forms and \
                     look-alike characters, and e-mail addresses regardless of case; these \
                     existing users collide, so nothing was changed: {}. Rename (or change \
                     the e-mail of) all but one of each group with the previous release, \
                     then start again",
                    clashes.join("; ")
                )));
            }
            let mut tx = crate::tx::begin(d, pool).await?;
            for (id, name, email) in &users {
                let keys = Keys::new(name, email.as_deref());
                sqlx::query(&d.sql(
                    "UPDATE rbac_users SET name_key = ?, name_skeleton = ?, email_key = ? \
                     WHERE id = ?",
                ))
                .bind(keys.name_key)
                .bind(keys.name_skeleton)
                .bind(keys.email_key)
                .bind(*id)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            }
            tx.commit().await.map_err(backend)?;
            tracing::info!(users = users.len(), "identity keys filled in for existing users");
            Ok(())
        })
    }
}
