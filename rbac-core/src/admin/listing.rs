//! Listings read a chunk at a time: the total and the row count are fixed when the listing
//! starts, then rows come from the store in keyset-ordered chunks, each its own short query,
//! so a slow reader holds no connection and the server holds one chunk, whatever the page.

use async_trait::async_trait;

use crate::error::{Error, Result};
#[cfg(feature = "api-keys")]
use crate::model::{ApiKey, UserId};
use crate::model::{AuditEntry, AuditQuery, Page, Role, UserQuery};
use crate::service::{Rbac, UserView};
use crate::Principal;

/// Rows in the first chunk of a listing longer than one chunk: few, so the first row leaves
/// quickly.
pub const FIRST_CHUNK: u64 = 100;
/// Rows in each later chunk.
pub const CHUNK: u64 = 1_000;

/// A listing's chunks, each joined with an application's values.
struct Joined<T, F> {
    inner: Box<dyn ChunkSource<T>>,
    join: F,
}

#[async_trait]
impl<T, X, F, Fut> ChunkSource<(T, X)> for Joined<T, F>
where
    T: Send + 'static,
    X: Send + 'static,
    F: Fn(Vec<T>) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<Vec<(T, X)>>> + Send,
{
    async fn chunk(&self, after: Option<i64>, offset: u64, limit: u64) -> Result<Vec<(T, X)>> {
        let rows = self.inner.chunk(after, offset, limit).await?;
        let read = rows.len();
        let joined = (self.join)(rows).await?;
        if joined.len() != read {
            return Err(Error::internal(
                "a listing's join gave back another number of rows",
            ));
        }
        Ok(joined)
    }

    fn key(&self, row: &(T, X)) -> i64 {
        self.inner.key(&row.0)
    }
}

/// Where a listing's chunks come from.
#[async_trait]
trait ChunkSource<T>: Send + Sync {
    /// Up to `limit` rows past `after` (the key of the last row sent), skipping `offset`.
    async fn chunk(&self, after: Option<i64>, offset: u64, limit: u64) -> Result<Vec<T>>;
    /// The keyset key of a row.
    fn key(&self, row: &T) -> i64;
}

/// A listing's rows, read from the store a chunk at a time as they are taken.
pub struct Rows<T> {
    total: u64,
    count: u64,
    taken: u64,
    offset: u64,
    after: Option<i64>,
    chunk: u64,
    source: Box<dyn ChunkSource<T>>,
}

impl<T> std::fmt::Debug for Rows<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rows")
            .field("total", &self.total)
            .field("count", &self.count)
            .field("taken", &self.taken)
            .finish_non_exhaustive()
    }
}

impl<T> Rows<T> {
    fn new(total: u64, offset: u64, limit: Option<u64>, source: Box<dyn ChunkSource<T>>) -> Self {
        Rows {
            total,
            count: total.saturating_sub(offset).min(limit.unwrap_or(u64::MAX)),
            taken: 0,
            offset,
            after: None,
            chunk: CHUNK,
            source,
        }
    }

    /// Rows already read (a listing built elsewhere, a test's), handed out a chunk at a time
    /// as a store listing is; `total` is what the listing reports as matching in all.
    pub fn from_rows(rows: Vec<T>, total: u64) -> Self
    where
        T: Send + 'static,
    {
        let count = rows.len() as u64;
        let source = Held(std::sync::Mutex::new(rows.into_iter()));
        let mut listing = Rows::new(count, 0, None, Box::new(source));
        listing.total = total;
        listing
    }

    /// These rows, each beside what `join` reads for it: `join` gets each chunk as it is
    /// read and gives back every row, in order, with its value (an application's own
    /// columns for the library's rows, read in one query per chunk).
    pub fn join<X, F, Fut>(self, join: F) -> Rows<(T, X)>
    where
        T: Send + 'static,
        X: Send + 'static,
        F: Fn(Vec<T>) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<Vec<(T, X)>>> + Send,
    {
        Rows {
            total: self.total,
            count: self.count,
            taken: self.taken,
            offset: self.offset,
            after: self.after,
            chunk: self.chunk,
            source: Box::new(Joined {
                inner: self.source,
                join,
            }),
        }
    }

