//! The domain records: users, roles, sessions, audit entries, and what a write records.
//!
//! ```
//! # async fn run() -> Result<(), rbac_core::Error> {
//! use rbac_core::service::UserInput;
//! use rbac_core::{MemoryStore, Rbac, User};
//!
//! # let config = rbac_core::RbacConfig { hasher: rbac_core::HasherConfig { memory_kib: 64, iterations: 1, parallelism: 1, ..Default::default() }, ..Default::default() };
//! let rbac = Rbac::builder(MemoryStore::new())
//!     .secret("at least 32 bytes of signing secret")
//!     .privileges(["RecordRead", "RecordWrite"])
//! #   .config(config)
//!     .build()
//!     .await?;
//! let system = rbac.system().await?;
//! let input = UserInput { name: "ann".into(), password: "Ann-password-1".into(), ..Default::default() };
//! let ann: User = rbac.users().create(Some(&system), input).await?;
//! assert_eq!(ann.name, "ann");
//! assert!(ann.enabled);
//! assert!(ann.password_hash.starts_with("$argon2id$"));
//! # Ok(()) }
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(run()).unwrap();
//! ```

use std::collections::BTreeMap;
use std::fmt;

pub use crate::authz::scope::{Assignment, Scope, ScopeKind, ScopeKinds};

pub use crate::ids::{now, RoleId, Timestamp, UserId};

/// A user account, shared by every surface.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    /// Store-assigned id.
    pub id: UserId,
    /// Unique login name.
    pub name: String,
    /// Display name (`user_alias`, `nickname`).
    pub alias: String,
    /// Phone number (free text; login by phone when unambiguous).
    pub phone: String,
    /// E-mail address, unique (regardless of case) when set.
    pub email: Option<String>,
    /// Whether `email` was proven by a code sent to it (an unverified address yields to a
    /// verified registration of it).
    pub email_verified: bool,
    /// Whether `phone` was proven by a code sent to it (likewise).
    pub phone_verified: bool,
    /// Digital identity id (`user_did`).
    pub did: String,
    /// Free-text description.
    pub remark: String,
    /// PHC string (argon2id) or imported bcrypt hash. Never rendered.
    pub password_hash: String,
    /// The roles the user holds, globally or within a scope, in the order assigned.
    pub roles: Vec<Assignment>,
    /// Whether the account may log in.
    pub enabled: bool,
    /// The organisation the user belongs to.
    pub department_id: Option<i64>,
    /// The primary account a sub-account belongs to.
    pub parent_id: Option<UserId>,
    /// Name of the user who created this one (empty for self-registration).
    pub creator: String,
    /// Further profile attributes a surface keeps (`telephone`, `duty`, …).
    pub attributes: BTreeMap<String, String>,
    /// Last successful login.
    pub login_time: Option<Timestamp>,
    /// Client address of the last successful login.
    pub login_ip: String,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last update time.
    pub updated_at: Timestamp,
}

/// A failed-login policy for one kind of key (an account, a client address): the first
/// `free` failures cost nothing, each further one doubles a wait (`backoff`, `2 × backoff`,
/// …), and `max_failures` within `window` seconds lock the key for `lockout` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures within the window that cost no wait (typos).
    pub free: u32,
    /// Failures within the window that lock the key.
    pub max_failures: u32,
    /// Seconds a failure counts for (a failure after the window restarts the count).
    pub window: i64,
    /// Seconds a locked key stays locked.
    pub lockout: i64,
    /// Seconds of wait after the first failure past `free`, doubled by each further one
    /// (0: none).
    pub backoff: i64,
}

impl ThrottlePolicy {
    /// Until when a key may not try again after its `failures`th failure at `at`.
    pub fn blocked_until(&self, failures: u32, at: Timestamp) -> Timestamp {
        if failures >= self.max_failures {
            return at.saturating_add(self.lockout);
        }
        if failures <= self.free || self.backoff <= 0 {
            return at;
        }
        let doublings = (failures - self.free - 1).min(30);
        let wait = self
            .backoff
            .saturating_mul(1i64 << doublings)
            .min(self.lockout);
        at.saturating_add(wait)
    }
}

