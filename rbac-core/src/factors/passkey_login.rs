//! Passkeys: registering them (named, listed, removed), asserting one as a login's second
//! step or a step-up, and signing in with one alone (a discoverable credential).
//!
//! Every ceremony's state stays server side, expires with a login challenge and is taken
//! once: an assertion cannot be replayed, and a ceremony opened for one session, login or
//! purpose completes nothing else.

use base64::Engine;
use serde_json::Value;
use webauthn_rs::prelude::{
    AuthenticationResult, DiscoverableAuthentication, DiscoverableKey, Passkey,
    PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential,
    Uuid,
};

use super::facet::SecondFactors;
use crate::authn::accounts::{LoginOutcome, Origin};
use crate::authz::authorizer::Principal;
use crate::error::{AuthFailure, Error, Result};
use crate::factors::passkeys::{Ceremony, CeremonyPurpose, PasskeyRecord, PASSKEYS_PER_USER};
use crate::model::{now, AuditCategory, Change, Factors, SessionKind, Timestamp, User};

/// The options of a WebAuthn ceremony, for `navigator.credentials.create()` or `.get()`
/// (`{"publicKey":{…}}`), and the token that completes it.
#[derive(Debug, Clone)]
pub struct PasskeyOptions {
    /// Names the ceremony when it completes (single use, expires with a login challenge).
    pub token: String,
    /// The options, as the browser's API takes them.
    pub options: Value,
}

/// A registered passkey as its owner sees it (nothing of its key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyView {
    /// Its id (what removing it names).
    pub id: i64,
    /// The name its owner gave it.
    pub name: String,
    /// When it was registered.
    pub created_at: Timestamp,
    /// When it last signed in (0: never).
    pub last_used_at: Timestamp,
    /// The authenticator may back it up (a synced passkey).
    pub backup_eligible: bool,
    /// It is backed up.
    pub backup_state: bool,
}

impl From<&PasskeyRecord> for PasskeyView {
    fn from(r: &PasskeyRecord) -> Self {
        PasskeyView {
            id: r.id,
            name: r.name.clone(),
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            backup_eligible: r.backup_eligible,
            backup_state: r.backup_state,
        }
    }
}

