//! The codes' use-cases (`rbac.codes()`) and their policy.

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::model::{now, CodeCheck, VerificationCode};
use crate::notify::SendError;
use crate::service::{Channel, Rbac};

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

/// A code as a client presents it, for the key it was issued under.
#[derive(Debug, Clone)]
pub struct CodeProof {
    /// The key the code was stored under (say `sms-register:<number>`).
    pub key: String,
    /// The code as received.
    pub code: String,
    /// What the code was issued for; only an exact match passes.
    pub context: String,
    /// The request field that carried the context, named when it does not match.
    pub context_field: &'static str,
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

/// One-time codes: `rbac.codes()`.
#[derive(Clone, Copy)]
pub struct Codes<'a> {
    pub(crate) rbac: &'a Rbac,
}

impl Codes<'_> {
    /// Stores a new code for `key` (issued for `context`), then sends it with `send` on
    /// `channel`, at the request of the client at `address`: within the hourly limits on
    /// codes, one send per key per resend interval. A refused or failed send leaves nothing
    /// usable behind.
    pub async fn issue<F, Fut>(
        &self,
        key: &str,
        context: &str,
        channel: Channel,
        address: &str,
        send: F,
    ) -> Result<()>
    where
        F: FnOnce(String) -> Fut,
        Fut: std::future::Future<Output = std::result::Result<(), SendError>>,
    {
        self.rbac.limits().take_code_send(channel, address).await?;
        let policy = self.rbac.inner.config.codes;
        let code = six_digits();
        let at = now();
        let stored = VerificationCode {
            key: key.to_string(),
            digest: code_digest(key, &code),
            context: context.to_string(),
            sent_at: at,
            expires_at: at + policy.ttl,
        };
        let store = &self.rbac.inner.store;
        if let Some(sent_at) = store.put_code(&stored, at - policy.resend_interval).await? {
            return Err(Error::TooSoon {
                retry_after: (sent_at + policy.resend_interval - at).max(1),
            });
        }
        if let Err(e) = send(code).await {
            tracing::warn!(error = %e, "sending a verification code failed");
            store.withdraw_code(key, &stored.digest).await?;
            return Err(Error::SendFailed(e));
        }
        Ok(())
    }

    /// Uses the code pending for the proof's key: only the right code, in time, for
    /// exactly the proof's context, passes.
    pub async fn take(&self, proof: &CodeProof) -> Result<()> {
        let policy = self.rbac.inner.config.codes;
        let check = self
            .rbac
            .inner
            .store
            .take_code(
                &proof.key,
                &code_digest(&proof.key, &proof.code),
                &proof.context,
                now(),
                policy.max_attempts,
            )
            .await?;
        match check {
            CodeCheck::Accepted => Ok(()),
            CodeCheck::Wrong { .. } | CodeCheck::Missing => Err(Error::CodeMismatch),
            CodeCheck::Expired => Err(Error::CodeExpired),
            CodeCheck::OtherContext => Err(Error::invalid(
                proof.context_field,
                "differs from the one the code was sent for",
            )),
        }
    }
}
