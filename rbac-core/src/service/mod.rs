//! The use-cases: accounts, user admin, role admin and grants, audit queries.
//!
//! [`Rbac`] is the one handle surfaces call. Each method checks its own rules (privileges,
//! uniqueness, grantability, the built-in admin), writes through the store with its audit
//! entry and changes in one transaction, and applies the changes to this process's caches
//! before it returns, so the very next request sees them.

mod accounts;
mod audit;
mod bootstrap;
mod builder;
mod containment;
mod iam;
mod limits;
mod operator;
mod projects;
mod roles;
mod signup;
mod throttle;
mod users;
pub mod validate;

use std::sync::Arc;
use std::time::Duration;

pub use accounts::{LoginInput, LoginOutcome, Token};
pub use audit::{as_data, AuditFilter};
pub use builder::RbacBuilder;
pub use limits::{AbuseLimits, Channel};
pub use operator::{is_supported_hash, ImportedUser};
pub use projects::{EmailRegistration, PROJECT_KEY_CHARS, PROJECT_SECRET_CHARS, REGISTERED_ROLE};
pub use roles::{InquiryTarget, RoleUpdate};
pub use signup::{
    default_organisations, CodePolicy, PrimaryRegistration, SubAccount, PRIMARY_ROLE,
    SUB_ACCOUNT_ROLE,
};
pub use throttle::{account_key, LoginThrottle};
pub use users::{UserEdit, UserInput, UserView};

use crate::authorizer::{Authorizer, AuthorizerConfig, Principal};
use crate::error::Result;
use crate::model::{AuditCategory, Journal, NewAudit, Organisation, Page};
use crate::notify::Senders;
use crate::password::{HasherConfig, PasswordHasher};
use crate::privilege::PrivilegeRegistry;
use crate::store::Store;
use crate::token::JwtCodec;

/// The name of the built-in super-admin role and user.
pub const ADMIN: &str = "admin";

/// A role the application seeds at bootstrap and finds by its stable key, never by its
/// name: a renamed role cannot take a system role's place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SystemRole {
    /// The stable key stored with the role.
    pub key: &'static str,
    /// The name it is created with (reserved: no other role may take it).
    pub name: &'static str,
    /// Its description.
    pub remark: &'static str,
    /// The privileges it is created with.
    pub privileges: &'static [&'static str],
}

/// The roles bootstrap seeds besides the built-in admin role (whose key is [`ADMIN`]).
pub const SYSTEM_ROLES: &[SystemRole] = &[
    SystemRole {
        key: PRIMARY_ROLE,
        name: PRIMARY_ROLE,
        remark: "console primary accounts",
        privileges: &["SubAccountAdd"],
    },
    SystemRole {
        key: SUB_ACCOUNT_ROLE,
        name: SUB_ACCOUNT_ROLE,
        remark: "console sub-accounts",
        privileges: &[],
    },
    SystemRole {
        key: REGISTERED_ROLE,
        name: REGISTERED_ROLE,
        remark: "self-registered gateway users",
        privileges: &[],
    },
];

/// Whether no role but a system role may carry `name`.
pub fn is_reserved_role_name(name: &str) -> bool {
    name == ADMIN || SYSTEM_ROLES.iter().any(|r| r.name == name)
}

/// Setting key of the generated JWT secret.
pub const JWT_SECRET_SETTING: &str = "jwt_secret";

/// Settings of the use-cases.
#[derive(Debug, Clone)]
pub struct RbacConfig {
    /// Lifetime of an issued JWT session.
    pub token_ttl: Duration,
    /// Password hashing.
    pub hasher: HasherConfig,
    /// Caches.
    pub cache: AuthorizerConfig,
    /// The version string login reports.
    pub version: String,
    /// Failed-login throttling per account and per client address.
    pub throttle: LoginThrottle,
    /// Hourly limits on unauthenticated work (sign-ups, codes).
    pub limits: AbuseLimits,
    /// Verification codes.
    pub codes: CodePolicy,
    /// The organisations to store at bootstrap (the defaults and any configured).
    pub organisations: Vec<Organisation>,
    /// The roles bootstrap seeds under stable keys, besides `admin` (what registration
    /// paths assign). [`Rbac::builder`] starts with none.
    pub system_roles: Vec<SystemRole>,
    /// Requests a new project's API key may make per UTC day.
    pub project_request_max: i64,
}

