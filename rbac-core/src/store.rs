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

use crate::error::{Field, StoreError};
use crate::model::*;

mod scopes;
pub use scopes::*;

/// Result of a storage call.
pub type StoreResult<T> = Result<T, StoreError>;

/// Users.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Inserts a batch of users, as one transaction where the backend can, with one
    /// journal for the batch: a user whose name key exists already is skipped (so a re-run
    /// resumes), and users whose e-mail key or name skeleton another user (stored, or
    /// earlier in the batch) holds are reported apart and not inserted. The default inserts
    /// one by one (not atomic); SQL backends use multi-row statements.
    async fn import_users(
        &self,
        users: &[NewUser],
        journal: &Journal,
    ) -> StoreResult<ImportReport> {
        let mut report = ImportReport::default();
        let empty = Journal::default();
        for user in users {
            // The batch's journal goes with its first inserted user.
            let with = if report.inserted == 0 {
                journal
            } else {
                &empty
            };
            match self.create_user(user, with).await {
                Ok(_) => report.inserted += 1,
                Err(StoreError::Conflict(Field::Email)) => {
                    report.email_taken.push(user.name.clone())
                }
                Err(StoreError::Conflict(_)) => {
                    let key = crate::identity::name_key(&user.name);
                    let same = self
                        .user_by_name(&user.name)
                        .await?
                        .is_some_and(|u| crate::identity::name_key(&u.name) == key);
                    if same {
                        report.present += 1;
                    } else {
                        report.look_alike.push(user.name.clone());
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(report)
    }
    /// Inserts a user; `Conflict` on a taken name or e-mail.
    async fn create_user(&self, user: &NewUser, journal: &Journal) -> StoreResult<User>;
    /// Inserts a user whose verified e-mail address and phone number (`email_verified`,
    /// `phone_verified`) win over other users' unverified claims to them: in the same
    /// transaction those claims are cleared (the address removed, the number emptied).
    /// Returns the user and the ids of the users whose claims were cleared; `Conflict` as
    /// [`create_user`](Self::create_user) (a verified holder keeps its address).
    async fn create_user_claiming(
        &self,
        user: &NewUser,
        journal: &Journal,
    ) -> StoreResult<(User, Vec<UserId>)>;
    /// A user by id.
    async fn user(&self, id: UserId) -> StoreResult<Option<User>>;
    /// A user by name, in any of its forms (its NFKC case fold, [`crate::identity`]).
    async fn user_by_name(&self, name: &str) -> StoreResult<Option<User>>;
    /// A user by e-mail address, regardless of case.
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>>;
    /// Users whose phone is exactly this (at most `limit`).
    async fn users_by_phone(&self, phone: &str, limit: u32) -> StoreResult<Vec<User>>;
    /// Users matching a query, and the full count.
    async fn list_users(&self, query: &UserQuery) -> StoreResult<Listing<User>> {
        let total = self.count_users(query).await?;
        let rows = self.user_rows(query, None).await?;
        Ok(Listing { rows, total })
    }
    /// How many users match a query's filter (unfiltered: from a maintained total, not a
    /// count over the table).
    async fn count_users(&self, query: &UserQuery) -> StoreResult<u64>;
    /// The query's page of users; with `after`, the page continues past that id in the
    /// query's order (keyset: index-backed, however deep), and `page.offset` counts from
    /// there.
    async fn user_rows(&self, query: &UserQuery, after: Option<UserId>) -> StoreResult<Vec<User>>;
    /// Replaces every field of a user but `id`, `created_at` and its assignments (`roles`,
    /// which only the assignment methods write) and, in the same transaction, revokes the
    /// user's sessions as `revoke` says; `NotFound` if gone. With `expected`, the write
    /// lands only while the stored `updated_at` is still that value (else
    /// `Violation(USER_CHANGED)`, nothing written): a read-modify-write never lands over a
    /// write that came between. Every write of a user row (this, passwords, assignments)
    /// moves `updated_at` forward, by one at least, so each write is seen.
    async fn update_user(
        &self,
        user: &User,
        expected: Option<Timestamp>,
        revoke: Revoke<'_>,
        journal: &Journal,
    ) -> StoreResult<()>;
    /// [`update_user`](Self::update_user), and in the same transaction replaces the user's
    /// global assignments with those of `user.roles` (in order; scoped ones stay):
    /// `NotFound(Role)` if a role is gone, `Violation` if the user would hold more than
    /// `cap` assignments; `expected` as there.
    async fn update_user_roles(
        &self,
        user: &User,
        expected: Option<Timestamp>,
        cap: usize,
        revoke: Revoke<'_>,
        journal: &Journal,
    ) -> StoreResult<()>;
    /// Adds an assignment; `Ok(false)` when the user holds it already, `Violation` when the
    /// user would hold more than `cap`, `NotFound` when the user or role is gone.
    async fn assign_role(
        &self,
        user: UserId,
        assignment: Assignment,
        cap: usize,
        journal: &Journal,
    ) -> StoreResult<bool>;
    /// Removes an assignment; `Ok(false)` when the user did not hold it.
    async fn revoke_role(
        &self,
        user: UserId,
        assignment: Assignment,
        journal: &Journal,
    ) -> StoreResult<bool>;
    /// Enables or disables a user, writing nothing else (an edit that came between is
    /// neither lost nor written back), and in the same transaction revokes its sessions as
    /// `revoke` says; `NotFound` if gone. Unguarded: an admin's disable always lands.
    async fn set_user_enabled(
        &self,
        id: UserId,
        enabled: bool,
        revoke: Revoke<'_>,
        journal: &Journal,
    ) -> StoreResult<()>;
    /// Sets a password hash; revokes every session of the user except `keep`. With
    /// `expected`, only while the stored `updated_at` is still that value, as
    /// [`update_user`](Self::update_user).
    async fn set_password(
        &self,
        id: UserId,
        hash: &str,
        expected: Option<Timestamp>,
        keep: Option<&str>,
        journal: &Journal,
    ) -> StoreResult<()>;
    /// Deletes a user and their sessions; `false` if there was none.
    async fn delete_user(&self, id: UserId, journal: &Journal) -> StoreResult<bool>;
    /// Records a successful login and, when given `(verified, upgraded)`, the upgraded
    /// password hash in place of the one the login verified, and only of that one: a
    /// password set meanwhile (an admin's reset) stays. Only those columns are written, so
    /// a concurrent profile edit is never overwritten.
    async fn record_login(
        &self,
        id: UserId,
        at: Timestamp,
        ip: &str,
        rehash: Option<(&str, &str)>,
    ) -> StoreResult<()>;
    /// How many distinct users hold a role, globally or in any scope.
    async fn count_users_with_role(&self, role: RoleId) -> StoreResult<u64>;
    /// Moves every global assignment of `role` held by a user with an organisation
    /// (`department_id`) into the scope `kind:department_id` (dropping it where the user
    /// holds the role there already), in one transaction with `journal` and a
    /// `Change::User` per user moved; returns those users. Running it again moves nothing.
    async fn scope_role_by_organisation(
        &self,
        role: RoleId,
        kind: ScopeKind,
        journal: &Journal,
    ) -> StoreResult<Vec<UserId>>;
}

/// The message of a user write refused because the user changed since it was read.
pub const USER_CHANGED: &str = "the user changed meanwhile: try again";

/// The `updated_at` a write stores over `stored`: the write's own time, or one past the
/// stored value when that is not earlier, so every write moves it forward.
pub fn next_updated_at(stored: Timestamp, at: Timestamp) -> Timestamp {
    if stored >= at {
        stored + 1
    } else {
        at
    }
}

/// The message of a refused assignment beyond the per-user cap.
pub const TOO_MANY_ASSIGNMENTS: &str = "the user holds the most roles allowed";

/// Roles and their grants.
#[async_trait]
pub trait RoleStore: Send + Sync {
    /// Inserts a role with its privileges; `Conflict` on a taken name or system key.
    async fn create_role(&self, role: &Role, journal: &Journal) -> StoreResult<Role>;
    /// A role by id.
    async fn role(&self, id: RoleId) -> StoreResult<Option<Role>>;
    /// A role by exact name.
    async fn role_by_name(&self, name: &str) -> StoreResult<Option<Role>>;
    /// The role seeded under a stable system key (whatever its name is now).
    async fn role_by_key(&self, key: &str) -> StoreResult<Option<Role>> {
        let roles = self.list_roles(Page::ALL).await?;
        Ok(roles
            .rows
            .into_iter()
            .find(|r| r.system_key.as_deref() == Some(key)))
    }
    /// Roles in id order, and the full count.
    async fn list_roles(&self, page: Page) -> StoreResult<Listing<Role>> {
        let total = self.count_roles().await?;
        let rows = self.role_rows(page, None).await?;
        Ok(Listing { rows, total })
    }
    /// How many roles there are.
    async fn count_roles(&self) -> StoreResult<u64>;
    /// A page of roles in id order, with their privileges and inclusions; with `after`, the
    /// page continues past that id (keyset), and `page.offset` counts from there.
    async fn role_rows(&self, page: Page, after: Option<RoleId>) -> StoreResult<Vec<Role>>;
    /// Replaces name, remark, enabled flag and system key (not privileges);
    /// `NotFound`/`Conflict`.
    async fn update_role(&self, role: &Role, journal: &Journal) -> StoreResult<()>;
    /// Sets whether a role requires its members to have a second factor; `NotFound` if
    /// gone.
    async fn set_role_requires_second_factor(
        &self,
        id: RoleId,
        required: bool,
        journal: &Journal,
    ) -> StoreResult<()>;
    /// Replaces a role's privilege codes atomically; `NotFound` if gone.
    async fn set_role_privileges(
        &self,
        id: RoleId,
        codes: &[String],
        journal: &Journal,
    ) -> StoreResult<()>;
    /// Replaces the roles a role includes, atomically and serialised with every other
    /// such change: `NotFound` if it or an included role is gone, `Violation` when the
    /// inclusion would make a cycle (a role including itself, directly or through others).
    async fn set_role_includes(
        &self,
        id: RoleId,
        includes: &[RoleId],
        journal: &Journal,
    ) -> StoreResult<()>;
    /// Deletes a role that no user holds (and every inclusion of it); `Violation` if a user
    /// holds it, `NotFound` if gone.
    async fn delete_role(&self, id: RoleId, journal: &Journal) -> StoreResult<()>;
}

/// What a bulk import did with its rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Users inserted.
    pub inserted: usize,
    /// Users skipped because their name key exists already (a re-run resuming).
    pub present: usize,
    /// Users not inserted because another user holds their e-mail address (by key).
    pub email_taken: Vec<String>,
    /// Users not inserted because their name looks like another user's (same skeleton).
    pub look_alike: Vec<String>,
}

/// Login sessions.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Inserts a session.
    async fn create_session(&self, session: &Session, journal: &Journal) -> StoreResult<()>;
    /// A session by id.
    async fn session(&self, id: &str) -> StoreResult<Option<Session>>;
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
    /// Extends a live session's expiry (sliding sessions).
    async fn touch_session(
        &self,
        id: &str,
        expires_at: Timestamp,
        seen: Timestamp,
    ) -> StoreResult<()>;
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
pub trait SecondFactorStore: Send + Sync {
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

/// The operation log.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends an entry on its own (for actions with no other write, e.g. a failed login).
    async fn append_audit(&self, entry: &NewAudit) -> StoreResult<()>;
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

/// What authenticating and checking need (the [`Authorizer`](crate::Authorizer) and so the
/// layer): users, roles, sessions, second factors, API keys, scope parents, and the audit
/// entry of a refusal. A backend that serves only the layer implements these seven.
pub trait AuthorizerStore:
    UserStore
    + RoleStore
    + SessionStore
    + SecondFactorStore
    + crate::passkeys::PasskeyStore
    + AuditStore
    + ProjectStore
    + ScopeStore
    + Send
    + Sync
{
}

impl<T> AuthorizerStore for T where
    T: UserStore
        + RoleStore
        + SessionStore
        + SecondFactorStore
        + crate::passkeys::PasskeyStore
        + AuditStore
        + ProjectStore
        + ScopeStore
        + Send
        + Sync
{
}

/// Everything a deployment stores, behind one handle (what the use-cases need).
pub trait Store:
    AuthorizerStore
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
