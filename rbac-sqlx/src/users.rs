//! The users: create, read, list, update, passwords, logins and deletion.

use crate::detached::Direct;
use crate::dialect::SqlDialect;
use async_trait::async_trait;
use rbac_core::store::{ImportReport, StoreResult, UserStore};
use rbac_core::{
    now, Entity, Journal, NewUser, Order, Revoke, StoreError, Timestamp, User, UserId, UserQuery,
};

use crate::row::USER_COLUMNS;
use crate::user_rows::{update_user_sql, user_write_missed, BUMP_UPDATED_AT};
use crate::{backend, count, row, write_error, SqlStore};

#[async_trait]
impl UserStore for Direct {
    async fn create_user(&self, user: &NewUser, journal: &Journal) -> StoreResult<User> {
        Ok(self.insert_user(user, journal, false).await?.0)
    }

    async fn import_users(
        &self,
        users: &[NewUser],
        journal: &Journal,
    ) -> StoreResult<ImportReport> {
        self.import_batch(users, journal).await
    }

    async fn create_user_claiming(
        &self,
        user: &NewUser,
        journal: &Journal,
    ) -> StoreResult<(User, Vec<UserId>)> {
        self.insert_user(user, journal, true).await
    }

    async fn user_by_name(&self, name: &str) -> StoreResult<Option<User>> {
        on_backend!(self, pool, d => {
            one_user!(d, pool, "name_key", rbac_core::identity::name_key(name))
        })
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        on_backend!(self, pool, d => {
            one_user!(d, pool, "email_key", rbac_core::identity::email_key(email))
        })
    }

    async fn users_by_phone(&self, phone: &str, limit: u32) -> StoreResult<Vec<User>> {
        on_backend!(self, pool, d => {
            let sql = format!("SELECT {USER_COLUMNS} FROM rbac_users WHERE phone = ? ORDER BY id LIMIT ?");
            let rows = sqlx::query(&d.sql(&sql))
                .bind(phone)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
                .map_err(backend)?;
            let mut users = rows.iter().map(row::user).collect::<StoreResult<Vec<User>>>()?;
            self.attach_roles(&mut users).await?;
            Ok(users)
        })
    }

    async fn count_users(&self, q: &UserQuery) -> StoreResult<u64> {
        if q.name_contains.is_none() && q.member_of.is_none() {
            return self.total("users").await;
        }
        on_backend!(self, pool, d => {
            let sql = d.sql_once(&format!("SELECT COUNT(*) FROM rbac_users{}", user_filter(d, q, None))).into_owned();
            // Planned for each needle, never from a plan cached for another (a generic plan
            // chosen while the table was small scans it once it is large).
            let mut query = sqlx::query_scalar::<_, i64>(&sql).persistent(q.name_contains.is_none());
            if let Some(needle) = &q.name_contains {
                query = query.bind(d.name_pattern(needle).into_owned());
            }
            if let Some(parent) = q.member_of {
                query = query.bind(parent);
            }
            Ok(count(query.fetch_one(pool).await.map_err(backend)?))
        })
    }

    async fn user_rows(&self, q: &UserQuery, after: Option<UserId>) -> StoreResult<Vec<User>> {
        if after.is_none() {
            if let Some(rows) = self.anchored_users(q).await? {
                return Ok(rows);
            }
        }
        self.select_users(q, after).await
    }

    async fn update_user(
        &self,
        user: &User,
        expected: Option<Timestamp>,
        revoke: Revoke<'_>,
        journal: &Journal,
    ) -> StoreResult<()> {
        let attributes = row::attributes(user)?;
        let keys = crate::identity::Keys::of(user);
        on_backend!(self, pool, d => {
            let mut tx = crate::tx::begin(d, pool).await?;
            let text = update_user_sql(expected);
            let sql = d.sql(&text);
            let query = bind_profile!(sqlx::query(&sql), user, attributes)
                .bind(user.updated_at)
                .bind(user.updated_at);
            let mut query = bind_identity!(query, user, keys).bind(user.id);
            if let Some(expected) = expected {
                query = query.bind(expected);
            }
            let done = query
            .execute(&mut *tx)
            .await
            .map_err(|e| write_error(e, StoreError::NotFound(Entity::Role)))?;
            if done.rows_affected() == 0 {
                return Err(user_write_missed!(d, tx, user.id));
            }
            if let Some(keep) = revoke.keeping() {
                revoke_sessions_of!(d, tx, user.id, keep);
            }
            write_journal!(d, tx, journal);
            tx.commit().await.map_err(backend)?;
            Ok(())
        })
    }

