//! Self-service accounts: organisations, one-time verification codes, primary accounts
//! registered with an SMS code, their sub-accounts, and login into an organisation with an
//! opaque sliding token.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::{validate, LoginInput, LoginOutcome, Rbac};
use crate::authorizer::Principal;
use crate::error::{Entity, Error, Result};
use crate::model::{
    now, AuditCategory, CodeCheck, Organisation, SessionKind, User, VerificationCode,
};
use crate::notify::{Sms, SmsContent};

/// The role of primary console accounts: they may create sub-accounts.
pub const PRIMARY_ROLE: &str = "console-primary";

/// The role of sub-accounts: no privileges.
pub const SUB_ACCOUNT_ROLE: &str = "console-sub";

/// The organisations every deployment knows (the console document's table).
pub fn default_organisations() -> Vec<Organisation> {
    vec![
        Organisation {
            id: 2,
            name: "算力互联".into(),
        },
        Organisation {
            id: 5,
            name: "汴水超算".into(),
        },
    ]
}

/// How verification codes behave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodePolicy {
    /// Seconds a code stays valid.
    pub ttl: i64,
    /// Seconds before another code may be sent to the same address.
    pub resend_interval: i64,
    /// Wrong tries that burn a code.
    pub max_attempts: u32,
}

impl Default for CodePolicy {
    /// Valid 5 minutes, one send per minute, burned by the fifth wrong try.
    fn default() -> Self {
        CodePolicy {
            ttl: 300,
            resend_interval: 60,
            max_attempts: 5,
        }
    }
}

/// A primary-account registration, verified by the SMS code sent to `phone`.
#[derive(Debug, Clone)]
pub struct PrimaryRegistration {
    /// Login name.
    pub name: String,
    /// Password.
    pub password: String,
    /// Mobile number the code was sent to.
    pub phone: String,
    /// The code as received.
    pub code: String,
    /// The organisation the code was sent for.
    pub organisation: i64,
    /// The client's address.
    pub ip: String,
}

/// A sub-account a primary account creates.
#[derive(Debug, Clone, Default)]
pub struct SubAccount {
    /// Login name.
    pub name: String,
    /// Password (sent to `phone` when `notify` is set).
    pub password: String,
    /// Mobile number.
    pub phone: String,
    /// The organisation, which must be the creator's.
    pub organisation: i64,
    /// The organisation's name, which must match it.
    pub organisation_name: String,
    /// Display name.
    pub alias: String,
    /// E-mail address (empty: none).
    pub email: String,
    /// Further profile attributes (`telephone`, `organization`, `duty`, `enterprise`).
    pub attributes: BTreeMap<String, String>,
    /// Send the password to the sub-account's phone.
    pub notify: bool,
}

/// A fresh 6-digit code from the OS's CSPRNG.
fn six_digits() -> String {
    use rand::Rng;
    format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000u32))
}

/// What a code is stored under: its key and code, hashed.
fn code_digest(key: &str, code: &str) -> String {
    let mut h = Sha256::new();
    h.update(key.as_bytes());
    h.update([0]);
    h.update(code.trim().as_bytes());
    hex::encode(h.finalize())
}

fn sms_register_key(phone: &str) -> String {
    format!("sms-register:{phone}")
}

impl Rbac {
    /// An organisation by id; an unknown one is an invalid `departmentId`.
    pub async fn organisation(&self, id: i64) -> Result<Organisation> {
        self.inner
            .store
            .organisation(id)
            .await?
            .ok_or(Error::NotFound(Entity::Organisation))
    }

    /// Every organisation.
    pub async fn organisations(&self) -> Result<Vec<Organisation>> {
        Ok(self.inner.store.list_organisations().await?)
    }

    /// Whether a user of this exact name exists.
    pub async fn user_exists(&self, name: &str) -> Result<bool> {
        Ok(self.inner.store.user_by_name(name).await?.is_some())
    }

    /// Stores a new code for `key`, then sends it with `send`; a refused or failed send
    /// leaves nothing usable behind.
    pub(crate) async fn issue_code<F, Fut>(
        &self,
        key: &str,
        context: &str,
        sent: (super::Channel, &str),
        send: F,
    ) -> Result<()>
    where
        F: FnOnce(String) -> Fut,
        Fut: std::future::Future<Output = std::result::Result<(), crate::notify::SendError>>,
    {
        let (channel, address) = sent;
        self.take_code_send(channel, address).await?;
        let policy = self.inner.config.codes;
        let code = six_digits();
        let at = now();
        let stored = VerificationCode {
            key: key.to_string(),
            digest: code_digest(key, &code),
            context: context.to_string(),
            sent_at: at,
            expires_at: at + policy.ttl,
        };
        let store = &self.inner.store;
        if let Some(sent_at) = store.put_code(&stored, at - policy.resend_interval).await? {
            return Err(Error::TooSoon {
                retry_after: (sent_at + policy.resend_interval - at).max(1),
            });
        }
        if let Err(e) = send(code).await {
            tracing::warn!(error = %e, "sending a verification code failed");
            store.withdraw_code(key, &stored.digest).await?;
            return Err(Error::SendFailed(e.0));
        }
        Ok(())
    }

    /// Uses the code pending for `key`: only an exact match for `context` passes.
    pub(crate) async fn take_code(&self, key: &str, code: &str, context: &str) -> Result<()> {
        let policy = self.inner.config.codes;
        let check = self
            .inner
            .store
            .take_code(
                key,
                &code_digest(key, code),
                context,
                now(),
                policy.max_attempts,
            )
            .await?;
        match check {
            CodeCheck::Accepted => Ok(()),
            CodeCheck::Wrong { .. } | CodeCheck::Missing => Err(Error::CodeMismatch),
            CodeCheck::Expired => Err(Error::CodeExpired),
            CodeCheck::OtherContext => Err(Error::invalid(
                "departmentId",
                "differs from the one the code was sent for",
            )),
        }
    }