    /// How many rows match in all.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// How many rows this listing yields.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Rows per chunk after the first (at least one).
    pub fn with_chunk(mut self, rows: u64) -> Self {
        self.chunk = rows.max(1);
        self
    }

    /// The next chunk, `None` once `count` rows were taken. When the store holds fewer rows
    /// than were counted (some were deleted meanwhile) it is an error: the listing as
    /// announced can no longer be given, and a reader must not take a short one for whole.
    pub async fn next_chunk(&mut self) -> Result<Option<Vec<T>>> {
        let left = self.count - self.taken;
        if left == 0 {
            return Ok(None);
        }
        // A listing that fits in one chunk is read at once; a longer one starts small, so its
        // first row leaves quickly.
        let size = if self.taken == 0 && self.count > self.chunk {
            FIRST_CHUNK.min(self.chunk)
        } else {
            self.chunk
        };
        let want = left.min(size);
        let offset = if self.after.is_none() { self.offset } else { 0 };
        let rows = self.source.chunk(self.after, offset, want).await?;
        if (rows.len() as u64) < want {
            return Err(Error::internal(
                "the listing changed while it was read: fewer rows than counted",
            ));
        }
        self.after = rows.last().map(|r| self.source.key(r));
        self.taken += rows.len() as u64;
        Ok(Some(rows))
    }

    /// Every remaining row, in one vector (for small listings and tests).
    pub async fn collect(mut self) -> Result<Vec<T>> {
        let mut all = Vec::new();
        while let Some(chunk) = self.next_chunk().await? {
            all.extend(chunk);
        }
        Ok(all)
    }
}

/// Rows already read, taken in order.
struct Held<T>(std::sync::Mutex<std::vec::IntoIter<T>>);

#[async_trait]
impl<T: Send + 'static> ChunkSource<T> for Held<T> {
    async fn chunk(&self, _after: Option<i64>, _offset: u64, limit: u64) -> Result<Vec<T>> {
        let mut rows = self.0.lock().unwrap_or_else(|e| e.into_inner());
        Ok(rows.by_ref().take(limit as usize).collect())
    }

    fn key(&self, _row: &T) -> i64 {
        0
    }
}

/// Users with their role names.
struct UserChunks {
    rbac: Rbac,
    query: UserQuery,
}

#[async_trait]
impl ChunkSource<UserView> for UserChunks {
    async fn chunk(&self, after: Option<i64>, offset: u64, limit: u64) -> Result<Vec<UserView>> {
        let mut query = self.query.clone();
        query.page.offset = offset;
        query.page.limit = Some(limit);
        let users = self.rbac.inner.store.user_rows(&query, after).await?;
        self.rbac.views(users).await
    }

    fn key(&self, row: &UserView) -> i64 {
        row.user.id
    }
}

/// Operation-log entries, newest first.
struct AuditChunks {
    rbac: Rbac,
    query: AuditQuery,
}

#[async_trait]
impl ChunkSource<AuditEntry> for AuditChunks {
    async fn chunk(&self, after: Option<i64>, offset: u64, limit: u64) -> Result<Vec<AuditEntry>> {
        let mut query = self.query.clone();
        query.page.offset = offset;
        query.page.limit = Some(limit);
        Ok(self.rbac.inner.store.audit_rows(&query, after).await?)
    }

    fn key(&self, row: &AuditEntry) -> i64 {
        row.id
    }
}

/// Roles, in id order.
struct RoleChunks {
    rbac: Rbac,
}

#[async_trait]
impl ChunkSource<Role> for RoleChunks {
    async fn chunk(&self, after: Option<i64>, offset: u64, limit: u64) -> Result<Vec<Role>> {
        let page = Page {
            offset,
            limit: Some(limit),
        };
        Ok(self.rbac.inner.store.role_rows(page, after).await?)
    }

