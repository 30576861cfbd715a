//! The second step of a login: a short-lived, single-use challenge opened when the password
//! of an account with a second factor was right, completed with a TOTP or recovery code.

use super::facet::Sessions;
use crate::authn::accounts::{stored_user_agent, LoginInput, LoginOutcome, Origin};
use crate::authz::scope::Scope;
use crate::error::{AuthFailure, Error, Result};
use crate::factors;
use crate::model::{now, Factors, Journal, Session, SessionKind, User, UserId};

pub use crate::second_step::Challenge;

/// Where a login stands after its password step.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum LoginStep {
    /// Signed in: the session and its token.
    Done(Box<LoginOutcome>),
    /// The password was right and the user has a second factor: the challenge to
    /// complete with [`rbac.sessions().complete_login`](crate::service::Sessions::complete_login).
    SecondFactor(Box<Challenge>),
}

impl LoginStep {
    /// The outcome of a login that is done; a pending second factor as
    /// `Error::SecondFactorRequired`, so code that takes no second step fails closed.
    pub fn signed_in(self) -> Result<LoginOutcome> {
        match self {
            LoginStep::Done(outcome) => Ok(*outcome),
            LoginStep::SecondFactor(challenge) => Err(Error::SecondFactorRequired(challenge)),
        }
    }

    /// The step a login use-case's result stands at.
    pub(crate) fn of(result: Result<LoginOutcome>) -> Result<LoginStep> {
        match result {
            Ok(outcome) => Ok(LoginStep::Done(Box::new(outcome))),
            Err(Error::SecondFactorRequired(challenge)) => Ok(LoginStep::SecondFactor(challenge)),
            Err(e) => Err(e),
        }
    }
}

/// The second step of a login.
#[derive(Debug, Clone, Default)]
pub struct SecondFactorInput {
    /// The challenge's token.
    pub mfa_token: String,
    /// A TOTP code (six digits) or a recovery code.
    pub code: String,
    /// Or a passkey's assertion (the `PublicKeyCredential` as JSON), for the options the
    /// challenge carried.
    pub passkey: Option<serde_json::Value>,
    /// The client's address.
    pub ip: String,
    /// The client's `User-Agent`.
    pub user_agent: String,
    /// Where the login is completed: the audience its first step named
    /// ([`LoginInput::audience`](crate::service::LoginInput::audience)), or no challenge is found.
    pub audience: String,
    /// The tenant the login is for: the one its first step named, or no challenge is found.
    pub tenant: Option<Scope>,
}

impl SecondFactorInput {
    /// The second step of a login: the challenge's `mfa_token` and a TOTP or recovery
    /// `code`, from the client at `address`.
    pub fn new(
        mfa_token: impl Into<String>,
        code: impl Into<String>,
        address: impl Into<String>,
    ) -> Self {
        SecondFactorInput {
            mfa_token: mfa_token.into(),
            code: code.into(),
            ip: address.into(),
            ..SecondFactorInput::default()
        }
    }

    /// The same step, completed at `audience` (the one the login began at).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = audience.into();
        self
    }

    /// The same step, into `tenant` (the one the login began for).
    pub fn tenant(mut self, tenant: Scope) -> Self {
        self.tenant = Some(tenant);
        self
    }
}

/// What a login's passkey assertion is bound to (besides its challenge's token).
const LOGIN: &str = "login";

/// The stored id of a challenge: the hash of its token with the kind of session, the
/// tenant and the audience it was opened for, so that it completes only where it was
/// opened (a challenge opened on one surface names nothing on another).
fn challenge_id(token: &str, kind: SessionKind, tenant: Option<Scope>, audience: &str) -> String {
    let tenant = tenant.map_or_else(String::new, |t| t.to_string());
    let key = format!("{token}:{}:{tenant}:{audience}", kind.as_i16());
    crate::authn::token::opaque_session_id(&key)
}

