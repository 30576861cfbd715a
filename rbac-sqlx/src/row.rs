//! Row mapping shared by every backend.

use std::collections::BTreeMap;

use rbac_core::factors::Factors;
use rbac_core::{ApiKey, AuditEntry, Role, Session, SessionKind, StoreError, User};
#[cfg(feature = "mysql")]
use sqlx::mysql::MySqlRow;
#[cfg(feature = "postgres")]
use sqlx::postgres::PgRow;
#[cfg(feature = "sqlite")]
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use crate::backend;

/// The columns [`user`] reads, in a `SELECT`.
pub(crate) const USER_COLUMNS: &str = "id, name, alias, phone, email, remark, password_hash, \
     enabled, member_of, tenant, creator, attributes, login_time, login_ip, \
     created_at, updated_at, email_verified, phone_verified";

/// The columns [`role`] reads, in a `SELECT`.
pub(crate) const ROLE_COLUMNS: &str =
    "id, name, remark, creator, builtin, system_key, enabled, created_at, updated_at, \
     requires_second_factor";

/// The columns [`session`] reads, in a `SELECT`.
pub(crate) const SESSION_COLUMNS: &str =
    "id, user_id, kind, issued_at, expires_at, last_seen, revoked, ip, factors, verified_at, user_agent";

/// The columns [`api_key`] reads, in a `SELECT`.
pub(crate) const API_KEY_COLUMNS: &str = "id, owner_id, name, api_key, secret, revoked, \
     daily_limit, request_total, request_today, request_day, created_at";

/// The columns [`audit`] reads, in a `SELECT`.
pub(crate) const AUDIT_COLUMNS: &str = "id, user_id, user_name, category, time, content, success";

/// Typed column access, the same on every backend's row.
pub(crate) trait Columns {
    /// A text column.
    fn text(&self, col: &str) -> Result<String, sqlx::Error>;
    /// A nullable text column.
    fn opt_text(&self, col: &str) -> Result<Option<String>, sqlx::Error>;
    /// A BIGINT column.
    fn int(&self, col: &str) -> Result<i64, sqlx::Error>;
    /// A nullable BIGINT column.
    fn opt_int(&self, col: &str) -> Result<Option<i64>, sqlx::Error>;
    /// An INTEGER column.
    fn int32(&self, col: &str) -> Result<i32, sqlx::Error>;
    /// A SMALLINT column.
    fn small(&self, col: &str) -> Result<i16, sqlx::Error>;
    /// A BOOLEAN column.
    fn flag(&self, col: &str) -> Result<bool, sqlx::Error>;
}

macro_rules! columns {
    ($row:ty, $text:ident) => {
        impl Columns for $row {
            fn text(&self, col: &str) -> Result<String, sqlx::Error> {
                self.$text(col)
            }
            fn opt_text(&self, col: &str) -> Result<Option<String>, sqlx::Error> {
                self.$text(col)
            }
            fn int(&self, col: &str) -> Result<i64, sqlx::Error> {
                self.try_get(col)
            }
            fn opt_int(&self, col: &str) -> Result<Option<i64>, sqlx::Error> {
                self.try_get(col)
            }
            fn int32(&self, col: &str) -> Result<i32, sqlx::Error> {
                self.try_get(col)
            }
            fn small(&self, col: &str) -> Result<i16, sqlx::Error> {
                self.try_get(col)
            }
            fn flag(&self, col: &str) -> Result<bool, sqlx::Error> {
                self.try_get(col)
            }
        }
    };
}

#[cfg(feature = "sqlite")]
columns!(SqliteRow, try_get);
#[cfg(feature = "postgres")]
columns!(PgRow, try_get);
// MySQL flags the VARBINARY columns (names, e-mails, ...) as binary, and sqlx's checked
// decode refuses binary columns as `String`; the unchecked decode still validates UTF-8.
#[cfg(feature = "mysql")]
columns!(MySqlRow, try_get_unchecked);

