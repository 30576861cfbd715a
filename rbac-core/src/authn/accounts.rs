//! Login, logout and refresh (passwords are set in `passwords.rs`).

use super::facet::Sessions;
use crate::authn::token::Claims;
use crate::authz::authorizer::Principal;
use crate::authz::scope::Scope;
use crate::error::{AuthFailure, Error, Result};
use crate::model::{
    now, AuditCategory, Change, Factors, Journal, NewAudit, Session, SessionKind, Timestamp, User,
};
use crate::service::{random_token, Rbac};

/// A login attempt.
#[derive(Debug, Clone, Default)]
pub struct LoginInput {
    /// User name, or a phone number that names exactly one user.
    pub name: String,
    /// The password as the client sends it.
    pub password: String,
    /// The client's address.
    pub ip: String,
    /// The client's `User-Agent` (kept with the session, cut to 256 characters).
    pub user_agent: String,
    /// Where the login began (a surface's name; empty for none): a second-factor challenge
    /// it opens completes only with the same audience.
    pub audience: String,
    /// The tenant the login is for (`None`: any): only a user of it gets in (see
    /// `User::tenant`); anyone else is refused like a wrong password. A second-factor
    /// challenge it opens completes only for the same tenant.
    pub tenant: Option<Scope>,
}

impl LoginInput {
    /// A login of `name` with `password` from the client at `address` (required: the
    /// throttle and the audit trail key on it).
    pub fn new(
        name: impl Into<String>,
        password: impl Into<String>,
        address: impl Into<String>,
    ) -> Self {
        LoginInput {
            name: name.into(),
            password: password.into(),
            ip: address.into(),
            ..LoginInput::default()
        }
    }

    /// The same login, as the client's `User-Agent` names it.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// The same login, begun at `audience` (a surface's name).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = audience.into();
        self
    }

    /// The same login, into `tenant`: only its users get in.
    pub fn tenant(mut self, tenant: Scope) -> Self {
        self.tenant = Some(tenant);
        self
    }
}

/// Where and how a session is opened.
pub(crate) struct Origin<'a> {
    pub(crate) ip: &'a str,
    pub(crate) user_agent: &'a str,
    pub(crate) factors: Factors,
    pub(crate) verified_at: Timestamp,
}

impl<'a> Origin<'a> {
    /// A login proven by a password alone, now.
    pub(crate) fn password(ip: &'a str, user_agent: &'a str) -> Self {
        Origin {
            ip,
            user_agent,
            factors: Factors::PASSWORD,
            verified_at: now(),
        }
    }
}

/// A user agent as stored: at most 256 characters.
pub(crate) fn stored_user_agent(user_agent: &str) -> String {
    user_agent.chars().take(256).collect()
}

/// An issued session token.
#[derive(Debug, Clone)]
pub struct Token {
    /// The signed JWT.
    pub token: String,
    /// The session id behind it.
    pub session_id: String,
    /// When it expires.
    pub expires_at: Timestamp,
}

/// A successful login.
#[derive(Debug, Clone)]
pub struct LoginOutcome {
    /// The user, as stored after the login.
    pub user: User,
    /// The names of the roles the user holds everywhere, in the order assigned.
    pub roles: Vec<String>,
    /// The privilege codes the user holds everywhere.
    pub privileges: Vec<String>,
    /// The session token.
    pub token: Token,
}