    fn key(&self, row: &Role) -> i64 {
        row.id
    }
}

#[cfg(feature = "api-keys")]
/// An owner's API keys, in id order; their secrets cleared for anyone but the owner.
struct ApiKeyChunks {
    rbac: Rbac,
    owner: UserId,
    clear_secrets: bool,
}

#[cfg(feature = "api-keys")]
#[async_trait]
impl ChunkSource<ApiKey> for ApiKeyChunks {
    async fn chunk(&self, after: Option<i64>, offset: u64, limit: u64) -> Result<Vec<ApiKey>> {
        let page = Page {
            offset,
            limit: Some(limit),
        };
        let mut rows = self
            .rbac
            .inner
            .store
            .api_key_rows(self.owner, page, after)
            .await?;
        if self.clear_secrets {
            for key in &mut rows {
                key.secret.clear();
            }
        }
        Ok(rows)
    }

    fn key(&self, row: &ApiKey) -> i64 {
        row.id
    }
}

/// Roles (needs RoleAccess), as [`list_roles`](crate::service::Roles::list), read a chunk at a time.
pub(crate) async fn role_rows(rbac: &Rbac, actor: &Principal, page: Page) -> Result<Rows<Role>> {
    rbac.require(actor, &rbac.admin().role_access)?;
    let total = rbac.store().count_roles().await?;
    let source = RoleChunks { rbac: rbac.clone() };
    Ok(Rows::new(total, page.offset, page.limit, Box::new(source)))
}

#[cfg(feature = "api-keys")]
/// The API keys of `owner` (the caller's own by default; another's needs UserAccess and
/// comes without secrets), as [`list`](crate::service::Keys::list), read a chunk at a
/// time.
pub(crate) async fn api_key_rows(
    rbac: &Rbac,
    actor: &Principal,
    owner: Option<UserId>,
    page: Page,
) -> Result<Rows<ApiKey>> {
    let owner = owner.filter(|id| *id != 0).unwrap_or(actor.user_id);
    if owner != actor.user_id {
        rbac.require(actor, &rbac.admin().user_access)?;
    }
    let total = rbac.store().count_api_keys(owner).await?;
    let source = ApiKeyChunks {
        rbac: rbac.clone(),
        owner,
        clear_secrets: owner != actor.user_id,
    };
    Ok(Rows::new(total, page.offset, page.limit, Box::new(source)))
}

/// Users matching `query` (needs UserAccess), read a chunk at a time.
pub(crate) async fn user_rows(
    rbac: &Rbac,
    actor: &Principal,
    query: &UserQuery,
) -> Result<Rows<UserView>> {
    rbac.require(actor, &rbac.admin().user_access)?;
    user_rows_unchecked(rbac, query).await
}

/// [`user_rows`](crate::service::Users::rows) without the privilege check (the caller checked).
pub(crate) async fn user_rows_unchecked(rbac: &Rbac, query: &UserQuery) -> Result<Rows<UserView>> {
    let total = rbac.store().count_users(query).await?;
    let source = UserChunks {
        rbac: rbac.clone(),
        query: query.clone(),
    };
    Ok(Rows::new(
        total,
        query.page.offset,
        query.page.limit,
        Box::new(source),
    ))
}

/// The entries a query the caller may make ([`Audit::rows`](crate::service::Audit::rows)
/// made it) matches, newest first, read a chunk at a time.
pub(crate) async fn audit_rows(rbac: &Rbac, query: AuditQuery) -> Result<Rows<AuditEntry>> {
    let total = rbac.store().count_audit(&query).await?;
    let (offset, limit) = (query.page.offset, query.page.limit);
    let source = AuditChunks {
        rbac: rbac.clone(),
        query,
    };
    Ok(Rows::new(total, offset, limit, Box::new(source)))
}
