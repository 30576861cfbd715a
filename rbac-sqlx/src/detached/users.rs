//! The user, role and scope ports, run detached.

use async_trait::async_trait;
use rbac_core::store::{
    AssignmentStore, ImportReport, RoleStore, ScopeStore, StoreResult, UserStore,
};
use rbac_core::{
    Assignment, Journal, Listing, NewUser, Page, Revoke, Role, RoleId, Scope, Timestamp, User,
    UserId, UserQuery,
};

use super::Owned;
use crate::SqlStore;

#[async_trait]
impl UserStore for SqlStore {
    async fn import_users(
        &self,
        users: &[NewUser],
        journal: &Journal,
    ) -> StoreResult<ImportReport> {
        let users = users.to_vec();
        let journal = journal.clone();
        self.detached(move |d| async move { d.import_users(&users, &journal).await })
            .await
    }
    async fn create_user(&self, user: &NewUser, journal: &Journal) -> StoreResult<User> {
        let user = user.clone();
        let journal = journal.clone();
        self.detached(move |d| async move { d.create_user(&user, &journal).await })
            .await
    }
    async fn create_user_claiming(
        &self,
        user: &NewUser,
        journal: &Journal,
    ) -> StoreResult<(User, Vec<UserId>)> {
        let user = user.clone();
        let journal = journal.clone();
        self.detached(move |d| async move { d.create_user_claiming(&user, &journal).await })
            .await
    }
    async fn user_by_name(&self, name: &str) -> StoreResult<Option<User>> {
        let name = name.to_owned();
        self.detached(move |d| async move { d.user_by_name(&name).await })
            .await
    }
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        let email = email.to_owned();
        self.detached(move |d| async move { d.user_by_email(&email).await })
            .await
    }
    async fn users_by_phone(&self, phone: &str, limit: u32) -> StoreResult<Vec<User>> {
        let phone = phone.to_owned();
        self.detached(move |d| async move { d.users_by_phone(&phone, limit).await })
            .await
    }
    async fn list_users(&self, query: &UserQuery) -> StoreResult<Listing<User>> {
        let query = query.clone();
        self.detached(move |d| async move { d.list_users(&query).await })
            .await
    }
    async fn count_users(&self, query: &UserQuery) -> StoreResult<u64> {
        let query = query.clone();
        self.detached(move |d| async move { d.count_users(&query).await })
            .await
    }
    async fn user_rows(&self, query: &UserQuery, after: Option<UserId>) -> StoreResult<Vec<User>> {
        let query = query.clone();
        self.detached(move |d| async move { d.user_rows(&query, after).await })
            .await
    }
    async fn update_user(
        &self,
        user: &User,
        expected: Option<Timestamp>,
        revoke: Revoke<'_>,
        journal: &Journal,
    ) -> StoreResult<()> {
        let user = user.clone();
        let revoke = Owned::revoke(revoke);
        let journal = journal.clone();
        self.detached(move |d| async move {
            d.update_user(&user, expected, revoke.revoke(), &journal)
                .await
        })
        .await
    }
    async fn set_user_enabled(
        &self,
        id: UserId,
        enabled: bool,
        revoke: Revoke<'_>,
        journal: &Journal,
    ) -> StoreResult<()> {
        let revoke = Owned::revoke(revoke);
        let journal = journal.clone();
        self.detached(move |d| async move {
            d.set_user_enabled(id, enabled, revoke.revoke(), &journal)
                .await
        })
        .await
    }
    async fn set_password(
        &self,
        id: UserId,
        hash: &str,
        expected: Option<Timestamp>,
        keep: Option<&str>,
        journal: &Journal,
    ) -> StoreResult<()> {
        let hash = hash.to_owned();
        let keep = keep.map(str::to_owned);
        let journal = journal.clone();
        self.detached(move |d| async move {
            d.set_password(id, &hash, expected, keep.as_deref(), &journal)
                .await
        })
        .await
    }
    async fn delete_user(&self, id: UserId, journal: &Journal) -> StoreResult<bool> {
        let journal = journal.clone();
        self.detached(move |d| async move { d.delete_user(id, &journal).await })
            .await
    }
    async fn record_login(
        &self,
        id: UserId,
        at: Timestamp,
        ip: &str,
        rehash: Option<(&str, &str)>,
    ) -> StoreResult<()> {
        let ip = ip.to_owned();
        let rehash = rehash.map(|(a, b)| (a.to_owned(), b.to_owned()));
        self.detached(move |d| async move {
            d.record_login(
                id,
                at,
                &ip,
                rehash.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
            )
            .await
        })
        .await
    }
}