/// What a user update does to the user's sessions, in the same transaction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Revoke<'a> {
    /// Sessions stay as they are.
    #[default]
    Nothing,
    /// Every session of the user is revoked.
    All,
    /// Every session of the user but this one is revoked.
    AllBut(&'a str),
}

impl<'a> Revoke<'a> {
    /// `None` when nothing is revoked, else the one session to keep, if any.
    pub fn keeping(self) -> Option<Option<&'a str>> {
        match self {
            Revoke::Nothing => None,
            Revoke::All => Some(None),
            Revoke::AllBut(id) => Some(Some(id)),
        }
    }
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("roles", &self.roles)
            .field("enabled", &self.enabled)
            .field("password_hash", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// A user to create (the store assigns `id`, ignores it here).
pub type NewUser = User;

impl User {
    /// A blank user with a name and hash, enabled, no role, timestamps `now`.
    pub fn blank(name: impl Into<String>, password_hash: impl Into<String>) -> Self {
        let t = now();
        User {
            id: 0,
            name: name.into(),
            alias: String::new(),
            phone: String::new(),
            email: None,
            email_verified: false,
            phone_verified: false,
            did: String::new(),
            remark: String::new(),
            password_hash: password_hash.into(),
            roles: Vec::new(),
            enabled: true,
            department_id: None,
            parent_id: None,
            creator: String::new(),
            attributes: BTreeMap::new(),
            login_time: None,
            login_ip: String::new(),
            created_at: t,
            updated_at: t,
        }
    }

    /// The roles held everywhere, in the order assigned.
    pub fn global_roles(&self) -> impl Iterator<Item = RoleId> + '_ {
        self.roles
            .iter()
            .filter(|a| a.scope.is_none())
            .map(|a| a.role_id)
    }

    /// Whether the user holds `role` anywhere (globally or in any scope).
    pub fn holds_role(&self, role: RoleId) -> bool {
        self.roles.iter().any(|a| a.role_id == role)
    }

    /// Replaces the global roles with `roles` (in that order), keeping scoped ones.
    pub fn set_global_roles(&mut self, roles: impl IntoIterator<Item = RoleId>) {
        let scoped: Vec<Assignment> = self
            .roles
            .iter()
            .filter(|a| a.scope.is_some())
            .copied()
            .collect();
        let mut global: Vec<Assignment> = Vec::new();
        for role in roles {
            let a = Assignment::global(role);
            if !global.contains(&a) {
                global.push(a);
            }
        }
        global.extend(scoped);
        self.roles = global;
    }
}

/// A role: a named set of privilege codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// Store-assigned id.
    pub id: RoleId,
    /// Unique name.
    pub name: String,
    /// Free-text description.
    pub remark: String,
    /// Name of the creating user.
    pub creator: String,
    /// Whether this is the built-in super-admin role.
    pub builtin: bool,
    /// The stable key of a role the application seeds (`None` for roles users create):
    /// surfaces find their roles by it, never by the editable name.
    pub system_key: Option<String>,
    /// A disabled role grants nothing.
    pub enabled: bool,
    /// The privilege codes granted, sorted.
    pub privileges: Vec<String>,
    /// The roles it includes (a composite role confers theirs too), by id, sorted.
    pub includes: Vec<RoleId>,
    /// Its members must enrol a second factor before they reach anything but enrolment.
    pub requires_second_factor: bool,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last update time.
    pub updated_at: Timestamp,
}

impl Role {
    /// A new enabled, non-built-in role with no privileges.
    pub fn new(
        name: impl Into<String>,
        remark: impl Into<String>,
        creator: impl Into<String>,
    ) -> Self {
        let t = now();
        Role {
            id: 0,
            name: name.into(),
            remark: remark.into(),
            creator: creator.into(),
            builtin: false,
            system_key: None,
            enabled: true,
            privileges: Vec::new(),
            includes: Vec::new(),
            requires_second_factor: false,
            created_at: t,
            updated_at: t,
        }
    }
}

