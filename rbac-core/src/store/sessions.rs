//! The login sessions' storage port.

use async_trait::async_trait;

use super::StoreResult;
use crate::model::*;

/// Login sessions.
#[async_trait]
pub trait SessionStore: super::AuthorizerStore {
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
