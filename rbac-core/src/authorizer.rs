//! The hot path: credential → principal → privilege check.
//!
//! Roles live in an immutable snapshot swapped atomically on change (`arc-swap`): a check
//! is a map lookup and a bit test, with no lock and no allocation. Sessions live in a
//! bounded moka cache that coalesces concurrent misses. Every journalled [`Change`] reaches
//! [`Authorizer::apply`], in this process at once and from other instances via the feed.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use moka::future::Cache;

use crate::error::{AuthFailure, Error, Result};
use crate::meter::{ProjectMeter, RequestMeters};
use crate::model::{now, Change, Page, ProjectId, Role, RoleId, SessionKind, Timestamp, UserId};
use crate::privilege::{PrivilegeId, PrivilegeRegistry, PrivilegeSet, Requirement};
use crate::stats::ShardedCounter;
use crate::store::{ChangeSink, Store};
use crate::token::JwtCodec;

/// Who a request acts as, once its credential is verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user.
    pub user_id: UserId,
    /// The user's name.
    pub user_name: Arc<str>,
    /// The user's role.
    pub role_id: Option<RoleId>,
    /// The session the credential belongs to.
    pub session_id: Arc<str>,
    /// How the credential was presented.
    pub kind: SessionKind,
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
    /// The granted privileges.
    pub privileges: PrivilegeSet,
}

impl RoleGrant {
    /// The grant of a stored role.
    pub fn of(role: &Role, registry: &PrivilegeRegistry) -> Self {
        RoleGrant {
            id: role.id,
            name: Arc::from(role.name.as_str()),
            enabled: role.enabled,
            builtin: role.builtin,
            privileges: if role.builtin {
                registry.all()
            } else {
                registry.set_of_known(role.privileges.iter().map(String::as_str))
            },
        }
    }

    /// The privileges the role confers right now (none when disabled).
    #[inline]
    pub fn effective(&self) -> Option<&PrivilegeSet> {
        self.enabled.then_some(&self.privileges)
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
}

type RoleTable = HashMap<RoleId, Arc<RoleGrant>, BuildHasherDefault<IdHasher>>;

/// What the session cache keeps per session: enough to rebuild the principal.
#[derive(Debug)]
struct SessionState {
    user_id: UserId,
    user_name: Arc<str>,
    role_id: Option<RoleId>,
    kind: SessionKind,
    /// The expiry as stored; a sliding session moves it forward (here and in the store).
    expires_at: AtomicI64,
    /// When the session was issued (a sliding session never outlives `sliding_max` after).
    issued_at: Timestamp,
    /// `None` when the session authenticates; otherwise why not.
    refusal: Option<AuthFailure>,
}

/// What the key cache keeps per API key: the project, its secret and its owner.
#[derive(Debug)]
struct KeyState {
    project: ProjectId,
    /// `project:<id>`, the principal's session id.
    label: Arc<str>,
    secret: String,
    owner_id: UserId,
    owner_name: Arc<str>,
    role_id: Option<RoleId>,
    meter: Option<Arc<ProjectMeter>>,
    /// `None` when the key authenticates (with the right secret); otherwise why not.
    refusal: Option<AuthFailure>,
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
    roles: ArcSwap<RoleTable>,
    /// Bumped by every role invalidation, so a load that raced with one is not cached.
    role_epoch: AtomicU64,
    sessions: Cache<Arc<str>, Arc<SessionState>>,
    /// Tokens whose signature and claims verified: the token text → what it says. A
    /// signature cannot change, so only expiry needs re-checking on a hit.
    verified: Cache<Arc<str>, Arc<VerifiedToken>>,
    store: Arc<dyn Store>,
    jwt: Arc<JwtCodec>,
    stats: CacheStats,
    sliding_ttl: i64,
    sliding_interval: i64,
    sliding_max: i64,
    /// API key → project state (a negative entry for an unknown or deleted key).
    keys: Cache<Arc<str>, Arc<KeyState>>,
    meters: RequestMeters,
    /// (user, privilege) → the minute of its last denial written to the operation log:
    /// denials are aggregated, one row per user, privilege and minute.
    denials: std::sync::Mutex<std::collections::HashMap<(UserId, String), i64>>,
}

impl std::fmt::Debug for Authorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorizer")
            .field("roles", &self.roles.load().len())
            .field("sessions", &self.sessions.entry_count())
            .finish_non_exhaustive()
    }
}