pub(crate) use crate::factors::{Factors, TotpFactor};

/// How a session's credential is presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionKind {
    /// A signed JWT whose `sid` claim is the session id.
    Jwt = 1,
    /// An opaque random token whose SHA-256 is the session id.
    Opaque = 2,
    /// A project's API key and secret (no stored session; the principal acts as the
    /// project's owner).
    ApiKey = 3,
    /// A login whose password was right and whose second factor is awaited: a
    /// short-lived, single-use challenge that never authenticates a request.
    Challenge = 4,
}

impl SessionKind {
    /// The stored number.
    pub fn as_i16(self) -> i16 {
        self as i16
    }

    /// From the stored number.
    pub fn from_i16(v: i16) -> Self {
        match v {
            2 => SessionKind::Opaque,
            3 => SessionKind::ApiKey,
            4 => SessionKind::Challenge,
            _ => SessionKind::Jwt,
        }
    }
}

/// The server-side record of one login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The JWT `sid`, or the hex SHA-256 of an opaque token.
    pub id: String,
    /// The session's user.
    pub user_id: UserId,
    /// How the credential is presented.
    pub kind: SessionKind,
    /// Issue time.
    pub issued_at: Timestamp,
    /// Expiry time (extended by sliding sessions).
    pub expires_at: Timestamp,
    /// Last use recorded in the store.
    pub last_seen: Timestamp,
    /// Revoked sessions never authenticate again.
    pub revoked: bool,
    /// Client address at login.
    pub ip: String,
    /// The factors the login proved.
    pub factors: Factors,
    /// When they were proven (the login, or a later step-up).
    pub verified_at: Timestamp,
    /// The client's `User-Agent` at login (at most 256 characters).
    pub user_agent: String,
}

impl Session {
    /// A live session of `user_id` begun now by a password, until `expires_at` (no client
    /// address or agent recorded): what an application that keeps its own sessions stores
    /// for the layer to read.
    pub fn new(
        id: impl Into<String>,
        user_id: UserId,
        kind: SessionKind,
        expires_at: Timestamp,
    ) -> Self {
        let t = now();
        Session {
            id: id.into(),
            user_id,
            kind,
            issued_at: t,
            expires_at,
            last_seen: t,
            revoked: false,
            ip: String::new(),
            factors: Factors::PASSWORD,
            verified_at: t,
            user_agent: String::new(),
        }
    }
}

/// The operation-log category (`oper_type`) of an audit entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuditCategory {
    /// 1 = home (login, logout, own password).
    Home = 1,
    /// 2 = system management (users, roles, grants).
    System = 2,
    /// 3 = project management.
    Project = 3,
    /// 4 = resource management.
    Resource = 4,
    /// 5 = alert centre.
    Alert = 5,
}

/// One operation-log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Store-assigned id.
    pub id: i64,
    /// The acting user (`None` for anonymous actions such as a failed login).
    pub user_id: Option<UserId>,
    /// The acting user's name at the time (`oper_user`).
    pub user_name: String,
    /// The category (`oper_type`).
    pub category: i32,
    /// When (`oper_time`).
    pub time: Timestamp,
    /// What was done, naming the target (`oper_content`).
    pub content: String,
    /// Whether the action succeeded.
    pub success: bool,
}

/// An audit entry to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAudit {
    /// The acting user.
    pub user_id: Option<UserId>,
    /// The acting user's name.
    pub user_name: String,
    /// The category.
    pub category: AuditCategory,
    /// What was done.
    pub content: String,
    /// Whether it succeeded.
    pub success: bool,
}

