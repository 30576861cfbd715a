//! `rbac.sessions()`.

use crate::authz::authorizer::Principal;
use crate::error::Result;
use crate::model::*;
use crate::service::*;

/// Sessions: `rbac.sessions()`.
#[derive(Clone, Copy)]
pub struct Sessions<'a> {
    pub(super) rbac: &'a Rbac,
}

impl Sessions<'_> {
    /// Checks a name and password; on success opens a session and issues its JWT
    /// ([`LoginStep::Done`](crate::service::LoginStep)), or, for a user with a second factor, opens
    /// the challenge that completes it ([`LoginStep::SecondFactor`](crate::service::LoginStep)).
    /// A wrong name and a wrong password answer alike, in similar time. Counted in the
    /// `rbac_logins_total{outcome}` metric when a `metrics` recorder is installed.
    pub async fn login(self, input: &LoginInput) -> Result<crate::service::LoginStep> {
        self.rbac.login(input).await
    }

    /// [`rbac.sessions().login`](crate::service::Sessions::login) opening a session of `kind` (an opaque sliding session suits a
    /// browser's cookie); [`rbac.sessions().complete_login`](crate::service::Sessions::complete_login) with the same kind finishes a challenge.
    pub async fn login_with(
        self,
        input: &LoginInput,
        kind: SessionKind,
    ) -> Result<crate::service::LoginStep> {
        self.rbac.login_with(input, kind).await
    }

    /// Revokes the caller's session.
    pub async fn logout(self, actor: &Principal) -> Result<()> {
        self.rbac.logout(actor).await
    }

    /// Replaces the caller's session with a new one; the old token stops working at once
    /// and can never be refreshed again.
    pub async fn refresh(self, actor: &Principal, ip: &str) -> Result<Token> {
        self.rbac.refresh(actor, ip).await
    }

    /// Checks a name and password without opening a session (HTTP Basic on each request),
    /// throttled like a login from `address`.
    pub async fn authenticate_password(
        self,
        name: &str,
        password: &str,
        address: &str,
    ) -> Result<Principal> {
        self.rbac
            .authenticate_password(name, password, address)
            .await
    }

    /// Verifies a token (a JWT or an opaque sliding token) and its session.
    pub async fn authenticate(self, token: &str) -> Result<Principal> {
        self.rbac.authenticate(token).await
    }

    /// Completes a login with its challenge and a TOTP or recovery code, opening a session
    /// of `kind` (with `organisation`, only for a user of it). A wrong code counts as a
    /// failed login and leaves the challenge open until it expires; a right one ends it.
    pub async fn complete_login(
        self,
        input: &SecondFactorInput,
        kind: SessionKind,
        organisation: Option<i64>,
    ) -> Result<LoginOutcome> {
        self.rbac.complete_login(input, kind, organisation).await
    }

    /// Proves a second factor anew on the caller's session (a step-up): a TOTP or recovery
    /// code, throttled like a login from `address`; the session then counts as verified
    /// now, with that factor, on every instance.
    pub async fn step_up(self, actor: &crate::Principal, code: &str, address: &str) -> Result<()> {
        self.rbac.step_up(actor, code, address).await
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
        self.rbac
            .step_up_with_passkey(actor, token, assertion, address)
            .await
    }

    /// The caller's live sessions, newest first (at most [`SESSIONS_LISTED`]).
    pub async fn mine(self, actor: &Principal) -> Result<Vec<SessionView>> {
        self.rbac.my_sessions(actor).await
    }

    /// Another user's live sessions: needs UserAccess and a user within the actor (their
    /// addresses are no one's business above them). Naming oneself lists one's own.
    pub async fn of_user(self, actor: &Principal, user_name: &str) -> Result<Vec<SessionView>> {
        self.rbac.sessions_of_user(actor, user_name).await
    }

    /// Ends sessions of `user_name` (the caller when `None`): the one named by `handle`, or
    /// every one but the caller's own. Another user's need UserEdit and a user within the
    /// actor. Answers how many ended; an unknown handle is `NotFound(Session)`.
    pub async fn end(
        self,
        actor: &Principal,
        user_name: Option<&str>,
        handle: Option<&str>,
    ) -> Result<u64> {
        self.rbac.end_sessions(actor, user_name, handle).await
    }
}
