//! The API keys' storage port: keys, their projects and their request counters.

use async_trait::async_trait;

use crate::error::StoreResult;
use crate::model::*;

/// Gateway projects and their request counters.
#[async_trait]
pub trait ProjectStore: Send + Sync {
    /// Inserts a project; `Conflict` on a taken key, `NotFound(User)` if the owner is gone.
    async fn create_project(&self, project: &Project, journal: &Journal) -> StoreResult<Project>;
    /// A project by id (deleted ones included).
    async fn project(&self, id: ProjectId) -> StoreResult<Option<Project>>;
    /// A project by exact API key (deleted ones included).
    async fn project_by_key(&self, key: &str) -> StoreResult<Option<Project>>;
    /// An owner's projects that are not deleted, in id order, and their count.
    async fn list_projects(&self, owner: UserId, page: Page) -> StoreResult<Listing<Project>> {
        let total = self.count_projects(owner).await?;
        let rows = self.project_rows(owner, page, None).await?;
        Ok(Listing { rows, total })
    }
    /// How many projects an owner has that are not deleted.
    async fn count_projects(&self, owner: UserId) -> StoreResult<u64>;
    /// A page of an owner's projects that are not deleted, in id order; with `after`, the
    /// page continues past that id (keyset), and `page.offset` counts from there.
    async fn project_rows(
        &self,
        owner: UserId,
        page: Page,
        after: Option<ProjectId>,
    ) -> StoreResult<Vec<Project>>;
    /// Marks a project deleted; `false` if it was absent or deleted already.
    async fn delete_project(&self, id: ProjectId, journal: &Journal) -> StoreResult<bool>;
    /// Adds counted requests: to the total, and to `request_today` when the day matches
    /// (a later day restarts it). One batch, one transaction.
    async fn add_project_requests(&self, counts: &[RequestCount]) -> StoreResult<()>;
    /// Reserves up to `want` requests of a project's quota for UTC `day`, atomically
    /// against every other instance on this store: grants at most a quarter of what is
    /// left (at least one while any is), and never more than the quota. Returns how many
    /// were granted: 0 when the day's quota is used up, the project is absent, or `day` is
    /// older than the day the store already counts.
    async fn reserve_project_quota(
        &self,
        project: ProjectId,
        day: i64,
        want: i64,
    ) -> StoreResult<i64>;
    /// Gives back `unused` requests reserved for `day` and not used (an idle instance, or
    /// one shutting down), so other instances may use them.
    async fn release_project_quota(
        &self,
        project: ProjectId,
        day: i64,
        unused: i64,
    ) -> StoreResult<()>;
}

/// How many of `want` requests a quota reservation grants when `left` remain: at most a
/// quarter of what is left (at least one while any is), so that instances sharing a
/// quota reserve smaller slices as it runs out and none holds what others need.
pub fn quota_grant(want: i64, left: i64) -> i64 {
    if left <= 0 || want <= 0 {
        return 0;
    }
    let quarter = left / 4 + i64::from(left % 4 != 0);
    want.min(quarter).min(left)
}
