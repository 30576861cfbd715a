//! `rbac.factors()`.

use crate::authz::authorizer::Principal;
use crate::error::Result;
use crate::model::*;
use crate::service::*;

/// SecondFactors: `rbac.factors()`.
#[derive(Clone, Copy)]
pub struct SecondFactors<'a> {
    pub(super) rbac: &'a Rbac,
}

impl SecondFactors<'_> {
    #[cfg(feature = "totp")]
    /// Begins the caller's TOTP enrolment: a new secret, pending until
    /// [`rbac.factors().confirm_totp`](crate::service::SecondFactors::confirm_totp) sees a right code (a pending one is replaced). Refused while
    /// a confirmed factor exists, and without a secrets key. A session whose login is
    /// older than [`RbacConfig::enrolment_window`](crate::RbacConfig) must give the
    /// password (throttled like a login from `address`): an old, stolen token cannot bind
    /// the account to its thief's authenticator.
    pub async fn begin_totp(
        self,
        actor: &Principal,
        password: Option<&str>,
        address: &str,
    ) -> Result<TotpEnrolment> {
        self.rbac.begin_totp(actor, password, address).await
    }

    #[cfg(feature = "totp")]
    /// Confirms the caller's pending TOTP enrolment with a code from the app; answers the
    /// ten recovery codes, shown this once (only their keyed digests are stored).
    pub async fn confirm_totp(self, actor: &Principal, code: &str) -> Result<Vec<String>> {
        self.rbac.confirm_totp(actor, code).await
    }

    /// Replaces the caller's recovery codes, proven with a current TOTP code; answers the
    /// new ten, shown this once.
    pub async fn regenerate_recovery_codes(
        self,
        actor: &Principal,
        code: &str,
        address: &str,
    ) -> Result<Vec<String>> {
        self.rbac
            .regenerate_recovery_codes(actor, code, address)
            .await
    }

    /// Removes the caller's TOTP factor and recovery codes, proven with the password and a
    /// code (TOTP or recovery); both are throttled like a login from `address`.
    pub async fn remove_totp(
        self,
        actor: &Principal,
        password: &str,
        code: &str,
        address: &str,
    ) -> Result<()> {
        self.rbac.remove_totp(actor, password, code, address).await
    }

    /// Removes another user's second factors (a lost device), within the actor: needs
    /// UserEdit and a user holding nothing the actor does not.
    pub async fn reset(self, actor: &Principal, user_name: &str) -> Result<()> {
        self.rbac.reset_second_factors(actor, user_name).await
    }

    /// The caller's second factors.
    pub async fn status(self, actor: &Principal) -> Result<SecondFactorStatus> {
        self.rbac.second_factor_status(actor).await
    }

    /// The factors beyond a password that the user has enrolled (none: a password alone
    /// logs them in).
    pub async fn methods(self, user: UserId) -> Result<Vec<&'static str>> {
        self.rbac.second_factor_methods(user).await
    }

    #[cfg(feature = "passkeys")]
    /// Begins registering a passkey for the caller. Like enrolling TOTP, a session whose
    /// login is older than the enrolment window must give the password (throttled like a
    /// login from `address`): an old, stolen token cannot bind the account to its thief's
    /// authenticator.
    pub async fn begin_passkey_registration(
        self,
        actor: &Principal,
        password: Option<&str>,
        address: &str,
    ) -> Result<PasskeyOptions> {
        self.rbac
            .begin_passkey_registration(actor, password, address)
            .await
    }

    #[cfg(feature = "passkeys")]
    /// Completes a registration begun on this session with the browser's new credential,
    /// named `name`. The user's first second factor ends their other sessions: those
    /// proved a password alone.
    pub async fn finish_passkey_registration(
        self,
        actor: &Principal,
        token: &str,
        name: &str,
        credential: &serde_json::Value,
    ) -> Result<PasskeyView> {
        self.rbac
            .finish_passkey_registration(actor, token, name, credential)
            .await
    }

    #[cfg(feature = "passkeys")]
    /// The caller's passkeys.
    pub async fn passkeys(self, actor: &Principal) -> Result<Vec<PasskeyView>> {
        self.rbac.my_passkeys(actor).await
    }

    #[cfg(feature = "passkeys")]
    /// Removes one of the caller's passkeys, proven with the password (throttled like a
    /// login from `address`) on a session that proved a second factor within the
    /// enrolment window (else `StepUpRequired`).
    pub async fn remove_passkey(
        self,
        actor: &Principal,
        id: i64,
        password: &str,
        address: &str,
    ) -> Result<()> {
        self.rbac.remove_passkey(actor, id, password, address).await
    }

    #[cfg(feature = "passkeys")]
    /// Begins a step-up with a passkey on the caller's session (completed by
    /// [`rbac.sessions().step_up_with_passkey`](crate::service::Sessions::step_up_with_passkey)): the options, or a violation without a passkey.
    pub async fn begin_passkey_step_up(self, actor: &Principal) -> Result<PasskeyOptions> {
        self.rbac.begin_passkey_step_up(actor).await
    }

    #[cfg(feature = "passkeys")]
    /// Begins a passwordless sign-in from `address`: options for any passkey the browser
    /// holds for this site; the user is known only from the assertion. Counted per address
    /// per hour ([`AbuseLimits`](crate::service::AbuseLimits)): each stores a ceremony.
    pub async fn begin_passkey_sign_in(self, address: &str) -> Result<PasskeyOptions> {
        self.rbac.begin_passkey_sign_in(address).await
    }

    #[cfg(feature = "passkeys")]
    /// Completes a passwordless sign-in with a passkey's assertion, opening a session of
    /// `kind` (with `organisation`, only for a user of it). A refused assertion of a known
    /// passkey counts as a failed login of its owner; the ceremony is used up either way.
    pub async fn finish_passkey_sign_in(
        self,
        token: &str,
        assertion: &serde_json::Value,
        ip: &str,
        user_agent: &str,
        kind: SessionKind,
        organisation: Option<i64>,
    ) -> Result<LoginOutcome> {
        self.rbac
            .finish_passkey_sign_in(token, assertion, ip, user_agent, kind, organisation)
            .await
    }
}
