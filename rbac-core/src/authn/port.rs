//! Authentication's storage ports: login sessions and the failed-login counters.

use async_trait::async_trait;

use crate::authz::port::AuthorizerStore;
use crate::error::StoreResult;
use crate::model::*;

/// Login sessions.
#[async_trait]
pub trait SessionStore: AuthorizerStore {
    /// Inserts a session.
    async fn create_session(&self, session: &Session, journal: &Journal) -> StoreResult<()>;
    /// Revokes one session; `false` if it was absent or already revoked.
    async fn revoke_session(&self, id: &str, journal: &Journal) -> StoreResult<bool>;
    /// Revokes `old` and inserts `new` atomically; `false` (and nothing written) if `old`
    /// was absent or already revoked, so a refresh token works once.
    async fn rotate_session(
        &self,
        old: &str,
        new: &Session,
        journal: &Journal,
    ) -> StoreResult<bool>;
    /// Revokes every live session of a user except `keep`; returns how many.
    async fn revoke_user_sessions(
        &self,
        user: UserId,
        keep: Option<&str>,
        journal: &Journal,
    ) -> StoreResult<u64>;
    /// Records that a live session proved `factors` (added to its own) at `at` (a
    /// step-up); `false` if it is absent, revoked or expired.
    async fn mark_session_verified(
        &self,
        id: &str,
        factors: Factors,
        at: Timestamp,
        journal: &Journal,
    ) -> StoreResult<bool>;
    /// Deletes sessions that expired before `before`; returns how many.
    async fn purge_sessions(&self, before: Timestamp) -> StoreResult<u64>;
    /// How many sessions are live at `at` (second-factor challenges aside).
    async fn count_live_sessions(&self, at: Timestamp) -> StoreResult<u64>;
    /// A user's live sessions at `at` (second-factor challenges aside), newest first, at
    /// most `limit`.
    async fn user_sessions(
        &self,
        user: UserId,
        at: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<Session>>;
}

/// Failed-login counters, kept in the store so every instance sees the same ones.
#[async_trait]
pub trait ThrottleStore: Send + Sync {
    /// The latest time until which any of these keys is blocked, if later than `at`.
    async fn login_blocked(&self, keys: &[&str], at: Timestamp) -> StoreResult<Option<Timestamp>>;
    /// Counts a failed login of `key` at `at` under `policy` (atomically, whatever other
    /// instances do) and blocks it as the policy says; returns the failures in the window.
    async fn record_login_failure(
        &self,
        key: &str,
        at: Timestamp,
        policy: &ThrottlePolicy,
    ) -> StoreResult<u32>;
    /// Reserves one attempt of `key` before its password is checked: refused with the
    /// time it is blocked until when it is blocked at `at` (nothing counted); otherwise
    /// counted as a failure, and blocked as the policy says, in one atomic step whatever
    /// other instances do. A success releases it with [`Self::clear_login_failures`].
    async fn reserve_login_attempt(
        &self,
        key: &str,
        at: Timestamp,
        policy: &ThrottlePolicy,
    ) -> StoreResult<Result<u32, Timestamp>>;
    /// Forgets a key's failures (after a successful login, or an admin unlock).
    async fn clear_login_failures(&self, key: &str) -> StoreResult<()>;
    /// Forgets the failures of `key` and of every key `<key>@…` (an account's attempts
    /// from each address it is known at): an unlock.
    async fn clear_login_failures_under(&self, key: &str) -> StoreResult<()>;
    /// Remembers that `account` logged in successfully from `address` at `at`.
    async fn remember_login_address(
        &self,
        account: &str,
        address: &str,
        at: Timestamp,
    ) -> StoreResult<()>;
    /// Whether `account` logged in successfully from `address` at or after `since`.
    async fn login_address_known(
        &self,
        account: &str,
        address: &str,
        since: Timestamp,
    ) -> StoreResult<bool>;
}