impl Authorizer {
    /// An authorizer over a store; call [`Authorizer::load_roles`] before serving.
    pub fn new(
        store: Arc<dyn Store>,
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
            roles: ArcSwap::from_pointee(RoleTable::default()),
            role_epoch: AtomicU64::new(0),
            sessions,
            verified,
            store,
            jwt,
            stats: CacheStats::default(),
            sliding_ttl: config.sliding_ttl.as_secs().max(1) as i64,
            sliding_interval: config.sliding_interval.as_secs() as i64,
            sliding_max: config.sliding_max.as_secs().max(1) as i64,
            keys: Cache::builder()
                .max_capacity(config.session_capacity)
                .time_to_live(config.session_ttl)
                .support_invalidation_closures()
                .build(),
            meters: RequestMeters::default(),
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

    /// Loads every role into the snapshot.
    pub async fn load_roles(&self) -> Result<()> {
        let epoch = self.role_epoch.load(Ordering::Acquire);
        let roles = self.store.list_roles(Page::ALL).await?;
        let table: RoleTable = roles
            .rows
            .iter()
            .map(|r| (r.id, Arc::new(RoleGrant::of(r, &self.registry))))
            .collect();
        if self.role_epoch.load(Ordering::Acquire) == epoch {
            self.roles.store(Arc::new(table));
        }
        Ok(())
    }

    /// Puts one role in the snapshot, reading it from the store if it is missing. A load
    /// that a concurrent reload overtook is not stored (it may predate that change) and is
    /// retried a few times; if changes keep racing, the role stays absent and is denied.
    pub async fn ensure_role(&self, id: RoleId) -> Result<()> {
        if self.roles.load().contains_key(&id) {
            self.stats.role_hits.incr();
            return Ok(());
        }
        self.stats.role_misses.incr();
        for _ in 0..3 {
            let epoch = self.role_epoch.load(Ordering::Acquire);
            let role = self.store.role(id).await?;
            let mut stored = false;
            self.roles.rcu(|table| {
                let mut next = RoleTable::clone(table);
                stored = self.role_epoch.load(Ordering::Acquire) == epoch;
                if stored {
                    match &role {
                        Some(r) => next.insert(id, Arc::new(RoleGrant::of(r, &self.registry))),
                        None => next.remove(&id),
                    };
                }
                next
            });
            if stored || self.roles.load().contains_key(&id) {
                break;
            }
        }
        Ok(())
    }

    /// The snapshot entry of a role, if loaded.
    pub fn role(&self, id: RoleId) -> Option<Arc<RoleGrant>> {
        self.roles.load().get(&id).cloned()
    }

    /// Whether the principal holds a privilege now. No lock, no allocation.
    #[inline]
    pub fn check(&self, principal: &Principal, privilege: PrivilegeId) -> bool {
        let Some(role) = principal.role_id else {
            return false;
        };
        match self.roles.load().get(&role) {
            Some(grant) => grant.enabled && grant.privileges.contains(privilege),
            None => false,
        }
    }

    /// Checks a requirement; on refusal names the missing privilege code.
    pub fn require(&self, principal: &Principal, requirement: &Requirement) -> Result<()> {
        if matches!(requirement, Requirement::Authenticated) {
            return Ok(());
        }
        let table = self.roles.load();
        let empty = PrivilegeSet::default();
        let set = principal
            .role_id
            .and_then(|r| table.get(&r))
            .and_then(|g| g.effective())
            .unwrap_or(&empty);
        requirement.check(set).map_err(|missing| Error::Forbidden {
            missing: missing
                .and_then(|p| self.registry.code(p))
                .unwrap_or("?")
                .to_string(),
        })
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

    /// The privileges a principal holds now.
    pub fn privileges_of(&self, principal: &Principal) -> PrivilegeSet {
        principal
            .role_id
            .and_then(|r| self.role(r))
            .and_then(|g| g.effective().cloned())
            .unwrap_or_default()
    }

    /// Verifies a JWT and its server-side session; returns the principal. A token seen
    /// before skips the signature check (its expiry is still checked every time).
    pub async fn authenticate_jwt(&self, token: &str) -> Result<Principal> {
        let verified = match self.verified.get(token).await {
            Some(v) if v.expires_at > now() => v,
            Some(_) => {
                self.verified.invalidate(token).await;
                return Err(Error::Unauthenticated(AuthFailure::Expired));
            }
            None => {
                let claims = self.jwt.verify(token).map_err(Error::Unauthenticated)?;
                let user_id = claims
                    .user_id()
                    .ok_or(Error::Unauthenticated(AuthFailure::Invalid))?;
                let v = Arc::new(VerifiedToken {
                    session_id: Arc::from(claims.sid.as_str()),
                    user_id,
                    expires_at: claims.exp,
                });
                self.verified.insert(Arc::from(token), v.clone()).await;
                v
            }
        };
        let principal = self.principal_of(verified.session_id.clone()).await?;
        if verified.user_id != principal.user_id {
            return Err(Error::Unauthenticated(AuthFailure::Invalid));
        }
        Ok(principal)
    }

    /// Verifies a bearer token of either kind: an opaque console token (UUID-shaped) or a
    /// JWT.
    pub async fn authenticate_token(&self, token: &str) -> Result<Principal> {
        if crate::token::is_opaque_token(token) {
            self.authenticate_opaque(token).await
        } else {
            self.authenticate_jwt(token).await
        }
    }

    /// Verifies an opaque token: its hash names a live session of kind opaque, whose expiry
    /// slides forward with use.
    pub async fn authenticate_opaque(&self, token: &str) -> Result<Principal> {
        let id = crate::token::opaque_session_id(token);
        let principal = self.principal_of(Arc::from(id)).await?;
        if principal.kind != SessionKind::Opaque {
            return Err(Error::Unauthenticated(AuthFailure::Invalid));
        }
        Ok(principal)
    }

    /// Verifies a project's API key and secret (the secret compared in constant time) and
    /// counts the request against the project's daily quota; the principal acts as the
    /// project's owner. Past the quota: `QuotaExceeded`, and the request is not counted.
    pub async fn authenticate_api_key(&self, key: &str, secret: &str) -> Result<Principal> {
        let state = self
            .keys
            .try_get_with(Arc::from(key), async {
                self.load_key(key).await.map(Arc::new)
            })
            .await
            .map_err(|e| Error::Internal(e.to_string()))?;
        if let Some(refusal) = state.refusal {
            return Err(Error::Unauthenticated(refusal));
        }
        if !crate::password::same_text(&state.secret, secret) {
            return Err(Error::Unauthenticated(AuthFailure::Invalid));
        }
        if let Some(meter) = &state.meter {
            if !meter.try_take(self.store.as_ref(), now()).await? {
                return Err(Error::QuotaExceeded { limit: meter.max() });
            }
        }
        if let Some(role) = state.role_id {
            self.ensure_role(role).await?;
        }
        Ok(Principal {
            user_id: state.owner_id,
            user_name: state.owner_name.clone(),
            role_id: state.role_id,
            session_id: state.label.clone(),
            kind: SessionKind::ApiKey,
        })
    }

    async fn load_key(&self, key: &str) -> Result<KeyState> {
        // A refusal keeps the project and owner it concerns, so that a change to either
        // (an owner enabled again) drops it like any other entry.
        let refused = |project: ProjectId, owner_id: UserId, why| KeyState {
            project,
            label: Arc::from(""),
            secret: String::new(),
            owner_id,
            owner_name: Arc::from(""),
            role_id: None,
            meter: None,
            refusal: Some(why),
        };
        let Some(project) = self.store.project_by_key(key).await? else {
            return Ok(refused(0, 0, AuthFailure::Invalid));
        };
        if project.deleted {
            return Ok(refused(project.id, project.owner_id, AuthFailure::Revoked));
        }
        let owner = match self.store.user(project.owner_id).await? {
            Some(u) if u.enabled => u,
            _ => return Ok(refused(project.id, project.owner_id, AuthFailure::UserGone)),
        };
        Ok(KeyState {
            project: project.id,
            label: Arc::from(format!("project:{}", project.id)),
            secret: project.secret.clone(),
            owner_id: owner.id,
            owner_name: Arc::from(owner.name.as_str()),
            role_id: owner.role_id,
            meter: Some(self.meters.meter_of(&project, now())),
            refusal: None,
        })
    }

    /// Writes the API-key request counts not yet stored, in one batch, and gives back the
    /// quota slices of projects idle here for [`QUOTA_IDLE`](crate::meter::QUOTA_IDLE).
    pub async fn flush_request_counts(&self) -> Result<i64> {
        self.meters
            .flush(self.store.as_ref(), crate::meter::QUOTA_IDLE)
            .await
    }

    /// [`flush_request_counts`](Self::flush_request_counts) at shutdown: every unused quota
    /// slice goes back to the store, for the instances that stay.
    pub async fn flush_request_counts_at_exit(&self) -> Result<i64> {
        self.meters
            .flush(self.store.as_ref(), std::time::Duration::ZERO)
            .await
    }

    /// The principal of a live session id (any credential kind), via the session cache.
    pub async fn session_principal(&self, session_id: &str) -> Result<Principal> {
        self.principal_of(Arc::from(session_id)).await
    }

    /// [`Authorizer::session_principal`] for a session id already shared (no allocation
    /// on a cache hit).
    async fn principal_of(&self, key: Arc<str>) -> Result<Principal> {
        let mut reread = false;
        loop {
            let mut loaded = false;
            let state = self
                .sessions
                .try_get_with(key.clone(), async {
                    loaded = true;
                    self.load_session(&key).await.map(Arc::new)
                })
                .await
                .map_err(|e| Error::Internal(e.to_string()))?;
            if loaded {
                self.stats.session_misses.incr();
            } else {
                self.stats.session_hits.incr();
            }
            if let Some(refusal) = state.refusal {
                return Err(Error::Unauthenticated(refusal));
            }
            let at = now();
            let expires_at = state.expires_at.load(Ordering::Acquire);
            if expires_at <= at {
                // Another instance may have extended a sliding session: read it once more
                // before refusing.
                if state.kind == SessionKind::Opaque && !loaded && !reread {
                    reread = true;
                    self.sessions.invalidate(&key).await;
                    continue;
                }
                return Err(Error::Unauthenticated(AuthFailure::Expired));
            }
            if state.kind == SessionKind::Opaque {
                self.slide(&key, &state, expires_at, at).await;
            }
            if let Some(role) = state.role_id {
                self.ensure_role(role).await?;
            }
            return Ok(Principal {
                user_id: state.user_id,
                user_name: state.user_name.clone(),
                role_id: state.role_id,
                session_id: key,
                kind: state.kind,
            });
        }
    }

    /// Moves a sliding session's expiry to `sliding_ttl` after `at`, in the cache and the
    /// store, unless it moved less than `sliding_interval` ago. Of concurrent uses, one
    /// writes. The stored expiry is the truth: it never lags a use by more than the
    /// interval, and a token is never accepted after it.
    async fn slide(&self, id: &str, state: &SessionState, expires_at: Timestamp, at: Timestamp) {
        let extended = at
            .saturating_add(self.sliding_ttl)
            .min(state.issued_at.saturating_add(self.sliding_max));
        if extended - expires_at < self.sliding_interval.max(1) {
            return;
        }
        if state
            .expires_at
            .compare_exchange(expires_at, extended, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return;
        }
        if let Err(e) = self.store.touch_session(id, extended, at).await {
            tracing::warn!(error = %e, "extending a sliding session failed; retried on next use");
            let _ = state.expires_at.compare_exchange(
                extended,
                expires_at,
                Ordering::AcqRel,
                Ordering::Acquire,
            );
        }
    }

    async fn load_session(&self, id: &str) -> Result<SessionState> {
        let refused = |why| SessionState {
            user_id: 0,
            user_name: Arc::from(""),
            role_id: None,
            kind: SessionKind::Jwt,
            expires_at: AtomicI64::new(0),
            issued_at: 0,
            refusal: Some(why),
        };
        let Some(session) = self.store.session(id).await? else {
            return Ok(refused(AuthFailure::Revoked));
        };
        if session.revoked {
            return Ok(refused(AuthFailure::Revoked));
        }
        let user = match self.store.user(session.user_id).await? {
            Some(u) if u.enabled => u,
            _ => return Ok(refused(AuthFailure::UserGone)),
        };
        Ok(SessionState {
            user_id: user.id,
            user_name: Arc::from(user.name.as_str()),
            role_id: user.role_id,
            kind: session.kind,
            expires_at: AtomicI64::new(session.expires_at),
            issued_at: session.issued_at,
            refusal: None,
        })
    }

    /// Records a refused privilege in the operation log without delaying the answer, one
    /// row per user, privilege and minute (so refused requests cannot flood the log).
    pub fn record_denial(&self, principal: &Principal, missing: &str, target: &str) {
        const REMEMBERED: usize = 100_000;
        let minute = now() / 60;
        {
            let mut denials = self.denials.lock().unwrap_or_else(|p| p.into_inner());
            let key = (principal.user_id, missing.to_string());
            if denials.get(&key) == Some(&minute) {
                return;
            }
            if denials.len() >= REMEMBERED {
                denials.retain(|_, m| *m == minute);
            }
            denials.insert(key, minute);
        }
        let entry = crate::model::NewAudit {
            user_id: Some(principal.user_id),
            user_name: principal.user_name.to_string(),
            category: crate::model::AuditCategory::System,
            content: format!(
                "access denied to {target}: privilege {missing} required \
                 (one entry per user, privilege and minute)"
            ),
            success: false,
        };
        let store = self.store.clone();
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                if let Err(e) = store.append_audit(&entry).await {
                    tracing::warn!(error = %e, "audit of a denial failed");
                }
            });
        }
    }

    /// How many session states are cached.
    pub fn cached_sessions(&self) -> u64 {
        self.sessions.entry_count()
    }

    /// Applies changes to the caches before returning (in-process writes use this, so the
    /// very next request sees them). A changed role is re-read and swapped in place, never
    /// left missing; sessions are invalidated now and once more shortly after, so that a
    /// load which read the store just before the change committed leaves nothing stale.
    pub async fn apply_changes(&self, changes: &[Change]) {
        for change in changes {
            match change {
                Change::Role(id) => self.reload_role(*id).await,
                Change::Project(id) => {
                    invalidate_keys(&self.keys, change);
                    self.meters.forget(*id);
                }
                other => {
                    invalidate_keys(&self.keys, other);
                    invalidate_sessions(&self.sessions, other).await
                }
            }
        }
        self.repeat_later(changes);
    }

    /// Re-reads one role into the snapshot. The entry stays as it was until the fresh one
    /// replaces it. A reload that a newer one overtook drops the entry instead of storing
    /// (it cannot tell whose read is newer, and the newer reload may not have stored yet):
    /// when this returns, the entry is absent or was read after this reload began, so the
    /// very next request sees the change. If the store fails, the entry is dropped too
    /// (fail closed: re-read on the next request).
    async fn reload_role(&self, id: RoleId) {
        let epoch = self.role_epoch.fetch_add(1, Ordering::AcqRel) + 1;
        let fresh = self.store.role(id).await;
        self.roles.rcu(|table| {
            let mut next = RoleTable::clone(table);
            match &fresh {
                Ok(role) if self.role_epoch.load(Ordering::Acquire) == epoch => match role {
                    Some(r) => {
                        next.insert(id, Arc::new(RoleGrant::of(r, &self.registry)));
                    }
                    None => {
                        next.remove(&id);
                    }
                },
                Ok(_) | Err(_) => {
                    next.remove(&id);
                }
            }
            next
        });
        if let Err(e) = fresh {
            tracing::warn!(error = %e, role = id, "role reload failed; it will be re-read on use");
        }
    }

    fn repeat_later(&self, changes: &[Change]) {
        let sessions: Vec<Change> = changes
            .iter()
            .filter(|c| !matches!(c, Change::Role(_)))
            .cloned()
            .collect();
        if sessions.is_empty() {
            return;
        }
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            let cache = self.sessions.clone();
            let keys = self.keys.clone();
            handle.spawn(async move {
                tokio::time::sleep(Duration::from_millis(200)).await;
                for change in &sessions {
                    invalidate_keys(&keys, change);
                    invalidate_sessions(&cache, change).await;
                }
            });
        } else {
            self.sessions.invalidate_all();
            self.keys.invalidate_all();
        }
    }
}