impl Sessions<'_> {
    async fn find_login_user(self, name: &str) -> Result<Option<User>> {
        let store = &self.rbac.store();
        if let Some(u) = store.user_by_name(name).await? {
            return Ok(Some(u));
        }
        if !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_digit() || c == '+' || c == '-')
        {
            // Unambiguous, or one holder who proved the number among others who did not
            // (an unverified claim cannot take its owner's phone login away).
            let mut by_phone = store.users_by_phone(name, 8).await?;
            if by_phone.len() > 1 {
                by_phone.retain(|u| u.phone_verified);
            }
            if by_phone.len() == 1 {
                return Ok(by_phone.pop());
            }
        }
        Ok(None)
    }
    /// Checks a name and password; on success opens a session and issues its JWT
    /// ([`LoginStep::Done`](crate::service::LoginStep)), or, for a user with a second factor, opens
    /// the challenge that completes it ([`LoginStep::SecondFactor`](crate::service::LoginStep)).
    /// A wrong name and a wrong password answer alike, in similar time. Counted in the
    /// `rbac_logins_total{outcome}` metric when a `metrics` recorder is installed.
    pub async fn login(self, input: &LoginInput) -> Result<crate::service::LoginStep> {
        crate::service::LoginStep::of(self.login_as(input, SessionKind::Jwt).await)
    }

    /// [`rbac.sessions().login`](crate::service::Sessions::login) opening a session of `kind` (an opaque sliding session suits a
    /// browser's cookie); [`rbac.sessions().complete_login`](crate::service::Sessions::complete_login) with the same kind finishes a challenge.
    pub async fn login_with(
        self,
        input: &LoginInput,
        kind: SessionKind,
    ) -> Result<crate::service::LoginStep> {
        crate::service::LoginStep::of(self.login_as(input, kind).await)
    }

    /// [`rbac.sessions().login`](crate::service::Sessions::login) opening a session of
    /// `kind`; with `input.tenant`, only a user of that tenant gets in.
    pub(crate) async fn login_as(
        self,
        input: &LoginInput,
        kind: SessionKind,
    ) -> Result<LoginOutcome> {
        // The whole attempt runs on a task of its own: a client that goes away once its
        // request is in (mid-lookup, mid-hash) leaves an attempt that ends, and is counted
        // and audited, exactly as if it had waited for the answer.
        if input.ip.trim().is_empty() {
            return Err(Error::invalid(
                "ip",
                "the client's address is required: LoginInput::new(name, password, address)",
            ));
        }
        let rbac = self.rbac.clone();
        let input = input.clone();
        crate::caller::detached(async move { rbac.sessions().login_counted(&input, kind).await })
            .await
    }

    /// [`Rbac::login_as`] on the caller's task, counted in the login metric.
    async fn login_counted(self, input: &LoginInput, kind: SessionKind) -> Result<LoginOutcome> {
        let result = self.check_login(input, kind).await;
        if matches!(result, Err(Error::BadCredentials)) {
            self.rbac.inner.activity.record(now(), false);
        }
        let outcome = match &result {
            Ok(_) => "success",
            Err(Error::BadCredentials) => "bad_credentials",
            Err(Error::AccountDisabled) => "disabled",
            Err(Error::Busy) => "busy",
            Err(Error::Throttled { .. }) => "throttled",
            Err(Error::Internal(_)) => "error",
            Err(_) => "refused",
        };
        metrics::counter!("rbac_logins_total", "outcome" => outcome).increment(1);
        result
    }

    /// Lifts an account's failed-login block, from every address (an admin's unlock).
    pub(crate) async fn unlock(self, account: &str) -> Result<()> {
        self.rbac
            .store()
            .clear_login_failures_under(&crate::authn::throttle::account_key(account))
            .await?;
        Ok(())
    }

    async fn check_login(self, input: &LoginInput, kind: SessionKind) -> Result<LoginOutcome> {
        let hasher = &self.rbac.inner.hasher;
        let found = self.find_login_user(&input.name).await?;
        // Keyed by the account's name when the identifier names one (so a phone number and
        // the name share a counter), else by what was typed.
        let account = found
            .as_ref()
            .map_or(input.name.as_str(), |u| u.name.as_str())
            .to_string();
        let stored = found.clone();
        let (user, rehash, attempt) = match self
            .verify_password(&account, found, &input.password, &input.ip)
            .await
        {
            Ok(verified) => verified,
            Err(Error::BadCredentials) => {
                let content = if crate::caller::gone() {
                    // Possibly never hashed (see `PasswordHasher::verify_if_awaited`).
                    "login failed: abandoned by the client, counted as a failure"
                } else if stored.is_some() {
                    "login failed: wrong password"
                } else {
                    "login failed: unknown user"
                };
                self.rbac
                    .audit_alone(
                        stored.as_ref(),
                        &input.name,
                        content.into(),
                        false,
                        &input.ip,
                    )
                    .await;
                return Err(Error::BadCredentials);
            }
            Err(e) => return Err(e),
        };
        let second = self.second_factor_methods(user.id).await?;
        if second.is_empty() {
            self.attempt_succeeded(attempt, &user, &input.ip).await?;
        } else {
            // The attempt stays counted until the second factor completes the login: a
            // known password alone never resets the account's failures.
            drop(attempt);
        }
        if input.tenant.is_some_and(|t| user.tenant != Some(t)) {
            self.rbac
                .audit_alone(
                    Some(&user),
                    &user.name,
                    "login failed: another tenant".into(),
                    false,
                    &input.ip,
                )
                .await;
            return Err(Error::BadCredentials);
        }
        if !user.enabled {
            self.rbac
                .audit_alone(
                    Some(&user),
                    &user.name,
                    "login refused: account disabled".into(),
                    false,
                    &input.ip,
                )
                .await;
            return Err(Error::AccountDisabled);
        }
        if !second.is_empty() {
            let challenge = self.open_challenge(&user, input, second, kind).await?;
            return Err(Error::SecondFactorRequired(Box::new(challenge)));
        }
        let rehash = if rehash {
            match hasher.hash(&input.password).await {
                Ok(hash) => Some(hash),
                Err(e) => {
                    tracing::warn!(error = %e, user = %user.name, "rehash on login failed");
                    None
                }
            }
        } else {
            None
        };
        let origin = Origin::password(&input.ip, &input.user_agent);
        self.finish_login(user, &origin, kind, rehash.as_deref())
            .await
    }

    /// Opens the session of a login whose factors are all proven, records the login and
    /// answers with the user's roles and privileges.
    pub(crate) async fn finish_login(
        self,
        mut user: User,
        origin: &Origin<'_>,
        kind: SessionKind,
        rehash: Option<&str>,
    ) -> Result<LoginOutcome> {
        let content = if origin.factors.has_second_factor() {
            format!(
                "login from {} ({})",
                origin.ip,
                origin.factors.names().join(" + ")
            )
        } else {
            format!("login from {}", origin.ip)
        };
        let journal = Journal::audit(NewAudit {
            user_id: Some(user.id),
            user_name: user.name.clone(),
            category: AuditCategory::Home,
            content,
            success: true,
        })
        .event(
            crate::events::NewEvent::new(
                crate::events::kind::LOGIN_SUCCEEDED,
                &user.name,
                &user.name,
            )
            .from_ip(origin.ip)
            .detail(origin.factors.names().join(" + ")),
        );
        let token = self.open_session(&user, origin, kind, &journal).await?;
        let at = now();
        self.rbac.inner.activity.record(at, true);
        self.rbac
            .store()
            .record_login(
                user.id,
                at,
                origin.ip,
                rehash.map(|h| (user.password_hash.as_str(), h)),
            )
            .await?;
        if let Some(hash) = rehash {
            user.password_hash = hash.to_string();
        }
        user.login_time = Some(at);
        user.login_ip = origin.ip.to_string();
        let (roles, privileges) = self.roles_and_privileges(&user).await?;
        Ok(LoginOutcome {
            user,
            roles,
            privileges,
            token,
        })
    }

    /// The names of the roles a user holds everywhere and the privilege codes they confer
    /// now.
    pub(crate) async fn roles_and_privileges(
        self,
        user: &User,
    ) -> Result<(Vec<String>, Vec<String>)> {
        let authorizer = &self.rbac.inner.authorizer;
        let grants = authorizer.grants_for(&user.roles).await?;
        let mut names = Vec::new();
        for role in user.global_roles() {
            if let Some(grant) = authorizer.role(role) {
                names.push(grant.name.to_string());
            }
        }
        let principal = Principal {
            user_id: user.id,
            user_name: std::sync::Arc::from(user.name.as_str()),
            grants,
            session_id: std::sync::Arc::from(""),
            kind: SessionKind::Jwt,
            factors: crate::model::Factors::PASSWORD,
            verified_at: 0,
            enrolment_required: false,
            second_factor_enrolled: false,
        };
        let codes = authorizer
            .registry()
            .codes_of(&authorizer.privileges_of(&principal));
        Ok((names, codes))
    }

    fn new_session(self, user: &User, origin: &Origin<'_>) -> Session {
        let t = now();
        Session {
            id: random_token(24),
            user_id: user.id,
            kind: SessionKind::Jwt,
            issued_at: t,
            expires_at: t + self.rbac.config().token_ttl.as_secs() as i64,
            last_seen: t,
            revoked: false,
            ip: origin.ip.to_string(),
            factors: origin.factors,
            verified_at: origin.verified_at,
            user_agent: stored_user_agent(origin.user_agent),
        }
    }

    /// A sliding session and its opaque token (only the token's hash is stored).
    fn new_opaque_session(self, user: &User, origin: &Origin<'_>) -> (Session, String) {
        let token = crate::authn::token::new_opaque_token();
        let t = now();
        let session = Session {
            id: crate::authn::token::opaque_session_id(&token),
            user_id: user.id,
            kind: SessionKind::Opaque,
            issued_at: t,
            expires_at: t + self
                .rbac
                .inner
                .authorizer
                .sliding_ttl()
                .min(self.rbac.inner.authorizer.sliding_max()),
            last_seen: t,
            revoked: false,
            ip: origin.ip.to_string(),
            factors: origin.factors,
            verified_at: origin.verified_at,
            user_agent: stored_user_agent(origin.user_agent),
        };
        (session, token)
    }

    fn sign(self, session: &Session, name: &str) -> Result<Token> {
        let claims = Claims {
            sub: session.user_id.to_string(),
            sid: session.id.clone(),
            name: name.to_string(),
            iat: session.issued_at,
            nbf: session.issued_at,
            exp: session.expires_at,
        };
        Ok(Token {
            token: self.rbac.inner.authorizer.jwt().issue(&claims)?,
            session_id: session.id.clone(),
            expires_at: session.expires_at,
        })
    }

    async fn open_session(
        self,
        user: &User,
        origin: &Origin<'_>,
        kind: SessionKind,
        journal: &Journal,
    ) -> Result<Token> {
        match kind {
            SessionKind::Jwt => {
                let session = self.new_session(user, origin);
                self.rbac.store().create_session(&session, journal).await?;
                self.sign(&session, &user.name)
            }
            SessionKind::Opaque => {
                let (session, token) = self.new_opaque_session(user, origin);
                self.rbac.store().create_session(&session, journal).await?;
                Ok(Token {
                    token,
                    session_id: session.id,
                    expires_at: session.expires_at,
                })
            }
            SessionKind::ApiKey | SessionKind::Challenge => {
                Err(Error::internal("not a kind of login session"))
            }
        }
    }

    /// Revokes the caller's session.
    pub async fn logout(self, actor: &Principal) -> Result<()> {
        let journal = self
            .rbac
            .journal(Some(actor), AuditCategory::Home, "logout".into())
            .with(Change::Session(actor.session_id.to_string()));
        self.rbac
            .applying(&journal)
            .write(
                self.rbac
                    .store()
                    .revoke_session(&actor.session_id, &journal),
            )
            .await?;
        Ok(())
    }

    /// Replaces the caller's session with a new one; the old token stops working at once
    /// and can never be refreshed again.
    pub async fn refresh(self, actor: &Principal, ip: &str) -> Result<Token> {
        let user = self
            .rbac
            .store()
            .user(actor.user_id)
            .await?
            .ok_or(Error::Unauthenticated(AuthFailure::UserGone))?;
        // The new session carries what the old one proved, and when.
        let old = self.rbac.store().session(&actor.session_id).await?;
        let origin = match &old {
            Some(s) => Origin {
                ip,
                user_agent: &s.user_agent,
                factors: s.factors,
                verified_at: s.verified_at,
            },
            None => Origin::password(ip, ""),
        };
        let session = self.new_session(&user, &origin);
        let journal = self
            .rbac
            .journal(Some(actor), AuditCategory::Home, "refresh token".into())
            .with(Change::Session(actor.session_id.to_string()));
        let rotated = self
            .rbac
            .applying(&journal)
            .write(
                self.rbac
                    .store()
                    .rotate_session(&actor.session_id, &session, &journal),
            )
            .await?;
        if !rotated {
            return Err(Error::Unauthenticated(AuthFailure::Revoked));
        }
        self.sign(&session, &user.name)
    }
}