/// A user from a row of [`USER_COLUMNS`].
pub(crate) fn user<R: Columns>(r: &R) -> Result<User, StoreError> {
    let attributes = r.text("attributes").map_err(backend)?;
    let attributes: BTreeMap<String, String> = if attributes.is_empty() {
        BTreeMap::new()
    } else {
        serde_json::from_str(&attributes)
            .map_err(|e| StoreError::backend(format!("user attributes: {e}")))?
    };
    let tenant = match r.opt_text("tenant").map_err(backend)? {
        Some(text) => Some(
            rbac_core::Scope::parse(&text)
                .ok_or_else(|| StoreError::backend(format!("user tenant {text:?}: not a scope")))?,
        ),
        None => None,
    };
    Ok(User {
        id: r.int("id").map_err(backend)?,
        name: r.text("name").map_err(backend)?,
        alias: r.text("alias").map_err(backend)?,
        phone: r.text("phone").map_err(backend)?,
        email: r.opt_text("email").map_err(backend)?,
        email_verified: r.flag("email_verified").map_err(backend)?,
        phone_verified: r.flag("phone_verified").map_err(backend)?,
        remark: r.text("remark").map_err(backend)?,
        password_hash: r.text("password_hash").map_err(backend)?,
        roles: Vec::new(),
        enabled: r.flag("enabled").map_err(backend)?,
        member_of: r.opt_int("member_of").map_err(backend)?,
        tenant,
        creator: r.text("creator").map_err(backend)?,
        attributes,
        login_time: r.opt_int("login_time").map_err(backend)?,
        login_ip: r.text("login_ip").map_err(backend)?,
        created_at: r.int("created_at").map_err(backend)?,
        updated_at: r.int("updated_at").map_err(backend)?,
    })
}

/// The stored form of a user's attributes.
pub(crate) fn attributes(user: &User) -> Result<String, StoreError> {
    serde_json::to_string(&user.attributes)
        .map_err(|e| StoreError::backend(format!("user attributes: {e}")))
}

/// A role (without its privileges and included roles) from a row of [`ROLE_COLUMNS`].
pub(crate) fn role<R: Columns>(r: &R) -> Result<Role, StoreError> {
    Ok(Role {
        id: r.int("id").map_err(backend)?,
        name: r.text("name").map_err(backend)?,
        remark: r.text("remark").map_err(backend)?,
        creator: r.text("creator").map_err(backend)?,
        builtin: r.flag("builtin").map_err(backend)?,
        system_key: r.opt_text("system_key").map_err(backend)?,
        enabled: r.flag("enabled").map_err(backend)?,
        privileges: Vec::new(),
        includes: Vec::new(),
        requires_second_factor: r.flag("requires_second_factor").map_err(backend)?,
        created_at: r.int("created_at").map_err(backend)?,
        updated_at: r.int("updated_at").map_err(backend)?,
    })
}

/// A session from a row of [`SESSION_COLUMNS`].
pub(crate) fn session<R: Columns>(r: &R) -> Result<Session, StoreError> {
    Ok(Session {
        id: r.text("id").map_err(backend)?,
        user_id: r.int("user_id").map_err(backend)?,
        kind: SessionKind::from_i16(r.small("kind").map_err(backend)?),
        issued_at: r.int("issued_at").map_err(backend)?,
        expires_at: r.int("expires_at").map_err(backend)?,
        last_seen: r.int("last_seen").map_err(backend)?,
        revoked: r.flag("revoked").map_err(backend)?,
        ip: r.text("ip").map_err(backend)?,
        factors: Factors::from_bits(r.small("factors").map_err(backend)?),
        verified_at: r.int("verified_at").map_err(backend)?,
        user_agent: r.text("user_agent").map_err(backend)?,
    })
}

/// An audit entry from a row of [`AUDIT_COLUMNS`].
pub(crate) fn audit<R: Columns>(r: &R) -> Result<AuditEntry, StoreError> {
    Ok(AuditEntry {
        id: r.int("id").map_err(backend)?,
        user_id: r.opt_int("user_id").map_err(backend)?,
        user_name: r.text("user_name").map_err(backend)?,
        category: r.int32("category").map_err(backend)?,
        time: r.int("time").map_err(backend)?,
        content: r.text("content").map_err(backend)?,
        success: r.flag("success").map_err(backend)?,
    })
}

/// An API key from a `SELECT` of [`API_KEY_COLUMNS`].
pub(crate) fn api_key<R: Columns>(r: &R) -> Result<ApiKey, StoreError> {
    Ok(ApiKey {
        id: r.int("id").map_err(backend)?,
        owner_id: r.int("owner_id").map_err(backend)?,
        name: r.text("name").map_err(backend)?,
        key: r.text("api_key").map_err(backend)?,
        secret: r.text("secret").map_err(backend)?,
        revoked: r.flag("revoked").map_err(backend)?,
        daily_limit: r.opt_int("daily_limit").map_err(backend)?,
        request_total: r.int("request_total").map_err(backend)?,
        request_today: r.int("request_today").map_err(backend)?,
        request_day: r.int("request_day").map_err(backend)?,
        created_at: r.int("created_at").map_err(backend)?,
    })
}
