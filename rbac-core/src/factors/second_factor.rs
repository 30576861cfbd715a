//! Enrolling, inspecting and removing a TOTP second factor and its recovery codes.

use super::facet::SecondFactors;
use crate::authz::authorizer::Principal;
use crate::error::{Error, Result};
use crate::factors;
#[cfg(any(feature = "totp", feature = "passkeys"))]
use crate::model::now;
#[cfg(feature = "totp")]
use crate::model::TotpFactor;
use crate::model::{AuditCategory, Change, User};

#[cfg(feature = "totp")]
/// A TOTP enrolment begun: what the user's authenticator app needs. Shown once; its
/// `Debug` shows nothing of the secret.
#[derive(Clone)]
pub struct TotpEnrolment {
    /// The secret in base32, for typing in by hand.
    pub secret: String,
    /// The `otpauth://totp/…` URI.
    pub uri: String,
    /// The URI as a QR code, in SVG.
    pub qr_svg: String,
}

#[cfg(feature = "totp")]
impl std::fmt::Debug for TotpEnrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpEnrolment(..)")
    }
}

/// A user's second factors as they may see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecondFactorStatus {
    /// A confirmed TOTP factor guards the user's logins.
    pub totp: bool,
    /// An enrolment waits for its confirming code.
    pub totp_pending: bool,
    /// Unused recovery codes.
    pub recovery_codes_left: u64,
    /// Registered passkeys.
    pub passkeys: u64,
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
        let key = self.rbac.secrets_key()?;
        if self
            .rbac
            .store()
            .totp(actor.user_id)
            .await?
            .is_some_and(|f| f.confirmed)
        {
            return Err(totp_enrolled());
        }
        let user = self.enrolment_proof(actor, password, address).await?;
        let secret = factors::new_totp_secret();
        let factor = TotpFactor {
            user_id: user.id,
            sealed: key.seal(&secret, &factors::totp_context(user.id)),
            confirmed: false,
            last_step: 0,
            created_at: now(),
        };
        let journal = self.rbac.journal(
            Some(actor),
            AuditCategory::Home,
            "begin TOTP enrolment".into(),
        );
        match self.rbac.store().put_pending_totp(&factor, &journal).await {
            Err(crate::StoreError::Conflict(_)) => return Err(totp_enrolled()),
            other => other?,
        }
        let uri = factors::totp_uri(&secret, &self.rbac.config().totp_issuer, &user.name);
        Ok(TotpEnrolment {
            secret: factors::totp_secret_base32(&secret),
            qr_svg: factors::qr_svg(&uri),
            uri,
        })
    }

    #[cfg(any(feature = "totp", feature = "passkeys"))]
    /// The caller, once proven fit to enrol a factor: a session whose login is within the
    /// enrolment window, or else the password (throttled like a login from `address`).
    /// A user who has a second factor already must have proven one within the window
    /// (`StepUpRequired`): a password and a stolen session cannot add a factor that signs
    /// in alone, nor take one away.
    pub(crate) async fn enrolment_proof(
        self,
        actor: &Principal,
        password: Option<&str>,
        address: &str,
    ) -> Result<User> {
        let user = self.rbac.actor_user(actor).await?;
        let window = self.rbac.config().enrolment_window.as_secs() as i64;
        let recent = now().saturating_sub(actor.verified_at) <= window;
        let has_factor = !self
            .rbac
            .sessions()
            .second_factor_methods(user.id)
            .await?
            .is_empty();
        let proven_recently = recent && actor.factors.has_second_factor();
        if has_factor && !proven_recently {
            return Err(Error::StepUpRequired {
                within: Some(window),
            });
        }
        if recent {
            return Ok(user);
        }
        let Some(password) = password else {
            return Err(Error::invalid(
                "password",
                "this session signed in too long ago: give the password to enrol",
            ));
        };
        let name = user.name.clone();
        match self
            .rbac
            .sessions()
            .verify_attempt(&name, Some(user), password, address)
            .await
        {
            Err(Error::BadCredentials) => Err(Error::WrongPassword),
            other => Ok(other?.0),
        }
    }

    #[cfg(feature = "totp")]
    /// Confirms the caller's pending TOTP enrolment with a code from the app; answers the
    /// ten recovery codes, shown this once (only their keyed digests are stored).
    pub async fn confirm_totp(self, actor: &Principal, code: &str) -> Result<Vec<String>> {
        let key = self.rbac.secrets_key()?;
        let store = &self.rbac.store();
        let pending = match store.totp(actor.user_id).await? {
            Some(f) if !f.confirmed => f,
            _ => {
                return Err(Error::Violation(
                    "no TOTP enrolment is pending: begin one first".into(),
                ))
            }
        };
        let secret = key
            .open(&pending.sealed, &factors::totp_context(actor.user_id))
            .ok_or_else(|| Error::internal("a TOTP secret does not open with the secrets key"))?;
        let Some(step) = factors::matching_step(&secret, code, now()) else {
            return Err(Error::BadSecondFactor);
        };
        let codes = factors::new_recovery_codes();
        let digests = recovery_digests(key, actor.user_id, &codes);
        let journal = self
            .rbac
            .journal(
                Some(actor),
                AuditCategory::Home,
                "enrol TOTP (other sessions ended)".into(),
            )
            .with(Change::User(actor.user_id))
            .event_about(
                crate::events::kind::SECOND_FACTOR_ENROLLED,
                &actor.user_name,
                "totp",
            );
        if !self
            .rbac
            .applying(&journal)
            .write(
                store
                    // Sessions opened before the factor end with it: they proved a password alone.
                    .confirm_totp(
                        actor.user_id,
                        step,
                        &digests,
                        Some(&actor.session_id),
                        &journal,
                    ),
            )
            .await?
        {
            return Err(Error::Violation(
                "no TOTP enrolment is pending: begin one first".into(),
            ));
        }
        Ok(codes)
    }

    /// Replaces the caller's recovery codes, proven with a current TOTP code; answers the
    /// new ten, shown this once.
    pub async fn regenerate_recovery_codes(
        self,
        actor: &Principal,
        code: &str,
        address: &str,
    ) -> Result<Vec<String>> {
        let user = self.rbac.actor_user(actor).await?;
        self.prove_second_factor(&user, code, address, true).await?;
        let codes = factors::new_recovery_codes();
        let digests = recovery_digests(self.rbac.secrets_key()?, user.id, &codes);
        let journal = self.rbac.journal(
            Some(actor),
            AuditCategory::Home,
            "regenerate recovery codes".into(),
        );
        if !self
            .rbac
            .store()
            .replace_recovery_codes(user.id, &digests, &journal)
            .await?
        {
            return Err(Error::Violation("TOTP is not enrolled".into()));
        }
        Ok(codes)
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
        let user = self.rbac.actor_user(actor).await?;
        let name = user.name.clone();
        let (user, _) = match self
            .rbac
            .sessions()
            .verify_attempt(&name, Some(user), password, address)
            .await
        {
            Err(Error::BadCredentials) => return Err(Error::WrongPassword),
            other => other?,
        };
        self.prove_second_factor(&user, code, address, false)
            .await?;
        let journal = self
            .rbac
            .journal(Some(actor), AuditCategory::Home, "remove TOTP".into())
            .with(Change::User(user.id))
            .event_about(
                crate::events::kind::SECOND_FACTOR_REMOVED,
                &user.name,
                "totp",
            );
        if !self
            .rbac
            .applying(&journal)
            .write(self.rbac.store().remove_totp(user.id, &journal))
            .await?
        {
            return Err(Error::Violation("TOTP is not enrolled".into()));
        }
        Ok(())
    }

    /// Removes another user's second factors (a lost device), within the actor: needs
    /// UserEdit and a user holding nothing the actor does not.
    pub async fn reset(self, actor: &Principal, user_name: &str) -> Result<()> {
        self.rbac.require(actor, &self.rbac.admin().user_edit)?;
        let user = self.rbac.user_named(user_name).await?;
        self.rbac
            .containment()
            .ensure_user_within(actor, &user, "reset the second factors of")
            .await?;
        self.rbac.sessions().ensure_fresh_on(
            actor,
            user.id,
            crate::service::Sensitive::ResetSecondFactors,
        )?;
        let journal = self
            .rbac
            .journal(
                Some(actor),
                AuditCategory::System,
                format!("reset second factors of user {}", user.name),
            )
            .with(Change::User(user.id))
            .event_about(
                crate::events::kind::SECOND_FACTOR_REMOVED,
                &user.name,
                "reset by an admin",
            );
        if !self
            .rbac
            .applying(&journal)
            .write(self.rbac.store().remove_second_factors(user.id, &journal))
            .await?
        {
            return Err(Error::Violation(format!(
                "user {} has no second factor",
                user.name
            )));
        }
        Ok(())
    }

    /// Sets whether a role requires its members to have a second factor. The built-in
    /// admin's alone: the rule binds every member of the role, and of every role including
    /// it, however strong (lifting it is a downgrade for them all). Requiring it needs a
    /// secrets key, so that members can enrol. Acts on the members' next request.
    pub(crate) async fn set_role_requires_second_factor(
        self,
        actor: &Principal,
        role_name: &str,
        required: bool,
    ) -> Result<()> {
        if !actor.is_builtin_admin() {
            return Err(Error::Forbidden {
                missing: crate::service::ADMIN.to_string(),
            });
        }
        self.rbac
            .sessions()
            .ensure_fresh(actor, crate::service::Sensitive::RequireSecondFactor)?;
        if required {
            self.rbac.secrets_key()?;
        }
        let role = self
            .rbac
            .store()
            .role_by_name(role_name)
            .await?
            .ok_or(Error::NotFound(crate::Entity::Role))?;
        let verb = if required {
            "require"
        } else {
            "stop requiring"
        };
        let journal = self
            .rbac
            .journal(
                Some(actor),
                AuditCategory::System,
                format!("{verb} a second factor for role {}", role.name),
            )
            .with(Change::Role(role.id))
            .event_about(
                crate::events::kind::ROLE_CHANGED,
                &role.name,
                format!("{verb} a second factor"),
            );
        self.rbac
            .applying(&journal)
            .write(
                self.rbac
                    .store()
                    .set_role_requires_second_factor(role.id, required, &journal),
            )
            .await?;
        Ok(())
    }

    /// The caller's second factors.
    pub async fn status(self, actor: &Principal) -> Result<SecondFactorStatus> {
        let store = &self.rbac.store();
        let totp = store.totp(actor.user_id).await?;
        Ok(SecondFactorStatus {
            totp: totp.as_ref().is_some_and(|f| f.confirmed),
            totp_pending: totp.as_ref().is_some_and(|f| !f.confirmed),
            recovery_codes_left: store.recovery_codes_left(actor.user_id).await?,
            passkeys: store.count_passkeys(actor.user_id).await?,
        })
    }

    /// Checks a second-factor code of `user` under the login throttle (`totp_only`: a
    /// recovery code does not do).
    async fn prove_second_factor(
        self,
        user: &User,
        code: &str,
        address: &str,
        totp_only: bool,
    ) -> Result<()> {
        let attempt = self
            .rbac
            .sessions()
            .reserve_attempt(&user.name, Some(user), address)
            .await?;
        let proven = if totp_only && !factors::looks_like_totp(code) {
            None
        } else {
            self.rbac
                .sessions()
                .verify_second_factor(user, code)
                .await?
        };
        if proven.is_none() {
            self.rbac
                .sessions()
                .attempt_failed(attempt, address)
                .await?;
            return Err(Error::BadSecondFactor);
        }
        self.rbac
            .sessions()
            .attempt_succeeded(attempt, user, address)
            .await?;
        Ok(())
    }
}

#[cfg(feature = "totp")]
fn totp_enrolled() -> Error {
    Error::Violation("TOTP is already enrolled: remove it before enrolling again".into())
}

/// What is stored of a user's recovery codes: their keyed digests.
fn recovery_digests(
    key: &crate::secrets::SecretsKey,
    user: crate::model::UserId,
    codes: &[String],
) -> Vec<String> {
    let context = factors::recovery_context(user);
    codes
        .iter()
        .map(|c| key.digest(&context, factors::normalise_recovery_code(c).as_bytes()))
        .collect()
}
