//! The hot path: credential → principal → privilege check.
//!
//! Roles live in an immutable snapshot swapped atomically on change (`arc-swap`): a check
//! is a map lookup and a bit test, with no lock and no allocation. Sessions live in a
//! bounded moka cache that coalesces concurrent misses. Every journalled [`Change`] reaches
//! [`Authorizer::apply`], in this process at once and from other instances via the feed.
//!
//! ```
//! # async fn run() -> Result<(), rbac_core::Error> {
//! use rbac_core::service::{LoginInput, LoginStep, UserInput};
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
//! let user = UserInput { name: "ann".into(), password: "Ann-password-1".into(), roles: vec!["nurse".into()], ..Default::default() };
//! rbac.users().create(Some(&system), user).await?;
//! let login = rbac.sessions().login(&LoginInput::new("ann", "Ann-password-1", "10.0.0.7")).await?;
//! let token = login.signed_in()?.token.token;
//!
//! let ann = rbac.authorizer().authenticate_token(&token).await?;
//! assert!(rbac.authorizer().require_code(&ann, "RecordRead").is_ok());
//! assert!(rbac.authorizer().require_code(&ann, "RecordWrite").is_err());
//! # let _: Option<LoginStep> = None;
//! # Ok(()) }
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(run()).unwrap();
//! ```

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use moka::future::Cache;

use crate::authn::token::JwtCodec;
use crate::authz::port::{AuthorizerStore, ChangeSink};
use crate::authz::privilege::{PrivilegeId, PrivilegeRegistry, PrivilegeSet, Requirement};
use crate::authz::scope::Scope;
use crate::error::{AuthFailure, Error, Result};
#[cfg(feature = "api-keys")]
use crate::keys::meter::{KeyMeter, RequestMeters};
#[cfg(feature = "api-keys")]
use crate::keys::port::ApiKeyStore;
#[cfg(feature = "api-keys")]
use crate::model::ApiKeyId;
use crate::model::{now, Change, Role, RoleId, SessionKind, Timestamp, UserId};
use crate::stats::ShardedCounter;

mod bundles;
mod invalidation;
#[cfg(feature = "api-keys")]
mod keys;
mod roles;
mod scopes;
mod sessions;

pub use crate::authz::scope::MAX_SCOPE_DEPTH;
pub use bundles::Grants;
use bundles::{Interner, Snapshot};
pub use scopes::ScopeKey;
use sessions::SessionState;

/// Who a request acts as, once its credential is verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user.
    pub user_id: UserId,
    /// The user's name.
    pub user_name: Arc<str>,
    /// The roles the user holds, resolved to what they confer.
    pub grants: Arc<Grants>,
    /// The session the credential belongs to.
    pub session_id: Arc<str>,
    /// How the credential was presented.
    pub kind: SessionKind,
    /// The factors the credential's login proved (an API key: none).
    pub factors: crate::model::Factors,
    /// When they were proven (unix seconds; 0 when unknown).
    pub verified_at: Timestamp,
    /// A role of the user requires a second factor the user has not enrolled: only
    /// enrolment (and logout) may proceed.
    pub enrolment_required: bool,
    /// The user has a second factor enrolled (always for an API key, which proves none, so
    /// that routes asking a second factor refuse it).
    pub second_factor_enrolled: bool,
}

/// The name of the built-in super-admin role and user.
pub const ADMIN: &str = "admin";

/// The user id of the system principal: no user has it (stored ids start at 1), so no
/// credential ever authenticates as the system.
pub const SYSTEM_USER_ID: UserId = 0;

/// The name the system principal is audited under.
pub const SYSTEM_NAME: &str = "system";

impl Principal {
    /// Whether this is the built-in admin user (the only one that may rename, delete or
    /// grant more to a system role, or act on the built-in admin user), or the system
    /// ([`Rbac::system`](crate::Rbac::system)), which may do what admin may.
    pub fn is_builtin_admin(&self) -> bool {
        &*self.user_name == ADMIN || self.is_system()
    }