/// The stored id of a ceremony: a digest of its purpose, token and what it is bound to.
pub(crate) fn ceremony_id(purpose: CeremonyPurpose, token: &str, bound: &str) -> String {
    crate::authn::token::opaque_session_id(&format!(
        "webauthn:{}:{token}:{bound}",
        purpose.as_i16()
    ))
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn internal(what: &'static str) -> impl Fn(serde_json::Error) -> Error {
    move |e| Error::internal(format!("{what}: {e}"))
}

impl<'a> SecondFactors<'a> {
    fn webauthn(self) -> Result<&'a webauthn_rs::Webauthn> {
        self.rbac
            .inner
            .webauthn
            .as_ref()
            .ok_or_else(|| Error::Violation("passkeys are not configured on this server".into()))
    }

    fn ceremony_ttl(self) -> i64 {
        self.rbac.config().challenge_ttl.as_secs().max(1) as i64
    }

    async fn open_ceremony(
        self,
        purpose: CeremonyPurpose,
        user: Option<&User>,
        token: String,
        bound: &str,
        state: String,
    ) -> Result<String> {
        self.rbac
            .store()
            .put_ceremony(&Ceremony {
                id: ceremony_id(purpose, &token, bound),
                user_id: user.map(|u| u.id),
                purpose,
                state,
                expires_at: now() + self.ceremony_ttl(),
            })
            .await?;
        Ok(token)
    }

    /// Counts a ceremony a signed-in user begins (a registration or a step-up), per hour
    /// ([`AbuseLimits`](crate::service::AbuseLimits)): a session cannot fill the store with them.
    async fn take_user_ceremony(self, user: &User) -> Result<()> {
        let limit = self.rbac.config().limits.passkey_ceremonies_per_user;
        self.rbac
            .limits()
            .take_hourly(&format!("passkey-user:{}", user.id), limit)
            .await
    }

    /// Takes a ceremony that is still open, or `None`.
    async fn take_open_ceremony(
        self,
        id: &str,
        purpose: CeremonyPurpose,
    ) -> Result<Option<Ceremony>> {
        Ok(self
            .rbac
            .store()
            .take_ceremony(id)
            .await?
            .filter(|c| c.purpose == purpose && c.expires_at > now()))
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
        let webauthn = self.webauthn()?;
        let user = self.enrolment_proof(actor, password, address).await?;
        self.take_user_ceremony(&user).await?;
        let existing = self.rbac.store().passkeys(user.id).await?;
        if existing.len() >= PASSKEYS_PER_USER {
            return Err(Error::Violation(format!(
                "at most {PASSKEYS_PER_USER} passkeys per user: remove one first"
            )));
        }
        let handle = match existing.first() {
            Some(p) => user_handle(&p.user_handle)?,
            None => Uuid::new_v4(),
        };
        let exclude = existing
            .iter()
            .filter_map(|p| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(&p.credential_id)
                    .ok()
            })
            .collect::<Vec<_>>();
        let (options, state) = webauthn
            .start_passkey_registration(handle, &user.name, &user.name, Some(exclude))
            .map_err(|e| Error::internal(format!("passkey registration: {e}")))?;
        let state = serde_json::json!({ "handle": b64(handle.as_bytes()), "state": state });
        let token = self
            .open_ceremony(
                CeremonyPurpose::Register,
                Some(&user),
                crate::service::random_token(24),
                &actor.session_id,
                state.to_string(),
            )
            .await?;
        let mut options =
            serde_json::to_value(&options).map_err(internal("registration options"))?;
        // Ask for a discoverable credential where the authenticator can keep one, so the
        // passkey also signs in alone (the verifier accepts either).
        if let Some(selection) = options["publicKey"]["authenticatorSelection"].as_object_mut() {
            selection.insert("residentKey".into(), Value::from("preferred"));
        }
        Ok(PasskeyOptions { token, options })
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
        let webauthn = self.webauthn()?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
            return Err(Error::invalid(
                "name",
                "a passkey's name is 1 to 64 printable characters",
            ));
        }
        let id = ceremony_id(CeremonyPurpose::Register, token, &actor.session_id);
        let Some(ceremony) = self
            .take_open_ceremony(&id, CeremonyPurpose::Register)
            .await?
            .filter(|c| c.user_id == Some(actor.user_id))
        else {
            return Err(Error::Violation(
                "no passkey registration is open on this session: begin one (it lasts 5 minutes)"
                    .into(),
            ));
        };
        let stored: Value =
            serde_json::from_str(&ceremony.state).map_err(internal("registration state"))?;
        let handle = stored["handle"].as_str().unwrap_or_default().to_string();
        let state: PasskeyRegistration = serde_json::from_value(stored["state"].clone())
            .map_err(internal("registration state"))?;
        let credential: RegisterPublicKeyCredential = serde_json::from_value(credential.clone())
            .map_err(|e| Error::invalid("credential", format!("not a WebAuthn credential: {e}")))?;
        let passkey = webauthn
            .finish_passkey_registration(&credential, &state)
            .map_err(|e| Error::invalid("credential", format!("the credential is refused: {e}")))?;
        let user = self.rbac.actor_user(actor).await?;
        let stored = serde_json::to_value(&passkey).map_err(internal("passkey"))?;
        let flag = |f: &str| stored["cred"][f].as_bool().unwrap_or(false);
        let record = PasskeyRecord {
            id: 0,
            user_id: user.id,
            credential_id: b64(passkey.cred_id()),
            user_handle: handle,
            name: name.to_string(),
            credential: stored.to_string(),
            counter: stored["cred"]["counter"].as_i64().unwrap_or(0),
            backup_eligible: flag("backup_eligible"),
            backup_state: flag("backup_state"),
            created_at: now(),
            last_used_at: 0,
        };
        if self.rbac.store().count_passkeys(user.id).await? >= PASSKEYS_PER_USER as u64 {
            return Err(Error::Violation(format!(
                "at most {PASSKEYS_PER_USER} passkeys per user: remove one first"
            )));
        }
        // A first factor ends the sessions opened before it: they proved a password alone.
        let first = self
            .rbac
            .sessions()
            .second_factor_methods(user.id)
            .await?
            .is_empty();
        let end_sessions_but = first.then_some(&*actor.session_id);
        let journal = self
            .rbac
            .journal(
                Some(actor),
                AuditCategory::Home,
                if first {
                    format!("register passkey {name} (other sessions ended)")
                } else {
                    format!("register passkey {name}")
                },
            )
            .with(Change::User(user.id))
            .event_about(
                crate::events::kind::SECOND_FACTOR_ENROLLED,
                &user.name,
                format!("passkey {name}"),
            );
        let id = match self
            .rbac
            .applying(&journal)
            .write(
                self.rbac
                    .store()
                    .add_passkey(&record, end_sessions_but, &journal),
            )
            .await
        {
            Err(crate::StoreError::Conflict(_)) => {
                return Err(Error::Violation(
                    "this passkey is registered already".into(),
                ))
            }
            other => other?,
        };
        Ok(PasskeyView::from(&PasskeyRecord { id, ..record }))
    }

    #[cfg(feature = "passkeys")]
    /// The caller's passkeys.
    pub async fn passkeys(self, actor: &Principal) -> Result<Vec<PasskeyView>> {
        let rows = self.rbac.store().passkeys(actor.user_id).await?;
        Ok(rows.iter().map(PasskeyView::from).collect())
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
        let window = self.rbac.config().enrolment_window.as_secs() as i64;
        if !actor.factors.has_second_factor() || now().saturating_sub(actor.verified_at) > window {
            return Err(Error::StepUpRequired {
                within: Some(window),
            });
        }
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
        let passkey = self
            .rbac
            .store()
            .passkeys(user.id)
            .await?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or(Error::NotFound(crate::Entity::Passkey))?;
        let journal = self
            .rbac
            .journal(
                Some(actor),
                AuditCategory::Home,
                format!("remove passkey {}", passkey.name),
            )
            .with(Change::User(user.id))
            .event_about(
                crate::events::kind::SECOND_FACTOR_REMOVED,
                &user.name,
                format!("passkey {}", passkey.name),
            );
        if !self
            .rbac
            .applying(&journal)
            .write(self.rbac.store().remove_passkey(user.id, id, &journal))
            .await?
        {
            return Err(Error::NotFound(crate::Entity::Passkey));
        }
        Ok(())
    }

    /// Opens an assertion of one of `user`'s passkeys, completed by `token` and bound to
    /// `bound` (a session; a login's challenge): the options, or `None` if they have none.
    pub(crate) async fn open_assertion(
        self,
        user: &User,
        token: String,
        bound: &str,
    ) -> Result<Option<PasskeyOptions>> {
        let Some(webauthn) = self.rbac.inner.webauthn.as_ref() else {
            return Ok(None);
        };
        let passkeys = self.stored_passkeys(user).await?;
        if passkeys.is_empty() {
            return Ok(None);
        }
        let (options, state) = webauthn
            .start_passkey_authentication(&passkeys)
            .map_err(|e| Error::internal(format!("passkey assertion: {e}")))?;
        let state = serde_json::to_string(&state).map_err(internal("assertion state"))?;
        let token = self
            .open_ceremony(CeremonyPurpose::Assert, Some(user), token, bound, state)
            .await?;
        Ok(Some(PasskeyOptions {
            token,
            options: serde_json::to_value(&options).map_err(internal("assertion options"))?,
        }))
    }

    /// Checks an assertion against the ceremony `token` opened for `user` and `bound`,
    /// taking the ceremony: `Some(PASSKEY)` if it proves one of their passkeys.
    pub(crate) async fn verify_passkey(
        self,
        user: &User,
        token: &str,
        bound: &str,
        assertion: &Value,
    ) -> Result<Option<Factors>> {
        let webauthn = self.webauthn()?;
        let id = ceremony_id(CeremonyPurpose::Assert, token, bound);
        let Some(ceremony) = self
            .take_open_ceremony(&id, CeremonyPurpose::Assert)
            .await?
            .filter(|c| c.user_id == Some(user.id))
        else {
            return Ok(None);
        };
        let state: PasskeyAuthentication =
            serde_json::from_str(&ceremony.state).map_err(internal("assertion state"))?;
        let Ok(credential) = serde_json::from_value::<PublicKeyCredential>(assertion.clone())
        else {
            return Ok(None);
        };
        let Ok(result) = webauthn.finish_passkey_authentication(&credential, &state) else {
            return Ok(None);
        };
        self.record_passkey_use(user, &result).await
    }

    /// Stores what an assertion changed of the passkey (counter, backup state, last use):
    /// `Some(PASSKEY)` if it is still the user's and no other use overtook this one.
    async fn record_passkey_use(
        self,
        user: &User,
        result: &AuthenticationResult,
    ) -> Result<Option<Factors>> {
        let store = &self.rbac.store();
        let Some(mut record) = store
            .passkey_by_credential(&b64(result.cred_id()))
            .await?
            .filter(|p| p.user_id == user.id)
        else {
            return Ok(None);
        };
        // The ceremony's copy of the credential may predate a later use: the counter must
        // also pass the one stored now (a cloned authenticator lags behind it).
        let counter = i64::from(result.counter());
        if (counter > 0 || record.counter > 0) && counter <= record.counter {
            return Ok(None);
        }
        let mut passkey: Passkey =
            serde_json::from_str(&record.credential).map_err(internal("passkey"))?;
        passkey.update_credential(result);
        let seen = record.counter;
        record.credential = serde_json::to_string(&passkey).map_err(internal("passkey"))?;
        record.counter = counter;
        record.backup_state = result.backup_state();
        record.last_used_at = now();
        Ok(store
            .record_passkey_use(&record, seen)
            .await?
            .then_some(Factors::PASSKEY))
    }

    async fn stored_passkeys(self, user: &User) -> Result<Vec<Passkey>> {
        let rows = self.rbac.store().passkeys(user.id).await?;
        rows.iter()
            .map(|r| serde_json::from_str(&r.credential).map_err(internal("passkey")))
            .collect()
    }

    #[cfg(feature = "passkeys")]
    /// Begins a step-up with a passkey on the caller's session (completed by
    /// [`rbac.sessions().step_up_with_passkey`](crate::service::Sessions::step_up_with_passkey)): the options, or a violation without a passkey.
    pub async fn begin_passkey_step_up(self, actor: &Principal) -> Result<PasskeyOptions> {
        self.webauthn()?;
        if actor.session_id.is_empty() {
            return Err(Error::Unauthenticated(AuthFailure::Missing));
        }
        let user = self.rbac.actor_user(actor).await?;
        if self.rbac.store().count_passkeys(user.id).await? == 0 {
            return Err(Error::Violation("you have no passkey".into()));
        }
        self.take_user_ceremony(&user).await?;
        self.open_assertion(&user, crate::service::random_token(24), &actor.session_id)
            .await?
            .ok_or_else(|| Error::Violation("you have no passkey".into()))
    }

    #[cfg(feature = "passkeys")]
    /// Begins a passwordless sign-in from `address`: options for any passkey the browser
    /// holds for this site; the user is known only from the assertion. Counted per address
    /// per hour ([`AbuseLimits`](crate::service::AbuseLimits)): each stores a ceremony.
    pub async fn begin_passkey_sign_in(self, address: &str) -> Result<PasskeyOptions> {
        let webauthn = self.webauthn()?;
        self.rbac
            .limits()
            .take_hourly(
                &format!("passkey:{address}"),
                self.rbac.config().limits.passkey_sign_ins_per_address,
            )
            .await?;
        let (options, state) = webauthn
            .start_discoverable_authentication()
            .map_err(|e| Error::internal(format!("passkey sign-in: {e}")))?;
        let state = serde_json::to_string(&state).map_err(internal("sign-in state"))?;
        let token = self
            .open_ceremony(
                CeremonyPurpose::Discover,
                None,
                crate::service::random_token(24),
                "",
                state,
            )
            .await?;
        let mut options = serde_json::to_value(&options).map_err(internal("sign-in options"))?;
        // A sign-in button, not the autofill list: the browser asks at once.
        if let Some(o) = options.as_object_mut() {
            o.remove("mediation");
        }
        Ok(PasskeyOptions { token, options })
    }

    #[cfg(feature = "passkeys")]
    /// Completes a passwordless sign-in with a passkey's assertion, opening a session of
    /// `kind` (with `tenant`, only for a user of it). A refused assertion of a known
    /// passkey counts as a failed login of its owner; the ceremony is used up either way.
    pub async fn finish_passkey_sign_in(
        self,
        token: &str,
        assertion: &serde_json::Value,
        ip: &str,
        user_agent: &str,
        kind: SessionKind,
        tenant: Option<crate::authz::scope::Scope>,
    ) -> Result<LoginOutcome> {
        let webauthn = self.webauthn()?;
        let store = &self.rbac.store();
        let id = ceremony_id(CeremonyPurpose::Discover, token, "");
        let Some(ceremony) = self
            .take_open_ceremony(&id, CeremonyPurpose::Discover)
            .await?
        else {
            return Err(Error::Unauthenticated(AuthFailure::Invalid));
        };
        let state: DiscoverableAuthentication =
            serde_json::from_str(&ceremony.state).map_err(internal("sign-in state"))?;
        let credential: PublicKeyCredential = serde_json::from_value(assertion.clone())
            .map_err(|e| Error::invalid("passkey", format!("not a WebAuthn assertion: {e}")))?;
        let (handle, credential_id) = webauthn
            .identify_discoverable_authentication(&credential)
            .map_err(|_| Error::BadSecondFactor)?;
        let record = store
            .passkey_by_credential(&b64(credential_id))
            .await?
            .filter(|p| p.user_handle == b64(handle.as_bytes()))
            .ok_or(Error::BadSecondFactor)?;
        let user = store
            .user(record.user_id)
            .await?
            .ok_or(Error::BadSecondFactor)?;
        let attempt = self
            .rbac
            .sessions()
            .reserve_attempt(&user.name, Some(&user), ip)
            .await?;
        let passkey: Passkey =
            serde_json::from_str(&record.credential).map_err(internal("passkey"))?;
        let proven = match webauthn.finish_discoverable_authentication_v2(
            &credential,
            state,
            DiscoverableKey::from(&passkey),
        ) {
            Ok(result) => self.record_passkey_use(&user, &result).await?,
            Err(_) => None,
        };
        if proven.is_none() {
            self.rbac.sessions().attempt_failed(attempt, ip).await?;
            self.rbac
                .audit_alone(
                    Some(&user),
                    &user.name,
                    format!("login failed from {ip}: passkey refused"),
                    false,
                    ip,
                )
                .await;
            return Err(Error::BadSecondFactor);
        }
        self.rbac
            .sessions()
            .attempt_succeeded(attempt, &user, ip)
            .await?;
        // Told only to whoever proved the passkey.
        if !user.enabled {
            return Err(Error::AccountDisabled);
        }
        if tenant.is_some_and(|t| user.tenant != Some(t)) {
            return Err(Error::BadSecondFactor);
        }
        let origin = Origin {
            ip,
            user_agent,
            factors: Factors::PASSKEY,
            verified_at: now(),
        };
        self.rbac
            .sessions()
            .finish_login(user, &origin, kind, None)
            .await
    }
}

/// A stored user handle as the UUID it encodes.
fn user_handle(stored: &str) -> Result<Uuid> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(stored)
        .ok()
        .and_then(|b| Uuid::from_slice(&b).ok())
        .ok_or_else(|| Error::internal("a stored passkey user handle is not a UUID"))
}