/// Drops the cached API keys a change concerns: a project's, or every key of a user.
fn invalidate_keys(keys: &Cache<Arc<str>, Arc<KeyState>>, change: &Change) {
    let dropped = match change {
        Change::Project(id) => {
            let id = *id;
            keys.invalidate_entries_if(move |_, k| k.project == id)
        }
        Change::User(uid) => {
            let uid = *uid;
            keys.invalidate_entries_if(move |_, k| k.owner_id == uid)
        }
        Change::Role(_) | Change::Session(_) => return,
    };
    if dropped.is_err() {
        keys.invalidate_all();
    }
}

async fn invalidate_sessions(sessions: &Cache<Arc<str>, Arc<SessionState>>, change: &Change) {
    match change {
        Change::Session(id) => sessions.invalidate(id.as_str()).await,
        Change::User(uid) => {
            let uid = *uid;
            // Predicates apply, on access, to every entry inserted before this call.
            if sessions
                .invalidate_entries_if(move |_, s| s.user_id == uid)
                .is_err()
            {
                sessions.invalidate_all();
            }
        }
        Change::Role(_) | Change::Project(_) => {}
    }
}

#[async_trait::async_trait]
impl ChangeSink for Authorizer {
    /// Applies a change from another instance.
    async fn apply(&self, change: &Change) {
        self.apply_changes(std::slice::from_ref(change)).await;
    }
}
