//! Sessions: JWTs, opaque tokens, the session cache and sliding expiry.

use super::*;

/// What the session cache keeps per session: enough to rebuild the principal.
#[derive(Debug)]
pub(super) struct SessionState {
    pub(super) user_id: UserId,
    pub(super) user_name: Arc<str>,
    pub(super) grants: Arc<Grants>,
    pub(super) kind: SessionKind,
    /// The expiry as stored; a sliding session moves it forward (here and in the store).
    pub(super) expires_at: AtomicI64,
    /// When the session was issued (a sliding session never outlives `sliding_max` after).
    pub(super) issued_at: Timestamp,
    /// The factors the session's login proved, and when.
    pub(super) factors: crate::model::Factors,
    pub(super) verified_at: Timestamp,
    /// Whether the user has a second factor enrolled.
    pub(super) enrolled: bool,
    /// `None` when the session authenticates; otherwise why not.
    pub(super) refusal: Option<AuthFailure>,
}

pub(super) async fn invalidate_sessions(
    sessions: &Cache<Arc<str>, Arc<SessionState>>,
    change: &Change,
) {
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
        // A scope's parent changed: whose grants fold it in is not kept, so all are re-read.
        Change::Scope(_) => sessions.invalidate_all(),
        Change::Role(_) | Change::ApiKey(_) => {}
    }
}

/// Polls `future` once: its output if it finishes without waiting (a cache hit), else
/// `None` (the future is dropped; callers pass only futures that start no work).
fn at_once<F: std::future::Future>(future: F) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(out) => Some(out),
        std::task::Poll::Pending => None,
    }
}

impl Authorizer {
    /// [`Authorizer::authenticate_token`] from the caches alone, without waiting: `Some`
    /// when the verified token, its session and its roles are all cached and nothing needs
    /// writing (an opaque session whose expiry is due to slide is not), `None` when only
    /// the async path can tell. Never reads the store; the answer is the async path's.
    pub fn authenticate_token_now(&self, token: &str) -> Option<Result<Principal>> {
        if crate::authn::token::is_opaque_token(token) {
            let id = crate::authn::token::opaque_session_id(token);
            let principal = self.principal_now(Arc::from(id))?;
            return Some(principal.and_then(|p| {
                if p.kind == SessionKind::Opaque {
                    Ok(p)
                } else {
                    Err(Error::Unauthenticated(AuthFailure::Invalid))
                }
            }));
        }
        let verified = at_once(self.verified.get(token))??;
        if verified.expires_at <= now() {
            return None;
        }
        let principal = self.principal_now(verified.session_id.clone())?;
        Some(principal.and_then(|p| {
            if p.user_id == verified.user_id {
                Ok(p)
            } else {
                Err(Error::Unauthenticated(AuthFailure::Invalid))
            }
        }))
    }

