//! Security events: what operators act on (logins, lockouts, factors, passwords, grants,
//! sessions ended by an admin), each with a stable type, written in the same transaction as
//! the action they record and delivered to webhooks from a queue kept in the store.
//!
//! ```
//! # #[cfg(feature = "events")]
//! # async fn run() -> Result<(), rbac_core::Error> {
//! use rbac_core::events::kind;
//! use rbac_core::service::UserInput;
//! use rbac_core::{MemoryStore, Rbac};
//!
//! # let config = rbac_core::RbacConfig { hasher: rbac_core::HasherConfig { memory_kib: 64, iterations: 1, parallelism: 1, ..Default::default() }, ..Default::default() };
//! let rbac = Rbac::builder(MemoryStore::new())
//!     .secret("at least 32 bytes of signing secret")
//!     .privileges(["RecordRead", "RecordWrite"])
//! #   .config(config)
//!     .build()
//!     .await?;
//! let system = rbac.system().await?;
//! let user = UserInput { name: "ann".into(), password: "Ann-password-1".into(), ..Default::default() };
//! rbac.users().create(Some(&system), user).await?;
//! rbac.users().reset_password(&system, "ann", "Ann-password-2").await?;
//! let events = rbac.audit().security_events(&system, 10).await?;
//! assert!(events.iter().any(|e| e.kind == kind::PASSWORD_RESET));
//! # Ok(()) }
//! # #[cfg(feature = "events")]
//! # fn main() { tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(run()).unwrap(); }
//! # #[cfg(not(feature = "events"))]
//! # fn main() {}
//! ```

use crate::ids::Timestamp;

use async_trait::async_trait;

use crate::error::StoreResult;

/// The stable event types.
pub mod kind {
    /// A login completed (with every factor it needed).
    pub const LOGIN_SUCCEEDED: &str = "login.succeeded";
    /// A login failed: a wrong name, password or second-factor code.
    pub const LOGIN_FAILED: &str = "login.failed";
    /// Failed logins locked an account (or slowed it down) for a while.
    pub const ACCOUNT_LOCKED: &str = "account.locked";
    /// A second factor was enrolled.
    pub const SECOND_FACTOR_ENROLLED: &str = "second_factor.enrolled";
    /// A second factor was removed (by its user, or reset by an admin).
    pub const SECOND_FACTOR_REMOVED: &str = "second_factor.removed";
    /// A user changed their own password.
    pub const PASSWORD_CHANGED: &str = "password.changed";
    /// An admin set another user's password.
    pub const PASSWORD_RESET: &str = "password.reset";
    /// A role's privileges, inclusions or rules changed.
    pub const ROLE_CHANGED: &str = "role.changed";
    /// A user's roles changed (assigned, revoked, replaced).
    pub const GRANT_CHANGED: &str = "grant.changed";
    /// An admin ended another user's sessions.
    pub const SESSIONS_ENDED: &str = "sessions.ended_by_admin";
}

/// An event to record with a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// Unique, for receivers to deduplicate (32 hex digits).
    pub event_id: String,
    /// One of [`kind`].
    pub kind: &'static str,
    /// Whom it is about: a user's or a role's name.
    pub subject: String,
    /// Who acted (empty for an anonymous login attempt).
    pub actor: String,
    /// The client's address, where known.
    pub ip: String,
    /// More, in words.
    pub detail: String,
}

impl NewEvent {
    /// An event of `kind` about `subject` by `actor`, with a fresh id.
    pub fn new(kind: &'static str, subject: impl Into<String>, actor: impl Into<String>) -> Self {
        use rand::RngCore;
        let mut id = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut id);
        NewEvent {
            event_id: hex::encode(id),
            kind,
            subject: subject.into(),
            actor: actor.into(),
            ip: String::new(),
            detail: String::new(),
        }
    }

    /// The same event from this client address.
    pub fn from_ip(mut self, ip: impl Into<String>) -> Self {
        self.ip = ip.into();
        self
    }

    /// The same event with this detail.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }
}

/// A recorded event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityEvent {
    /// Store-assigned, increasing.
    pub id: i64,
    /// Unique, for receivers to deduplicate.
    pub event_id: String,
    /// Its stable type.
    pub kind: String,
    /// Whom it is about.
    pub subject: String,
    /// Who acted.
    pub actor: String,
    /// The client's address, where known.
    pub ip: String,
    /// More, in words.
    pub detail: String,
    /// When it happened.
    pub created_at: Timestamp,
}

/// An event claimed for delivery to one target, under a lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The event.
    pub event: SecurityEvent,
    /// Where it goes (a webhook URL).
    pub target: String,
    /// Attempts before this one.
    pub attempts: u32,
}

/// Where one event's delivery to one target stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryStatus {
    /// The event's unique id.
    pub event_id: String,
    /// Its type.
    pub kind: String,
    /// When it happened.
    pub created_at: Timestamp,
    /// Where it goes.
    pub target: String,
    /// Attempts so far.
    pub attempts: u32,
    /// When a receiver accepted it.
    pub delivered_at: Option<Timestamp>,
    /// When the next attempt is due (undelivered).
    pub next_at: Timestamp,
    /// Why the last attempt failed.
    pub last_error: String,
}

/// How a delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
// Exhaustive on purpose: every store (or layer) interprets each variant, and a new one
// must fail their builds rather than fall into a default.
pub enum Attempt {
    /// The receiver accepted it at this time.
    Delivered(Timestamp),
    /// It failed; retry at `next_at`.
    Failed {
        /// When to try again.
        next_at: Timestamp,
        /// Why it failed.
        error: String,
    },
}

/// Security events and their deliveries: a queue kept in the store, so a restart loses
/// none, claimed under a lease, so two instances never send one at once.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// Records events that no other write carries (a failed login).
    async fn append_events(&self, events: &[NewEvent]) -> StoreResult<()>;
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
    ) -> StoreResult<Vec<Delivery>>;
    /// Records how a claimed delivery went; `false` if `owner` no longer holds its lease.
    async fn settle_delivery(
        &self,
        event: i64,
        target: &str,
        owner: &str,
        attempt: &crate::events::Attempt,
    ) -> StoreResult<bool>;
    /// The newest deliveries, for an admin.
    async fn deliveries(&self, limit: u32) -> StoreResult<Vec<DeliveryStatus>>;
    /// The newest events, newest first, for an admin.
    async fn recent_events(&self, limit: u32) -> StoreResult<Vec<SecurityEvent>>;
    /// Deletes up to `limit` of the oldest events recorded before `before`, with their
    /// deliveries (delivered or not); returns how many events.
    async fn prune_events(&self, before: Timestamp, limit: u32) -> StoreResult<u64>;
}
