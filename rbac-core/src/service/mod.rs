//! The use-cases: accounts, user admin, role admin and grants, audit queries.
//!
//! [`Rbac`] is the one handle surfaces call. Each method checks its own rules (privileges,
//! uniqueness, grantability, the built-in admin), writes through the store with its audit
//! entry and changes in one transaction, and applies the changes to this process's caches
//! before it returns, so the very next request sees them.
//!
//! ```
//! # async fn run() -> Result<(), rbac_core::Error> {
//! use rbac_core::service::UserInput;
//! use rbac_core::{MemoryStore, Rbac};
//!
//! # let config = rbac_core::RbacConfig { hasher: rbac_core::HasherConfig { memory_kib: 64, iterations: 1, parallelism: 1, ..Default::default() }, ..Default::default() };
//! let rbac = Rbac::builder(MemoryStore::new())
//!     .secret("at least 32 bytes of signing secret")
//!     .privileges(["RecordRead", "RecordWrite"])
//! #   .config(config)
//!     .build()
//!     .await?;
//! let system = rbac.system().await?;
//! rbac.roles().define(&system, "nurse", ["RecordRead"], Vec::<&str>::new()).await?;
//! let user = UserInput { name: "house".into(), password: "House-password-1".into(), ..Default::default() };
//! rbac.users().create(Some(&system), user).await?;
//! rbac.assignments().assign(&system, "house", "nurse", None).await?;
//! let held = rbac.assignments().of_user(&system, "house").await?;
//! assert_eq!(held.len(), 1);
//! # Ok(()) }
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(run()).unwrap();
//! ```

mod accounts;
mod activity;
mod assignments;
mod audit;
mod bootstrap;
mod builder;
mod challenge;
mod codes;
mod containment;
mod facets;
mod inclusion;
mod limits;
mod listing;
mod named;
mod noise;
mod operator;
#[cfg(feature = "passkeys")]
mod passkeys;
mod passwords;
mod projects;
mod registration;
mod roles;
mod second_factor;
mod sessions;
mod step_up;
mod system;
mod throttle;
mod users;
pub mod validate;
mod vocabulary;

use std::sync::Arc;
use std::time::Duration;