#[async_trait]
impl RoleStore for SqlStore {
    async fn create_role(&self, role: &Role, journal: &Journal) -> StoreResult<Role> {
        let role = role.clone();
        let journal = journal.clone();
        self.detached(move |d| async move { d.create_role(&role, &journal).await })
            .await
    }
    async fn role_by_name(&self, name: &str) -> StoreResult<Option<Role>> {
        let name = name.to_owned();
        self.detached(move |d| async move { d.role_by_name(&name).await })
            .await
    }
    async fn role_by_key(&self, key: &str) -> StoreResult<Option<Role>> {
        let key = key.to_owned();
        self.detached(move |d| async move { d.role_by_key(&key).await })
            .await
    }
    async fn list_roles(&self, page: Page) -> StoreResult<Listing<Role>> {
        self.detached(move |d| async move { d.list_roles(page).await })
            .await
    }
    async fn count_roles(&self) -> StoreResult<u64> {
        self.detached(move |d| async move { d.count_roles().await })
            .await
    }
    async fn role_rows(&self, page: Page, after: Option<RoleId>) -> StoreResult<Vec<Role>> {
        self.detached(move |d| async move { d.role_rows(page, after).await })
            .await
    }
    async fn update_role(&self, role: &Role, journal: &Journal) -> StoreResult<()> {
        let role = role.clone();
        let journal = journal.clone();
        self.detached(move |d| async move { d.update_role(&role, &journal).await })
            .await
    }
    async fn set_role_requires_second_factor(
        &self,
        id: RoleId,
        required: bool,
        journal: &Journal,
    ) -> StoreResult<()> {
        let journal = journal.clone();
        self.detached(move |d| async move {
            d.set_role_requires_second_factor(id, required, &journal)
                .await
        })
        .await
    }
    async fn set_role_privileges(
        &self,
        id: RoleId,
        codes: &[String],
        journal: &Journal,
    ) -> StoreResult<()> {
        let codes = codes.to_vec();
        let journal = journal.clone();
        self.detached(move |d| async move { d.set_role_privileges(id, &codes, &journal).await })
            .await
    }
    async fn set_role_includes(
        &self,
        id: RoleId,
        includes: &[RoleId],
        journal: &Journal,
    ) -> StoreResult<()> {
        let includes = includes.to_vec();
        let journal = journal.clone();
        self.detached(move |d| async move { d.set_role_includes(id, &includes, &journal).await })
            .await
    }
    async fn delete_role(&self, id: RoleId, journal: &Journal) -> StoreResult<()> {
        let journal = journal.clone();
        self.detached(move |d| async move { d.delete_role(id, &journal).await })
            .await
    }
}

#[async_trait]
impl ScopeStore for SqlStore {
    async fn set_scope_parent(
        &self,
        scope: Scope,
        parent: Option<Scope>,
        journal: &Journal,
    ) -> StoreResult<()> {
        let journal = journal.clone();
        self.detached(move |d| async move { d.set_scope_parent(scope, parent, &journal).await })
            .await
    }
}

#[async_trait]
impl AssignmentStore for SqlStore {
    async fn update_user_roles(
        &self,
        user: &User,
        expected: Option<Timestamp>,
        cap: usize,
        revoke: Revoke<'_>,
        journal: &Journal,
    ) -> StoreResult<()> {
        let user = user.clone();
        let revoke = Owned::revoke(revoke);
        let journal = journal.clone();
        self.detached(move |d| async move {
            d.update_user_roles(&user, expected, cap, revoke.revoke(), &journal)
                .await
        })
        .await
    }
    async fn assign_role(
        &self,
        user: UserId,
        assignment: Assignment,
        cap: usize,
        journal: &Journal,
    ) -> StoreResult<bool> {
        let journal = journal.clone();
        self.detached(move |d| async move { d.assign_role(user, assignment, cap, &journal).await })
            .await
    }
    async fn revoke_role(
        &self,
        user: UserId,
        assignment: Assignment,
        journal: &Journal,
    ) -> StoreResult<bool> {
        let journal = journal.clone();
        self.detached(move |d| async move { d.revoke_role(user, assignment, &journal).await })
            .await
    }
    async fn count_users_with_role(&self, role: RoleId) -> StoreResult<u64> {
        self.detached(move |d| async move { d.count_users_with_role(role).await })
            .await
    }
    async fn scope_role_by_tenant(
        &self,
        role: RoleId,
        journal: &Journal,
    ) -> StoreResult<Vec<UserId>> {
        let journal = journal.clone();
        self.detached(move |d| async move { d.scope_role_by_tenant(role, &journal).await })
            .await
    }
}