    /// The principal of a cached session, if the cache settles it without the store.
    fn principal_now(&self, key: Arc<str>) -> Option<Result<Principal>> {
        let state = at_once(self.sessions.get(&*key))??;
        if let Some(refusal) = state.refusal {
            self.stats.session_hits.incr();
            return Some(Err(Error::Unauthenticated(refusal)));
        }
        let at = now();
        let expires_at = state.expires_at.load(Ordering::Acquire);
        if expires_at <= at {
            // Refused or re-read (another instance may have slid it): the async path's call.
            return None;
        }
        if state.kind == SessionKind::Opaque {
            let extended = at
                .saturating_add(self.sliding_ttl)
                .min(state.issued_at.saturating_add(self.sliding_max));
            if extended - expires_at >= self.sliding_interval.max(1) {
                return None;
            }
        }
        if !self.grants_ready(&state.grants) {
            return None;
        }
        self.stats.session_hits.incr();
        self.stats.role_hits.incr();
        Some(Ok(Principal {
            user_id: state.user_id,
            user_name: state.user_name.clone(),
            grants: state.grants.clone(),
            session_id: key,
            kind: state.kind,
            factors: state.factors,
            verified_at: state.verified_at,
            enrolment_required: !state.enrolled && self.requires_second_factor(&state.grants),
            second_factor_enrolled: state.enrolled,
        }))
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

    /// Verifies a bearer token of either kind: an opaque sliding token (UUID-shaped) or a
    /// JWT.
    pub async fn authenticate_token(&self, token: &str) -> Result<Principal> {
        if crate::authn::token::is_opaque_token(token) {
            self.authenticate_opaque(token).await
        } else {
            self.authenticate_jwt(token).await
        }
    }

    /// Verifies an opaque token: its hash names a live session of kind opaque, whose expiry
    /// slides forward with use.
    pub async fn authenticate_opaque(&self, token: &str) -> Result<Principal> {
        let id = crate::authn::token::opaque_session_id(token);
        let principal = self.principal_of(Arc::from(id)).await?;
        if principal.kind != SessionKind::Opaque {
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
    pub(super) async fn principal_of(&self, key: Arc<str>) -> Result<Principal> {
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
                .map_err(Error::internal)?;
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
            self.ensure_grants(&state.grants).await?;
            return Ok(Principal {
                user_id: state.user_id,
                user_name: state.user_name.clone(),
                grants: state.grants.clone(),
                session_id: key,
                kind: state.kind,
                factors: state.factors,
                verified_at: state.verified_at,
                enrolment_required: !state.enrolled && self.requires_second_factor(&state.grants),
                second_factor_enrolled: state.enrolled,
            });
        }
    }

    /// Moves a sliding session's expiry to `sliding_ttl` after `at`, in the cache and the
    /// store, unless it moved less than `sliding_interval` ago. Of concurrent uses, one
    /// writes. The stored expiry is the truth: it never lags a use by more than the
    /// interval, and a token is never accepted after it.
    pub(super) async fn slide(
        &self,
        id: &str,
        state: &SessionState,
        expires_at: Timestamp,
        at: Timestamp,
    ) {
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

    pub(super) async fn load_session(&self, id: &str) -> Result<SessionState> {
        let refused = |why| SessionState {
            user_id: 0,
            user_name: Arc::from(""),
            grants: Grants::none(),
            kind: SessionKind::Jwt,
            expires_at: AtomicI64::new(0),
            issued_at: 0,
            factors: crate::model::Factors::NONE,
            verified_at: 0,
            enrolled: false,
            refusal: Some(why),
        };
        let Some(session) = self.store.session(id).await? else {
            return Ok(refused(AuthFailure::Revoked));
        };
        if session.revoked {
            return Ok(refused(AuthFailure::Revoked));
        }
        if session.kind == SessionKind::Challenge {
            // A login awaiting its second factor authenticates nothing.
            return Ok(refused(AuthFailure::Invalid));
        }
        let user = match self.store.user(session.user_id).await? {
            Some(u) if u.enabled => u,
            _ => return Ok(refused(AuthFailure::UserGone)),
        };
        Ok(SessionState {
            user_id: user.id,
            user_name: Arc::from(user.name.as_str()),
            grants: self.grants_for(&user.roles).await?,
            kind: session.kind,
            expires_at: AtomicI64::new(session.expires_at),
            issued_at: session.issued_at,
            factors: session.factors,
            verified_at: session.verified_at,
            enrolled: self.store.second_factor_enrolled(user.id).await?,
            refusal: None,
        })
    }

    /// Whether an enabled role among these grants requires a second factor.
    pub fn requires_second_factor(&self, grants: &Grants) -> bool {
        if grants.is_empty() {
            return false;
        }
        // One snapshot read, no reference counting: this runs on every request. A role
        // requires it when it, or an enabled role it includes (transitively), does.
        let snapshot = self.snapshot.load();
        let mut composite = false;
        for role in grants.roles() {
            if let Some(r) = snapshot.roles.get(&role).filter(|r| r.enabled) {
                if r.requires_second_factor {
                    return true;
                }
                composite |= !r.includes.is_empty();
            }
        }
        if !composite {
            return false;
        }
        let mut stack: Vec<RoleId> = grants.roles().collect();
        let mut seen: Vec<RoleId> = Vec::new();
        while let Some(id) = stack.pop() {
            if seen.contains(&id) || seen.len() > 256 {
                continue;
            }
            seen.push(id);
            if let Some(r) = snapshot.roles.get(&id) {
                if !r.enabled {
                    continue;
                }
                if r.requires_second_factor {
                    return true;
                }
                stack.extend(r.includes.iter().copied());
            }
        }
        false
    }

    /// How many session states are cached.
    pub fn cached_sessions(&self) -> u64 {
        self.sessions.entry_count()
    }
}
