//! The second factors' storage port: a TOTP secret (sealed) and recovery codes.

use async_trait::async_trait;

use crate::authz::port::AuthorizerStore;
use crate::error::StoreResult;
use crate::model::*;

/// Second factors: a TOTP secret (sealed) and its recovery codes (keyed digests).
#[async_trait]
pub trait SecondFactorStore: AuthorizerStore {
    /// A user's TOTP factor, confirmed or pending.
    async fn totp(&self, user: UserId) -> StoreResult<Option<TotpFactor>>;
    /// Stores a pending (unconfirmed) factor, replacing a pending one; `Conflict(Other)`
    /// (nothing written) if a confirmed one exists; `NotFound(User)` without the user.
    async fn put_pending_totp(&self, factor: &TotpFactor, journal: &Journal) -> StoreResult<()>;
    /// Confirms the user's pending factor at `step`, replaces their recovery codes with
    /// `recovery` (digests) and, with `end_sessions_but`, revokes every other live session
    /// of the user, atomically; `false` (nothing written, nothing revoked) if none is pending.
    async fn confirm_totp(
        &self,
        user: UserId,
        step: i64,
        recovery: &[String],
        end_sessions_but: Option<&str>,
        journal: &Journal,
    ) -> StoreResult<bool>;
    /// Claims time step `step` of the user's confirmed factor: `true` once, and only for a
    /// step after the last one claimed (a code is never accepted twice).
    async fn claim_totp_step(&self, user: UserId, step: i64) -> StoreResult<bool>;
    /// Uses up one recovery code by its digest: `true` once.
    async fn use_recovery_code(&self, user: UserId, digest: &str) -> StoreResult<bool>;
    /// How many unused recovery codes the user has.
    async fn recovery_codes_left(&self, user: UserId) -> StoreResult<u64>;
    /// Replaces the user's recovery codes; `false` (nothing written) without a confirmed
    /// factor.
    async fn replace_recovery_codes(
        &self,
        user: UserId,
        recovery: &[String],
        journal: &Journal,
    ) -> StoreResult<bool>;
    /// Removes the user's factor and recovery codes; `false` if there was none.
    async fn remove_totp(&self, user: UserId, journal: &Journal) -> StoreResult<bool>;
}
