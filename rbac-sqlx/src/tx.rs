//! The one place a write transaction begins.
//!
//! Every write of the store starts here, inside a port method that runs detached (see
//! [`crate::detached`]), so no caller can drop it between `begin` and `commit`: it ends by
//! committing, or by an error return that drops the transaction, which sqlx rolls back
//! before the connection is used again.

use rbac_core::store::StoreResult;
use sqlx::{Pool, Transaction};

use crate::dialect::SqlDialect;

/// Begins a write transaction in the backend's way (on SQLite, taking the write lock at once).
pub(crate) async fn begin<D: SqlDialect>(
    d: D,
    pool: &Pool<D::Db>,
) -> StoreResult<Transaction<'static, D::Db>> {
    d.begin(pool).await.map_err(crate::backend)
}
