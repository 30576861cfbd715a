//! Bounded cost of unauthenticated work: sign-ups that hash a password and one-time codes
//! that send a message are counted per client address (and codes for the whole server),
//! in the store, so every instance shares the counts; past a limit the answer is the
//! surface's throttled one, before any hashing or sending.

use crate::error::{Error, Result};
use crate::model::{now, ThrottlePolicy};
use crate::service::Rbac;

/// Hourly limits on unauthenticated work (0 turns a limit off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbuseLimits {
    /// Codes one client address may have sent per hour, per channel (SMS, e-mail).
    pub codes_per_address: u32,
    /// Codes the whole server may send per hour, per channel.
    pub codes_total: u32,
    /// Password SMS one account may have sent to the members it creates per hour.
    pub password_sms_per_account: u32,
    /// Self-registrations (which hash a password) per client address per hour.
    pub signups_per_address: u32,
    /// Passwordless passkey sign-ins begun per client address per hour (each stores a
    /// ceremony until it is used or expires).
    pub passkey_sign_ins_per_address: u32,
    /// Passkey ceremonies (registrations and step-ups) one signed-in user may begin per
    /// hour: each stores its state until used or expired.
    pub passkey_ceremonies_per_user: u32,
}

impl Default for AbuseLimits {
    /// 5 codes per address per hour and channel, 200 per hour for the server, 5 password
    /// SMS per creating account per hour, 20 sign-ups per address per hour, 120 passkey
    /// sign-ins begun per address and 120 passkey ceremonies per user per hour.
    fn default() -> Self {
        AbuseLimits {
            codes_per_address: 5,
            codes_total: 200,
            password_sms_per_account: 5,
            signups_per_address: 20,
            passkey_sign_ins_per_address: 120,
            passkey_ceremonies_per_user: 120,
        }
    }
}

#[cfg(feature = "codes")]
/// A message channel codes go out on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Channel {
    /// Text messages.
    Sms,
    /// E-mail.
    Mail,
}

#[cfg(feature = "codes")]
impl Channel {
    fn name(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Mail => "mail",
        }
    }
}

/// The hourly limits on unauthenticated work, counted in the store.
#[derive(Clone, Copy)]
pub(crate) struct Limits<'a> {
    pub(crate) rbac: &'a Rbac,
}

impl Limits<'_> {
    /// Takes one of `limit` uses of `key` in the current hour: `Throttled` (naming the
    /// wait) once they are used up. Counted atomically in the store.
    pub(crate) async fn take_hourly(&self, key: &str, limit: u32) -> Result<()> {
        if limit == 0 {
            return Ok(());
        }
        let policy = ThrottlePolicy {
            free: limit,
            max_failures: limit,
            window: 3600,
            lockout: 3600,
            backoff: 0,
        };
        let at = now();
        match self
            .rbac
            .inner
            .store
            .reserve_login_attempt(&format!("rate:{key}"), at, &policy)
            .await?
        {
            Ok(_) => Ok(()),
            Err(until) => Err(Error::Throttled {
                retry_after: (until - at).max(1),
            }),
        }
    }

    #[cfg(feature = "codes")]
    /// Counts a code about to be sent on `channel` for the client at `address`.
    pub(crate) async fn take_code_send(&self, channel: Channel, address: &str) -> Result<()> {
        let limits = self.rbac.inner.config.limits;
        let channel = channel.name();
        if !address.is_empty() {
            self.take_hourly(
                &format!("code:{channel}:{address}"),
                limits.codes_per_address,
            )
            .await?;
        }
        self.take_hourly(&format!("code:{channel}"), limits.codes_total)
            .await
    }

    /// Counts a self-registration from `address` (before its password is hashed).
    pub(crate) async fn take_signup(&self, address: &str) -> Result<()> {
        if address.is_empty() {
            return Ok(());
        }
        let limit = self.rbac.inner.config.limits.signups_per_address;
        self.take_hourly(&format!("signup:{address}"), limit).await
    }

    /// Counts a password SMS an account sends to a member it creates.
    pub(crate) async fn take_password_sms(&self, account: i64) -> Result<()> {
        let limit = self.rbac.inner.config.limits.password_sms_per_account;
        self.take_hourly(&format!("password-sms:{account}"), limit)
            .await
    }
}
