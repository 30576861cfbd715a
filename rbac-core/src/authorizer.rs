//! The hot path: credential → principal → privilege check.
//!
//! Roles live in an immutable snapshot swapped atomically on change (`arc-swap`): a check
//! is a map lookup and a bit test, with no lock and no allocation. Sessions live in a
//! bounded moka cache that coalesces concurrent misses. Every journalled [`Change`] reaches
//! [`Authorizer::apply`], in this process at once and from other instances via the feed.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use moka::future::Cache;

use crate::error::{AuthFailure, Error, Result};
use crate::model::{now, Change, Page, Role, RoleId, SessionKind, Timestamp, UserId};
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
#[derive(Debug, Clone)]
struct SessionState {
    user_id: UserId,
    user_name: Arc<str>,
    role_id: Option<RoleId>,
    kind: SessionKind,
    expires_at: Timestamp,
    /// `None` when the session authenticates; otherwise why not.
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
}

impl Default for AuthorizerConfig {
    fn default() -> Self {
        AuthorizerConfig {
            session_capacity: 100_000,
            session_ttl: Duration::from_secs(60),
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

    /// The principal of a live session id (any credential kind), via the session cache.
    pub async fn session_principal(&self, session_id: &str) -> Result<Principal> {
        self.principal_of(Arc::from(session_id)).await
    }

    /// [`Authorizer::session_principal`] for a session id already shared (no allocation
    /// on a cache hit).
    async fn principal_of(&self, key: Arc<str>) -> Result<Principal> {
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
        if state.expires_at <= now() {
            return Err(Error::Unauthenticated(AuthFailure::Expired));
        }
        if let Some(role) = state.role_id {
            self.ensure_role(role).await?;
        }
        Ok(Principal {
            user_id: state.user_id,
            user_name: state.user_name.clone(),
            role_id: state.role_id,
            session_id: key,
            kind: state.kind,
        })
    }

    async fn load_session(&self, id: &str) -> Result<SessionState> {
        let refused = |why| SessionState {
            user_id: 0,
            user_name: Arc::from(""),
            role_id: None,
            kind: SessionKind::Jwt,
            expires_at: 0,
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
            expires_at: session.expires_at,
            refusal: None,
        })
    }

    /// Records a refused privilege in the log and, without delaying the answer, in the
    /// operation log.
    pub fn record_denial(&self, principal: &Principal, missing: &str, target: &str) {
        let entry = crate::model::NewAudit {
            user_id: Some(principal.user_id),
            user_name: principal.user_name.to_string(),
            category: crate::model::AuditCategory::System,
            content: format!("access denied to {target}: privilege {missing} required"),
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
                other => invalidate_sessions(&self.sessions, other).await,
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
            handle.spawn(async move {
                tokio::time::sleep(Duration::from_millis(200)).await;
                for change in &sessions {
                    invalidate_sessions(&cache, change).await;
                }
            });
        } else {
            self.sessions.invalidate_all();
        }
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
        Change::Role(_) => {}
    }
}

#[async_trait::async_trait]
impl ChangeSink for Authorizer {
    /// Applies a change from another instance.
    async fn apply(&self, change: &Change) {
        self.apply_changes(std::slice::from_ref(change)).await;
    }
}