    /// Whether this is the system principal ([`Rbac::system`](crate::Rbac::system)).
    pub fn is_system(&self) -> bool {
        self.user_id == SYSTEM_USER_ID && &*self.user_name == SYSTEM_NAME
    }
}

/// A role as the hot path sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleGrant {
    /// The role id.
    pub id: RoleId,
    /// The role name.
    pub name: Arc<str>,
    /// A disabled role grants nothing.
    pub enabled: bool,
    /// The built-in super-admin role holds every privilege.
    pub builtin: bool,
    /// The privileges granted to the role itself.
    pub privileges: PrivilegeSet,
    /// The roles it includes directly.
    pub includes: Vec<RoleId>,
    /// What it confers now: its own privileges and those of the enabled roles it includes,
    /// transitively; nothing while it is disabled.
    pub confers: PrivilegeSet,
    /// Everything it could confer: its own and every included role's, enabled or not
    /// (what containment compares).
    pub reach: PrivilegeSet,
    /// Its members must enrol a second factor before they reach anything but enrolment.
    pub requires_second_factor: bool,
    /// The snapshot epoch its read began at: orders reloads that overlap.
    pub epoch: u64,
}

impl RoleGrant {
    /// The grant of a stored role, before inclusion is settled over the whole snapshot.
    pub fn of(role: &Role, registry: &PrivilegeRegistry) -> Self {
        let privileges = if role.builtin {
            registry.all()
        } else {
            registry.set_of_known(role.privileges.iter().map(String::as_str))
        };
        RoleGrant {
            id: role.id,
            name: Arc::from(role.name.as_str()),
            enabled: role.enabled,
            builtin: role.builtin,
            confers: if role.enabled {
                privileges.clone()
            } else {
                PrivilegeSet::default()
            },
            reach: privileges.clone(),
            privileges,
            includes: role.includes.clone(),
            requires_second_factor: role.requires_second_factor,
            epoch: 0,
        }
    }

    /// The privileges the role confers right now (none when disabled).
    #[inline]
    pub fn effective(&self) -> Option<&PrivilegeSet> {
        self.enabled.then_some(&self.confers)
    }
}

