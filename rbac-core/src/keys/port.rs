//! The API keys' storage port: keys, their request counters and their daily limits.

use async_trait::async_trait;

use crate::error::StoreResult;
use crate::model::*;

/// API keys and their request counters.
#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    /// Inserts a key; `Conflict` on a taken key, `NotFound(User)` if the owner is gone.
    async fn create_api_key(&self, key: &ApiKey, journal: &Journal) -> StoreResult<ApiKey>;
    /// A key by id (revoked ones included).
    async fn api_key(&self, id: ApiKeyId) -> StoreResult<Option<ApiKey>>;
    /// A key by its exact key text (revoked ones included).
    async fn find_api_key(&self, key: &str) -> StoreResult<Option<ApiKey>>;
    /// An owner's keys that are not revoked, in id order, and their count.
    async fn list_api_keys(&self, owner: UserId, page: Page) -> StoreResult<Listing<ApiKey>> {
        let total = self.count_api_keys(owner).await?;
        let rows = self.api_key_rows(owner, page, None).await?;
        Ok(Listing { rows, total })
    }
    /// How many keys an owner has that are not revoked.
    async fn count_api_keys(&self, owner: UserId) -> StoreResult<u64>;
    /// A page of an owner's keys that are not revoked, in id order; with `after`, the page
    /// continues past that id (keyset), and `page.offset` counts from there.
    async fn api_key_rows(
        &self,
        owner: UserId,
        page: Page,
        after: Option<ApiKeyId>,
    ) -> StoreResult<Vec<ApiKey>>;
    /// Marks a key revoked; `false` if it was absent or revoked already.
    async fn revoke_api_key(&self, id: ApiKeyId, journal: &Journal) -> StoreResult<bool>;
    /// Adds counted requests: to the total, and to `request_today` when the day matches
    /// (a later day restarts it). One batch, one transaction.
    async fn add_key_requests(&self, counts: &[RequestCount]) -> StoreResult<()>;
    /// Reserves up to `want` requests of a key's daily limit for UTC `day`, atomically
    /// against every other instance on this store: grants at most a quarter of what is
    /// left (at least one while any is), and never more than the limit. Returns how many
    /// were granted: 0 when the day's limit is used up, the key is absent or has no limit,
    /// or `day` is older than the day the store already counts.
    async fn reserve_key_quota(&self, key: ApiKeyId, day: i64, want: i64) -> StoreResult<i64>;
    /// Gives back `unused` requests reserved for `day` and not used (an idle instance, or
    /// one shutting down), so other instances may use them.
    async fn release_key_quota(&self, key: ApiKeyId, day: i64, unused: i64) -> StoreResult<()>;
}

/// How many of `want` requests a quota reservation grants when `left` remain: at most a
/// quarter of what is left (at least one while any is), so that instances sharing a
/// limit reserve smaller slices as it runs out and none holds what others need.
pub fn quota_grant(want: i64, left: i64) -> i64 {
    if left <= 0 || want <= 0 {
        return 0;
    }
    let quarter = left / 4 + i64::from(left % 4 != 0);
    want.min(quarter).min(left)
}