impl Sessions<'_> {
    /// Checks a name and password without opening a session (HTTP Basic on each request),
    /// throttled like a login from `address`.
    pub async fn authenticate_password(
        self,
        name: &str,
        password: &str,
        address: &str,
    ) -> Result<Principal> {
        let found = self.find_login_user(name).await?;
        let account = found.as_ref().map_or(name, |u| u.name.as_str()).to_string();
        let user = match self
            .verify_password(&account, found, password, address)
            .await
        {
            Ok((user, _, attempt)) => {
                if !self.second_factor_methods(user.id).await?.is_empty() {
                    // A password alone never authenticates an account with a second
                    // factor (the attempt stays counted).
                    drop(attempt);
                    return Err(Error::Unauthenticated(AuthFailure::Invalid));
                }
                self.attempt_succeeded(attempt, &user, address).await?;
                user
            }
            // A throttled or wrong credential is a refused credential, to the layer.
            Err(Error::BadCredentials | Error::Throttled { .. }) => {
                return Err(Error::Unauthenticated(AuthFailure::Invalid))
            }
            Err(e) => return Err(e),
        };
        if !user.enabled {
            return Err(Error::Unauthenticated(AuthFailure::UserGone));
        }
        let grants = self.rbac.inner.authorizer.grants_for(&user.roles).await?;
        Ok(Principal {
            user_id: user.id,
            user_name: std::sync::Arc::from(user.name.as_str()),
            // Only accounts without a second factor get this far.
            enrolment_required: self.rbac.inner.authorizer.requires_second_factor(&grants),
            second_factor_enrolled: false,
            grants,
            session_id: std::sync::Arc::from(""),
            kind: SessionKind::Jwt,
            factors: crate::model::Factors::PASSWORD,
            verified_at: now(),
        })
    }
}