impl Sessions<'_> {
    /// The factors beyond a password that the user has enrolled (none: a password alone
    /// logs them in).
    pub(crate) async fn second_factor_methods(self, user: UserId) -> Result<Vec<&'static str>> {
        let store = &self.rbac.store();
        let mut methods = Vec::new();
        if store.totp(user).await?.is_some_and(|f| f.confirmed) {
            methods.extend(["totp", "recovery_code"]);
        }
        if store.count_passkeys(user).await? > 0 {
            methods.push("passkey");
        }
        Ok(methods)
    }

    /// Opens the challenge of a login whose password was right, for a session of `kind`
    /// into `input.tenant`.
    pub(crate) async fn open_challenge(
        self,
        user: &User,
        input: &LoginInput,
        methods: Vec<&'static str>,
        kind: SessionKind,
    ) -> Result<Challenge> {
        let token = crate::service::random_token(32);
        let t = now();
        let expires_at = t + self.rbac.config().challenge_ttl.as_secs().max(1) as i64;
        let session = Session {
            id: challenge_id(&token, kind, input.tenant, &input.audience),
            user_id: user.id,
            kind: SessionKind::Challenge,
            issued_at: t,
            expires_at,
            last_seen: t,
            revoked: false,
            ip: input.ip.clone(),
            factors: Factors::PASSWORD,
            verified_at: t,
            user_agent: stored_user_agent(&input.user_agent),
        };
        let journal = Journal::audit(crate::model::NewAudit {
            user_id: Some(user.id),
            user_name: user.name.clone(),
            category: crate::model::AuditCategory::Home,
            content: format!(
                "login from {}: password accepted, second factor awaited",
                input.ip
            ),
            success: true,
        });
        self.rbac.store().create_session(&session, &journal).await?;
        #[cfg(not(feature = "passkeys"))]
        let passkey = None;
        #[cfg(feature = "passkeys")]
        let passkey = if methods.contains(&"passkey") {
            self.rbac
                .factors()
                .open_assertion(user, token.clone(), LOGIN)
                .await?
                .map(|o| o.options)
        } else {
            None
        };
        Ok(Challenge {
            token,
            expires_at,
            methods,
            passkey,
        })
    }

    /// Completes a login with its challenge and a TOTP or recovery code, opening a session
    /// of `kind` (with `input.tenant`, only for a user of it). A wrong code counts as a
    /// failed login and leaves the challenge open until it expires; a right one ends it.
    pub async fn complete_login(
        self,
        input: &SecondFactorInput,
        kind: SessionKind,
    ) -> Result<LoginOutcome> {
        let result = self.check_second_step(input, kind).await;
        let outcome = match &result {
            Ok(_) => "success",
            Err(Error::BadSecondFactor) => "bad_second_factor",
            Err(Error::Throttled { .. }) => "throttled",
            Err(Error::Internal(_)) => "error",
            Err(_) => "refused",
        };
        metrics::counter!("rbac_logins_total", "outcome" => outcome).increment(1);
        result
    }

    async fn check_second_step(
        self,
        input: &SecondFactorInput,
        kind: SessionKind,
    ) -> Result<LoginOutcome> {
        let store = &self.rbac.store();
        // Bound to the surface that opened it: elsewhere it names no challenge.
        let id = challenge_id(&input.mfa_token, kind, input.tenant, &input.audience);
        let challenge = match store.session(&id).await? {
            Some(s) if s.kind == SessionKind::Challenge && !s.revoked => s,
            _ => return Err(Error::Unauthenticated(AuthFailure::Invalid)),
        };
        if challenge.expires_at <= now() {
            return Err(Error::Unauthenticated(AuthFailure::Expired));
        }
        let user = store
            .user(challenge.user_id)
            .await?
            .ok_or(Error::Unauthenticated(AuthFailure::UserGone))?;
        if !user.enabled {
            return Err(Error::AccountDisabled);
        }
        if input.tenant.is_some_and(|t| user.tenant != Some(t)) {
            return Err(Error::BadCredentials);
        }
        let attempt = self
            .reserve_attempt(&user.name, Some(&user), &input.ip)
            .await?;
        let proven = match &input.passkey {
            Some(assertion) => {
                self.rbac
                    .factors()
                    .verify_passkey(&user, &input.mfa_token, LOGIN, assertion)
                    .await?
            }
            None => self.verify_second_factor(&user, &input.code).await?,
        };
        let Some(factor) = proven else {
            self.attempt_failed(attempt, &input.ip).await?;
            self.rbac
                .audit_alone(
                    Some(&user),
                    &user.name,
                    format!("login failed from {}: wrong second factor", input.ip),
                    false,
                    &input.ip,
                )
                .await;
            return Err(Error::BadSecondFactor);
        };
        // The challenge is single-use: of two completions, one ends it.
        if !store.revoke_session(&id, &Journal::default()).await? {
            return Err(Error::Unauthenticated(AuthFailure::Revoked));
        }
        self.attempt_succeeded(attempt, &user, &input.ip).await?;
        let origin = Origin {
            ip: &input.ip,
            user_agent: &input.user_agent,
            factors: Factors::PASSWORD | factor,
            verified_at: now(),
        };
        self.finish_login(user, &origin, kind, None).await
    }

    /// Proves a second factor anew on the caller's session (a step-up): a TOTP or recovery
    /// code, throttled like a login from `address`; the session then counts as verified
    /// now, with that factor, on every instance.
    pub async fn step_up(self, actor: &crate::Principal, code: &str, address: &str) -> Result<()> {
        self.step_up_by(actor, None, code, address).await
    }

    #[cfg(feature = "passkeys")]
    /// Proves a passkey anew on the caller's session (a step-up): the assertion for the
    /// options [`rbac.factors().begin_passkey_step_up`](crate::service::SecondFactors::begin_passkey_step_up) gave with `token`.
    pub async fn step_up_with_passkey(
        self,
        actor: &crate::Principal,
        token: &str,
        assertion: &serde_json::Value,
        address: &str,
    ) -> Result<()> {
        self.step_up_by(actor, Some(assertion), token, address)
            .await
    }

    async fn step_up_by(
        self,
        actor: &crate::Principal,
        assertion: Option<&serde_json::Value>,
        code: &str,
        address: &str,
    ) -> Result<()> {
        let store = &self.rbac.store();
        if actor.session_id.is_empty() {
            return Err(Error::Unauthenticated(AuthFailure::Missing));
        }
        let user = store
            .user(actor.user_id)
            .await?
            .ok_or(Error::Unauthenticated(AuthFailure::UserGone))?;
        let attempt = self
            .reserve_attempt(&user.name, Some(&user), address)
            .await?;
        let proven = match assertion {
            Some(assertion) => {
                self.rbac
                    .factors()
                    .verify_passkey(&user, code, &actor.session_id, assertion)
                    .await?
            }
            None => self.verify_second_factor(&user, code).await?,
        };
        let Some(factor) = proven else {
            self.attempt_failed(attempt, address).await?;
            return Err(Error::BadSecondFactor);
        };
        self.attempt_succeeded(attempt, &user, address).await?;
        let journal = self
            .rbac
            .journal(
                Some(actor),
                crate::model::AuditCategory::Home,
                format!("second factor proven ({})", factor.names().join(", ")),
            )
            .with(crate::model::Change::Session(actor.session_id.to_string()));
        if !self
            .rbac
            .applying(&journal)
            .write(store.mark_session_verified(&actor.session_id, factor, now(), &journal))
            .await?
        {
            return Err(Error::Unauthenticated(AuthFailure::Revoked));
        }
        Ok(())
    }

    /// Which second factor `code` proves for `user`, using it up: a TOTP code (each time
    /// step once) or a recovery code (each once); `None` if it proves none.
    pub(crate) async fn verify_second_factor(
        self,
        user: &User,
        code: &str,
    ) -> Result<Option<Factors>> {
        let store = &self.rbac.store();
        let key = self.rbac.secrets_key()?;
        if factors::looks_like_totp(code) {
            // Without the `totp` feature no TOTP code proves anything: an enrolled factor
            // still guards the login (it is listed among the methods), so only a recovery
            // code or a passkey completes it. Failing closed, never open.
            #[cfg(feature = "totp")]
            {
                let Some(factor) = store.totp(user.id).await?.filter(|f| f.confirmed) else {
                    return Ok(None);
                };
                let secret = key
                    .open(&factor.sealed, &factors::totp_context(user.id))
                    .ok_or_else(|| {
                        Error::internal("a TOTP secret does not open with the secrets key")
                    })?;
                return Ok(match factors::matching_step(&secret, code, now()) {
                    Some(step) if store.claim_totp_step(user.id, step).await? => {
                        Some(Factors::TOTP)
                    }
                    _ => None,
                });
            }
            #[cfg(not(feature = "totp"))]
            return Ok(None);
        }
        let normalised = factors::normalise_recovery_code(code);
        if normalised.is_empty() || normalised.len() > 64 {
            return Ok(None);
        }
        let digest = key.digest(&factors::recovery_context(user.id), normalised.as_bytes());
        Ok(store
            .use_recovery_code(user.id, &digest)
            .await?
            .then_some(Factors::RECOVERY_CODE))
    }
}