    async fn set_user_enabled(
        &self,
        id: UserId,
        enabled: bool,
        revoke: Revoke<'_>,
        journal: &Journal,
    ) -> StoreResult<()> {
        on_backend!(self, pool, d => {
            let mut tx = crate::tx::begin(d, pool).await?;
            let sql = format!("UPDATE rbac_users SET enabled = ?, {BUMP_UPDATED_AT} WHERE id = ?");
            let at = now();
            let done = sqlx::query(&d.sql(&sql))
                .bind(enabled)
                .bind(at)
                .bind(at)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound(Entity::User));
            }
            if let Some(keep) = revoke.keeping() {
                revoke_sessions_of!(d, tx, id, keep);
            }
            write_journal!(d, tx, journal);
            tx.commit().await.map_err(backend)?;
            Ok(())
        })
    }

    async fn set_password(
        &self,
        id: UserId,
        hash: &str,
        expected: Option<Timestamp>,
        keep: Option<&str>,
        journal: &Journal,
    ) -> StoreResult<()> {
        on_backend!(self, pool, d => {
            let mut tx = crate::tx::begin(d, pool).await?;
            let guard = if expected.is_some() { " AND updated_at = ?" } else { "" };
            let sql = format!("UPDATE rbac_users SET password_hash = ?, {BUMP_UPDATED_AT} WHERE id = ?{guard}");
            let at = now();
            let sql = d.sql(&sql);
            let mut query = sqlx::query(&sql)
                .bind(hash)
                .bind(at)
                .bind(at)
                .bind(id);
            if let Some(expected) = expected {
                query = query.bind(expected);
            }
            let done = query
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            if done.rows_affected() == 0 {
                return Err(user_write_missed!(d, tx, id));
            }
            revoke_sessions_of!(d, tx, id, keep);
            write_journal!(d, tx, journal);
            tx.commit().await.map_err(backend)?;
            Ok(())
        })
    }

    async fn delete_user(&self, id: UserId, journal: &Journal) -> StoreResult<bool> {
        on_backend!(self, pool, d => {
            let mut tx = crate::tx::begin(d, pool).await?;
            sqlx::query(&d.sql("DELETE FROM rbac_sessions WHERE user_id = ?"))
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            let done = sqlx::query(&d.sql("DELETE FROM rbac_users WHERE id = ?"))
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            if done.rows_affected() == 0 {
                return Ok(false);
            }
            bump_total!(d, tx, "users", -1);
            bump_total!(d, tx, "users_deleted", 1);
            write_journal!(d, tx, journal);
            tx.commit().await.map_err(backend)?;
            Ok(true)
        })
    }

    async fn record_login(
        &self,
        id: UserId,
        at: Timestamp,
        ip: &str,
        rehash: Option<(&str, &str)>,
    ) -> StoreResult<()> {
        on_backend!(self, pool, d => {
            let sql = if rehash.is_some() {
                "UPDATE rbac_users SET login_time = ?, login_ip = ?, password_hash = \
                 CASE WHEN password_hash = ? THEN ? ELSE password_hash END WHERE id = ?"
            } else {
                "UPDATE rbac_users SET login_time = ?, login_ip = ? WHERE id = ?"
            };
            let sql = d.sql(sql);
            let mut q = sqlx::query(&sql).bind(at).bind(ip);
            if let Some((verified, upgraded)) = rehash {
                q = q.bind(verified).bind(upgraded);
            }
            q.bind(id).execute(pool).await.map_err(backend)?;
            Ok(())
        })
    }
}

