//! The storage ports, gathered: each capability defines its own in its folder
//! (`AuthorizerStore` and `ScopeStore` in authorization, `UserStore`, `AssignmentStore`,
//! `RoleStore` in administration, `SessionStore` and `ThrottleStore` in authentication,
//! and so on), and [`Store`] is every one of them, what the use-cases need. Here too: the
//! change log the feed polls and the settings.
//!
//! Every mutating method takes a [`Journal`]; an implementation writes the journal's audit
//! entry and changes in the same transaction as the mutation, so a refused write leaves
//! nothing behind and an applied one is always audited and always published.
//!
//! ```
//! # async fn run() -> Result<(), rbac_core::Error> {
//! use rbac_core::store::RoleStore;
//! use rbac_core::{MemoryStore, Rbac};
//!
//! let rbac = Rbac::builder(MemoryStore::new())
//!     .secret("at least 32 bytes of signing secret")
//!     .privileges(["RecordRead"])
//!     .build()
//!     .await?;
//! let system = rbac.system().await?;
//! rbac.roles().define(&system, "nurse", ["RecordRead"], Vec::<&str>::new()).await?;
//! // The services write through the store; anything may read it.
//! assert!(rbac.store().role_by_name("nurse").await?.is_some());
//! # Ok(()) }
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(run()).unwrap();
//! ```

use async_trait::async_trait;

use crate::model::*;

pub use crate::admin::port::*;
pub use crate::audit::port::*;
pub use crate::authn::port::*;
pub use crate::authz::port::*;
pub use crate::codes::port::*;
pub use crate::events::EventStore;
pub use crate::factors::port::*;
pub use crate::keys::port::*;

pub use crate::error::StoreResult;

/// Small named values the server keeps (generated secrets, …).
#[async_trait]
pub trait SettingStore: Send + Sync {
    /// A setting's value.
    async fn setting(&self, key: &str) -> StoreResult<Option<String>>;
    /// Stores `value` unless the key exists; returns the value that is stored now.
    async fn setting_or_insert(&self, key: &str, value: &str) -> StoreResult<String>;
}

/// The changes journalled since a cursor, for instances that poll.
#[async_trait]
pub trait ChangeLog: Send + Sync {
    /// The newest change id (the cursor to start polling from).
    async fn change_cursor(&self) -> StoreResult<i64>;
    /// Changes after `cursor`, oldest first, at most `limit`, with their ids.
    async fn changes_since(&self, cursor: i64, limit: u32) -> StoreResult<Vec<(i64, Change)>>;
    /// Deletes changes older than `before`.
    async fn prune_changes(&self, before: Timestamp) -> StoreResult<u64>;
    /// Resolves once every store call begun before this one has ended, including calls
    /// whose caller stopped waiting: their writes are then committed or rolled back. (At
    /// once by default, for a store whose calls never outlive their caller.)
    async fn settled(&self) {}
}

/// Everything a deployment stores, behind one handle (what the use-cases need): every
/// port, each implemented on its own.
pub trait Store:
    AuthorizerStore
    + UserStore
    + AssignmentStore
    + RoleStore
    + ScopeStore
    + SessionStore
    + SecondFactorStore
    + crate::factors::passkeys::PasskeyStore
    + AuditStore
    + ApiKeyStore
    + SettingStore
    + ThrottleStore
    + CodeStore
    + EventStore
    + ChangeLog
    + Send
    + Sync
{
}

impl<T> Store for T where
    T: AuthorizerStore
        + UserStore
        + AssignmentStore
        + RoleStore
        + ScopeStore
        + SessionStore
        + SecondFactorStore
        + crate::factors::passkeys::PasskeyStore
        + AuditStore
        + ApiKeyStore
        + SettingStore
        + ThrottleStore
        + CodeStore
        + EventStore
        + ChangeLog
        + Send
        + Sync
{
}
