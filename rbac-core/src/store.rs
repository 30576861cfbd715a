//! The storage ports: one trait per aggregate, and the change feed.
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

use crate::error::StoreError;
use crate::model::*;

mod assignments;
mod authorizer;
mod roles;
mod scopes;
mod sessions;
mod users;
pub use assignments::*;
pub use authorizer::*;
pub use roles::*;
pub use scopes::*;
pub use sessions::*;
pub use users::*;

/// Result of a storage call.
pub type StoreResult<T> = Result<T, StoreError>;

/// Security events and their deliveries: a queue kept in the store, so a restart loses
/// none, claimed under a lease, so two instances never send one at once.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// Records events that no other write carries (a failed login).
    async fn append_events(&self, events: &[crate::events::NewEvent]) -> StoreResult<()>;
    /// Claims up to `limit` events due for `target` (never delivered, not leased, next
    /// attempt due at `at`, fewer than `max_attempts` tries), oldest first, leasing each
    /// to `owner` until `lease_until`. Two callers never hold one event for one target.
    async fn claim_deliveries(
        &self,
        target: &str,
        owner: &str,
        at: Timestamp,
        lease_until: Timestamp,
        limit: u32,
        max_attempts: u32,
    ) -> StoreResult<Vec<crate::events::Delivery>>;
    /// Records how a claimed delivery went; `false` if `owner` no longer holds its lease.
    async fn settle_delivery(
        &self,
        event: i64,
        target: &str,
        owner: &str,
        attempt: &crate::events::Attempt,
    ) -> StoreResult<bool>;
    /// The newest deliveries, for an admin.
    async fn deliveries(&self, limit: u32) -> StoreResult<Vec<crate::events::DeliveryStatus>>;
    /// The newest events, newest first, for an admin.
    async fn recent_events(&self, limit: u32) -> StoreResult<Vec<crate::events::SecurityEvent>>;
    /// Deletes up to `limit` of the oldest events recorded before `before`, with their
    /// deliveries (delivered or not); returns how many events.
    async fn prune_events(&self, before: Timestamp, limit: u32) -> StoreResult<u64>;
}

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

/// The operation log (appended to through
/// [`AuthorizerStore::append_audit`](AuthorizerStore::append_audit) and the journals).
#[async_trait]
pub trait AuditStore: AuthorizerStore {
    /// Entries matching a query, newest first, and the full count (unfiltered: from a
    /// maintained total, not a count over the log).
    async fn list_audit(&self, query: &AuditQuery) -> StoreResult<Listing<AuditEntry>> {
        let total = self.count_audit(query).await?;
        let rows = self.audit_rows(query, None).await?;
        Ok(Listing { rows, total })
    }
    /// How many entries match a query's filter (unfiltered: the maintained total).
    async fn count_audit(&self, query: &AuditQuery) -> StoreResult<u64>;
    /// The query's page of entries, newest first; with `after`, the page continues with
    /// entries older than that id (keyset), and `page.offset` counts from there.
    async fn audit_rows(
        &self,
        query: &AuditQuery,
        after: Option<i64>,
    ) -> StoreResult<Vec<AuditEntry>>;
    /// Deletes up to `limit` of the oldest entries written before `before` (one short
    /// transaction, so writers wait on it briefly at most); returns how many.
    async fn prune_audit(&self, before: Timestamp, limit: u32) -> StoreResult<u64>;
}

/// Small named values the server keeps (generated secrets, …).
#[async_trait]
pub trait SettingStore: Send + Sync {
    /// A setting's value.
    async fn setting(&self, key: &str) -> StoreResult<Option<String>>;
    /// Stores `value` unless the key exists; returns the value that is stored now.
    async fn setting_or_insert(&self, key: &str, value: &str) -> StoreResult<String>;
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

/// Organisations users belong to.
#[async_trait]
pub trait OrganisationStore: Send + Sync {
    /// An organisation by id.
    async fn organisation(&self, id: i64) -> StoreResult<Option<Organisation>>;
    /// Every organisation, in id order.
    async fn list_organisations(&self) -> StoreResult<Vec<Organisation>>;
    /// Inserts an organisation, or renames the one with its id.
    async fn put_organisation(&self, organisation: &Organisation) -> StoreResult<()>;
}

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
    + ProjectStore
    + SettingStore
    + ThrottleStore
    + OrganisationStore
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
        + ProjectStore
        + SettingStore
        + ThrottleStore
        + OrganisationStore
        + CodeStore
        + EventStore
        + ChangeLog
        + Send
        + Sync
{
}

/// Receives changes to apply to caches.
#[async_trait]
pub trait ChangeSink: Send + Sync {
    /// Applies one change; returns once the caches reflect it.
    async fn apply(&self, change: &Change);

    /// Every change at or below `position` that the change log shows has been applied.
    fn caught_up(&self, position: i64) {
        let _ = position;
    }

    /// Resolves when a reader waits for a position not reached yet, so that the feed reads
    /// the change log at once (by default, never).
    async fn wanted(&self) {
        std::future::pending::<()>().await
    }
}
