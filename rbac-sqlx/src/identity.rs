//! The identity keys of users (rbac-core's name key, confusable skeleton and e-mail key),
//! written beside every user, and filled in for users stored before the keys existed.

use std::collections::BTreeMap;

use rbac_core::{identity, Entity, Journal, StoreError, StoreResult, User, UserId};

use crate::{backend, row, write_error, SqlStore};

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
    /// Inserts a user; with `claim`, first clears other users' unverified claims to its
    /// verified e-mail address and phone number, in the same transaction.
    pub(crate) async fn insert_user(
        &self,
        user: &User,
        journal: &Journal,
        claim: bool,
    ) -> StoreResult<(User, Vec<UserId>)> {
        let attributes = row::attributes(user)?;
        let keys = Keys::of(user);
        on_backend!(self, pool, d => {
            let mut tx = d.begin(pool).await.map_err(backend)?;
            let mut cleared = Vec::new();
            let email_claim = keys.email_key.as_deref().filter(|_| claim && user.email_verified);
            if let Some(key) = email_claim {
                let rows = sqlx::query(&d.sql(
                    "SELECT id FROM rbac_users WHERE email_key = ? AND email_verified = ?",
                ))
                .bind(key)
                .bind(false)
                .fetch_all(&mut *tx)
                .await
                .map_err(backend)?;
                for r in &rows {
                    cleared.push(row::Columns::int(r, "id").map_err(backend)?);
                }
                sqlx::query(&d.sql(
                    "UPDATE rbac_users SET email = NULL, email_key = NULL \
                     WHERE email_key = ? AND email_verified = ?",
                ))
                .bind(key)
                .bind(false)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            }
            if claim && user.phone_verified && !user.phone.is_empty() {
                let rows = sqlx::query(&d.sql(
                    "SELECT id FROM rbac_users WHERE phone = ? AND phone_verified = ?",
                ))
                .bind(user.phone.as_str())
                .bind(false)
                .fetch_all(&mut *tx)
                .await
                .map_err(backend)?;
                for r in &rows {
                    let id = row::Columns::int(r, "id").map_err(backend)?;
                    if !cleared.contains(&id) {
                        cleared.push(id);
                    }
                }
                sqlx::query(&d.sql(
                    "UPDATE rbac_users SET phone = '' WHERE phone = ? AND phone_verified = ?",
                ))
                .bind(user.phone.as_str())
                .bind(false)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            }
            let sql = d.insert_sql(
                "INSERT INTO rbac_users (name, alias, phone, email, did, remark, password_hash, \
                 role_id, enabled, department_id, parent_id, creator, attributes, login_time, \
                 login_ip, created_at, updated_at, name_key, name_skeleton, email_key, \
                 email_verified, phone_verified) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            );
            let query = sqlx::query(&sql)
                .bind(user.name.as_str())
                .bind(user.alias.as_str())
                .bind(user.phone.as_str())
                .bind(user.email.as_deref())
                .bind(user.did.as_str())
                .bind(user.remark.as_str())
                .bind(user.password_hash.as_str())
                .bind(user.role_id)
                .bind(user.enabled)
                .bind(user.department_id)
                .bind(user.parent_id)
                .bind(user.creator.as_str())
                .bind(attributes.as_str())
                .bind(user.login_time)
                .bind(user.login_ip.as_str())
                .bind(user.created_at)
                .bind(user.updated_at)
                .bind(keys.name_key.as_str())
                .bind(keys.name_skeleton.as_str())
                .bind(keys.email_key.as_deref())
                .bind(user.email_verified)
                .bind(user.phone_verified);
            let id = d
                .insert_id(query, &mut tx)
                .await
                .map_err(|e| write_error(e, StoreError::NotFound(Entity::Role)))?;
            write_journal!(d, tx, journal);
            tx.commit().await.map_err(backend)?;
            let mut created = user.clone();
            created.id = id;
            Ok((created, cleared))
        })
    }

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
                return Err(StoreError::Backend(format!(
                    "user names are now unique regardless of case, compatibility forms and \
                     look-alike characters, and e-mail addresses regardless of case; these \
                     existing users collide, so nothing was changed: {}. Rename (or change \
                     the e-mail of) all but one of each group with the previous release, \
                     then start again",
                    clashes.join("; ")
                )));
            }
            let mut tx = d.begin(pool).await.map_err(backend)?;
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