impl Default for RbacConfig {
    fn default() -> Self {
        RbacConfig {
            token_ttl: Duration::from_secs(12 * 3600),
            hasher: HasherConfig::default(),
            cache: AuthorizerConfig::default(),
            version: concat!("v", env!("CARGO_PKG_VERSION")).to_string(),
            throttle: LoginThrottle::default(),
            limits: AbuseLimits::default(),
            codes: CodePolicy::default(),
            organisations: default_organisations(),
            system_roles: SYSTEM_ROLES.to_vec(),
            project_request_max: 30,
        }
    }
}

struct Inner {
    store: Arc<dyn Store>,
    authorizer: Arc<Authorizer>,
    hasher: PasswordHasher,
    config: RbacConfig,
    senders: Senders,
    gate: Arc<throttle::LoginGate>,
}

/// The use-case services over one store.
#[derive(Clone)]
pub struct Rbac {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Rbac {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rbac").finish_non_exhaustive()
    }
}

impl Rbac {
    /// Builds the services and loads the role snapshot; messages go to the log.
    pub async fn new(
        store: Arc<dyn Store>,
        registry: Arc<PrivilegeRegistry>,
        jwt: JwtCodec,
        config: RbacConfig,
    ) -> Result<Self> {
        Self::new_with(store, registry, jwt, config, Senders::default()).await
    }

    /// Builds the services with the given message senders and loads the role snapshot.
    pub async fn new_with(
        store: Arc<dyn Store>,
        registry: Arc<PrivilegeRegistry>,
        jwt: JwtCodec,
        config: RbacConfig,
        senders: Senders,
    ) -> Result<Self> {
        let hasher = PasswordHasher::new(&config.hasher)?;
        let authorizer = Arc::new(Authorizer::new(
            store.clone(),
            registry,
            Arc::new(jwt),
            &config.cache,
        ));
        authorizer.load_roles().await?;
        Ok(Rbac {
            inner: Arc::new(Inner {
                store,
                authorizer,
                hasher,
                config,
                senders,
                gate: Arc::default(),
            }),
        })
    }

    /// The authorizer (the hot path the tower layer uses).
    pub fn authorizer(&self) -> &Arc<Authorizer> {
        &self.inner.authorizer
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// The password hasher.
    pub fn hasher(&self) -> &PasswordHasher {
        &self.inner.hasher
    }

    /// The settings.
    pub fn config(&self) -> &RbacConfig {
        &self.inner.config
    }

    /// Verifies a token (a JWT or an opaque console token) and its session.
    pub async fn authenticate(&self, token: &str) -> Result<Principal> {
        self.inner.authorizer.authenticate_token(token).await
    }

    fn journal(
        &self,
        actor: Option<&Principal>,
        category: AuditCategory,
        content: String,
    ) -> Journal {
        Journal::audit(NewAudit {
            user_id: actor.map(|a| a.user_id),
            user_name: actor.map_or_else(String::new, |a| a.user_name.to_string()),
            category,
            content,
            success: true,
        })
    }

    async fn applied(&self, journal: &Journal) {
        self.inner.authorizer.apply_changes(&journal.changes).await;
    }

    fn require(&self, actor: &Principal, code: &str) -> Result<()> {
        self.inner.authorizer.require_code(actor, code)
    }

    fn holds(&self, actor: &Principal, code: &str) -> bool {
        self.require(actor, code).is_ok()
    }

    /// Every role, for rendering names (small; roles are few).
    async fn role_names(&self) -> Result<std::collections::HashMap<i64, String>> {
        let roles = self.inner.store.list_roles(Page::ALL).await?;
        Ok(roles.rows.into_iter().map(|r| (r.id, r.name)).collect())
    }
}

/// A random URL-safe string of `bytes` random bytes (base64, no padding).
pub fn random_token(bytes: usize) -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}
