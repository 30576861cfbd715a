//! Deep pages without deep scans. The documents page by number, so a page deep in the
//! unfiltered user list would make the database step over every row before it. Instead each
//! instance keeps the id at every [`GAP`]-th position (in id order: 1,000 ids for a million
//! users) and reads a page as a keyset query from the anchor before it, skipping fewer than
//! [`GAP`] rows. A newest-first page is the same rows counted from the end.
//!
//! Ids only grow, so new users land after every anchor and leave them exact: the anchors are
//! read on from the last one when a page lies past them. A deletion moves the rows after
//! it, so the anchors are read again when the store's deletion total (maintained with the
//! users' total) has moved, at most every [`REBUILD_EVERY`] — in between, a deep page is
//! read by offset, exact and slower.

use std::time::{Duration, Instant};

use rbac_core::store::StoreResult;
use rbac_core::{Order, Page, User, UserQuery};

use crate::dialect::SqlDialect;
use crate::{backend, SqlStore};

/// Rows between two anchors.
pub(crate) const GAP: u64 = 1_000;

/// The least time between two rebuilds of the anchors.
const REBUILD_EVERY: Duration = Duration::from_secs(5);

/// One instance's anchors over the users in id order.
#[derive(Debug, Default)]
pub(crate) struct Anchors {
    state: tokio::sync::Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// The ids at positions 0, GAP, 2·GAP, … in id order.
    ids: Vec<i64>,
    /// The store's deletion total when they were read (`None`: never read).
    deletions: Option<i64>,
    /// When they were read.
    read_at: Option<Instant>,
}

impl SqlStore {
    /// An unfiltered page deep in the list, read from the anchor before it; `None` when the
    /// page is shallow, filtered, or the anchors are stale and cannot be rebuilt yet.
    pub(crate) async fn anchored_users(&self, q: &UserQuery) -> StoreResult<Option<Vec<User>>> {
        if q.name_contains.is_some() || q.member_of.is_some() || q.page.offset < 2 * GAP {
            return Ok(None);
        }
        let limit = q.page.limit.unwrap_or(u64::MAX);
        // The page's first position and length in id order.
        let (start, take) = match q.order {
            Order::OldestFirst => (q.page.offset, limit),
            Order::NewestFirst => {
                let end = self.total("users").await?.saturating_sub(q.page.offset);
                let take = limit.min(end);
                (end - take, take)
            }
        };
        if take == 0 {
            return Ok(Some(Vec::new()));
        }
        let Some((anchor, skip)) = self.anchor(start).await? else {
            return Ok(None);
        };
        let ascending = UserQuery {
            order: Order::OldestFirst,
            page: Page {
                offset: skip,
                limit: Some(take),
            },
            ..UserQuery::default()
        };
        let mut rows = self.select_users(&ascending, Some(anchor - 1)).await?;
        if q.order == Order::NewestFirst {
            rows.reverse();
        }
        Ok(Some(rows))
    }

    /// The anchor at or before position `start` and the rows from it to `start`.
    async fn anchor(&self, start: u64) -> StoreResult<Option<(i64, u64)>> {
        let deletions = self.total("users_deleted").await? as i64;
        let mut state = self.anchors.state.lock().await;
        if state.deletions != Some(deletions) {
            // Rows moved: read them all again, unless that was done a moment ago.
            if state.read_at.is_some_and(|t| t.elapsed() < REBUILD_EVERY) {
                return Ok(None);
            }
            state.ids = self.anchor_ids(None).await?;
            state.deletions = Some(deletions);
            state.read_at = Some(Instant::now());
        } else if start >= (state.ids.len() as u64 + 1) * GAP {
            // Only new rows since (ids grow): read on from the last anchor, which stays.
            if let Some(&last) = state.ids.last() {
                let more = self.anchor_ids(Some(last)).await?;
                state.ids.extend(more.into_iter().skip(1));
            }
        }
        let Some(last) = state.ids.len().checked_sub(1) else {
            return Ok(None);
        };
        let i = ((start / GAP) as usize).min(last);
        Ok(Some((state.ids[i], start - i as u64 * GAP)))
    }

    /// The id at every GAP-th position from `from` on (from the first user when `None`), in
    /// one pass the database does.
    async fn anchor_ids(&self, from: Option<i64>) -> StoreResult<Vec<i64>> {
        let sql = format!(
            "SELECT id FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS rn \
             FROM rbac_users WHERE id >= ?) ranked WHERE (rn - 1) % {GAP} = 0 ORDER BY id"
        );
        on_backend!(self, pool, d => {
            sqlx::query_scalar::<_, i64>(&d.sql_once(&sql))
                .bind(from.unwrap_or(i64::MIN))
                .fetch_all(pool)
                .await
                .map_err(backend)
        })
    }
}