/// A hasher for integer ids: one multiply, no SipHash on the hot path.
#[derive(Default, Clone, Copy)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 =
                (self.0.rotate_left(5) ^ u64::from(*b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    #[inline]
    fn write_i64(&mut self, n: i64) {
        self.0 = (n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
}

type RoleTable = HashMap<RoleId, Arc<RoleGrant>, BuildHasherDefault<IdHasher>>;

/// A number for a new authorizer, never 0 and never reused in this process.
fn next_origin() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Cache sizes and lifetimes.
#[derive(Debug, Clone)]
pub struct AuthorizerConfig {
    /// Most sessions kept in the cache.
    pub session_capacity: u64,
    /// How long a cached session state may be used before it is re-read (a safety net;
    /// changes invalidate entries at once).
    pub session_ttl: Duration,
    /// How long an opaque (sliding) session lives after its last use.
    pub sliding_ttl: Duration,
    /// The least time between two extensions of a sliding session's stored expiry, so
    /// that using a token does not write to the store on every request.
    pub sliding_interval: Duration,
    /// The absolute lifetime of an opaque session: however often it is used, it ends
    /// this long after it was issued.
    pub sliding_max: Duration,
}

impl Default for AuthorizerConfig {
    fn default() -> Self {
        AuthorizerConfig {
            session_capacity: 100_000,
            session_ttl: Duration::from_secs(60),
            sliding_ttl: Duration::from_secs(2 * 3600),
            sliding_interval: Duration::from_secs(60),
            sliding_max: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// Cache counters, for metrics (sharded: bumping them never contends across threads).
#[derive(Debug, Default)]
pub struct CacheStats {
    /// Session lookups answered from the cache.
    pub session_hits: ShardedCounter,
    /// Session lookups that read the store.
    pub session_misses: ShardedCounter,
    /// Role lookups answered from the snapshot.
    pub role_hits: ShardedCounter,
    /// Role lookups that had to read the store.
    pub role_misses: ShardedCounter,
}

/// What a verified JWT says, kept so the next use skips the signature check.
#[derive(Debug)]
struct VerifiedToken {
    session_id: Arc<str>,
    user_id: UserId,
    expires_at: Timestamp,
}

/// Authenticates credentials and checks privileges against cached roles and sessions.
pub struct Authorizer {
    registry: Arc<PrivilegeRegistry>,
    /// The roles, the bundles of roles principals hold and the scope parents, swapped
    /// together.
    snapshot: ArcSwap<Snapshot>,
    /// Role sets → bundle numbers.
    interner: Interner,
    /// This authorizer's number, which the grants it resolves carry.
    origin: u64,
    /// Bumped by every role invalidation, so a load that raced with one is not cached.
    role_epoch: AtomicU64,
    sessions: Cache<Arc<str>, Arc<SessionState>>,
    /// Tokens whose signature and claims verified: the token text → what it says. A
    /// signature cannot change, so only expiry needs re-checking on a hit.
    verified: Cache<Arc<str>, Arc<VerifiedToken>>,
    store: Arc<dyn AuthorizerStore>,
    /// The change-log position applied, with every earlier one the log showed.
    position: tokio::sync::watch::Sender<i64>,
    /// Wakes the change feed for a reader waiting on a position.
    want: tokio::sync::Notify,
    jwt: Arc<JwtCodec>,
    stats: CacheStats,
    sliding_ttl: i64,
    sliding_interval: i64,
    sliding_max: i64,
    #[cfg(feature = "api-keys")]
    /// API keys → their state (a negative entry for an unknown or revoked key), and the
    /// keys' request meters.
    keys: keys::ApiKeys,
    /// Refusals in the operation log, aggregated (the audit capability's).
    denials: crate::audit::denials::Denials,
}

impl std::fmt::Debug for Authorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorizer")
            .field("roles", &self.snapshot.load().roles.len())
            .field("sessions", &self.sessions.entry_count())
            .finish_non_exhaustive()
    }
}

impl Authorizer {
    /// An authorizer over a store; call [`Authorizer::load_roles`] before serving.
    pub fn new(
        store: Arc<dyn AuthorizerStore>,
        registry: Arc<PrivilegeRegistry>,
        jwt: Arc<JwtCodec>,
        config: &AuthorizerConfig,
    ) -> Self {
        let verified = Cache::builder()
            .max_capacity(config.session_capacity)
            .time_to_idle(Duration::from_secs(600))
            .build();
        let sessions = Cache::builder()
            .max_capacity(config.session_capacity)
            .time_to_live(config.session_ttl)
            .support_invalidation_closures()
            .build();
        Authorizer {
            registry,
            snapshot: ArcSwap::from_pointee(Snapshot::default()),
            interner: Interner::default(),
            origin: next_origin(),
            role_epoch: AtomicU64::new(0),
            sessions,
            verified,
            store,
            position: tokio::sync::watch::Sender::new(0),
            want: tokio::sync::Notify::new(),
            jwt,
            stats: CacheStats::default(),
            sliding_ttl: config.sliding_ttl.as_secs().max(1) as i64,
            sliding_interval: config.sliding_interval.as_secs() as i64,
            sliding_max: config.sliding_max.as_secs().max(1) as i64,
            #[cfg(feature = "api-keys")]
            keys: keys::ApiKeys::new(config.session_capacity, config.session_ttl),
            denials: Default::default(),
        }
    }

    /// The privilege registry.
    pub fn registry(&self) -> &Arc<PrivilegeRegistry> {
        &self.registry
    }

    /// The JWT codec.
    pub fn jwt(&self) -> &JwtCodec {
        &self.jwt
    }

    /// How long an opaque session lives after its last use, in seconds.
    pub fn sliding_ttl(&self) -> i64 {
        self.sliding_ttl
    }

    /// The absolute lifetime of an opaque session, in seconds.
    pub fn sliding_max(&self) -> i64 {
        self.sliding_max
    }

    /// Cache counters.
    pub fn stats(&self) -> &CacheStats {
        &self.stats
    }

    /// Whether the principal holds a privilege now (through its global roles). No lock, no
    /// allocation: one snapshot load, one lookup, a bit test.
    #[inline]
    pub fn check(&self, principal: &Principal, privilege: PrivilegeId) -> bool {
        self.snapshot
            .load()
            .confers(principal.grants.global_bundle(self.origin))
            .is_some_and(|set| set.contains(privilege))
    }

    /// Whether the principal holds a privilege within `scope`: through its global roles,
    /// those assigned in the scope, and those assigned in its ancestors.
    #[inline]
    pub fn check_in(&self, principal: &Principal, privilege: PrivilegeId, scope: &Scope) -> bool {
        let snapshot = self.snapshot.load();
        let bundle =
            principal
                .grants
                .bundle_in(self.origin, snapshot.scopes.find(scope), &snapshot.parents);
        snapshot
            .confers(bundle)
            .is_some_and(|set| set.contains(privilege))
    }

    /// Checks a requirement against the global roles; on refusal names the missing code.
    pub fn require(&self, principal: &Principal, requirement: &Requirement) -> Result<()> {
        self.require_where(principal, requirement, None)
    }

    /// Checks a requirement within `scope` (global roles, the scope's and its ancestors').
    pub fn require_in(
        &self,
        principal: &Principal,
        requirement: &Requirement,
        scope: &Scope,
    ) -> Result<()> {
        self.require_where(principal, requirement, Some(scope))
    }

    fn require_where(
        &self,
        principal: &Principal,
        requirement: &Requirement,
        scope: Option<&Scope>,
    ) -> Result<()> {
        if matches!(requirement, Requirement::Authenticated) {
            return Ok(());
        }
        let snapshot = self.snapshot.load();
        let bundle = match scope {
            Some(scope) => principal.grants.bundle_in(
                self.origin,
                snapshot.scopes.find(scope),
                &snapshot.parents,
            ),
            None => principal.grants.global_bundle(self.origin),
        };
        let empty = PrivilegeSet::default();
        let set = snapshot.confers(bundle).unwrap_or(&empty);
        requirement.check(set).map_err(|missing| Error::Forbidden {
            missing: missing
                .and_then(|p| self.registry.code(p))
                .unwrap_or("?")
                .to_string(),
        })
    }

    /// Checks a requirement against the global roles or, failing that, the roles of any one
    /// scope the principal holds roles in (a first gate before the scope is known; the
    /// action then checks its own scope).
    pub fn require_anywhere(&self, principal: &Principal, requirement: &Requirement) -> Result<()> {
        let first = self.require(principal, requirement);
        if first.is_ok() {
            return first;
        }
        let snapshot = self.snapshot.load();
        let held = principal.grants.bundles_of(self.origin).any(|bundle| {
            snapshot
                .confers(bundle)
                .is_some_and(|set| requirement.check(set).is_ok())
        });
        if held {
            Ok(())
        } else {
            first
        }
    }

    /// Checks one privilege by code.
    pub fn require_code(&self, principal: &Principal, code: &str) -> Result<()> {
        match self.registry.id(code) {
            Some(id) if self.check(principal, id) => Ok(()),
            _ => Err(Error::Forbidden {
                missing: code.to_string(),
            }),
        }
    }

    /// The privileges a principal holds now through its global roles.
    pub fn privileges_of(&self, principal: &Principal) -> PrivilegeSet {
        self.snapshot
            .load()
            .confers(principal.grants.global_bundle(self.origin))
            .cloned()
            .unwrap_or_default()
    }

    /// The privileges a principal holds now within `scope`.
    pub fn privileges_in(&self, principal: &Principal, scope: &Scope) -> PrivilegeSet {
        let snapshot = self.snapshot.load();
        let bundle =
            principal
                .grants
                .bundle_in(self.origin, snapshot.scopes.find(scope), &snapshot.parents);
        snapshot.confers(bundle).cloned().unwrap_or_default()
    }

    /// Records a refused privilege in the operation log without delaying the answer, one
    /// row per user, privilege and minute (so refused requests cannot flood the log).
    pub fn record_denial(&self, principal: &Principal, missing: &str, target: &str) {
        self.denials.record(
            &self.store,
            principal.user_id,
            &principal.user_name,
            missing,
            target,
        );
    }
}