impl SqlStore {
    /// A page of users by offset, or continuing past `after` (see [`UserStore::user_rows`]).
    pub(crate) async fn select_users(
        &self,
        q: &UserQuery,
        after: Option<UserId>,
    ) -> StoreResult<Vec<User>> {
        let (offset, limit) = q.page.sql_bounds();
        let order = match q.order {
            Order::OldestFirst => "ASC",
            Order::NewestFirst => "DESC",
        };
        on_backend!(self, pool, d => {
            // A page of a name filter: matches first where an index finds them (walking the
            // ids in order would test every user when the name is rare); a continuation
            // walks the ids, as it reads on through the matches anyway.
            let key = if q.name_contains.is_some() && after.is_none() {
                d.filtered_order_key()
            } else {
                "id"
            };
            let sql = d
                .sql_once(&format!(
                    "SELECT {USER_COLUMNS} FROM rbac_users{} ORDER BY {key} {order} LIMIT ? OFFSET ?",
                    user_filter(d, q, after)
                ))
                .into_owned();
            let mut query = sqlx::query(&sql).persistent(q.name_contains.is_none());
            if let Some(needle) = &q.name_contains {
                query = query.bind(d.name_pattern(needle).into_owned());
            }
            if let Some(parent) = q.member_of {
                query = query.bind(parent);
            }
            if let Some(after) = after {
                query = query.bind(after);
            }
            let rows = query.bind(limit).bind(offset).fetch_all(pool).await.map_err(backend)?;
            let mut rows = rows.iter().map(row::user).collect::<StoreResult<Vec<User>>>()?;
            self.attach_roles(&mut rows).await?;
            Ok(rows)
        })
    }

    /// Inserts a user; with `claim`, first clears other users' unverified claims to its
    /// verified e-mail address and phone number, in the same transaction.
    pub(crate) async fn insert_user(
        &self,
        user: &User,
        journal: &Journal,
        claim: bool,
    ) -> StoreResult<(User, Vec<UserId>)> {
        let attributes = row::attributes(user)?;
        let keys = crate::identity::Keys::of(user);
        on_backend!(self, pool, d => {
            let mut tx = crate::tx::begin(d, pool).await?;
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
                "INSERT INTO rbac_users (name, alias, phone, email, remark, password_hash, \
                 enabled, member_of, tenant, creator, attributes, login_time, \
                 login_ip, created_at, updated_at, name_key, name_skeleton, email_key, \
                 email_verified, phone_verified) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            );
            let query = sqlx::query(&sql);
            let query = bind_profile!(query, user, attributes)
                .bind(user.created_at)
                .bind(user.updated_at);
            let query = bind_identity!(query, user, keys);
            let id = d
                .insert_id(query, &mut tx)
                .await
                .map_err(|e| write_error(e, StoreError::NotFound(Entity::Role)))?;
            let mut seen: Vec<&rbac_core::Assignment> = Vec::new();
            for a in &user.roles {
                if !seen.contains(&a) {
                    seen.push(a);
                }
            }
            crate::user_rows::insert_assignments!(d, tx, id, seen.iter().copied(), 0);
            bump_total!(d, tx, "users", 1);
            write_journal!(d, tx, journal);
            tx.commit().await.map_err(backend)?;
            let mut created = user.clone();
            created.id = id;
            Ok((created, cleared))
        })
    }
}

/// The `WHERE` clause of a user query (binds: name, parent, then `after`), continuing past
/// `after` in the query's order.
fn user_filter(d: impl SqlDialect, q: &UserQuery, after: Option<UserId>) -> String {
    let mut conditions = Vec::new();
    if q.name_contains.is_some() {
        conditions.push(d.name_contains());
    }
    if q.member_of.is_some() {
        conditions.push("member_of = ?");
    }
    if after.is_some() {
        conditions.push(match q.order {
            Order::OldestFirst => "id > ?",
            Order::NewestFirst => "id < ?",
        });
    }
    if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    }
}