    /// Sends a registration code by SMS to `phone`, for registering in `organisation`, at
    /// the request of the client at `address`: valid for the code policy's lifetime, one
    /// send per phone per resend interval, within the hourly limits on codes.
    pub async fn send_registration_sms(
        &self,
        phone: &str,
        organisation: i64,
        address: &str,
    ) -> Result<()> {
        validate::mobile("mobilePhone", phone)?;
        self.organisation(organisation).await?;
        let sms = self.inner.senders.sms.clone();
        let phone = phone.to_string();
        self.issue_code(
            &sms_register_key(&phone),
            &organisation.to_string(),
            (super::Channel::Sms, address),
            |code| async move {
                sms.send(&Sms {
                    phone,
                    content: SmsContent::RegisterCode(code),
                })
                .await
            },
        )
        .await
    }

    /// Registers a primary account of an organisation once the SMS code matches. Every
    /// other check comes first, so a refused registration does not use the code up.
    pub async fn register_primary(&self, input: PrimaryRegistration) -> Result<User> {
        validate::name("username", &input.name)?;
        validate::password("password", &input.password)?;
        validate::mobile("mobilePhone", &input.phone)?;
        self.organisation(input.organisation).await?;
        let role = self.system_role(PRIMARY_ROLE).await?;
        if self.user_exists(&input.name).await? {
            return Err(Error::AlreadyExists(crate::Field::UserName));
        }
        self.take_signup(&input.ip).await?;
        let hash = self.inner.hasher.hash(&input.password).await?;
        self.take_code(
            &sms_register_key(&input.phone),
            &input.code,
            &input.organisation.to_string(),
        )
        .await?;
        let mut user = User::blank(&input.name, hash);
        user.phone = input.phone;
        user.phone_verified = true;
        user.role_id = Some(role.id);
        user.department_id = Some(input.organisation);
        let journal = crate::model::Journal::audit(crate::model::NewAudit {
            user_id: None,
            user_name: user.name.clone(),
            category: AuditCategory::Home,
            content: format!(
                "register primary account {} in organisation {} from {}",
                user.name, input.organisation, input.ip
            ),
            success: true,
        });
        self.create_claiming(&user, &journal).await
    }

    /// Creates a sub-account of the caller (needs SubAccountAdd) in the caller's
    /// organisation, with no privileges; with `notify`, texts it its password.
    pub async fn add_sub_account(&self, actor: &Principal, input: SubAccount) -> Result<User> {
        self.require(actor, "SubAccountAdd")?;
        validate::name("username", &input.name)?;
        validate::password("password", &input.password)?;
        validate::mobile("mobilePhone", &input.phone)?;
        validate::text("name", &input.alias)?;
        for (field, value) in &input.attributes {
            validate::text("attributes", field)?;
            validate::text("attributes", value)?;
        }
        if !input.email.is_empty() {
            validate::email("email", &input.email)?;
        }
        let parent = self
            .inner
            .store
            .user(actor.user_id)
            .await?
            .ok_or(Error::Unauthenticated(crate::AuthFailure::UserGone))?;
        let organisation = self.organisation(input.organisation).await?;
        if parent
            .department_id
            .is_some_and(|own| own != organisation.id)
        {
            return Err(Error::invalid(
                "departmentId",
                "a sub-account belongs to its creator's organisation",
            ));
        }
        if organisation.name != input.organisation_name {
            return Err(Error::invalid(
                "departmentName",
                format!(
                    "organisation {} is named {}",
                    organisation.id, organisation.name
                ),
            ));
        }
        let role = self.system_role(SUB_ACCOUNT_ROLE).await?;
        if input.notify {
            // Counted before anything is written: a refused SMS creates no account.
            self.take_password_sms(parent.id).await?;
        }
        let mut user = User::blank(&input.name, self.inner.hasher.hash(&input.password).await?);
        user.phone = input.phone.clone();
        user.alias = input.alias;
        user.email = (!input.email.is_empty()).then_some(input.email);
        user.attributes = input.attributes;
        user.role_id = Some(role.id);
        user.department_id = Some(organisation.id);
        user.parent_id = Some(parent.id);
        user.creator = parent.name.clone();
        let journal = self.journal(
            Some(actor),
            AuditCategory::System,
            format!("create sub-account {}", user.name),
        );
        let user = self.inner.store.create_user(&user, &journal).await?;
        if input.notify {
            let sms = Sms {
                phone: input.phone,
                content: SmsContent::Password(input.password),
            };
            // The account exists whatever happens to the text: the creator set the password.
            if let Err(e) = self.inner.senders.sms.send(&sms).await {
                tracing::warn!(error = %e, user = %user.name, "password SMS to a new sub-account failed");
            }
        }
        Ok(user)
    }

    /// Logs in to an organisation's console: on success an opaque token whose expiry slides
    /// with use. A user of another organisation is refused like a wrong password.
    pub async fn login_to_organisation(
        &self,
        input: &LoginInput,
        organisation: i64,
    ) -> Result<LoginOutcome> {
        self.organisation(organisation).await?;
        self.login_as(input, SessionKind::Opaque, Some(organisation))
            .await
    }

    /// Stores the configured organisations (renaming any whose name changed). Safe to run
    /// from several instances at once.
    pub(crate) async fn bootstrap_console(&self) -> Result<()> {
        let store = &self.inner.store;
        for org in &self.inner.config.organisations {
            if store.organisation(org.id).await?.as_ref() != Some(org) {
                store.put_organisation(org).await?;
            }
        }
        Ok(())
    }
}