#[async_trait::async_trait]
impl crate::authn::credential::Authenticate for Rbac {
    async fn authenticate(
        &self,
        credential: &crate::authn::credential::Credential,
        context: &crate::authn::credential::RequestContext<'_>,
    ) -> Result<Principal> {
        match credential {
            crate::authn::credential::Credential::Token(token) => {
                Rbac::authenticate(self, token).await
            }
            crate::authn::credential::Credential::Basic { user, password } => {
                let address = context.address.map(|a| a.to_string()).unwrap_or_default();
                self.sessions()
                    .authenticate_password(user, password, &address)
                    .await
            }
            #[cfg(feature = "api-keys")]
            crate::authn::credential::Credential::ApiKey { key, secret } => {
                self.inner
                    .authorizer
                    .authenticate_api_key(key, secret)
                    .await
            }
            // Without the `api-keys` feature no key authenticates.
            #[cfg(not(feature = "api-keys"))]
            crate::authn::credential::Credential::ApiKey { .. } => Err(
                crate::error::Error::Unauthenticated(crate::error::AuthFailure::Invalid),
            ),
        }
    }

    fn authenticate_now(
        &self,
        credential: &crate::authn::credential::Credential,
        _context: &crate::authn::credential::RequestContext<'_>,
    ) -> Option<Result<Principal>> {
        match credential {
            crate::authn::credential::Credential::Token(token) => {
                self.inner.authorizer.authenticate_token_now(token)
            }
            _ => None,
        }
    }
}