/// A cache-relevant change, published to every instance's caches.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Change {
    /// A role's grants, name or enabled flag changed, or it was deleted.
    Role(RoleId),
    /// A user's role, enabled flag or existence changed: every session of the user is re-read.
    User(UserId),
    /// One session was revoked or changed.
    Session(String),
    /// A project was deleted or its key changed: its cached key state is dropped.
    Project(ProjectId),
    /// A scope's parent changed: every effective set within it is rebuilt.
    Scope(Scope),
}

impl Change {
    /// The stored kind number and target.
    pub fn encode(&self) -> (i16, String) {
        match self {
            Change::Role(id) => (1, id.to_string()),
            Change::User(id) => (2, id.to_string()),
            Change::Session(id) => (3, id.clone()),
            Change::Project(id) => (4, id.to_string()),
            Change::Scope(scope) => (5, scope.to_string()),
        }
    }

    /// From the stored kind number and target.
    pub fn decode(kind: i16, target: &str) -> Option<Change> {
        match kind {
            1 => target.parse().ok().map(Change::Role),
            2 => target.parse().ok().map(Change::User),
            3 => Some(Change::Session(target.to_string())),
            4 => target.parse().ok().map(Change::Project),
            5 => Scope::parse(target).map(Change::Scope),
            _ => None,
        }
    }
}

/// What a write records besides itself, in the same transaction: its audit entry and its changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Journal {
    /// The audit entry, if the write is audited.
    pub audit: Option<NewAudit>,
    /// The changes other instances must apply to their caches.
    pub changes: Vec<Change>,
    /// The security events the write records.
    pub events: Vec<crate::events::NewEvent>,
}

impl Journal {
    /// A journal with an audit entry and no changes.
    pub fn audit(audit: NewAudit) -> Self {
        Journal {
            audit: Some(audit),
            ..Journal::default()
        }
    }

    /// Adds a change.
    pub fn with(mut self, change: Change) -> Self {
        self.changes.push(change);
        self
    }

    /// Adds a security event.
    #[cfg_attr(not(feature = "events"), allow(unused_mut))]
    pub fn event(mut self, event: crate::events::NewEvent) -> Self {
        // Without the `events` feature no security event is recorded.
        #[cfg(feature = "events")]
        self.events.push(event);
        #[cfg(not(feature = "events"))]
        drop(event);
        self
    }
}

/// Paging as the documents define it: `page_no` from 0, `page_size` 0 = all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Page {
    /// Rows to skip.
    pub offset: u64,
    /// Rows to return; `None` = all.
    pub limit: Option<u64>,
}

impl Page {
    /// Every row.
    pub const ALL: Page = Page {
        offset: 0,
        limit: None,
    };

    /// From the documents' `page_no`/`page_size`.
    pub fn numbered(page_no: u64, page_size: u64) -> Self {
        if page_size == 0 {
            Page::ALL
        } else {
            Page {
                offset: page_no.saturating_mul(page_size),
                limit: Some(page_size),
            }
        }
    }

    /// Offset and limit, capped to what SQL backends accept.
    pub fn sql_bounds(&self) -> (i64, i64) {
        let offset = self.offset.min(i64::MAX as u64) as i64;
        let limit = self.limit.unwrap_or(i64::MAX as u64).min(i64::MAX as u64) as i64;
        (offset, limit)
    }
}

/// Which way a list is ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
// Exhaustive on purpose: every store (or layer) interprets each variant, and a new one
// must fail their builds rather than fall into a default.
pub enum Order {
    /// Oldest first (ascending id).
    #[default]
    OldestFirst,
    /// Newest first (descending id).
    NewestFirst,
}

/// A filter over users.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserQuery {
    /// Name contains this substring (case-sensitive).
    pub name_contains: Option<String>,
    /// Only sub-accounts of this user.
    pub parent_id: Option<UserId>,
    /// Order of the rows.
    pub order: Order,
    /// Which rows.
    pub page: Page,
}

