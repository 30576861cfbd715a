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

mod journal;
mod listing;
mod records;
mod sessions;

pub use journal::*;
pub use listing::*;
pub use records::*;
pub use sessions::*;

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
    /// Free-text description.
    pub remark: String,
    /// PHC string (argon2id) or imported bcrypt hash. Never rendered.
    pub password_hash: String,
    /// The roles the user holds, globally or within a scope, in the order assigned.
    pub roles: Vec<Assignment>,
    /// Whether the account may log in.
    pub enabled: bool,
    /// The tenant the user belongs to (a scope: `org:5`): a login through a tenant's door
    /// ([`LoginInput::tenant`](crate::service::LoginInput)) admits only its users.
    pub tenant: Option<crate::authz::scope::Scope>,
    /// The account that created this one as its member
    /// ([`create_member`](crate::service::Users::create_member)).
    pub member_of: Option<UserId>,
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
            remark: String::new(),
            password_hash: password_hash.into(),
            roles: Vec::new(),
            enabled: true,
            tenant: None,
            member_of: None,
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