pub use accounts::{LoginInput, LoginOutcome, Token};
pub use activity::{Hourly, LoginActivity, ACTIVITY_HOURS};
pub use assignments::HeldRole;
pub use audit::{as_data, AuditFilter};
pub use builder::RbacBuilder;
pub use challenge::{Challenge, LoginStep, SecondFactorInput};
pub use codes::{CodePolicy, CodeProof};
pub use facets::{Assignments, Audit, Keys, Roles, SecondFactors, Sessions, Users};
pub use inclusion::MAX_INCLUDED;
pub use limits::{AbuseLimits, Channel};
pub use listing::{Rows, CHUNK, FIRST_CHUNK};
pub use operator::{is_supported_hash, ImportOutcome, ImportedUser};
#[cfg(feature = "passkeys")]
pub use passkeys::{PasskeyOptions, PasskeyView};
pub use projects::{PROJECT_KEY_CHARS, PROJECT_SECRET_CHARS};
pub use registration::{Member, Registration};
pub use roles::{InquiryTarget, RoleUpdate};
pub use second_factor::SecondFactorStatus;
#[cfg(feature = "totp")]
pub use second_factor::TotpEnrolment;
pub use sessions::{SessionView, SESSIONS_LISTED};
pub use step_up::Sensitive;
pub use system::{SYSTEM_NAME, SYSTEM_USER_ID};
pub use throttle::{account_key, LoginThrottle};
pub use users::{UserEdit, UserInput, UserView};
pub use vocabulary::AdminPrivileges;

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
    /// The organisations to store at bootstrap (none by default).
    pub organisations: Vec<Organisation>,
    /// The roles bootstrap seeds under stable keys, besides `admin` (what registration
    /// paths assign); none by default.
    pub system_roles: Vec<SystemRole>,
    /// The privilege codes the administrative use-cases check.
    pub admin: AdminPrivileges,
    /// Requests a new project's API key may make per UTC day.
    pub project_request_max: i64,
    /// The most roles one user may hold (global and scoped assignments together).
    pub assignment_cap: usize,
    /// The scope kinds assignments may name (none by default: roles hold everywhere).
    pub scope_kinds: crate::scope::ScopeKinds,
    /// The key sealing second-factor secrets (none: second factors cannot be enrolled).
    pub secrets_key: Option<crate::secrets::SecretsKey>,
    /// The issuer an authenticator app shows beside TOTP codes.
    pub totp_issuer: String,
    /// How long a login's second-factor challenge stays open.
    pub challenge_ttl: Duration,
    /// How recent a session's login must be to begin enrolling a second factor without
    /// giving the password again.
    pub enrolment_window: Duration,
    /// How recently an actor with a second factor must have proven one to perform a
    /// [`Sensitive`] use-case (actors without one are not asked).
    pub step_up: Duration,
    /// The relying party passkeys are bound to (none: passkeys cannot be registered).
    pub relying_party: Option<crate::passkeys::RelyingParty>,
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
            organisations: Vec::new(),
            system_roles: Vec::new(),
            admin: AdminPrivileges::default(),
            project_request_max: 30,
            assignment_cap: 32,
            scope_kinds: crate::scope::ScopeKinds::default(),
            secrets_key: None,
            totp_issuer: "rbac".to_string(),
            challenge_ttl: Duration::from_secs(300),
            enrolment_window: Duration::from_secs(600),
            step_up: Duration::from_secs(900),
            relying_party: None,
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
    #[cfg(feature = "passkeys")]
    webauthn: Option<webauthn_rs::Webauthn>,
    activity: LoginActivity,
    unknown_names: noise::UnknownNameFailures,
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
        #[cfg(feature = "passkeys")]
        let webauthn = match &config.relying_party {
            Some(rp) => Some(rp.verifier().map_err(crate::error::Error::BadRequest)?),
            None => None,
        };
        #[cfg(not(feature = "passkeys"))]
        if config.relying_party.is_some() {
            return Err(crate::error::Error::BadRequest(
                "a relying party is set but passkeys are not compiled in: enable rbac-core's `passkeys` feature".into(),
            ));
        }
        let authorizer = Arc::new(Authorizer::new(
            store.clone(),
            registry,
            Arc::new(jwt),
            &config.cache,
        ));
        authorizer.load_roles().await?;
        authorizer.load_scope_parents().await?;
        Ok(Rbac {
            inner: Arc::new(Inner {
                store,
                authorizer,
                hasher,
                config,
                senders,
                gate: Arc::default(),
                activity: LoginActivity::default(),
                unknown_names: Default::default(),
                #[cfg(feature = "passkeys")]
                webauthn,
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

    /// Logins and failed logins per hour on this instance, the last day (kept as they
    /// happen: reading it reads no log rows).
    pub(crate) fn login_activity(&self) -> Hourly {
        self.inner.activity.last_hours(crate::model::now())
    }

    /// The message senders (SMS, e-mail).
    pub fn senders(&self) -> &Senders {
        &self.inner.senders
    }

    /// The settings.
    pub fn config(&self) -> &RbacConfig {
        &self.inner.config
    }

    /// Verifies a token (a JWT or an opaque sliding token) and its session.
    pub(crate) async fn authenticate(&self, token: &str) -> Result<Principal> {
        self.inner.authorizer.authenticate_token(token).await
    }

    fn journal(
        &self,
        actor: Option<&Principal>,
        category: AuditCategory,
        content: String,
    ) -> Journal {
        Journal::audit(NewAudit {
            // The system is audited by name alone: no user has its id.
            user_id: actor
                .map(|a| a.user_id)
                .filter(|id| *id != system::SYSTEM_USER_ID),
            user_name: actor.map_or_else(String::new, |a| a.user_name.to_string()),
            category,
            content,
            success: true,
        })
    }

    /// A security event by `actor` about `subject`.
    fn event(
        &self,
        actor: &Principal,
        kind: &'static str,
        subject: &str,
    ) -> crate::events::NewEvent {
        crate::events::NewEvent::new(kind, subject, actor.user_name.to_string())
    }

    /// The application of `journal`'s changes to this process's caches after the store
    /// write that journals them ([`Applying::write`]): applied once the write succeeded; if
    /// the caller stops waiting first (a client went away, a timeout fired), applied anyway
    /// once the store has settled the abandoned write.
    fn applying(&self, journal: &Journal) -> Applying {
        Applying {
            armed: Some((
                self.inner.store.clone(),
                self.inner.authorizer.clone(),
                journal.changes.clone(),
            )),
        }
    }

    fn require(&self, actor: &Principal, code: &str) -> Result<()> {
        self.inner.authorizer.require_code(actor, code)
    }

    /// The declared administrative privilege codes.
    fn admin(&self) -> &AdminPrivileges {
        &self.inner.config.admin
    }

    /// The most roles one user may hold.
    fn assignment_cap(&self) -> usize {
        self.inner.config.assignment_cap
    }

    /// Whether no role but a system role (or `admin`) may carry `name`.
    fn is_reserved_role_name(&self, name: &str) -> bool {
        name == ADMIN
            || self
                .inner
                .config
                .system_roles
                .iter()
                .any(|r| r.name == name)
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

use crate::caller::detached;

/// Changes to apply to this process's caches after a store write, even if the caller that
/// made the write stops waiting (see [`Rbac::applying`]).
#[must_use = "an armed application applies its changes when dropped"]
struct Applying {
    armed: Option<Pending>,
}

/// The store to wait for, the caches, and the changes to apply to them.
type Pending = (Arc<dyn Store>, Arc<Authorizer>, Vec<crate::model::Change>);

impl Applying {
    /// Waits for the store write `write`; once it succeeded, applies the changes. A write
    /// that failed changed nothing: nothing is applied.
    async fn write<T>(
        mut self,
        write: impl std::future::Future<Output = crate::store::StoreResult<T>>,
    ) -> crate::store::StoreResult<T> {
        let written = write.await;
        if written.is_ok() {
            if let Some((_, authorizer, changes)) = &self.armed {
                authorizer.apply_changes(changes).await;
            }
        }
        self.armed = None;
        written
    }
}

impl Drop for Applying {
    fn drop(&mut self) {
        let Some((store, authorizer, changes)) = self.armed.take() else {
            return;
        };
        if changes.is_empty() {
            return;
        }
        // Dropped before the write returned (or before its changes were applied): the
        // write ends on its own; apply once it has, whichever way it ended (re-reading is
        // right either way).
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                store.settled().await;
                authorizer.apply_changes(&changes).await;
            });
        }
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