/// A filter over audit entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only entries by this user name (exact).
    pub user_name: Option<String>,
    /// Only this category.
    pub category: Option<i32>,
    /// At or after this time.
    pub from: Option<Timestamp>,
    /// At or before this time.
    pub to: Option<Timestamp>,
    /// Leaves out the entries of users stronger than a reader (`None`: nothing left out).
    pub outranking: Option<Outranking>,
    /// Which rows (newest first).
    pub page: Page,
}

/// Whose operation-log entries a reader may not see: those by users stronger than it (their
/// actions and the addresses they log in from). The reader's own are always seen, and
/// anonymous ones (failed logins of unknown names).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outranking {
    /// The reader.
    pub reader: UserId,
    /// Entries by users holding any of these roles, in any scope, are left out.
    pub roles: Vec<RoleId>,
    /// Entries by these users are left out.
    pub users: Vec<UserId>,
}

/// A page of rows and the full count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing<T> {
    /// The rows of the page.
    pub rows: Vec<T>,
    /// How many rows match in all.
    pub total: u64,
}

/// An organisation: a generic grouping of users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    /// The organisation's id, as the documents number it.
    pub id: i64,
    /// Its display name.
    pub name: String,
}

/// A one-time verification code as stored: the code itself only as a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationCode {
    /// What the code verifies and where it went (`sms-register:<phone>`, …).
    pub key: String,
    /// Hex SHA-256 of the key and the code.
    pub digest: String,
    /// What the code was issued for (an organisation id, …); it must match on use.
    pub context: String,
    /// When it was sent.
    pub sent_at: Timestamp,
    /// When it stops being accepted.
    pub expires_at: Timestamp,
}

/// What using a verification code found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodeCheck {
    /// The code matched; it is deleted and can never be used again.
    Accepted,
    /// The code did not match; the attempt counted, and `burned` says the code is gone.
    Wrong {
        /// Whether this attempt was the last one the code allowed.
        burned: bool,
    },
    /// The code expired (and is deleted).
    Expired,
    /// No code is pending for the key.
    Missing,
    /// A code is pending but was issued for another context; no attempt is counted.
    OtherContext,
}

/// A project's id.
pub type ProjectId = i64;

/// A project: an API key and secret its owner's programs call with, and their request
/// counters.
#[derive(Clone, PartialEq, Eq)]
pub struct Project {
    /// Store-assigned id.
    pub id: ProjectId,
    /// The user who owns it.
    pub owner_id: UserId,
    /// Display name (`project_name`).
    pub name: String,
    /// The document's `project_type`.
    pub kind: i32,
    /// The API key (16 characters, unique).
    pub key: String,
    /// The API secret (48 characters). Rendered to its owner, never logged.
    pub secret: String,
    /// A deleted project's key no longer authenticates; it is not listed.
    pub deleted: bool,
    /// Requests ever counted.
    pub request_total: i64,
    /// Requests counted on `request_day`.
    pub request_today: i64,
    /// The UTC day (days since the epoch) `request_today` counts.
    pub request_day: i64,
    /// Requests allowed per UTC day.
    pub request_max: i64,
    /// Resource pool (`pool_id`; 0 = none).
    pub pool_id: i64,
    /// Resource pool name.
    pub pool_name: String,
    /// Creation time.
    pub created_at: Timestamp,
}

impl fmt::Debug for Project {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Project")
            .field("id", &self.id)
            .field("owner_id", &self.owner_id)
            .field("key", &self.key)
            .field("secret", &"<redacted>")
            .field("deleted", &self.deleted)
            .finish_non_exhaustive()
    }
}

/// The UTC day number of a time (days since 1970-01-01).
pub fn utc_day(at: Timestamp) -> i64 {
    at.div_euclid(86_400)
}

/// Requests to add to one project's counters, counted on one UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestCount {
    /// The project.
    pub project: ProjectId,
    /// The UTC day the requests were made.
    pub day: i64,
    /// How many.
    pub requests: i64,
}
