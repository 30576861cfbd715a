//! The one-time codes' storage port: one pending code per key.

use async_trait::async_trait;

use crate::error::StoreResult;
use crate::model::*;

/// One-time verification codes (SMS, e-mail), one pending code per key.
#[async_trait]
pub trait CodeStore: Send + Sync {
    /// Stores a code for its key, replacing an older one (and its attempts), unless the
    /// pending code was sent after `resend_after`: then nothing is written and the pending
    /// code's send time is returned. Atomic whatever other instances do.
    async fn put_code(
        &self,
        code: &VerificationCode,
        resend_after: Timestamp,
    ) -> StoreResult<Option<Timestamp>>;
    /// Uses a key's code at `at`: a match of digest and context deletes it; a wrong digest
    /// counts an attempt and deletes the code at the `max_attempts`th; an expired code is
    /// deleted. Atomic: a code is accepted at most once.
    async fn take_code(
        &self,
        key: &str,
        digest: &str,
        context: &str,
        at: Timestamp,
        max_attempts: u32,
    ) -> StoreResult<CodeCheck>;
    /// Deletes a key's code if it is still this digest (its sending failed).
    async fn withdraw_code(&self, key: &str, digest: &str) -> StoreResult<()>;
    /// Deletes codes that expired before `before`; returns how many.
    async fn purge_codes(&self, before: Timestamp) -> StoreResult<u64>;
}
