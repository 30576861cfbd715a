//! The administration's storage ports: user accounts, their assignments and roles.

use async_trait::async_trait;

use crate::authz::port::AuthorizerStore;
use crate::error::{Field, StoreError, StoreResult};
use crate::model::*;

/// Users.
#[async_trait]
pub trait UserStore: AuthorizerStore {
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

/// Assignments of roles to users, globally or within a scope.
#[async_trait]
pub trait AssignmentStore: AuthorizerStore {
    /// [`update_user`](UserStore::update_user), and in the same transaction replaces the user's
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
    /// How many distinct users hold a role, globally or in any scope.
    async fn count_users_with_role(&self, role: RoleId) -> StoreResult<u64>;
    /// Moves every global assignment of `role` held by a user with a tenant into that
    /// tenant's scope (dropping it where the user holds the role there already), in one
    /// transaction with `journal` and a `Change::User` per user moved; returns those users.
    /// Running it again moves nothing.
    async fn scope_role_by_tenant(
        &self,
        role: RoleId,
        journal: &Journal,
    ) -> StoreResult<Vec<UserId>>;
}

/// Roles and their grants.
#[async_trait]
pub trait RoleStore: AuthorizerStore {
    /// Inserts a role with its privileges; `Conflict` on a taken name or system key.
    async fn create_role(&self, role: &Role, journal: &Journal) -> StoreResult<Role>;
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
